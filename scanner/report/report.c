/* report.c - the table, JSON and SARIF renderers for the results of one
 * scan. */
#include "report.h"

#include "common.h"
#include "rules.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

stw_status stw_report_format_parse(const char *s, stw_report_format *out)
{
    if (s && strcmp(s, "table") == 0)
        *out = STW_REPORT_TABLE;
    else if (s && strcmp(s, "json") == 0)
        *out = STW_REPORT_JSON;
    else if (s && strcmp(s, "sarif") == 0)
        *out = STW_REPORT_SARIF;
    else if (s && strcmp(s, "html") == 0)
        *out = STW_REPORT_HTML;
    else
        return STW_ERR_USAGE;
    return STW_OK;
}

size_t stw_report_count_at_least(const stw_results *r, stw_severity min)
{
    return stw_report_count_gating(r, min, true);
}

size_t stw_report_count_gating(const stw_results *r, stw_severity min,
                               bool include_hidden)
{
    size_t n = 0;
    for (size_t i = 0; r && i < r->n_findings; i++)
        n += r->findings[i].severity >= min &&
             (include_hidden || r->findings[i].visible);
    return n;
}

/* ---- UTF-8 ----------------------------------------------------------------
 * Paths and history lines come from untrusted images and need not be UTF-8;
 * both renderers must still produce valid text. */

/* Decodes one code point at s (n bytes left). Returns its length, or 0 for
 * an invalid, overlong, surrogate or truncated sequence. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t c, min;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2, c = s[0] & 0x1f, min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, c = s[0] & 0x0f, min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* Code points that would let a file name rewrite the terminal or reorder
 * what a reader sees: C0/C1 controls, DEL and the bidi overrides. */
static int unsafe_for_terminal(uint32_t c)
{
    return c < 0x20 || (c >= 0x7f && c < 0xa0) ||
           (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* ---- JSON -----------------------------------------------------------------
 */

/* s (n bytes) as valid UTF-8: each invalid byte becomes U+FFFD. Malloc'd,
 * NUL-terminated, length in *len; NULL when out of memory. */
static char *utf8_fix(const char *s, size_t n, size_t *len)
{
    /* Each invalid byte grows to at most 3 bytes. */
    char *buf = malloc(3 * n + 1);
    if (!buf)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = utf8_decode(p + i, n - i, &cp);
        if (l) {
            memcpy(buf + o, p + i, l);
            o += l, i += l;
        } else {
            memcpy(buf + o, "\xef\xbf\xbd", 3);
            o += 3, i++;
        }
    }
    buf[o] = 0;
    *len = o;
    return buf;
}

/* A JSON string for s; NULL becomes null. Invalid UTF-8 bytes become U+FFFD
 * because jansson rejects them and the report must still be produced. */
static json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    size_t n = strlen(s);
    json_t *v = json_stringn(s, n);
    if (v)
        return v;
    size_t len;
    char *buf = utf8_fix(s, n, &len);
    if (!buf)
        return NULL;
    v = json_stringn(buf, len);
    free(buf);
    return v;
}

/* Empty strings are "unknown" in stw_results; the report says null. */
static json_t *jstr_or_null(const char *s)
{
    return (s && *s) ? jstr(s) : json_null();
}

static json_t *jint_or_null(int present, int64_t v)
{
    return present ? json_integer((json_int_t)v) : json_null();
}

/* Builders record the first failure (a NULL value means out of memory) in
 * *ok instead of checking every call; jansson frees a NULL-safe value. */
static void put(json_t *obj, const char *key, json_t *v, int *ok)
{
    if (json_object_set_new(obj, key, v) != 0)
        *ok = 0;
}

static void push(json_t *arr, json_t *v, int *ok)
{
    if (json_array_append_new(arr, v) != 0)
        *ok = 0;
}

static json_t *json_layer(const stw_rlayer *l, size_t index, int *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = 0;
        return NULL;
    }
    put(o, "index", json_integer((json_int_t)index), ok);
    put(o, "digest", jstr(l->digest), ok);
    put(o, "diff_id", jstr_or_null(l->diff_id), ok);
    put(o, "media_type", jstr_or_null(l->media_type), ok);
    put(o, "size", jint_or_null(l->size >= 0, l->size), ok);
    put(o, "created_by", jstr_or_null(l->created_by), ok);
    put(o, "cached", json_boolean(l->cached), ok);
    return o;
}

static json_t *json_image(const stw_rimage *im, int *ok)
{
    json_t *o = json_object();
    json_t *layers = json_array();
    if (!o || !layers) {
        json_decref(o);
        json_decref(layers);
        *ok = 0;
        return NULL;
    }
    put(o, "ref", jstr(im->ref), ok);
    put(o, "manifest_digest", jstr_or_null(im->manifest_digest), ok);
    put(o, "config_digest", jstr(im->config_digest), ok);
    put(o, "platform", jstr_or_null(im->platform), ok);
    for (size_t i = 0; i < im->n_layers; i++)
        push(layers, json_layer(&im->layers[i], i, ok), ok);
    put(o, "layers", layers, ok);
    return o;
}

static json_t *json_finding(const stw_rfinding *f, int *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = 0;
        return NULL;
    }
    put(o, "image", json_integer((json_int_t)f->image), ok);
    put(o, "layer", jint_or_null(f->layer >= 0, f->layer), ok);
    put(o, "layer_digest", jstr(f->layer_digest), ok);
    put(o, "path", jstr(f->path), ok);
    put(o, "kind", json_string(stw_kind_str(f->kind)), ok);
    put(o, "rule", jstr(f->rule), ok);
    put(o, "severity", json_string(stw_severity_str(f->severity)), ok);
    put(o, "line", jint_or_null(f->line > 0, f->line), ok);
    put(o, "offset", jint_or_null(f->offset >= 0, f->offset), ok);
    put(o, "visible", json_boolean(f->visible), ok);
    put(o, "removed_in_layer",
        jint_or_null(!f->visible && f->removed_in_layer >= 0,
                     f->removed_in_layer),
        ok);
    /* Permission bits only (file type dropped), as a plain number: 04755
     * is 2541. docs/json-report.md says so. */
    put(o, "mode", jint_or_null(f->has_mode, f->mode & 07777), ok);
    put(o, "uid", jint_or_null(f->has_mode, f->uid), ok);
    put(o, "gid", jint_or_null(f->has_mode, f->gid), ok);
    put(o, "fingerprint", jstr(f->fingerprint), ok);
    put(o, "secret_sha256", jstr_or_null(f->secret_sha256), ok);
    put(o, "excerpt", jstr_or_null(f->excerpt), ok);
    put(o, "validated", json_boolean(f->validated), ok);
    put(o, "detail", jstr_or_null(f->detail), ok);
    return o;
}

static json_t *json_report(const stw_results *r, int *ok)
{
    json_t *root = json_object();
    json_t *tool = json_object();
    json_t *images = json_array();
    json_t *findings = json_array();
    json_t *errors = json_array();
    if (!root || !tool || !images || !findings || !errors) {
        json_decref(root);
        json_decref(tool);
        json_decref(images);
        json_decref(findings);
        json_decref(errors);
        *ok = 0;
        return NULL;
    }
    put(root, "schema", json_integer(STW_REPORT_JSON_SCHEMA), ok);
    put(tool, "name", json_string("stowaway"), ok);
    put(tool, "version", json_string(STW_VERSION), ok);
    put(tool, "rules_version", jstr_or_null(r->rules_version), ok);
    put(root, "tool", tool, ok);
    for (size_t i = 0; i < r->n_images; i++)
        push(images, json_image(&r->images[i], ok), ok);
    put(root, "images", images, ok);
    for (size_t i = 0; i < r->n_findings; i++)
        push(findings, json_finding(&r->findings[i], ok), ok);
    put(root, "findings", findings, ok);
    for (size_t i = 0; i < r->n_errors; i++) {
        json_t *e = json_object();
        if (!e) {
            *ok = 0;
            break;
        }
        put(e, "target", jstr(r->errors[i].target), ok);
        put(e, "message", jstr(r->errors[i].message), ok);
        push(errors, e, ok);
    }
    put(root, "errors", errors, ok);
    return root;
}

