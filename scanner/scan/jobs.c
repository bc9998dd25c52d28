/* jobs.c - the layers of a target as jobs: planned once per distinct
 * layer, settled from the store or left to another shard where possible,
 * the rest run on -j workers, each with its own matcher, largest first. */
#include "scan_internal.h"

#include "bytesrc.h"
#include "common.h"
#include "sha256.h"
#include "shard.h"

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the job list ------------------------------------------------------- */

stw_status stw_job_add(scan *s, const char *name, layer_job **out,
                       stw_error *err)
{
    layer_job *v = stw_realloc(s->jobs, (s->n_jobs + 1) * sizeof(*v));
    if (!v)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    s->jobs = v;
    layer_job *j = &v[s->n_jobs];
    memset(j, 0, sizeof(*j));
    j->member = -1;
    j->size = -1;
    if (!(j->name = stw_strdup(name)))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    s->n_jobs++;
    *out = j;
    return STW_OK;
}

layer_job *stw_job_find(scan *s, const char *name)
{
    /* One hop through a symlink member is all docker save ever uses. */
    for (int hop = 0; hop < 2 && name; hop++) {
        for (size_t i = 0; i < s->n_jobs; i++)
            if (!strcmp(s->jobs[i].name, name))
                return &s->jobs[i];
        const char *next = NULL;
        size_t len;
        if (!stw_docset_find(s->links, name, &next, &len))
            next = NULL;
        name = next;
    }
    return NULL;
}

void stw_job_settle(layer_job *j, const char *digest, bool cached)
{
    j->done = true;
    j->cached = cached;
    snprintf(j->got_digest, sizeof(j->got_digest), "%s", digest);
}

/* ---- planning ----------------------------------------------------------- */

stw_status stw_jobs_plan(scan *s, stw_error *err)
{
    for (size_t i = 0; i < s->images.n; i++) {
        stw_image_desc *d = &s->images.v[i];
        for (size_t k = 0; k < d->n_layers; k++) {
            stw_layer_desc *l = &d->layers[k];
            if (stw_job_find(s, l->name))
                continue;
            layer_job *j;
            stw_status st = stw_job_add(s, l->name, &j, err);
            if (st != STW_OK)
                return st;
            j->digest = l->digest;
            j->diff_id = l->diff_id;
            j->size = l->size;
        }
    }
    return STW_OK;
}

stw_status stw_jobs_bind(scan *s, stw_error *err)
{
    bool *used = stw_calloc(s->n_jobs + 1, sizeof(*used));
    if (!used)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < s->images.n; i++) {
        stw_image_desc *d = &s->images.v[i];
        for (size_t k = 0; k < d->n_layers; k++) {
            layer_job *j = stw_job_find(s, d->layers[k].name);
            if (!j)
                continue;
            used[j - s->jobs] = true;
            if (j->digest || j->diff_id)
                continue;
            j->digest = d->layers[k].digest;
            j->diff_id = d->layers[k].diff_id;
        }
    }
    for (size_t i = 0; i < s->n_jobs; i++)
        if (!used[i])
            s->jobs[i].done = true;
    free(used);
    return STW_OK;
}

/* The digest a layer is cached under before it is read: its blob digest
 * when the manifest or member name gives one; for a legacy docker save
 * layer.tar (uncompressed, so the blob is the tar) the diff_id its config
 * claims, which counts only once the bytes hash to it. */
static const char *cache_key(const layer_job *j)
{
    return j->digest ? j->digest : j->diff_id;
}

stw_status stw_jobs_lookup(scan *s, layer_job *j, const char *digest, bool *hit,
                           stw_error *err)
{
    char diff_id[STW_DIGEST_STR];
    stw_status st = stw_store_layer_lookup(s->store, digest, s->cache_version,
                                           hit, diff_id, err);
    if (st != STW_OK)
        return st;
    /* --verify-diff-ids: a layer stored without its diff_id computed cannot
     * answer for one; it is scanned again. */
    if (*hit && !diff_id[0] && s->opt && s->opt->verify_diff_ids)
        *hit = false;
    if (*hit && j)
        snprintf(j->got_diff_id, sizeof(j->got_diff_id), "%s", diff_id);
    return STW_OK;
}

stw_status stw_jobs_settle_cached(scan *s, layer_job *j, const char *digest,
                                  bool lock, stw_error *err)
{
    if (lock)
        pthread_mutex_lock(&s->lock);
    /* What the layer's own scan skipped is still skipped: say so again. */
    stw_status st =
        stw_store_put_layer_notes(s->store, s->scan_id, s->target, digest, err);
    if (st == STW_OK && j)
        stw_job_settle(j, digest, true);
    if (st == STW_OK && s->opt && s->opt->on_layer_done)
        s->opt->on_layer_done(s->opt->progress_ctx, digest, 0, 1);
    if (lock)
        pthread_mutex_unlock(&s->lock);
    return st;
}

