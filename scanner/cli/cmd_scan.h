/* cmd_scan.h - `stowaway scan`, `stowaway batch storage` and `stowaway
 * baseline`: scan targets into the store, apply suppression, render. */
#ifndef STW_CLI_CMD_SCAN_H
#define STW_CLI_CMD_SCAN_H

#include <stdbool.h>

/* The help text of `scan` (also `stowaway help scan`). */
extern const char stw_cli_scan_help[];
extern const char stw_cli_baseline_help[];

/* argv[first] is the command word ("scan", "storage" of "batch storage",
 * or "baseline"); argv[0..] is the whole command line, recorded with the
 * scan. Returns the exit status. */
int stw_cli_scan(int argc, char **argv, int first, bool baseline);

#endif
