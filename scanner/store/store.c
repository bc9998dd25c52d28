/* store.c - the SQLite store (store.h): schema migrations, layers and their
 * findings keyed by blob digest, images with per-image visibility, and
 * reading one scan back as stw_results. */
#include "store.h"

#include "common.h"
#include "embedded.h"
#include "limits.h"
#include "shard.h"
#include "pathset.h"

#include <sqlite3.h>

#include <fnmatch.h>
#include <sys/stat.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Long enough for a registry-wide batch scan to wait out another process's
 * image transaction, short enough that a stuck lock becomes an error. */
#define STORE_BUSY_TIMEOUT_MS 30000

#define CONFIG_PATH "<config>"
#define NOW_SQL     "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

/* The hot statements, prepared once at open. */
enum {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_SCAN_INSERT,
    Q_SCAN_END,
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
    Q_LOAD_SCAN,
    Q_LOAD_IMAGES,
    Q_LOAD_LAYERS,
    Q_LOAD_FINDINGS,
    Q_LOAD_ERRORS,
    Q_LOAD_COUNTS,
    Q_COUNT_
};

static const char *const query_sql[Q_COUNT_] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_SCAN_INSERT] = "INSERT INTO scans (started_at, tool_version, "
                      "rules_version, args) VALUES (" NOW_SQL ", ?1, ?2, ?3)",
    [Q_SCAN_END] = "UPDATE scans SET finished_at = " NOW_SQL " WHERE id = ?1",
    [Q_LAYER_CACHED] = "SELECT 1 FROM layers WHERE digest = ?1 AND "
                       "rules_version = ?2",
    [Q_LAYER_UPSERT] =
        "INSERT INTO layers (digest, diff_id, media_type, size, uncompressed, "
        "entries, pathset, rules_version, scanned_at) VALUES (?1, ?2, ?3, ?4, "
        "?5, ?6, ?7, ?8, " NOW_SQL ") ON CONFLICT (digest) DO UPDATE SET "
        "diff_id = excluded.diff_id, media_type = excluded.media_type, "
        "size = excluded.size, uncompressed = excluded.uncompressed, "
        "entries = excluded.entries, pathset = excluded.pathset, "
        "rules_version = excluded.rules_version, "
        "scanned_at = excluded.scanned_at",
    /* A rescan updates a finding in place (same fingerprint, same id) so the
     * image_findings of earlier scans stay attached. The WHERE keeps the
     * first of two findings with one fingerprint in the same list: then no
     * row is returned and the duplicate is dropped. */
    [Q_FINDING_UPSERT] =
        "INSERT INTO findings (blob_digest, in_config, path, is_dir, kind, "
        "rule, severity, line, \"offset\", mode, uid, gid, validated, "
        "fingerprint, secret_sha256, excerpt, detail) VALUES (?1, ?2, ?3, "
        "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) "
        "ON CONFLICT (blob_digest, in_config, fingerprint) DO UPDATE SET "
        "path = excluded.path, is_dir = excluded.is_dir, "
        "kind = excluded.kind, rule = excluded.rule, "
        "severity = excluded.severity, line = excluded.line, "
        "\"offset\" = excluded.\"offset\", mode = excluded.mode, "
        "uid = excluded.uid, gid = excluded.gid, "
        "validated = excluded.validated, "
        "secret_sha256 = excluded.secret_sha256, excerpt = excluded.excerpt, "
        "detail = excluded.detail "
        "WHERE findings.id NOT IN (SELECT id FROM temp.stw_keep) "
        "RETURNING id",
    [Q_KEEP_INSERT] = "INSERT OR IGNORE INTO temp.stw_keep (id) VALUES (?1)",
    [Q_KEEP_CLEAR] = "DELETE FROM temp.stw_keep",
    [Q_FINDING_PRUNE] =
        "DELETE FROM findings WHERE blob_digest = ?1 AND in_config = ?2 "
        "AND id NOT IN (SELECT id FROM temp.stw_keep)",
    [Q_BLOB_FINDINGS] = "SELECT id, path, is_dir FROM findings WHERE "
                        "blob_digest = ?1 AND in_config = ?2 ORDER BY id",
    [Q_LAYER_PATHSET] = "SELECT pathset FROM layers WHERE digest = ?1",
    [Q_IMAGE_POSITION] = "SELECT COALESCE(MAX(position) + 1, 0) FROM images "
                         "WHERE scan_id = ?1",
    [Q_IMAGE_INSERT] = "INSERT INTO images (scan_id, ref, manifest_digest, "
                       "config_digest, platform, position) VALUES (?1, ?2, "
                       "?3, ?4, ?5, ?6)",
    [Q_IMAGE_LAYER_INSERT] = "INSERT INTO image_layers (image_id, idx, "
                             "layer_digest, created_by, cached) VALUES (?1, "
                             "?2, ?3, ?4, ?5)",
    [Q_IMAGE_FINDING_INSERT] =
        "INSERT INTO image_findings (image_id, finding_id, layer_idx, "
        "visible, removed_in_layer) VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_ERROR_INSERT] = "INSERT INTO errors (scan_id, target, message) "
                       "VALUES (?1, ?2, ?3)",
    [Q_LOAD_SCAN] = "SELECT rules_version FROM scans WHERE id = ?1",
    [Q_LOAD_IMAGES] = "SELECT id, ref, manifest_digest, config_digest, "
                      "platform FROM images WHERE scan_id = ?1 "
                      "ORDER BY position, id",
    [Q_LOAD_LAYERS] =
        "SELECT il.layer_digest, l.diff_id, l.media_type, il.created_by, "
        "l.size, il.cached FROM image_layers il JOIN layers l "
        "ON l.digest = il.layer_digest WHERE il.image_id = ?1 ORDER BY il.idx",
    /* Config findings (layer_idx NULL) last; fingerprint and id only break
     * ties so two loads of one scan always agree. */
    [Q_LOAD_FINDINGS] =
        "SELECT x.layer_idx, f.blob_digest, f.path, f.kind, f.rule, "
        "f.severity, f.line, f.\"offset\", x.visible, x.removed_in_layer, "
        "f.mode, f.uid, f.gid, f.validated, f.fingerprint, f.secret_sha256, "
        "f.excerpt, f.detail FROM image_findings x JOIN findings f "
        "ON f.id = x.finding_id WHERE x.image_id = ?1 ORDER BY "
        "x.layer_idx IS NULL, x.layer_idx, f.path, f.\"offset\", f.rule, "
        "f.fingerprint, f.id",
    [Q_LOAD_ERRORS] =
        "SELECT target, message FROM errors WHERE scan_id = ?1 ORDER BY id",
    /* A digest counts as scanned if any image of the scan scanned it, so
     * scanned + cached is the number of distinct layers. */
    [Q_LOAD_COUNTS] =
        "SELECT COALESCE(SUM(c = 0), 0), COALESCE(SUM(c = 1), 0) FROM ("
        "SELECT MIN(il.cached) AS c FROM image_layers il JOIN images i "
        "ON i.id = il.image_id WHERE i.scan_id = ?1 GROUP BY il.layer_digest)",
};

struct stw_store {
    sqlite3 *db;
    char *name; /* the file name for messages */
    sqlite3_stmt *q[Q_COUNT_];
    unsigned shard_k, shard_n; /* shard mode when shard_n > 1 */
};

/* A layer's pathset, copied out of its row while an image is stored. */
typedef struct layer_pathset {
    void *blob;
    size_t len;
} layer_pathset;

/* Fills err with what failed and sqlite's message, named by the db file;
 * must run before anything else touches the connection. */
