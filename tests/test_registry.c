/* test_registry.c - the registry client's pure parts: image references,
 * WWW-Authenticate challenges, docker config.json credentials and
 * credential-helper answers; plus the one-line error of an unreachable
 * registry. The client against a real server is tests/cli/test_registry.sh.
 */
#include "alloc_test.h"
#include "registry.h"
#include "registry_internal.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static stw_registry_ref parse_ok(const char *s)
{
    stw_registry_ref r;
    stw_error e = {0};
    ck_assert_msg(stw_registry_parse_ref(s, &r, &e) == STW_OK, "%s: %s", s,
                  e.msg);
    return r;
}

static void parse_bad(const char *s, const char *want_in_msg)
{
    stw_registry_ref r;
    stw_error e = {0};
    ck_assert_msg(stw_registry_parse_ref(s, &r, &e) == STW_ERR_USAGE,
                  "accepted '%s'", s);
    ck_assert_int_eq(e.status, STW_ERR_USAGE);
    ck_assert_msg(strstr(e.msg, want_in_msg), "'%s': message '%s' lacks '%s'",
                  s, e.msg, want_in_msg);
}

START_TEST(test_registry_ref_host_repo_tag)
{
    stw_registry_ref r = parse_ok("127.0.0.1:5000/team/app:1.2");
    ck_assert_str_eq(r.registry, "127.0.0.1:5000");
    ck_assert_str_eq(r.repository, "team/app");
    ck_assert_str_eq(r.tag, "1.2");
    ck_assert_str_eq(r.digest, "");
    ck_assert(r.explicit_registry);
    char buf[STW_REGISTRY_REF_MAX + 96];
    ck_assert_str_eq(stw_registry_ref_format(&r, buf, sizeof(buf)),
                     "127.0.0.1:5000/team/app:1.2");

    r = parse_ok("localhost/app");
    ck_assert_str_eq(r.registry, "localhost");
    ck_assert_str_eq(r.repository, "app");
    ck_assert_str_eq(r.tag, "latest");

    r = parse_ok("ghcr.io/org/deep/name");
    ck_assert_str_eq(r.registry, "ghcr.io");
    ck_assert_str_eq(r.repository, "org/deep/name");
    ck_assert_str_eq(r.tag, "latest");

    r = parse_ok("[::1]:5000/app:v1");
    ck_assert_str_eq(r.registry, "[::1]:5000");
    ck_assert_str_eq(r.repository, "app");
}
END_TEST

START_TEST(test_registry_ref_digest_and_prefixes)
{
    stw_registry_ref r = parse_ok("127.0.0.1:5000/app@sha256:" HEX64);
    ck_assert_str_eq(r.digest, "sha256:" HEX64);
    ck_assert_str_eq(r.tag, "");
    r = parse_ok("docker://127.0.0.1:5000/app:1@sha256:" HEX64);
    ck_assert_str_eq(r.tag, "1");
    ck_assert_str_eq(r.digest, "sha256:" HEX64);
    char buf[STW_REGISTRY_REF_MAX + 96];
    ck_assert_str_eq(stw_registry_ref_format(&r, buf, sizeof(buf)),
                     "127.0.0.1:5000/app:1@sha256:" HEX64);
    r = parse_ok("oci://reg.example:443/a/b:c");
    ck_assert_str_eq(r.registry, "reg.example:443");
    ck_assert_str_eq(r.repository, "a/b");
    /* a prefix makes even a Hub shorthand an explicit reference */
    r = parse_ok("docker://alpine");
    ck_assert(r.explicit_registry);
    ck_assert_str_eq(r.repository, "library/alpine");
}
END_TEST

