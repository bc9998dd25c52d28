/* test_rules.c - rule loading (errors name file and rule; overrides,
 * disabling, versions), the engine's modes (keyword, prefilter, PCRE2
 * fallback, path rules, allow rules, entropy), and every built-in rule's
 * own tp/fp examples run through the real matcher. */
#include "limits.h"
#include "matcher.h"
#include "rules.h"
#include "testutil.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

#define MAXF 64

typedef struct hit {
    char rule[65];
    char sha[65];
    char excerpt[96];
    stw_kind kind;
    stw_severity sev;
    int64_t line, offset;
    int64_t secret_offset, secret_len;
    bool validated;
    char detail[160];
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
    snprintf(x->excerpt, sizeof(x->excerpt), "%s", f->excerpt);
    x->kind = f->kind;
    x->sev = f->severity;
    x->line = f->line;
    x->offset = f->offset;
    x->validated = f->validated;
    x->secret_offset = f->secret_offset;
    x->secret_len = f->secret_len;
    snprintf(x->detail, sizeof(x->detail), "%s", f->detail ? f->detail : "");
    return STW_OK;
}

static size_t count_rule(const hits *h, const char *rule)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++)
        n += strcmp(h->v[i].rule, rule) == 0;
    return n;
}

static void scan(const stw_rules *r, const char *path, const char *text,
                 hits *out)
{
    stw_matcher *m;
    stw_error err = {0};
    ck_assert_int_eq(stw_matcher_create(r, &m, &err), STW_OK);
    memset(out, 0, sizeof(*out));
    ck_assert_msg(stw_matcher_scan_buffer(m, path, text, strlen(text), collect,
                                          out, &err) == STW_OK,
                  "%s", err.msg);
    stw_matcher_destroy(m);
}

static size_t rule_index(const stw_rules *r, const char *id)
{
    for (size_t i = 0; i < stw_rules_count(r); i++) {
        stw_rule_info info;
        ck_assert_int_eq(stw_rules_info(r, i, &info), STW_OK);
        if (strcmp(info.id, id) == 0)
            return i;
    }
    ck_abort_msg("no rule %s", id);
    return 0;
}

/* Writes text to a fresh rule file and loads it alone (no built-ins). */
static stw_status load_user(const char *text, stw_rules **out, stw_error *err,
                            char **path_out)
{
    char *dir = tu_mkdtemp("rules");
    char *path = tu_path(dir, "user.yaml");
    tu_write_file(path, text, strlen(text));
    const char *files[] = {path};
    stw_rules_options opt = {.files = files, .n_files = 1, .no_builtin = 1};
    stw_status st = stw_rules_create(&opt, out, err);
    if (path_out)
        *path_out = path;
    else
        free(path);
    free(dir);
    return st;
}

static void expect_load_error(const char *yaml, const char *needle1,
                              const char *needle2)
{
    stw_rules *r = NULL;
    stw_error err = {0};
    stw_status st = load_user(yaml, &r, &err, NULL);
    ck_assert_int_eq(st, STW_ERR_RULES);
    ck_assert_ptr_null(r);
    ck_assert_msg(strstr(err.msg, "user.yaml") != NULL, "no file in: %s",
                  err.msg);
    ck_assert_msg(strstr(err.msg, needle1) != NULL, "no '%s' in: %s", needle1,
                  err.msg);
    if (needle2)
        ck_assert_msg(strstr(err.msg, needle2) != NULL, "no '%s' in: %s",
                      needle2, err.msg);
}

/* ---- built-in rules ----------------------------------------------------- */

START_TEST(test_builtin_rules_load_with_metadata)
{
    stw_rules *r;
    stw_error err = {0};
    ck_assert_msg(stw_rules_create(NULL, &r, &err) == STW_OK, "%s", err.msg);
    /* The issue asks for at least 150 token rules besides the key rules. */
    size_t tokens = 0;
    for (size_t i = 0; i < stw_rules_count(r); i++) {
        stw_rule_info info;
        ck_assert_int_eq(stw_rules_info(r, i, &info), STW_OK);
        tokens += info.kind == STW_KIND_SECRET;
    }
    ck_assert_uint_ge(tokens, 150);
    const stw_rule_info *rsa = stw_rules_find(r, "rsa-private-key");
    ck_assert_ptr_nonnull(rsa);
    ck_assert_int_eq(rsa->kind, STW_KIND_PRIVATE_KEY);
    ck_assert_int_eq(rsa->severity, STW_SEV_CRITICAL);
    ck_assert_ptr_nonnull(rsa->remediation);
    const stw_rule_info *enc = stw_rules_find(r, "encrypted-private-key");
    ck_assert_ptr_nonnull(enc);
    ck_assert_int_eq(enc->severity, STW_SEV_HIGH);
    ck_assert_ptr_null(stw_rules_find(r, "no-such-rule"));
    ck_assert_uint_eq(strlen(stw_rules_version(r)), 16);
    stw_rule_info info;
    ck_assert_int_eq(stw_rules_info(r, stw_rules_count(r), &info),
                     STW_ERR_NOT_FOUND);
    stw_rules_destroy(r);
}
END_TEST

/* Every built-in rule carries examples; each tp must be found by that rule
 * (redacted, hashed) and no fp may be. */
START_TEST(test_builtin_rule_examples_pass)
{
    stw_rules *r;
    stw_error err = {0};
    ck_assert_msg(stw_rules_create(NULL, &r, &err) == STW_OK, "%s", err.msg);
    for (size_t i = 0; i < stw_rules_count(r); i++) {
        stw_rule_info info;
        ck_assert_int_eq(stw_rules_info(r, i, &info), STW_OK);
        const char *text, *path;
        size_t ntp = 0, nfp = 0;
        for (; stw_rules_example(r, i, 1, ntp, &text, &path) == STW_OK; ntp++) {
            hits h;
            scan(r, path, text, &h);
            ck_assert_msg(count_rule(&h, info.id) == 1,
                          "rule %s: tp example %zu matched %zu times", info.id,
                          ntp, count_rule(&h, info.id));
            for (size_t k = 0; k < h.n; k++) {
                ck_assert_uint_eq(strlen(h.v[k].sha), 64);
                ck_assert_msg(strlen(h.v[k].excerpt) < 40, "excerpt %s",
                              h.v[k].excerpt);
            }
        }
        for (; stw_rules_example(r, i, 0, nfp, &text, &path) == STW_OK; nfp++) {
            hits h;
            scan(r, path, text, &h);
            ck_assert_msg(count_rule(&h, info.id) == 0,
                          "rule %s: fp example %zu matched", info.id, nfp);
        }
        ck_assert_msg(ntp > 0 && nfp > 0, "rule %s lacks tp/fp examples",
                      info.id);
    }
    stw_rules_destroy(r);
}
END_TEST

/* The same key as PEM and as a JSON string hashes the same, and a real key
 * body passes the structural validator. */
