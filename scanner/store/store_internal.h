/* store_internal.h - what the files of the store stage share and nothing
 * outside it may include: the layout of stw_store, the statements prepared
 * at open, and the one family of SQL helpers every file of the stage uses,
 * so that a failing statement is reported the same way everywhere and a
 * missing value binds the same way everywhere. Implemented in
 * store_internal.c.
 *
 * Binding convention: parameters are numbered from 1; texts and blobs are
 * borrowed (SQLITE_STATIC), so they must outlive the statement's next
 * stw_sql_reset(), stw_sql_run() or finalize. A NULL text binds SQL NULL;
 * a column declared NOT NULL DEFAULT '' is given stw_sql_or_empty(v), so
 * the place that stores "" for "none" says so. */
#ifndef STW_STORE_INTERNAL_H
#define STW_STORE_INTERNAL_H

#include "store.h"

#include <sqlite3.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The statements of the write and read paths, prepared once at open (their
 * SQL is in open.c). Everything run once per command (latest results,
 * statistics, pruning, merging, the by-layer report) is prepared on demand
 * with stw_sql_prepare() instead. */
enum {
    /* write.c */
    Q_SCAN_INSERT,
    Q_SCAN_END,
    Q_SCAN_TOUCH,
    Q_SCAN_RELEASE,
    Q_LAYER_HOLD,
    Q_LAYER_CACHED,
    Q_LAYER_UPSERT,
    Q_FINDING_UPSERT,
    Q_KEEP_INSERT,
    Q_KEEP_CLEAR,
    Q_FINDING_PRUNE,
    Q_BLOB_FINDINGS,
    Q_LAYER_PATHSET,
    Q_IMAGE_POSITION,
    Q_IMAGE_INSERT,
    Q_IMAGE_LAYER_INSERT,
    Q_IMAGE_FINDING_INSERT,
    Q_ERROR_INSERT,
    /* read.c */
    Q_LOAD_SCAN,
    Q_LOAD_IMAGES,
    Q_LOAD_LAYERS,
    Q_LOAD_FINDINGS,
    Q_LOAD_ERRORS,
    Q_LOAD_COUNTS,
    Q_COUNT_
};

struct stw_store {
    sqlite3 *db;
    char *name; /* the file name, for messages */
    sqlite3_stmt *q[Q_COUNT_];
    unsigned shard_k, shard_n; /* shard mode when shard_n > 1 */
    /* The scan this connection runs (begun or resumed, not ended), 0 for
     * none: the layers it writes or reuses are held for it against `db
     * prune` until it ends. */
    int64_t active_scan;
    bool on_disk; /* a file, not ":memory:" */
    bool in_wal;  /* this connection switched the file to WAL */
};

/* ---- failing ------------------------------------------------------------ */

/* Fills err with "<file>: <what>: <sqlite's message>" and returns
 * STW_ERR_DB. Must run before anything else touches the connection, or the
 * message is another call's. */
