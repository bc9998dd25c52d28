/* bytesrc.c - raw byte readers: file descriptors and members of an outer
 * tar archive (bytesrc.h). */
#include "bytesrc.h"

#include "common.h"
#include "limits.h"

#include <archive.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Large reads: fewer system calls and libarchive callbacks per layer. */
#define READ_BUF (1u << 20)

stw_status stw_fd_reader_init(stw_fd_reader *r, int fd, const char *name,
                              stw_error *err)
{
    *r = (stw_fd_reader){.fd = fd, .name = name, .buf = stw_malloc(READ_BUF)};
    if (!r->buf)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    return STW_OK;
}

void stw_fd_reader_clear(stw_fd_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

stw_status stw_fd_read(void *ctx, const void **buf, size_t *len, stw_error *err)
{
    stw_fd_reader *r = ctx;
    for (;;) {
        ssize_t n = read(r->fd, r->buf, READ_BUF);
        if (n >= 0) {
            *buf = r->buf;
            *len = (size_t)n;
            return STW_OK;
        }
        if (errno != EINTR) {
            char eb[128];
            return stw_fail(err, STW_ERR_IO, "%s: read: %s", r->name,
                            stw_strerror(errno, eb, sizeof(eb)));
        }
    }
}

stw_status stw_outer_open(const char *path, struct archive **out,
                          stw_error *err)
{
    *out = NULL;
    struct archive *a = archive_read_new();
    if (!a)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, path, READ_BUF) != ARCHIVE_OK) {
        stw_status st = stw_outer_fail(a, path, err);
        archive_read_free(a);
        return st;
    }
    *out = a;
    return STW_OK;
}

stw_status stw_outer_fail(struct archive *a, const char *name, stw_error *err)
{
    const char *msg = archive_error_string(a);
    if (!msg)
        msg = "unreadable tar archive";
    return stw_fail(
        err, strstr(msg, "runcated") ? STW_ERR_TRUNCATED : STW_ERR_FORMAT,
        "%s: %s", name, msg);
}

stw_status stw_outer_read(void *ctx, const void **buf, size_t *len,
                          stw_error *err)
{
    stw_outer_reader *m = ctx;
    if (m->pending) {
        *buf = m->pending;
        *len = m->pending_len;
        m->pending = NULL;
        return STW_OK;
    }
    la_int64_t off;
    int rc = archive_read_data_block(m->a, buf, len, &off);
    if (rc == ARCHIVE_EOF) {
        *len = 0;
        return STW_OK;
    }
    if (rc < ARCHIVE_WARN)
        return stw_outer_fail(m->a, m->name, err);
    return STW_OK;
}

stw_status stw_outer_slurp(struct archive *a, const char *target,
                           const char *name, const void *first, size_t n,
                           char **out, size_t *len, stw_error *err)
{
    size_t cap = n + 4096, used = 0;
    char *buf = stw_malloc(cap + 1);
    if (!buf)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    const void *blk = first;
    size_t bl = n;
    for (;;) {
        if (used + bl > STW_MAX_JSON_BYTES) {
            free(buf);
            return stw_fail(err, STW_ERR_LIMIT,
                            "%s: %s: JSON document larger than %u bytes",
                            target, name, STW_MAX_JSON_BYTES);
        }
        if (used + bl > cap) {
            cap = (used + bl) * 2;
            char *nb = stw_realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                return stw_fail(err, STW_ERR_NOMEM, "out of memory");
            }
            buf = nb;
        }
        memcpy(buf + used, blk, bl);
        used += bl;
        la_int64_t off;
        int rc = archive_read_data_block(a, &blk, &bl, &off);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc < ARCHIVE_WARN) {
            free(buf);
            return stw_outer_fail(a, target, err);
        }
    }
    buf[used] = 0;
    *out = buf;
    *len = used;
    return STW_OK;
}
