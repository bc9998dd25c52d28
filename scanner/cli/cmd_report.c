/* cmd_report.c - `stowaway report --db FILE`: renders what a database
 * already holds - by default the latest scan of every image - without
 * rescanning, filtered by image and rule, with the same suppression as
 * `scan`. */
#include "cmd_report.h"

#include "cli.h"
#include "common.h"
#include "store.h"

#include <getopt.h>
#include <string.h>
#include <unistd.h>

const char stw_cli_report_help[] =
    "Usage: stowaway report --db FILE [OPTIONS]\n"
    "\n"
    "Prints the results stored in a database without scanning again: for\n"
    "every image (by ref and platform) the findings of its latest scan.\n"
    "\n"
    "Options:\n"
    "      --db FILE           the database to read (required)\n"
    "      --image REF         only images whose ref matches REF (a glob:\n"
    "                          'registry.example.com/app:*')\n"
    "      --rule ID           only findings of rule ID\n"
    "      --format FORMAT     table (default), json, sarif or html\n"
    "  -o, --output FILE       write the report to FILE\n"
    "      --ignore-file FILE, --no-ignore-file, --baseline FILE,\n"
    "      --skip-layer DIGEST as for 'stowaway scan'\n"
    "  -q, --quiet             no summary line\n"
    "  -h, --help              show this help\n"
    "\n"
    "Exit status: 0 printed; 2 usage error or unreadable database.\n";

enum {
    OPT_DB = 256,
    OPT_IMAGE,
    OPT_RULE,
    OPT_FORMAT,
    OPT_IGNORE_FILE,
    OPT_NO_IGNORE_FILE,
    OPT_BASELINE,
    OPT_SKIP_LAYER,
};

static int parse(int argc, char **argv, cli_options *o)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"image", required_argument, NULL, OPT_IMAGE},
        {"rule", required_argument, NULL, OPT_RULE},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"ignore-file", required_argument, NULL, OPT_IGNORE_FILE},
        {"no-ignore-file", no_argument, NULL, OPT_NO_IGNORE_FILE},
        {"baseline", required_argument, NULL, OPT_BASELINE},
        {"skip-layer", required_argument, NULL, OPT_SKIP_LAYER},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DB:
            o->db = optarg;
            break;
        case OPT_IMAGE:
            o->image_glob = optarg;
            break;
        case OPT_RULE:
            o->rule_id = optarg;
            break;
        case OPT_FORMAT:
            if (stw_report_format_parse(optarg, &o->format) != STW_OK)
                return cli_usage_error("unknown format '%s' (table, json, "
                                       "sarif or html)",
                                       optarg);
            break;
        case 'o':
            o->output = optarg;
            break;
        case OPT_IGNORE_FILE:
            o->ignore_file = optarg;
            break;
        case OPT_NO_IGNORE_FILE:
            o->no_ignore_file = true;
            break;
        case OPT_BASELINE:
            o->baseline = optarg;
            break;
        case OPT_SKIP_LAYER:
            o->skip_layers[o->n_skip_layers++] = optarg;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'h':
            o->help = true;
            break;
        case ':':
            return cli_usage_error("option '%s' needs an argument",
                                   argv[optind - 1]);
        default:
            if (optopt) {
                char opt[3] = {'-', (char)optopt, 0};
                return cli_usage_error("unknown option '%s'", opt);
            }
            return cli_usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (o->help)
        return -1;
    if (optind < argc)
        return cli_usage_error("report: unexpected argument '%s' (it reads "
                               "--db, it does not scan)",
                               argv[optind]);
    if (!o->db)
        return cli_usage_error("%s", "report: --db FILE is required");
    return -1;
}

static bool keep_rule(void *ctx, const stw_results *r, const stw_rfinding *f)
{
    (void)r;
    return strcmp(f->rule ? f->rule : "", (const char *)ctx) == 0;
}

static int run(const cli_options *o)
{
    stw_error err = {0};
    stw_store *store = NULL;
    stw_results *res = NULL;
    stw_rules *rules = NULL;
    stw_suppress *sup = NULL;
    stw_suppress_counts counts = {0};
    int rc = EXIT_ERROR;
    /* Reading must not create an empty database where a typo points. */
    if (access(o->db, F_OK) != 0) {
        fprintf(stderr, "stowaway: %s: no such database\n", o->db);
        return EXIT_ERROR;
    }
    if (!cli_suppress_load(o, &sup))
        return EXIT_ERROR;
    FILE *out = cli_open_output(o);
    if (!out) {
        stw_suppress_destroy(sup);
        return EXIT_ERROR;
    }
    /* Built-in rules give the table and SARIF their titles and fixes. */
    if (stw_rules_create(NULL, &rules, &err) != STW_OK ||
        stw_store_open(o->db, &store, &err) != STW_OK ||
        stw_store_load_latest(store, o->image_glob, &res, &err) != STW_OK) {
        cli_print_error(&err);
        goto done;
    }
    if (o->image_glob && res->n_images == 0) {
        fprintf(stderr, "stowaway: %s: no image matches '%s'\n", o->db,
                o->image_glob);
        goto done;
    }
    if (o->rule_id)
        stw_results_retain(res, keep_rule, (void *)o->rule_id);
    stw_suppress_apply(sup, res, &counts);
    if (cli_render(o, rules, res, out, &err) != STW_OK) {
        cli_print_error(&err);
        goto done;
    }
    if (!o->quiet)
        cli_print_stored_summary(o, res, &counts);
    rc = EXIT_CLEAN;
done:
    rc = cli_close_output(o, out, rc);
    stw_results_destroy(res);
    stw_store_close(store);
    stw_rules_destroy(rules);
    stw_suppress_destroy(sup);
    return rc;
}

int stw_cli_report(int argc, char **argv)
{
    cli_options o = {.fail_on = STW_SEV_HIGH, .format = STW_REPORT_TABLE};
    if (!cli_options_init(&o, argc))
        return EXIT_ERROR;
    int rc = parse(argc, argv, &o);
    if (rc < 0 && o.help) {
        fputs(stw_cli_report_help, stdout);
        rc = EXIT_CLEAN;
    } else if (rc < 0) {
        rc = run(&o);
    }
    cli_options_free(&o);
    return rc;
}
