/* test_rulecache.c - the on-disk cache of compiled rules (rulecache.c):
 * the first load stores an entry, the second uses it, and the findings are
 * the same as without a cache; a damaged, foreign, misplaced or
 * unreachable entry is compiled over with the same findings, never
 * trusted; a changed rule file gets its own entry; old entries are
 * pruned. */
#include "common.h"
#include "matcher.h"
#include "rules.h"
#include "sha256.h"
#include "testutil.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Every way a rule reaches vectorscan: keywords, a regex as its own
 * prefilter, a regex vectorscan refuses (\K: PCRE2 over everything), a
 * path regex, a path-only rule, a path-only allow rule. */
static const char user_yaml[] =
    "rules:\n"
    "  - id: kw-token\n    severity: high\n    keywords: ['tok_']\n"
    "    regex: 'tok_[A-Za-z0-9]{20}'\n"
    "  - id: prefilter-token\n    severity: medium\n"
    "    regex: 'pf-[0-9]{6}-[a-f]{6}'\n"
    "  - id: fallback-token\n    severity: low\n"
    "    regex: 'secret=\\K[a-z]{8}\\b'\n"
    "  - id: env-file\n    severity: medium\n    kind: credential-file\n"
    "    path: '(^|/)\\.env$'\n"
    "  - id: only-in-conf\n    severity: info\n    kind: config\n"
    "    path: '\\.conf$'\n    regex: 'password\\s*=\\s*\\S+'\n"
    "    allow-rules:\n      - id: not-in-tests\n"
    "        path: '(^|/)tests?/'\n";

typedef struct corpus_file {
    const char *path, *text;
} corpus_file;

static const corpus_file corpus[] = {
    {"app/config.txt", "x = tok_Ab3dE5gH7jK9mN1pQ3sT\ny = pf-123456-abcdef\n"
                       "secret=qwertyui\n"},
    {"srv/.env", "A=1\n"},
    {"etc/app.conf", "password = hunter2hunter2\n"},
    {"tests/app.conf", "password = hunter2hunter2\n"},
    {"home/u/.aws/credentials",
     "[default]\naws_access_key_id = AKIAZ3MSJV4WWNKWW5FG\n"
     "aws_secret_access_key = 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\n"},
    {"root/.ssh/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\n"
                         "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB"
                         "AAAAMwAAAAtzc2gtZWQyNTUxOQAAACBnVGVzdGtleXRlc3RrZXl0"
                         "\n-----END OPENSSH PRIVATE KEY-----\n"},
};

/* Appends one line per finding to the signature in ctx. */
typedef struct sig {
    char s[16384];
    size_t n;
} sig;

static stw_status add_finding(void *ctx, const stw_finding *f)
{
    sig *g = ctx;
    int w = snprintf(g->s + g->n, sizeof(g->s) - g->n, "%s|%lld|%lld|%s|%d\n",
                     f->rule, (long long)f->offset, (long long)f->secret_len,
                     f->secret_sha256, (int)f->severity);
    ck_assert(w > 0 && (size_t)w < sizeof(g->s) - g->n);
    g->n += (size_t)w;
    return STW_OK;
}

/* The findings of r over the corpus, and over every example of every
 * rule, as one string (malloc'd). */
static char *signature(const stw_rules *r)
{
    stw_matcher *m;
    stw_error err = {0};
    ck_assert_int_eq(stw_matcher_create(r, &m, &err), STW_OK);
    sig *g = calloc(1, sizeof(*g));
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    out[0] = 0;
    for (size_t k = 0; k < STW_ARRAY_LEN(corpus) + stw_rules_count(r); k++) {
        for (int tp = 1; tp >= 0; tp--) {
            for (size_t j = 0;; j++) {
                const char *text, *path;
                if (k < STW_ARRAY_LEN(corpus)) {
                    if (tp == 0 || j > 0)
                        break;
                    text = corpus[k].text;
                    path = corpus[k].path;
                } else if (stw_rules_example(r, k - STW_ARRAY_LEN(corpus), tp,
                                             j, &text, &path) != STW_OK) {
                    break;
                }
                g->n = 0;
                g->s[0] = 0;
                ck_assert_int_eq(stw_matcher_scan_buffer(m, path, text,
                                                         strlen(text),
                                                         add_finding, g, &err),
                                 STW_OK);
                size_t need = strlen(path) + g->n + 4;
                if (len + need >= cap) {
                    cap = 2 * (len + need);
                    out = realloc(out, cap);
                }
                len += (size_t)snprintf(out + len, cap - len, "%s:\n%s", path,
                                        g->s);
            }
        }
    }
    stw_matcher_destroy(m);
    free(g);
    return out;
}

