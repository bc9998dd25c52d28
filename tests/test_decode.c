/* test_decode.c - decode and rescan: the base64 values of a Kubernetes
 * Secret (alone, or in a List), a Secret's stringData, and the auths of a
 * Docker config (config.json, .dockercfg, a Secret's .dockerconfigjson)
 * go through the content rules; each finding is at the manifest's line,
 * names the key, and hashes the decoded credential; however the file is
 * fed. ConfigMaps and placeholder values give nothing. */
#include "decode.h"
#include "limits.h"
#include "matcher.h"
#include "rules.h"
#include "testutil.h"

#include <check.h>
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXF 16

typedef struct hit {
    char rule[65], sha[65], detail[256];
    int64_t line;
    stw_severity severity;
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
    snprintf(x->detail, sizeof(x->detail), "%s", f->detail ? f->detail : "");
    x->line = f->line;
    x->severity = f->severity;
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

/* Scans text as the file at path, whole; then fed byte by byte and split
 * in two at every 7th offset, which must give the same findings. */
static void scan(const char *path, const char *text, hits *out)
{
    stw_error err = {0};
    size_t n = strlen(text);
    memset(out, 0, sizeof(*out));
    ck_assert_msg(stw_matcher_scan_buffer(matcher, path, text, n, collect, out,
                                          &err) == STW_OK,
                  "%s", err.msg);
    for (size_t at = 0; at <= n; at += at == 0 ? 1 : 7) {
        hits again = {0};
        ck_assert_int_eq(
            stw_matcher_begin(matcher, path, n, collect, &again, &err), STW_OK);
        if (at == 1) { /* byte by byte */
            for (size_t i = 0; i < n; i++)
                ck_assert_int_eq(stw_matcher_feed(matcher, text + i, 1, &err),
                                 STW_OK);
        } else {
            ck_assert_int_eq(stw_matcher_feed(matcher, text, at, &err), STW_OK);
            ck_assert_int_eq(stw_matcher_feed(matcher, text + at, n - at, &err),
                             STW_OK);
        }
        ck_assert_int_eq(stw_matcher_end(matcher, &err), STW_OK);
        ck_assert_uint_eq(again.n, out->n);
        for (size_t i = 0; i < out->n; i++) {
            ck_assert_str_eq(again.v[i].rule, out->v[i].rule);
            ck_assert_str_eq(again.v[i].sha, out->v[i].sha);
            ck_assert_str_eq(again.v[i].detail, out->v[i].detail);
            ck_assert_int_eq(again.v[i].line, out->v[i].line);
        }
    }
}

/* The finding of rule at line, which must exist; its detail and secret
 * hash must be these. */
static void expect(const hits *h, const char *rule, int64_t line,
                   const char *detail, const char *sha)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->v[i].rule, rule) != 0 || h->v[i].line != line)
            continue;
        ck_assert_str_eq(h->v[i].detail, detail);
        if (sha)
            ck_assert_str_eq(h->v[i].sha, sha);
        return;
    }
    for (size_t i = 0; i < h->n; i++)
        fprintf(stderr, "  found %s:%lld %s\n", h->v[i].rule,
                (long long)h->v[i].line, h->v[i].detail);
    ck_abort_msg("no %s finding at line %lld", rule, (long long)line);
}

/* A GitHub token with a valid checksum and a postgres URL, base64. */
#define GHP     "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"
#define GHP_B64 "Z2hwX3NRZmk2U054a3NFUTRnRGVoVDc5cEk5TWU4TTJLeTFkOTN5Nw=="
#define GHP_SHA                                                                \
    "07bd674169abd96e9996c81372a9b4df6fed35bcbbfb19a712a3ef5eea357ada"
/* postgres://orders:Xk9mPq2vLr8wTz4s@db.prod.internal:5432/orders */
#define PG_B64                                                                 \
    "cG9zdGdyZXM6Ly9vcmRlcnM6WGs5bVBxMnZMcjh3VHo0c0BkYi5wcm9kLmludGVybmFs"     \
    "OjU0MzIvb3JkZXJz"
