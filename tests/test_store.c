/* test_store.c - the SQLite store: migrations, layer cache, per-image
 * visibility from real pathsets, transactional images, two writer
 * processes, no plaintext secrets, deterministic read-back. */
#include "embedded.h"
#include "finding.h"
#include "pathset.h"
#include "sha256.h"
#include "store.h"
#include "testutil.h"

#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define RULES "rules-1"

/* One tar entry of a test layer. */
typedef struct entry {
    const char *path;
    bool is_dir;
} entry;

static long last_migration(void)
{
    long n = 0;
    for (const struct stw_embedded *m = stw_embedded_migrations; m->name; m++)
        n = strtol(m->name, NULL, 10);
    return n;
}

static stw_store *open_store(const char *path)
{
    stw_store *s = NULL;
    stw_error err = {0};
    stw_status st = stw_store_open(path, &s, &err);
    ck_assert_msg(st == STW_OK, "open %s: %s", path ? path : "(mem)", err.msg);
    return s;
}

/* Runs one integer-valued query on a database file outside the store. */
static long long raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 30000);
    sqlite3_stmt *q = NULL;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK,
                  "%s: %s", sql, sqlite3_errmsg(db));
    ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
    long long v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK,
                  "%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

static stw_finding make_finding(const char *path, const char *rule,
                                int64_t offset, const char *secret)
{
    stw_finding f;
    memset(&f, 0, sizeof f);
    f.path = path;
    f.kind = STW_KIND_SECRET;
    f.rule = rule;
    f.severity = STW_SEV_HIGH;
    f.line = offset >= 0 ? 1 : 0;
    f.offset = offset;
    if (secret)
        stw_finding_set_secret(&f, secret, strlen(secret));
    return f;
}

/* Builds a finding list; caller destroys it. */
static stw_finding_list *list_of(const stw_finding *fs, size_t n)
{
    stw_finding_list *l = NULL;
    ck_assert_int_eq(stw_finding_list_create(&l), STW_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(stw_finding_list_add(l, &fs[i]), STW_OK);
    return l;
}

/* Stores a layer whose tar holds entries, with findings fs. */
static void put_layer(stw_store *s, const char *digest, const char *rules,
                      const entry *es, size_t n_es, const stw_finding *fs,
                      size_t n_fs)
{
    stw_pathset *ps = NULL;
    ck_assert_int_eq(stw_pathset_create(&ps), STW_OK);
    for (size_t i = 0; i < n_es; i++)
        ck_assert_int_eq(stw_pathset_add_entry(ps, es[i].path, es[i].is_dir),
                         STW_OK);
    stw_layer_record rec = {.digest = digest,
                            .diff_id = "sha256:diff",
                            .media_type = "application/x-tar",
                            .size = 100,
                            .uncompressed = 200,
                            .entries = (int64_t)n_es,
                            .rules_version = rules};
    /* An empty layer (ENV, WORKDIR) is stored with an empty pathset. */
    if (n_es)
        stw_pathset_finish(ps, &rec.pathset, &rec.pathset_len);
    stw_finding_list *l = list_of(fs, n_fs);
    stw_error err = {0};
    stw_status st = stw_store_put_layer(s, &rec, l, &err);
    ck_assert_msg(st == STW_OK, "put_layer %s: %s", digest, err.msg);
    stw_finding_list_destroy(l);
    stw_pathset_destroy(ps);
}

static int64_t begin_scan(stw_store *s)
{
    int64_t id = 0;
    stw_error err = {0};
    ck_assert_int_eq(
        stw_store_begin_scan(s, "0.1.0", RULES, "scan x", &id, &err), STW_OK);
    return id;
}

/* Stores an image of the given layer digests; returns the status. */
static stw_status put_image(stw_store *s, int64_t scan, const char *ref,
                            const char *config, const char *const *digests,
                            size_t n, const stw_finding_list *cfg,
                            stw_error *err)
{
    stw_image_layer ls[8];
    ck_assert_uint_le(n, 8);
    for (size_t i = 0; i < n; i++)
        ls[i] = (stw_image_layer){
            .digest = digests[i], .created_by = "RUN step", .cached = false};
    stw_image_record img = {.ref = ref,
                            .manifest_digest = "sha256:manifest",
                            .config_digest = config,
                            .platform = "linux/amd64",
                            .layers = ls,
                            .n_layers = n};
    int64_t id = 0;
    return stw_store_put_image(s, scan, &img, cfg, &id, err);
}

static stw_results *load(stw_store *s, int64_t scan)
{
    stw_results *r = NULL;
    stw_error err = {0};
    stw_status st = stw_store_load_scan(s, scan, &r, &err);
    ck_assert_msg(st == STW_OK, "load_scan: %s", err.msg);
    return r;
}

/* The one finding of image 0 with this rule at this layer index. */
static const stw_rfinding *find(const stw_results *r, size_t image,
                                const char *rule, int layer)
{
    for (size_t i = 0; i < r->n_findings; i++) {
        const stw_rfinding *f = &r->findings[i];
        if (f->image == image && f->layer == layer &&
            strcmp(f->rule, rule) == 0)
            return f;
    }
    ck_abort_msg("no finding %s at image %zu layer %d", rule, image, layer);
    return NULL;
}

/* ---- migrations ---------------------------------------------------------- */

START_TEST(test_migrations_apply_on_fresh_file_and_reopen)
{
    char *dir = tu_mkdtemp("store-mig");
    char *db = tu_path(dir, "s.db");
    stw_store *s = open_store(db);
    int64_t scan = begin_scan(s);
    ck_assert_int_eq(raw_int(db, "SELECT journal_mode = 'wal' FROM "
                                 "pragma_journal_mode"),
                     1);
    stw_store_close(s);

    ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), last_migration());
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE "
                                 "type = 'table' AND name IN ('scans', "
                                 "'layers', 'findings', 'images', "
                                 "'image_layers', 'image_findings', "
                                 "'errors')"),
                     7);
    /* The last writer leaves a rollback journal: readers need no -shm. */
    ck_assert_int_eq(raw_int(db, "SELECT journal_mode = 'delete' FROM "
                                 "pragma_journal_mode"),
                     1);

    /* Reopening migrates nothing and keeps the data. */
    s = open_store(db);
    stw_results *r = load(s, scan);
    ck_assert_str_eq(r->rules_version, RULES);
    ck_assert_uint_eq(r->n_images, 0);
    stw_results_destroy(r);
    stw_error err = {0};
    ck_assert_int_eq(stw_store_end_scan(s, scan, &err), STW_OK);
    ck_assert_int_eq(stw_store_end_scan(s, scan + 100, &err),
                     STW_ERR_NOT_FOUND);
    stw_store_close(s);
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM scans WHERE "
                                 "finished_at IS NOT NULL"),
                     1);
    ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), last_migration());
    free(db);
    free(dir);
}
END_TEST

