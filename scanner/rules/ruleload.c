/* ruleload.c - reads one YAML rule file (libyaml's document API) into
 * stw_rule structs. Strict on purpose: an unknown field, a wrong type or a
 * missing id is an error naming the file and the rule, because a typo that
 * silently disabled a rule would look exactly like a clean image. */
#include "ruleload.h"

#include "common.h"
#include "limits.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Parse state for one file: the document and where errors are reported. */
typedef struct loader {
    const char *file;
    yaml_document_t *doc;
    stw_error *err;
} loader;

static yaml_node_t *node_at(loader *ld, int idx)
{
    return yaml_document_get_node(ld->doc, idx);
}

static int node_line(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

/* Names the rule in messages: by id once known, else by its line. */
static void rule_label(const stw_rule *r, int line, char *buf, size_t n)
{
    if (r && r->id)
        snprintf(buf, n, "rule '%s'", r->id);
    else
        snprintf(buf, n, "rule at line %d", line);
}

/* Copies a scalar into a new NUL-terminated string; *out transferred. */
static stw_status scalar_dup(loader *ld, const yaml_node_t *n,
                             const char *where, const char *field, char **out)
{
    if (n->type != YAML_SCALAR_NODE)
        return stw_fail(ld->err, STW_ERR_RULES,
                        "%s: %s: field '%s' must be a string (line %d)",
                        ld->file, where, field, node_line(n));
    size_t len = n->data.scalar.length;
    if (memchr(n->data.scalar.value, 0, len))
        return stw_fail(ld->err, STW_ERR_RULES,
                        "%s: %s: field '%s' contains a NUL byte", ld->file,
                        where, field);
    char *s = stw_malloc(len + 1);
    if (!s)
        return stw_fail(ld->err, STW_ERR_NOMEM, "out of memory");
    memcpy(s, n->data.scalar.value, len);
    s[len] = 0;
    free(*out); /* a repeated key: the last one wins, as in YAML */
    *out = s;
    return STW_OK;
}

/* Reads a sequence of strings; *out and *count transferred. */
static stw_status string_list(loader *ld, const yaml_node_t *n,
                              const char *where, const char *field, char ***out,
                              size_t *count)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return stw_fail(ld->err, STW_ERR_RULES,
                        "%s: %s: field '%s' must be a list (line %d)", ld->file,
                        where, field, node_line(n));
    for (size_t i = 0; i < *count; i++)
        free((*out)[i]);
    free(*out);
    *out = NULL;
    *count = 0;
    size_t k =
        (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (k == 0)
        return STW_OK;
    char **v = stw_calloc(k, sizeof(*v));
    if (!v)
        return stw_fail(ld->err, STW_ERR_NOMEM, "out of memory");
    *out = v;
    for (size_t i = 0; i < k; i++) {
        yaml_node_t *item = node_at(ld, n->data.sequence.items.start[i]);
        stw_status st = scalar_dup(ld, item, where, field, &v[i]);
        if (st != STW_OK)
            return st;
        *count = i + 1;
    }
    return STW_OK;
}

static bool key_is(const yaml_node_t *k, const char *name)
{
    return k->type == YAML_SCALAR_NODE &&
           k->data.scalar.length == strlen(name) &&
           memcmp(k->data.scalar.value, name, k->data.scalar.length) == 0;
}

static stw_status expect_mapping(loader *ld, const yaml_node_t *n,
                                 const char *what)
{
    if (n->type != YAML_MAPPING_NODE)
        return stw_fail(ld->err, STW_ERR_RULES,
                        "%s: %s must be a mapping (line %d)", ld->file, what,
                        node_line(n));
    return STW_OK;
}

static stw_status unknown_field(loader *ld, const char *where,
                                const yaml_node_t *k)
{
    if (k->type != YAML_SCALAR_NODE)
        return stw_fail(ld->err, STW_ERR_RULES,
                        "%s: %s: non-string key (line %d)", ld->file, where,
                        node_line(k));
    return stw_fail(ld->err, STW_ERR_RULES,
                    "%s: %s: unknown field '%.*s' (line %d)", ld->file, where,
                    (int)k->data.scalar.length,
                    (const char *)k->data.scalar.value, node_line(k));
}

void stw_allow_free(stw_allow *a)
{
    if (!a)
        return;
    free(a->id);
    free(a->description);
    free(a->regex_src);
    free(a->path_src);
    pcre2_code_free(a->re);
    pcre2_code_free(a->path_re);
    memset(a, 0, sizeof(*a));
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void stw_strlist_free(stw_strlist *l)
{
    if (!l)
        return;
    free_list(l->v, l->n);
    l->v = NULL;
    l->n = 0;
}

void stw_trivy_id_free(stw_trivy_id *t)
{
    if (!t)
        return;
    free(t->id);
    stw_strlist_free(&t->rules);
    free(t->reason);
    memset(t, 0, sizeof(*t));
}

void stw_rule_free(stw_rule *r)
{
    if (!r)
        return;
    free(r->id);
    free(r->title);
    free(r->category);
    free(r->remediation);
    free(r->file);
    free(r->regex_src);
    free(r->secret_group_name);
    free(r->path_src);
    free_list(r->keywords, r->n_keywords);
    free(r->keyword_next);
    for (size_t i = 0; i < r->n_allows; i++)
        stw_allow_free(&r->allows[i]);
    free(r->allows);
    free(r->validator);
    free_list(r->tp, r->n_tp);
    free_list(r->fp, r->n_fp);
    free(r->example_path);
    for (size_t i = 0; r->exclude_re && i < r->exclude_src.n; i++)
        pcre2_code_free(r->exclude_re[i]);
    free(r->exclude_re);
    stw_strlist_free(&r->exclude_src);
    pcre2_code_free(r->re);
    pcre2_code_free(r->path_re);
    memset(r, 0, sizeof(*r));
}

/* Parses an allow-rules list into *out and *count (transferred). */
static stw_status parse_allows(loader *ld, const yaml_node_t *n,
                               const char *where, stw_allow **out,
                               size_t *count)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return stw_fail(ld->err, STW_ERR_RULES,
                        "%s: %s: 'allow-rules' must be a list (line %d)",
                        ld->file, where, node_line(n));
    /* A repeated key: the last one wins, as in scalar_dup. */
    for (size_t i = 0; i < *count; i++)
        stw_allow_free(&(*out)[i]);
    free(*out);
    *out = NULL;
    *count = 0;
    size_t k =
        (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (k == 0)
        return STW_OK;
    stw_allow *v = stw_calloc(k, sizeof(*v));
    if (!v)
        return stw_fail(ld->err, STW_ERR_NOMEM, "out of memory");
    *out = v;
    for (size_t i = 0; i < k; i++) {
        *count = i + 1;
        yaml_node_t *an = node_at(ld, n->data.sequence.items.start[i]);
        char aw[160];
        snprintf(aw, sizeof(aw), "%s: allow rule %zu", where, i + 1);
        stw_status st = expect_mapping(ld, an, aw);
        if (st != STW_OK)
            return st;
        for (yaml_node_pair_t *p = an->data.mapping.pairs.start;
             p < an->data.mapping.pairs.top; p++) {
            yaml_node_t *key = node_at(ld, p->key);
            yaml_node_t *val = node_at(ld, p->value);
            if (key_is(key, "id"))
                st = scalar_dup(ld, val, aw, "id", &v[i].id);
            else if (key_is(key, "description"))
                st = scalar_dup(ld, val, aw, "description", &v[i].description);
            else if (key_is(key, "regex"))
                st = scalar_dup(ld, val, aw, "regex", &v[i].regex_src);
            else if (key_is(key, "path"))
                st = scalar_dup(ld, val, aw, "path", &v[i].path_src);
            else
                st = unknown_field(ld, aw, key);
            if (st != STW_OK)
                return st;
        }
        if (!v[i].regex_src && !v[i].path_src)
            return stw_fail(ld->err, STW_ERR_RULES,
                            "%s: %s: needs 'regex' or 'path'", ld->file, aw);
    }
    return STW_OK;
}

/* Trivy's exclude-block: {description, regexes: [...]}; the regexes are
 * appended to *out (transferred), the description is for people. */
static stw_status parse_exclude_block(loader *ld, const yaml_node_t *n,
                                      const char *where, stw_strlist *out)
{
    char w[160];
    snprintf(w, sizeof(w), "%s: exclude-block", where);
    stw_status st = expect_mapping(ld, n, w);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         st == STW_OK && p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *key = node_at(ld, p->key);
        yaml_node_t *val = node_at(ld, p->value);
        if (key_is(key, "description")) {
            char *d = NULL;
            st = scalar_dup(ld, val, w, "description", &d);
            free(d);
        } else if (key_is(key, "regexes")) {
            st = string_list(ld, val, w, "regexes", &out->v, &out->n);
        } else {
            st = unknown_field(ld, w, key);
        }
    }
    return st;
}

static stw_status parse_examples(loader *ld, const yaml_node_t *n,
                                 const char *where, stw_rule *r)
{
    stw_status st = expect_mapping(ld, n, "'examples'");
    if (st != STW_OK)
        return st;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *key = node_at(ld, p->key);
        yaml_node_t *val = node_at(ld, p->value);
        if (key_is(key, "tp"))
            st = string_list(ld, val, where, "examples.tp", &r->tp, &r->n_tp);
        else if (key_is(key, "fp"))
            st = string_list(ld, val, where, "examples.fp", &r->fp, &r->n_fp);
        else if (key_is(key, "path"))
            st = scalar_dup(ld, val, where, "examples.path", &r->example_path);
        else
            st = unknown_field(ld, where, key);
        if (st != STW_OK)
            return st;
    }
    return STW_OK;
}

