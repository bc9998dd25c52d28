/* finding.c - redaction of secrets, stable fingerprints, and the finding
 * list that keeps copies of what detectors emit. */
#include "finding.h"
#include "common.h"
#include "limits.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sha256_hex(const void *data, size_t n, char out[STW_SHA256_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) || len != 32) {
        out[0] = 0;
        return;
    }
    stw_hex(md, 32, out);
}

void stw_finding_set_secret(stw_finding *f, const char *secret, size_t n)
{
    sha256_hex(secret, n, f->secret_sha256);
    /* Four characters identify the token family (AKIA, ghp_, MIIE) without
     * giving away entropy; the length tells a reviewer what kind it is. */
    char head[5];
    size_t k = n < 4 ? n : 4;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)secret[i];
        head[i] = (c >= 0x21 && c < 0x7f) ? (char)c : '?';
    }
    head[k] = 0;
    snprintf(f->excerpt, sizeof(f->excerpt), "%s\u2026(%zu chars)", head, n);
}

void stw_finding_fingerprint(const stw_finding *f, const char *blob_digest,
                             char out[33])
{
    /* Unit separators keep ("a","bc") and ("ab","c") apart. */
    size_t n = strlen(f->rule) + strlen(blob_digest) + strlen(f->path) +
               strlen(f->secret_sha256) + 4;
    char *buf = stw_malloc(n);
    char hex[STW_SHA256_HEX];
    if (!buf) {
        out[0] = 0;
        return;
    }
    snprintf(buf, n, "%s\x1f%s\x1f%s\x1f%s", f->rule, blob_digest, f->path,
             f->secret_sha256);
    sha256_hex(buf, strlen(buf), hex);
    free(buf);
    memcpy(out, hex, 32);
    out[32] = 0;
}

struct stw_finding_list {
    stw_finding *items;
    size_t n, cap;
    uint64_t dropped;
    bool keep_secrets;
};

stw_status stw_finding_list_create(stw_finding_list **out)
{
    *out = stw_calloc(1, sizeof(**out));
    return *out ? STW_OK : STW_ERR_NOMEM;
}

static void finding_free_strings(stw_finding *f)
{
    if (f->secret) {
        explicit_bzero((char *)f->secret, f->secret_n);
        free((char *)f->secret);
    }
    free((char *)f->path);
    free((char *)f->rule);
    free((char *)f->detail);
    free((char *)f->git.path);
}

void stw_finding_list_destroy(stw_finding_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        finding_free_strings(&l->items[i]);
    free(l->items);
    free(l);
}

stw_status stw_finding_list_add(stw_finding_list *l, const stw_finding *f)
{
    if (l->n >= STW_MAX_FINDINGS_PER_LAYER) {
        l->dropped++;
        return STW_OK;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        stw_finding *p = stw_realloc(l->items, cap * sizeof(*p));
        if (!p)
            return STW_ERR_NOMEM;
        l->items = p;
        l->cap = cap;
    }
    stw_finding c = *f;
    c.path = stw_strdup(f->path ? f->path : "");
    c.rule = stw_strdup(f->rule ? f->rule : "");
    c.detail = stw_strdup(f->detail);
    c.git.path = f->git.source != STW_GIT_NONE
                     ? stw_strdup(f->git.path ? f->git.path : "")
                     : NULL;
    c.secret = NULL;
    c.secret_n = 0;
    if (l->keep_secrets && f->secret && f->secret_n) {
        char *sec = stw_malloc(f->secret_n + 1);
        if (sec) {
            memcpy(sec, f->secret, f->secret_n);
            sec[f->secret_n] = 0;
            c.secret = sec;
            c.secret_n = f->secret_n;
        }
    }
    /* A secret asked for but not copied would go missing silently. */
    if (!c.path || !c.rule || (f->detail && !c.detail) ||
        (l->keep_secrets && f->secret && f->secret_n && !c.secret) ||
        (f->git.source != STW_GIT_NONE && !c.git.path)) {
        finding_free_strings(&c);
        return STW_ERR_NOMEM;
    }
    l->items[l->n++] = c;
    return STW_OK;
}

void stw_finding_list_keep_secrets(stw_finding_list *l)
{
    l->keep_secrets = true;
}

size_t stw_finding_list_count(const stw_finding_list *l)
{
    return l ? l->n : 0;
}

uint64_t stw_finding_list_dropped(const stw_finding_list *l)
{
    return l ? l->dropped : 0;
}

const stw_finding *stw_finding_list_get(const stw_finding_list *l, size_t i)
{
    return i < l->n ? &l->items[i] : NULL;
}

stw_status stw_finding_list_sink(void *ctx, const stw_finding *f)
{
    return stw_finding_list_add(ctx, f);
}

/* Lower is more specific: a named token format beats "a secret-looking
 * line in a credential file". */
static int kind_rank(stw_kind k)
{
    switch (k) {
    case STW_KIND_PRIVATE_KEY:
        return 0;
    case STW_KIND_SECRET:
        return 1;
    case STW_KIND_CREDENTIAL_FILE:
        return 2;
    default:
        return 3;
    }
}

/* True if a should be kept over b (same path and secret; both in the
 * list's array, so their order is the order they were added). */
