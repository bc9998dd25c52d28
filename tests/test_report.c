/* test_report.c - the JSON, SARIF and table renderers over hand-built
 * results: the documented JSON shape and nulls, SARIF rules, levels,
 * locations and the GitHub result cap, determinism, 80-column tables, the
 * recoverable-deletion marker, hostile names, and write errors. */
#include "report.h"
#include "rules.h"

#include "testutil.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- fixtures -------------------------------------------------------------
 */

static stw_rlayer small_layers[] = {
    {"sha256:1111111111111111111111111111111111111111111111111111111111111111",
     "sha256:aaaa", "application/vnd.oci.image.layer.v1.tar+gzip",
     "debootstrap --variant=minbase bookworm", 63000000, true, true},
    {"sha256:2222222222222222222222222222222222222222222222222222222222222222",
     "", "", "/bin/sh -c #(nop) COPY dir:0123 in /app ", 4096, false},
    {"sha256:3333333333333333333333333333333333333333333333333333333333333333",
     "sha256:cccc", "application/vnd.oci.image.layer.v1.tar+gzip", "", -1,
     false},
};

static stw_rimage small_images[] = {
    {"localhost/small:v1", "", "sha256:c0ffee0123456789abcdef", "linux/amd64",
     small_layers, 3},
};

enum { F_SUID, F_KEY, F_AWS, F_ENV, N_FINDINGS };

static stw_rfinding small_findings[] = {
    [F_SUID] = {.image = 0,
                .layer = 0,
                .layer_digest = "sha256:1111111111111111111111111111111111111"
                                "111111111111111111111111111",
                .path = "usr/bin/passwd",
                .kind = STW_KIND_SETUID,
                .rule = "setuid-binary",
                .severity = STW_SEV_MEDIUM,
                .line = 0,
                .offset = -1,
                .visible = true,
                .removed_in_layer = -1,
                .has_mode = true,
                .mode = 0104755,
                .uid = 0,
                .gid = 0,
                .fingerprint = "fp-suid",
                .secret_sha256 = "",
                .excerpt = "",
                .detail = ""},
    [F_KEY] = {.image = 0,
               .layer = 1,
               .layer_digest = "sha256:2222222222222222222222222222222222222"
                               "222222222222222222222222222",
               .path = "app/id_rsa",
               .kind = STW_KIND_PRIVATE_KEY,
               .rule = "rsa-private-key",
               .severity = STW_SEV_CRITICAL,
               .line = 1,
               .offset = 0,
               .visible = false,
               .removed_in_layer = 2,
               .has_mode = false,
               .validated = true,
               .fingerprint = "fp-key",
               .secret_sha256 = "ab12",
               .excerpt = "----…(1675 chars)",
               .detail = ""},
    [F_AWS] = {.image = 0,
               .layer = 1,
               .layer_digest = "sha256:2222222222222222222222222222222222222"
                               "222222222222222222222222222",
               .path = "app/.env",
               .kind = STW_KIND_SECRET,
               .rule = "aws-access-key-id",
               .severity = STW_SEV_HIGH,
               .line = 3,
               .offset = 57,
               .visible = true,
               .removed_in_layer = -1,
               .fingerprint = "fp-aws",
               .secret_sha256 = "cd34",
               .excerpt = "AKIA…(20 chars)",
               .detail = "git remote https://***@github.com/x/y"},
    [F_ENV] = {.image = 0,
               .layer = -1,
               .layer_digest = "sha256:c0ffee0123456789abcdef",
               .path = "<config>",
               .kind = STW_KIND_CONFIG,
               .rule = "github-pat",
               .severity = STW_SEV_HIGH,
               .line = 0,
               .offset = -1,
               .visible = true,
               .removed_in_layer = -1,
               .fingerprint = "fp-env",
               .secret_sha256 = "ef56",
               .excerpt = "ghp_…(40 chars)",
               .detail = "Env GITHUB_TOKEN"},
};

static stw_rerror small_errors[] = {
    {"broken.tar", "broken.tar: truncated input at byte 1024"},
};

static stw_results small_results(void)
{
    stw_results r = {0};
    r.rules_version = "0123456789abcdef";
    r.images = small_images;
    r.n_images = 1;
    r.findings = small_findings;
    r.n_findings = N_FINDINGS;
    r.errors = small_errors;
    r.n_errors = 1;
    return r;
}

/* ---- helpers --------------------------------------------------------------
 */

typedef stw_status (*render_fn)(const stw_results *r, bool color, FILE *out,
                                stw_error *err);

/* JSON, or with the flag set the HTML page: renderers without colour. */
static stw_status json_render(const stw_results *r, bool html, FILE *out,
                              stw_error *err)
{
    return html ? stw_report_html(r, NULL, out, err)
                : stw_report_json(r, out, err);
}

/* Renders into a malloc'd string; the render must succeed. */
static char *render(render_fn fn, const stw_results *r, bool color)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    stw_error err = {0};
    stw_status st = fn(r, color, f, &err);
    ck_assert_msg(st == STW_OK, "render failed: %s", err.msg);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_uint_eq(strlen(buf), len);
    return buf;
}

static json_t *render_json(const stw_results *r)
{
    char *text = render(json_render, r, false);
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    ck_assert_msg(root != NULL, "report is not JSON: %s", jerr.text);
    free(text);
    return root;
}

/* A copy of s in fresh memory (NULL stays NULL). */
static char *copy_str(const char *s)
{
    if (!s)
        return NULL;
    char *c = strdup(s);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* A deep copy of r: every array and string at another address, and the
 * summary counts, which no report document shows, changed. A renderer that
 * printed addresses, kept state between renders or read what it is not
 * given would render it differently. Free with results_copy_free. */
static stw_results results_copy(const stw_results *r)
{
    stw_results c = *r;
    c.rules_version = copy_str(r->rules_version);
    c.images = calloc(r->n_images + 1, sizeof(*c.images));
    c.findings = calloc(r->n_findings + 1, sizeof(*c.findings));
    c.errors = calloc(r->n_errors + 1, sizeof(*c.errors));
    ck_assert(c.images && c.findings && c.errors);
    for (size_t i = 0; i < r->n_images; i++) {
        const stw_rimage *s = &r->images[i];
        stw_rimage *d = &c.images[i];
        *d = *s;
        d->ref = copy_str(s->ref);
        d->manifest_digest = copy_str(s->manifest_digest);
        d->config_digest = copy_str(s->config_digest);
        d->platform = copy_str(s->platform);
        d->layers = calloc(s->n_layers + 1, sizeof(*d->layers));
        ck_assert_ptr_nonnull(d->layers);
        for (size_t l = 0; l < s->n_layers; l++) {
            d->layers[l] = s->layers[l];
            d->layers[l].digest = copy_str(s->layers[l].digest);
            d->layers[l].diff_id = copy_str(s->layers[l].diff_id);
            d->layers[l].media_type = copy_str(s->layers[l].media_type);
            d->layers[l].created_by = copy_str(s->layers[l].created_by);
        }
    }
    for (size_t i = 0; i < r->n_findings; i++) {
        const stw_rfinding *s = &r->findings[i];
        stw_rfinding *d = &c.findings[i];
        *d = *s;
        d->layer_digest = copy_str(s->layer_digest);
        d->path = copy_str(s->path);
        d->rule = copy_str(s->rule);
        d->fingerprint = copy_str(s->fingerprint);
        d->secret_sha256 = copy_str(s->secret_sha256);
        d->excerpt = copy_str(s->excerpt);
        d->detail = copy_str(s->detail);
        d->git_commit = copy_str(s->git_commit);
        d->git_path = copy_str(s->git_path);
    }
    for (size_t i = 0; i < r->n_errors; i++) {
        c.errors[i].target = copy_str(r->errors[i].target);
        c.errors[i].message = copy_str(r->errors[i].message);
    }
    c.layers_scanned = r->layers_scanned + 7;
    c.layers_cached = r->layers_cached + 3;
    return c;
}

/* a and b are the same text; if not, says where they part (check cannot
 * carry whole reports in its message). */
static void assert_same_text(const char *a, const char *b, const char *what)
{
    size_t i = 0;
    while (a[i] && a[i] == b[i])
        i++;
    ck_assert_msg(a[i] == b[i],
                  "%s: differ at byte %zu: \"%.40s\" vs \"%.40s\"", what, i,
                  a + i, b + i);
}

static void results_copy_free(stw_results *c)
{
    free(c->rules_version);
    for (size_t i = 0; i < c->n_images; i++) {
        stw_rimage *d = &c->images[i];
        free(d->ref);
        free(d->manifest_digest);
        free(d->config_digest);
        free(d->platform);
        for (size_t l = 0; l < d->n_layers; l++) {
            free(d->layers[l].digest);
            free(d->layers[l].diff_id);
            free(d->layers[l].media_type);
            free(d->layers[l].created_by);
        }
        free(d->layers);
    }
    for (size_t i = 0; i < c->n_findings; i++) {
        stw_rfinding *d = &c->findings[i];
        free(d->layer_digest);
        free(d->path);
        free(d->rule);
        free(d->fingerprint);
        free(d->secret_sha256);
        free(d->excerpt);
        free(d->detail);
        free(d->git_commit);
        free(d->git_path);
    }
    for (size_t i = 0; i < c->n_errors; i++) {
        free(c->errors[i].target);
        free(c->errors[i].message);
    }
    free(c->images);
    free(c->findings);
    free(c->errors);
}

/* Columns of one line: code points, not counting ANSI escape sequences. */
static size_t columns(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\033') {
            while (i < n && s[i] != 'm')
                i++;
            continue;
        }
        w += ((unsigned char)s[i] & 0xc0) != 0x80;
    }
    return w;
}