static const char *const kind_names[] = {
    [STW_KIND_SECRET] = "secret",
    [STW_KIND_PRIVATE_KEY] = "private-key",
    [STW_KIND_CREDENTIAL_FILE] = "credential-file",
    [STW_KIND_ARTIFACT] = "artifact",
    [STW_KIND_CONFIG] = "config",
};

static bool parse_kind(const char *s, stw_kind *out)
{
    for (size_t i = 0; i < STW_ARRAY_LEN(kind_names); i++) {
        if (kind_names[i] && strcmp(s, kind_names[i]) == 0) {
            *out = (stw_kind)i;
            return true;
        }
    }
    return false;
}

/* Rule ids end up in databases, SARIF and ignore files: keep them tame. */
static bool id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') ||
                  (i > 0 && (c == '-' || c == '_' || c == '.'));
        if (!ok)
            return false;
    }
    return true;
}

/* Whether s is one bracket expression ("[=:_]", "[^a-z]"): what
 * keyword-next accepts, so a keyword plus it is exactly one byte longer.
 * Vectorscan checks the inside when the rules are compiled. */
static bool bracket_expr(const char *s)
{
    size_t n = strlen(s), i = 1;
    if (n < 3 || s[0] != '[' || s[n - 1] != ']')
        return false;
    if (s[i] == '^')
        i++;
    if (s[i] == ']')
        i++; /* a leading ']' is a member */
    for (; i < n - 1; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == ']' || s[i] == '[')
            return false;
    }
    return i == n - 1;
}

