/* test_nestpool.c - a layer's archive files walked on worker threads give
 * what the serial walk gives: the same findings, the same notes in the
 * same order, the same archive-cache records in the same order, and the
 * same failure. */
#include "alloc_test.h"
#include "common.h"
#include "layer.h"
#include "limits.h"
#include "testutil.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *rsa_key(void)
{
    return tu_rule_example(tu_rules, "rsa-private-key");
}

/* Bytes that deflate does not shrink, so an archive of them is big enough
 * for the archive cache (or to spill to a temporary file). */
static char *noise(size_t n, unsigned seed)
{
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (char)(seed >> 16);
    }
    return p;
}

/* ---- the layer ---------------------------------------------------------- */

typedef struct blobs {
    void *p[128];
    size_t n;
} blobs;

static const void *keep(blobs *b, void *p)
{
    ck_assert_uint_lt(b->n, 128);
    return b->p[b->n++] = p;
}

#define ADD(name_, data_, len_)                                                \
    do {                                                                       \
        ck_assert_uint_lt(n, cap);                                             \
        f[n++] = (tu_file){(name_), (data_), (len_)};                          \
    } while (0)

/* A layer with every kind of archive file: many small jars with a key,
 * damaged ones, one over the member bound, a jar in a jar, one the cache
 * knows, one big enough to spill, a git config inside a jar, and entries
 * between them that make notes on the walk thread. */
static unsigned char *make_layer(size_t *len, blobs *b, char *longname)
{
    enum { cap = 96 };
    tu_file f[cap];
    size_t n = 0;
    const char *key = rsa_key();
    static char names[40][64];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "app/lib/lib%02d.jar", i);
        char *pad = noise(i % 4 == 0 ? 70000 : 100, (unsigned)i);
        tu_file m[] = {{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n", 22},
                       {"pad.bin", pad, i % 4 == 0 ? 70000u : 100u},
                       {"conf/id_rsa", key, i % 3 == 0 ? strlen(key) : 0}};
        size_t al;
        ADD(names[i], keep(b, tu_archive("zip", m, 3, &al)), al);
        if (i == 10) {
            size_t al2;
            unsigned char *z = tu_archive("zip", m, 3, &al2);
            ADD("app/lib/cut.jar", z, al2 / 2); /* damaged */
            keep(b, z);
            ADD("app/lib/notzip.jar", "PK\x03\x04garbage", 11);
        }
        if (i == 10) {
            /* A name over the bound: a note made on the walk thread while
             * jars before it are still being walked. */
            memset(longname, 'n', STW_MAX_ENTRY_PATH + 10);
            longname[STW_MAX_ENTRY_PATH + 10] = 0;
            ADD(longname, "x", 1);
        }
        free(pad);
    }
    static char mnames[50][32];
    tu_file many[50];
    for (int i = 0; i < 50; i++) {
        snprintf(mnames[i], sizeof(mnames[i]), "m/%02d.txt", i);
        many[i] = (tu_file){mnames[i], i == 45 ? key : "x",
                            i == 45 ? strlen(key) : 1};
    }
    size_t al;
    ADD("app/many.zip", keep(b, tu_archive("zip", many, 50, &al)), al);
    /* Big enough for the cache: looked up from the worker. */
    char *ipad = noise(70000, 5);
    tu_file inner[] = {{"deep/id_rsa", key, strlen(key)},
                       {"pad.bin", ipad, 70000}};
    size_t il;
    const void *ij = keep(b, tu_archive("zip", inner, 2, &il));
    free(ipad);
    char *pad = noise(80000, 7);
    tu_file outer[] = {{"BOOT-INF/lib/inner.jar", ij, il},
                       {"pad.bin", pad, 80000}};
    ADD("app/outer.jar", keep(b, tu_archive("zip-stored", outer, 2, &al)), al);
    free(pad);
    char *cpad = noise(90000, 9);
    tu_file cached[] = {{"pad.bin", cpad, 90000}};
    ADD("app/cached.jar", keep(b, tu_archive("zip", cached, 1, &al)), al);
    free(cpad);
    char *big = noise(STW_NESTED_MEM_MAX + (1u << 20), 11);
    tu_file spill[] = {{"big.bin", big, STW_NESTED_MEM_MAX + (1u << 20)},
                       {"k/id_rsa", key, strlen(key)}};
    ADD("app/big.jar", keep(b, tu_archive("zip-stored", spill, 2, &al)), al);
    free(big);
    static const char gitcfg[] =
        "[remote \"origin\"]\n\turl = https://deploy:hunter2hunter2@"
        "git.example.com/x.git\n";
    tu_file git[] = {{"src/.git/config", gitcfg, sizeof(gitcfg) - 1},
                     {"src/.git/HEAD", "ref: refs/heads/main\n", 21}};
    ADD("app/src.jar", keep(b, tu_archive("zip", git, 2, &al)), al);
    /* A key after the gzip stream of a .tgz (`cat x.tgz key >x.tgz`), big
     * enough for the cache; and after that of a .gz inside a zip. */
    char *tpad = noise(70000, 13);
    tu_file pkg[] = {{"package/pad.bin", tpad, 70000}};
    size_t kl = strlen(key);
    unsigned char *tgz = tu_archive("tar.gz", pkg, 1, &al);
    unsigned char *tk = realloc(tgz, al + kl);
    ck_assert_ptr_nonnull(tk);
    memcpy(tk + al, key, kl);
    ADD("app/backup.tgz", keep(b, tk), al + kl);
    free(tpad);
    static const char logtxt[] = "started\n";
    tu_file log[] = {{"app.log", logtxt, sizeof(logtxt) - 1}};
    unsigned char *lg = tu_archive("tar.gz", log, 1, &al);
    unsigned char *lk = realloc(lg, al + kl);
    ck_assert_ptr_nonnull(lk);
    memcpy(lk + al, key, kl);
    tu_file logs[] = {{"app.log.gz", lk, al + kl}};
    ADD("app/logs.zip", keep(b, tu_archive("zip", logs, 1, &al)), al);
    free(lk);
    ADD("etc/plain.pem", key, strlen(key));
    return tu_archive("tar", f, n, len);
}

