/* test_alloc.c - the allocation wrappers and their failure hook: the
 * torture test (test_torture.c) is only as good as the hook's counting, so
 * both modes, every wrapper and concurrent callers are checked here. */
#include "alloc.h"
#include "alloc_test.h"
#include "testutil.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_alloc_unarmed_counts_nothing_and_fails_nothing)
{
    unsigned long calls = 99;
    stw_alloc_fail_arm(0, STW_ALLOC_FAIL_FROM);
    void *p = stw_malloc(8);
    ck_assert_ptr_nonnull(p);
    free(p);
    ck_assert_uint_eq(stw_alloc_fail_disarm(&calls), 0);
    ck_assert_uint_eq(calls, 0);
}
END_TEST

START_TEST(test_alloc_fail_from_n_fails_every_later_call)
{
    unsigned long calls;
    stw_alloc_fail_arm(2, STW_ALLOC_FAIL_FROM);
    void *a = stw_malloc(8);
    void *b = stw_calloc(2, 8);
    void *c = stw_realloc(NULL, 8);
    char *d = stw_strdup("x");
    ck_assert_uint_eq(stw_alloc_fail_disarm(&calls), 3);
    ck_assert_uint_eq(calls, 4);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(b);
    ck_assert_ptr_null(c);
    ck_assert_ptr_null(d);
    free(a);
}
END_TEST

START_TEST(test_alloc_fail_only_n_fails_that_call_alone)
{
    unsigned long calls;
    stw_alloc_fail_arm(2, STW_ALLOC_FAIL_ONLY);
    char *a = stw_strndup("abc", 2);
    char *b = stw_strndup("abc", 2);
    char *c = stw_strndup("abc", 2);
    ck_assert_uint_eq(stw_alloc_fail_disarm(&calls), 1);
    ck_assert_uint_eq(calls, 3);
    ck_assert_str_eq(a, "ab");
    ck_assert_ptr_null(b);
    ck_assert_str_eq(c, "ab");
    free(a);
    free(c);
}
END_TEST

START_TEST(test_alloc_failed_realloc_leaves_block_unchanged)
{
    char *p = stw_malloc(4);
    ck_assert_ptr_nonnull(p);
    memcpy(p, "abc", 4);
    stw_alloc_fail_arm(1, STW_ALLOC_FAIL_ONLY);
    ck_assert_ptr_null(stw_realloc(p, 1 << 20));
    ck_assert_uint_eq(stw_alloc_fail_disarm(NULL), 1);
    ck_assert_str_eq(p, "abc"); /* ASan: p still allocated, freed once */
    free(p);
}
END_TEST

START_TEST(test_alloc_strdup_null_is_not_an_allocation)
{
    unsigned long calls;
    stw_alloc_fail_arm(1, STW_ALLOC_FAIL_FROM);
    ck_assert_ptr_null(stw_strdup(NULL));
    ck_assert_uint_eq(stw_alloc_fail_disarm(&calls), 0);
    ck_assert_uint_eq(calls, 0);
}
END_TEST

START_TEST(test_alloc_strndup_reads_no_further_than_n)
{
    char raw[3] = {'a', 'b', 'c'}; /* no NUL: ASan catches an over-read */
    char *s = stw_strndup(raw, sizeof(raw));
    ck_assert_str_eq(s, "abc");
    free(s);
    s = stw_strndup("ab", 10);
    ck_assert_str_eq(s, "ab");
    free(s);
}
END_TEST

enum { THREADS = 4, PER_THREAD = 2000 };

static void *allocate_many(void *arg)
{
    unsigned long *nulls = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        void *p = stw_malloc(16);
        if (!p)
            ++*nulls;
        free(p);
    }
    return NULL;
}

/* Threads started after arming, as a scan's workers are: every call is
 * counted once and exactly the chosen one fails. */
START_TEST(test_alloc_hook_counts_concurrent_callers_exactly)
{
    pthread_t t[THREADS];
    unsigned long nulls[THREADS] = {0}, calls, total = 0;
    stw_alloc_fail_arm(THREADS * PER_THREAD / 2, STW_ALLOC_FAIL_ONLY);
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, allocate_many, &nulls[i]),
                         0);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        total += nulls[i];
    }
    ck_assert_uint_eq(stw_alloc_fail_disarm(&calls), 1);
    ck_assert_uint_eq(calls, THREADS * PER_THREAD);
    ck_assert_uint_eq(total, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_alloc_unarmed_counts_nothing_and_fails_nothing);
    tcase_add_test(tc, test_alloc_fail_from_n_fails_every_later_call);
    tcase_add_test(tc, test_alloc_fail_only_n_fails_that_call_alone);
    tcase_add_test(tc, test_alloc_failed_realloc_leaves_block_unchanged);
    tcase_add_test(tc, test_alloc_strdup_null_is_not_an_allocation);
    tcase_add_test(tc, test_alloc_strndup_reads_no_further_than_n);
    tcase_add_test(tc, test_alloc_hook_counts_concurrent_callers_exactly);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