START_TEST(test_private_key_secret_is_normalised_body)
{
    stw_rules *r;
    stw_error err = {0};
    ck_assert_int_eq(stw_rules_create(NULL, &r, &err), STW_OK);
    const char *text, *path;
    size_t i = rule_index(r, "rsa-private-key");
    hits pem, json;
    ck_assert_int_eq(stw_rules_example(r, i, 1, 0, &text, &path), STW_OK);
    scan(r, path, text, &pem);
    ck_assert_int_eq(stw_rules_example(r, i, 1, 1, &text, &path), STW_OK);
    ck_assert_ptr_nonnull(strstr(text, "\\n"));
    scan(r, path, text, &json);
    ck_assert_uint_eq(pem.n, 1);
    ck_assert_uint_eq(json.n, 1);
    ck_assert_str_eq(pem.v[0].sha, json.v[0].sha);
    ck_assert(pem.v[0].validated);
    ck_assert_int_eq(pem.v[0].line, 1);
    ck_assert_int_eq(pem.v[0].offset, 0);
    ck_assert_ptr_nonnull(strstr(pem.v[0].excerpt, "MII"));
    stw_rules_destroy(r);
}
END_TEST

/* ---- loading errors ----------------------------------------------------- */

START_TEST(test_load_bad_yaml_names_file_and_line)
{
    expect_load_error("rules:\n  - id: x\n    regex: [unclosed\n", "YAML", ":");
}
END_TEST

START_TEST(test_load_unknown_field_names_rule_and_field)
{
    expect_load_error("rules:\n  - id: my-rule\n    severity: high\n"
                      "    regex: abc\n    keyword: [abc]\n",
                      "rule 'my-rule'", "unknown field 'keyword'");
    expect_load_error("rules:\n  - id: my-rule\n    severity: high\n"
                      "    regex: abc\n    allow-rules:\n"
                      "      - {id: a, regx: b}\n",
                      "rule 'my-rule'", "unknown field 'regx'");
    expect_load_error("rule:\n  - id: x\n", "unknown field 'rule'", NULL);
}
END_TEST

START_TEST(test_load_bad_regex_names_file_and_rule)
{
    expect_load_error("rules:\n  - id: broken\n    severity: low\n"
                      "    regex: 'abc(def'\n",
                      "rule 'broken'", "regex");
    expect_load_error("rules:\n  - id: broken-path\n    severity: low\n"
                      "    path: '*.pem'\n",
                      "rule 'broken-path'", "path");
    expect_load_error("rules:\n  - id: grp\n    severity: low\n"
                      "    regex: '(?<s>a)'\n    secret-group-name: t\n",
                      "rule 'grp'", "secret-group-name");
}
END_TEST

START_TEST(test_load_field_value_errors)
{
    expect_load_error("rules:\n  - id: sev\n    severity: urgent\n"
                      "    regex: a\n",
                      "rule 'sev'", "severity 'urgent'");
    expect_load_error("rules:\n  - id: nosev\n    regex: a\n", "rule 'nosev'",
                      "missing 'severity'");
    expect_load_error("rules:\n  - severity: low\n    regex: a\n",
                      "missing 'id'", NULL);
    expect_load_error("rules:\n  - id: k\n    severity: low\n"
                      "    kind: setuid\n    regex: a\n",
                      "rule 'k'", "kind 'setuid'");
    expect_load_error("rules:\n  - id: v\n    severity: low\n"
                      "    validator: luhn9\n    regex: a\n",
                      "rule 'v'", "validator 'luhn9'");
    expect_load_error("rules:\n  - id: e\n    severity: low\n"
                      "    entropy: lots\n    regex: a\n",
                      "rule 'e'", "entropy");
    expect_load_error("rules:\n  - id: kw\n    severity: low\n"
                      "    keywords: abc\n    regex: a\n",
                      "rule 'kw'", "must be a list");
    expect_load_error("rules:\n  - id: nothing\n    severity: low\n",
                      "rule 'nothing'", "needs 'regex' or 'path'");
    expect_load_error("rules:\n  - id: dup\n    severity: low\n    regex: a\n"
                      "  - id: dup\n    severity: low\n    regex: b\n",
                      "rule 'dup'", "duplicate id");
    expect_load_error("rules:\n  - id: Bad_Id!\n    severity: low\n"
                      "    regex: a\n",
                      "Bad_Id!", "id must be");
    expect_load_error("rules:\n  - id: kn\n    severity: low\n"
                      "    keyword-next: '[=]'\n    regex: a\n",
                      "rule 'kn'", "'keyword-next' without 'keywords'");
    expect_load_error("rules:\n  - id: kn2\n    severity: low\n"
                      "    keywords: [a]\n    keyword-next: '[=]x'\n"
                      "    regex: a\n",
                      "rule 'kn2'", "one bracket expression");
    expect_load_error("rules:\n  - id: kn3\n    severity: low\n"
                      "    keywords: [a]\n    keyword-next: '[a][b]'\n"
                      "    regex: a\n",
                      "rule 'kn3'", "one bracket expression");
    /* The right shape, but vectorscan refuses what is inside. */
    expect_load_error("rules:\n  - id: kn4\n    severity: low\n"
                      "    keywords: [a]\n    keyword-next: '[z-a]'\n"
                      "    regex: a\n",
                      "rule 'kn4'", "prefilter database");
}
END_TEST

/* keyword-next gates a keyword hit on the byte after it (caseless, like the
 * keyword); other keywords of the same text still open their windows. */
START_TEST(test_keyword_next_gates_hits)
{
    stw_rules *r;
    stw_error err = {0};
    ck_assert_int_eq(
        load_user("rules:\n"
                  "  - id: kn\n    severity: low\n    keywords: [tok]\n"
                  "    keyword-next: '[=k]'\n"
                  "    regex: 'tok(?:key)?[=_](?<s>[0-9]{6})'\n"
                  "    secret-group-name: s\n"
                  "  - id: other\n    severity: low\n    keywords: [tok]\n"
                  "    regex: 'tok#[0-9]{6}'\n",
                  &r, &err, NULL),
        STW_OK);
    hits h;
    scan(r, "a.txt", "tok=830271 tokkey=529714\n", &h);
    ck_assert_uint_eq(count_rule(&h, "kn"), 2);
    /* The regex would match, but '_' is not a keyword-next byte. */
    scan(r, "a.txt", "tok_730185\n", &h);
    ck_assert_uint_eq(h.n, 0);
    /* The same literal without keyword-next is its own pattern. */
    scan(r, "a.txt", "tok#640917\n", &h);
    ck_assert_uint_eq(h.n, 1);
    ck_assert_str_eq(h.v[0].rule, "other");
    /* A keyword at the very end has no next byte: no hit. */
    scan(r, "a.txt", "tok", &h);
    ck_assert_uint_eq(h.n, 0);
    stw_rules_destroy(r);
}
END_TEST

START_TEST(test_missing_rule_file_is_io_error)
{
    const char *files[] = {"/nonexistent/stowaway-rules.yaml"};
    stw_rules_options opt = {.files = files, .n_files = 1};
    stw_rules *r = NULL;
    stw_error err = {0};
    ck_assert_int_eq(stw_rules_create(&opt, &r, &err), STW_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "stowaway-rules.yaml"));
}
END_TEST

/* A user file's rule with a built-in id replaces it; disabling drops a
 * rule; both change the version. */
