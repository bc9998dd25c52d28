/* decode.c - encoded values of Kubernetes Secrets and Docker configs
 * (decode.h). libyaml reads the file (JSON is YAML's flow style, so one
 * parser serves both) into a small tree per document, with the line and
 * column of every scalar; the shapes below are then looked up in it. */
#include "decode.h"

#include "common.h"
#include "limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* The longest key name kept in a detail: keys come from the image. */
#define DETAIL_KEY_MAX 200

enum { N_SCALAR, N_MAP, N_SEQ, N_OTHER };

/* A node of one document; a mapping's children alternate key, value. */
typedef struct node {
    int type;
    char *s; /* scalar value, NUL-terminated */
    size_t slen;
    size_t line, col, eline, ecol; /* libyaml marks: 0-based, characters */
    size_t child, next;            /* indices; 0 = none (0 is the root) */
    size_t last;                   /* last child, for appending */
} node;

typedef struct tree {
    node *v;
    size_t n, cap;
} tree;

/* What one file's search shares. */
typedef struct ctx {
    const char *text;
    size_t len;
    size_t *line_at; /* byte offset of each line's start, built lazily */
    size_t n_lines;
    stw_decoded_set *out;
    bool nomem;
    /* A nested search (a Secret's .dockerconfigjson): text is the decoded
     * value, and every value found is placed where that value is in the
     * file. */
    bool nested;
    int64_t at_line;
    size_t at_lo, at_hi;
    const char *outer; /* detail prefix: "data..dockerconfigjson (base64): " */
} ctx;

static void tree_clear(tree *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].s);
    t->n = 0;
}

static size_t tree_add(tree *t, int type, const yaml_mark_t *a,
                       const yaml_mark_t *b)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        node *v = realloc(t->v, cap * sizeof(*v));
        if (!v)
            return SIZE_MAX;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n] = (node){.type = type,
                        .line = a->line,
                        .col = a->column,
                        .eline = b->line,
                        .ecol = b->column};
    return t->n++;
}

static void tree_link(tree *t, size_t parent, size_t child)
{
    node *p = &t->v[parent];
    if (p->child == 0)
        p->child = child;
    else
        t->v[p->last].next = child;
    p->last = child;
}

/* The value of key in mapping m, or NULL. */
static const node *map_get(const tree *t, const node *m, const char *key)
{
    if (!m || m->type != N_MAP)
        return NULL;
    for (size_t k = m->child; k; k = t->v[k].next) {
        size_t v = t->v[k].next;
        if (!v)
            break;
        if (t->v[k].type == N_SCALAR && strcmp(t->v[k].s, key) == 0)
            return &t->v[v];
        k = v;
    }
    return NULL;
}

static bool scalar_is(const node *n, const char *s)
{
    return n && n->type == N_SCALAR && strcmp(n->s, s) == 0;
}

/* Byte offset of (line, col) in the file; libyaml counts columns in
 * characters. */
static size_t byte_at(ctx *c, size_t line, size_t col)
{
    if (!c->line_at) {
        size_t n = 1;
        for (size_t i = 0; i < c->len; i++)
            n += c->text[i] == '\n';
        c->line_at = malloc(n * sizeof(*c->line_at));
        if (!c->line_at) {
            c->nomem = true;
            return 0;
        }
        c->line_at[0] = 0;
        c->n_lines = 1;
        for (size_t i = 0; i < c->len; i++)
            if (c->text[i] == '\n')
                c->line_at[c->n_lines++] = i + 1;
    }
    if (line >= c->n_lines)
        return c->len;
    size_t p = c->line_at[line];
    for (size_t k = 0; k < col && p < c->len && c->text[p] != '\n'; k++) {
        p++;
        while (p < c->len && ((unsigned char)c->text[p] & 0xc0) == 0x80)
            p++;
    }
    return p;
}

static int b64_val(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+' || ch == '-')
        return 62;
    if (ch == '/' || ch == '_')
        return 63;
    return -1;
}

/* Standard (or URL-safe) base64 of s into a malloc'd, NUL-terminated
 * buffer; whitespace is skipped (a folded block scalar), padding is
 * optional. NULL when s is not base64, is empty, or out of memory. */
static char *b64_decode(const char *s, size_t n, size_t *out_n)
{
    char *o = malloc(n / 4 * 3 + 4);
    if (!o)
        return NULL;
    uint32_t acc = 0;
    size_t bits = 0, k = 0, digits = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
            continue;
        if (ch == '=') {
            pad++;
            continue;
        }
        int v = b64_val(ch);
        if (v < 0 || pad) {
            free(o);
            return NULL;
        }
        digits++;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (digits == 0 || digits % 4 == 1 || pad > 2) {
        free(o);
        return NULL;
    }
    o[k] = 0;
    *out_n = k;
    return o;
}

