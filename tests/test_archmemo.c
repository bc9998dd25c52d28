/* test_archmemo.c - the scan's memory of walked archives: a result replays
 * what the database's archive cache would (the findings under the new
 * path, the fields it keeps), only within the budget left, and a walker
 * waits for a walk of the same bytes under way unless that could never
 * end. */
#include "alloc_test.h"
#include "archmemo.h"
#include "common.h"
#include "limits.h"
#include "testutil.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHA_A "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11"
#define SHA_B "bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22"

static const stw_nested_cost big_room = {UINT64_MAX, UINT64_MAX, UINT64_MAX};

static stw_finding_list *list(void)
{
    stw_finding_list *l = NULL;
    ck_assert_int_eq(stw_finding_list_create(&l), STW_OK);
    return l;
}

static void add(stw_finding_list *l, const char *path, const char *rule,
                int64_t line)
{
    stw_finding f = {.path = path,
                     .kind = STW_KIND_SECRET,
                     .rule = rule,
                     .severity = STW_SEV_HIGH,
                     .line = line,
                     .offset = 40,
                     .validated = true,
                     .detail = "why",
                     .secret = "s3cr3t",
                     .secret_n = 6,
                     .secret_offset = 40,
                     .secret_len = 6};
    stw_finding_set_secret(&f, "s3cr3t", 6);
    ck_assert_int_eq(stw_finding_list_add(l, &f), STW_OK);
}

/* A walk's findings: before first, and beside the archive, are not its. */
static stw_finding_list *walk_of_a(size_t *first)
{
    stw_finding_list *l = list();
    add(l, "etc/before.pem", "before", 1);
    *first = 1;
    add(l, "usr/share/java/a.jar!/conf/id_rsa", "rsa-private-key", 1);
    add(l, "usr/share/java/a.jar.bak", "beside", 2);
    add(l, "usr/share/java/a.jar!/in.jar!/x.properties", "aws-key", 7);
    return l;
}

START_TEST(test_replay_under_new_path)
{
    stw_archmemo *m;
    ck_assert_int_eq(stw_archmemo_create(false, &m), STW_OK);
    size_t first;
    stw_finding_list *walk = walk_of_a(&first);
    stw_nested_cost cost = {1000, 0, 3};
    ck_assert(
        stw_archmemo_put(m, SHA_A, "usr/share/java/a.jar", &cost, walk, first));
    /* Known already: the first result stays. */
    ck_assert(!stw_archmemo_put(m, SHA_A, "other.jar", &cost, walk, 0));
    ck_assert_uint_eq(stw_archmemo_count(m), 1);

    stw_finding_list *out = list();
    stw_nested_cost charge = {0};
    bool hit = false;
    stw_error err = {0};
    ck_assert_int_eq(stw_archmemo_get(m, SHA_B, "app/b.jar", &big_room, &charge,
                                      out, &hit, &err),
                     STW_OK);
    ck_assert(!hit);
    ck_assert_int_eq(stw_archmemo_get(m, SHA_A, "app/app.jar!/lib/a.jar",
                                      &big_room, &charge, out, &hit, &err),
                     STW_OK);
    ck_assert(hit);
    ck_assert_uint_eq(charge.bytes, 1000);
    ck_assert_uint_eq(charge.members, 3);
    ck_assert_uint_eq(stw_finding_list_count(out), 2);
    const stw_finding *f = stw_finding_list_get(out, 0);
    ck_assert_str_eq(f->path, "app/app.jar!/lib/a.jar!/conf/id_rsa");
    ck_assert_str_eq(f->rule, "rsa-private-key");
    ck_assert_int_eq(f->line, 1);
    ck_assert_int_eq(f->offset, 40);
    ck_assert(f->validated);
    ck_assert_str_eq(f->detail, "why");
    /* What the database keeps, no more: never the secret itself. */
    const stw_finding *w = stw_finding_list_get(walk, 1);
    ck_assert_str_eq(f->secret_sha256, w->secret_sha256);
    ck_assert_str_eq(f->excerpt, w->excerpt);
    ck_assert_ptr_null(f->secret);
    ck_assert_int_eq(f->secret_offset, -1);
    f = stw_finding_list_get(out, 1);
    ck_assert_str_eq(f->path, "app/app.jar!/lib/a.jar!/in.jar!/x.properties");
    ck_assert_uint_eq(stw_archmemo_hits(m), 1);
    stw_finding_list_destroy(out);
    stw_finding_list_destroy(walk);
    stw_archmemo_destroy(m);
}
END_TEST