static stw_status db_fail(stw_store *s, stw_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static stw_status db_fail(stw_store *s, stw_error *err, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return stw_fail(err, STW_ERR_DB, "%s: %s: %s", s->name, what,
                    sqlite3_errmsg(s->db));
}

static void done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Binds a text that may be NULL as "" (columns are NOT NULL DEFAULT ''). */
static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

/* Runs a statement that returns no rows, then resets it. */
static stw_status run(stw_store *s, int q, stw_error *err, const char *what)
{
    int rc = sqlite3_step(s->q[q]);
    stw_status st = STW_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        st = db_fail(s, err, "%s", what);
    done(s->q[q]);
    return st;
}

static stw_status tx_begin(stw_store *s, stw_error *err)
{
    return run(s, Q_BEGIN, err, "begin transaction");
}

static stw_status tx_commit(stw_store *s, stw_error *err)
{
    return run(s, Q_COMMIT, err, "commit");
}

/* Best effort: the error that led here is already in the caller's err. */
static void tx_rollback(stw_store *s)
{
    if (!sqlite3_get_autocommit(s->db)) {
        sqlite3_step(s->q[Q_ROLLBACK]);
        sqlite3_reset(s->q[Q_ROLLBACK]);
    }
}

/* Copies a text column; NULL becomes "". Returns NULL only when out of
 * memory. */
static char *col_dup(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return stw_strdup(t ? t : "");
}

/* ---- opening and migrations --------------------------------------------- */

/* Returns the number a migration file name starts with ("001_init.sql" ->
 * 1), or -1 if it does not start with one. */
static long migration_number(const char *name)
{
    long n = 0;
    const char *p = name;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > 100000000)
            return -1;
        n = n * 10 + (*p - '0');
    }
    return p == name ? -1 : n;
}

static stw_status read_user_version(stw_store *s, long *v, stw_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(s, err, "read schema version");
    int rc = sqlite3_step(st);
    stw_status ret = STW_OK;
    if (rc == SQLITE_ROW)
        *v = (long)sqlite3_column_int64(st, 0);
    else
        ret = db_fail(s, err, "read schema version");
    sqlite3_finalize(st);
    return ret;
}

static stw_status exec(stw_store *s, const char *sql, stw_error *err,
                       const char *what)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(s, err, "%s", what);
    return STW_OK;
}

/* Switching a new file to WAL needs an exclusive lock, and SQLite reports
 * SQLITE_BUSY for it at once instead of calling the busy handler; so two
 * scans that create one database together retry here, within the same
 * budget as the busy timeout. */
static stw_status set_wal(stw_store *s, stw_error *err)
{
    for (int waited = 0;; waited += 10) {
        int rc =
            sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return STW_OK;
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) ||
            waited >= STORE_BUSY_TIMEOUT_MS)
            return db_fail(s, err, "set journal mode");
        sqlite3_sleep(10);
    }
}

/* Sets *ours to the number of the last embedded migration, checking that
 * they are numbered in increasing order. */
static stw_status schema_version(stw_store *s, long *ours, stw_error *err)
{
    *ours = 0;
    for (const struct stw_embedded *m = stw_embedded_migrations; m->name; m++) {
        long n = migration_number(m->name);
        if (n <= *ours)
            return stw_fail(err, STW_ERR_DB,
                            "%s: migration %s is out of order or unnumbered",
                            s->name, m->name);
        *ours = n;
    }
    return STW_OK;
}

/* Applies, in one transaction, every embedded migration newer than the
 * database's user_version. The version is read again under the write lock
 * so two processes opening a fresh file migrate it once. */
static stw_status migrate(stw_store *s, long have, long ours, stw_error *err)
{
    if (have > ours)
        goto newer;
    if (have == ours)
        return STW_OK;

    stw_status st = exec(s, "BEGIN IMMEDIATE", err, "begin migration");
    if (st)
        return st;
    st = read_user_version(s, &have, err);
    if (st)
        goto fail;
    if (have > ours) {
        exec(s, "ROLLBACK", NULL, "rollback");
        goto newer;
    }
    for (const struct stw_embedded *m = stw_embedded_migrations; m->name; m++) {
        long n = migration_number(m->name);
        if (n <= have)
            continue;
        if (sqlite3_exec(s->db, m->data, NULL, NULL, NULL) != SQLITE_OK) {
            st = db_fail(s, err, "migration %s", m->name);
            goto fail;
        }
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %ld", n);
        st = exec(s, sql, err, "set schema version");
        if (st)
            goto fail;
    }
    st = exec(s, "COMMIT", err, "commit migration");
    if (st)
        goto fail;
    return STW_OK;

fail:
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
newer:
    return stw_fail(err, STW_ERR_DB,
                    "%s: database schema version %ld is newer than this "
                    "stowaway supports (%ld)",
                    s->name, have, ours);
}

stw_status stw_store_open(const char *path, stw_store **out, stw_error *err)
{
    if (!out)
        return stw_fail(err, STW_ERR_USAGE, "store_open: out is NULL");
    *out = NULL;
    if (!path)
        path = ":memory:";

    stw_store *s = calloc(1, sizeof *s);
    if (!s || !(s->name = stw_strdup(path))) {
        free(s);
        return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", path);
    }

    stw_status st;
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        if (s->db)
            st = db_fail(s, err, "open");
        else
            st = stw_fail(err, STW_ERR_NOMEM, "%s: open: out of memory", path);
        goto fail;
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);

    /* Refuse a newer database before changing anything in it. */
    long have = 0, ours = 0;
    st = schema_version(s, &ours, err);
    if (!st)
        st = read_user_version(s, &have, err);
    if (!st && have > ours)
        st = migrate(s, have, ours, err);
    if (st)
        goto fail;

    /* WAL lets readers and one writer from other processes proceed at
     * once; NORMAL is durable enough in WAL (a power loss can only drop the
     * last transactions, never corrupt). */
    st = set_wal(s, err);
    if (!st)
        st = exec(s,
                  "PRAGMA synchronous = NORMAL; "
                  "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;",
                  err, "set pragmas");
    if (st)
        goto fail;
    st = migrate(s, have, ours, err);
    if (st)
        goto fail;
    st = exec(s,
              "CREATE TEMP TABLE IF NOT EXISTS stw_keep "
              "(id INTEGER PRIMARY KEY)",
              err, "create temp table");
    if (st)
        goto fail;
    for (int i = 0; i < Q_COUNT_; i++) {
        if (sqlite3_prepare_v3(s->db, query_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &s->q[i],
                               NULL) != SQLITE_OK) {
            st = db_fail(s, err, "prepare statement %d", i);
            goto fail;
        }
    }
    *out = s;
    return STW_OK;

fail:
    stw_store_close(s);
    return st;
}

void stw_store_close(stw_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < Q_COUNT_; i++)
        sqlite3_finalize(s->q[i]);
    sqlite3_close(s->db);
    free(s->name);
    free(s);
}

/* ---- scans and errors --------------------------------------------------- */

stw_status stw_store_begin_scan(stw_store *s, const char *tool_version,
                                const char *rules_version, const char *args,
                                int64_t *scan_id, stw_error *err)
{
    if (!s || !scan_id)
        return stw_fail(err, STW_ERR_USAGE, "begin_scan: missing argument");
    sqlite3_stmt *q = s->q[Q_SCAN_INSERT];
    bind_text(q, 1, tool_version);
    bind_text(q, 2, rules_version);
    bind_text(q, 3, args);
    stw_status st = run(s, Q_SCAN_INSERT, err, "begin scan");
    if (!st)
        *scan_id = sqlite3_last_insert_rowid(s->db);
    return st;
}

stw_status stw_store_end_scan(stw_store *s, int64_t scan_id, stw_error *err)
{
    if (!s)
        return stw_fail(err, STW_ERR_USAGE, "end_scan: store is NULL");
    sqlite3_bind_int64(s->q[Q_SCAN_END], 1, scan_id);
    stw_status st = run(s, Q_SCAN_END, err, "end scan");
    if (!st && sqlite3_changes(s->db) == 0)
        st = stw_fail(err, STW_ERR_NOT_FOUND, "%s: no scan %lld", s->name,
                      (long long)scan_id);
    return st;
}

stw_status stw_store_put_error(stw_store *s, int64_t scan_id,
                               const char *target, const char *message,
                               stw_error *err)
{
    if (!s)
        return stw_fail(err, STW_ERR_USAGE, "put_error: store is NULL");
    sqlite3_stmt *q = s->q[Q_ERROR_INSERT];
    sqlite3_bind_int64(q, 1, scan_id);
    bind_text(q, 2, target);
    bind_text(q, 3, message);
    return run(s, Q_ERROR_INSERT, err, "record error");
}

/* ---- layers and findings ------------------------------------------------ */

