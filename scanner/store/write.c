/* write.c - writing to the store (store.h): scans and their errors, layers
 * with their findings keyed by blob digest, and images with the visibility
 * of every finding of their layers - or, in shard mode, the images a shard
 * owns, deferred until a merge brings all their layers together. */
#include "store_internal.h"

#include "common.h"
#include "limits.h"
#include "pathset.h"
#include "sha256.h"
#include "shard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_PATH "<config>"

/* A layer's pathset, copied out of its row while an image is stored. */
typedef struct layer_pathset {
    void *blob;
    size_t len;
} layer_pathset;

/* ---- scans and errors --------------------------------------------------- */

stw_status stw_store_begin_scan(stw_store *s, const char *tool_version,
                                const char *rules_version, const char *args,
                                int64_t *scan_id, stw_error *err)
{
    if (!s || !scan_id)
        return stw_fail(err, STW_ERR_USAGE, "begin_scan: missing argument");
    sqlite3_stmt *q = s->q[Q_SCAN_INSERT];
    stw_sql_bind_text(q, 1, stw_sql_or_empty(tool_version));
    stw_sql_bind_text(q, 2, stw_sql_or_empty(rules_version));
    stw_sql_bind_text(q, 3, stw_sql_or_empty(args));
    stw_status st = stw_sql_run(s, q, err, "begin scan");
    if (!st)
        s->active_scan = *scan_id = sqlite3_last_insert_rowid(s->db);
    return st;
}

/* Inside a write transaction: scan_id (0: none) is alive now, and holds
 * layer digest (NULL: none) until it ends, so `db prune` leaves both. */
static stw_status hold_for_scan(stw_store *s, int64_t scan_id,
                                const char *digest, stw_error *err)
{
    if (!scan_id)
        return STW_OK;
    sqlite3_stmt *q = s->q[Q_SCAN_TOUCH];
    stw_sql_bind_int64(q, 1, scan_id);
    stw_status st = stw_sql_run(s, q, err, "record scan activity");
    if (st || !digest)
        return st;
    q = s->q[Q_LAYER_HOLD];
    stw_sql_bind_int64(q, 1, scan_id);
    stw_sql_bind_text(q, 2, digest);
    return stw_sql_run(s, q, err, "hold layer %.100s", digest);
}

stw_status stw_store_end_scan(stw_store *s, int64_t scan_id, stw_error *err)
{
    if (!s)
        return stw_fail(err, STW_ERR_USAGE, "end_scan: store is NULL");
    /* Its images now refer to what it needs: the hold on its layers goes
     * with the scan's end, in one transaction. */
    stw_status st = stw_sql_begin_write(s, err);
    if (st)
        return st;
    sqlite3_stmt *q = s->q[Q_SCAN_END];
    stw_sql_bind_int64(q, 1, scan_id);
    st = stw_sql_run(s, q, err, "end scan");
    if (!st && sqlite3_changes(s->db) == 0)
        st = stw_fail(err, STW_ERR_NOT_FOUND, "%s: no scan %lld", s->name,
                      (long long)scan_id);
    if (!st) {
        q = s->q[Q_SCAN_RELEASE];
        stw_sql_bind_int64(q, 1, scan_id);
        st = stw_sql_run(s, q, err, "end scan");
    }
    st = stw_sql_end_write(s, st, err);
    if (!st && s->active_scan == scan_id)
        s->active_scan = 0;
    return st;
}

stw_status stw_store_put_error(stw_store *s, int64_t scan_id,
                               const char *target, const char *message,
                               stw_error *err)
{
    if (!s)
        return stw_fail(err, STW_ERR_USAGE, "put_error: store is NULL");
    sqlite3_stmt *q = s->q[Q_ERROR_INSERT];
    stw_sql_bind_int64(q, 1, scan_id);
    stw_sql_bind_text(q, 2, stw_sql_or_empty(target));
    stw_sql_bind_text(q, 3, stw_sql_or_empty(message));
    return stw_sql_run(s, q, err, "record error");
}

