/* rules.h - the compiled rule set: loaded once from YAML (the built-in
 * signatures/ files plus user files), compiled into one vectorscan database
 * for the prefilter and one PCRE2 JIT program per rule for confirmation, and
 * immutable afterwards so every worker thread can share it (yara's
 * compiler -> rules split). Per-thread scratch lives in stw_matcher. */
#ifndef STW_RULES_H
#define STW_RULES_H

#include "stowaway/stowaway.h"

#include <stddef.h>

/* How the detail of a finding of a published test key (known-test-keys:
 * in a rule file) starts; the source of the key follows. Reports read it
 * to tell such a finding from a leak: nothing to rotate. */
#define STW_TEST_KEY_DETAIL "published test key: "

typedef struct stw_rules_options {
    const char *const *files;    /* extra rule files (YAML); borrowed */
    size_t n_files;              /* a rule with an existing id overrides it */
    const char *const *disabled; /* rule ids to drop; borrowed */
    size_t n_disabled;
    int no_builtin; /* non-zero: skip the built-in rules */
    /* Caps (0: STW_MAX_RULES, STW_MAX_COMPILED_BYTES): rules in all, and
     * bytes of compiled regexes plus prefilter databases. Past either,
     * stw_rules_create fails with STW_ERR_LIMIT naming the rule file. */
    size_t max_rules;
    size_t max_compiled_bytes;
    /* stw_rules_options_set_cache_dir; borrowed, NULL: no cache */
    const char *cache_dir;
} stw_rules_options;

/* Loads and compiles. On error names the file, the rule id and the problem
 * (e.g. "rules.yaml: rule 'x': regex: missing ) at offset 4"). *out
 * transferred to the caller. opt may be NULL (built-in rules only). */
stw_status stw_rules_create(const stw_rules_options *opt, stw_rules **out,
                            stw_error *err);
void stw_rules_destroy(stw_rules *r);

/* sha256 hex (first 16 digits) over the compiled rule texts: a cached layer
 * is reused only if it was scanned with the same version. Borrowed. */
const char *stw_rules_version(const stw_rules *r);

/* Read-only view of one rule, for `stowaway rules list` and reports. */
typedef struct stw_rule_info {
    const char *id;
    const char *title;
    const char *category;
    const char *remediation; /* may be NULL */
    stw_kind kind;
    stw_severity severity;
} stw_rule_info;

size_t stw_rules_count(const stw_rules *r);
/* Borrowed pointers valid while r lives. Returns STW_ERR_NOT_FOUND when
 * i >= count. */
stw_status stw_rules_info(const stw_rules *r, size_t i, stw_rule_info *out);
/* Looks a rule up by id; NULL if none. */
const stw_rule_info *stw_rules_find(const stw_rules *r, const char *id);

/* One example string of rule i, as written in its rule file under
 * `examples:`, for self-tests: tp non-zero selects the strings that must
 * match, zero those that must not; j indexes them. *text and *path (the file
 * path to scan the example as) are borrowed while r lives. Returns
 * STW_ERR_NOT_FOUND when i or j is past the end. */
stw_status stw_rules_example(const stw_rules *r, size_t i, int tp, size_t j,
                             const char **text, const char **path);

#endif