/* Flushes out and turns a failed write into STW_ERR_IO. */
static stw_status finish_output(FILE *out, stw_error *err)
{
    if (fflush(out) != 0 || ferror(out)) {
        char buf[128];
        return stw_fail(err, STW_ERR_IO, "writing report: %s",
                        stw_strerror(errno, buf, sizeof(buf)));
    }
    return STW_OK;
}

/* Writes root (consumed) as indented JSON and a newline. what names the
 * report in messages. */
static stw_status dump_json(json_t *root, FILE *out, const char *what,
                            stw_error *err)
{
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    /* json_dumpf fails on a write error (ferror says so) or on memory. */
    if (rc != 0 && !ferror(out))
        return stw_fail(err, STW_ERR_NOMEM, "writing %s report: out of memory",
                        what);
    if (rc == 0)
        fputc('\n', out);
    return finish_output(out, err);
}

stw_status stw_report_json(const stw_results *r, FILE *out, stw_error *err)
{
    int ok = 1;
    json_t *root = json_report(r, &ok);
    if (!ok) {
        json_decref(root);
        return stw_fail(err, STW_ERR_NOMEM,
                        "building JSON report: out of memory");
    }
    return dump_json(root, out, "JSON", err);
}

/* ---- table ----------------------------------------------------------------
 */

#define COLS STW_REPORT_COLUMNS
/* "    critical  ": where a finding's kind/rule column starts. */
#define FINDING_INDENT 14
#define ELLIPSIS       "\xe2\x80\xa6"
#define SHORT_DIGEST   19 /* "sha256:" and 12 hex digits */

/* Text made safe for a terminal, with its width in columns (one per code
 * point: wide CJK glyphs may overrun by a column or two, accepted). */
typedef struct cell {
    char *s;
    size_t w;
} cell;

/* Sanitises s into c (malloc'd). squash turns runs of whitespace, newlines
 * included, into one space (history lines are multi-line shell). Returns
 * non-zero on success. */
static int cell_make(cell *c, const char *s, int squash)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    c->s = malloc(n + 1);
    c->w = 0;
    if (!c->s)
        return 0;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    int space = 1; /* drops leading whitespace when squashing */
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        size_t len = utf8_decode(p + i, n - i, &cp);
        if (squash &&
            (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) {
            if (!space)
                c->s[o++] = ' ', c->w++;
            space = 1;
            i++;
            continue;
        }
        space = 0;
        if (!len || unsafe_for_terminal(cp)) {
            c->s[o++] = '?';
            i += len ? len : 1;
        } else {
            memcpy(c->s + o, p + i, len);
            o += len, i += len;
        }
        c->w++;
    }
    while (squash && o > 0 && c->s[o - 1] == ' ')
        o--, c->w--;
    c->s[o] = 0;
    return 1;
}

static void cell_free(cell *c)
{
    free(c->s);
    c->s = NULL;
}

/* Byte offset of the col-th code point of a sanitised (valid UTF-8) string.
 */
static size_t byte_at(const char *s, size_t col)
{
    size_t i = 0;
    for (; s[i] && col > 0; col--) {
        i++;
        while ((s[i] & 0xc0) == 0x80)
            i++;
    }
    return i;
}

/* Writes c within w columns: whole if it fits, else cut with an ellipsis -
 * at the end, or in the middle (keeping the file name) when middle is set.
 * Returns the columns written. */
static size_t put_cell(FILE *out, const cell *c, size_t w, int middle)
{
    if (c->w <= w) {
        fputs(c->s, out);
        return c->w;
    }
    if (w == 0)
        return 0;
    if (!middle) {
        fprintf(out, "%.*s" ELLIPSIS, (int)byte_at(c->s, w - 1), c->s);
        return w;
    }
    size_t head = (w - 1) / 4, tail = w - 1 - head;
    size_t tail_at = byte_at(c->s, c->w - tail);
    fprintf(out, "%.*s" ELLIPSIS "%s", (int)byte_at(c->s, head), c->s,
            c->s + tail_at);
    return w;
}

/* ANSI colours, used only when the caller asks. */
typedef struct style {
    int on;
} style;

static void sgr(FILE *out, const style *st, const char *code)
{
    if (st->on)
        fprintf(out, "\033[%sm", code);
}

static const char *severity_sgr(stw_severity s)
{
    switch (s) {
    case STW_SEV_CRITICAL:
        return "1;31";
    case STW_SEV_HIGH:
        return "31";
    case STW_SEV_MEDIUM:
        return "33";
    case STW_SEV_LOW:
        return "36";
    default:
        return "2";
    }
}

/* Writes text word-wrapped to COLS, continuation lines indented by indent
 * columns; words longer than a line are cut hard. */
static void put_wrapped(FILE *out, const cell *c, size_t first_indent,
                        size_t indent)
{
    const char *s = c->s;
    size_t col = first_indent;
    fprintf(out, "%*s", (int)first_indent, "");
    while (*s) {
        size_t room = COLS > col ? COLS - col : 1;
        size_t rest = byte_at(s, room);
        if (!s[rest]) {
            fputs(s, out);
            break;
        }
        /* Break at the last space that fits, if there is one. */
        size_t cut = rest;
        while (cut > 0 && s[cut] != ' ')
            cut--;
        if (cut == 0)
            cut = rest;
        fprintf(out, "%.*s\n%*s", (int)cut, s, (int)indent, "");
        s += cut;
        while (*s == ' ')
            s++;
        col = indent;
    }
    fputc('\n', out);
}

static void short_digest(const char *d, char out[SHORT_DIGEST + 1])
{
    snprintf(out, SHORT_DIGEST + 1, "%s", d ? d : "");
}

/* Docker's legacy builder records Dockerfile steps that run nothing as
 * "/bin/sh -c #(nop) COPY ..."; the prefix only costs columns. */
static const char *pretty_created_by(const char *s)
{
    static const char nop[] = "/bin/sh -c #(nop) ";
    if (!s)
        return "";
    if (strncmp(s, nop, sizeof(nop) - 1) == 0)
        return s + sizeof(nop) - 1;
    return s;
}

static int is_metadata_kind(stw_kind k)
{
    return k == STW_KIND_SETUID || k == STW_KIND_SETGID ||
           k == STW_KIND_WORLD_WRITABLE;
}

/* "ref  platform  config sha256:0123456789ab  N layers" - on one line when
 * it fits, else the ref alone (a long registry path is worth reading whole)
 * and the rest indented below it. */