START_TEST(test_registry_ref_docker_hub_shorthand)
{
    stw_registry_ref r = parse_ok("alpine:3.19");
    ck_assert_str_eq(r.registry, "docker.io");
    ck_assert_str_eq(r.repository, "library/alpine");
    ck_assert_str_eq(r.tag, "3.19");
    ck_assert(!r.explicit_registry);
    r = parse_ok("bitnami/redis");
    ck_assert_str_eq(r.registry, "docker.io");
    ck_assert_str_eq(r.repository, "bitnami/redis");
    ck_assert(!r.explicit_registry);
    r = parse_ok("docker.io/ubuntu");
    ck_assert_str_eq(r.repository, "library/ubuntu");
    ck_assert(r.explicit_registry);
    r = parse_ok("index.docker.io/library/busybox:1");
    ck_assert_str_eq(r.registry, "docker.io");
    ck_assert_str_eq(r.repository, "library/busybox");
    /* "host:port" alone is a Hub repository with a tag, as in docker */
    r = parse_ok("localhost:5000");
    ck_assert_str_eq(r.repository, "library/localhost");
    ck_assert_str_eq(r.tag, "5000");
}
END_TEST

START_TEST(test_registry_ref_rejects_malformed)
{
    parse_bad("", "empty");
    parse_bad("127.0.0.1:5000/App:1", "repository");
    parse_bad("127.0.0.1:5000/app/:1", "repository");
    parse_bad("127.0.0.1:5000//app", "repository");
    parse_bad("127.0.0.1:5000/-app", "repository");
    parse_bad("127.0.0.1:5000/app:", "tag");
    parse_bad("127.0.0.1:5000/app:.x", "tag");
    parse_bad("127.0.0.1:5000/app:a b", "tag");
    parse_bad("127.0.0.1:5000/app@sha256:abc", "malformed digest");
    parse_bad("127.0.0.1:5000/app@sha256:" HEX64 "00", "malformed digest");
    parse_bad("127.0.0.1:5000/app@sha512:" HEX64, "only sha256");
    parse_bad("127.0.0.1:99999x/app", "host");
    parse_bad("127.0.0.1:/app", "host");
    parse_bad("http://127.0.0.1:5000/app", "");
    parse_bad("app with space", "");
    char *longref = malloc(STW_REGISTRY_REF_MAX + 10);
    memset(longref, 'a', STW_REGISTRY_REF_MAX + 9);
    longref[STW_REGISTRY_REF_MAX + 9] = 0;
    parse_bad(longref, "longer than");
    free(longref);
    char tag[200] = "127.0.0.1:5000/app:";
    memset(tag + strlen(tag), 't', 129);
    parse_bad(tag, "tag");
}
END_TEST

START_TEST(test_registry_challenge_bearer)
{
    stw_registry_challenge c;
    stw_error e = {0};
    ck_assert_int_eq(
        stw_registry_parse_challenge(
            "Bearer realm=\"https://auth.example/token\",service=\"reg.example"
            "\",scope=\"repository:team/app:pull\"",
            &c, &e),
        STW_OK);
    ck_assert_str_eq(c.scheme, "bearer");
    ck_assert_str_eq(c.realm, "https://auth.example/token");
    ck_assert_str_eq(c.service, "reg.example");
    ck_assert_str_eq(c.scope, "repository:team/app:pull");
    ck_assert_str_eq(c.error, "");

    /* case, spaces, token (unquoted) values, escapes, unknown params */
    ck_assert_int_eq(stw_registry_parse_challenge(
                         "  BEARER  Realm = https://a/t , x=\"q\\\"uote\", "
                         "Service=\"s\\\\1\", error=\"insufficient_scope\"",
                         &c, &e),
                     STW_OK);
    ck_assert_str_eq(c.scheme, "bearer");
    ck_assert_str_eq(c.realm, "https://a/t");
    ck_assert_str_eq(c.service, "s\\1");
    ck_assert_str_eq(c.scope, "");
    ck_assert_str_eq(c.error, "insufficient_scope");
}
END_TEST

