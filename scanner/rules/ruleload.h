/* ruleload.h - the in-memory form of a rule, shared by the YAML loader
 * (ruleload.c), the compiler (rules.c) and the matcher (matcher.c). This is
 * the private layout behind the opaque stw_rules: nothing outside those three
 * files may include it. */
#ifndef STW_RULELOAD_H
#define STW_RULELOAD_H

#define PCRE2_CODE_UNIT_WIDTH 8

#include "rules.h"
#include "validate.h"

#include <hs/hs.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How the matcher finds candidate windows for a content rule. */
typedef enum stw_rule_mode {
    STW_MODE_KEYWORD = 0, /* vectorscan literal keyword hits */
    STW_MODE_PREFILTER,   /* the regex itself, vectorscan HS_FLAG_PREFILTER */
    STW_MODE_FULL,        /* vectorscan refused the regex: PCRE2 on all */
    STW_MODE_PATH_ONLY    /* no regex: the rule is about the path alone */
} stw_rule_mode;

/* One allow rule: suppresses a finding when regex matches the secret, the
 * whole match or its line, or when path matches the file path. */
typedef struct stw_allow {
    char *id;
    char *description;
    char *regex_src; /* NULL when absent */
    char *path_src;  /* NULL when absent */
    pcre2_code *re;
    pcre2_code *path_re;
    uint32_t path_slot; /* path_re's slot in stw_rules.path_db; 0 = none */
} stw_allow;

/* A list of strings, each owned by the list. */
typedef struct stw_strlist {
    char **v;
    size_t n;
} stw_strlist;

/* One rule. info is the first member so &rule->info can be handed out as
 * the rule's public view. Every string is owned by the rule. */
typedef struct stw_rule {
    stw_rule_info info; /* id/title/category/remediation point into below */
    char *id, *title, *category, *remediation;
    char *file; /* base name of the file it came from, for messages */
    int line;   /* 1-based line of the rule in that file */

    char *regex_src;         /* NULL for a path-only rule */
    char *secret_group_name; /* NULL: the whole match is the secret */
    char *path_src;          /* NULL: every path */
    char **keywords;
    size_t n_keywords;
    /* `keyword-next:` a bracket expression the byte after a keyword must
     * match for the hit to count; NULL = any byte, or none. */
    char *keyword_next;
    stw_allow *allows;
    size_t n_allows;
    double entropy;  /* minimum Shannon bits/char of the secret; 0 = none */
    char *validator; /* name from validate.h; NULL = none */
    uint32_t window; /* `window:` in bytes; 0 = default by kind */
    /* `window-before:` bytes before a keyword hit that a match may start;
     * for rules whose match starts at (or just before) the keyword, a
     * small value keeps confirmation from rescanning text before every
     * hit of a common keyword ("https://"). */
    uint32_t window_before;
    bool has_window_before;

    /* Trivy's `exclude-block: {regexes: [...]}`: a secret inside a match
     * of one of them is dropped. */
    stw_strlist exclude_src;
    bool builtin; /* from signatures/, not a --rules file */

    char **tp, **fp; /* examples: must match / must not match */
    size_t n_tp, n_fp;
    char *example_path; /* path the examples are scanned as; NULL = default */

    /* Filled by the compiler (rules.c). */
    pcre2_code *re;
    pcre2_code *path_re;
    uint32_t secret_group; /* 0 = whole match */
    stw_validator_fn validate;
    stw_rule_mode mode;
    uint32_t hit_before, hit_after; /* confirmation window around a hit */
    uint32_t body_group;     /* group named "body" when it is not the secret:
                                placeholder and entropy checks look at it */
    bool generic;            /* category "generic": yields to a specific rule
                                whose secret overlaps */
    bool checksum;           /* the validator checks an issuer's checksum: a
                                match it rejects still silences generic rules
                                on the same secret */
    uint32_t path_slot;      /* path_re's slot in stw_rules.path_db; 0 = none */
    pcre2_code **exclude_re; /* exclude_src.n programs */
    bool start_at_hit;       /* keywords and window-before: a match contains a
                                keyword and starts at most hit_before bytes
                                before it, so a window bounds match starts to
                                [hit - hit_before, hit] (PCRE2 offset limit) */
} stw_rule;

/* A published test key (known-test-keys: in a rule file): a finding whose
 * secret hashes to sha256 is lowered to severity info and carries detail
 * "published test key: <source>". */
typedef struct stw_known_key {
    char sha256[65]; /* lowercase hex */
    char *source;
    char *reason;
    char *detail; /* "published test key: <source>", built by the compiler */
} stw_known_key;

/* One Trivy built-in rule id (`trivy-ids:` of a rule file) and the rules
 * that stand for it here, or why none does; a Trivy config's
 * enable-builtin-rules and disable-rules may name it. */
typedef struct stw_trivy_id {
    char *id;
    stw_strlist rules; /* empty when reason is set */
    char *reason;
} stw_trivy_id;

