/* common.h - helpers every library module shares: error reporting into a
 * caller's stw_error, and small string utilities (and, through alloc.h,
 * the allocation wrappers). No state. */
#ifndef STW_COMMON_H
#define STW_COMMON_H

#include "alloc.h"
#include "stowaway/stowaway.h"

#include <stdarg.h>
#include <stdbool.h>

#define STW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Fills err (if not NULL) with status and a printf-style message, and returns
 * status, so callers can write `return stw_fail(err, STW_ERR_IO, ...)`. */
stw_status stw_fail(stw_error *err, stw_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes err->msg with "prefix: " (e.g. the target name) if it does not
 * already start with it. */
void stw_error_prefix(stw_error *err, const char *prefix);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void stw_hex(const unsigned char *in, size_t n, char *out);

/* Reads a small regular file whole: *out is NUL-terminated and transferred
 * to the caller, *len its length. Messages start with label (the path when
 * NULL). A missing file is STW_ERR_NOT_FOUND, anything but a regular file
 * STW_ERR_FORMAT, more than max bytes STW_ERR_LIMIT (nothing is read). */
stw_status stw_read_small_file(const char *path, const char *label, size_t max,
                               char **out, size_t *len, stw_error *err);

/* qsort() for arrays that may be empty: with n == 0, base may be NULL
 * (an array never allocated), which qsort() itself does not allow. */
void stw_sort(void *base, size_t n, size_t size,
              int (*cmp)(const void *, const void *));

/* true when the 64 bytes at p are lowercase hex digits (a sha256 in hex,
 * as digests and blob file names spell it). p must have 64 readable bytes
 * or a NUL before a non-hex byte stops it. */
bool stw_is_hex64(const char *p);

/* Thread-safe strerror: writes into buf and returns it. */
const char *stw_strerror(int errnum, char *buf, size_t len);

/* Names the calling thread (at most 15 bytes are kept) so profiles and
 * top -H tell the pipeline's stages apart; a no-op where unsupported. */
void stw_thread_name(const char *name);

#endif
