/* test_matcher.c - the streaming matcher gives the same findings (rule,
 * offset, line, secret hash) however a file is split into feeds: whole,
 * split at every offset, byte by byte, and with keys placed across the
 * STW_SCAN_CHUNK window boundaries of a multi-MiB file. */
#include "alloc_test.h"
#include "limits.h"
#include "matcher.h"
#include "rules.h"
#include "testutil.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXF 32

typedef struct hit {
    char rule[65];
    char sha[65];
    int64_t line, offset;
    int64_t secret_offset, secret_len;
} hit;

typedef struct hits {
    hit v[MAXF];
    size_t n;
} hits;

static stw_status collect(void *ctx, const stw_finding *f)
{
    hits *h = ctx;
    ck_assert_uint_lt(h->n, MAXF);
    hit *x = &h->v[h->n++];
    snprintf(x->rule, sizeof(x->rule), "%s", f->rule);
    snprintf(x->sha, sizeof(x->sha), "%s", f->secret_sha256);
    x->line = f->line;
    x->offset = f->offset;
    x->secret_offset = f->secret_offset;
    x->secret_len = f->secret_len;
    return STW_OK;
}

static stw_rules *rules;
static stw_matcher *matcher;

static void setup(void)
{
    tu_builtin_matcher(&rules, &matcher);
}

static void teardown(void)
{
    stw_matcher_destroy(matcher);
    stw_rules_destroy(rules);
}

/* The first tp example of a built-in rule: a real (throwaway) key. */
static const char *key_of(const char *id)
{
    return tu_rule_example(rules, id);
}

/* Feeds buf in pieces whose sizes cycle through sizes[] (0-terminated). */
static void scan_pieces(const char *buf, size_t n, const size_t *sizes,
                        hits *out)
{
    stw_error err = {0};
    memset(out, 0, sizeof(*out));
    ck_assert_int_eq(
        stw_matcher_begin(matcher, "a/file.txt", n, collect, out, &err),
        STW_OK);
    size_t off = 0, k = 0;
    while (off < n) {
        size_t len = sizes[k] ? sizes[k++] : (k = 0, sizes[k++]);
        if (len > n - off)
            len = n - off;
        ck_assert_int_eq(stw_matcher_feed(matcher, buf + off, len, &err),
                         STW_OK);
        off += len;
    }
    ck_assert_msg(stw_matcher_end(matcher, &err) == STW_OK, "%s", err.msg);
}

static void scan_split(const char *buf, size_t n, size_t at, hits *out)
{
    stw_error err = {0};
    memset(out, 0, sizeof(*out));
    ck_assert_int_eq(
        stw_matcher_begin(matcher, "a/file.txt", n, collect, out, &err),
        STW_OK);
    ck_assert_int_eq(stw_matcher_feed(matcher, buf, at, &err), STW_OK);
    ck_assert_int_eq(stw_matcher_feed(matcher, buf + at, n - at, &err), STW_OK);
    ck_assert_int_eq(stw_matcher_end(matcher, &err), STW_OK);
}

static void scan_whole(const char *buf, size_t n, hits *out)
{
    stw_error err = {0};
    memset(out, 0, sizeof(*out));
    ck_assert_msg(stw_matcher_scan_buffer(matcher, "a/file.txt", buf, n,
                                          collect, out, &err) == STW_OK,
                  "%s", err.msg);
}

static void assert_same(const hits *a, const hits *b, const char *how)
{
    ck_assert_msg(a->n == b->n, "%s: %zu findings, expected %zu", how, b->n,
                  a->n);
    for (size_t i = 0; i < a->n; i++) {
        ck_assert_msg(strcmp(a->v[i].rule, b->v[i].rule) == 0 &&
                          a->v[i].offset == b->v[i].offset &&
                          a->v[i].line == b->v[i].line &&
                          strcmp(a->v[i].sha, b->v[i].sha) == 0,
                      "%s: finding %zu differs: %s@%lld:%lld vs %s@%lld:%lld",
                      how, i, a->v[i].rule, (long long)a->v[i].offset,
                      (long long)a->v[i].line, b->v[i].rule,
                      (long long)b->v[i].offset, (long long)b->v[i].line);
    }
}