static int put_image_header(FILE *out, const style *st, const stw_rimage *im)
{
    char sd[SHORT_DIGEST + 1];
    short_digest(im->config_digest, sd);
    cell ref = {0}, plat = {0}, tail = {0};
    int ok = cell_make(&ref, im->ref, 0) && cell_make(&plat, im->platform, 0);
    if (ok) {
        char buf[128];
        snprintf(buf, sizeof(buf), "%.40s%sconfig %s  %zu layer%s", plat.s,
                 plat.w ? "  " : "", sd, im->n_layers,
                 im->n_layers == 1 ? "" : "s");
        ok = cell_make(&tail, buf, 0);
    }
    if (ok) {
        sgr(out, st, "1");
        put_cell(out, &ref, COLS, 1);
        sgr(out, st, "0");
        if (ref.w + 2 + tail.w <= COLS)
            fprintf(out, "  %s\n", tail.s);
        else
            fprintf(out, "\n  %s\n", tail.s);
    }
    cell_free(&ref);
    cell_free(&plat);
    cell_free(&tail);
    return ok;
}

static int put_layer_header(FILE *out, const stw_rimage *im, int layer,
                            const char *digest)
{
    if (layer < 0) {
        fputs("  image config\n", out);
        return 1;
    }
    char sd[SHORT_DIGEST + 1], head[64];
    short_digest(digest, sd);
    int w = snprintf(head, sizeof(head), "  layer %d  %s", layer, sd);
    fputs(head, out);
    const char *cb =
        (size_t)layer < im->n_layers ? im->layers[layer].created_by : NULL;
    cell c = {0};
    if (!cell_make(&c, pretty_created_by(cb), 1))
        return 0;
    if (c.w > 0 && w + 2 + 4 <= COLS) {
        fputs("  ", out);
        put_cell(out, &c, (size_t)(COLS - w - 2), 0);
    }
    fputc('\n', out);
    cell_free(&c);
    return 1;
}

/* Narrows *w by up to over columns, not below floor; returns the cut. */
static size_t shrink(size_t *w, size_t floor, size_t over)
{
    size_t cut = *w > floor ? *w - floor : 0;
    cut = cut < over ? cut : over;
    *w -= cut;
    return cut;
}

/* One finding: "    severity  kind/rule  path[:line]  excerpt-or-mode",
 * shrunk to COLS (see below; the path is cut in the middle to keep the
 * file name); then the recoverable-deletion marker and the
 * detail on lines of their own. */
static int put_finding(FILE *out, const style *st, const stw_rfinding *f)
{
    char kr[256], extra[128], pathbuf[32];
    const char *kind = stw_kind_str(f->kind);
    if (f->rule && *f->rule && strcmp(f->rule, kind) != 0)
        snprintf(kr, sizeof(kr), "%s/%s", kind, f->rule);
    else
        snprintf(kr, sizeof(kr), "%s", kind);
    if (is_metadata_kind(f->kind) && f->has_mode)
        snprintf(extra, sizeof(extra), "mode %04o uid %lld gid %lld",
                 (unsigned)(f->mode & 07777), (long long)f->uid,
                 (long long)f->gid);
    else
        snprintf(extra, sizeof(extra), "%s", f->excerpt ? f->excerpt : "");
    pathbuf[0] = 0;
    if (f->line > 0)
        snprintf(pathbuf, sizeof(pathbuf), ":%lld", (long long)f->line);

    cell a = {0}, b = {0}, c = {0};
    size_t plen = strlen(f->path ? f->path : "");
    char *path = malloc(plen + sizeof(pathbuf));
    int ok = path != NULL;
    if (ok) {
        memcpy(path, f->path ? f->path : "", plen);
        memcpy(path + plen, pathbuf, strlen(pathbuf) + 1);
    }
    ok = ok && cell_make(&a, kr, 0) && cell_make(&b, path, 0) &&
         cell_make(&c, extra, 0);
    free(path);
    if (!ok) {
        cell_free(&a);
        cell_free(&b);
        cell_free(&c);
        return 0;
    }

    size_t avail = COLS - FINDING_INDENT - 2 - (c.w ? 2 : 0);
    size_t wa = a.w < 28 ? a.w : 28, wc = c.w < 24 ? c.w : 24, wb = b.w;
    size_t total = wa + wb + wc;
    if (total > avail) {
        /* Cut the excerpt to 12, the rule to 16, then the path to 16 and
         * the rule again: the path is what the reader acts on. 12 + 16 +
         * 16 < avail, so the last step always suffices. */
        size_t over = total - avail;
        over -= shrink(&wc, 12, over);
        over -= shrink(&wa, 16, over);
        over -= shrink(&wb, 16, over);
        shrink(&wa, 0, over);
    }

    fputs("    ", out);
    sgr(out, st, severity_sgr(f->severity));
    fprintf(out, "%-8s", stw_severity_str(f->severity));
    sgr(out, st, "0");
    fputs("  ", out);
    put_cell(out, &a, wa, 0);
    fputs("  ", out);
    put_cell(out, &b, wb, 1);
    if (c.w) {
        fputs("  ", out);
        put_cell(out, &c, wc, 0);
    }
    fputc('\n', out);
    cell_free(&a);
    cell_free(&b);
    cell_free(&c);

    if (!f->visible) {
        char mark[96];
        int n = snprintf(mark, sizeof(mark), "[deleted");
        if (f->removed_in_layer >= 0)
            n += snprintf(mark + n, sizeof(mark) - (size_t)n, " in layer %d",
                          f->removed_in_layer);
        if (f->layer >= 0)
            snprintf(mark + n, sizeof(mark) - (size_t)n,
                     " but recoverable from layer %d]", f->layer);
        else
            snprintf(mark + n, sizeof(mark) - (size_t)n, " but recoverable]");
        fprintf(out, "%*s", FINDING_INDENT, "");
        sgr(out, st, "1;35");
        fputs(mark, out);
        sgr(out, st, "0");
        fputc('\n', out);
    }
    if (f->detail && *f->detail) {
        cell d = {0};
        if (!cell_make(&d, f->detail, 1))
            return 0;
        fprintf(out, "%*s", FINDING_INDENT, "");
        put_cell(out, &d, COLS - FINDING_INDENT, 0);
        fputc('\n', out);
        cell_free(&d);
    }
    return 1;
}

/* --show-secrets: the plaintext on a line of its own, whole (the user asked
 * for it), with control and non-ASCII bytes shown as '?' so an image cannot
 * drive the terminal. */
static void put_secret(FILE *out, const style *st, const stw_table_options *o,
                       const stw_rfinding *f)
{
    if (!f->fingerprint || !f->secret_sha256 || !*f->secret_sha256)
        return;
    const char *sec = o->secret_of(o->secret_ctx, f->fingerprint);
    fprintf(out, "%*s", FINDING_INDENT, "");
    sgr(out, st, "1;31");
    fputs("secret: ", out);
    if (!sec) {
        fputs("(not shown: layer reused from the database; rescan with "
              "--no-db)",
              out);
    } else {
        for (const unsigned char *p = (const unsigned char *)sec; *p; p++)
            fputc(*p >= 0x20 && *p < 0x7f ? *p : '?', out);
    }
    sgr(out, st, "0");
    fputc('\n', out);
}

/* Orders findings by image, then layer with config last; the store already
 * returns them so, but the renderer must not interleave groups if it did
 * not. Ties keep their given order, so output stays deterministic. */
static int cmp_finding_ptr(const void *pa, const void *pb)
{
    const stw_rfinding *a = *(const stw_rfinding *const *)pa;
    const stw_rfinding *b = *(const stw_rfinding *const *)pb;
    if (a->image != b->image)
        return a->image < b->image ? -1 : 1;
    unsigned la = a->layer < 0 ? UINT32_MAX : (unsigned)a->layer;
    unsigned lb = b->layer < 0 ? UINT32_MAX : (unsigned)b->layer;
    if (la != lb)
        return la < lb ? -1 : 1;
    return a < b ? -1 : a > b;
}

