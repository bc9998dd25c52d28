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

/* The set itself, loading it and matching against it are public
 * (stowaway/stowaway.h, "suppressions"); these are the rest. */

/* Findings removed by stw_suppress_apply(), by reason. */
typedef struct stw_suppress_counts {
    size_t ignored, baselined, layers;
} stw_suppress_counts;

/* The ignore file, as stw_suppress_parse_ignore() reads it (messages name
 * "FILE:LINE: ..."). One entry per line:
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

/* Ignore-file entries in force (not expired). */
size_t stw_suppress_ignore_count(const stw_suppress *s);

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

#endif
