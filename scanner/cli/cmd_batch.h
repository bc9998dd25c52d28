/* cmd_batch.h - `stowaway batch registry REGISTRY`: the parts of a
 * registry-wide batch scan that `scan` does not have (listing the registry,
 * --since, resuming, the shard summary). The scan itself is cmd_scan.c's. */
#ifndef STW_CLI_CMD_BATCH_H
#define STW_CLI_CMD_BATCH_H

#include "cli.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

/* The help text of `batch registry`. */
extern const char stw_cli_batch_registry_help[];

/* Lists the images of the registry o->targets[0] (--repo, --tag), drops
 * those scan_id already recorded (a resumed run) and, with --since, those
 * whose config says they were created earlier. *refs ("HOST/REPO:TAG",
 * *n of them) is transferred: free with stw_batch_refs_free. Prints the
 * error and returns false on failure. */
bool cli_batch_registry_refs(const cli_options *o, stw_store *store,
                             int64_t scan_id, char ***refs, size_t *n);

/* The closing line of a shard's run (--shard K/N): what it did and that
 * the report comes from the merged database. */
void cli_batch_shard_summary(const cli_options *o, stw_store *store,
                             int64_t scan_id, size_t n_targets);

#endif
