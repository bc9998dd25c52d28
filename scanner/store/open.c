/* open.c - opening a store (store.h): the connection and its pragmas, the
 * embedded schema migrations (db/NNN_*.sql, PRAGMA user_version), and the
 * statements of the write and read paths, prepared once here. */
#include "store_internal.h"

#include "common.h"
#include "embedded.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

/* Long enough for a registry-wide batch scan to wait out another process's
 * image transaction, short enough that a stuck lock becomes an error. */
#define STORE_BUSY_TIMEOUT_MS 30000

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

/* The statements of store_internal.h's enum: the write path's, then the read
 * path's. */
static const char *const query_sql[Q_COUNT_] = {
    [Q_SCAN_INSERT] = "INSERT INTO scans (started_at, active_at, "
                      "tool_version, rules_version, args) VALUES (" NOW_SQL
                      ", " NOW_SQL ", ?1, ?2, ?3)",
    [Q_SCAN_END] = "UPDATE scans SET finished_at = " NOW_SQL " WHERE id = ?1",
    [Q_SCAN_TOUCH] = "UPDATE scans SET active_at = " NOW_SQL " WHERE id = ?1",
    [Q_SCAN_RELEASE] = "DELETE FROM scan_layers WHERE scan_id = ?1",
    [Q_LAYER_HOLD] = "INSERT OR IGNORE INTO scan_layers (scan_id, "
                     "layer_digest) VALUES (?1, ?2)",
    [Q_LAYER_CACHED] = "SELECT CASE WHEN diff_id_verified THEN diff_id "
                       "ELSE '' END FROM layers WHERE digest = ?1 AND "
                       "rules_version = ?2",
    [Q_LAYER_UPSERT] =
        "INSERT INTO layers (digest, diff_id, media_type, size, uncompressed, "
        "entries, pathset, rules_version, scanned_at, diff_id_verified) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, " NOW_SQL ", ?9) "
        "ON CONFLICT (digest) DO UPDATE SET "
        "diff_id = excluded.diff_id, "
        "diff_id_verified = excluded.diff_id_verified, "
        "media_type = excluded.media_type, "
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
        "fingerprint, secret_sha256, excerpt, detail, git_source, git_commit, "
        "git_path, git_reachable, git_in_worktree, in_history) VALUES (?1, "
        "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
        "?17, ?18, ?19, ?20, ?21, ?22, ?23) "
        "ON CONFLICT (blob_digest, in_config, fingerprint) DO UPDATE SET "
        "path = excluded.path, is_dir = excluded.is_dir, "
        "kind = excluded.kind, rule = excluded.rule, "
        "severity = excluded.severity, line = excluded.line, "
        "\"offset\" = excluded.\"offset\", mode = excluded.mode, "
        "uid = excluded.uid, gid = excluded.gid, "
        "validated = excluded.validated, "
        "secret_sha256 = excluded.secret_sha256, excerpt = excluded.excerpt, "
        "detail = excluded.detail, git_source = excluded.git_source, "
        "git_commit = excluded.git_commit, git_path = excluded.git_path, "
        "git_reachable = excluded.git_reachable, "
        "git_in_worktree = excluded.git_in_worktree, "
        "in_history = excluded.in_history "
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
                             "layer_digest, created_by, cached, diff_id) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_IMAGE_FINDING_INSERT] =
        "INSERT INTO image_findings (image_id, finding_id, layer_idx, "
        "visible, removed_in_layer) VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_ERROR_INSERT] = "INSERT INTO errors (scan_id, target, message) "
                       "VALUES (?1, ?2, ?3)",
    [Q_LOAD_SCAN] = "SELECT rules_version FROM scans WHERE id = ?1",
    [Q_LOAD_IMAGES] = "SELECT id, ref, manifest_digest, config_digest, "
                      "platform FROM images WHERE scan_id = ?1 "
                      "ORDER BY position, id",
    /* The diff_id shown is the image's own claim (the layer's computed one
     * when the image has no config); it is verified when the layer's was
     * computed and the claim agrees. */
    [Q_LOAD_LAYERS] =
        "SELECT il.layer_digest, COALESCE(NULLIF(il.diff_id, ''), l.diff_id), "
        "l.media_type, il.created_by, l.size, il.cached, "
        "l.diff_id_verified AND l.diff_id <> '' AND "
        "COALESCE(NULLIF(il.diff_id, ''), l.diff_id) = l.diff_id "
        "FROM image_layers il JOIN layers l "
        "ON l.digest = il.layer_digest WHERE il.image_id = ?1 ORDER BY il.idx",
    /* Config findings (layer_idx NULL) last; fingerprint and id only break
     * ties so two loads of one scan always agree. */
    [Q_LOAD_FINDINGS] =
        "SELECT x.layer_idx, f.blob_digest, f.path, f.kind, f.rule, "
        "f.severity, f.line, f.\"offset\", x.visible, x.removed_in_layer, "
        "f.mode, f.uid, f.gid, f.validated, f.fingerprint, f.secret_sha256, "
        "f.excerpt, f.detail, f.git_source, f.git_commit, f.git_path, "
        "f.git_reachable, f.git_in_worktree, f.in_history "
        "FROM image_findings x JOIN findings f "
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
    int64_t n = 0;
    stw_status st = stw_sql_one_int64(s, "PRAGMA user_version", &n, err,
                                      "read schema version");
    *v = (long)n;
    return st;
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
            return stw_sql_fail(s, err, "set journal mode");
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

    stw_status st = stw_sql_exec(s, "BEGIN IMMEDIATE", err, "begin migration");
    if (st)
        return st;
    st = read_user_version(s, &have, err);
    if (st)
        goto fail;
    if (have > ours) {
        stw_sql_rollback(s);
        goto newer;
    }
    for (const struct stw_embedded *m = stw_embedded_migrations; m->name; m++) {
        long n = migration_number(m->name);
        if (n <= have)
            continue;
        st = stw_sql_exec(s, m->data, err, "migration %s", m->name);
        if (st)
            goto fail;
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %ld", n);
        st = stw_sql_exec(s, sql, err, "set schema version");
        if (st)
            goto fail;
    }
    st = stw_sql_exec(s, "COMMIT", err, "commit migration");
    if (st)
        goto fail;
    return STW_OK;

fail:
    stw_sql_rollback(s);
    return st;
newer:
    return stw_fail(err, STW_ERR_DB,
                    "%s: database schema version %ld is newer than this "
                    "stowaway supports (%ld)",
                    s->name, have, ours);
}

