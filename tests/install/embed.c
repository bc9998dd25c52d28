/* embed.c - an embedder of libstowaway built against the installed tree
 * alone (tests/install/test_install.sh): stowaway/stowaway.h and
 * `pkg-config --cflags --libs stowaway`, nothing else. It scans the demo
 * image twice - by path, and as a byte stream through a read callback, as
 * a program receiving `docker save` output would - and checks what both
 * found; then that a cancelled scan stops with STW_ERR_CANCELLED. Prints
 * one line per failed check and exits 1 if any failed. */
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

    stw_store_close(store);
    stw_rules_destroy(rules);
    if (failures)
        return 1;
    printf("embed: ok\n");
    return 0;
}
