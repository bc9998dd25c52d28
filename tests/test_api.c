/* test_api.c - the public API (stowaway/stowaway.h) as an embedder uses
 * it, on that header alone: options objects and their checks, scanning a
 * caller's stream whose reader fails or is cancelled half-way, and
 * accessors that stay safe past the end; a store's upkeep (db.h): records
 * filled only as far as the caller's size says, merging, the by-layer
 * report. The installed-library path is tests/install/; this one runs in
 * seconds on every change. */
#include "stowaway/stowaway.h"
#include "testutil.h"

#include <check.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEMO STW_SRCDIR "/fixtures/demo/demo.docker.tar"

static stw_rules *rules;

/* A stream over a file in memory, in pieces of 4 KiB; fails with
 * STW_ERR_IO once fail_at bytes have been handed out (0: never). */
typedef struct mem_stream {
    char *data;
    size_t n, at, fail_at;
    int polls, cancel_after; /* the cancel callback's count and limit */
    bool check_thread;       /* count calls from a thread but caller */
    pthread_t caller;
    int foreign;
} mem_stream;

static stw_status mem_read(void *ctx, const void **buf, size_t *len,
                           stw_error *err)
{
    mem_stream *m = ctx;
    if (m->check_thread && !pthread_equal(pthread_self(), m->caller))
        m->foreign++;
    if (m->fail_at && m->at >= m->fail_at) {
        err->status = STW_ERR_IO;
        snprintf(err->msg, sizeof(err->msg), "upload: connection reset");
        return STW_ERR_IO;
    }
    size_t k = m->n - m->at < 4096 ? m->n - m->at : 4096;
    *buf = m->data + m->at;
    *len = k;
    m->at += k;
    return STW_OK;
}

static int cancel_after(void *ctx)
{
    mem_stream *m = ctx;
    return ++m->polls > m->cancel_after;
}

static void load_demo(mem_stream *m)
{
    memset(m, 0, sizeof(*m));
    m->data = tu_read_file(DEMO, &m->n);
}

/* Scans m into a fresh scan of store with opt; returns the status and
 * the results (transferred). */
static stw_status scan_stream(stw_store *store, mem_stream *m,
                              const stw_scan_options *opt, stw_results **res,
                              stw_error *err)
{
    int64_t id;
    ck_assert_int_eq(stw_store_begin_scan(store, stw_version_string(),
                                          stw_rules_version(rules), "t", &id,
                                          err),
                     STW_OK);
    stw_status st =
        stw_scan_read(rules, store, id, "upload", mem_read, m, opt, err);
    stw_error e2 = {0};
    ck_assert_int_eq(stw_store_end_scan(store, id, &e2), STW_OK);
    ck_assert_int_eq(stw_store_load_scan(store, id, res, &e2), STW_OK);
    return st;
}

START_TEST(test_version_macros_match_the_library)
{
    ck_assert_uint_eq(stw_version_number(), STW_VERSION_NUMBER);
    ck_assert_str_eq(stw_version_string(), STW_VERSION);
    ck_assert_int_eq(STW_VERSION_NUMBER, STW_VERSION_MAJOR * 10000 +
                                             STW_VERSION_MINOR * 100 +
                                             STW_VERSION_PATCH);
}
END_TEST

START_TEST(test_stream_scan_finds_what_a_path_scan_finds)
{
    stw_store *store;
    stw_error err = {0};
    ck_assert_int_eq(stw_store_open(NULL, &store, &err), STW_OK);
    mem_stream m;
    load_demo(&m);
    stw_results *res;
    ck_assert_int_eq(scan_stream(store, &m, NULL, &res, &err), STW_OK);
    ck_assert_uint_eq(stw_results_finding_count(res), 5);
    ck_assert_str_eq(stw_result_image_ref(stw_results_image(res, 0)),
                     "stowaway/demo:1");
    const stw_result_finding *f = stw_results_finding(res, 0);
    ck_assert_str_eq(stw_result_finding_rule(f), "setuid-file");
    uint32_t mode = 0;
    ck_assert(stw_result_finding_mode(f, &mode, NULL, NULL));
    ck_assert(mode & 04000);
    stw_results_destroy(res);
    free(m.data);
    stw_store_close(store);
}
END_TEST

