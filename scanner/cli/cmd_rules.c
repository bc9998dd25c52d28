/* cmd_rules.c - `stowaway rules list` and `stowaway rules test`. The
 * examples run through the real matcher exactly as a scan would, so a
 * passing `rules test` means the rule fires on its tp strings and stays
 * quiet on its fp strings in an image too. */
#include "cmd_rules.h"

#include "cli.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { RULES_OK = 0, RULES_FAILED = 1, RULES_USAGE = 2 };

/* Upper bound on --rules / --disable-rule / FILE arguments. */
#define RULES_MAX_ARGS 256

static const char rules_help[] =
    "Usage: stowaway rules list [--rules FILE]... [--disable-rule ID]...\n"
    "                           [--no-builtin]\n"
    "       stowaway rules test [FILE]...\n"
    "\n"
    "list  prints every rule of the set a scan would use: id, severity,\n"
    "      kind and title, then the number of rules.\n"
    "test  runs each rule's own examples (signatures/README.md): every tp\n"
    "      string must give exactly one finding of its rule, no fp string\n"
    "      any. With FILE, only the rules of FILE are tested. Exit status\n"
    "      1 when an example fails.\n";

/* Counts findings of one rule id; the matcher's sink. */
typedef struct example_hits {
    const char *rule;
    size_t n;
} example_hits;

static stw_status count_hits(void *ctx, const stw_match *m)
{
    example_hits *h = ctx;
    if (strcmp(stw_match_rule(m), h->rule) == 0)
        h->n++;
    return STW_OK;
}

/* Shows an example's first line, shortened: examples are fake but long. */
static void print_example(FILE *out, const char *text)
{
    size_t n = strcspn(text, "\n");
    if (n > 60)
        n = 60;
    fprintf(out, "%.*s%s", (int)n, text, text[n] ? "..." : "");
}

static int run_tests(const stw_rules *r, FILE *out, FILE *errout)
{
    stw_error err = {0};
    stw_matcher *m = NULL;
    if (stw_matcher_create(r, &m, &err) != STW_OK) {
        fprintf(errout, "stowaway: %s\n", err.msg);
        return RULES_USAGE;
    }
    size_t n_rules = stw_rules_count(r), failed = 0, examples = 0;
    for (size_t i = 0; i < n_rules; i++) {
        const char *id = stw_rules_rule_id(r, i);
        size_t counts[2] = {0, 0};
        for (int tp = 1; tp >= 0; tp--) {
            const char *text, *path;
            for (size_t j = 0;
                 (text = stw_rules_rule_example(r, i, tp, j, &path)) != NULL;
                 j++) {
                example_hits h = {id, 0};
                examples++;
                counts[tp]++;
                if (stw_matcher_scan(m, path, text, strlen(text), count_hits,
                                     &h, &err) != STW_OK) {
                    fprintf(errout, "stowaway: %s\n", err.msg);
                    stw_matcher_destroy(m);
                    return RULES_USAGE;
                }
                /* A regex at its match limit on its own example would
                 * leave real files unchecked: a failure, named. */
                const char *const *notes;
                size_t n_notes = stw_matcher_notes(m, &notes);
                for (size_t k = 0; k < n_notes; k++) {
                    failed++;
                    fprintf(out, "FAIL %s: %s example %zu: %s\n", id,
                            tp ? "tp" : "fp", j + 1, notes[k]);
                }
                stw_matcher_clear_notes(m);
                if (n_notes)
                    continue;
                if ((tp && h.n == 1) || (!tp && h.n == 0))
                    continue;
                failed++;
                fprintf(out, "FAIL %s: %s example %zu gave %zu findings: ", id,
                        tp ? "tp" : "fp", j + 1, h.n);
                print_example(out, text);
                fputc('\n', out);
            }
        }
        if (counts[1] == 0 || counts[0] == 0) {
            failed++;
            fprintf(out, "FAIL %s: needs at least one tp and one fp example\n",
                    id);
        }
    }
    stw_matcher_destroy(m);
    fprintf(out, "%zu rules, %zu examples, %zu failures\n", n_rules, examples,
            failed);
    return failed ? RULES_FAILED : RULES_OK;
}

static void list_rules(const stw_rules *r, FILE *out)
{
    size_t n = stw_rules_count(r);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%-44s %-8s %-15s %s\n", stw_rules_rule_id(r, i),
                stw_severity_str(stw_rules_rule_severity(r, i)),
                stw_kind_str(stw_rules_rule_kind(r, i)),
                stw_rules_rule_title(r, i));
    fprintf(out, "%zu rules\n", n);
}

int stw_cli_rules(int argc, char **argv, FILE *out, FILE *errout)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "--help") == 0) {
        fputs(rules_help, argc < 2 ? errout : out);
        return argc < 2 ? RULES_USAGE : RULES_OK;
    }
    bool test = strcmp(argv[1], "test") == 0;
    if (!test && strcmp(argv[1], "list") != 0) {
        fprintf(errout, "stowaway: rules: unknown command '%s'\n%s", argv[1],
                rules_help);
        return RULES_USAGE;
    }
    const char *files[RULES_MAX_ARGS], *disabled[RULES_MAX_ARGS];
    size_t n_files = 0, n_disabled = 0;
    bool builtin = true;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!test &&
            (strcmp(a, "--rules") == 0 || strcmp(a, "--disable-rule") == 0)) {
            if (i + 1 >= argc) {
                fprintf(errout, "stowaway: rules: %s needs an argument\n", a);
                return RULES_USAGE;
            }
            bool is_file = strcmp(a, "--rules") == 0;
            size_t *n = is_file ? &n_files : &n_disabled;
            if (*n == RULES_MAX_ARGS) {
                fprintf(errout, "stowaway: rules: too many %s options\n", a);
                return RULES_USAGE;
            }
            (is_file ? files : disabled)[(*n)++] = argv[++i];
        } else if (!test && strcmp(a, "--no-builtin") == 0) {
            builtin = false;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(rules_help, out);
            return RULES_OK;
        } else if (test && a[0] != '-') {
            if (n_files == RULES_MAX_ARGS) {
                fprintf(errout, "stowaway: rules: too many files\n");
                return RULES_USAGE;
            }
            files[n_files++] = a;
        } else {
            fprintf(errout, "stowaway: rules: unknown option '%s'\n%s", a,
                    rules_help);
            return RULES_USAGE;
        }
    }
    /* `test FILE` checks FILE's rules alone: its examples must pass
     * without help from (or interference by) the built-in set. */
    if (test && n_files)
        builtin = false;
    stw_error err = {0};
    stw_rules *r = NULL;
    cli_rules_spec spec = {.files = files,
                           .n_files = n_files,
                           .disabled = disabled,
                           .n_disabled = n_disabled,
                           .no_builtin = !builtin};
    if (!cli_make_rules(&spec, &r, &err)) {
        fprintf(errout, "stowaway: %s\n", err.msg);
        return RULES_USAGE;
    }
    int rc = RULES_OK;
    if (test)
        rc = run_tests(r, out, errout);
    else
        list_rules(r, out);
    stw_rules_destroy(r);
    return rc;
}