bool stw_jobs_hit_needs_check(const scan *s, bool key_is_diff_id)
{
    if (s->reg)
        return false; /* content addressed by the registry that served it */
    return key_is_diff_id || !(s->opt && s->opt->trust_cache);
}

/* --shard K/N: a layer whose blob digest belongs to another shard is left
 * to that shard's worker, settled like a cached one; the store (in shard
 * mode) records the image for `db merge` to complete. */
static void shard_filter(scan *s)
{
    if (!s->opt || s->opt->shard_n <= 1)
        return;
    for (size_t i = 0; i < s->n_jobs; i++) {
        layer_job *j = &s->jobs[i];
        const char *key = cache_key(j);
        if (j->done || !key ||
            stw_shard_of(key, s->opt->shard_n) == s->opt->shard_k)
            continue;
        stw_job_settle(j, key, true);
    }
}

/* Jobs already done when this is called are not this target's to count. */
stw_status stw_jobs_check_cached(scan *s, stw_error *err)
{
    shard_filter(s);
    size_t todo = 0;
    for (size_t i = 0; i < s->n_jobs; i++)
        todo += !s->jobs[i].done;
    if (s->opt && s->opt->on_layers_planned)
        s->opt->on_layers_planned(s->opt->progress_ctx, todo);
    for (size_t i = 0; i < s->n_jobs; i++) {
        layer_job *j = &s->jobs[i];
        if (j->done || !cache_key(j))
            continue;
        bool hit;
        stw_status st = stw_jobs_lookup(s, j, cache_key(j), &hit, err);
        if (st == STW_OK && hit && stw_jobs_hit_needs_check(s, !j->digest))
            j->unchecked_hit = true; /* hashed by a worker, in parallel */
        else if (st == STW_OK && hit)
            st = stw_jobs_settle_cached(s, j, cache_key(j), false, err);
        if (st != STW_OK)
            return st;
    }
    return STW_OK;
}

/* ---- running a job ------------------------------------------------------ */

static const char *job_media_type(const scan *s, const layer_job *j)
{
    for (size_t i = 0; i < s->images.n; i++)
        for (size_t k = 0; k < s->images.v[i].n_layers; k++)
            if (!strcmp(s->images.v[i].layers[k].name, j->name))
                return s->images.v[i].layers[k].media_type;
    return NULL;
}

/* Scans j through fn/ctx with the digests its image expects; or, with no
 * matcher, only hashes its bytes to the digest it is stored under (a cache
 * hit to check). */
static stw_status run_reader(scan *s, stw_matcher *m, layer_job *j,
                             stw_read_fn fn, void *ctx, const char *label)
{
    stw_blob_options bo = stw_scan_blob_opts(s, label, j->digest, j->diff_id);
    if (!m) {
        bo.digest = cache_key(j);
        return stw_blob_check_digest(fn, ctx, &bo, &j->err);
    }
    return stw_scan_layer(s, m, j, fn, ctx, &bo, job_media_type(s, j), &j->err);
}

/* A job in a seekable archive: reopen the file, seek over members to
 * ours, and stream it. Each worker has its own reader, so none waits for
 * another's position. */
static stw_status run_member_job(scan *s, stw_matcher *m, layer_job *j,
                                 const char *label)
{
    struct archive *a;
    stw_status st = stw_outer_open(s->target, &a, &j->err);
    struct archive_entry *e;
    for (int64_t i = 0; st == STW_OK && i <= j->member; i++)
        if (archive_read_next_header(a, &e) < ARCHIVE_WARN)
            st = stw_outer_fail(a, s->target, &j->err);
    if (st == STW_OK) {
        stw_outer_reader mr = {.a = a, .name = label};
        st = run_reader(s, m, j, stw_outer_read, &mr, label);
    }
    archive_read_free(a);
    return st;
}

