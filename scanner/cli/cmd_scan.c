/* cmd_scan.c - `stowaway scan`, `batch storage` and `baseline`: parses the
 * options, scans each target (and each --base-image) into the store, reads
 * the scan back, removes what the ignore file, baseline and skipped layers
 * suppress, renders the report and maps the outcome to the exit status
 * (0 clean, 1 findings at or above --fail-on, 2 usage or input error). */
#include "cmd_scan.h"

#include "cli.h"
#include "cmd_batch.h"
#include "progress.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Upper bound for -j: more threads than this only costs memory. */
#define CLI_MAX_JOBS 1024

const char stw_cli_scan_help[] =
    "Usage: stowaway scan [OPTIONS] TARGET...\n"
    "\n"
    "Scans each TARGET - a docker save tarball, an OCI layout directory, an\n"
    "oci-archive, a single layer blob, a registry's storage directory, or a\n"
    "remote image (REGISTRY/REPO:TAG, REGISTRY/REPO@sha256:..., docker://);\n"
    "'-' reads standard input, as in 'docker save app:1.2 | stowaway scan -'\n"
    "- and reports what it finds.\n"
    "Layers already scanned with the same rules are reused from the "
    "database.\n"
    "\n"
    "Options:\n"
    "      --db FILE           results database (default:\n"
    "                          $XDG_CACHE_HOME/stowaway/stowaway.db, else\n"
    "                          ~/.cache/stowaway/stowaway.db)\n"
    "      --no-db             keep results in memory only\n"
    "      --format FORMAT     table (default), json, sarif (SARIF 2.1.0\n"
    "                          for GitHub code scanning and other CI), or\n"
    "                          html (one self-contained page)\n"
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
    "      --ignore-file FILE  suppress what FILE lists (default:\n"
    "                          ./.stowawayignore when it exists)\n"
    "      --no-ignore-file    do not read ./.stowawayignore\n"
    "      --baseline FILE     report only findings not in FILE (written by\n"
    "                          'stowaway baseline')\n"
    "      --skip-layer DIGEST do not report findings of this layer (blob\n"
    "                          digest or diff_id); repeatable; turns on\n"
    "                          --verify-diff-ids\n"
    "      --base-image TARGET scan TARGET too and do not report findings of\n"
    "                          its layers (an inherited base); repeatable;\n"
    "                          turns on --verify-diff-ids\n"
    "      --platform OS/ARCH  scan only this platform of a multi-platform\n"
    "                          image (e.g. linux/arm64)\n"
    "  -j, --jobs N            layers scanned at once (default: one per\n"
    "                          core, at most 16; each layer uses up to\n"
    "                          four threads)\n"
    "      --max-depth N       open archives in layers (jar, zip, tar.gz...)\n"
    "                          up to N deep (default 4, 0 = off)\n"
    "      --max-nested-bytes N  stop opening archives inside one file\n"
    "                          after N decompressed bytes (default 8 GiB)\n"
    "      --max-nested-members N  ... after N members (default 1000000)\n"
    "      --no-git-history    do not scan the history of .git directories\n"
    "      --max-git-bytes N   collect at most N bytes of repositories per\n"
    "                          layer for their history (default 4 GiB)\n"
    "      --verify-diff-ids   hash the uncompressed tar of every compressed\n"
    "                          layer too and check the config's diff_ids\n"
    "                          (default: only the blob digests are checked)\n"
    "      --trust-cache       reuse stored layers of local files without\n"
    "                          hashing their blobs to their digests first\n"
    "      --rules FILE        add the rules of a YAML file (same id\n"
    "                          replaces a built-in rule); repeatable\n"
    "      --disable-rule ID   do not run rule ID; repeatable\n"
    "      --no-rules-cache    compile the rules' prefilter afresh, without\n"
    "                          reading or writing the rules cache (default:\n"
    "                          rules/ in the directory of the default --db)\n"
    "      --ca-cert FILE      remote images: trust this CA (PEM) instead of\n"
    "                          the system store\n"
    "      --show-secrets      print each secret found in full under its\n"
    "                          finding (table on standard output only)\n"
    "      --insecure-registry HOST:PORT\n"
    "                          remote images: plain HTTP to this registry\n"
    "                          (loopback or a lab); repeatable\n"
    "      --timeout SECONDS   remote images: connect timeout, the most a\n"
    "                          manifest or token request may take, and the\n"
    "                          window in which a blob must arrive at 16 KiB/s\n"
    "                          or more (default 30)\n"
    "      --repo GLOB         registry storage: only matching repositories\n"
    "      --tag GLOB          registry storage: only matching tags\n"
    "      --since DATE        batch registry: only images created at or\n"
    "                          after DATE (YYYY-MM-DD or RFC 3339)\n"
    "      --page-size N       batch registry: catalog and tag list entries\n"
    "                          asked per page (default 1000)\n"
    "      --shard K/N         scan only the layers of shard K of N (by layer\n"
    "                          digest) into this --db; merge the N files with\n"
    "                          'stowaway db merge' (docs/batch.md)\n"
    "  -v, --verbose           list every finding: stock setuid/setgid\n"
    "                          binaries and published test keys are\n"
    "                          otherwise one line per layer each; and say\n"
    "                          whether the rules came from the rules cache\n"
    "  -q, --quiet             no progress, no summary line, no table when\n"
    "                          nothing is found\n"
    "  -h, --help              show this help\n"
    "\n"
    "A progress bar goes to standard error while scanning when it is a\n"
    "terminal, and a summary line after the scan (neither with -q).\n"
    "Suppressed findings are left out of the report and of --fail-on; the\n"
    "database keeps them.\n"
    "\n"
    "Exit status: 0 nothing at or above --fail-on; 1 findings at or above "
    "it;\n"
    "2 usage error or a target that could not be scanned.\n";

