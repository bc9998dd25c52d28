/* tar.h - a libarchive tar reader over a stw_blob. libarchive parses the tar
 * format only; decompression and digests are stw_blob's. Errors raised
 * inside the blob (digest mismatch, truncated gzip) are reported as such,
 * not as libarchive's generic read failure. */
#ifndef STW_TAR_H
#define STW_TAR_H

#include "blob.h"

#include <stdint.h>

struct archive;
struct archive_entry;

typedef struct stw_tar stw_tar;

/* b and name are borrowed and must outlive the reader. *out transferred. */
stw_status stw_tar_open(stw_blob *b, const char *name, stw_tar **out,
                        stw_error *err);
void stw_tar_close(stw_tar *t);

/* Next header; *e is NULL at the end of the archive. *e is owned by the
 * reader and valid until the next call. */
stw_status stw_tar_next(stw_tar *t, struct archive_entry **e, stw_error *err);

/* Next block of the current entry's data; *len == 0 at its end. */
stw_status stw_tar_data(stw_tar *t, const void **buf, size_t *len,
                        stw_error *err);

/* The underlying libarchive reader (borrowed), for reading a member's data
 * directly. */
struct archive *stw_tar_archive(stw_tar *t);

/* stw_read_fn over the current entry's data (ctx is the stw_tar), so a
 * member of an outer archive can itself be opened as a blob. */
stw_status stw_tar_member_read(void *ctx, const void **buf, size_t *len,
                               stw_error *err);

#endif
