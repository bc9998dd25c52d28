/* read.c - reading results back from the store (store.h) as stw_results:
 * one scan whole, or the latest image of every ref and platform. Each is
 * one read transaction, so a writer in another process cannot slip an
 * image in between the queries. */
#include "store_internal.h"

#include "common.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>

static stw_status layer_row(stw_store *s, sqlite3_stmt *q, void *elem,
                            stw_error *err)
{
    stw_rlayer *l = elem;
    l->digest = stw_sql_column_dup(q, 0);
    l->diff_id = stw_sql_column_dup(q, 1);
    l->media_type = stw_sql_column_dup(q, 2);
    l->created_by = stw_sql_column_dup(q, 3);
    l->size = sqlite3_column_int64(q, 4);
    l->cached = sqlite3_column_int(q, 5) != 0;
    l->diff_id_verified = sqlite3_column_int(q, 6) != 0;
    if (!l->digest || !l->diff_id || !l->media_type || !l->created_by)
        return stw_store_nomem(s, err);
    return STW_OK;
}

/* Runs the statement prepared at open as q_index for one id (bound as
 * ?1), appending a row-filled element per row to *arr (see
 * stw_sql_collect); what names the rows in a message ("layers of image"). */
static stw_status collect_by_id(stw_store *s, int q_index, int64_t id,
                                void **arr, size_t *n, size_t *cap, size_t elem,
                                stw_sql_row_fn row, const char *what,
                                stw_error *err)
{
    sqlite3_stmt *q = s->q[q_index];
    stw_sql_bind_int64(q, 1, id);
    stw_status st = stw_sql_collect(s, q, arr, n, cap, elem, row, err,
                                    "read %s %lld", what, (long long)id);
    stw_sql_reset(q);
    return st;
}

static stw_status load_layers(stw_store *s, int64_t image_id, stw_rimage *im,
                              stw_error *err)
{
    size_t cap = 0;
    return collect_by_id(s, Q_LOAD_LAYERS, image_id, (void **)&im->layers,
                         &im->n_layers, &cap, sizeof *im->layers, layer_row,
                         "layers of image", err);
}

/* Copies the finding of q's current row (see Q_LOAD_FINDINGS). */
static stw_status finding_row(stw_store *s, sqlite3_stmt *q, void *elem,
                              stw_error *err)
{
    stw_rfinding *f = elem;
    f->layer = sqlite3_column_type(q, 0) == SQLITE_NULL
                   ? -1
                   : sqlite3_column_int(q, 0);
    f->layer_digest = stw_sql_column_dup(q, 1);
    f->path = stw_sql_column_dup(q, 2);
    f->rule = stw_sql_column_dup(q, 4);
    f->line = sqlite3_column_int64(q, 6);
    f->offset = sqlite3_column_type(q, 7) == SQLITE_NULL
                    ? -1
                    : sqlite3_column_int64(q, 7);
    f->visible = sqlite3_column_int(q, 8) != 0;
    f->removed_in_layer = sqlite3_column_type(q, 9) == SQLITE_NULL
                              ? -1
                              : sqlite3_column_int(q, 9);
    f->has_mode = sqlite3_column_type(q, 10) != SQLITE_NULL;
    f->mode = (uint32_t)sqlite3_column_int64(q, 10);
    f->uid = sqlite3_column_int64(q, 11);
    f->gid = sqlite3_column_int64(q, 12);
    f->validated = sqlite3_column_int(q, 13) != 0;
    f->fingerprint = stw_sql_column_dup(q, 14);
    f->secret_sha256 = stw_sql_column_dup(q, 15);
    f->excerpt = stw_sql_column_dup(q, 16);
    f->detail = stw_sql_column_dup(q, 17);
    if (!f->layer_digest || !f->path || !f->rule || !f->fingerprint ||
        !f->secret_sha256 || !f->excerpt || !f->detail)
        return stw_store_nomem(s, err);
    const char *gs = (const char *)sqlite3_column_text(q, 18);
    if (gs) {
        if (stw_git_source_parse(gs, &f->git_source) != STW_OK)
            return stw_fail(err, STW_ERR_DB,
                            "%s: finding %s has unknown git source '%s'",
                            s->name, f->rule, gs);
        f->git_commit = stw_sql_column_dup(q, 19);
        f->git_path = stw_sql_column_dup(q, 20);
        if (!f->git_commit || !f->git_path)
            return stw_store_nomem(s, err);
        f->git_reachable = sqlite3_column_int(q, 21) != 0;
        f->git_in_worktree = sqlite3_column_int(q, 22) != 0;
    }
    f->in_history = sqlite3_column_int(q, 23) != 0;
    const char *kind = (const char *)sqlite3_column_text(q, 3);
    const char *sev = (const char *)sqlite3_column_text(q, 5);
    if (stw_kind_parse(kind, &f->kind) != STW_OK ||
        stw_severity_parse(sev, &f->severity) != STW_OK)
        return stw_fail(err, STW_ERR_DB,
                        "%s: finding %s in %s has unknown kind '%s' or "
                        "severity '%s'",
                        s->name, f->rule, f->layer_digest, kind ? kind : "",
                        sev ? sev : "");
    return STW_OK;
}