static int64_t lines_before(const char *buf, size_t off)
{
    int64_t n = 1;
    for (size_t i = 0; i < off; i++)
        n += buf[i] == '\n';
    return n;
}

/* Deterministic filler of text lines. */
static char *filler(size_t n)
{
    char *buf = malloc(n + 1);
    ck_assert_ptr_nonnull(buf);
    size_t off = 0;
    unsigned x = 12345;
    while (off < n) {
        char line[80];
        x = x * 1103515245u + 12345u;
        int k = snprintf(line, sizeof(line),
                         "filler %08x the quick brown fox\n", x);
        size_t take = (size_t)k < n - off ? (size_t)k : n - off;
        memcpy(buf + off, line, take);
        off += take;
    }
    buf[n] = 0;
    return buf;
}

static void put(char *buf, size_t at, const char *s)
{
    memcpy(buf + at, s, strlen(s));
}

/* A small document with three different keys, split at every offset and
 * fed byte by byte: always the same findings. */
START_TEST(test_split_at_every_offset_and_bytewise_same_findings)
{
    const char *rsa = key_of("rsa-private-key");
    const char *pgp = key_of("pgp-private-key");
    const char *ppk = key_of("putty-private-key");
    size_t n = strlen(rsa) + strlen(pgp) + strlen(ppk) + 300;
    char *doc = malloc(n + 1);
    ck_assert_ptr_nonnull(doc);
    int k = snprintf(doc, n + 1, "# config\nkey: |\n%s\nnext:\n%s\n\n%s\nend\n",
                     rsa, pgp, ppk);
    size_t len = (size_t)k;

    hits whole, other;
    scan_whole(doc, len, &whole);
    ck_assert_uint_eq(whole.n, 3);
    ck_assert_str_eq(whole.v[0].rule, "rsa-private-key");
    ck_assert_int_eq(whole.v[0].offset, 16);
    ck_assert_int_eq(whole.v[0].line, 3);
    ck_assert_str_eq(whole.v[1].rule, "pgp-private-key");
    ck_assert_int_eq(whole.v[1].line,
                     lines_before(doc, (size_t)whole.v[1].offset));
    ck_assert_str_eq(whole.v[2].rule, "putty-private-key");
    ck_assert_int_eq(whole.v[2].line,
                     lines_before(doc, (size_t)whole.v[2].offset));

    for (size_t at = 0; at <= len; at++) {
        scan_split(doc, len, at, &other);
        char how[64];
        snprintf(how, sizeof(how), "split at %zu", at);
        assert_same(&whole, &other, how);
    }
    static const size_t one[] = {1, 0};
    scan_pieces(doc, len, one, &other);
    assert_same(&whole, &other, "byte by byte");
    static const size_t odd[] = {7, 1, 300, 13, 0};
    scan_pieces(doc, len, odd, &other);
    assert_same(&whole, &other, "odd pieces");
    free(doc);
}
END_TEST

/* Keys straddling each window boundary of a 3 MiB file: the end of the
 * first window, the carried overlap's start, and the point where one scan
 * hands reporting over to the next. Each is found once, at its offset and
 * line, whatever the feed sizes. */
