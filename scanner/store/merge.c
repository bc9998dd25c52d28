/* merge.c - batch scans (store.h): resuming a run that was interrupted, and
 * merging the database files of a sharded run into one, completing each
 * deferred image (write.c records them in shard mode) once every layer it
 * names is stored. */
#include "store_internal.h"

#include "common.h"
#include "limits.h"

#include <sys/stat.h>

#include <stdlib.h>

/* ---- resuming ----------------------------------------------------------- */

stw_status stw_store_find_unfinished_scan(stw_store *s, const char *args,
                                          int64_t *scan_id, bool *found,
                                          stw_error *err)
{
    *found = false;
    sqlite3_stmt *q = NULL;
    stw_status st = stw_sql_prepare(
        s,
        "SELECT id FROM scans WHERE finished_at IS NULL AND args = ?1 "
        "ORDER BY id DESC LIMIT 1",
        &q, err, "look for an unfinished scan");
    if (st)
        return st;
    stw_sql_bind_text(q, 1, stw_sql_or_empty(args));
    st = stw_sql_step(s, q, found, err, "look for an unfinished scan");
    if (!st && *found)
        s->active_scan = *scan_id = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return st;
}

stw_status stw_store_scan_has_ref(stw_store *s, int64_t scan_id,
                                  const char *ref, bool *has, stw_error *err)
{
    *has = false;
    sqlite3_stmt *q = NULL;
    stw_status st = stw_sql_prepare(
        s,
        "SELECT 1 FROM images WHERE scan_id = ?1 AND ref = ?2 UNION ALL "
        "SELECT 1 FROM deferred_images WHERE scan_id = ?1 AND ref = ?2 "
        "LIMIT 1",
        &q, err, "look up image %s", ref);
    if (st)
        return st;
    stw_sql_bind_int64(q, 1, scan_id);
    stw_sql_bind_text(q, 2, ref);
    st = stw_sql_step(s, q, has, err, "look up image %s", ref);
    sqlite3_finalize(q);
    return st;
}

/* ---- completing deferred images ----------------------------------------- */

/* One deferred image read back for completion. */
typedef struct deferred_row {
    int64_t id, scan_id, position;
    char *ref, *manifest, *config, *platform;
} deferred_row;

static void deferred_rows_free(deferred_row *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].ref);
        free(v[i].manifest);
        free(v[i].config);
        free(v[i].platform);
    }
    free(v);
}

/* Reads the ordered layers of deferred image d into *ls (*n of them);
 * their strings go to *strs (3 * *n, the caller frees them and both
 * arrays, also on failure). */
static stw_status read_deferred_layers(stw_store *s, const deferred_row *d,
                                       stw_image_layer **ls, char ***strs,
                                       size_t *n, stw_error *err)
{
    sqlite3_stmt *q = NULL;
    stw_status st =
        stw_sql_prepare(s,
                        "SELECT layer_digest, created_by, cached, diff_id "
                        "FROM deferred_image_layers WHERE "
                        "image_id = ?1 ORDER BY idx",
                        &q, err, "read layers of deferred image %s", d->ref);
    if (st)
        return st;
    stw_sql_bind_int64(q, 1, d->id);
    size_t cap = 0, scap = 0;
    bool row = false;
    while (!st &&
           !(st = stw_sql_step(s, q, &row, err,
                               "read layers of deferred image %s", d->ref)) &&
           row) {
        if (*n >= STW_MAX_LAYERS) {
            st = stw_fail(err, STW_ERR_LIMIT, "%s: %s: more than %d layers",
                          s->name, d->ref, STW_MAX_LAYERS);
            break;
        }
        /* Room for strings 3n to 3n + 2. */
        if (!stw_store_grow((void **)ls, &cap, *n, sizeof **ls) ||
            !stw_store_grow((void **)strs, &scap, 3 * *n + 2, sizeof **strs)) {
            st = stw_store_nomem(s, err);
            break;
        }
        char **str = &(*strs)[3 * *n];
        stw_image_layer *l = &(*ls)[(*n)++];
        l->digest = str[0] = stw_sql_column_dup(q, 0);
        l->created_by = str[1] = stw_sql_column_dup(q, 1);
        l->cached = sqlite3_column_int(q, 2) != 0;
        l->diff_id = str[2] = stw_sql_column_dup(q, 3);
        if (!str[0] || !str[1] || !str[2])
            st = stw_store_nomem(s, err);
    }
    sqlite3_finalize(q);
    return st;
}