/* Adds one value: detail and text (both consumed) of the scalar at. */
static void add_value(ctx *c, const node *at, char *detail, char *text,
                      size_t len, size_t cred_lo, bool auth, bool legacy)
{
    stw_decoded_set *s = c->out;
    if (!detail || !text || s->bytes + len > STW_MAX_DECODED_BYTES) {
        c->nomem |= !detail || !text;
        free(detail);
        free(text);
        return;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        stw_decoded *v = realloc(s->v, cap * sizeof(*v));
        if (!v) {
            c->nomem = true;
            free(detail);
            free(text);
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    stw_decoded *d = &s->v[s->n++];
    *d = (stw_decoded){.detail = detail,
                       .text = text,
                       .len = len,
                       .cred_lo = cred_lo,
                       .cred_hi = len,
                       .docker_auth = auth,
                       .legacy = legacy,
                       .line = (int64_t)at->line + 1};
    if (c->nested) {
        d->line = c->at_line;
        d->lo = c->at_lo;
        d->hi = c->at_hi;
    } else {
        d->lo = byte_at(c, at->line, at->col);
        d->hi = byte_at(c, at->eline, at->ecol);
    }
    s->bytes += len;
}

/* a + b + sep + (at most 200 bytes of) c + tail, malloc'd; NULL when out
 * of memory. The key names of a manifest are the image's: capped. */
static char *join_detail(const char *a, const char *b, const char *sep,
                         const char *c, const char *tail)
{
    size_t la = strlen(a), lb = strlen(b), ls = strlen(sep), lt = strlen(tail);
    size_t lc = strnlen(c, 200);
    char *s = malloc(la + lb + ls + lc + lt + 1);
    if (!s)
        return NULL;
    char *p = s;
    memcpy(p, a, la), p += la;
    memcpy(p, b, lb), p += lb;
    memcpy(p, sep, ls), p += ls;
    memcpy(p, c, lc), p += lc;
    memcpy(p, tail, lt + 1);
    return s;
}

static void search_doc(ctx *c, int depth);

/* A Docker config's registries (auths, or the top level of a .dockercfg):
 * each "auth" that decodes to user:password. */
static void docker_auths(ctx *c, const tree *t, const node *m,
                         const char *prefix, bool legacy)
{
    for (size_t k = m->child; k && !c->nomem; k = t->v[k].next) {
        size_t v = t->v[k].next;
        if (!v)
            break;
        const node *reg = &t->v[k], *auth = map_get(t, &t->v[v], "auth");
        k = v;
        if (reg->type != N_SCALAR || !auth || auth->type != N_SCALAR)
            continue;
        size_t n = 0;
        char *dec = b64_decode(auth->s, auth->slen, &n);
        const char *colon = dec ? memchr(dec, ':', n) : NULL;
        if (!colon) {
            free(dec);
            continue;
        }
        char *detail =
            join_detail(c->outer, prefix, "", reg->s, ".auth (base64)");
        add_value(c, auth, detail, dec, n, (size_t)(colon - dec) + 1, true,
                  legacy);
    }
}

/* The text the rules read for a Secret's value v (len bytes, consumed):
 * "KEY: value" when it is one line. */
static char *with_key(const char *key, char *v, size_t *len, size_t *cred_lo)
{
    *cred_lo = 0;
    if (memchr(v, '\n', *len))
        return v;
    size_t kl = strnlen(key, DETAIL_KEY_MAX);
    char *s = malloc(kl + 2 + *len + 1);
    if (s) {
        memcpy(s, key, kl);
        memcpy(s + kl, ": ", 2);
        memcpy(s + kl + 2, v, *len + 1);
        *cred_lo = kl + 2;
        *len += kl + 2;
    }
    free(v);
    return s;
}

/* A Secret's data (base64) and stringData (plain) values. A
 * .dockerconfigjson or .dockercfg value is searched for Docker auths too,
 * once (depth). */
static void secret_values(ctx *c, const tree *t, const node *s,
                          const char *prefix, int depth)
{
    static const char *const fields[] = {"data", "stringData"};
    for (size_t f = 0; f < 2; f++) {
        const node *m = map_get(t, s, fields[f]);
        if (!m || m->type != N_MAP)
            continue;
        for (size_t k = m->child; k && !c->nomem; k = t->v[k].next) {
            size_t v = t->v[k].next;
            if (!v)
                break;
            const node *key = &t->v[k], *val = &t->v[v];
            k = v;
            if (key->type != N_SCALAR || val->type != N_SCALAR || !val->slen)
                continue;
            size_t n = val->slen, cred_lo;
            char *dec = f == 0 ? b64_decode(val->s, n, &n) : strndup(val->s, n);
            if (!dec)
                continue;
            char *detail = join_detail(prefix, fields[f], ".", key->s,
                                       f == 0 ? " (base64)" : "");
            if (depth == 0 && detail &&
                (strcmp(key->s, ".dockerconfigjson") == 0 ||
                 strcmp(key->s, ".dockercfg") == 0)) {
                /* Its auths, found at this value's line. */
                char *outer = join_detail(detail, "", "", "", ": ");
                ctx inner = {.text = dec,
                             .len = n,
                             .out = c->out,
                             .nested = true,
                             .at_line = (int64_t)val->line + 1,
                             .at_lo = byte_at(c, val->line, val->col),
                             .at_hi = byte_at(c, val->eline, val->ecol),
                             .outer = outer};
                size_t before = c->out->n;
                if (!outer)
                    c->nomem = true;
                else
                    search_doc(&inner, depth + 1);
                c->nomem |= inner.nomem;
                free(inner.line_at);
                free(outer);
                if (c->out->n > before) {
                    /* Its auths speak for it: the rest of the JSON is
                     * registry names. */
                    free(dec);
                    free(detail);
                    continue;
                }
            }
            char *text = with_key(key->s, dec, &n, &cred_lo);
            add_value(c, val, detail, text, n, cred_lo, false, false);
        }
    }
}

/* Looks for the shapes in one document's root. */
static void search_root(ctx *c, const tree *t, int depth)
{
    const node *root = t->n ? &t->v[0] : NULL;
    if (!root || root->type != N_MAP)
        return;
    const node *kind = map_get(t, root, "kind");
    if (depth == 0 && scalar_is(kind, "Secret")) {
        secret_values(c, t, root, "", depth);
        return;
    }
    const node *items = map_get(t, root, "items");
    if (depth == 0 && kind && kind->type == N_SCALAR &&
        (strcmp(kind->s, "List") == 0 || strcmp(kind->s, "SecretList") == 0) &&
        items && items->type == N_SEQ) {
        size_t i = 0;
        for (size_t k = items->child; k && !c->nomem; k = t->v[k].next, i++) {
            const node *ik = map_get(t, &t->v[k], "kind");
            if (!scalar_is(ik, "Secret") &&
                !(ik == NULL && strcmp(kind->s, "SecretList") == 0))
                continue;
            char prefix[32];
            snprintf(prefix, sizeof(prefix), "items[%zu].", i);
            secret_values(c, t, &t->v[k], prefix, depth);
        }
        return;
    }
    const node *auths = map_get(t, root, "auths");
    if (auths && auths->type == N_MAP) {
        docker_auths(c, t, auths, "auths.", false);
        return;
    }
    if (!kind)
        docker_auths(c, t, root, "", true);
}

/* Parses c->text document by document and searches each; depth 1 is a
 * nested search (ctx.nested). */
static void search_doc(ctx *c, int depth)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        c->nomem = true;
        return;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)c->text, c->len);
    tree t = {0};
    size_t stack[STW_MAX_JSON_DEPTH];
    size_t depth_now = 0;
    bool deep = false; /* this document nests too deep: skipped */
    for (bool done = false; !done && !c->nomem;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev))
            break; /* not YAML (any more): what was found stands */
        size_t id = SIZE_MAX;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            tree_clear(&t);
            depth_now = 0;
            deep = false;
            break;
        case YAML_DOCUMENT_END_EVENT:
            if (!deep)
                search_root(c, &t, depth);
            tree_clear(&t);
            break;
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            if (deep || depth_now == STW_MAX_JSON_DEPTH) {
                deep = true;
                depth_now++;
                break;
            }
            id = tree_add(&t,
                          ev.type == YAML_MAPPING_START_EVENT ? N_MAP : N_SEQ,
                          &ev.start_mark, &ev.end_mark);
            if (id == SIZE_MAX) {
                c->nomem = true;
                break;
            }
            if (depth_now)
                tree_link(&t, stack[depth_now - 1], id);
            stack[depth_now++] = id;
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            if (depth_now)
                depth_now--;
            break;
        case YAML_SCALAR_EVENT:
        case YAML_ALIAS_EVENT:
            if (deep)
                break;
            id = tree_add(&t, ev.type == YAML_SCALAR_EVENT ? N_SCALAR : N_OTHER,
                          &ev.start_mark, &ev.end_mark);
            if (id == SIZE_MAX) {
                c->nomem = true;
                break;
            }
            if (ev.type == YAML_SCALAR_EVENT) {
                t.v[id].slen = ev.data.scalar.length;
                t.v[id].s = strndup((const char *)ev.data.scalar.value,
                                    ev.data.scalar.length);
                c->nomem |= t.v[id].s == NULL;
            } else {
                t.v[id].s = strdup("");
                c->nomem |= t.v[id].s == NULL;
            }
            if (depth_now)
                tree_link(&t, stack[depth_now - 1], id);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    tree_clear(&t);
    free(t.v);
    yaml_parser_delete(&p);
}

