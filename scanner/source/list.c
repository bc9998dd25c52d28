/* list.c - listing a registry: connecting to a host without resolving an
 * image, and the repositories of GET /v2/_catalog and the tags of
 * GET /v2/REPO/tags/list, page by page along the Link header. */
#include "registry_internal.h"

#include "common.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

stw_status stw_registry_connect(const char *host, const stw_registry_options *o,
                                stw_registry **out, stw_error *err)
{
    static const stw_registry_options none = {0};
    *out = NULL;
    if (!o)
        o = &none;
    const char *h = host ? host : "";
    if (!strncmp(h, "docker://", 9))
        h += 9;
    else if (!strncmp(h, "oci://", 6))
        h += 6;
    size_t hl = strlen(h);
    while (hl && h[hl - 1] == '/')
        hl--;
    stw_registry *r = stw_calloc(1, sizeof(*r));
    if (!r)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    if (hl == 0 || hl >= sizeof(r->ref.registry)) {
        free(r);
        return stw_fail(err, STW_ERR_USAGE, "%s: not a registry host",
                        host ? host : "(null)");
    }
    memcpy(r->ref.registry, h, hl);
    r->ref.registry[hl] = 0;
    r->ref.explicit_registry = true;
    if (!stw_reg_valid_host(r->ref.registry)) {
        free(r);
        return stw_fail(err, STW_ERR_USAGE,
                        "%s: not a registry host (want HOST[:PORT])", host);
    }
    snprintf(r->name, sizeof(r->name), "%s", r->ref.registry);
    stw_status st = stw_reg_setup(r, host, o, err);
    if (st != STW_OK)
        return st;
    *out = r;
    return STW_OK;
}

/* Follows the pages of one listing from path (under the registry's base):
 * the names are the strings of the answer's key array. */
static stw_status list_pages(stw_registry *r, const char *path, const char *key,
                             const char *scope, bool repos, size_t max,
                             const char *what, stw_registry_name_fn fn,
                             void *ctx, stw_error *err)
{
    char url[STW_REGISTRY_MAX_HEADER + 320];
    snprintf(url, sizeof(url), "%s%s", r->base, path);
    size_t count = 0, base_len = strlen(r->base);
    stw_status st = STW_OK;
    for (size_t page = 0; st == STW_OK; page++) {
        if (page >= STW_REGISTRY_MAX_PAGES)
            return stw_fail(err, STW_ERR_LIMIT, "%s: %s: more than %d pages",
                            r->name, what, STW_REGISTRY_MAX_PAGES);
        stw_reg_req q = {.url = url,
                         .what = what,
                         .limit = STW_MAX_JSON_BYTES,
                         .registry_auth = true,
                         .scope = scope};
        stw_reg_xfer *x = NULL;
        pthread_mutex_lock(&r->doc_lock);
        st = stw_reg_request(r, r->doc_multi, &q, &x, err);
        pthread_mutex_unlock(&r->doc_lock);
        if (st != STW_OK)
            return st;
        json_error_t je;
        json_t *root =
            json_loadb(x->buf ? (const char *)x->buf : "", x->len, 0, &je);
        json_t *arr = json_object_get(root, key);
        if (!root || (arr && !json_is_array(arr) && !json_is_null(arr)))
            st = stw_fail(err, STW_ERR_JSON,
                          "%s: %s: not a JSON object with "
                          "an array \"%s\"",
                          r->name, what, key);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            if (st != STW_OK)
                break;
            const char *name = json_string_value(v);
            if (!name ||
                !(repos ? stw_reg_valid_repo(name) : stw_reg_valid_tag(name)) ||
                strlen(name) >= 256) {
                char nc[100];
                stw_reg_clean_copy(nc, sizeof(nc),
                                   name ? name : "(not a string)",
                                   strlen(name ? name : "(not a string)"));
                st = stw_fail(err, STW_ERR_FORMAT, "%s: %s: bad %s name '%s'",
                              r->name, what, repos ? "repository" : "tag", nc);
            } else if (++count > max) {
                st = stw_fail(err, STW_ERR_LIMIT, "%s: %s: more than %zu %s",
                              r->name, what, max,
                              repos ? "repositories" : "tags");
            } else {
                st = fn(ctx, name, err);
            }
        }
        json_decref(root);
        char next[STW_REGISTRY_MAX_HEADER];
        bool more =
            st == STW_OK && stw_registry_next_link(x->link, next, sizeof(next));
        stw_reg_xfer_free(x);
        if (!more)
            break;
        /* Relative to the registry, or an absolute URL on the same one:
         * the next request carries the registry's credentials. */
        if (next[0] == '/')
            snprintf(url, sizeof(url), "%s%s", r->base, next);
        else if (strncmp(next, r->base, base_len) == 0 && next[base_len] == '/')
            snprintf(url, sizeof(url), "%s", next);
        else {
            char nc[160];
            stw_reg_clean_copy(nc, sizeof(nc), next, strlen(next));
            st = stw_fail(err, STW_ERR_FORMAT,
                          "%s: %s: next page %s is not on this registry",
                          r->name, what, nc);
        }
    }
    return st;
}

stw_status stw_registry_catalog(stw_registry *r, stw_registry_name_fn fn,
                                void *ctx, stw_error *err)
{
    char path[64];
    snprintf(path, sizeof(path), "/v2/_catalog?n=%d", r->page_size);
    return list_pages(r, path, "repositories", "registry:catalog:*", true,
                      STW_REGISTRY_MAX_REPOS, "catalog", fn, ctx, err);
}

stw_status stw_registry_tags(stw_registry *r, const char *repo,
                             stw_registry_name_fn fn, void *ctx, stw_error *err)
{
    if (!repo || strlen(repo) >= 256 || !stw_reg_valid_repo(repo))
        return stw_fail(err, STW_ERR_USAGE, "%s: bad repository name '%s'",
                        r->name, repo ? repo : "(null)");
    char path[400], scope[300], what[300];
    snprintf(path, sizeof(path), "/v2/%s/tags/list?n=%d", repo, r->page_size);
    snprintf(scope, sizeof(scope), "repository:%s:pull", repo);
    snprintf(what, sizeof(what), "tags of %s", repo);
    return list_pages(r, path, "tags", scope, false, STW_REGISTRY_MAX_TAGS,
                      what, fn, ctx, err);
}