static char *tmp_dir, *rule_file, *cache_dir, *expected;
/* With the built-in rules too (slow under sanitizers: one test only). */
static bool builtin;

/* Loads rule_file (and the built-ins when builtin), with the cache at dir
 * (NULL: none); returns the cache use and checks the findings against
 * expected. */
static stw_rules_cache_use load_check(const char *dir, const char **why_out)
{
    const char *files[] = {rule_file};
    stw_rules_options opt = {
        .files = files, .n_files = 1, .no_builtin = !builtin, .cache_dir = dir};
    stw_rules *r = NULL;
    stw_error err = {0};
    ck_assert_msg(stw_rules_create(&opt, &r, &err) == STW_OK, "%s", err.msg);
    const char *why = NULL;
    stw_rules_cache_use u = stw_rules_cache_state(r, &why);
    ck_assert_ptr_nonnull(why);
    if (why_out) {
        static char keep[512];
        snprintf(keep, sizeof(keep), "%s", why);
        *why_out = keep;
    }
    if (expected) {
        char *s = signature(r);
        ck_assert_msg(strcmp(s, expected) == 0,
                      "findings differ with the cache (use %d, %s)", (int)u,
                      why);
        free(s);
    }
    stw_rules_destroy(r);
    return u;
}

/* The one entry under cache_dir/rules/: its path (malloc'd), or NULL when
 * there is none; fails when there are several. */
static char *entry(void)
{
    char *rdir = tu_path(cache_dir, "rules");
    DIR *d = opendir(rdir);
    char *found = NULL;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        ck_assert_msg(!found, "more than one entry");
        found = tu_path(rdir, de->d_name);
    }
    if (d)
        closedir(d);
    free(rdir);
    return found;
}

static size_t count_entries(void)
{
    char *rdir = tu_path(cache_dir, "rules");
    DIR *d = opendir(rdir);
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        n += strstr(de->d_name, ".hsdb") != NULL;
    if (d)
        closedir(d);
    free(rdir);
    return n;
}

static void setup(void)
{
    tmp_dir = tu_mkdtemp("rulecache");
    rule_file = tu_path(tmp_dir, "user.yaml");
    tu_write_file(rule_file, user_yaml, strlen(user_yaml));
    cache_dir = tu_path(tmp_dir, "cache");
    expected = NULL;
    ck_assert_int_eq(load_check(NULL, NULL), STW_RULES_CACHE_OFF);
    const char *files[] = {rule_file};
    stw_rules_options opt = {
        .files = files, .n_files = 1, .no_builtin = !builtin};
    stw_rules *r = NULL;
    stw_error err = {0};
    ck_assert_int_eq(stw_rules_create(&opt, &r, &err), STW_OK);
    expected = signature(r);
    stw_rules_destroy(r);
    /* The corpus means something: every kind of rule fires. */
    ck_assert_ptr_nonnull(strstr(expected, "kw-token|"));
    ck_assert_ptr_nonnull(strstr(expected, "prefilter-token|"));
    ck_assert_ptr_nonnull(strstr(expected, "fallback-token|"));
    ck_assert_ptr_nonnull(strstr(expected, "env-file|"));
    ck_assert_ptr_nonnull(strstr(expected, "etc/app.conf:\nonly-in-conf|"));
    ck_assert_ptr_null(strstr(expected, "tests/app.conf:\nonly-in-conf|"));
    if (builtin)
        ck_assert_ptr_nonnull(strstr(expected, "aws-access-key-id|"));
}