START_TEST(test_keys_across_chunk_boundaries_found_once)
{
    const char *rsa = key_of("rsa-private-key");
    const char *ossh = key_of("openssh-private-key");
    const char *ec = key_of("ec-private-key");
    size_t n = 3u << 20;
    char *buf = filler(n);
    size_t chunk = STW_SCAN_CHUNK, ov = STW_SCAN_OVERLAP;
    size_t at[3] = {
        chunk - 40,                       /* start of the carried tail */
        chunk + ov - 300,                 /* end of the first window */
        2 * chunk + STW_SCAN_CONTEXT - 5, /* hand-over between scans */
    };
    const char *keys[3] = {rsa, ossh, ec};
    const char *ids[3] = {"rsa-private-key", "openssh-private-key",
                          "ec-private-key"};
    for (int i = 0; i < 3; i++)
        put(buf, at[i], keys[i]);

    hits whole, other;
    scan_whole(buf, n, &whole);
    ck_assert_uint_eq(whole.n, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(whole.v[i].rule, ids[i]);
        ck_assert_int_eq(whole.v[i].offset, (int64_t)at[i]);
        ck_assert_int_eq(whole.v[i].line, lines_before(buf, at[i]));
    }
    /* The key hashes the same as when scanned alone. */
    hits alone;
    scan_whole(rsa, strlen(rsa), &alone);
    ck_assert_str_eq(alone.v[0].sha, whole.v[0].sha);

    static const size_t big[] = {65536, 0};
    scan_pieces(buf, n, big, &other);
    assert_same(&whole, &other, "64 KiB pieces");
    static const size_t odd[] = {777, 4093, 1, 0};
    scan_pieces(buf, n, odd, &other);
    assert_same(&whole, &other, "odd pieces");
    /* Feeds whose edges fall inside each key. */
    for (int i = 0; i < 3; i++) {
        for (size_t d = 0; d < 200; d += 37) {
            scan_split(buf, n, at[i] + d, &other);
            assert_same(&whole, &other, "split inside key");
        }
    }
    free(buf);
}
END_TEST

/* Token rules stream like key rules: a checksummed GitHub token and a
 * Slack webhook placed across window boundaries (narrow token windows
 * included) are each found once, at the same offsets, however fed. */
START_TEST(test_tokens_across_chunk_boundaries_found_once)
{
    static const char *tok[2] = {
        "GITHUB_TOKEN=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\n",
        "hook: https://hooks.slack.com/services/T0A1B2C3D/B4E5F6G7H/"
        "Zr7pQ2mW9xL4nB8vC1kJ6hT3\n"};
    static const char *ids[2] = {"github-pat", "slack-webhook-url"};
    size_t n = 3u << 20;
    char *buf = filler(n);
    size_t at[2] = {STW_SCAN_CHUNK - 20,
                    2 * STW_SCAN_CHUNK + STW_SCAN_CONTEXT - 30};
    for (int i = 0; i < 2; i++)
        put(buf, at[i], tok[i]);
    hits whole, other;
    scan_whole(buf, n, &whole);
    ck_assert_uint_eq(whole.n, 2);
    for (int i = 0; i < 2; i++) {
        ck_assert_str_eq(whole.v[i].rule, ids[i]);
        const char *sec =
            i == 0 ? strstr(tok[0], "ghp_") : strstr(tok[1], "T0A1");
        ck_assert_int_eq(whole.v[i].secret_offset,
                         (int64_t)(at[i] + (size_t)(sec - tok[i])));
    }
    ck_assert_int_eq(whole.v[0].secret_len, 40);
    static const size_t odd[] = {777, 4093, 1, 0};
    scan_pieces(buf, n, odd, &other);
    assert_same(&whole, &other, "odd pieces");
    for (int i = 0; i < 2; i++) {
        for (size_t d = 0; d < 60; d += 7) {
            scan_split(buf, n, at[i] + d, &other);
            assert_same(&whole, &other, "split inside token");
        }
    }
    free(buf);
}
END_TEST

START_TEST(test_multiple_keys_in_one_file_in_order)
{
    const char *ids[] = {
        "pkcs8-private-key",           "dsa-private-key",
        "encrypted-private-key",       "openssh-encrypted-private-key",
        "putty-encrypted-private-key", "ec-private-key"};
    size_t nk = sizeof(ids) / sizeof(ids[0]);
    size_t cap = 64;
    for (size_t i = 0; i < nk; i++)
        cap += strlen(key_of(ids[i])) + 32;
    char *doc = malloc(cap);
    ck_assert_ptr_nonnull(doc);
    size_t len = 0, off[8];
    for (size_t i = 0; i < nk; i++) {
        len += (size_t)snprintf(doc + len, cap - len, "-- part %zu --\n", i);
        off[i] = len;
        len += (size_t)snprintf(doc + len, cap - len, "%s\n", key_of(ids[i]));
    }
    hits h;
    scan_whole(doc, len, &h);
    ck_assert_uint_eq(h.n, nk);
    for (size_t i = 0; i < nk; i++) {
        ck_assert_str_eq(h.v[i].rule, ids[i]);
        ck_assert_int_eq(h.v[i].offset, (int64_t)off[i]);
        ck_assert_int_eq(h.v[i].line, lines_before(doc, off[i]));
    }
    /* The same key twice is two findings with one hash. */
    char twice[8192];
    const char *ec = key_of("ec-private-key");
    int k = snprintf(twice, sizeof(twice), "%s%s", ec, ec);
    scan_whole(twice, (size_t)k, &h);
    ck_assert_uint_eq(h.n, 2);
    ck_assert_str_eq(h.v[0].sha, h.v[1].sha);
    ck_assert_int_eq(h.v[1].offset, (int64_t)strlen(ec));
    free(doc);
}
END_TEST