/* ---- layers and findings ------------------------------------------------ */

/* Is digest stored, scanned with rules_version? When it is and diff_id is
 * not NULL, copies its diff_id there if it was computed from the layer's
 * bytes, else "": an unverified diff_id is never handed out. */
static stw_status layer_present(stw_store *s, const char *digest,
                                const char *rules_version, bool *row,
                                char *diff_id, stw_error *err)
{
    sqlite3_stmt *q = s->q[Q_LAYER_CACHED];
    stw_sql_bind_text(q, 1, digest);
    stw_sql_bind_text(q, 2, rules_version);
    stw_status st = stw_sql_step(s, q, row, err, "look up layer %s", digest);
    if (diff_id) {
        const char *d =
            !st && *row ? (const char *)sqlite3_column_text(q, 0) : NULL;
        snprintf(diff_id, STW_DIGEST_STR, "%s",
                 d && stw_sha256_digest_valid(d) ? d : "");
    }
    stw_sql_reset(q);
    return st;
}

stw_status stw_store_layer_lookup(stw_store *s, const char *digest,
                                  const char *rules_version, bool *cached,
                                  char *diff_id, stw_error *err)
{
    if (!s || !digest || !rules_version || !cached)
        return stw_fail(err, STW_ERR_USAGE, "layer_cached: missing argument");
    *cached = false;
    bool row = false;
    stw_status st = layer_present(s, digest, rules_version, &row, diff_id, err);
    if (st || !row || !s->active_scan) {
        *cached = row;
        return st;
    }
    /* A hit is used only when the image is stored, at the end of the
     * scan: look again under the write lock and hold the layer for the
     * scan, so that a `db prune` in between cannot take it. */
    st = stw_sql_begin_write(s, err);
    if (st)
        return st;
    st = layer_present(s, digest, rules_version, &row, diff_id, err);
    if (!st && row)
        st = hold_for_scan(s, s->active_scan, digest, err);
    st = stw_sql_end_write(s, st, err);
    *cached = !st && row;
    return st;
}

stw_status stw_store_layer_cached(stw_store *s, const char *digest,
                                  const char *rules_version, bool *cached,
                                  stw_error *err)
{
    return stw_store_layer_lookup(s, digest, rules_version, cached, NULL, err);
}

/* Upserts one finding of blob and marks its row as kept. */
static stw_status upsert_finding(stw_store *s, const char *blob, bool in_config,
                                 const stw_finding *f, stw_error *err)
{
    stw_finding c = *f;
    if (in_config)
        c.path = CONFIG_PATH;
    if (!c.path || !c.rule || (unsigned)c.kind >= STW_KIND_COUNT_ ||
        (unsigned)c.severity >= STW_SEV_COUNT_)
        return stw_fail(err, STW_ERR_USAGE,
                        "%s: finding in %s without path or rule, or with an "
                        "unknown kind or severity",
                        s->name, blob);
    char fp[33];
    stw_finding_fingerprint(&c, blob, fp);
    if (!fp[0])
        return stw_store_nomem(s, err);

    sqlite3_stmt *q = s->q[Q_FINDING_UPSERT];
    stw_sql_bind_text(q, 1, blob);
    stw_sql_bind_int64(q, 2, in_config);
    stw_sql_bind_text(q, 3, c.path);
    stw_sql_bind_int64(q, 4, c.is_dir);
    stw_sql_bind_text(q, 5, stw_kind_str(c.kind));
    stw_sql_bind_text(q, 6, c.rule);
    stw_sql_bind_text(q, 7, stw_severity_str(c.severity));
    stw_sql_bind_int64_or_null(q, 8, c.line > 0, c.line);
    stw_sql_bind_int64_or_null(q, 9, c.offset >= 0, c.offset);
    stw_sql_bind_int64_or_null(q, 10, c.has_mode, c.mode);
    stw_sql_bind_int64_or_null(q, 11, c.has_mode, c.uid);
    stw_sql_bind_int64_or_null(q, 12, c.has_mode, c.gid);
    stw_sql_bind_int64(q, 13, c.validated);
    stw_sql_bind_text(q, 14, fp);
    stw_sql_bind_text(q, 15, c.secret_sha256);
    stw_sql_bind_text(q, 16, c.excerpt);
    stw_sql_bind_text(q, 17, stw_sql_or_empty(c.detail));
    bool git = c.git.source != STW_GIT_NONE;
    stw_sql_bind_text(q, 18, git ? stw_git_source_str(c.git.source) : NULL);
    stw_sql_bind_text(q, 19, git ? c.git.commit : NULL);
    stw_sql_bind_text(q, 20, git ? stw_sql_or_empty(c.git.path) : NULL);
    stw_sql_bind_int64_or_null(q, 21, git, c.git.reachable);
    stw_sql_bind_int64_or_null(q, 22, git, c.git.in_worktree);
    stw_sql_bind_int64(q, 23, c.in_history);
    bool row = false;
    stw_status st =
        stw_sql_step(s, q, &row, err, "store finding %s in %s", c.rule, blob);
    int64_t id = row ? sqlite3_column_int64(q, 0) : 0;
    stw_sql_reset(q);
    if (st || !row) /* no row: a duplicate fingerprint, dropped */
        return st;

    q = s->q[Q_KEEP_INSERT];
    stw_sql_bind_int64(q, 1, id);
    return stw_sql_run(s, q, err, "mark finding");
}