START_TEST(test_user_rule_overrides_and_disable)
{
    stw_rules *base, *over, *dis;
    stw_error err = {0};
    ck_assert_int_eq(stw_rules_create(NULL, &base, &err), STW_OK);
    size_t n = stw_rules_count(base);

    char *dir = tu_mkdtemp("override");
    char *path = tu_path(dir, "extra.yaml");
    const char *yaml =
        "rules:\n  - id: rsa-private-key\n    severity: LOW\n"
        "    title: tamed\n    regex: 'NEVER-MATCHES-[0-9]{50}'\n"
        "  - id: extra-rule\n    severity: Info\n"
        "    regex: 'zz[0-9]{4}'\n";
    tu_write_file(path, yaml, strlen(yaml));
    const char *files[] = {path};
    stw_rules_options opt = {.files = files, .n_files = 1};
    ck_assert_msg(stw_rules_create(&opt, &over, &err) == STW_OK, "%s", err.msg);
    ck_assert_uint_eq(stw_rules_count(over), n + 1);
    const stw_rule_info *rsa = stw_rules_find(over, "rsa-private-key");
    ck_assert_int_eq(rsa->severity, STW_SEV_LOW);
    ck_assert_str_eq(rsa->title, "tamed");
    ck_assert_str_ne(stw_rules_version(base), stw_rules_version(over));

    const char *off[] = {"rsa-private-key", "rsa-private-key"};
    stw_rules_options dopt = {.disabled = off, .n_disabled = 2};
    ck_assert_int_eq(stw_rules_create(&dopt, &dis, &err), STW_OK);
    ck_assert_uint_eq(stw_rules_count(dis), n - 1);
    ck_assert_ptr_null(stw_rules_find(dis, "rsa-private-key"));
    ck_assert_str_ne(stw_rules_version(base), stw_rules_version(dis));

    /* The disabled rule no longer fires on its own example. */
    const char *text, *epath;
    size_t i = rule_index(base, "rsa-private-key");
    ck_assert_int_eq(stw_rules_example(base, i, 1, 0, &text, &epath), STW_OK);
    hits h;
    scan(dis, epath, text, &h);
    ck_assert_uint_eq(count_rule(&h, "rsa-private-key"), 0);
    scan(base, epath, text, &h);
    ck_assert_uint_eq(count_rule(&h, "rsa-private-key"), 1);

    const char *typo[] = {"rsa-privat-key"};
    stw_rules_options topt = {.disabled = typo, .n_disabled = 1};
    stw_rules *bad = NULL;
    ck_assert_int_eq(stw_rules_create(&topt, &bad, &err), STW_ERR_RULES);
    ck_assert_ptr_nonnull(strstr(err.msg, "rsa-privat-key"));

    /* Same input, same version. */
    stw_rules *again;
    ck_assert_int_eq(stw_rules_create(NULL, &again, &err), STW_OK);
    ck_assert_str_eq(stw_rules_version(base), stw_rules_version(again));
    stw_rules_destroy(again);
    stw_rules_destroy(base);
    stw_rules_destroy(over);
    stw_rules_destroy(dis);
    free(path);
    free(dir);
}
END_TEST

/* ---- engine modes ------------------------------------------------------- */

static const char *engine_yaml =
    "version: 3\n"
    "allow-rules:\n"
    "  - id: vendored\n    path: '^vendor/'\n"
    "rules:\n"
    "  - id: kw-token\n    severity: high\n    keywords: [tok_]\n"
    "    regex: '\\btok_(?<secret>[A-Za-z0-9]{20})\\b'\n"
    "    secret-group-name: secret\n    entropy: 3.0\n"
    "    allow-rules:\n      - id: docs\n        regex: 'DOCS-ONLY'\n"
    "      - id: tests\n        path: '(^|/)testdata/'\n"
    "  - id: prefilter-token\n    severity: medium\n"
    "    regex: 'pf-[0-9]{6}-[a-f]{6}'\n"
    "  - id: fallback-token\n    severity: low\n"
    "    regex: 'secret=\\K[a-z]{8}\\b'\n"
    "  - id: env-file\n    severity: medium\n    kind: credential-file\n"
    "    path: '(^|/)\\.env$'\n"
    "  - id: only-in-conf\n    severity: info\n    kind: config\n"
    "    path: '\\.conf$'\n    regex: 'password\\s*=\\s*\\S+'\n";

START_TEST(test_engine_keyword_prefilter_fallback_modes)
{
    stw_rules *r;
    stw_error err = {0};
    ck_assert_msg(load_user(engine_yaml, &r, &err, NULL) == STW_OK, "%s",
                  err.msg);
    ck_assert_uint_eq(stw_rules_count(r), 5);
    hits h;
    scan(r, "app/config.txt",
         "line one\nx = tok_Ab3dE5gH7jK9mN1pQ3sT\n"
         "y = pf-123456-abcdef\nsecret=qwertyui\n",
         &h);
    ck_assert_uint_eq(h.n, 3);
    ck_assert_str_eq(h.v[0].rule, "kw-token");
    ck_assert_int_eq(h.v[0].line, 2);
    ck_assert_int_eq(h.v[0].offset, 13);
    ck_assert_ptr_nonnull(strstr(h.v[0].excerpt, "Ab3d"));
    ck_assert_str_eq(h.v[1].rule, "prefilter-token");
    ck_assert_int_eq(h.v[1].line, 3);
    ck_assert_str_eq(h.v[2].rule, "fallback-token");
    ck_assert_int_eq(h.v[2].line, 4);
    ck_assert_ptr_nonnull(strstr(h.v[2].excerpt, "qwer"));
    /* Keyword prefilter is case-insensitive, the regex is not. */
    scan(r, "a.txt", "TOK_Ab3dE5gH7jK9mN1pQ3sT\n", &h);
    ck_assert_uint_eq(h.n, 0);
    stw_rules_destroy(r);
}
END_TEST

START_TEST(test_engine_path_and_allow_rules)
{
    stw_rules *r;
    stw_error err = {0};
    ck_assert_int_eq(load_user(engine_yaml, &r, &err, NULL), STW_OK);
    hits h;
    const char *tok = "k=tok_Ab3dE5gH7jK9mN1pQ3sT\n";
    /* Path-only rule fires at begin, without content. */
    scan(r, "srv/app/.env", "", &h);
    ck_assert_uint_eq(h.n, 1);
    ck_assert_str_eq(h.v[0].rule, "env-file");
    ck_assert_int_eq(h.v[0].kind, STW_KIND_CREDENTIAL_FILE);
    ck_assert_int_eq(h.v[0].offset, -1);
    ck_assert_int_eq(h.v[0].line, 0);
    scan(r, "srv/app/.envrc", "", &h);
    ck_assert_uint_eq(h.n, 0);
    /* Path-restricted content rule. */
    scan(r, "etc/app.conf", "password = hunter2\n", &h);
    ck_assert_uint_eq(count_rule(&h, "only-in-conf"), 1);
    scan(r, "etc/app.txt", "password = hunter2\n", &h);
    ck_assert_uint_eq(count_rule(&h, "only-in-conf"), 0);
    /* Rule allow rules: by path, by line content. */
    scan(r, "src/testdata/x.txt", tok, &h);
    ck_assert_uint_eq(h.n, 0);
    scan(r, "src/x.txt", "k=tok_Ab3dE5gH7jK9mN1pQ3sT # DOCS-ONLY\n", &h);
    ck_assert_uint_eq(h.n, 0);
    scan(r, "src/x.txt", tok, &h);
    ck_assert_uint_eq(h.n, 1);
    /* File-level allow rule applies to every rule. */
    scan(r, "vendor/lib/x.txt", tok, &h);
    ck_assert_uint_eq(h.n, 0);
    /* Entropy and placeholder filters. */
    scan(r, "src/x.txt", "k=tok_aaaaaaaaaaaaaaaaaaab\n", &h);
    ck_assert_uint_eq(h.n, 0);
    scan(r, "src/x.txt", "k=tok_EXAMPLEa1b2c3d4e5f6g\n", &h);
    ck_assert_uint_eq(h.n, 0);
    stw_rules_destroy(r);
}
END_TEST