START_TEST(test_registry_challenge_basic_and_several)
{
    stw_registry_challenge c;
    stw_error e = {0};
    ck_assert_int_eq(
        stw_registry_parse_challenge("Basic realm=\"stowaway-test\"", &c, &e),
        STW_OK);
    ck_assert_str_eq(c.scheme, "basic");
    ck_assert_str_eq(c.realm, "stowaway-test");
    /* an unknown scheme first, then one we answer */
    ck_assert_int_eq(
        stw_registry_parse_challenge(
            "Negotiate abc==, Bearer realm=\"https://x/t\"", &c, &e),
        STW_OK);
    ck_assert_str_eq(c.scheme, "bearer");
    ck_assert_str_eq(c.realm, "https://x/t");
    ck_assert_int_eq(
        stw_registry_parse_challenge("Digest realm=\"x\", nonce=\"y\", "
                                     "Basic realm=\"z\"",
                                     &c, &e),
        STW_OK);
    ck_assert_str_eq(c.scheme, "basic");
    ck_assert_str_eq(c.realm, "z");
}
END_TEST

START_TEST(test_registry_challenge_rejects_unusable)
{
    stw_registry_challenge c;
    stw_error e = {0};
    ck_assert_int_eq(stw_registry_parse_challenge("", &c, &e), STW_ERR_FORMAT);
    ck_assert_int_eq(stw_registry_parse_challenge(NULL, &c, &e),
                     STW_ERR_FORMAT);
    ck_assert_int_eq(stw_registry_parse_challenge("Negotiate abc", &c, &e),
                     STW_ERR_FORMAT);
    ck_assert_int_eq(
        stw_registry_parse_challenge("Bearer service=\"x\"", &c, &e),
        STW_ERR_FORMAT);
    ck_assert(strstr(e.msg, "realm"));
    ck_assert_int_eq(
        stw_registry_parse_challenge("Bearer realm=\"https://x", &c, &e),
        STW_ERR_FORMAT);
    ck_assert(strstr(e.msg, "unterminated"));
    /* a realm longer than its buffer is an error, not a truncated URL */
    char big[3000] = "Bearer realm=\"https://x/";
    memset(big + strlen(big), 'a', 2000);
    strcat(big, "\"");
    ck_assert_int_eq(stw_registry_parse_challenge(big, &c, &e), STW_ERR_FORMAT);
    ck_assert(strstr(e.msg, "too long"));
}
END_TEST

static stw_registry_cred config_ok(const char *json, const char *registry)
{
    stw_registry_cred c;
    stw_error e = {0};
    ck_assert_msg(stw_registry_config_auth(json, strlen(json), registry, &c,
                                           &e) == STW_OK,
                  "%s", e.msg);
    return c;
}

START_TEST(test_registry_config_auths_base64)
{
    /* "alice:pa:ss" - a colon in the password belongs to the password */
    const char *j = "{\"auths\": {"
                    "\"other:5000\": {\"auth\": \"eDp5\"},"
                    "\"127.0.0.1:5000\": {\"auth\": \"YWxpY2U6cGE6c3M=\"}}}";
    stw_registry_cred c = config_ok(j, "127.0.0.1:5000");
    ck_assert_str_eq(c.username, "alice");
    ck_assert_str_eq(c.password, "pa:ss");
    ck_assert_ptr_null(c.helper);
    stw_registry_cred_clear(&c);
    ck_assert_ptr_null(c.username);
    ck_assert_ptr_null(c.password);

    /* a URL key with scheme and path, and unpadded base64 */
    c = config_ok("{\"auths\": {\"https://REG.example/v2/\": "
                  "{\"auth\": \"Ym9iOnB3\"}}}",
                  "reg.example");
    ck_assert_str_eq(c.username, "bob");
    ck_assert_str_eq(c.password, "pw");
    stw_registry_cred_clear(&c);
    c = config_ok("{\"auths\": {\"reg.example\": {\"auth\": \"Ym9iOnB3eA\"}}}",
                  "reg.example");
    ck_assert_str_eq(c.password, "pwx");
    stw_registry_cred_clear(&c);

    /* Docker Hub under its historical key */
    c = config_ok("{\"auths\": {\"https://index.docker.io/v1/\": "
                  "{\"username\": \"hub\", \"password\": \"tok\"}}}",
                  "docker.io");
    ck_assert_str_eq(c.username, "hub");
    ck_assert_str_eq(c.password, "tok");
    stw_registry_cred_clear(&c);

    /* a port is part of the key; a prefix is not a match */
    c = config_ok(j, "127.0.0.1");
    ck_assert_ptr_null(c.username);
    c = config_ok(j, "127.0.0.1:500");
    ck_assert_ptr_null(c.username);
    c = config_ok("{}", "127.0.0.1:5000");
    ck_assert_ptr_null(c.username);
    ck_assert_ptr_null(c.helper);
}
END_TEST

