/* scan_internal.h - what the files of the scan stage share: the state of
 * one target's scan, the layer jobs planned from it, and the step each file
 * provides. Private to scanner/scan/ (like libarchive's *_private.h).
 *
 *   scan.c     the entry point: what the target is, then its mode
 *   modes.c    an OCI directory, registry storage, a live registry, a blob
 *   tarfile.c  a plain tar file, indexed by its headers first
 *   stream.c   one forward pass: standard input and compressed files
 *   docs.c     the documents and symlinks the image model is built from
 *   jobs.c     layer jobs: planning, the cache, the -j worker pool
 *   layers.c   scanning one layer and storing it
 *   images.c   images built from the documents, stored once their layers are
 *
 * Every function takes the scan borrowed; strings it is given are borrowed
 * for the call unless it says otherwise. */
#ifndef STW_SCAN_INTERNAL_H
#define STW_SCAN_INTERNAL_H

#include "blob.h"
#include "docset.h"
#include "image.h"
#include "layer.h"
#include "limits.h"
#include "matcher.h"
#include "registry.h"
#include "rules.h"
#include "scan_options.h"
#include "store.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct archive;
struct archive_entry;

/* Room for "<target>: layer <member name>", the name of a layer in
 * messages. */
#define STW_SCAN_LABEL_MAX (STW_MAX_PATH + 600)

/* One layer to scan, or already scanned or cached, and what it left behind
 * for the image step. */
typedef struct layer_job {
    char *name;          /* member or file name; owned */
    const char *digest;  /* expected blob digest (borrowed from images) */
    const char *diff_id; /* expected diff_id (borrowed) */
    int64_t size;
    int64_t member; /* index in the outer archive, -1 for files */
    bool done, cached;
    /* Stored already, but its blob is a local file whose bytes must hash to
     * the stored digest before the stored results are used: a worker does
     * that, and scans it after all if they do not. */
    bool unchecked_hit;
    stw_status st;
    stw_error err;
    char got_digest[80];
    /* Computed by this scan, or the verified one of the stored layer; ""
     * when never computed. */
    char got_diff_id[80];
} layer_job;

/* The state of one target's scan, from stw_scan_target to its return. */
typedef struct scan {
    const stw_rules *rules;
    stw_store *store;
    int64_t scan_id;
    const char *target;
    const stw_scan_options *opt; /* may be NULL */
    char *dir;         /* OCI layout or registry storage root, or NULL */
    bool storage;      /* dir is a distribution registry storage */
    stw_registry *reg; /* a remote image, or NULL */
    stw_docset *docs;  /* documents read so far (manifests, configs...) */
    stw_docset *links; /* symlink members: name -> target, resolved (legacy
                          docker save writes <id>/layer.tar -> ../<hex>.tar) */
    layer_job *jobs;
    size_t n_jobs;
    stw_image_list images;
    bool image_archive; /* saw manifest.json / index.json / blobs */
    bool has_manifest, has_index;
    pthread_mutex_t lock; /* store writes and job hand-out */
    bool spare_cores;     /* a second core: each layer a pipeline */
    /* stw_scan_read: the caller's read callback is promised to run on the
     * caller's thread, so no blob reads ahead on a thread of its own. */
    bool caller_reader;
    bool known_layer; /* the index showed the tar is a layer */
    /* What a stored layer must have been scanned with to be reused: the
     * rules version and the layer walker's detectors version. */
    char cache_version[96];
    size_t next_job;
    /* Archives walked in this scan, for the same bytes met again before
     * their layer is stored; NULL when it could not be had. */
    stw_archmemo *memo;
} scan;

/* ---- scan.c ------------------------------------------------------------- */

/* The end of every mode whose layers are planned before any is read: marks
 * cached ones, scans the rest on the worker pool, stores the images. */
stw_status stw_scan_planned(scan *s, stw_error *err);

