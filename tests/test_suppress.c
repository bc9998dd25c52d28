/* test_suppress.c - ignore files (syntax, errors with line numbers, expiry,
 * every selector and the image scope), baselines (write, load, match by
 * fingerprint and by rebuild key after a layer digest changed), skipped
 * layers by digest and diff_id, and removal from results in place. */
#include "suppress.h"

#include "testutil.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define TODAY "2025-06-15"

static char *dup(const char *s)
{
    char *c = strdup(s ? s : "");
    ck_assert_ptr_nonnull(c);
    return c;
}

/* Two images: "app:1" (layers L0, L1) and "other:2" (L0). */
static stw_results *make_results(void)
{
    stw_results *r = calloc(1, sizeof(*r));
    ck_assert_ptr_nonnull(r);
    r->rules_version = dup("test");
    r->n_images = 2;
    r->images = calloc(2, sizeof(*r->images));
    const char *refs[] = {"registry.example.com/app:1", "other:2"};
    for (size_t i = 0; i < 2; i++) {
        stw_rimage *im = &r->images[i];
        im->ref = dup(refs[i]);
        im->manifest_digest = dup("");
        im->config_digest = dup("sha256:cfg");
        im->platform = dup("linux/amd64");
        im->n_layers = i == 0 ? 2 : 1;
        im->layers = calloc(im->n_layers, sizeof(*im->layers));
        for (size_t l = 0; l < im->n_layers; l++) {
            im->layers[l].digest = dup(l == 0 ? "sha256:l0" : "sha256:l1");
            im->layers[l].diff_id = dup(l == 0 ? "sha256:d0" : "sha256:d1");
            im->layers[l].diff_id_verified = true;
            im->layers[l].media_type = dup("");
            im->layers[l].created_by = dup("COPY . /app");
        }
    }
    return r;
}

static void add(stw_results *r, size_t image, int layer, const char *path,
                const char *rule, const char *fp, const char *secret)
{
    r->findings =
        realloc(r->findings, (r->n_findings + 1) * sizeof(*r->findings));
    ck_assert_ptr_nonnull(r->findings);
    stw_rfinding *f = &r->findings[r->n_findings++];
    memset(f, 0, sizeof(*f));
    f->image = image;
    f->layer = layer;
    f->layer_digest = dup(layer == 0 ? "sha256:l0" : "sha256:l1");
    f->path = dup(path);
    f->rule = dup(rule);
    f->kind = STW_KIND_SECRET;
    f->severity = STW_SEV_HIGH;
    f->visible = true;
    f->removed_in_layer = -1;
    f->fingerprint = dup(fp);
    f->secret_sha256 = dup(secret);
    f->excerpt = dup("AKIA…(20 chars)");
    f->detail = dup("");
}

/* The standard set: 0 app L1 .env aws, 1 app L1 tests/key.pem rsa, 2 app L0
 * usr/bin/su setuid, 3 other L0 usr/bin/su setuid. */
static stw_results *standard(void)
{
    stw_results *r = make_results();
    add(r, 0, 1, "app/.env", "aws-access-key-id", "aaaa0000", "s1");
    add(r, 0, 1, "app/tests/key.pem", "rsa-private-key", "bbbb1111", "s2");
    add(r, 0, 0, "usr/bin/su", "setuid-file", "cccc2222", "");
    add(r, 1, 0, "usr/bin/su", "setuid-file", "cccc2222", "");
    return r;
}

static stw_suppress *parse(const char *text, stw_status want)
{
    stw_suppress *s = NULL;
    stw_error err = {0};
    ck_assert_int_eq(stw_suppress_create(&s, &err), STW_OK);
    stw_status st =
        stw_suppress_parse_ignore(s, "ign", text, strlen(text), TODAY, &err);
    ck_assert_msg(st == want, "parse gave %d (%s), want %d", st, err.msg, want);
    return s;
}

