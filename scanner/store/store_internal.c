/* store_internal.c - the store stage's SQL helpers, transactions and array
 * growth (store_internal.h). */
#include "store_internal.h"

#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static stw_status vfail(stw_store *s, stw_error *err, const char *fmt,
                        va_list ap) __attribute__((format(printf, 3, 0)));

static stw_status vfail(stw_store *s, stw_error *err, const char *fmt,
                        va_list ap)
{
    char what[256];
    vsnprintf(what, sizeof what, fmt, ap);
    return stw_fail(err, STW_ERR_DB, "%s: %s: %s", s->name, what,
                    sqlite3_errmsg(s->db));
}

stw_status stw_sql_fail(stw_store *s, stw_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    stw_status st = vfail(s, err, fmt, ap);
    va_end(ap);
    return st;
}

stw_status stw_store_nomem(stw_store *s, stw_error *err)
{
    return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
}

stw_status stw_sql_prepare(stw_store *s, const char *sql, sqlite3_stmt **q,
                           stw_error *err, const char *fmt, ...)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, q, NULL) == SQLITE_OK)
        return STW_OK;
    *q = NULL;
    va_list ap;
    va_start(ap, fmt);
    stw_status st = vfail(s, err, fmt, ap);
    va_end(ap);
    return st;
}

void stw_sql_bind_text(sqlite3_stmt *q, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

void stw_sql_bind_int64(sqlite3_stmt *q, int i, int64_t v)
{
    sqlite3_bind_int64(q, i, v);
}

void stw_sql_bind_int64_or_null(sqlite3_stmt *q, int i, bool present, int64_t v)
{
    if (present)
        sqlite3_bind_int64(q, i, v);
    else
        sqlite3_bind_null(q, i);
}

void stw_sql_bind_blob(sqlite3_stmt *q, int i, const void *p, size_t n)
{
    if (n)
        sqlite3_bind_blob64(q, i, p, n, SQLITE_STATIC);
    else
        sqlite3_bind_zeroblob(q, i, 0);
}

stw_status stw_sql_step(stw_store *s, sqlite3_stmt *q, bool *row,
                        stw_error *err, const char *fmt, ...)
{
    int rc = sqlite3_step(q);
    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return STW_OK;
    va_list ap;
    va_start(ap, fmt);
    stw_status st = vfail(s, err, fmt, ap);
    va_end(ap);
    return st;
}

/* Steps q until it is done; the error names fmt. */
static stw_status vstep_all(stw_store *s, sqlite3_stmt *q, stw_error *err,
                            const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static stw_status vstep_all(stw_store *s, sqlite3_stmt *q, stw_error *err,
                            const char *fmt, va_list ap)
{
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        ;
    return rc == SQLITE_DONE ? STW_OK : vfail(s, err, fmt, ap);
}

stw_status stw_sql_run(stw_store *s, sqlite3_stmt *q, stw_error *err,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    stw_status st = vstep_all(s, q, err, fmt, ap);
    va_end(ap);
    stw_sql_reset(q);
    return st;
}

stw_status stw_sql_finish(stw_store *s, sqlite3_stmt *q, stw_error *err,
                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    stw_status st = vstep_all(s, q, err, fmt, ap);
    va_end(ap);
    sqlite3_finalize(q);
    return st;
}

void stw_sql_reset(sqlite3_stmt *q)
{
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
}

stw_status stw_sql_exec(stw_store *s, const char *sql, stw_error *err,
                        const char *fmt, ...)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK)
        return STW_OK;
    va_list ap;
    va_start(ap, fmt);
    stw_status st = vfail(s, err, fmt, ap);
    va_end(ap);
    return st;
}

stw_status stw_sql_one_int64(stw_store *s, const char *sql, int64_t *v,
                             stw_error *err, const char *fmt, ...)
{
    sqlite3_stmt *q = NULL;
    int rc = SQLITE_ERROR;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(q, 0);
    stw_status st = STW_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        va_list ap;
        va_start(ap, fmt);
        st = vfail(s, err, fmt, ap);
        va_end(ap);
    }
    sqlite3_finalize(q);
    return st;
}

stw_status stw_sql_one_text(stw_store *s, const char *sql, char **v,
                            stw_error *err, const char *fmt, ...)
{
    *v = NULL;
    sqlite3_stmt *q = NULL;
    int rc = SQLITE_ERROR;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) == SQLITE_OK)
        rc = sqlite3_step(q);
    stw_status st = STW_OK;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        *v = rc == SQLITE_ROW ? stw_sql_column_dup(q, 0) : stw_strdup("");
        if (!*v)
            st = stw_store_nomem(s, err);
    } else {
        va_list ap;
        va_start(ap, fmt);
        st = vfail(s, err, fmt, ap);
        va_end(ap);
    }
    sqlite3_finalize(q);
    return st;
}

char *stw_sql_column_dup(sqlite3_stmt *q, int i)
{
    const char *t = (const char *)sqlite3_column_text(q, i);
    return stw_strdup(t ? t : "");
}

stw_status stw_sql_collect(stw_store *s, sqlite3_stmt *q, void **arr, size_t *n,
                           size_t *cap, size_t elem, stw_sql_row_fn row,
                           stw_error *err, const char *fmt, ...)
{
    int rc = SQLITE_DONE;
    stw_status st = STW_OK;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (!stw_store_grow(arr, cap, *n, elem))
            return stw_store_nomem(s, err);
        st = row(s, q, (char *)*arr + (*n)++ * elem, err);
    }
    if (!st && rc != SQLITE_DONE) {
        va_list ap;
        va_start(ap, fmt);
        st = vfail(s, err, fmt, ap);
        va_end(ap);
    }
    return st;
}

stw_status stw_sql_begin_write(stw_store *s, stw_error *err)
{
    return stw_sql_exec(s, "BEGIN IMMEDIATE", err, "begin transaction");
}

stw_status stw_sql_end_write(stw_store *s, stw_status st, stw_error *err)
{
    if (!st)
        st = stw_sql_exec(s, "COMMIT", err, "commit");
    if (st)
        stw_sql_rollback(s);
    return st;
}

void stw_sql_rollback(stw_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

stw_status stw_sql_begin_read(stw_store *s, stw_error *err)
{
    return stw_sql_exec(s, "BEGIN", err, "begin read");
}

void stw_sql_end_read(stw_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

bool stw_store_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = stw_realloc(*arr, nc * elem);
    if (!p)
        return false;
    memset((char *)p + *cap * elem, 0, (nc - *cap) * elem);
    *arr = p;
    *cap = nc;
    return true;
}
