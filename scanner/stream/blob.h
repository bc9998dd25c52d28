/* blob.h - a registry blob as a verified, decompressed byte stream.
 *
 * A layer blob arrives as raw bytes (from a file range, another archive's
 * member, or a pipe). stw_blob pulls them through a read callback, hashes
 * them (sha256 -> the blob digest), recognises the compression by magic
 * bytes (gzip, zstd, or none) and inflates (ISA-L for gzip, libzstd
 * streaming for zstd). The output of a compressed blob is hashed (sha256 ->
 * the diff_id) only when asked: that costs about as much as inflate, and
 * the blob digest already pins the bytes. An uncompressed blob's diff_id is
 * its digest, so it is always known. At end of input it compares what was
 * computed against the expected values given at creation.
 *
 * Hostile input: truncated streams, trailing garbage inside a compressed
 * stream, output beyond max_out, and ratio beyond max_ratio are errors. */
#ifndef STW_BLOB_H
#define STW_BLOB_H

#include "stowaway/stowaway.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum stw_compression {
    STW_COMP_NONE = 0,
    STW_COMP_GZIP,
    STW_COMP_ZSTD
} stw_compression;

/* Pulls the next piece of raw input. Sets *buf and *len to bytes the callee
 * owns and keeps valid until the next call; *len == 0 means end of input.
 * Returns a status; on error fills err. */
typedef stw_status (*stw_read_fn)(void *ctx, const void **buf, size_t *len,
                                  stw_error *err);

typedef struct stw_blob_options {
    const char *name;   /* for messages, e.g. "blobs/sha256/ab12…"; copied */
    const char *digest; /* expected "sha256:<hex>" of raw bytes, or NULL */
    /* expected "sha256:<hex>" of output, or NULL; checked only when the
     * diff_id is computed (uncompressed, or hash_output) */
    const char *diff_id;
    bool hash_output; /* compute the diff_id of a compressed blob too */
    /* Read and decompress a compressed blob on a thread of its own, a few
     * buffers ahead of the caller, so whatever consumes the output (the
     * tar walk) overlaps inflate; the raw pieces are hashed on another
     * (as always for a compressed blob). The read callback then runs on
     * that thread, never on two threads at once. */
    bool inflate_thread;
    uint64_t max_out; /* 0 = STW_MAX_LAYER_BYTES */
    double max_ratio; /* 0 = STW_MAX_RATIO */
} stw_blob_options;

typedef struct stw_blob stw_blob;

/* Creates a stream over fn/ctx (borrowed; must outlive the blob). Reads
 * nothing yet. *out transferred to the caller. */
stw_status stw_blob_create(stw_read_fn fn, void *ctx,
                           const stw_blob_options *opt, stw_blob **out,
                           stw_error *err);
void stw_blob_destroy(stw_blob *b);

/* Next piece of decompressed output: *buf valid until the next call. At the
 * end sets *len = 0, after verifying the digests: a mismatch returns
 * STW_ERR_DIGEST naming the blob and both digests. */
stw_status stw_blob_read(stw_blob *b, const void **buf, size_t *len,
                         stw_error *err);

/* Reads and discards the rest of the stream (so the digests are checked even
 * when the consumer stopped early, e.g. at the tar end-of-archive blocks). */
stw_status stw_blob_drain(stw_blob *b, stw_error *err);

/* Valid after the first stw_blob_read. */
stw_compression stw_blob_compression(const stw_blob *b);
/* "sha256:<hex>" of raw / decompressed bytes; valid after end of stream,
 * "" before. The diff_id of a compressed blob read without hash_output
 * stays "": it was never computed. Borrowed from the blob. */
const char *stw_blob_digest(const stw_blob *b);
const char *stw_blob_diff_id(const stw_blob *b);
uint64_t stw_blob_raw_bytes(const stw_blob *b);
uint64_t stw_blob_out_bytes(const stw_blob *b);

/* Pulls the raw bytes of a blob through fn/ctx (borrowed) to their end and
 * checks them against opt->digest, without decompressing: what a cached
 * layer of a local file costs to trust. A mismatch is STW_ERR_DIGEST with
 * the message stw_blob_read gives for one. Only name and digest of opt are
 * used; digest is required. */
stw_status stw_blob_check_digest(stw_read_fn fn, void *ctx,
                                 const stw_blob_options *opt, stw_error *err);

/* Recognises a compression from the first bytes of a blob (n >= 4 bytes
 * needed for a decision; fewer gives STW_COMP_NONE). */
stw_compression stw_compression_sniff(const void *p, size_t n);

#endif
