/* report.h - renders the results of one scan for people (an 80-column
 * table, one HTML page) and for tools (the JSON report documented in
 * docs/json-report.md, and SARIF 2.1.0 for code scanning services,
 * docs/ci.md), and counts what --fail-on gates on.
 * Renderers only write to the FILE* they are given; they hold no state, so
 * the same results always render to the same bytes. */
#ifndef STW_REPORT_H
#define STW_REPORT_H

#include "results.h"
#include "rules.h"
#include "stowaway/stowaway.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Version of the JSON report's shape ("schema" key). Bumped only when a key
 * is removed or changes meaning; adding keys keeps it. */
#define STW_REPORT_JSON_SCHEMA 1

/* Width the table renderer keeps every line within. */
#define STW_REPORT_COLUMNS 80

/* Results in one SARIF run: GitHub code scanning rejects a run with more.
 * Past it the most severe findings are kept and the run says how many were
 * left out. */
#define STW_REPORT_SARIF_MAX_RESULTS 25000
/* Characters of a layer's history line kept in a SARIF result: build
 * commands can be kilobytes of shell, repeated in every result. */
#define STW_REPORT_SARIF_CREATED_BY_MAX 200

/* stw_report_format and stw_report_format_parse() are public
 * (stowaway/stowaway.h). */

/* Writes the JSON report of r to out, ending with a newline. r and out are
 * borrowed. Strings that are not valid UTF-8 (paths come from untrusted tar
 * headers) are rendered with each invalid byte replaced by U+FFFD. Returns
 * STW_ERR_NOMEM or STW_ERR_IO (write failed) with err filled; out may then
 * hold a partial report. */
stw_status stw_report_json(const stw_results *r, FILE *out, stw_error *err);

/* Writes r as a SARIF 2.1.0 log with one run, ending with a newline: one
 * result per finding (at most STW_REPORT_SARIF_MAX_RESULTS, the most severe
 * first to go in), and tool.driver.rules describing every rule that has a
 * result. rules (borrowed, may be NULL) supplies titles and remediations;
 * the metadata rules (setuid-file...) and rules it does not know get
 * built-in text. Errors become the run's toolExecutionNotifications.
 * Deterministic like stw_report_json(), and fails like it. */
stw_status stw_report_sarif(const stw_results *r, const stw_rules *rules,
                            FILE *out, stw_error *err);

/* Writes the human-readable table of r to out: per image its findings,
 * most severe first and by layer among equals (a layer's header line above
 * each run of its findings), stock setuid/setgid binaries and published
 * test keys folded into one line per layer each (unless verbose), then
 * errors, then a summary line; a single "no findings in N images (N
 * layers)" line when nothing was found.
 * Every line fits STW_REPORT_COLUMNS columns (ANSI colour codes aside);
 * control characters and invalid UTF-8 from the image are shown as '?', so
 * a hostile file name cannot drive the terminal. color adds ANSI colours;
 * the caller decides (TTY, NO_COLOR). Fails like stw_report_json(). */
stw_status stw_report_table(const stw_results *r, bool color, FILE *out,
                            stw_error *err);

/* Options of stw_report_table_ex(). Zero-initialised: no colour, no
 * remediation lines (what stw_report_table() prints). */
typedef struct stw_table_options {
    bool color;
    /* A "fix:" line under the first finding of each rule in a layer: a
     * one-line remediation (stw_report_remediation_line()). */
    bool remediation;
    const stw_rules *rules; /* borrowed, may be NULL: remediation texts */
    /* Every finding on a line of its own. Without it, stock setuid/setgid
     * binaries of a distribution and published test keys - nothing to act
     * on - fold into one line per layer each, after the findings that
     * matter. */
    bool verbose;
    /* --show-secrets: the plaintext of a finding by fingerprint, or NULL
     * when not known (a layer reused from the store). NULL function: the
     * table never shows a secret. Terminal tables only: no other renderer
     * takes this. */
    const char *(*secret_of)(void *ctx, const char *fingerprint);
    void *secret_ctx;
} stw_table_options;

/* The table of stw_report_table() with options (opt may be NULL). */
stw_status stw_report_table_ex(const stw_results *r,
                               const stw_table_options *opt, FILE *out,
                               stw_error *err);

/* The remediation of a rule: the rule set's text (rules borrowed, may be
 * NULL), else the built-in text of a metadata rule, else one by kind.
 * Static or borrowed from rules; never NULL. */
const char *stw_report_remediation(const stw_rules *rules, const char *rule,
                                   stw_kind kind);

/* A remediation of at most max columns for finding f, for one table line:
 * the rule's own text or its first sentence when it fits, else a short one
 * by kind that names the file where it helps ("add .git to
 * .dockerignore"). Written into buf (n bytes, always NUL-terminated). */
void stw_report_remediation_line(const stw_rules *rules, const stw_rfinding *f,
                                 size_t max, char *buf, size_t n);

/* Writes r as one self-contained HTML page (inline CSS and script, no
 * network access; docs/cli.md#html-report): per image its stack of layers
 * with their instructions, sizes and findings, deleted-but-recoverable
 * findings marked, and filters by severity and kind. Every string from the
 * image is escaped, so hostile paths or history lines cannot inject markup.
 * rules (borrowed, may be NULL) supplies titles and remediations.
 * Deterministic; fails like stw_report_json(). */
stw_status stw_report_html(const stw_results *r, const stw_rules *rules,
                           FILE *out, stw_error *err);

/* Writes r in format: the table with opt (borrowed, may be NULL, as for
 * stw_report_table_ex()), or the JSON, SARIF or HTML report, which take
 * only opt->rules for their rule titles and remediations. Fails like the
 * renderer it calls. */
stw_status stw_report_write(const stw_results *r, stw_report_format format,
                            const stw_table_options *opt, FILE *out,
                            stw_error *err);

/* Number of findings in r with severity >= min, visible or not (a deleted
 * secret is still in the image): what --fail-on compares against. */
size_t stw_report_count_at_least(const stw_results *r, stw_severity min);

/* Like stw_report_count_at_least(), but with include_hidden false the
 * findings a later layer deleted or replaced (visible false) do not count:
 * what --ignore-hidden compares against. */
size_t stw_report_count_gating(const stw_results *r, stw_severity min,
                               bool include_hidden);

#endif
