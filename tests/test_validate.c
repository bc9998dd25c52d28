/* test_validate.c - the offline validators (GitHub/npm CRC32 suffix, JWT
 * header, base64-wrapped JWT, AWS key id structure, base64), Shannon
 * entropy and the placeholder filter, called directly with known good and
 * known bad values. The tokens are fake, minted with a valid checksum the
 * way ../shared/acceptance/mint.py does. */
#include "validate.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static stw_validity run(const char *name, const char *s)
{
    stw_validator_fn fn = NULL;
    ck_assert_msg(stw_validator_lookup(name, &fn), "no validator %s", name);
    ck_assert_ptr_nonnull(fn);
    return fn(s, strlen(s));
}

START_TEST(test_lookup_known_none_and_unknown)
{
    stw_validator_fn fn = (stw_validator_fn)1;
    ck_assert(stw_validator_lookup(NULL, &fn));
    ck_assert_ptr_null(fn);
    ck_assert(stw_validator_lookup("none", &fn));
    ck_assert_ptr_null(fn);
    ck_assert(!stw_validator_lookup("crc64", &fn));
}
END_TEST

START_TEST(test_github_checksum_accepts_valid_and_drops_wrong)
{
    /* Minted: 30 base62 characters + base62(CRC32) in 6 digits. */
    ck_assert_int_eq(
        run("github-checksum", "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"),
        STW_VALID_YES);
    /* The acceptance images' planted tokens carry valid checksums too. */
    ck_assert_int_eq(
        run("github-checksum", "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"),
        STW_VALID_YES);
    /* Last character changed: the checksum no longer holds. */
    ck_assert_int_eq(
        run("github-checksum", "ghp_GptPdDsaATm7xbGl9eNUNSqLlR92BR2AJN1A"),
        STW_VALID_NO);
    /* One body character changed. */
    ck_assert_int_eq(
        run("github-checksum", "ghp_HptPdDsaATm7xbGl9eNUNSqLlR92BR2AJN10"),
        STW_VALID_NO);
    ck_assert_int_eq(run("github-checksum", "ghp_short"), STW_VALID_NO);
    ck_assert_int_eq(run("github-checksum", "no-underscore"), STW_VALID_NO);
}
END_TEST

START_TEST(test_npm_checksum)
{
    ck_assert_int_eq(
        run("npm-checksum", "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"),
        STW_VALID_YES);
    ck_assert_int_eq(
        run("npm-checksum", "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"),
        STW_VALID_YES);
    ck_assert_int_eq(
        run("npm-checksum", "npm_TRVroxYjwwCVvce0k1BLDt9xJVsMg30Fnge5"),
        STW_VALID_NO);
}
END_TEST