START_TEST(test_registry_config_helpers)
{
    const char *j = "{\"credsStore\": \"desktop\", \"credHelpers\": "
                    "{\"ecr.example\": \"ecr-login\"}, \"auths\": "
                    "{\"ecr.example\": {\"auth\": \"dTpw\"}}}";
    stw_registry_cred c = config_ok(j, "ecr.example");
    ck_assert_str_eq(c.helper, "ecr-login");
    /* auths are still read, as the fallback when the helper is absent */
    ck_assert_str_eq(c.username, "u");
    ck_assert_str_eq(c.password, "p");
    stw_registry_cred_clear(&c);
    c = config_ok(j, "other.example");
    ck_assert_str_eq(c.helper, "desktop");
    ck_assert_ptr_null(c.username);
    stw_registry_cred_clear(&c);
}
END_TEST

START_TEST(test_registry_config_rejects_malformed)
{
    stw_registry_cred c;
    stw_error e = {0};
    const char *bad[] = {
        "{\"auths\": {\"r\": {\"auth\": \"!!!!\"}}}",         /* not base64 */
        "{\"auths\": {\"r\": {\"auth\": \"bm9jb2xvbg==\"}}}", /* "nocolon" */
        "{\"auths\": {\"r\": {\"auth\": \"YQ\"}}}",       /* "a": no colon */
        "{\"auths\": {\"r\": {\"auth\": \"YQBiOmM=\"}}}", /* NUL inside */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(stw_registry_config_auth(bad[i], strlen(bad[i]), "r", &c,
                                               &e) == STW_ERR_FORMAT,
                      "accepted %s", bad[i]);
        ck_assert(strstr(e.msg, "not base64 of user:password"));
        ck_assert_ptr_null(c.username);
    }
    ck_assert_int_eq(stw_registry_config_auth("{\"auths\":", 9, "r", &c, &e),
                     STW_ERR_JSON);
    ck_assert_int_eq(stw_registry_config_auth("[]", 2, "r", &c, &e),
                     STW_ERR_JSON);
}
END_TEST

START_TEST(test_registry_helper_output)
{
    stw_registry_cred c = {0};
    stw_error e = {0};
    const char *ok =
        "{\"ServerURL\":\"r\",\"Username\":\"u\",\"Secret\":\"s\"}";
    ck_assert_int_eq(stw_registry_parse_helper_output(ok, strlen(ok), &c, &e),
                     STW_OK);
    ck_assert_str_eq(c.username, "u");
    ck_assert_str_eq(c.password, "s");
    const char *bad = "credentials not found in native keychain";
    ck_assert_int_eq(stw_registry_parse_helper_output(bad, strlen(bad), &c, &e),
                     STW_ERR_JSON);
    ck_assert_str_eq(c.username, "u"); /* unchanged on failure */
    stw_registry_cred_clear(&c);
}
END_TEST