/* One keyword, three rules: two for every path (the keyword written in two
 * cases, so one vectorscan pattern serves both), one for .ini files only
 * (its own database, scanned only where its path applies). Each rule must
 * still see every hit it is owed, and only those. */
START_TEST(test_shared_keyword_across_path_and_general_rules)
{
    stw_rules *r;
    stw_error err = {0};
    ck_assert_int_eq(
        load_user("rules:\n"
                  "  - id: a-any\n    severity: low\n    keywords: [shrd]\n"
                  "    regex: 'shrd:a=[0-9]{4}'\n"
                  "  - id: b-any\n    severity: low\n"
                  "    keywords: [SHRD, shrd]\n"
                  "    regex: 'shrd:b=[0-9]{4}'\n"
                  "  - id: c-ini\n    severity: low\n    keywords: [Shrd]\n"
                  "    path: '\\.ini$'\n    regex: 'shrd:c=[0-9]{4}'\n",
                  &r, &err, NULL),
        STW_OK);
    const char *text = "shrd:a=1111 shrd:b=2222 shrd:c=3333\nshrd:b=4444\n";
    hits h;
    scan(r, "etc/app.ini", text, &h);
    ck_assert_uint_eq(h.n, 4);
    ck_assert_uint_eq(count_rule(&h, "a-any"), 1);
    ck_assert_uint_eq(count_rule(&h, "b-any"), 2);
    ck_assert_uint_eq(count_rule(&h, "c-ini"), 1);
    scan(r, "etc/app.txt", text, &h);
    ck_assert_uint_eq(h.n, 3);
    ck_assert_uint_eq(count_rule(&h, "c-ini"), 0);
    /* Only the path rule's keyword present, in a file it does not apply to:
     * nothing, and in one it does: its finding. */
    scan(r, "x.txt", "shrd:c=5555\n", &h);
    ck_assert_uint_eq(h.n, 0);
    scan(r, "x.ini", "shrd:c=5555\n", &h);
    ck_assert_uint_eq(h.n, 1);
    stw_rules_destroy(r);
}
END_TEST

/* A rule set with no prefilter pattern at all still scans. */
START_TEST(test_engine_without_vectorscan_database)
{
    stw_rules *r;
    stw_error err = {0};
    ck_assert_int_eq(
        load_user("rules:\n  - id: only-fallback\n"
                  "    severity: low\n"
                  "    regex: 'k=\\K[0-9]{5}'\n"
                  "  - id: ssh-dir\n    severity: high\n"
                  "    kind: artifact\n    path: '^root/\\.ssh/'\n",
                  &r, &err, NULL),
        STW_OK);
    hits h;
    scan(r, "root/.ssh/known_hosts", "a\nb\nk=12345\n", &h);
    ck_assert_uint_eq(h.n, 2);
    ck_assert_str_eq(h.v[0].rule, "ssh-dir");
    ck_assert_str_eq(h.v[1].rule, "only-fallback");
    ck_assert_int_eq(h.v[1].line, 3);
    ck_assert_int_eq(h.v[1].offset, 6);
    stw_rules_destroy(r);
}
END_TEST

/* ---- token rules, validators, known test keys ---------------------------- */

/* Minted like ../shared/acceptance/mint.py: a valid CRC32 suffix. */
#define GHP_OK  "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"
#define GHP_BAD "ghp_GptPdDsaATm7xbGl9eNUNSqLlR92BR2AJN1A"

START_TEST(test_checksum_validates_or_drops_github_tokens)
{
    stw_rules *r;
    stw_error err = {0};
    ck_assert_int_eq(stw_rules_create(NULL, &r, &err), STW_OK);
    hits h;
    scan(r, "app/config.txt", "GITHUB_TOKEN=" GHP_OK "\n", &h);
    ck_assert_uint_eq(count_rule(&h, "github-pat"), 1);
    for (size_t i = 0; i < h.n; i++)
        if (strcmp(h.v[i].rule, "github-pat") == 0)
            ck_assert(h.v[i].validated);
    /* A wrong checksum is not a GitHub token: no finding of any rule, the
     * generic ones included, in any of the shapes they read. */
    scan(r, "app/config.txt", "GITHUB_TOKEN=" GHP_BAD "\n", &h);
    ck_assert_uint_eq(h.n, 0);
    scan(r, "app/settings.py", "API_TOKEN = \"" GHP_BAD "\"\n", &h);
    ck_assert_uint_eq(h.n, 0);
    scan(r, "app/app.json", "{\"secret\": \"" GHP_BAD "\"}\n", &h);
    ck_assert_uint_eq(h.n, 0);
    /* AWS key ids are structurally validated. */
    scan(r, "app/config.txt", "AWS_ACCESS_KEY_ID=AKIAZ7QXW3MNB4RT6YVP\n", &h);
    ck_assert_uint_eq(count_rule(&h, "aws-access-key-id"), 1);
    for (size_t i = 0; i < h.n; i++)
        if (strcmp(h.v[i].rule, "aws-access-key-id") == 0)
            ck_assert(h.v[i].validated);
    stw_rules_destroy(r);
}
END_TEST

/* composer dump-env writes APP_SECRET as 32 random hex digits, whose
 * entropy falls under generic-secret's floor about one time in five: the
 * credential-file rule must find every one (seeded, so a failure repeats). */
START_TEST(test_symfony_app_secret_found_every_time)
{
    stw_rules *r;
    stw_error err = {0};
    ck_assert_int_eq(stw_rules_create(NULL, &r, &err), STW_OK);
    uint32_t seed = 13;
    for (int round = 0; round < 500; round++) {
        char hex[33];
        for (int i = 0; i < 32; i++) {
            seed = seed * 1103515245u + 12345u;
            hex[i] = "0123456789abcdef"[(seed >> 16) & 15];
        }
        hex[32] = 0;
        char text[256];
        snprintf(text, sizeof(text),
                 "<?php\nreturn array (\n  'APP_ENV' => 'prod',\n"
                 "  'APP_SECRET' => '%s',\n);\n",
                 hex);
        hits h;
        scan(r, "srv/app/.env.local.php", text, &h);
        ck_assert_msg(count_rule(&h, "symfony-dump-env-secret") == 1,
                      "APP_SECRET %s missed", hex);
    }
    /* The HCL form of the Terraform CLI credentials. */
    hits h;
    scan(r, "root/.terraformrc",
         "credentials \"app.terraform.io\" {\n  token = "
         "\"eJM4rOBGBbSzhp.atlasv1.2YEnunmn2z35Qo4oE3HpQDsfzuaXRRlgFk784q\"\n}"
         "\n",
         &h);
    ck_assert_uint_eq(count_rule(&h, "terraform-cli-credentials"), 1);
    stw_rules_destroy(r);
}
END_TEST