/* The header promises the reader runs on the calling thread, even where
 * the scan decompresses on threads of its own: a gzip'd docker save. */
START_TEST(test_stream_reader_runs_on_the_calling_thread)
{
    char *dir = tu_mkdtemp("api-gz");
    char *gz = tu_path(dir, "demo.tar.gz");
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "gzip -c '%s' > '%s'", DEMO, gz);
    ck_assert_int_eq(system(cmd), 0);
    stw_store *store;
    stw_error err = {0};
    ck_assert_int_eq(stw_store_open(NULL, &store, &err), STW_OK);
    mem_stream m = {.check_thread = true, .caller = pthread_self()};
    m.data = tu_read_file(gz, &m.n);
    stw_results *res;
    ck_assert_int_eq(scan_stream(store, &m, NULL, &res, &err), STW_OK);
    ck_assert_uint_eq(stw_results_finding_count(res), 5);
    ck_assert_int_eq(m.foreign, 0);
    stw_results_destroy(res);
    free(m.data);
    stw_store_close(store);
    free(gz);
    free(dir);
}
END_TEST

START_TEST(test_reader_failure_ends_scan_with_its_status_and_message)
{
    stw_store *store;
    stw_error err = {0};
    ck_assert_int_eq(stw_store_open(NULL, &store, &err), STW_OK);
    mem_stream m;
    load_demo(&m);
    m.fail_at = 8192;
    stw_results *res;
    ck_assert_int_eq(scan_stream(store, &m, NULL, &res, &err), STW_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "connection reset"));
    ck_assert_uint_eq(stw_results_error_count(res), 1);
    const stw_result_error *e = stw_results_error(res, 0);
    ck_assert_str_eq(stw_result_error_target(e), "upload");
    ck_assert_ptr_nonnull(strstr(stw_result_error_message(e), "reset"));
    ck_assert_ptr_null(stw_results_error(res, 1));
    stw_results_destroy(res);
    free(m.data);
    stw_store_close(store);
}
END_TEST

START_TEST(test_cancel_half_way_stops_with_cancelled)
{
    stw_store *store;
    stw_error err = {0};
    ck_assert_int_eq(stw_store_open(NULL, &store, &err), STW_OK);
    mem_stream m;
    load_demo(&m);
    m.cancel_after = 3;
    stw_scan_options *opt;
    ck_assert_int_eq(stw_scan_options_create(&opt, &err), STW_OK);
    stw_scan_options_set_cancel(opt, cancel_after, &m);
    stw_results *res;
    ck_assert_int_eq(scan_stream(store, &m, opt, &res, &err),
                     STW_ERR_CANCELLED);
    ck_assert_str_eq(stw_status_str(STW_ERR_CANCELLED), "cancelled");
    ck_assert_uint_lt(m.at, m.n); /* stopped before the end */
    ck_assert_uint_eq(stw_results_image_count(res), 0);
    stw_results_destroy(res);
    stw_scan_options_destroy(opt);
    free(m.data);
    stw_store_close(store);
}
END_TEST

