/* embed.c - an embedder of libstowaway built against the installed tree
 * alone (tests/install/test_install.sh): stowaway/stowaway.h and
 * `pkg-config --cflags --libs stowaway`, nothing else. It scans the demo
 * image twice - by path, and as a byte stream through a read callback, as
 * a program receiving `docker save` output would - and checks what both
 * found; then that a cancelled scan stops with STW_ERR_CANCELLED; then
 * what stowaway/db.h and batch.h say of the store it wrote (statistics,
 * the by-layer leak report, a prune that removes nothing) and a rule's
 * self-test through a matcher. Prints one line per failed check and exits
 * 1 if any failed. */
#include <stowaway/stowaway.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "embed: check failed: %s: ", #cond);               \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            failures++;                                                        \
        }                                                                      \
    } while (0)

/* A stream the library pulls: a FILE* read in blocks it does not own. */
typedef struct file_reader {
    FILE *f;
    char buf[64 * 1024];
} file_reader;

static stw_status read_file(void *ctx, const void **buf, size_t *len,
                            stw_error *err)
{
    file_reader *r = ctx;
    *len = fread(r->buf, 1, sizeof(r->buf), r->f);
    *buf = r->buf;
    if (*len == 0 && ferror(r->f)) {
        err->status = STW_ERR_IO;
        snprintf(err->msg, sizeof(err->msg), "read failed");
        return STW_ERR_IO;
    }
    return STW_OK;
}

static int always_cancel(void *ctx)
{
    (void)ctx;
    return 1;
}

/* The demo image's findings: a setuid su, an AWS key pair in app/.env, a
 * GitHub token in the config, and an RSA key a later layer deleted. */
static void check_results(const stw_results *res, const char *how)
{
    size_t n = stw_results_finding_count(res);
    CHECK(n == 5, "%s: %zu findings", how, n);
    CHECK(stw_results_image_count(res) == 1, "%s: images", how);
    CHECK(stw_results_error_count(res) == 0, "%s: errors", how);
    const stw_result_image *im = stw_results_image(res, 0);
    CHECK(im && stw_result_image_layer_count(im) == 3, "%s: layers", how);
    int aws = 0, rsa = 0;
    for (size_t i = 0; i < n; i++) {
        const stw_result_finding *f = stw_results_finding(res, i);
        const char *rule = stw_result_finding_rule(f);
        const char *path = stw_result_finding_path(f);
        if (!strcmp(rule, "aws-access-key-id") && !strcmp(path, "app/.env")) {
            aws++;
            CHECK(stw_result_finding_visible(f), "%s: .env visible", how);
            CHECK(strlen(stw_result_finding_fingerprint(f)) == 32,
                  "%s: fingerprint", how);
            CHECK(strstr(stw_result_finding_excerpt(f), "AKIA") != NULL,
                  "%s: excerpt %s", how, stw_result_finding_excerpt(f));
        }
        if (!strcmp(rule, "rsa-private-key") && !strcmp(path, "app/id_rsa")) {
            rsa++;
            CHECK(!stw_result_finding_visible(f) &&
                      stw_result_finding_removed_in_layer(f) > 0,
                  "%s: id_rsa is deleted by a later layer", how);
            CHECK(stw_result_finding_kind(f) == STW_KIND_PRIVATE_KEY,
                  "%s: kind", how);
        }
    }
    CHECK(aws == 1 && rsa == 1, "%s: aws %d rsa %d", how, aws, rsa);
    CHECK(stw_results_count_at_least(res, STW_SEV_HIGH, false) <
              stw_results_count_at_least(res, STW_SEV_HIGH, true),
          "%s: the deleted key counts only with hidden findings", how);
}

