/* cli_common.c - helpers every stowaway command uses (cli.h): options and
 * the report options `scan` and `report` share, messages, the database
 * path, suppression, rendering and the summary. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

stw_status cli_fail(stw_error *err, stw_status st, const char *fmt, ...)
{
    if (!err)
        return st;
    err->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return st;
}

const char *cli_strerror(int errnum, char *buf, size_t len)
{
    /* The XSI strerror_r (_POSIX_C_SOURCE) returns an int. */
    if (strerror_r(errnum, buf, len) != 0)
        snprintf(buf, len, "error %d", errnum);
    return buf;
}

bool cli_options_init(cli_options *o, int argc)
{
    size_t n = (size_t)(argc > 0 ? argc : 1);
    o->rule_files = calloc(n, sizeof(*o->rule_files));
    o->disabled = calloc(n, sizeof(*o->disabled));
    o->skip_layers = calloc(n, sizeof(*o->skip_layers));
    o->base_images = calloc(n, sizeof(*o->base_images));
    o->insecure = calloc(n, sizeof(*o->insecure));
    if (!o->rule_files || !o->disabled || !o->skip_layers || !o->base_images ||
        !o->insecure) {
        cli_options_free(o);
        fputs("stowaway: out of memory\n", stderr);
        return false;
    }
    return true;
}

void cli_options_free(cli_options *o)
{
    free(o->rule_files);
    free(o->disabled);
    free(o->skip_layers);
    free(o->base_images);
    free(o->insecure);
    o->rule_files = o->disabled = o->skip_layers = o->base_images = NULL;
    o->insecure = NULL;
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("stowaway: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'stowaway --help'.\n", stderr);
    return EXIT_ERROR;
}

void cli_print_error(const stw_error *e)
{
    fprintf(stderr, "stowaway: %s\n",
            e->msg[0] ? e->msg : stw_status_str(e->status));
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
            cli_fail(err, STW_ERR_IO, "creating %s: %s", path,
                     cli_strerror(errno, buf, sizeof(buf)));
            ok = false;
        }
        *p = c;
        if (!ok || c == 0)
            break;
    }
    *end = saved;
    return ok;
}

/* The per-user cache directory, $XDG_CACHE_HOME/stowaway (a relative
 * XDG_CACHE_HOME is invalid and ignored) else ~/.cache/stowaway, with
 * "/leaf" after it unless leaf is NULL; the directories above the last
 * component made. Malloc'd; NULL with err (may be NULL) set on failure. */
