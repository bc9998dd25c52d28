/* report.h - renders the results of one scan for people (an 80-column
 * table) and for tools (the JSON report documented in docs/json-report.md).
 * Renderers only write to the FILE* they are given; they hold no state, so
 * the same results always render to the same bytes. */
#ifndef STW_REPORT_H
#define STW_REPORT_H

#include "results.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Version of the JSON report's shape ("schema" key). Bumped only when a key
 * is removed or changes meaning; adding keys keeps it. */
#define STW_REPORT_JSON_SCHEMA 1

/* Width the table renderer keeps every line within. */
#define STW_REPORT_COLUMNS 80

typedef enum stw_report_format {
    STW_REPORT_TABLE = 0,
    STW_REPORT_JSON = 1
} stw_report_format;

/* Parses "table" or "json"; STW_ERR_USAGE for anything else (out unchanged).
 */
stw_status stw_report_format_parse(const char *s, stw_report_format *out);

/* Writes the JSON report of r to out, ending with a newline. r and out are
 * borrowed. Strings that are not valid UTF-8 (paths come from untrusted tar
 * headers) are rendered with each invalid byte replaced by U+FFFD. Returns
 * STW_ERR_NOMEM or STW_ERR_IO (write failed) with err filled; out may then
 * hold a partial report. */
stw_status stw_report_json(const stw_results *r, FILE *out, stw_error *err);

/* Writes the human-readable table of r to out: per image its layers that
 * have findings, then config findings, then errors, then a summary line; a
 * single "no findings in N images (N layers)" line when nothing was found.
 * Every line fits STW_REPORT_COLUMNS columns (ANSI colour codes aside);
 * control characters and invalid UTF-8 from the image are shown as '?', so
 * a hostile file name cannot drive the terminal. color adds ANSI colours;
 * the caller decides (TTY, NO_COLOR). Fails like stw_report_json(). */
stw_status stw_report_table(const stw_results *r, bool color, FILE *out,
                            stw_error *err);

/* Number of findings in r with severity >= min, visible or not (a deleted
 * secret is still in the image): what --fail-on compares against. */
size_t stw_report_count_at_least(const stw_results *r, stw_severity min);

#endif
