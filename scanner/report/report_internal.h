/* report_internal.h - what the renderers of the report stage (table.c,
 * json.c, sarif.c, html.c) share, and nothing outside scanner/report/ may
 * use: UTF-8 handling of text from untrusted images, the history line as
 * reports show it, error lines, rule titles and remediations, the JSON
 * builders and the final check of the output. report.h stays the stage's
 * API. */
#ifndef STW_REPORT_INTERNAL_H
#define STW_REPORT_INTERNAL_H

#include "report.h"

#include <jansson.h>
#include <stdint.h>

/* U+2026, the mark of a cut in every renderer. */
#define STW_ELLIPSIS "\xe2\x80\xa6"

/* ---- UTF-8 (text.c) ------------------------------------------------------
 * Paths and history lines come from untrusted images and need not be UTF-8;
 * every renderer must still produce valid text. */

/* Decodes one code point at s (n > 0 bytes left). Returns its length, or 0
 * for an invalid, overlong, surrogate or truncated sequence (*cp is then
 * unspecified). */
size_t stw_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* The bytes one replacement character stands for at s (n > 0 bytes left):
 * the length its lead byte announces when all its continuation bytes
 * follow, whatever they encode (an overlong form, a surrogate), else 1. */
size_t stw_utf8_skip(const unsigned char *s, size_t n);

/* Code points that would let a file name rewrite the terminal or reorder
 * what a reader sees: C0/C1 controls, DEL and the bidi overrides. */
bool stw_cp_unsafe(uint32_t c);

/* s (n bytes) as valid UTF-8: each invalid byte becomes U+FFFD. Transferred
 * to the caller, NUL-terminated, length in *len; NULL when out of memory. */
char *stw_utf8_fix(const char *s, size_t n, size_t *len);

/* Byte offset of the col-th code point of valid UTF-8 s (its length when s
 * has fewer). */
size_t stw_utf8_at(const char *s, size_t col);

/* ---- shared text (text.c) ------------------------------------------------ */

/* A layer's history line as every report shows it: s (borrowed) without
 * the legacy builder's "/bin/sh -c #(nop) " prefix, which only costs
 * columns; "" for NULL. Points into s. */
const char *stw_created_by_shown(const char *s);

/* "target: message" for a scan error, or the message alone when it names
 * the target already (most do). Transferred to the caller; NULL when out
 * of memory. */
char *stw_rerror_text(const stw_rerror *e);

/* A rule's title: the rule set's (info may be NULL), else the built-in
 * title of a metadata rule, else id. Never NULL. */
const char *stw_rule_title(const stw_rule_info *info, const char *id);

/* Where in a repository's history a finding was made, as a person reads it:
 * "history 3f2a9c1: config/deploy.env", "history 3f2a9c1: commit message",
 * "history: config/deploy.env (unreachable)"; "" for any other finding.
 * Writes at most n bytes (NUL included) into buf and returns it. */
const char *stw_git_where(const stw_rfinding *f, char *buf, size_t n);
#define STW_GIT_WHERE_MAX 512

/* A rule's remediation: the rule set's (info may be NULL), else the
 * built-in text of a metadata rule, else one by kind. Static or borrowed
 * from info; never NULL. */
const char *stw_rule_remedy(const stw_rule_info *info, const char *id,
                            stw_kind kind);

/* ---- what a reader need not act on (text.c) ------------------------------
 * The table and the HTML page fold these into one line per layer unless
 * asked for everything; JSON, SARIF and the database never do. */

typedef enum stw_fold {
    STW_FOLD_NONE = 0,
    /* A setuid/setgid binary that a distribution installs so on purpose
     * (detect/meta.c rates exactly those low). */
    STW_FOLD_STOCK_PRIVILEGED,
    /* A key published on purpose (known-test-keys: lowered it to info). */
    STW_FOLD_TEST_KEY
} stw_fold;
#define STW_FOLD_COUNT_ 3

stw_fold stw_fold_of(const stw_rfinding *f);

/* The fix a reader is told for a published test key, which needs none. */
#define STW_TEST_KEY_FIX "published test key, nothing to rotate"

/* qsort comparator over const stw_rfinding pointers into one results
 * array: image, then severity (most severe first), then layer (config
 * last), then the given order - so output stays deterministic. */
int stw_cmp_reading_order(const void *pa, const void *pb);

/* The line that stands for the n findings f[] (borrowed, one layer, one
 * class): "10 setuid/setgid binaries (su, passwd, mount, …)" counting
 * distinct paths and naming their last components while the whole fits in
 * max columns. Sorts f by path. Written into buf (cap bytes, always
 * NUL-terminated; file names from the image are not yet made safe for a
 * terminal or a page). Returns false when out of memory. */
bool stw_fold_line(stw_fold cls, const stw_rfinding **f, size_t n, size_t max,
                   char *buf, size_t cap);

/* ---- JSON builders (json.c), for the JSON and SARIF reports ---------------
 * Builders record the first failure (a NULL value means out of memory) in
 * *ok instead of checking every call; jansson frees a NULL-safe value. */

/* A JSON string for s; NULL becomes null. Invalid UTF-8 bytes become
 * U+FFFD because jansson rejects them and the report must still be
 * produced. NULL when out of memory. */
json_t *stw_json_str(const char *s);
/* Like stw_json_str(), but "" (unknown in stw_results) is null too. */
json_t *stw_json_str_or_null(const char *s);
json_t *stw_json_int_or_null(bool present, int64_t v);

/* Sets obj[key] / appends to arr; v is consumed either way. */
void stw_json_put(json_t *obj, const char *key, json_t *v, int *ok);
void stw_json_push(json_t *arr, json_t *v, int *ok);

/* Adds to o what the JSON and SARIF reports both say of image im: ref and
 * the two digests and platform, in that order. */
void stw_json_put_image_ids(json_t *o, const stw_rimage *im, int *ok);
/* Adds "mode", "uid" and "gid" of f, null when f has no mode. */
void stw_json_put_mode(json_t *o, const stw_rfinding *f, int *ok);
/* Adds "git" (null, or where in a repository's history f was made:
 * source, commit, path, in_worktree, reachable) and "in_history". */
void stw_json_put_git(json_t *o, const stw_rfinding *f, int *ok);

/* Writes root (consumed) as indented JSON and a newline, and checks the
 * output like stw_report_finish(). what ("JSON", "SARIF") names the report
 * in messages. */
stw_status stw_json_write(json_t *root, FILE *out, const char *what,
                          stw_error *err);

/* ---- output (report.c) --------------------------------------------------- */

/* Flushes out and turns a failed write into STW_ERR_IO. */
stw_status stw_report_finish(FILE *out, stw_error *err);

#endif