/* Turns one deferred image, whose layers are all stored, into an image
 * with its visibility, and drops the deferred row. */
static stw_status complete_deferred(stw_store *s, const deferred_row *d,
                                    stw_error *err)
{
    stw_image_layer *ls = NULL;
    char **strs = NULL;
    size_t n = 0;
    stw_status st = read_deferred_layers(s, d, &ls, &strs, &n, err);
    if (!st) {
        stw_image_record rec = {
            .ref = d->ref,
            .manifest_digest = d->manifest,
            .config_digest = d->config,
            .platform = d->platform,
            .layers = ls,
            .n_layers = n,
        };
        int64_t id;
        st = stw_store_put_image_tx(s, d->scan_id, &rec, NULL, true,
                                    d->position, &id, err);
    }
    for (size_t i = 0; i < 3 * n; i++)
        free(strs[i]);
    free(strs);
    free(ls);
    sqlite3_stmt *q = NULL;
    if (!st)
        st = stw_sql_prepare(s, "DELETE FROM deferred_images WHERE id = ?1", &q,
                             err, "drop completed deferred image");
    if (!st) {
        stw_sql_bind_int64(q, 1, d->id);
        st = stw_sql_finish(s, q, err, "drop completed deferred image");
    }
    return st;
}

static stw_status deferred_row_read(stw_store *s, sqlite3_stmt *q, void *elem,
                                    stw_error *err)
{
    deferred_row *d = elem;
    d->id = sqlite3_column_int64(q, 0);
    d->scan_id = sqlite3_column_int64(q, 1);
    d->position = sqlite3_column_int64(q, 2);
    d->ref = stw_sql_column_dup(q, 3);
    d->manifest = stw_sql_column_dup(q, 4);
    d->config = stw_sql_column_dup(q, 5);
    d->platform = stw_sql_column_dup(q, 6);
    if (!d->ref || !d->manifest || !d->config || !d->platform)
        return stw_store_nomem(s, err);
    return STW_OK;
}

/* Completes every deferred image of s whose layers are all stored. */
static stw_status complete_ready(stw_store *s, int64_t *completed,
                                 stw_error *err)
{
    sqlite3_stmt *q = NULL;
    stw_status st = stw_sql_prepare(
        s,
        "SELECT d.id, d.scan_id, d.position, d.ref, d.manifest_digest, "
        "d.config_digest, d.platform FROM main.deferred_images d WHERE NOT "
        "EXISTS (SELECT 1 FROM main.deferred_image_layers dl WHERE "
        "dl.image_id = d.id AND dl.layer_digest NOT IN (SELECT digest FROM "
        "main.layers)) ORDER BY d.scan_id, d.position, d.id",
        &q, err, "read deferred images");
    if (st)
        return st;
    /* Read them all first: completing one deletes from the table read. */
    deferred_row *v = NULL;
    size_t n = 0, cap = 0;
    st = stw_sql_collect(s, q, (void **)&v, &n, &cap, sizeof *v,
                         deferred_row_read, err, "read deferred images");
    sqlite3_finalize(q);
    for (size_t i = 0; i < n && !st; i++) {
        st = complete_deferred(s, &v[i], err);
        if (!st)
            (*completed)++;
    }
    deferred_rows_free(v, n);
    return st;
}

/* ---- merging ------------------------------------------------------------ */

/* Maps the scan of q's current row (id, started_at, finished_at,
 * tool_version, rules_version, args of src) to the scan of main started at
 * the same time with the same versions and args - copying it when main has
 * none - in temp.stw_merge_scans. */