static char *cache_path(const char *leaf, stw_error *err)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    const char *base, *sub;
    if (xdg && xdg[0] == '/') {
        base = xdg, sub = "/stowaway";
    } else if (home && home[0] == '/') {
        base = home, sub = "/.cache/stowaway";
    } else {
        /* The hint is for the database, the one caller that reports it. */
        cli_fail(err, STW_ERR_USAGE,
                 "no cache directory: set HOME or XDG_CACHE_HOME, or use "
                 "--db FILE or --no-db");
        return NULL;
    }
    size_t n = strlen(base) + strlen(sub) + (leaf ? strlen(leaf) + 1 : 0) + 1;
    char *path = malloc(n);
    if (!path) {
        cli_fail(err, STW_ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(path, n, "%s%s%s%s", base, sub, leaf ? "/" : "", leaf ? leaf : "");
    if (!make_dirs(path, true, err)) {
        free(path);
        return NULL;
    }
    return path;
}

bool cli_resolve_db(const cli_options *o, char **out, stw_error *err)
{
    *out = NULL;
    if (o->no_db)
        return true;
    if (!o->db) {
        *out = cache_path("stowaway.db", err);
        return *out != NULL;
    }
    *out = strdup(o->db);
    if (!*out)
        cli_fail(err, STW_ERR_NOMEM, "out of memory");
    return *out != NULL;
}

bool cli_make_rules(const cli_rules_spec *spec, stw_rules **out, stw_error *err)
{
    static const cli_rules_spec builtin = {0};
    if (!spec)
        spec = &builtin;
    /* The library makes the last component; a cache is optional, so a
     * parent that cannot be made just means none. */
    char *cache_dir = spec->no_cache ? NULL : cache_path(NULL, NULL);
    stw_rules_options *ro = NULL;
    bool ok = stw_rules_options_create(&ro, err) == STW_OK &&
              stw_rules_options_set_cache_dir(ro, cache_dir, err) == STW_OK;
    for (size_t i = 0; ok && i < spec->n_files; i++)
        ok = stw_rules_options_add_file(ro, spec->files[i], err) == STW_OK;
    for (size_t i = 0; ok && i < spec->n_disabled; i++)
        ok = stw_rules_options_disable(ro, spec->disabled[i], err) == STW_OK;
    if (ok)
        stw_rules_options_set_builtin(ro, !spec->no_builtin);
    ok = ok && stw_rules_create(ro, out, err) == STW_OK;
    stw_rules_options_destroy(ro);
    free(cache_dir);
    return ok;
}

void cli_print_rules_cache(const stw_rules *rules)
{
    const char *why = NULL;
    stw_rules_cache_use u = stw_rules_cache_state(rules, &why);
    static const char *const what[] = {
        [STW_RULES_CACHE_OFF] = "compiled (rules cache off)",
        [STW_RULES_CACHE_LOADED] = "compiled prefilter loaded from the cache",
        [STW_RULES_CACHE_STORED] = "compiled, and stored in the cache",
        [STW_RULES_CACHE_FAILED] = "compiled; not stored in the cache",
    };
    fprintf(stderr, "stowaway: rules %s: %s%s%s\n", stw_rules_version(rules),
            what[u], why && *why ? " - " : "", why ? why : "");
}

char *cli_join_args(int argc, char **argv)
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

bool cli_want_color(FILE *out)
{
    const char *term = getenv("TERM");
    return isatty(fileno(out)) && !getenv("NO_COLOR") &&
           !(term && strcmp(term, "dumb") == 0);
}

void cli_today(char out[11])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

bool cli_suppress_load(const cli_options *o, stw_suppress **out)
{
    stw_error err = {0};
    stw_suppress *s = NULL;
    char today[11];
    cli_today(today);
    const char *ignore = o->ignore_file;
    /* The current directory's file is a convenience; an explicit one must
     * exist. */
    if (!ignore && !o->no_ignore_file && access(CLI_IGNORE_FILE, F_OK) == 0)
        ignore = CLI_IGNORE_FILE;
    bool ok = stw_suppress_create(&s, &err) == STW_OK;
    if (ok && ignore)
        ok = stw_suppress_load_ignore(s, ignore, today, &err) == STW_OK;
    for (size_t i = 0; s && i < stw_suppress_warning_count(s); i++)
        fprintf(stderr, "stowaway: warning: %s\n", stw_suppress_warning(s, i));
    if (ok && o->baseline)
        ok = stw_suppress_load_baseline(s, o->baseline, &err) == STW_OK;
    for (size_t i = 0; ok && i < o->n_skip_layers; i++)
        ok = stw_suppress_add_layer(s, o->skip_layers[i], &err) == STW_OK;
    if (!ok) {
        cli_print_error(&err);
        stw_suppress_destroy(s);
        return false;
    }
    *out = s;
    return true;
}

struct cli_secrets {
    char (*fp)[33];
    char **secret;
    size_t *len;
    size_t n, cap;
};

cli_secrets *cli_secrets_create(void)
{
    return calloc(1, sizeof(cli_secrets));
}

void cli_secrets_add(void *ctx, const char *fingerprint, const char *secret,
                     size_t n)
{
    cli_secrets *s = ctx;
    if (cli_secrets_get(s, fingerprint))
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        void *a = realloc(s->fp, cap * sizeof(*s->fp));
        if (a)
            s->fp = a;
        void *b = a ? realloc(s->secret, cap * sizeof(*s->secret)) : NULL;
        if (b)
            s->secret = b;
        void *c = b ? realloc(s->len, cap * sizeof(*s->len)) : NULL;
        if (!c)
            return; /* shown as not known; the report itself is unaffected */
        s->len = c;
        s->cap = cap;
    }
    char *copy = malloc(n + 1);
    if (!copy)
        return;
    memcpy(copy, secret, n);
    copy[n] = 0;
    snprintf(s->fp[s->n], sizeof(s->fp[s->n]), "%s", fingerprint);
    s->secret[s->n] = copy;
    s->len[s->n++] = n;
}

const char *cli_secrets_get(void *ctx, const char *fingerprint)
{
    cli_secrets *s = ctx;
    for (size_t i = 0; s && i < s->n; i++)
        if (!strcmp(s->fp[i], fingerprint))
            return s->secret[i];
    return NULL;
}

void cli_secrets_free(cli_secrets *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        explicit_bzero(s->secret[i], s->len[i]);
        free(s->secret[i]);
    }
    free(s->fp);
    free(s->secret);
    free(s->len);
    free(s);
}

int cli_parse_format(const char *s, stw_report_format *out)
{
    if (stw_report_format_parse(s, out) == STW_OK)
        return -1;
    return cli_usage_error("unknown format '%s' (table, json, sarif or html)",
                           s);
}

