/* store.h - the SQLite store: layers with their findings (keyed by layer
 * digest, so a layer shared by many images is stored once), images with
 * their ordered layers, per-image visibility of every finding, scans and
 * errors. Schema and migrations live in db/NNN_*.sql, embedded in the binary
 * and applied in order with PRAGMA user_version.
 *
 * Concurrency: WAL mode and a busy timeout, so two processes writing one file
 * both land. Inside a process the store is used by one writer thread; it is
 * not safe to call from two threads at once. The last writer to close puts
 * the file back in rollback-journal mode, so that a reader who may not
 * create files beside it (stw_store_open_readonly) needs no -shm.
 *
 * Transactions: stw_store_put_layer() and stw_store_put_image() are each one
 * transaction. A layer's findings are complete facts about that blob, so they
 * are committed as soon as the layer is done (an interrupted scan keeps them
 * as cache); an image - its row, layer order, config findings and the
 * visibility of every finding - is committed whole or not at all.
 *
 * Implemented in one file per part below: open.c, write.c, archives.c
 * (files inside files, layer notes), read.c,
 * admin.c (statistics, pruning), merge.c (resuming, merging) and bylayer.c
 * (leaking layers), over the SQL helpers of store_internal.h. */
#ifndef STW_STORE_H
#define STW_STORE_H

#include "finding.h"
#include "results.h"

#include <stdbool.h>
#include <stdint.h>

/* Opens (creating if needed) and migrates the database at path; NULL or
 * ":memory:" gives a private in-memory database. The parent directory must
 * exist. A database from a newer stowaway (user_version above ours) is
 * refused with STW_ERR_DB. *out transferred. */
stw_status stw_store_open(const char *path, stw_store **out, stw_error *err);

/* stw_store_open_readonly (an older schema needs a scan to upgrade it)
 * and the rest of a store's upkeep are public: stowaway/db.h. */
void stw_store_close(stw_store *s);

/* Records the start of a scan; *scan_id identifies it. Strings copied.
 * Until it ends, the layers this store writes or finds cached are held
 * for it, so that `db prune` in another process does not remove them
 * before its images refer to them. */
stw_status stw_store_begin_scan(stw_store *s, const char *tool_version,
                                const char *rules_version, const char *args,
                                int64_t *scan_id, stw_error *err);
/* Marks the scan finished and releases the layers held for it. */
stw_status stw_store_end_scan(stw_store *s, int64_t scan_id, stw_error *err);

/* Is a layer with this blob digest stored, scanned with rules_version? */
stw_status stw_store_layer_cached(stw_store *s, const char *digest,
                                  const char *rules_version, bool *cached,
                                  stw_error *err);

/* As stw_store_layer_cached, and when it is, copies the layer's diff_id to
 * diff_id (STW_DIGEST_STR bytes) if it was computed from its bytes, else
 * "": an unverified diff_id is never handed out. */
stw_status stw_store_layer_lookup(stw_store *s, const char *digest,
                                  const char *rules_version, bool *cached,
                                  char *diff_id, stw_error *err);

typedef struct stw_layer_record {
    const char *digest; /* "sha256:…" of the blob as stored */
    /* "sha256:…" of the uncompressed tar as computed from the blob, or NULL
     * (or "") when it was not computed: the row then says the layer's
     * diff_id is unverified. Never a config's claim. */
    const char *diff_id;
    const char *media_type; /* may be NULL */
    int64_t size;           /* blob bytes */
    int64_t uncompressed;   /* tar bytes */
    int64_t entries;        /* tar entries */
    const void *pathset;    /* serialised stw_pathset, see pathset.h */
    size_t pathset_len;
    const char *rules_version;
    /* What the scan of the layer skipped or cut short (nested archives'
     * bounds): kept with the layer, replayed by stw_store_put_layer_notes.
     * May be NULL/0. */
    const char *const *notes;
    size_t n_notes;
    /* Archives inside the layer scanned whole: their findings (those whose
     * path starts with the archive's path + "!/") are also kept under the
     * archive's sha256, for stw_store_archive_findings; not an archive
     * whose path the layer holds twice, as its findings could not be told
     * from the other copy's. May be NULL/0. */
    const struct stw_archive_record *archives;
    size_t n_archives;
} stw_layer_record;