stw_status stw_store_layer_cached(stw_store *s, const char *digest,
                                  const char *rules_version, bool *cached,
                                  stw_error *err)
{
    if (!s || !digest || !rules_version || !cached)
        return stw_fail(err, STW_ERR_USAGE, "layer_cached: missing argument");
    sqlite3_stmt *q = s->q[Q_LAYER_CACHED];
    bind_text(q, 1, digest);
    bind_text(q, 2, rules_version);
    int rc = sqlite3_step(q);
    stw_status st = STW_OK;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        *cached = rc == SQLITE_ROW;
    else
        st = db_fail(s, err, "look up layer %s", digest);
    done(q);
    return st;
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
        return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);

    sqlite3_stmt *q = s->q[Q_FINDING_UPSERT];
    bind_text(q, 1, blob);
    sqlite3_bind_int(q, 2, in_config);
    bind_text(q, 3, c.path);
    sqlite3_bind_int(q, 4, c.is_dir);
    bind_text(q, 5, stw_kind_str(c.kind));
    bind_text(q, 6, c.rule);
    bind_text(q, 7, stw_severity_str(c.severity));
    if (c.line > 0)
        sqlite3_bind_int64(q, 8, c.line);
    if (c.offset >= 0)
        sqlite3_bind_int64(q, 9, c.offset);
    if (c.has_mode) {
        sqlite3_bind_int64(q, 10, c.mode);
        sqlite3_bind_int64(q, 11, c.uid);
        sqlite3_bind_int64(q, 12, c.gid);
    }
    sqlite3_bind_int(q, 13, c.validated);
    bind_text(q, 14, fp);
    bind_text(q, 15, c.secret_sha256);
    bind_text(q, 16, c.excerpt);
    bind_text(q, 17, c.detail);
    int rc = sqlite3_step(q);
    sqlite3_int64 id = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    stw_status st = STW_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        st = db_fail(s, err, "store finding %s in %s", c.rule, blob);
    done(q);
    if (st || rc == SQLITE_DONE) /* DONE: duplicate fingerprint, dropped */
        return st;

    sqlite3_bind_int64(s->q[Q_KEEP_INSERT], 1, id);
    return run(s, Q_KEEP_INSERT, err, "mark finding");
}

/* Replaces the stored findings of one blob (layer findings, or config
 * findings when in_config) by list, keeping the ids of findings whose
 * fingerprint is unchanged. Runs inside the caller's transaction. */
static stw_status replace_findings(stw_store *s, const char *blob,
                                   bool in_config, const stw_finding_list *l,
                                   stw_error *err)
{
    stw_status st = run(s, Q_KEEP_CLEAR, err, "clear marks");
    size_t n = l ? stw_finding_list_count(l) : 0;
    for (size_t i = 0; i < n && !st; i++)
        st =
            upsert_finding(s, blob, in_config, stw_finding_list_get(l, i), err);
    if (!st) {
        sqlite3_stmt *q = s->q[Q_FINDING_PRUNE];
        bind_text(q, 1, blob);
        sqlite3_bind_int(q, 2, in_config);
        st = run(s, Q_FINDING_PRUNE, err, "remove old findings");
    }
    if (!st)
        st = run(s, Q_KEEP_CLEAR, err, "clear marks");
    return st;
}

stw_status stw_store_put_layer(stw_store *s, const stw_layer_record *layer,
                               const stw_finding_list *findings, stw_error *err)
{
    if (!s || !layer || !layer->digest || !layer->rules_version ||
        (!layer->pathset && layer->pathset_len))
        return stw_fail(err, STW_ERR_USAGE,
                        "put_layer: missing digest, rules version or pathset");

    stw_status st = tx_begin(s, err);
    if (st)
        return st;
    sqlite3_stmt *q = s->q[Q_LAYER_UPSERT];
    bind_text(q, 1, layer->digest);
    bind_text(q, 2, layer->diff_id);
    bind_text(q, 3, layer->media_type);
    sqlite3_bind_int64(q, 4, layer->size);
    sqlite3_bind_int64(q, 5, layer->uncompressed);
    sqlite3_bind_int64(q, 6, layer->entries);
    if (layer->pathset_len)
        sqlite3_bind_blob64(q, 7, layer->pathset, layer->pathset_len,
                            SQLITE_STATIC);
    else
        sqlite3_bind_zeroblob(q, 7, 0);
    bind_text(q, 8, layer->rules_version);
    char what[160];
    snprintf(what, sizeof what, "store layer %.100s", layer->digest);
    st = run(s, Q_LAYER_UPSERT, err, what);
    if (!st)
        st = replace_findings(s, layer->digest, false, findings, err);
    if (!st)
        st = tx_commit(s, err);
    if (st)
        tx_rollback(s);
    return st;
}

/* ---- images ------------------------------------------------------------- */

static stw_status load_pathset(stw_store *s, const char *digest,
                               const char *ref, layer_pathset *out,
                               stw_error *err)
{
    sqlite3_stmt *q = s->q[Q_LAYER_PATHSET];
    bind_text(q, 1, digest);
    int rc = sqlite3_step(q);
    stw_status st = STW_OK;
    if (rc == SQLITE_ROW) {
        const void *b = sqlite3_column_blob(q, 0);
        size_t n = (size_t)sqlite3_column_bytes(q, 0);
        if (b && n) {
            out->blob = malloc(n);
            if (!out->blob)
                st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
            else {
                memcpy(out->blob, b, n);
                out->len = n;
            }
        }
    } else if (rc == SQLITE_DONE) {
        st = stw_fail(err, STW_ERR_NOT_FOUND,
                      "%s: image %s: layer %s was never stored", s->name, ref,
                      digest);
    } else {
        st = db_fail(s, err, "read pathset of %s", digest);
    }
    done(q);
    return st;
}

static stw_status link_finding(stw_store *s, int64_t image_id,
                               int64_t finding_id, int layer_idx, bool visible,
                               int removed_in, stw_error *err)
{
    sqlite3_stmt *q = s->q[Q_IMAGE_FINDING_INSERT];
    sqlite3_bind_int64(q, 1, image_id);
    sqlite3_bind_int64(q, 2, finding_id);
    if (layer_idx >= 0)
        sqlite3_bind_int(q, 3, layer_idx);
    sqlite3_bind_int(q, 4, visible);
    if (removed_in >= 0)
        sqlite3_bind_int(q, 5, removed_in);
    return run(s, Q_IMAGE_FINDING_INSERT, err, "store image finding");
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
    bind_text(q, 1, blob);
    sqlite3_bind_int(q, 2, idx < 0);
    stw_status st = STW_OK;
    int rc = SQLITE_DONE;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
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
    if (!st && rc != SQLITE_DONE)
        st = db_fail(s, err, "read findings of %s", blob);
    done(q);
    return st;
}

