/* nested.h - files inside files: a layer file whose first bytes say zip
 * (jar, war, whl, apk...), tar, gzip, zstd, xz, bzip2, a Debian package
 * (ar) or 7-Zip is opened with
 * libarchive (a gzip stream inflated by ISA-L first, gunzip.h) and its
 * members are handed to the same detectors as layer files, to a bounded
 * depth. A member's path is the whole chain joined with
 * "!/", as Java URLs spell it: "app/app.jar!/BOOT-INF/classes/app.properties".
 *
 * A layer is a stream, but a zip is read from its central directory at the
 * end (data descriptors, stored nested jars and prepended launch scripts
 * defeat a forward read). So a file recognised as an archive is first
 * spooled whole - in memory up to STW_NESTED_MEM_MAX, beyond that into an
 * unlinked temporary file - and hashed on the way; libarchive then reads the
 * spool with seeking (its seekable zip reader). The hash keys a cache of
 * archive results, so the same jar in a thousand images is inflated once.
 *
 * Bytes after the stream of a gzip file, the last frame of a zstd one or
 * the stream of an xz one (the archive then reads only up to there), after
 * a tar's end-of-archive
 * blocks, or after them in what a .tgz's stream inflates to, unless all
 * zeros, are in none of its members: they are scanned as they are under
 * the file's own path, with a note, and the archive is then not cached
 * (scanned's complete is false).
 *
 * Everything an archive controls is bounded per outer file: depth,
 * decompressed bytes, decompression ratio and member count. Reaching a
 * bound, or a malformed inner archive, is a note (what was scanned up to it
 * stays), never a failure of the layer. */
#ifndef STW_NESTED_H
#define STW_NESTED_H

#include "blob.h"

#include <stdbool.h>
#include <stdint.h>

/* What the first bytes of a file say it is. */
typedef enum stw_nest_kind {
    STW_NEST_NONE = 0,
    STW_NEST_ZIP,
    STW_NEST_TAR,
    STW_NEST_GZIP,
    STW_NEST_ZSTD,
    STW_NEST_XZ,
    STW_NEST_BZIP2,
    STW_NEST_DEB, /* an ar archive whose first member is debian-binary */
    STW_NEST_7Z
} stw_nest_kind;

/* Bytes stw_nested_sniff needs to decide (the tar magic sits at 257). */
#define STW_NESTED_SNIFF_BYTES 263

/* Recognises an archive or a compressed stream by its first n bytes
 * (borrowed). Fewer than STW_NESTED_SNIFF_BYTES only rule out tar. */
stw_nest_kind stw_nested_sniff(const void *p, size_t n);

/* Bounds per outer file (a file of the layer). Zeroes mean the defaults of
 * limits.h; max_depth 0 means the defaults too - the caller that wants no
 * nesting does not create a stw_nested at all. */
typedef struct stw_nested_limits {
    unsigned max_depth;   /* archives opened inside each other */
    uint64_t max_bytes;   /* decompressed bytes read out of archives */
    double max_ratio;     /* those bytes / the outer file's size */
    uint64_t max_members; /* members of all archives in the file */
} stw_nested_limits;

/* Of an outer file's budget (stw_nested_limits): what the walk of one
 * archive inside it used, or what is left. */
typedef struct stw_nested_cost {
    uint64_t bytes;    /* decompressed out of archive members */
    uint64_t inflated; /* out of gzip streams, members or not */
    uint64_t members;  /* archive members */
    /* Archive levels below the archive: what its walk opened inside it (0:
     * no archive in it), or how many --max-depth still lets open. A walk
     * that met an archive it could not open for the depth is not complete
     * (nested_sink.scanned): its results hold at that depth only. */
    uint64_t levels;
} stw_nested_cost;

/* A spooled archive handed to the sink (stw_nested_sink.archive). */
typedef struct stw_nested_archive stw_nested_archive;

/* Where members go. Every callback returns STW_OK to go on; any other
 * status aborts the scan of the layer with it (out of memory, a refused
 * finding). Paths are borrowed for the call. */