/* Every line fits the terminal, but for lines holding one of the whole
 * strings in keep (NULL-terminated): a path or a rule id is never cut. */
static void assert_lines_fit_but(const char *text, const char *const *keep)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        ck_assert_msg(nl != NULL, "output does not end with a newline");
        size_t w = columns(p, (size_t)(nl - p));
        bool kept = false;
        for (const char *const *k = keep; k && *k && !kept; k++) {
            const char *hit = strstr(p, *k);
            kept = hit && hit < nl;
        }
        ck_assert_msg(w <= STW_REPORT_COLUMNS || kept,
                      "line of %zu columns: %.*s", w, (int)(nl - p), p);
        p = nl + 1;
    }
}

static void assert_lines_fit(const char *text)
{
    assert_lines_fit_but(text, NULL);
}

/* The line of text containing needle, as a malloc'd string, or NULL. */
static char *line_with(const char *text, const char *needle)
{
    const char *hit = strstr(text, needle);
    if (!hit)
        return NULL;
    const char *start = hit;
    while (start > text && start[-1] != '\n')
        start--;
    const char *end = strchr(hit, '\n');
    size_t n = end ? (size_t)(end - start) : strlen(start);
    char *line = malloc(n + 1);
    memcpy(line, start, n);
    line[n] = 0;
    return line;
}

/* Both found, and a before b. */
static void assert_before(const char *a, const char *b)
{
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_msg(a < b, "\"%.20s\" is not before \"%.20s\"", a, b);
}

static void assert_type(json_t *obj, const char *key, json_type type)
{
    json_t *v = json_object_get(obj, key);
    ck_assert_msg(v != NULL, "missing key '%s'", key);
    ck_assert_msg(json_typeof(v) == type, "key '%s' has type %d, want %d", key,
                  json_typeof(v), type);
}