/* The body of put_image, inside its transaction. */
static stw_status put_image_tx(stw_store *s, int64_t scan_id,
                               const stw_image_record *img,
                               const stw_finding_list *config_findings,
                               bool config_stored, int64_t position,
                               layer_pathset *ps, int64_t *image_id,
                               stw_error *err)
{
    stw_status st = STW_OK;
    for (size_t i = 0; i < img->n_layers && !st; i++) {
        if (!img->layers[i].digest)
            return stw_fail(err, STW_ERR_USAGE,
                            "put_image: %s: layer %zu has no digest", img->ref,
                            i);
        st = load_pathset(s, img->layers[i].digest, img->ref, &ps[i], err);
    }
    if (st)
        return st;

    sqlite3_stmt *q = s->q[Q_IMAGE_POSITION];
    if (position < 0) {
        sqlite3_bind_int64(q, 1, scan_id);
        int rc = sqlite3_step(q);
        position = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
        if (rc != SQLITE_ROW)
            st = db_fail(s, err, "image %s: position", img->ref);
        done(q);
        if (st)
            return st;
    }

    q = s->q[Q_IMAGE_INSERT];
    sqlite3_bind_int64(q, 1, scan_id);
    bind_text(q, 2, img->ref);
    bind_text(q, 3, img->manifest_digest);
    bind_text(q, 4, img->config_digest);
    bind_text(q, 5, img->platform);
    sqlite3_bind_int64(q, 6, position);
    char what[160];
    snprintf(what, sizeof what, "store image %.100s of scan %lld", img->ref,
             (long long)scan_id);
    st = run(s, Q_IMAGE_INSERT, err, what);
    if (st)
        return st;
    int64_t id = sqlite3_last_insert_rowid(s->db);

    for (size_t i = 0; i < img->n_layers && !st; i++) {
        q = s->q[Q_IMAGE_LAYER_INSERT];
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_int64(q, 2, (int64_t)i);
        bind_text(q, 3, img->layers[i].digest);
        bind_text(q, 4, img->layers[i].created_by);
        sqlite3_bind_int(q, 5, img->layers[i].cached);
        st = run(s, Q_IMAGE_LAYER_INSERT, err, "store image layer");
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

static stw_status put_deferred(stw_store *s, int64_t scan_id,
                               const stw_image_record *img,
                               const stw_finding_list *config_findings,
                               int64_t *image_id, stw_error *err);

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

    if (s->shard_n > 1)
        return put_deferred(s, scan_id, img, config_findings, image_id, err);
    layer_pathset *ps = calloc(img->n_layers ? img->n_layers : 1, sizeof *ps);
    if (!ps)
        return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
    int64_t id = 0;
    stw_status st = tx_begin(s, err);
    if (!st) {
        st = put_image_tx(s, scan_id, img, config_findings, false, -1, ps, &id,
                          err);
        if (!st)
            st = tx_commit(s, err);
        if (st)
            tx_rollback(s);
    }
    for (size_t i = 0; i < img->n_layers; i++)
        free(ps[i].blob);
    free(ps);
    if (!st && image_id)
        *image_id = id;
    return st;
}

/* ---- reading a scan back ------------------------------------------------ */

/* Makes room for one more element in a growing array. */
static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return false;
    memset((char *)p + *cap * elem, 0, (nc - *cap) * elem);
    *arr = p;
    *cap = nc;
    return true;
}

static stw_status load_layers(stw_store *s, int64_t image_id, stw_rimage *im,
                              stw_error *err)
{
    sqlite3_stmt *q = s->q[Q_LOAD_LAYERS];
    sqlite3_bind_int64(q, 1, image_id);
    size_t cap = 0;
    stw_status st = STW_OK;
    int rc = SQLITE_DONE;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (!grow((void **)&im->layers, &cap, im->n_layers,
                  sizeof *im->layers)) {
            st = STW_ERR_NOMEM;
            break;
        }
        stw_rlayer *l = &im->layers[im->n_layers++];
        l->digest = col_dup(q, 0);
        l->diff_id = col_dup(q, 1);
        l->media_type = col_dup(q, 2);
        l->created_by = col_dup(q, 3);
        l->size = sqlite3_column_int64(q, 4);
        l->cached = sqlite3_column_int(q, 5) != 0;
        if (!l->digest || !l->diff_id || !l->media_type || !l->created_by)
            st = STW_ERR_NOMEM;
    }
    if (st == STW_ERR_NOMEM)
        st = stw_fail(err, st, "%s: out of memory", s->name);
    else if (rc != SQLITE_DONE)
        st = db_fail(s, err, "read layers of image %lld", (long long)image_id);
    done(q);
    return st;
}

static stw_status load_findings(stw_store *s, int64_t image_id, size_t image,
                                stw_results *r, size_t *cap, stw_error *err)
{
    sqlite3_stmt *q = s->q[Q_LOAD_FINDINGS];
    sqlite3_bind_int64(q, 1, image_id);
    stw_status st = STW_OK;
    int rc = SQLITE_DONE;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (!grow((void **)&r->findings, cap, r->n_findings,
                  sizeof *r->findings)) {
            st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
            break;
        }
        stw_rfinding *f = &r->findings[r->n_findings++];
        f->image = image;
        f->layer = sqlite3_column_type(q, 0) == SQLITE_NULL
                       ? -1
                       : sqlite3_column_int(q, 0);
        f->layer_digest = col_dup(q, 1);
        f->path = col_dup(q, 2);
        f->rule = col_dup(q, 4);
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
        f->fingerprint = col_dup(q, 14);
        f->secret_sha256 = col_dup(q, 15);
        f->excerpt = col_dup(q, 16);
        f->detail = col_dup(q, 17);
        if (!f->layer_digest || !f->path || !f->rule || !f->fingerprint ||
            !f->secret_sha256 || !f->excerpt || !f->detail) {
            st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
            break;
        }
        const char *kind = (const char *)sqlite3_column_text(q, 3);
        const char *sev = (const char *)sqlite3_column_text(q, 5);
        if (stw_kind_parse(kind, &f->kind) != STW_OK ||
            stw_severity_parse(sev, &f->severity) != STW_OK)
            st = stw_fail(err, STW_ERR_DB,
                          "%s: finding %s in %s has unknown kind '%s' or "
                          "severity '%s'",
                          s->name, f->rule, f->layer_digest, kind ? kind : "",
                          sev ? sev : "");
    }
    if (!st && rc != SQLITE_DONE)
        st =
            db_fail(s, err, "read findings of image %lld", (long long)image_id);
    done(q);
    return st;
}

/* Appends the image of the current row (id, ref, manifest digest, config
 * digest, platform) to r and its id to *ids. */
static stw_status append_image_row(stw_store *s, sqlite3_stmt *q,
                                   stw_results *r, int64_t **ids, size_t *cap,
                                   size_t *idcap, stw_error *err)
{
    if (!grow((void **)&r->images, cap, r->n_images, sizeof *r->images) ||
        !grow((void **)ids, idcap, r->n_images, sizeof **ids))
        return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
    (*ids)[r->n_images] = sqlite3_column_int64(q, 0);
    stw_rimage *im = &r->images[r->n_images++];
    im->ref = col_dup(q, 1);
    im->manifest_digest = col_dup(q, 2);
    im->config_digest = col_dup(q, 3);
    im->platform = col_dup(q, 4);
    if (!im->ref || !im->manifest_digest || !im->config_digest || !im->platform)
        return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
    return STW_OK;
}

static stw_status load_images(stw_store *s, int64_t scan_id, stw_results *r,
                              int64_t **ids, stw_error *err)
{
    sqlite3_stmt *q = s->q[Q_LOAD_IMAGES];
    sqlite3_bind_int64(q, 1, scan_id);
    size_t cap = 0, idcap = 0;
    stw_status st = STW_OK;
    int rc = SQLITE_DONE;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        st = append_image_row(s, q, r, ids, &cap, &idcap, err);
    }
    if (!st && rc != SQLITE_DONE)
        st = db_fail(s, err, "read images of scan %lld", (long long)scan_id);
    done(q);
    return st;
}

static stw_status load_errors(stw_store *s, int64_t scan_id, stw_results *r,
                              stw_error *err)
{
    sqlite3_stmt *q = s->q[Q_LOAD_ERRORS];
    sqlite3_bind_int64(q, 1, scan_id);
    size_t cap = 0;
    stw_status st = STW_OK;
    int rc = SQLITE_DONE;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (!grow((void **)&r->errors, &cap, r->n_errors, sizeof *r->errors)) {
            st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
            break;
        }
        stw_rerror *e = &r->errors[r->n_errors++];
        e->target = col_dup(q, 0);
        e->message = col_dup(q, 1);
        if (!e->target || !e->message)
            st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
    }
    if (!st && rc != SQLITE_DONE)
        st = db_fail(s, err, "read errors of scan %lld", (long long)scan_id);
    done(q);
    return st;
}

/* Reads the scan row and the layer counts. */
static stw_status load_summary(stw_store *s, int64_t scan_id, stw_results *r,
                               stw_error *err)
{
    sqlite3_stmt *q = s->q[Q_LOAD_SCAN];
    sqlite3_bind_int64(q, 1, scan_id);
    int rc = sqlite3_step(q);
    stw_status st = STW_OK;
    if (rc == SQLITE_ROW) {
        if (!(r->rules_version = col_dup(q, 0)))
            st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
    } else if (rc == SQLITE_DONE) {
        st = stw_fail(err, STW_ERR_NOT_FOUND, "%s: no scan %lld", s->name,
                      (long long)scan_id);
    } else {
        st = db_fail(s, err, "read scan %lld", (long long)scan_id);
    }
    done(q);
    if (st)
        return st;

    q = s->q[Q_LOAD_COUNTS];
    sqlite3_bind_int64(q, 1, scan_id);
    if (sqlite3_step(q) == SQLITE_ROW) {
        r->layers_scanned = (uint64_t)sqlite3_column_int64(q, 0);
        r->layers_cached = (uint64_t)sqlite3_column_int64(q, 1);
    } else {
        st = db_fail(s, err, "count layers of scan %lld", (long long)scan_id);
    }
    done(q);
    return st;
}