/* For --show-secrets the memo keeps the plaintext too: a replay gives
 * what a walk would have given, not a finding whose secret is missing. */
START_TEST(test_secrets_kept_when_asked)
{
    stw_archmemo *m;
    ck_assert_int_eq(stw_archmemo_create(true, &m), STW_OK);
    stw_finding_list *walk = list();
    stw_finding_list_keep_secrets(walk);
    add(walk, "a.jar!/conf/id_rsa", "rsa-private-key", 1);
    stw_nested_cost cost = {0};
    ck_assert(stw_archmemo_put(m, SHA_A, "a.jar", &cost, walk, 0));
    stw_finding_list_destroy(walk);
    stw_finding_list *out = list();
    stw_finding_list_keep_secrets(out);
    stw_nested_cost charge;
    bool hit = false;
    stw_error err = {0};
    ck_assert_int_eq(stw_archmemo_get(m, SHA_A, "b.jar", &big_room, &charge,
                                      out, &hit, &err),
                     STW_OK);
    ck_assert(hit);
    const stw_finding *f = stw_finding_list_get(out, 0);
    ck_assert_str_eq(f->path, "b.jar!/conf/id_rsa");
    ck_assert_uint_eq(f->secret_n, 6);
    ck_assert_mem_eq(f->secret, "s3cr3t", 6);
    stw_finding_list_destroy(out);
    stw_archmemo_destroy(m);
}
END_TEST

/* A replay would have to reach a bound its walk reaches: refused, so the
 * archive is walked and the bound noted where it falls. */
START_TEST(test_refused_beyond_room)
{
    stw_archmemo *m;
    ck_assert_int_eq(stw_archmemo_create(false, &m), STW_OK);
    size_t first;
    stw_finding_list *walk = walk_of_a(&first);
    stw_nested_cost cost = {1000, 500, 3, 2};
    ck_assert(
        stw_archmemo_put(m, SHA_A, "usr/share/java/a.jar", &cost, walk, first));
    stw_nested_cost rooms[] = {{999, 500, 3, 2},
                               {1000, 499, 3, 2},
                               {1000, 500, 2, 2},
                               {1000, 500, 3, 1}}; /* fewer levels left */
    stw_finding_list *out = list();
    stw_error err = {0};
    for (size_t i = 0; i < 4; i++) {
        stw_nested_cost charge = {0};
        bool hit = true;
        ck_assert_int_eq(stw_archmemo_get(m, SHA_A, "b.jar", &rooms[i], &charge,
                                          out, &hit, &err),
                         STW_OK);
        ck_assert(!hit);
        ck_assert_uint_eq(charge.bytes, 0);
    }
    ck_assert_uint_eq(stw_finding_list_count(out), 0);
    stw_nested_cost exact = {1000, 500, 3, 2}, charge = {0};
    bool hit = false;
    ck_assert_int_eq(
        stw_archmemo_get(m, SHA_A, "b.jar", &exact, &charge, out, &hit, &err),
        STW_OK);
    ck_assert(hit);
    stw_finding_list_destroy(out);
    stw_finding_list_destroy(walk);
    stw_archmemo_destroy(m);
}
END_TEST

/* Memory is bounded in bytes too: a few findings whose member paths are
 * as long as an archive may make them are not kept past
 * STW_ARCHMEMO_MAX_BYTES (the count bound alone would keep 100000 of
 * them, gigabytes). */
START_TEST(test_bytes_bound)
{
    stw_archmemo *m;
    ck_assert_int_eq(stw_archmemo_create(false, &m), STW_OK);
    stw_finding_list *l = list();
    size_t plen = 60000;
    char *p = malloc(plen + 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, "a.jar!/", 7);
    memset(p + 7, 'd', plen - 7);
    p[plen] = 0;
    size_t n = STW_ARCHMEMO_MAX_BYTES / plen + 2;
    for (size_t i = 0; i < n; i++) {
        p[plen - 1] = (char)('a' + i % 26);
        add(l, p, "rsa-private-key", (int64_t)i);
    }
    stw_nested_cost cost = {0};
    ck_assert(!stw_archmemo_put(m, SHA_A, "a.jar", &cost, l, 0));
    ck_assert_uint_eq(stw_archmemo_count(m), 0);
    free(p);
    stw_finding_list_destroy(l);
    stw_archmemo_destroy(m);
}
END_TEST

/* Memory stays bounded: past STW_ARCHMEMO_MAX_FINDINGS findings nothing
 * more is kept, and a result that is not kept is not half kept. */