static void setup_builtin(void)
{
    builtin = true;
    setup();
}

static void teardown(void)
{
    builtin = false;
    free(tmp_dir);
    tmp_dir = NULL;
    free(rule_file);
    free(cache_dir);
    free(expected);
}

START_TEST(test_first_load_stores_second_loads_same_findings)
{
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_STORED);
    char *e = entry();
    ck_assert_ptr_nonnull(e);
    struct stat sb;
    ck_assert_int_eq(stat(e, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    ck_assert_int_eq(stat(cache_dir, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0700);
    const char *why;
    ck_assert_int_eq(load_check(cache_dir, &why), STW_RULES_CACHE_LOADED);
    ck_assert_str_eq(why, "");
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_LOADED);
    free(e);
}
END_TEST

/* Reads the entry, lets damage() change it, writes it back. */
static void damage_entry(void (*damage)(unsigned char *b, size_t *n))
{
    char *e = entry();
    ck_assert_ptr_nonnull(e);
    size_t n;
    unsigned char *b = (unsigned char *)tu_read_file(e, &n);
    damage(b, &n);
    unlink(e);
    tu_write_file(e, b, n);
    chmod(e, 0600);
    free(b);
    free(e);
}

static void truncate_half(unsigned char *b, size_t *n)
{
    (void)b;
    *n /= 2;
}

static void truncate_header(unsigned char *b, size_t *n)
{
    (void)b;
    *n = 20;
}

static void flip_last_payload_byte(unsigned char *b, size_t *n)
{
    b[*n - 1] ^= 0x40;
}

static void flip_key(unsigned char *b, size_t *n)
{
    (void)n;
    b[16] ^= 1; /* the header's key: an entry of other rules, platform or
                   version under this name */
}

static void bump_format(unsigned char *b, size_t *n)
{
    (void)n;
    b[8]++;
}

static void bad_magic(unsigned char *b, size_t *n)
{
    (void)n;
    b[0] = 'X';
}

static void append_byte(unsigned char *b, size_t *n)
{
    b[*n] = 0; /* tu_read_file leaves a NUL after the data */
    (*n)++;
}

/* A payload that hashes right but does not fit the rules (one rule
 * fewer): only the checks after the checksum can catch it. */
static void consistent_but_wrong_counts(unsigned char *b, size_t *n)
{
    unsigned char *payload = b + 88;
    size_t pn = *n - 88;
    uint32_t nr = (uint32_t)payload[0] | (uint32_t)payload[1] << 8 |
                  (uint32_t)payload[2] << 16 | (uint32_t)payload[3] << 24;
    ck_assert_uint_gt(nr, 0);
    nr--;
    for (int i = 0; i < 4; i++)
        payload[i] = (unsigned char)(nr >> (8 * i));
    size_t cut = 4 + nr; /* the last mode byte goes */
    memmove(payload + cut, payload + cut + 1, pn - cut - 1);
    pn--;
    (*n)--;
    for (int i = 0; i < 8; i++) /* payload length */
        b[48 + i] = (unsigned char)((uint64_t)pn >> (8 * i));
    stw_sha256 *h;
    stw_error err = {0};
    ck_assert_int_eq(stw_sha256_create(&h, &err), STW_OK);
    stw_sha256_update(h, payload, pn);
    ck_assert_int_eq(stw_sha256_final_raw(h, b + 56, &err), STW_OK);
    stw_sha256_destroy(h);
}

START_TEST(test_damaged_entry_compiled_over_same_findings)
{
    void (*damages[])(unsigned char *, size_t *) = {
        truncate_half,
        truncate_header,
        flip_last_payload_byte,
        flip_key,
        bump_format,
        bad_magic,
        append_byte,
        consistent_but_wrong_counts,
    };
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_STORED);
    for (size_t i = 0; i < STW_ARRAY_LEN(damages); i++) {
        damage_entry(damages[i]);
        const char *why;
        ck_assert_int_eq(load_check(cache_dir, &why), STW_RULES_CACHE_STORED);
        ck_assert_msg(*why != 0, "damage %zu not reported", i);
        /* ... and replaced by a good entry. */
        ck_assert_int_eq(load_check(cache_dir, &why), STW_RULES_CACHE_LOADED);
    }
    /* Writable by others: not trusted, replaced. */
    char *e = entry();
    chmod(e, 0666);
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_STORED);
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_LOADED);
    free(e);
}
END_TEST