/* The statements, once the schema is ours. A reader prepares the write
 * statements too (their temp table lives in memory, not in the file), so
 * a write on it fails with SQLite's own "readonly database" error. */
static stw_status prepare(stw_store *s, stw_error *err)
{
    stw_status st = stw_sql_exec(s,
                                 "CREATE TEMP TABLE IF NOT EXISTS stw_keep "
                                 "(id INTEGER PRIMARY KEY)",
                                 err, "create temp table");
    for (int i = 0; !st && i < Q_COUNT_; i++)
        if (sqlite3_prepare_v3(s->db, query_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &s->q[i],
                               NULL) != SQLITE_OK)
            st = stw_sql_fail(s, err, "prepare %.60s", query_sql[i]);
    return st;
}

static stw_status store_alloc(const char *path, stw_store **out, stw_error *err)
{
    stw_store *s = stw_calloc(1, sizeof *s);
    if (!s || !(s->name = stw_strdup(path))) {
        free(s);
        return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", path);
    }
    *out = s;
    return STW_OK;
}

static stw_status open_connection(stw_store *s, const char *uri, int flags,
                                  stw_error *err)
{
    int rc = sqlite3_open_v2(uri, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        if (s->db)
            return stw_sql_fail(s, err, "open");
        return stw_fail(err, STW_ERR_NOMEM, "%s: open: out of memory", s->name);
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    return STW_OK;
}

stw_status stw_store_open(const char *path, stw_store **out, stw_error *err)
{
    if (!out)
        return stw_fail(err, STW_ERR_USAGE, "store_open: out is NULL");
    *out = NULL;
    if (!path)
        path = ":memory:";

    stw_store *s = NULL;
    stw_status st = store_alloc(path, &s, err);
    if (st)
        return st;
    s->on_disk = strcmp(path, ":memory:") != 0 && path[0] != 0;
    st = open_connection(s, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                         err);
    if (st)
        goto fail;

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
     * last transactions, never corrupt). stw_store_close() turns the file
     * back to a rollback journal. */
    st = set_wal(s, err);
    s->in_wal = !st;
    if (!st)
        st = stw_sql_exec(
            s,
            "PRAGMA synchronous = NORMAL; "
            "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;",
            err, "set pragmas");
    if (!st)
        st = migrate(s, have, ours, err);
    if (!st)
        st = prepare(s, err);
    if (st)
        goto fail;
    *out = s;
    return STW_OK;

fail:
    stw_store_close(s);
    return st;
}

/* path as a "file:" URI with immutable=1: '%', '?' and '#' escaped, the
 * only characters a URI file name gives a meaning. Malloc'd, NULL when out
 * of memory. */
static char *immutable_uri(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path);
    char *uri = stw_malloc(3 * n + sizeof "file:?immutable=1");
    if (!uri)
        return NULL;
    char *p = stpcpy(uri, "file:");
    for (const char *c = path; *c; c++) {
        if (*c == '%' || *c == '?' || *c == '#') {
            *p++ = '%';
            *p++ = hex[(unsigned char)*c >> 4];
            *p++ = hex[(unsigned char)*c & 15];
        } else {
            *p++ = *c;
        }
    }
    memcpy(p, "?immutable=1", sizeof "?immutable=1");
    return uri;
}

/* True when nothing can change path: its file system is mounted read-only
 * and no -wal holds transactions that immutable=1 would not read. */