START_TEST(test_findings_bound)
{
    stw_archmemo *m;
    ck_assert_int_eq(stw_archmemo_create(false, &m), STW_OK);
    stw_finding_list *l = list();
    size_t half = STW_ARCHMEMO_MAX_FINDINGS / 2 + 1;
    for (size_t i = 0; i < half; i++)
        add(l, "x.jar!/f", "r", (int64_t)i + 1);
    stw_nested_cost cost = {0};
    ck_assert(stw_archmemo_put(m, SHA_A, "x.jar", &cost, l, 0));
    ck_assert(!stw_archmemo_put(m, SHA_B, "x.jar", &cost, l, 0));
    ck_assert_uint_eq(stw_archmemo_count(m), 1);
    stw_finding_list *out = list();
    stw_nested_cost charge;
    bool hit = true;
    stw_error err = {0};
    ck_assert_int_eq(
        stw_archmemo_get(m, SHA_B, "y", &big_room, &charge, out, &hit, &err),
        STW_OK);
    ck_assert(!hit);
    stw_finding_list_destroy(out);
    stw_finding_list_destroy(l);
    stw_archmemo_destroy(m);
}
END_TEST

/* ---- claims ----------------------------------------------------------- */

typedef struct waiter_arg {
    stw_archmemo *m;
    const char *sha;
    bool hit, claimed;
    size_t found;
} waiter_arg;

static void *waiter(void *arg)
{
    waiter_arg *a = arg;
    stw_finding_list *out = list();
    stw_nested_cost charge;
    stw_error err = {0};
    ck_assert_int_eq(stw_archmemo_get_or_claim(a->m, a, a->sha, "copy.jar",
                                               &big_room, &charge, out, &a->hit,
                                               &a->claimed, &err),
                     STW_OK);
    a->found = stw_finding_list_count(out);
    if (a->claimed)
        stw_archmemo_release(a->m, a, a->sha);
    stw_finding_list_destroy(out);
    return NULL;
}

/* Two walkers meet the same bytes: the second waits for the first walk
 * and replays it instead of walking it again. */
START_TEST(test_second_walker_waits_for_the_first)
{
    stw_archmemo *m;
    ck_assert_int_eq(stw_archmemo_create(false, &m), STW_OK);
    int me;
    stw_finding_list *out = list();
    stw_nested_cost charge;
    bool hit = true, claimed = false;
    stw_error err = {0};
    ck_assert_int_eq(stw_archmemo_get_or_claim(m, &me, SHA_A, "a.jar",
                                               &big_room, &charge, out, &hit,
                                               &claimed, &err),
                     STW_OK);
    ck_assert(!hit);
    ck_assert(claimed);
    waiter_arg a = {.m = m, .sha = SHA_A};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, waiter, &a), 0);
    usleep(50000); /* it waits: a walk that needs longer is not rare */
    size_t first;
    stw_finding_list *walk = walk_of_a(&first);
    stw_nested_cost cost = {1, 1, 1};
    ck_assert(stw_archmemo_put_claimed(m, &me, SHA_A, "usr/share/java/a.jar",
                                       &cost, walk, first));
    pthread_join(t, NULL);
    ck_assert(a.hit);
    ck_assert(!a.claimed);
    ck_assert_uint_eq(a.found, 2);

    /* A walk that ends with nothing to keep wakes its waiter too, which
     * then walks (and claims) it itself. */
    ck_assert_int_eq(stw_archmemo_get_or_claim(m, &me, SHA_B, "b.jar",
                                               &big_room, &charge, out, &hit,
                                               &claimed, &err),
                     STW_OK);
    ck_assert(claimed);
    waiter_arg b = {.m = m, .sha = SHA_B};
    ck_assert_int_eq(pthread_create(&t, NULL, waiter, &b), 0);
    usleep(50000);
    stw_archmemo_release(m, &me, SHA_B);
    pthread_join(t, NULL);
    ck_assert(!b.hit);
    ck_assert(b.claimed);
    stw_finding_list_destroy(walk);
    stw_finding_list_destroy(out);
    stw_archmemo_destroy(m);
}
END_TEST

typedef struct cross_arg {
    stw_archmemo *m;
    const char *mine, *theirs;
    pthread_barrier_t *both_claimed;
    bool hit, claimed;
} cross_arg;

