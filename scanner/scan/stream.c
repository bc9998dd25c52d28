/* stream.c - one forward pass, for standard input and anything compressed:
 * nothing can be sought or read twice. The first member's name says
 * whether the stream is an image archive or a layer; in an archive, layers
 * are scanned as they arrive and matched to the manifest when it arrives,
 * which may be after them. */
#include "scan_internal.h"

#include "bytesrc.h"
#include "common.h"
#include "members.h"
#include "tar.h"

#include <archive_entry.h>
#include <stdlib.h>

/* A layer member met on the way: reused if its name gives a stored
 * digest (its data hashed to that digest on the way past, unless
 * --trust-cache, when the next header skips it), else scanned now. */
static stw_status stream_layer_member(scan *s, stw_matcher *m,
                                      struct archive *a, const char *name,
                                      const void *first, size_t n,
                                      stw_error *err)
{
    layer_job *j = NULL;
    stw_status st = stw_job_add(s, name, &j, err);
    if (st != STW_OK)
        return st;
    char dg[72];
    bool named = stw_image_digest_from_name(name, dg);
    bool hit = false;
    if (named && (st = stw_jobs_lookup(s, j, dg, &hit, err)) != STW_OK)
        return st;
    char label[STW_SCAN_LABEL_MAX];
    stw_scan_label(s, name, label);
    stw_outer_reader mr = {
        .a = a, .name = label, .pending = first, .pending_len = n};
    if (hit && stw_jobs_hit_needs_check(s, false)) {
        /* A stream is read once, so changed bytes cannot be scanned after
         * all: they fail as the digest mismatch they are. */
        stw_blob_options bo = {.name = label, .digest = dg};
        st = stw_blob_check_digest(stw_outer_read, &mr, &bo, err);
    }
    if (hit && st == STW_OK)
        st = stw_jobs_settle_cached(s, j, dg, false, err);
    if (hit) {
        j->done = true;
        j->st = st;
        if (st != STW_OK)
            j->err = *err;
        return st;
    }
    /* The digest in a blob's name is checked while it streams; diff_ids are
     * checked against the config once it has arrived. */
    stw_blob_options bo = stw_scan_blob_opts(s, label, named ? dg : NULL, NULL);
    st = stw_scan_layer(s, m, j, stw_outer_read, &mr, &bo, NULL, err);
    j->done = true;
    j->st = st;
    if (st != STW_OK)
        j->err = *err;
    return st;
}

/* Takes the first block of a wanted member, then keeps it as a document
 * or scans it as a layer. */
static stw_status stream_member(scan *s, stw_matcher *m, stw_tar *t,
                                const char *name, int64_t size, stw_error *err)
{
    const void *blk;
    size_t n = 0;
    stw_status st = stw_tar_data(t, &blk, &n, err);
    if (st != STW_OK)
        return st;
    struct archive *a = stw_tar_archive(t);
    if (stw_member_holds_doc(blk, n, size))
        return stw_scan_keep_member(s, a, name, blk, n, err);
    if (stw_member_is_layer(name))
        return stream_layer_member(s, m, a, name, blk, n, err);
    return STW_OK;
}

/* An image archive from its first member e on. */
static stw_status stream_archive(scan *s, stw_matcher *m, stw_tar *t,
                                 struct archive_entry *e, stw_error *err)
{
    stw_status st = STW_OK;
    for (size_t i = 0; e && st == STW_OK; i++) {
        if (i >= STW_MAX_MEMBERS)
            return stw_fail(err, STW_ERR_LIMIT, "%s: more than %d members",
                            s->target, STW_MAX_MEMBERS);
        char *name = stw_member_path(archive_entry_pathname(e));
        if (!name)
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        st = stw_scan_note_member(s, name, e, err);
        if (st == STW_OK && stw_member_wanted(name, e))
            st = stream_member(s, m, t, name, archive_entry_size(e), err);
        free(name);
        if (st == STW_OK)
            st = stw_tar_next(t, &e, err);
    }
    if (st == STW_OK)
        st = stw_images_build(s, err);
    return st == STW_OK ? stw_images_put(s, err) : st;
}

static const char *layer_media_type(stw_compression c)
{
    switch (c) {
    case STW_COMP_GZIP:
        return "application/vnd.oci.image.layer.v1.tar+gzip";
    case STW_COMP_ZSTD:
        return "application/vnd.oci.image.layer.v1.tar+zstd";
    case STW_COMP_NONE:
        break;
    }
    return "application/vnd.oci.image.layer.v1.tar";
}

/* The stream is a layer of its own: walk it (first entry already read, or
 * none for an empty layer) and store it as a one-layer image. */
static stw_status stream_single_layer(scan *s, stw_matcher *m, stw_tar *t,
                                      stw_blob *b, struct archive_entry *e,
                                      stw_error *err)
{
    stw_layer_result lr;
    stw_layer_options lo = stw_scan_layer_opts(s);
    stw_status st = stw_layer_walk(m, t, e, b, s->target, &lo, &lr, err);
    if (st == STW_OK)
        st =
            stw_scan_store_layer(s, &lr, layer_media_type(lr.compression), err);
    if (st == STW_OK)
        st = stw_images_put_single_layer(s, lr.digest, false, err);
    stw_layer_result_clear(&lr);
    return st;
}

/* In one pass only the first member can tell; an indexed tar was already
 * classified by all of its names. */
static stw_status is_archive(const scan *s, struct archive_entry *e,
                             bool *archive, stw_error *err)
{
    *archive = false;
    if (s->known_layer || !e)
        return STW_OK;
    char *first = stw_member_path(archive_entry_pathname(e));
    if (!first)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    *archive = stw_member_of_image(first);
    free(first);
    return STW_OK;
}

stw_status stw_scan_stream(scan *s, int fd, const char *expect, stw_error *err)
{
    stw_fd_reader r;
    stw_status st = stw_fd_reader_init(&r, fd, s->target, err);
    if (st == STW_OK)
        st = stw_scan_stream_fn(s, stw_fd_read, &r, expect, err);
    stw_fd_reader_clear(&r);
    return st;
}

stw_status stw_scan_stream_fn(scan *s, stw_read_fn fn, void *ctx,
                              const char *expect, stw_error *err)
{
    /* One pass, one layer at a time: every other core is spare. */
    s->spare_cores = stw_jobs_cores() > 1;
    stw_cancel_reader r = {.s = s, .fn = fn, .ctx = ctx};
    stw_blob *b = NULL;
    stw_tar *t = NULL;
    stw_matcher *m = NULL;
    struct archive_entry *e = NULL;
    stw_blob_options bo = stw_scan_blob_opts(s, s->target, expect, NULL);
    bool archive = false;
    stw_status st = stw_blob_create(stw_cancel_read, &r, &bo, &b, err);
    if (st == STW_OK)
        st = stw_tar_open(b, s->target, &t, err);
    if (st == STW_OK)
        st = stw_matcher_create(s->rules, &m, err);
    if (st == STW_OK)
        st = stw_tar_next(t, &e, err);
    if (st == STW_OK && !e && stw_blob_raw_bytes(b) == 0)
        st = stw_fail(err, STW_ERR_FORMAT, "%s: empty input", s->target);
    if (st == STW_OK)
        st = is_archive(s, e, &archive, err);
    if (st == STW_OK)
        st = archive ? stream_archive(s, m, t, e, err)
                     : stream_single_layer(s, m, t, b, e, err);
    stw_matcher_destroy(m);
    stw_tar_close(t);
    stw_blob_destroy(b);
    return st;
}
