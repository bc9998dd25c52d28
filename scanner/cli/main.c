/* main.c - the stowaway command line: parses arguments, runs the library's
 * scan over each target into a store, renders the report, prints a one-line
 * summary on standard error and maps the outcome to the documented exit
 * status (0 clean, 1 findings at or above --fail-on, 2 usage or input
 * error). The only code that prints. */
#include "cmd_rules.h"
#include "common.h"
#include "report.h"
#include "rules.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_CLEAN = 0, EXIT_FINDINGS = 1, EXIT_ERROR = 2 };

/* Upper bound for -j: more threads than this only costs memory. */
#define CLI_MAX_JOBS 1024

/* Everything the command line decides, passed around instead of globals. */
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
    char **targets; /* borrowed from argv */
    size_t n_targets;
    /* --rules FILE / --disable-rule ID, repeatable: arrays of argc slots
     * owned by dispatch(), strings borrowed from argv. */
    const char **rule_files;
    size_t n_rule_files;
    const char **disabled;
    size_t n_disabled;
    const char *repo_glob; /* --repo GLOB (registry storage) */
    const char *tag_glob;  /* --tag GLOB (registry storage) */
} cli_options;

static const char general_help[] =
    "Usage: stowaway scan [OPTIONS] TARGET...\n"
    "       stowaway batch storage [OPTIONS] DIR...\n"
    "       stowaway rules list|test [FILE...]\n"
    "       stowaway help [scan]\n"
    "       stowaway --version\n"
    "\n"
    "Finds private keys, tokens, credential files and setuid binaries in\n"
    "every layer of container images - including files that a later layer\n"
    "deleted, which anyone who pulls the image can still recover.\n"
    "\n"
    "Commands:\n"
    "  scan TARGET...  scan images and print a report (see 'stowaway help "
    "scan')\n"
    "  batch storage DIR...\n"
    "                  scan every repository:tag of a registry's storage\n"
    "                  directory (docker-registry's filesystem driver)\n"
    "  rules list      list the rules in force (--rules FILE adds some)\n"
    "  rules test [FILE...]\n"
    "                  run every rule's own examples\n"
    "  help [COMMAND]  show this help, or the help of COMMAND\n"
    "\n"
    "Options:\n"
    "  -h, --help      show this help\n"
    "  -V, --version   print the version of stowaway and of its rules\n";

static const char scan_help[] =
    "Usage: stowaway scan [OPTIONS] TARGET...\n"
    "\n"
    "Scans each TARGET - a docker save tarball, an OCI layout directory, an\n"
    "oci-archive, or a single layer blob; '-' reads standard input, as in\n"
    "'docker save app:1.2 | stowaway scan -' - and reports what it finds.\n"
    "Layers already scanned with the same rules are reused from the "
    "database.\n"
    "\n"
    "Options:\n"
    "      --db FILE           results database (default:\n"
    "                          $XDG_CACHE_HOME/stowaway/stowaway.db, else\n"
    "                          ~/.cache/stowaway/stowaway.db)\n"
    "      --no-db             keep results in memory only\n"
    "      --format FORMAT     table (default), json, or sarif (SARIF 2.1.0\n"
    "                          for GitHub code scanning and other CI)\n"
    "  -o, --output FILE       write the report to FILE, not standard output\n"
    "      --fail-on SEVERITY  exit 1 when a finding is at or above SEVERITY:\n"
    "                          critical, high (default), medium, low, info\n"
    "      --fail-on-hidden    findings a later layer deleted count for\n"
    "                          --fail-on: they can still be recovered\n"
    "                          (default)\n"
    "      --ignore-hidden     only findings visible in the final filesystem\n"
    "                          count for --fail-on\n"
    "      --exit-zero         exit 0 even with findings (2 still means an\n"
    "                          error)\n"
    "      --platform OS/ARCH  scan only this platform of a multi-platform\n"
    "                          image (e.g. linux/arm64)\n"
    "  -j, --jobs N            worker threads (default: number of cores)\n"
    "      --rules FILE        add the rules of a YAML file (same id\n"
    "                          replaces a built-in rule); repeatable\n"
    "      --disable-rule ID   do not run rule ID; repeatable\n"
    "      --repo GLOB         registry storage: only matching repositories\n"
    "      --tag GLOB          registry storage: only matching tags\n"
    "  -q, --quiet             no progress, no summary line, no table when\n"
    "                          nothing is found\n"
    "  -h, --help              show this help\n"
    "\n"
    "A summary line goes to standard error after the scan (not with -q).\n"
    "\n"
    "Exit status: 0 nothing at or above --fail-on; 1 findings at or above "
    "it;\n"
    "2 usage error or a target that could not be scanned.\n";