/* Appends the findings of image (index into r->images; row image_id) to
 * r; *cap is the room of r->findings. */
static stw_status load_findings(stw_store *s, int64_t image_id, size_t image,
                                stw_results *r, size_t *cap, stw_error *err)
{
    size_t first = r->n_findings;
    stw_status st = collect_by_id(
        s, Q_LOAD_FINDINGS, image_id, (void **)&r->findings, &r->n_findings,
        cap, sizeof *r->findings, finding_row, "findings of image", err);
    for (size_t i = first; i < r->n_findings; i++)
        r->findings[i].image = image;
    return st;
}

/* Appends the image of the current row (id, ref, manifest digest, config
 * digest, platform) to r and its id to *ids. */
static stw_status append_image_row(stw_store *s, sqlite3_stmt *q,
                                   stw_results *r, int64_t **ids, size_t *cap,
                                   size_t *idcap, stw_error *err)
{
    if (!stw_store_grow((void **)&r->images, cap, r->n_images,
                        sizeof *r->images) ||
        !stw_store_grow((void **)ids, idcap, r->n_images, sizeof **ids))
        return stw_store_nomem(s, err);
    (*ids)[r->n_images] = sqlite3_column_int64(q, 0);
    stw_rimage *im = &r->images[r->n_images++];
    im->ref = stw_sql_column_dup(q, 1);
    im->manifest_digest = stw_sql_column_dup(q, 2);
    im->config_digest = stw_sql_column_dup(q, 3);
    im->platform = stw_sql_column_dup(q, 4);
    if (!im->ref || !im->manifest_digest || !im->config_digest || !im->platform)
        return stw_store_nomem(s, err);
    return STW_OK;
}

/* Appends every image q returns (rows as append_image_row reads them) whose
 * ref matches glob (fnmatch; NULL: all) to r, and their ids to *ids. what
 * names the query in an error. */
static stw_status append_images(stw_store *s, sqlite3_stmt *q, const char *glob,
                                stw_results *r, int64_t **ids, const char *what,
                                stw_error *err)
{
    size_t cap = 0, idcap = 0;
    stw_status st = STW_OK;
    bool row = false;
    while (!st && !(st = stw_sql_step(s, q, &row, err, "%s", what)) && row) {
        const char *ref = (const char *)sqlite3_column_text(q, 1);
        if (glob && fnmatch(glob, ref ? ref : "", 0) != 0)
            continue;
        st = append_image_row(s, q, r, ids, &cap, &idcap, err);
    }
    return st;
}

/* Reads the layers and findings of every image of r (ids[i] is the row id
 * of r->images[i]). */
static stw_status load_image_contents(stw_store *s, stw_results *r,
                                      const int64_t *ids, stw_error *err)
{
    size_t fcap = 0;
    stw_status st = STW_OK;
    for (size_t i = 0; i < r->n_images && !st; i++) {
        st = load_layers(s, ids[i], &r->images[i], err);
        if (!st)
            st = load_findings(s, ids[i], i, r, &fcap, err);
    }
    return st;
}

static stw_status error_row(stw_store *s, sqlite3_stmt *q, void *elem,
                            stw_error *err)
{
    stw_rerror *e = elem;
    e->target = stw_sql_column_dup(q, 0);
    e->message = stw_sql_column_dup(q, 1);
    if (!e->target || !e->message)
        return stw_store_nomem(s, err);
    return STW_OK;
}