/* Which findings (by path/image) survive: a string like "0:app/.env|". */
static char *survivors(stw_results *r)
{
    static char buf[1024];
    buf[0] = 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        char one[128];
        snprintf(one, sizeof(one), "%zu:%s|", r->findings[i].image,
                 r->findings[i].path);
        strcat(buf, one);
    }
    return buf;
}

START_TEST(test_ignore_rule_path_fingerprint_and_image_scope)
{
    stw_suppress *s =
        parse("# comment\n"
              "\n"
              "rule=aws-access-key-id reason=rotated, see TICKET-1\n"
              "path=app/tests/ expires=2999-01-01\n"
              "fingerprint=CCCC2222 image=registry.example.com/*\n",
              STW_OK);
    ck_assert_uint_eq(stw_suppress_ignore_count(s), 3);
    ck_assert_uint_eq(stw_suppress_warning_count(s), 0);
    stw_results *r = standard();
    stw_suppress_counts c = {0};
    stw_suppress_apply(s, r, &c);
    /* The setuid of other:2 has the same fingerprint but another image. */
    ck_assert_str_eq(survivors(r), "1:usr/bin/su|");
    ck_assert_uint_eq(c.ignored, 3);
    ck_assert_uint_eq(c.baselined + c.layers, 0);
    stw_results_destroy(r);
    stw_suppress_destroy(s);
}
END_TEST

START_TEST(test_ignore_selectors_must_all_match_and_globs_cross_slashes)
{
    stw_suppress *s = parse("rule=setuid-file path=\"app/*\"\n"
                            "path=*/.env rule=other-rule\n",
                            STW_OK);
    stw_results *r = standard();
    stw_suppress_apply(s, r, NULL);
    ck_assert_uint_eq(r->n_findings, 4);
    stw_results_destroy(r);
    stw_suppress_destroy(s);

    s = parse("path=/app/*\n", STW_OK); /* leading '/' allowed */
    r = standard();
    stw_suppress_apply(s, r, NULL);
    ck_assert_str_eq(survivors(r), "0:usr/bin/su|1:usr/bin/su|");
    stw_results_destroy(r);
    stw_suppress_destroy(s);
}
END_TEST

START_TEST(test_ignore_expired_entry_warns_and_no_longer_suppresses)
{
    stw_suppress *s = parse("rule=setuid-file expires=2025-06-14 reason=old "
                            "base image\n"
                            "rule=aws-access-key-id expires=" TODAY "\n",
                            STW_OK);
    ck_assert_uint_eq(stw_suppress_warning_count(s), 1);
    const char *w = stw_suppress_warning(s, 0);
    ck_assert_ptr_nonnull(strstr(w, "ign:1:"));
    ck_assert_ptr_nonnull(strstr(w, "expired on 2025-06-14"));
    ck_assert_ptr_nonnull(strstr(w, "old base image"));
    ck_assert_ptr_null(strchr(w, '\n'));
    ck_assert_ptr_null(stw_suppress_warning(s, 1));
    stw_results *r = standard();
    stw_suppress_apply(s, r, NULL);
    /* The entry expiring today still holds; the expired one does not. */
    ck_assert_str_eq(survivors(r),
                     "0:app/tests/key.pem|0:usr/bin/su|1:usr/bin/su|");
    stw_results_destroy(r);
    stw_suppress_destroy(s);
}
END_TEST

