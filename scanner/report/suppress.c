/* suppress.c - ignore files, baselines and skipped layers (suppress.h):
 * parsing them, and removing what they match from a scan's results. */
#include "suppress.h"

#include "common.h"
#include "limits.h"
#include "sha256.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct ignore_entry {
    char *fingerprint, *rule, *path, *image; /* NULL: not a condition */
    bool dir_prefix; /* path ended in '/': everything below it matches */
} ignore_entry;

/* A sorted array of strings, searched with bsearch. */
typedef struct strset {
    char **v;
    size_t n, cap;
    bool sorted;
} strset;

struct stw_suppress {
    ignore_entry *ign;
    size_t n_ign, cap_ign;
    char **warn;
    size_t n_warn, cap_warn;
    strset layers;       /* blob digests and diff_ids */
    strset fingerprints; /* baseline */
    strset keys;         /* baseline rebuild keys */
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool grow(void **v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = stw_realloc(*v, nc * elem);
    if (!p)
        return false;
    *v = p;
    *cap = nc;
    return true;
}

static stw_status strset_add(strset *s, const char *str, stw_error *err)
{
    char *c = stw_strdup(str);
    if (!c || !grow((void **)&s->v, &s->cap, s->n, sizeof(*s->v))) {
        free(c);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    s->v[s->n++] = c;
    s->sorted = false;
    return STW_OK;
}

/* Sorting is deferred to the first lookup, which is const for callers:
 * the set is logically unchanged. */
static bool strset_has(const strset *cs, const char *str)
{
    strset *s = (strset *)cs;
    if (!s->n || !str)
        return false;
    if (!s->sorted) {
        stw_sort(s->v, s->n, sizeof(*s->v), cmp_str);
        s->sorted = true;
    }
    return bsearch(&str, s->v, s->n, sizeof(*s->v), cmp_str) != NULL;
}

static void strset_free(strset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

stw_status stw_suppress_create(stw_suppress **out, stw_error *err)
{
    *out = stw_calloc(1, sizeof(**out));
    if (!*out)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    return STW_OK;
}

void stw_suppress_destroy(stw_suppress *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_ign; i++) {
        free(s->ign[i].fingerprint);
        free(s->ign[i].rule);
        free(s->ign[i].path);
        free(s->ign[i].image);
    }
    free(s->ign);
    for (size_t i = 0; i < s->n_warn; i++)
        free(s->warn[i]);
    free(s->warn);
    strset_free(&s->layers);
    strset_free(&s->fingerprints);
    strset_free(&s->keys);
    free(s);
}

size_t stw_suppress_warning_count(const stw_suppress *s)
{
    return s ? s->n_warn : 0;
}

const char *stw_suppress_warning(const stw_suppress *s, size_t i)
{
    return s && i < s->n_warn ? s->warn[i] : NULL;
}

size_t stw_suppress_ignore_count(const stw_suppress *s)
{
    return s ? s->n_ign : 0;
}

/* ---- ignore files --------------------------------------------------------
 */

/* One parsed line, before it becomes an entry. Values point into a copy of
 * the line that the parser owns. */
typedef struct line_fields {
    const char *fingerprint, *rule, *path, *image, *expires, *reason;
} line_fields;

static bool valid_date(const char *d)
{
    if (strlen(d) != 10 || d[4] != '-' || d[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)d[i]))
            return false;
    int m = (d[5] - '0') * 10 + (d[6] - '0');
    int day = (d[8] - '0') * 10 + (d[9] - '0');
    return m >= 1 && m <= 12 && day >= 1 && day <= 31;
}

static bool valid_hex(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s))
            return false;
    return true;
}

/* Reads one value at *p (quoted or up to whitespace) into place, NUL-
 * terminating it; advances *p past it. Returns false on an unterminated
 * quote. */
static bool take_value(char **p, char **val)
{
    char *s = *p;
    if (*s != '"') {
        *val = s;
        while (*s && !isspace((unsigned char)*s))
            s++;
        if (*s)
            *s++ = 0;
        *p = s;
        return true;
    }
    char *o = ++s;
    *val = o;
    for (; *s && *s != '"'; s++) {
        if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
            s++;
        *o++ = *s;
    }
    if (*s != '"')
        return false;
    *o = 0;
    *p = s + 1;
    return true;
}