stw_status stw_store_load_scan(stw_store *s, int64_t scan_id, stw_results **out,
                               stw_error *err)
{
    if (!s || !out)
        return stw_fail(err, STW_ERR_USAGE, "load_scan: missing argument");
    *out = NULL;
    stw_results *r = calloc(1, sizeof *r);
    if (!r)
        return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
    int64_t *ids = NULL;

    /* One read transaction, so a writer in another process cannot slip an
     * image in between the queries. */
    stw_status st = exec(s, "BEGIN", err, "begin read");
    if (!st)
        st = load_summary(s, scan_id, r, err);
    if (!st)
        st = load_images(s, scan_id, r, &ids, err);
    size_t fcap = 0;
    for (size_t i = 0; i < r->n_images && !st; i++) {
        st = load_layers(s, ids[i], &r->images[i], err);
        if (!st)
            st = load_findings(s, ids[i], i, r, &fcap, err);
    }
    if (!st)
        st = load_errors(s, scan_id, r, err);
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    free(ids);
    if (st) {
        stw_results_destroy(r);
        return st;
    }
    *out = r;
    return STW_OK;
}

/* ---- reading the latest results, statistics, pruning --------------------
 * Run rarely (one command each), so prepared on demand, not at open. */

/* Prepares sql, naming what in the error. */
static stw_status prepare(stw_store *s, const char *sql, sqlite3_stmt **st,
                          stw_error *err, const char *what)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return db_fail(s, err, "%s", what);
    return STW_OK;
}

static stw_status load_latest_images(stw_store *s, const char *glob,
                                     stw_results *r, int64_t **ids,
                                     stw_error *err)
{
    /* The newest image row of each (ref, platform): a rescan adds rows. */
    sqlite3_stmt *q = NULL;
    stw_status st = prepare(
        s,
        "SELECT i.id, i.ref, i.manifest_digest, i.config_digest, i.platform "
        "FROM images i WHERE i.id = (SELECT MAX(j.id) FROM images j WHERE "
        "j.ref = i.ref AND j.platform = i.platform) ORDER BY i.ref, "
        "i.platform",
        &q, err, "read latest images");
    size_t cap = 0, idcap = 0;
    int rc = SQLITE_DONE;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *ref = (const char *)sqlite3_column_text(q, 1);
        if (glob && fnmatch(glob, ref ? ref : "", 0) != 0)
            continue;
        st = append_image_row(s, q, r, ids, &cap, &idcap, err);
    }
    if (!st && rc != SQLITE_DONE)
        st = db_fail(s, err, "read latest images");
    sqlite3_finalize(q);
    return st;
}

stw_status stw_store_load_latest(stw_store *s, const char *image_glob,
                                 stw_results **out, stw_error *err)
{
    if (!s || !out)
        return stw_fail(err, STW_ERR_USAGE, "load_latest: missing argument");
    *out = NULL;
    stw_results *r = calloc(1, sizeof *r);
    if (!r)
        return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
    int64_t *ids = NULL;
    sqlite3_stmt *q = NULL;
    stw_status st = exec(s, "BEGIN", err, "begin read");
    if (!st)
        st = prepare(s,
                     "SELECT rules_version FROM scans ORDER BY id DESC "
                     "LIMIT 1",
                     &q, err, "read rules version");
    if (!st) {
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
            r->rules_version = col_dup(q, 0);
        else if (rc == SQLITE_DONE)
            r->rules_version = stw_strdup("");
        else
            st = db_fail(s, err, "read rules version");
        if (!st && !r->rules_version)
            st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
    }
    sqlite3_finalize(q);
    if (!st)
        st = load_latest_images(s, image_glob, r, &ids, err);
    size_t fcap = 0;
    for (size_t i = 0; i < r->n_images && !st; i++) {
        st = load_layers(s, ids[i], &r->images[i], err);
        if (!st)
            st = load_findings(s, ids[i], i, r, &fcap, err);
    }
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    free(ids);
    if (st) {
        stw_results_destroy(r);
        return st;
    }
    *out = r;
    return STW_OK;
}

/* Runs a query returning one integer (or text when txt is set). */
static stw_status query_one(stw_store *s, const char *sql, int64_t *v,
                            char *txt, size_t txtlen, stw_error *err)
{
    sqlite3_stmt *q = NULL;
    stw_status st = prepare(s, sql, &q, err, "read statistics");
    if (st)
        return st;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        if (v)
            *v = sqlite3_column_int64(q, 0);
        if (txt) {
            const char *t = (const char *)sqlite3_column_text(q, 0);
            snprintf(txt, txtlen, "%s", t ? t : "");
        }
    } else if (rc != SQLITE_DONE) {
        st = db_fail(s, err, "read statistics");
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
    stw_status st = exec(s, "BEGIN", err, "begin read");
    for (size_t i = 0; !st && i < STW_ARRAY_LEN(ints); i++)
        st = query_one(s, ints[i].sql, ints[i].v, NULL, 0, err);
    if (!st)
        st = query_one(s, "SELECT MIN(started_at) FROM scans", NULL,
                       out->first_scan, sizeof out->first_scan, err);
    if (!st)
        st = query_one(s, "SELECT MAX(started_at) FROM scans", NULL,
                       out->last_scan, sizeof out->last_scan, err);
    sqlite3_stmt *q = NULL;
    if (!st)
        st = prepare(s,
                     "SELECT severity, COUNT(*) FROM findings GROUP BY "
                     "severity",
                     &q, err, "count findings");
    int rc = SQLITE_DONE;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        stw_severity sev;
        if (stw_severity_parse((const char *)sqlite3_column_text(q, 0), &sev) ==
            STW_OK)
            out->by_severity[sev] += sqlite3_column_int64(q, 1);
    }
    if (!st && rc != SQLITE_DONE)
        st = db_fail(s, err, "count findings");
    sqlite3_finalize(q);
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    out->bytes = pages * page_size;
    return st;
}

stw_status stw_store_prune(stw_store *s, int64_t older_than_s, bool vacuum,
                           stw_prune_counts *out, stw_error *err)
{
    stw_prune_counts c = {0};
    if (older_than_s < 0)
        return stw_fail(err, STW_ERR_USAGE, "prune: negative age");
    char mod[64];
    snprintf(mod, sizeof mod, "-%lld seconds", (long long)older_than_s);
    /* Deleting a scan cascades to its images, their layer lists and
     * finding links, and its errors (foreign_keys is on). */
    static const char *const steps[] = {
        "DELETE FROM scans WHERE started_at < strftime('%Y-%m-%dT%H:%M:%fZ', "
        "'now', ?1)",
        "DELETE FROM layers WHERE digest NOT IN (SELECT layer_digest FROM "
        "image_layers) AND digest NOT IN (SELECT layer_digest FROM "
        "deferred_image_layers)",
        "DELETE FROM findings WHERE (in_config = 0 AND blob_digest NOT IN "
        "(SELECT digest FROM layers)) OR (in_config = 1 AND blob_digest NOT "
        "IN (SELECT config_digest FROM images) AND blob_digest NOT IN "
        "(SELECT config_digest FROM deferred_images))",
    };
    int64_t *counts[] = {&c.scans, &c.layers, &c.findings};
    int64_t images_before = 0, images_after = 0;
    stw_status st = tx_begin(s, err);
    if (!st)
        st = query_one(s, "SELECT COUNT(*) FROM images", &images_before, NULL,
                       0, err);
    for (size_t i = 0; !st && i < STW_ARRAY_LEN(steps); i++) {
        sqlite3_stmt *q = NULL;
        st = prepare(s, steps[i], &q, err, "prune");
        if (st)
            break;
        if (i == 0)
            sqlite3_bind_text(q, 1, mod, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE)
            st = db_fail(s, err, "prune");
        else
            *counts[i] = sqlite3_changes(s->db);
        sqlite3_finalize(q);
    }
    if (!st)
        st = query_one(s, "SELECT COUNT(*) FROM images", &images_after, NULL, 0,
                       err);
    if (!st)
        st = tx_commit(s, err);
    if (st) {
        tx_rollback(s);
        return st;
    }
    c.images = images_before - images_after;
    if (vacuum) {
        st = exec(s, "VACUUM", err, "vacuum");
        if (!st)
            st = exec(s, "PRAGMA wal_checkpoint(TRUNCATE)", err, "checkpoint");
    }
    if (out)
        *out = c;
    return st;
}

