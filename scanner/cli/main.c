/* main.c - the stowaway command line: dispatches to the commands
 * (cmd_scan.c, cmd_report.c, cmd_db.c, cmd_rules.c), prints the general
 * help and the version, and turns a failed write to standard output into
 * the error exit status. */
#include "cli.h"
#include "cmd_batch.h"
#include "cmd_db.h"
#include "cmd_report.h"
#include "cmd_rules.h"
#include "cmd_scan.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

static const char general_help[] =
    "Usage: stowaway scan [OPTIONS] TARGET...\n"
    "       stowaway baseline [OPTIONS] TARGET... -o FILE\n"
    "       stowaway batch storage [OPTIONS] DIR...\n"
    "       stowaway batch registry [OPTIONS] REGISTRY\n"
    "       stowaway report --db FILE [OPTIONS]\n"
    "       stowaway db stats|prune|merge [OPTIONS]\n"
    "       stowaway rules list|test [FILE...]\n"
    "       stowaway help [COMMAND]\n"
    "       stowaway --version\n"
    "\n"
    "Finds private keys, tokens, credential files and setuid binaries in\n"
    "every layer of container images - including files that a later layer\n"
    "deleted, which anyone who pulls the image can still recover.\n"
    "\n"
    "Commands:\n"
    "  scan TARGET...  scan images and print a report (see 'stowaway help "
    "scan')\n"
    "  baseline TARGET...\n"
    "                  record the current findings, so that 'scan\n"
    "                  --baseline FILE' reports only new ones\n"
    "  batch storage DIR...\n"
    "                  scan every repository:tag of a registry's storage\n"
    "                  directory (docker-registry's filesystem driver)\n"
    "  batch registry REGISTRY\n"
    "                  scan every repository:tag of a live registry, each\n"
    "                  distinct layer once; resumable, shardable\n"
    "  report --db FILE\n"
    "                  print stored results without scanning again\n"
    "  db stats        what the database holds\n"
    "  db prune --older-than AGE\n"
    "                  forget scans older than AGE (30d) and what only they\n"
    "                  used\n"
    "  db merge OUT.db IN.db...\n"
    "                  merge databases (the shards of a --shard K/N run)\n"
    "  rules list      list the rules in force (--rules FILE adds some)\n"
    "  rules test [FILE...]\n"
    "                  run every rule's own examples\n"
    "  help [COMMAND]  show this help, or the help of COMMAND\n"
    "\n"
    "Options:\n"
    "  -h, --help      show this help\n"
    "  -V, --version   print the version of stowaway and of its rules\n"
    "\n"
    "See man stowaway, and docs/ci.md for CI and git hooks.\n";

static int print_version(void)
{
    stw_error err = {0};
    stw_rules *rules = NULL;
    if (!cli_make_rules(NULL, &rules, &err)) {
        cli_print_error(&err);
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
                cli_strerror(errno, buf, sizeof(buf)));
        return EXIT_ERROR;
    }
    return rc;
}

static int help(const char *cmd)
{
    static const struct {
        const char *name, *text;
    } texts[] = {
        {"scan", stw_cli_scan_help},
        {"baseline", stw_cli_baseline_help},
        {"report", stw_cli_report_help},
        {"db", stw_cli_db_help},
        {"batch", stw_cli_batch_registry_help},
    };
    for (size_t i = 0; i < CLI_ARRAY_LEN(texts); i++)
        if (strcmp(cmd, texts[i].name) == 0) {
            fputs(texts[i].text, stdout);
            return EXIT_CLEAN;
        }
    return cli_usage_error("no help for '%s'", cmd);
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
        return help(argv[2]);
    }
    if (strcmp(cmd, "rules") == 0)
        return stw_cli_rules(argc - 1, argv + 1, stdout, stderr);
    if (strcmp(cmd, "report") == 0)
        return stw_cli_report(argc - 1, argv + 1);
    if (strcmp(cmd, "db") == 0)
        return stw_cli_db(argc - 1, argv + 1);
    if (strcmp(cmd, "baseline") == 0)
        return stw_cli_scan(argc, argv, 1, true);
    /* `batch storage DIR` is a scan whose targets are registry storage
     * directories, `batch registry REGISTRY` one whose targets are the
     * images a registry lists: the same options, the same report. */
    bool batch = strcmp(cmd, "batch") == 0;
    if (batch && (argc < 3 || (strcmp(argv[2], "storage") != 0 &&
                               strcmp(argv[2], "registry") != 0)))
        return cli_usage_error("%s", "batch: expected 'batch storage DIR...' "
                                     "or 'batch registry REGISTRY'");
    if (strcmp(cmd, "scan") == 0 || batch)
        return stw_cli_scan(argc, argv, batch ? 2 : 1, false);
    if (cmd[0] == '-')
        return cli_usage_error("unknown option '%s'", cmd);
    return cli_usage_error("unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
    /* Character type only, and a UTF-8 one whatever the environment says:
     * libarchive converts member names to it, and in the "C" locale a
     * jar's non-ASCII names (flagged UTF-8) convert to nothing, so their
     * content went unscanned. Messages, numbers and collation stay "C". */
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        setlocale(LC_CTYPE, "C.utf8");
    return finish_stdout(dispatch(argc, argv));
}