START_TEST(test_entry_that_is_a_symlink_or_directory_not_followed)
{
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_STORED);
    char *e = entry();
    /* A symlink to a good entry elsewhere is still not read. */
    char *elsewhere = tu_path(tmp_dir, "good.hsdb");
    ck_assert_int_eq(rename(e, elsewhere), 0);
    ck_assert_int_eq(symlink(elsewhere, e), 0);
    const char *why;
    ck_assert_int_eq(load_check(cache_dir, &why), STW_RULES_CACHE_STORED);
    ck_assert_msg(*why != 0, "symlink not reported");
    struct stat sb;
    ck_assert_int_eq(lstat(e, &sb), 0);
    ck_assert(S_ISREG(sb.st_mode)); /* replaced, not written through */
    /* A directory in the way: compiled every time, nothing written. */
    unlink(e);
    ck_assert_int_eq(mkdir(e, 0700), 0);
    ck_assert_int_eq(load_check(cache_dir, &why), STW_RULES_CACHE_FAILED);
    ck_assert_msg(*why != 0, "directory not reported");
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_FAILED);
    ck_assert_int_eq(lstat(e, &sb), 0);
    ck_assert(S_ISDIR(sb.st_mode));
    free(elsewhere);
    free(e);
}
END_TEST

/* A cache that cannot be written (a path through a regular file, a
 * rules/ that is a file) compiles and scans as without one. Independent
 * of who runs the test: root may write a mode 0500 directory. */
START_TEST(test_unwritable_cache_dir_same_findings)
{
    char *file = tu_path(tmp_dir, "plainfile");
    tu_write_file(file, "x", 1);
    char *under = tu_path(file, "cache");
    const char *why;
    ck_assert_int_eq(load_check(under, &why), STW_RULES_CACHE_FAILED);
    ck_assert_ptr_nonnull(strstr(why, "plainfile"));
    ck_assert_int_eq(mkdir(cache_dir, 0700), 0);
    char *rules = tu_path(cache_dir, "rules");
    tu_write_file(rules, "x", 1);
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_FAILED);
    /* A rules/ others may write is not written to; the directory above
     * it is the caller's business. */
    unlink(rules);
    ck_assert_int_eq(mkdir(rules, 0700), 0);
    chmod(rules, 0777);
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_FAILED);
    ck_assert_uint_eq(count_entries(), 0);
    chmod(rules, 0700);
    chmod(cache_dir, 0777);
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_STORED);
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_LOADED);
    free(rules);
    free(under);
    free(file);
}
END_TEST

/* A changed regex is another entry; a changed title (nothing vectorscan
 * reads) is the same one. Old entries beyond the kept number go. */
