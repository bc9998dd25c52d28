/* batch.h - registry-wide batch scans: what a live registry holds (every
 * repository:tag, filtered by globs and by creation date). The shard
 * arithmetic is in util/shard.h. */
#ifndef STW_BATCH_H
#define STW_BATCH_H

#include "registry.h"
#include "stowaway/stowaway.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* stw_batch_parse_time is public (stowaway/batch.h). */

/* Lists every "HOST/REPO:TAG" of the registry host whose repository and
 * tag match the globs (fnmatch; NULL matches all), sorted, through the
 * catalog and tags/list (stw_registry_catalog / _tags). *refs (an array of
 * *n strings) is transferred: free with stw_batch_refs_free. At most
 * STW_MAX_IMAGES_LISTED (limits.h) references. */
stw_status stw_batch_list_registry(const char *host,
                                   const stw_registry_options *o,
                                   const char *repo_glob, const char *tag_glob,
                                   char ***refs, size_t *n, stw_error *err);
void stw_batch_refs_free(char **refs, size_t n);

/* The newest `created` date among the image configs that ref resolves to
 * (each platform of an index, or only platform when given), in seconds
 * since the epoch; *found is false when no config carries a readable date.
 * Fetches the manifests and configs, never a layer. */
stw_status stw_batch_image_created(const char *ref,
                                   const stw_registry_options *o,
                                   const char *platform, int64_t *created,
                                   bool *found, stw_error *err);

#endif