/* A parsed rule file: its rules and its file-wide allow rules (which apply
 * to every rule of the final set), and the parts of Trivy's secret config
 * that select rules (they act on the rules loaded before the file). */
typedef struct stw_rulefile {
    char *name;
    stw_rule *rules;
    size_t n_rules;
    stw_allow *allows;
    size_t n_allows;
    char *version; /* the optional `version:` value, or NULL */
    stw_known_key *known;
    size_t n_known;
    stw_trivy_id *trivy;
    size_t n_trivy;
    stw_strlist enable_builtin; /* enable-builtin-rules */
    stw_strlist disable;        /* disable-rules */
    stw_strlist disable_allows; /* disable-allow-rules */
    stw_strlist exclude_src;    /* top-level exclude-block regexes */
    stw_strlist skip_patterns;  /* skip-patterns (globs) */
} stw_rulefile;

/* One rule a vectorscan hit opens a confirmation window for. */
typedef struct stw_pattern {
    uint32_t rule;
    bool is_regex;  /* prefilter regex (hit is a match end) vs keyword */
    uint32_t kwlen; /* keyword length: the hit's `to` minus this is its start */
    uint32_t tail;  /* bytes matched after the keyword (keyword-next: 1) */
} stw_pattern;

/* One vectorscan database and what its hits mean. A keyword several rules
 * share ("token", "secret") is one caseless pattern, so it is found and
 * reported once: pattern id i opens windows for targets[first[i]] up to
 * targets[first[i + 1]]. */
typedef struct stw_prefilter {
    hs_database_t *db; /* NULL when no rule of the set needs one */
    stw_pattern *targets;
    uint32_t *first; /* n_ids + 1 entries */
    size_t n_ids;
    /* Pattern ids n_ids .. n_ids + n_gates - 1 are decode.h's gate
     * expressions (the set every file is scanned with carries them):
     * they open no window. */
    size_t n_gates;
} stw_prefilter;

/* The compiled set (the layout behind the opaque stw_rules). */
struct stw_rules {
    stw_rule *rules;
    size_t n_rules;
    stw_allow *allows; /* global allow rules from every file */
    size_t n_allows;
    /* Rules for every path, scanned over every file; and rules with a
     * path regex (.env, shadow, .git-credentials), whose common keywords
     * ("key", "://") would otherwise be reported in every file only to
     * be dropped: that set is scanned only where its path turns one on. */
    stw_prefilter content;
    stw_prefilter content_path;
    uint32_t *full_rules; /* rules scanned by PCRE2 over every window */
    size_t n_full_rules;
    /* Rules a path can switch off or on (a path regex, a path-only allow
     * rule): the only ones stw_matcher_begin examines per file; the rest
     * are on unless a global allow rule matches the path. */
    uint32_t *path_rules;
    size_t n_path_rules;
    uint32_t max_captures; /* largest capture count of any regex */
    /* Every rule's path regex and every path-only allow rule's, as one
     * vectorscan prefilter over the path: a file runs PCRE2 only for the
     * path regexes whose slot it reports, not ~30 of them per file. Slot
     * ids are 1..n_path_slots - 1; path_always[slot] marks the regexes
     * vectorscan refuses, which PCRE2 always decides. */
    hs_database_t *path_db; /* NULL when there is no path regex */
    uint32_t n_path_slots;
    unsigned char *path_always;
    pcre2_code **excludes; /* top-level exclude-block regexes */
    size_t n_excludes;
    stw_strlist exclude_src; /* their sources, for the version hash */
    stw_known_key *known;    /* sorted by sha256 for bsearch */
    size_t n_known;
    char version[17];
    stw_rules_cache_use cache_use; /* where the prefilter came from */
    char cache_why[512];           /* stw_rules_cache_state's why */
};

/* Parses YAML text (len bytes, need not be NUL-terminated) of the file named
 * name into *out (fields zeroed first). Syntax, type, unknown-field and
 * missing-field errors name the file, the rule and the problem; nothing is
 * compiled here. On failure *out is left freed. */
stw_status stw_rulefile_parse(const char *name, const char *text, size_t len,
                              stw_rulefile *out, stw_error *err);
/* Frees what stw_rulefile_parse filled; the struct itself is the caller's. */
void stw_rulefile_free(stw_rulefile *f);

/* Frees one rule's strings and compiled programs (not the struct). */
void stw_rule_free(stw_rule *r);
/* Frees one allow rule's strings and programs (not the struct). */
void stw_allow_free(stw_allow *a);
/* Frees one known key's strings (not the struct). */
void stw_known_key_free(stw_known_key *k);
/* Frees a list's strings and array and empties it. */
void stw_strlist_free(stw_strlist *l);
/* Frees one Trivy id entry's strings (not the struct). */
void stw_trivy_id_free(stw_trivy_id *t);

#endif