/* Splits a line (modified in place) into its fields. */
static stw_status parse_line(char *line, const char *name, size_t lineno,
                             line_fields *lf, stw_error *err)
{
    memset(lf, 0, sizeof(*lf));
    char *p = line;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        char *eq = p;
        while (*eq && *eq != '=' && !isspace((unsigned char)*eq))
            eq++;
        if (*eq != '=')
            return stw_fail(err, STW_ERR_FORMAT,
                            "%s:%zu: expected KEY=VALUE, got '%.40s'", name,
                            lineno, p);
        *eq = 0;
        const char *key = p;
        p = eq + 1;
        if (strcmp(key, "reason") == 0) {
            /* Free text: the rest of the line, quotes and all. */
            size_t n = strlen(p);
            while (n && isspace((unsigned char)p[n - 1]))
                p[--n] = 0;
            lf->reason = p;
            break;
        }
        char *val;
        if (!take_value(&p, &val))
            return stw_fail(err, STW_ERR_FORMAT,
                            "%s:%zu: unterminated quote in %s=", name, lineno,
                            key);
        const char **slot = NULL;
        if (strcmp(key, "fingerprint") == 0)
            slot = &lf->fingerprint;
        else if (strcmp(key, "rule") == 0)
            slot = &lf->rule;
        else if (strcmp(key, "path") == 0)
            slot = &lf->path;
        else if (strcmp(key, "image") == 0)
            slot = &lf->image;
        else if (strcmp(key, "expires") == 0)
            slot = &lf->expires;
        else
            return stw_fail(err, STW_ERR_FORMAT,
                            "%s:%zu: unknown key '%.40s' (fingerprint, rule, "
                            "path, image, expires, reason)",
                            name, lineno, key);
        if (*slot)
            return stw_fail(err, STW_ERR_FORMAT, "%s:%zu: %s= given twice",
                            name, lineno, key);
        if (!*val)
            return stw_fail(err, STW_ERR_FORMAT, "%s:%zu: empty %s=", name,
                            lineno, key);
        *slot = val;
    }
    if (!lf->fingerprint && !lf->rule && !lf->path)
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s:%zu: an entry needs fingerprint=, rule= or path= "
                        "(path=* ignores everything)",
                        name, lineno);
    if (lf->fingerprint && !valid_hex(lf->fingerprint))
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s:%zu: fingerprint '%.40s' is not hexadecimal", name,
                        lineno, lf->fingerprint);
    if (lf->expires && !valid_date(lf->expires))
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s:%zu: expires '%.40s' is not a date (YYYY-MM-DD)",
                        name, lineno, lf->expires);
    return STW_OK;
}

