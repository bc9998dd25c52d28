/* cmd_rules.h - `stowaway rules list|test`: shows the compiled rule set and
 * runs every rule's own examples, so a user can check a rule file before
 * scanning with it. */
#ifndef STW_CMD_RULES_H
#define STW_CMD_RULES_H

#include <stdio.h>

/* Runs `stowaway rules ...`; argv[0] is "rules". Subcommands:
 *   list [--rules FILE]... [--disable-rule ID]... [--no-builtin]
 *       one line per rule (id, severity, kind, title), then the count;
 *   test [FILE]...
 *       runs the tp/fp examples of every rule (of FILE's rules only when
 *       files are given), prints each failure, then a summary.
 * Writes results to out and diagnostics to errout (both borrowed).
 * Returns the process exit status: 0 success, 1 an example failed, 2 usage
 * error or a rule file that does not load. */
int stw_cli_rules(int argc, char **argv, FILE *out, FILE *errout);

#endif