START_TEST(test_open_refuses_newer_schema)
{
    char *dir = tu_mkdtemp("store-newer");
    char *db = tu_path(dir, "s.db");
    stw_store_close(open_store(db));
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %ld",
             last_migration() + 1);
    raw_exec(db, sql);
    raw_exec(db, "PRAGMA journal_mode = WAL");

    stw_store *s = NULL;
    stw_error err = {0};
    ck_assert_int_eq(stw_store_open(db, &s, &err), STW_ERR_DB);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err.msg, db) && strstr(err.msg, "newer"), "%s",
                  err.msg);
    /* Refused without touching it, its journal mode included. */
    ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), last_migration() + 1);
    ck_assert_int_eq(raw_int(db, "SELECT journal_mode = 'wal' FROM "
                                 "pragma_journal_mode"),
                     1);
    free(db);
    free(dir);
}
END_TEST

/* Opens db read-only, expecting want, with an error naming db and saying
 * what. */
static void readonly_refused(const char *db, stw_status want, const char *what)
{
    stw_store *s = NULL;
    stw_error err = {0};
    ck_assert_int_eq(stw_store_open_readonly(db, &s, &err), want);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err.msg, db) && strstr(err.msg, what), "%s", err.msg);
}

START_TEST(test_open_readonly_never_writes)
{
    char *dir = tu_mkdtemp("store-ro");
    char *db = tu_path(dir, "s.db");
    readonly_refused(db, STW_ERR_NOT_FOUND, "no such database");
    ck_assert_int_eq(access(db, F_OK), -1);

    raw_exec(db, "PRAGMA user_version = 0");
    readonly_refused(db, STW_ERR_DB, "empty database");
    raw_exec(db, "CREATE TABLE other (x)");
    readonly_refused(db, STW_ERR_DB, "not a stowaway database");
    raw_exec(db, "PRAGMA user_version = 1");
    readonly_refused(db, STW_ERR_DB, "older");
    ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), 1);
    unlink(db);

    stw_store *s = open_store(db);
    int64_t scan = begin_scan(s);
    stw_store_close(s);
    raw_exec(db, "PRAGMA journal_mode = DELETE");

    stw_error err = {0};
    ck_assert_int_eq(stw_store_open_readonly(db, &s, &err), STW_OK);
    stw_results *r = load(s, scan);
    ck_assert_str_eq(r->rules_version, RULES);
    stw_results_destroy(r);
    /* A write is refused by SQLite itself, not half done. */
    ck_assert_int_eq(stw_store_end_scan(s, scan, &err), STW_ERR_DB);
    stw_store_close(s);
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM scans WHERE "
                                 "finished_at IS NULL"),
                     1);
    ck_assert_int_eq(raw_int(db, "SELECT journal_mode = 'delete' FROM "
                                 "pragma_journal_mode"),
                     1);

    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %ld",
             last_migration() + 1);
    raw_exec(db, sql);
    readonly_refused(db, STW_ERR_DB, "newer");
    free(db);
    free(dir);
}
END_TEST

/* Two connections to one file, as a scan and `db prune` in two processes:
 * prune removes neither a running scan's row nor the layers it wrote or
 * found cached before its image refers to them. */
START_TEST(test_prune_spares_a_running_scan)
{
    char *dir = tu_mkdtemp("store-prune-race");
    char *db = tu_path(dir, "s.db");
    stw_store *a = open_store(db), *pruner = open_store(db);
    static const entry es[] = {{"etc/x", false}};
    stw_error err = {0};
    stw_prune_counts c;
    /* Every scan started long ago: only activity tells a running one. */
    const char *age_all = "UPDATE scans SET started_at = "
                          "'2000-01-01T00:00:00.000Z'";

    /* A scan that stored a layer and not yet its image. */
    int64_t scan_a = begin_scan(a);
    put_layer(a, "sha256:aaa", RULES, es, 1, NULL, 0);
    raw_exec(db, age_all);
    ck_assert_int_eq(stw_store_prune(pruner, 0, false, &c, &err), STW_OK);
    ck_assert_int_eq(c.scans + c.layers, 0);
    const char *la[] = {"sha256:aaa"};
    ck_assert_int_eq(
        put_image(a, scan_a, "a:1", "sha256:cfg", la, 1, NULL, &err), STW_OK);
    ck_assert_int_eq(stw_store_end_scan(a, scan_a, &err), STW_OK);

    /* A second scan finds the layer cached; the first scan, finished, is
     * pruned, but the layer stays for the second's image. */
    int64_t scan_b = begin_scan(a);
    bool hit = false;
    ck_assert_int_eq(stw_store_layer_cached(a, "sha256:aaa", RULES, &hit, &err),
                     STW_OK);
    ck_assert(hit);
    raw_exec(db, age_all);
    ck_assert_int_eq(stw_store_prune(pruner, 0, false, &c, &err), STW_OK);
    ck_assert_int_eq(c.scans, 1);
    ck_assert_int_eq(c.layers, 0);
    ck_assert_int_eq(
        put_image(a, scan_b, "a:1", "sha256:cfg", la, 1, NULL, &err), STW_OK);
    ck_assert_int_eq(stw_store_end_scan(a, scan_b, &err), STW_OK);
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM scan_layers"), 0);

    /* Ended, it goes with everything only it used. */
    raw_exec(db, age_all);
    ck_assert_int_eq(stw_store_prune(pruner, 0, false, &c, &err), STW_OK);
    ck_assert_int_eq(c.scans, 1);
    ck_assert_int_eq(c.layers, 1);

    /* A scan killed long ago (no activity for over a day) is pruned. */
    int64_t dead = begin_scan(a);
    put_layer(a, "sha256:ddd", RULES, es, 1, NULL, 0);
    raw_exec(db, "UPDATE scans SET started_at = '2000-01-01T00:00:00.000Z', "
                 "active_at = '2000-01-01T00:00:00.000Z'");
    ck_assert_int_eq(stw_store_prune(pruner, 0, false, &c, &err), STW_OK);
    ck_assert_int_eq(c.scans, 1);
    ck_assert_int_eq(c.layers, 1);
    ck_assert_int_eq(stw_store_end_scan(a, dead, &err), STW_ERR_NOT_FOUND);
    stw_store_close(pruner);
    stw_store_close(a);
    free(db);
    free(dir);
}
END_TEST

