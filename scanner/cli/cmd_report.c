/* cmd_report.c - `stowaway report --db FILE`: renders what a database
 * already holds - by default the latest scan of every image - without
 * rescanning, filtered by image and rule, with the same suppression as
 * `scan`; with --by-layer, the leaking layers and the images sharing each
 * (one bad base layer in 400 images is one fix). */
#include "cmd_report.h"

#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

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
    "      --by-layer          one entry per layer with findings: how many\n"
    "                          and how severe, and every image that includes\n"
    "                          it (repo:tag, layer index, visible or hidden\n"
    "                          there, newest scan first); layers shared by\n"
    "                          the most images first. table or json only;\n"
    "                          suppression does not apply\n"
    "      --min-severity SEV  --by-layer: only findings at or above SEV\n"
    "                          (default low)\n"
    "      --format FORMAT     table (default), json, sarif or html\n"
    "  -o, --output FILE       write the report to FILE\n"
    "      --ignore-file FILE, --no-ignore-file, --baseline FILE,\n"
    "      --skip-layer DIGEST as for 'stowaway scan'\n"
    "  -v, --verbose           list every finding, as 'stowaway scan -v'\n"
    "  -q, --quiet             no summary line\n"
    "  -h, --help              show this help\n"
    "\n"
    "Exit status: 0 printed; 2 usage error or unreadable database.\n";

enum {
    OPT_DB = CLI_OPT_OWN,
    OPT_IMAGE,
    OPT_RULE,
    OPT_BY_LAYER,
    OPT_MIN_SEVERITY,
};

static int parse(int argc, char **argv, cli_options *o)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"image", required_argument, NULL, OPT_IMAGE},
        {"rule", required_argument, NULL, OPT_RULE},
        CLI_REPORT_LONGOPTS,
        {"by-layer", no_argument, NULL, OPT_BY_LAYER},
        {"min-severity", required_argument, NULL, OPT_MIN_SEVERITY},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":o:vqh", longopts, NULL)) != -1) {
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
        case OPT_IMAGE:
            o->image_glob = optarg;
            break;
        case OPT_RULE:
            o->rule_id = optarg;
            break;
        case OPT_BY_LAYER:
            o->by_layer = true;
            break;
        case OPT_MIN_SEVERITY:
            if (cli_parse_severity(optarg, &o->min_severity) >= 0)
                return EXIT_ERROR; /* the usage error is printed */
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
    if (optind < argc)
        return cli_usage_error("report: unexpected argument '%s' (it reads "
                               "--db, it does not scan)",
                               argv[optind]);
    if (!o->db)
        return cli_usage_error("%s", "report: --db FILE is required");
    if (o->by_layer && o->format != STW_REPORT_TABLE &&
        o->format != STW_REPORT_JSON)
        return cli_usage_error("%s", "report --by-layer: --format table or "
                                     "json");
    return -1;
}

/* "12 findings (3 critical, 9 high)" for a layer. */
static void put_layer_counts(const stw_leak_layer *l, FILE *out)
{
    int64_t n = stw_leak_layer_findings(l);
    fprintf(out, "%lld finding%s (", (long long)n, n == 1 ? "" : "s");
    const char *sep = "";
    for (int s = STW_SEV_COUNT_ - 1; s >= 0; s--) {
        int64_t k = stw_leak_layer_findings_at(l, (stw_severity)s);
        if (!k)
            continue;
        fprintf(out, "%s%lld %s", sep, (long long)k,
                stw_severity_str((stw_severity)s));
        sep = ", ";
    }
    fputc(')', out);
}