static void free_blobs(blobs *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->p[i]);
}

/* ---- scanning it ----------------------------------------------------------
 */

/* The cache knows app/cached.jar; an archive named fail.jar anywhere
 * fails the look-up (a store failure), on whichever thread asks. */
typedef struct cache {
    pthread_mutex_t mu;
    size_t asked;
    bool fail_inner;
} cache;

static stw_status lookup(void *ctx, const char *sha256, const char *path,
                         const stw_nested_cost *room, stw_nested_cost *charge,
                         stw_finding_list *out, bool *hit, stw_error *err)
{
    (void)sha256;
    (void)room;
    (void)charge; /* a hit costs nothing here */
    cache *c = ctx;
    pthread_mutex_lock(&c->mu);
    c->asked++;
    pthread_mutex_unlock(&c->mu);
    *hit = false;
    if (c->fail_inner && strstr(path, "!/BOOT-INF/lib/inner.jar"))
        return stw_fail(err, STW_ERR_DB, "store: disk I/O error");
    if (strcmp(path, "app/cached.jar") != 0)
        return STW_OK;
    *hit = true;
    stw_finding f = {.path = "app/cached.jar!/remembered.properties",
                     .kind = STW_KIND_SECRET,
                     .rule = "remembered",
                     .severity = STW_SEV_HIGH,
                     .line = 1,
                     .offset = 0};
    return stw_finding_list_add(out, &f);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What must not change, as text: findings sorted (their order is the
 * list's, not the report's), then notes and cache records in order. */
static char *summary(const stw_layer_result *r)
{
    size_t n = stw_finding_list_count(r->findings);
    char **v = calloc(n ? n : 1, sizeof(*v));
    size_t total = 1;
    for (size_t i = 0; i < n; i++) {
        const stw_finding *f = stw_finding_list_get(r->findings, i);
        char line[1024];
        snprintf(line, sizeof(line), "F %.600s|%s|%d|%lld|%lld|%s|%s\n",
                 f->path, f->rule, (int)f->kind, (long long)f->line,
                 (long long)f->offset, f->secret_sha256,
                 f->detail ? f->detail : "");
        v[i] = strdup(line);
        total += strlen(line);
    }
    qsort(v, n, sizeof(*v), cmp_str);
    for (size_t i = 0; i < r->n_notes; i++)
        total += strlen(r->notes[i]) + 4;
    total += r->archives.n * 400;
    char *s = malloc(total);
    ck_assert_ptr_nonnull(s);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        o += (size_t)sprintf(s + o, "%s", v[i]);
        free(v[i]);
    }
    free(v);
    for (size_t i = 0; i < r->n_notes; i++)
        o += (size_t)sprintf(s + o, "N %.*s\n", 200, r->notes[i]);
    /* The records (an archive only named as a holder of its path is
     * none). */
    for (size_t i = 0; i < r->archives.n; i++)
        if (!r->archives.v[i].not_kept)
            o += (size_t)sprintf(s + o, "A %s %.300s %llu\n",
                                 r->archives.v[i].sha256, r->archives.v[i].path,
                                 (unsigned long long)r->archives.v[i].size);
    return s;
}