static int cmp_layer_digest(const void *pa, const void *pb)
{
    const char *a = (*(const stw_rlayer *const *)pa)->digest;
    const char *b = (*(const stw_rlayer *const *)pb)->digest;
    return strcmp(a ? a : "", b ? b : "");
}

/* Distinct layer digests over all images, and how many of those this scan
 * reused from the store: images sharing a base layer count it once. */
static int count_layers(const stw_results *r, size_t *layers, size_t *cached)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_images; i++)
        n += r->images[i].n_layers;
    *layers = *cached = 0;
    if (n == 0)
        return 1;
    const stw_rlayer **v = malloc(n * sizeof(*v));
    if (!v)
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < r->n_images; i++)
        for (size_t j = 0; j < r->images[i].n_layers; j++)
            v[k++] = &r->images[i].layers[j];
    stw_sort(v, n, sizeof(*v), cmp_layer_digest);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int any_cached = 0;
        for (; j < n && cmp_layer_digest(&v[i], &v[j]) == 0; j++)
            any_cached |= v[j]->cached;
        (*layers)++;
        *cached += (size_t)any_cached;
        i = j;
    }
    free(v);
    return 1;
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

static void put_summary(FILE *out, const stw_results *r, size_t layers,
                        size_t cached)
{
    size_t by_sev[STW_SEV_COUNT_] = {0}, hidden = 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        if ((unsigned)r->findings[i].severity < STW_SEV_COUNT_)
            by_sev[r->findings[i].severity]++;
        hidden += !r->findings[i].visible;
    }
    char line[512];
    int n = snprintf(line, sizeof(line),
                     "%zu image%s, %zu layer%s (%zu cached), %zu finding%s",
                     r->n_images, plural(r->n_images), layers, plural(layers),
                     cached, r->n_findings, plural(r->n_findings));
    const char *sep = ": ";
    for (int s = STW_SEV_COUNT_ - 1; s >= 0; s--) {
        if (!by_sev[s])
            continue;
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%zu %s", sep,
                      by_sev[s], stw_severity_str((stw_severity)s));
        sep = ", ";
    }
    cell c = {.s = line, .w = strlen(line)}; /* ASCII only */
    put_wrapped(out, &c, 0, 2);
    if (hidden)
        fprintf(out, "%zu of them deleted in a later layer but recoverable\n",
                hidden);
}

static int put_errors(FILE *out, const style *st, const stw_results *r)
{
    if (r->n_errors == 0)
        return 1;
    sgr(out, st, "1;31");
    fputs("errors:", out);
    sgr(out, st, "0");
    fputc('\n', out);
    for (size_t i = 0; i < r->n_errors; i++) {
        const char *t = r->errors[i].target ? r->errors[i].target : "";
        const char *m = r->errors[i].message ? r->errors[i].message : "";
        size_t tl = strlen(t), ml = strlen(m);
        /* Messages usually name the target already. */
        int named = tl == 0 || strncmp(m, t, tl) == 0;
        char *text = malloc(tl + ml + 3);
        if (!text)
            return 0;
        snprintf(text, tl + ml + 3, "%s%s%s", named ? "" : t, named ? "" : ": ",
                 m);
        cell c = {0};
        int ok = cell_make(&c, text, 1);
        free(text);
        if (!ok)
            return 0;
        put_wrapped(out, &c, 2, 4);
        cell_free(&c);
    }
    return 1;
}

/* Under a finding: "fix: ..." cut to the line. */
static void put_fix(FILE *out, const style *st, const stw_table_options *o,
                    const stw_rfinding *f)
{
    char buf[256];
    size_t room = COLS - FINDING_INDENT - 5;
    stw_report_remediation_line(o->rules, f, room, buf, sizeof(buf));
    cell c = {0};
    if (!cell_make(&c, buf, 1))
        return;
    fprintf(out, "%*s", FINDING_INDENT, "");
    sgr(out, st, "32");
    fputs("fix: ", out);
    sgr(out, st, "0");
    put_cell(out, &c, room, 0);
    fputc('\n', out);
    cell_free(&c);
}

static int cmp_rule_then_ptr(const void *pa, const void *pb)
{
    const stw_rfinding *a = *(const stw_rfinding *const *)pa;
    const stw_rfinding *b = *(const stw_rfinding *const *)pb;
    int c = strcmp(a->rule ? a->rule : "", b->rule ? b->rule : "");
    if (c)
        return c;
    return a < b ? -1 : a > b;
}

/* Marks in first[] the first finding of each rule within each layer group
 * of f[0..n): where the table puts that rule's fix line. */
static int mark_first_of_rule(const stw_rfinding **f, size_t n,
                              unsigned char *first)
{
    const stw_rfinding **v = malloc((n ? n : 1) * sizeof(*v));
    if (!v)
        return 0;
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && f[b]->layer == f[a]->layer)
            b++;
        memcpy(v, f + a, (b - a) * sizeof(*v));
        stw_sort(v, b - a, sizeof(*v), cmp_rule_then_ptr);
        for (size_t i = 0; i < b - a; i++) {
            if (i > 0 && strcmp(v[i]->rule ? v[i]->rule : "",
                                v[i - 1]->rule ? v[i - 1]->rule : "") == 0)
                continue;
            /* v[i] is a pointer into the results; find its slot in f. */
            for (size_t k = a; k < b; k++)
                if (f[k] == v[i]) {
                    first[k] = 1;
                    break;
                }
        }
        a = b;
    }
    free(v);
    return 1;
}

static int put_image(FILE *out, const style *st, const stw_table_options *o,
                     const stw_results *r, size_t img, const stw_rfinding **f,
                     size_t n)
{
    unsigned char *first = NULL;
    if (o->remediation && n) {
        first = calloc(n, 1);
        if (!first || !mark_first_of_rule(f, n, first)) {
            free(first);
            return 0;
        }
    }
    int ok = 1;
    if (img < r->n_images) {
        if (!put_image_header(out, st, &r->images[img])) {
            free(first);
            return 0;
        }
    } else {
        fprintf(out, "image #%zu (missing from the results)\n", img);
    }
    static const stw_rimage none = {0};
    const stw_rimage *im = img < r->n_images ? &r->images[img] : &none;
    if (n == 0)
        fputs("  no findings\n", out);
    for (size_t i = 0; i < n && ok; i++) {
        if ((i == 0 || f[i]->layer != f[i - 1]->layer) &&
            !put_layer_header(out, im, f[i]->layer, f[i]->layer_digest))
            ok = 0;
        else if (!put_finding(out, st, f[i]))
            ok = 0;
        else if (o->secret_of)
            put_secret(out, st, o, f[i]);
        else if (first && first[i])
            put_fix(out, st, o, f[i]);
    }
    free(first);
    return ok;
}

stw_status stw_report_table(const stw_results *r, bool color, FILE *out,
                            stw_error *err)
{
    stw_table_options o = {.color = color};
    return stw_report_table_ex(r, &o, out, err);
}