/* Prints a usage error and the hint; returns the exit status for it. */
static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("stowaway: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'stowaway --help'.\n", stderr);
    return EXIT_ERROR;
}

enum {
    OPT_DB = 256,
    OPT_NO_DB,
    OPT_FORMAT,
    OPT_FAIL_ON,
    OPT_FAIL_ON_HIDDEN,
    OPT_IGNORE_HIDDEN,
    OPT_EXIT_ZERO,
    OPT_PLATFORM,
    OPT_RULES,
    OPT_DISABLE_RULE,
    OPT_REPO,
    OPT_TAG,
};

/* "os/arch" or "os/arch/variant", each part non-empty. */
static bool valid_platform(const char *s)
{
    const char *a = strchr(s, '/');
    if (!a || a == s || a[1] == 0 || a[1] == '/')
        return false;
    const char *v = strchr(a + 1, '/');
    return !v || (v[1] != 0 && !strchr(v + 1, '/'));
}

/* Parses `scan`'s arguments (argv[0] is "scan"). Returns -1 when parsing
 * succeeded, else the exit status after printing the usage error. */
static int parse_scan(int argc, char **argv, cli_options *o)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"no-db", no_argument, NULL, OPT_NO_DB},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"fail-on", required_argument, NULL, OPT_FAIL_ON},
        {"fail-on-hidden", no_argument, NULL, OPT_FAIL_ON_HIDDEN},
        {"ignore-hidden", no_argument, NULL, OPT_IGNORE_HIDDEN},
        {"exit-zero", no_argument, NULL, OPT_EXIT_ZERO},
        {"platform", required_argument, NULL, OPT_PLATFORM},
        {"jobs", required_argument, NULL, 'j'},
        {"rules", required_argument, NULL, OPT_RULES},
        {"disable-rule", required_argument, NULL, OPT_DISABLE_RULE},
        {"repo", required_argument, NULL, OPT_REPO},
        {"tag", required_argument, NULL, OPT_TAG},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0; /* our own messages, with the hint line */
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":o:j:qh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DB:
            o->db = optarg;
            break;
        case OPT_NO_DB:
            o->no_db = true;
            break;
        case OPT_FORMAT:
            if (stw_report_format_parse(optarg, &o->format) != STW_OK)
                return usage_error("unknown format '%s' (table, json or "
                                   "sarif)",
                                   optarg);
            break;
        case 'o':
            o->output = optarg;
            break;
        case OPT_FAIL_ON:
            if (stw_severity_parse(optarg, &o->fail_on) != STW_OK)
                return usage_error("unknown severity '%s' (critical, high, "
                                   "medium, low or info)",
                                   optarg);
            break;
        case OPT_FAIL_ON_HIDDEN:
            o->ignore_hidden = false; /* the last of the pair wins */
            break;
        case OPT_IGNORE_HIDDEN:
            o->ignore_hidden = true;
            break;
        case OPT_EXIT_ZERO:
            o->exit_zero = true;
            break;
        case OPT_PLATFORM:
            if (!valid_platform(optarg))
                return usage_error("bad platform '%s' (want OS/ARCH, e.g. "
                                   "linux/amd64)",
                                   optarg);
            o->platform = optarg;
            break;
        case 'j': {
            char *end;
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || n < 0 || n > CLI_MAX_JOBS)
                return usage_error("bad --jobs '%s' (a number, 0 for one per "
                                   "core)",
                                   optarg);
            o->jobs = (int)n;
            break;
        }
        case OPT_RULES:
            o->rule_files[o->n_rule_files++] = optarg;
            break;
        case OPT_DISABLE_RULE:
            o->disabled[o->n_disabled++] = optarg;
            break;
        case OPT_REPO:
            o->repo_glob = optarg;
            break;
        case OPT_TAG:
            o->tag_glob = optarg;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'h':
            o->help = true;
            break;
        case ':':
            return usage_error("option '%s' needs an argument",
                               argv[optind - 1]);
        default:
            if (optopt) {
                char opt[3] = {'-', (char)optopt, 0};
                return usage_error("unknown option '%s'", opt);
            }
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (o->help)
        return -1;
    if (o->db && o->no_db)
        return usage_error("%s", "--db and --no-db cannot be used together");
    o->targets = argv + optind;
    o->n_targets = (size_t)(argc - optind);
    if (o->n_targets == 0)
        return usage_error("%s", "scan: missing TARGET");
    size_t stdin_uses = 0;
    for (size_t i = 0; i < o->n_targets; i++)
        stdin_uses += strcmp(o->targets[i], "-") == 0;
    if (stdin_uses > 1)
        return usage_error("%s", "standard input ('-') can be scanned once");
    return -1;
}

