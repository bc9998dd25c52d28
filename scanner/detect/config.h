/* config.h - the image config detector: an image config's Env values and
 * history created_by strings, where ARG and --build-arg values leak, scanned
 * with the same rules as file content; and, for each history entry that
 * held a secret, a redacted copy for reports to show instead. Knows nothing
 * of JSON: the caller hands over the strings. */
#ifndef STW_CONFIG_H
#define STW_CONFIG_H

#include "finding.h"
#include "matcher.h"

#include <stddef.h>

/* The strings of one image config, borrowed for the call. env: the Env
 * entries ("NAME=value"). created_by: that of every history entry in
 * order, NULL where an entry has none, so that an index keeps naming its
 * entry. NULL entries are skipped. */
typedef struct stw_config_strings {
    const char *const *env;
    size_t n_env;
    const char *const *created_by;
    size_t n_history;
} stw_config_strings;

/* The history entries that held a secret, each with its redacted copy. */
typedef struct stw_config_redactions stw_config_redactions;

/* Takes one note (borrowed for the call) about what a scan left unchecked;
 * a failure stops the scan with that status. */
typedef stw_status (*stw_config_note_fn)(void *ctx, const char *note);

/* Scans every string of c with m (borrowed: the caller's scratch over the
 * rules, as for layer content) and adds the findings to out (borrowed),
 * then keeps one finding per secret in out. Findings have path "<config>"
 * and a detail naming where ("Env NAME", "history entry N"), never the
 * value. A string whose scan a regex's match limit left partly unchecked
 * is one note to note(note_ctx, ...) naming where and the rule ("Env
 * NAME: rule 'x': the regex hit its match limit; ..."), as for a file of
 * a layer; note may be NULL to drop them. m's own notes are cleared.
 * *red is transferred to the caller, NULL when no history entry held a
 * secret. On failure *red is NULL, err says why, and out may hold part of
 * the findings. */
stw_status stw_config_scan(stw_matcher *m, const stw_config_strings *c,
                           stw_finding_list *out, stw_config_redactions **red,
                           stw_config_note_fn note, void *note_ctx,
                           stw_error *err);

/* The history text a report may show for created_by: its redacted copy
 * when that entry held a secret, else created_by itself. Borrowed from red
 * or created_by. red and created_by may be NULL. */
const char *stw_config_shown(const stw_config_redactions *red,
                             const char *created_by);

/* Accepts NULL. */
void stw_config_redactions_destroy(stw_config_redactions *red);

#endif