START_TEST(test_jwt_header_must_name_alg)
{
    /* {"alg":"HS256","typ":"JWT"} . {"sub":"1"} . sig */
    ck_assert_int_eq(run("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                                "eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz"),
                     STW_VALID_YES);
    /* Unsigned token: empty signature. */
    ck_assert_int_eq(run("jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."),
                     STW_VALID_YES);
    /* {"foo":"bar"}: JSON, but no alg. */
    ck_assert_int_eq(run("jwt", "eyJmb28iOiJiYXIifQ.eyJzdWIiOiIxIn0.abc"),
                     STW_VALID_NO);
    /* Starts like {"alg": but the rest is not JSON: reported, unvalidated. */
    ck_assert_int_eq(
        run("jwt", "eyJhbGciOieeeiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.abc"),
        STW_VALID_UNKNOWN);
    ck_assert_int_eq(run("jwt", "eyJ!!!.eyJ.abc"), STW_VALID_NO);
    ck_assert_int_eq(run("jwt", "no dots at all"), STW_VALID_NO);
}
END_TEST

START_TEST(test_base64_wrapped_jwt)
{
    /* base64("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln") */
    ck_assert_int_eq(run("base64-jwt", "ZXlKaGJHY2lPaUpJVXpJMU5pSjkuZXlKemRX"
                                       "SWlPaUl4SW4wLmMybG4="),
                     STW_VALID_YES);
    /* base64("eyJrdHkiOiJSU0EifQ.eyJpc3MiOiJqb2UifQ.c2ln"): a JSON
     * header without alg (a JWK-style JWS) is kept, not validated. */
    ck_assert_int_eq(run("base64-jwt", "ZXlKcmRIa2lPaUpTVTBFaWZRLmV5SnBjM01p"
                                       "T2lKcWIyVWlmUS5jMmxu"),
                     STW_VALID_UNKNOWN);
    /* base64("hello world, not a token") */
    ck_assert_int_eq(run("base64-jwt", "aGVsbG8gd29ybGQsIG5vdCBhIHRva2Vu"),
                     STW_VALID_NO);
}
END_TEST

START_TEST(test_aws_key_id_prefix_and_alphabet)
{
    ck_assert_int_eq(run("aws-key-id", "AKIAZ7QXW3MNB4RT6YVP"), STW_VALID_YES);
    ck_assert_int_eq(run("aws-key-id", "ASIAQWERTYUIOPASDF23"), STW_VALID_YES);
    /* 0, 1, 8 and 9 are not in the base32 alphabet of key ids. */
    ck_assert_int_eq(run("aws-key-id", "ASIAIOSFODNN7LXM10JI"), STW_VALID_NO);
    ck_assert_int_eq(run("aws-key-id", "AKZAZ7QXW3MNB4RT6YVP"), STW_VALID_NO);
    ck_assert_int_eq(run("aws-key-id", "AKIAZ7QXW3MNB4RT6YV"), STW_VALID_NO);
}
END_TEST

START_TEST(test_base64_decodes_cleanly)
{
    ck_assert_int_eq(run("base64", "YWRtaW46cGFzc3dvcmQ="), STW_VALID_YES);
    ck_assert_int_eq(run("base64", "YWRtaW46cGFzc3dvcmQ"), STW_VALID_YES);
    ck_assert_int_eq(run("base64", "YWRtaW46c!Fzc3dvcmQ="), STW_VALID_NO);
    ck_assert_int_eq(run("base64", "YWRtaW46cGFzc3dvcmQ=x"), STW_VALID_NO);
    ck_assert_int_eq(run("base64", "abcde"), STW_VALID_NO); /* 5 % 4 == 1 */
    /* Basic credentials: printable "user:password" inside. */
    ck_assert_int_eq(run("basic-credentials", "YWRtaW46cGFzc3dvcmQ="),
                     STW_VALID_UNKNOWN);
    ck_assert_int_eq(run("basic-credentials", "parsing"), STW_VALID_NO);
    ck_assert_int_eq(run("basic-credentials", "cGFzc3dvcmQ="), /* no ':' */
                     STW_VALID_NO);
    ck_assert_int_eq(run("basic-credentials", "AAE6AAAA"), /* binary */
                     STW_VALID_NO);
}
END_TEST

START_TEST(test_entropy)
{
    ck_assert(stw_entropy("", 0) == 0.0);
    ck_assert(stw_entropy("aaaa", 4) == 0.0);
    ck_assert(stw_entropy("abab", 4) > 0.99 && stw_entropy("abab", 4) < 1.01);
    ck_assert(stw_entropy("q8Jf2KxZp9LmN3vT7wRb5YcH1gD4sE6uA0oI", 36) > 4.5);
}
END_TEST

static int ph(const char *s)
{
    return stw_is_placeholder(s, strlen(s));
}

START_TEST(test_placeholders_are_recognised)
{
    static const char *const yes[] = {
        "",
        "aaaaaaaaaaaaaaaa",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "AKIAIOSFODNN7EXAMPLE",
        "changeme",
        "your_token_here",
        "<your-api-key>",
        "${GITHUB_TOKEN}",
        "{{ .Values.password }}",
        "%TestSourcePassword%",
        "$DB_PASSWORD",
        "$(cat /run/secrets/token)",
        "[PASSWORD]",
        "1234567890",
        "abcdef",
        "9876543210",
        "Syabcdefghijklmnopqrstuvwxyz1234567",
        "12312312312312312312",
        "test",
        "test1234",
        "my-test-token",
        "dummy_password_123",
        "fake-api-key",
        "user:password",
        "\"username:password\"",
        "REDACTED",
        "****************",
        "eyJ2IjoiMSIsInMiOjEsImMiOi...", /* elided in documentation */
        "-anonymous@",                   /* the anonymous FTP password */
        "mynewpassword",
        "secure_password",
        "@projectversion@", /* an Ant/Maven filter token */
        "passwd\\",         /* "user:passwd\@host" in a C comment */
    };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        ck_assert_msg(ph(yes[i]), "'%s' should be a placeholder", yes[i]);
}
END_TEST

START_TEST(test_real_looking_values_are_not_placeholders)
{
    static const char *const no[] = {
        "q8Jf2KxZp9LmN3vT7wRb5YcH1gD4sE6uA0oI/Ke+",
        "GptPdDsaATm7xbGl9eNUNSqLlR92BR2AJN10",
        /* "test" by chance inside a random value is not a placeholder */
        "x9TestKq2LmN8pR4vZ7w",
        "Vq3testZ8LmN2pR7",
        "TestSourcePassword",
        "Summer2024!",
        "P@ssw0rd$1",
        /* a few sequential characters inside a longer value */
        "12345678-ABCD-ABCD-ABCD-1234567890AB",
        "k9Xabc1Rq",
        "Fak3RegistryPassw0rd!",
        "q8Jf2Kx...Zp9LmN3vT7wRb5YcH1g", /* dots inside, not at the end */
        "Newton-Sec8re!",
    };
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        ck_assert_msg(!ph(no[i]), "'%s' should not be a placeholder", no[i]);
}
END_TEST

static bool fixture(const char *s)
{
    return stw_is_fixture_value(s, strlen(s));
}

START_TEST(test_fixture_values_and_paths)
{
    static const char *const yes[] = {
        "fake-password-for-tests", "TestSourcePassword", "dummy_key_2024",
        "sampleClientSecret",      "mock.access.token",  "ExampleApiToken",
    };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        ck_assert_msg(fixture(yes[i]), "'%s' should be a fixture", yes[i]);
    static const char *const no[] = {
        "x9TestKq2LmN8p",                 /* "Test" inside a random value */
        "q8Jf2KxZp9LmN3vT7wRb5YcH1gD4sE", /* random */
        "correct-horse-battery-staple",   /* words, none a test word */
        "test-9f3a7c1e8b2d4f60a5",        /* a test word, mostly random */
        "",
    };
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        ck_assert_msg(!fixture(no[i]), "'%s' should not be a fixture", no[i]);
    ck_assert(stw_is_fixture_path("src/tests/app.py"));
    ck_assert(stw_is_fixture_path("go/pkg/testdata/x.json"));
    ck_assert(stw_is_fixture_path("Test/config.xml"));
    ck_assert(stw_is_fixture_path("web/__tests__/api.test.js"));
    ck_assert(stw_is_fixture_path("spec/fixtures/creds.yml"));
    ck_assert(!stw_is_fixture_path("src/app/test")); /* a file */
    ck_assert(!stw_is_fixture_path("src/latest/app.py"));
    ck_assert(!stw_is_fixture_path("src/contests/app.py"));
    ck_assert(!stw_is_fixture_path(""));
    ck_assert(stw_is_fixture_path("awscli/examples/ec2/run.rst"));
    ck_assert(stw_is_fixture_path("src/Example/app.py"));
    ck_assert(!stw_is_fixture_path("src/counterexamples/app.py"));
    ck_assert(stw_is_doc_file("README.md"));
    ck_assert(stw_is_doc_file("pkg/docs/guide.Markdown"));
    ck_assert(stw_is_doc_file("a/b.rst"));
    ck_assert(stw_is_doc_file("x.adoc"));
    ck_assert(!stw_is_doc_file("md"));
    ck_assert(!stw_is_doc_file(".md/config.py"));
    ck_assert(!stw_is_doc_file("a.md.py"));
    ck_assert(stw_is_doc_tree("usr/share/doc/binutils/test-summary-amd64.gz"));
    ck_assert(stw_is_doc_tree("usr/share/man/man5/containers-auth.json.5.gz"));
    ck_assert(!stw_is_doc_tree("usr/share/java/x.jar"));
    ck_assert(!stw_is_doc_tree("app/usr/share/doc/x"));
}
END_TEST

static bool echo(const char *key, const char *val)
{
    return stw_is_name_echo(key, strlen(key), val, strlen(val));
}

START_TEST(test_a_value_that_spells_its_name)
{
    ck_assert(echo("MYSQL_NATIVE_PASSWORD", "MYSQL_NATIVE_PASSWORD"));
    ck_assert(echo("sasl_scram512_auth", "saslScram512Auth"));
    ck_assert(echo("oauth2Credential", "Oauth2Credential"));
    ck_assert(
        echo("exports.SOCKS5_NO_ACCEPTABLE_AUTH", "SOCKS5_NO_ACCEPTABLE_AUTH"));
    ck_assert(echo("api.secret", "api-secret"));
    ck_assert(!echo("API_KEY", "KEY"));                 /* part of the name */
    ck_assert(echo("pub.finish_pass", "finish_pass1")); /* starts with it */
    ck_assert(echo("Passwd1", "Passwd1+#0"));
    ck_assert(!echo("pwd", "pwd_x9Lm2")); /* a name too short to tell */
    ck_assert(!echo("db_password", "xdb_password1"));
    ck_assert(!echo("termToken", "term-token-gPFEGk7CF4wS901w")); /* issuer's */
    ck_assert(!echo("secret", "Tq8Zr2Vn6Yx1Wp4Ks9Lm3Hd7F"));
    ck_assert(!echo("a.b.auth", "b.auth")); /* neither whole nor last */
    ck_assert(!echo("pwd", "pwd"));         /* under 4 characters */
    ck_assert(!echo("", "secret"));
    /* Longer than a name can be compared: never an echo. */
    char big[300];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    ck_assert(!echo(big, big));
}
END_TEST

static Suite *validate_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_lookup_known_none_and_unknown);
    tcase_add_test(tc, test_a_value_that_spells_its_name);
    tcase_add_test(tc, test_github_checksum_accepts_valid_and_drops_wrong);
    tcase_add_test(tc, test_npm_checksum);
    tcase_add_test(tc, test_jwt_header_must_name_alg);
    tcase_add_test(tc, test_base64_wrapped_jwt);
    tcase_add_test(tc, test_aws_key_id_prefix_and_alphabet);
    tcase_add_test(tc, test_base64_decodes_cleanly);
    tcase_add_test(tc, test_entropy);
    tcase_add_test(tc, test_placeholders_are_recognised);
    tcase_add_test(tc, test_real_looking_values_are_not_placeholders);
    tcase_add_test(tc, test_fixture_values_and_paths);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(validate_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
