/* options.c - the public options objects (stowaway.h, "options objects"):
 * each a box around the private layout its stage reads, plus the copies of
 * the strings that layout points to, so setters can copy what they are
 * given while the stages keep reading plain borrowed pointers. A box's
 * layout is its first member: the public pointer is the layout's address,
 * which stw_rules_create and stw_scan_target take unchanged. */
#include "api_internal.h"
#include "common.h"
#include "limits.h"
#include "report.h"
#include "rules.h"
#include "scan_options.h"

#include <stdlib.h>
#include <string.h>

/* Appends a copy of s to the string array *v of *n entries. */
static stw_status strv_add(char ***v, size_t *n, const char *s, stw_error *err)
{
    char **nv = stw_realloc(*v, (*n + 1) * sizeof(**v));
    if (!nv)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    *v = nv;
    if (!(nv[*n] = stw_strdup(s)))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    (*n)++;
    return STW_OK;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Replaces the copy *slot with a copy of s (NULL clears it). */
static stw_status str_set(char **slot, const char *s, stw_error *err)
{
    char *c = NULL;
    if (s && !(c = stw_strdup(s)))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    free(*slot);
    *slot = c;
    return STW_OK;
}

/* ---- rules -------------------------------------------------------------- */

typedef struct rules_box {
    stw_rules_options o; /* first: the public pointer */
    char **files, **disabled;
    char *cache_dir;
} rules_box;

stw_status stw_rules_options_create(stw_rules_options **out, stw_error *err)
{
    rules_box *b = stw_calloc(1, sizeof(*b));
    *out = b ? &b->o : NULL;
    return b ? STW_OK : stw_fail(err, STW_ERR_NOMEM, "out of memory");
}

void stw_rules_options_destroy(stw_rules_options *o)
{
    rules_box *b = (rules_box *)o;
    if (!b)
        return;
    strv_free(b->files, b->o.n_files);
    strv_free(b->disabled, b->o.n_disabled);
    free(b->cache_dir);
    free(b);
}

stw_status stw_rules_options_add_file(stw_rules_options *o, const char *path,
                                      stw_error *err)
{
    rules_box *b = (rules_box *)o;
    if (!b || !path || !*path)
        return stw_fail(err, STW_ERR_USAGE,
                        "stw_rules_options_add_file: no path");
    stw_status st = strv_add(&b->files, &b->o.n_files, path, err);
    b->o.files = (const char *const *)b->files;
    return st;
}

stw_status stw_rules_options_disable(stw_rules_options *o, const char *rule_id,
                                     stw_error *err)
{
    rules_box *b = (rules_box *)o;
    if (!b || !rule_id || !*rule_id)
        return stw_fail(err, STW_ERR_USAGE,
                        "stw_rules_options_disable: no rule id");
    stw_status st = strv_add(&b->disabled, &b->o.n_disabled, rule_id, err);
    b->o.disabled = (const char *const *)b->disabled;
    return st;
}

void stw_rules_options_set_builtin(stw_rules_options *o, bool on)
{
    if (o)
        o->no_builtin = !on;
}

stw_status stw_rules_options_set_cache_dir(stw_rules_options *o,
                                           const char *dir, stw_error *err)
{
    rules_box *b = (rules_box *)o;
    if (!b)
        return stw_fail(err, STW_ERR_USAGE,
                        "stw_rules_options_set_cache_dir: no options");
    if (dir && !*dir)
        return stw_fail(err, STW_ERR_USAGE,
                        "stw_rules_options_set_cache_dir: empty directory");
    stw_status st = str_set(&b->cache_dir, dir, err);
    b->o.cache_dir = b->cache_dir;
    return st;
}

/* ---- scan --------------------------------------------------------------- */

typedef struct scan_box {
    stw_scan_options o; /* first: the public pointer */
    char *platform, *ca_cert, *repo_glob, *tag_glob;
    char **insecure;
    int page_size; /* registry listings only: not the scan's business */
} scan_box;

/* The public defaults and bounds are the private limits. */
_Static_assert(STW_NESTED_DEPTH_DEFAULT == STW_NESTED_MAX_DEPTH,
               "stowaway.h and limits.h disagree on the nesting depth");
_Static_assert(STW_REGISTRY_TIMEOUT_MAX_S == STW_REGISTRY_MAX_TIMEOUT_S,
               "stowaway.h and limits.h disagree on the registry timeout");
_Static_assert(STW_REGISTRY_PAGE_SIZE_MAX == STW_REGISTRY_PAGE_SIZE,
               "batch.h and limits.h disagree on the page size");

stw_status stw_scan_options_create(stw_scan_options **out, stw_error *err)
{
    scan_box *b = stw_calloc(1, sizeof(*b));
    *out = b ? &b->o : NULL;
    return b ? STW_OK : stw_fail(err, STW_ERR_NOMEM, "out of memory");
}

void stw_scan_options_destroy(stw_scan_options *o)
{
    scan_box *b = (scan_box *)o;
    if (!b)
        return;
    free(b->platform);
    free(b->ca_cert);
    free(b->repo_glob);
    free(b->tag_glob);
    strv_free(b->insecure, b->o.n_insecure_registries);
    free(b);
}

stw_status stw_scan_options_set_platform(stw_scan_options *o,
                                         const char *platform, stw_error *err)
{
    scan_box *b = (scan_box *)o;
    stw_status st = str_set(&b->platform, platform, err);
    b->o.platform = b->platform;
    return st;
}

void stw_scan_options_set_jobs(stw_scan_options *o, int jobs)
{
    o->jobs = jobs;
}

void stw_scan_options_set_layer_limits(stw_scan_options *o, uint64_t max_bytes,
                                       uint64_t max_entries, double max_ratio)
{
    o->max_layer_bytes = max_bytes;
    o->max_entries = max_entries;
    o->max_ratio = max_ratio > 0 ? max_ratio : 0;
}

void stw_scan_options_set_nested(stw_scan_options *o, unsigned max_depth,
                                 uint64_t max_bytes, uint64_t max_members)
{
    o->no_nested = max_depth == 0;
    o->max_depth = max_depth;
    o->max_nested_bytes = max_bytes;
    o->max_nested_members = max_members;
}

void stw_scan_options_set_registry_timeout(stw_scan_options *o, long seconds)
{
    o->registry_timeout_s = seconds > 0 ? seconds : 0;
}

void stw_scan_options_set_hashing(stw_scan_options *o, bool verify_diff_ids,
                                  bool trust_cache)
{
    o->verify_diff_ids = verify_diff_ids;
    o->trust_cache = trust_cache;
}

void stw_scan_options_set_git_history(stw_scan_options *o, bool on,
                                      uint64_t max_bytes)
{
    o->no_git_history = !on;
    o->max_git_bytes = max_bytes;
}

stw_status stw_scan_options_set_ca_cert(stw_scan_options *o, const char *path,
                                        stw_error *err)
{
    scan_box *b = (scan_box *)o;
    stw_status st = str_set(&b->ca_cert, path, err);
    b->o.ca_cert = b->ca_cert;
    return st;
}

stw_status stw_scan_options_add_insecure_registry(stw_scan_options *o,
                                                  const char *host,
                                                  stw_error *err)
{
    scan_box *b = (scan_box *)o;
    if (!host || !*host)
        return stw_fail(err, STW_ERR_USAGE,
                        "stw_scan_options_add_insecure_registry: no host");
    stw_status st =
        strv_add(&b->insecure, &b->o.n_insecure_registries, host, err);
    b->o.insecure_registries = (const char *const *)b->insecure;
    return st;
}

stw_status stw_scan_options_set_globs(stw_scan_options *o,
                                      const char *repo_glob,
                                      const char *tag_glob, stw_error *err)
{
    scan_box *b = (scan_box *)o;
    char *repo = NULL, *tag = NULL;
    if (str_set(&repo, repo_glob, err) != STW_OK ||
        str_set(&tag, tag_glob, err) != STW_OK) {
        free(repo);
        return STW_ERR_NOMEM;
    }
    free(b->repo_glob);
    free(b->tag_glob);
    b->o.repo_glob = b->repo_glob = repo;
    b->o.tag_glob = b->tag_glob = tag;
    return STW_OK;
}

stw_status stw_scan_options_set_shard(stw_scan_options *o, unsigned k,
                                      unsigned n, stw_error *err)
{
    if (n > 1 && (k < 1 || k > n))
        return stw_fail(err, STW_ERR_USAGE,
                        "shard %u/%u: K must be between 1 and N", k, n);
    o->shard_k = n > 1 ? k : 0;
    o->shard_n = n > 1 ? n : 0;
    return STW_OK;
}

stw_status stw_scan_options_set_page_size(stw_scan_options *o, int entries,
                                          stw_error *err)
{
    if (entries < 0 || entries > STW_REGISTRY_PAGE_SIZE_MAX)
        return stw_fail(err, STW_ERR_USAGE, "page size %d: 1 to %d", entries,
                        STW_REGISTRY_PAGE_SIZE_MAX);
    ((scan_box *)o)->page_size = entries;
    return STW_OK;
}

int stw_api_scan_page_size(const stw_scan_options *o)
{
    return o ? ((const scan_box *)o)->page_size : 0;
}

void stw_scan_options_set_progress(stw_scan_options *o,
                                   stw_layers_planned_fn planned,
                                   stw_layer_done_fn done, void *ctx)
{
    o->on_layers_planned = planned;
    o->on_layer_done = done;
    o->progress_ctx = ctx;
}

void stw_scan_options_set_secret_callback(stw_scan_options *o, stw_secret_fn fn,
                                          void *ctx)
{
    o->on_secret = fn;
    o->secret_ctx = ctx;
}

void stw_scan_options_set_cancel(stw_scan_options *o, stw_cancel_fn fn,
                                 void *ctx)
{
    o->cancel = fn;
    o->cancel_ctx = ctx;
}

/* ---- reports ------------------------------------------------------------ */

struct stw_report_options {
    stw_table_options table; /* also carries the rules for the others */
};

stw_status stw_report_options_create(stw_report_options **out, stw_error *err)
{
    *out = stw_calloc(1, sizeof(**out));
    return *out ? STW_OK : stw_fail(err, STW_ERR_NOMEM, "out of memory");
}

void stw_report_options_destroy(stw_report_options *o)
{
    free(o);
}

void stw_report_options_set_color(stw_report_options *o, bool on)
{
    o->table.color = on;
}

void stw_report_options_set_remediation(stw_report_options *o, bool on)
{
    o->table.remediation = on;
}

void stw_report_options_set_rules(stw_report_options *o, const stw_rules *rules)
{
    o->table.rules = rules;
}

void stw_report_options_set_verbose(stw_report_options *o, bool on)
{
    o->table.verbose = on;
}

void stw_report_options_set_secret_lookup(stw_report_options *o,
                                          stw_secret_lookup_fn fn, void *ctx)
{
    o->table.secret_of = fn;
    o->table.secret_ctx = ctx;
}

stw_status stw_report_render(const stw_results *r, stw_report_format format,
                             const stw_report_options *opt, FILE *out,
                             stw_error *err)
{
    if (!r || !out)
        return stw_fail(err, STW_ERR_USAGE, "stw_report_render: NULL argument");
    if ((unsigned)format > STW_REPORT_HTML)
        return stw_fail(err, STW_ERR_USAGE, "stw_report_render: format %d",
                        (int)format);
    return stw_report_write(r, format, opt ? &opt->table : NULL, out, err);
}