static bool better(const stw_finding *a, const stw_finding *b)
{
    /* A rule that knows the format (a JWT, a SonarQube token) says more
     * about the secret than one that saw "token = ..." around it. */
    if (a->generic != b->generic)
        return !a->generic;
    if (a->severity != b->severity)
        return a->severity > b->severity;
    if (kind_rank(a->kind) != kind_rank(b->kind))
        return kind_rank(a->kind) < kind_rank(b->kind);
    /* One repository's history arrives oldest first (gitrepo.h): the
     * earlier finding names the commit that introduced the secret. */
    if (a->git.source != STW_GIT_NONE && b->git.source != STW_GIT_NONE)
        return a < b;
    if (a->offset != b->offset)
        return a->offset < b->offset;
    return strcmp(a->rule, b->rule) < 0;
}

static int cmp_secret_path(const void *x, const void *y)
{
    const stw_finding *a = *(const stw_finding *const *)x;
    const stw_finding *b = *(const stw_finding *const *)y;
    int c = strcmp(a->secret_sha256, b->secret_sha256);
    return c ? c : strcmp(a->path, b->path);
}

/* An index of the list's findings sorted by cmp, and a zeroed drop mark
 * per finding (both transferred to the caller). false when out of memory. */
static bool sorted_index(stw_finding_list *l,
                         int (*cmp)(const void *, const void *),
                         stw_finding ***ix_out, bool **drop_out)
{
    stw_finding **ix = stw_malloc(l->n * sizeof(*ix));
    bool *drop = stw_calloc(l->n, sizeof(*drop));
    if (!ix || !drop) {
        free(ix);
        free(drop);
        return false;
    }
    for (size_t i = 0; i < l->n; i++)
        ix[i] = &l->items[i];
    stw_sort(ix, l->n, sizeof(*ix), cmp);
    *ix_out = ix;
    *drop_out = drop;
    return true;
}

/* Removes the findings marked in drop (one mark per finding), keeping the order
 * of the rest, and frees drop. */
static void compact(stw_finding_list *l, bool *drop)
{
    size_t w = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (drop[i]) {
            finding_free_strings(&l->items[i]);
            continue;
        }
        l->items[w++] = l->items[i];
    }
    l->n = w;
    free(drop);
}

stw_status stw_finding_list_dedupe_secrets(stw_finding_list *l)
{
    size_t n = l->n;
    if (n < 2)
        return STW_OK;
    /* Group by (secret, path) through a sorted index, keep the best of each
     * group, then compact in the original order. */
    stw_finding **ix;
    bool *drop;
    if (!sorted_index(l, cmp_secret_path, &ix, &drop))
        return STW_ERR_NOMEM;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && cmp_secret_path(&ix[i], &ix[j]) == 0)
            j++;
        if (ix[i]->secret_sha256[0]) {
            size_t best = i;
            for (size_t k = i + 1; k < j; k++)
                if (better(ix[k], ix[best]))
                    best = k;
            for (size_t k = i; k < j; k++)
                if (k != best)
                    drop[ix[k] - l->items] = true;
        }
        i = j;
    }
    free(ix);
    compact(l, drop);
    return STW_OK;
}

static int cmp_secret(const void *x, const void *y)
{
    const stw_finding *a = *(const stw_finding *const *)x;
    const stw_finding *b = *(const stw_finding *const *)y;
    return strcmp(a->secret_sha256, b->secret_sha256);
}

stw_status stw_finding_list_fold_history(stw_finding_list *l)
{
    size_t n = l->n;
    if (n < 2)
        return STW_OK;
    stw_finding **ix;
    bool *drop;
    if (!sorted_index(l, cmp_secret, &ix, &drop))
        return STW_ERR_NOMEM;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && cmp_secret(&ix[i], &ix[j]) == 0)
            j++;
        bool history = false, worktree = false;
        for (size_t k = i; k < j; k++) {
            if (ix[k]->git.source != STW_GIT_NONE)
                history = true;
            else
                worktree = true;
        }
        if (ix[i]->secret_sha256[0] && history && worktree) {
            for (size_t k = i; k < j; k++) {
                if (ix[k]->git.source != STW_GIT_NONE)
                    drop[ix[k] - l->items] = true;
                else
                    ix[k]->in_history = true;
            }
        }
        i = j;
    }
    free(ix);
    compact(l, drop);
    return STW_OK;
}

const char *stw_git_source_str(stw_git_source s)
{
    switch (s) {
    case STW_GIT_BLOB:
        return "blob";
    case STW_GIT_COMMIT_MESSAGE:
        return "commit-message";
    case STW_GIT_TAG_MESSAGE:
        return "tag-message";
    default:
        return "";
    }
}

stw_status stw_git_source_parse(const char *s, stw_git_source *out)
{
    static const stw_git_source all[] = {STW_GIT_BLOB, STW_GIT_COMMIT_MESSAGE,
                                         STW_GIT_TAG_MESSAGE};
    for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++) {
        if (!strcmp(s, stw_git_source_str(all[i]))) {
            *out = all[i];
            return STW_OK;
        }
    }
    return STW_ERR_USAGE;
}