static stw_status add_warning(stw_suppress *s, const char *msg, stw_error *err)
{
    char *c = stw_strdup(msg);
    if (!c ||
        !grow((void **)&s->warn, &s->cap_warn, s->n_warn, sizeof(*s->warn))) {
        free(c);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    s->warn[s->n_warn++] = c;
    return STW_OK;
}

static stw_status add_entry(stw_suppress *s, const line_fields *lf,
                            stw_error *err)
{
    if (!grow((void **)&s->ign, &s->cap_ign, s->n_ign, sizeof(*s->ign)))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    ignore_entry e = {0};
    const char *path = lf->path;
    while (path && *path == '/')
        path++; /* paths in reports have no leading '/' */
    e.fingerprint = stw_strdup(lf->fingerprint);
    e.rule = stw_strdup(lf->rule);
    e.path = stw_strdup(path);
    e.image = stw_strdup(lf->image);
    if ((lf->fingerprint && !e.fingerprint) || (lf->rule && !e.rule) ||
        (path && !e.path) || (lf->image && !e.image)) {
        free(e.fingerprint);
        free(e.rule);
        free(e.path);
        free(e.image);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    for (char *c = e.fingerprint; c && *c; c++)
        *c = (char)tolower((unsigned char)*c);
    size_t pl = e.path ? strlen(e.path) : 0;
    if (pl > 1 && e.path[pl - 1] == '/') {
        e.path[pl - 1] = 0;
        e.dir_prefix = true;
    }
    s->ign[s->n_ign++] = e;
    return STW_OK;
}

stw_status stw_suppress_parse_ignore(stw_suppress *s, const char *name,
                                     const char *text, size_t len,
                                     const char *today, stw_error *err)
{
    if (!name)
        name = "ignore file";
    size_t lineno = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        lineno++;
        if (memchr(text + at, 0, n))
            return stw_fail(err, STW_ERR_FORMAT, "%s:%zu: NUL byte", name,
                            lineno);
        char *line = stw_malloc(n + 1);
        if (!line)
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        memcpy(line, text + at, n);
        line[n] = 0;
        at += n + (nl != NULL);
        if (n && line[n - 1] == '\r')
            line[n - 1] = 0;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        stw_status st = STW_OK;
        line_fields lf;
        if (*p && *p != '#' &&
            (st = parse_line(p, name, lineno, &lf, err)) == STW_OK) {
            /* A date string compares like the date: YYYY-MM-DD. The entry
             * still holds on its expiry day. */
            if (lf.expires && today && strcmp(lf.expires, today) < 0) {
                char msg[STW_ERROR_MAX];
                snprintf(msg, sizeof(msg),
                         "%s:%zu: ignore entry expired on %s%s%.200s%s; it "
                         "no longer suppresses",
                         name, lineno, lf.expires,
                         lf.reason ? " (reason: " : "",
                         lf.reason ? lf.reason : "", lf.reason ? ")" : "");
                st = add_warning(s, msg, err);
            } else {
                st = add_entry(s, &lf, err);
            }
        }
        free(line);
        if (st != STW_OK)
            return st;
    }
    return STW_OK;
}

/* Reads a whole file of at most max bytes into a malloc'd buffer. */

stw_status stw_suppress_load_ignore(stw_suppress *s, const char *path,
                                    const char *today, stw_error *err)
{
    char *buf = NULL;
    size_t n = 0;
    stw_status st =
        stw_read_small_file(path, NULL, STW_MAX_IGNORE_BYTES, &buf, &n, err);
    if (st != STW_OK)
        return st;
    st = stw_suppress_parse_ignore(s, path, buf, n, today, err);
    free(buf);
    return st;
}

/* ---- baselines -----------------------------------------------------------
 */

stw_status stw_suppress_rebuild_key(const char *rule, const char *path,
                                    const char *secret_sha256, char out[33],
                                    stw_error *err)
{
    /* Without an allocation of ours: stw_suppress_match, which cannot
     * fail, computes one per finding against a baseline. */
    const char *parts[] = {rule ? rule : "", path ? path : "",
                           secret_sha256 ? secret_sha256 : ""};
    unsigned char md[STW_SHA256_LEN];
    if (stw_sha256_strings(parts, STW_ARRAY_LEN(parts), md) != STW_OK)
        return stw_fail(err, STW_ERR_NOMEM, "sha256: out of memory");
    stw_hex(md, STW_REBUILD_KEY_HEX / 2, out);
    return STW_OK;
}

stw_status stw_suppress_load_baseline(stw_suppress *s, const char *path,
                                      stw_error *err)
{
    char *buf = NULL;
    size_t n = 0;
    stw_status st =
        stw_read_small_file(path, NULL, STW_MAX_BASELINE_BYTES, &buf, &n, err);
    if (st != STW_OK)
        return st;
    json_error_t je;
    json_t *root = json_loadb(buf, n, 0, &je);
    free(buf);
    if (!root)
        return stw_fail(err, STW_ERR_FORMAT, "%s:%d: not a baseline: %s", path,
                        je.line, je.text);
    json_t *ver = json_object_get(root, "stowaway_baseline");
    json_t *arr = json_object_get(root, "findings");
    if (!json_is_integer(ver) || !json_is_array(arr)) {
        json_decref(root);
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s: not a baseline (want an object with "
                        "\"stowaway_baseline\" and \"findings\"; see "
                        "'stowaway baseline')",
                        path);
    }
    if (json_integer_value(ver) != STW_BASELINE_VERSION) {
        json_decref(root);
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s: baseline version %lld, this stowaway reads %d",
                        path, (long long)json_integer_value(ver),
                        STW_BASELINE_VERSION);
    }
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        const char *fp = json_string_value(json_object_get(e, "fingerprint"));
        const char *key = json_string_value(json_object_get(e, "key"));
        if (!fp && !key) {
            st = stw_fail(err, STW_ERR_FORMAT,
                          "%s: finding %zu has neither fingerprint nor key",
                          path, i);
            break;
        }
        if ((fp && (st = strset_add(&s->fingerprints, fp, err)) != STW_OK) ||
            (key && (st = strset_add(&s->keys, key, err)) != STW_OK))
            break;
    }
    json_decref(root);
    return st;
}