/* Scans the image into a new scan of store, by path or by stream. */
static stw_results *scan_once(const stw_rules *rules, stw_store *store,
                              const char *image, int by_stream)
{
    stw_error err = {0};
    int64_t id = 0;
    stw_results *res = NULL;
    stw_scan_options *opt = NULL;
    if (stw_scan_options_create(&opt, &err) != STW_OK ||
        stw_store_begin_scan(store, stw_version_string(),
                             stw_rules_version(rules), "embed", &id,
                             &err) != STW_OK) {
        fprintf(stderr, "embed: %s\n", err.msg);
        exit(1);
    }
    stw_scan_options_set_jobs(opt, 2);
    stw_status st;
    if (by_stream) {
        file_reader *r = malloc(sizeof(*r));
        if (!r || !(r->f = fopen(image, "rb"))) {
            fprintf(stderr, "embed: cannot open %s\n", image);
            exit(1);
        }
        st = stw_scan_read(rules, store, id, "demo", read_file, r, opt, &err);
        fclose(r->f);
        free(r);
    } else {
        st = stw_scan_target(rules, store, id, image, opt, &err);
    }
    stw_scan_options_destroy(opt);
    CHECK(st == STW_OK, "scan: %s", err.msg);
    if (stw_store_end_scan(store, id, &err) != STW_OK ||
        stw_store_load_scan(store, id, &res, &err) != STW_OK) {
        fprintf(stderr, "embed: %s\n", err.msg);
        exit(1);
    }
    return res;
}

/* Counts the matches of one rule; a stw_match_fn. */
typedef struct rule_hits {
    const char *rule;
    size_t n;
} rule_hits;

static stw_status count_rule(void *ctx, const stw_match *m)
{
    rule_hits *h = ctx;
    if (!strcmp(stw_match_rule(m), h->rule)) {
        h->n++;
        CHECK(stw_match_severity(m) >= STW_SEV_HIGH, "%s severity", h->rule);
    }
    return STW_OK;
}

/* A rule's own examples through a matcher, as `stowaway rules test`
 * runs them: the first that must match does, the first that must not
 * does not. */
static void check_self_test(const stw_rules *rules)
{
    stw_error err = {0};
    stw_matcher *m = NULL;
    CHECK(stw_matcher_create(rules, &m, &err) == STW_OK, "matcher: %s",
          err.msg);
    size_t i = 0, n = stw_rules_count(rules);
    while (i < n && strcmp(stw_rules_rule_id(rules, i), "aws-access-key-id"))
        i++;
    CHECK(i < n, "no aws-access-key-id rule");
    for (int match = 1; m && i < n && match >= 0; match--) {
        const char *path = NULL;
        const char *text = stw_rules_rule_example(rules, i, match, 0, &path);
        CHECK(text && path, "aws-access-key-id: example %d", match);
        rule_hits h = {"aws-access-key-id", 0};
        CHECK(!text || stw_matcher_scan(m, path, text, strlen(text), count_rule,
                                        &h, &err) == STW_OK,
              "scan: %s", err.msg);
        CHECK(h.n == (size_t)match, "example %d: %zu matches", match, h.n);
    }
    CHECK(stw_rules_rule_example(rules, i, true, 100000, NULL) == NULL,
          "an example past the end");
    stw_matcher_destroy(m);
}