static void assert_keys(json_t *obj, const char *const *keys, size_t n)
{
    ck_assert_uint_eq(json_object_size(obj), n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(json_object_get(obj, keys[i]) != NULL, "missing '%s'",
                      keys[i]);
}

/* ---- JSON -----------------------------------------------------------------
 */

START_TEST(test_json_has_every_documented_key_with_its_type)
{
    stw_results r = small_results();
    json_t *root = render_json(&r);
    static const char *const top[] = {"schema", "tool", "images", "findings",
                                      "errors"};
    assert_keys(root, top, 5);
    ck_assert_int_eq(json_integer_value(json_object_get(root, "schema")), 1);

    json_t *tool = json_object_get(root, "tool");
    ck_assert_str_eq(json_string_value(json_object_get(tool, "name")),
                     "stowaway");
    ck_assert_str_eq(json_string_value(json_object_get(tool, "version")),
                     STW_VERSION);
    ck_assert_str_eq(json_string_value(json_object_get(tool, "rules_version")),
                     "0123456789abcdef");

    json_t *images = json_object_get(root, "images");
    ck_assert_uint_eq(json_array_size(images), 1);
    json_t *im = json_array_get(images, 0);
    static const char *const ikeys[] = {"ref", "manifest_digest",
                                        "config_digest", "platform", "layers"};
    assert_keys(im, ikeys, 5);
    ck_assert_str_eq(json_string_value(json_object_get(im, "ref")),
                     "localhost/small:v1");
    assert_type(im, "manifest_digest", JSON_NULL); /* "" in the results */
    assert_type(im, "config_digest", JSON_STRING);
    ck_assert_str_eq(json_string_value(json_object_get(im, "platform")),
                     "linux/amd64");

    json_t *layers = json_object_get(im, "layers");
    ck_assert_uint_eq(json_array_size(layers), 3);
    static const char *const lkeys[] = {
        "index",      "digest", "diff_id",    "diff_id_verified",
        "media_type", "size",   "created_by", "cached"};
    for (size_t i = 0; i < 3; i++) {
        json_t *l = json_array_get(layers, i);
        assert_keys(l, lkeys, 8);
        ck_assert_int_eq(json_integer_value(json_object_get(l, "index")),
                         (json_int_t)i);
        assert_type(l, "digest", JSON_STRING);
    }
    json_t *l0 = json_array_get(layers, 0), *l1 = json_array_get(layers, 1),
           *l2 = json_array_get(layers, 2);
    ck_assert_int_eq(json_integer_value(json_object_get(l0, "size")), 63000000);
    assert_type(l0, "cached", JSON_TRUE);
    assert_type(l1, "cached", JSON_FALSE);
    assert_type(l1, "diff_id", JSON_NULL);
    assert_type(l0, "diff_id_verified", JSON_TRUE);
    assert_type(l2, "diff_id_verified", JSON_FALSE);
    assert_type(l1, "media_type", JSON_NULL);
    assert_type(l2, "created_by", JSON_NULL);
    assert_type(l2, "size", JSON_NULL);

    json_t *findings = json_object_get(root, "findings");
    ck_assert_uint_eq(json_array_size(findings), N_FINDINGS);
    static const char *const fkeys[] = {
        "image",     "layer",     "layer_digest",     "path",
        "kind",      "rule",      "severity",         "line",
        "offset",    "visible",   "removed_in_layer", "mode",
        "uid",       "gid",       "fingerprint",      "secret_sha256",
        "excerpt",   "validated", "detail",           "git",
        "in_history"};
    for (size_t i = 0; i < N_FINDINGS; i++) {
        json_t *f = json_array_get(findings, i);
        assert_keys(f, fkeys, sizeof(fkeys) / sizeof(fkeys[0]));
        assert_type(f, "image", JSON_INTEGER);
        assert_type(f, "layer_digest", JSON_STRING);
        assert_type(f, "path", JSON_STRING);
        assert_type(f, "kind", JSON_STRING);
        assert_type(f, "rule", JSON_STRING);
        assert_type(f, "severity", JSON_STRING);
        assert_type(f, "fingerprint", JSON_STRING);
    }

    json_t *suid = json_array_get(findings, F_SUID);
    ck_assert_str_eq(json_string_value(json_object_get(suid, "kind")),
                     "setuid");
    ck_assert_str_eq(json_string_value(json_object_get(suid, "severity")),
                     "medium");
    /* Permission bits only, as a number: 04755 == 2541. */
    ck_assert_int_eq(json_integer_value(json_object_get(suid, "mode")), 04755);
    ck_assert_int_eq(json_integer_value(json_object_get(suid, "uid")), 0);
    assert_type(suid, "gid", JSON_INTEGER);
    assert_type(suid, "line", JSON_NULL);
    assert_type(suid, "offset", JSON_NULL);
    assert_type(suid, "secret_sha256", JSON_NULL);
    assert_type(suid, "excerpt", JSON_NULL);
    assert_type(suid, "detail", JSON_NULL);
    assert_type(suid, "removed_in_layer", JSON_NULL);
    assert_type(suid, "visible", JSON_TRUE);
    assert_type(suid, "validated", JSON_FALSE);
    assert_type(suid, "git", JSON_NULL);
    assert_type(suid, "in_history", JSON_FALSE);

    json_t *key = json_array_get(findings, F_KEY);
    ck_assert_int_eq(json_integer_value(json_object_get(key, "layer")), 1);
    assert_type(key, "visible", JSON_FALSE);
    ck_assert_int_eq(
        json_integer_value(json_object_get(key, "removed_in_layer")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(key, "offset")), 0);
    assert_type(key, "mode", JSON_NULL);
    assert_type(key, "uid", JSON_NULL);
    assert_type(key, "gid", JSON_NULL);
    assert_type(key, "validated", JSON_TRUE);
    ck_assert_str_eq(json_string_value(json_object_get(key, "kind")),
                     "private-key");
    ck_assert_str_eq(json_string_value(json_object_get(key, "excerpt")),
                     "----…(1675 chars)");

    json_t *aws = json_array_get(findings, F_AWS);
    ck_assert_int_eq(json_integer_value(json_object_get(aws, "line")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(aws, "offset")), 57);
    ck_assert_str_eq(json_string_value(json_object_get(aws, "secret_sha256")),
                     "cd34");
    ck_assert_str_eq(json_string_value(json_object_get(aws, "detail")),
                     "git remote https://***@github.com/x/y");

    json_t *env = json_array_get(findings, F_ENV);
    assert_type(env, "layer", JSON_NULL);
    ck_assert_str_eq(json_string_value(json_object_get(env, "path")),
                     "<config>");

    json_t *errors = json_object_get(root, "errors");
    ck_assert_uint_eq(json_array_size(errors), 1);
    json_t *e = json_array_get(errors, 0);
    static const char *const ekeys[] = {"target", "message"};
    assert_keys(e, ekeys, 2);
    ck_assert_str_eq(json_string_value(json_object_get(e, "target")),
                     "broken.tar");
    json_decref(root);
}
END_TEST

/* Deterministic: the bytes depend on the results and on nothing else (a
 * copy elsewhere in memory, with other summary counts, renders the same),
 * and a field the report shows does change them. */
START_TEST(test_json_bytes_depend_only_on_the_results)
{
    stw_results r = small_results();
    char *a = render(json_render, &r, false);
    stw_results c = results_copy(&r);
    char *b = render(json_render, &c, false);
    assert_same_text(a, b, "JSON of a copy of the same results");
    free(b);
    c.findings[F_KEY].line += 1;
    b = render(json_render, &c, false);
    ck_assert_msg(strcmp(a, b) != 0, "a changed line left the JSON as it was");
    results_copy_free(&c);
    /* Keys in documented order, two-space indent, trailing newline. */
    ck_assert(strncmp(a, "{\n  \"schema\": 1,\n  \"tool\": {", 27) == 0);
    ck_assert(a[strlen(a) - 1] == '\n');
    assert_before(strstr(a, "\"images\""), strstr(a, "\"findings\""));
    assert_before(strstr(a, "\"findings\""), strstr(a, "\"errors\""));
    free(a);
    free(b);
}
END_TEST

START_TEST(test_json_replaces_invalid_utf8_in_paths)
{
    stw_results r = small_results();
    stw_rfinding f = small_findings[F_AWS];
    f.path = "app/\xff\xfe.env\xc3";
    r.findings = &f;
    r.n_findings = 1;
    json_t *root = render_json(&r);
    json_t *jf = json_array_get(json_object_get(root, "findings"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(jf, "path")),
                     "app/\xef\xbf\xbd\xef\xbf\xbd.env\xef\xbf\xbd");
    json_decref(root);
}
END_TEST

START_TEST(test_json_empty_results_have_empty_arrays)
{
    stw_results r = {0};
    json_t *root = render_json(&r);
    ck_assert_uint_eq(json_array_size(json_object_get(root, "images")), 0);
    ck_assert(json_is_array(json_object_get(root, "findings")));
    ck_assert(json_is_array(json_object_get(root, "errors")));
    ck_assert(json_is_null(
        json_object_get(json_object_get(root, "tool"), "rules_version")));
    json_decref(root);
}
END_TEST

/* ---- table ----------------------------------------------------------------
 */

START_TEST(test_table_orders_by_severity_then_layer_with_history)
{
    stw_results r = small_results();
    char *t = render(stw_report_table, &r, false);
    assert_lines_fit(t);
    ck_assert_msg(strncmp(t,
                          "localhost/small:v1  linux/amd64  config "
                          "sha256:c0ffee012345  3 layers\n",
                          70) == 0,
                  "header: %s", t);
    char *l0 = line_with(t, "  layer 0  ");
    ck_assert_ptr_nonnull(l0);
    ck_assert_str_eq(l0, "  layer 0  sha256:111111111111  debootstrap "
                         "--variant=minbase bookworm");
    /* Legacy builder noise stripped, trailing space dropped. */
    char *l1 = line_with(t, "  layer 1  ");
    ck_assert_str_eq(l1, "  layer 1  sha256:222222222222  COPY dir:0123 in "
                         "/app");
    /* Nothing found in layer 2: no header for it. */
    ck_assert_ptr_null(strstr(t, "layer 2  sha256"));
    /* Most severe first; among equals layer order, config last; a layer's
     * header above each run of its findings. */
    assert_before(strstr(t, "app/id_rsa"), strstr(t, "app/.env:3"));
    assert_before(strstr(t, "app/.env:3"), strstr(t, "  image config\n"));
    assert_before(strstr(t, "  image config\n"), strstr(t, "ghp_…"));
    assert_before(strstr(t, "ghp_…"), strstr(t, "  layer 0  "));
    assert_before(strstr(t, "  layer 0  "), strstr(t, "usr/bin/passwd"));
    ck_assert_ptr_null(strstr(strstr(t, "  layer 1  ") + 1, "  layer 1  "));
    char *aws = line_with(t, "app/.env");
    ck_assert_str_eq(aws, "    high      secret/aws-access-key-id  "
                          "app/.env:3  AKIA…(20 chars)");
    ck_assert_ptr_nonnull(
        strstr(t, "\n              git remote https://***@github.com/x/y\n"));
    free(l0);
    free(l1);
    free(aws);
    free(t);
}
END_TEST

/* ---- folding what nobody acts on ------------------------------------------
 */

/* A stock setuid (or setgid) binary as detect/meta.c reports it: low. */
static stw_rfinding stock(int layer, const char *path, stw_kind kind)
{
    stw_rfinding f = small_findings[F_SUID];
    f.layer = layer;
    f.layer_digest = small_layers[layer].digest;
    f.path = (char *)path;
    f.kind = kind;
    f.rule = kind == STW_KIND_SETUID ? "setuid-file" : "setgid-file";
    f.severity = STW_SEV_LOW;
    return f;
}

/* A published test key: info, with the detail known-test-keys gives. */
static stw_rfinding test_key(int layer, const char *path)
{
    stw_rfinding f = small_findings[F_KEY];
    f.layer = layer;
    f.layer_digest = small_layers[layer].digest;
    f.path = (char *)path;
    f.severity = STW_SEV_INFO;
    f.visible = true;
    f.removed_in_layer = -1;
    f.detail = "published test key: GnuTLS lib/crypto-selftests-pk.c";
    return f;
}

/* Layer 0: five stock binaries (one both setuid and setgid), a setuid
 * helper that is no distribution's, two published test keys and a
 * world-writable directory (info, but not folded); layer 1: one stock
 * binary and the real key. */
static stw_rfinding fold_findings[12];

static stw_results fold_results(void)
{
    size_t k = 0;
    fold_findings[k++] = stock(0, "usr/bin/su", STW_KIND_SETUID);
    fold_findings[k++] = stock(0, "usr/bin/passwd", STW_KIND_SETUID);
    fold_findings[k++] = stock(0, "bin/mount", STW_KIND_SETUID);
    fold_findings[k++] = stock(0, "usr/bin/wall", STW_KIND_SETGID);
    fold_findings[k++] = stock(0, "usr/bin/at", STW_KIND_SETUID);
    fold_findings[k++] = stock(0, "usr/bin/at", STW_KIND_SETGID);
    stw_rfinding helper = small_findings[F_SUID];
    helper.path = "usr/local/bin/helper";
    helper.rule = "setuid-file";
    helper.severity = STW_SEV_HIGH;
    fold_findings[k++] = helper;
    fold_findings[k++] =
        test_key(0, "usr/lib/x86_64-linux-gnu/libgnutls.so.30");
    fold_findings[k++] =
        test_key(0, "usr/lib/x86_64-linux-gnu/libgnutls.so.30");
    stw_rfinding ww = small_findings[F_SUID];
    ww.path = "var/bad";
    ww.kind = STW_KIND_WORLD_WRITABLE;
    ww.rule = "world-writable-dir";
    ww.severity = STW_SEV_INFO;
    fold_findings[k++] = ww;
    fold_findings[k++] = stock(1, "usr/bin/newgrp", STW_KIND_SETUID);
    fold_findings[k++] = small_findings[F_KEY];
    stw_results r = small_results();
    r.findings = fold_findings;
    r.n_findings = k;
    r.n_errors = 0;
    return r;
}

/* A render_fn for the table as the CLI asks for it (fix lines); its flag
 * is -v, not colour. */
static stw_status table_cli(const stw_results *r, bool verbose, FILE *out,
                            stw_error *err)
{
    stw_table_options o = {.verbose = verbose, .remediation = true};
    return stw_report_table_ex(r, &o, out, err);
}

START_TEST(test_table_folds_stock_setuid_binaries_per_layer)
{
    stw_results r = fold_results();
    char *t = render(table_cli, &r, false);
    assert_lines_fit(t);
    /* Distinct files counted (at is setuid and setgid), named by their
     * last component in path order. */
    char *l0 = line_with(t, "  layer 0: 5 ");
    ck_assert_ptr_nonnull(l0);
    /* The names that fit in 80 columns, then an ellipsis. */
    ck_assert_str_eq(l0, "  layer 0: 5 setuid/setgid binaries (mount, at, "
                         "passwd, su, \xe2\x80\xa6) - -v lists them");
    char *l1 = line_with(t, "  layer 1: 1 ");
    ck_assert_ptr_nonnull(l1);
    ck_assert_str_eq(l1, "  layer 1: 1 setuid binary (newgrp) - -v lists "
                         "them");
    /* None of them on a line of its own; a setuid file no distribution
     * ships, and an info finding that is no test key, still are. */
    ck_assert_ptr_null(strstr(t, "usr/bin/passwd"));
    ck_assert_ptr_null(strstr(t, "setgid-file"));
    ck_assert_ptr_nonnull(strstr(t, "usr/local/bin/helper"));
    ck_assert_ptr_nonnull(strstr(t, "var/bad"));
    /* Folded lines come after every finding that matters, layer 0 first. */
    assert_before(strstr(t, "var/bad"), l0 ? strstr(t, "  layer 0: 5 ") : NULL);
    assert_before(strstr(t, "  layer 0: 5 "), strstr(t, "  layer 1: 1 "));
    /* The summary still counts every finding. */
    ck_assert_ptr_nonnull(strstr(t, ", 12 findings: "));
    free(l0);
    free(l1);
    free(t);
}
END_TEST

START_TEST(test_table_folds_published_test_keys_per_layer)
{
    stw_results r = fold_results();
    char *t = render(table_cli, &r, false);
    char *l = line_with(t, "published test key");
    ck_assert_ptr_nonnull(l);
    ck_assert_str_eq(l, "  layer 0: 2 published test keys (libgnutls.so.30) "
                        "- -v lists them");
    /* A real key stays listed, most severe first, with its fix. */
    assert_before(strstr(t, "critical  private-key/rsa-private-key"),
                  strstr(t, "high      setuid/setuid-file"));
    ck_assert_ptr_nonnull(strstr(t, "fix: remove the key"));
    free(l);
    free(t);

    /* Listed (-v), a test key says there is nothing to rotate. */
    r.findings = &fold_findings[7];
    r.n_findings = 1;
    t = render(table_cli, &r, true);
    ck_assert_ptr_nonnull(
        strstr(t, "\n              fix: published test key, nothing to "
                  "rotate\n"));
    ck_assert_ptr_null(strstr(t, "rotate it"));
    ck_assert_ptr_null(strstr(t, "-v lists them"));
    free(t);
}
END_TEST

START_TEST(test_table_fold_line_cuts_names_to_80_columns)
{
    static const char *const names[] = {
        "usr/bin/chfn",     "usr/bin/chsh",        "usr/bin/gpasswd",
        "usr/bin/mount",    "usr/bin/newgrp",      "usr/bin/passwd",
        "usr/bin/su",       "usr/bin/umount",      "usr/bin/sudo",
        "usr/bin/sudoedit", "usr/bin/crontab",     "usr/bin/chage",
        "usr/bin/expiry",   "usr/sbin/unix_chkpwd"};
    enum { N = sizeof(names) / sizeof(*names) };
    stw_rfinding f[N];
    for (size_t i = 0; i < N; i++)
        f[i] = stock(0, names[i], STW_KIND_SETUID);
    stw_results r = small_results();
    r.findings = f;
    r.n_findings = N;
    r.n_errors = 0;
    char *t = render(table_cli, &r, false);
    assert_lines_fit(t);
    char *l = line_with(t, "  layer 0: 14 setuid binaries (");
    ck_assert_ptr_nonnull(l);
    ck_assert_msg(strstr(l, ", "
                            "\xe2\x80\xa6"
                            ") - -v lists them") != NULL,
                  "no ellipsis: %s", l);
    ck_assert_ptr_nonnull(strstr(l, "(chage, chfn, "));
    free(l);
    free(t);
}
END_TEST

START_TEST(test_table_verbose_lists_every_finding)
{
    stw_results r = fold_results();
    char *t = render(table_cli, &r, true);
    assert_lines_fit(t);
    ck_assert_ptr_null(strstr(t, "-v lists them"));
    for (size_t i = 0; i < r.n_findings; i++)
        ck_assert_msg(strstr(t, r.findings[i].path) != NULL, "%s not listed",
                      r.findings[i].path);
    ck_assert_ptr_nonnull(strstr(t, "setgid/setgid-file  usr/bin/at"));
    /* Still most severe first: the low stock binaries after the high. */
    assert_before(strstr(t, "usr/local/bin/helper"), strstr(t, "usr/bin/su"));
    assert_before(strstr(t, "usr/bin/su"), strstr(t, "var/bad"));
    free(t);
}
END_TEST

START_TEST(test_table_only_folded_findings_still_fold)
{
    stw_results r = fold_results();
    r.n_findings = 6; /* the stock binaries of layer 0 alone */
    char *t = render(table_cli, &r, false);
    ck_assert_ptr_nonnull(strstr(t, "3 layers\n  layer 0: 5 setuid/setgid "));
    ck_assert_ptr_null(strstr(t, "no findings"));
    ck_assert_ptr_null(strstr(t, "  layer 0  sha256"));
    free(t);
}
END_TEST

START_TEST(test_html_orders_folds_and_counts_config_kind)
{
    stw_results r = fold_results();
    char *h = render(json_render, &r, true);
    /* Layer 0: the high helper before the info directory, the stock
     * binaries and test keys behind a line each that opens to list them. */
    const char *l0 = strstr(h, "data-layer=\"0\"");
    ck_assert_ptr_nonnull(l0);
    assert_before(strstr(l0, "usr/local/bin/helper"), strstr(l0, "var/bad"));
    assert_before(strstr(l0, "var/bad"),
                  strstr(l0, "<details class=\"fold\"><summary>5 "
                             "setuid/setgid binaries (mount, at, passwd, su, "
                             "wall) &mdash; installed so by the "
                             "distribution</summary>"));
    ck_assert_ptr_nonnull(
        strstr(l0, "<details class=\"fold\"><summary>2 published test keys "
                   "(libgnutls.so.30) &mdash; published on purpose, nothing "
                   "to rotate</summary>"));
    ck_assert_ptr_nonnull(strstr(h, "Published test key, nothing to rotate."));
    free(h);

    /* The config section's finding is counted under config, whatever its
     * own kind (an Env secret is a secret): the filter and its count match
     * what the page lists. */
    r = small_results();
    stw_rfinding f[N_FINDINGS];
    memcpy(f, small_findings, sizeof(f));
    f[F_ENV].kind = STW_KIND_SECRET;
    r.findings = f;
    h = render(json_render, &r, true);
    ck_assert_ptr_nonnull(strstr(h, "data-kind=\"config\""));
    ck_assert_ptr_nonnull(strstr(h, "value=\"config\" checked> config (1)"));
    ck_assert_ptr_nonnull(strstr(h, "value=\"secret\" checked> secret (1)"));
    free(h);
}
END_TEST

START_TEST(test_table_setuid_shows_mode_and_owner)
{
    stw_results r = small_results();
    char *t = render(stw_report_table, &r, false);
    char *l = line_with(t, "usr/bin/passwd");
    ck_assert_str_eq(l, "    medium    setuid/setuid-binary  usr/bin/passwd  "
                        "mode 4755 uid 0 gid 0");
    free(l);
    free(t);
}
END_TEST

START_TEST(test_table_marks_deleted_findings_as_recoverable)
{
    stw_results r = small_results();
    char *t = render(stw_report_table, &r, false);
    const char *key = strstr(t, "app/id_rsa");
    ck_assert_ptr_nonnull(key);
    const char *next = strchr(key, '\n') + 1;
    ck_assert_msg(strncmp(next,
                          "              [deleted in layer 2 but recoverable "
                          "from layer 1]\n",
                          64) == 0,
                  "no marker after the deleted finding: %s", next);
    /* Exactly one marker: the visible findings have none. */
    const char *m = strstr(t, "[deleted");
    ck_assert_ptr_null(strstr(m + 1, "[deleted"));
    /* The summary counts it. */
    ck_assert_ptr_nonnull(
        strstr(t, "\n1 of them deleted in a later layer but recoverable\n"));
    free(t);
}
END_TEST

START_TEST(test_table_ends_with_errors_then_summary)
{
    stw_results r = small_results();
    char *t = render(stw_report_table, &r, false);
    const char *tail = "\nerrors:\n"
                       "  broken.tar: truncated input at byte 1024\n"
                       "1 image, 3 layers (1 cached), 4 findings: 1 critical, "
                       "2 high, 1 medium\n"
                       "1 of them deleted in a later layer but recoverable\n";
    size_t tl = strlen(tail), n = strlen(t);
    ck_assert_msg(n > tl && strcmp(t + n - tl, tail) == 0, "tail: %s", t);
    assert_lines_fit(t);
    free(t);
}
END_TEST

START_TEST(test_table_error_target_prefixed_when_message_lacks_it)
{
    stw_results r = small_results();
    stw_rerror e = {"img.tar", "unexpected end of archive"};
    r.errors = &e;
    char *t = render(stw_report_table, &r, false);
    ck_assert_ptr_nonnull(
        strstr(t, "\n  img.tar: unexpected end of archive\n"));
    free(t);
}
END_TEST

START_TEST(test_table_long_fields_fit_80_columns_but_never_cut_path_or_rule)
{
    char path[600], cb[700], ref[200], msg[400];
    memset(path, 'p', sizeof(path));
    memcpy(path + sizeof(path) - 12, "/secret.pem", 12);
    memset(cb, 'c', sizeof(cb) - 1);
    cb[sizeof(cb) - 1] = 0;
    memset(ref, 'r', sizeof(ref) - 1);
    ref[sizeof(ref) - 1] = 0;
    for (size_t i = 0; i < sizeof(msg) - 1; i++)
        msg[i] = i % 7 == 6 ? ' ' : 'm';
    msg[sizeof(msg) - 1] = 0;

    stw_rlayer layers[3];
    memcpy(layers, small_layers, sizeof(layers));
    layers[1].created_by = cb;
    stw_rimage im = small_images[0];
    im.ref = ref;
    im.layers = layers;
    stw_rfinding f[N_FINDINGS];
    memcpy(f, small_findings, sizeof(f));
    f[F_KEY].path = path;
    f[F_KEY].rule = "a-very-long-rule-identifier-that-goes-on-and-on";
    f[F_KEY].excerpt = "xxxx…(999999 chars) and a long tail of excerpt";
    f[F_AWS].detail = cb;
    f[F_SUID].uid = 4294967294;
    f[F_SUID].gid = 4294967294;
    stw_rerror e = {"t.tar", msg};
    stw_results r = small_results();
    r.images = &im;
    r.findings = f;
    r.errors = &e;

    for (int color = 0; color < 2; color++) {
        char *t = render(stw_report_table, &r, color);
        const char *keep[] = {path, f[F_KEY].rule, NULL};
        assert_lines_fit_but(t, keep);
        /* The path is whole, on a line of its own with its line number;
         * the rule id is whole; the excerpt, a redacted hint, is cut. */
        char *l = line_with(t, "/secret.pem");
        ck_assert_ptr_nonnull(l);
        ck_assert_ptr_nonnull(strstr(l, path));
        ck_assert_ptr_nonnull(strstr(l, "/secret.pem:1"));
        free(l);
        l = line_with(t, f[F_KEY].rule);
        ck_assert_ptr_nonnull(l);
        ck_assert_ptr_null(strstr(l, "pppp"));
        ck_assert_ptr_null(strstr(l, "long tail of excerpt"));
        free(l);
        /* The error is wrapped, not cut. */
        ck_assert_ptr_nonnull(strstr(t, "mmmmmm\n    mmmmmm"));
        ck_assert(color ? strchr(t, '\033') != NULL : strchr(t, '\033') == 0);
        free(t);
    }
}
END_TEST

START_TEST(test_git_history_finding_in_json_and_table)
{
    stw_results r = small_results();
    stw_rfinding f[2] = {small_findings[F_AWS], small_findings[F_ENV]};
    f[0].path = "srv/app/.git";
    f[0].git_source = STW_GIT_BLOB;
    f[0].git_commit = "3f2a9c1d5e6f708192a3b4c5d6e7f8091a2b3c4d";
    f[0].git_path = "config/deploy.env";
    f[0].git_reachable = false;
    f[0].git_in_worktree = false;
    f[1].in_history = true;
    r.findings = f;
    r.n_findings = 2;
    json_t *root = render_json(&r);
    json_t *g = json_object_get(
        json_array_get(json_object_get(root, "findings"), 0), "git");
    ck_assert(json_is_object(g));
    ck_assert_str_eq(json_string_value(json_object_get(g, "commit")),
                     f[0].git_commit);
    ck_assert_str_eq(json_string_value(json_object_get(g, "path")),
                     "config/deploy.env");
    ck_assert_str_eq(json_string_value(json_object_get(g, "source")), "blob");
    ck_assert(json_is_false(json_object_get(g, "reachable")));
    ck_assert(json_is_false(json_object_get(g, "in_worktree")));
    ck_assert(json_is_true(json_object_get(
        json_array_get(json_object_get(root, "findings"), 1), "in_history")));
    json_decref(root);
    char *t = render(stw_report_table, &r, false);
    ck_assert_ptr_nonnull(
        strstr(t, "srv/app/.git  history 3f2a9c1: config/deploy.env "
                  "(unreachable):"));
    ck_assert_ptr_nonnull(strstr(t, "[only in git history]"));
    ck_assert_ptr_nonnull(strstr(t, "[also in git history]"));
    free(t);
}
END_TEST

START_TEST(test_table_hostile_names_cannot_drive_the_terminal)
{
    stw_results r = small_results();
    stw_rfinding f = small_findings[F_AWS];
    f.path = "app/\033[2J\nfake\r\x9b\xe2\x80\xae.env\xff";
    r.findings = &f;
    r.n_findings = 1;
    r.n_errors = 0;
    char *t = render(stw_report_table, &r, false);
    ck_assert_ptr_null(strchr(t, '\033'));
    ck_assert_ptr_null(strchr(t, '\r'));
    ck_assert_ptr_nonnull(strstr(t, "app/?[2J?fake???.env?:3"));
    assert_lines_fit(t);
    free(t);
}
END_TEST

START_TEST(test_table_empty_results_print_one_quiet_line)
{
    stw_results r = small_results();
    r.n_findings = 0;
    r.n_errors = 0;
    char *t = render(stw_report_table, &r, false);
    ck_assert_str_eq(t, "no findings in 1 image (3 layers)\n");
    free(t);
    r.n_images = 0;
    t = render(stw_report_table, &r, true);
    ck_assert_str_eq(t, "no findings in 0 images (0 layers)\n");
    free(t);
}
END_TEST

START_TEST(test_table_shared_layers_counted_once)
{
    stw_rimage two[2] = {small_images[0], small_images[0]};
    two[1].ref = "localhost/other:v2";
    two[1].n_layers = 2; /* shares layers 0 and 1 */
    stw_results r = small_results();
    r.images = two;
    r.n_images = 2;
    r.n_errors = 0;
    char *t = render(stw_report_table, &r, false);
    ck_assert_ptr_nonnull(strstr(t, "\n2 images, 3 layers (1 cached), "));
    /* The image without findings still gets its header. */
    ck_assert_ptr_nonnull(strstr(t, "\nlocalhost/other:v2  linux/amd64  "
                                    "config sha256:c0ffee012345  2 layers\n"
                                    "  no findings\n"));
    free(t);
}
END_TEST

START_TEST(test_write_error_is_reported)
{
    FILE *full = fopen("/dev/full", "w");
    if (!full)
        return; /* not Linux */
    stw_results r = small_results();
    stw_error err = {0};
    ck_assert_int_eq(stw_report_table(&r, false, full, &err), STW_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "writing report"));
    clearerr(full);
    ck_assert_int_eq(stw_report_json(&r, full, &err), STW_ERR_IO);
    clearerr(full);
    ck_assert_int_eq(stw_report_sarif(&r, NULL, full, &err), STW_ERR_IO);
    fclose(full);
}
END_TEST