stw_status stw_report_table_ex(const stw_results *r,
                               const stw_table_options *opt, FILE *out,
                               stw_error *err)
{
    static const stw_table_options defaults = {0};
    const stw_table_options *o = opt ? opt : &defaults;
    const style st = {o->color};
    size_t layers, cached;
    const stw_rfinding **f = NULL;
    if (!count_layers(r, &layers, &cached))
        goto nomem;
    if (r->n_findings == 0) {
        if (!put_errors(out, &st, r))
            goto nomem;
        fprintf(out, "no findings in %zu image%s (%zu layer%s)\n", r->n_images,
                plural(r->n_images), layers, plural(layers));
        return finish_output(out, err);
    }

    f = malloc(r->n_findings * sizeof(*f));
    if (!f)
        goto nomem;
    for (size_t i = 0; i < r->n_findings; i++)
        f[i] = &r->findings[i];
    stw_sort(f, r->n_findings, sizeof(*f), cmp_finding_ptr);

    size_t at = 0;
    for (size_t img = 0; img < r->n_images || at < r->n_findings;) {
        if (img >= r->n_images)
            img = f[at]->image; /* findings naming no listed image */
        size_t end = at;
        while (end < r->n_findings && f[end]->image == img)
            end++;
        if (img > 0 || at > 0)
            fputc('\n', out);
        if (!put_image(out, &st, o, r, img, f + at, end - at))
            goto nomem;
        at = end;
        img++;
    }
    fputc('\n', out);
    if (!put_errors(out, &st, r))
        goto nomem;
    put_summary(out, r, layers, cached);
    free(f);
    return finish_output(out, err);
nomem:
    free(f);
    return stw_fail(err, STW_ERR_NOMEM, "rendering report: out of memory");
}

/* ---- SARIF ----------------------------------------------------------------
 * SARIF 2.1.0 as GitHub code scanning reads it: one run, rules described in
 * tool.driver.rules with a security-severity GitHub ranks alerts by, paths
 * inside the image as URIs relative to a declared IMAGEROOT base. */

#define SARIF_SCHEMA                                                           \
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"      \
    "sarif-schema-2.1.0.json"
#define SARIF_ROOT "IMAGEROOT"
/* "<config>" is not a URI; config findings point here instead. */
#define SARIF_CONFIG_URI "image-config"
#define SARIF_FP_KEY     "stowaway/v1"

/* Text for the rules the rule set does not describe: the metadata detector
 * has its rules in code, not in signatures/. */
typedef struct builtin_rule {
    const char *id, *title, *remediation;
} builtin_rule;

static const builtin_rule builtin_rules[] = {
    {"setuid-file", "Setuid executable",
     "Drop the setuid bit in the final stage (RUN chmod a-s FILE) unless the "
     "program must run as its owner; prefer capabilities or a non-root "
     "user."},
    {"setgid-file", "Setgid executable",
     "Drop the setgid bit in the final stage (RUN chmod a-s FILE) unless the "
     "program must run with its group."},
    {"world-writable-file", "World-writable file",
     "Remove write permission for others in the final stage (RUN chmod o-w "
     "FILE, or COPY --chmod) so no process in the container can alter it."},
    {"world-writable-dir", "World-writable directory without the sticky bit",
     "Remove write permission for others (RUN chmod o-w DIR) or set the "
     "sticky bit as /tmp has (RUN chmod +t DIR)."},
};

static const builtin_rule *builtin_find(const char *id)
{
    for (size_t i = 0; id && i < STW_ARRAY_LEN(builtin_rules); i++)
        if (strcmp(builtin_rules[i].id, id) == 0)
            return &builtin_rules[i];
    return NULL;
}

/* What a finding of each kind is, for a rule's fullDescription. */
static const char *kind_what(stw_kind k)
{
    switch (k) {
    case STW_KIND_SECRET:
        return "A token, password or API key stored in a file of the image.";
    case STW_KIND_PRIVATE_KEY:
        return "A private key stored in a file of the image.";
    case STW_KIND_CREDENTIAL_FILE:
        return "A file that by its name and place usually holds credentials.";
    case STW_KIND_ARTIFACT:
        return "Build or source-control debris that should not ship, such as "
               ".git/ or .env, often from COPY . .";
    case STW_KIND_SETUID:
        return "An executable with the setuid bit: it runs with its owner's "
               "privileges, usually root's.";
    case STW_KIND_SETGID:
        return "An executable with the setgid bit: it runs with its group's "
               "privileges.";
    case STW_KIND_WORLD_WRITABLE:
        return "A file or directory that any user in the container can "
               "modify.";
    case STW_KIND_CONFIG:
        return "A secret in the image config (Env or a history line), which "
               "docker inspect shows to anyone who pulls the image.";
    default:
        return "A finding in a container image.";
    }
}

/* Remediation for a rule that has none of its own. */
static const char *kind_remedy(stw_kind k)
{
    switch (k) {
    case STW_KIND_PRIVATE_KEY:
        return "Remove the key from the image (mount it at run time) and "
               "rotate it.";
    case STW_KIND_CREDENTIAL_FILE:
        return "Remove the file from the image (add it to .dockerignore) and "
               "rotate the credentials it holds.";
    case STW_KIND_ARTIFACT:
        return "Keep it out of the image: list it in .dockerignore or copy "
               "only what the image needs.";
    case STW_KIND_SETUID:
    case STW_KIND_SETGID:
        return "Drop the bit in the final stage (RUN chmod a-s FILE).";
    case STW_KIND_WORLD_WRITABLE:
        return "Remove write permission for others (RUN chmod o-w PATH).";
    case STW_KIND_CONFIG:
        return "Do not pass secrets through ENV or ARG: use a build secret "
               "(RUN --mount=type=secret) or run-time configuration, and "
               "rotate the secret.";
    default:
        return "Remove the secret from the image (pass it at run time or as a "
               "build secret) and revoke it.";
    }
}

/* CWE GitHub shows next to the alert, in its tag convention. */
static const char *kind_cwe(stw_kind k)
{
    switch (k) {
    case STW_KIND_ARTIFACT:
        return "external/cwe/cwe-538";
    case STW_KIND_SETUID:
    case STW_KIND_SETGID:
        return "external/cwe/cwe-250";
    case STW_KIND_WORLD_WRITABLE:
        return "external/cwe/cwe-732";
    default:
        return "external/cwe/cwe-798";
    }
}

/* GitHub maps security-severity to its levels: >= 9.0 critical, >= 7.0
 * high, >= 4.0 medium, else low. */
static const char *sarif_security_severity(stw_severity s)
{
    switch (s) {
    case STW_SEV_CRITICAL:
        return "9.5";
    case STW_SEV_HIGH:
        return "8.0";
    case STW_SEV_MEDIUM:
        return "5.5";
    case STW_SEV_LOW:
        return "3.0";
    default:
        return "1.0";
    }
}

static const char *sarif_level(stw_severity s)
{
    if (s >= STW_SEV_HIGH)
        return "error";
    return s == STW_SEV_MEDIUM ? "warning" : "note";
}

/* One rule of the run: its id, what the rule set says about it, and the
 * most severe of its findings, which its default level reports. */
typedef struct sarif_rule {
    const char *id;
    const stw_rule_info *info;   /* NULL when the rule set lacks it */
    const builtin_rule *builtin; /* NULL unless a metadata rule */
    stw_kind kind;               /* of the rule, else its first finding */
    stw_severity severity;
} sarif_rule;

static int cmp_rule_id(const void *pa, const void *pb)
{
    return strcmp(((const sarif_rule *)pa)->id, ((const sarif_rule *)pb)->id);
}

/* {"text": s}, the SARIF message and multiformatMessageString shape. */
static json_t *sarif_text(const char *s, int *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = 0;
        return NULL;
    }
    put(o, "text", jstr(s), ok);
    return o;
}