const char stw_cli_baseline_help[] =
    "Usage: stowaway baseline [OPTIONS] TARGET... -o FILE\n"
    "\n"
    "Scans each TARGET like 'stowaway scan' and writes every current finding\n"
    "(fingerprint, rule, path, image, layer; never a secret) as a baseline\n"
    "file. 'stowaway scan --baseline FILE' then reports only new findings.\n"
    "Takes the options of 'stowaway scan' except the report and gating ones.\n"
    "\n"
    "Exit status: 0 written; 2 usage error or a target that could not be\n"
    "scanned.\n";

enum {
    OPT_DB = CLI_OPT_OWN,
    OPT_NO_DB,
    OPT_PLATFORM,
    OPT_RULES,
    OPT_DISABLE_RULE,
    OPT_REPO,
    OPT_CA_CERT,
    OPT_INSECURE_REGISTRY,
    OPT_SHOW_SECRETS,
    OPT_TAG,
    OPT_BASE_IMAGE,
    OPT_SINCE,
    OPT_SHARD,
    OPT_PAGE_SIZE,
    OPT_TIMEOUT,
    OPT_MAX_DEPTH,
    OPT_MAX_NESTED_BYTES,
    OPT_MAX_NESTED_MEMBERS,
    OPT_NO_GIT_HISTORY,
    OPT_MAX_GIT_BYTES,
    OPT_VERIFY_DIFF_IDS,
    OPT_TRUST_CACHE,
    OPT_NO_RULES_CACHE,
};

/* "os/arch" or "os/arch/variant", each part non-empty. */
/* Paths in messages come from the image: a control byte would reach the
 * terminal as a command. */