typedef struct stw_nested_sink {
    void *ctx;
    /* A member of an archive at depth >= 1 (directories and files alike),
     * before its content: the walker's per-entry detectors (artifacts).
     * *want_raw asks for the content through raw_data/raw_end. */
    stw_status (*entry)(void *ctx, const char *path, bool is_dir, bool is_reg,
                        uint64_t size, bool *want_raw);
    void (*raw_data)(void *ctx, const void *p, size_t n);
    stw_status (*raw_end)(void *ctx);
    /* A count the sink raises whenever a member's path makes entry judge
     * it by the path around the archive (stw_artifact_looked: a third-party
     * tree, a trust store). An archive whose walk raised it is not
     * complete: its results hold where it lies, not elsewhere. May be
     * NULL. */
    uint64_t (*looked)(void *ctx);
    /* The content of a file that is not opened as an archive (any depth):
     * the content matcher. */
    stw_status (*begin)(void *ctx, const char *path, uint64_t size,
                        stw_error *err);
    stw_status (*data)(void *ctx, const void *p, size_t n, stw_error *err);
    stw_status (*end)(void *ctx, stw_error *err);
    /* Something was skipped or cut short: msg names the file and why. */
    stw_status (*note)(void *ctx, const char *msg);
    /* Only for archives of at least STW_NESTED_CACHE_MIN bytes (smaller
     * ones are not hashed). The archive at path whose bytes hash to
     * sha256 (64 hex) is about to be opened: *hit set to true means the sink
     * already has its results (from a cache) and the archive is not opened.
     * room is what the outer file's budget has left. A sink that knows
     * what the archive's walk used (a result of this scan) answers only
     * when that fits in room, and sets *charge to it: the budget then runs
     * out where a walk would have run it out. *charge starts at zeroes.
     * May be NULL. */
    stw_status (*lookup)(void *ctx, const char *sha256, const char *path,
                         uint64_t size, const stw_nested_cost *room,
                         stw_nested_cost *charge, bool *hit, stw_error *err);
    /* The archive at path was scanned, using cost of the outer file's
     * budget; sha256 is NULL when it is smaller than STW_NESTED_CACHE_MIN
     * (then complete is false), and path alone is given (sha256 NULL,
     * cost zero) for the part before "!/" of a member whose own name
     * holds one, which puts findings where that archive's would be;
     * complete is false
     * when a bound or a malformed member cut it short, when its walk made
     * a note anywhere inside it, when it raised looked, or when bytes
     * after its gzip stream were scanned under path itself (its results
     * must not be reused: a cache keeps those under path + "!/"). May be
     * NULL. */
    stw_status (*scanned)(void *ctx, const char *sha256, const char *path,
                          uint64_t size, const stw_nested_cost *cost,
                          bool complete, stw_error *err);
    /* An archive file of the layer itself (depth 0), spooled and not found
     * in the cache: a is transferred to the sink, which walks it with
     * stw_nested_walk_archive - later, on another thread, with another
     * stw_nested - and frees it. Its walk then makes the calls above on
     * that stw_nested's sink, none on this one. May be NULL: the archive is
     * walked at once, here. */
    stw_status (*archive)(void *ctx, stw_nested_archive *a, stw_error *err);
} stw_nested_sink;

typedef struct stw_nested stw_nested;

/* sink and lim are copied (the sink's ctx stays borrowed). *out
 * transferred. One per layer walk; not shared between threads. */
stw_status stw_nested_create(const stw_nested_sink *sink,
                             const stw_nested_limits *lim, stw_nested **out,
                             stw_error *err);
void stw_nested_destroy(stw_nested *n);

/* Scans one file of the layer whose content is pulled through fn/ctx until
 * it returns len 0: an archive is opened (and its members recursed into),
 * anything else goes to sink->begin/data/end as it is. path is the file's
 * path in the layer (borrowed), size its declared size. A failure of fn is
 * returned as is; trouble inside the archive is a note. */
stw_status stw_nested_file(stw_nested *n, const char *path, uint64_t size,
                           stw_read_fn fn, void *ctx, stw_error *err);

/* Walks a (borrowed) as stw_nested_file would have walked it after its
 * spool and cache look-up: its own budget of the outer file, notes,
 * members and the cache record all through n's sink. n must not be inside
 * another walk. Returns as stw_nested_file. */
stw_status stw_nested_walk_archive(stw_nested *n, stw_nested_archive *a,
                                   stw_error *err);
/* Its path in the layer (borrowed from a). */
const char *stw_nested_archive_path(const stw_nested_archive *a);

/* Frees the spool (its temporary file too). Accepts NULL. */
void stw_nested_archive_free(stw_nested_archive *a);

#endif