static int cmp_decoded(const void *a, const void *b)
{
    const stw_decoded *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return (x->hi > y->hi) - (x->hi < y->hi);
}

static bool is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* "kind" then up to 8 of [ \t"':] then the word "Secret", which p points
 * at: a Secret's own kind line, in YAML or JSON ("Secret" alone is
 * everywhere in code). */
static bool secret_kind_at(const char *text, const char *end, const char *p)
{
    if ((size_t)(end - p) < 6 || memcmp(p, "Secret", 6) ||
        (p + 6 < end && is_word_char(p[6])))
        return false;
    const char *q = p;
    for (int k = 0; k < 8 && q > text && strchr(" \t\"':", q[-1]); k++)
        q--;
    return q - text >= 4 && !memcmp(q - 4, "kind", 4);
}

/* A JSON key "auth", p at its 'h', whose value is a quoted base64 string
 * of 8 or more characters: a Docker config's credential. */
static bool docker_auth_at(const char *text, const char *end, const char *p)
{
    if (p - text < 4 || memcmp(p - 4, "\"aut", 4) || p + 1 >= end ||
        p[1] != '"')
        return false;
    const char *q = p + 2;
    while (q < end && (*q == ' ' || *q == '\t' || *q == ':'))
        q++;
    if (q >= end || *q++ != '"')
        return false;
    size_t b = 0;
    while (q + b < end &&
           (is_word_char(q[b]) || q[b] == '+' || q[b] == '/' || q[b] == '=') &&
           q[b] != '_')
        b++;
    return b >= 8 && q + b < end && q[b] == '"';
}

