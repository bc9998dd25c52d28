/* cmd_db.c - `stowaway db stats` (what a database holds), `stowaway db
 * prune --older-than AGE` (forget old scans and what only they used) and
 * `stowaway db merge OUT IN...` (bring databases together: the shards of a
 * --shard K/N run, docs/batch.md). */
#include "cmd_db.h"

#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char stw_cli_db_help[] =
    "Usage: stowaway db stats [--db FILE]\n"
    "       stowaway db prune --older-than AGE [--vacuum] [--db FILE]\n"
    "       stowaway db merge [-q] OUT.db IN.db...\n"
    "\n"
    "stats   scans, images, layers and findings by severity in the\n"
    "        database, and its size\n"
    "prune   removes scans started more than AGE ago (with their images),\n"
    "        then the layers and findings no remaining image uses. AGE is\n"
    "        a number and a unit: 30d, 12h, 2w, 90m, 45s. --vacuum then\n"
    "        gives the freed space back to the file system. A scan still\n"
    "        running keeps its row and its layers.\n"
    "merge   adds each IN.db to OUT.db (created if missing): layers and\n"
    "        findings deduplicated by digest and fingerprint, scans and\n"
    "        images matched so that merging again changes nothing. Images\n"
    "        recorded by the shards of a --shard K/N run are completed (their\n"
    "        visibility computed) once OUT.db holds all their layers: the\n"
    "        result equals one process scanning everything.\n"
    "\n"
    "--db defaults to the scan cache ($XDG_CACHE_HOME/stowaway/stowaway.db,\n"
    "else ~/.cache/stowaway/stowaway.db).\n";

/* "30d" -> seconds. Units: s, m, h, d, w. */
static bool parse_age(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno || end == s || n < 0 || strlen(end) != 1)
        return false;
    int64_t mul;
    switch (*end) {
    case 's':
        mul = 1;
        break;
    case 'm':
        mul = 60;
        break;
    case 'h':
        mul = 3600;
        break;
    case 'd':
        mul = 86400;
        break;
    case 'w':
        mul = 7 * 86400;
        break;
    default:
        return false;
    }
    if (n > INT64_MAX / mul)
        return false;
    *out = n * mul;
    return true;
}

static int stats(stw_store *store, const char *path)
{
    stw_error err = {0};
    stw_db_stats st = {.size = sizeof st};
    if (stw_store_read_stats(store, &st, &err) != STW_OK) {
        cli_print_error(&err);
        return EXIT_ERROR;
    }
    printf("database:  %s\n", path);
    printf("size:      %lld bytes (%.1f MB)\n", (long long)st.bytes,
           (double)st.bytes / 1e6);
    printf("scans:     %lld", (long long)st.scans);
    if (st.scans)
        printf(" (%s to %s)", st.first_scan, st.last_scan);
    printf("\nimages:    %lld (%lld distinct ref%s)\n", (long long)st.images,
           (long long)st.image_refs, st.image_refs == 1 ? "" : "s");
    printf("layers:    %lld\n", (long long)st.layers);
    printf("findings:  %lld (", (long long)st.findings);
    for (int s = STW_SEV_COUNT_ - 1; s >= 0; s--)
        printf("%lld %s%s", (long long)st.by_severity[s],
               stw_severity_str((stw_severity)s), s ? ", " : ")\n");
    return EXIT_CLEAN;
}

static int prune(stw_store *store, int64_t age, bool vacuum)
{
    stw_error err = {0};
    stw_db_pruned c = {.size = sizeof c};
    if (stw_store_prune_older(store, age, vacuum, &c, &err) != STW_OK) {
        cli_print_error(&err);
        return EXIT_ERROR;
    }
    printf("pruned %lld scan%s, %lld image%s, %lld layer%s, %lld "
           "finding%s\n",
           (long long)c.scans, c.scans == 1 ? "" : "s", (long long)c.images,
           c.images == 1 ? "" : "s", (long long)c.layers,
           c.layers == 1 ? "" : "s", (long long)c.findings,
           c.findings == 1 ? "" : "s");
    return EXIT_CLEAN;
}

enum { OPT_DB = 256, OPT_OLDER_THAN, OPT_VACUUM };

/* True when a and b name the same existing file. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* Removes the database file path with the journal files SQLite keeps
 * beside it. */
static void remove_db(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t k = 0; k < CLI_ARRAY_LEN(suffixes); k++) {
        char p[4096];
        if (snprintf(p, sizeof p, "%s%s", path, suffixes[k]) < (int)sizeof p)
            unlink(p);
    }
}

