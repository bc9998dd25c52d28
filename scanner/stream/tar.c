/* tar.c - libarchive's tar parser fed from a stw_blob. */
#include "tar.h"
#include "common.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct stw_tar {
    struct archive *a;
    stw_blob *blob;
    const char *name;
    stw_status st; /* our own error from inside the read callback */
    stw_error err;
};

static la_ssize_t read_cb(struct archive *a, void *ctx, const void **buf)
{
    stw_tar *t = ctx;
    size_t len = 0;
    t->st = stw_blob_read(t->blob, buf, &len, &t->err);
    if (t->st != STW_OK) {
        archive_set_error(a, EIO, "%s", t->err.msg);
        return -1;
    }
    return (la_ssize_t)len;
}

/* Prefers the blob's own error; otherwise maps libarchive's message. */
static stw_status failure(stw_tar *t, stw_error *err)
{
    if (t->st != STW_OK) {
        if (err)
            *err = t->err;
        stw_error_prefix(err, t->name);
        return t->st;
    }
    const char *msg = archive_error_string(t->a);
    if (!msg)
        msg = "unreadable tar archive";
    if (strstr(msg, "runcated"))
        return stw_fail(err, STW_ERR_TRUNCATED, "%s: truncated tar: %s",
                        t->name, msg);
    /* libarchive's words for "these bytes are no tar" are cryptic. */
    if (strstr(msg, "Unrecognized archive format") ||
        strstr(msg, "Damaged tar archive"))
        return stw_fail(err, STW_ERR_FORMAT, "%s: not a tar archive (%s)",
                        t->name, msg);
    return stw_fail(err, STW_ERR_FORMAT, "%s: %s", t->name, msg);
}

stw_status stw_tar_open(stw_blob *b, const char *name, stw_tar **out,
                        stw_error *err)
{
    *out = NULL;
    stw_tar *t = stw_calloc(1, sizeof(*t));
    if (!t || !(t->a = archive_read_new())) {
        free(t);
        return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", name);
    }
    t->blob = b;
    t->name = name;
    archive_read_support_format_tar(t->a);
    if (archive_read_open(t->a, t, NULL, read_cb, NULL) != ARCHIVE_OK) {
        stw_status st = failure(t, err);
        stw_tar_close(t);
        return st;
    }
    *out = t;
    return STW_OK;
}

void stw_tar_close(stw_tar *t)
{
    if (!t)
        return;
    archive_read_free(t->a);
    free(t);
}

stw_status stw_tar_next(stw_tar *t, struct archive_entry **e, stw_error *err)
{
    int rc = archive_read_next_header(t->a, e);
    if (rc == ARCHIVE_EOF) {
        *e = NULL;
        return STW_OK;
    }
    if (rc < ARCHIVE_WARN) {
        *e = NULL;
        return failure(t, err);
    }
    return STW_OK;
}

stw_status stw_tar_data(stw_tar *t, const void **buf, size_t *len,
                        stw_error *err)
{
    la_int64_t off;
    int rc = archive_read_data_block(t->a, buf, len, &off);
    if (rc == ARCHIVE_EOF) {
        *len = 0;
        return STW_OK;
    }
    if (rc < ARCHIVE_WARN)
        return failure(t, err);
    return STW_OK;
}

stw_status stw_tar_member_read(void *ctx, const void **buf, size_t *len,
                               stw_error *err)
{
    return stw_tar_data(ctx, buf, len, err);
}

struct archive *stw_tar_archive(stw_tar *t)
{
    return t->a;
}