/* ---- batch scans: shards, resuming, merging ----------------------------- */

/* Prepares sql and binds its arguments: fmt has one letter per parameter,
 * 'i' an int64_t, 't' a text (NULL binds SQL NULL). */
static stw_status prep(stw_store *s, sqlite3_stmt **q, stw_error *err,
                       const char *sql, const char *fmt, ...)
{
    *q = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, q, NULL) != SQLITE_OK)
        return db_fail(s, err, "prepare");
    va_list ap;
    va_start(ap, fmt);
    for (int i = 0; fmt && fmt[i]; i++) {
        if (fmt[i] == 'i') {
            sqlite3_bind_int64(*q, i + 1, va_arg(ap, int64_t));
        } else {
            const char *t = va_arg(ap, const char *);
            if (t)
                sqlite3_bind_text(*q, i + 1, t, -1, SQLITE_TRANSIENT);
        }
    }
    va_end(ap);
    return STW_OK;
}

/* Steps a prepared statement to completion (rows ignored) and finalizes
 * it. */
static stw_status finish(stw_store *s, sqlite3_stmt *q, stw_error *err,
                         const char *what)
{
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        ;
    stw_status st = rc == SQLITE_DONE ? STW_OK : db_fail(s, err, "%s", what);
    sqlite3_finalize(q);
    return st;
}

void stw_store_set_shard(stw_store *s, unsigned k, unsigned n)
{
    if (!s)
        return;
    s->shard_k = n > 1 ? k : 0;
    s->shard_n = n > 1 ? n : 0;
}

/* The body of put_deferred, inside its transaction. */
static stw_status put_deferred_tx(stw_store *s, int64_t scan_id,
                                  const stw_image_record *img,
                                  const stw_finding_list *config_findings,
                                  int64_t *image_id, stw_error *err)
{
    sqlite3_stmt *q = NULL;
    stw_status st = prep(s, &q, err,
                         "SELECT COALESCE(MAX(position) + 1, 0) FROM "
                         "deferred_images WHERE scan_id = ?1",
                         "i", scan_id);
    int64_t position = 0;
    if (!st) {
        if (sqlite3_step(q) == SQLITE_ROW)
            position = sqlite3_column_int64(q, 0);
        else
            st = db_fail(s, err, "image %s: position", img->ref);
        sqlite3_finalize(q);
    }
    if (!st)
        st = prep(s, &q, err,
                  "INSERT INTO deferred_images (scan_id, ref, "
                  "manifest_digest, config_digest, platform, position) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                  "itttti", scan_id, img->ref,
                  img->manifest_digest ? img->manifest_digest : "",
                  img->config_digest, img->platform ? img->platform : "",
                  position);
    if (!st)
        st = finish(s, q, err, "record image for merge");
    int64_t id = sqlite3_last_insert_rowid(s->db);
    for (size_t i = 0; i < img->n_layers && !st; i++) {
        if (!img->layers[i].digest)
            return stw_fail(err, STW_ERR_USAGE,
                            "put_image: %s: layer %zu has no digest", img->ref,
                            i);
        st = prep(s, &q, err,
                  "INSERT INTO deferred_image_layers (image_id, idx, "
                  "layer_digest, created_by, cached) VALUES (?1, ?2, ?3, "
                  "?4, ?5)",
                  "iitti", id, (int64_t)i, img->layers[i].digest,
                  img->layers[i].created_by ? img->layers[i].created_by : "",
                  (int64_t)img->layers[i].cached);
        if (!st)
            st = finish(s, q, err, "record image layer for merge");
    }
    if (!st)
        st =
            replace_findings(s, img->config_digest, true, config_findings, err);
    if (!st)
        *image_id = id;
    return st;
}

/* Shard mode's put_image: the owner records the image for the merge. */
static stw_status put_deferred(stw_store *s, int64_t scan_id,
                               const stw_image_record *img,
                               const stw_finding_list *config_findings,
                               int64_t *image_id, stw_error *err)
{
    const char *owner_key = img->manifest_digest && *img->manifest_digest
                                ? img->manifest_digest
                                : img->config_digest;
    if (image_id)
        *image_id = 0;
    if (stw_shard_of(owner_key, s->shard_n) != s->shard_k)
        return STW_OK;
    int64_t id = 0;
    stw_status st = tx_begin(s, err);
    if (!st) {
        st = put_deferred_tx(s, scan_id, img, config_findings, &id, err);
        if (!st)
            st = tx_commit(s, err);
        if (st)
            tx_rollback(s);
    }
    if (!st && image_id)
        *image_id = id;
    return st;
}

stw_status stw_store_find_unfinished_scan(stw_store *s, const char *args,
                                          int64_t *scan_id, bool *found,
                                          stw_error *err)
{
    *found = false;
    sqlite3_stmt *q = NULL;
    stw_status st = prep(s, &q, err,
                         "SELECT id FROM scans WHERE finished_at IS NULL AND "
                         "args = ?1 ORDER BY id DESC LIMIT 1",
                         "t", args ? args : "");
    if (st)
        return st;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *scan_id = sqlite3_column_int64(q, 0);
        *found = true;
    } else if (rc != SQLITE_DONE) {
        st = db_fail(s, err, "look for an unfinished scan");
    }
    sqlite3_finalize(q);
    return st;
}

stw_status stw_store_scan_has_ref(stw_store *s, int64_t scan_id,
                                  const char *ref, bool *has, stw_error *err)
{
    *has = false;
    sqlite3_stmt *q = NULL;
    stw_status st = prep(s, &q, err,
                         "SELECT 1 FROM images WHERE scan_id = ?1 AND ref = ?2 "
                         "UNION ALL SELECT 1 FROM deferred_images WHERE "
                         "scan_id = ?1 AND ref = ?2 LIMIT 1",
                         "it", scan_id, ref);
    if (st)
        return st;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *has = true;
    else if (rc != SQLITE_DONE)
        st = db_fail(s, err, "look up image %s", ref);
    sqlite3_finalize(q);
    return st;
}

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

/* Turns one deferred image, whose layers are all stored, into an image
 * with its visibility, and drops the deferred row. */
static stw_status complete_deferred(stw_store *s, const deferred_row *d,
                                    stw_error *err)
{
    sqlite3_stmt *q = NULL;
    stw_status st = prep(s, &q, err,
                         "SELECT layer_digest, created_by, cached FROM "
                         "deferred_image_layers WHERE image_id = ?1 ORDER BY "
                         "idx",
                         "i", d->id);
    if (st)
        return st;
    stw_image_layer *ls = NULL;
    char **strs = NULL;
    size_t n = 0, cap = 0, scap = 0;
    int rc;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n >= STW_MAX_LAYERS) {
            st = stw_fail(err, STW_ERR_LIMIT, "%s: %s: more than %d layers",
                          s->name, d->ref, STW_MAX_LAYERS);
            break;
        }
        if (!grow((void **)&ls, &cap, n, sizeof *ls) ||
            !grow((void **)&strs, &scap, 2 * n + 1, sizeof *strs) ||
            !grow((void **)&strs, &scap, 2 * n, sizeof *strs)) {
            st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
            break;
        }
        strs[2 * n] = col_dup(q, 0);
        strs[2 * n + 1] = col_dup(q, 1);
        ls[n].digest = strs[2 * n];
        ls[n].created_by = strs[2 * n + 1];
        ls[n].cached = sqlite3_column_int(q, 2) != 0;
        n++;
        if (!strs[2 * n - 2] || !strs[2 * n - 1])
            st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
    }
    if (!st && rc != SQLITE_DONE)
        st = db_fail(s, err, "read layers of deferred image %s", d->ref);
    sqlite3_finalize(q);
    layer_pathset *ps = st ? NULL : calloc(n ? n : 1, sizeof *ps);
    if (!st && !ps)
        st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
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
        st = put_image_tx(s, d->scan_id, &rec, NULL, true, d->position, ps, &id,
                          err);
    }
    for (size_t i = 0; ps && i < n; i++)
        free(ps[i].blob);
    free(ps);
    for (size_t i = 0; i < 2 * n; i++)
        free(strs[i]);
    free(strs);
    free(ls);
    if (!st)
        st = prep(s, &q, err, "DELETE FROM deferred_images WHERE id = ?1", "i",
                  d->id);
    if (!st)
        st = finish(s, q, err, "drop completed deferred image");
    return st;
}