/* Claims mine, then asks for theirs, which the other thread claimed. */
static void *cross(void *arg)
{
    cross_arg *a = arg;
    stw_finding_list *out = list();
    stw_nested_cost charge;
    stw_error err = {0};
    bool hit, claimed;
    ck_assert_int_eq(stw_archmemo_get_or_claim(a->m, a, a->mine, "x", &big_room,
                                               &charge, out, &hit, &claimed,
                                               &err),
                     STW_OK);
    ck_assert(claimed);
    pthread_barrier_wait(a->both_claimed);
    ck_assert_int_eq(stw_archmemo_get_or_claim(a->m, a, a->theirs, "y",
                                               &big_room, &charge, out, &a->hit,
                                               &a->claimed, &err),
                     STW_OK);
    if (a->claimed)
        stw_archmemo_release(a->m, a, a->theirs);
    stw_archmemo_release(a->m, a, a->mine);
    stw_finding_list_destroy(out);
    return NULL;
}

/* An archive holding itself (a crafted quine), or two holding each other,
 * walked by two threads: each would wait for the other for ever, so at
 * least one walks on instead (the test's timeout catches a hang). */
START_TEST(test_no_wait_for_ever)
{
    stw_archmemo *m;
    ck_assert_int_eq(stw_archmemo_create(false, &m), STW_OK);
    int me;
    stw_finding_list *out = list();
    stw_nested_cost charge;
    bool hit, claimed;
    stw_error err = {0};
    ck_assert_int_eq(stw_archmemo_get_or_claim(m, &me, SHA_A, "q.zip",
                                               &big_room, &charge, out, &hit,
                                               &claimed, &err),
                     STW_OK);
    ck_assert(claimed);
    bool inner_claimed = true;
    ck_assert_int_eq(stw_archmemo_get_or_claim(m, &me, SHA_A, "q.zip!/q.zip",
                                               &big_room, &charge, out, &hit,
                                               &inner_claimed, &err),
                     STW_OK);
    ck_assert(!hit);
    ck_assert(!inner_claimed); /* walked again, unclaimed: no wait */
    stw_archmemo_release(m, &me, SHA_A);

    for (int round = 0; round < 20; round++) {
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, 2);
        cross_arg x = {
            .m = m, .mine = SHA_A, .theirs = SHA_B, .both_claimed = &bar};
        cross_arg y = {
            .m = m, .mine = SHA_B, .theirs = SHA_A, .both_claimed = &bar};
        pthread_t tx, ty;
        ck_assert_int_eq(pthread_create(&tx, NULL, cross, &x), 0);
        ck_assert_int_eq(pthread_create(&ty, NULL, cross, &y), 0);
        pthread_join(tx, NULL);
        pthread_join(ty, NULL);
        pthread_barrier_destroy(&bar);
        ck_assert(!x.hit && !y.hit);
    }
    stw_finding_list_destroy(out);
    stw_archmemo_destroy(m);
}
END_TEST

/* Out of memory anywhere: a result is kept whole or not at all, and a get
 * fails cleanly or replays everything. */
START_TEST(test_allocation_failures)
{
    size_t first;
    stw_finding_list *walk = walk_of_a(&first);
    stw_nested_cost cost = {1, 2, 3};
    for (unsigned long n = 1; n < 200; n++) {
        stw_alloc_fail_arm(n, STW_ALLOC_FAIL_ONLY);
        stw_archmemo *m = NULL;
        if (stw_archmemo_create(false, &m) != STW_OK) {
            stw_alloc_fail_disarm(NULL);
            continue;
        }
        bool kept = stw_archmemo_put(m, SHA_A, "usr/share/java/a.jar", &cost,
                                     walk, first);
        stw_finding_list *out = NULL;
        stw_status lst = stw_finding_list_create(&out);
        stw_nested_cost charge;
        bool hit = false;
        stw_error err = {0};
        stw_status st = lst == STW_OK
                            ? stw_archmemo_get(m, SHA_A, "b.jar", &big_room,
                                               &charge, out, &hit, &err)
                            : STW_OK;
        stw_alloc_fail_disarm(NULL);
        ck_assert(st == STW_OK || st == STW_ERR_NOMEM);
        if (st == STW_OK && lst == STW_OK) {
            ck_assert(hit == kept);
            ck_assert_uint_eq(stw_finding_list_count(out), kept ? 2 : 0);
        }
        stw_finding_list_destroy(out);
        stw_archmemo_destroy(m);
    }
    stw_finding_list_destroy(walk);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("archmemo");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_replay_under_new_path);
    tcase_add_test(t, test_secrets_kept_when_asked);
    tcase_add_test(t, test_refused_beyond_room);
    tcase_add_test(t, test_findings_bound);
    tcase_add_test(t, test_bytes_bound);
    tcase_add_test(t, test_second_walker_waits_for_the_first);
    tcase_add_test(t, test_no_wait_for_ever);
    tcase_add_test(t, test_allocation_failures);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