START_TEST(test_open_error_names_the_file)
{
    stw_store *s = NULL;
    stw_error err = {0};
    const char *bad = "/nonexistent-dir-stw/sub/s.db";
    ck_assert_int_eq(stw_store_open(bad, &s, &err), STW_ERR_DB);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err.msg, bad) != NULL, "%s", err.msg);
}
END_TEST

/* ---- layers ------------------------------------------------------------- */

START_TEST(test_layer_cached_by_digest_and_rules_version)
{
    stw_store *s = open_store(NULL);
    const entry es[] = {{"etc", true}, {"etc/passwd", false}};
    put_layer(s, "sha256:aaa", RULES, es, 2, NULL, 0);
    bool cached = false;
    stw_error err = {0};
    ck_assert_int_eq(
        stw_store_layer_cached(s, "sha256:aaa", RULES, &cached, &err), STW_OK);
    ck_assert(cached);
    ck_assert_int_eq(
        stw_store_layer_cached(s, "sha256:aaa", "rules-2", &cached, &err),
        STW_OK);
    ck_assert(!cached);
    ck_assert_int_eq(
        stw_store_layer_cached(s, "sha256:bbb", RULES, &cached, &err), STW_OK);
    ck_assert(!cached);
    /* Rescanning with new rules makes it cached for those. */
    put_layer(s, "sha256:aaa", "rules-2", es, 2, NULL, 0);
    ck_assert_int_eq(
        stw_store_layer_cached(s, "sha256:aaa", "rules-2", &cached, &err),
        STW_OK);
    ck_assert(cached);
    ck_assert_int_eq(
        stw_store_layer_cached(s, "sha256:aaa", RULES, &cached, &err), STW_OK);
    ck_assert(!cached);
    stw_store_close(s);
}
END_TEST

/* A layer row holds only a diff_id computed from its bytes; what a config
 * claims stays with the image that claims it, so a report shows each
 * image's claim, verified only where it equals the computed one. */
START_TEST(test_diff_id_claims_stay_with_their_image)
{
    static const char d1[] = "sha256:111111111111111111111111111111111111111111"
                             "1111111111111111111111";
    static const char d2[] = "sha256:222222222222222222222222222222222222222222"
                             "2222222222222222222222";
    stw_store *s = open_store(NULL);
    stw_error err = {0};
    stw_layer_record rec = {
        .digest = "sha256:A", .diff_id = d1, .rules_version = RULES};
    ck_assert_int_eq(stw_store_put_layer(s, &rec, NULL, &err), STW_OK);
    rec.digest = "sha256:B";
    rec.diff_id = NULL;
    ck_assert_int_eq(stw_store_put_layer(s, &rec, NULL, &err), STW_OK);

    bool hit = false;
    char got[STW_DIGEST_STR] = "x";
    ck_assert_int_eq(
        stw_store_layer_lookup(s, "sha256:A", RULES, &hit, got, &err), STW_OK);
    ck_assert(hit);
    ck_assert_str_eq(got, d1);
    ck_assert_int_eq(
        stw_store_layer_lookup(s, "sha256:B", RULES, &hit, got, &err), STW_OK);
    ck_assert(hit);
    ck_assert_str_eq(got, ""); /* never computed: nothing to hand out */

    int64_t scan = begin_scan(s), id;
    stw_image_layer honest[] = {{.digest = "sha256:A", .diff_id = d1},
                                {.digest = "sha256:B", .diff_id = d2}};
    stw_image_layer liar[] = {{.digest = "sha256:A", .diff_id = d2},
                              {.digest = "sha256:B"}};
    stw_image_record img = {.ref = "honest:1",
                            .config_digest = "sha256:c1",
                            .layers = honest,
                            .n_layers = 2};
    ck_assert_int_eq(stw_store_put_image(s, scan, &img, NULL, &id, &err),
                     STW_OK);
    img = (stw_image_record){.ref = "liar:1",
                             .config_digest = "sha256:c2",
                             .layers = liar,
                             .n_layers = 2};
    ck_assert_int_eq(stw_store_put_image(s, scan, &img, NULL, &id, &err),
                     STW_OK);
    stw_results *r = load(s, scan);
    ck_assert_uint_eq(r->n_images, 2);
    const stw_rlayer *h = r->images[0].layers, *l = r->images[1].layers;
    ck_assert_str_eq(h[0].diff_id, d1);
    ck_assert(h[0].diff_id_verified);
    ck_assert_str_eq(h[1].diff_id, d2);
    ck_assert(!h[1].diff_id_verified);
    ck_assert_str_eq(l[0].diff_id, d2);
    ck_assert(!l[0].diff_id_verified);
    ck_assert_str_eq(l[1].diff_id, "");
    ck_assert(!l[1].diff_id_verified);
    stw_results_destroy(r);
    stw_store_close(s);
}
END_TEST

