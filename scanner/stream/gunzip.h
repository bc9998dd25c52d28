/* gunzip.h - a gzip file inside a layer file (a .tgz, a .gz document) as
 * an inflated byte stream, by ISA-L, for nested.c to hand to libarchive's
 * tar and raw readers in place of libarchive's own (zlib) gzip filter.
 *
 * A layer blob is no such file: blob.h inflates it too, but also hashes
 * it and rejects anything after its last member, where a gzip file inside
 * a layer is read the way gzip(1) and libarchive read it - bytes after a
 * complete member that do not start another end the stream quietly (tape
 * padding, a tool's trailer, `cat x.gz notes.txt`). Where the stream
 * ended in its input is kept (stw_gunzip_end): those bytes are none of
 * the inflated output, so the caller scans them as they are (nested.c).
 * Every member's CRC32 and length are checked, which libarchive's filter
 * does not do; a mismatch does not stop the stream (its bytes are the
 * best guess of the content, and a scanner looks at them) but is
 * remembered for the caller to report. */
#ifndef STW_GUNZIP_H
#define STW_GUNZIP_H

#include "blob.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct stw_gunzip stw_gunzip;

/* A stream over fn/ctx (borrowed; must outlive it), which must give a gzip
 * stream from its first byte. Reads nothing yet. *out transferred;
 * STW_ERR_NOMEM leaves nothing to free. */
stw_status stw_gunzip_create(stw_read_fn fn, void *ctx, stw_gunzip **out,
                             stw_error *err);
void stw_gunzip_destroy(stw_gunzip *g);

/* Next piece of inflated output, *buf owned by g until the next call; *len
 * 0 at the end. Output inflated before an error is handed out first: the
 * error comes with the call after it. STW_ERR_TRUNCATED when the input ends
 * inside a member, STW_ERR_FORMAT for a bad first header or bad deflate
 * data, fn's status as is; the message (no file name) is in err. Every call
 * after an error repeats it. */
stw_status stw_gunzip_read(stw_gunzip *g, const void **buf, size_t *len,
                           stw_error *err);

/* Bytes handed out so far. */
uint64_t stw_gunzip_out_bytes(const stw_gunzip *g);

/* A member read to its end had a CRC32 or length other than its trailer's. */
bool stw_gunzip_bad_check(const stw_gunzip *g);

/* Once the stream has ended (stw_gunzip_read gives len 0 from then on),
 * or failed after at least one whole member: true, with *in_bytes the
 * input bytes up to the end of its last whole member; the input from
 * there on - nothing, padding, text, a member cut short, damaged or
 * started with a bad header - is in no member's output; *damaged says
 * whether the stream failed there. False before the end, and after a
 * failure inside the first member. */
bool stw_gunzip_end(const stw_gunzip *g, uint64_t *in_bytes, bool *damaged);

#endif
