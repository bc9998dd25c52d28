/* test_feeder.c - content scanned on the feeder's thread gives exactly the
 * findings of scanning inline, for thousands of small files (many records
 * per slot), files larger than a slot (records split across slots) and a
 * consumer slower than the producer (back-pressure); a feeder destroyed
 * mid-file stops cleanly. */
#include "feeder.h"
#include "limits.h"
#include "matcher.h"
#include "rules.h"
#include "testutil.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *rsa_key(void)
{
    return tu_rule_example(tu_rules, "rsa-private-key");
}

/* A deterministic file set: every 7th file holds the key at a varying
 * offset, file 3 is 3 MiB with keys at both ends (spans many slots). */
static char *make_file(int i, const char *key, size_t *n)
{
    size_t size = i == 3 ? (3u << 20) : 200 + (size_t)(i * 37) % 3000;
    size_t kl = strlen(key);
    if (size < kl + 100)
        size = kl + 100;
    char *b = malloc(size);
    ck_assert_ptr_nonnull(b);
    for (size_t k = 0; k < size; k++)
        b[k] = (k % 61 == 60) ? '\n' : (char)('a' + (k * 7 + (size_t)i) % 26);
    if (i % 7 == 0 || i == 3)
        memcpy(b + (size_t)(i % 50), key, kl);
    if (i == 3)
        memcpy(b + size - kl - 1, key, kl);
    *n = size;
    return b;
}

/* Sorted "path offset rule" lines, so the two runs compare as text. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *summary(const stw_finding_list *l)
{
    size_t n = stw_finding_list_count(l);
    char **lines = calloc(n + 1, sizeof(*lines));
    size_t total = 1;
    for (size_t i = 0; i < n; i++) {
        const stw_finding *f = stw_finding_list_get(l, i);
        lines[i] = malloc(256);
        snprintf(lines[i], 256, "%s %lld %lld %s %s\n", f->path,
                 (long long)f->offset, (long long)f->line, f->rule,
                 f->secret_sha256);
        total += strlen(lines[i]);
    }
    qsort(lines, n, sizeof(*lines), cmp_str);
    char *out = malloc(total);
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        strcat(out, lines[i]);
        free(lines[i]);
    }
    free(lines);
    return out;
}

#define NFILES 3000

START_TEST(test_feeder_same_findings_as_inline)
{
    stw_error err = {0};
    stw_matcher *m1, *m2;
    ck_assert_int_eq(stw_matcher_create(tu_rules, &m1, &err), STW_OK);
    ck_assert_int_eq(stw_matcher_create(tu_rules, &m2, &err), STW_OK);
    stw_finding_list *inl, *thr;
    ck_assert_int_eq(stw_finding_list_create(&inl), STW_OK);
    ck_assert_int_eq(stw_finding_list_create(&thr), STW_OK);
    stw_feeder *f;
    ck_assert_int_eq(stw_feeder_create(m2, thr, &f, &err), STW_OK);
    const char *key = rsa_key();
    char path[64];
    for (int i = 0; i < NFILES; i++) {
        size_t n;
        char *b = make_file(i, key, &n);
        snprintf(path, sizeof(path), "app/f%04d.txt", i);
        ck_assert_int_eq(
            stw_matcher_begin(m1, path, n, stw_finding_list_sink, inl, &err),
            STW_OK);
        ck_assert_int_eq(stw_feeder_begin(f, path, n), STW_OK);
        /* Uneven pieces, as libarchive hands them out. */
        for (size_t off = 0, step = 1 + (size_t)i % 9000; off < n;
             off += step) {
            size_t k = n - off < step ? n - off : step;
            ck_assert_int_eq(stw_matcher_feed(m1, b + off, k, &err), STW_OK);
            ck_assert_int_eq(stw_feeder_data(f, b + off, k), STW_OK);
        }
        ck_assert_int_eq(stw_matcher_end(m1, &err), STW_OK);
        ck_assert_int_eq(stw_feeder_end(f), STW_OK);
        free(b);
    }
    ck_assert_int_eq(stw_feeder_finish(f, &err), STW_OK);
    stw_feeder_destroy(f);
    ck_assert_uint_gt(stw_finding_list_count(inl), NFILES / 7);
    char *a = summary(inl), *b = summary(thr);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    stw_finding_list_destroy(inl);
    stw_finding_list_destroy(thr);
    stw_matcher_destroy(m1);
    stw_matcher_destroy(m2);
}
END_TEST