static stw_status merge_scan(stw_store *s, sqlite3_stmt *q, stw_merge_counts *c,
                             stw_error *err)
{
    int64_t src_id = sqlite3_column_int64(q, 0), dst = 0;
    const char *started = (const char *)sqlite3_column_text(q, 1);
    const char *finished = (const char *)sqlite3_column_text(q, 2);
    const char *tool = (const char *)sqlite3_column_text(q, 3);
    const char *rules = (const char *)sqlite3_column_text(q, 4);
    const char *args = (const char *)sqlite3_column_text(q, 5);
    sqlite3_stmt *f = NULL;
    stw_status st = stw_sql_prepare(
        s,
        "SELECT id FROM main.scans WHERE started_at = ?1 AND tool_version = "
        "?2 AND rules_version = ?3 AND args IS ?4 ORDER BY id LIMIT 1",
        &f, err, "match scan");
    if (st)
        return st;
    stw_sql_bind_text(f, 1, started);
    stw_sql_bind_text(f, 2, tool);
    stw_sql_bind_text(f, 3, rules);
    stw_sql_bind_text(f, 4, args);
    bool found = false;
    st = stw_sql_step(s, f, &found, err, "match scan");
    if (found)
        dst = sqlite3_column_int64(f, 0);
    sqlite3_finalize(f);
    if (!st && !found) {
        st = stw_sql_prepare(s,
                             "INSERT INTO main.scans (started_at, "
                             "finished_at, tool_version, rules_version, "
                             "args) VALUES (?1, ?2, ?3, ?4, ?5)",
                             &f, err, "copy scan");
        if (!st) {
            stw_sql_bind_text(f, 1, started);
            stw_sql_bind_text(f, 2, finished);
            stw_sql_bind_text(f, 3, tool);
            stw_sql_bind_text(f, 4, rules);
            stw_sql_bind_text(f, 5, args);
            st = stw_sql_finish(s, f, err, "copy scan");
        }
        dst = sqlite3_last_insert_rowid(s->db);
        c->scans++;
    } else if (!st) {
        st = stw_sql_prepare(s,
                             "UPDATE main.scans SET finished_at = "
                             "COALESCE(finished_at, ?2) WHERE id = ?1",
                             &f, err, "update scan");
        if (!st) {
            stw_sql_bind_int64(f, 1, dst);
            stw_sql_bind_text(f, 2, finished);
            st = stw_sql_finish(s, f, err, "update scan");
        }
    }
    if (!st)
        st = stw_sql_prepare(s,
                             "INSERT INTO temp.stw_merge_scans (src_id, "
                             "dst_id) VALUES (?1, ?2)",
                             &f, err, "map scan");
    if (!st) {
        stw_sql_bind_int64(f, 1, src_id);
        stw_sql_bind_int64(f, 2, dst);
        st = stw_sql_finish(s, f, err, "map scan");
    }
    return st;
}

/* The scans of src, matched to or added as scans of main, into
 * temp.stw_merge_scans. */
static stw_status merge_scans(stw_store *s, stw_merge_counts *c, stw_error *err)
{
    stw_status st = stw_sql_exec(s,
                                 "CREATE TEMP TABLE IF NOT EXISTS "
                                 "stw_merge_scans (src_id INTEGER PRIMARY "
                                 "KEY, dst_id INTEGER NOT NULL); DELETE FROM "
                                 "temp.stw_merge_scans;",
                                 err, "merge scans");
    sqlite3_stmt *q = NULL;
    if (!st)
        st = stw_sql_prepare(s,
                             "SELECT id, started_at, finished_at, "
                             "tool_version, rules_version, args FROM "
                             "src.scans ORDER BY id",
                             &q, err, "read scans");
    bool row = false;
    while (!st && !(st = stw_sql_step(s, q, &row, err, "read scans")) && row)
        st = merge_scan(s, q, c, err);
    sqlite3_finalize(q);
    return st;
}

/* Copies the image of q's current row (see merge_images) as a deferred
 * image of main, unless main's scan already has it. */