static stw_status parse_rule(loader *ld, const yaml_node_t *n, stw_rule *r)
{
    char where[128];
    int line = node_line(n);
    rule_label(NULL, line, where, sizeof(where));
    stw_status st = expect_mapping(ld, n, where);
    if (st != STW_OK)
        return st;
    r->line = line;
    r->info.kind = STW_KIND_SECRET;
    /* The id first, so every later message names the rule. */
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top; p++) {
        if (key_is(node_at(ld, p->key), "id")) {
            st = scalar_dup(ld, node_at(ld, p->value), where, "id", &r->id);
            if (st != STW_OK)
                return st;
        }
    }
    if (!r->id)
        return stw_fail(ld->err, STW_ERR_RULES, "%s: %s: missing 'id'",
                        ld->file, where);
    rule_label(r, line, where, sizeof(where));
    if (!id_valid(r->id))
        return stw_fail(ld->err, STW_ERR_RULES,
                        "%s: %s: id must be 1-64 of [A-Za-z0-9-_.], starting "
                        "with a letter or digit",
                        ld->file, where);

    char *sev = NULL, *kind = NULL, *entropy = NULL, *window = NULL;
    char *wbefore = NULL;
    bool have_sev = false;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         st == STW_OK && p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *key = node_at(ld, p->key);
        yaml_node_t *val = node_at(ld, p->value);
        if (key_is(key, "id"))
            continue;
        else if (key_is(key, "category"))
            st = scalar_dup(ld, val, where, "category", &r->category);
        else if (key_is(key, "title"))
            st = scalar_dup(ld, val, where, "title", &r->title);
        else if (key_is(key, "severity")) {
            st = scalar_dup(ld, val, where, "severity", &sev);
            have_sev = true;
        } else if (key_is(key, "kind"))
            st = scalar_dup(ld, val, where, "kind", &kind);
        else if (key_is(key, "keywords"))
            st = string_list(ld, val, where, "keywords", &r->keywords,
                             &r->n_keywords);
        else if (key_is(key, "keyword-next"))
            st = scalar_dup(ld, val, where, "keyword-next", &r->keyword_next);
        else if (key_is(key, "regex"))
            st = scalar_dup(ld, val, where, "regex", &r->regex_src);
        else if (key_is(key, "secret-group-name"))
            st = scalar_dup(ld, val, where, "secret-group-name",
                            &r->secret_group_name);
        else if (key_is(key, "path"))
            st = scalar_dup(ld, val, where, "path", &r->path_src);
        else if (key_is(key, "allow-rules"))
            st = parse_allows(ld, val, where, &r->allows, &r->n_allows);
        else if (key_is(key, "remediation"))
            st = scalar_dup(ld, val, where, "remediation", &r->remediation);
        else if (key_is(key, "entropy"))
            st = scalar_dup(ld, val, where, "entropy", &entropy);
        else if (key_is(key, "validator"))
            st = scalar_dup(ld, val, where, "validator", &r->validator);
        else if (key_is(key, "examples"))
            st = parse_examples(ld, val, where, r);
        else if (key_is(key, "window"))
            st = scalar_dup(ld, val, where, "window", &window);
        else if (key_is(key, "window-before"))
            st = scalar_dup(ld, val, where, "window-before", &wbefore);
        else if (key_is(key, "exclude-block"))
            st = parse_exclude_block(ld, val, where, &r->exclude_src);
        else
            st = unknown_field(ld, where, key);
    }
    if (st == STW_OK && !have_sev)
        st = stw_fail(ld->err, STW_ERR_RULES, "%s: %s: missing 'severity'",
                      ld->file, where);
    if (st == STW_OK && stw_severity_parse(sev, &r->info.severity) != STW_OK)
        st = stw_fail(ld->err, STW_ERR_RULES,
                      "%s: %s: severity '%s' is not one of critical, high, "
                      "medium, low, info",
                      ld->file, where, sev);
    if (st == STW_OK && kind && !parse_kind(kind, &r->info.kind))
        st = stw_fail(ld->err, STW_ERR_RULES,
                      "%s: %s: kind '%s' is not one of secret, private-key, "
                      "credential-file, artifact, config",
                      ld->file, where, kind);
    if (st == STW_OK && entropy) {
        char *end = NULL;
        errno = 0;
        double e = strtod(entropy, &end);
        if (errno || end == entropy || *end || !(e >= 0.0 && e <= 8.0))
            st = stw_fail(ld->err, STW_ERR_RULES,
                          "%s: %s: entropy '%s' must be a number of bits per "
                          "character between 0 and 8",
                          ld->file, where, entropy);
        r->entropy = e;
    }
    if (st == STW_OK && window) {
        char *end = NULL;
        errno = 0;
        unsigned long w = strtoul(window, &end, 10);
        if (errno || end == window || *end || w < 16 || w > STW_SCAN_HIT_AFTER)
            st = stw_fail(ld->err, STW_ERR_RULES,
                          "%s: %s: window '%s' must be a number of bytes "
                          "between 16 and %u",
                          ld->file, where, window, STW_SCAN_HIT_AFTER);
        r->window = (uint32_t)w;
    }
    if (st == STW_OK && wbefore) {
        char *end = NULL;
        errno = 0;
        unsigned long w = strtoul(wbefore, &end, 10);
        if (errno || end == wbefore || *end || w > STW_SCAN_HIT_AFTER)
            st = stw_fail(ld->err, STW_ERR_RULES,
                          "%s: %s: window-before '%s' must be a number of "
                          "bytes up to %u",
                          ld->file, where, wbefore, STW_SCAN_HIT_AFTER);
        r->window_before = (uint32_t)w;
        r->has_window_before = true;
    }
    if (st == STW_OK && !r->regex_src && !r->path_src)
        st = stw_fail(ld->err, STW_ERR_RULES, "%s: %s: needs 'regex' or 'path'",
                      ld->file, where);
    if (st == STW_OK && !r->regex_src && r->n_keywords)
        st = stw_fail(ld->err, STW_ERR_RULES,
                      "%s: %s: 'keywords' without 'regex'", ld->file, where);
    if (st == STW_OK && r->keyword_next && !r->n_keywords)
        st = stw_fail(ld->err, STW_ERR_RULES,
                      "%s: %s: 'keyword-next' without 'keywords'", ld->file,
                      where);
    if (st == STW_OK && r->keyword_next && !bracket_expr(r->keyword_next))
        st = stw_fail(ld->err, STW_ERR_RULES,
                      "%s: %s: keyword-next '%s' must be one bracket "
                      "expression, e.g. '[=:_]'",
                      ld->file, where, r->keyword_next);
    for (size_t i = 0; st == STW_OK && i < r->n_keywords; i++) {
        if (!r->keywords[i][0])
            st = stw_fail(ld->err, STW_ERR_RULES, "%s: %s: empty keyword",
                          ld->file, where);
    }
    free(sev);
    free(kind);
    free(entropy);
    free(window);
    free(wbefore);
    if (st != STW_OK)
        return st;
    if (!r->title && !(r->title = stw_strdup(r->id)))
        return stw_fail(ld->err, STW_ERR_NOMEM, "out of memory");
    if (!r->category && !(r->category = stw_strdup("general")))
        return stw_fail(ld->err, STW_ERR_NOMEM, "out of memory");
    if (!(r->file = stw_strdup(ld->file)))
        return stw_fail(ld->err, STW_ERR_NOMEM, "out of memory");
    return STW_OK;
}

