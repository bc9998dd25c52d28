/* nestpool.c - archive files of a layer walked on worker threads, merged
 * in order on the walk thread (nestpool.h). */
#include "nestpool.h"

#include "artifact.h"
#include "common.h"
#include "limits.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct strv {
    char **v;
    size_t n;
} strv;

static void strv_free(strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static stw_status strv_push(strv *s, const char *msg)
{
    char **v = stw_realloc(s->v, (s->n + 1) * sizeof(*v));
    if (!v)
        return STW_ERR_NOMEM;
    s->v = v;
    if (!(v[s->n] = stw_strdup(msg)))
        return STW_ERR_NOMEM;
    s->n++;
    return STW_OK;
}

/* One handed-over archive and, once done, all that its walk produced.
 * Written by the walk thread until queued, then by one worker until done
 * (under the pool's lock), then read by the walk thread. */
typedef struct job {
    stw_nested_archive *a;
    stw_finding_list *findings; /* content, artifacts, cache hits inside */
    stw_artifact *art;          /* a directory inside is inside this job */
    strv notes, mnotes;
    stw_layer_archives arcs;
    strv after; /* the walk thread's notes made after this job's hand-over */
    stw_status st;
    stw_error err;
    bool done;
} job;

/* Where the walk of an archive of the job began (a miss of w_lookup): the
 * findings and the matcher's notes since then are its own when it ends
 * (w_scanned). */
typedef struct opened {
    char *path;
    char sha256[65];
    bool claimed; /* in the memo, for this worker */
    size_t findings, mnotes;
} opened;

typedef struct worker {
    struct stw_nestpool *p;
    pthread_t tid;
    stw_matcher *m;
    stw_nested *nz;
    job *cur;
    opened *open; /* innermost last */
    size_t n_open, cap_open;
} worker;

struct stw_nestpool {
    stw_nestpool_options o;
    stw_nestpool_sink sink;
    pthread_mutex_t mu;
    pthread_cond_t work; /* workers wait for a queued job */
    pthread_cond_t done; /* the walk thread waits for the oldest */
    bool stop;
    /* Jobs [head, tail) are in the ring, [next, tail) not yet started;
     * indices only grow, slot = index % cap. head is the walk thread's;
     * next, tail and finished (jobs done, in any order) are read and
     * written under mu. Unfinished jobs, the ones holding a spool, are at
     * most inflight; done ones wait for the merge with only their results,
     * so a long archive at the head does not stall the other workers. */
    job *ring;
    size_t cap, inflight, head, next, tail, finished;
    size_t n_after; /* notes waiting in after lists */
    bool failed;    /* a merge failed: later jobs would not have run */
    worker *w;
    unsigned n_w, started;
};

static void job_clear(job *j)
{
    stw_nested_archive_free(j->a);
    stw_finding_list_destroy(j->findings);
    stw_artifact_destroy(j->art);
    strv_free(&j->notes);
    strv_free(&j->mnotes);
    strv_free(&j->after);
    stw_layer_archives_clear(&j->arcs);
    memset(j, 0, sizeof(*j));
}

/* ---- the workers' nested sink: everything into the current job ------- */

static stw_status w_entry(void *ctx, const char *path, bool is_dir, bool is_reg,
                          uint64_t size, bool *want_raw)
{
    worker *w = ctx;
    return stw_artifact_entry(w->cur->art, path, is_dir, is_reg, size,
                              want_raw);
}

static void w_raw_data(void *ctx, const void *p, size_t n)
{
    worker *w = ctx;
    stw_artifact_feed(w->cur->art, p, n);
}

static uint64_t w_looked(void *ctx)
{
    worker *w = ctx;
    return stw_artifact_looked(w->cur->art);
}

static stw_status w_raw_end(void *ctx)
{
    worker *w = ctx;
    return stw_artifact_end_file(w->cur->art);
}

static stw_status w_begin(void *ctx, const char *path, uint64_t size,
                          stw_error *err)
{
    worker *w = ctx;
    return stw_matcher_begin(w->m, path, size, stw_finding_list_sink,
                             w->cur->findings, err);
}

static stw_status w_data(void *ctx, const void *p, size_t n, stw_error *err)
{
    worker *w = ctx;
    return stw_matcher_feed(w->m, p, n, err);
}

static stw_status w_end(void *ctx, stw_error *err)
{
    worker *w = ctx;
    return stw_matcher_end(w->m, err);
}

/* Past the layer's cap a note could only be dropped at the merge. */
static stw_status w_note(void *ctx, const char *msg)
{
    worker *w = ctx;
    if (w->cur->notes.n >= STW_MAX_NOTES_PER_LAYER)
        return STW_OK;
    return strv_push(&w->cur->notes, msg);
}

static void open_pop(worker *w)
{
    opened *o = &w->open[--w->n_open];
    if (o->claimed)
        stw_archmemo_release(w->p->o.memo, w, o->sha256);
    free(o->path);
}

/* Drops the walks that ended without w_scanned (no archive after all):
 * what is left open are path and its ancestors. */
static void open_unwind(worker *w, const char *path)
{
    while (w->n_open) {
        const char *p = w->open[w->n_open - 1].path;
        size_t n = strlen(p);
        if (strncmp(path, p, n) == 0 &&
            (!path[n] || strncmp(path + n, "!/", 2) == 0))
            break;
        open_pop(w);
    }
}

/* The archive at path is about to be walked here. Losing track of it
 * only costs the memo a record; its claim is then given back at once. */
static void open_push(worker *w, const char *sha256, const char *path,
                      bool claimed)
{
    open_unwind(w, path);
    const char *const *notes;
    opened o = {.path = stw_strdup(path),
                .claimed = claimed,
                .findings = stw_finding_list_count(w->cur->findings),
                .mnotes = stw_matcher_notes(w->m, &notes)};
    memcpy(o.sha256, sha256, sizeof(o.sha256));
    if (o.path && w->n_open == w->cap_open) {
        size_t cap = w->cap_open ? w->cap_open * 2 : 8;
        opened *v = stw_realloc(w->open, cap * sizeof(*v));
        if (v) {
            w->open = v;
            w->cap_open = cap;
        }
    }
    if (o.path && w->n_open < w->cap_open) {
        w->open[w->n_open++] = o;
        return;
    }
    free(o.path);
    if (claimed)
        stw_archmemo_release(w->p->o.memo, w, sha256);
}

static stw_status w_scanned(void *ctx, const char *sha256, const char *path,
                            uint64_t size, const stw_nested_cost *cost,
                            bool complete, stw_error *err);

/* The memo first (waiting while another worker walks the same bytes),
 * then the database; a miss is walked here and claimed in the memo. */
static stw_status w_lookup(void *ctx, const char *sha256, const char *path,
                           uint64_t size, const stw_nested_cost *room,
                           stw_nested_cost *charge, bool *hit, stw_error *err)
{
    worker *w = ctx;
    *hit = false;
    bool claimed = false;
    stw_status st = STW_OK;
    if (w->p->o.memo)
        st = stw_archmemo_get_or_claim(w->p->o.memo, w, sha256, path, room,
                                       charge, w->cur->findings, hit, &claimed,
                                       err);
    /* The job's own archive was asked of the database by the walk thread
     * already; only the memo can have learnt it since. */
    bool asked = strcmp(path, stw_nested_archive_path(w->cur->a)) == 0;
    if (st == STW_OK && !*hit && !asked && w->p->o.lookup)
        st = w->p->o.lookup(w->p->o.lookup_ctx, sha256, path, room, charge,
                            w->cur->findings, hit, err);
    if (st == STW_OK && !*hit && w->p->o.memo)
        open_push(w, sha256, path, claimed);
    else if (claimed)
        stw_archmemo_release(w->p->o.memo, w, sha256);
    /* A replay holds the path as a walked copy does. */
    if (st == STW_OK && *hit)
        st = w_scanned(w, NULL, path, size, NULL, false, err);
    return st;
}

/* The walk of the archive at path ended. Walked whole (complete: nothing
 * in it judged by the path around it either), it goes to the memo unless
 * the job's list left something out or the matcher made a note inside it
 * (a record replays findings only). Its claim is given back now, kept or
 * not, so no other worker waits for it longer than its walk. */
static void remember(worker *w, const char *path, bool complete,
                     const stw_nested_cost *cost)
{
    open_unwind(w, path);
    if (!w->n_open || strcmp(w->open[w->n_open - 1].path, path) != 0)
        return; /* its start was not kept */
    opened *o = &w->open[w->n_open - 1];
    const char *const *notes;
    if (complete && !stw_finding_list_dropped(w->cur->findings) &&
        stw_matcher_notes(w->m, &notes) == o->mnotes) {
        stw_archmemo_put_claimed(w->p->o.memo, o->claimed ? w : NULL, o->sha256,
                                 path, cost, w->cur->findings, o->findings);
        o->claimed = false; /* given back by put */
    }
    open_pop(w);
}

static stw_status w_scanned(void *ctx, const char *sha256, const char *path,
                            uint64_t size, const stw_nested_cost *cost,
                            bool complete, stw_error *err)
{
    worker *w = ctx;
    job *j = w->cur;
    if (w->p->o.memo && sha256)
        remember(w, path, complete, cost);
    stw_status st =
        stw_layer_archives_add(&j->arcs, sha256, path, size, cost, complete);
    return st ? stw_fail(err, st, "out of memory") : STW_OK;
}

/* ---- the workers ------------------------------------------------------ */

static stw_status take_matcher_notes(stw_matcher *m, strv *out)
{
    const char *const *v;
    size_t n = stw_matcher_notes(m, &v);
    stw_status st = STW_OK;
    for (size_t i = 0; st == STW_OK && i < n; i++)
        st = strv_push(out, v[i]);
    stw_matcher_clear_notes(m);
    return st;
}

/* The spool goes as soon as the walk ends: what waits for the merge is
 * only the results. */
static void run_job(worker *w, job *j)
{
    w->cur = j;
    j->st = stw_nested_walk_archive(w->nz, j->a, &j->err);
    while (w->n_open)
        open_pop(w);
    if (j->st == STW_OK && (j->st = stw_artifact_finish(j->art)) != STW_OK)
        stw_fail(&j->err, j->st, "artifact detector failed");
    if (j->st == STW_OK &&
        (j->st = take_matcher_notes(w->m, &j->mnotes)) != STW_OK)
        stw_fail(&j->err, j->st, "out of memory");
    stw_matcher_clear_notes(w->m);
    stw_nested_archive_free(j->a);
    j->a = NULL;
    stw_artifact_destroy(j->art);
    j->art = NULL;
    w->cur = NULL;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    stw_nestpool *p = w->p;
    stw_thread_name("stw-nested");
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->next == p->tail)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        job *j = &p->ring[p->next++ % p->cap];
        pthread_mutex_unlock(&p->mu);
        run_job(w, j);
        pthread_mutex_lock(&p->mu);
        j->done = true;
        p->finished++;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static stw_status worker_init(stw_nestpool *p, worker *w, stw_error *err)
{
    static const stw_nested_sink proto = {
        .entry = w_entry,
        .raw_data = w_raw_data,
        .raw_end = w_raw_end,
        .looked = w_looked,
        .begin = w_begin,
        .data = w_data,
        .end = w_end,
        .note = w_note,
        .lookup = w_lookup,
        .scanned = w_scanned,
    };
    stw_nested_sink sink = proto;
    sink.ctx = w;
    w->p = p;
    stw_status st = stw_matcher_create(p->o.rules, &w->m, err);
    if (st == STW_OK)
        st = stw_nested_create(&sink, &p->o.lim, &w->nz, err);
    return st;
}

/* ---- the walk thread's side ------------------------------------------- */

stw_status stw_nestpool_create(const stw_nestpool_options *o,
                               const stw_nestpool_sink *sink,
                               stw_nestpool **out, stw_error *err)
{
    *out = NULL;
    unsigned n = o->workers;
    if (n < 1 || !o->rules)
        return stw_fail(err, STW_ERR_USAGE, "no workers");
    if (n > STW_NESTED_WORKERS_MAX)
        n = STW_NESTED_WORKERS_MAX;
    stw_nestpool *p = stw_calloc(1, sizeof(*p));
    if (!p)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    p->o = *o;
    p->sink = *sink;
    p->inflight = n + STW_NESTED_QUEUE_EXTRA;
    p->cap = STW_NESTED_RESULTS_MAX;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    p->ring = stw_calloc(p->cap, sizeof(*p->ring));
    p->w = stw_calloc(n, sizeof(*p->w));
    stw_status st = p->ring && p->w
                        ? STW_OK
                        : stw_fail(err, STW_ERR_NOMEM, "out of memory");
    for (; st == STW_OK && p->n_w < n; p->n_w++)
        st = worker_init(p, &p->w[p->n_w], err);
    for (; st == STW_OK && p->started < p->n_w; p->started++)
        if (!stw_thread_create(&p->w[p->started].tid, worker_main,
                               &p->w[p->started]))
            break;
    if (st == STW_OK && p->started == 0)
        st = stw_fail(err, STW_ERR_IO, "cannot start a thread");
    if (st != STW_OK) {
        stw_nestpool_destroy(p);
        return st;
    }
    *out = p;
    return STW_OK;
}

bool stw_nestpool_pending(const stw_nestpool *p)
{
    return p && p->head != p->tail;
}

/* A hostile layer could make a note of every entry while a large archive
 * is walked: a note that lands past the layer's cap whatever the pending
 * jobs hold (at least n_after notes come before it) is dropped now. */
stw_status stw_nestpool_note(stw_nestpool *p, const char *msg)
{
    if (p->n_after >= STW_MAX_NOTES_PER_LAYER)
        return STW_OK;
    stw_status st = strv_push(&p->ring[(p->tail - 1) % p->cap].after, msg);
    if (st == STW_OK)
        p->n_after++;
    return st;
}

/* Hands job j's results to the sink in the order a serial walk makes
 * them. A failed job is the layer's failure, as it would have been. */
static stw_status merge(stw_nestpool *p, job *j, stw_error *err)
{
    if (j->st != STW_OK) {
        *err = j->err;
        return j->st;
    }
    const stw_nestpool_sink *s = &p->sink;
    stw_status st = STW_OK;
    size_t n = stw_finding_list_count(j->findings);
    for (size_t i = 0; st == STW_OK && i < n; i++)
        st = s->finding(s->ctx, stw_finding_list_get(j->findings, i));
    for (size_t i = 0; st == STW_OK && i < j->notes.n; i++)
        st = s->note(s->ctx, j->notes.v[i]);
    if (st != STW_OK)
        return stw_fail(err, st, "out of memory");
    for (size_t i = 0; st == STW_OK && i < j->arcs.n; i++) {
        const stw_layer_archive *a = &j->arcs.v[i];
        st = s->scanned(s->ctx, a->sha256[0] ? a->sha256 : NULL, a->path,
                        a->size, &a->cost, !a->not_kept, err);
    }
    if (st != STW_OK)
        return st;
    for (size_t i = 0; st == STW_OK && i < j->mnotes.n; i++)
        st = s->matcher_note(s->ctx, j->mnotes.v[i]);
    for (size_t i = 0; st == STW_OK && i < j->after.n; i++)
        st = s->note(s->ctx, j->after.v[i]);
    return st == STW_OK ? st : stw_fail(err, st, "out of memory");
}

/* Merges the oldest job, waiting for it when wait, else only if done
 * (*merged says which). */
static stw_status merge_head(stw_nestpool *p, bool wait, bool *merged,
                             stw_error *err)
{
    job *j = &p->ring[p->head % p->cap];
    pthread_mutex_lock(&p->mu);
    while (wait && !j->done)
        pthread_cond_wait(&p->done, &p->mu);
    *merged = j->done;
    pthread_mutex_unlock(&p->mu);
    if (!*merged)
        return STW_OK;
    p->n_after -= j->after.n;
    stw_status st = merge(p, j, err);
    job_clear(j);
    p->head++;
    if (st != STW_OK)
        p->failed = true;
    return st;
}

/* Merges the jobs done at the head of the ring, then waits while there is
 * no room for one more: the ring full, or inflight jobs unfinished. */
static stw_status make_room(stw_nestpool *p, stw_error *err)
{
    for (;;) {
        stw_status st = STW_OK;
        bool merged = true;
        while (st == STW_OK && merged && p->head != p->tail)
            st = merge_head(p, false, &merged, err);
        if (st != STW_OK)
            return st;
        pthread_mutex_lock(&p->mu);
        size_t seen = p->finished;
        bool room =
            p->tail - p->head < p->cap && p->tail - p->finished < p->inflight;
        while (!room && p->finished == seen)
            pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
        if (room)
            return STW_OK;
    }
}

stw_status stw_nestpool_submit(stw_nestpool *p, stw_nested_archive *a,
                               stw_error *err)
{
    stw_status st = make_room(p, err);
    if (st != STW_OK) {
        stw_nested_archive_free(a);
        return st;
    }
    job *j = &p->ring[p->tail % p->cap];
    memset(j, 0, sizeof(*j));
    j->a = a;
    if (stw_finding_list_create(&j->findings) != STW_OK ||
        stw_artifact_create(stw_finding_list_sink, j->findings, &j->art) !=
            STW_OK) {
        job_clear(j);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    if (p->o.keep_secrets)
        stw_finding_list_keep_secrets(j->findings);
    pthread_mutex_lock(&p->mu);
    p->tail++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
    return STW_OK;
}

stw_status stw_nestpool_finish(stw_nestpool *p, stw_error *err)
{
    stw_status st = STW_OK;
    bool merged;
    while (st == STW_OK && !p->failed && p->head != p->tail)
        st = merge_head(p, true, &merged, err);
    return st;
}

void stw_nestpool_destroy(stw_nestpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->w[i].tid, NULL);
    for (unsigned i = 0; i < p->n_w; i++) {
        stw_nested_destroy(p->w[i].nz);
        stw_matcher_destroy(p->w[i].m);
        free(p->w[i].open);
    }
    for (size_t i = p->head; p->ring && i != p->tail; i++)
        job_clear(&p->ring[i % p->cap]);
    free(p->ring);
    free(p->w);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