/* Creates each missing directory of path (not its last component when
 * parent_only) with mode 0700: the cache holds what images leak. */
static bool make_dirs(char *path, bool parent_only, stw_error *err)
{
    char *end = parent_only ? strrchr(path, '/') : path + strlen(path);
    if (!end || end == path)
        return true;
    char saved = *end;
    *end = 0;
    bool ok = true;
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != 0)
            continue;
        char c = *p;
        *p = 0;
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            char buf[128];
            stw_fail(err, STW_ERR_IO, "creating %s: %s", path,
                     stw_strerror(errno, buf, sizeof(buf)));
            ok = false;
        }
        *p = c;
        if (!ok || c == 0)
            break;
    }
    *end = saved;
    return ok;
}

/* The database path: --db as given, NULL for --no-db, else the per-user
 * cache file, whose directories are created. *out is malloc'd (or NULL). */
static bool resolve_db(const cli_options *o, char **out, stw_error *err)
{
    *out = NULL;
    if (o->no_db)
        return true;
    if (o->db) {
        *out = stw_strdup(o->db);
        if (!*out)
            stw_fail(err, STW_ERR_NOMEM, "out of memory");
        return *out != NULL;
    }
    /* XDG: a relative XDG_CACHE_HOME is invalid and must be ignored. */
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    const char *base, *sub;
    if (xdg && xdg[0] == '/') {
        base = xdg, sub = "/stowaway/stowaway.db";
    } else if (home && home[0] == '/') {
        base = home, sub = "/.cache/stowaway/stowaway.db";
    } else {
        stw_fail(err, STW_ERR_USAGE,
                 "no cache directory: set HOME or XDG_CACHE_HOME, or use "
                 "--db FILE or --no-db");
        return false;
    }
    size_t n = strlen(base) + strlen(sub) + 1;
    char *path = malloc(n);
    if (!path) {
        stw_fail(err, STW_ERR_NOMEM, "out of memory");
        return false;
    }
    snprintf(path, n, "%s%s", base, sub);
    if (!make_dirs(path, true, err)) {
        free(path);
        return false;
    }
    *out = path;
    return true;
}

/* "stowaway" and argv as one shell-quoted line, recorded with the scan so
 * a database row says how it was made. Malloc'd; NULL when out of memory. */
