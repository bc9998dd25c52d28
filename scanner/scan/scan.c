/* scan.c - one target, from its first bytes to images in the store.
 *
 * What a target is comes from its bytes, never its name:
 *   - a directory: an OCI image layout or a registry's storage (modes.c);
 *   - no path but a registry reference: a live registry (modes.c);
 *   - a plain tar file: indexed by its headers first, then an image archive
 *     whose layers are scanned in parallel, or a layer (tarfile.c);
 *   - anything compressed, and standard input: one forward pass
 *     (stream.c), unless a blob file's name gives a stored digest.
 * Every layer is stored as soon as it is scanned, every image once all its
 * layers are, so a failure keeps what was done. scan_internal.h says which
 * file does what. */
#include "scan_internal.h"

#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

stw_status stw_scan_planned(scan *s, stw_error *err)
{
    stw_status st = stw_jobs_check_cached(s, err);
    if (st != STW_OK)
        return st;
    stw_jobs_run(s);
    return stw_images_put(s, err);
}

stw_status stw_scan_record_error(scan *s, const stw_error *e)
{
    stw_error ignored;
    stw_store_put_error(s->store, s->scan_id, s->target, e->msg, &ignored);
    return e->status;
}

bool stw_scan_cancelled(const scan *s, stw_error *err)
{
    if (!s->opt || !s->opt->cancel || !s->opt->cancel(s->opt->cancel_ctx))
        return false;
    stw_fail(err, STW_ERR_CANCELLED, "%s: scan cancelled", s->target);
    return true;
}

stw_status stw_cancel_read(void *ctx, const void **buf, size_t *len,
                           stw_error *err)
{
    stw_cancel_reader *c = ctx;
    if (stw_scan_cancelled(c->s, err))
        return STW_ERR_CANCELLED;
    return c->fn(c->ctx, buf, len, err);
}

void stw_scan_label(const scan *s, const char *name, char *out)
{
    snprintf(out, STW_SCAN_LABEL_MAX, "%s: layer %s", s->target, name);
}

