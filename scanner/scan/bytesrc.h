/* bytesrc.h - where a layer's raw bytes come from, as stw_read_fn
 * callbacks for the blob stream: a file descriptor (a blob file, standard
 * input) read in large blocks, or a member of an outer tar archive read
 * through libarchive. The outer archive's own errors and its documents read
 * whole are here too. */
#ifndef STW_BYTESRC_H
#define STW_BYTESRC_H

#include "stowaway/stowaway.h"

#include <stddef.h>
#include <stdint.h>

struct archive;

/* ---- a file descriptor -------------------------------------------------- */

typedef struct stw_fd_reader {
    int fd;           /* borrowed: never closed here */
    const char *name; /* borrowed, for messages */
    unsigned char *buf;
} stw_fd_reader;

/* Sets r up to read fd with a buffer of its own (free it with
 * stw_fd_reader_clear, also after a failure). */
stw_status stw_fd_reader_init(stw_fd_reader *r, int fd, const char *name,
                              stw_error *err);
void stw_fd_reader_clear(stw_fd_reader *r);

/* stw_read_fn over a stw_fd_reader: the next block, *len 0 at the end. *buf
 * is borrowed until the next call. */
stw_status stw_fd_read(void *ctx, const void **buf, size_t *len,
                       stw_error *err);

/* ---- a member of an outer tar archive ----------------------------------- */

/* Opens the tar file at path for reading its members, libarchive seeking
 * over data it is not asked for. *out transferred to the caller
 * (archive_read_free); NULL on failure. */
stw_status stw_outer_open(const char *path, struct archive **out,
                          stw_error *err);

/* The outer archive's failure as an error: STW_ERR_TRUNCATED when it ends
 * early, else STW_ERR_FORMAT, the message starting with name. Returns the
 * status. */
stw_status stw_outer_fail(struct archive *a, const char *name, stw_error *err);

/* The current member of an outer archive, with an optional first block
 * already taken (to sniff documents from layers). All borrowed. */
typedef struct stw_outer_reader {
    struct archive *a;
    const char *name; /* for messages */
    const void *pending;
    size_t pending_len;
} stw_outer_reader;

/* stw_read_fn over a stw_outer_reader. */
stw_status stw_outer_read(void *ctx, const void **buf, size_t *len,
                          stw_error *err);

/* Reads the rest of the current member, whose first block (first, n) was
 * already taken, into *out (NUL-terminated, transferred to the caller) and
 * *len. More than STW_MAX_JSON_BYTES is STW_ERR_LIMIT. Messages start with
 * target, and name the member. */
stw_status stw_outer_slurp(struct archive *a, const char *target,
                           const char *name, const void *first, size_t n,
                           char **out, size_t *len, stw_error *err);

#endif