static char *join_args(int argc, char **argv)
{
    size_t n = sizeof("stowaway");
    for (int i = 0; i < argc; i++)
        n += 4 * strlen(argv[i]) + 3;
    char *s = malloc(n);
    if (!s)
        return NULL;
    char *p = stpcpy(s, "stowaway");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool plain = *a != 0 && strspn(a, "abcdefghijklmnopqrstuvwxyz"
                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789_-./:=@%+,") == strlen(a);
        *p++ = ' ';
        if (plain) {
            p = stpcpy(p, a);
            continue;
        }
        *p++ = '\'';
        for (; *a; a++) {
            if (*a == '\'')
                p = stpcpy(p, "'\\''");
            else
                *p++ = *a;
        }
        *p++ = '\'';
    }
    *p = 0;
    return s;
}

/* Progress on standard error for a person watching (one rewritten line,
 * when on), and the bytes read for the summary. Atomic: the library may
 * call back from more than one thread. */
typedef struct progress {
    bool on;
    atomic_ulong layers; /* since the last progress_clear() */
    atomic_ullong bytes; /* uncompressed bytes of layers read, not cached */
} progress;

static void on_layer_done(void *ctx, const char *digest, uint64_t bytes,
                          int cached)
{
    progress *pr = ctx;
    unsigned long n = atomic_fetch_add(&pr->layers, 1) + 1;
    if (!cached)
        atomic_fetch_add(&pr->bytes, bytes);
    if (pr->on)
        fprintf(stderr, "\r\033[Kscanned %lu layer%s, last %.19s (%.1f MB%s)",
                n, n == 1 ? "" : "s", digest ? digest : "", (double)bytes / 1e6,
                cached ? ", cached" : "");
}

static void progress_clear(progress *pr)
{
    if (pr->on && atomic_load(&pr->layers))
        fputs("\r\033[K", stderr);
    atomic_store(&pr->layers, 0);
}

/* Prints a target's error as one line that names the target. */
static void print_target_error(const char *target, const stw_error *e)
{
    const char *m = e->msg[0] ? e->msg : stw_status_str(e->status);
    size_t tl = strlen(target);
    if (strncmp(m, target, tl) == 0)
        fprintf(stderr, "stowaway: %s\n", m);
    else
        fprintf(stderr, "stowaway: %s: %s\n", target, m);
}

/* Scans every target; returns false if any failed (each already printed
 * and recorded in the store). pr is zeroed by the caller; on its own. */
static bool scan_targets(const cli_options *o, const stw_rules *rules,
                         stw_store *store, int64_t scan_id, progress *pr)
{
    stw_scan_options so = {0};
    so.platform = o->platform;
    so.jobs = o->jobs;
    so.repo_glob = o->repo_glob;
    so.tag_glob = o->tag_glob;
    so.on_layer_done = on_layer_done;
    so.progress_ctx = pr;
    bool all_ok = true;
    for (size_t i = 0; i < o->n_targets; i++) {
        const char *t = o->targets[i];
        stw_error err = {0};
        stw_status st;
        if (strcmp(t, "-") == 0 && isatty(STDIN_FILENO)) {
            st = stw_fail(&err, STW_ERR_USAGE,
                          "-: standard input is a terminal; pipe an image "
                          "in (docker save IMAGE | stowaway scan -)");
            stw_error ignored = {0};
            stw_store_put_error(store, scan_id, t, err.msg, &ignored);
        } else {
            st = stw_scan_target(rules, store, scan_id, t, &so, &err);
        }
        if (st != STW_OK) {
            progress_clear(pr);
            print_target_error(t, &err);
            all_ok = false;
        }
    }
    progress_clear(pr);
    return all_ok;
}

/* Colour only for a person: a terminal, and NO_COLOR (no-color.org) unset.
 */
static bool want_color(FILE *out)
{
    const char *term = getenv("TERM");
    return isatty(fileno(out)) && !getenv("NO_COLOR") &&
           !(term && strcmp(term, "dumb") == 0);
}