START_TEST(test_options_refuse_bad_values_at_the_setter)
{
    stw_error err = {0};
    stw_scan_options *opt;
    ck_assert_int_eq(stw_scan_options_create(&opt, &err), STW_OK);
    ck_assert_int_eq(stw_scan_options_set_shard(opt, 3, 2, &err),
                     STW_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "3/2"));
    ck_assert_int_eq(stw_scan_options_set_shard(opt, 2, 2, &err), STW_OK);
    ck_assert_int_eq(stw_scan_options_set_page_size(opt, -1, &err),
                     STW_ERR_USAGE);
    ck_assert_int_eq(stw_scan_options_set_page_size(
                         opt, STW_REGISTRY_PAGE_SIZE_MAX + 1, &err),
                     STW_ERR_USAGE);
    ck_assert_int_eq(
        stw_scan_options_set_page_size(opt, STW_REGISTRY_PAGE_SIZE_MAX, &err),
        STW_OK);
    ck_assert_int_eq(stw_scan_options_set_page_size(opt, 0, &err), STW_OK);
    ck_assert_int_eq(stw_scan_options_add_insecure_registry(opt, "", &err),
                     STW_ERR_USAGE);
    /* Strings are copied: the caller's buffer may change at once. */
    char host[] = "localhost:5000";
    ck_assert_int_eq(stw_scan_options_add_insecure_registry(opt, host, &err),
                     STW_OK);
    ck_assert_int_eq(stw_scan_options_set_platform(opt, "linux/arm64", &err),
                     STW_OK);
    ck_assert_int_eq(stw_scan_options_set_platform(opt, NULL, &err), STW_OK);
    memset(host, 'x', sizeof(host) - 1);
    stw_scan_options_destroy(opt);
    stw_scan_options_destroy(NULL);

    stw_rules_options *ro;
    ck_assert_int_eq(stw_rules_options_create(&ro, &err), STW_OK);
    ck_assert_int_eq(stw_rules_options_disable(ro, "no-such-rule", &err),
                     STW_OK);
    stw_rules *r = NULL;
    ck_assert_int_ne(stw_rules_create(ro, &r, &err), STW_OK);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(err.msg, "no-such-rule"));
    stw_rules_options_destroy(ro);
}
END_TEST

START_TEST(test_rules_disable_and_accessors)
{
    stw_error err = {0};
    const char *first = stw_rules_rule_id(rules, 0);
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_null(stw_rules_rule_id(rules, stw_rules_count(rules)));
    stw_rules_options *ro;
    ck_assert_int_eq(stw_rules_options_create(&ro, &err), STW_OK);
    ck_assert_int_eq(stw_rules_options_disable(ro, first, &err), STW_OK);
    stw_rules *r = NULL;
    ck_assert_int_eq(stw_rules_create(ro, &r, &err), STW_OK);
    ck_assert_uint_eq(stw_rules_count(r), stw_rules_count(rules) - 1);
    ck_assert_str_ne(stw_rules_version(r), stw_rules_version(rules));
    stw_rules_destroy(r);
    stw_rules_options_destroy(ro);
}
END_TEST

/* The cache directory setter: stored once, used the next time, off
 * again with NULL; the set and its version do not change. */
START_TEST(test_rules_cache_dir_stores_then_loads)
{
    stw_error err = {0};
    char *dir = tu_mkdtemp("apicache");
    stw_rules_options *ro;
    ck_assert_int_eq(stw_rules_options_create(&ro, &err), STW_OK);
    ck_assert_int_eq(stw_rules_options_set_cache_dir(ro, "", &err),
                     STW_ERR_USAGE);
    ck_assert_int_eq(stw_rules_options_set_cache_dir(ro, dir, &err), STW_OK);
    stw_rules_cache_use want[] = {STW_RULES_CACHE_STORED,
                                  STW_RULES_CACHE_LOADED};
    for (int i = 0; i < 2; i++) {
        stw_rules *r = NULL;
        ck_assert_int_eq(stw_rules_create(ro, &r, &err), STW_OK);
        const char *why = NULL;
        ck_assert_int_eq(stw_rules_cache_state(r, &why), want[i]);
        ck_assert_str_eq(why, "");
        ck_assert_str_eq(stw_rules_version(r), stw_rules_version(rules));
        ck_assert_uint_eq(stw_rules_count(r), stw_rules_count(rules));
        stw_rules_destroy(r);
    }
    ck_assert_int_eq(stw_rules_options_set_cache_dir(ro, NULL, &err), STW_OK);
    stw_rules *r = NULL;
    ck_assert_int_eq(stw_rules_create(ro, &r, &err), STW_OK);
    ck_assert_int_eq(stw_rules_cache_state(r, NULL), STW_RULES_CACHE_OFF);
    stw_rules_destroy(r);
    ck_assert_int_eq(stw_rules_cache_state(rules, NULL), STW_RULES_CACHE_OFF);
    stw_rules_options_destroy(ro);
    free(dir);
}
END_TEST