START_TEST(test_registry_open_unreachable_is_one_line_error)
{
    /* Port 1 on loopback: nothing listens, the connection is refused at
     * once. One try, so no back-off. */
    const char *insecure[] = {"127.0.0.1:1"};
    stw_registry_options o = {
        .insecure = insecure, .n_insecure = 1, .tries = 1, .timeout_s = 5};
    stw_registry *r = (stw_registry *)1;
    stw_error e = {0};
    ck_assert_int_eq(stw_registry_open("127.0.0.1:1/app:1", &o, &r, &e),
                     STW_ERR_IO);
    ck_assert_ptr_null(r);
    ck_assert_msg(strncmp(e.msg, "127.0.0.1:1/app:1: manifest 1: ", 31) == 0,
                  "%s", e.msg);
    ck_assert(!strchr(e.msg, '\n'));
    /* a bad reference fails before any network */
    ck_assert_int_eq(stw_registry_open("127.0.0.1:1/App", &o, &r, &e),
                     STW_ERR_USAGE);
    stw_registry_close(NULL);
}
END_TEST

/* An Authorization header that is due but cannot be built is an error of
 * its own: sent without it, the request would come back 401 and be
 * reported as "authentication required". No credentials: no header, OK. */
START_TEST(test_registry_authorization_out_of_memory_is_an_error)
{
    stw_registry *r = calloc(1, sizeof(*r));
    ck_assert_ptr_nonnull(r);
    snprintf(r->name, sizeof(r->name), "registry.test/app:1");
    pthread_mutex_init(&r->auth_lock, NULL);
    char user[] = "u", pass[] = "p";
    r->user = user;
    r->pass = pass;
    r->basic = true;
    const stw_reg_req reg = {.registry_auth = true};
    const stw_reg_req tok = {.token_auth = true};
    const stw_reg_req *reqs[] = {&reg, &tok};
    for (size_t i = 0; i < 2; i++) {
        char *h = NULL;
        stw_error e = {0};
        ck_assert_int_eq(stw_reg_authorization(r, reqs[i], "scope", &h, &e),
                         STW_OK);
        ck_assert_str_eq(h, "Authorization: Basic dTpw"); /* "u:p" */
        stw_reg_wipe_free(h);
        /* basic_header makes two allocations: each may fail alone. */
        for (unsigned long n = 1; n <= 2; n++) {
            h = NULL;
            e = (stw_error){0};
            stw_alloc_fail_arm(n, STW_ALLOC_FAIL_ONLY);
            stw_status st = stw_reg_authorization(r, reqs[i], "scope", &h, &e);
            ck_assert_uint_eq(stw_alloc_fail_disarm(NULL), 1);
            ck_assert_int_eq(st, STW_ERR_NOMEM);
            ck_assert_ptr_null(h);
            ck_assert_str_eq(e.msg, "registry.test/app:1: out of memory");
        }
    }
    r->user = r->pass = NULL;
    char *h = NULL;
    stw_error e = {0};
    stw_alloc_fail_arm(1, STW_ALLOC_FAIL_FROM);
    stw_status st = stw_reg_authorization(r, &reg, "scope", &h, &e);
    ck_assert_uint_eq(stw_alloc_fail_disarm(NULL), 0);
    ck_assert_int_eq(st, STW_OK);
    ck_assert_ptr_null(h);
    pthread_mutex_destroy(&r->auth_lock);
    free(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_registry_ref_host_repo_tag);
    tcase_add_test(tc, test_registry_ref_digest_and_prefixes);
    tcase_add_test(tc, test_registry_ref_docker_hub_shorthand);
    tcase_add_test(tc, test_registry_ref_rejects_malformed);
    tcase_add_test(tc, test_registry_challenge_bearer);
    tcase_add_test(tc, test_registry_challenge_basic_and_several);
    tcase_add_test(tc, test_registry_challenge_rejects_unusable);
    tcase_add_test(tc, test_registry_config_auths_base64);
    tcase_add_test(tc, test_registry_config_helpers);
    tcase_add_test(tc, test_registry_config_rejects_malformed);
    tcase_add_test(tc, test_registry_helper_output);
    tcase_add_test(tc, test_registry_open_unreachable_is_one_line_error);
    tcase_add_test(tc, test_registry_authorization_out_of_memory_is_an_error);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