#define PG_SHA /* of the password */                                           \
    "a7233872d0021e6070edf689cbd7ba13de77aa48eb74428a7b4278dc7c5256b6"
/* ci-bot:Vq8zK3mT7wLp2xRn */
#define AUTH_B64 "Y2ktYm90OlZxOHpLM21UN3dMcDJ4Um4="
#define AUTH_SHA /* of the password */                                         \
    "10f933fa293991a973f49b87f133f7f73b42500f2f8fc56ad1797f4b14cc60b6"

START_TEST(test_secret_data_found_at_its_line_naming_the_key)
{
    static const char manifest[] = "apiVersion: v1\n"
                                   "kind: Secret\n"
                                   "metadata:\n"
                                   "  name: app-credentials\n"
                                   "  namespace: prod\n"
                                   "type: Opaque\n"
                                   "data:\n"
                                   "  GITHUB_TOKEN: " GHP_B64 "\n"
                                   "  DATABASE_URL: " PG_B64 "\n"
                                   "  username: YWRtaW4=\n";
    hits h;
    scan("deploy/app-secret.yaml", manifest, &h);
    expect(&h, "github-pat", 8, "data.GITHUB_TOKEN (base64)", GHP_SHA);
    expect(&h, "postgres-url-password", 9, "data.DATABASE_URL (base64)",
           PG_SHA);
    /* The decoded findings speak for the values: no second finding of
     * their encoded form, nothing for the user name. */
    ck_assert_uint_eq(h.n, 2);
}
END_TEST

START_TEST(test_secret_recognised_by_content_not_name)
{
    static const char manifest[] = "# rendered by helm\n"
                                   "---\n"
                                   "apiVersion: v1\n"
                                   "data:\n"
                                   "  token: \"" GHP_B64 "\"\n"
                                   "kind: Secret\n"
                                   "metadata: {name: x}\n";
    hits h;
    scan("srv/render.out", manifest, &h);
    expect(&h, "github-pat", 5, "data.token (base64)", GHP_SHA);
    ck_assert_uint_eq(h.n, 1);
}
END_TEST

START_TEST(test_string_data_named_by_key_as_is)
{
    static const char manifest[] = "apiVersion: v1\n"
                                   "kind: Secret\n"
                                   "metadata:\n"
                                   "  name: s\n"
                                   "stringData:\n"
                                   "  notes: rotate monthly\n"
                                   "  GH: " GHP "\n";
    hits h;
    scan("k8s/s.yaml", manifest, &h);
    expect(&h, "github-pat", 7, "stringData.GH", GHP_SHA);
    ck_assert_uint_eq(h.n, 1);
}
END_TEST

START_TEST(test_list_of_secrets_names_the_item)
{
    static const char yaml[] = "apiVersion: v1\n"
                               "items:\n"
                               "- apiVersion: v1\n"
                               "  kind: ConfigMap\n"
                               "  data:\n"
                               "    token: " GHP_B64 "\n"
                               "- apiVersion: v1\n"
                               "  data:\n"
                               "    GITHUB_TOKEN: " GHP_B64 "\n"
                               "  kind: Secret\n"
                               "  metadata:\n"
                               "    name: ci\n"
                               "kind: List\n";
    hits h;
    scan("backup/secrets.yaml", yaml, &h);
    expect(&h, "github-pat", 9, "items[1].data.GITHUB_TOKEN (base64)", GHP_SHA);
    /* The ConfigMap's value is no Secret's: it stays as written (base64
     * of a token is no token). */
    /* The ConfigMap's value is no Secret's: base64 of a token is no token,
     * and the regex of kubernetes-secret-data, which a ConfigMap's data
     * next to a Secret would fool, gives way to the decoder's reading. */
    ck_assert_uint_eq(h.n, 1);

    static const char json[] =
        "{\n"
        "  \"apiVersion\": \"v1\",\n"
        "  \"kind\": \"List\",\n"
        "  \"items\": [\n"
        "    {\"kind\": \"Secret\", \"metadata\": {\"name\": \"a\"},\n"
        "     \"data\": {\"DATABASE_URL\": \"" PG_B64 "\"}}\n"
        "  ]\n"
        "}\n";
    scan("backup/secrets.json", json, &h);
    expect(&h, "postgres-url-password", 6,
           "items[0].data.DATABASE_URL (base64)", PG_SHA);
    ck_assert_uint_eq(h.n, 1);
}
END_TEST