static void by_layer_table(const stw_leak_report *r, FILE *out)
{
    size_t n_layers = stw_leak_report_layer_count(r);
    if (!n_layers) {
        fputs("no layer with findings\n", out);
        return;
    }
    for (size_t i = 0; i < n_layers; i++) {
        const stw_leak_layer *l = stw_leak_report_layer(r, i);
        size_t n_images = stw_leak_layer_image_count(l);
        int64_t hidden = stw_leak_layer_hidden(l);
        const char *created_by = stw_leak_layer_created_by(l);
        fprintf(out, "%s%s\n  ", i ? "\n" : "", stw_leak_layer_digest(l));
        put_layer_counts(l, out);
        fprintf(out, ", in %zu image%s", n_images, n_images == 1 ? "" : "s");
        if (hidden)
            fprintf(out, "; hidden by a later layer in %lld case%s",
                    (long long)hidden, hidden == 1 ? "" : "s");
        fputc('\n', out);
        if (*created_by)
            fprintf(out, "  created by: %.100s\n", created_by);
        for (size_t k = 0; k < n_images; k++) {
            const stw_leak_image *im = stw_leak_layer_image(l, k);
            const char *platform = stw_leak_image_platform(im);
            const char *state = stw_leak_image_hidden(im) == 0 ? "visible"
                                : stw_leak_image_visible(im) == 0
                                    ? "hidden"
                                    : "partly hidden";
            fprintf(out, "    %s%s%s  layer %d  %s  (scanned %.19s)\n",
                    stw_leak_image_ref(im), *platform ? "  " : "", platform,
                    stw_leak_image_layer(im), state,
                    stw_leak_image_scanned_at(im));
        }
    }
}

/* One layer of the --by-layer JSON, or NULL when out of memory. */
static json_t *by_layer_json_layer(const stw_leak_layer *l)
{
    json_t *sev = json_object();
    for (int s = 0; sev && s < STW_SEV_COUNT_; s++)
        json_object_set_new(
            sev, stw_severity_str((stw_severity)s),
            json_integer(stw_leak_layer_findings_at(l, (stw_severity)s)));
    json_t *ims = json_array();
    size_t n_images = stw_leak_layer_image_count(l);
    for (size_t k = 0; ims && k < n_images; k++) {
        const stw_leak_image *im = stw_leak_layer_image(l, k);
        json_array_append_new(
            ims, json_pack("{s:s, s:s, s:i, s:I, s:I, s:s}", "ref",
                           stw_leak_image_ref(im), "platform",
                           stw_leak_image_platform(im), "layer",
                           stw_leak_image_layer(im), "visible",
                           (json_int_t)stw_leak_image_visible(im), "hidden",
                           (json_int_t)stw_leak_image_hidden(im), "scanned_at",
                           stw_leak_image_scanned_at(im)));
    }
    if (!sev || !ims) {
        json_decref(sev);
        json_decref(ims);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:I, s:s, s:o, s:I, s:I, s:I, s:o}", "digest",
                     stw_leak_layer_digest(l), "created_by",
                     stw_leak_layer_created_by(l), "findings",
                     (json_int_t)stw_leak_layer_findings(l), "max_severity",
                     stw_severity_str(stw_leak_layer_max_severity(l)),
                     "by_severity", sev, "images_count", (json_int_t)n_images,
                     "visible", (json_int_t)stw_leak_layer_visible(l), "hidden",
                     (json_int_t)stw_leak_layer_hidden(l), "images", ims);
}

static stw_status by_layer_json(const stw_leak_report *r, FILE *out,
                                stw_error *err)
{
    json_t *root = json_pack("{s:i, s:[]}", "schema", 1, "layers");
    json_t *arr = json_object_get(root, "layers");
    bool ok = root != NULL;
    size_t n_layers = stw_leak_report_layer_count(r);
    for (size_t i = 0; ok && i < n_layers; i++) {
        json_t *o = by_layer_json_layer(stw_leak_report_layer(r, i));
        ok = o && json_array_append_new(arr, o) == 0;
    }
    if (!ok || json_dumpf(root, out, JSON_INDENT(2)) != 0) {
        json_decref(root);
        return cli_fail(err, STW_ERR_NOMEM, "report: cannot build the JSON");
    }
    fputc('\n', out);
    json_decref(root);
    return STW_OK;
}

/* Opens o->db read-only: a report never writes the database (a missing or
 * empty one is an error). Prints the error and returns NULL on failure. */
static stw_store *open_db(const cli_options *o)
{
    stw_error err = {0};
    stw_store *store = NULL;
    if (stw_store_open_readonly(o->db, &store, &err) != STW_OK)
        cli_print_error(&err);
    return store;
}