static stw_status load_errors(stw_store *s, int64_t scan_id, stw_results *r,
                              stw_error *err)
{
    size_t cap = 0;
    return collect_by_id(s, Q_LOAD_ERRORS, scan_id, (void **)&r->errors,
                         &r->n_errors, &cap, sizeof *r->errors, error_row,
                         "errors of scan", err);
}

/* Reads the scan row and the layer counts. */
static stw_status load_summary(stw_store *s, int64_t scan_id, stw_results *r,
                               stw_error *err)
{
    sqlite3_stmt *q = s->q[Q_LOAD_SCAN];
    stw_sql_bind_int64(q, 1, scan_id);
    bool row = false;
    stw_status st =
        stw_sql_step(s, q, &row, err, "read scan %lld", (long long)scan_id);
    if (!st && !row)
        st = stw_fail(err, STW_ERR_NOT_FOUND, "%s: no scan %lld", s->name,
                      (long long)scan_id);
    else if (!st && !(r->rules_version = stw_sql_column_dup(q, 0)))
        st = stw_store_nomem(s, err);
    stw_sql_reset(q);
    if (st)
        return st;

    q = s->q[Q_LOAD_COUNTS];
    stw_sql_bind_int64(q, 1, scan_id);
    st = stw_sql_step(s, q, &row, err, "count layers of scan %lld",
                      (long long)scan_id);
    if (!st && row) {
        r->layers_scanned = (uint64_t)sqlite3_column_int64(q, 0);
        r->layers_cached = (uint64_t)sqlite3_column_int64(q, 1);
    }
    stw_sql_reset(q);
    return st;
}

/* Ends the read transaction and hands r to *out, or frees it when st is an
 * error; ids is freed either way. Returns st. */
static stw_status end_load(stw_store *s, stw_status st, stw_results *r,
                           int64_t *ids, stw_results **out)
{
    stw_sql_end_read(s);
    free(ids);
    if (st) {
        stw_results_destroy(r);
        return st;
    }
    *out = r;
    return STW_OK;
}

stw_status stw_store_load_scan(stw_store *s, int64_t scan_id, stw_results **out,
                               stw_error *err)
{
    if (!s || !out)
        return stw_fail(err, STW_ERR_USAGE, "load_scan: missing argument");
    *out = NULL;
    stw_results *r = stw_calloc(1, sizeof *r);
    if (!r)
        return stw_store_nomem(s, err);
    int64_t *ids = NULL;

    stw_status st = stw_sql_begin_read(s, err);
    if (!st)
        st = load_summary(s, scan_id, r, err);
    if (!st) {
        char what[64];
        snprintf(what, sizeof what, "read images of scan %lld",
                 (long long)scan_id);
        sqlite3_stmt *q = s->q[Q_LOAD_IMAGES];
        stw_sql_bind_int64(q, 1, scan_id);
        st = append_images(s, q, NULL, r, &ids, what, err);
        stw_sql_reset(q);
    }
    if (!st)
        st = load_image_contents(s, r, ids, err);
    if (!st)
        st = load_errors(s, scan_id, r, err);
    return end_load(s, st, r, ids, out);
}

stw_status stw_store_load_latest(stw_store *s, const char *image_glob,
                                 stw_results **out, stw_error *err)
{
    if (!s || !out)
        return stw_fail(err, STW_ERR_USAGE, "load_latest: missing argument");
    *out = NULL;
    stw_results *r = stw_calloc(1, sizeof *r);
    if (!r)
        return stw_store_nomem(s, err);
    int64_t *ids = NULL;
    stw_status st = stw_sql_begin_read(s, err);
    if (!st)
        st = stw_sql_one_text(
            s, "SELECT rules_version FROM scans ORDER BY id DESC LIMIT 1",
            &r->rules_version, err, "read rules version");
    /* The newest image row of each (ref, platform): a rescan adds rows. */
    sqlite3_stmt *q = NULL;
    if (!st)
        st = stw_sql_prepare(
            s,
            "SELECT i.id, i.ref, i.manifest_digest, i.config_digest, "
            "i.platform FROM images i WHERE i.id = (SELECT MAX(j.id) FROM "
            "images j WHERE j.ref = i.ref AND j.platform = i.platform) ORDER "
            "BY i.ref, i.platform",
            &q, err, "read latest images");
    if (!st) {
        st =
            append_images(s, q, image_glob, r, &ids, "read latest images", err);
        sqlite3_finalize(q);
    }
    if (!st)
        st = load_image_contents(s, r, ids, err);
    return end_load(s, st, r, ids, out);
}
