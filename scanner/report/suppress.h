/* suppress.h - findings a team has decided not to be told about again:
 * ignore files (.stowawayignore, docs/cli.md#ignore-files), baselines of
 * accepted findings (`stowaway baseline`), and layers inherited from a base
 * image (--skip-layer, --base-image). Applied to stw_results after they are
 * read back from the store, so the database itself stays complete.
 *
 * A baseline entry matches a finding by its fingerprint (rule, blob digest,
 * path, secret hash: the same finding in the same layer) or by its rebuild
 * key (rule, path, secret hash, without the layer: the same secret at the
 * same place after the image was rebuilt and its layer digests changed). */
#ifndef STW_SUPPRESS_H
#define STW_SUPPRESS_H

#include "results.h"
#include "stowaway/stowaway.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Version of the baseline file's shape ("stowaway_baseline" key). */
#define STW_BASELINE_VERSION 1
/* Length of a rebuild key in hex digits (plus NUL: 33 bytes). */
#define STW_REBUILD_KEY_HEX 32

typedef struct stw_suppress stw_suppress;

/* Why a finding is not reported. */
typedef enum stw_suppress_why {
    STW_SUPPRESS_NONE = 0,
    STW_SUPPRESS_IGNORE,   /* an ignore-file entry */
    STW_SUPPRESS_BASELINE, /* --baseline, or a finding of --base-image */
    STW_SUPPRESS_LAYER     /* --skip-layer, or a layer of --base-image */
} stw_suppress_why;

/* Findings removed by stw_suppress_apply(), by reason. */
typedef struct stw_suppress_counts {
    size_t ignored, baselined, layers;
} stw_suppress_counts;

/* An empty set that suppresses nothing. *out transferred. */
stw_status stw_suppress_create(stw_suppress **out, stw_error *err);
void stw_suppress_destroy(stw_suppress *s);

/* Parses an ignore file's text (len bytes, borrowed; name is used in
 * messages, e.g. "FILE:LINE: ..."). One entry per line:
 *
 *   SELECTOR... [image=GLOB] [expires=YYYY-MM-DD] [reason=TEXT]
 *
 * with SELECTOR one of fingerprint=HEX, rule=ID, path=GLOB (all given must
 * match; at least one is required). Values may be double-quoted ("a b",
 * with \" and \\); reason= takes the rest of the line. '#' starts a
 * comment line. An entry whose expires date is before today ("YYYY-MM-DD",
 * the caller's UTC date) no longer suppresses and adds a warning. On a
 * syntax error returns STW_ERR_FORMAT naming the file and line, and s keeps
 * the entries of earlier lines. */
stw_status stw_suppress_parse_ignore(stw_suppress *s, const char *name,
                                     const char *text, size_t len,
                                     const char *today, stw_error *err);

/* Reads the file at path (at most STW_MAX_IGNORE_BYTES) and parses it as
 * stw_suppress_parse_ignore() does. STW_ERR_IO when it cannot be read. */
stw_status stw_suppress_load_ignore(stw_suppress *s, const char *path,
                                    const char *today, stw_error *err);

/* Warnings collected while loading (expired entries), one line each,
 * without a trailing newline. Borrowed while s lives. */
size_t stw_suppress_warning_count(const stw_suppress *s);
const char *stw_suppress_warning(const stw_suppress *s, size_t i);

/* Ignore-file entries in force (not expired). */
size_t stw_suppress_ignore_count(const stw_suppress *s);

/* Reads a baseline written by stw_suppress_write_baseline(). STW_ERR_IO if
 * it cannot be read, STW_ERR_FORMAT (naming the file) if it is not one. */
stw_status stw_suppress_load_baseline(stw_suppress *s, const char *path,
                                      stw_error *err);

/* Adds every finding of r (borrowed) to the baseline, as if r had been
 * written and loaded as a baseline file: how --base-image's own findings
 * (an inherited Env secret, say) stop being reported. */
stw_status stw_suppress_add_baseline_results(stw_suppress *s,
                                             const stw_results *r,
                                             stw_error *err);

/* Findings in the layer with this blob digest or diff_id ("sha256:...",
 * copied) are suppressed. */
stw_status stw_suppress_add_layer(stw_suppress *s, const char *digest,
                                  stw_error *err);

/* Why f, a finding of r (both borrowed), is suppressed, or
 * STW_SUPPRESS_NONE. Layers are checked first, then the ignore entries,
 * then the baseline. */
stw_suppress_why stw_suppress_match(const stw_suppress *s, const stw_results *r,
                                    const stw_rfinding *f);

/* Removes from r every finding s suppresses (freed; order of the rest
 * kept) and adds their numbers to *counts (may be NULL). Images, layers and
 * errors are left alone. */
void stw_suppress_apply(const stw_suppress *s, stw_results *r,
                        stw_suppress_counts *counts);

/* The rebuild key of a finding: 32 hex digits of sha256 over rule, path and
 * secret hash (see the top of this file). out holds 33 bytes. */
stw_status stw_suppress_rebuild_key(const char *rule, const char *path,
                                    const char *secret_sha256, char out[33],
                                    stw_error *err);

/* Writes the baseline of r as JSON: per distinct finding its fingerprint,
 * rebuild key, rule, kind, severity, path, image ref and layer digest -
 * never an excerpt or a secret hash. Sorted by fingerprint so the same
 * findings give the same bytes. STW_ERR_IO when the write fails. */
stw_status stw_suppress_write_baseline(const stw_results *r, FILE *out,
                                       stw_error *err);

#endif