void stw_known_key_free(stw_known_key *k)
{
    if (!k)
        return;
    free(k->source);
    free(k->reason);
    free(k->detail);
    memset(k, 0, sizeof(*k));
}

/* A known test key is named by the sha256 of its normalised secret (the
 * secret_sha256 a scan reports), never by its path: the same key copied
 * anywhere else is still the published one, and a real key in the same
 * directory is still real. */
static stw_status parse_known(loader *ld, const yaml_node_t *n,
                              stw_rulefile *out)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return stw_fail(ld->err, STW_ERR_RULES,
                        "%s: 'known-test-keys' must be a list (line %d)",
                        ld->file, node_line(n));
    for (size_t i = 0; i < out->n_known; i++) /* a repeated key */
        stw_known_key_free(&out->known[i]);
    free(out->known);
    out->known = NULL;
    out->n_known = 0;
    size_t k =
        (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (k == 0)
        return STW_OK;
    stw_known_key *v = stw_calloc(k, sizeof(*v));
    if (!v)
        return stw_fail(ld->err, STW_ERR_NOMEM, "out of memory");
    out->known = v;
    for (size_t i = 0; i < k; i++) {
        out->n_known = i + 1;
        yaml_node_t *kn = node_at(ld, n->data.sequence.items.start[i]);
        char kw[96];
        snprintf(kw, sizeof(kw), "known test key %zu (line %d)", i + 1,
                 node_line(kn));
        stw_status st = expect_mapping(ld, kn, kw);
        char *sha = NULL;
        for (yaml_node_pair_t *p = kn->data.mapping.pairs.start;
             st == STW_OK && p < kn->data.mapping.pairs.top; p++) {
            yaml_node_t *key = node_at(ld, p->key);
            yaml_node_t *val = node_at(ld, p->value);
            if (key_is(key, "sha256"))
                st = scalar_dup(ld, val, kw, "sha256", &sha);
            else if (key_is(key, "source"))
                st = scalar_dup(ld, val, kw, "source", &v[i].source);
            else if (key_is(key, "reason"))
                st = scalar_dup(ld, val, kw, "reason", &v[i].reason);
            else
                st = unknown_field(ld, kw, key);
        }
        if (st == STW_OK && (!sha || !v[i].source))
            st = stw_fail(ld->err, STW_ERR_RULES,
                          "%s: %s: needs 'sha256' and 'source'", ld->file, kw);
        if (st == STW_OK) {
            size_t len = strlen(sha);
            bool hex = len == 64;
            for (size_t j = 0; hex && j < len; j++)
                hex = (sha[j] >= '0' && sha[j] <= '9') ||
                      (sha[j] >= 'a' && sha[j] <= 'f');
            if (!hex)
                st = stw_fail(ld->err, STW_ERR_RULES,
                              "%s: %s: sha256 must be 64 lowercase hex "
                              "digits",
                              ld->file, kw);
            else
                memcpy(v[i].sha256, sha, 65);
        }
        free(sha);
        if (st != STW_OK)
            return st;
    }
    return STW_OK;
}

