/* docset.h - small named documents held in memory while an image is
 * assembled: manifests, indexes and configs read from an archive, a
 * directory or a registry, and symlink targets of a docker save. Lookups
 * are linear: an image has a handful of documents, and the count is capped
 * by the caller. */
#ifndef STW_DOCSET_H
#define STW_DOCSET_H

#include "stowaway/stowaway.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct stw_docset stw_docset;

/* An empty set that refuses more than max documents (STW_ERR_LIMIT, the
 * message starting with label). *out is transferred. */
stw_status stw_docset_create(size_t max, const char *label, stw_docset **out,
                             stw_error *err);
void stw_docset_destroy(stw_docset *d);

/* Adds name -> data (len bytes). name is copied; data is consumed (owned by
 * the set from now on, freed by it even when the call fails). A second
 * document of the same name is kept but never found: the first wins. */
stw_status stw_docset_add(stw_docset *d, const char *name, char *data,
                          size_t len, stw_error *err);

/* The first document called name: *data (borrowed, valid until the set is
 * destroyed) and *len. false when there is none. */
bool stw_docset_find(const stw_docset *d, const char *name, const char **data,
                     size_t *len);

/* How many documents the set holds, and the i-th one's name and data
 * (borrowed), in the order they were added. */
size_t stw_docset_count(const stw_docset *d);
void stw_docset_get(const stw_docset *d, size_t i, const char **name,
                    const char **data, size_t *len);

#endif