/* "rsa-private-key" -> "RsaPrivateKey": SARIF wants a name that reads as
 * an identifier. Malloc'd. */
static char *rule_name(const char *id)
{
    char *s = malloc(strlen(id) + 1);
    if (!s)
        return NULL;
    size_t o = 0;
    int up = 1;
    for (const char *p = id; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9'))) {
            up = 1;
            continue;
        }
        s[o++] = (char)(up && c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
        up = 0;
    }
    s[o] = 0;
    return s;
}

static json_t *sarif_rule_json(const sarif_rule *ru, int *ok)
{
    json_t *o = json_object(), *props = json_object(), *tags = json_array();
    char *name = rule_name(ru->id);
    if (!o || !props || !tags || !name) {
        json_decref(o);
        json_decref(props);
        json_decref(tags);
        free(name);
        *ok = 0;
        return NULL;
    }
    const char *title = ru->info && ru->info->title && *ru->info->title
                            ? ru->info->title
                        : ru->builtin ? ru->builtin->title
                                      : ru->id;
    const char *remedy =
        ru->info && ru->info->remediation && *ru->info->remediation
            ? ru->info->remediation
        : ru->builtin ? ru->builtin->remediation
                      : kind_remedy(ru->kind);
    const char *category = ru->info && ru->info->category && *ru->info->category
                               ? ru->info->category
                               : stw_kind_str(ru->kind);
    const char *what = kind_what(ru->kind);
    const char *tail = " stowaway reports it against the layer that added "
                       "it; a file a later layer deleted or replaced is still "
                       "in the image for anyone who pulls it.";
    size_t n = strlen(title) + strlen(what) + strlen(tail) + 4;
    char *full = malloc(n);
    if (full)
        snprintf(full, n, "%s. %s%s", title, what, tail);
    else
        *ok = 0;

    put(o, "id", jstr(ru->id), ok);
    put(o, "name", jstr(*name ? name : ru->id), ok);
    put(o, "shortDescription", sarif_text(title, ok), ok);
    put(o, "fullDescription", sarif_text(full, ok), ok);
    json_t *conf = json_object();
    if (conf)
        put(conf, "level", json_string(sarif_level(ru->severity)), ok);
    put(o, "defaultConfiguration", conf, ok);
    put(o, "help", sarif_text(remedy, ok), ok);
    /* "security" is the tag that makes GitHub read security-severity. */
    push(tags, json_string("security"), ok);
    push(tags, json_string(stw_kind_str(ru->kind)), ok);
    if (strcmp(category, stw_kind_str(ru->kind)) != 0 &&
        strcmp(category, "security") != 0)
        push(tags, jstr(category), ok);
    push(tags, json_string(kind_cwe(ru->kind)), ok);
    put(props, "security-severity",
        json_string(sarif_security_severity(ru->severity)), ok);
    put(props, "tags", tags, ok);
    put(props, "kind", json_string(stw_kind_str(ru->kind)), ok);
    put(props, "category", jstr(category), ok);
    put(props, "severity", json_string(stw_severity_str(ru->severity)), ok);
    put(o, "properties", props, ok);
    free(name);
    free(full);
    return o;
}

/* Percent-encodes a path from the image as a relative URI reference:
 * only unreserved characters and '/' stay, so spaces, '%', '#', '?', ':'
 * and bytes that are not UTF-8 cannot change what the URI means. Malloc'd;
 * NULL when out of memory. */
static char *uri_encode(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path);
    if (n == 0)
        return stw_strdup(".");
    char *s = malloc(3 * n + 1);
    if (!s)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~' || c == '/') {
            s[o++] = (char)c;
        } else {
            s[o++] = '%';
            s[o++] = hex[c >> 4];
            s[o++] = hex[c & 15];
        }
    }
    s[o] = 0;
    return s;
}

/* A layer's history line as a string of at most max code points (an
 * ellipsis, one of them, marks a cut), valid UTF-8, without the legacy
 * builder's
 * "#(nop)" prefix; null when unknown. */
static json_t *jstr_truncated(const char *s, size_t max)
{
    s = pretty_created_by(s);
    if (!*s)
        return json_null();
    size_t len;
    char *buf = utf8_fix(s, strlen(s), &len);
    if (!buf)
        return NULL;
    json_t *v;
    if (max == 0 || buf[byte_at(buf, max)] == 0) {
        v = json_stringn(buf, len);
    } else {
        /* max - 1 code points and the ellipsis; byte_at() stops on a code
         * point boundary. */
        size_t at = byte_at(buf, max - 1);
        char *cut = malloc(at + sizeof(ELLIPSIS));
        v = NULL;
        if (cut) {
            memcpy(cut, buf, at);
            memcpy(cut + at, ELLIPSIS, sizeof(ELLIPSIS));
            v = json_string(cut);
            free(cut);
        }
    }
    free(buf);
    return v;
}

/* "<title>: <path> in layer 1 of app:1.2; deleted in layer 2 but
 * recoverable". Never the secret: the excerpt stays in properties. */
static char *sarif_message(const stw_rfinding *f, const char *title,
                           const char *ref)
{
    char where[64], hidden[96];
    if (f->layer >= 0)
        snprintf(where, sizeof(where), " in layer %d", f->layer);
    else
        where[0] = 0;
    hidden[0] = 0;
    if (!f->visible && f->removed_in_layer >= 0)
        snprintf(hidden, sizeof(hidden),
                 "; deleted in layer %d but recoverable", f->removed_in_layer);
    else if (!f->visible)
        snprintf(hidden, sizeof(hidden), "; deleted but recoverable");
    const char *path = f->layer < 0 ? "image config" : f->path ? f->path : "";
    const char *detail =
        f->layer < 0 && f->detail && *f->detail ? f->detail : NULL;
    int n = snprintf(NULL, 0, "%s: %s%s%s%s%s of %s%s", title, path,
                     detail ? " (" : "", detail ? detail : "",
                     detail ? ")" : "", where, ref, hidden);
    char *s = malloc((size_t)n + 1);
    if (s)
        snprintf(s, (size_t)n + 1, "%s: %s%s%s%s%s of %s%s", title, path,
                 detail ? " (" : "", detail ? detail : "", detail ? ")" : "",
                 where, ref, hidden);
    return s;
}

static json_t *sarif_location(const stw_rfinding *f, int *ok)
{
    json_t *loc = json_object(), *phys = json_object(), *art = json_object();
    if (!loc || !phys || !art) {
        json_decref(loc);
        json_decref(phys);
        json_decref(art);
        *ok = 0;
        return NULL;
    }
    if (f->layer < 0) {
        put(art, "uri", json_string(SARIF_CONFIG_URI), ok);
    } else {
        char *uri = uri_encode(f->path ? f->path : "");
        put(art, "uri", uri ? json_string(uri) : NULL, ok);
        put(art, "uriBaseId", json_string(SARIF_ROOT), ok);
        free(uri);
    }
    put(phys, "artifactLocation", art, ok);
    /* A line inside an Env value is no place in "image-config". */
    if (f->line > 0 && f->layer >= 0) {
        json_t *region = json_object();
        if (region)
            put(region, "startLine", json_integer((json_int_t)f->line), ok);
        put(phys, "region", region, ok);
    }
    put(loc, "physicalLocation", phys, ok);
    return loc;
}