START_TEST(test_count_at_least_and_format_parse)
{
    stw_results r = small_results();
    ck_assert_uint_eq(stw_report_count_at_least(&r, STW_SEV_CRITICAL), 1);
    ck_assert_uint_eq(stw_report_count_at_least(&r, STW_SEV_HIGH), 3);
    ck_assert_uint_eq(stw_report_count_at_least(&r, STW_SEV_INFO), 4);
    stw_report_format fmt = STW_REPORT_TABLE;
    ck_assert_int_eq(stw_report_format_parse("json", &fmt), STW_OK);
    ck_assert_int_eq(fmt, STW_REPORT_JSON);
    ck_assert_int_eq(stw_report_format_parse("table", &fmt), STW_OK);
    ck_assert_int_eq(fmt, STW_REPORT_TABLE);
    ck_assert_int_eq(stw_report_format_parse("sarif", &fmt), STW_OK);
    ck_assert_int_eq(fmt, STW_REPORT_SARIF);
    fmt = STW_REPORT_TABLE;
    ck_assert_int_eq(stw_report_format_parse("SARIF", &fmt), STW_ERR_USAGE);
    ck_assert_int_eq(stw_report_format_parse(NULL, &fmt), STW_ERR_USAGE);
    ck_assert_int_eq(fmt, STW_REPORT_TABLE);
}
END_TEST

