/* layer.h - walks one layer: a tar stream read through libarchive from a
 * stw_blob (so digests are verified and decompression is ours), feeding
 * every entry to the pathset (overlay facts), the metadata detector and,
 * for regular files, the content matcher. Nothing is extracted. */
#ifndef STW_LAYER_H
#define STW_LAYER_H

#include "archmemo.h"
#include "blob.h"
#include "finding.h"
#include "gitrepo.h"
#include "matcher.h"
#include "nested.h"
#include "pathset.h"
#include "tar.h"

#include <stdbool.h>
#include <stdint.h>

struct archive_entry;

/* An archive inside the layer that was opened and scanned whole (no bound
 * reached), big enough to be worth remembering: the caller may store the
 * findings under path + "!/" as the archive's own, keyed by its hash. */
typedef struct stw_layer_archive {
    char sha256[65]; /* hex sha256 of the archive file's bytes */
    char *path;      /* its path in the layer ("app/app.jar"), owned */
    uint64_t size;
    stw_nested_cost cost; /* what its walk used (stw_nested_cost) */
    /* Not to be kept: only another holder of the path (a copy too small
     * to cache, cut short, replayed from a cache, or an entry whose own
     * name holds "!/"), whose findings lie under path + "!/" too, so an
     * archive at the same path is not kept either (stw_store). sha256 is
     * then "" when unknown. */
    bool not_kept;
} stw_layer_archive;

/* The archive records of a layer (or of one archive worker's job). */
typedef struct stw_layer_archives {
    stw_layer_archive *v; /* owned */
    size_t n, cap;
    /* More than STW_MAX_ARCHIVES_PER_LAYER were offered: a holder of a
     * kept path could have gone unrecorded, so none is kept. */
    bool full;
} stw_layer_archives;

/* Records the archive at path (copied): sha256 NULL for a holder of the
 * path that is no record itself (a replay, a name holding "!/"), cost NULL
 * for none; complete false makes it not_kept. STW_ERR_NOMEM only. */
stw_status stw_layer_archives_add(stw_layer_archives *l, const char *sha256,
                                  const char *path, uint64_t size,
                                  const stw_nested_cost *cost, bool complete);

/* Frees the records and empties l. */
void stw_layer_archives_clear(stw_layer_archives *l);

typedef struct stw_layer_result {
    stw_finding_list *findings; /* transferred to the caller */
    stw_pathset *pathset;       /* transferred to the caller, finished */
    /* What was skipped or cut short without failing the layer (a bound of
     * nested archives, a damaged inner archive): one line each, naming the
     * file and the reason. Owned; freed by stw_layer_result_clear. */
    char **notes;
    size_t n_notes;
    stw_layer_archives archives; /* owned, as notes */
    uint64_t entries;
    uint64_t raw_bytes; /* blob bytes */
    uint64_t tar_bytes; /* uncompressed bytes */
    stw_compression compression;
    char digest[72]; /* "sha256:…" computed */
    char diff_id[72];
} stw_layer_result;

/* Version of what the layer walker itself detects (metadata, artifacts,
 * the pathset encoding). A stored layer is reused only when both this and
 * the rules version match, so a change to a detector in code, not only to
 * a rule file, rescans. Bump it with any such change. */
#define STW_DETECTORS_VERSION "13"

/* Looks an archive up in a cache of archive results by the hex sha256 of
 * its bytes: on a hit whose cost fits in room (each field at most room's,
 * as stw_archmemo_get) sets *hit, *charge to its cost, and adds its
 * findings to out with their paths under path + "!/" (path borrowed).
 * Runs on the walking thread. */
typedef stw_status (*stw_archive_lookup_fn)(void *ctx, const char *sha256,
                                            const char *path,
                                            const stw_nested_cost *room,
                                            stw_nested_cost *charge,
                                            stw_finding_list *out, bool *hit,
                                            stw_error *err);

/* How to walk a layer. NULL means the defaults (zeroes). */
typedef struct stw_layer_options {
    uint64_t max_entries; /* 0 = STW_MAX_ENTRIES */
    /* Scan content on a second thread, fed through a bounded queue (see
     * feeder.h): worth it when a core would otherwise idle. */
    bool content_thread;
    /* Keep plaintext secrets in the result's findings (--show-secrets). */
    bool keep_secrets;
    /* Files inside files (nested.h): off when nested_off; zeroes in
     * nested mean the defaults. */
    bool nested_off;
    stw_nested_limits nested;
    /* Git history: the layer's .git directories and bare repositories are
     * copied to a private temporary directory (gitcollect.h) and every
     * object of their history is scanned at the end of the layer
     * (gitrepo.h); off when git_off. max_git_bytes caps the bytes copied
     * (0: STW_MAX_GIT_BYTES, --max-git-bytes); zeroes in git mean the
     * defaults. A history finding's path is the repository's directory and
     * its git field says where in history it is. */
    bool git_off;
    uint64_t max_git_bytes;
    stw_gitrepo_limits git;
    /* Cache of archive results, or NULL. With nested_workers it is also
     * called from those threads, so it must be thread-safe. */
    stw_archive_lookup_fn archive_lookup;
    void *archive_ctx;
    /* Results of the archives walked in this scan (borrowed, shared by
     * every layer of the scan), asked before archive_lookup; archives
     * walked on nested_workers are added to it. May be NULL. */
    stw_archmemo *archive_memo;
    /* Archive files of the layer walked on up to this many threads of
     * their own (nestpool.h), each with a matcher over rules (borrowed):
     * 0, or rules NULL, walks them on the walk thread. The results are the
     * same either way. */
    unsigned nested_workers;
    const stw_rules *rules;
} stw_layer_options;

/* Frees what a result owns and zeroes it. */
void stw_layer_result_clear(stw_layer_result *r);

/* Scans a whole layer blob pulled through fn/ctx. bo names the blob and
 * carries the expected digests and bomb limits. On error res is cleared and
 * err says what is wrong, prefixed with bo->name. */
stw_status stw_layer_scan(stw_matcher *m, stw_read_fn fn, void *ctx,
                          const stw_blob_options *bo,
                          const stw_layer_options *lo, stw_layer_result *res,
                          stw_error *err);

/* Walks the remaining entries of an open tar reader over blob b. If first
 * is not NULL it is an entry the caller already read (e.g. to classify an
 * outer archive by its first member) and is processed first. Drains and
 * verifies the blob at the end. */
stw_status stw_layer_walk(stw_matcher *m, stw_tar *t,
                          struct archive_entry *first, stw_blob *b,
                          const char *name, const stw_layer_options *lo,
                          stw_layer_result *res, stw_error *err);

/* Normalises a tar path in place: strips leading "./" and "/", trailing
 * "/" and repeated slashes. Returns the start of the normalised path within
 * buf (may be empty for the root). */
char *stw_layer_normalize_path(char *buf);

#endif