START_TEST(test_put_layer_replaces_findings_of_that_blob_only)
{
    char *dir = tu_mkdtemp("store-replace");
    char *db = tu_path(dir, "s.db");
    stw_store *s = open_store(db);
    const entry es[] = {{"app/.env", false}, {"app/key", false}};
    stw_finding v1[] = {make_finding("app/.env", "keep", 5, "secretA1234"),
                        make_finding("app/key", "gone", 7, "secretB1234")};
    put_layer(s, "sha256:L", RULES, es, 2, v1, 2);
    stw_finding other = make_finding("x", "other", 1, "secretC1234");
    put_layer(s, "sha256:M", RULES, es, 0, &other, 1);

    stw_finding cf = make_finding("<config>", "env-token", -1, "secretD1234");
    cf.kind = STW_KIND_CONFIG;
    stw_finding_list *cfg = list_of(&cf, 1);
    int64_t scan = begin_scan(s);
    const char *const layers[] = {"sha256:L"};
    stw_error err = {0};
    ck_assert_int_eq(
        put_image(s, scan, "img:1", "sha256:L", layers, 1, cfg, &err), STW_OK);

    /* Rescan of L: "keep" unchanged (new offset), "gone" gone, "new" and a
     * duplicate fingerprint of "new" (only the first is kept). */
    stw_finding v2[] = {make_finding("app/.env", "keep", 9, "secretA1234"),
                        make_finding("app/.env", "new", 3, "secretE1234"),
                        make_finding("app/.env", "new", 30, "secretE1234")};
    put_layer(s, "sha256:L", "rules-2", es, 2, v2, 3);

    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM findings WHERE "
                                 "blob_digest = 'sha256:L' AND in_config = 0"),
                     2);
    ck_assert_int_eq(raw_int(db, "SELECT \"offset\" FROM findings WHERE "
                                 "rule = 'new'"),
                     3);
    ck_assert_int_eq(raw_int(db, "SELECT \"offset\" FROM findings WHERE "
                                 "rule = 'keep'"),
                     9);
    /* Not the config findings stored under the same digest, nor M's. */
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM findings WHERE "
                                 "blob_digest = 'sha256:L' AND in_config = 1"),
                     1);
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM findings WHERE "
                                 "blob_digest = 'sha256:M'"),
                     1);

    /* The earlier image still sees the finding that survived (same row)
     * and its config finding; the removed one is gone. */
    stw_results *r = load(s, scan);
    ck_assert_uint_eq(r->n_findings, 2);
    ck_assert_int_eq(find(r, 0, "keep", 0)->offset, 9);
    ck_assert_int_eq(find(r, 0, "env-token", -1)->layer, -1);
    stw_results_destroy(r);
    stw_finding_list_destroy(cfg);
    stw_store_close(s);
    free(db);
    free(dir);
}
END_TEST

/* ---- visibility --------------------------------------------------------- */

static const entry base_es[] = {{"etc", true}, {"etc/os-release", false}};
static const entry key_es[] = {{"root", true},
                               {"root/.ssh", true},
                               {"root/.ssh/id_rsa", false},
                               {".git", true},
                               {".git/config", false}};
static const entry wh_es[] = {
    {"root", true}, {"root/.ssh", true}, {"root/.ssh/.wh.id_rsa", false}};
static const entry overwrite_es[] = {{"root/.ssh/id_rsa", false}};
static const entry opaque_es[] = {{"root/.ssh", true},
                                  {"root/.ssh/.wh..wh..opq", false},
                                  {"root/.ssh/authorized_keys", false}};
static const entry harmless_es[] = {{"root", true},
                                    {"root/.ssh", true},
                                    {"root/.ssh/known_hosts", false},
                                    {".git", true},
                                    {"root/.ssh/id_rsa.pub", false}};

/* Stores L0 (base), L1 (key + .git dir), L2 (whiteout of the key), L3
 * (overwrite), L4 (opaque .ssh), L5 (neighbours only). */
static stw_store *visibility_store(void)
{
    stw_store *s = open_store(NULL);
    stw_finding key = make_finding("root/.ssh/id_rsa", "rsa-private-key", 0,
                                   "-----BEGIN RSA PRIVATE KEY-----xyz");
    key.kind = STW_KIND_PRIVATE_KEY;
    stw_finding git = make_finding(".git", "git-dir", -1, NULL);
    git.kind = STW_KIND_ARTIFACT;
    git.is_dir = true;
    stw_finding fs[] = {key, git};
    put_layer(s, "sha256:L0", RULES, base_es, 2, NULL, 0);
    put_layer(s, "sha256:L1", RULES, key_es, 5, fs, 2);
    put_layer(s, "sha256:L2", RULES, wh_es, 3, NULL, 0);
    put_layer(s, "sha256:L3", RULES, overwrite_es, 1, NULL, 0);
    put_layer(s, "sha256:L4", RULES, opaque_es, 3, NULL, 0);
    put_layer(s, "sha256:L5", RULES, harmless_es, 5, NULL, 0);
    return s;
}

/* Puts one image of these layers in a new scan and loads it. */
static stw_results *image_of(stw_store *s, const char *const *digests, size_t n)
{
    int64_t scan = begin_scan(s);
    stw_error err = {0};
    stw_status st =
        put_image(s, scan, "img", "sha256:cfg", digests, n, NULL, &err);
    ck_assert_msg(st == STW_OK, "put_image: %s", err.msg);
    return load(s, scan);
}

START_TEST(test_key_added_in_layer1_whiteout_in_layer2_is_hidden)
{
    stw_store *s = visibility_store();
    const char *const with_wh[] = {"sha256:L0", "sha256:L1", "sha256:L2"};
    stw_results *r = image_of(s, with_wh, 3);
    const stw_rfinding *f = find(r, 0, "rsa-private-key", 1);
    ck_assert(!f->visible);
    ck_assert_int_eq(f->removed_in_layer, 2);
    ck_assert_str_eq(f->layer_digest, "sha256:L1");
    ck_assert_str_eq(f->path, "root/.ssh/id_rsa");
    /* The whiteout of one file leaves its neighbour directory alone. */
    ck_assert(find(r, 0, "git-dir", 1)->visible);
    stw_results_destroy(r);

    const char *const without[] = {"sha256:L0", "sha256:L1"};
    r = image_of(s, without, 2);
    f = find(r, 0, "rsa-private-key", 1);
    ck_assert(f->visible);
    ck_assert_int_eq(f->removed_in_layer, -1);
    stw_results_destroy(r);
    stw_store_close(s);
}
END_TEST