int cli_parse_severity(const char *s, stw_severity *out)
{
    if (stw_severity_parse(s, out) == STW_OK)
        return -1;
    return cli_usage_error("unknown severity '%s' (critical, high, medium, "
                           "low or info)",
                           s);
}

int cli_parse_report_option(int c, const char *arg, cli_options *o)
{
    int rc = -1;
    switch (c) {
    case 'o':
        o->output = arg;
        return -1;
    case 'v':
        o->verbose = true;
        return -1;
    case CLI_OPT_NO_IGNORE_FILE:
        o->no_ignore_file = true;
        return -1;
    case CLI_OPT_FORMAT:
        rc = cli_parse_format(arg, &o->format);
        break;
    case CLI_OPT_IGNORE_FILE:
        o->ignore_file = arg;
        break;
    case CLI_OPT_BASELINE:
        o->baseline = arg;
        break;
    case CLI_OPT_SKIP_LAYER:
        o->skip_layers[o->n_skip_layers++] = arg;
        break;
    case CLI_OPT_FAIL_ON:
        rc = cli_parse_severity(arg, &o->fail_on);
        break;
    case CLI_OPT_FAIL_ON_HIDDEN:
        o->ignore_hidden = false; /* the last of the pair wins */
        break;
    case CLI_OPT_IGNORE_HIDDEN:
        o->ignore_hidden = true;
        break;
    case CLI_OPT_EXIT_ZERO:
        o->exit_zero = true;
        break;
    default:
        return CLI_OPT_NOT_SHARED;
    }
    o->report_opts = true;
    return rc;
}

int cli_getopt_error(int c, char **argv)
{
    if (c == ':')
        return cli_usage_error("option '%s' needs an argument",
                               argv[optind - 1]);
    if (optopt) {
        char opt[3] = {'-', (char)optopt, 0};
        return cli_usage_error("unknown option '%s'", opt);
    }
    return cli_usage_error("unknown option '%s'", argv[optind - 1]);
}

/* "FILE: MESSAGE" unless the message already names FILE: a failed write
 * ("No space left on device") must say which file. */
static void name_output(stw_error *err, const char *file)
{
    if (strncmp(err->msg, file, strlen(file)) == 0)
        return;
    char msg[STW_ERROR_MAX];
    memcpy(msg, err->msg, sizeof msg);
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", file, msg) < 0)
        memcpy(err->msg, msg, sizeof msg);
}

stw_status cli_render(const cli_options *o, const stw_rules *rules,
                      const stw_results *res, FILE *out, stw_error *err)
{
    stw_report_options *ro = NULL;
    stw_status st = stw_report_options_create(&ro, err);
    if (st != STW_OK)
        return st;
    stw_report_options_set_rules(ro, rules);
    if (o->format == STW_REPORT_TABLE) {
        size_t n_errors = stw_results_error_count(res);
        /* --quiet: a clean result needs no words, the exit status says
         * it. Nothing was scanned: the errors are already on standard
         * error, and a table would only add "no findings in 0 images". */
        if ((o->quiet && stw_results_finding_count(res) == 0 &&
             n_errors == 0) ||
            (stw_results_image_count(res) == 0 && n_errors > 0)) {
            stw_report_options_destroy(ro);
            return STW_OK;
        }
        stw_report_options_set_color(ro, cli_want_color(out));
        stw_report_options_set_remediation(ro, true);
        stw_report_options_set_verbose(ro, o->verbose);
        if (o->show_secrets && o->secrets)
            stw_report_options_set_secret_lookup(ro, cli_secrets_get,
                                                 o->secrets);
    }
    st = stw_report_render(res, o->format, ro, out, err);
    stw_report_options_destroy(ro);
    if (st != STW_OK && o->output)
        name_output(err, o->output);
    return st;
}

/* ": findings: 1 critical, ...; N hidden...; M suppressed (...)" and the
 * newline: the part of the summary every command shares. */
