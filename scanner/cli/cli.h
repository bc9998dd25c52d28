/* cli.h - what the stowaway commands (main.c, cmd_*.c) share: the parsed
 * options and the parser of the report options `scan` and `report` both
 * take, the exit statuses, the database path, rendering a report with
 * suppression applied, and the summary line. CLI code: it prints. */
#ifndef STW_CLI_H
#define STW_CLI_H

#include "stowaway/stowaway.h"

#include <stdbool.h>
#include <stdio.h>

enum { EXIT_CLEAN = 0, EXIT_FINDINGS = 1, EXIT_ERROR = 2 };

#define CLI_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Fills err (may be NULL) with st and the formatted message; returns st.
 * The CLI's own errors travel in a stw_error like the library's, so one
 * printer shows both. */
stw_status cli_fail(stw_error *err, stw_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* errno's text in buf (strerror is not thread-safe); returns buf. */
const char *cli_strerror(int errnum, char *buf, size_t len);

/* Findings suppressed, by reason, for the summary line. */
typedef struct cli_suppress_counts {
    size_t ignored, baselined, layers;
} cli_suppress_counts;

/* The ignore file read from the current directory unless --ignore-file. */
#define CLI_IGNORE_FILE ".stowawayignore"

/* Everything the command line decides, passed around instead of globals.
 * Strings are borrowed from argv; arrays are owned by the command. */
typedef struct cli_options {
    const char *db; /* --db FILE, or NULL for the default path */
    bool no_db;     /* --no-db: in-memory store */
    stw_report_format format;
    const char *output; /* -o FILE, or NULL for standard output */
    stw_severity fail_on;
    bool exit_zero;     /* --exit-zero: findings never fail the run */
    bool ignore_hidden; /* --ignore-hidden: deleted findings do not count */
    /* A report, gating or suppression option was given (not -o or
     * --no-ignore-file): `baseline` refuses them. */
    bool report_opts;
    const char *platform;
    int jobs;
    /* files inside files: --max-depth (no_nested for 0), and the bounds */
    bool no_nested;
    unsigned max_depth;
    uint64_t max_nested_bytes, max_nested_members;
    bool no_git_history;
    uint64_t max_git_bytes;
    bool verify_diff_ids; /* --verify-diff-ids */
    bool trust_cache;     /* --trust-cache */
    bool no_rules_cache;  /* --no-rules-cache */
    bool quiet;
    bool verbose; /* -v: the table lists every finding, folds none */
    bool help;
    char **targets;
    size_t n_targets;
    const char **rule_files; /* --rules FILE, repeatable */
    size_t n_rule_files;
    const char **disabled; /* --disable-rule ID, repeatable */
    size_t n_disabled;
    const char *repo_glob;       /* --repo GLOB (registry storage) */
    const char *tag_glob;        /* --tag GLOB (registry storage) */
    const char *ca_cert;         /* --ca-cert FILE (remote images) */
    bool show_secrets;           /* --show-secrets: table on a terminal only */
    struct cli_secrets *secrets; /* plaintexts seen by this run */
    const char **insecure;       /* --insecure-registry HOST:PORT, repeatable */
    long timeout_s;              /* --timeout SECONDS (remote images), 0 =
                                    default */
    size_t n_insecure;
    /* Suppression (docs/cli.md#suppressing-findings). */
    const char *ignore_file;  /* --ignore-file FILE */
    bool no_ignore_file;      /* --no-ignore-file */
    const char *baseline;     /* --baseline FILE */
    const char **skip_layers; /* --skip-layer DIGEST, repeatable */
    size_t n_skip_layers;
    const char **base_images; /* --base-image TARGET, repeatable */
    size_t n_base_images;
    /* report --db */
    const char *image_glob; /* --image REF */
    const char *rule_id;    /* --rule ID */
    /* Batch scans (docs/batch.md). */
    bool batch_registry; /* `batch registry REGISTRY` */
    int page_size;       /* --page-size N (registry listings) */
    bool has_since;      /* --since DATE given */
    int64_t since;       /* ... as seconds since the epoch */
    unsigned shard_k;    /* --shard K/N; shard_n 0 when not sharded */
    unsigned shard_n;
    bool by_layer;             /* report --by-layer */
    stw_severity min_severity; /* report --by-layer --min-severity */
} cli_options;

/* getopt_long codes of the options `scan` and `report` share; each command
 * numbers its own from CLI_OPT_OWN. */
enum {
    CLI_OPT_FORMAT = 256,
    CLI_OPT_IGNORE_FILE,
    CLI_OPT_NO_IGNORE_FILE,
    CLI_OPT_BASELINE,
    CLI_OPT_SKIP_LAYER,
    CLI_OPT_FAIL_ON,
    CLI_OPT_FAIL_ON_HIDDEN,
    CLI_OPT_IGNORE_HIDDEN,
    CLI_OPT_EXIT_ZERO,
    CLI_OPT_OWN
};

/* getopt_long entries, for a command's table, of the report options: the
 * format, -o (its short form goes in the command's optstring) and
 * suppression. Kept out of clang-format, which indents initialiser lists
 * in a macro as if each continued the one before. */
/* clang-format off */
#define CLI_REPORT_LONGOPTS                                                    \
    {"format", required_argument, NULL, CLI_OPT_FORMAT},                       \
    {"output", required_argument, NULL, 'o'},                                  \
    {"verbose", no_argument, NULL, 'v'},                                       \
    {"ignore-file", required_argument, NULL, CLI_OPT_IGNORE_FILE},             \
    {"no-ignore-file", no_argument, NULL, CLI_OPT_NO_IGNORE_FILE},             \
    {"baseline", required_argument, NULL, CLI_OPT_BASELINE},                   \
    {"skip-layer", required_argument, NULL, CLI_OPT_SKIP_LAYER}

/* ... and of the gating options, for a command whose exit status says
 * whether findings were at or above --fail-on. */
#define CLI_GATING_LONGOPTS                                                    \
    {"fail-on", required_argument, NULL, CLI_OPT_FAIL_ON},                     \
    {"fail-on-hidden", no_argument, NULL, CLI_OPT_FAIL_ON_HIDDEN},             \
    {"ignore-hidden", no_argument, NULL, CLI_OPT_IGNORE_HIDDEN},               \
    {"exit-zero", no_argument, NULL, CLI_OPT_EXIT_ZERO}
/* clang-format on */

/* What cli_parse_report_option() returns for an option it does not know. */
#define CLI_OPT_NOT_SHARED (-2)

/* Takes option c, as getopt_long returned it with its argument arg
 * (borrowed: kept in o), into o when it is one of CLI_REPORT_LONGOPTS or
 * CLI_GATING_LONGOPTS, setting o->report_opts for all but -o, -v and
 * --no-ignore-file. Returns -1 when it took it, CLI_OPT_NOT_SHARED for any
 * other option (o unchanged), else the exit status after printing the
 * usage error. */
int cli_parse_report_option(int c, const char *arg, cli_options *o);

/* Allocates the repeatable-option arrays for argc arguments. */
bool cli_options_init(cli_options *o, int argc);
void cli_options_free(cli_options *o);

/* Prints "stowaway: MESSAGE" and the --help hint; returns EXIT_ERROR. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "stowaway: MESSAGE" for a failed call. */
void cli_print_error(const stw_error *e);

/* The database path: --db as given, NULL for --no-db, else the per-user
 * cache file, whose directories are created. *out malloc'd (or NULL). */
bool cli_resolve_db(const cli_options *o, char **out, stw_error *err);

/* What a command's rule set is made of. */
typedef struct cli_rules_spec {
    const char *const *files; /* --rules FILE */
    size_t n_files;
    const char *const *disabled; /* --disable-rule ID */
    size_t n_disabled;
    bool no_builtin; /* only the files */
    bool no_cache;   /* --no-rules-cache */
} cli_rules_spec;

/* Compiles the rule set of spec (NULL: the built-in rules), through the
 * rules cache in the per-user cache directory unless spec->no_cache or
 * there is no such directory: every command that compiles rules shares
 * the cache, so each rule set is compiled once. *out transferred. */
bool cli_make_rules(const cli_rules_spec *spec, stw_rules **out,
                    stw_error *err);
/* -v: one line on standard error saying where the compiled rules came
 * from (the rules cache) and, if the cache failed, why. */
void cli_print_rules_cache(const stw_rules *rules);

/* "stowaway" and argv as one shell-quoted line. Malloc'd; NULL on OOM. */
char *cli_join_args(int argc, char **argv);

/* Colour only for a person: a terminal, NO_COLOR unset, TERM not dumb. */
bool cli_want_color(FILE *out);

/* Today's UTC date as "YYYY-MM-DD" (ignore-file expiry). */
void cli_today(char out[11]);

/* Builds the suppression set of --ignore-file (or ./.stowawayignore),
 * --baseline and --skip-layer, printing one warning line per expired
 * ignore entry. Returns false after printing the error. */
bool cli_suppress_load(const cli_options *o, stw_suppress **out);

/* Plaintext secrets of this run by fingerprint, for --show-secrets: kept in
 * memory only, wiped when freed. */
typedef struct cli_secrets cli_secrets;
cli_secrets *cli_secrets_create(void); /* NULL when out of memory */
void cli_secrets_add(void *ctx, const char *fingerprint, const char *secret,
                     size_t n);
const char *cli_secrets_get(void *ctx, const char *fingerprint);
void cli_secrets_free(cli_secrets *s);

/* Parses --format's value into *out and returns -1; for an unknown format
 * prints the usage error and returns its exit status. */
int cli_parse_format(const char *s, stw_report_format *out);
/* The same for a severity (--fail-on, --min-severity). */
int cli_parse_severity(const char *s, stw_severity *out);

/* The usage error for what getopt_long returned as c (':' for a missing
 * argument, '?' for an unknown option); returns the exit status. */
int cli_getopt_error(int c, char **argv);

/* Renders res in o->format to out (stw_report_render()); the table as a
 * person sees it: colour on a terminal, fix lines, --show-secrets, and
 * nothing at all where it would say nothing. */
stw_status cli_render(const cli_options *o, const stw_rules *rules,
                      const stw_results *res, FILE *out, stw_error *err);

/* The one-line summary on standard error. */
void cli_print_summary(const cli_options *o, const stw_results *res,
                       uint64_t bytes, double secs,
                       const cli_suppress_counts *sup);

/* The summary of `report --db`: images read from o->db and the counts. */
void cli_print_stored_summary(const cli_options *o, const stw_results *res,
                              const cli_suppress_counts *sup);

/* Where a report goes: standard output, or -o FILE written through a
 * temporary file beside it (tmp, owned) that replaces FILE only once
 * complete, so a failure never leaves an empty or cut-short report. */
typedef struct cli_output {
    FILE *f;
    char *tmp;     /* NULL when writing FILE or standard output directly */
    bool complete; /* set by the caller once the report is written whole */
} cli_output;

/* Opens -o FILE for writing (standard output without it) into *out; prints
 * the error naming FILE and returns false on failure. A FILE that exists
 * and is not a regular file (/dev/stdout, a pipe) is written directly. */
bool cli_open_output(const cli_options *o, cli_output *out);
/* Closes what cli_open_output() opened: the temporary file becomes FILE
 * when out->complete and every write succeeded, else it is removed and
 * FILE left as it was. Returns rc, or EXIT_ERROR after printing one line
 * naming FILE when the close or the rename failed and rc did not already
 * say error. */
int cli_close_output(const cli_options *o, cli_output *out, int rc);

#endif