/* `trivy-ids:` - each Trivy built-in id with the rules that stand for it
 * here (`rules`) or the reason none does (`reason`), exactly one. */
static stw_status parse_trivy_ids(loader *ld, const yaml_node_t *n,
                                  stw_rulefile *out)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return stw_fail(ld->err, STW_ERR_RULES,
                        "%s: 'trivy-ids' must be a list (line %d)", ld->file,
                        node_line(n));
    for (size_t i = 0; i < out->n_trivy; i++) /* a repeated key */
        stw_trivy_id_free(&out->trivy[i]);
    free(out->trivy);
    out->trivy = NULL;
    out->n_trivy = 0;
    size_t k =
        (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (k == 0)
        return STW_OK;
    stw_trivy_id *v = stw_calloc(k, sizeof(*v));
    if (!v)
        return stw_fail(ld->err, STW_ERR_NOMEM, "out of memory");
    out->trivy = v;
    for (size_t i = 0; i < k; i++) {
        out->n_trivy = i + 1;
        yaml_node_t *tn = node_at(ld, n->data.sequence.items.start[i]);
        char tw[96];
        snprintf(tw, sizeof(tw), "trivy id %zu (line %d)", i + 1,
                 node_line(tn));
        stw_status st = expect_mapping(ld, tn, tw);
        for (yaml_node_pair_t *p = tn->data.mapping.pairs.start;
             st == STW_OK && p < tn->data.mapping.pairs.top; p++) {
            yaml_node_t *key = node_at(ld, p->key);
            yaml_node_t *val = node_at(ld, p->value);
            if (key_is(key, "id"))
                st = scalar_dup(ld, val, tw, "id", &v[i].id);
            else if (key_is(key, "rules"))
                st = string_list(ld, val, tw, "rules", &v[i].rules.v,
                                 &v[i].rules.n);
            else if (key_is(key, "reason"))
                st = scalar_dup(ld, val, tw, "reason", &v[i].reason);
            else
                st = unknown_field(ld, tw, key);
        }
        if (st == STW_OK && (!v[i].id || !v[i].rules.n == !v[i].reason))
            st = stw_fail(ld->err, STW_ERR_RULES,
                          "%s: %s: needs 'id' and one of 'rules' or 'reason'",
                          ld->file, tw);
        if (st != STW_OK)
            return st;
    }
    return STW_OK;
}