START_TEST(test_overwrite_by_later_file_hides_and_first_hider_counts)
{
    stw_store *s = visibility_store();
    const char *const over[] = {"sha256:L1", "sha256:L0", "sha256:L3"};
    stw_results *r = image_of(s, over, 3);
    const stw_rfinding *f = find(r, 0, "rsa-private-key", 0);
    ck_assert(!f->visible);
    ck_assert_int_eq(f->removed_in_layer, 2);
    stw_results_destroy(r);

    const char *const both[] = {"sha256:L1", "sha256:L2", "sha256:L3"};
    r = image_of(s, both, 3);
    ck_assert_int_eq(find(r, 0, "rsa-private-key", 0)->removed_in_layer, 1);
    stw_results_destroy(r);
    stw_store_close(s);
}
END_TEST

START_TEST(test_opaque_dir_hides_lower_contents)
{
    stw_store *s = visibility_store();
    const char *const opq[] = {"sha256:L1", "sha256:L5", "sha256:L4"};
    stw_results *r = image_of(s, opq, 3);
    const stw_rfinding *f = find(r, 0, "rsa-private-key", 0);
    ck_assert(!f->visible);
    ck_assert_int_eq(f->removed_in_layer, 2);
    stw_results_destroy(r);

    /* Neighbouring files and a directory over a directory hide nothing. */
    const char *const harmless[] = {"sha256:L1", "sha256:L5"};
    r = image_of(s, harmless, 2);
    ck_assert(find(r, 0, "rsa-private-key", 0)->visible);
    ck_assert(find(r, 0, "git-dir", 0)->visible);
    stw_results_destroy(r);
    stw_store_close(s);
}
END_TEST

START_TEST(test_layer_listed_twice_hides_its_own_lower_copy)
{
    stw_store *s = visibility_store();
    const char *const twice[] = {"sha256:L1", "sha256:L0", "sha256:L1"};
    stw_results *r = image_of(s, twice, 3);
    ck_assert_uint_eq(r->n_findings, 4);
    const stw_rfinding *lower = find(r, 0, "rsa-private-key", 0);
    ck_assert(!lower->visible);
    ck_assert_int_eq(lower->removed_in_layer, 2);
    ck_assert(find(r, 0, "rsa-private-key", 2)->visible);
    /* Same directory again merges: still visible. */
    ck_assert(find(r, 0, "git-dir", 0)->visible);
    ck_assert_uint_eq(r->layers_scanned, 2);
    stw_results_destroy(r);
    stw_store_close(s);
}
END_TEST

/* ---- transactions ------------------------------------------------------- */

START_TEST(test_failed_put_image_leaves_no_rows_and_keeps_earlier_images)
{
    char *dir = tu_mkdtemp("store-rollback");
    char *db = tu_path(dir, "s.db");
    stw_store *s = open_store(db);
    stw_finding key = make_finding("k", "rule-k", 0, "secretK1234");
    put_layer(s, "sha256:L1", RULES, base_es, 2, &key, 1);
    stw_finding cf = make_finding("<config>", "env", -1, "secretZ1234");
    stw_finding_list *cfg = list_of(&cf, 1);
    int64_t scan = begin_scan(s);
    stw_error err = {0};
    const char *const good[] = {"sha256:L1"};
    ck_assert_int_eq(
        put_image(s, scan, "good", "sha256:cfgA", good, 1, cfg, &err), STW_OK);

    /* A layer that was never stored. */
    const char *const bad[] = {"sha256:L1", "sha256:never"};
    ck_assert_int_eq(
        put_image(s, scan, "bad", "sha256:cfgB", bad, 2, cfg, &err),
        STW_ERR_NOT_FOUND);
    ck_assert_msg(strstr(err.msg, "sha256:never") != NULL, "%s", err.msg);

    /* A bad second config finding fails after the image row, its layers
     * and the first config finding were written: all must roll back. */
    stw_finding two[] = {make_finding("<config>", "env", -1, "secretY1234"),
                         make_finding("<config>", "env2", -1, "secretX1234")};
    two[1].kind = STW_KIND_COUNT_;
    stw_finding_list *badcfg = list_of(two, 2);
    ck_assert_int_eq(
        put_image(s, scan, "bad2", "sha256:cfgB", good, 1, badcfg, &err),
        STW_ERR_USAGE);
    stw_finding_list_destroy(badcfg);

    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM images"), 1);
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM image_layers"), 1);
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM image_findings"), 2);
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM findings WHERE "
                                 "blob_digest = 'sha256:cfgB'"),
                     0);

    /* The store is still usable, and the earlier image is intact. */
    ck_assert_int_eq(
        put_image(s, scan, "after", "sha256:cfgA", good, 1, cfg, &err), STW_OK);
    stw_results *r = load(s, scan);
    ck_assert_uint_eq(r->n_images, 2);
    ck_assert_str_eq(r->images[0].ref, "good");
    ck_assert_str_eq(r->images[1].ref, "after");
    ck_assert_uint_eq(r->n_findings, 4);
    stw_results_destroy(r);
    stw_finding_list_destroy(cfg);
    stw_store_close(s);
    free(db);
    free(dir);
}
END_TEST

