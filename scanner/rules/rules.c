/* rules.c - turns rule files into the immutable stw_rules: merges built-in
 * and user files (user ids override), drops disabled rules, compiles every
 * regex with PCRE2 (+JIT) and builds one vectorscan database that finds
 * candidate windows: literal keywords (caseless) for rules that have them,
 * the regex itself in HS_FLAG_PREFILTER mode for rules that do not. A rule
 * whose regex vectorscan refuses even as a prefilter is run by PCRE2 over
 * the whole chunk (STW_MODE_FULL): slower, never skipped. The vectorscan
 * part, most of the compile time, comes from the caller's cache directory
 * when an entry for these rules is there (rulecache.h). */
#include "ruleload.h"
#include "rulecache.h"

#include "common.h"
#include "decode.h"
#include "embedded.h"
#include "limits.h"
#include "sha256.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A growing list of rules while files are merged. */
typedef struct rule_vec {
    stw_rule *v;
    size_t n, cap;
    stw_allow *allows;
    size_t n_allows, cap_allows;
    stw_known_key *known;
    size_t n_known, cap_known;
    stw_trivy_id *trivy; /* Trivy built-in ids, from the built-in files */
    size_t n_trivy;
    stw_strlist excludes; /* top-level exclude-block regexes */
    size_t max_rules;     /* STW_MAX_RULES unless the options say */
} rule_vec;

static stw_status vec_push(rule_vec *rv, stw_rule *r, stw_error *err)
{
    if (rv->n == rv->cap) {
        size_t cap = rv->cap ? rv->cap * 2 : 32;
        stw_rule *v = stw_realloc(rv->v, cap * sizeof(*v));
        if (!v)
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        rv->v = v;
        rv->cap = cap;
    }
    rv->v[rv->n++] = *r; /* moved: the source is zeroed by the caller */
    return STW_OK;
}

static stw_status vec_push_allow(rule_vec *rv, stw_allow *a, stw_error *err)
{
    if (rv->n_allows == rv->cap_allows) {
        size_t cap = rv->cap_allows ? rv->cap_allows * 2 : 8;
        stw_allow *v = stw_realloc(rv->allows, cap * sizeof(*v));
        if (!v)
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        rv->allows = v;
        rv->cap_allows = cap;
    }
    rv->allows[rv->n_allows++] = *a;
    return STW_OK;
}

static stw_status vec_push_known(rule_vec *rv, stw_known_key *k, stw_error *err)
{
    if (rv->n_known == rv->cap_known) {
        size_t cap = rv->cap_known ? rv->cap_known * 2 : 16;
        stw_known_key *v = stw_realloc(rv->known, cap * sizeof(*v));
        if (!v)
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        rv->known = v;
        rv->cap_known = cap;
    }
    rv->known[rv->n_known++] = *k;
    return STW_OK;
}

/* Appends the *sn elements of size `size` at *src to the *dn at *dst,
 * moving them: *src is freed and emptied. Fails leaving both unchanged. */
static stw_status append_move(void **dst, size_t *dn, void **src, size_t *sn,
                              size_t size, stw_error *err)
{
    if (*sn == 0)
        return STW_OK;
    char *v = stw_realloc(*dst, (*dn + *sn) * size);
    if (!v)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    memcpy(v + *dn * size, *src, *sn * size);
    *dst = v;
    *dn += *sn;
    free(*src);
    *src = NULL;
    *sn = 0;
    return STW_OK;
}

/* Removes rule j from rv, keeping the order of the rest. */
static void vec_remove(rule_vec *rv, size_t j)
{
    stw_rule_free(&rv->v[j]);
    memmove(&rv->v[j], &rv->v[j + 1], (rv->n - j - 1) * sizeof(*rv->v));
    rv->n--;
}

static void vec_free(rule_vec *rv)
{
    for (size_t i = 0; i < rv->n_trivy; i++)
        stw_trivy_id_free(&rv->trivy[i]);
    free(rv->trivy);
    stw_strlist_free(&rv->excludes);
    for (size_t i = 0; i < rv->n_known; i++)
        stw_known_key_free(&rv->known[i]);
    free(rv->known);
    for (size_t i = 0; i < rv->n; i++)
        stw_rule_free(&rv->v[i]);
    free(rv->v);
    for (size_t i = 0; i < rv->n_allows; i++)
        stw_allow_free(&rv->allows[i]);
    free(rv->allows);
}

/* Whether the name in a Trivy config (a rule id, or a Trivy built-in id
 * from trivy-ids:) selects rule r. */
static bool names_rule(const rule_vec *rv, const char *name, const stw_rule *r)
{
    if (strcmp(name, r->id) == 0)
        return true;
    for (size_t i = 0; i < rv->n_trivy; i++) {
        const stw_trivy_id *t = &rv->trivy[i];
        if (strcmp(t->id, name) != 0)
            continue;
        for (size_t j = 0; j < t->rules.n; j++)
            if (strcmp(t->rules.v[j], r->id) == 0)
                return true;
    }
    return false;
}

/* A name no rule answers to is a typo, unless it is a Trivy built-in id
 * that nothing here stands for (its reason is in trivy-ids:). */
static bool known_trivy_id(const rule_vec *rv, const char *name)
{
    for (size_t i = 0; i < rv->n_trivy; i++)
        if (strcmp(rv->trivy[i].id, name) == 0)
            return true;
    return false;
}

/* Applies a file's enable-builtin-rules and disable-rules (Trivy's
 * semantics: custom rules stay on whatever enable-builtin-rules says, and
 * disable-rules wins over both) to the rules loaded so far. A name that
 * selects nothing and is no Trivy built-in id is an error: a typo must
 * not silently keep a rule on or switch the wanted one off. */