/* One memchr-driven pass each, for the two shapes decoding can do
 * something with. */
bool stw_decode_worth_trying(const char *text, size_t len)
{
    const char *end = text + len;
    for (const char *p = text; (p = memchr(p, 'S', (size_t)(end - p))); p++)
        if (secret_kind_at(text, end, p))
            return true;
    for (const char *p = text; (p = memchr(p, 'h', (size_t)(end - p))); p++)
        if (docker_auth_at(text, end, p))
            return true;
    return false;
}

/* Literals, each a place where the test above passes or not: "Secret"
 * ends where secret_kind_at looks, "auth" with its quotes two bytes
 * after the 'h' docker_auth_at looks at. Literals keep the content
 * database a pure literal matcher ("kind" as part of an expression
 * costs a check at each of its hits, and TypeScript is full of it). */
const char *const stw_decode_gate_expr[STW_DECODE_GATES] = {
    "Secret",
    "\"auth\"",
};

bool stw_decode_gate_hit(unsigned gate, const char *text, size_t len,
                         size_t end)
{
    if (end > len)
        return false;
    if (gate == 0)
        return end >= 6 && secret_kind_at(text, text + len, text + end - 6);
    return gate == 1 && end >= 2 &&
           docker_auth_at(text, text + len, text + end - 2);
}

stw_status stw_decode_manifests(const char *text, size_t len,
                                stw_decoded_set *out, stw_error *err)
{
    ctx c = {.text = text, .len = len, .out = out, .outer = ""};
    search_doc(&c, 0);
    free(c.line_at);
    stw_sort(out->v, out->n, sizeof(*out->v), cmp_decoded);
    if (c.nomem)
        return stw_fail(err, STW_ERR_NOMEM,
                        "decoding manifests: out of memory");
    return STW_OK;
}

void stw_decoded_set_clear(stw_decoded_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].detail);
        free(s->v[i].text);
    }
    s->n = 0;
    s->bytes = 0;
}

void stw_decoded_set_free(stw_decoded_set *s)
{
    stw_decoded_set_clear(s);
    free(s->v);
    s->v = NULL;
    s->cap = 0;
}
