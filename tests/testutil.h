/* testutil.h - helpers shared by the Check unit tests. */
#ifndef STW_TESTUTIL_H
#define STW_TESTUTIL_H

#include <stddef.h>

/* Creates a fresh empty directory under $STW_TMPDIR (or /tmp) named after
 * tag and returns its path (static storage per call site is not assumed:
 * the result is malloc'd and owned by the caller). Aborts the test on
 * failure. */
char *tu_mkdtemp(const char *tag);

/* Writes n bytes to path; aborts the test on failure. */
void tu_write_file(const char *path, const void *data, size_t n);

/* Reads a whole file (malloc'd, NUL-terminated); *n gets its length. */
char *tu_read_file(const char *path, size_t *n);

/* Joins dir and name into a malloc'd path. */
char *tu_path(const char *dir, const char *name);

struct stw_rules;
struct stw_matcher;
/* The built-in rules and a matcher over them (both transferred: destroy
 * the matcher first); aborts the test on failure. */
void tu_builtin_matcher(struct stw_rules **rules, struct stw_matcher **m);

#endif