START_TEST(test_count_gating_drops_hidden_only_when_asked)
{
    stw_results r = small_results();
    /* F_KEY, the only critical finding, is hidden. */
    ck_assert_uint_eq(stw_report_count_gating(&r, STW_SEV_CRITICAL, true), 1);
    ck_assert_uint_eq(stw_report_count_gating(&r, STW_SEV_CRITICAL, false), 0);
    ck_assert_uint_eq(stw_report_count_gating(&r, STW_SEV_HIGH, false), 2);
    ck_assert_uint_eq(stw_report_count_gating(&r, STW_SEV_INFO, false), 3);
    ck_assert_uint_eq(stw_report_count_gating(NULL, STW_SEV_INFO, true), 0);
}
END_TEST

/* ---- SARIF ----------------------------------------------------------------
 */

/* Renders r as SARIF with rules (may be NULL) and parses it. */
static json_t *render_sarif(const stw_results *r, const stw_rules *rules,
                            char **text_out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    stw_error err = {0};
    stw_status st = stw_report_sarif(r, rules, f, &err);
    ck_assert_msg(st == STW_OK, "render failed: %s", err.msg);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert(len > 0 && buf[len - 1] == '\n');
    json_error_t jerr;
    json_t *root = json_loads(buf, 0, &jerr);
    ck_assert_msg(root != NULL, "SARIF is not JSON: %s", jerr.text);
    if (text_out)
        *text_out = buf;
    else
        free(buf);
    return root;
}