static bool cannot_change(const char *path)
{
    struct statvfs vfs;
    if (statvfs(path, &vfs) != 0 || !(vfs.f_flag & ST_RDONLY))
        return false;
    size_t n = strlen(path) + sizeof "-wal";
    char *wal = stw_malloc(n);
    if (!wal)
        return false;
    snprintf(wal, n, "%s-wal", path);
    struct stat sb;
    bool quiet = stat(wal, &sb) != 0 || sb.st_size == 0;
    free(wal);
    return quiet;
}

/* Reading a WAL database needs its -shm. Writers leave the file in
 * rollback mode (stw_store_close), and a writer killed mid-way leaves its
 * -shm and -wal, which a read-only connection can use; what remains is a
 * file left in WAL mode by an older stowaway where the -shm cannot be
 * created. On a read-only mount nothing can write the file, so it is read
 * as immutable (no locks, no -shm); anywhere else a writer could still
 * come, so that would risk reading a page mid-change and it stays an error
 * saying what to do. */
static stw_status reopen_immutable(stw_store *s, stw_error *err)
{
    char *uri = immutable_uri(s->name);
    if (!uri)
        return stw_store_nomem(s, err);
    sqlite3_close(s->db);
    s->db = NULL;
    stw_status st =
        open_connection(s, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, err);
    free(uri);
    return st;
}

/* The schema check of a reader: ours exactly, or a message saying why
 * reading cannot go on. */
static stw_status check_readable(stw_store *s, long ours, stw_error *err)
{
    long have = 0;
    int64_t tables = 0;
    stw_status st = stw_sql_one_int64(s, "SELECT COUNT(*) FROM sqlite_master",
                                      &tables, err, "read schema");
    if (!st)
        st = read_user_version(s, &have, err);
    if (st)
        return st;
    if (tables == 0)
        return stw_fail(err, STW_ERR_DB,
                        "%s: empty database: nothing has been scanned into "
                        "it",
                        s->name);
    if (have == 0)
        return stw_fail(err, STW_ERR_DB, "%s: not a stowaway database",
                        s->name);
    if (have < ours)
        return stw_fail(err, STW_ERR_DB,
                        "%s: database schema version %ld is older than this "
                        "stowaway's (%ld); readers never change it: a scan "
                        "with --db %s upgrades it",
                        s->name, have, ours, s->name);
    if (have > ours)
        return stw_fail(err, STW_ERR_DB,
                        "%s: database schema version %ld is newer than this "
                        "stowaway supports (%ld)",
                        s->name, have, ours);
    return STW_OK;
}

stw_status stw_store_open_readonly(const char *path, stw_store **out,
                                   stw_error *err)
{
    if (!out || !path)
        return stw_fail(err, STW_ERR_USAGE, "store_open_readonly: no path");
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return stw_fail(err, STW_ERR_NOT_FOUND, "%s: no such database", path);
    if (!S_ISREG(sb.st_mode))
        return stw_fail(err, STW_ERR_DB, "%s: not a database file", path);

    stw_store *s = NULL;
    stw_status st = store_alloc(path, &s, err);
    if (st)
        return st;
    long ours = 0;
    st = schema_version(s, &ours, err);
    if (!st)
        st = open_connection(s, path, SQLITE_OPEN_READONLY, err);
    /* SQLite opens the file lazily: a WAL file whose -shm cannot be made
     * fails at the first read. */
    if (!st) {
        st = check_readable(s, ours, err);
        int rc = sqlite3_errcode(s->db);
        if (st && rc == SQLITE_CANTOPEN && cannot_change(path)) {
            st = reopen_immutable(s, err);
            if (!st)
                st = check_readable(s, ours, err);
        } else if (st && rc == SQLITE_CANTOPEN) {
            st = stw_fail(err, STW_ERR_DB,
                          "%s: cannot read: the database is in WAL mode "
                          "and its -shm file cannot be created here; any "
                          "stowaway scan with --db %s returns it to a "
                          "rollback journal",
                          path, path);
        }
    }
    if (!st)
        st = stw_sql_exec(s, "PRAGMA temp_store = MEMORY", err, "set pragmas");
    if (!st)
        st = prepare(s, err);
    if (st) {
        stw_store_close(s);
        return st;
    }
    *out = s;
    return STW_OK;
}

/* Leaves the file in rollback-journal mode when this is the last
 * connection, so that a reader who cannot create the -shm beside it (a
 * directory it may not write, a read-only mount) can read it. Another
 * connection still open keeps the lock and the WAL: the last one to close
 * does this. Best effort: the data is already committed either way. */
static void rest_in_rollback_mode(stw_store *s)
{
    /* Not a file refused before any change (a newer schema), nor one
     * only read. */
    if (!s->db || !s->in_wal || !s->on_disk || !sqlite3_get_autocommit(s->db))
        return;
    sqlite3_busy_timeout(s->db, 0);
    sqlite3_exec(s->db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
}

void stw_store_close(stw_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < Q_COUNT_; i++)
        sqlite3_finalize(s->q[i]);
    rest_in_rollback_mode(s);
    sqlite3_close(s->db);
    free(s->name);
    free(s);
}