START_TEST(test_render_every_format_and_reject_unknown)
{
    stw_store *store;
    stw_error err = {0};
    ck_assert_int_eq(stw_store_open(NULL, &store, &err), STW_OK);
    mem_stream m;
    load_demo(&m);
    stw_results *res;
    ck_assert_int_eq(scan_stream(store, &m, NULL, &res, &err), STW_OK);
    stw_report_options *ro;
    ck_assert_int_eq(stw_report_options_create(&ro, &err), STW_OK);
    stw_report_options_set_rules(ro, rules);
    stw_report_options_set_remediation(ro, true);
    const char *names[] = {"table", "json", "sarif", "html"};
    for (size_t i = 0; i < 4; i++) {
        stw_report_format f;
        ck_assert_int_eq(stw_report_format_parse(names[i], &f), STW_OK);
        char *buf = NULL;
        size_t n = 0;
        FILE *out = open_memstream(&buf, &n);
        ck_assert_int_eq(stw_report_render(res, f, ro, out, &err), STW_OK);
        fclose(out);
        ck_assert_ptr_nonnull(strstr(buf, "app/id_rsa"));
        free(buf);
    }
    ck_assert_int_eq(
        stw_report_render(res, (stw_report_format)9, ro, stdout, &err),
        STW_ERR_USAGE);
    stw_report_options_destroy(ro);
    stw_results_destroy(res);
    free(m.data);
    stw_store_close(store);
}
END_TEST

/* A store holding one stream scan of the demo image (transferred). */
static stw_store *demo_store(const char *path)
{
    stw_store *store;
    stw_error err = {0};
    ck_assert_int_eq(stw_store_open(path, &store, &err), STW_OK);
    mem_stream m;
    load_demo(&m);
    stw_results *res;
    ck_assert_int_eq(scan_stream(store, &m, NULL, &res, &err), STW_OK);
    stw_results_destroy(res);
    free(m.data);
    return store;
}

START_TEST(test_records_are_filled_as_far_as_the_caller_s_size)
{
    stw_error err = {0};
    stw_store *store = demo_store(NULL);
    stw_db_stats full = {.size = sizeof full};
    ck_assert_int_eq(stw_store_read_stats(store, &full, &err), STW_OK);
    ck_assert_int_eq(full.scans, 1);
    ck_assert_int_eq(full.image_refs, 1);
    ck_assert_int_ge(full.findings, 5);
    /* A program that knew only the scan count: nothing past it changes. */
    stw_db_stats older;
    memset(&older, 0x5a, sizeof older);
    older.size = offsetof(stw_db_stats, images);
    ck_assert_int_eq(stw_store_read_stats(store, &older, &err), STW_OK);
    ck_assert_int_eq(older.scans, 1);
    ck_assert_uint_eq(older.size, offsetof(stw_db_stats, images));
    ck_assert_int_eq(older.images, (int64_t)0x5a5a5a5a5a5a5a5aLL);
    stw_db_stats unset = {0};
    ck_assert_int_eq(stw_store_read_stats(store, &unset, &err), STW_ERR_USAGE);
    stw_db_pruned p = {.size = sizeof p};
    ck_assert_int_eq(stw_store_prune_older(store, 86400, false, &p, &err),
                     STW_OK);
    ck_assert_int_eq(p.scans + p.images + p.layers + p.findings, 0);
    ck_assert_int_eq(stw_store_prune_older(store, -1, false, NULL, &err),
                     STW_ERR_USAGE);
    /* Refused for the record's missing size before anything is removed:
     * the scan (finished, so age 0 would prune it) is still there. */
    stw_db_pruned p_unset = {0};
    ck_assert_int_eq(stw_store_prune_older(store, 0, false, &p_unset, &err),
                     STW_ERR_USAGE);
    ck_assert_int_eq(stw_store_read_stats(store, &full, &err), STW_OK);
    ck_assert_int_eq(full.scans, 1);
    stw_store_close(store);
}
END_TEST