/* Child body for the two-writer test; returns the exit code. */
static int writer(const char *db, int who, int rounds)
{
    stw_store *s = NULL;
    stw_error err = {0};
    if (stw_store_open(db, &s, &err) != STW_OK) {
        fprintf(stderr, "writer %d: %s\n", who, err.msg);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < rounds && rc == 0; i++) {
        char digest[64], path[32];
        snprintf(digest, sizeof digest, "sha256:w%d-%d", who, i);
        snprintf(path, sizeof path, "f%d", i);
        stw_pathset *ps = NULL;
        stw_pathset_create(&ps);
        stw_pathset_add_entry(ps, path, false);
        stw_layer_record rec = {.digest = digest, .rules_version = RULES};
        stw_pathset_finish(ps, &rec.pathset, &rec.pathset_len);
        stw_finding f = make_finding(path, "r", 0, "secretW1234");
        stw_finding_list *l = NULL;
        stw_finding_list_create(&l);
        stw_finding_list_add(l, &f);
        int64_t scan = 0, image = 0;
        stw_image_layer il = {.digest = digest};
        stw_image_record img = {.ref = digest,
                                .config_digest = "sha256:c",
                                .layers = &il,
                                .n_layers = 1};
        if (stw_store_put_layer(s, &rec, l, &err) ||
            stw_store_begin_scan(s, "v", RULES, NULL, &scan, &err) ||
            stw_store_put_image(s, scan, &img, NULL, &image, &err) ||
            stw_store_end_scan(s, scan, &err)) {
            fprintf(stderr, "writer %d round %d: %s\n", who, i, err.msg);
            rc = 1;
        }
        stw_finding_list_destroy(l);
        stw_pathset_destroy(ps);
    }
    stw_store_close(s);
    return rc;
}

START_TEST(test_two_processes_writing_one_file_both_land)
{
    char *dir = tu_mkdtemp("store-fork");
    char *db = tu_path(dir, "s.db");
    const int rounds = 25;
    pid_t pids[2];
    /* Both start on a file that does not exist yet, so they also race to
     * create and migrate it. */
    for (int w = 0; w < 2; w++) {
        pids[w] = fork();
        ck_assert_int_ge(pids[w], 0);
        if (pids[w] == 0)
            _exit(writer(db, w, rounds));
    }
    for (int w = 0; w < 2; w++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "writer %d failed (status %d)", w, status);
    }
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM scans WHERE "
                                 "finished_at IS NOT NULL"),
                     2 * rounds);
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM layers"), 2 * rounds);
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM images"), 2 * rounds);
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM image_findings"),
                     2 * rounds);
    ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), last_migration());
    free(db);
    free(dir);
}
END_TEST

/* ---- secrets ------------------------------------------------------------ */

static bool file_contains(const char *path, const char *needle)
{
    if (access(path, F_OK) != 0)
        return false;
    size_t n = 0, k = strlen(needle);
    char *buf = tu_read_file(path, &n);
    bool hit = false;
    for (size_t i = 0; !hit && i + k <= n; i++)
        hit = memcmp(buf + i, needle, k) == 0;
    free(buf);
    return hit;
}

START_TEST(test_database_never_holds_the_plaintext_secret)
{
    char *dir = tu_mkdtemp("store-plain");
    char *db = tu_path(dir, "s.db");
    char *wal = tu_path(dir, "s.db-wal");
    const char *secret = "ghp_Zq8vN3xK7mP2wR5tY9uB4cD6eF1gH0jL2aQx";
    stw_store *s = open_store(db);
    stw_finding f = make_finding("app/.env", "github-pat", 12, secret);
    f.detail = "GITHUB_TOKEN=ghp_…(40 chars)";
    put_layer(s, "sha256:L", RULES, base_es, 2, &f, 1);
    stw_finding cf = make_finding("<config>", "env-github", -1, secret);
    stw_finding_list *cfg = list_of(&cf, 1);
    int64_t scan = begin_scan(s);
    stw_error err = {0};
    const char *const layers[] = {"sha256:L"};
    ck_assert_int_eq(
        put_image(s, scan, "img", "sha256:cfg", layers, 1, cfg, &err), STW_OK);

    /* While open (WAL holds the data) and after close (checkpointed). */
    for (int pass = 0; pass < 2; pass++) {
        ck_assert(file_contains(db, f.secret_sha256) ||
                  file_contains(wal, f.secret_sha256));
        ck_assert(!file_contains(db, secret) && !file_contains(wal, secret));
        /* Nor the part the excerpt hides. */
        ck_assert(!file_contains(db, secret + 4) &&
                  !file_contains(wal, secret + 4));
        stw_store_close(s);
        s = NULL;
    }
    s = open_store(db);
    stw_results *r = load(s, scan);
    ck_assert_uint_eq(r->n_findings, 2);
    for (size_t i = 0; i < r->n_findings; i++) {
        ck_assert_str_eq(r->findings[i].secret_sha256, f.secret_sha256);
        ck_assert_str_eq(r->findings[i].excerpt, f.excerpt);
    }
    stw_results_destroy(r);
    stw_store_close(s);
    stw_finding_list_destroy(cfg);
    free(wal);
    free(db);
    free(dir);
}
END_TEST

/* ---- reading back ------------------------------------------------------- */