/* Completes every deferred image of s whose layers are all stored. */
static stw_status complete_ready(stw_store *s, int64_t *completed,
                                 stw_error *err)
{
    sqlite3_stmt *q = NULL;
    stw_status st = prep(
        s, &q, err,
        "SELECT d.id, d.scan_id, d.position, d.ref, d.manifest_digest, "
        "d.config_digest, d.platform FROM main.deferred_images d WHERE NOT "
        "EXISTS (SELECT 1 FROM main.deferred_image_layers dl WHERE "
        "dl.image_id = d.id AND dl.layer_digest NOT IN (SELECT digest FROM "
        "main.layers)) ORDER BY d.scan_id, d.position, d.id",
        NULL);
    if (st)
        return st;
    /* Read them all first: completing one deletes from the table read. */
    deferred_row *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (!grow((void **)&v, &cap, n, sizeof *v)) {
            st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
            break;
        }
        deferred_row *d = &v[n++];
        d->id = sqlite3_column_int64(q, 0);
        d->scan_id = sqlite3_column_int64(q, 1);
        d->position = sqlite3_column_int64(q, 2);
        d->ref = col_dup(q, 3);
        d->manifest = col_dup(q, 4);
        d->config = col_dup(q, 5);
        d->platform = col_dup(q, 6);
        if (!d->ref || !d->manifest || !d->config || !d->platform)
            st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
    }
    if (!st && rc != SQLITE_DONE)
        st = db_fail(s, err, "read deferred images");
    sqlite3_finalize(q);
    for (size_t i = 0; i < n && !st; i++) {
        st = complete_deferred(s, &v[i], err);
        if (!st)
            (*completed)++;
    }
    deferred_rows_free(v, n);
    return st;
}

static stw_status count_rows(stw_store *s, const char *sql, int64_t *v,
                             stw_error *err)
{
    return query_one(s, sql, v, NULL, 0, err);
}

/* The scans of src, matched to or added as scans of main, into
 * temp.stw_merge_scans. */
static stw_status merge_scans(stw_store *s, stw_merge_counts *c, stw_error *err)
{
    stw_status st = exec(s,
                         "CREATE TEMP TABLE IF NOT EXISTS stw_merge_scans "
                         "(src_id INTEGER PRIMARY KEY, dst_id INTEGER NOT "
                         "NULL); DELETE FROM temp.stw_merge_scans;",
                         err, "merge scans");
    sqlite3_stmt *q = NULL;
    if (!st)
        st = prep(s, &q, err,
                  "SELECT id, started_at, finished_at, tool_version, "
                  "rules_version, args FROM src.scans ORDER BY id",
                  NULL);
    int rc = SQLITE_DONE;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t src_id = sqlite3_column_int64(q, 0), dst = 0;
        const char *started = (const char *)sqlite3_column_text(q, 1);
        const char *finished = (const char *)sqlite3_column_text(q, 2);
        const char *tool = (const char *)sqlite3_column_text(q, 3);
        const char *rules = (const char *)sqlite3_column_text(q, 4);
        const char *args = (const char *)sqlite3_column_text(q, 5);
        sqlite3_stmt *f = NULL;
        st = prep(s, &f, err,
                  "SELECT id FROM main.scans WHERE started_at = ?1 AND "
                  "tool_version = ?2 AND rules_version = ?3 AND args IS ?4 "
                  "ORDER BY id LIMIT 1",
                  "tttt", started, tool, rules, args);
        if (st)
            break;
        int frc = sqlite3_step(f);
        bool found = frc == SQLITE_ROW;
        if (found)
            dst = sqlite3_column_int64(f, 0);
        else if (frc != SQLITE_DONE)
            st = db_fail(s, err, "match scan");
        sqlite3_finalize(f);
        if (!st && !found) {
            st = prep(s, &f, err,
                      "INSERT INTO main.scans (started_at, finished_at, "
                      "tool_version, rules_version, args) VALUES (?1, ?2, "
                      "?3, ?4, ?5)",
                      "ttttt", started, finished, tool, rules, args);
            if (!st)
                st = finish(s, f, err, "copy scan");
            dst = sqlite3_last_insert_rowid(s->db);
            c->scans++;
        } else if (!st) {
            st = prep(s, &f, err,
                      "UPDATE main.scans SET finished_at = "
                      "COALESCE(finished_at, ?2) WHERE id = ?1",
                      "it", dst, finished);
            if (!st)
                st = finish(s, f, err, "update scan");
        }
        if (!st)
            st = prep(s, &f, err,
                      "INSERT INTO temp.stw_merge_scans (src_id, dst_id) "
                      "VALUES (?1, ?2)",
                      "ii", src_id, dst);
        if (!st)
            st = finish(s, f, err, "map scan");
    }
    if (!st && rc != SQLITE_DONE)
        st = db_fail(s, err, "read scans");
    sqlite3_finalize(q);
    return st;
}

/* Copies the images of src (complete or deferred) as deferred images of
 * main, unless main's scan already has them. */
static stw_status merge_images(stw_store *s, stw_error *err)
{
    sqlite3_stmt *q = NULL;
    stw_status st = prep(
        s, &q, err,
        "SELECT 0, i.id, m.dst_id, i.ref, i.manifest_digest, i.config_digest, "
        "i.platform, i.position FROM src.images i JOIN temp.stw_merge_scans "
        "m ON m.src_id = i.scan_id UNION ALL SELECT 1, d.id, m.dst_id, d.ref, "
        "d.manifest_digest, d.config_digest, d.platform, d.position FROM "
        "src.deferred_images d JOIN temp.stw_merge_scans m ON m.src_id = "
        "d.scan_id ORDER BY 3, 8, 1, 2",
        NULL);
    int rc = SQLITE_DONE;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        bool deferred = sqlite3_column_int(q, 0) != 0;
        int64_t src_id = sqlite3_column_int64(q, 1);
        int64_t dst_scan = sqlite3_column_int64(q, 2);
        const char *ref = (const char *)sqlite3_column_text(q, 3);
        const char *man = (const char *)sqlite3_column_text(q, 4);
        const char *cfg = (const char *)sqlite3_column_text(q, 5);
        const char *plat = (const char *)sqlite3_column_text(q, 6);
        int64_t pos = sqlite3_column_int64(q, 7);
        sqlite3_stmt *f = NULL;
        st = prep(s, &f, err,
                  "SELECT 1 FROM main.images WHERE scan_id = ?1 AND ref = ?2 "
                  "AND platform = ?3 AND manifest_digest = ?4 AND "
                  "config_digest = ?5 AND position = ?6 UNION ALL SELECT 1 "
                  "FROM main.deferred_images WHERE scan_id = ?1 AND ref = ?2 "
                  "AND platform = ?3 AND manifest_digest = ?4 AND "
                  "config_digest = ?5 AND position = ?6 LIMIT 1",
                  "itttti", dst_scan, ref, plat, man, cfg, pos);
        if (st)
            break;
        int frc = sqlite3_step(f);
        sqlite3_finalize(f);
        if (frc == SQLITE_ROW)
            continue;
        if (frc != SQLITE_DONE) {
            st = db_fail(s, err, "match image %s", ref ? ref : "");
            break;
        }
        st = prep(s, &f, err,
                  "INSERT INTO main.deferred_images (scan_id, ref, "
                  "manifest_digest, config_digest, platform, position) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                  "itttti", dst_scan, ref, man, cfg, plat, pos);
        if (!st)
            st = finish(s, f, err, "copy image");
        int64_t id = sqlite3_last_insert_rowid(s->db);
        if (!st)
            st = prep(s, &f, err,
                      deferred ? "INSERT INTO main.deferred_image_layers "
                                 "(image_id, idx, layer_digest, created_by, "
                                 "cached) SELECT ?1, idx, layer_digest, "
                                 "created_by, cached FROM "
                                 "src.deferred_image_layers WHERE image_id = "
                                 "?2"
                               : "INSERT INTO main.deferred_image_layers "
                                 "(image_id, idx, layer_digest, created_by, "
                                 "cached) SELECT ?1, idx, layer_digest, "
                                 "created_by, cached FROM src.image_layers "
                                 "WHERE image_id = ?2",
                      "ii", id, src_id);
        if (!st)
            st = finish(s, f, err, "copy image layers");
    }
    if (!st && rc != SQLITE_DONE)
        st = db_fail(s, err, "read images to merge");
    sqlite3_finalize(q);
    return st;
}