START_TEST(test_feeder_destroy_mid_file_stops_cleanly)
{
    stw_error err = {0};
    stw_matcher *m;
    ck_assert_int_eq(stw_matcher_create(tu_rules, &m, &err), STW_OK);
    stw_finding_list *l;
    ck_assert_int_eq(stw_finding_list_create(&l), STW_OK);
    stw_feeder *f;
    ck_assert_int_eq(stw_feeder_create(m, l, &f, &err), STW_OK);
    static char block[1 << 20];
    memset(block, 'x', sizeof(block));
    ck_assert_int_eq(stw_feeder_begin(f, "big", 64u << 20), STW_OK);
    /* More than every slot holds: the producer waits on the consumer. */
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(stw_feeder_data(f, block, sizeof(block)), STW_OK);
    stw_feeder_destroy(f); /* no end, no finish: a failed layer */
    /* The matcher is usable again afterwards. */
    ck_assert_int_eq(stw_matcher_scan_buffer(m, "x", rsa_key(),
                                             strlen(rsa_key()),
                                             stw_finding_list_sink, l, &err),
                     STW_OK);
    ck_assert_uint_eq(stw_finding_list_count(l), 1);
    stw_finding_list_destroy(l);
    stw_matcher_destroy(m);
}
END_TEST

START_TEST(test_feeder_empty_run)
{
    stw_error err = {0};
    stw_matcher *m;
    ck_assert_int_eq(stw_matcher_create(tu_rules, &m, &err), STW_OK);
    stw_finding_list *l;
    ck_assert_int_eq(stw_finding_list_create(&l), STW_OK);
    stw_feeder *f;
    ck_assert_int_eq(stw_feeder_create(m, l, &f, &err), STW_OK);
    ck_assert_int_eq(stw_feeder_finish(f, &err), STW_OK);
    stw_feeder_destroy(f);
    ck_assert_uint_eq(stw_finding_list_count(l), 0);
    stw_finding_list_destroy(l);
    stw_matcher_destroy(m);
}
END_TEST

/* A feeder over a new matcher and finding list (both the caller's). */
static stw_feeder *start(stw_matcher **m, stw_finding_list **l)
{
    stw_error err = {0};
    ck_assert_int_eq(stw_matcher_create(tu_rules, m, &err), STW_OK);
    ck_assert_int_eq(stw_finding_list_create(l), STW_OK);
    stw_feeder *f;
    ck_assert_int_eq(stw_feeder_create(*m, *l, &f, &err), STW_OK);
    return f;
}

/* The matching thread's first failure is what finish reports, with the
 * matcher's message; after it the thread still drains every slot, so a
 * producer with more to queue than the slots hold never waits for ever. */
START_TEST(test_feeder_consumer_failure_is_reported_and_drained)
{
    stw_error err = {0};
    stw_matcher *m;
    stw_finding_list *l;
    stw_feeder *f = start(&m, &l);
    static char block[1 << 20];
    memset(block, 'x', sizeof(block));
    /* Data with no file begun: the matcher refuses the first piece. */
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(stw_feeder_data(f, block, sizeof(block)), STW_OK);
    ck_assert_int_eq(stw_feeder_begin(f, "after", 5), STW_OK);
    ck_assert_int_eq(stw_feeder_data(f, rsa_key(), 5), STW_OK);
    ck_assert_int_eq(stw_feeder_end(f), STW_OK);
    ck_assert_int_eq(stw_feeder_finish(f, &err), STW_ERR_USAGE);
    ck_assert_str_eq(err.msg, "matcher: feed without begin");
    stw_feeder_destroy(f);
    ck_assert_uint_eq(stw_finding_list_count(l), 0);
    stw_finding_list_destroy(l);
    stw_matcher_destroy(m);
}
END_TEST

START_TEST(test_feeder_path_over_the_chain_bound_is_refused)
{
    stw_error err = {0};
    stw_matcher *m;
    stw_finding_list *l;
    stw_feeder *f = start(&m, &l);
    char *path = malloc(STW_MAX_CHAIN_PATH + 2);
    ck_assert_ptr_nonnull(path);
    memset(path, 'p', STW_MAX_CHAIN_PATH + 1);
    path[STW_MAX_CHAIN_PATH + 1] = 0;
    ck_assert_int_eq(stw_feeder_begin(f, path, 1), STW_ERR_LIMIT);
    path[STW_MAX_CHAIN_PATH] = 0; /* at the bound: accepted */
    ck_assert_int_eq(stw_feeder_begin(f, path, 1), STW_OK);
    ck_assert_int_eq(stw_feeder_data(f, "x", 1), STW_OK);
    ck_assert_int_eq(stw_feeder_end(f), STW_OK);
    ck_assert_int_eq(stw_feeder_finish(f, &err), STW_OK);
    stw_feeder_destroy(f);
    free(path);
    stw_finding_list_destroy(l);
    stw_matcher_destroy(m);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("feeder");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_rules_setup, tu_rules_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_feeder_same_findings_as_inline);
    tcase_add_test(tc, test_feeder_destroy_mid_file_stops_cleanly);
    tcase_add_test(tc, test_feeder_empty_run);
    tcase_add_test(tc, test_feeder_consumer_failure_is_reported_and_drained);
    tcase_add_test(tc, test_feeder_path_over_the_chain_bound_is_refused);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
