/* batch.c - registry-wide batch scans (batch.h): dates,
 * listing a registry's repository:tag references and reading the creation
 * date of an image from its config. */
#include "batch.h"

#include "common.h"
#include "image.h"
#include "limits.h"

#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- dates -------------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil): timegm is not standard C. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *p, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return true;
}

stw_status stw_batch_parse_time(const char *s, int64_t *out, stw_error *err)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
    unsigned y, mo, d, h = 0, mi = 0, sec = 0;
    const char *p = s ? s : "";
    bool ok = strlen(p) >= 10 && digits(p, 4, &y) && p[4] == '-' &&
              digits(p + 5, 2, &mo) && p[7] == '-' && digits(p + 8, 2, &d) &&
              mo >= 1 && mo <= 12 && d >= 1 && d <= mdays[mo - 1];
    int64_t off = 0;
    if (ok && p[10]) {
        ok = (p[10] == 'T' || p[10] == 't' || p[10] == ' ') &&
             digits(p + 11, 2, &h) && p[13] == ':' && digits(p + 14, 2, &mi) &&
             p[16] == ':' && digits(p + 17, 2, &sec) && h < 24 && mi < 60 &&
             sec <= 60;
        const char *z = ok ? p + 19 : p;
        if (ok && *z == '.') {
            z++;
            const char *f = z;
            while (*z >= '0' && *z <= '9')
                z++;
            ok = z > f;
        }
        if (ok && (*z == 'Z' || *z == 'z')) {
            ok = z[1] == 0;
        } else if (ok && (*z == '+' || *z == '-')) {
            unsigned oh = 0, om = 0;
            ok = digits(z + 1, 2, &oh) && z[3] == ':' &&
                 digits(z + 4, 2, &om) && z[6] == 0 && oh < 24 && om < 60;
            off = (*z == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
        } else if (ok) {
            ok = false;
        }
    }
    if (!ok)
        return stw_fail(err, STW_ERR_USAGE,
                        "bad date '%s' (want YYYY-MM-DD or an RFC 3339 time "
                        "such as 2024-05-01T12:00:00Z)",
                        s ? s : "(null)");
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    return STW_OK;
}

/* ---- listing ------------------------------------------------------------ */

typedef struct lister {
    stw_registry *r;
    const char *host;
    const char *repo_glob, *tag_glob;
    char **repos;
    size_t n_repos, repos_cap;
    const char *repo; /* whose tags are being listed */
    char **refs;
    size_t n_refs, cap;
} lister;

static stw_status push(char ***v, size_t *n, size_t *cap, char *s,
                       stw_error *err)
{
    if (!s)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        char **nv = stw_realloc(*v, nc * sizeof(*nv));
        if (!nv) {
            free(s);
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        }
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = s;
    return STW_OK;
}

static stw_status on_repo(void *ctx, const char *name, stw_error *err)
{
    lister *l = ctx;
    if (l->repo_glob && fnmatch(l->repo_glob, name, 0) != 0)
        return STW_OK;
    return push(&l->repos, &l->n_repos, &l->repos_cap, stw_strdup(name), err);
}

static stw_status on_tag(void *ctx, const char *name, stw_error *err)
{
    lister *l = ctx;
    if (l->tag_glob && fnmatch(l->tag_glob, name, 0) != 0)
        return STW_OK;
    if (l->n_refs >= STW_MAX_IMAGES_LISTED)
        return stw_fail(err, STW_ERR_LIMIT, "%s: more than %u images listed",
                        l->host, STW_MAX_IMAGES_LISTED);
    size_t n = strlen(l->host) + strlen(l->repo) + strlen(name) + 3;
    char *ref = stw_malloc(n);
    if (ref)
        snprintf(ref, n, "%s/%s:%s", l->host, l->repo, name);
    return push(&l->refs, &l->n_refs, &l->cap, ref, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void stw_batch_refs_free(char **refs, size_t n)
{
    for (size_t i = 0; refs && i < n; i++)
        free(refs[i]);
    free(refs);
}

stw_status stw_batch_list_registry(const char *host,
                                   const stw_registry_options *o,
                                   const char *repo_glob, const char *tag_glob,
                                   char ***refs, size_t *n, stw_error *err)
{
    *refs = NULL;
    *n = 0;
    lister l = {.repo_glob = repo_glob, .tag_glob = tag_glob};
    stw_status st = stw_registry_connect(host, o, &l.r, err);
    if (st != STW_OK)
        return st;
    l.host = stw_registry_name(l.r);
    st = stw_registry_catalog(l.r, on_repo, &l, err);
    for (size_t i = 0; st == STW_OK && i < l.n_repos; i++) {
        l.repo = l.repos[i];
        st = stw_registry_tags(l.r, l.repo, on_tag, &l, err);
    }
    if (st == STW_OK) {
        stw_sort(l.refs, l.n_refs, sizeof(*l.refs), cmp_str);
        *refs = l.refs;
        *n = l.n_refs;
        l.refs = NULL;
    }
    stw_batch_refs_free(l.refs, l.n_refs);
    stw_batch_refs_free(l.repos, l.n_repos);
    stw_registry_close(l.r);
    return st;
}

/* ---- creation dates ----------------------------------------------------- */

stw_status stw_batch_image_created(const char *ref,
                                   const stw_registry_options *o,
                                   const char *platform, int64_t *created,
                                   bool *found, stw_error *err)
{
    *found = false;
    *created = 0;
    stw_registry *r = NULL;
    stw_status st = stw_registry_open(ref, o, &r, err);
    if (st != STW_OK)
        return st;
    stw_image_list list = {0};
    stw_image_source src = {
        .fetch = stw_registry_fetch,
        .ctx = r,
        .target = ref,
        .platform = platform,
    };
    st = stw_image_from_oci(&src, &list, err);
    for (size_t i = 0; st == STW_OK && i < list.n; i++) {
        const stw_image_desc *d = &list.v[i];
        json_t *cfg =
            d->config ? json_loadb(d->config, d->config_len, 0, NULL) : NULL;
        const char *c = json_string_value(json_object_get(cfg, "created"));
        int64_t t;
        if (c && stw_batch_parse_time(c, &t, NULL) == STW_OK &&
            (!*found || t > *created)) {
            *created = t;
            *found = true;
        }
        json_decref(cfg);
    }
    stw_image_list_clear(&list);
    stw_registry_close(r);
    return st;
}
