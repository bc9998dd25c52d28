/* cli.h - what the stowaway commands (main.c, cmd_*.c) share: the parsed
 * options, the exit statuses, the database path, rendering a report with
 * suppression applied, and the summary line. CLI code: it prints. */
#ifndef STW_CLI_H
#define STW_CLI_H

#include "report.h"
#include "results.h"
#include "rules.h"
#include "suppress.h"

#include <stdbool.h>
#include <stdio.h>

enum { EXIT_CLEAN = 0, EXIT_FINDINGS = 1, EXIT_ERROR = 2 };

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
    const char *platform;
    int jobs;
    bool quiet;
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

/* Renders res in o->format to out. */
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

/* The usage error for what getopt_long returned as c (':' for a missing
 * argument, '?' for an unknown option); returns the exit status. */
int cli_getopt_error(int c, char **argv);

stw_status cli_render(const cli_options *o, const stw_rules *rules,
                      const stw_results *res, FILE *out, stw_error *err);

/* The one-line summary on standard error. */
void cli_print_summary(const cli_options *o, const stw_results *res,
                       uint64_t bytes, double secs,
                       const stw_suppress_counts *sup);

/* The summary of `report --db`: images read from o->db and the counts. */
void cli_print_stored_summary(const cli_options *o, const stw_results *res,
                              const stw_suppress_counts *sup);

/* Opens -o FILE for writing (standard output without it); prints the error
 * and returns NULL on failure. */
FILE *cli_open_output(const cli_options *o);
/* Closes what cli_open_output() returned; returns rc, or EXIT_ERROR when
 * the close failed and rc did not already say error. */
int cli_close_output(const cli_options *o, FILE *out, int rc);

#endif
