/* test_finding.c - redaction never shows more than four characters and the
 * length; fingerprints are stable and separate their fields; one finding
 * per secret and file survives deduplication, the most severe and specific
 * one. */
#include "finding.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_finding_redaction_shows_four_chars_and_length)
{
    stw_finding f = {0};
    stw_finding_set_secret(&f, "AKIAZ7QXW3MNB4RT6YVP", 20);
    ck_assert_str_eq(f.excerpt, "AKIA\u2026(20 chars)");
    ck_assert_uint_eq(strlen(f.secret_sha256), 64);
    ck_assert_ptr_null(strstr(f.excerpt, "Z7QX"));
    stw_finding_set_secret(&f, "ab\x01", 3); /* unprintable becomes '?' */
    ck_assert_str_eq(f.excerpt, "ab?\u2026(3 chars)");
}
END_TEST

START_TEST(test_finding_fingerprint_separates_fields)
{
    stw_finding a = {.rule = "r", .path = "ab"},
                b = {.rule = "ra", .path = "b"};
    char fa[33], fb[33], fc[33];
    stw_finding_fingerprint(&a, "sha256:x", fa);
    stw_finding_fingerprint(&b, "sha256:x", fb);
    ck_assert_str_ne(fa, fb);
    stw_finding_fingerprint(&a, "sha256:x", fc);
    ck_assert_str_eq(fa, fc);
    ck_assert_uint_eq(strlen(fa), 32);
}
END_TEST

static void add(stw_finding_list *l, const char *path, const char *rule,
                stw_kind k, stw_severity s, const char *secret, int64_t off)
{
    stw_finding f = {.path = path,
                     .rule = rule,
                     .kind = k,
                     .severity = s,
                     .offset = off,
                     .line = 1};
    if (secret)
        stw_finding_set_secret(&f, secret, strlen(secret));
    ck_assert_int_eq(stw_finding_list_add(l, &f), STW_OK);
}

static const stw_finding *find(stw_finding_list *l, const char *rule)
{
    for (size_t i = 0; i < stw_finding_list_count(l); i++)
        if (!strcmp(stw_finding_list_get(l, i)->rule, rule))
            return stw_finding_list_get(l, i);
    return NULL;
}

START_TEST(test_finding_dedupe_keeps_one_per_secret_and_file)
{
    stw_finding_list *l;
    ck_assert_int_eq(stw_finding_list_create(&l), STW_OK);
    /* .env line 1: a key id seen by a token rule and a credential-file
     * rule at the same severity: the token rule is more specific. */
    add(l, "app/.env", "env-file-secret", STW_KIND_CREDENTIAL_FILE,
        STW_SEV_HIGH, "AKIAZ7QXW3MNB4RT6YVP", 18);
    add(l, "app/.env", "aws-access-key-id", STW_KIND_SECRET, STW_SEV_HIGH,
        "AKIAZ7QXW3MNB4RT6YVP", 18);
    /* Line 2: three rules, the critical pair wins. */
    add(l, "app/.env", "aws-secret-access-key", STW_KIND_SECRET,
        STW_SEV_CRITICAL, "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", 60);
    add(l, "app/.env", "env-file-secret", STW_KIND_CREDENTIAL_FILE,
        STW_SEV_HIGH, "q8Jf2KxZp9LmN3vT7wRb5YcH1gD4sE6uA0oI/Ke+", 60);
    add(l, "app/.env", "aws-access-key-pair", STW_KIND_SECRET, STW_SEV_CRITICAL,
        "q8Jf2KxZp9LmN3vT7wRb5YcH1gD4sE6uA0oI/Ke+", 20);
    /* The same secret in another file is another finding. */
    add(l, "app/other", "aws-access-key-id", STW_KIND_SECRET, STW_SEV_HIGH,
        "AKIAZ7QXW3MNB4RT6YVP", 0);
    /* Findings without a secret are never merged. */
    add(l, "usr/bin/su", "setuid-file", STW_KIND_SETUID, STW_SEV_LOW, NULL, -1);
    add(l, "usr/bin/su", "setgid-file", STW_KIND_SETGID, STW_SEV_LOW, NULL, -1);
    /* A generic rule gives way to a specific one even at a higher
     * severity: the specific rule knows the format. */
    stw_finding g = {.path = "app/cfg",
                     .rule = "generic-secret",
                     .kind = STW_KIND_SECRET,
                     .severity = STW_SEV_HIGH,
                     .generic = true,
                     .offset = 3};
    stw_finding_set_secret(&g, "eyJhbGciOiJIUzI1NiJ9.e30.x", 26);
    ck_assert_int_eq(stw_finding_list_add(l, &g), STW_OK);
    stw_finding j = g;
    j.rule = "jwt";
    j.generic = false;
    j.severity = STW_SEV_MEDIUM;
    ck_assert_int_eq(stw_finding_list_add(l, &j), STW_OK);
    stw_finding_list_dedupe_secrets(l);
    ck_assert_uint_eq(stw_finding_list_count(l), 6);
    ck_assert_ptr_nonnull(find(l, "jwt"));
    ck_assert_ptr_null(find(l, "generic-secret"));
    ck_assert_ptr_nonnull(find(l, "aws-access-key-id"));
    ck_assert_ptr_null(find(l, "env-file-secret"));
    ck_assert_ptr_null(find(l, "aws-secret-access-key")); /* later offset */
    ck_assert_ptr_nonnull(find(l, "aws-access-key-pair"));
    ck_assert_ptr_nonnull(find(l, "setgid-file"));
    stw_finding_list_destroy(l);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("finding");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_finding_redaction_shows_four_chars_and_length);
    tcase_add_test(tc, test_finding_fingerprint_separates_fields);
    tcase_add_test(tc, test_finding_dedupe_keeps_one_per_secret_and_file);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
