/* cmd_batch.h - `stowaway batch registry REGISTRY`: the parts of a
 * registry-wide batch scan that `scan` does not have (listing the registry,
 * --since, resuming, the shard summary). The scan itself is cmd_scan.c's. */
#ifndef STW_CLI_CMD_BATCH_H
#define STW_CLI_CMD_BATCH_H

#include "cli.h"

#include <stddef.h>
#include <stdint.h>

/* The help text of `batch registry`. */
extern const char stw_cli_batch_registry_help[];

/* The images of a registry still to scan: refs[0..n) point into the
 * listing, which owns them. */
typedef struct cli_batch_refs {
    char **listed; /* from stw_registry_list */
    size_t n_listed;
    char **refs; /* malloc'd array of borrowed pointers */
    size_t n;
} cli_batch_refs;

/* Lists the images of the registry o->targets[0] (--repo, --tag, through
 * so's registry settings), drops those scan_id already recorded (a
 * resumed run) and, with --since, those whose config says they were
 * created earlier, into *out (free with cli_batch_refs_free). Prints the
 * error and returns false on failure. */
bool cli_batch_registry_refs(const cli_options *o, const stw_scan_options *so,
                             stw_store *store, int64_t scan_id,
                             cli_batch_refs *out);
void cli_batch_refs_free(cli_batch_refs *b);

/* The closing line of a shard's run (--shard K/N): what it did and that
 * the report comes from the merged database. */
void cli_batch_shard_summary(const cli_options *o, stw_store *store,
                             int64_t scan_id, size_t n_targets);

#endif