/* Scans the layer with workers threads for its archive files (0: on the
 * walk thread) into *sum, or returns the failure with its message. */
static stw_status scan(const unsigned char *tar, size_t len, unsigned workers,
                       bool content_thread, cache *c, stw_archmemo *memo,
                       char **sum, stw_error *err)
{
    stw_matcher *m;
    *sum = NULL;
    stw_status st = stw_matcher_create(tu_rules, &m, err);
    if (st != STW_OK)
        return st; /* an allocation failure of the torture test */
    tu_mem src = {tar, len, false};
    stw_blob_options bo = {.name = "layer.tar"};
    stw_layer_options lo = {
        .content_thread = content_thread,
        .nested = {.max_members = 40},
        .git_off = true,
        .archive_lookup = lookup,
        .archive_ctx = c,
        .archive_memo = memo,
        .nested_workers = workers,
        .rules = tu_rules,
    };
    stw_layer_result res;
    st = stw_layer_scan(m, tu_mem_read, &src, &bo, &lo, &res, err);
    if (st == STW_OK)
        *sum = summary(&res);
    stw_layer_result_clear(&res);
    stw_matcher_destroy(m);
    return st;
}

/* The line of b where it starts to differ from a. */
static const char *first_diff(const char *a, const char *b)
{
    const char *line = b;
    for (; *a && *a == *b; a++, b++)
        if (*b == '\n')
            line = b + 1;
    return line;
}

