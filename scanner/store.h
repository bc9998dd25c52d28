/* store.h - the SQLite store: layers with their findings (keyed by layer
 * digest, so a layer shared by many images is stored once), images with
 * their ordered layers, per-image visibility of every finding, scans and
 * errors. Schema and migrations live in db/NNN_*.sql, embedded in the binary
 * and applied in order with PRAGMA user_version.
 *
 * Concurrency: WAL mode and a busy timeout, so two processes writing one file
 * both land. Inside a process the store is used by one writer thread; it is
 * not safe to call from two threads at once.
 *
 * Transactions: stw_store_put_layer() and stw_store_put_image() are each one
 * transaction. A layer's findings are complete facts about that blob, so they
 * are committed as soon as the layer is done (an interrupted scan keeps them
 * as cache); an image - its row, layer order, config findings and the
 * visibility of every finding - is committed whole or not at all. */
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
void stw_store_close(stw_store *s);

/* Records the start of a scan; *scan_id identifies it. Strings copied. */
stw_status stw_store_begin_scan(stw_store *s, const char *tool_version,
                                const char *rules_version, const char *args,
                                int64_t *scan_id, stw_error *err);
stw_status stw_store_end_scan(stw_store *s, int64_t scan_id, stw_error *err);

/* Is a layer with this blob digest stored, scanned with rules_version? */
stw_status stw_store_layer_cached(stw_store *s, const char *digest,
                                  const char *rules_version, bool *cached,
                                  stw_error *err);

typedef struct stw_layer_record {
    const char *digest;     /* "sha256:…" of the blob as stored */
    const char *diff_id;    /* "sha256:…" of the uncompressed tar, or NULL */
    const char *media_type; /* may be NULL */
    int64_t size;           /* blob bytes */
    int64_t uncompressed;   /* tar bytes */
    int64_t entries;        /* tar entries */
    const void *pathset;    /* serialised stw_pathset, see pathset.h */
    size_t pathset_len;
    const char *rules_version;
} stw_layer_record;

/* Stores a scanned layer and its findings in one transaction, replacing
 * anything stored before for that digest. All borrowed. */
stw_status stw_store_put_layer(stw_store *s, const stw_layer_record *layer,
                               const stw_finding_list *findings,
                               stw_error *err);

typedef struct stw_image_layer {
    const char *digest;     /* must already be stored by put_layer */
    const char *created_by; /* history entry, may be NULL */
    bool cached;            /* results reused by this scan */
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

/* Records an input error of this scan (target and message copied). */
stw_status stw_store_put_error(stw_store *s, int64_t scan_id,
                               const char *target, const char *message,
                               stw_error *err);

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
 * seconds ago (with their images and errors), then the layers no remaining
 * image references and the findings of blobs nothing references any more.
 * vacuum then rebuilds the file to give the space back. *out (may be NULL)
 * receives the counts. */
stw_status stw_store_prune(stw_store *s, int64_t older_than_s, bool vacuum,
                           stw_prune_counts *out, stw_error *err);

#endif