static stw_status select_rules(rule_vec *rv, const stw_rulefile *f,
                               stw_error *err)
{
    const stw_strlist *lists[] = {&f->enable_builtin, &f->disable};
    const char *names[] = {"enable-builtin-rules", "disable-rules"};
    for (size_t l = 0; l < 2; l++) {
        for (size_t k = 0; k < lists[l]->n; k++) {
            const char *name = lists[l]->v[k];
            bool hit = known_trivy_id(rv, name);
            for (size_t j = 0; j < rv->n && !hit; j++)
                hit = names_rule(rv, name, &rv->v[j]);
            if (!hit)
                return stw_fail(err, STW_ERR_RULES,
                                "%s: %s: no rule '%s' (neither a rule id nor "
                                "a Trivy built-in rule id)",
                                f->name, names[l], name);
        }
    }
    for (size_t j = rv->n; j-- > 0;) {
        const stw_rule *r = &rv->v[j];
        bool off = f->enable_builtin.n > 0 && r->builtin;
        for (size_t k = 0; off && k < f->enable_builtin.n; k++)
            off = !names_rule(rv, f->enable_builtin.v[k], r);
        for (size_t k = 0; !off && k < f->disable.n; k++)
            off = names_rule(rv, f->disable.v[k], r);
        if (off)
            vec_remove(rv, j);
    }
    /* Trivy's built-in allow rules have no counterpart here (stowaway
     * skips no directory or file type), so only ids of loaded top-level
     * allow rules can match. */
    for (size_t k = 0; k < f->disable_allows.n; k++) {
        for (size_t j = rv->n_allows; j-- > 0;) {
            if (!rv->allows[j].id ||
                strcmp(rv->allows[j].id, f->disable_allows.v[k]) != 0)
                continue;
            stw_allow_free(&rv->allows[j]);
            memmove(&rv->allows[j], &rv->allows[j + 1],
                    (rv->n_allows - j - 1) * sizeof(*rv->allows));
            rv->n_allows--;
        }
    }
    return STW_OK;
}

/* Appends the regex for one doublestar glob of Trivy's skip-patterns
 * (`**` any number of directories, `*` and `?` within one, `[...]`,
 * `{a,b}`) to out, anchored at both ends. Transferred; NULL on no memory. */
static char *glob_regex(const char *g)
{
    size_t n = strlen(g), cap = n * 12 + 8;
    char *out = stw_malloc(cap), *p = out;
    if (!out)
        return NULL;
        /* Every input byte becomes at most 11 output bytes (a doublestar with
         * its slash), so cap always has room; snprintf keeps that checked. */
#define PUT(...) (p += snprintf(p, cap - (size_t)(p - out), __VA_ARGS__))
    int braces = 0;
    *p++ = '^';
    for (size_t i = 0; i < n; i++) {
        char c = g[i];
        if (c == '*' && g[i + 1] == '*') {
            i++;
            if (g[i + 1] == '/') {
                i++;
                PUT("(?:[^/]*/)*");
            } else {
                PUT(".*");
            }
        } else if (c == '*') {
            PUT("[^/]*");
        } else if (c == '?') {
            PUT("[^/]");
        } else if (c == '[') {
            *p++ = '[';
            if (g[i + 1] == '!' || g[i + 1] == '^') {
                *p++ = '^';
                i++;
            }
        } else if (c == ']') {
            *p++ = ']';
        } else if (c == '{') {
            braces++;
            PUT("(?:");
        } else if (c == '}' && braces > 0) {
            braces--;
            *p++ = ')';
        } else if (c == ',' && braces > 0) {
            *p++ = '|';
        } else if (c == '\\' && i + 1 < n) {
            PUT("\\x%02x", (unsigned char)g[++i]);
        } else if (strchr(".+()|^$}", c)) {
            *p++ = '\\';
            *p++ = c;
        } else {
            *p++ = c;
        }
    }
#undef PUT
    *p++ = '$';
    *p = 0;
    return out;
}

/* skip-patterns become top-level path-only allow rules: the files they
 * name are not searched, as in Trivy. */
static stw_status skip_allows(rule_vec *rv, const stw_rulefile *f,
                              stw_error *err)
{
    for (size_t k = 0; k < f->skip_patterns.n; k++) {
        stw_allow a = {0};
        a.id = stw_strdup("skip-patterns");
        a.description = stw_strdup(f->skip_patterns.v[k]);
        a.path_src = glob_regex(f->skip_patterns.v[k]);
        stw_status st = STW_OK;
        if (!a.id || !a.description || !a.path_src)
            st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
        if (st == STW_OK)
            st = vec_push_allow(rv, &a, err);
        if (st != STW_OK) {
            stw_allow_free(&a);
            return st;
        }
    }
    return STW_OK;
}

/* Adds the size of rule r's compiled regexes to *total; past
 * STW_MAX_COMPILED_BYTES names the rule and its file. */
static stw_status count_compiled(const stw_rule *r, size_t max, size_t *total,
                                 stw_error *err)
{
    size_t sz = 0;
    if (r->re && pcre2_pattern_info(r->re, PCRE2_INFO_SIZE, &sz) == 0)
        *total += sz;
    if (r->path_re && pcre2_pattern_info(r->path_re, PCRE2_INFO_SIZE, &sz) == 0)
        *total += sz;
    if (*total > max)
        return stw_fail(err, STW_ERR_LIMIT,
                        "%s: rule '%s': compiled rules exceed %zu bytes (the "
                        "limit)",
                        r->file, r->id, max);
    return STW_OK;
}

static size_t db_size(const hs_database_t *db)
{
    size_t sz = 0;
    if (db && hs_database_size(db, &sz) != HS_SUCCESS)
        sz = 0;
    return sz;
}

/* The regexes (pcre_bytes) and the vectorscan databases together stay
 * under STW_MAX_COMPILED_BYTES. The databases cannot be split by rule:
 * the error names the file of the last rule loaded (a user file, if any,
 * is loaded last). */
static stw_status check_db_size(const stw_rules *rs, size_t pcre_bytes,
                                size_t max, stw_error *err)
{
    size_t total = pcre_bytes + db_size(rs->content.db) +
                   db_size(rs->content_path.db) + db_size(rs->path_db);
    if (total <= max)
        return STW_OK;
    const char *file = rs->n_rules ? rs->rules[rs->n_rules - 1].file : "rules";
    return stw_fail(err, STW_ERR_LIMIT,
                    "%s: compiled rules and prefilter databases take %zu "
                    "bytes, more than %zu (the limit)",
                    file, total, max);
}

/* Moves a parsed file's rules into rv. Built-in files must not collide with
 * each other (that is a bug in signatures/); a user file's rule replaces an
 * earlier rule of the same id in place. Then the file's Trivy settings act
 * on everything loaded so far. */