START_TEST(test_layer_of_archives_same_serial_and_parallel)
{
    blobs b = {0};
    char *longname = malloc(STW_MAX_ENTRY_PATH + 16);
    size_t len;
    unsigned char *tar = make_layer(&len, &b, longname);
    cache c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    stw_error err = {0};
    char *serial;
    ck_assert_msg(scan(tar, len, 0, false, &c, NULL, &serial, &err) == STW_OK,
                  "%s", err.msg);
    /* The layer has what the comparison is about. */
    ck_assert_ptr_nonnull(strstr(serial, "F app/lib/lib03.jar!/conf/id_rsa"));
    ck_assert_ptr_nonnull(
        strstr(serial, "F app/outer.jar!/BOOT-INF/lib/inner.jar!/deep/id_rsa"));
    ck_assert_ptr_nonnull(strstr(serial, "F app/big.jar!/k/id_rsa"));
    ck_assert_ptr_nonnull(strstr(serial, "remembered"));
    ck_assert_ptr_nonnull(strstr(serial, "F app/src.jar!/src/.git|"));
    ck_assert_ptr_nonnull(strstr(serial, "N app/lib/cut.jar"));
    ck_assert_ptr_nonnull(strstr(serial, "N app/lib/notzip.jar"));
    ck_assert_ptr_nonnull(strstr(serial, "--max-nested-members"));
    ck_assert_ptr_nonnull(strstr(serial, "N an entry with a path of"));
    ck_assert_ptr_nonnull(strstr(serial, "A "));
    /* A key after a gzip stream: found at the file's own path, noted, and
     * the .tgz is not cached (the zip holding the .gz is too small). */
    char tail_note[200];
    ck_assert_ptr_nonnull(strstr(serial, "F app/backup.tgz|"));
    snprintf(tail_note, sizeof(tail_note),
             "N app/backup.tgz: %zu bytes after the gzip stream; scanned as "
             "they are\n",
             strlen(rsa_key()));
    ck_assert_ptr_nonnull(strstr(serial, tail_note));
    ck_assert_ptr_null(strstr(serial, " app/backup.tgz "));
    ck_assert_ptr_nonnull(strstr(serial, "F app/logs.zip!/app.log.gz|"));
    snprintf(tail_note, sizeof(tail_note),
             "N app/logs.zip!/app.log.gz: %zu bytes after the gzip stream",
             strlen(rsa_key()));
    ck_assert_ptr_nonnull(strstr(serial, tail_note));
    for (int run = 0; run < 6; run++) {
        char *par;
        unsigned workers = 1 + (unsigned)run % 4;
        ck_assert_msg(scan(tar, len, workers, run % 2, &c, NULL, &par, &err) ==
                          STW_OK,
                      "%s", err.msg);
        ck_assert_msg(strcmp(serial, par) == 0,
                      "run %d (%u workers) differs from serial at: %.300s", run,
                      workers, first_diff(serial, par));
        free(par);
    }
    free(serial);
    free(tar);
    free(longname);
    free_blobs(&b);
}
END_TEST

/* A failure inside a worker (here the archive cache, asked for the jar
 * inside a jar) fails the layer with the message the serial walk gives. */
START_TEST(test_failure_in_worker_reported_as_serial)
{
    blobs b = {0};
    char *longname = malloc(STW_MAX_ENTRY_PATH + 16);
    size_t len;
    unsigned char *tar = make_layer(&len, &b, longname);
    cache c = {.mu = PTHREAD_MUTEX_INITIALIZER, .fail_inner = true};
    stw_error serr = {0}, perr = {0};
    char *sum;
    stw_status sst = scan(tar, len, 0, true, &c, NULL, &sum, &serr);
    ck_assert_int_eq(sst, STW_ERR_DB);
    for (int run = 0; run < 4; run++) {
        memset(&perr, 0, sizeof(perr));
        ck_assert_int_eq(scan(tar, len, 2 + (unsigned)run % 2, run % 2, &c,
                              NULL, &sum, &perr),
                         sst);
        ck_assert_str_eq(perr.msg, serr.msg);
    }
    free(tar);
    free(longname);
    free_blobs(&b);
}
END_TEST

/* Every allocation failing in turn, workers on: a clean STW_ERR_NOMEM or
 * the right result, never a crash, a leak or a hang (ASan, the timeout).
 * The threads make the Nth allocation a different one from run to run, so
 * what is asserted is the contract, not one outcome. */
