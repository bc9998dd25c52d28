/* cmd_batch.c - `stowaway batch registry REGISTRY` (cmd_batch.h): lists
 * the registry's repository:tag references through its catalog, filters
 * them, and leaves out what an interrupted run of the same command already
 * recorded, so a run started again continues where it stopped. */
#include "cmd_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char stw_cli_batch_registry_help[] =
    "Usage: stowaway batch registry [OPTIONS] REGISTRY\n"
    "\n"
    "Scans every image of a live registry (HOST[:PORT]): lists its\n"
    "repositories (/v2/_catalog) and their tags (/v2/REPO/tags/list),\n"
    "following the pages, and scans each REGISTRY/REPO:TAG into one scan\n"
    "of the database. A layer already stored with the same rules is neither\n"
    "downloaded nor decompressed again, so a layer shared by many images is\n"
    "read once.\n"
    "\n"
    "Interrupted (Ctrl-C, kill, network loss) and started again with the\n"
    "same command line and --db, it continues the interrupted scan: images\n"
    "it already recorded are skipped, layers it already stored are reused.\n"
    "\n"
    "Options (with those of 'stowaway scan'):\n"
    "      --repo GLOB         only repositories matching GLOB ('team/*')\n"
    "      --tag GLOB          only tags matching GLOB ('v*')\n"
    "      --since DATE        only images whose config says they were\n"
    "                          created at or after DATE (YYYY-MM-DD or\n"
    "                          2024-05-01T12:00:00Z); images without a date\n"
    "                          are scanned\n"
    "      --page-size N       entries asked per page of the catalog and\n"
    "                          tag lists (default and most: 1000)\n"
    "      --shard K/N         this worker's share of the layers; see\n"
    "                          docs/batch.md and 'stowaway db merge'\n"
    "      --insecure-registry HOST:PORT, --ca-cert FILE, --timeout SECONDS\n"
    "                          as for 'stowaway scan'\n"
    "\n"
    "Credentials come from $DOCKER_CONFIG/config.json or\n"
    "~/.docker/config.json. See docs/batch.md.\n";

bool cli_batch_registry_refs(const cli_options *o, const stw_scan_options *so,
                             stw_store *store, int64_t scan_id,
                             cli_batch_refs *out)
{
    stw_error err = {0};
    memset(out, 0, sizeof(*out));
    if (stw_registry_list(o->targets[0], so, &out->listed, &out->n_listed,
                          &err) != STW_OK) {
        cli_print_error(&err);
        return false;
    }
    size_t nv = out->n_listed;
    out->refs = calloc(nv ? nv : 1, sizeof(*out->refs));
    if (!out->refs) {
        cli_fail(&err, STW_ERR_NOMEM, "out of memory");
        cli_print_error(&err);
        cli_batch_refs_free(out);
        return false;
    }
    size_t done = 0, old = 0;
    for (size_t i = 0; i < nv; i++) {
        const char *ref = out->listed[i];
        bool has = false, found = false;
        int64_t created = 0;
        if (stw_store_scan_has_ref(store, scan_id, ref, &has, &err) != STW_OK) {
            cli_print_error(&err);
            cli_batch_refs_free(out);
            return false;
        }
        /* An image whose date cannot be read is scanned: the scan then
         * says what is wrong with it. */
        stw_error ignored = {0};
        if (!has && o->has_since &&
            stw_registry_image_created(ref, so, &created, &found, &ignored) ==
                STW_OK &&
            found && created < o->since) {
            old++;
            continue;
        }
        if (has) {
            done++;
            continue;
        }
        out->refs[out->n++] = out->listed[i];
    }
    if (!o->quiet)
        fprintf(stderr,
                "stowaway: %s: %zu image%s listed, %zu to scan (%zu already "
                "in this scan, %zu created before --since)\n",
                o->targets[0], nv, nv == 1 ? "" : "s", out->n, done, old);
    return true;
}

void cli_batch_refs_free(cli_batch_refs *b)
{
    stw_registry_refs_free(b->listed, b->n_listed);
    free(b->refs);
    memset(b, 0, sizeof(*b));
}

void cli_batch_shard_summary(const cli_options *o, stw_store *store,
                             int64_t scan_id, size_t n_targets)
{
    (void)store;
    fprintf(stderr,
            "stowaway: shard %u/%u (scan %lld): %zu target%s visited, only "
            "this shard's layers read; run 'stowaway db merge OUT.db' over "
            "all %u shard databases for the report\n",
            o->shard_k, o->shard_n, (long long)scan_id, n_targets,
            n_targets == 1 ? "" : "s", o->shard_n);
}