static stw_status render(const cli_options *o, const stw_rules *rules,
                         const stw_results *res, FILE *out, stw_error *err)
{
    if (o->format == STW_REPORT_JSON)
        return stw_report_json(res, out, err);
    if (o->format == STW_REPORT_SARIF)
        return stw_report_sarif(res, rules, out, err);
    /* --quiet: a clean result needs no words, the exit status says it. */
    if (o->quiet && res->n_findings == 0 && res->n_errors == 0)
        return STW_OK;
    /* Nothing was scanned: the errors are already on standard error, and a
     * table would only add "no findings in 0 images". */
    if (res->n_images == 0 && res->n_errors > 0)
        return STW_OK;
    return stw_report_table(res, want_color(out), out, err);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The one-line summary on standard error, for CI logs whatever the report
 * format: "stowaway: 1 image, 3 layers (2 scanned, 1 cached), 12.3 MB,
 * 0.42 s, findings: 1 critical, 0 high, 0 medium, 1 low, 0 info". */
static void print_summary(const cli_options *o, const stw_results *res,
                          uint64_t bytes, double secs)
{
    size_t by_sev[STW_SEV_COUNT_] = {0}, hidden = 0;
    for (size_t i = 0; i < res->n_findings; i++) {
        by_sev[(unsigned)res->findings[i].severity % STW_SEV_COUNT_]++;
        hidden += !res->findings[i].visible;
    }
    uint64_t layers = res->layers_scanned + res->layers_cached;
    fprintf(stderr,
            "stowaway: %zu image%s, %llu layer%s (%llu scanned, %llu "
            "cached), %.1f MB, %.2f s, findings:",
            res->n_images, res->n_images == 1 ? "" : "s",
            (unsigned long long)layers, layers == 1 ? "" : "s",
            (unsigned long long)res->layers_scanned,
            (unsigned long long)res->layers_cached, (double)bytes / 1e6, secs);
    for (int s = STW_SEV_COUNT_ - 1; s >= 0; s--)
        fprintf(stderr, " %zu %s%s", by_sev[s],
                stw_severity_str((stw_severity)s), s ? "," : "");
    if (hidden)
        fprintf(stderr, "; %zu hidden by a later layer%s", hidden,
                o->ignore_hidden ? " (ignored by --ignore-hidden)" : "");
    fputc('\n', stderr);
}

static void print_error(const stw_error *e)
{
    fprintf(stderr, "stowaway: %s\n",
            e->msg[0] ? e->msg : stw_status_str(e->status));
}

/* The scan command after parsing: returns the exit status. */
static int run_scan(const cli_options *o, int argc, char **argv)
{
    stw_error err = {0};
    stw_rules *rules = NULL;
    stw_store *store = NULL;
    stw_results *res = NULL;
    char *db = NULL, *args = NULL;
    FILE *out = stdout;
    int rc = EXIT_ERROR;
    int64_t scan_id = 0;
    progress pr = {.on = !o->quiet && isatty(STDERR_FILENO)};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    /* Open the report file first: no point scanning for an hour into a
     * path that cannot be written. */
    if (o->output && !(out = fopen(o->output, "w"))) {
        char buf[128];
        fprintf(stderr, "stowaway: %s: %s\n", o->output,
                stw_strerror(errno, buf, sizeof(buf)));
        return EXIT_ERROR;
    }
    stw_rules_options ro = {
        .files = o->rule_files,
        .n_files = o->n_rule_files,
        .disabled = o->disabled,
        .n_disabled = o->n_disabled,
    };
    if (stw_rules_create(&ro, &rules, &err) != STW_OK ||
        !resolve_db(o, &db, &err) ||
        stw_store_open(db, &store, &err) != STW_OK) {
        print_error(&err);
        goto done;
    }
    args = join_args(argc, argv);
    if (!args) {
        stw_fail(&err, STW_ERR_NOMEM, "out of memory");
        print_error(&err);
        goto done;
    }
    if (stw_store_begin_scan(store, STW_VERSION, stw_rules_version(rules), args,
                             &scan_id, &err) != STW_OK) {
        print_error(&err);
        goto done;
    }
    bool all_ok = scan_targets(o, rules, store, scan_id, &pr);
    if (stw_store_end_scan(store, scan_id, &err) != STW_OK ||
        stw_store_load_scan(store, scan_id, &res, &err) != STW_OK ||
        render(o, rules, res, out, &err) != STW_OK) {
        print_error(&err);
        goto done;
    }
    /* A failed target's one line is the last word on standard error: the
     * exit status is 2 whatever the counts say. */
    if (!o->quiet && all_ok)
        print_summary(o, res, atomic_load(&pr.bytes), seconds_since(&t0));
    if (!all_ok)
        rc = EXIT_ERROR;
    else if (o->exit_zero)
        rc = EXIT_CLEAN;
    else if (stw_report_count_gating(res, o->fail_on, !o->ignore_hidden) > 0)
        rc = EXIT_FINDINGS;
    else
        rc = EXIT_CLEAN;
done:
    if (out != stdout && fclose(out) != 0 && rc != EXIT_ERROR) {
        char buf[128];
        fprintf(stderr, "stowaway: %s: %s\n", o->output,
                stw_strerror(errno, buf, sizeof(buf)));
        rc = EXIT_ERROR;
    }
    stw_results_destroy(res);
    stw_store_close(store);
    stw_rules_destroy(rules);
    free(db);
    free(args);
    return rc;
}

static int print_version(void)
{
    stw_error err = {0};
    stw_rules *rules = NULL;
    if (stw_rules_create(NULL, &rules, &err) != STW_OK) {
        print_error(&err);
        return EXIT_ERROR;
    }
    printf("stowaway %s (rules %s)\n", STW_VERSION, stw_rules_version(rules));
    stw_rules_destroy(rules);
    return EXIT_CLEAN;
}

/* Standard output may be a closed pipe or a full disk: say so, since the
 * exit status is what CI reads. */
static int finish_stdout(int rc)
{
    /* After a failure the cause was already printed (often this one). */
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc != EXIT_ERROR) {
        char buf[128];
        fprintf(stderr, "stowaway: writing standard output: %s\n",
                stw_strerror(errno, buf, sizeof(buf)));
        return EXIT_ERROR;
    }
    return rc;
}