static bool is_tar_header(const unsigned char *h, size_t n)
{
    if (n < 512)
        return false;
    if (!memcmp(h + 257, "ustar", 5))
        return true;
    /* v7 tar: no magic, but the header checksum must add up. */
    unsigned sum = 0, stored = 0;
    for (int i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    for (int i = 148; i < 156 && h[i]; i++) {
        if (h[i] == ' ')
            continue;
        if (h[i] < '0' || h[i] > '7')
            return false;
        stored = stored * 8 + (unsigned)(h[i] - '0');
    }
    return h[0] && sum == stored;
}

/* A file, by its first 512 bytes: compressed (a blob), a tar, or neither. */
static stw_status scan_file(scan *s, stw_error *err)
{
    char eb[128];
    int fd = open(s->target, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return stw_fail(err, errno == ENOENT ? STW_ERR_NOT_FOUND : STW_ERR_IO,
                        "%s: %s", s->target,
                        stw_strerror(errno, eb, sizeof(eb)));
    unsigned char head[512];
    ssize_t n = pread(fd, head, sizeof(head), 0);
    stw_status st;
    if (n < 0)
        st = stw_fail(err, STW_ERR_IO, "%s: read: %s", s->target,
                      stw_strerror(errno, eb, sizeof(eb)));
    else if (n == 0)
        st = stw_fail(err, STW_ERR_FORMAT, "%s: empty file", s->target);
    else if (stw_compression_sniff(head, (size_t)n) != STW_COMP_NONE)
        st = stw_scan_blob_file(s, fd, err);
    else if (is_tar_header(head, (size_t)n))
        st = stw_scan_tar_file(s, err);
    else
        st = stw_fail(err, STW_ERR_FORMAT,
                      "%s: not a container image or layer (neither tar, "
                      "gzip, zstd nor an OCI layout)",
                      s->target);
    close(fd);
    return st;
}

/* A target that is no path but names a registry: "docker://…", or a first
 * component that is a host ("localhost:5000/app:1", "ghcr.io/a/b"). errno
 * is that of the stat() that found no path. */
static bool is_registry_ref(const char *target)
{
    stw_registry_ref ref;
    stw_error ignored;
    return errno == ENOENT &&
           stw_registry_parse_ref(target, &ref, &ignored) == STW_OK &&
           ref.explicit_registry;
}

static stw_status scan_any(scan *s, stw_error *err)
{
    const char *target = s->target;
    struct stat sb;
    if (!strcmp(target, "-"))
        return stw_scan_stream(s, STDIN_FILENO, NULL, err);
    if (stat(target, &sb) != 0 && is_registry_ref(target))
        return stw_scan_registry(s, err);
    if (stat(target, &sb) != 0) {
        char eb[128];
        return stw_fail(err, errno == ENOENT ? STW_ERR_NOT_FOUND : STW_ERR_IO,
                        "%s: %s", target, stw_strerror(errno, eb, sizeof(eb)));
    }
    return S_ISDIR(sb.st_mode) ? stw_scan_dir(s, err) : scan_file(s, err);
}

static void scan_free(scan *s)
{
    stw_docset_destroy(s->docs);
    stw_docset_destroy(s->links);
    for (size_t i = 0; i < s->n_jobs; i++)
        free(s->jobs[i].name);
    free(s->jobs);
    stw_image_list_clear(&s->images);
    free(s->dir);
    stw_registry_close(s->reg);
    stw_archmemo_destroy(s->memo);
    pthread_mutex_destroy(&s->lock);
}

/* What one call scans: a target named by the caller, or a caller's
 * reader. */
typedef struct scan_input {
    stw_read_fn fn; /* NULL: the target, by what it is */
    void *ctx;
} scan_input;

/* What of the options changes what a layer's scan finds, for the cache
 * key: files inside files and git history, their bounds. "" with the
 * defaults, so a database of default scans keeps its layers; otherwise a
 * layer scanned with --max-depth 0 or --no-git-history is not answered
 * from the cache to a scan that would open more, nor the reverse. The
 * per-layer bounds (entries, bytes, ratio) fail a layer, which is then
 * not stored at all. */
static void options_key(const stw_scan_options *o, char *out, size_t n)
{
    unsigned depth = STW_NESTED_MAX_DEPTH;
    unsigned long long bytes = STW_NESTED_MAX_BYTES,
                       members = STW_NESTED_MAX_MEMBERS,
                       git = STW_MAX_GIT_BYTES;
    if (o && o->max_depth)
        depth = o->max_depth;
    if (o && o->no_nested)
        depth = 0;
    if (o && o->max_nested_bytes)
        bytes = o->max_nested_bytes;
    if (o && o->max_nested_members)
        members = o->max_nested_members;
    if (o && o->max_git_bytes)
        git = o->max_git_bytes;
    if (o && o->no_git_history)
        git = 0;
    if (depth == STW_NESTED_MAX_DEPTH && bytes == STW_NESTED_MAX_BYTES &&
        members == STW_NESTED_MAX_MEMBERS && git == STW_MAX_GIT_BYTES) {
        out[0] = 0;
        return;
    }
    snprintf(out, n, "+o%u.%llu.%llu.%llu", depth, bytes, members, git);
}

static stw_status scan_run(const stw_rules *rules, stw_store *store,
                           int64_t scan_id, const char *target,
                           const scan_input *in, const stw_scan_options *opt,
                           stw_error *err)
{
    scan s = {
        .rules = rules,
        .store = store,
        .scan_id = scan_id,
        .target = target,
        .opt = opt,
        .caller_reader = in->fn != NULL,
    };
    pthread_mutex_init(&s.lock, NULL);
    if (stw_archmemo_create(opt && opt->on_secret, &s.memo) != STW_OK)
        s.memo = NULL; /* a walk more for each archive met again */
    char ok[64];
    options_key(opt, ok, sizeof(ok));
    snprintf(s.cache_version, sizeof(s.cache_version), "%s+d%s%s",
             stw_rules_version(rules), STW_DETECTORS_VERSION, ok);
    /* Both sets are labelled by the target: "<target>: too many members". */
    stw_status st = stw_docset_create(STW_MAX_MEMBERS, target, &s.docs, err);
    if (st == STW_OK)
        st = stw_docset_create(STW_MAX_MEMBERS, target, &s.links, err);
    if (st == STW_OK && stw_scan_cancelled(&s, err))
        st = STW_ERR_CANCELLED;
    if (st == STW_OK)
        st = in->fn ? stw_scan_stream_fn(&s, in->fn, in->ctx, NULL, err)
                    : scan_any(&s, err);
    if (st != STW_OK) {
        stw_error_prefix(err, target);
        /* stw_images_put records its own per-image errors. */
        if (!s.images.n || st == STW_ERR_NOMEM)
            stw_scan_record_error(&s, err);
    }
    scan_free(&s);
    return st;
}

stw_status stw_scan_target(const stw_rules *rules, stw_store *store,
                           int64_t scan_id, const char *target,
                           const stw_scan_options *opt, stw_error *err)
{
    stw_error local = {0};
    if (!err)
        err = &local;
    if (!rules || !store || !target)
        return stw_fail(err, STW_ERR_USAGE, "stw_scan_target: NULL argument");
    scan_input in = {0};
    return scan_run(rules, store, scan_id, target, &in, opt, err);
}

stw_status stw_scan_read(const stw_rules *rules, stw_store *store,
                         int64_t scan_id, const char *name, stw_read_fn fn,
                         void *ctx, const stw_scan_options *opt, stw_error *err)
{
    stw_error local = {0};
    if (!err)
        err = &local;
    if (!rules || !store || !name || !fn)
        return stw_fail(err, STW_ERR_USAGE, "stw_scan_read: NULL argument");
    scan_input in = {.fn = fn, .ctx = ctx};
    return scan_run(rules, store, scan_id, name, &in, opt, err);
}