START_TEST(test_secret_offset_and_length_are_raw_positions)
{
    stw_rules *r;
    stw_error err = {0};
    ck_assert_int_eq(stw_rules_create(NULL, &r, &err), STW_OK);
    const char *text = "# config\nexport GITHUB_TOKEN=" GHP_OK " # ci\n";
    hits h;
    scan(r, "app/env.sh", text, &h);
    ck_assert_uint_eq(count_rule(&h, "github-pat"), 1);
    const char *at = strstr(text, "ghp_");
    ck_assert_int_eq(h.v[0].secret_offset, at - text);
    ck_assert_int_eq(h.v[0].secret_len, 40);
    ck_assert_int_eq(h.v[0].line, 2);

    /* A private key's hash covers the normalised body, but the offset and
     * length are those of the raw body in the file, line breaks included. */
    size_t i = rule_index(r, "rsa-private-key");
    const char *pem, *epath;
    ck_assert_int_eq(stw_rules_example(r, i, 1, 0, &pem, &epath), STW_OK);
    char *buf = malloc(strlen(pem) + 16);
    sprintf(buf, "xx\n%s", pem);
    scan(r, "k.pem", buf, &h);
    ck_assert_uint_eq(count_rule(&h, "rsa-private-key"), 1);
    const char *body = strstr(buf, "MIIC");
    const char *end = strstr(buf, "\n-----END");
    ck_assert_int_eq(h.v[0].secret_offset, body - buf);
    ck_assert_int_eq(h.v[0].secret_len, end - body);
    free(buf);
    stw_rules_destroy(r);

    /* Path-only rules carry no secret. */
    ck_assert_int_eq(
        load_user("rules:\n  - id: p\n    severity: low\n    path: 'x$'\n", &r,
                  &err, NULL),
        STW_OK);
    scan(r, "a/x", "", &h);
    ck_assert_uint_eq(h.n, 1);
    ck_assert_int_eq(h.v[0].secret_offset, -1);
    ck_assert_int_eq(h.v[0].secret_len, 0);
    stw_rules_destroy(r);
}
END_TEST

START_TEST(test_generic_rule_yields_to_specific_rule)
{
    stw_rules *r;
    stw_error err = {0};
    ck_assert_int_eq(stw_rules_create(NULL, &r, &err), STW_OK);
    hits h;
    scan(r, "app/settings.py", "API_TOKEN = \"" GHP_OK "\"\n", &h);
    ck_assert_uint_eq(h.n, 1);
    ck_assert_str_eq(h.v[0].rule, "github-pat");
    /* Without a known format the generic rule reports it. */
    scan(r, "app/settings.py",
         "API_TOKEN = \"Zr7pQ2mW9xL4nB8vC1kJ6hT3yF5gD0sA\"\n", &h);
    ck_assert_uint_eq(h.n, 1);
    ck_assert_str_eq(h.v[0].rule, "generic-secret");
    /* ...but not a placeholder. */
    scan(r, "app/settings.py", "API_TOKEN = \"your_api_token_here_123\"\n", &h);
    ck_assert_uint_eq(h.n, 0);
    stw_rules_destroy(r);
}
END_TEST

static const hit *only_hit(const hits *h, const char *rule)
{
    ck_assert_uint_eq(h->n, 1);
    ck_assert_str_eq(h->v[0].rule, rule);
    return &h->v[0];
}

/* Generic rules cannot tell a test's credential from a real one by its
 * format: a test tree or a value of test words makes them info (listed,
 * with the reason), while a rule that knows the format keeps its severity
 * in a test tree. */
START_TEST(test_generic_finding_in_test_context_is_info)
{
    stw_rules *r;
    stw_error err = {0};
    ck_assert_int_eq(stw_rules_create(NULL, &r, &err), STW_OK);
    hits h;
    const char *words = "FAKE_DB_PASSWORD = \"fake-password-for-tests\"\n";
    const char *random = "DB_PASSWORD = \"Xq7vN2pL9sK4mT8w\"\n";
    scan(r, "src/app/tests/fixtures/db.py", words, &h);
    const hit *x = only_hit(&h, "generic-password");
    ck_assert_int_eq(x->sev, STW_SEV_INFO);
    ck_assert_msg(strstr(x->detail, "test fixture") != NULL, "%s", x->detail);
    /* The words alone are enough... */
    scan(r, "src/app/db.py", words, &h);
    ck_assert_int_eq(only_hit(&h, "generic-password")->sev, STW_SEV_INFO);
    scan(r, "src/app/db.py", "password = \"TestSourcePassword1\"\n", &h);
    ck_assert_int_eq(only_hit(&h, "generic-password")->sev, STW_SEV_INFO);
    /* ...and so is the directory. */
    scan(r, "srv/testdata/db.py", random, &h);
    ck_assert_int_eq(only_hit(&h, "generic-password")->sev, STW_SEV_INFO);
    /* A random value outside a test tree stays medium, "Test" inside a
     * random string included; so does a file merely named test. */
    scan(r, "src/app/db.py", random, &h);
    ck_assert_int_eq(only_hit(&h, "generic-password")->sev, STW_SEV_MEDIUM);
    ck_assert_str_eq(h.v[0].detail, "");
    scan(r, "src/app/db.py", "password = \"x9TestKq2LmN8p\"\n", &h);
    ck_assert_int_eq(only_hit(&h, "generic-password")->sev, STW_SEV_MEDIUM);
    scan(r, "src/app/test", random, &h);
    ck_assert_int_eq(only_hit(&h, "generic-password")->sev, STW_SEV_MEDIUM);
    /* A tree of examples is one too, and a documentation file shows
     * examples: info, each with its reason; a file merely named so, or a
     * source file beside them, stays medium. */
    scan(r, "site-packages/awscli/examples/iam/create.rst", random, &h);
    x = only_hit(&h, "generic-password");
    ck_assert_int_eq(x->sev, STW_SEV_INFO);
    ck_assert_msg(strstr(x->detail, "examples") != NULL, "%s", x->detail);
    scan(r, "app/node_modules/pkg/README.md", random, &h);
    x = only_hit(&h, "generic-password");
    ck_assert_int_eq(x->sev, STW_SEV_INFO);
    ck_assert_msg(strstr(x->detail, "documentation") != NULL, "%s", x->detail);
    scan(r, "docs/setup.RST", random, &h);
    ck_assert_int_eq(only_hit(&h, "generic-password")->sev, STW_SEV_INFO);
    scan(r, "app/examples", random, &h); /* a file */
    ck_assert_int_eq(only_hit(&h, "generic-password")->sev, STW_SEV_MEDIUM);
    scan(r, "app/config.md.py", random, &h);
    ck_assert_int_eq(only_hit(&h, "generic-password")->sev, STW_SEV_MEDIUM);
    /* A token of a known format in documentation is still a token. */
    scan(r, "app/README.md", "API_TOKEN = \"" GHP_OK "\"\n", &h);
    ck_assert_int_eq(only_hit(&h, "github-pat")->sev, STW_SEV_HIGH);
    /* A token of a known format in a test directory is still a token. */
    scan(r, "src/tests/fixtures/env.py", "API_TOKEN = \"" GHP_OK "\"\n", &h);
    x = only_hit(&h, "github-pat");
    ck_assert_int_eq(x->sev, STW_SEV_HIGH);
    ck_assert(x->validated);
    stw_rules_destroy(r);
}
END_TEST

/* A known test key is matched by the hash of its secret only: the listed
 * key drops to info with the source named, while another key in the same
 * file (same path, same directory) keeps its severity. */