/* Replaces the stored findings of one blob (layer findings, or config
 * findings when in_config) by list, keeping the ids of findings whose
 * fingerprint is unchanged. Runs inside the caller's transaction. */
static stw_status replace_findings(stw_store *s, const char *blob,
                                   bool in_config, const stw_finding_list *l,
                                   stw_error *err)
{
    stw_status st = stw_sql_run(s, s->q[Q_KEEP_CLEAR], err, "clear marks");
    size_t n = l ? stw_finding_list_count(l) : 0;
    for (size_t i = 0; i < n && !st; i++)
        st =
            upsert_finding(s, blob, in_config, stw_finding_list_get(l, i), err);
    if (!st) {
        sqlite3_stmt *q = s->q[Q_FINDING_PRUNE];
        stw_sql_bind_text(q, 1, blob);
        stw_sql_bind_int64(q, 2, in_config);
        st = stw_sql_run(s, q, err, "remove old findings");
    }
    if (!st)
        st = stw_sql_run(s, s->q[Q_KEEP_CLEAR], err, "clear marks");
    return st;
}

stw_status stw_store_put_layer(stw_store *s, const stw_layer_record *layer,
                               const stw_finding_list *findings, stw_error *err)
{
    if (!s || !layer || !layer->digest || !layer->rules_version ||
        (!layer->pathset && layer->pathset_len))
        return stw_fail(err, STW_ERR_USAGE,
                        "put_layer: missing digest, rules version or pathset");

    stw_status st = stw_sql_begin_write(s, err);
    if (st)
        return st;
    sqlite3_stmt *q = s->q[Q_LAYER_UPSERT];
    stw_sql_bind_text(q, 1, layer->digest);
    stw_sql_bind_text(q, 2, stw_sql_or_empty(layer->diff_id));
    stw_sql_bind_text(q, 3, stw_sql_or_empty(layer->media_type));
    stw_sql_bind_int64(q, 4, layer->size);
    stw_sql_bind_int64(q, 5, layer->uncompressed);
    stw_sql_bind_int64(q, 6, layer->entries);
    stw_sql_bind_blob(q, 7, layer->pathset, layer->pathset_len);
    stw_sql_bind_text(q, 8, layer->rules_version);
    stw_sql_bind_int64(q, 9, layer->diff_id && *layer->diff_id);
    st = stw_sql_run(s, q, err, "store layer %.100s", layer->digest);
    if (!st)
        st = replace_findings(s, layer->digest, false, findings, err);
    if (!st)
        st = stw_store_put_layer_extras_tx(s, layer, findings, err);
    if (!st)
        st = hold_for_scan(s, s->active_scan, layer->digest, err);
    return stw_sql_end_write(s, st, err);
}