START_TEST(test_merge_adds_a_file_once)
{
    stw_error err = {0};
    char *dir = tu_mkdtemp("api-merge");
    char *path = tu_path(dir, "in.db");
    stw_store_close(demo_store(path));
    stw_store *out;
    ck_assert_int_eq(stw_store_open(NULL, &out, &err), STW_OK);
    /* A record without its size is refused before anything is merged. */
    stw_db_merged c = {0};
    ck_assert_int_eq(stw_store_merge_file(out, path, &c, &err), STW_ERR_USAGE);
    c.size = sizeof c;
    ck_assert_int_eq(stw_store_merge_file(out, path, &c, &err), STW_OK);
    ck_assert_int_eq(c.scans, 1);
    ck_assert_int_eq(c.layers, 3);
    ck_assert_int_eq(c.waiting, 0);
    ck_assert_int_eq(stw_store_merge_file(out, path, &c, &err), STW_OK);
    ck_assert_int_eq(c.scans + c.layers + c.findings + c.images, 0);
    stw_store_close(out);
    unlink(path);
    rmdir(dir);
    free(path);
    free(dir);
}
END_TEST

START_TEST(test_leak_report_accessors_stay_safe_past_the_end)
{
    stw_error err = {0};
    stw_store *store = demo_store(NULL);
    stw_leak_report *lr;
    ck_assert_int_eq(stw_store_leaks_by_layer(store, "no-such-image:*",
                                              STW_SEV_INFO, &lr, &err),
                     STW_OK);
    ck_assert_uint_eq(stw_leak_report_layer_count(lr), 0);
    ck_assert_ptr_null(stw_leak_report_layer(lr, 0));
    stw_leak_report_destroy(lr);
    ck_assert_int_eq(
        stw_store_leaks_by_layer(store, NULL, STW_SEV_INFO, &lr, &err), STW_OK);
    size_t n = stw_leak_report_layer_count(lr);
    ck_assert_uint_ge(n, 2);
    const stw_leak_layer *l = stw_leak_report_layer(lr, 0);
    int64_t sum = 0;
    for (int sev = 0; sev < STW_SEV_COUNT_; sev++)
        sum += stw_leak_layer_findings_at(l, (stw_severity)sev);
    ck_assert_int_eq(sum, stw_leak_layer_findings(l));
    ck_assert_int_eq(stw_leak_layer_findings_at(l, (stw_severity)99), 0);
    ck_assert_ptr_null(stw_leak_layer_image(l, stw_leak_layer_image_count(l)));
    stw_leak_report_destroy(lr);
    stw_leak_report_destroy(NULL);
    stw_store_close(store);
}
END_TEST

static stw_status count_match(void *ctx, const stw_match *m)
{
    ck_assert_ptr_nonnull(stw_match_excerpt(m));
    ++*(size_t *)ctx;
    return STW_OK;
}

START_TEST(test_matcher_scans_a_buffer_and_refuses_null)
{
    stw_error err = {0};
    stw_matcher *m = NULL;
    ck_assert_int_eq(stw_matcher_create(rules, &m, &err), STW_OK);
    const char *path = NULL;
    const char *tp = stw_rules_rule_example(rules, 0, true, 0, &path);
    ck_assert_ptr_nonnull(tp);
    size_t hits = 0;
    ck_assert_int_eq(
        stw_matcher_scan(m, path, tp, strlen(tp), count_match, &hits, &err),
        STW_OK);
    ck_assert_uint_ge(hits, 1);
    ck_assert_int_eq(
        stw_matcher_scan(m, path, tp, strlen(tp), NULL, NULL, &err),
        STW_ERR_USAGE);
    ck_assert_int_eq(
        stw_matcher_scan(m, path, NULL, 1, count_match, &hits, &err),
        STW_ERR_USAGE);
    ck_assert_ptr_null(
        stw_rules_rule_example(rules, stw_rules_count(rules), true, 0, NULL));
    stw_matcher_destroy(m);
    stw_matcher_destroy(NULL);
}
END_TEST