static stw_status parse_root(loader *ld, yaml_node_t *root, stw_rulefile *out)
{
    stw_status st = expect_mapping(ld, root, "the top level");
    if (st != STW_OK)
        return st;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *key = node_at(ld, p->key);
        yaml_node_t *val = node_at(ld, p->value);
        if (key_is(key, "version")) {
            st = scalar_dup(ld, val, "top level", "version", &out->version);
        } else if (key_is(key, "allow-rules")) {
            st = parse_allows(ld, val, "top level", &out->allows,
                              &out->n_allows);
        } else if (key_is(key, "known-test-keys")) {
            st = parse_known(ld, val, out);
        } else if (key_is(key, "trivy-ids")) {
            st = parse_trivy_ids(ld, val, out);
        } else if (key_is(key, "enable-builtin-rules")) {
            st = string_list(ld, val, "top level", "enable-builtin-rules",
                             &out->enable_builtin.v, &out->enable_builtin.n);
        } else if (key_is(key, "disable-rules")) {
            st = string_list(ld, val, "top level", "disable-rules",
                             &out->disable.v, &out->disable.n);
        } else if (key_is(key, "disable-allow-rules")) {
            st = string_list(ld, val, "top level", "disable-allow-rules",
                             &out->disable_allows.v, &out->disable_allows.n);
        } else if (key_is(key, "skip-patterns")) {
            st = string_list(ld, val, "top level", "skip-patterns",
                             &out->skip_patterns.v, &out->skip_patterns.n);
        } else if (key_is(key, "exclude-block")) {
            st = parse_exclude_block(ld, val, "top level", &out->exclude_src);
        } else if (key_is(key, "rules")) {
            if (val->type != YAML_SEQUENCE_NODE)
                return stw_fail(ld->err, STW_ERR_RULES,
                                "%s: 'rules' must be a list (line %d)",
                                ld->file, node_line(val));
            for (size_t i = 0; i < out->n_rules; i++) /* a repeated key */
                stw_rule_free(&out->rules[i]);
            free(out->rules);
            out->rules = NULL;
            out->n_rules = 0;
            size_t k = (size_t)(val->data.sequence.items.top -
                                val->data.sequence.items.start);
            if (k == 0)
                continue;
            stw_rule *v = stw_calloc(k, sizeof(*v));
            if (!v)
                return stw_fail(ld->err, STW_ERR_NOMEM, "out of memory");
            out->rules = v;
            for (size_t i = 0; i < k; i++) {
                out->n_rules = i + 1;
                st = parse_rule(
                    ld, node_at(ld, val->data.sequence.items.start[i]), &v[i]);
                if (st != STW_OK)
                    return st;
                for (size_t j = 0; j < i; j++) {
                    if (strcmp(v[j].id, v[i].id) == 0)
                        return stw_fail(ld->err, STW_ERR_RULES,
                                        "%s: rule '%s': duplicate id (line "
                                        "%d, first at line %d)",
                                        ld->file, v[i].id, v[i].line,
                                        v[j].line);
                }
            }
        } else {
            st = unknown_field(ld, "top level", key);
        }
        if (st != STW_OK)
            return st;
    }
    return STW_OK;
}