/* ---- images ------------------------------------------------------------- */

static stw_status load_pathset(stw_store *s, const char *digest,
                               const char *ref, layer_pathset *out,
                               stw_error *err)
{
    sqlite3_stmt *q = s->q[Q_LAYER_PATHSET];
    stw_sql_bind_text(q, 1, digest);
    bool row = false;
    stw_status st = stw_sql_step(s, q, &row, err, "read pathset of %s", digest);
    if (!st && !row) {
        st = stw_fail(err, STW_ERR_NOT_FOUND,
                      "%s: image %s: layer %s was never stored", s->name, ref,
                      digest);
    } else if (!st) {
        const void *b = sqlite3_column_blob(q, 0);
        size_t n = (size_t)sqlite3_column_bytes(q, 0);
        if (b && n) {
            if (!(out->blob = stw_malloc(n))) {
                st = stw_store_nomem(s, err);
            } else {
                memcpy(out->blob, b, n);
                out->len = n;
            }
        }
    }
    stw_sql_reset(q);
    return st;
}

static stw_status link_finding(stw_store *s, int64_t image_id,
                               int64_t finding_id, int layer_idx, bool visible,
                               int removed_in, stw_error *err)
{
    sqlite3_stmt *q = s->q[Q_IMAGE_FINDING_INSERT];
    stw_sql_bind_int64(q, 1, image_id);
    stw_sql_bind_int64(q, 2, finding_id);
    stw_sql_bind_int64_or_null(q, 3, layer_idx >= 0, layer_idx);
    stw_sql_bind_int64(q, 4, visible);
    stw_sql_bind_int64_or_null(q, 5, removed_in >= 0, removed_in);
    return stw_sql_run(s, q, err, "store image finding");
}

/* Links every finding of one blob to the image. For a layer at index idx
 * (idx < 0: config, always visible) a finding is hidden by the first later
 * layer whose pathset deletes or replaces its path. */
static stw_status link_blob_findings(stw_store *s, int64_t image_id,
                                     const char *blob, int idx,
                                     const layer_pathset *ps, size_t n_layers,
                                     stw_error *err)
{
    sqlite3_stmt *q = s->q[Q_BLOB_FINDINGS];
    stw_sql_bind_text(q, 1, blob);
    stw_sql_bind_int64(q, 2, idx < 0);
    stw_status st = STW_OK;
    bool row = false;
    while (!st &&
           !(st = stw_sql_step(s, q, &row, err, "read findings of %s", blob)) &&
           row) {
        int64_t fid = sqlite3_column_int64(q, 0);
        const char *path = (const char *)sqlite3_column_text(q, 1);
        bool is_dir = sqlite3_column_int(q, 2) != 0;
        int removed = -1;
        for (size_t j = (size_t)idx + 1; idx >= 0 && j < n_layers && path;
             j++) {
            if (ps[j].len &&
                stw_pathset_hides(ps[j].blob, ps[j].len, path, is_dir)) {
                removed = (int)j;
                break;
            }
        }
        st = link_finding(s, image_id, fid, idx, removed < 0, removed, err);
    }
    stw_sql_reset(q);
    return st;
}

/* Binds the image columns shared by images and deferred_images: scan_id,
 * ref, manifest_digest, config_digest, platform, position (?1 to ?6). */
static void bind_image(sqlite3_stmt *q, int64_t scan_id,
                       const stw_image_record *img, int64_t position)
{
    stw_sql_bind_int64(q, 1, scan_id);
    stw_sql_bind_text(q, 2, img->ref);
    stw_sql_bind_text(q, 3, stw_sql_or_empty(img->manifest_digest));
    stw_sql_bind_text(q, 4, img->config_digest);
    stw_sql_bind_text(q, 5, stw_sql_or_empty(img->platform));
    stw_sql_bind_int64(q, 6, position);
}

