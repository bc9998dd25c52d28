/* bylayer.c - the leaking layers report (store.h, `report --by-layer`):
 * each layer blob with findings, and every latest image that includes it,
 * so one bad base layer in 400 images reads as one entry, not 400. */
#include "store_internal.h"

#include "common.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void stw_leak_report_destroy(stw_leak_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_layers; i++) {
        stw_leak_layer *l = &r->layers[i];
        free(l->digest);
        free(l->created_by);
        for (size_t k = 0; k < l->n_images; k++) {
            free(l->images[k].ref);
            free(l->images[k].platform);
            free(l->images[k].scanned_at);
        }
        free(l->images);
    }
    free(r->layers);
    free(r);
}

static int leak_cmp(const void *a, const void *b)
{
    const stw_leak_layer *x = a, *y = b;
    if (x->n_images != y->n_images)
        return x->n_images > y->n_images ? -1 : 1;
    if (x->max_severity != y->max_severity)
        return x->max_severity > y->max_severity ? -1 : 1;
    return strcmp(x->digest, y->digest);
}

/* Finds or adds the entry of digest (entries are few per report: a linear
 * search over the last one first is enough, rows come grouped). */
static stw_leak_layer *leak_layer(stw_leak_report *r, size_t *cap,
                                  const char *digest)
{
    if (r->n_layers && !strcmp(r->layers[r->n_layers - 1].digest, digest))
        return &r->layers[r->n_layers - 1];
    if (!stw_store_grow((void **)&r->layers, cap, r->n_layers,
                        sizeof *r->layers))
        return NULL;
    stw_leak_layer *l = &r->layers[r->n_layers];
    memset(l, 0, sizeof *l);
    if (!(l->digest = stw_strdup(digest)))
        return NULL;
    r->n_layers++;
    return l;
}

/* Adds the (layer, image) of q's current row (see leak_images) to r;
 * icap[i] is the image capacity of r->layers[i], grown along with the
 * layers (*icap_n entries). */
static stw_status leak_image_row(stw_store *s, sqlite3_stmt *q,
                                 stw_leak_report *r, size_t *cap, size_t **icap,
                                 size_t *icap_n, stw_error *err)
{
    stw_leak_layer *l =
        leak_layer(r, cap, (const char *)sqlite3_column_text(q, 0));
    if (l && *icap_n < *cap) {
        size_t *ni = stw_realloc(*icap, *cap * sizeof *ni);
        if (ni) {
            memset(ni + *icap_n, 0, (*cap - *icap_n) * sizeof *ni);
            *icap = ni;
            *icap_n = *cap;
        } else {
            l = NULL;
        }
    }
    if (!l || !stw_store_grow((void **)&l->images, &(*icap)[l - r->layers],
                              l->n_images, sizeof *l->images))
        return stw_store_nomem(s, err);
    stw_leak_image *im = &l->images[l->n_images++];
    im->ref = stw_sql_column_dup(q, 1);
    im->platform = stw_sql_column_dup(q, 2);
    im->scanned_at = stw_sql_column_dup(q, 3);
    im->layer_idx = sqlite3_column_int(q, 4);
    im->visible = sqlite3_column_int64(q, 6);
    im->hidden = sqlite3_column_int64(q, 7);
    l->visible += im->visible;
    l->hidden += im->hidden;
    if (!l->created_by)
        l->created_by = stw_sql_column_dup(q, 5);
    if (!im->ref || !im->platform || !im->scanned_at || !l->created_by)
        return stw_store_nomem(s, err);
    return STW_OK;
}

/* Fills r with the layers that have findings at or above min_severity in
 * the latest image of a ref matching glob, and those images. */
