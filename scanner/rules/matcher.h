/* matcher.h - per-thread scratch for content and path matching against a
 * shared stw_rules: vectorscan scratch and stream state, PCRE2 match data
 * and JIT stack, the chunk window. One per worker; never shared.
 *
 * A file is scanned as a stream: begin, feed any number of pieces of any
 * size, end. The result does not depend on how the content was split: a
 * match straddling two feeds is found once, with its offset and line in the
 * whole file. Files larger than STW_SCAN_CHUNK are scanned in overlapping
 * windows, never whole in memory and never skipped. */
#ifndef STW_MATCHER_H
#define STW_MATCHER_H

#include "finding.h"
#include "rules.h"

#include <stdint.h>

/* stw_matcher_create and stw_matcher_destroy are public
 * (stowaway/stowaway.h, "matching a buffer"). */

/* Starts a file: path (borrowed until end) is the path inside the image, size
 * its declared size. Path rules are evaluated here; content findings are
 * emitted through fn(ctx, …) during feed and end. */
stw_status stw_matcher_begin(stw_matcher *m, const char *path, uint64_t size,
                             stw_finding_fn fn, void *ctx, stw_error *err);
stw_status stw_matcher_feed(stw_matcher *m, const void *data, size_t len,
                            stw_error *err);
stw_status stw_matcher_end(stw_matcher *m, stw_error *err);

/* Scans one complete buffer as if it were a file at path (image config Env
 * values and history entries use path "<config>"). */
stw_status stw_matcher_scan_buffer(stw_matcher *m, const char *path,
                                   const void *data, size_t len,
                                   stw_finding_fn fn, void *ctx,
                                   stw_error *err);

/* stw_matcher_notes and stw_matcher_clear_notes are public too: the files
 * whose regex hit STW_REGEX_MATCH_LIMIT even after the window was
 * narrowed, at most STW_MAX_NOTES_PER_LAYER; a layer scan turns them into
 * the report's errors. */

#endif
