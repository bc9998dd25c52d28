/* test_report.c - the JSON and table renderers over hand-built results: the
 * documented JSON shape and nulls, determinism, 80-column tables, the
 * recoverable-deletion marker, hostile names, and write errors. */
#include "report.h"

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
     "debootstrap --variant=minbase bookworm", 63000000, true},
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

static stw_status json_render(const stw_results *r, bool color, FILE *out,
                              stw_error *err)
{
    (void)color;
    return stw_report_json(r, out, err);
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

static void assert_lines_fit(const char *text)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        ck_assert_msg(nl != NULL, "output does not end with a newline");
        size_t w = columns(p, (size_t)(nl - p));
        ck_assert_msg(w <= STW_REPORT_COLUMNS, "line of %zu columns: %.*s", w,
                      (int)(nl - p), p);
        p = nl + 1;
    }
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
    static const char *const lkeys[] = {"index",      "digest", "diff_id",
                                        "media_type", "size",   "created_by",
                                        "cached"};
    for (size_t i = 0; i < 3; i++) {
        json_t *l = json_array_get(layers, i);
        assert_keys(l, lkeys, 7);
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
    assert_type(l1, "media_type", JSON_NULL);
    assert_type(l2, "created_by", JSON_NULL);
    assert_type(l2, "size", JSON_NULL);

    json_t *findings = json_object_get(root, "findings");
    ck_assert_uint_eq(json_array_size(findings), N_FINDINGS);
    static const char *const fkeys[] = {"image",
                                        "layer",
                                        "layer_digest",
                                        "path",
                                        "kind",
                                        "rule",
                                        "severity",
                                        "line",
                                        "offset",
                                        "visible",
                                        "removed_in_layer",
                                        "mode",
                                        "uid",
                                        "gid",
                                        "fingerprint",
                                        "secret_sha256",
                                        "excerpt",
                                        "validated",
                                        "detail"};
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

START_TEST(test_json_is_byte_identical_across_renders)
{
    stw_results r = small_results();
    char *a = render(json_render, &r, false);
    char *b = render(json_render, &r, false);
    ck_assert_str_eq(a, b);
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

START_TEST(test_table_groups_findings_by_layer_with_history)
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
    /* Layer order, then config last. */
    assert_before(strstr(t, "usr/bin/passwd"), strstr(t, "app/id_rsa"));
    assert_before(strstr(t, "app/.env:3"), strstr(t, "  image config\n"));
    assert_before(strstr(t, "  image config\n"), strstr(t, "ghp_…"));
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

START_TEST(test_table_long_fields_fit_80_columns)
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
        assert_lines_fit(t);
        /* The path keeps its file name when cut in the middle. */
        char *l = line_with(t, "/secret.pem");
        ck_assert_ptr_nonnull(l);
        ck_assert_ptr_nonnull(strstr(l, "pppp…pppp"));
        ck_assert_ptr_nonnull(strstr(l, "pppp/secret.pem:1  "));
        free(l);
        /* The error is wrapped, not cut. */
        ck_assert_ptr_nonnull(strstr(t, "mmmmmm\n    mmmmmm"));
        ck_assert(color ? strchr(t, '\033') != NULL : strchr(t, '\033') == 0);
        free(t);
    }
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
    ck_assert_int_eq(stw_report_format_parse("sarif", &fmt), STW_ERR_USAGE);
    ck_assert_int_eq(stw_report_format_parse(NULL, &fmt), STW_ERR_USAGE);
    ck_assert_int_eq(fmt, STW_REPORT_TABLE);
}
END_TEST

static Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("report");
    tcase_add_test(tc, test_json_has_every_documented_key_with_its_type);
    tcase_add_test(tc, test_json_is_byte_identical_across_renders);
    tcase_add_test(tc, test_json_replaces_invalid_utf8_in_paths);
    tcase_add_test(tc, test_json_empty_results_have_empty_arrays);
    tcase_add_test(tc, test_table_groups_findings_by_layer_with_history);
    tcase_add_test(tc, test_table_setuid_shows_mode_and_owner);
    tcase_add_test(tc, test_table_marks_deleted_findings_as_recoverable);
    tcase_add_test(tc, test_table_ends_with_errors_then_summary);
    tcase_add_test(tc, test_table_error_target_prefixed_when_message_lacks_it);
    tcase_add_test(tc, test_table_long_fields_fit_80_columns);
    tcase_add_test(tc, test_table_hostile_names_cannot_drive_the_terminal);
    tcase_add_test(tc, test_table_empty_results_print_one_quiet_line);
    tcase_add_test(tc, test_table_shared_layers_counted_once);
    tcase_add_test(tc, test_write_error_is_reported);
    tcase_add_test(tc, test_count_at_least_and_format_parse);
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