stw_status stw_suppress_add_baseline_results(stw_suppress *s,
                                             const stw_results *r,
                                             stw_error *err)
{
    for (size_t i = 0; r && i < r->n_findings; i++) {
        const stw_rfinding *f = &r->findings[i];
        char key[33];
        stw_status st = stw_suppress_rebuild_key(f->rule, f->path,
                                                 f->secret_sha256, key, err);
        if (st == STW_OK)
            st = strset_add(&s->fingerprints, f->fingerprint, err);
        if (st == STW_OK)
            st = strset_add(&s->keys, key, err);
        if (st != STW_OK)
            return st;
    }
    return STW_OK;
}

stw_status stw_suppress_add_layer(stw_suppress *s, const char *digest,
                                  stw_error *err)
{
    if (!digest || !*digest)
        return stw_fail(err, STW_ERR_USAGE, "empty layer digest");
    return strset_add(&s->layers, digest, err);
}

/* ---- matching ------------------------------------------------------------
 */

static bool entry_matches(const ignore_entry *e, const char *ref,
                          const stw_rfinding *f)
{
    if (e->fingerprint &&
        strcasecmp(e->fingerprint, f->fingerprint ? f->fingerprint : "") != 0)
        return false;
    if (e->rule && strcmp(e->rule, f->rule ? f->rule : "") != 0)
        return false;
    if (e->path) {
        const char *p = f->path ? f->path : "";
        size_t n = strlen(e->path);
        /* A star crosses slashes (no FNM_PATHNAME): app/STAR is all of app. */
        bool hit = fnmatch(e->path, p, 0) == 0;
        if (!hit && e->dir_prefix)
            hit = strncmp(p, e->path, n) == 0 && p[n] == '/';
        if (!hit)
            return false;
    }
    if (e->image && fnmatch(e->image, ref ? ref : "", 0) != 0)
        return false;
    return true;
}

stw_suppress_why stw_suppress_match(const stw_suppress *s, const stw_results *r,
                                    const stw_rfinding *f)
{
    if (!s)
        return STW_SUPPRESS_NONE;
    const stw_rimage *im = f->image < r->n_images ? &r->images[f->image] : NULL;
    if (s->layers.n) {
        if (strset_has(&s->layers, f->layer_digest))
            return STW_SUPPRESS_LAYER;
        /* A claimed diff_id is the config's word: only a computed one. */
        if (im && f->layer >= 0 && (size_t)f->layer < im->n_layers &&
            im->layers[f->layer].diff_id_verified &&
            strset_has(&s->layers, im->layers[f->layer].diff_id))
            return STW_SUPPRESS_LAYER;
    }
    for (size_t i = 0; i < s->n_ign; i++)
        if (entry_matches(&s->ign[i], im ? im->ref : NULL, f))
            return STW_SUPPRESS_IGNORE;
    if (strset_has(&s->fingerprints, f->fingerprint))
        return STW_SUPPRESS_BASELINE;
    if (s->keys.n) {
        char key[33];
        if (stw_suppress_rebuild_key(f->rule, f->path, f->secret_sha256, key,
                                     NULL) == STW_OK &&
            strset_has(&s->keys, key))
            return STW_SUPPRESS_BASELINE;
    }
    return STW_SUPPRESS_NONE;
}

typedef struct apply_ctx {
    const stw_suppress *s;
    stw_suppress_counts *c;
} apply_ctx;

static bool apply_keep(void *ctx, const stw_results *r, const stw_rfinding *f)
{
    apply_ctx *a = ctx;
    switch (stw_suppress_match(a->s, r, f)) {
    case STW_SUPPRESS_IGNORE:
        a->c->ignored++;
        return false;
    case STW_SUPPRESS_BASELINE:
        a->c->baselined++;
        return false;
    case STW_SUPPRESS_LAYER:
        a->c->layers++;
        return false;
    default:
        return true;
    }
}

