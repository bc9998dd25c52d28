/* config.c - secrets in an image config's Env and history, and the
 * redacted history a report shows (config.h). */
#include "config.h"

#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Secrets remembered per string for its redaction; a created_by with more
 * is still scanned, only the extra secrets stay in its shown text. */
#define MAX_REDACT 32

/* The finding sink for one config string: adds the detail naming where
 * the string came from and records where its secrets are. */
typedef struct config_sink {
    stw_finding_list *list;
    const char *detail;
    int64_t off[MAX_REDACT], len[MAX_REDACT];
    int n;
} config_sink;

typedef struct redaction {
    char *orig, *redacted;
} redaction;

struct stw_config_redactions {
    redaction *v;
    size_t n;
};

static stw_status config_emit(void *ctx, const stw_finding *f)
{
    config_sink *c = ctx;
    stw_finding g = *f;
    g.detail = c->detail;
    if (f->secret_len > 0 && f->secret_offset >= 0 && c->n < MAX_REDACT) {
        c->off[c->n] = f->secret_offset;
        c->len[c->n++] = f->secret_len;
    }
    return stw_finding_list_add(c->list, &g);
}

/* Returns text with every secret recorded in c replaced by its redacted
 * form ("npm_…(40 chars)"); transferred to the caller, NULL on no memory.
 * Where two secrets start at one offset the longer one is replaced. */
static char *redact(const char *text, const config_sink *c)
{
    size_t n = strlen(text);
    /* An excerpt is at most about 24 bytes longer than its secret. */
    char *out = malloc(n + (size_t)c->n * 24 + 1);
    if (!out)
        return NULL;
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        int hit = -1;
        for (int k = 0; k < c->n; k++)
            if ((size_t)c->off[k] == i && (hit < 0 || c->len[k] > c->len[hit]))
                hit = k;
        if (hit < 0) {
            out[w++] = text[i++];
            continue;
        }
        size_t len = (size_t)c->len[hit];
        if (len > n - i)
            len = n - i;
        stw_finding tmp = {0};
        stw_finding_set_secret(&tmp, text + i, len);
        size_t el = strlen(tmp.excerpt);
        memcpy(out + w, tmp.excerpt, el);
        w += el;
        i += len;
    }
    out[w] = 0;
    return out;
}

/* Appends text and its redacted copy to *red (created on first use). Both
 * strings are allocated before the entry is counted, so a failure leaves no
 * half-filled entry behind. */
static stw_status redactions_add(stw_config_redactions **red, const char *text,
                                 const config_sink *c, stw_error *err)
{
    if (!*red && !(*red = calloc(1, sizeof(**red))))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    stw_config_redactions *r = *red;
    redaction *v = realloc(r->v, (r->n + 1) * sizeof(*v));
    if (!v)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    r->v = v;
    char *orig = stw_strdup(text), *shown = redact(text, c);
    if (!orig || !shown) {
        free(orig);
        free(shown);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    v[r->n++] = (redaction){orig, shown};
    return STW_OK;
}

/* Where notes go: the caller's callback. */
typedef struct config_notes {
    stw_config_note_fn fn;
    void *ctx;
} config_notes;

/* Scans s; the matcher's note about it, if any, names the path "<config>":
 * it is passed on naming where in the config instead (c->detail). */
static stw_status scan_string(stw_matcher *m, config_sink *c,
                              const config_notes *cn, const char *s,
                              stw_error *err)
{
    static const char path[] = "<config>";
    c->n = 0;
    stw_status st =
        stw_matcher_scan_buffer(m, path, s, strlen(s), config_emit, c, err);
    const char *const *v;
    size_t n = stw_matcher_notes(m, &v);
    for (size_t i = 0; st == STW_OK && cn->fn && i < n; i++) {
        char msg[768];
        const char *rest = strncmp(v[i], path, sizeof(path) - 1) == 0
                               ? v[i] + sizeof(path) - 1
                               : v[i];
        snprintf(msg, sizeof(msg), "%s%s", c->detail, rest);
        if ((st = cn->fn(cn->ctx, msg)) != STW_OK)
            stw_fail(err, st, "%s", msg);
    }
    stw_matcher_clear_notes(m);
    return st;
}

stw_status stw_config_scan(stw_matcher *m, const stw_config_strings *c,
                           stw_finding_list *out, stw_config_redactions **red,
                           stw_config_note_fn note, void *note_ctx,
                           stw_error *err)
{
    *red = NULL;
    stw_status st = STW_OK;
    char detail[160];
    config_sink cs = {.list = out, .detail = detail};
    config_notes cn = {note, note_ctx};
    stw_matcher_clear_notes(m);
    for (size_t i = 0; i < c->n_env && st == STW_OK; i++) {
        const char *s = c->env[i];
        if (!s)
            continue;
        /* The variable's name, never its value. */
        const char *eq = strchr(s, '=');
        int n = eq ? (int)(eq - s) : (int)strlen(s);
        snprintf(detail, sizeof(detail), "Env %.*s", n > 100 ? 100 : n, s);
        st = scan_string(m, &cs, &cn, s, err);
    }
    for (size_t i = 0; i < c->n_history && st == STW_OK; i++) {
        const char *s = c->created_by[i];
        if (!s)
            continue;
        snprintf(detail, sizeof(detail), "history entry %zu", i);
        st = scan_string(m, &cs, &cn, s, err);
        if (st == STW_OK && cs.n > 0)
            st = redactions_add(red, s, &cs, err);
    }
    stw_finding_list_dedupe_secrets(out);
    if (st != STW_OK) {
        stw_config_redactions_destroy(*red);
        *red = NULL;
    }
    return st;
}

const char *stw_config_shown(const stw_config_redactions *red,
                             const char *created_by)
{
    for (size_t i = 0; red && created_by && i < red->n; i++)
        if (!strcmp(red->v[i].orig, created_by))
            return red->v[i].redacted;
    return created_by;
}

void stw_config_redactions_destroy(stw_config_redactions *red)
{
    if (!red)
        return;
    for (size_t i = 0; i < red->n; i++) {
        free(red->v[i].orig);
        free(red->v[i].redacted);
    }
    free(red->v);
    free(red);
}
