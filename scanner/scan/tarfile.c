/* tarfile.c - a plain tar file. First its headers are indexed, seeking over
 * member data; if its names mark an image archive (docker save,
 * oci-archive), its layers are scanned in parallel, each worker seeking to
 * its own member; otherwise the tar is itself a layer. */
#include "scan_internal.h"

#include "bytesrc.h"
#include "common.h"
#include "members.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* What the index keeps of a wanted member: a document read whole, or a
 * layer remembered by its position, to be read later by a worker. */
static stw_status index_member(scan *s, struct archive *a, const char *name,
                               int64_t i, int64_t size, stw_error *err)
{
    const void *blk;
    size_t n = 0;
    la_int64_t off;
    int rc = archive_read_data_block(a, &blk, &n, &off);
    if (rc < ARCHIVE_WARN)
        return stw_outer_fail(a, s->target, err);
    if (rc != ARCHIVE_EOF && stw_member_holds_doc(blk, n, size))
        return stw_scan_keep_member(s, a, name, blk, n, err);
    if (!stw_member_is_layer(name))
        return STW_OK;
    layer_job *j = NULL;
    stw_status st = stw_job_add(s, name, &j, err);
    if (st == STW_OK) {
        j->member = i;
        j->size = size;
    }
    return st;
}

/* The first pass: member names and sizes, documents read, layer data
 * skipped. */
static stw_status index_archive(scan *s, stw_error *err)
{
    struct archive *a;
    stw_status st = stw_outer_open(s->target, &a, err);
    struct archive_entry *e;
    for (int64_t i = 0; st == STW_OK; i++) {
        int rc = archive_read_next_header(a, &e);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc < ARCHIVE_WARN) {
            st = stw_outer_fail(a, s->target, err);
            break;
        }
        if (i >= STW_MAX_MEMBERS) {
            st = stw_fail(err, STW_ERR_LIMIT, "%s: more than %d members",
                          s->target, STW_MAX_MEMBERS);
            break;
        }
        char *name = stw_member_path(archive_entry_pathname(e));
        if (!name) {
            st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
            break;
        }
        if (stw_member_marks_image(name))
            s->image_archive = true;
        st = stw_scan_note_member(s, name, e, err);
        if (st == STW_OK && stw_member_wanted(name, e))
            st = index_member(s, a, name, i, archive_entry_size(e), err);
        free(name);
    }
    archive_read_free(a);
    return st;
}

/* A plain tar that is not an image archive: it is a layer. */
static stw_status scan_layer_file(scan *s, stw_error *err)
{
    s->known_layer = true;
    int fd = open(s->target, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        char eb[128];
        return stw_fail(err, STW_ERR_IO, "%s: %s", s->target,
                        stw_strerror(errno, eb, sizeof(eb)));
    }
    stw_status st = stw_scan_blob_file(s, fd, err);
    close(fd);
    return st;
}

stw_status stw_scan_tar_file(scan *s, stw_error *err)
{
    stw_status st = index_archive(s, err);
    if (st != STW_OK)
        return st;
    if (!s->image_archive)
        return scan_layer_file(s, err);
    if ((st = stw_images_build(s, err)) != STW_OK ||
        (st = stw_jobs_bind(s, err)) != STW_OK)
        return st;
    return stw_scan_planned(s, err);
}