/* `scan` and `batch storage`: argv[first] is the command word. */
static int scan_command(int argc, char **argv, int first)
{
    cli_options o = {.fail_on = STW_SEV_HIGH, .format = STW_REPORT_TABLE};
    o.rule_files = calloc((size_t)argc, sizeof(*o.rule_files));
    o.disabled = calloc((size_t)argc, sizeof(*o.disabled));
    int rc;
    if (!o.rule_files || !o.disabled) {
        fputs("stowaway: out of memory\n", stderr);
        rc = EXIT_ERROR;
    } else if ((rc = parse_scan(argc - first, argv + first, &o)) >= 0) {
        /* usage error, already printed */
    } else if (o.help) {
        fputs(scan_help, stdout);
        rc = EXIT_CLEAN;
    } else {
        rc = run_scan(&o, argc, argv);
    }
    free(o.rule_files);
    free(o.disabled);
    return rc;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        fputs(general_help, stderr);
        return EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0)
        return print_version();
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(general_help, stdout);
        return EXIT_CLEAN;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc == 2) {
            fputs(general_help, stdout);
            return EXIT_CLEAN;
        }
        if (argc == 3 && strcmp(argv[2], "scan") == 0) {
            fputs(scan_help, stdout);
            return EXIT_CLEAN;
        }
        return usage_error("no help for '%s'", argv[2]);
    }
    if (strcmp(cmd, "rules") == 0)
        return stw_cli_rules(argc - 1, argv + 1, stdout, stderr);
    /* `batch storage DIR` is a scan whose targets are registry storage
     * directories: the same options, the same report. */
    bool batch = strcmp(cmd, "batch") == 0;
    if (batch && (argc < 3 || strcmp(argv[2], "storage") != 0))
        return usage_error("%s", "batch: expected 'batch storage DIR...'");
    if (strcmp(cmd, "scan") == 0 || batch)
        return scan_command(argc, argv, batch ? 2 : 1);
    if (cmd[0] == '-')
        return usage_error("unknown option '%s'", cmd);
    return usage_error("unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
    return finish_stdout(dispatch(argc, argv));
}