static json_t *sarif_run(json_t *root)
{
    json_t *runs = json_object_get(root, "runs");
    ck_assert_uint_eq(json_array_size(runs), 1);
    return json_array_get(runs, 0);
}

/* The result whose properties.path is path. */
static json_t *sarif_result_for(json_t *run, const char *path)
{
    json_t *results = json_object_get(run, "results");
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *x = json_array_get(results, i);
        const char *p = json_string_value(
            json_object_get(json_object_get(x, "properties"), "path"));
        if (p && strcmp(p, path) == 0)
            return x;
    }
    ck_abort_msg("no result for %s", path);
    return NULL;
}

static json_t *sarif_rule_by_id(json_t *run, const char *id)
{
    json_t *rules = json_object_get(
        json_object_get(json_object_get(run, "tool"), "driver"), "rules");
    for (size_t i = 0; i < json_array_size(rules); i++) {
        json_t *ru = json_array_get(rules, i);
        if (strcmp(json_string_value(json_object_get(ru, "id")), id) == 0)
            return ru;
    }
    ck_abort_msg("no rule %s", id);
    return NULL;
}

static const char *jpath_str(json_t *o, const char *a, const char *b,
                             const char *c)
{
    json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    if (c)
        v = json_object_get(v, c);
    return json_string_value(v);
}

/* The small results with the setuid finding under the metadata rule id. */
static stw_rfinding sarif_findings[N_FINDINGS];

static stw_results sarif_results(void)
{
    memcpy(sarif_findings, small_findings, sizeof(sarif_findings));
    sarif_findings[F_SUID].rule = "setuid-file";
    stw_results r = small_results();
    r.findings = sarif_findings;
    return r;
}

START_TEST(test_sarif_has_one_run_with_driver_and_sorted_rules)
{
    stw_results r = sarif_results();
    json_t *root = render_sarif(&r, NULL, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(root, "version")),
                     "2.1.0");
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(root, "$schema")),
               "sarif-schema-2.1.0.json"));
    json_t *run = sarif_run(root);
    json_t *drv = json_object_get(json_object_get(run, "tool"), "driver");
    ck_assert_str_eq(jpath_str(drv, "name", NULL, NULL), "stowaway");
    ck_assert_str_eq(jpath_str(drv, "version", NULL, NULL), STW_VERSION);
    ck_assert_str_eq(jpath_str(drv, "semanticVersion", NULL, NULL),
                     STW_VERSION);
    ck_assert_ptr_null(json_object_get(drv, "informationUri"));
    ck_assert_str_eq(jpath_str(drv, "properties", "rules_version", NULL),
                     "0123456789abcdef");

    /* One rule per distinct rule id, sorted, each with text and tags. */
    json_t *rules = json_object_get(drv, "rules");
    static const char *const ids[] = {"aws-access-key-id", "github-pat",
                                      "rsa-private-key", "setuid-file"};
    ck_assert_uint_eq(json_array_size(rules), 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *ru = json_array_get(rules, i);
        ck_assert_str_eq(jpath_str(ru, "id", NULL, NULL), ids[i]);
        ck_assert(strlen(jpath_str(ru, "name", NULL, NULL)) > 0);
        ck_assert(strlen(jpath_str(ru, "shortDescription", "text", NULL)) > 0);
        ck_assert(strlen(jpath_str(ru, "fullDescription", "text", NULL)) > 0);
        const char *help = jpath_str(ru, "help", "text", NULL);
        ck_assert(strlen(help) > 0 && !strchr(help, '\n'));
        json_t *tags =
            json_object_get(json_object_get(ru, "properties"), "tags");
        ck_assert_str_eq(json_string_value(json_array_get(tags, 0)),
                         "security");
    }
    json_t *key = sarif_rule_by_id(run, "rsa-private-key");
    ck_assert_str_eq(jpath_str(key, "name", NULL, NULL), "RsaPrivateKey");
    ck_assert_str_eq(jpath_str(key, "properties", "security-severity", NULL),
                     "9.5");
    ck_assert_str_eq(jpath_str(key, "defaultConfiguration", "level", NULL),
                     "error");
    json_t *aws = sarif_rule_by_id(run, "aws-access-key-id");
    ck_assert_str_eq(jpath_str(aws, "properties", "security-severity", NULL),
                     "8.0");
    /* Metadata rules are not in any rule set: built-in text. */
    json_t *suid = sarif_rule_by_id(run, "setuid-file");
    ck_assert_str_eq(jpath_str(suid, "properties", "security-severity", NULL),
                     "5.5");
    ck_assert_str_eq(jpath_str(suid, "defaultConfiguration", "level", NULL),
                     "warning");
    ck_assert_str_eq(jpath_str(suid, "shortDescription", "text", NULL),
                     "Setuid executable");
    ck_assert_ptr_nonnull(
        strstr(jpath_str(suid, "help", "text", NULL), "chmod a-s"));
    json_decref(root);
}
END_TEST