/* The body of stw_store_merge, inside its transaction. */
static stw_status merge_tx(stw_store *s, stw_merge_counts *c, stw_error *err)
{
    int64_t layers0 = 0, findings0 = 0, layers1 = 0, findings1 = 0;
    stw_status st =
        count_rows(s, "SELECT COUNT(*) FROM main.layers", &layers0, err);
    if (!st)
        st = count_rows(s, "SELECT COUNT(*) FROM main.findings", &findings0,
                        err);
    /* Layers new to main come with their findings; a layer main already
     * has keeps its own. Config findings are facts about the config blob:
     * the same fingerprint is the same fact. */
    if (!st)
        st = exec(
            s,
            "CREATE TEMP TABLE IF NOT EXISTS stw_merge_new (digest TEXT "
            "PRIMARY KEY); DELETE FROM temp.stw_merge_new; "
            "INSERT INTO temp.stw_merge_new SELECT digest FROM src.layers "
            "WHERE digest NOT IN (SELECT digest FROM main.layers); "
            "INSERT INTO main.layers (digest, diff_id, media_type, size, "
            "uncompressed, entries, pathset, rules_version, scanned_at) "
            "SELECT digest, diff_id, media_type, size, uncompressed, entries, "
            "pathset, rules_version, scanned_at FROM src.layers WHERE digest "
            "IN (SELECT digest FROM temp.stw_merge_new) ORDER BY digest; "
            "INSERT OR IGNORE INTO main.findings (blob_digest, in_config, "
            "path, is_dir, kind, rule, severity, line, \"offset\", mode, uid, "
            "gid, validated, fingerprint, secret_sha256, excerpt, detail) "
            "SELECT blob_digest, in_config, path, is_dir, kind, rule, "
            "severity, line, \"offset\", mode, uid, gid, validated, "
            "fingerprint, secret_sha256, excerpt, detail FROM src.findings "
            "WHERE (in_config = 0 AND blob_digest IN (SELECT digest FROM "
            "temp.stw_merge_new)) OR in_config = 1 ORDER BY id;",
            err, "merge layers and findings");
    if (!st)
        st = merge_scans(s, c, err);
    if (!st)
        st = exec(s,
                  "INSERT INTO main.errors (scan_id, target, message) SELECT "
                  "m.dst_id, e.target, e.message FROM src.errors e JOIN "
                  "temp.stw_merge_scans m ON m.src_id = e.scan_id WHERE NOT "
                  "EXISTS (SELECT 1 FROM main.errors x WHERE x.scan_id = "
                  "m.dst_id AND x.target = e.target AND x.message = "
                  "e.message) ORDER BY e.id;",
                  err, "merge errors");
    if (!st)
        st = merge_images(s, err);
    if (!st)
        st = complete_ready(s, &c->images, err);
    if (!st)
        st = count_rows(s, "SELECT COUNT(*) FROM main.deferred_images",
                        &c->deferred, err);
    if (!st)
        st = count_rows(s, "SELECT COUNT(*) FROM main.layers", &layers1, err);
    if (!st)
        st = count_rows(s, "SELECT COUNT(*) FROM main.findings", &findings1,
                        err);
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
    st = prep(s, &q, err, "ATTACH DATABASE ?1 AS src", "t", in_path);
    if (!st)
        st = finish(s, q, err, "attach input database");
    if (st)
        return st;
    st = tx_begin(s, err);
    if (!st) {
        st = merge_tx(s, &c, err);
        if (!st)
            st = tx_commit(s, err);
        if (st)
            tx_rollback(s);
    }
    if (st)
        stw_error_prefix(err, in_path);
    stw_error ignored;
    exec(s, "DETACH DATABASE src", &ignored, "detach");
    if (!st && out)
        *out = c;
    return st;
}

/* ---- leaking layers ----------------------------------------------------- */

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
    if (!grow((void **)&r->layers, cap, r->n_layers, sizeof *r->layers))
        return NULL;
    stw_leak_layer *l = &r->layers[r->n_layers];
    memset(l, 0, sizeof *l);
    if (!(l->digest = stw_strdup(digest)))
        return NULL;
    r->n_layers++;
    return l;
}

stw_status stw_store_leaks_by_layer(stw_store *s, const char *image_glob,
                                    stw_severity min_severity,
                                    stw_leak_report **out, stw_error *err)
{
    if (!s || !out)
        return stw_fail(err, STW_ERR_USAGE, "leaks_by_layer: missing argument");
    *out = NULL;
    stw_leak_report *r = calloc(1, sizeof *r);
    if (!r)
        return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
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
    size_t cap = 0;
    stw_status st = exec(s, "BEGIN", err, "begin read");
    if (!st)
        st = prep(s, &q, err, sql, "i", (int64_t)min_severity);
    int rc = SQLITE_DONE;
    size_t *icap = NULL; /* image capacity per layer, parallel to layers */
    size_t icap_n = 0;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *ref = (const char *)sqlite3_column_text(q, 1);
        if (image_glob && fnmatch(image_glob, ref ? ref : "", 0) != 0)
            continue;
        stw_leak_layer *l =
            leak_layer(r, &cap, (const char *)sqlite3_column_text(q, 0));
        if (l && icap_n < cap) {
            size_t *ni = realloc(icap, cap * sizeof *ni);
            if (ni) {
                memset(ni + icap_n, 0, (cap - icap_n) * sizeof *ni);
                icap = ni;
                icap_n = cap;
            } else {
                l = NULL;
            }
        }
        if (!l || !grow((void **)&l->images, &icap[l - r->layers], l->n_images,
                        sizeof *l->images)) {
            st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
            break;
        }
        stw_leak_image *im = &l->images[l->n_images++];
        im->ref = col_dup(q, 1);
        im->platform = col_dup(q, 2);
        im->scanned_at = col_dup(q, 3);
        im->layer_idx = sqlite3_column_int(q, 4);
        im->visible = sqlite3_column_int64(q, 6);
        im->hidden = sqlite3_column_int64(q, 7);
        l->visible += im->visible;
        l->hidden += im->hidden;
        if (!l->created_by)
            l->created_by = col_dup(q, 5);
        if (!im->ref || !im->platform || !im->scanned_at || !l->created_by)
            st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", s->name);
    }
    if (!st && rc != SQLITE_DONE)
        st = db_fail(s, err, "read leaking layers");
    sqlite3_finalize(q);
    free(icap);
    /* The findings of each blob by severity, for the headline. */
    for (size_t i = 0; i < r->n_layers && !st; i++) {
        stw_leak_layer *l = &r->layers[i];
        st = prep(s, &q, err,
                  "SELECT severity, COUNT(*) FROM findings WHERE "
                  "blob_digest = ?1 AND in_config = 0 GROUP BY severity",
                  "t", l->digest);
        while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            stw_severity sev;
            if (stw_severity_parse((const char *)sqlite3_column_text(q, 0),
                                   &sev) != STW_OK ||
                sev < min_severity)
                continue;
            int64_t k = sqlite3_column_int64(q, 1);
            l->by_severity[sev] += k;
            l->findings += k;
            if (sev > l->max_severity)
                l->max_severity = sev;
        }
        if (!st && rc != SQLITE_DONE)
            st = db_fail(s, err, "count findings of %s", l->digest);
        sqlite3_finalize(q);
        q = NULL;
    }
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (st) {
        stw_leak_report_destroy(r);
        return st;
    }
    if (r->n_layers)
        stw_sort(r->layers, r->n_layers, sizeof *r->layers, leak_cmp);
    *out = r;
    return STW_OK;
}
