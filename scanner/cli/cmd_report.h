/* cmd_report.h - `stowaway report --db FILE`: stored results, no rescan. */
#ifndef STW_CLI_CMD_REPORT_H
#define STW_CLI_CMD_REPORT_H

extern const char stw_cli_report_help[];

/* argv[0] is "report". Returns the exit status. */
int stw_cli_report(int argc, char **argv);

#endif