/* `db merge [-q] OUT IN...`; argv[0] is "merge". */
static int merge(int argc, char **argv)
{
    bool quiet = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
            quiet = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(stw_cli_db_help, stdout);
            return EXIT_CLEAN;
        } else if (!strcmp(argv[i], "--")) {
            i++;
            break;
        } else
            return cli_usage_error("db merge: unknown option '%s'", argv[i]);
    }
    if (argc - i < 2)
        return cli_usage_error("%s", "db merge: expected OUT.db IN.db...");
    const char *outp = argv[i++];
    for (int k = i; k < argc; k++) {
        if (access(argv[k], F_OK) != 0) {
            fprintf(stderr, "stowaway: %s: no such database\n", argv[k]);
            return EXIT_ERROR;
        }
        if (same_file(outp, argv[k]))
            return cli_usage_error("db merge: %s is the output itself",
                                   argv[k]);
    }
    stw_error err = {0};
    stw_store *out = NULL;
    bool created = access(outp, F_OK) != 0;
    if (stw_store_open(outp, &out, &err) != STW_OK) {
        cli_print_error(&err);
        if (created)
            remove_db(outp);
        return EXIT_ERROR;
    }
    int rc = EXIT_CLEAN;
    int64_t waiting = 0;
    bool merged = false;
    for (; i < argc; i++) {
        stw_db_merged c = {.size = sizeof c};
        if (stw_store_merge_file(out, argv[i], &c, &err) != STW_OK) {
            cli_print_error(&err);
            rc = EXIT_ERROR;
            continue;
        }
        merged = true;
        waiting = c.waiting;
        if (!quiet)
            printf("merged %s: %lld new scan%s, %lld layer%s, %lld "
                   "finding%s; %lld image%s completed\n",
                   argv[i], (long long)c.scans, c.scans == 1 ? "" : "s",
                   (long long)c.layers, c.layers == 1 ? "" : "s",
                   (long long)c.findings, c.findings == 1 ? "" : "s",
                   (long long)c.images, c.images == 1 ? "" : "s");
    }
    /* Not an error: the missing shard may be merged later. */
    if (waiting && !quiet)
        fprintf(stderr,
                "stowaway: %s: %lld image%s still wait for layers of a "
                "shard not merged yet\n",
                outp, (long long)waiting, waiting == 1 ? "" : "s");
    stw_store_close(out);
    /* Nothing merged into a file this run created: leave no empty
     * database behind to be taken for a result. */
    if (created && !merged)
        remove_db(outp);
    return rc;
}

int stw_cli_db(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("%s", "db: expected 'db stats', 'db prune' or "
                                     "'db merge'");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        fputs(stw_cli_db_help, stdout);
        return EXIT_CLEAN;
    }
    if (strcmp(sub, "merge") == 0)
        return merge(argc - 1, argv + 1);
    bool is_prune = strcmp(sub, "prune") == 0;
    if (!is_prune && strcmp(sub, "stats") != 0)
        return cli_usage_error("db: unknown command '%s' (stats, prune or "
                               "merge)",
                               sub);
    static const struct option longopts[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"older-than", required_argument, NULL, OPT_OLDER_THAN},
        {"vacuum", no_argument, NULL, OPT_VACUUM},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_options o = {0};
    const char *older = NULL;
    bool vacuum = false;
    int64_t age = 0;
    opterr = 0;
    optind = 1;
    int c;
    /* Parsed after the subcommand word, which getopt sees as argv[0]. */
    int ac = argc - 1;
    char **av = argv + 1;
    while ((c = getopt_long(ac, av, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DB:
            o.db = optarg;
            break;
        case OPT_OLDER_THAN:
            older = optarg;
            break;
        case OPT_VACUUM:
            vacuum = true;
            break;
        case 'h':
            fputs(stw_cli_db_help, stdout);
            return EXIT_CLEAN;
        default:
            return cli_getopt_error(c, av);
        }
    }
    if (optind < ac)
        return cli_usage_error("db %s: unexpected argument '%s'", sub,
                               av[optind]);
    if (!is_prune && (older || vacuum))
        return cli_usage_error("%s", "db stats: --older-than and --vacuum "
                                     "belong to 'db prune'");
    if (is_prune && !older)
        return cli_usage_error("%s", "db prune: --older-than AGE is required "
                                     "(e.g. 30d)");
    if (is_prune && !parse_age(older, &age))
        return cli_usage_error("db prune: bad age '%s' (a number and s, m, "
                               "h, d or w: 30d)",
                               older);
    stw_error err = {0};
    char *path = NULL;
    stw_store *store = NULL;
    int rc = EXIT_ERROR;
    if (!cli_resolve_db(&o, &path, &err)) {
        cli_print_error(&err);
        return EXIT_ERROR;
    }
    /* stats only reads: it opens the file read-only, so it works for a
     * user who may only read it and never creates or upgrades it. */
    if (is_prune && access(path, F_OK) != 0) {
        fprintf(stderr, "stowaway: %s: no such database\n", path);
    } else if ((is_prune
                    ? stw_store_open(path, &store, &err)
                    : stw_store_open_readonly(path, &store, &err)) != STW_OK) {
        cli_print_error(&err);
    } else {
        rc = is_prune ? prune(store, age, vacuum) : stats(store, path);
    }
    stw_store_close(store);
    free(path);
    return rc;
}
