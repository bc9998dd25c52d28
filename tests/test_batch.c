/* test_batch.c - the pure parts of batch scans: --shard K/N parsing, which
 * shard owns a digest (deterministic, in range, even), --since dates, and
 * the Link header that pages registry listings. Against a real registry:
 * tests/cli/test_batch_registry.sh; shards and merge:
 * tests/cli/test_shard_merge.sh. */
#include "batch.h"
#include "shard.h"
#include "registry.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

START_TEST(test_shard_parse_accepts_k_of_n)
{
    unsigned k = 0, n = 0;
    stw_error e = {0};
    ck_assert_int_eq(stw_shard_parse("2/8", &k, &n, &e), STW_OK);
    ck_assert_uint_eq(k, 2);
    ck_assert_uint_eq(n, 8);
    ck_assert_int_eq(stw_shard_parse("1/1", &k, &n, &e), STW_OK);
    ck_assert_int_eq(stw_shard_parse("65536/65536", &k, &n, &e), STW_OK);
}
END_TEST

START_TEST(test_shard_parse_rejects_nonsense)
{
    static const char *const bad[] = {
        "0/3",  "4/3",  "1/0",  "3",       "a/b", "1/",           "/3",
        "-1/3", "1/3x", "1 /3", "1/65537", "",    "99999999999/1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned k = 7, n = 7;
        stw_error e = {0};
        ck_assert_msg(stw_shard_parse(bad[i], &k, &n, &e) == STW_ERR_USAGE,
                      "accepted '%s'", bad[i]);
        ck_assert_msg(strstr(e.msg, bad[i]), "message lacks '%s'", bad[i]);
        ck_assert_uint_eq(k, 7);
    }
}
END_TEST

START_TEST(test_shard_of_uses_first_8_bytes)
{
    /* 0x0000000000000007 % 3 == 1 -> shard 2; the tail does not matter. */
    const char *d = "sha256:0000000000000007ffffffffffffffffffffffffffffffff"
                    "ffffffffffff";
    ck_assert_uint_eq(stw_shard_of(d, 3), 2);
    ck_assert_uint_eq(stw_shard_of(d, 7), 1);
    ck_assert_uint_eq(stw_shard_of(d, 1), 1);
    ck_assert_uint_eq(stw_shard_of(d, 0), 1);
    const char *e = "sha256:ffffffffffffffff00000000000000000000000000000000"
                    "000000000000";
    /* 2^64 - 1 = 18446744073709551615; % 10 == 5 -> shard 6. */
    ck_assert_uint_eq(stw_shard_of(e, 10), 6);
}
END_TEST

START_TEST(test_shard_of_spreads_digests_evenly)
{
    unsigned count[4] = {0};
    char d[80];
    for (unsigned i = 0; i < 4000; i++) {
        /* Hex of a simple LCG: spread like real hashes for this purpose. */
        unsigned long long x = 0x9e3779b97f4a7c15ull * (i + 1);
        snprintf(d, sizeof(d), "sha256:%016llx%048d", x, 0);
        unsigned s = stw_shard_of(d, 4);
        ck_assert(s >= 1 && s <= 4);
        ck_assert_uint_eq(s, stw_shard_of(d, 4)); /* deterministic */
        count[s - 1]++;
    }
    for (int k = 0; k < 4; k++)
        ck_assert_msg(count[k] > 800 && count[k] < 1200, "shard %d got %u",
                      k + 1, count[k]);
    /* Text that is not a sha256 digest still lands in range. */
    ck_assert_uint_le(stw_shard_of("legacy-layer.tar", 5), 5);
    ck_assert_uint_ge(stw_shard_of("sha256:zz", 5), 1);
}
END_TEST

static int64_t t_ok(const char *s)
{
    int64_t t = 0;
    stw_error e = {0};
    ck_assert_msg(stw_batch_parse_time(s, &t, &e) == STW_OK, "%s: %s", s,
                  e.msg);
    return t;
}

START_TEST(test_parse_time_dates_and_rfc3339)
{
    ck_assert_int_eq(t_ok("1970-01-01"), 0);
    ck_assert_int_eq(t_ok("2024-01-01"), 1704067200);
    ck_assert_int_eq(t_ok("2024-02-29T12:00:00Z"), 1709208000);
    ck_assert_int_eq(t_ok("2024-06-01T10:00:00.5+02:00"), 1717228800);
    ck_assert_int_eq(t_ok("2024-06-01T08:00:00.123456789Z"), 1717228800);
    ck_assert_int_eq(t_ok("2000-03-01T00:00:00-01:30"), 951868800 + 5400);
    static const char *const bad[] = {"2024-13-01",
                                      "2024-02-30",
                                      "2024-1-01",
                                      "yesterday",
                                      "2024-06-01T10:00",
                                      "2024-06-01T10:00:00",
                                      "2024-06-01T10:00:00Zjunk",
                                      "2024-06-01T25:00:00Z",
                                      "2024-06-01T10:00:00.Z",
                                      ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t t = 42;
        stw_error e = {0};
        ck_assert_msg(stw_batch_parse_time(bad[i], &t, &e) == STW_ERR_USAGE,
                      "accepted '%s'", bad[i]);
        ck_assert_int_eq(t, 42);
    }
}
END_TEST

START_TEST(test_next_link_finds_rel_next)
{
    char out[256];
    ck_assert(stw_registry_next_link(
        "</v2/_catalog?last=b&n=100>; rel=\"next\"", out, sizeof(out)));
    ck_assert_str_eq(out, "/v2/_catalog?last=b&n=100");
    ck_assert(stw_registry_next_link(
        "<https://r.example/v2/a/tags/list?last=9>;rel=next", out,
        sizeof(out)));
    ck_assert_str_eq(out, "https://r.example/v2/a/tags/list?last=9");
    /* Several links; relation lists; case. */
    ck_assert(stw_registry_next_link(
        "</prev>; rel=\"prev\", </nxt?x=1>; title=\"a, b\"; rel=\"last NEXT\"",
        out, sizeof(out)));
    ck_assert_str_eq(out, "/nxt?x=1");
}
END_TEST

START_TEST(test_next_link_rejects_others)
{
    char out[16];
    ck_assert(!stw_registry_next_link(NULL, out, sizeof(out)));
    ck_assert(!stw_registry_next_link("", out, sizeof(out)));
    ck_assert(!stw_registry_next_link("</p>; rel=\"prev\"", out, sizeof(out)));
    ck_assert(
        !stw_registry_next_link("/no/brackets; rel=next", out, sizeof(out)));
    ck_assert(
        !stw_registry_next_link("</unterminated; rel=next", out, sizeof(out)));
    ck_assert(!stw_registry_next_link("<>; rel=next", out, sizeof(out)));
    /* Longer than the buffer: refused, not cut. */
    ck_assert(!stw_registry_next_link(
        "</v2/_catalog?last=a-long-name&n=1000>; rel=next", out, sizeof(out)));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("batch");
    tcase_add_test(tc, test_shard_parse_accepts_k_of_n);
    tcase_add_test(tc, test_shard_parse_rejects_nonsense);
    tcase_add_test(tc, test_shard_of_uses_first_8_bytes);
    tcase_add_test(tc, test_shard_of_spreads_digests_evenly);
    tcase_add_test(tc, test_parse_time_dates_and_rfc3339);
    tcase_add_test(tc, test_next_link_finds_rel_next);
    tcase_add_test(tc, test_next_link_rejects_others);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
