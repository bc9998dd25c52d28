/* nestpool.h - the archive files of one layer (jars, wars, wheels, .tgz)
 * walked on a few threads while the layer's walk thread goes on reading.
 *
 * The walk thread spools an archive and asks the archive cache, as it
 * always did (nested.c); then it hands the spool over here. A worker walks
 * it with its own stw_nested, matcher and artifact detector and keeps what
 * came out - findings, notes, cache records, the matcher's notes - in the
 * job. The walk thread merges jobs in the order it handed them over, and
 * notes it makes itself while jobs are pending wait behind them, so a
 * layer's notes and records come out in the order a serial walk gives.
 * At most workers + STW_NESTED_QUEUE_EXTRA jobs hold a spool (queued or
 * being walked) and STW_NESTED_RESULTS_MAX wait for the merge; handing
 * over one more waits until there is room (back-pressure). */
#ifndef STW_NESTPOOL_H
#define STW_NESTPOOL_H

#include "archmemo.h"
#include "layer.h"
#include "nested.h"

typedef struct stw_nestpool stw_nestpool;

typedef struct stw_nestpool_options {
    const stw_rules *rules; /* borrowed, read-only, shared by the workers */
    unsigned workers;       /* 1..STW_NESTED_WORKERS_MAX */
    stw_nested_limits lim;  /* per outer file, as for stw_nested_create */
    /* The archive cache, asked by the workers for archives inside the
     * handed-over ones: must be safe to call from several threads. May be
     * NULL. */
    stw_archive_lookup_fn lookup;
    void *lookup_ctx;
    /* Results of archives walked in this scan (borrowed, shared), asked
     * before lookup; the workers add the archives they walk whole. May be
     * NULL. */
    stw_archmemo *memo;
    bool keep_secrets; /* as stw_layer_options */
} stw_nestpool_options;

/* Where merged jobs go; called on the walk thread only (inside submit,
 * note and finish). */
typedef struct stw_nestpool_sink {
    void *ctx;
    stw_status (*finding)(void *ctx, const stw_finding *f);
    stw_status (*note)(void *ctx, const char *msg);
    stw_status (*scanned)(void *ctx, const char *sha256, const char *path,
                          uint64_t size, const stw_nested_cost *cost,
                          bool complete, stw_error *err);
    /* A note of a worker's matcher (a regex's match limit). */
    stw_status (*matcher_note)(void *ctx, const char *msg);
} stw_nestpool_sink;

/* o and sink are copied (ctx pointers stay borrowed). Starts the workers;
 * fails (and *out stays NULL) when memory or not even one thread can be
 * had: the caller then walks archives itself. */
stw_status stw_nestpool_create(const stw_nestpool_options *o,
                               const stw_nestpool_sink *sink,
                               stw_nestpool **out, stw_error *err);

/* Queues archive a (consumed, even on failure), first merging jobs that
 * are done, and waiting for the oldest while the queue is full. Returns
 * the first failure of a merged job (its own message) or of the merge. */
stw_status stw_nestpool_submit(stw_nestpool *p, stw_nested_archive *a,
                               stw_error *err);

/* True while a job is queued or unmerged: a note of the walk thread must
 * then go through stw_nestpool_note to keep its place. */
bool stw_nestpool_pending(const stw_nestpool *p);

/* A note of the walk thread (copied), to be passed to sink->note after
 * the jobs queued before it. */
stw_status stw_nestpool_note(stw_nestpool *p, const char *msg);

/* Waits for every job and merges them in order. Returns the first
 * failure, as stw_nestpool_submit. Once a failure was returned (here or
 * by submit) merges nothing more and returns STW_OK: the jobs after a
 * failed one would not have run in a serial walk. */
stw_status stw_nestpool_finish(stw_nestpool *p, stw_error *err);

/* Stops the workers (jobs not yet started are dropped, running ones end
 * first) and frees. Accepts NULL. */
void stw_nestpool_destroy(stw_nestpool *p);

#endif