/* Has the caller's cancel callback asked the scan to stop? Then fills err
 * with STW_ERR_CANCELLED. Any thread. */
bool stw_scan_cancelled(const scan *s, stw_error *err);

/* A reader with the scan's cancel check in front of fn/ctx (borrowed): a
 * cancelled scan stops within one block of every stream being read. */
typedef struct stw_cancel_reader {
    const scan *s;
    stw_read_fn fn;
    void *ctx;
} stw_cancel_reader;

/* stw_read_fn over a stw_cancel_reader. */
stw_status stw_cancel_read(void *ctx, const void **buf, size_t *len,
                           stw_error *err);

/* Stores e as an error of this scan (a failure to store it is dropped:
 * the caller is already failing). Returns e->status. */
stw_status stw_scan_record_error(scan *s, const stw_error *e);

/* "<target>: layer <name>" into out (STW_SCAN_LABEL_MAX bytes). */
void stw_scan_label(const scan *s, const char *name, char *out);

/* ---- modes.c, tarfile.c, stream.c: one function per kind of input ------- */

/* A directory: an OCI image layout, or a registry's storage. */
stw_status stw_scan_dir(scan *s, stw_error *err);
/* s->target names an image in a registry. */
stw_status stw_scan_registry(scan *s, stw_error *err);
/* A plain tar file: an image archive or a layer. */
stw_status stw_scan_tar_file(scan *s, stw_error *err);
/* A layer blob file open on fd (borrowed), reused from the store when its
 * path names a stored digest. */
stw_status stw_scan_blob_file(scan *s, int fd, stw_error *err);
/* Anything read once from fd (borrowed): an image archive or a layer,
 * whichever its first member says. expect: the blob's digest, or NULL. */
stw_status stw_scan_stream(scan *s, int fd, const char *expect, stw_error *err);
/* The same over a caller's reader (fn/ctx borrowed). */
stw_status stw_scan_stream_fn(scan *s, stw_read_fn fn, void *ctx,
                              const char *expect, stw_error *err);

/* ---- docs.c ------------------------------------------------------------- */

/* Where a document or blob called name lives under s->dir. */
void stw_scan_dir_path(const scan *s, const char *name, char *out, size_t n);

/* stw_fetch_fn for the image model (ctx is the scan): a document collected
 * so far, or else read from s->dir and kept. */
stw_status stw_scan_fetch_doc(void *ctx, const char *name, const char **data,
                              size_t *len, stw_error *err);

/* Keeps a document: name copied, data consumed (even on failure). */
stw_status stw_scan_add_doc(scan *s, const char *name, char *data, size_t len,
                            stw_error *err);

/* Reads the rest of the current member of a (first block first, n bytes)
 * and keeps it as the document name. */
stw_status stw_scan_keep_member(scan *s, struct archive *a, const char *name,
                                const void *first, size_t n, stw_error *err);

/* Notes what the member's header alone says: a manifest or index by its
 * name, a symlink's target. name is the normalised name; e borrowed. */
stw_status stw_scan_note_member(scan *s, const char *name,
                                struct archive_entry *e, stw_error *err);

/* ---- jobs.c ------------------------------------------------------------- */

/* A new pending job called name (copied). *out borrowed, valid until the
 * next job_add. */
stw_status stw_job_add(scan *s, const char *name, layer_job **out,
                       stw_error *err);

/* The job called name, through one symlink member if need be; NULL if
 * none. */
layer_job *stw_job_find(scan *s, const char *name);

/* Marks j done without reading it: its results are those stored under
 * digest. cached: they were stored by an earlier scan. */
void stw_job_settle(layer_job *j, const char *digest, bool cached);

/* One job per distinct layer of all images. */
stw_status stw_jobs_plan(scan *s, stw_error *err);

/* Jobs found in an archive before its documents: their expected digests
 * from the images, and those no image uses (other platforms) marked done
 * so they are never read. */
stw_status stw_jobs_bind(scan *s, stw_error *err);