START_TEST(test_docker_config_auth_password_is_the_secret)
{
    static const char config[] = "{\n"
                                 "  \"auths\": {\n"
                                 "    \"registry.example.com\": {\n"
                                 "      \"auth\": \"" AUTH_B64 "\"\n"
                                 "    }\n"
                                 "  }\n"
                                 "}\n";
    hits h;
    scan("root/.docker/config.json", config, &h);
    expect(&h, "docker-config-auth", 4,
           "auths.registry.example.com.auth (base64)", AUTH_SHA);
    ck_assert_uint_eq(h.n, 1);

    /* The same file anywhere: recognised by its content. */
    scan("opt/ci/docker.json", config, &h);
    expect(&h, "docker-config-auth", 4,
           "auths.registry.example.com.auth (base64)", AUTH_SHA);
    ck_assert_uint_eq(h.n, 1);

    static const char legacy[] =
        "{\"https://index.docker.io/v1/\":{\"auth\":\"" AUTH_B64 "\","
        "\"email\":\"ci@example.com\"}}";
    scan("root/.dockercfg", legacy, &h);
    expect(&h, "dockercfg-auth", 1, "https://index.docker.io/v1/.auth (base64)",
           AUTH_SHA);
    ck_assert_uint_eq(h.n, 1);

    /* A token as the password is reported as the token it is. */
    static const char ghcr[] =
        "{\"auths\": {\"ghcr.io\": {\"auth\": "
        "\"b2N0bzpnaHBfc1FmaTZTTnhrc0VRNGdEZWhUNzlwSTlNZThNMkt5MWQ5M3k3\"}}}";
    scan("root/.docker/config.json", ghcr, &h);
    expect(&h, "github-pat", 1, "auths.ghcr.io.auth (base64)", GHP_SHA);
    ck_assert_uint_eq(h.n, 1);
}
END_TEST

START_TEST(test_pull_secret_dockerconfigjson_auth_decoded_twice)
{
    /* {"auths":{"registry.example.com":{"auth":base64(deploy:Tr0ub4dor-and-
     * 3-more)}}} */
    static const char manifest[] =
        "apiVersion: v1\n"
        "kind: Secret\n"
        "metadata:\n"
        "  name: regcred\n"
        "type: kubernetes.io/dockerconfigjson\n"
        "data:\n"
        "  .dockerconfigjson: "
        "eyJhdXRocyI6eyJyZWdpc3RyeS5leGFtcGxlLmNvbSI6eyJhdXRoIjoiWkdWd2JHOTVP"
        "bFJ5TUhWaU5HUnZjaTFoYm1RdE15MXRiM0psIn19fQ==\n";
    hits h;
    scan("deploy/regcred.yaml", manifest, &h);
    expect(&h, "docker-config-auth", 7,
           "data..dockerconfigjson (base64): "
           "auths.registry.example.com.auth (base64)",
           "90381284889406aafada50161fe8cc94e37649dd124721af85fa5c54d1d4c4cb");
    ck_assert_uint_eq(h.n, 1);
}
END_TEST

START_TEST(test_configmap_and_placeholder_secret_give_nothing)
{
    static const char cm[] = "apiVersion: v1\n"
                             "kind: ConfigMap\n"
                             "metadata:\n"
                             "  name: settings\n"
                             "data:\n"
                             "  LOG_LEVEL: debug\n"
                             "  FEATURES: YmV0YS1zZWFyY2gsbmV3LWNoZWNrb3V0\n";
    hits h;
    scan("deploy/cm.yaml", cm, &h);
    ck_assert_uint_eq(h.n, 0);

    /* changeme, your-api-key-here */
    static const char ph[] = "apiVersion: v1\n"
                             "kind: Secret\n"
                             "metadata:\n"
                             "  name: placeholder\n"
                             "type: Opaque\n"
                             "data:\n"
                             "  DB_PASSWORD: Y2hhbmdlbWU=\n"
                             "  API_KEY: eW91ci1hcGkta2V5LWhlcmU=\n";
    scan("deploy/secret.example.yaml", ph, &h);
    for (size_t i = 0; i < h.n; i++)
        fprintf(stderr, "  unexpected %s:%lld %s\n", h.v[i].rule,
                (long long)h.v[i].line, h.v[i].detail);
    ck_assert_uint_eq(h.n, 0);
}
END_TEST

