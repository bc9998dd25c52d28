/* cmd_db.h - `stowaway db stats` and `stowaway db prune`. */
#ifndef STW_CLI_CMD_DB_H
#define STW_CLI_CMD_DB_H

extern const char stw_cli_db_help[];

/* argv[0] is "db". Returns the exit status. */
int stw_cli_db(int argc, char **argv);

#endif
