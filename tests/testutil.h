/* testutil.h - helpers shared by the Check unit tests. */
#ifndef STW_TESTUTIL_H
#define STW_TESTUTIL_H

#include "stowaway/stowaway.h"

#include <check.h>
#include <stdbool.h>
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

/* One regular file (mode 0644) of an archive tu_archive writes; borrowed. */
typedef struct tu_file {
    const char *name;
    const void *data;
    size_t len;
} tu_file;

/* The n files, in order, as one archive in memory: format "tar" (pax),
 * "tar.gz", "tar.zst", "tar.xz", "zip" (deflated), "zip-stored", "ar"
 * (System V, as in a .deb), "cpio" (newc) or "7z". The result
 * is malloc'd (owned by the caller) and *len is its length. Aborts the test on
 * failure. */
void *tu_archive(const char *format, const tu_file *f, size_t n, size_t *len);

/* Runs every test of s, frees it, and returns main's exit status. */
int tu_run(Suite *s);

struct stw_rules;
struct stw_matcher;
/* The built-in rules and a matcher over them (both transferred: destroy
 * the matcher first); aborts the test on failure. */
void tu_builtin_matcher(struct stw_rules **rules, struct stw_matcher **m);

/* The first true-positive example of rule id (a real, throwaway secret;
 * borrowed from rules). Aborts the test when there is no such rule. */
const char *tu_rule_example(const struct stw_rules *rules, const char *id);

/* A checked fixture of the built-in rules: tu_rules holds them between
 * tu_rules_setup and tu_rules_teardown. */
extern struct stw_rules *tu_rules;
void tu_rules_setup(void);
void tu_rules_teardown(void);

/* A read callback (stw_read_fn, ctx a tu_mem) that hands out p/len as one
 * piece, then the end. */
typedef struct tu_mem {
    const unsigned char *p;
    size_t len;
    bool done;
} tu_mem;
stw_status tu_mem_read(void *ctx, const void **buf, size_t *len,
                       stw_error *err);

#endif