START_TEST(test_archive_findings_reused_under_a_new_path_and_notes_replayed)
{
    stw_store *s = open_store(NULL);
    stw_finding fs[] = {
        make_finding("app/app.jar!/BOOT-INF/application.properties",
                     "generic-password", 40, "hunter2hunter2"),
        make_finding("app/app.jar!/lib/c.jar!/c.properties",
                     "stripe-secret-key", 7, "sk_live_abc"),
        make_finding("app/app.jarx", "github-pat", 3, "ghp_x"),
        make_finding("etc/.env", "generic-secret", 3, "zzz")};
    stw_finding_list *l = list_of(fs, 4);
    const char *notes[] = {"opt/x.zip: nested archives: stopped"};
    stw_archive_record ar = {
        .sha256 = "ab12", .path = "app/app.jar", .size = 100000};
    stw_layer_record rec = {.digest = "sha256:l1",
                            .rules_version = RULES,
                            .notes = notes,
                            .n_notes = 1,
                            .archives = &ar,
                            .n_archives = 1};
    stw_error err = {0};
    ck_assert_int_eq(stw_store_put_layer(s, &rec, l, &err), STW_OK);
    stw_finding_list_destroy(l);

    /* the same bytes under another path, another layer */
    stw_finding_list *out = NULL;
    ck_assert_int_eq(stw_finding_list_create(&out), STW_OK);
    bool hit = false;
    stw_archive_cost room = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX},
                     charge = {0};
    ck_assert_int_eq(stw_store_archive_findings(s, "ab12", RULES,
                                                "srv/orders.jar", &room,
                                                &charge, out, &hit, &err),
                     STW_OK);
    ck_assert(hit);
    ck_assert_uint_eq(stw_finding_list_count(out), 2);
    const stw_finding *a = stw_finding_list_get(out, 0);
    ck_assert_str_eq(a->path,
                     "srv/orders.jar!/BOOT-INF/application.properties");
    ck_assert_str_eq(a->rule, "generic-password");
    ck_assert_int_eq(a->offset, 40);
    ck_assert_str_eq(a->secret_sha256, fs[0].secret_sha256);
    ck_assert_str_eq(stw_finding_list_get(out, 1)->path,
                     "srv/orders.jar!/lib/c.jar!/c.properties");
    /* other rules, or other bytes: unknown */
    ck_assert_int_eq(stw_store_archive_findings(s, "ab12", "other-rules", "x",
                                                &room, &charge, out, &hit,
                                                &err),
                     STW_OK);
    ck_assert(!hit);
    ck_assert_int_eq(stw_store_archive_findings(s, "cd34", RULES, "x", &room,
                                                &charge, out, &hit, &err),
                     STW_OK);
    ck_assert(!hit);
    ck_assert_uint_eq(stw_finding_list_count(out), 2);
    stw_finding_list_destroy(out);

    /* the layer's note comes back as an error of a later scan */
    int64_t scan = begin_scan(s);
    ck_assert_int_eq(
        stw_store_put_layer_notes(s, scan, "img.tar", "sha256:l1", &err),
        STW_OK);
    stw_results *r = load(s, scan);
    ck_assert_uint_eq(r->n_errors, 1);
    ck_assert_str_eq(r->errors[0].target, "img.tar");
    ck_assert_str_eq(r->errors[0].message,
                     "layer sha256:l1: opt/x.zip: nested archives: stopped");
    stw_results_destroy(r);
    stw_store_close(s);
}
END_TEST

START_TEST(test_prune_drops_old_archive_results_only)
{
    char *dir = tu_mkdtemp("store-prune-archives");
    char *db = tu_path(dir, "s.db");
    stw_store *s = open_store(db);
    stw_finding fs[] = {make_finding("a.jar!/x.properties", "generic-password",
                                     1, "hunter2hunter2"),
                        make_finding("b.jar!/x.properties", "generic-password",
                                     1, "hunter2hunter2")};
    stw_finding_list *l = list_of(fs, 2);
    stw_archive_record ar[] = {{.sha256 = "old1", .path = "a.jar", .size = 1},
                               {.sha256 = "new1", .path = "b.jar", .size = 1}};
    stw_layer_record rec = {.digest = "sha256:l1",
                            .rules_version = RULES,
                            .archives = ar,
                            .n_archives = 2};
    stw_error err = {0};
    ck_assert_int_eq(stw_store_put_layer(s, &rec, l, &err), STW_OK);
    stw_finding_list_destroy(l);
    stw_store_close(s);
    raw_exec(db, "UPDATE archives SET scanned_at = '2020-01-01T00:00:00Z' "
                 "WHERE sha256 = 'old1'");
    s = open_store(db);
    stw_prune_counts c;
    ck_assert_int_eq(stw_store_prune(s, 3600, false, &c, &err), STW_OK);
    stw_store_close(s);
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM archives"), 1);
    ck_assert_int_eq(
        raw_int(db, "SELECT COUNT(*) FROM archives WHERE sha256 = 'new1'"), 1);
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM archive_findings "
                                 "WHERE sha256 = 'old1'"),
                     0);
    ck_assert_int_eq(raw_int(db, "SELECT COUNT(*) FROM archive_findings "
                                 "WHERE sha256 = 'new1'"),
                     1);
    free(db);
    free(dir);
}
END_TEST