/* Sets *hit if a layer with this digest is stored, scanned with our rules
 * (and, under --verify-diff-ids, with its diff_id computed); then j (when
 * not NULL) gets that diff_id, or "". Settles nothing. */
stw_status stw_jobs_lookup(scan *s, layer_job *j, const char *digest, bool *hit,
                           stw_error *err);

/* Settles j (when not NULL) from the layer stored under digest, found by
 * stw_jobs_lookup: its notes replayed, its progress reported. Takes
 * s->lock around the store when workers may run (lock). */
stw_status stw_jobs_settle_cached(scan *s, layer_job *j, const char *digest,
                                  bool lock, stw_error *err);

/* Whether a stored layer found under digest may be used only once the
 * blob's bytes hash to it: always for a local file, unless --trust-cache
 * and digest is the blob digest given by a manifest or a blob's name. A
 * config's diff_id (key_is_diff_id) is a claim, never trusted unhashed. */
bool stw_jobs_hit_needs_check(const scan *s, bool key_is_diff_id);

/* Tells the progress display how many layers follow, then settles those
 * of another shard and those the store already has. */
stw_status stw_jobs_check_cached(scan *s, stw_error *err);

/* Runs every pending job on -j workers, largest first; each job keeps its
 * own status. */
void stw_jobs_run(scan *s);

/* The number of cores online (at least 1). */
int stw_jobs_cores(void);

/* Layers scanned at once when -j is not given: one per core, at most
 * STW_JOBS_DEFAULT_MAX. A layer's pipeline (inflate and hash, tar walk,
 * content matching) has about two cores' worth of work in all, but a small
 * layer, or a large one past its matching, is bound by its one inflate
 * thread: with one layer per two cores the other core idles through every
 * such stretch (full.oci on two cores: 2.84 s at one layer, 2.30 s at two,
 * with the same CPU). The cap bounds memory in flight (about 8 MiB of
 * queues per layer) on machines with many cores. */
#define STW_JOBS_DEFAULT_MAX 16
int stw_jobs_default(void);

/* ---- layers.c ----------------------------------------------------------- */

/* The blob options of a layer: name (for messages) and expected digests
 * borrowed, bomb limits from the scan options. */
stw_blob_options stw_scan_blob_opts(const scan *s, const char *name,
                                    const char *digest, const char *diff_id);

/* Threads that walk the archive files of one layer (nestpool.h). */
unsigned stw_scan_nested_workers(void);

/* The layer walker's options; a content thread when cores would idle. */
stw_layer_options stw_scan_layer_opts(scan *s);

/* Hands the plaintext secrets of l to --show-secrets; the caller holds
 * s->lock. */
void stw_scan_pass_secrets(scan *s, const stw_finding_list *l,
                           const char *blob_digest);

/* Stores a scanned layer (r borrowed) and reports it done. */
stw_status stw_scan_store_layer(scan *s, const stw_layer_result *r,
                                const char *media_type, stw_error *err);

/* Scans the layer of j pulled through fn/ctx, checked against bo, stores
 * it and fills j's computed digests. */
stw_status stw_scan_layer(scan *s, stw_matcher *m, layer_job *j, stw_read_fn fn,
                          void *ctx, const stw_blob_options *bo,
                          const char *media_type, stw_error *err);

/* ---- images.c ----------------------------------------------------------- */

/* The images of the collected documents, into s->images. An archive with
 * neither manifest.json nor index.json, or no image at all, is an error. */
stw_status stw_images_build(scan *s, stw_error *err);

/* Stores every image once its layers are done; one that cannot be stored
 * is recorded and the others still land. Returns the first error. */
stw_status stw_images_put(scan *s, stw_error *err);

/* Stores a single layer, already stored under digest, as an image of its
 * own: no config, one layer. */
stw_status stw_images_put_single_layer(scan *s, const char *digest, bool cached,
                                       stw_error *err);

#endif