START_TEST(test_sarif_results_locations_levels_and_properties)
{
    stw_results r = sarif_results();
    char *text = NULL;
    json_t *root = render_sarif(&r, NULL, &text);
    json_t *run = sarif_run(root);
    ck_assert_uint_eq(json_array_size(json_object_get(run, "results")),
                      N_FINDINGS);
    ck_assert_ptr_nonnull(json_object_get(
        json_object_get(run, "originalUriBaseIds"), "IMAGEROOT"));

    /* A deleted key: error, located under IMAGEROOT at its line, the
     * deletion in the message, never the secret. */
    json_t *key = sarif_result_for(run, "app/id_rsa");
    ck_assert_str_eq(jpath_str(key, "ruleId", NULL, NULL), "rsa-private-key");
    ck_assert_str_eq(jpath_str(key, "level", NULL, NULL), "error");
    json_t *rules = json_object_get(
        json_object_get(json_object_get(run, "tool"), "driver"), "rules");
    json_t *ru = json_array_get(
        rules, (size_t)json_integer_value(json_object_get(key, "ruleIndex")));
    ck_assert_str_eq(jpath_str(ru, "id", NULL, NULL), "rsa-private-key");
    const char *msg = jpath_str(key, "message", "text", NULL);
    ck_assert_str_eq(msg, "rsa-private-key: app/id_rsa in layer 1 of "
                          "localhost/small:v1; deleted in layer 2 but "
                          "recoverable");
    json_t *phys =
        json_object_get(json_array_get(json_object_get(key, "locations"), 0),
                        "physicalLocation");
    ck_assert_str_eq(jpath_str(phys, "artifactLocation", "uri", NULL),
                     "app/id_rsa");
    ck_assert_str_eq(jpath_str(phys, "artifactLocation", "uriBaseId", NULL),
                     "IMAGEROOT");
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_object_get(phys, "region"), "startLine")),
                     1);
    ck_assert_str_eq(jpath_str(key, "partialFingerprints", "stowaway/v1", NULL),
                     "fp-key");
    json_t *p = json_object_get(key, "properties");
    ck_assert_str_eq(jpath_str(p, "layer_digest", NULL, NULL),
                     small_findings[F_KEY].layer_digest);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "layer")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "removed_in_layer")),
                     2);
    ck_assert(json_is_false(json_object_get(p, "visible")));
    /* The legacy builder's "#(nop)" noise is dropped. */
    ck_assert_str_eq(jpath_str(p, "created_by", NULL, NULL),
                     "COPY dir:0123 in /app ");
    ck_assert_str_eq(jpath_str(p, "image", NULL, NULL), "localhost/small:v1");
    ck_assert_str_eq(jpath_str(p, "kind", NULL, NULL), "private-key");
    ck_assert_str_eq(jpath_str(p, "excerpt", NULL, NULL), "----…(1675 chars)");

    /* Levels: medium is a warning; no line, no region. */
    json_t *suid = sarif_result_for(run, "usr/bin/passwd");
    ck_assert_str_eq(jpath_str(suid, "level", NULL, NULL), "warning");
    ck_assert_str_eq(jpath_str(suid, "message", "text", NULL),
                     "Setuid executable: usr/bin/passwd in layer 0 of "
                     "localhost/small:v1");
    ck_assert_ptr_null(json_object_get(
        json_object_get(json_array_get(json_object_get(suid, "locations"), 0),
                        "physicalLocation"),
        "region"));
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_object_get(suid, "properties"), "mode")),
                     04755);
    ck_assert(json_is_null(json_object_get(json_object_get(suid, "properties"),
                                           "removed_in_layer")));

    /* A config finding: "<config>" is no URI. */
    json_t *env = sarif_result_for(run, "<config>");
    json_t *loc = json_array_get(json_object_get(env, "locations"), 0);
    json_t *art = json_object_get(json_object_get(loc, "physicalLocation"),
                                  "artifactLocation");
    ck_assert_str_eq(jpath_str(art, "uri", NULL, NULL), "image-config");
    ck_assert_ptr_null(json_object_get(art, "uriBaseId"));
    ck_assert_ptr_null(
        json_object_get(json_object_get(loc, "physicalLocation"), "region"));
    json_t *ep = json_object_get(env, "properties");
    ck_assert(json_is_true(json_object_get(ep, "in_image_config")));
    ck_assert(json_is_null(json_object_get(ep, "layer")));
    ck_assert(json_is_null(json_object_get(ep, "created_by")));
    ck_assert_str_eq(jpath_str(env, "message", "text", NULL),
                     "github-pat: image config (Env GITHUB_TOKEN) of "
                     "localhost/small:v1");

    /* The errors, and nothing of any secret beyond the excerpt. */
    json_t *inv = json_array_get(json_object_get(run, "invocations"), 0);
    ck_assert(json_is_false(json_object_get(inv, "executionSuccessful")));
    json_t *n =
        json_array_get(json_object_get(inv, "toolExecutionNotifications"), 0);
    ck_assert_str_eq(jpath_str(n, "level", NULL, NULL), "error");
    ck_assert_str_eq(jpath_str(n, "message", "text", NULL),
                     "broken.tar: truncated input at byte 1024");
    ck_assert_str_eq(jpath_str(n, "properties", "target", NULL), "broken.tar");
    ck_assert_ptr_null(strstr(text, "ab12"));
    ck_assert_ptr_null(strstr(text, "secret_sha256"));
    free(text);
    json_decref(root);
}
END_TEST

START_TEST(test_sarif_uses_the_rule_sets_title_and_remediation)
{
    stw_rules *rules = NULL;
    stw_error err = {0};
    ck_assert_msg(stw_rules_create(NULL, &rules, &err) == STW_OK, "%s",
                  err.msg);
    ck_assert_uint_gt(stw_rules_count(rules), 0);
    stw_rule_info info;
    ck_assert_int_eq(stw_rules_info(rules, 0, &info), STW_OK);
    stw_results r = sarif_results();
    char id[128];
    snprintf(id, sizeof(id), "%s", info.id);
    sarif_findings[F_AWS].rule = id;
    json_t *root = render_sarif(&r, rules, NULL);
    json_t *run = sarif_run(root);
    json_t *ru = sarif_rule_by_id(run, info.id);
    ck_assert_str_eq(jpath_str(ru, "shortDescription", "text", NULL),
                     info.title);
    if (info.remediation)
        ck_assert_str_eq(jpath_str(ru, "help", "text", NULL), info.remediation);
    ck_assert_str_eq(jpath_str(ru, "properties", "kind", NULL),
                     stw_kind_str(info.kind));
    json_t *x = sarif_result_for(run, "app/.env");
    const char *msg = jpath_str(x, "message", "text", NULL);
    ck_assert_msg(strncmp(msg, info.title, strlen(info.title)) == 0, "%s", msg);
    json_decref(root);
    stw_rules_destroy(rules);
}
END_TEST

