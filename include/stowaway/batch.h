/* batch.h - public API of libstowaway: registry-wide batch scans
 * (docs/batch.md). Listing what a live registry holds, dating its images,
 * splitting one run over N workers (shards), and continuing a run that was
 * interrupted. Included by stowaway/stowaway.h, whose rules (errors,
 * ownership words, threads, process-wide side effects of registry access)
 * apply here too. */
#ifndef STOWAWAY_BATCH_H
#define STOWAWAY_BATCH_H

#include "stowaway/stowaway.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- listing a registry --------------------------------------------------
 * The connection settings are those of a scan: stw_scan_options' CA
 * certificate, insecure registries, timeout, platform and globs (opt
 * borrowed for the call; NULL: the defaults). */

/* Entries asked per page of a registry's catalog and tag lists (the n= of
 * /v2/_catalog and /v2/REPO/tags/list): 1 to STW_REGISTRY_PAGE_SIZE_MAX;
 * 0 (the default) asks for the most. */
#define STW_REGISTRY_PAGE_SIZE_MAX 1000
STW_API stw_status stw_scan_options_set_page_size(stw_scan_options *o,
                                                  int entries, stw_error *err);

/* Lists every "REGISTRY/REPO:TAG" of the live registry (HOST[:PORT],
 * borrowed) whose repository and tag match opt's globs, sorted, following
 * the pages of its catalog and tag lists; credentials as for a scan.
 * *refs, an array of *n strings, is transferred: free it with
 * stw_registry_refs_free (never element by element). The calling thread
 * blocks on the network. */
STW_API stw_status stw_registry_list(const char *registry,
                                     const stw_scan_options *opt, char ***refs,
                                     size_t *n, stw_error *err);
STW_API void stw_registry_refs_free(char **refs, size_t n);

/* The newest `created` date among the image configs that ref (borrowed)
 * resolves to - every platform of an index, or only opt's platform - in
 * seconds since the epoch; *found false when none carries a readable
 * date. Fetches manifests and configs, never a layer. */
STW_API stw_status stw_registry_image_created(const char *ref,
                                              const stw_scan_options *opt,
                                              int64_t *created, bool *found,
                                              stw_error *err);

/* Parses a date "YYYY-MM-DD" (midnight UTC) or an RFC 3339 date-time
 * ("2024-05-01T12:00:00Z", fractions and offsets such as "+02:00"
 * allowed), as image configs write them, into seconds since the epoch.
 * STW_ERR_USAGE (naming s) for anything else. */
STW_API stw_status stw_batch_parse_time(const char *s, int64_t *out,
                                        stw_error *err);

/* ---- shards ---------------------------------------------------------------
 * One run split over N workers, each into a database of its own merged
 * afterwards (stw_store_merge_file): every worker visits every image but
 * reads only the layers whose digest is in its shard. */

/* Parses "K/N" (1 <= K <= N <= 65536) into *k and *n; STW_ERR_USAGE naming
 * s otherwise. */
STW_API stw_status stw_shard_parse(const char *s, unsigned *k, unsigned *n,
                                   stw_error *err);

/* Puts the store in shard k of n (with n > 1; n <= 1 turns it off): an
 * image is recorded by the one shard that owns it, waiting for the merge
 * to compute its visibility. Use it with the same k and n given to
 * stw_scan_options_set_shard for the scans into s. */
STW_API void stw_store_set_shard(stw_store *s, unsigned k, unsigned n);

/* ---- resuming -------------------------------------------------------------
 * A scan records the args it was begun with (stw_store_begin_scan); a run
 * killed part-way leaves its scan unfinished, and the same run started
 * again can continue it rather than start over. */

/* The most recent scan begun with exactly these args (borrowed) that never
 * ended; *found false when there is none. A scan found is taken over by
 * this store (its layers are held for it) as if it had begun it: end it
 * with stw_store_end_scan. */
STW_API stw_status stw_store_find_unfinished_scan(stw_store *s,
                                                  const char *args,
                                                  int64_t *scan_id, bool *found,
                                                  stw_error *err);

/* Has scan_id recorded an image with this ref (borrowed), complete or
 * waiting for a shard's merge? What a continued run skips. */
STW_API stw_status stw_store_scan_has_ref(stw_store *s, int64_t scan_id,
                                          const char *ref, bool *has,
                                          stw_error *err);

#ifdef __cplusplus
}
#endif
#endif