START_TEST(test_allocation_failures_with_workers)
{
    blobs b = {0};
    tu_file jar[] = {{"conf/id_rsa", rsa_key(), strlen(rsa_key())}};
    tu_file f[6];
    static const char *const names[] = {"a.jar", "b.jar", "c.jar",
                                        "d.jar", "e.jar", "f.jar"};
    for (size_t i = 0; i < 6; i++) {
        size_t al;
        f[i] =
            (tu_file){names[i], keep(&b, tu_archive("zip", jar, 1, &al)), al};
    }
    size_t len;
    unsigned char *tar = tu_archive("tar", f, 6, &len);
    cache c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    stw_error err = {0};
    char *want;
    ck_assert_int_eq(scan(tar, len, 0, false, &c, NULL, &want, &err), STW_OK);
    unsigned long calls = 0;
    stw_alloc_fail_arm((unsigned long)-1, STW_ALLOC_FAIL_ONLY);
    char *got;
    ck_assert_int_eq(scan(tar, len, 2, true, &c, NULL, &got, &err), STW_OK);
    stw_alloc_fail_disarm(&calls);
    free(got);
    for (unsigned long n = 1; n <= calls + 20; n += 1 + n / 64) {
        memset(&err, 0, sizeof(err));
        stw_alloc_fail_arm(n, STW_ALLOC_FAIL_ONLY);
        stw_status st = scan(tar, len, 2, n % 2, &c, NULL, &got, &err);
        stw_alloc_fail_disarm(NULL);
        ck_assert_msg(st == STW_OK || st == STW_ERR_NOMEM,
                      "allocation %lu: %d %s", n, st, err.msg);
        if (st == STW_OK)
            ck_assert_str_eq(got, want);
        free(got);
    }
    free(want);
    free(tar);
    free_blobs(&b);
}
END_TEST

/* ---- the scan's memo of archives -------------------------------------- */

/* The same jar loose, copied, in a fat jar and under a third-party tree;
 * a jar whose .github/ is judged by the path around it; a jar holding a
 * damaged archive (a note). */
static unsigned char *make_dup_layer(size_t *len, blobs *b, const char *format)
{
    const char *key = rsa_key();
    char *pad = noise(70000, 21);
    tu_file am[] = {{"conf/id_rsa", key, strlen(key)}, {"pad.bin", pad, 70000}};
    size_t al;
    const void *a = keep(b, tu_archive("zip", am, 2, &al));
    free(pad);
    pad = noise(70000, 23);
    tu_file gm[] = {{".github/workflows/ci.yml", "on: push\n", 9},
                    {"pad.bin", pad, 70000},
                    {"k/id_rsa", key, strlen(key)}};
    size_t gl;
    const void *g = keep(b, tu_archive("zip", gm, 3, &gl));
    free(pad);
    pad = noise(70000, 25);
    tu_file cm[] = {{"cut.zip", a, al / 2}, {"pad.bin", pad, 70000}};
    size_t cl;
    const void *c = keep(b, tu_archive("zip-stored", cm, 2, &cl));
    free(pad);
    tu_file fm[] = {{"BOOT-INF/lib/a.jar", a, al},
                    {"BOOT-INF/lib/gh.jar", g, gl},
                    {"BOOT-INF/lib/dup.jar", a, al}};
    size_t fl;
    const void *fat = keep(b, tu_archive("zip-stored", fm, 3, &fl));
    tu_file f[] = {{"app/fat.jar", fat, fl}, {"app/a.jar", a, al},
                   {"app/copy.jar", a, al},  {"usr/share/java/gh.jar", g, gl},
                   {"app/gh.jar", g, gl},    {"usr/share/java/a.jar", a, al},
                   {"app/cut.jar", c, cl},   {"app/cut2.jar", c, cl}};
    return tu_archive(format, f, 8, len);
}

/* The summary without the archive records: a replayed archive is not
 * recorded again (its first walk's record is the one kept). */
static void drop_records(char *s)
{
    char *a = strstr(s, "A ");
    while (a && a != s && a[-1] != '\n')
        a = strstr(a + 1, "A ");
    if (a)
        *a = 0;
}

