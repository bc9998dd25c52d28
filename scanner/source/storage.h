/* storage.h - a distribution ("docker-registry") filesystem storage read
 * without the server: the tags of every repository, as one OCI image index,
 * so the rest of the pipeline treats a registry's disk (or a backup of it)
 * like an OCI layout whose blobs are sharded as
 * blobs/sha256/<2 hex>/<hex>/data. */
#ifndef STW_STORAGE_H
#define STW_STORAGE_H

#include "stowaway/stowaway.h"

#include <stdbool.h>
#include <stddef.h>

/* If dir is a storage root (holding docker/registry/v2, or being that v2
 * directory itself), writes the v2 directory's path into root (size n) and
 * returns true. */
bool stw_storage_detect(const char *dir, char *root, size_t n);

/* Builds an OCI image index over every repository:tag under root whose
 * repository and tag match the globs (fnmatch; NULL matches all). Each entry
 * carries the tag's manifest digest, its media type and the annotation
 * org.opencontainers.image.ref.name = "repo:tag". *json is NUL-terminated
 * and transferred to the caller. Tags whose link is missing or malformed
 * are errors naming them; dangling manifests (deleted blobs) too. */
stw_status stw_storage_index(const char *root, const char *repo_glob,
                             const char *tag_glob, char **json, size_t *len,
                             stw_error *err);

#endif