/* 200 KiB fed one byte at a time, keys near the start, across the middle
 * and at the very end. */
START_TEST(test_bytewise_feed_of_200k_file)
{
    const char *rsa = key_of("rsa-private-key");
    const char *pgp = key_of("pgp-private-key");
    size_t n = 200u << 10;
    char *buf = filler(n);
    put(buf, 10, rsa);
    put(buf, 100000, pgp);
    put(buf, n - strlen(rsa), rsa);
    hits whole, other;
    scan_whole(buf, n, &whole);
    ck_assert_uint_eq(whole.n, 3);
    ck_assert_int_eq(whole.v[2].offset, (int64_t)(n - strlen(rsa)));
    ck_assert_int_eq(whole.v[2].line, lines_before(buf, n - strlen(rsa)));
    static const size_t one[] = {1, 0};
    scan_pieces(buf, n, one, &other);
    assert_same(&whole, &other, "byte by byte");
    free(buf);
}
END_TEST

/* Binary content around a key (NULs, high bytes) does not hide it. */
START_TEST(test_key_inside_binary_content)
{
    const char *ec = key_of("ec-private-key");
    size_t n = 50000;
    char *buf = malloc(n);
    ck_assert_ptr_nonnull(buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)((i * 7919u) >> 3);
    memcpy(buf + 30001, ec, strlen(ec));
    hits h;
    scan_whole(buf, n, &h);
    ck_assert_uint_eq(h.n, 1);
    ck_assert_str_eq(h.v[0].rule, "ec-private-key");
    ck_assert_int_eq(h.v[0].offset, 30001);
    free(buf);
}
END_TEST

static stw_status refuse(void *ctx, const stw_finding *f)
{
    (void)f;
    ++*(int *)ctx;
    return STW_ERR_DB;
}

START_TEST(test_sink_error_aborts_file)
{
    const char *ec = key_of("ec-private-key");
    stw_error err = {0};
    int calls = 0;
    ck_assert_int_eq(
        stw_matcher_begin(matcher, "k.pem", 0, refuse, &calls, &err), STW_OK);
    ck_assert_int_eq(stw_matcher_feed(matcher, ec, strlen(ec), &err), STW_OK);
    ck_assert_int_eq(stw_matcher_end(matcher, &err), STW_ERR_DB);
    ck_assert_int_eq(calls, 1);
    ck_assert_ptr_nonnull(strstr(err.msg, "k.pem"));
    /* The matcher is usable for the next file. */
    hits h;
    scan_whole(ec, strlen(ec), &h);
    ck_assert_uint_eq(h.n, 1);
}
END_TEST

/* ---- the regex match limit --------------------------------------------- */

/* A test-only rule whose regex backtracks exponentially on "tok=aaa...":
 * (a|aa)+ splits a run of n a's in fib(n) ways before the missing "b"
 * fails it. Its second branch is a GitHub token, optionally followed by
 * the same hostile group, so a token can sit after hostile text or at it. */
static const char backtrack_yaml[] =
    "rules:\n  - id: test-backtrack\n    title: backtracking test rule\n"
    "    category: vcs\n    severity: high\n    keywords: ['tok=', 'ghp_']\n"
    "    regex: 'tok=(?:a|aa)+b|ghp_[A-Za-z0-9]{36}(?:x(?:a|aa)+b)?'\n";