static stw_status merge_file(rule_vec *rv, stw_rulefile *f, bool user,
                             stw_error *err)
{
    for (size_t i = 0; i < f->n_rules; i++) {
        stw_rule *r = &f->rules[i];
        r->builtin = !user;
        size_t j = 0;
        while (j < rv->n && strcmp(rv->v[j].id, r->id) != 0)
            j++;
        if (j < rv->n) {
            if (!user)
                return stw_fail(err, STW_ERR_RULES,
                                "%s: rule '%s': duplicate id (also in %s)",
                                f->name, r->id, rv->v[j].file);
            stw_rule_free(&rv->v[j]);
            rv->v[j] = *r;
        } else {
            /* Counted before anything compiles: compile time and memory
             * grow with the rule count. */
            if (rv->n >= rv->max_rules)
                return stw_fail(err, STW_ERR_LIMIT,
                                "%s: rule '%s': more than %zu rules in all "
                                "(the limit)",
                                f->name, r->id, rv->max_rules);
            stw_status st = vec_push(rv, r, err);
            if (st != STW_OK)
                return st;
        }
        memset(r, 0, sizeof(*r));
    }
    for (size_t i = 0; i < f->n_allows; i++) {
        stw_status st = vec_push_allow(rv, &f->allows[i], err);
        if (st != STW_OK)
            return st;
        memset(&f->allows[i], 0, sizeof(f->allows[i]));
    }
    for (size_t i = 0; i < f->n_known; i++) {
        stw_status st = vec_push_known(rv, &f->known[i], err);
        if (st != STW_OK)
            return st;
        memset(&f->known[i], 0, sizeof(f->known[i]));
    }
    stw_status st =
        append_move((void **)&rv->trivy, &rv->n_trivy, (void **)&f->trivy,
                    &f->n_trivy, sizeof(*f->trivy), err);
    if (st == STW_OK)
        st = append_move((void **)&rv->excludes.v, &rv->excludes.n,
                         (void **)&f->exclude_src.v, &f->exclude_src.n,
                         sizeof(char *), err);
    if (st == STW_OK)
        st = skip_allows(rv, f, err);
    if (st == STW_OK)
        st = select_rules(rv, f, err);
    return st;
}

static stw_status load_text(rule_vec *rv, const char *name, const char *text,
                            size_t len, bool user, stw_error *err)
{
    stw_rulefile f;
    stw_status st = stw_rulefile_parse(name, text, len, &f, err);
    if (st != STW_OK)
        return st;
    st = merge_file(rv, &f, user, err);
    stw_rulefile_free(&f);
    return st;
}

static stw_status load_path(rule_vec *rv, const char *path, stw_error *err)
{
    char eb[128];
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return stw_fail(err, STW_ERR_IO, "%s: %s", path,
                        stw_strerror(errno, eb, sizeof(eb)));
    size_t cap = 1 << 14, len = 0;
    char *buf = stw_malloc(cap);
    stw_status st =
        buf ? STW_OK : stw_fail(err, STW_ERR_NOMEM, "out of memory");
    while (st == STW_OK) {
        if (len == cap) {
            if (cap >= STW_MAX_RULEFILE_BYTES) {
                st = stw_fail(err, STW_ERR_LIMIT,
                              "%s: rule file larger than %u bytes", path,
                              STW_MAX_RULEFILE_BYTES);
                break;
            }
            char *nb = stw_realloc(buf, cap * 2);
            if (!nb) {
                st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        if (got == 0) {
            if (ferror(fp))
                st = stw_fail(err, STW_ERR_IO, "%s: read error", path);
            break;
        }
        len += got;
    }
    fclose(fp);
    if (st == STW_OK)
        st = load_text(rv, path, buf, len, true, err);
    free(buf);
    return st;
}

/* Compiles one PCRE2 pattern; names file, rule and field on failure. */
static stw_status compile_re(const stw_rule *r, const char *field,
                             const char *src, uint32_t opts, pcre2_code **out,
                             stw_error *err)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, opts,
                                   &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof(msg));
        return stw_fail(err, STW_ERR_RULES,
                        "%s: rule '%s': %s: %s at offset %zu", r->file, r->id,
                        field, (const char *)msg, (size_t)off);
    }
    /* JIT may be unavailable (e.g. SELinux execmem): the interpreter is
     * slower but correct, so a JIT failure is not an error. */
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    *out = re;
    return STW_OK;
}

static stw_status compile_allows(const stw_rule *r, stw_allow *a, size_t n,
                                 stw_error *err)
{
    for (size_t i = 0; i < n; i++) {
        stw_status st = STW_OK;
        if (a[i].regex_src)
            st = compile_re(r, "allow-rules regex", a[i].regex_src, 0, &a[i].re,
                            err);
        if (st == STW_OK && a[i].path_src)
            st = compile_re(r, "allow-rules path", a[i].path_src, 0,
                            &a[i].path_re, err);
        if (st != STW_OK)
            return st;
    }
    return STW_OK;
}

/* Vectorscan pattern for a literal keyword: every non-alphanumeric byte
 * escaped as \xHH so the keyword is taken literally. Transferred. */
static char *hs_literal(const char *kw)
{
    size_t n = strlen(kw);
    char *out = stw_malloc(n * 4 + 1);
    if (!out)
        return NULL;
    char *p = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)kw[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9'))
            *p++ = (char)c;
        else
            p += snprintf(p, 5, "\\x%02x", c);
    }
    *p = 0;
    return out;
}

/* True if vectorscan accepts the regex as a prefilter on its own. */
static bool hs_accepts_prefilter(const char *src)
{
    hs_database_t *db = NULL;
    hs_compile_error_t *ce = NULL;
    hs_error_t e =
        hs_compile(src, HS_FLAG_PREFILTER, HS_MODE_BLOCK, NULL, &db, &ce);
    hs_free_compile_error(ce);
    hs_free_database(db);
    return e == HS_SUCCESS;
}

/* Compiles exclude-block regexes into *out (n programs, transferred). */
static stw_status compile_excludes(const stw_rule *r, const stw_strlist *src,
                                   pcre2_code ***out, stw_error *err)
{
    if (src->n == 0)
        return STW_OK;
    *out = stw_calloc(src->n, sizeof(**out));
    if (!*out)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < src->n; i++) {
        stw_status st =
            compile_re(r, "exclude-block regex", src->v[i], 0, &(*out)[i], err);
        if (st != STW_OK)
            return st;
    }
    return STW_OK;
}

