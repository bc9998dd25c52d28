/* admin.c - looking after a store file (store.h): what it holds (`db
 * stats`) and removing old scans with whatever only they kept alive (`db
 * prune`). Run once per command, so their statements are prepared on
 * demand. */
#include "store_internal.h"

#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An unfinished scan that wrote nothing for this long was killed, not
 * slow: every layer read and image stored marks it active, and a registry
 * request has a deadline (limits.h), so a live scan writes far more often
 * than once a day. */
#define PRUNE_RUNNING_GRACE_S (24 * 3600)

/* Copies the text of a one-value query into txt (len bytes). */
static stw_status one_text(stw_store *s, const char *sql, char *txt, size_t len,
                           stw_error *err)
{
    char *v = NULL;
    stw_status st = stw_sql_one_text(s, sql, &v, err, "read statistics");
    if (!st)
        snprintf(txt, len, "%s", v);
    free(v);
    return st;
}

/* Adds the number of findings of each severity to by_severity. */
static stw_status count_by_severity(stw_store *s, int64_t *by_severity,
                                    stw_error *err)
{
    sqlite3_stmt *q = NULL;
    stw_status st = stw_sql_prepare(
        s, "SELECT severity, COUNT(*) FROM findings GROUP BY severity", &q, err,
        "count findings");
    bool row = false;
    while (!st && !(st = stw_sql_step(s, q, &row, err, "count findings")) &&
           row) {
        stw_severity sev;
        if (stw_severity_parse((const char *)sqlite3_column_text(q, 0), &sev) ==
            STW_OK)
            by_severity[sev] += sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    return st;
}

stw_status stw_store_stats_get(stw_store *s, stw_store_stats *out,
                               stw_error *err)
{
    memset(out, 0, sizeof *out);
    int64_t pages = 0, page_size = 0;
    struct {
        const char *sql;
        int64_t *v;
    } ints[] = {
        {"SELECT COUNT(*) FROM scans", &out->scans},
        {"SELECT COUNT(*) FROM images", &out->images},
        {"SELECT COUNT(DISTINCT ref) FROM images", &out->image_refs},
        {"SELECT COUNT(*) FROM layers", &out->layers},
        {"SELECT COUNT(*) FROM findings", &out->findings},
        {"PRAGMA page_count", &pages},
        {"PRAGMA page_size", &page_size},
    };
    stw_status st = stw_sql_begin_read(s, err);
    for (size_t i = 0; !st && i < STW_ARRAY_LEN(ints); i++)
        st = stw_sql_one_int64(s, ints[i].sql, ints[i].v, err,
                               "read statistics");
    if (!st)
        st = one_text(s, "SELECT MIN(started_at) FROM scans", out->first_scan,
                      sizeof out->first_scan, err);
    if (!st)
        st = one_text(s, "SELECT MAX(started_at) FROM scans", out->last_scan,
                      sizeof out->last_scan, err);
    if (!st)
        st = count_by_severity(s, out->by_severity, err);
    stw_sql_end_read(s);
    out->bytes = pages * page_size;
    return st;
}

stw_status stw_store_prune(stw_store *s, int64_t older_than_s, bool vacuum,
                           stw_prune_counts *out, stw_error *err)
{
    stw_prune_counts c = {0};
    if (older_than_s < 0)
        return stw_fail(err, STW_ERR_USAGE, "prune: negative age");
    char mod[64], grace[64];
    snprintf(mod, sizeof mod, "-%lld seconds", (long long)older_than_s);
    snprintf(grace, sizeof grace, "-%d seconds", PRUNE_RUNNING_GRACE_S);
    /* Deleting a scan cascades to its images, their layer lists and
     * finding links, its errors and its hold on layers (foreign_keys is
     * on). A scan that has not ended is running unless it has written
     * nothing for PRUNE_RUNNING_GRACE_S: it keeps its row and the layers
     * it holds, which its image will refer to once stored. */
    static const char *const steps[] = {
        "DELETE FROM scans WHERE started_at < strftime('%Y-%m-%dT%H:%M:%fZ', "
        "'now', ?1) AND (finished_at IS NOT NULL OR COALESCE(active_at, "
        "started_at) < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?2))",
        "DELETE FROM layers WHERE digest NOT IN (SELECT layer_digest FROM "
        "image_layers) AND digest NOT IN (SELECT layer_digest FROM "
        "deferred_image_layers) AND digest NOT IN (SELECT layer_digest FROM "
        "scan_layers)",
        "DELETE FROM findings WHERE (in_config = 0 AND blob_digest NOT IN "
        "(SELECT digest FROM layers)) OR (in_config = 1 AND blob_digest NOT "
        "IN (SELECT config_digest FROM images) AND blob_digest NOT IN "
        "(SELECT config_digest FROM deferred_images))",
        /* Archives inside layers are a cache by content: an entry older
         * than the cut-off costs at most one inflate when its jar is met
         * again (their findings go with them, ON DELETE CASCADE). */
        ("DELETE FROM archives WHERE scanned_at < "
         "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?1)"),
    };
    int64_t archives = 0;
    int64_t *counts[] = {&c.scans, &c.layers, &c.findings, &archives};
    int64_t images_before = 0, images_after = 0;
    stw_status st = stw_sql_begin_write(s, err);
    if (!st)
        st = stw_sql_one_int64(s, "SELECT COUNT(*) FROM images", &images_before,
                               err, "count images");
    for (size_t i = 0; !st && i < STW_ARRAY_LEN(steps); i++) {
        sqlite3_stmt *q = NULL;
        st = stw_sql_prepare(s, steps[i], &q, err, "prune");
        if (st)
            break;
        if (i == 0) {
            stw_sql_bind_text(q, 1, mod);
            stw_sql_bind_text(q, 2, grace);
        } else if (i == 3) {
            stw_sql_bind_text(q, 1, mod);
        }
        st = stw_sql_finish(s, q, err, "prune");
        if (!st)
            *counts[i] = sqlite3_changes(s->db);
    }
    if (!st)
        st = stw_sql_one_int64(s, "SELECT COUNT(*) FROM images", &images_after,
                               err, "count images");
    st = stw_sql_end_write(s, st, err);
    if (st)
        return st;
    c.images = images_before - images_after;
    if (vacuum) {
        st = stw_sql_exec(s, "VACUUM", err, "vacuum");
        if (!st)
            st = stw_sql_exec(s, "PRAGMA wal_checkpoint(TRUNCATE)", err,
                              "checkpoint");
    }
    if (out)
        *out = c;
    return st;
}