static stw_status merge_image(stw_store *s, sqlite3_stmt *q, stw_error *err)
{
    bool deferred = sqlite3_column_int(q, 0) != 0;
    int64_t src_id = sqlite3_column_int64(q, 1);
    int64_t dst_scan = sqlite3_column_int64(q, 2);
    const char *ref = (const char *)sqlite3_column_text(q, 3);
    const char *man = (const char *)sqlite3_column_text(q, 4);
    const char *cfg = (const char *)sqlite3_column_text(q, 5);
    const char *plat = (const char *)sqlite3_column_text(q, 6);
    int64_t pos = sqlite3_column_int64(q, 7);
    const char *name = ref ? ref : "";
    sqlite3_stmt *f = NULL;
    stw_status st = stw_sql_prepare(
        s,
        "SELECT 1 FROM main.images WHERE scan_id = ?1 AND ref = ?2 AND "
        "platform = ?3 AND manifest_digest = ?4 AND config_digest = ?5 AND "
        "position = ?6 UNION ALL SELECT 1 FROM main.deferred_images WHERE "
        "scan_id = ?1 AND ref = ?2 AND platform = ?3 AND manifest_digest = "
        "?4 AND config_digest = ?5 AND position = ?6 LIMIT 1",
        &f, err, "match image %s", name);
    if (st)
        return st;
    stw_sql_bind_int64(f, 1, dst_scan);
    stw_sql_bind_text(f, 2, ref);
    stw_sql_bind_text(f, 3, plat);
    stw_sql_bind_text(f, 4, man);
    stw_sql_bind_text(f, 5, cfg);
    stw_sql_bind_int64(f, 6, pos);
    bool has = false;
    st = stw_sql_step(s, f, &has, err, "match image %s", name);
    sqlite3_finalize(f);
    if (st || has)
        return st;

    st = stw_sql_prepare(s,
                         "INSERT INTO main.deferred_images (scan_id, ref, "
                         "manifest_digest, config_digest, platform, "
                         "position) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                         &f, err, "copy image");
    if (!st) {
        stw_sql_bind_int64(f, 1, dst_scan);
        stw_sql_bind_text(f, 2, ref);
        stw_sql_bind_text(f, 3, man);
        stw_sql_bind_text(f, 4, cfg);
        stw_sql_bind_text(f, 5, plat);
        stw_sql_bind_int64(f, 6, pos);
        st = stw_sql_finish(s, f, err, "copy image");
    }
    int64_t id = sqlite3_last_insert_rowid(s->db);
    if (!st)
        st = stw_sql_prepare(
            s,
            deferred ? "INSERT INTO main.deferred_image_layers (image_id, "
                       "idx, layer_digest, created_by, cached, diff_id) "
                       "SELECT ?1, idx, layer_digest, created_by, cached, "
                       "diff_id FROM src.deferred_image_layers WHERE "
                       "image_id = ?2"
                     : "INSERT INTO main.deferred_image_layers (image_id, "
                       "idx, layer_digest, created_by, cached, diff_id) "
                       "SELECT ?1, idx, layer_digest, created_by, cached, "
                       "diff_id FROM src.image_layers WHERE image_id = ?2",
            &f, err, "copy image layers");
    if (!st) {
        stw_sql_bind_int64(f, 1, id);
        stw_sql_bind_int64(f, 2, src_id);
        st = stw_sql_finish(s, f, err, "copy image layers");
    }
    return st;
}

/* Copies the images of src (complete or deferred) as deferred images of
 * main, unless main's scan already has them. */
static stw_status merge_images(stw_store *s, stw_error *err)
{
    sqlite3_stmt *q = NULL;
    stw_status st = stw_sql_prepare(
        s,
        "SELECT 0, i.id, m.dst_id, i.ref, i.manifest_digest, i.config_digest, "
        "i.platform, i.position FROM src.images i JOIN temp.stw_merge_scans "
        "m ON m.src_id = i.scan_id UNION ALL SELECT 1, d.id, m.dst_id, d.ref, "
        "d.manifest_digest, d.config_digest, d.platform, d.position FROM "
        "src.deferred_images d JOIN temp.stw_merge_scans m ON m.src_id = "
        "d.scan_id ORDER BY 3, 8, 1, 2",
        &q, err, "read images to merge");
    bool row = false;
    while (!st &&
           !(st = stw_sql_step(s, q, &row, err, "read images to merge")) && row)
        st = merge_image(s, q, err);
    sqlite3_finalize(q);
    return st;
}

/* The body of stw_store_merge, inside its transaction. */
static stw_status merge_tx(stw_store *s, stw_merge_counts *c, stw_error *err)
{
    int64_t layers0 = 0, findings0 = 0, layers1 = 0, findings1 = 0;
    stw_status st = stw_sql_one_int64(s, "SELECT COUNT(*) FROM main.layers",
                                      &layers0, err, "count layers");
    if (!st)
        st = stw_sql_one_int64(s, "SELECT COUNT(*) FROM main.findings",
                               &findings0, err, "count findings");
    /* Layers new to main come with their findings; a layer main already
     * has keeps its own. Config findings are facts about the config blob:
     * the same fingerprint is the same fact. */
    if (!st)
        st = stw_sql_exec(
            s,
            "CREATE TEMP TABLE IF NOT EXISTS stw_merge_new (digest TEXT "
            "PRIMARY KEY); DELETE FROM temp.stw_merge_new; "
            "INSERT INTO temp.stw_merge_new SELECT digest FROM src.layers "
            "WHERE digest NOT IN (SELECT digest FROM main.layers); "
            "INSERT INTO main.layers (digest, diff_id, media_type, size, "
            "uncompressed, entries, pathset, rules_version, scanned_at, "
            "diff_id_verified) "
            "SELECT digest, diff_id, media_type, size, uncompressed, entries, "
            "pathset, rules_version, scanned_at, diff_id_verified FROM "
            "src.layers WHERE digest "
            "IN (SELECT digest FROM temp.stw_merge_new) ORDER BY digest; "
            "INSERT OR IGNORE INTO main.findings (blob_digest, in_config, "
            "path, is_dir, kind, rule, severity, line, \"offset\", mode, uid, "
            "gid, validated, fingerprint, secret_sha256, excerpt, detail, "
            "git_source, git_commit, git_path, git_reachable, "
            "git_in_worktree, in_history) "
            "SELECT blob_digest, in_config, path, is_dir, kind, rule, "
            "severity, line, \"offset\", mode, uid, gid, validated, "
            "fingerprint, secret_sha256, excerpt, detail, git_source, "
            "git_commit, git_path, git_reachable, git_in_worktree, in_history "
            "FROM src.findings "
            "WHERE (in_config = 0 AND blob_digest IN (SELECT digest FROM "
            "temp.stw_merge_new)) OR in_config = 1 ORDER BY id;",
            err, "merge layers and findings");
    if (!st)
        st = merge_scans(s, c, err);
    if (!st)
        st = stw_sql_exec(s,
                          "INSERT INTO main.errors (scan_id, target, message) "
                          "SELECT m.dst_id, e.target, e.message FROM "
                          "src.errors e JOIN temp.stw_merge_scans m ON "
                          "m.src_id = e.scan_id WHERE NOT EXISTS (SELECT 1 "
                          "FROM main.errors x WHERE x.scan_id = m.dst_id AND "
                          "x.target = e.target AND x.message = e.message) "
                          "ORDER BY e.id;",
                          err, "merge errors");
    if (!st)
        st = merge_images(s, err);
    if (!st)
        st = complete_ready(s, &c->images, err);
    if (!st)
        st = stw_sql_one_int64(s, "SELECT COUNT(*) FROM main.deferred_images",
                               &c->deferred, err, "count deferred images");
    if (!st)
        st = stw_sql_one_int64(s, "SELECT COUNT(*) FROM main.layers", &layers1,
                               err, "count layers");
    if (!st)
        st = stw_sql_one_int64(s, "SELECT COUNT(*) FROM main.findings",
                               &findings1, err, "count findings");
    c->layers = layers1 - layers0;
    c->findings = findings1 - findings0;
    return st;
}

stw_status stw_store_merge(stw_store *s, const char *in_path,
                           stw_merge_counts *out, stw_error *err)
{
    stw_merge_counts c = {0};
    if (!s || !in_path)
        return stw_fail(err, STW_ERR_USAGE, "merge: missing argument");
    struct stat sb;
    if (stat(in_path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return stw_fail(err, STW_ERR_NOT_FOUND, "%s: no such database",
                        in_path);
    /* Bring the input to our schema first (a newer one is refused). */
    stw_store *in = NULL;
    stw_status st = stw_store_open(in_path, &in, err);
    stw_store_close(in);
    if (st)
        return st;
    sqlite3_stmt *q = NULL;
    st = stw_sql_prepare(s, "ATTACH DATABASE ?1 AS src", &q, err,
                         "attach input database");
    if (!st) {
        stw_sql_bind_text(q, 1, in_path);
        st = stw_sql_finish(s, q, err, "attach input database");
    }
    if (st)
        return st;
    st = stw_sql_begin_write(s, err);
    if (!st) {
        st = merge_tx(s, &c, err);
        st = stw_sql_end_write(s, st, err);
    }
    if (st)
        stw_error_prefix(err, in_path);
    stw_error ignored;
    stw_sql_exec(s, "DETACH DATABASE src", &ignored, "detach");
    if (!st && out)
        *out = c;
    return st;
}