static stw_status compile_rule(stw_rule *r, stw_error *err)
{
    stw_status st;
    r->info.id = r->id;
    r->info.title = r->title;
    r->info.category = r->category;
    r->info.remediation = r->remediation;
    if (!stw_validator_lookup(r->validator, &r->validate))
        return stw_fail(err, STW_ERR_RULES,
                        "%s: rule '%s': unknown validator '%s'", r->file, r->id,
                        r->validator);
    if (r->path_src && (st = compile_re(r, "path", r->path_src, 0, &r->path_re,
                                        err)) != STW_OK)
        return st;
    if ((st = compile_allows(r, r->allows, r->n_allows, err)) != STW_OK)
        return st;
    if ((st = compile_excludes(r, &r->exclude_src, &r->exclude_re, err)) !=
        STW_OK)
        return st;
    if (!r->regex_src) {
        r->mode = STW_MODE_PATH_ONLY;
        return STW_OK;
    }
    /* The offset limit bounds where a match may start (see start_at_hit);
     * only rules that can use it pay for it. */
    r->start_at_hit = r->has_window_before && r->n_keywords > 0;
    if ((st = compile_re(r, "regex", r->regex_src,
                         r->start_at_hit ? PCRE2_USE_OFFSET_LIMIT : 0, &r->re,
                         err)) != STW_OK)
        return st;
    if (r->secret_group_name) {
        int g = pcre2_substring_number_from_name(
            r->re, (PCRE2_SPTR)r->secret_group_name);
        if (g <= 0)
            return stw_fail(err, STW_ERR_RULES,
                            "%s: rule '%s': secret-group-name '%s' is not a "
                            "named group of the regex",
                            r->file, r->id, r->secret_group_name);
        r->secret_group = (uint32_t)g;
    }
    int bg = pcre2_substring_number_from_name(r->re, (PCRE2_SPTR) "body");
    if (bg > 0 && (uint32_t)bg != r->secret_group)
        r->body_group = (uint32_t)bg;
    r->generic = strncmp(r->category, "generic", 7) == 0;
    r->checksum = stw_validator_is_checksum(r->validator);
    if (r->window) {
        r->hit_before = r->hit_after = r->window;
    } else if (r->info.kind == STW_KIND_PRIVATE_KEY) {
        r->hit_before = STW_SCAN_HIT_BEFORE;
        r->hit_after = STW_SCAN_HIT_AFTER;
    } else {
        r->hit_before = STW_SCAN_TOKEN_HIT_BEFORE;
        r->hit_after = STW_SCAN_TOKEN_HIT_AFTER;
    }
    if (r->has_window_before)
        r->hit_before = r->window_before;
    /* Without keywords the regex itself is the prefilter if vectorscan
     * takes it: decide_modes (or the cache) says, once per set. */
    r->mode = r->n_keywords ? STW_MODE_KEYWORD : STW_MODE_PREFILTER;
    return STW_OK;
}

/* Whether rule r's mode is vectorscan's to decide (PREFILTER or FULL). */
static bool hs_decides(const stw_rule *r)
{
    return r->regex_src && r->n_keywords == 0;
}

/* A rule vectorscan refuses even as a prefilter is run by PCRE2 over
 * every window (STW_MODE_FULL). One vectorscan compile per such rule: the
 * costliest part of loading, which the cache saves. */
static void decide_modes(stw_rules *rs)
{
    for (size_t i = 0; i < rs->n_rules; i++) {
        stw_rule *r = &rs->rules[i];
        if (hs_decides(r))
            r->mode = hs_accepts_prefilter(r->regex_src) ? STW_MODE_PREFILTER
                                                         : STW_MODE_FULL;
    }
}

/* Whether rule r, in mode, feeds the prefilter set for rules with (or
 * without) a path regex. */
static bool in_set_as(const stw_rule *r, stw_rule_mode mode, bool with_path)
{
    return (mode == STW_MODE_KEYWORD || mode == STW_MODE_PREFILTER) &&
           (r->path_re != NULL) == with_path;
}

static bool in_set(const stw_rule *r, bool with_path)
{
    return in_set_as(r, r->mode, with_path);
}

/* The vectorscan pattern id of keyword kw (followed by next, or NULL)
 * among the first n expressions, or n when it is new. Keywords are
 * caseless literals, so two that differ only in ASCII case are the same
 * pattern. */
static size_t keyword_id(const char *const *kws, const char *const *nexts,
                         size_t n, const char *kw, const char *next)
{
    for (size_t i = 0; i < n; i++)
        if (kws[i] && strcasecmp(kws[i], kw) == 0 &&
            (nexts[i] ? next && strcmp(nexts[i], next) == 0 : !next))
            return i;
    return n;
}

/* kw as a literal, then the keyword-next bracket expression if any. */
static char *hs_keyword(const char *kw, const char *next)
{
    char *lit = hs_literal(kw);
    if (!lit || !next)
        return lit;
    size_t a = strlen(lit), b = strlen(next);
    char *out = stw_realloc(lit, a + b + 1);
    if (!out) {
        free(lit);
        return NULL;
    }
    memcpy(out + a, next, b + 1);
    return out;
}

/* Builds one prefilter set: a pattern per distinct keyword and per
 * prefilter regex, and the targets each opens windows for; then the
 * n_gates expressions of gates, case-sensitive, which open none. */