START_TEST(test_ignore_syntax_errors_name_file_and_line)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"rule=x\nbogus\n", "ign:2: expected KEY=VALUE"},
        {"rule=x colour=red\n", "ign:1: unknown key 'colour'"},
        {"image=app:*\n", "ign:1: an entry needs"},
        {"rule=x expires=2025-13-01\n", "ign:1: expires"},
        {"fingerprint=xyz\n", "ign:1: fingerprint 'xyz' is not hex"},
        {"path=\"open\n", "ign:1: unterminated quote"},
        {"rule=a rule=b\n", "ign:1: rule= given twice"},
        {"rule=\n", "ign:1: empty rule="},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        stw_suppress *s = NULL;
        stw_error err = {0};
        ck_assert_int_eq(stw_suppress_create(&s, &err), STW_OK);
        ck_assert_int_eq(stw_suppress_parse_ignore(s, "ign", cases[i].text,
                                                   strlen(cases[i].text), TODAY,
                                                   &err),
                         STW_ERR_FORMAT);
        ck_assert_msg(strstr(err.msg, cases[i].want), "case %zu: %s", i,
                      err.msg);
        stw_suppress_destroy(s);
    }
    /* A NUL byte in the middle of a line is refused, not truncated. */
    stw_suppress *s = NULL;
    stw_error err = {0};
    ck_assert_int_eq(stw_suppress_create(&s, &err), STW_OK);
    ck_assert_int_eq(
        stw_suppress_parse_ignore(s, "ign", "rule=a\0b\n", 9, TODAY, &err),
        STW_ERR_FORMAT);
    stw_suppress_destroy(s);
}
END_TEST

START_TEST(test_ignore_file_missing_is_not_found)
{
    stw_suppress *s = NULL;
    stw_error err = {0};
    ck_assert_int_eq(stw_suppress_create(&s, &err), STW_OK);
    ck_assert_int_eq(stw_suppress_load_ignore(s, "/nonexistent/.stowawayignore",
                                              TODAY, &err),
                     STW_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/.stowawayignore"));
    stw_suppress_destroy(s);
}
END_TEST

START_TEST(test_baseline_round_trip_and_rebuild_key)
{
    char *dir = tu_mkdtemp("suppress");
    char *path = tu_path(dir, "baseline.json");
    stw_results *r = standard();
    stw_error err = {0};
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(stw_suppress_write_baseline(r, f, &err), STW_OK);
    fclose(f);
    size_t n;
    char *text = tu_read_file(path, &n);
    /* No excerpt or secret hash, one entry per fingerprint. */
    ck_assert_ptr_null(strstr(text, "AKIA"));
    ck_assert_ptr_null(strstr(text, "excerpt"));
    ck_assert_ptr_null(strstr(text, "secret_sha256"));
    ck_assert_ptr_null(strstr(text, "\"s2\""));
    ck_assert_ptr_nonnull(strstr(text, "\"stowaway_baseline\": 1"));
    char *second = strstr(text, "cccc2222");
    ck_assert_ptr_nonnull(second);
    ck_assert_ptr_null(strstr(second + 1, "cccc2222"));
    free(text);

    stw_suppress *s = NULL;
    ck_assert_int_eq(stw_suppress_create(&s, &err), STW_OK);
    ck_assert_int_eq(stw_suppress_load_baseline(s, path, &err), STW_OK);
    stw_results_destroy(r);

    /* The same findings, but L1 was rebuilt (other digest, so other
     * fingerprints), and one new secret in the rebuilt layer. */
    r = make_results();
    add(r, 0, 1, "app/.env", "aws-access-key-id", "99990000", "s1");
    add(r, 0, 1, "app/.env", "aws-access-key-id", "99991111", "s3-new");
    add(r, 0, 0, "usr/bin/su", "setuid-file", "cccc2222", "");
    stw_suppress_counts c = {0};
    stw_suppress_apply(s, r, &c);
    ck_assert_uint_eq(r->n_findings, 1);
    ck_assert_str_eq(r->findings[0].secret_sha256, "s3-new");
    ck_assert_uint_eq(c.baselined, 2);
    stw_results_destroy(r);
    stw_suppress_destroy(s);

    /* Not a baseline: named in the error. */
    tu_write_file(path, "{\"findings\": []}", 16);
    ck_assert_int_eq(stw_suppress_create(&s, &err), STW_OK);
    ck_assert_int_eq(stw_suppress_load_baseline(s, path, &err), STW_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, path));
    stw_suppress_destroy(s);
    free(path);
    free(dir);
}
END_TEST