START_TEST(test_memo_replays_what_a_walk_gives)
{
    blobs b = {0};
    size_t len;
    unsigned char *tar = make_dup_layer(&len, &b, "tar");
    cache c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    stw_error err = {0};
    char *serial;
    ck_assert_msg(scan(tar, len, 0, false, &c, NULL, &serial, &err) == STW_OK,
                  "%s", err.msg);
    /* Only a.jar is a record of the database's archive cache: gh.jar's
     * .github/ is judged by its path, fat.jar holds gh.jar, the cut jars
     * made notes. */
    ck_assert_ptr_nonnull(strstr(serial, " app/a.jar "));
    ck_assert_ptr_null(strstr(serial, "gh.jar "));
    ck_assert_ptr_null(strstr(serial, "fat.jar "));
    ck_assert_ptr_null(strstr(serial, "cut.jar "));
    drop_records(serial);
    ck_assert_ptr_nonnull(strstr(serial, "F app/copy.jar!/conf/id_rsa|"));
    ck_assert_ptr_nonnull(
        strstr(serial, "F app/fat.jar!/BOOT-INF/lib/dup.jar!/conf/id_rsa|"));
    ck_assert_ptr_nonnull(strstr(serial, "F app/gh.jar!/.github|"));
    ck_assert_ptr_nonnull(
        strstr(serial, "F app/fat.jar!/BOOT-INF/lib/gh.jar!/.github|"));
    ck_assert_ptr_null(strstr(serial, "F usr/share/java/gh.jar!/.github|"));
    ck_assert_ptr_nonnull(strstr(serial, "N app/cut2.jar!/cut.zip"));
    for (int run = 0; run < 8; run++) {
        unsigned workers = 1 + (unsigned)run % 4;
        stw_archmemo *memo;
        ck_assert_int_eq(stw_archmemo_create(false, &memo), STW_OK);
        char *par;
        ck_assert_msg(scan(tar, len, workers, run % 2, &c, memo, &par, &err) ==
                          STW_OK,
                      "%s", err.msg);
        drop_records(par);
        ck_assert_msg(strcmp(serial, par) == 0,
                      "run %d (%u workers) differs from serial at: %.300s", run,
                      workers, first_diff(serial, par));
        /* Only a.jar is the same wherever it lies: gh.jar's .github/ is
         * judged by the path, fat.jar holds gh.jar, the cut jars made a
         * note. One worker walks in order: each later a.jar is a replay. */
        ck_assert_uint_eq(stw_archmemo_count(memo), 1);
        if (workers == 1)
            ck_assert_uint_eq(stw_archmemo_hits(memo), 4);
        free(par);
        stw_archmemo_destroy(memo);
    }
    free(serial);
    free(tar);
    free_blobs(&b);
}
END_TEST

/* Every allocation failing in turn with the memo on: a clean
 * STW_ERR_NOMEM or the same findings (a result the memo could not keep,
 * or a claim it could not record, only costs a walk). */
START_TEST(test_memo_allocation_failures)
{
    blobs b = {0};
    size_t len;
    unsigned char *tar = make_dup_layer(&len, &b, "tar");
    cache c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    stw_error err = {0};
    char *want, *got;
    ck_assert_int_eq(scan(tar, len, 0, false, &c, NULL, &want, &err), STW_OK);
    drop_records(want);
    unsigned long calls = 0;
    stw_archmemo *memo;
    ck_assert_int_eq(stw_archmemo_create(false, &memo), STW_OK);
    stw_alloc_fail_arm((unsigned long)-1, STW_ALLOC_FAIL_ONLY);
    ck_assert_int_eq(scan(tar, len, 2, true, &c, memo, &got, &err), STW_OK);
    stw_alloc_fail_disarm(&calls);
    stw_archmemo_destroy(memo);
    free(got);
    for (unsigned long n = 1; n <= calls + 20; n += 1 + n / 32) {
        memset(&err, 0, sizeof(err));
        ck_assert_int_eq(stw_archmemo_create(false, &memo), STW_OK);
        stw_alloc_fail_arm(n, STW_ALLOC_FAIL_ONLY);
        stw_status st = scan(tar, len, 1 + n % 2, n % 2, &c, memo, &got, &err);
        stw_alloc_fail_disarm(NULL);
        ck_assert_msg(st == STW_OK || st == STW_ERR_NOMEM,
                      "allocation %lu: %d %s", n, st, err.msg);
        if (st == STW_OK) {
            drop_records(got);
            ck_assert_msg(strcmp(want, got) == 0,
                          "allocation %lu differs at: %.300s", n,
                          first_diff(want, got));
        }
        free(got);
        stw_archmemo_destroy(memo);
    }
    free(want);
    free(tar);
    free_blobs(&b);
}
END_TEST

