/* db.h - public API of libstowaway: looking after a store (a database of
 * results) rather than scanning into it: opening one only to read it, what
 * it holds, forgetting old scans, merging the databases of a sharded run,
 * the layers that leak across images, and recording an error of a scan.
 * Included by stowaway/stowaway.h, whose rules (errors, ownership words,
 * threads) apply here too: a stw_store is used by one thread at a time.
 *
 * Records the library fills (stw_db_stats, stw_db_pruned, stw_db_merged)
 * start with a size field the caller sets to sizeof the record it knows:
 * a newer library with a longer record fills only that many bytes, so a
 * program built against this header keeps working. A record passed with
 * its size unset is STW_ERR_USAGE, before anything is read or changed. */
#ifndef STOWAWAY_DB_H
#define STOWAWAY_DB_H

#include "stowaway/stowaway.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opens the existing database at path (borrowed) for reading only: nothing
 * is created, migrated or changed, not even the journal mode, so it works
 * for a user who may only read the file. A missing file is
 * STW_ERR_NOT_FOUND; an empty file, another kind of database, or a schema
 * older or newer than the library's is STW_ERR_DB saying so. Writing
 * through it (a scan) fails with STW_ERR_DB and changes nothing. *out
 * transferred (stw_store_close). */
STW_API stw_status stw_store_open_readonly(const char *path, stw_store **out,
                                           stw_error *err);

/* What a database holds. */
typedef struct stw_db_stats {
    size_t size; /* set by the caller: sizeof(stw_db_stats) */
    int64_t scans;
    int64_t images;     /* one per image per scan */
    int64_t image_refs; /* distinct refs */
    int64_t layers;
    int64_t findings; /* distinct facts per blob, not per image */
    int64_t by_severity[STW_SEV_COUNT_];
    int64_t bytes;                      /* of the main database file */
    char first_scan[40], last_scan[40]; /* ISO 8601 UTC, "" when none */
} stw_db_stats;

/* Fills *out (its size set, see above). Reads only: fine on a store from
 * stw_store_open_readonly. */
STW_API stw_status stw_store_read_stats(stw_store *s, stw_db_stats *out,
                                        stw_error *err);

/* What stw_store_prune_older removed. */
typedef struct stw_db_pruned {
    size_t size; /* set by the caller: sizeof(stw_db_pruned) */
    int64_t scans, images, layers, findings;
} stw_db_pruned;

/* In one transaction, removes the scans started more than older_than_s
 * seconds ago with their images and errors (never one still running:
 * unfinished and active within a day), then the layers and findings no
 * remaining image uses or running scan holds. vacuum then rebuilds the
 * file to give the space back. out may be NULL. */
STW_API stw_status stw_store_prune_older(stw_store *s, int64_t older_than_s,
                                         bool vacuum, stw_db_pruned *out,
                                         stw_error *err);

/* What one stw_store_merge_file added. */
typedef struct stw_db_merged {
    size_t size;      /* set by the caller: sizeof(stw_db_merged) */
    int64_t scans;    /* scans new to s */
    int64_t layers;   /* layers new to s */
    int64_t findings; /* findings new to s */
    int64_t images;   /* images of a sharded run completed by this merge */
    int64_t waiting;  /* images still waiting for a shard not merged yet */
} stw_db_merged;

/* Merges the database file in_path (borrowed; migrated first, otherwise
 * never changed) into s, in one transaction: layers, findings, scans,
 * errors and images, deduplicated, so merging the same file again adds
 * nothing. An image recorded by one shard of a stw_scan_options_set_shard
 * run is completed (its visibility computed) once s holds all its layers:
 * merging every shard gives what one process scanning everything gives
 * (docs/batch.md). out may be NULL. */
STW_API stw_status stw_store_merge_file(stw_store *s, const char *in_path,
                                        stw_db_merged *out, stw_error *err);

/* Records an error of scan_id - a target that could not even be started -
 * as the scans themselves record theirs, so it is in the results' errors.
 * target and message copied. */
STW_API stw_status stw_store_put_error(stw_store *s, int64_t scan_id,
                                       const char *target, const char *message,
                                       stw_error *err);

/* ---- leaking layers -------------------------------------------------------
 * The layers with findings, and every image that includes each: one bad
 * base layer in 400 images is one entry with 400 images. */

typedef struct stw_leak_report stw_leak_report;
typedef struct stw_leak_layer stw_leak_layer;
typedef struct stw_leak_image stw_leak_image;

/* Over the latest image of every ref and platform in s (image_glob,
 * fnmatch, borrowed; NULL for all), the layers with findings at or above
 * min_severity, most-shared first, then most severe, then by digest.
 * Reads only. *out transferred (stw_leak_report_destroy). */
STW_API stw_status stw_store_leaks_by_layer(stw_store *s,
                                            const char *image_glob,
                                            stw_severity min_severity,
                                            stw_leak_report **out,
                                            stw_error *err);
STW_API void stw_leak_report_destroy(stw_leak_report *r);

/* Pointers and strings below are borrowed from r, valid until it is
 * destroyed; element getters return NULL past the end; strings are never
 * NULL ("" for none). A report is read-only and may be read from many
 * threads. */
STW_API size_t stw_leak_report_layer_count(const stw_leak_report *r);
STW_API const stw_leak_layer *stw_leak_report_layer(const stw_leak_report *r,
                                                    size_t i);
STW_API const char *stw_leak_layer_digest(const stw_leak_layer *l);
/* The history entry of one image that has the layer, or "". */
STW_API const char *stw_leak_layer_created_by(const stw_leak_layer *l);
/* Distinct findings of the blob: all, and those of one severity. */
STW_API int64_t stw_leak_layer_findings(const stw_leak_layer *l);
STW_API int64_t stw_leak_layer_findings_at(const stw_leak_layer *l,
                                           stw_severity s);
STW_API stw_severity stw_leak_layer_max_severity(const stw_leak_layer *l);
/* Its findings visible in, and hidden from (by a later layer), the final
 * filesystem, summed over its images. */
STW_API int64_t stw_leak_layer_visible(const stw_leak_layer *l);
STW_API int64_t stw_leak_layer_hidden(const stw_leak_layer *l);
/* The images that include it, newest scan first, then by ref. */
STW_API size_t stw_leak_layer_image_count(const stw_leak_layer *l);
STW_API const stw_leak_image *stw_leak_layer_image(const stw_leak_layer *l,
                                                   size_t i);
STW_API const char *stw_leak_image_ref(const stw_leak_image *im);
STW_API const char *stw_leak_image_platform(const stw_leak_image *im);
/* When the scan that recorded the image started (ISO 8601 UTC). */
STW_API const char *stw_leak_image_scanned_at(const stw_leak_image *im);
/* The layer's index in this image, and how many of its findings are
 * visible and hidden there. */
STW_API int stw_leak_image_layer(const stw_leak_image *im);
STW_API int64_t stw_leak_image_visible(const stw_leak_image *im);
STW_API int64_t stw_leak_image_hidden(const stw_leak_image *im);

#ifdef __cplusplus
}
#endif
#endif
