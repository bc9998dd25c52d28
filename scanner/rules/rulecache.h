/* rulecache.h - the compiled rule set's vectorscan part kept on disk, so a
 * small scan does not pay its compile time on every run (about 120 ms of
 * the built-ins' 130 ms; PCRE2 compile and JIT are a few ms and cannot be
 * serialised whole, so they are not cached). An entry is named by a
 * SHA-256 key over everything vectorscan was given and the code and
 * library that built it; it is read as untrusted input: any mismatch,
 * truncation or error is a miss, after which the caller compiles from
 * source exactly as without a cache. Private to scanner/rules/. */
#ifndef STW_RULECACHE_H
#define STW_RULECACHE_H

#include "ruleload.h"

#include <stdbool.h>
#include <stddef.h>

#define STW_RULECACHE_KEY_LEN 32

/* What an entry holds: the decisions that took a vectorscan compile each
 * (which regexes vectorscan accepts as a prefilter, and as a path
 * prefilter) and the three databases. */
typedef struct stw_hs_parts {
    unsigned char *modes; /* n_rules stw_rule_mode values */
    size_t n_rules;
    unsigned char *path_always; /* n_path_slots bytes, NULL when 0 */
    size_t n_path_slots;
    hs_database_t *content, *content_path, *path; /* NULL: none */
} stw_hs_parts;

/* Frees what p holds (not p) and zeroes it. */
void stw_hs_parts_free(stw_hs_parts *p);

/* The entry key of rs, whose rules are compiled (modes of rules without
 * keywords still undecided) but whose databases are not built: covers the
 * rules' keywords, regexes, path regexes and allow rules in order, the
 * entry format, stowaway's version, vectorscan's version and the CPU
 * features it compiles for. */
stw_status stw_rulecache_key(const stw_rules *rs,
                             unsigned char key[STW_RULECACHE_KEY_LEN],
                             stw_error *err);

/* Reads the entry for key under dir/rules/ into *out (transferred; zeroed
 * on a miss). Returns true on a hit. On a miss, why (why_len bytes) says
 * what was wrong, or is empty when there simply was no entry. max_bytes
 * bounds the payload read. Never fails otherwise: a cache is optional. */
bool stw_rulecache_load(const char *dir,
                        const unsigned char key[STW_RULECACHE_KEY_LEN],
                        size_t max_bytes, stw_hs_parts *out, char *why,
                        size_t why_len);

/* Writes p (borrowed) as the entry for key under dir/rules/, creating dir
 * and dir/rules (mode 0700) if missing: to a temporary file renamed into
 * place, so a reader or a second writer never sees half an entry; then
 * removes the least recently used entries past STW_RULECACHE_KEEP. Returns
 * false with why filled when nothing was stored. */
bool stw_rulecache_store(const char *dir,
                         const unsigned char key[STW_RULECACHE_KEY_LEN],
                         const stw_hs_parts *p, char *why, size_t why_len);

#endif