/* Threads refused from the Nth on (a container's pids limit): the content
 * thread, the blob's hasher and the archive workers each give way to the
 * walk thread, and the layer's findings are those of a serial walk. */
START_TEST(test_threads_refused_degrade_to_serial)
{
    blobs b = {0};
    size_t len;
    unsigned char *tar = make_dup_layer(&len, &b, "tar");
    size_t gzlen;
    unsigned char *tgz = make_dup_layer(&gzlen, &b, "tar.gz");
    cache c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    stw_error err = {0};
    char *want;
    ck_assert_int_eq(scan(tar, len, 0, false, &c, NULL, &want, &err), STW_OK);
    drop_records(want);
    unsigned long refused_any = 0;
    /* The plain tar starts the blob's hasher; the gzip one its inflater
     * and hasher. */
    for (unsigned long k = 0; k < 14; k++) {
        unsigned long n = 1 + k % 7;
        const unsigned char *in = k < 7 ? tar : tgz;
        size_t inlen = k < 7 ? len : gzlen;
        stw_archmemo *memo;
        ck_assert_int_eq(stw_archmemo_create(false, &memo), STW_OK);
        stw_matcher *m;
        ck_assert_int_eq(stw_matcher_create(tu_rules, &m, &err), STW_OK);
        tu_mem src = {in, inlen, false};
        stw_blob_options bo = {.name = "layer.tar", .inflate_thread = true};
        stw_layer_options lo = {.content_thread = true,
                                .nested = {.max_members = 40},
                                .git_off = true,
                                .archive_lookup = lookup,
                                .archive_ctx = &c,
                                .archive_memo = memo,
                                .nested_workers = 2,
                                .rules = tu_rules};
        stw_layer_result res;
        stw_thread_fail_arm(n);
        stw_status st =
            stw_layer_scan(m, tu_mem_read, &src, &bo, &lo, &res, &err);
        unsigned long refused = stw_thread_fail_arm(0);
        refused_any += refused;
        ck_assert_msg(st == STW_OK, "threads refused from %lu: %s", n, err.msg);
        char *got = summary(&res);
        drop_records(got);
        ck_assert_msg(strcmp(want, got) == 0,
                      "threads refused from %lu: differs at %.300s", n,
                      first_diff(want, got));
        free(got);
        stw_layer_result_clear(&res);
        stw_matcher_destroy(m);
        stw_archmemo_destroy(memo);
    }
    ck_assert_uint_gt(refused_any, 0);
    free(want);
    free(tar);
    free(tgz);
    free_blobs(&b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("nestpool");
    TCase *t = tcase_create("core");
    tcase_add_checked_fixture(t, tu_rules_setup, tu_rules_teardown);
    tcase_set_timeout(t, 600);
    tcase_add_test(t, test_layer_of_archives_same_serial_and_parallel);
    tcase_add_test(t, test_failure_in_worker_reported_as_serial);
    tcase_add_test(t, test_allocation_failures_with_workers);
    tcase_add_test(t, test_memo_replays_what_a_walk_gives);
    tcase_add_test(t, test_memo_allocation_failures);
    tcase_add_test(t, test_threads_refused_degrade_to_serial);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
