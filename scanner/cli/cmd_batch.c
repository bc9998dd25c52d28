/* cmd_batch.c - `stowaway batch registry REGISTRY` (cmd_batch.h): lists
 * the registry's repository:tag references through its catalog, filters
 * them, and leaves out what an interrupted run of the same command already
 * recorded, so a run started again continues where it stopped. */
#include "cmd_batch.h"

#include "batch.h"
#include "common.h"

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

bool cli_batch_registry_refs(const cli_options *o, stw_store *store,
                             int64_t scan_id, char ***refs, size_t *n)
{
    stw_error err = {0};
    stw_registry_options ro = {
        .ca_cert = o->ca_cert,
        .insecure = o->insecure,
        .n_insecure = o->n_insecure,
        .page_size = o->page_size,
        .timeout_s = o->timeout_s,
    };
    char **v = NULL;
    size_t nv = 0;
    *refs = NULL;
    *n = 0;
    if (stw_batch_list_registry(o->targets[0], &ro, o->repo_glob, o->tag_glob,
                                &v, &nv, &err) != STW_OK) {
        cli_print_error(&err);
        return false;
    }
    size_t keep = 0, done = 0, old = 0;
    for (size_t i = 0; i < nv; i++) {
        bool has = false, found = false;
        int64_t created = 0;
        if (stw_store_scan_has_ref(store, scan_id, v[i], &has, &err) !=
            STW_OK) {
            cli_print_error(&err);
            stw_batch_refs_free(v, nv);
            return false;
        }
        /* An image whose date cannot be read is scanned: the scan then
         * says what is wrong with it. */
        stw_error ignored = {0};
        if (!has && o->has_since &&
            stw_batch_image_created(v[i], &ro, o->platform, &created, &found,
                                    &ignored) == STW_OK &&
            found && created < o->since) {
            old++;
            free(v[i]);
            continue;
        }
        if (has) {
            done++;
            free(v[i]);
            continue;
        }
        v[keep++] = v[i];
    }
    if (!o->quiet)
        fprintf(stderr,
                "stowaway: %s: %zu image%s listed, %zu to scan (%zu already "
                "in this scan, %zu created before --since)\n",
                o->targets[0], nv, nv == 1 ? "" : "s", keep, done, old);
    *refs = v;
    *n = keep;
    return true;
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