/* Binds the columns shared by image_layers and deferred_image_layers:
 * image_id, idx, layer_digest, created_by, cached, diff_id (?1 to ?6). */
static void bind_image_layer(sqlite3_stmt *q, int64_t image_id, size_t idx,
                             const stw_image_layer *l)
{
    stw_sql_bind_int64(q, 1, image_id);
    stw_sql_bind_int64(q, 2, (int64_t)idx);
    stw_sql_bind_text(q, 3, l->digest);
    stw_sql_bind_text(q, 4, stw_sql_or_empty(l->created_by));
    stw_sql_bind_int64(q, 5, l->cached);
    stw_sql_bind_text(q, 6, l->diff_id && *l->diff_id ? l->diff_id : NULL);
}

/* Sets *position to the one after the last image of scan_id, as q
 * (SELECT COALESCE(MAX(position) + 1, 0) ... WHERE scan_id = ?1) counts
 * them in its table. */
static stw_status next_position(stw_store *s, sqlite3_stmt *q, int64_t scan_id,
                                const char *ref, int64_t *position,
                                stw_error *err)
{
    stw_sql_bind_int64(q, 1, scan_id);
    bool row = false;
    stw_status st = stw_sql_step(s, q, &row, err, "image %s: position", ref);
    *position = row ? sqlite3_column_int64(q, 0) : 0;
    stw_sql_reset(q);
    return st;
}

/* The rows of stw_store_put_image_tx, with ps (one per layer) to fill. */
static stw_status put_image_rows(stw_store *s, int64_t scan_id,
                                 const stw_image_record *img,
                                 const stw_finding_list *config_findings,
                                 bool config_stored, int64_t position,
                                 layer_pathset *ps, int64_t *image_id,
                                 stw_error *err)
{
    stw_status st = STW_OK;
    for (size_t i = 0; i < img->n_layers && !st; i++)
        st = load_pathset(s, img->layers[i].digest, img->ref, &ps[i], err);
    if (st)
        return st;

    if (position < 0)
        st = next_position(s, s->q[Q_IMAGE_POSITION], scan_id, img->ref,
                           &position, err);
    if (st)
        return st;

    sqlite3_stmt *q = s->q[Q_IMAGE_INSERT];
    bind_image(q, scan_id, img, position);
    st = stw_sql_run(s, q, err, "store image %.100s of scan %lld", img->ref,
                     (long long)scan_id);
    if (st)
        return st;
    int64_t id = sqlite3_last_insert_rowid(s->db);

    q = s->q[Q_IMAGE_LAYER_INSERT];
    for (size_t i = 0; i < img->n_layers && !st; i++) {
        bind_image_layer(q, id, i, &img->layers[i]);
        st = stw_sql_run(s, q, err, "store image layer");
    }
    if (!st && !config_stored)
        st =
            replace_findings(s, img->config_digest, true, config_findings, err);
    if (!st)
        st = link_blob_findings(s, id, img->config_digest, -1, ps,
                                img->n_layers, err);
    for (size_t i = 0; i < img->n_layers && !st; i++)
        st = link_blob_findings(s, id, img->layers[i].digest, (int)i, ps,
                                img->n_layers, err);
    if (!st)
        *image_id = id;
    return st;
}

stw_status stw_store_put_image_tx(stw_store *s, int64_t scan_id,
                                  const stw_image_record *img,
                                  const stw_finding_list *config_findings,
                                  bool config_stored, int64_t position,
                                  int64_t *image_id, stw_error *err)
{
    layer_pathset *ps =
        stw_calloc(img->n_layers ? img->n_layers : 1, sizeof *ps);
    if (!ps)
        return stw_store_nomem(s, err);
    stw_status st = put_image_rows(s, scan_id, img, config_findings,
                                   config_stored, position, ps, image_id, err);
    for (size_t i = 0; i < img->n_layers; i++)
        free(ps[i].blob);
    free(ps);
    return st;
}