static bool keep_rsa(void *ctx, const stw_results *r,
                     const stw_result_finding *f)
{
    (void)ctx, (void)r;
    return strcmp(stw_result_finding_rule(f), "rsa-private-key") == 0;
}

static const char *fake_secret(void *ctx, const char *fingerprint)
{
    (void)fingerprint;
    return ctx;
}

START_TEST(test_retain_and_the_table_s_secret_lookup)
{
    stw_error err = {0};
    stw_store *store;
    ck_assert_int_eq(stw_store_open(NULL, &store, &err), STW_OK);
    mem_stream m;
    load_demo(&m);
    stw_results *res;
    ck_assert_int_eq(scan_stream(store, &m, NULL, &res, &err), STW_OK);
    size_t n = stw_results_finding_count(res);
    ck_assert_uint_eq(stw_results_retain(res, keep_rsa, NULL), n - 1);
    ck_assert_uint_eq(stw_results_finding_count(res), 1);
    stw_report_options *ro;
    ck_assert_int_eq(stw_report_options_create(&ro, &err), STW_OK);
    stw_report_options_set_verbose(ro, true);
    stw_report_options_set_secret_lookup(ro, fake_secret, "PLAIN-TEXT-42");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ck_assert_int_eq(stw_report_render(res, STW_REPORT_TABLE, ro, out, &err),
                     STW_OK);
    fclose(out);
    ck_assert_ptr_nonnull(strstr(buf, "PLAIN-TEXT-42"));
    free(buf);
    /* JSON never shows a secret, whatever the options. */
    buf = NULL;
    out = open_memstream(&buf, &len);
    ck_assert_int_eq(stw_report_render(res, STW_REPORT_JSON, ro, out, &err),
                     STW_OK);
    fclose(out);
    ck_assert_ptr_null(strstr(buf, "PLAIN-TEXT-42"));
    free(buf);
    stw_report_options_destroy(ro);
    stw_results_destroy(res);
    free(m.data);
    stw_store_close(store);
}
END_TEST

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_version_macros_match_the_library);
    tcase_add_test(tc, test_stream_scan_finds_what_a_path_scan_finds);
    tcase_add_test(tc, test_stream_reader_runs_on_the_calling_thread);
    tcase_add_test(tc,
                   test_reader_failure_ends_scan_with_its_status_and_message);
    tcase_add_test(tc, test_cancel_half_way_stops_with_cancelled);
    tcase_add_test(tc, test_options_refuse_bad_values_at_the_setter);
    tcase_add_test(tc, test_rules_disable_and_accessors);
    tcase_add_test(tc, test_rules_cache_dir_stores_then_loads);
    tcase_add_test(tc, test_render_every_format_and_reject_unknown);
    tcase_add_test(tc, test_records_are_filled_as_far_as_the_caller_s_size);
    tcase_add_test(tc, test_merge_adds_a_file_once);
    tcase_add_test(tc, test_leak_report_accessors_stay_safe_past_the_end);
    tcase_add_test(tc, test_retain_and_the_table_s_secret_lookup);
    tcase_add_test(tc, test_matcher_scans_a_buffer_and_refuses_null);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    stw_error err = {0};
    if (stw_rules_create(NULL, &rules, &err) != STW_OK) {
        fprintf(stderr, "test_api: %s\n", err.msg);
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(api_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    stw_rules_destroy(rules);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