/* A valid GitHub token (bench/mint.py ghp 1: CRC included). */
#define GHP_REAL "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"

/* Fixture: rules and matcher hold the backtracking rule alone. */
static void setup_backtrack(void)
{
    stw_rules **r = &rules;
    stw_matcher **m = &matcher;
    char *dir = tu_mkdtemp("backtrack");
    char *path = tu_path(dir, "bt.yaml");
    tu_write_file(path, backtrack_yaml, strlen(backtrack_yaml));
    const char *files[] = {path};
    stw_rules_options opt = {.files = files, .n_files = 1, .no_builtin = 1};
    stw_error err = {0};
    ck_assert_msg(stw_rules_create(&opt, r, &err) == STW_OK, "%s", err.msg);
    ck_assert_int_eq(stw_matcher_create(*r, m, &err), STW_OK);
    free(path);
    free(dir);
}

static char *run_of(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = 0;
    return s;
}

/* Scans pre + a run of 60 a's + post as a file at path into h; returns
 * the matcher's note count and checks the first names path and rule. */
static size_t scan_hostile(stw_matcher *m, const char *path, const char *pre,
                           const char *post, char *text, size_t cap, hits *h)
{
    char *run = run_of('a', 60);
    snprintf(text, cap, "%s%s%s", pre, run, post);
    free(run);
    stw_error err = {0};
    ck_assert_int_eq(
        stw_matcher_scan_buffer(m, path, text, strlen(text), collect, h, &err),
        STW_OK);
    const char *const *notes;
    size_t n = stw_matcher_notes(m, &notes);
    if (n) {
        ck_assert_ptr_nonnull(strstr(notes[0], path));
        ck_assert_ptr_nonnull(strstr(notes[0], "test-backtrack"));
        ck_assert_ptr_nonnull(strstr(notes[0], "match limit"));
    }
    return n;
}

/* Hostile text right before a real token: the window is narrowed around
 * the offset that hits the limit and the token is still found; the one
 * offset left undecided is named in a note with the file and the rule. */
START_TEST(test_match_limit_secret_after_hostile_text_found)
{
    stw_matcher *m = matcher;
    char text[256];
    hits h = {0};
    stw_error err = {0};
    ck_assert_uint_eq(scan_hostile(m, "etc/app.env",
                                   "x tok=", "\nT=" GHP_REAL "\n", text,
                                   sizeof(text), &h),
                      1);
    ck_assert_uint_eq(h.n, 1);
    ck_assert_str_eq(h.v[0].rule, "test-backtrack");
    ck_assert_int_eq(h.v[0].secret_offset,
                     (int64_t)(strstr(text, "ghp_") - text));
    const char *const *notes;
    stw_matcher_clear_notes(m);
    ck_assert_uint_eq(stw_matcher_notes(m, &notes), 0);
    /* Streamed in pieces: the same finding. */
    hits h2 = {0};
    ck_assert_int_eq(
        stw_matcher_begin(m, "etc/app.env", strlen(text), collect, &h2, &err),
        STW_OK);
    for (size_t i = 0; text[i]; i++)
        ck_assert_int_eq(stw_matcher_feed(m, text + i, 1, &err), STW_OK);
    ck_assert_int_eq(stw_matcher_end(m, &err), STW_OK);
    assert_same(&h, &h2, "bytewise");
    ck_assert_uint_eq(stw_matcher_notes(m, &notes), 1);
}
END_TEST

/* A token whose own start offset hits the limit cannot be decided: it is
 * not reported, but the file and rule are, never silently dropped. A file
 * without hostile text gets no note. */