static stw_status build_prefilter(stw_rules *rs, bool with_path,
                                  const char *const *gates, size_t n_gates,
                                  stw_prefilter *pf, stw_error *err)
{
    size_t n_targets = 0;
    for (size_t i = 0; i < rs->n_rules; i++) {
        const stw_rule *r = &rs->rules[i];
        if (in_set(r, with_path))
            n_targets += r->mode == STW_MODE_KEYWORD ? r->n_keywords : 1;
    }
    if (n_targets == 0)
        return STW_OK; /* the matcher runs the gates' own pass instead */
    /* Pattern id: kw[id] and next[id] for a keyword, src[id] for a regex.
     * Each target is collected with its pattern id, then grouped by id. */
    const char **kw = stw_calloc(n_targets, sizeof(*kw));
    const char **next = stw_calloc(n_targets, sizeof(*next));
    const char **src = stw_calloc(n_targets, sizeof(*src));
    size_t *of = stw_calloc(n_targets, sizeof(*of));
    stw_pattern *t = stw_calloc(n_targets, sizeof(*t));
    uint32_t *at = stw_calloc(n_targets, sizeof(*at)); /* next slot per id */
    pf->targets = stw_calloc(n_targets, sizeof(*pf->targets));
    pf->first = stw_calloc(n_targets + 1, sizeof(*pf->first));
    char **exprs = stw_calloc(n_targets + n_gates, sizeof(*exprs));
    unsigned *flags = stw_calloc(n_targets + n_gates, sizeof(*flags));
    unsigned *ids = stw_calloc(n_targets + n_gates, sizeof(*ids));
    stw_status st = STW_OK;
    if (!kw || !next || !src || !of || !t || !at || !pf->targets ||
        !pf->first || !exprs || !flags || !ids) {
        st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t n_ids = 0, n = 0;
    for (size_t i = 0; i < rs->n_rules; i++) {
        const stw_rule *r = &rs->rules[i];
        if (!in_set(r, with_path))
            continue;
        if (r->mode == STW_MODE_PREFILTER) {
            src[n_ids] = r->regex_src;
            t[n] = (stw_pattern){(uint32_t)i, true, 0, 0};
            of[n++] = n_ids++;
            continue;
        }
        size_t mine = n; /* this rule's targets start here */
        for (size_t j = 0; j < r->n_keywords; j++) {
            size_t id =
                keyword_id(kw, next, n_ids, r->keywords[j], r->keyword_next);
            if (id == n_ids) {
                kw[id] = r->keywords[j];
                next[n_ids++] = r->keyword_next;
            }
            /* A rule listing one keyword twice (in two cases) gets one
             * window per hit. */
            bool dup = false;
            for (size_t k = mine; k < n; k++)
                dup |= of[k] == id;
            if (dup)
                continue;
            t[n] = (stw_pattern){(uint32_t)i, false,
                                 (uint32_t)strlen(r->keywords[j]),
                                 r->keyword_next ? 1 : 0};
            of[n++] = id;
        }
    }
    /* Group by pattern id, keeping rule order within each. */
    for (size_t k = 0; k < n; k++)
        pf->first[of[k] + 1]++;
    for (size_t id = 0; id < n_ids; id++)
        pf->first[id + 1] += pf->first[id];
    for (size_t id = 0; id < n_ids; id++)
        at[id] = pf->first[id];
    for (size_t k = 0; k < n; k++)
        pf->targets[at[of[k]]++] = t[k];
    pf->n_ids = n_ids;
    for (size_t id = 0; st == STW_OK && id < n_ids; id++) {
        exprs[id] = kw[id] ? hs_keyword(kw[id], next[id]) : stw_strdup(src[id]);
        flags[id] = kw[id] ? HS_FLAG_CASELESS : HS_FLAG_PREFILTER;
        ids[id] = (unsigned)id;
        if (!exprs[id])
            st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    for (size_t g = 0; st == STW_OK && g < n_gates; g++) {
        exprs[n_ids + g] = stw_strdup(gates[g]);
        ids[n_ids + g] = (unsigned)(n_ids + g);
        if (!exprs[n_ids + g])
            st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    pf->n_gates = n_gates;
    if (st == STW_OK && !pf->db) { /* not from the cache */
        hs_compile_error_t *ce = NULL;
        if (hs_compile_multi((const char *const *)exprs, flags, ids,
                             (unsigned)(n_ids + n_gates), HS_MODE_BLOCK, NULL,
                             &pf->db, &ce) != HS_SUCCESS) {
            const stw_rule *bad = NULL;
            if (ce && ce->expression >= 0 && (size_t)ce->expression < n_ids)
                bad = &rs->rules[pf->targets[pf->first[ce->expression]].rule];
            st = stw_fail(err, STW_ERR_RULES,
                          "%s: rule '%s': prefilter database: %s",
                          bad ? bad->file : "rules", bad ? bad->id : "?",
                          ce ? ce->message : "compile failed");
            hs_free_compile_error(ce);
        }
    }
out:
    for (size_t i = 0; exprs && i < n_targets + n_gates; i++)
        free(exprs[i]);
    free(exprs);
    free(flags);
    free(ids);
    free(kw);
    free(next);
    free(src);
    free(of);
    free(t);
    free(at);
    return st;
}

/* Whether the path decides if rule r applies to a file. */
static bool path_dependent(const stw_rule *r)
{
    if (r->path_re)
        return true;
    for (size_t j = 0; j < r->n_allows; j++)
        if (!r->allows[j].re && r->allows[j].path_re)
            return true;
    return false;
}

static stw_status build_db(stw_rules *rs, stw_error *err)
{
    for (size_t i = 0; i < rs->n_rules; i++)
        rs->n_full_rules += rs->rules[i].mode == STW_MODE_FULL;
    if (rs->n_full_rules) {
        rs->full_rules = stw_calloc(rs->n_full_rules, sizeof(*rs->full_rules));
        if (!rs->full_rules)
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        size_t k = 0;
        for (size_t i = 0; i < rs->n_rules; i++)
            if (rs->rules[i].mode == STW_MODE_FULL)
                rs->full_rules[k++] = (uint32_t)i;
    }
    for (size_t i = 0; i < rs->n_rules; i++)
        rs->n_path_rules += path_dependent(&rs->rules[i]);
    if (rs->n_path_rules) {
        rs->path_rules = stw_calloc(rs->n_path_rules, sizeof(*rs->path_rules));
        if (!rs->path_rules)
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        size_t k = 0;
        for (size_t i = 0; i < rs->n_rules; i++)
            if (path_dependent(&rs->rules[i]))
                rs->path_rules[k++] = (uint32_t)i;
    }
    stw_status st = build_prefilter(rs, false, stw_decode_gate_expr,
                                    STW_DECODE_GATES, &rs->content, err);
    if (st == STW_OK)
        st = build_prefilter(rs, true, NULL, 0, &rs->content_path, err);
    return st;
}

/* Path regexes are prefiltered: no false negatives, PCRE2 confirms. */
#define PATH_HS_FLAGS                                                          \
    (HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY)

static bool hs_accepts_path(const char *src)
{
    hs_database_t *db = NULL;
    hs_compile_error_t *ce = NULL;
    hs_error_t e =
        hs_compile(src, PATH_HS_FLAGS, HS_MODE_BLOCK, NULL, &db, &ce);
    hs_free_compile_error(ce);
    hs_free_database(db);
    return e == HS_SUCCESS;
}

/* The number of path slots build_path_db gives out, slot 0 (none)
 * included. */
static size_t count_path_slots(const stw_rules *rs)
{
    size_t n = 1;
    for (size_t i = 0; i < rs->n_rules; i++) {
        const stw_rule *r = &rs->rules[i];
        n += r->path_re != NULL;
        for (size_t j = 0; j < r->n_allows; j++)
            n += !r->allows[j].re && r->allows[j].path_re;
    }
    for (size_t j = 0; j < rs->n_allows; j++)
        n += !rs->allows[j].re && rs->allows[j].path_re;
    return n;
}

/* Gives slot ids to the path regexes the matcher evaluates for every file
 * (rule paths, path-only allow rules) and compiles the ones vectorscan
 * accepts into rs->path_db. With cached (count_path_slots bytes from the
 * cache) vectorscan's answers are taken from it and rs->path_db is the
 * cached database. */
static stw_status build_path_db(stw_rules *rs, const unsigned char *cached,
                                stw_error *err)
{
    size_t n = count_path_slots(rs);
    if (n == 1)
        return STW_OK;
    const char **exprs = stw_calloc(n, sizeof(*exprs));
    unsigned *flags = stw_calloc(n, sizeof(*flags));
    unsigned *ids = stw_calloc(n, sizeof(*ids));
    rs->path_always = stw_calloc(n, 1);
    stw_status st = STW_OK;
    if (!exprs || !flags || !ids || !rs->path_always)
        st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
    uint32_t slot = 1;
    size_t k = 0;
#define PATH_SLOT(src, field)                                                  \
    do {                                                                       \
        (field) = slot;                                                        \
        if (cached ? !cached[slot] : hs_accepts_path(src)) {                   \
            exprs[k] = (src);                                                  \
            flags[k] = PATH_HS_FLAGS;                                          \
            ids[k++] = slot;                                                   \
        } else {                                                               \
            rs->path_always[slot] = 1;                                         \
        }                                                                      \
        slot++;                                                                \
    } while (0)
    for (size_t i = 0; st == STW_OK && i < rs->n_rules; i++) {
        stw_rule *r = &rs->rules[i];
        if (r->path_re)
            PATH_SLOT(r->path_src, r->path_slot);
        for (size_t j = 0; j < r->n_allows; j++)
            if (!r->allows[j].re && r->allows[j].path_re)
                PATH_SLOT(r->allows[j].path_src, r->allows[j].path_slot);
    }
    for (size_t j = 0; st == STW_OK && j < rs->n_allows; j++)
        if (!rs->allows[j].re && rs->allows[j].path_re)
            PATH_SLOT(rs->allows[j].path_src, rs->allows[j].path_slot);
#undef PATH_SLOT
    rs->n_path_slots = (uint32_t)n;
    if (st == STW_OK && k > 0 && !cached) {
        hs_compile_error_t *ce = NULL;
        if (hs_compile_multi(exprs, flags, ids, (unsigned)k, HS_MODE_BLOCK,
                             NULL, &rs->path_db, &ce) != HS_SUCCESS) {
            /* Each compiled alone; together they should too. If not, PCRE2
             * decides every path regex: slower, same result. */
            memset(rs->path_always, 1, n);
        }
        hs_free_compile_error(ce);
    }
    free(exprs);
    free(flags);
    free(ids);
    return st;
}

/* Takes the cached parts p into rs when they fit it: one mode per rule,
 * vectorscan's to decide only where it decides, one 0/1 byte per path
 * slot, and a database exactly where the set needs one; the key already
 * matched, so a misfit means a damaged or forged entry. Returns false,
 * rs untouched, otherwise. On success p's databases belong to rs. */
static bool use_cached(stw_rules *rs, stw_hs_parts *p)
{
    size_t slots = count_path_slots(rs);
    if (slots == 1)
        slots = 0;
    if (p->n_rules != rs->n_rules || p->n_path_slots != slots)
        return false;
    bool content = false, content_path = false, path = false;
    for (size_t i = 0; i < rs->n_rules; i++) {
        const stw_rule *r = &rs->rules[i];
        stw_rule_mode m = (stw_rule_mode)p->modes[i];
        if (hs_decides(r) ? m != STW_MODE_PREFILTER && m != STW_MODE_FULL
                          : m != r->mode)
            return false;
        content |= in_set_as(r, m, false);
        content_path |= in_set_as(r, m, true);
    }
    for (size_t k = 0; k < slots; k++) {
        if (p->path_always[k] > 1 || (k == 0 && p->path_always[k]))
            return false;
        path |= k > 0 && !p->path_always[k];
    }
    if (content != (p->content != NULL) ||
        content_path != (p->content_path != NULL) || path != (p->path != NULL))
        return false;
    for (size_t i = 0; i < rs->n_rules; i++)
        rs->rules[i].mode = (stw_rule_mode)p->modes[i];
    rs->content.db = p->content;
    rs->content_path.db = p->content_path;
    rs->path_db = p->path;
    p->content = p->content_path = p->path = NULL;
    return true;
}

/* Writes rs's vectorscan parts as the cache entry for key; a failure is
 * only recorded (cache_use, cache_why). */
static void store_cached(stw_rules *rs, const char *dir,
                         const unsigned char key[STW_RULECACHE_KEY_LEN])
{
    stw_hs_parts p = {
        .modes = stw_malloc(rs->n_rules ? rs->n_rules : 1),
        .n_rules = rs->n_rules,
        .path_always = rs->path_always, /* borrowed, like the databases */
        .n_path_slots = rs->n_path_slots,
        .content = rs->content.db,
        .content_path = rs->content_path.db,
        .path = rs->path_db,
    };
    char why[sizeof(rs->cache_why)];
    bool ok = p.modes != NULL;
    if (ok) {
        for (size_t i = 0; i < rs->n_rules; i++)
            p.modes[i] = (unsigned char)rs->rules[i].mode;
        ok = stw_rulecache_store(dir, key, &p, why, sizeof(why));
    } else {
        snprintf(why, sizeof(why), "%s: out of memory", dir);
    }
    free(p.modes);
    rs->cache_use = ok ? STW_RULES_CACHE_STORED : STW_RULES_CACHE_FAILED;
    if (!ok) /* else the reason the entry found was unusable, if any */
        snprintf(rs->cache_why, sizeof(rs->cache_why), "%s", why);
}

static void hash_str(stw_sha256 *h, const char *s)
{
    if (s)
        stw_sha256_update(h, s, strlen(s));
    stw_sha256_update(h, "\x1f", 1);
}

static void hash_allows(stw_sha256 *h, const stw_allow *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hash_str(h, a[i].regex_src);
        hash_str(h, a[i].path_src);
    }
    stw_sha256_update(h, "\x1e", 1);
}

/* The version covers everything that changes what a scan reports, not
 * titles or remediation text. */
static stw_status compute_version(stw_rules *rs, stw_error *err)
{
    stw_sha256 *h;
    stw_status st = stw_sha256_create(&h, err);
    if (st != STW_OK)
        return st;
    for (size_t i = 0; i < rs->n_rules; i++) {
        const stw_rule *r = &rs->rules[i];
        char num[64];
        hash_str(h, r->id);
        snprintf(num, sizeof(num), "%d/%d/%.6f/%u/%u", (int)r->info.kind,
                 (int)r->info.severity, r->entropy, (unsigned)r->window,
                 (unsigned)r->hit_before);
        hash_str(h, num);
        hash_str(h, r->regex_src);
        hash_str(h, r->secret_group_name);
        hash_str(h, r->path_src);
        hash_str(h, r->validator);
        for (size_t j = 0; j < r->n_keywords; j++)
            hash_str(h, r->keywords[j]);
        hash_str(h, r->keyword_next);
        stw_sha256_update(h, "\x1e", 1);
        hash_allows(h, r->allows, r->n_allows);
        for (size_t j = 0; j < r->exclude_src.n; j++)
            hash_str(h, r->exclude_src.v[j]);
        stw_sha256_update(h, "\x1e", 1);
    }
    hash_allows(h, rs->allows, rs->n_allows);
    for (size_t j = 0; j < rs->exclude_src.n; j++)
        hash_str(h, rs->exclude_src.v[j]);
    for (size_t i = 0; i < rs->n_known; i++) {
        hash_str(h, rs->known[i].sha256);
        hash_str(h, rs->known[i].source);
    }
    unsigned char md[STW_SHA256_LEN];
    st = stw_sha256_final_raw(h, md, err);
    stw_sha256_destroy(h);
    if (st == STW_OK)
        stw_hex(md, 8, rs->version);
    return st;
}

static stw_status drop_disabled(rule_vec *rv, const stw_rules_options *opt,
                                stw_error *err)
{
    for (size_t d = 0; opt && d < opt->n_disabled; d++) {
        size_t j = 0;
        while (j < rv->n && strcmp(rv->v[j].id, opt->disabled[d]) != 0)
            j++;
        if (j == rv->n) {
            /* Disabling twice is harmless; disabling a typo is not. */
            bool seen = false;
            for (size_t e = 0; e < d; e++)
                seen |= strcmp(opt->disabled[e], opt->disabled[d]) == 0;
            if (seen)
                continue;
            return stw_fail(err, STW_ERR_RULES,
                            "disabled rule '%s' does not exist",
                            opt->disabled[d]);
        }
        vec_remove(rv, j);
    }
    return STW_OK;
}

static int cmp_known(const void *a, const void *b)
{
    return strcmp(((const stw_known_key *)a)->sha256,
                  ((const stw_known_key *)b)->sha256);
}

/* Sorts the known test keys for bsearch; a later file's entry for the same
 * hash replaces an earlier one. Builds each finding detail once. */
static stw_status finish_known(stw_rules *rs, stw_error *err)
{
    if (rs->n_known == 0)
        return STW_OK;
    /* Stable for equal hashes: keep the last by index before sorting. */
    size_t k = 0;
    for (size_t i = 0; i < rs->n_known; i++) {
        bool later = false;
        for (size_t j = i + 1; j < rs->n_known && !later; j++)
            later = strcmp(rs->known[i].sha256, rs->known[j].sha256) == 0;
        if (later)
            stw_known_key_free(&rs->known[i]);
        else
            rs->known[k++] = rs->known[i];
    }
    rs->n_known = k;
    stw_sort(rs->known, rs->n_known, sizeof(*rs->known), cmp_known);
    for (size_t i = 0; i < rs->n_known; i++) {
        size_t n = strlen(rs->known[i].source) + sizeof(STW_TEST_KEY_DETAIL);
        rs->known[i].detail = stw_malloc(n);
        if (!rs->known[i].detail)
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        snprintf(rs->known[i].detail, n, STW_TEST_KEY_DETAIL "%s",
                 rs->known[i].source);
    }
    return STW_OK;
}

/* Every rule trivy-ids: names must exist among the rules loaded so far (the
 * built-in ones): a renamed rule would otherwise make a Trivy config's
 * disable-rules silently keep it on. */
static stw_status check_trivy_ids(const rule_vec *rv, stw_error *err)
{
    for (size_t i = 0; i < rv->n_trivy; i++) {
        const stw_trivy_id *t = &rv->trivy[i];
        for (size_t k = 0; k < t->rules.n; k++) {
            size_t j = 0;
            while (j < rv->n && strcmp(rv->v[j].id, t->rules.v[k]) != 0)
                j++;
            if (j == rv->n)
                return stw_fail(err, STW_ERR_RULES,
                                "trivy-ids: Trivy id '%s' names rule '%s', "
                                "which does not exist",
                                t->id, t->rules.v[k]);
        }
    }
    return STW_OK;
}

stw_status stw_rules_create(const stw_rules_options *opt, stw_rules **out,
                            stw_error *err)
{
    *out = NULL;
    rule_vec rv = {0};
    rv.max_rules = opt && opt->max_rules ? opt->max_rules : STW_MAX_RULES;
    size_t max_compiled = opt && opt->max_compiled_bytes
                              ? opt->max_compiled_bytes
                              : STW_MAX_COMPILED_BYTES;
    stw_status st = STW_OK;
    if (!opt || !opt->no_builtin) {
        for (const struct stw_embedded *e = stw_embedded_rules;
             st == STW_OK && e->name; e++) {
            char *text = stw_embedded_text(e);
            st = text ? load_text(&rv, e->name, text, e->len, false, err)
                      : stw_fail(err, STW_ERR_NOMEM, "out of memory");
            free(text);
        }
    }
    if (st == STW_OK)
        st = check_trivy_ids(&rv, err);
    for (size_t i = 0; opt && st == STW_OK && i < opt->n_files; i++)
        st = load_path(&rv, opt->files[i], err);
    if (st == STW_OK)
        st = drop_disabled(&rv, opt, err);
    size_t compiled = 0;
    for (size_t i = 0; st == STW_OK && i < rv.n; i++) {
        st = compile_rule(&rv.v[i], err);
        if (st == STW_OK)
            st = count_compiled(&rv.v[i], max_compiled, &compiled, err);
    }
    for (size_t i = 0; st == STW_OK && i < rv.n_allows; i++) {
        stw_rule fake = {.file = "(top level)", .id = "allow-rules"};
        st = compile_allows(&fake, &rv.allows[i], 1, err);
    }
    stw_rules *rs = NULL;
    pcre2_code **excludes = NULL;
    if (st == STW_OK) {
        stw_rule top = {.file = "(top level)", .id = "exclude-block"};
        st = compile_excludes(&top, &rv.excludes, &excludes, err);
    }
    if (st == STW_OK && !(rs = stw_calloc(1, sizeof(*rs))))
        st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
    if (st != STW_OK) {
        for (size_t i = 0; excludes && i < rv.excludes.n; i++)
            pcre2_code_free(excludes[i]);
        free(excludes);
        vec_free(&rv);
        return st;
    }
    rs->excludes = excludes;
    rs->n_excludes = rv.excludes.n;
    rs->exclude_src = rv.excludes;
    rv.excludes = (stw_strlist){0};
    for (size_t i = 0; i < rv.n_trivy; i++)
        stw_trivy_id_free(&rv.trivy[i]);
    free(rv.trivy);
    rs->rules = rv.v;
    rs->n_rules = rv.n;
    rs->allows = rv.allows;
    rs->n_allows = rv.n_allows;
    rs->known = rv.known;
    rs->n_known = rv.n_known;
    for (size_t i = 0; i < rs->n_rules; i++) {
        uint32_t c = 0;
        if (rs->rules[i].re)
            pcre2_pattern_info(rs->rules[i].re, PCRE2_INFO_CAPTURECOUNT, &c);
        if (c > rs->max_captures)
            rs->max_captures = c;
    }
    st = finish_known(rs, err);
    /* The vectorscan part, most of the compile time, may come from the
     * cache; everything else is built from the rules as always. */
    const char *cache_dir = opt ? opt->cache_dir : NULL;
    unsigned char key[STW_RULECACHE_KEY_LEN];
    stw_hs_parts cached = {0};
    bool hit = false;
    if (st == STW_OK && cache_dir)
        st = stw_rulecache_key(rs, key, err);
    if (st == STW_OK && cache_dir &&
        stw_rulecache_load(cache_dir, key,
                           max_compiled + rs->n_rules + count_path_slots(rs),
                           &cached, rs->cache_why, sizeof(rs->cache_why)) &&
        !(hit = use_cached(rs, &cached)))
        snprintf(rs->cache_why, sizeof(rs->cache_why),
                 "%s/rules: an entry does not fit the rules it is named for",
                 cache_dir);
    if (st == STW_OK && !hit)
        decide_modes(rs);
    if (st == STW_OK)
        st = build_db(rs, err);
    if (st == STW_OK)
        st = build_path_db(rs, hit ? cached.path_always : NULL, err);
    stw_hs_parts_free(&cached);
    if (st == STW_OK)
        st = check_db_size(rs, compiled, max_compiled, err);
    if (st == STW_OK)
        st = compute_version(rs, err);
    if (st != STW_OK) {
        stw_rules_destroy(rs);
        return st;
    }
    if (hit)
        rs->cache_use = STW_RULES_CACHE_LOADED;
    else if (cache_dir)
        store_cached(rs, cache_dir, key);
    *out = rs;
    return STW_OK;
}

static void prefilter_free(stw_prefilter *pf)
{
    hs_free_database(pf->db);
    free(pf->targets);
    free(pf->first);
}

void stw_rules_destroy(stw_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_rules; i++)
        stw_rule_free(&r->rules[i]);
    free(r->rules);
    for (size_t i = 0; i < r->n_allows; i++)
        stw_allow_free(&r->allows[i]);
    free(r->allows);
    for (size_t i = 0; i < r->n_known; i++)
        stw_known_key_free(&r->known[i]);
    free(r->known);
    for (size_t i = 0; i < r->n_excludes; i++)
        pcre2_code_free(r->excludes[i]);
    free(r->excludes);
    stw_strlist_free(&r->exclude_src);
    prefilter_free(&r->content);
    prefilter_free(&r->content_path);
    hs_free_database(r->path_db);
    free(r->path_always);
    free(r->full_rules);
    free(r->path_rules);
    free(r);
}

const char *stw_rules_version(const stw_rules *r)
{
    return r->version;
}

stw_rules_cache_use stw_rules_cache_state(const stw_rules *r, const char **why)
{
    if (why)
        *why = r->cache_why;
    return r->cache_use;
}

size_t stw_rules_count(const stw_rules *r)
{
    return r->n_rules;
}

stw_status stw_rules_info(const stw_rules *r, size_t i, stw_rule_info *out)
{
    if (i >= r->n_rules)
        return STW_ERR_NOT_FOUND;
    *out = r->rules[i].info;
    return STW_OK;
}

const stw_rule_info *stw_rules_find(const stw_rules *r, const char *id)
{
    for (size_t i = 0; i < r->n_rules; i++) {
        if (strcmp(r->rules[i].id, id) == 0)
            return &r->rules[i].info;
    }
    return NULL;
}

stw_status stw_rules_example(const stw_rules *r, size_t i, int tp, size_t j,
                             const char **text, const char **path)
{
    if (i >= r->n_rules)
        return STW_ERR_NOT_FOUND;
    const stw_rule *rule = &r->rules[i];
    if (j >= (tp ? rule->n_tp : rule->n_fp))
        return STW_ERR_NOT_FOUND;
    *text = tp ? rule->tp[j] : rule->fp[j];
    *path = rule->example_path ? rule->example_path : "example.txt";
    return STW_OK;
}