/* What stowaway/db.h and batch.h tell of the store scan_once() wrote. */
static void check_admin(stw_store *store)
{
    stw_error err = {0};
    stw_db_stats st = {.size = sizeof st};
    CHECK(stw_store_read_stats(store, &st, &err) == STW_OK, "stats: %s",
          err.msg);
    CHECK(st.scans == 3 && st.image_refs == 1 && st.layers >= 3,
          "stats: %lld scans, %lld refs, %lld layers", (long long)st.scans,
          (long long)st.image_refs, (long long)st.layers);
    int64_t by_sev = 0;
    for (int s = 0; s < STW_SEV_COUNT_; s++)
        by_sev += st.by_severity[s];
    CHECK(st.findings >= 5 && by_sev == st.findings,
          "stats: %lld findings, %lld by severity", (long long)st.findings,
          (long long)by_sev);
    CHECK(st.first_scan[0] && st.last_scan[0], "stats: scan times");

    stw_leak_report *lr = NULL;
    CHECK(stw_store_leaks_by_layer(store, NULL, STW_SEV_LOW, &lr, &err) ==
              STW_OK,
          "by layer: %s", err.msg);
    size_t n = stw_leak_report_layer_count(lr), hidden = 0;
    CHECK(n >= 2, "by layer: %zu layers", n);
    for (size_t i = 0; i < n; i++) {
        const stw_leak_layer *l = stw_leak_report_layer(lr, i);
        const stw_leak_image *im = stw_leak_layer_image(l, 0);
        CHECK(!strncmp(stw_leak_layer_digest(l), "sha256:", 7), "digest");
        CHECK(stw_leak_layer_image_count(l) == 1 && im &&
                  !strcmp(stw_leak_image_ref(im), "stowaway/demo:1") &&
                  stw_leak_image_layer(im) >= 0,
              "by layer: image of layer %zu: %s", i,
              im ? stw_leak_image_ref(im) : "none");
        hidden += stw_leak_layer_hidden(l) > 0;
    }
    CHECK(hidden == 1, "by layer: %zu layers with hidden findings", hidden);
    CHECK(stw_leak_report_layer(lr, n) == NULL, "a layer past the end");
    stw_leak_report_destroy(lr);

    /* A year: nothing here is that old. */
    stw_db_pruned p = {.size = sizeof p};
    CHECK(stw_store_prune_older(store, 365 * 86400, false, &p, &err) ==
                  STW_OK &&
              p.scans == 0 && p.layers == 0,
          "prune: %s", err.msg);
    unsigned k = 0, sn = 0;
    CHECK(stw_shard_parse("2/8", &k, &sn, &err) == STW_OK && k == 2 && sn == 8,
          "shard: %s", err.msg);
    CHECK(stw_shard_parse("9/8", &k, &sn, &err) == STW_ERR_USAGE, "shard 9/8");
    int64_t t = 0;
    CHECK(stw_batch_parse_time("2024-05-01", &t, &err) == STW_OK &&
              t == 1714521600,
          "time: %s", err.msg);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: embed IMAGE.tar\n");
        return 2;
    }
    CHECK(stw_version_number() == STW_VERSION_NUMBER, "%u vs %d",
          stw_version_number(), STW_VERSION_NUMBER);
    stw_error err = {0};
    stw_rules *rules = NULL;
    stw_store *store = NULL;
    if (stw_rules_create(NULL, &rules, &err) != STW_OK ||
        stw_store_open(":memory:", &store, &err) != STW_OK) {
        fprintf(stderr, "embed: %s\n", err.msg);
        return 1;
    }
    CHECK(stw_rules_count(rules) > 10, "%zu rules", stw_rules_count(rules));

    stw_results *res = scan_once(rules, store, argv[1], 0);
    check_results(res, "by path");
    FILE *sink = fopen("/dev/null", "w");
    CHECK(sink && stw_report_render(res, STW_REPORT_SARIF, NULL, sink, &err) ==
                      STW_OK,
          "render: %s", err.msg);
    if (sink)
        fclose(sink);
    stw_results_destroy(res);

    /* Read once, forward: legacy `docker save` names no digest before
     * the bytes, so nothing can be reused and every layer is read. */
    res = scan_once(rules, store, argv[1], 1);
    check_results(res, "by stream");
    CHECK(stw_results_layers_scanned(res) + stw_results_layers_cached(res) == 3,
          "stream: %llu layers read, %llu reused",
          (unsigned long long)stw_results_layers_scanned(res),
          (unsigned long long)stw_results_layers_cached(res));
    stw_results_destroy(res);

    stw_scan_options *opt = NULL;
    int64_t id = 0;
    if (stw_scan_options_create(&opt, &err) != STW_OK ||
        stw_store_begin_scan(store, stw_version_string(),
                             stw_rules_version(rules), "cancel", &id,
                             &err) != STW_OK)
        return 1;
    stw_scan_options_set_cancel(opt, always_cancel, NULL);
    stw_status st = stw_scan_target(rules, store, id, argv[1], opt, &err);
    CHECK(st == STW_ERR_CANCELLED, "cancel: %d %s", (int)st, err.msg);
    stw_scan_options_destroy(opt);
    stw_store_end_scan(store, id, &err);

    check_admin(store);
    check_self_test(rules);
    stw_store_close(store);
    stw_rules_destroy(rules);
    if (failures)
        return 1;
    printf("embed: ok\n");
    return 0;
}