START_TEST(test_skip_layer_by_digest_or_diff_id)
{
    stw_error err = {0};
    stw_suppress *s = NULL;
    ck_assert_int_eq(stw_suppress_create(&s, &err), STW_OK);
    ck_assert_int_eq(stw_suppress_add_layer(s, "sha256:l0", &err), STW_OK);
    stw_results *r = standard();
    stw_suppress_counts c = {0};
    stw_suppress_apply(s, r, &c);
    ck_assert_str_eq(survivors(r), "0:app/.env|0:app/tests/key.pem|");
    ck_assert_uint_eq(c.layers, 2);
    stw_results_destroy(r);
    stw_suppress_destroy(s);

    ck_assert_int_eq(stw_suppress_create(&s, &err), STW_OK);
    ck_assert_int_eq(stw_suppress_add_layer(s, "sha256:d1", &err), STW_OK);
    ck_assert_int_eq(stw_suppress_add_layer(s, "", &err), STW_ERR_USAGE);
    r = standard();
    stw_suppress_apply(s, r, NULL);
    ck_assert_str_eq(survivors(r), "0:usr/bin/su|1:usr/bin/su|");
    stw_results_destroy(r);

    /* A diff_id only claimed by the config (not computed) matches nothing:
     * a lying config could otherwise hide any layer behind a base's. */
    r = standard();
    r->images[0].layers[1].diff_id_verified = false;
    stw_suppress_apply(s, r, NULL);
    ck_assert_str_eq(
        survivors(r),
        "0:app/.env|0:app/tests/key.pem|0:usr/bin/su|1:usr/bin/su|");
    stw_results_destroy(r);
    stw_suppress_destroy(s);
}
END_TEST

START_TEST(test_base_results_become_baseline)
{
    stw_error err = {0};
    stw_suppress *s = NULL;
    ck_assert_int_eq(stw_suppress_create(&s, &err), STW_OK);
    stw_results *base = make_results();
    add(base, 0, 0, "usr/bin/su", "setuid-file", "cccc2222", "");
    ck_assert_int_eq(stw_suppress_add_baseline_results(s, base, &err), STW_OK);
    stw_results_destroy(base);
    stw_results *r = standard();
    stw_suppress_apply(s, r, NULL);
    ck_assert_str_eq(survivors(r), "0:app/.env|0:app/tests/key.pem|");
    stw_results_destroy(r);
    stw_suppress_destroy(s);
}
END_TEST

START_TEST(test_empty_set_and_null_suppress_nothing)
{
    stw_results *r = standard();
    stw_suppress_apply(NULL, r, NULL);
    ck_assert_uint_eq(r->n_findings, 4);
    stw_suppress *s = parse("", STW_OK);
    stw_suppress_apply(s, r, NULL);
    ck_assert_uint_eq(r->n_findings, 4);
    ck_assert_int_eq(stw_suppress_match(s, r, &r->findings[0]),
                     STW_SUPPRESS_NONE);
    stw_results_destroy(r);
    stw_suppress_destroy(s);
    stw_suppress_destroy(NULL);
}
END_TEST

static Suite *suppress_suite(void)
{
    Suite *s = suite_create("suppress");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_ignore_rule_path_fingerprint_and_image_scope);
    tcase_add_test(
        tc, test_ignore_selectors_must_all_match_and_globs_cross_slashes);
    tcase_add_test(tc,
                   test_ignore_expired_entry_warns_and_no_longer_suppresses);
    tcase_add_test(tc, test_ignore_syntax_errors_name_file_and_line);
    tcase_add_test(tc, test_ignore_file_missing_is_not_found);
    tcase_add_test(tc, test_baseline_round_trip_and_rebuild_key);
    tcase_add_test(tc, test_skip_layer_by_digest_or_diff_id);
    tcase_add_test(tc, test_base_results_become_baseline);
    tcase_add_test(tc, test_empty_set_and_null_suppress_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suppress_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