START_TEST(test_changed_rule_file_gets_its_own_entry_and_old_ones_pruned)
{
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_STORED);
    char *first = entry();
    size_t n = strlen(user_yaml) + 64;
    char *text = malloc(n);
    snprintf(text, n, "%s", user_yaml);
    char *at = strstr(text, "{20}");
    at[2] = '1'; /* tok_ + 21 characters */
    tu_write_file(rule_file, text, strlen(text));
    free(expected);
    expected = NULL;
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_STORED);
    ck_assert_uint_eq(count_entries(), 2);
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_LOADED);
    /* Back to the first file, titled differently: the first entry. */
    static const char title[] = "title: 'X'\n    ";
    size_t pre = (size_t)(strstr(user_yaml, "severity: high") - user_yaml);
    memcpy(text, user_yaml, pre);
    memcpy(text + pre, title, sizeof(title) - 1);
    memcpy(text + pre + sizeof(title) - 1, user_yaml + pre,
           strlen(user_yaml) - pre + 1);
    tu_write_file(rule_file, text, strlen(text));
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_LOADED);
    ck_assert_uint_eq(count_entries(), 2);
    /* Ten more rule sets: eight entries stay, the first among them since
     * it was used last... until eight newer ones push it out. */
    for (int i = 0; i < 10; i++) {
        char one[256];
        snprintf(one, sizeof(one),
                 "rules:\n  - id: only-%d\n    severity: low\n"
                 "    keywords: ['k%d_']\n    regex: 'k%d_[0-9]{8}'\n",
                 i, i, i);
        char *f = tu_path(tmp_dir, "one.yaml");
        tu_write_file(f, one, strlen(one));
        const char *files[] = {f};
        stw_rules_options opt = {.files = files,
                                 .n_files = 1,
                                 .no_builtin = 1,
                                 .cache_dir = cache_dir};
        stw_rules *r;
        stw_error err = {0};
        ck_assert_int_eq(stw_rules_create(&opt, &r, &err), STW_OK);
        ck_assert_int_eq(stw_rules_cache_state(r, NULL),
                         STW_RULES_CACHE_STORED);
        stw_rules_destroy(r);
        free(f);
    }
    ck_assert_uint_eq(count_entries(), 8);
    ck_assert_int_ne(access(first, F_OK), 0);
    free(text);
    free(first);
}
END_TEST

/* A store also sweeps temporary files a dead writer left (older than
 * ten minutes), not one a live writer may still be filling, nor a file
 * whose name this code never writes. */
START_TEST(test_store_removes_stale_temporary_files_only)
{
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_STORED);
    char *e = entry();
    char *rdir = tu_path(cache_dir, "rules");
    char *stale = tu_path(rdir, ".tmp-dead01");
    char *fresh = tu_path(rdir, ".tmp-live01");
    char *other = tu_path(rdir, "notes.txt");
    tu_write_file(stale, "x", 1);
    tu_write_file(fresh, "x", 1);
    tu_write_file(other, "x", 1);
    struct timespec old[2] = {{.tv_sec = time(NULL) - 3600},
                              {.tv_sec = time(NULL) - 3600}};
    ck_assert_int_eq(utimensat(AT_FDCWD, stale, old, 0), 0);
    ck_assert_int_eq(utimensat(AT_FDCWD, other, old, 0), 0);
    unlink(e); /* the next load stores, and so prunes */
    ck_assert_int_eq(load_check(cache_dir, NULL), STW_RULES_CACHE_STORED);
    ck_assert_int_ne(access(stale, F_OK), 0);
    ck_assert_int_eq(access(fresh, F_OK), 0);
    ck_assert_int_eq(access(other, F_OK), 0);
    ck_assert_int_eq(access(e, F_OK), 0);
    free(other);
    free(fresh);
    free(stale);
    free(rdir);
    free(e);
}
END_TEST

static Suite *rulecache_suite(void)
{
    Suite *s = suite_create("rulecache");
    TCase *bi = tcase_create("builtin");
    tcase_add_checked_fixture(bi, setup_builtin, teardown);
    tcase_set_timeout(bi, 300);
    tcase_add_test(bi, test_first_load_stores_second_loads_same_findings);
    suite_add_tcase(s, bi);
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_first_load_stores_second_loads_same_findings);
    tcase_add_test(tc, test_damaged_entry_compiled_over_same_findings);
    tcase_add_test(tc, test_entry_that_is_a_symlink_or_directory_not_followed);
    tcase_add_test(tc, test_unwritable_cache_dir_same_findings);
    tcase_add_test(
        tc, test_changed_rule_file_gets_its_own_entry_and_old_ones_pruned);
    tcase_add_test(tc, test_store_removes_stale_temporary_files_only);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rulecache_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