static stw_status run_file_job(scan *s, stw_matcher *m, layer_job *j,
                               const char *label)
{
    char path[STW_MAX_PATH + 128], eb[128];
    stw_scan_dir_path(s, j->name, path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return stw_fail(&j->err,
                        errno == ENOENT ? STW_ERR_NOT_FOUND : STW_ERR_IO,
                        "%s: missing layer blob: %s", label,
                        stw_strerror(errno, eb, sizeof(eb)));
    stw_fd_reader r;
    stw_status st = stw_fd_reader_init(&r, fd, label, &j->err);
    if (st == STW_OK)
        st = run_reader(s, m, j, stw_fd_read, &r, label);
    stw_fd_reader_clear(&r);
    close(fd);
    return st;
}

/* A layer of a remote image, streamed from the registry as it downloads;
 * opening (which may fetch a token) is serialised, reading is not. */
static stw_status run_registry_job(scan *s, stw_matcher *m, layer_job *j,
                                   const char *label)
{
    stw_registry_blob *b = NULL;
    pthread_mutex_lock(&s->lock);
    stw_status st = stw_registry_blob_open(s->reg, j->digest, &b, &j->err);
    pthread_mutex_unlock(&s->lock);
    if (st == STW_OK)
        st = run_reader(s, m, j, stw_registry_blob_read, b, label);
    stw_registry_blob_close(b);
    return st;
}

/* A stored layer of a local file: used if the blob's bytes still hash to
 * the digest it is stored under. Otherwise (changed, missing, unreadable)
 * false, and the job is scanned as if nothing were stored, so it fails, or
 * not, exactly as it would without a store. Running out of memory says
 * nothing about the blob: the job fails with it (true, j->st set), as a
 * scan would, instead of storing the layer again over the record that
 * other images of the scan already show. */
static bool use_checked_hit(scan *s, layer_job *j, const char *label)
{
    stw_status st = s->dir ? run_file_job(s, NULL, j, label)
                           : run_member_job(s, NULL, j, label);
    if (st == STW_OK)
        st = stw_jobs_settle_cached(s, j, cache_key(j), true, &j->err);
    if (st == STW_OK)
        return true;
    if (st == STW_ERR_NOMEM) {
        j->st = st;
        j->done = true;
        return true;
    }
    j->err = (stw_error){0};
    j->got_diff_id[0] = 0;
    return false;
}

/* ---- the worker pool ---------------------------------------------------- */

static layer_job *next_pending(scan *s)
{
    layer_job *j = NULL;
    pthread_mutex_lock(&s->lock);
    while (s->next_job < s->n_jobs && !j) {
        j = &s->jobs[s->next_job++];
        if (j->done)
            j = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    return j;
}

/* A worker takes pending jobs until none is left. A worker without a
 * matcher still takes its jobs, to fail each with the reason. */
static void *worker(void *arg)
{
    scan *s = arg;
    stw_matcher *m = NULL;
    stw_error merr = {0};
    stw_status mst = stw_matcher_create(s->rules, &m, &merr);
    char label[STW_SCAN_LABEL_MAX];
    for (layer_job *j; (j = next_pending(s));) {
        stw_scan_label(s, j->name, label);
        if (mst != STW_OK) {
            j->st = mst;
            j->err = merr;
        } else if (j->unchecked_hit && use_checked_hit(s, j, label)) {
            continue;
        } else if (s->reg) {
            j->st = run_registry_job(s, m, j, label);
        } else if (s->dir) {
            j->st = run_file_job(s, m, j, label);
        } else {
            j->st = run_member_job(s, m, j, label);
        }
        j->done = true;
    }
    stw_matcher_destroy(m);
    return NULL;
}

static void *worker_thread(void *arg)
{
    stw_thread_name("stw-layer");
    return worker(arg);
}

static int job_cmp_size_desc(const void *a, const void *b)
{
    const layer_job *x = a, *y = b;
    return (x->size < y->size) - (x->size > y->size);
}

int stw_jobs_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int stw_jobs_default(void)
{
    int n = stw_jobs_cores();
    return n < STW_JOBS_DEFAULT_MAX ? n : STW_JOBS_DEFAULT_MAX;
}

/* Largest first, so the longest layer is not the one started last. Every
 * layer runs as a pipeline whenever there is a second core, even with as
 * many workers as cores: its stages wait on bounded queues, so threads
 * beyond the cores only take turns, while a layer left alone at the end
 * (the largest, usually) still has every core it can use. */
void stw_jobs_run(scan *s)
{
    stw_sort(s->jobs, s->n_jobs, sizeof(*s->jobs), job_cmp_size_desc);
    int n = s->opt && s->opt->jobs > 0 ? s->opt->jobs : stw_jobs_default();
    if ((size_t)n > s->n_jobs)
        n = (int)s->n_jobs;
    s->spare_cores = stw_jobs_cores() > 1;
    if (n <= 1) {
        worker(s);
        return;
    }
    pthread_t *t = stw_calloc((size_t)n, sizeof(*t));
    int started = 0;
    for (; t && started < n; started++)
        if (!stw_thread_create(&t[started], worker_thread, s))
            break;
    if (started == 0)
        worker(s); /* no threads to be had: do it here */
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    free(t);
}