START_TEST(test_match_limit_undecidable_offset_noted)
{
    stw_matcher *m = matcher;
    char text[256];
    hits h = {0};
    stw_error err = {0};
    ck_assert_uint_eq(scan_hostile(m, "srv/hostile.txt", "T=" GHP_REAL "x",
                                   "\n", text, sizeof(text), &h),
                      1);
    ck_assert_uint_eq(h.n, 0);
    const char *const *notes;
    stw_matcher_clear_notes(m);
    const char clean[] = "T=" GHP_REAL "\n";
    hits h2 = {0};
    ck_assert_int_eq(stw_matcher_scan_buffer(m, "srv/clean.txt", clean,
                                             strlen(clean), collect, &h2, &err),
                     STW_OK);
    ck_assert_uint_eq(h2.n, 1);
    ck_assert_uint_eq(stw_matcher_notes(m, &notes), 0);
}
END_TEST

/* Many hostile offsets in one file: the retries stop at the file's budget
 * (bounded time), the file is noted, and a token in a later window of the
 * same file that needs no retry is still found. */
START_TEST(test_match_limit_budget_bounded_and_noted)
{
    stw_matcher *m = matcher;
    size_t n = 200 * 1024;
    char *text = run_of(' ', n);
    for (size_t k = 0; k < 100; k++)
        memcpy(text + k * 8, "tok=aaaa", 8); /* keywords, in one window */
    memset(text + 800, 'a', 200);            /* hostile at many offsets */
    memcpy(text + n - 100, GHP_REAL, strlen(GHP_REAL));
    hits h = {0};
    stw_error err = {0};
    ck_assert_int_eq(
        stw_matcher_scan_buffer(m, "big.txt", text, n, collect, &h, &err),
        STW_OK);
    ck_assert_uint_eq(h.n, 1);
    const char *const *notes;
    ck_assert_uint_eq(stw_matcher_notes(m, &notes), 1);
    ck_assert_ptr_nonnull(strstr(notes[0], "big.txt"));
    free(text);
}
END_TEST

/* The note is the only trace of what a limit left unchecked: an
 * allocation that fails while it is written fails the scan, never leaves
 * it looking complete. Each allocation of the scan fails in turn. */
START_TEST(test_match_limit_note_never_lost_to_memory)
{
    stw_matcher *m = matcher;
    char text[256];
    char *run = run_of('a', 60);
    snprintf(text, sizeof(text), "T=%sx%s\n", GHP_REAL, run);
    free(run);
    unsigned long failed = 1;
    for (unsigned long n = 1; failed; n++) {
        hits h = {0};
        stw_error err = {0};
        stw_matcher_clear_notes(m);
        stw_alloc_fail_arm(n, STW_ALLOC_FAIL_ONLY);
        stw_status st = stw_matcher_scan_buffer(
            m, "srv/hostile.txt", text, strlen(text), collect, &h, &err);
        failed = stw_alloc_fail_disarm(NULL);
        const char *const *notes;
        size_t n_notes = stw_matcher_notes(m, &notes);
        ck_assert_msg(st == STW_ERR_NOMEM || (st == STW_OK && n_notes == 1),
                      "allocation %lu failing: %s with %zu note(s)", n,
                      stw_status_str(st), n_notes);
    }
}
END_TEST

static Suite *matcher_suite(void)
{
    Suite *s = suite_create("matcher");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_split_at_every_offset_and_bytewise_same_findings);
    tcase_add_test(tc, test_keys_across_chunk_boundaries_found_once);
    tcase_add_test(tc, test_tokens_across_chunk_boundaries_found_once);
    tcase_add_test(tc, test_multiple_keys_in_one_file_in_order);
    tcase_add_test(tc, test_bytewise_feed_of_200k_file);
    tcase_add_test(tc, test_key_inside_binary_content);
    tcase_add_test(tc, test_sink_error_aborts_file);
    suite_add_tcase(s, tc);
    TCase *lim = tcase_create("match_limit");
    tcase_add_checked_fixture(lim, setup_backtrack, teardown);
    tcase_set_timeout(lim, 120);
    tcase_add_test(lim, test_match_limit_secret_after_hostile_text_found);
    tcase_add_test(lim, test_match_limit_undecidable_offset_noted);
    tcase_add_test(lim, test_match_limit_budget_bounded_and_noted);
    tcase_add_test(lim, test_match_limit_note_never_lost_to_memory);
    suite_add_tcase(s, lim);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(matcher_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