START_TEST(test_secret_value_no_rule_knows_is_still_reported_decoded)
{
    /* A random password under a key no rule names: kubernetes-secret-data
     * reports it, at its line, as the credential it decodes to. */
    static const char manifest[] =
        "apiVersion: v1\n"
        "kind: Secret\n"
        "metadata:\n"
        "  name: rabbitmq\n"
        "data:\n"
        "  erlang-cookie: UVdLU1BMWE1aTlZCQ1RSRUhK\n";
    hits h;
    scan("deploy/rabbit.yaml", manifest, &h);
    /* sha256("QWKSPLXMZNVBCTREHJ") */
    expect(&h, "kubernetes-secret-data", 6, "data.erlang-cookie (base64)",
           "1c87012270a95464b3a9e677f8f21b8f7d453231b0f9bcb898f514321c67a38c");
    ck_assert_uint_eq(h.n, 1);
}
END_TEST

START_TEST(test_private_key_in_json_string_with_escapes)
{
    /* Not a GCP service account: any JSON string holding a PEM key. */
    const char *pem = NULL;
    for (size_t i = 0; i < stw_rules_count(rules) && !pem; i++) {
        stw_rule_info info;
        ck_assert_int_eq(stw_rules_info(rules, i, &info), STW_OK);
        const char *text, *path;
        if (strcmp(info.id, "rsa-private-key") == 0)
            for (size_t j = 0; !pem && stw_rules_example(rules, i, 1, j, &text,
                                                         &path) == STW_OK;
                 j++)
                if (strncmp(text, "-----BEGIN", 10) == 0)
                    pem = text;
    }
    ck_assert_ptr_nonnull(pem);
    /* {"tls": {"key": "<pem with \n escapes>"}} */
    size_t n = strlen(pem);
    char *json = malloc(2 * n + 64);
    size_t k = (size_t)sprintf(json, "{\n  \"tls\": {\"key\": \"");
    for (size_t i = 0; i < n; i++) {
        if (pem[i] == '\n') {
            json[k++] = '\\';
            json[k++] = 'n';
        } else {
            json[k++] = pem[i];
        }
    }
    strcpy(json + k, "\"}\n}\n");
    hits h, plain;
    scan("app/config.json", json, &h);
    scan("app/key.pem", pem, &plain);
    ck_assert_uint_eq(plain.n, 1);
    expect(&h, "rsa-private-key", 2, "", plain.v[0].sha);
    free(json);
}
END_TEST

START_TEST(test_decoded_bytes_bounded_per_file)
{
    /* A List of Secrets whose values add up to twice the bound. */
    size_t value = 4096, count = 2 * STW_MAX_DECODED_BYTES / 3072 + 2;
    size_t cap = count * (value + 64) + 64;
    char *text = malloc(cap);
    size_t k = (size_t)sprintf(text, "kind: SecretList\nitems:\n");
    for (size_t i = 0; i < count; i++) {
        k += (size_t)sprintf(text + k, "- data:\n    v%zu: ", i);
        memset(text + k, 'Q', value);
        k += value;
        text[k++] = '\n';
    }
    text[k] = 0;
    stw_decoded_set set = {0};
    stw_error err = {0};
    ck_assert_int_eq(stw_decode_manifests(text, k, &set, &err), STW_OK);
    ck_assert_uint_gt(set.n, 0);
    ck_assert_uint_lt(set.n, count);
    ck_assert_uint_le(set.bytes, STW_MAX_DECODED_BYTES);
    ck_assert_str_eq(set.v[0].detail, "items[0].data.v0 (base64)");
    ck_assert_int_eq(set.v[0].line, 4);
    stw_decoded_set_free(&set);
    free(text);
}
END_TEST