START_TEST(test_sarif_paths_are_percent_encoded_uris)
{
    stw_results r = sarif_results();
    stw_rfinding f = sarif_findings[F_AWS];
    f.path = "a b/%#?:\xc3\xbc\xff.env";
    r.findings = &f;
    r.n_findings = 1;
    json_t *root = render_sarif(&r, NULL, NULL);
    json_t *x = json_array_get(json_object_get(sarif_run(root), "results"), 0);
    json_t *phys = json_object_get(
        json_array_get(json_object_get(x, "locations"), 0), "physicalLocation");
    ck_assert_str_eq(jpath_str(phys, "artifactLocation", "uri", NULL),
                     "a%20b/%25%23%3F%3A%C3%BC%FF.env");
    /* The path itself is valid UTF-8 in properties and the message. */
    ck_assert_str_eq(jpath_str(x, "properties", "path", NULL),
                     "a b/%#?:\xc3\xbc\xef\xbf\xbd.env");
    json_decref(root);
}
END_TEST

START_TEST(test_sarif_created_by_cut_to_200_characters)
{
    char cb[700];
    /* Two-byte characters, so a byte cut would split one. */
    for (size_t i = 0; i + 2 < sizeof(cb); i += 2)
        memcpy(cb + i, "\xc3\xa9", 2);
    cb[sizeof(cb) - 2] = 0;
    stw_rlayer layers[3];
    memcpy(layers, small_layers, sizeof(layers));
    layers[1].created_by = cb;
    stw_rimage im = small_images[0];
    im.layers = layers;
    stw_results r = sarif_results();
    r.images = &im;
    json_t *root = render_sarif(&r, NULL, NULL);
    const char *got = jpath_str(sarif_result_for(sarif_run(root), "app/.env"),
                                "properties", "created_by", NULL);
    /* 199 "é" and the ellipsis. */
    ck_assert_uint_eq(strlen(got), 199 * 2 + 3);
    ck_assert_str_eq(got + 199 * 2, "\xe2\x80\xa6");
    ck_assert(strncmp(got, cb, 199 * 2) == 0);
    json_decref(root);
}
END_TEST

START_TEST(test_sarif_caps_results_keeping_the_most_severe)
{
    size_t n = STW_REPORT_SARIF_MAX_RESULTS + 3;
    stw_rfinding *f = calloc(n, sizeof(*f));
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < n; i++) {
        f[i] = small_findings[F_AWS];
        f[i].severity = STW_SEV_INFO;
        f[i].rule = "world-writable-file";
    }
    /* Two critical ones at the very end, one low in the middle. */
    f[n - 1].severity = f[n - 2].severity = STW_SEV_CRITICAL;
    f[n - 1].rule = f[n - 2].rule = "rsa-private-key";
    f[n / 2].severity = STW_SEV_LOW;
    stw_results r = sarif_results();
    r.findings = f;
    r.n_findings = n;
    r.n_errors = 0;
    json_t *root = render_sarif(&r, NULL, NULL);
    json_t *run = sarif_run(root);
    json_t *results = json_object_get(run, "results");
    ck_assert_uint_eq(json_array_size(results), STW_REPORT_SARIF_MAX_RESULTS);
    size_t crit = 0, low = 0;
    for (size_t i = 0; i < json_array_size(results); i++) {
        const char *sev = jpath_str(json_array_get(results, i), "properties",
                                    "severity", NULL);
        crit += strcmp(sev, "critical") == 0;
        low += strcmp(sev, "low") == 0;
    }
    ck_assert_uint_eq(crit, 2);
    ck_assert_uint_eq(low, 1);
    json_t *props = json_object_get(run, "properties");
    ck_assert_int_eq(
        json_integer_value(json_object_get(props, "findings_omitted")), 3);
    ck_assert_int_eq(
        json_integer_value(json_object_get(props, "findings_total")),
        (json_int_t)n);
    json_t *inv = json_array_get(json_object_get(run, "invocations"), 0);
    ck_assert(json_is_true(json_object_get(inv, "executionSuccessful")));
    json_t *note =
        json_array_get(json_object_get(inv, "toolExecutionNotifications"), 0);
    ck_assert_str_eq(jpath_str(note, "level", NULL, NULL), "warning");
    ck_assert_ptr_nonnull(
        strstr(jpath_str(note, "message", "text", NULL), "3 of 25003"));
    json_decref(root);
    free(f);
}
END_TEST

/* As for JSON: the same results elsewhere in memory give the same bytes,
 * a changed line other bytes. */
START_TEST(test_sarif_bytes_depend_only_on_the_results_and_empty_is_valid)
{
    stw_results r = sarif_results();
    char *a = NULL, *b = NULL;
    json_t *ra = render_sarif(&r, NULL, &a);
    stw_results c = results_copy(&r);
    json_t *rb = render_sarif(&c, NULL, &b);
    assert_same_text(a, b, "SARIF of a copy of the same results");
    json_decref(rb);
    free(b);
    c.findings[F_KEY].line += 1;
    rb = render_sarif(&c, NULL, &b);
    ck_assert_msg(strcmp(a, b) != 0, "a changed line left the SARIF as it was");
    results_copy_free(&c);
    json_decref(ra);
    json_decref(rb);
    free(a);
    free(b);

    stw_results empty = {0};
    json_t *root = render_sarif(&empty, NULL, NULL);
    json_t *run = sarif_run(root);
    ck_assert_uint_eq(json_array_size(json_object_get(run, "results")), 0);
    ck_assert_uint_eq(
        json_array_size(json_object_get(
            json_object_get(json_object_get(run, "tool"), "driver"), "rules")),
        0);
    json_t *inv = json_array_get(json_object_get(run, "invocations"), 0);
    ck_assert(json_is_true(json_object_get(inv, "executionSuccessful")));
    json_decref(root);
}
END_TEST

static Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("report");
    tcase_add_test(tc, test_json_has_every_documented_key_with_its_type);
    tcase_add_test(tc, test_json_bytes_depend_only_on_the_results);
    tcase_add_test(tc, test_json_replaces_invalid_utf8_in_paths);
    tcase_add_test(tc, test_json_empty_results_have_empty_arrays);
    tcase_add_test(tc, test_table_orders_by_severity_then_layer_with_history);
    tcase_add_test(tc, test_table_folds_stock_setuid_binaries_per_layer);
    tcase_add_test(tc, test_table_folds_published_test_keys_per_layer);
    tcase_add_test(tc, test_table_fold_line_cuts_names_to_80_columns);
    tcase_add_test(tc, test_table_verbose_lists_every_finding);
    tcase_add_test(tc, test_table_only_folded_findings_still_fold);
    tcase_add_test(tc, test_html_orders_folds_and_counts_config_kind);
    tcase_add_test(tc, test_table_setuid_shows_mode_and_owner);
    tcase_add_test(tc, test_table_marks_deleted_findings_as_recoverable);
    tcase_add_test(tc, test_table_ends_with_errors_then_summary);
    tcase_add_test(tc, test_table_error_target_prefixed_when_message_lacks_it);
    tcase_add_test(
        tc, test_table_long_fields_fit_80_columns_but_never_cut_path_or_rule);
    tcase_add_test(tc, test_table_hostile_names_cannot_drive_the_terminal);
    tcase_add_test(tc, test_git_history_finding_in_json_and_table);
    tcase_add_test(tc, test_table_empty_results_print_one_quiet_line);
    tcase_add_test(tc, test_table_shared_layers_counted_once);
    tcase_add_test(tc, test_write_error_is_reported);
    tcase_add_test(tc, test_count_at_least_and_format_parse);
    tcase_add_test(tc, test_count_gating_drops_hidden_only_when_asked);
    tcase_add_test(tc, test_sarif_has_one_run_with_driver_and_sorted_rules);
    tcase_add_test(tc, test_sarif_results_locations_levels_and_properties);
    tcase_add_test(tc, test_sarif_uses_the_rule_sets_title_and_remediation);
    tcase_add_test(tc, test_sarif_paths_are_percent_encoded_uris);
    tcase_add_test(tc, test_sarif_created_by_cut_to_200_characters);
    tcase_add_test(tc, test_sarif_caps_results_keeping_the_most_severe);
    tcase_add_test(
        tc, test_sarif_bytes_depend_only_on_the_results_and_empty_is_valid);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(report_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
