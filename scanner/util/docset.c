/* docset.c - named documents in memory (docset.h). */
#include "docset.h"

#include "common.h"

#include <stdlib.h>
#include <string.h>

typedef struct doc {
    char *name;
    char *data;
    size_t len;
} doc;

struct stw_docset {
    doc *v;
    size_t n, cap, max;
    char *label;
};

stw_status stw_docset_create(size_t max, const char *label, stw_docset **out,
                             stw_error *err)
{
    stw_docset *d = stw_calloc(1, sizeof(*d));
    if (!d || !(d->label = stw_strdup(label ? label : ""))) {
        free(d);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    d->max = max;
    *out = d;
    return STW_OK;
}

void stw_docset_destroy(stw_docset *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].name);
        free(d->v[i].data);
    }
    free(d->v);
    free(d->label);
    free(d);
}

stw_status stw_docset_add(stw_docset *d, const char *name, char *data,
                          size_t len, stw_error *err)
{
    if (d->n >= d->max) {
        free(data);
        return stw_fail(err, STW_ERR_LIMIT, "%s: too many members", d->label);
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        doc *v = stw_realloc(d->v, cap * sizeof(*v));
        if (!v) {
            free(data);
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        }
        d->v = v;
        d->cap = cap;
    }
    char *n = stw_strdup(name);
    if (!n) {
        free(data);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    d->v[d->n++] = (doc){n, data, len};
    return STW_OK;
}

bool stw_docset_find(const stw_docset *d, const char *name, const char **data,
                     size_t *len)
{
    for (size_t i = 0; i < d->n; i++) {
        if (strcmp(d->v[i].name, name) == 0) {
            *data = d->v[i].data;
            *len = d->v[i].len;
            return true;
        }
    }
    return false;
}

size_t stw_docset_count(const stw_docset *d)
{
    return d->n;
}

void stw_docset_get(const stw_docset *d, size_t i, const char **name,
                    const char **data, size_t *len)
{
    *name = d->v[i].name;
    *data = d->v[i].data;
    *len = d->v[i].len;
}