static stw_status leak_images(stw_store *s, const char *glob,
                              stw_severity min_severity, stw_leak_report *r,
                              stw_error *err)
{
    /* Per (layer, image): how many of the layer's findings at or above the
     * severity are visible and hidden there. Severity names are mapped to
     * their order in SQL so the threshold applies before grouping. */
    static const char sev_rank[] =
        "(CASE f.severity WHEN 'info' THEN 0 WHEN 'low' THEN 1 WHEN 'medium' "
        "THEN 2 WHEN 'high' THEN 3 WHEN 'critical' THEN 4 ELSE 0 END)";
    char sql[2048];
    snprintf(sql, sizeof sql,
             "WITH latest AS (SELECT i.id, i.ref, i.platform, i.scan_id FROM "
             "images i WHERE i.id = (SELECT MAX(j.id) FROM images j WHERE "
             "j.ref = i.ref AND j.platform = i.platform)) "
             "SELECT il.layer_digest, l.ref, l.platform, sc.started_at, "
             "il.idx, il.created_by, SUM(x.visible), SUM(1 - x.visible) "
             "FROM latest l JOIN image_layers il ON il.image_id = l.id "
             "JOIN image_findings x ON x.image_id = l.id AND x.layer_idx = "
             "il.idx JOIN findings f ON f.id = x.finding_id JOIN scans sc ON "
             "sc.id = l.scan_id WHERE %s >= ?1 GROUP BY il.layer_digest, "
             "l.id, il.idx ORDER BY il.layer_digest, sc.started_at DESC, "
             "l.ref, l.platform, il.idx",
             sev_rank);
    sqlite3_stmt *q = NULL;
    stw_status st = stw_sql_prepare(s, sql, &q, err, "read leaking layers");
    if (st)
        return st;
    stw_sql_bind_int64(q, 1, min_severity);
    size_t cap = 0;
    size_t *icap = NULL; /* image capacity per layer, parallel to layers */
    size_t icap_n = 0;
    bool row = false;
    while (!st &&
           !(st = stw_sql_step(s, q, &row, err, "read leaking layers")) &&
           row) {
        const char *ref = (const char *)sqlite3_column_text(q, 1);
        if (glob && fnmatch(glob, ref ? ref : "", 0) != 0)
            continue;
        st = leak_image_row(s, q, r, &cap, &icap, &icap_n, err);
    }
    sqlite3_finalize(q);
    free(icap);
    return st;
}

/* Counts the findings of l's blob at or above min_severity by severity,
 * for the headline. */
static stw_status leak_counts(stw_store *s, stw_leak_layer *l,
                              stw_severity min_severity, stw_error *err)
{
    sqlite3_stmt *q = NULL;
    stw_status st = stw_sql_prepare(
        s,
        "SELECT severity, COUNT(*) FROM findings WHERE blob_digest = ?1 AND "
        "in_config = 0 GROUP BY severity",
        &q, err, "count findings of %s", l->digest);
    if (st)
        return st;
    stw_sql_bind_text(q, 1, l->digest);
    bool row = false;
    while (!st &&
           !(st = stw_sql_step(s, q, &row, err, "count findings of %s",
                               l->digest)) &&
           row) {
        stw_severity sev;
        if (stw_severity_parse((const char *)sqlite3_column_text(q, 0), &sev) !=
                STW_OK ||
            sev < min_severity)
            continue;
        int64_t k = sqlite3_column_int64(q, 1);
        l->by_severity[sev] += k;
        l->findings += k;
        if (sev > l->max_severity)
            l->max_severity = sev;
    }
    sqlite3_finalize(q);
    return st;
}

stw_status stw_store_leaks_by_layer(stw_store *s, const char *image_glob,
                                    stw_severity min_severity,
                                    stw_leak_report **out, stw_error *err)
{
    if (!s || !out)
        return stw_fail(err, STW_ERR_USAGE, "leaks_by_layer: missing argument");
    *out = NULL;
    stw_leak_report *r = stw_calloc(1, sizeof *r);
    if (!r)
        return stw_store_nomem(s, err);
    stw_status st = stw_sql_begin_read(s, err);
    if (!st)
        st = leak_images(s, image_glob, min_severity, r, err);
    for (size_t i = 0; i < r->n_layers && !st; i++)
        st = leak_counts(s, &r->layers[i], min_severity, err);
    stw_sql_end_read(s);
    if (st) {
        stw_leak_report_destroy(r);
        return st;
    }
    if (r->n_layers)
        stw_sort(r->layers, r->n_layers, sizeof *r->layers, leak_cmp);
    *out = r;
    return STW_OK;
}