static void put_printable(const char *s, FILE *f)
{
    for (; s && *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

/* A decimal count no larger than max. */
static bool parse_count(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return false;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno || end == s || *end || n > max)
        return false;
    *out = n;
    return true;
}

/* A whole decimal number in [lo, hi] into *out. */
static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno || end == s || *end || n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

static bool valid_platform(const char *s)
{
    const char *a = strchr(s, '/');
    if (!a || a == s || a[1] == 0 || a[1] == '/')
        return false;
    const char *v = strchr(a + 1, '/');
    return !v || (v[1] != 0 && !strchr(v + 1, '/'));
}

/* Parses the command's arguments (argv[0] is the command word). Returns -1
 * when parsing succeeded, else the exit status after printing the error. */
static int parse_scan(int argc, char **argv, cli_options *o, bool baseline)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"no-db", no_argument, NULL, OPT_NO_DB},
        CLI_REPORT_LONGOPTS,
        CLI_GATING_LONGOPTS,
        {"platform", required_argument, NULL, OPT_PLATFORM},
        {"jobs", required_argument, NULL, 'j'},
        {"rules", required_argument, NULL, OPT_RULES},
        {"disable-rule", required_argument, NULL, OPT_DISABLE_RULE},
        {"repo", required_argument, NULL, OPT_REPO},
        {"ca-cert", required_argument, NULL, OPT_CA_CERT},
        {"insecure-registry", required_argument, NULL, OPT_INSECURE_REGISTRY},
        {"show-secrets", no_argument, NULL, OPT_SHOW_SECRETS},
        {"tag", required_argument, NULL, OPT_TAG},
        {"base-image", required_argument, NULL, OPT_BASE_IMAGE},
        {"since", required_argument, NULL, OPT_SINCE},
        {"shard", required_argument, NULL, OPT_SHARD},
        {"page-size", required_argument, NULL, OPT_PAGE_SIZE},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"max-depth", required_argument, NULL, OPT_MAX_DEPTH},
        {"max-nested-bytes", required_argument, NULL, OPT_MAX_NESTED_BYTES},
        {"max-nested-members", required_argument, NULL, OPT_MAX_NESTED_MEMBERS},
        {"no-git-history", no_argument, NULL, OPT_NO_GIT_HISTORY},
        {"max-git-bytes", required_argument, NULL, OPT_MAX_GIT_BYTES},
        {"verify-diff-ids", no_argument, NULL, OPT_VERIFY_DIFF_IDS},
        {"trust-cache", no_argument, NULL, OPT_TRUST_CACHE},
        {"no-rules-cache", no_argument, NULL, OPT_NO_RULES_CACHE},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0; /* our own messages, with the hint line */
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":o:j:vqh", longopts, NULL)) != -1) {
        int rc = cli_parse_report_option(c, optarg, o);
        if (rc != CLI_OPT_NOT_SHARED) {
            if (rc >= 0)
                return rc; /* the usage error is printed */
            continue;
        }
        switch (c) {
        case OPT_DB:
            o->db = optarg;
            break;
        case OPT_NO_DB:
            o->no_db = true;
            break;
        case OPT_PLATFORM:
            if (!valid_platform(optarg))
                return cli_usage_error("bad platform '%s' (want OS/ARCH, e.g. "
                                       "linux/amd64)",
                                       optarg);
            o->platform = optarg;
            break;
        case 'j': {
            long n = 0;
            if (!parse_long(optarg, 0, CLI_MAX_JOBS, &n))
                return cli_usage_error("bad --jobs '%s' (a number, 0 for one "
                                       "per core)",
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
        case OPT_CA_CERT:
            o->ca_cert = optarg;
            break;
        case OPT_INSECURE_REGISTRY:
            o->insecure[o->n_insecure++] = optarg;
            break;
        case OPT_REPO:
            o->repo_glob = optarg;
            break;
        case OPT_TAG:
            o->tag_glob = optarg;
            break;
        case OPT_BASE_IMAGE:
            o->base_images[o->n_base_images++] = optarg;
            o->report_opts = true; /* suppression by another image */
            break;
        case OPT_SINCE: {
            stw_error e = {0};
            if (!o->batch_registry)
                return cli_usage_error("%s", "--since belongs to 'batch "
                                             "registry'");
            if (stw_batch_parse_time(optarg, &o->since, &e) != STW_OK)
                return cli_usage_error("%s", e.msg);
            o->has_since = true;
            break;
        }
        case OPT_TIMEOUT:
            if (!parse_long(optarg, 1, STW_REGISTRY_TIMEOUT_MAX_S,
                            &o->timeout_s))
                return cli_usage_error("bad --timeout '%s' (seconds, 1 to "
                                       "%d)",
                                       optarg, STW_REGISTRY_TIMEOUT_MAX_S);
            break;
        case OPT_PAGE_SIZE: {
            long n = 0;
            if (!o->batch_registry)
                return cli_usage_error("%s", "--page-size belongs to 'batch "
                                             "registry'");
            if (!parse_long(optarg, 1, STW_REGISTRY_PAGE_SIZE_MAX, &n))
                return cli_usage_error("bad --page-size '%s' (1 to %d)", optarg,
                                       STW_REGISTRY_PAGE_SIZE_MAX);
            o->page_size = (int)n;
            break;
        }
        case OPT_SHARD: {
            stw_error e = {0};
            if (stw_shard_parse(optarg, &o->shard_k, &o->shard_n, &e) != STW_OK)
                return cli_usage_error("%s", e.msg);
            break;
        }
        case OPT_MAX_DEPTH: {
            uint64_t n;
            if (!parse_count(optarg, 64, &n))
                return cli_usage_error("bad --max-depth '%s' (0 to 64; 0 "
                                       "turns files inside files off)",
                                       optarg);
            o->no_nested = n == 0;
            o->max_depth = (unsigned)n;
            break;
        }
        case OPT_MAX_NESTED_BYTES:
            if (!parse_count(optarg, UINT64_MAX / 2, &o->max_nested_bytes) ||
                !o->max_nested_bytes)
                return cli_usage_error("bad --max-nested-bytes '%s' (a "
                                       "number of bytes, at least 1)",
                                       optarg);
            break;
        case OPT_MAX_NESTED_MEMBERS:
            if (!parse_count(optarg, UINT64_MAX / 2, &o->max_nested_members) ||
                !o->max_nested_members)
                return cli_usage_error("bad --max-nested-members '%s' (a "
                                       "number, at least 1)",
                                       optarg);
            break;
        case OPT_NO_GIT_HISTORY:
            o->no_git_history = true;
            break;
        case OPT_VERIFY_DIFF_IDS:
            o->verify_diff_ids = true;
            break;
        case OPT_TRUST_CACHE:
            o->trust_cache = true;
            break;
        case OPT_NO_RULES_CACHE:
            o->no_rules_cache = true;
            break;
        case OPT_MAX_GIT_BYTES:
            if (!parse_count(optarg, UINT64_MAX / 2, &o->max_git_bytes) ||
                !o->max_git_bytes)
                return cli_usage_error("bad --max-git-bytes '%s' (a number "
                                       "of bytes, at least 1)",
                                       optarg);
            break;
        case OPT_SHOW_SECRETS:
            o->show_secrets = true;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'h':
            o->help = true;
            break;
        default:
            return cli_getopt_error(c, argv);
        }
    }
    if (o->help)
        return -1;
    if (baseline && o->report_opts)
        return cli_usage_error("%s", "baseline: report, gating and suppression "
                                     "options do not apply (it records every "
                                     "finding)");
    if (o->db && o->no_db)
        return cli_usage_error("%s",
                               "--db and --no-db cannot be used together");
    if (o->show_secrets &&
        (o->format != STW_REPORT_TABLE || o->output || baseline))
        return cli_usage_error("%s", "--show-secrets only applies to the "
                                     "table on standard output: secrets never "
                                     "go into files or machine formats");
    if (o->ignore_file && o->no_ignore_file)
        return cli_usage_error("%s", "--ignore-file and --no-ignore-file "
                                     "cannot be used together");
    o->targets = argv + optind;
    o->n_targets = (size_t)(argc - optind);
    if (o->batch_registry && o->n_targets != 1)
        return cli_usage_error("%s", "batch registry: expected one REGISTRY "
                                     "(HOST[:PORT])");
    if (o->shard_n > 1 && (baseline || o->n_base_images || o->no_db))
        return cli_usage_error("%s", "--shard writes a database for 'db "
                                     "merge': not with baseline, "
                                     "--base-image or --no-db");
    if (o->n_targets == 0)
        return cli_usage_error("%s: missing TARGET", argv[0]);
    size_t stdin_uses = 0;
    for (size_t i = 0; i < o->n_targets; i++)
        stdin_uses += strcmp(o->targets[i], "-") == 0;
    for (size_t i = 0; i < o->n_base_images; i++)
        stdin_uses += strcmp(o->base_images[i], "-") == 0;
    if (stdin_uses > 1)
        return cli_usage_error("%s",
                               "standard input ('-') can be scanned once");
    return -1;
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

/* The scan options of the command line into *out (transferred: destroy
 * with stw_scan_options_destroy), with pr's callbacks: also what registry
 * listings of `batch registry` connect with. Prints the error and returns
 * false on failure. */
static bool make_scan_options(const cli_options *o, cli_progress *pr,
                              stw_scan_options **out)
{
    stw_error err = {0};
    stw_scan_options *so = NULL;
    unsigned depth = o->no_nested   ? 0
                     : o->max_depth ? o->max_depth
                                    : STW_NESTED_DEPTH_DEFAULT;
    bool ok = stw_scan_options_create(&so, &err) == STW_OK &&
              stw_scan_options_set_platform(so, o->platform, &err) == STW_OK &&
              stw_scan_options_set_globs(so, o->repo_glob, o->tag_glob, &err) ==
                  STW_OK &&
              stw_scan_options_set_ca_cert(so, o->ca_cert, &err) == STW_OK &&
              stw_scan_options_set_shard(so, o->shard_k, o->shard_n, &err) ==
                  STW_OK &&
              stw_scan_options_set_page_size(so, o->page_size, &err) == STW_OK;
    for (size_t i = 0; ok && i < o->n_insecure; i++)
        ok = stw_scan_options_add_insecure_registry(so, o->insecure[i], &err) ==
             STW_OK;
    if (!ok) {
        cli_print_error(&err);
        stw_scan_options_destroy(so);
        return false;
    }
    stw_scan_options_set_jobs(so, o->jobs);
    stw_scan_options_set_nested(so, depth, o->max_nested_bytes,
                                o->max_nested_members);
    stw_scan_options_set_git_history(so, !o->no_git_history, o->max_git_bytes);
    /* Layers named by diff_id (--skip-layer, a --base-image's) match only
     * verified ones, so those options have every diff_id computed: a
     * base image pulled compressed still matches its docker-save copy. */
    bool verify = o->verify_diff_ids || o->n_skip_layers || o->n_base_images;
    stw_scan_options_set_hashing(so, verify, o->trust_cache);
    stw_scan_options_set_registry_timeout(so, o->timeout_s);
    if (o->show_secrets && o->secrets)
        stw_scan_options_set_secret_callback(so, cli_secrets_add, o->secrets);
    cli_progress_attach(pr, so);
    *out = so;
    return true;
}

/* Scans targets[0..n) into scan_id with so; returns false if any failed
 * (each already printed and recorded in the store). *db_failed (may be
 * NULL) tells whether one failed on the database itself (a full disk). */
static bool scan_targets(const stw_scan_options *so, const stw_rules *rules,
                         stw_store *store, int64_t scan_id,
                         char *const *targets, size_t n, cli_progress *pr,
                         bool *db_failed)
{
    bool all_ok = true;
    pr->targets = n;
    for (size_t i = 0; i < n; i++) {
        const char *t = targets[i];
        pr->target = i + 1;
        stw_error err = {0};
        stw_status st;
        if (strcmp(t, "-") == 0 && isatty(STDIN_FILENO)) {
            st = cli_fail(&err, STW_ERR_USAGE,
                          "-: standard input is a terminal; pipe an image "
                          "in (docker save IMAGE | stowaway scan -)");
            stw_error ignored = {0};
            stw_store_put_error(store, scan_id, t, err.msg, &ignored);
        } else {
            st = stw_scan_target(rules, store, scan_id, t, so, &err);
        }
        cli_progress_clear(pr);
        if (st != STW_OK) {
            print_target_error(t, &err);
            all_ok = false;
            if (db_failed && st == STW_ERR_DB)
                *db_failed = true;
        }
    }
    return all_ok;
}

/* Scans each --base-image as a scan of its own and adds its layers (blob
 * digests and diff_ids) and its findings to sup. */
static bool scan_base_images(const cli_options *o, const stw_scan_options *so,
                             const stw_rules *rules, stw_store *store,
                             const char *args, stw_suppress *sup,
                             cli_progress *pr)
{
    if (!o->n_base_images)
        return true;
    stw_error err = {0};
    int64_t id = 0;
    stw_results *res = NULL;
    if (stw_store_begin_scan(store, STW_VERSION, stw_rules_version(rules), args,
                             &id, &err) != STW_OK) {
        cli_print_error(&err);
        return false;
    }
    bool ok = scan_targets(so, rules, store, id, (char *const *)o->base_images,
                           o->n_base_images, pr, NULL);
    /* Read back before the end: a `db prune` in another process may
     * remove a finished scan at once, never a running one. */
    if (ok && (stw_store_load_scan(store, id, &res, &err) != STW_OK ||
               stw_store_end_scan(store, id, &err) != STW_OK)) {
        cli_print_error(&err);
        ok = false;
    }
    for (size_t i = 0; ok && i < stw_results_image_count(res); i++) {
        const stw_result_image *im = stw_results_image(res, i);
        for (size_t l = 0; ok && l < stw_result_image_layer_count(im); l++) {
            const stw_result_layer *ly = stw_result_image_layer(im, l);
            const char *diff_id = stw_result_layer_diff_id(ly);
            ok = stw_suppress_add_layer(sup, stw_result_layer_digest(ly),
                                        &err) == STW_OK;
            if (ok && *diff_id && stw_result_layer_diff_id_verified(ly))
                ok = stw_suppress_add_layer(sup, diff_id, &err) == STW_OK;
        }
    }
    if (ok && stw_suppress_add_baseline_results(sup, res, &err) != STW_OK)
        ok = false;
    if (!ok && err.status)
        cli_print_error(&err);
    stw_results_destroy(res);
    return ok;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The command after parsing: returns the exit status. */
static int run_scan(const cli_options *o, int argc, char **argv, bool baseline)
{
    stw_error err = {0};
    stw_rules *rules = NULL;
    stw_store *store = NULL;
    stw_results *res = NULL;
    stw_suppress *sup = NULL;
    stw_scan_options *so = NULL;
    char *db = NULL, *args = NULL;
    cli_batch_refs batch = {0};
    int rc = EXIT_ERROR;
    int64_t scan_id = 0;
    cli_suppress_counts counts = {0};
    cli_progress pr;
    cli_progress_init(&pr, !o->quiet && isatty(STDERR_FILENO));
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    /* Read what can be wrong first: no point scanning for an hour into a
     * report path that cannot be written or with a broken ignore file. */
    if (!baseline && !cli_suppress_load(o, &sup)) {
        cli_progress_destroy(&pr);
        return EXIT_ERROR;
    }
    cli_output co;
    if (!cli_open_output(o, &co)) {
        stw_suppress_destroy(sup);
        cli_progress_destroy(&pr);
        return EXIT_ERROR;
    }
    cli_rules_spec spec = {.files = o->rule_files,
                           .n_files = o->n_rule_files,
                           .disabled = o->disabled,
                           .n_disabled = o->n_disabled,
                           .no_cache = o->no_rules_cache};
    if (!cli_make_rules(&spec, &rules, &err) || !cli_resolve_db(o, &db, &err) ||
        stw_store_open(db, &store, &err) != STW_OK) {
        cli_print_error(&err);
        goto done;
    }
    if (o->verbose && !o->quiet)
        cli_print_rules_cache(rules);
    args = cli_join_args(argc, argv);
    if (!args) {
        cli_fail(&err, STW_ERR_NOMEM, "out of memory");
        cli_print_error(&err);
        goto done;
    }
    if (!make_scan_options(o, &pr, &so) ||
        !scan_base_images(o, so, rules, store, args, sup, &pr))
        goto done;
    stw_store_set_shard(store, o->shard_k, o->shard_n);
    /* A batch run that was interrupted is continued, not started over. */
    bool resumed = false;
    if (o->batch_registry &&
        stw_store_find_unfinished_scan(store, args, &scan_id, &resumed, &err) !=
            STW_OK) {
        cli_print_error(&err);
        goto done;
    }
    if (resumed && !o->quiet)
        fprintf(stderr, "stowaway: continuing interrupted scan %lld of %s\n",
                (long long)scan_id, o->targets[0]);
    if (!resumed &&
        stw_store_begin_scan(store, STW_VERSION, stw_rules_version(rules), args,
                             &scan_id, &err) != STW_OK) {
        cli_print_error(&err);
        goto done;
    }
    char *const *targets = o->targets;
    size_t n_targets = o->n_targets;
    if (o->batch_registry &&
        !cli_batch_registry_refs(o, so, store, scan_id, &batch))
        goto done;
    if (o->batch_registry) {
        targets = batch.refs;
        n_targets = batch.n;
    }
    bool db_failed = false;
    bool all_ok = scan_targets(so, rules, store, scan_id, targets, n_targets,
                               &pr, &db_failed);
    if (stw_store_load_scan(store, scan_id, &res, &err) != STW_OK ||
        stw_store_end_scan(store, scan_id, &err) != STW_OK) {
        /* The database failing again (full) is the line already printed
         * for the target: one failure, one line. */
        if (!(db_failed && err.status == STW_ERR_DB))
            cli_print_error(&err);
        goto done;
    }
    if (baseline) {
        if (!all_ok)
            goto done; /* a partial baseline would hide nothing it lacks */
        if (stw_suppress_write_baseline(res, co.f, &err) != STW_OK) {
            cli_print_error(&err);
            goto done;
        }
        co.complete = true;
        size_t n_findings = stw_results_finding_count(res);
        size_t n_images = stw_results_image_count(res);
        if (!o->quiet)
            fprintf(stderr,
                    "stowaway: baseline of %zu finding%s in %zu "
                    "image%s\n",
                    n_findings, n_findings == 1 ? "" : "s", n_images,
                    n_images == 1 ? "" : "s");
        rc = EXIT_CLEAN;
        goto done;
    }
    /* A shard holds part of the answer: the report is the merged
     * database's. */
    if (o->shard_n > 1) {
        if (!o->quiet)
            cli_batch_shard_summary(o, store, scan_id, n_targets);
        rc = all_ok ? EXIT_CLEAN : EXIT_ERROR;
        goto done;
    }
    /* The store keeps every finding; what the team chose not to see is
     * left out of the report and of gating only. */
    stw_results_suppress(res, sup, &counts.ignored, &counts.baselined,
                         &counts.layers);
    if (cli_render(o, rules, res, co.f, &err) != STW_OK) {
        cli_print_error(&err);
        goto done;
    }
    co.complete = true;
    /* What a scan skipped without failing (a bound of files inside files,
     * a damaged inner archive) is in the report's errors; a report that
     * is not the table on this terminal does not show it, so say it here:
     * nothing is skipped silently. */
    if (all_ok && (o->format != STW_REPORT_TABLE || co.f != stdout))
        for (size_t i = 0; i < stw_results_error_count(res); i++) {
            const stw_result_error *e = stw_results_error(res, i);
            fputs("stowaway: warning: ", stderr);
            put_printable(stw_result_error_target(e), stderr);
            fputs(": ", stderr);
            put_printable(stw_result_error_message(e), stderr);
            fputc('\n', stderr);
        }
    /* A failed target's one line is the last word on standard error: the
     * exit status is 2 whatever the counts say. */
    if (!o->quiet && all_ok)
        cli_print_summary(o, res, pr.bytes_all, seconds_since(&t0), &counts);
    if (!all_ok)
        rc = EXIT_ERROR;
    else if (o->exit_zero)
        rc = EXIT_CLEAN;
    else if (stw_results_count_at_least(res, o->fail_on, !o->ignore_hidden) > 0)
        rc = EXIT_FINDINGS;
    else
        rc = EXIT_CLEAN;
done:
    rc = cli_close_output(o, &co, rc);
    stw_results_destroy(res);
    stw_store_close(store);
    stw_rules_destroy(rules);
    stw_suppress_destroy(sup);
    stw_scan_options_destroy(so);
    cli_progress_destroy(&pr);
    cli_batch_refs_free(&batch);
    free(db);
    free(args);
    return rc;
}

int stw_cli_scan(int argc, char **argv, int first, bool baseline)
{
    cli_options o = {.fail_on = STW_SEV_HIGH, .format = STW_REPORT_TABLE};
    if (!cli_options_init(&o, argc))
        return EXIT_ERROR;
    o.batch_registry = first == 2 && strcmp(argv[2], "registry") == 0;
    int rc = parse_scan(argc - first, argv + first, &o, baseline);
    if (rc >= 0) {
        /* usage error, already printed */
    } else if (o.help && o.batch_registry) {
        fputs(stw_cli_batch_registry_help, stdout);
        rc = EXIT_CLEAN;
    } else if (o.help) {
        fputs(baseline ? stw_cli_baseline_help : stw_cli_scan_help, stdout);
        rc = EXIT_CLEAN;
    } else {
        if (o.show_secrets)
            o.secrets = cli_secrets_create();
        rc = run_scan(&o, argc, argv, baseline);
    }
    cli_secrets_free(o.secrets);
    cli_options_free(&o);
    return rc;
}