static void put_counts(const cli_options *o, const stw_results *res,
                       const cli_suppress_counts *sup)
{
    size_t by_sev[STW_SEV_COUNT_] = {0}, hidden = 0;
    for (size_t i = 0; i < stw_results_finding_count(res); i++) {
        const stw_result_finding *f = stw_results_finding(res, i);
        by_sev[(unsigned)stw_result_finding_severity(f) % STW_SEV_COUNT_]++;
        hidden += !stw_result_finding_visible(f);
    }
    fputs(", findings:", stderr);
    for (int s = STW_SEV_COUNT_ - 1; s >= 0; s--)
        fprintf(stderr, " %zu %s%s", by_sev[s],
                stw_severity_str((stw_severity)s), s ? "," : "");
    if (hidden)
        fprintf(stderr, "; %zu hidden by a later layer%s", hidden,
                o->ignore_hidden ? " (ignored by --ignore-hidden)" : "");
    size_t n_sup = sup ? sup->ignored + sup->baselined + sup->layers : 0;
    if (n_sup) {
        fprintf(stderr, "; %zu suppressed (", n_sup);
        const char *sep = "";
        if (sup->ignored) {
            fprintf(stderr, "%s%zu by ignore file", sep, sup->ignored);
            sep = ", ";
        }
        if (sup->baselined) {
            fprintf(stderr, "%s%zu by baseline", sep, sup->baselined);
            sep = ", ";
        }
        if (sup->layers)
            fprintf(stderr, "%s%zu in skipped layers", sep, sup->layers);
        fputc(')', stderr);
    }
    fputc('\n', stderr);
}

void cli_print_summary(const cli_options *o, const stw_results *res,
                       uint64_t bytes, double secs,
                       const cli_suppress_counts *sup)
{
    uint64_t scanned = stw_results_layers_scanned(res);
    uint64_t cached = stw_results_layers_cached(res);
    uint64_t layers = scanned + cached;
    size_t n_images = stw_results_image_count(res);
    fprintf(stderr,
            "stowaway: %zu image%s, %llu layer%s (%llu scanned, %llu "
            "cached), %.1f MB, %.2f s",
            n_images, n_images == 1 ? "" : "s", (unsigned long long)layers,
            layers == 1 ? "" : "s", (unsigned long long)scanned,
            (unsigned long long)cached, (double)bytes / 1e6, secs);
    put_counts(o, res, sup);
}

void cli_print_stored_summary(const cli_options *o, const stw_results *res,
                              const cli_suppress_counts *sup)
{
    size_t n_images = stw_results_image_count(res);
    fprintf(stderr, "stowaway: %zu image%s from %s (latest scan of each)",
            n_images, n_images == 1 ? "" : "s", o->db);
    put_counts(o, res, sup);
}

/* Prints "stowaway: FILE: <errno's text>". */
static void print_file_error(const char *file, int e)
{
    char buf[128];
    fprintf(stderr, "stowaway: %s: %s\n", file,
            cli_strerror(e, buf, sizeof buf));
}

/* A temporary file in the directory of path, with the mode path has (or
 * would get from fopen). Returns its stream and *tmp (malloc'd), or NULL
 * with errno set. */
static FILE *open_beside(const char *path, char **tmp)
{
    struct stat sb;
    mode_t mode;
    if (stat(path, &sb) == 0) {
        mode = sb.st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    size_t n = strlen(path) + sizeof ".stowaway-XXXXXX";
    char *t = malloc(n);
    if (!t) {
        errno = ENOMEM;
        return NULL;
    }
    snprintf(t, n, "%s.stowaway-XXXXXX", path);
    int fd = mkstemp(t);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f || fchmod(fd, mode) != 0) {
        int e = errno;
        if (f)
            fclose(f);
        else if (fd >= 0)
            close(fd);
        if (fd >= 0)
            unlink(t);
        free(t);
        errno = e;
        return NULL;
    }
    *tmp = t;
    return f;
}

bool cli_open_output(const cli_options *o, cli_output *out)
{
    out->f = stdout;
    out->tmp = NULL;
    out->complete = false;
    if (!o->output)
        return true;
    struct stat sb;
    if (stat(o->output, &sb) == 0 && !S_ISREG(sb.st_mode))
        out->f = fopen(o->output, "w");
    else
        out->f = open_beside(o->output, &out->tmp);
    if (!out->f)
        print_file_error(o->output, errno);
    return out->f != NULL;
}

int cli_close_output(const cli_options *o, cli_output *out, int rc)
{
    if (!out->f || out->f == stdout)
        return rc;
    bool failed = ferror(out->f) != 0;
    int e = failed ? EIO : 0;
    if (fclose(out->f) != 0 && !failed) {
        failed = true;
        e = errno;
    }
    out->f = NULL;
    if (!failed && out->complete && out->tmp &&
        rename(out->tmp, o->output) != 0) {
        failed = true;
        e = errno;
    }
    if (out->tmp && (failed || !out->complete))
        unlink(out->tmp);
    free(out->tmp);
    out->tmp = NULL;
    if (failed && rc != EXIT_ERROR) {
        print_file_error(o->output, e);
        return EXIT_ERROR;
    }
    return rc;
}