typedef struct gate_scan {
    const char *text;
    size_t len;
    bool hit;
} gate_scan;

static int on_gate(unsigned int id, unsigned long long from,
                   unsigned long long to, unsigned int flags, void *ctx)
{
    (void)from;
    (void)flags;
    gate_scan *g = ctx;
    g->hit |= stw_decode_gate_hit(id, g->text, g->len, (size_t)to);
    return 0;
}

/* The matcher asks the gate through its content scan: the expressions
 * must say yes exactly where the C test does, at the edges of both
 * shapes too (8 separators or 9, a word after "Secret", 7 base64 bytes
 * or 8, no closing quote, the end of the text). */
START_TEST(test_gate_expressions_agree_with_the_c_test)
{
    static const char *const texts[] = {
        "kind: Secret",
        "kind: Secret\n",
        "{\"kind\":\"Secret\"}",
        "kind:\t 'Secret' x",
        "kind        Secret",
        "kind         Secret",
        "xkind: Secret",
        "kind: Secrets",
        "kind: Secret_x",
        "kind: SecretList",
        "kind: Secret.",
        "Secret kind",
        "kind: secret",
        "type: Secret",
        "\"auth\": \"dXNlcjpwYXNz\"",
        "\"auth\" : \"YWJjZGVmZ2g=\"",
        "\"auth\":\t:\"QUJDREVGR0g\"",
        "\"auth\": \"YWJjZGVm\"",
        "\"auth\": \"YWJjZGV\"",
        "\"auth\": \"abc_defghijk\"",
        "\"auth\": \"QUJDREVGR0g",
        "\"auth\": \"QUJDREVGR0g x\"",
        "\"auth\":\n\"QUJDREVGR0g\"",
        "'auth': 'QUJDREVGR0g'",
        "\"author\": \"QUJDREVGR0g\"",
        "",
    };
    hs_database_t *db = NULL;
    hs_compile_error_t *ce = NULL;
    unsigned flags[STW_DECODE_GATES] = {0}, ids[STW_DECODE_GATES];
    for (unsigned i = 0; i < STW_DECODE_GATES; i++)
        ids[i] = i;
    ck_assert_int_eq(hs_compile_multi(stw_decode_gate_expr, flags, ids,
                                      STW_DECODE_GATES, HS_MODE_BLOCK, NULL,
                                      &db, &ce),
                     HS_SUCCESS);
    hs_scratch_t *scratch = NULL;
    ck_assert_int_eq(hs_alloc_scratch(db, &scratch), HS_SUCCESS);
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        gate_scan g = {texts[i], strlen(texts[i]), false};
        ck_assert_int_eq(
            hs_scan(db, g.text, (unsigned)g.len, 0, scratch, on_gate, &g),
            HS_SUCCESS);
        ck_assert_msg(g.hit == stw_decode_worth_trying(g.text, g.len),
                      "gate disagrees on text %zu", i);
    }
    hs_free_scratch(scratch);
    hs_free_database(db);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_secret_data_found_at_its_line_naming_the_key);
    tcase_add_test(tc, test_secret_recognised_by_content_not_name);
    tcase_add_test(tc, test_string_data_named_by_key_as_is);
    tcase_add_test(tc, test_list_of_secrets_names_the_item);
    tcase_add_test(tc, test_docker_config_auth_password_is_the_secret);
    tcase_add_test(tc, test_pull_secret_dockerconfigjson_auth_decoded_twice);
    tcase_add_test(tc, test_configmap_and_placeholder_secret_give_nothing);
    tcase_add_test(tc,
                   test_secret_value_no_rule_knows_is_still_reported_decoded);
    tcase_add_test(tc, test_private_key_in_json_string_with_escapes);
    tcase_add_test(tc, test_decoded_bytes_bounded_per_file);
    tcase_add_test(tc, test_gate_expressions_agree_with_the_c_test);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
