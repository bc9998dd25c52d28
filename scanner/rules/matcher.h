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

typedef struct stw_matcher stw_matcher;

/* rules borrowed: must outlive the matcher. *out transferred. */
stw_status stw_matcher_create(const stw_rules *rules, stw_matcher **out,
                              stw_error *err);
void stw_matcher_destroy(stw_matcher *m);

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

/* Files whose scan left start offsets undecided because a rule's regex
 * hit its match limit (STW_REGEX_MATCH_LIMIT) even after the window was
 * narrowed: one line per file, naming it and the rule, in scan order since
 * the last stw_matcher_clear_notes (at most STW_MAX_NOTES_PER_LAYER). The
 * matcher never drops such a window silently; the caller turns these into
 * the report's errors. *notes borrowed until the next scan or clear.
 * Returns the count. */
size_t stw_matcher_notes(const stw_matcher *m, const char *const **notes);
void stw_matcher_clear_notes(stw_matcher *m);

#endif