/* report --by-layer: the leaking layers and who shares them. */
static int run_by_layer(const cli_options *o)
{
    stw_error err = {0};
    stw_store *store = NULL;
    stw_leak_report *r = NULL;
    int rc = EXIT_ERROR;
    if (!(store = open_db(o)))
        return EXIT_ERROR;
    cli_output co;
    if (!cli_open_output(o, &co)) {
        stw_store_close(store);
        return EXIT_ERROR;
    }
    if (stw_store_leaks_by_layer(store, o->image_glob, o->min_severity, &r,
                                 &err) != STW_OK) {
        cli_print_error(&err);
        goto done;
    }
    if (o->format == STW_REPORT_JSON) {
        if (by_layer_json(r, co.f, &err) != STW_OK) {
            cli_print_error(&err);
            goto done;
        }
    } else {
        by_layer_table(r, co.f);
    }
    co.complete = true;
    if (!o->quiet) {
        size_t shared = 0, n_layers = stw_leak_report_layer_count(r);
        for (size_t i = 0; i < n_layers; i++)
            shared +=
                stw_leak_layer_image_count(stw_leak_report_layer(r, i)) > 1;
        fprintf(stderr,
                "stowaway: %zu layer%s with findings in %s, %zu of them in "
                "more than one image\n",
                n_layers, n_layers == 1 ? "" : "s", o->db, shared);
    }
    rc = EXIT_CLEAN;
done:
    rc = cli_close_output(o, &co, rc);
    stw_leak_report_destroy(r);
    stw_store_close(store);
    return rc;
}

static bool keep_rule(void *ctx, const stw_results *r,
                      const stw_result_finding *f)
{
    (void)r;
    return strcmp(stw_result_finding_rule(f), (const char *)ctx) == 0;
}

static int run(const cli_options *o)
{
    stw_error err = {0};
    stw_store *store = NULL;
    stw_results *res = NULL;
    stw_rules *rules = NULL;
    stw_suppress *sup = NULL;
    cli_suppress_counts counts = {0};
    int rc = EXIT_ERROR;
    if (!(store = open_db(o)))
        return EXIT_ERROR;
    if (!cli_suppress_load(o, &sup)) {
        stw_store_close(store);
        return EXIT_ERROR;
    }
    cli_output co;
    if (!cli_open_output(o, &co)) {
        stw_suppress_destroy(sup);
        stw_store_close(store);
        return EXIT_ERROR;
    }
    /* Built-in rules give the table and SARIF their titles and fixes. */
    if (!cli_make_rules(NULL, &rules, &err) ||
        stw_store_load_latest(store, o->image_glob, &res, &err) != STW_OK) {
        cli_print_error(&err);
        goto done;
    }
    if (o->image_glob && stw_results_image_count(res) == 0) {
        fprintf(stderr, "stowaway: %s: no image matches '%s'\n", o->db,
                o->image_glob);
        goto done;
    }
    if (o->rule_id)
        stw_results_retain(res, keep_rule, (void *)o->rule_id);
    stw_results_suppress(res, sup, &counts.ignored, &counts.baselined,
                         &counts.layers);
    if (cli_render(o, rules, res, co.f, &err) != STW_OK) {
        cli_print_error(&err);
        goto done;
    }
    co.complete = true;
    if (!o->quiet)
        cli_print_stored_summary(o, res, &counts);
    rc = EXIT_CLEAN;
done:
    rc = cli_close_output(o, &co, rc);
    stw_results_destroy(res);
    stw_store_close(store);
    stw_rules_destroy(rules);
    stw_suppress_destroy(sup);
    return rc;
}

int stw_cli_report(int argc, char **argv)
{
    cli_options o = {.fail_on = STW_SEV_HIGH,
                     .format = STW_REPORT_TABLE,
                     .min_severity = STW_SEV_LOW};
    if (!cli_options_init(&o, argc))
        return EXIT_ERROR;
    int rc = parse(argc, argv, &o);
    if (rc < 0 && o.help) {
        fputs(stw_cli_report_help, stdout);
        rc = EXIT_CLEAN;
    } else if (rc < 0 && o.by_layer) {
        rc = run_by_layer(&o);
    } else if (rc < 0) {
        rc = run(&o);
    }
    cli_options_free(&o);
    return rc;
}