static json_t *sarif_result(const stw_results *r, const stw_rfinding *f,
                            const sarif_rule *ru, size_t rule_index, int *ok)
{
    json_t *o = json_object(), *fp = json_object(), *props = json_object(),
           *locs = json_array();
    if (!o || !fp || !props || !locs) {
        json_decref(o);
        json_decref(fp);
        json_decref(props);
        json_decref(locs);
        *ok = 0;
        return NULL;
    }
    const stw_rimage *im = f->image < r->n_images ? &r->images[f->image] : NULL;
    const stw_rlayer *l = im && f->layer >= 0 && (size_t)f->layer < im->n_layers
                              ? &im->layers[f->layer]
                              : NULL;
    const char *title = ru->info && ru->info->title && *ru->info->title
                            ? ru->info->title
                        : ru->builtin ? ru->builtin->title
                                      : ru->id;
    char *msg = sarif_message(f, title, im && im->ref ? im->ref : "the image");
    put(o, "ruleId", jstr(f->rule), ok);
    put(o, "ruleIndex", json_integer((json_int_t)rule_index), ok);
    put(o, "level", json_string(sarif_level(f->severity)), ok);
    put(o, "message", msg ? sarif_text(msg, ok) : NULL, ok);
    free(msg);
    push(locs, sarif_location(f, ok), ok);
    put(o, "locations", locs, ok);
    put(fp, SARIF_FP_KEY, jstr(f->fingerprint), ok);
    put(o, "partialFingerprints", fp, ok);

    put(props, "image", jstr(im ? im->ref : NULL), ok);
    put(props, "image_index", json_integer((json_int_t)f->image), ok);
    put(props, "layer", jint_or_null(f->layer >= 0, f->layer), ok);
    put(props, "layer_digest", jstr(f->layer_digest), ok);
    put(props, "created_by",
        l ? jstr_truncated(l->created_by, STW_REPORT_SARIF_CREATED_BY_MAX)
          : json_null(),
        ok);
    put(props, "path", jstr(f->path), ok);
    put(props, "in_image_config", json_boolean(f->layer < 0), ok);
    put(props, "visible", json_boolean(f->visible), ok);
    put(props, "removed_in_layer",
        jint_or_null(!f->visible && f->removed_in_layer >= 0,
                     f->removed_in_layer),
        ok);
    put(props, "kind", json_string(stw_kind_str(f->kind)), ok);
    put(props, "severity", json_string(stw_severity_str(f->severity)), ok);
    put(props, "offset", jint_or_null(f->offset >= 0, f->offset), ok);
    put(props, "mode", jint_or_null(f->has_mode, f->mode & 07777), ok);
    put(props, "uid", jint_or_null(f->has_mode, f->uid), ok);
    put(props, "gid", jint_or_null(f->has_mode, f->gid), ok);
    put(props, "excerpt", jstr_or_null(f->excerpt), ok);
    put(props, "validated", json_boolean(f->validated), ok);
    put(props, "detail", jstr_or_null(f->detail), ok);
    put(o, "properties", props, ok);
    return o;
}

/* Marks in keep[] which findings fit in one run: all of them when they fit,
 * else the most severe, in report order within the cut-off severity.
 * Returns how many are kept. */
static size_t sarif_select(const stw_results *r, unsigned char *keep)
{
    size_t n = r->n_findings, max = STW_REPORT_SARIF_MAX_RESULTS;
    if (n <= max) {
        memset(keep, 1, n);
        return n;
    }
    size_t by_sev[STW_SEV_COUNT_] = {0};
    for (size_t i = 0; i < n; i++)
        by_sev[(unsigned)r->findings[i].severity % STW_SEV_COUNT_]++;
    /* Whole severities from the top while they fit; then part of one. */
    size_t left = max;
    size_t room[STW_SEV_COUNT_] = {0};
    for (int s = STW_SEV_COUNT_ - 1; s >= 0; s--) {
        room[s] = by_sev[s] < left ? by_sev[s] : left;
        left -= room[s];
    }
    for (size_t i = 0; i < n; i++) {
        unsigned s = (unsigned)r->findings[i].severity % STW_SEV_COUNT_;
        keep[i] = room[s] > 0;
        room[s] -= keep[i];
    }
    return max;
}

/* Distinct rules of the kept findings, sorted by id. *out malloc'd. */
static int sarif_collect_rules(const stw_results *r, const stw_rules *rules,
                               const unsigned char *keep, sarif_rule **out,
                               size_t *n_out)
{
    size_t n = 0;
    sarif_rule *v = malloc((r->n_findings ? r->n_findings : 1) * sizeof(*v));
    if (!v)
        return 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        if (!keep[i])
            continue;
        const stw_rfinding *f = &r->findings[i];
        v[n++] = (sarif_rule){.id = f->rule ? f->rule : "",
                              .kind = f->kind,
                              .severity = f->severity};
    }
    stw_sort(v, n, sizeof(*v), cmp_rule_id);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && strcmp(v[k - 1].id, v[i].id) == 0) {
            if (v[i].severity > v[k - 1].severity)
                v[k - 1].severity = v[i].severity;
            continue;
        }
        v[k++] = v[i];
    }
    for (size_t i = 0; i < k; i++) {
        v[i].info = rules ? stw_rules_find(rules, v[i].id) : NULL;
        v[i].builtin = builtin_find(v[i].id);
        /* The rule's own kind: a secret rule matching in the config is
         * still a secret rule. */
        if (v[i].info)
            v[i].kind = v[i].info->kind;
    }
    *out = v;
    *n_out = k;
    return 1;
}

static json_t *sarif_notification(const char *level, const char *text,
                                  const char *target, int *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = 0;
        return NULL;
    }
    put(o, "level", json_string(level), ok);
    put(o, "message", sarif_text(text, ok), ok);
    if (target) {
        json_t *props = json_object();
        if (props)
            put(props, "target", jstr(target), ok);
        put(o, "properties", props, ok);
    }
    return o;
}

/* The run's invocation: failed targets, and findings left out. */
static json_t *sarif_invocation(const stw_results *r, size_t omitted, int *ok)
{
    json_t *inv = json_object(), *notes = json_array();
    if (!inv || !notes) {
        json_decref(inv);
        json_decref(notes);
        *ok = 0;
        return NULL;
    }
    put(inv, "executionSuccessful", json_boolean(r->n_errors == 0), ok);
    for (size_t i = 0; i < r->n_errors; i++) {
        const char *t = r->errors[i].target ? r->errors[i].target : "";
        const char *m = r->errors[i].message ? r->errors[i].message : "";
        size_t tl = strlen(t);
        /* Messages usually name the target already. */
        int named = tl == 0 || strncmp(m, t, tl) == 0;
        size_t n = tl + strlen(m) + 3;
        char *text = malloc(n);
        if (!text) {
            *ok = 0;
            break;
        }
        snprintf(text, n, "%s%s%s", named ? "" : t, named ? "" : ": ", m);
        push(notes, sarif_notification("error", text, t, ok), ok);
        free(text);
    }
    if (omitted) {
        char text[200];
        snprintf(text, sizeof(text),
                 "%zu of %zu findings left out: a run holds at most %d "
                 "results; the most severe were kept (see --format json)",
                 omitted, r->n_findings, STW_REPORT_SARIF_MAX_RESULTS);
        push(notes, sarif_notification("warning", text, NULL, ok), ok);
    }
    put(inv, "toolExecutionNotifications", notes, ok);
    return inv;
}