START_TEST(test_known_test_key_lowered_by_hash_not_path)
{
    stw_rules *r;
    stw_error err = {0};
    ck_assert_int_eq(stw_rules_create(NULL, &r, &err), STW_OK);
    const char *rsa, *ec, *p;
    ck_assert_int_eq(
        stw_rules_example(r, rule_index(r, "rsa-private-key"), 1, 0, &rsa, &p),
        STW_OK);
    ck_assert_int_eq(
        stw_rules_example(r, rule_index(r, "ec-private-key"), 1, 0, &ec, &p),
        STW_OK);
    char *both = malloc(strlen(rsa) + strlen(ec) + 2);
    sprintf(both, "%s\n%s", rsa, ec);
    char *rsa_copy = strdup(rsa); /* examples die with their rule set */
    hits h;
    scan(r, "usr/lib/libdemo.so", both, &h);
    ck_assert_uint_eq(h.n, 2);
    char sha[65];
    snprintf(sha, sizeof(sha), "%s", h.v[0].sha); /* the RSA key */
    ck_assert_str_eq(h.v[0].rule, "rsa-private-key");
    stw_rules_destroy(r);

    char *dir = tu_mkdtemp("known");
    char *path = tu_path(dir, "known.yaml");
    char yaml[512];
    snprintf(yaml, sizeof(yaml),
             "known-test-keys:\n  - sha256: %s\n"
             "    source: demo lib selftest.c\n    reason: published\n",
             sha);
    tu_write_file(path, yaml, strlen(yaml));
    const char *files[] = {path};
    stw_rules_options opt = {.files = files, .n_files = 1};
    ck_assert_msg(stw_rules_create(&opt, &r, &err) == STW_OK, "%s", err.msg);
    scan(r, "usr/lib/libdemo.so", both, &h);
    ck_assert_uint_eq(h.n, 2);
    ck_assert_str_eq(h.v[0].rule, "rsa-private-key");
    ck_assert_int_eq(h.v[0].sev, STW_SEV_INFO);
    ck_assert_str_eq(h.v[0].detail, "published test key: demo lib selftest.c");
    ck_assert_str_eq(h.v[1].rule, "ec-private-key");
    ck_assert_int_eq(h.v[1].sev, STW_SEV_CRITICAL);
    ck_assert_str_eq(h.v[1].detail, "");
    /* The same key elsewhere is the same published key. */
    scan(r, "app/keys/server.pem", rsa_copy, &h);
    ck_assert_int_eq(h.v[0].sev, STW_SEV_INFO);
    stw_rules_destroy(r);
    free(rsa_copy);
    free(both);
    free(path);
    free(dir);

    expect_load_error("known-test-keys:\n  - sha256: ABC\n    source: x\n",
                      "sha256 must be 64 lowercase hex", NULL);
    expect_load_error("known-test-keys:\n  - source: x\n", "needs 'sha256'",
                      NULL);
    expect_load_error("known-test-keys:\n  - sha256: x\n    path: y\n",
                      "unknown field 'path'", NULL);
}
END_TEST

/* A user rule file (`--rules FILE`) adds rules next to the built-in ones,
 * with every field of the format, window and validator included. */
START_TEST(test_user_token_rule_file_with_window_and_validator)
{
    char *dir = tu_mkdtemp("usertok");
    char *path = tu_path(dir, "acme.yaml");
    const char *yaml =
        "rules:\n  - id: acme-token\n    title: ACME deploy token\n"
        "    category: saas\n    severity: high\n    keywords: ['acme_']\n"
        "    regex: '\\b(?<secret>acme_(?<body>[A-Za-z0-9]{24}))\\b'\n"
        "    secret-group-name: secret\n    entropy: 3.0\n    window: 256\n"
        "    examples:\n      tp: ['K=acme_Zr7pQ2mW9xL4nB8vC1kJ6hT3']\n"
        "      fp: ['K=acme_xxxxxxxxxxxxxxxxxxxxxxxx']\n";
    tu_write_file(path, yaml, strlen(yaml));
    const char *files[] = {path};
    stw_rules_options opt = {.files = files, .n_files = 1};
    stw_rules *r;
    stw_error err = {0};
    ck_assert_msg(stw_rules_create(&opt, &r, &err) == STW_OK, "%s", err.msg);
    ck_assert_ptr_nonnull(stw_rules_find(r, "acme-token"));
    ck_assert_ptr_nonnull(stw_rules_find(r, "github-pat"));
    hits h;
    scan(r, "x", "K=acme_Zr7pQ2mW9xL4nB8vC1kJ6hT3 T=" GHP_OK, &h);
    ck_assert_uint_eq(count_rule(&h, "acme-token"), 1);
    ck_assert_uint_eq(count_rule(&h, "github-pat"), 1);
    scan(r, "x", "K=acme_xxxxxxxxxxxxxxxxxxxxxxxx", &h);
    ck_assert_uint_eq(h.n, 0);
    stw_rules_destroy(r);
    free(path);
    free(dir);
    expect_load_error("rules:\n  - id: w\n    severity: low\n    regex: x\n"
                      "    window: 5\n",
                      "rule 'w'", "window '5'");
}
END_TEST

/* ---- bounded rule loading ---------------------------------------------- */

/* A generated rule file of n keyword rules, each with its own regex. */
static char *generated_rules(size_t n, size_t *len)
{
    size_t cap = 64 + n * 96, k = 0;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    k += (size_t)snprintf(s, cap, "rules:\n");
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(s + k, cap - k,
                              "  - id: gen-%zu\n    severity: low\n"
                              "    keywords: ['gk%zu_']\n"
                              "    regex: 'gk%zu_[A-Z0-9]{20}'\n",
                              i, i, i);
    *len = k;
    return s;
}

/* Loads a generated file of n rules alone with the given caps. */
static stw_status load_generated(size_t n, size_t max_rules, size_t max_bytes,
                                 stw_error *err)
{
    char *dir = tu_mkdtemp("genrules");
    char *path = tu_path(dir, "generated.yaml");
    size_t len;
    char *text = generated_rules(n, &len);
    tu_write_file(path, text, len);
    const char *files[] = {path};
    stw_rules_options opt = {.files = files,
                             .n_files = 1,
                             .no_builtin = 1,
                             .max_rules = max_rules,
                             .max_compiled_bytes = max_bytes};
    stw_rules *r = NULL;
    stw_status st = stw_rules_create(&opt, &r, err);
    stw_rules_destroy(r);
    free(text);
    free(path);
    free(dir);
    return st;
}

/* One rule past STW_MAX_RULES is refused before anything compiles, with
 * the file named; the same file at the cap loads. */
START_TEST(test_rule_file_over_rule_count_cap_refused)
{
    stw_error err = {0};
    ck_assert_int_eq(load_generated(STW_MAX_RULES + 1, 0, 0, &err),
                     STW_ERR_LIMIT);
    ck_assert_msg(strstr(err.msg, "generated.yaml") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "more than 10000 rules") != NULL, "%s",
                  err.msg);
    err = (stw_error){0};
    ck_assert_int_eq(load_generated(50, 50, 0, &err), STW_OK);
    ck_assert_int_eq(load_generated(51, 50, 0, &err), STW_ERR_LIMIT);
}
END_TEST

/* Compiled size: the regexes are counted rule by rule (the error names the
 * rule that crosses the cap), then the prefilter databases with them. */