/* ---- shard mode: images deferred to the merge --------------------------- */

void stw_store_set_shard(stw_store *s, unsigned k, unsigned n)
{
    if (!s)
        return;
    s->shard_k = n > 1 ? k : 0;
    s->shard_n = n > 1 ? n : 0;
}

/* Shard mode's put_image body, inside its transaction: the image, its
 * layers and config findings are recorded for the merge to complete. */
static stw_status put_deferred_tx(stw_store *s, int64_t scan_id,
                                  const stw_image_record *img,
                                  const stw_finding_list *config_findings,
                                  int64_t *image_id, stw_error *err)
{
    sqlite3_stmt *q = NULL;
    int64_t position = 0;
    stw_status st = stw_sql_prepare(s,
                                    "SELECT COALESCE(MAX(position) + 1, 0) "
                                    "FROM deferred_images WHERE scan_id = ?1",
                                    &q, err, "image %s: position", img->ref);
    if (!st) {
        st = next_position(s, q, scan_id, img->ref, &position, err);
        sqlite3_finalize(q);
    }
    if (!st)
        st = stw_sql_prepare(s,
                             "INSERT INTO deferred_images (scan_id, ref, "
                             "manifest_digest, config_digest, platform, "
                             "position) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                             &q, err, "record image for merge");
    if (!st) {
        bind_image(q, scan_id, img, position);
        st = stw_sql_finish(s, q, err, "record image for merge");
    }
    int64_t id = sqlite3_last_insert_rowid(s->db);
    if (!st)
        st = stw_sql_prepare(s,
                             "INSERT INTO deferred_image_layers (image_id, "
                             "idx, layer_digest, created_by, cached, diff_id) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                             &q, err, "record image layer for merge");
    if (!st) {
        for (size_t i = 0; i < img->n_layers && !st; i++) {
            bind_image_layer(q, id, i, &img->layers[i]);
            st = stw_sql_run(s, q, err, "record image layer for merge");
        }
        sqlite3_finalize(q);
    }
    if (!st)
        st =
            replace_findings(s, img->config_digest, true, config_findings, err);
    if (!st)
        *image_id = id;
    return st;
}

stw_status stw_store_put_image(stw_store *s, int64_t scan_id,
                               const stw_image_record *img,
                               const stw_finding_list *config_findings,
                               int64_t *image_id, stw_error *err)
{
    if (!s || !img || !img->ref || !img->config_digest ||
        (img->n_layers && !img->layers))
        return stw_fail(err, STW_ERR_USAGE,
                        "put_image: missing ref, config digest or layers");
    if (img->n_layers > STW_MAX_LAYERS)
        return stw_fail(err, STW_ERR_LIMIT,
                        "%s: %zu layers, more than the limit of %d", img->ref,
                        img->n_layers, STW_MAX_LAYERS);

    /* A shard records only the images it owns, by their manifest digest
     * (config digest when they have none). */
    bool deferred = s->shard_n > 1;
    if (deferred) {
        const char *owner_key = img->manifest_digest && *img->manifest_digest
                                    ? img->manifest_digest
                                    : img->config_digest;
        if (image_id)
            *image_id = 0;
        if (stw_shard_of(owner_key, s->shard_n) != s->shard_k)
            return STW_OK;
    }
    for (size_t i = 0; i < img->n_layers; i++)
        if (!img->layers[i].digest)
            return stw_fail(err, STW_ERR_USAGE,
                            "put_image: %s: layer %zu has no digest", img->ref,
                            i);
    int64_t id = 0;
    stw_status st = stw_sql_begin_write(s, err);
    if (!st)
        st = hold_for_scan(s, scan_id, NULL, err);
    if (!st) {
        st = deferred
                 ? put_deferred_tx(s, scan_id, img, config_findings, &id, err)
                 : stw_store_put_image_tx(s, scan_id, img, config_findings,
                                          false, -1, &id, err);
        st = stw_sql_end_write(s, st, err);
    }
    if (!st && image_id)
        *image_id = id;
    return st;
}