void stw_suppress_apply(const stw_suppress *s, stw_results *r,
                        stw_suppress_counts *counts)
{
    stw_suppress_counts dummy = {0};
    apply_ctx a = {s, counts ? counts : &dummy};
    if (s && r)
        stw_results_retain(r, apply_keep, &a);
}

/* ---- writing a baseline --------------------------------------------------
 */

static int cmp_finding_fp(const void *pa, const void *pb)
{
    const stw_rfinding *a = *(const stw_rfinding *const *)pa;
    const stw_rfinding *b = *(const stw_rfinding *const *)pb;
    int c = strcmp(a->fingerprint, b->fingerprint);
    if (c)
        return c;
    if (a->image != b->image)
        return a->image < b->image ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* A JSON string even for invalid UTF-8 (paths come from tar headers):
 * invalid bytes become '?', which only changes what a person reads, never
 * the fingerprint or key that matching uses. */
static json_t *jstr(const char *s)
{
    json_t *v = json_string(s ? s : "");
    if (v)
        return v;
    char *c = stw_strdup(s);
    if (!c)
        return NULL;
    for (unsigned char *p = (unsigned char *)c; *p; p++)
        if (*p >= 0x80)
            *p = '?';
    v = json_string(c);
    free(c);
    return v;
}

stw_status stw_suppress_write_baseline(const stw_results *r, FILE *out,
                                       stw_error *err)
{
    const stw_rfinding **v =
        stw_malloc((r->n_findings ? r->n_findings : 1) * sizeof(*v));
    json_t *root = json_object(), *arr = json_array();
    if (!v || !root || !arr) {
        free(v);
        json_decref(root);
        json_decref(arr);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < r->n_findings; i++)
        v[i] = &r->findings[i];
    stw_sort(v, r->n_findings, sizeof(*v), cmp_finding_fp);
    int bad = json_object_set_new(root, "stowaway_baseline",
                                  json_integer(STW_BASELINE_VERSION));
    bad |= json_object_set_new(root, "tool_version", json_string(STW_VERSION));
    for (size_t i = 0; i < r->n_findings && !bad; i++) {
        const stw_rfinding *f = v[i];
        /* One entry per fingerprint: a layer shared by two images. */
        if (i > 0 && strcmp(f->fingerprint, v[i - 1]->fingerprint) == 0)
            continue;
        char key[33];
        if (stw_suppress_rebuild_key(f->rule, f->path, f->secret_sha256, key,
                                     err) != STW_OK) {
            free(v);
            json_decref(root);
            json_decref(arr);
            return err ? err->status : STW_ERR_NOMEM;
        }
        const char *ref = f->image < r->n_images ? r->images[f->image].ref : "";
        json_t *e = json_object();
        bad |= !e;
        bad |= json_object_set_new(e, "fingerprint", jstr(f->fingerprint));
        bad |= json_object_set_new(e, "key", json_string(key));
        bad |= json_object_set_new(e, "rule", jstr(f->rule));
        bad |=
            json_object_set_new(e, "kind", json_string(stw_kind_str(f->kind)));
        bad |= json_object_set_new(e, "severity",
                                   json_string(stw_severity_str(f->severity)));
        bad |= json_object_set_new(e, "path", jstr(f->path));
        bad |= json_object_set_new(e, "image", jstr(ref));
        bad |= json_object_set_new(e, "layer_digest", jstr(f->layer_digest));
        bad |= json_array_append_new(arr, e);
    }
    free(v);
    bad |= json_object_set_new(root, "findings", arr);
    if (bad) {
        json_decref(root);
        return stw_fail(err, STW_ERR_NOMEM, "building baseline: out of memory");
    }
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (rc == 0)
        fputc('\n', out);
    if (rc != 0 || fflush(out) != 0 || ferror(out)) {
        char eb[128];
        return stw_fail(err, STW_ERR_IO, "writing baseline: %s",
                        stw_strerror(errno, eb, sizeof(eb)));
    }
    return STW_OK;
}