START_TEST(test_rule_file_over_compiled_size_cap_refused)
{
    stw_error err = {0};
    ck_assert_int_eq(load_generated(200, 0, 4096, &err), STW_ERR_LIMIT);
    ck_assert_msg(strstr(err.msg, "generated.yaml: rule 'gen-") != NULL, "%s",
                  err.msg);
    ck_assert_msg(strstr(err.msg, "compiled rules exceed 4096") != NULL, "%s",
                  err.msg);
    /* 200 small regexes and their prefilter database take ~126 KiB; the
     * regexes alone fit in 96 KiB, the database then does not. */
    err = (stw_error){0};
    ck_assert_msg(load_generated(200, 0, 256u << 10, &err) == STW_OK, "%s",
                  err.msg);
    stw_status st = load_generated(200, 0, 96u << 10, &err);
    ck_assert_int_eq(st, STW_ERR_LIMIT);
    ck_assert_msg(strstr(err.msg, "generated.yaml: compiled rules and "
                                  "prefilter databases take") != NULL,
                  "%s", err.msg);
    /* The built-in rules load under the default caps. */
    stw_rules *r;
    ck_assert_int_eq(stw_rules_create(NULL, &r, &err), STW_OK);
    stw_rules_destroy(r);
}
END_TEST

/* ---- Trivy's secret config ---------------------------------------------- */

/* Writes text to a fresh rule file and loads it after the built-in rules,
 * as --rules does. */
static stw_status load_over_builtin(const char *text, stw_rules **out,
                                    stw_error *err)
{
    char *dir = tu_mkdtemp("trivy");
    char *path = tu_path(dir, "trivy-secret.yaml");
    tu_write_file(path, text, strlen(text));
    const char *files[] = {path};
    stw_rules_options opt = {.files = files, .n_files = 1};
    stw_status st = stw_rules_create(&opt, out, err);
    free(path);
    free(dir);
    return st;
}

/* A trivy-secret.yaml in the shape Trivy's documentation gives
 * (docs/guide/scanner/secret.md: custom rules with path, keywords and
 * secret-group-name, per-rule and global allow rules, exclude-block,
 * enable-builtin-rules, disable-allow-rules, skip-patterns; upper-case
 * severities), with the findings that documentation describes. */
static const char *trivy_yaml =
    "rules:\n"
    "  - id: rule1\n"
    "    category: general\n"
    "    title: Generic Rule\n"
    "    severity: HIGH\n"
    "    path: .*\\.sh\n"
    "    keywords:\n"
    "      - secret\n"
    "    regex: (?i)(?P<key>(secret))(=|:).{0,5}['\"](?P<secret>"
    "[0-9a-zA-Z\\-_=]{8,64})['\"]\n"
    "    secret-group-name: secret\n"
    "    allow-rules:\n"
    "      - id: skip-text\n"
    "        description: skip text files\n"
    "        path: .*\\.txt\n"
    "    exclude-block:\n"
    "      description: exclude blocks\n"
    "      regexes:\n"
    "        - --- ignore block start ---(.|\\s)*--- ignore block stop ---\n"
    "  - id: AcmeToken\n"
    "    category: Custom\n"
    "    title: Acme token\n"
    "    severity: CRITICAL\n"
    "    regex: acme_[a-z0-9]{12}\n"
    "  - id: SSN\n"
    "    category: Custom\n"
    "    title: Social security number\n"
    "    severity: LOW\n"
    "    regex: '[0-9]{3}-[0-9]{2}-[0-9]{4}'\n"
    "allow-rules:\n"
    "  - id: social-security-number\n"
    "    description: skip social security number\n"
    "    regex: 219-09-9999\n"
    "  - id: log-dir\n"
    "    description: skip log directory\n"
    "    path: ^\\/var\\/log\\/\n"
    "enable-builtin-rules:\n"
    "  - aws-access-key-id\n"
    "  - aws-account-id\n"
    "  - aws-secret-access-key\n"
    "disable-allow-rules:\n"
    "  - markdown\n"
    "skip-patterns:\n"
    "  - \"**/vendor/**\"\n"
    "  - \"**/*.lock\"\n";

START_TEST(test_trivy_config_loads_as_trivy_defines_it)
{
    stw_rules *r = NULL;
    stw_error err = {0};
    ck_assert_msg(load_over_builtin(trivy_yaml, &r, &err) == STW_OK, "%s",
                  err.msg);
    const stw_rule_info *info = stw_rules_find(r, "AcmeToken");
    ck_assert_ptr_nonnull(info);
    ck_assert_int_eq(info->severity, STW_SEV_CRITICAL);
    hits h;
    /* rule1: in .sh files, the secret group is the secret. */
    const char *sh = "#!/bin/sh\nexport SECRET='Xq7vN2pL9sK4'\n";
    scan(r, "app/deploy.sh", sh, &h);
    ck_assert_uint_eq(count_rule(&h, "rule1"), 1);
    ck_assert_str_eq(h.v[0].excerpt, "Xq7v\xe2\x80\xa6(12 chars)");
    scan(r, "app/deploy.py", sh, &h); /* path: .*\.sh */
    ck_assert_uint_eq(count_rule(&h, "rule1"), 0);
    scan(r, "app/deploy.sh.txt", sh, &h); /* allow rule skip-text */
    ck_assert_uint_eq(count_rule(&h, "rule1"), 0);
    /* exclude-block: a secret inside the block is not reported, one
     * outside it is. */
    scan(r, "app/deploy.sh",
         "--- ignore block start ---\nsecret='Xq7vN2pL9sK4'\n"
         "--- ignore block stop ---\nsecret='Zp4kQ9mX2vL7'\n",
         &h);
    ck_assert_uint_eq(count_rule(&h, "rule1"), 1);
    ck_assert_str_eq(h.v[0].excerpt, "Zp4k\xe2\x80\xa6(12 chars)");
    /* Custom rules apply everywhere, whatever enable-builtin-rules says. */
    scan(r, "srv/app.conf", "key = acme_k3v9q2xm7wpz\n", &h);
    ck_assert_uint_eq(count_rule(&h, "AcmeToken"), 1);
    /* Global allow rules: by regex (219-09-9999) and by a path written
     * with Trivy's leading slash (^\/var\/log\/). */
    scan(r, "srv/people.csv", "a,804-31-5527\nb,219-09-9999\n", &h);
    ck_assert_uint_eq(count_rule(&h, "SSN"), 1);
    scan(r, "var/log/app.log", "key = acme_k3v9q2xm7wpz\n", &h);
    ck_assert_uint_eq(h.n, 0);
    /* skip-patterns: globs of files not searched. */
    scan(r, "app/vendor/lib/x.conf", "key = acme_k3v9q2xm7wpz\n", &h);
    ck_assert_uint_eq(h.n, 0);
    scan(r, "app/composer.lock", "key = acme_k3v9q2xm7wpz\n", &h);
    ck_assert_uint_eq(h.n, 0);
    /* enable-builtin-rules: only the named built-in rules run (Trivy's ids
     * resolve through signatures/trivy-ids.yaml). */
    scan(r, "app/env", "AWS_ACCESS_KEY_ID=AKIAZ7QXW3MNB4RT6YVP\n", &h);
    ck_assert_uint_eq(count_rule(&h, "aws-access-key-id"), 1);
    scan(r, "app/env", "GITHUB_TOKEN=" GHP_OK "\n", &h);
    ck_assert_uint_eq(h.n, 0);
    ck_assert_ptr_null(stw_rules_find(r, "github-pat"));
    ck_assert_ptr_null(stw_rules_find(r, "generic-secret"));
    stw_rules_destroy(r);

    /* disable-rules by Trivy id (its integration test's config): every rule
     * that stands for it is off, the rest stay on. */
    ck_assert_msg(load_over_builtin("rules:\n  - id: mysecret\n"
                                    "    category: Custom\n"
                                    "    title: My Secret\n"
                                    "    severity: HIGH\n"
                                    "    regex: mysecret\n"
                                    "disable-rules:\n  - github-pat\n"
                                    "  - slack-access-token\n",
                                    &r, &err) == STW_OK,
                  "%s", err.msg);
    ck_assert_ptr_null(stw_rules_find(r, "github-pat"));
    ck_assert_ptr_null(stw_rules_find(r, "slack-bot-token"));
    ck_assert_ptr_nonnull(stw_rules_find(r, "aws-access-key-id"));
    ck_assert_ptr_nonnull(stw_rules_find(r, "mysecret"));
    stw_rules_destroy(r);

    /* A name that is neither a rule nor a Trivy built-in id is a typo. */
    ck_assert_int_eq(
        load_over_builtin("disable-rules:\n  - github-pta\n", &r, &err),
        STW_ERR_RULES);
    ck_assert_msg(strstr(err.msg, "trivy-secret.yaml") &&
                      strstr(err.msg, "disable-rules") &&
                      strstr(err.msg, "github-pta"),
                  "%s", err.msg);
    ck_assert_int_eq(
        load_over_builtin("enable-builtin-rules:\n  - aws-acess-key-id\n", &r,
                          &err),
        STW_ERR_RULES);
    ck_assert_msg(strstr(err.msg, "enable-builtin-rules"), "%s", err.msg);
    expect_load_error("exclude-block:\n  regex: x\n", "exclude-block",
                      "unknown field 'regex'");
}
END_TEST