/* What the walk of an archive used of its outer file's budget, and how
 * many archives deep below it it met archives (stw_nested_cost). */
typedef struct stw_archive_cost {
    uint64_t bytes, inflated, members, levels;
} stw_archive_cost;

typedef struct stw_archive_record {
    const char *sha256; /* 64 hex digits of the archive file's bytes */
    const char *path;   /* where it is in the layer ("app/app.jar") */
    int64_t size;
    stw_archive_cost cost; /* what its walk used */
    /* Only another holder of path (stw_layer_archive.not_kept): not
     * kept, and keeps an archive at the same path out too. */
    bool not_kept;
} stw_archive_record;

/* Stores a scanned layer and its findings in one transaction, replacing
 * anything stored before for that digest. All borrowed. */
stw_status stw_store_put_layer(stw_store *s, const stw_layer_record *layer,
                               const stw_finding_list *findings,
                               stw_error *err);

/* Files inside files: the findings of an archive seen before (in any layer
 * of any image) whose bytes hash to sha256, scanned with rules_version:
 * each is added to out with its path under prefix + "!/", and *charge
 * set to its cost. *hit is false (and out untouched) when the archive is
 * unknown, or when its cost does not fit in room (each field at most
 * room's): a walk there would have reached a bound or --max-depth. All
 * borrowed. */
stw_status stw_store_archive_findings(
    stw_store *s, const char *sha256, const char *rules_version,
    const char *prefix, const stw_archive_cost *room, stw_archive_cost *charge,
    stw_finding_list *out, bool *hit, stw_error *err);

/* Records the stored notes of layer digest as errors of scan_id (target
 * copied), one per note, prefixed with the layer's short digest: a layer
 * reused from the store reports what its scan skipped, as the scan that
 * stored it did. */
stw_status stw_store_put_layer_notes(stw_store *s, int64_t scan_id,
                                     const char *target, const char *digest,
                                     stw_error *err);

typedef struct stw_image_layer {
    const char *digest;     /* must already be stored by put_layer */
    const char *created_by; /* history entry, may be NULL */
    bool cached;            /* results reused by this scan */
    /* The diff_id the image's config claims for the layer, may be NULL: kept
     * with the image, shown in its report, verified there only when it
     * equals the one computed for the layer. */
    const char *diff_id;
} stw_image_layer;

typedef struct stw_image_record {
    const char *ref;
    const char *manifest_digest; /* may be NULL */
    const char *config_digest;
    const char *platform; /* may be NULL */
    const stw_image_layer *layers;
    size_t n_layers;
} stw_image_record;

/* Stores an image of this scan in one transaction: the image row, its
 * ordered layers, findings from its config (stored under config_digest,
 * path "<config>"), and the visibility of every finding of its layers
 * computed from the layers' pathsets. All borrowed. */
stw_status stw_store_put_image(stw_store *s, int64_t scan_id,
                               const stw_image_record *img,
                               const stw_finding_list *config_findings,
                               int64_t *image_id, stw_error *err);

/* Reads back everything of one scan, ordered deterministically. *out
 * transferred to the caller (stw_results_destroy). */
stw_status stw_store_load_scan(stw_store *s, int64_t scan_id, stw_results **out,
                               stw_error *err);

/* Reads back, for every image ref (and platform) stored, the image of its
 * latest scan - what `stowaway report --db` shows without rescanning.
 * image_glob (fnmatch, borrowed; NULL for all) keeps only matching refs.
 * Images are ordered by ref, then platform; layer counts and errors are
 * left zero. *out transferred (stw_results_destroy). */
stw_status stw_store_load_latest(stw_store *s, const char *image_glob,
                                 stw_results **out, stw_error *err);

/* What a database holds, for `stowaway db stats`. */
typedef struct stw_store_stats {
    int64_t scans;
    int64_t images;     /* image rows, one per image per scan */
    int64_t image_refs; /* distinct refs */
    int64_t layers;
    int64_t findings; /* distinct facts (per blob), not per image */
    int64_t by_severity[STW_SEV_COUNT_];
    int64_t bytes; /* page_count * page_size of the main file */
    char first_scan[40], last_scan[40]; /* ISO 8601 UTC, "" when none */
} stw_store_stats;