START_TEST(test_load_scan_order_and_fields)
{
    stw_store *s = open_store(NULL);
    /* Inserted out of order on purpose. */
    stw_finding a[] = {make_finding("b", "r2", 10, "s1xxxxxx"),
                       make_finding("a", "r9", 50, "s2xxxxxx"),
                       make_finding("a", "r1", 50, "s3xxxxxx"),
                       make_finding("a", "r5", 5, "s4xxxxxx")};
    stw_finding suid = make_finding("usr/bin/su", "setuid", -1, NULL);
    suid.kind = STW_KIND_SETUID;
    suid.severity = STW_SEV_MEDIUM;
    suid.has_mode = true;
    suid.mode = 0104755;
    suid.uid = 0;
    suid.gid = 42;
    suid.validated = true;
    suid.detail = "owned by root";
    const entry es[] = {{"a", false}, {"b", false}};
    put_layer(s, "sha256:A", RULES, es, 2, a, 4);
    put_layer(s, "sha256:B", RULES, NULL, 0, &suid, 1);

    stw_finding cf[] = {make_finding("<config>", "env-z", -1, "s5xxxxxx"),
                        make_finding("<config>", "env-a", -1, "s6xxxxxx")};
    cf[0].kind = cf[1].kind = STW_KIND_CONFIG;
    stw_finding_list *cfg = list_of(cf, 2);

    int64_t scan = begin_scan(s);
    stw_error err = {0};
    stw_image_layer l2[] = {{"sha256:B", NULL, true},
                            {"sha256:A", "COPY . /app", true}};
    stw_image_record img2 = {.ref = "second:1",
                             .config_digest = "sha256:cfg2",
                             .layers = l2,
                             .n_layers = 2};
    const char *const l1[] = {"sha256:A"};
    ck_assert_int_eq(
        put_image(s, scan, "first:1", "sha256:cfg1", l1, 1, NULL, &err),
        STW_OK);
    int64_t id = 0;
    ck_assert_int_eq(stw_store_put_image(s, scan, &img2, cfg, &id, &err),
                     STW_OK);
    ck_assert_int_eq(stw_store_put_error(s, scan, "t1", "bad one", &err),
                     STW_OK);
    ck_assert_int_eq(stw_store_put_error(s, scan, "t0", "bad two", &err),
                     STW_OK);

    stw_results *r = load(s, scan);
    ck_assert_str_eq(r->rules_version, RULES);
    ck_assert_uint_eq(r->n_images, 2);
    ck_assert_str_eq(r->images[0].ref, "first:1");
    ck_assert_str_eq(r->images[1].ref, "second:1");
    ck_assert_str_eq(r->images[1].manifest_digest, "");
    ck_assert_str_eq(r->images[1].config_digest, "sha256:cfg2");
    ck_assert_uint_eq(r->images[1].n_layers, 2);
    const stw_rlayer *rl = &r->images[1].layers[1];
    ck_assert_str_eq(rl->digest, "sha256:A");
    ck_assert_str_eq(rl->diff_id, "sha256:diff");
    ck_assert_str_eq(rl->media_type, "application/x-tar");
    ck_assert_str_eq(rl->created_by, "COPY . /app");
    ck_assert_int_eq(rl->size, 100);
    ck_assert(rl->cached);
    ck_assert(!r->images[0].layers[0].cached);
    ck_assert(r->images[1].layers[0].cached);
    ck_assert_str_eq(r->images[1].layers[0].created_by, "");
    /* A scanned for the first image and reused by the second; B only
     * reused. */
    ck_assert_uint_eq(r->layers_scanned, 1);
    ck_assert_uint_eq(r->layers_cached, 1);
    ck_assert_uint_eq(r->n_errors, 2);
    ck_assert_str_eq(r->errors[0].target, "t1");
    ck_assert_str_eq(r->errors[1].message, "bad two");

    /* image, layer (config last), path, offset, rule */
    static const struct {
        size_t image;
        int layer;
        const char *rule;
    } want[] = {{0, 0, "r5"},     {0, 0, "r1"},     {0, 0, "r9"},
                {0, 0, "r2"},     {1, 0, "setuid"}, {1, 1, "r5"},
                {1, 1, "r1"},     {1, 1, "r9"},     {1, 1, "r2"},
                {1, -1, "env-a"}, {1, -1, "env-z"}};
    ck_assert_uint_eq(r->n_findings, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < r->n_findings; i++) {
        ck_assert_uint_eq(r->findings[i].image, want[i].image);
        ck_assert_int_eq(r->findings[i].layer, want[i].layer);
        ck_assert_str_eq(r->findings[i].rule, want[i].rule);
    }
    const stw_rfinding *su = &r->findings[4];
    ck_assert_int_eq(su->kind, STW_KIND_SETUID);
    ck_assert_int_eq(su->severity, STW_SEV_MEDIUM);
    ck_assert(su->has_mode && su->validated);
    ck_assert_uint_eq(su->mode, 0104755);
    ck_assert_int_eq(su->gid, 42);
    ck_assert_int_eq(su->offset, -1);
    ck_assert_int_eq(su->line, 0);
    ck_assert_str_eq(su->detail, "owned by root");
    ck_assert_str_eq(su->secret_sha256, "");
    ck_assert_str_eq(su->layer_digest, "sha256:B");
    const stw_rfinding *c = &r->findings[9];
    ck_assert_str_eq(c->path, "<config>");
    ck_assert_str_eq(c->layer_digest, "sha256:cfg2");
    ck_assert_int_eq(c->kind, STW_KIND_CONFIG);
    ck_assert(c->visible);
    ck_assert_int_eq(r->findings[0].offset, 5);
    ck_assert_int_eq(r->findings[0].line, 1);
    ck_assert(!r->findings[0].has_mode);
    ck_assert_uint_eq(strlen(r->findings[0].fingerprint), 32);

    /* A second load gives exactly the same sequence. */
    stw_results *r2 = load(s, scan);
    ck_assert_uint_eq(r2->n_findings, r->n_findings);
    for (size_t i = 0; i < r->n_findings; i++)
        ck_assert_str_eq(r2->findings[i].fingerprint,
                         r->findings[i].fingerprint);
    stw_results_destroy(r2);
    stw_results_destroy(r);

    ck_assert_int_eq(stw_store_load_scan(s, scan + 7, &r, &err),
                     STW_ERR_NOT_FOUND);
    ck_assert_ptr_null(r);
    stw_finding_list_destroy(cfg);
    stw_store_close(s);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *su = suite_create("store");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_migrations_apply_on_fresh_file_and_reopen);
    tcase_add_test(tc, test_open_refuses_newer_schema);
    tcase_add_test(tc, test_open_readonly_never_writes);
    tcase_add_test(tc, test_prune_spares_a_running_scan);
    tcase_add_test(tc, test_open_error_names_the_file);
    tcase_add_test(tc, test_layer_cached_by_digest_and_rules_version);
    tcase_add_test(tc, test_diff_id_claims_stay_with_their_image);
    tcase_add_test(tc, test_put_layer_replaces_findings_of_that_blob_only);
    tcase_add_test(tc, test_key_added_in_layer1_whiteout_in_layer2_is_hidden);
    tcase_add_test(tc,
                   test_overwrite_by_later_file_hides_and_first_hider_counts);
    tcase_add_test(tc, test_opaque_dir_hides_lower_contents);
    tcase_add_test(tc, test_layer_listed_twice_hides_its_own_lower_copy);
    tcase_add_test(
        tc, test_failed_put_image_leaves_no_rows_and_keeps_earlier_images);
    tcase_add_test(tc, test_two_processes_writing_one_file_both_land);
    tcase_add_test(tc, test_database_never_holds_the_plaintext_secret);
    tcase_add_test(tc, test_load_scan_order_and_fields);
    tcase_add_test(tc, test_prune_drops_old_archive_results_only);
    tcase_add_test(
        tc, test_archive_findings_reused_under_a_new_path_and_notes_replayed);
    suite_add_tcase(su, tc);
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(store_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