/* Every Trivy built-in id names rules that exist, or says why none does. */
START_TEST(test_trivy_ids_name_existing_rules)
{
    stw_rules *r;
    stw_error err = {0};
    ck_assert_int_eq(stw_rules_create(NULL, &r, &err), STW_OK);
    /* Disabling each Trivy id alone must load: an id naming a rule that
     * does not exist would make the name select nothing. */
    static const char *const ids[] = {"private-key", "jwt-token",
                                      "dockerconfig-secret", "github-oauth"};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char yaml[128];
        snprintf(yaml, sizeof(yaml), "disable-rules: [%s]\n", ids[i]);
        stw_rules *d = NULL;
        ck_assert_msg(load_over_builtin(yaml, &d, &err) == STW_OK, "%s",
                      err.msg);
        ck_assert_uint_lt(stw_rules_count(d), stw_rules_count(r));
        stw_rules_destroy(d);
    }
    stw_rules_destroy(r);
}
END_TEST

/* A key given twice in a mapping: the last one wins, as for a string
 * field, and the first list is freed (fuzz_rules found each of these
 * lists leaked: rules, a rule's and the file's allow-rules,
 * known-test-keys, trivy-ids). */
#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"
START_TEST(test_repeated_list_keys_last_wins)
{
    static const char *yaml =
        "allow-rules:\n  - id: a1\n    path: '^vendor/'\n"
        "allow-rules:\n  - id: a2\n    path: '^third_party/'\n"
        "known-test-keys:\n  - sha256: '" Z64 "'\n    source: x\n"
        "known-test-keys:\n  - sha256: '" Z64 "'\n    source: y\n"
        "trivy-ids:\n  - {id: t1, reason: r}\n"
        "trivy-ids:\n  - {id: t2, reason: r}\n"
        "rules:\n  - id: dropped\n    severity: low\n    regex: 'zzz'\n"
        "rules:\n"
        "  - id: kw-token\n    severity: high\n    keywords: [tok_]\n"
        "    regex: '\\btok_(?<secret>[A-Za-z0-9]{20})\\b'\n"
        "    secret-group-name: secret\n"
        "    allow-rules:\n      - id: docs\n        regex: 'DOCS-ONLY'\n"
        "    allow-rules:\n      - id: tests\n        path: '/testdata/'\n";
    stw_rules *r;
    stw_error err = {0};
    ck_assert_msg(load_user(yaml, &r, &err, NULL) == STW_OK, "%s", err.msg);
    ck_assert_uint_eq(stw_rules_count(r), 1);
    ck_assert_ptr_null(stw_rules_find(r, "dropped"));
    hits h;
    const char *tok = "k=tok_Ab3dE5gH7jK9mN1pQ3sT # DOCS-ONLY\n";
    scan(r, "src/x.txt", tok, &h);
    ck_assert_uint_eq(h.n, 1); /* the first allow-rules is gone */
    scan(r, "src/testdata/x.txt", tok, &h);
    ck_assert_uint_eq(h.n, 0);
    scan(r, "third_party/x.txt", tok, &h);
    ck_assert_uint_eq(h.n, 0);
    scan(r, "vendor/x.txt", tok, &h);
    ck_assert_uint_eq(h.n, 1);
    stw_rules_destroy(r);
}
END_TEST

static Suite *rules_suite(void)
{
    Suite *s = suite_create("rules");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_builtin_rules_load_with_metadata);
    tcase_add_test(tc, test_builtin_rule_examples_pass);
    tcase_add_test(tc, test_private_key_secret_is_normalised_body);
    tcase_add_test(tc, test_load_bad_yaml_names_file_and_line);
    tcase_add_test(tc, test_load_unknown_field_names_rule_and_field);
    tcase_add_test(tc, test_load_bad_regex_names_file_and_rule);
    tcase_add_test(tc, test_load_field_value_errors);
    tcase_add_test(tc, test_missing_rule_file_is_io_error);
    tcase_add_test(tc, test_user_rule_overrides_and_disable);
    tcase_add_test(tc, test_engine_keyword_prefilter_fallback_modes);
    tcase_add_test(tc, test_engine_path_and_allow_rules);
    tcase_add_test(tc, test_engine_without_vectorscan_database);
    tcase_add_test(tc, test_shared_keyword_across_path_and_general_rules);
    tcase_add_test(tc, test_keyword_next_gates_hits);
    tcase_add_test(tc, test_checksum_validates_or_drops_github_tokens);
    tcase_add_test(tc, test_secret_offset_and_length_are_raw_positions);
    tcase_add_test(tc, test_symfony_app_secret_found_every_time);
    tcase_add_test(tc, test_generic_rule_yields_to_specific_rule);
    tcase_add_test(tc, test_generic_finding_in_test_context_is_info);
    tcase_add_test(tc, test_known_test_key_lowered_by_hash_not_path);
    tcase_add_test(tc, test_user_token_rule_file_with_window_and_validator);
    tcase_add_test(tc, test_rule_file_over_rule_count_cap_refused);
    tcase_add_test(tc, test_rule_file_over_compiled_size_cap_refused);
    tcase_add_test(tc, test_trivy_config_loads_as_trivy_defines_it);
    tcase_add_test(tc, test_trivy_ids_name_existing_rules);
    tcase_add_test(tc, test_repeated_list_keys_last_wins);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rules_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