stw_status stw_store_stats_get(stw_store *s, stw_store_stats *out,
                               stw_error *err);

/* What stw_store_prune() removed. */
typedef struct stw_prune_counts {
    int64_t scans, images, layers, findings;
} stw_prune_counts;

/* In one transaction, removes the scans started more than older_than_s
 * seconds ago (with their images and errors) - but not one still running:
 * unfinished and active within a day - then the layers no remaining image
 * references and no running scan holds, and the findings of blobs nothing
 * references any more, and the archive results (files inside files) stored
 * before the cut-off.
 * vacuum then rebuilds the file to give the space back. *out (may be NULL)
 * receives the counts. */
stw_status stw_store_prune(stw_store *s, int64_t older_than_s, bool vacuum,
                           stw_prune_counts *out, stw_error *err);

/* ---- batch scans: shards, resuming, merging ------------------------------
 * A scan split over N workers (--shard K/N, docs/batch.md): every worker
 * visits every image but reads only the layers whose blob digest is in its
 * shard (stw_shard_of), so the layers - and their findings - of one run are
 * spread over N database files. An image is recorded by one shard only, the
 * one owning its manifest digest (its config digest when it has none),
 * together with its config findings, but without visibility: that needs the
 * pathsets of all its layers. `stw_store_merge` brings the files together
 * and completes each image exactly as stw_store_put_image would have, so
 * the merged database holds the same images, findings and visibility as
 * one process scanning everything. */

/* Shard mode (stw_store_set_shard, public: stowaway/batch.h, as are
 * stw_store_find_unfinished_scan and stw_store_scan_has_ref): with n > 1,
 * stw_store_put_image records the images this shard k (1..n) owns in
 * deferred_images (layers need not be stored here) with their config
 * findings, and skips the others (*image_id 0). */

/* What one stw_store_merge() call added. */
typedef struct stw_merge_counts {
    int64_t scans;    /* scan rows new to the output */
    int64_t layers;   /* layers new to the output */
    int64_t findings; /* findings rows new to the output */
    int64_t images;   /* images completed (deferred rows turned complete) */
    int64_t deferred; /* images still waiting for layers of another file */
} stw_merge_counts;

/* Merges the database file in_path (borrowed; migrated to our schema
 * first, never otherwise changed) into s, in one transaction:
 *  - layers new to s, with their findings (a layer s already holds keeps
 *    its own findings); config findings deduplicated by fingerprint;
 *  - scans, matched by (started_at, tool_version, rules_version, args), so
 *    merging the same file twice adds nothing; their errors, deduplicated;
 *  - images of in_path, complete or deferred, unless the matching scan of
 *    s already has it (same ref, platform, manifest and config digests and
 *    position in the scan); each is completed (visibility computed from the
 * pathsets in s) as soon as s holds every layer it names, else kept deferred
 * for a later merge. Idempotent: merging the same inputs again changes nothing.
 * *out (may be NULL) receives the counts. */
stw_status stw_store_merge(stw_store *s, const char *in_path,
                           stw_merge_counts *out, stw_error *err);

/* ---- leaking layers (report --by-layer) ---------------------------------- */

/* One image that includes a leaking layer. */
typedef struct stw_leak_image {
    char *ref;
    char *platform;
    char *scanned_at; /* start of the scan that recorded the image */
    int layer_idx;
    int64_t visible, hidden; /* findings of the layer, by visibility in
                                this image */
} stw_leak_image;

/* A layer blob with findings, and every image (latest scan of each ref and
 * platform) that includes it. */
typedef struct stw_leak_layer {
    char *digest;
    char *created_by; /* history entry from one image that has it, or "" */
    int64_t findings; /* distinct findings of the blob */
    int64_t by_severity[STW_SEV_COUNT_];
    stw_severity max_severity;
    int64_t visible, hidden; /* summed over the images below */
    stw_leak_image *images;  /* newest scan first, then ref */
    size_t n_images;
} stw_leak_layer;

/* The report stw_store_leaks_by_layer builds and stw_leak_report_destroy
 * frees (both public: stowaway/db.h, whose accessors read it). */
typedef struct stw_leak_report {
    stw_leak_layer *layers; /* most-shared first, then most severe, then
                               digest */
    size_t n_layers;
} stw_leak_report;

#endif