void stw_rulefile_free(stw_rulefile *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_rules; i++)
        stw_rule_free(&f->rules[i]);
    free(f->rules);
    for (size_t i = 0; i < f->n_allows; i++)
        stw_allow_free(&f->allows[i]);
    free(f->allows);
    for (size_t i = 0; i < f->n_known; i++)
        stw_known_key_free(&f->known[i]);
    free(f->known);
    for (size_t i = 0; i < f->n_trivy; i++)
        stw_trivy_id_free(&f->trivy[i]);
    free(f->trivy);
    stw_strlist_free(&f->enable_builtin);
    stw_strlist_free(&f->disable);
    stw_strlist_free(&f->disable_allows);
    stw_strlist_free(&f->exclude_src);
    stw_strlist_free(&f->skip_patterns);
    free(f->name);
    free(f->version);
    memset(f, 0, sizeof(*f));
}

stw_status stw_rulefile_parse(const char *name, const char *text, size_t len,
                              stw_rulefile *out, stw_error *err)
{
    memset(out, 0, sizeof(*out));
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        stw_status st = stw_fail(
            err, STW_ERR_RULES, "%s:%zu:%zu: YAML: %s%s%s", name,
            parser.problem_mark.line + 1, parser.problem_mark.column + 1,
            parser.problem ? parser.problem : "syntax error",
            parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return st;
    }
    loader ld = {.file = name, .doc = &doc, .err = err};
    stw_status st = STW_OK;
    out->name = stw_strdup(name);
    if (!out->name)
        st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (st == STW_OK && root) /* an empty file holds no rules */
        st = parse_root(&ld, root, out);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (st != STW_OK)
        stw_rulefile_free(out);
    return st;
}