static json_t *sarif_images(const stw_results *r, int *ok)
{
    json_t *a = json_array();
    if (!a) {
        *ok = 0;
        return NULL;
    }
    for (size_t i = 0; i < r->n_images; i++) {
        const stw_rimage *im = &r->images[i];
        json_t *o = json_object();
        if (!o) {
            *ok = 0;
            break;
        }
        put(o, "ref", jstr(im->ref), ok);
        put(o, "manifest_digest", jstr_or_null(im->manifest_digest), ok);
        put(o, "config_digest", jstr(im->config_digest), ok);
        put(o, "platform", jstr_or_null(im->platform), ok);
        put(o, "layers", json_integer((json_int_t)im->n_layers), ok);
        push(a, o, ok);
    }
    return a;
}

static json_t *sarif_log(const stw_results *r, const stw_rules *rules, int *ok)
{
    unsigned char *keep = malloc(r->n_findings ? r->n_findings : 1);
    if (!keep) {
        *ok = 0;
        return NULL;
    }
    size_t kept = sarif_select(r, keep);
    sarif_rule *ru = NULL;
    size_t n_rules = 0;
    if (!sarif_collect_rules(r, rules, keep, &ru, &n_rules)) {
        free(keep);
        *ok = 0;
        return NULL;
    }

    json_t *root = json_object(), *runs = json_array(), *run = json_object(),
           *tool = json_object(), *driver = json_object(),
           *jrules = json_array(), *dprops = json_object(),
           *bases = json_object(), *results = json_array(),
           *invs = json_array(), *rprops = json_object();
    if (!root || !runs || !run || !tool || !driver || !jrules || !dprops ||
        !bases || !results || !invs || !rprops) {
        json_t *all[] = {root,   runs,  run,     tool, driver, jrules,
                         dprops, bases, results, invs, rprops};
        for (size_t i = 0; i < STW_ARRAY_LEN(all); i++)
            json_decref(all[i]);
        free(keep);
        free(ru);
        *ok = 0;
        return NULL;
    }
    put(root, "$schema", json_string(SARIF_SCHEMA), ok);
    put(root, "version", json_string("2.1.0"), ok);

    put(driver, "name", json_string("stowaway"), ok);
    put(driver, "version", json_string(STW_VERSION), ok);
    put(driver, "semanticVersion", json_string(STW_VERSION), ok);
    for (size_t i = 0; i < n_rules; i++)
        push(jrules, sarif_rule_json(&ru[i], ok), ok);
    put(driver, "rules", jrules, ok);
    put(dprops, "rules_version", jstr_or_null(r->rules_version), ok);
    put(driver, "properties", dprops, ok);
    put(tool, "driver", driver, ok);
    put(run, "tool", tool, ok);

    push(invs, sarif_invocation(r, r->n_findings - kept, ok), ok);
    put(run, "invocations", invs, ok);

    json_t *root_loc = json_object();
    if (root_loc)
        put(root_loc, "description",
            sarif_text("The root of the scanned image's filesystem. Each "
                       "result's properties name the image and the layer "
                       "that holds the file.",
                       ok),
            ok);
    put(bases, SARIF_ROOT, root_loc, ok);
    put(run, "originalUriBaseIds", bases, ok);

    for (size_t i = 0; i < r->n_findings && *ok; i++) {
        if (!keep[i])
            continue;
        const stw_rfinding *f = &r->findings[i];
        sarif_rule key = {.id = f->rule ? f->rule : ""};
        const sarif_rule *hit =
            bsearch(&key, ru, n_rules, sizeof(*ru), cmp_rule_id);
        if (!hit) { /* cannot happen: every kept rule was collected */
            *ok = 0;
            break;
        }
        push(results, sarif_result(r, f, hit, (size_t)(hit - ru), ok), ok);
    }
    put(run, "results", results, ok);
    put(rprops, "images", sarif_images(r, ok), ok);
    put(rprops, "findings_total", json_integer((json_int_t)r->n_findings), ok);
    put(rprops, "findings_omitted",
        json_integer((json_int_t)(r->n_findings - kept)), ok);
    put(run, "properties", rprops, ok);
    push(runs, run, ok);
    put(root, "runs", runs, ok);
    free(keep);
    free(ru);
    return root;
}

stw_status stw_report_sarif(const stw_results *r, const stw_rules *rules,
                            FILE *out, stw_error *err)
{
    int ok = 1;
    json_t *root = sarif_log(r, rules, &ok);
    if (!ok) {
        json_decref(root);
        return stw_fail(err, STW_ERR_NOMEM,
                        "building SARIF report: out of memory");
    }
    return dump_json(root, out, "SARIF", err);
}

/* ---- remediation ---------------------------------------------------------
 */

const char *stw_report_remediation(const stw_rules *rules, const char *rule,
                                   stw_kind kind)
{
    const stw_rule_info *info =
        rules && rule ? stw_rules_find(rules, rule) : NULL;
    if (info && info->remediation && *info->remediation)
        return info->remediation;
    const builtin_rule *b = builtin_find(rule);
    return b ? b->remediation : kind_remedy(kind);
}

/* The last component of a path, for "add NAME to .dockerignore". */
static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

/* Short enough for the table's fix line (61 columns): what to do first. */
static void short_remedy(const stw_rfinding *f, char *buf, size_t n)
{
    const char *name = base_name(f->path ? f->path : "");
    bool named = *name && strlen(name) <= 24 && strcmp(name, "<config>") != 0;
    switch (f->kind) {
    case STW_KIND_ARTIFACT:
        if (named) {
            snprintf(buf, n, "add %s to .dockerignore", name);
            return;
        }
        snprintf(buf, n, "add it to .dockerignore; COPY only what you need");
        return;
    case STW_KIND_CREDENTIAL_FILE:
        if (named) {
            snprintf(buf, n, "add %s to .dockerignore, rotate what it holds",
                     name);
            return;
        }
        snprintf(buf, n, "keep it out of the image; rotate what it holds");
        return;
    case STW_KIND_PRIVATE_KEY:
        snprintf(buf, n, "remove the key, mount it at run time, rotate it");
        return;
    case STW_KIND_SETUID:
    case STW_KIND_SETGID:
        snprintf(buf, n, "chmod a-s in the final stage");
        return;
    case STW_KIND_WORLD_WRITABLE:
        snprintf(buf, n, "chmod o-w in the final stage (or COPY --chmod)");
        return;
    case STW_KIND_CONFIG:
        snprintf(buf, n, "use a BuildKit secret mount instead of ARG/ENV");
        return;
    default:
        snprintf(buf, n, "revoke it; pass it at run time or as a build secret");
        return;
    }
}

/* Columns of a UTF-8 string (one per code point). */
static size_t text_width(const char *s, size_t len)
{
    size_t w = 0;
    for (size_t i = 0; i < len; i++)
        w += ((unsigned char)s[i] & 0xc0) != 0x80;
    return w;
}

void stw_report_remediation_line(const stw_rules *rules, const stw_rfinding *f,
                                 size_t max, char *buf, size_t n)
{
    if (!n)
        return;
    const stw_rule_info *info =
        rules && f->rule ? stw_rules_find(rules, f->rule) : NULL;
    const builtin_rule *b = builtin_find(f->rule);
    const char *text = info && info->remediation && *info->remediation
                           ? info->remediation
                       : b ? b->remediation
                           : NULL;
    if (text) {
        size_t len = strlen(text);
        /* Whole, else its first sentence ("...key. Then..."). */
        const char *dot = strstr(text, ". ");
        if (text_width(text, len) > max && dot)
            len = (size_t)(dot - text) + 1;
        if (text_width(text, len) <= max && len < n) {
            snprintf(buf, n, "%.*s", (int)len, text);
            return;
        }
    }
    short_remedy(f, buf, n);
}