stw_status stw_sql_fail(stw_store *s, stw_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills err with "<file>: out of memory" and returns STW_ERR_NOMEM. */
stw_status stw_store_nomem(stw_store *s, stw_error *err);

/* ---- statements --------------------------------------------------------- */

/* Prepares sql (borrowed) for use by one command; the error names the
 * statement by fmt. *q is transferred to the caller (sqlite3_finalize, or
 * stw_sql_finish), NULL on failure. */
stw_status stw_sql_prepare(stw_store *s, const char *sql, sqlite3_stmt **q,
                           stw_error *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

void stw_sql_bind_text(sqlite3_stmt *q, int i, const char *v);
void stw_sql_bind_int64(sqlite3_stmt *q, int i, int64_t v);
/* Binds v when present, else SQL NULL. */
void stw_sql_bind_int64_or_null(sqlite3_stmt *q, int i, bool present,
                                int64_t v);
/* Binds n bytes at p; an empty blob, never NULL, when n is 0. */
void stw_sql_bind_blob(sqlite3_stmt *q, int i, const void *p, size_t n);

/* What a NOT NULL DEFAULT '' column is given for an optional text. */
static inline const char *stw_sql_or_empty(const char *v)
{
    return v ? v : "";
}

/* Steps q once: *row tells whether it produced a row (false: it is done).
 * Anything else is an error naming fmt. */
stw_status stw_sql_step(stw_store *s, sqlite3_stmt *q, bool *row,
                        stw_error *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Steps q to its end (rows ignored), then resets it as stw_sql_reset()
 * does, success or not. */
stw_status stw_sql_run(stw_store *s, sqlite3_stmt *q, stw_error *err,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Steps q to its end (rows ignored) and finalizes it, success or not: q is
 * consumed. */
stw_status stw_sql_finish(stw_store *s, sqlite3_stmt *q, stw_error *err,
                          const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Readies a statement prepared at open for its next use, and drops its
 * bindings so it keeps no borrowed pointer. */
void stw_sql_reset(sqlite3_stmt *q);

/* Runs sql (borrowed): one or more statements without parameters, rows
 * ignored. */
stw_status stw_sql_exec(stw_store *s, const char *sql, stw_error *err,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Runs sql, a query of one integer, into *v (left alone when it returns no
 * row). */
stw_status stw_sql_one_int64(stw_store *s, const char *sql, int64_t *v,
                             stw_error *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Runs sql, a query of one text, into *v: a copy, "" when it is NULL or
 * there is no row; transferred to the caller, NULL on failure. */
stw_status stw_sql_one_text(stw_store *s, const char *sql, char **v,
                            stw_error *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Copies text column i of q's current row; SQL NULL becomes "". Returns
 * NULL only when out of memory; transferred to the caller. */
char *stw_sql_column_dup(sqlite3_stmt *q, int i);

/* Fills elem, a zeroed element of an array, from q's current row. elem is
 * already counted in the array, so whatever it holds is freed with the
 * array, also when this fails. */
typedef stw_status (*stw_sql_row_fn)(stw_store *s, sqlite3_stmt *q, void *elem,
                                     stw_error *err);

/* Steps q to its end, appending to the growing array *arr (*n elements,
 * room for *cap, elem bytes each) one element per row, filled by row.
 * Stops at the first failure; a failing step is named by fmt. */
stw_status stw_sql_collect(stw_store *s, sqlite3_stmt *q, void **arr, size_t *n,
                           size_t *cap, size_t elem, stw_sql_row_fn row,
                           stw_error *err, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));

/* ---- transactions ------------------------------------------------------- */

/* A write transaction takes the write lock at once (BEGIN IMMEDIATE), so a
 * busy database is waited for at the start and not at the first write. */
stw_status stw_sql_begin_write(stw_store *s, stw_error *err);
/* Ends the write transaction: commits it when st, the status of its body,
 * is STW_OK, else - or when the commit fails - rolls it back. Returns st,
 * or the commit's error. */
stw_status stw_sql_end_write(stw_store *s, stw_status st, stw_error *err);
/* Best effort, and nothing outside a transaction: the error that led here
 * is already in the caller's err. */
void stw_sql_rollback(stw_store *s);

/* A read transaction, so that a writer in another process cannot slip a
 * row in between the queries of one report. Ending it cannot lose data, so
 * it reports nothing. */
stw_status stw_sql_begin_read(stw_store *s, stw_error *err);
void stw_sql_end_read(stw_store *s);

/* ---- shared by the files of the stage ----------------------------------- */

/* Makes room for element n of a growing array of elem-byte elements
 * (*arr, *cap updated; new room zeroed). False when out of memory, with
 * the array unchanged. */
bool stw_store_grow(void **arr, size_t *cap, size_t n, size_t elem);

/* Stores img as an image of scan_id - its row at position (< 0: after the
 * scan's last), its ordered layers, its config findings unless
 * config_stored, and the visibility of every finding of its layers - inside
 * the caller's transaction (write.c; merge.c completes deferred images with
 * it). Every layer must be stored already. All borrowed. */
stw_status stw_store_put_image_tx(stw_store *s, int64_t scan_id,
                                  const stw_image_record *img,
                                  const stw_finding_list *config_findings,
                                  bool config_stored, int64_t position,
                                  int64_t *image_id, stw_error *err);

/* Inside put_layer's transaction: replaces the layer's notes and stores
 * the archives it names, each with its share of findings (archives.c). */
stw_status stw_store_put_layer_extras_tx(stw_store *s,
                                         const stw_layer_record *layer,
                                         const stw_finding_list *findings,
                                         stw_error *err);

#endif
