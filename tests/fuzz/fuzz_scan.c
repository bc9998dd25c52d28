/* fuzz_scan.c - libFuzzer target: any bytes as a scan target. The input is
 * written to a file and scanned like `stowaway scan --no-db FILE`, so every
 * format the scanner recognises by its bytes is reachable: docker save and
 * OCI archives (outer tar, manifest.json, index.json, configs), gzip, zstd
 * and plain tar layers. The contract under test is the hostile-input one:
 * an error or a result, never a crash, a leak, undefined behaviour, a hang
 * or unbounded memory. Build with -DSTW_FUZZ=ON (clang); see README.md in
 * this directory. Written on the public API alone (stowaway/stowaway.h),
 * as any embedder would scan untrusted bytes. */
#include "stowaway/stowaway.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static stw_rules *rules; /* compiled once: the shared, immutable part */
static stw_scan_options *opt;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    stw_error err = {0};
    if (stw_rules_create(NULL, &rules, &err) != STW_OK) {
        fprintf(stderr, "fuzz_scan: %s\n", err.msg);
        abort();
    }
    /* Small limits, so a crafted size field is refused quickly instead of
     * being read for minutes; the logic that refuses it is the same. */
    if (stw_scan_options_create(&opt, &err) != STW_OK)
        abort();
    stw_scan_options_set_jobs(opt, 1);
    stw_scan_options_set_layer_limits(opt, 64u << 20, 100000, 0);
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof(path), "%s/stw-fuzz-%d", dir ? dir : "/tmp",
             (int)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    stw_error err = {0};
    stw_store *store = NULL;
    int64_t scan_id = 0;
    if (stw_store_open(":memory:", &store, &err) != STW_OK ||
        stw_store_begin_scan(store, "fuzz", stw_rules_version(rules), "fuzz",
                             &scan_id, &err) != STW_OK)
        abort();
    stw_status st = stw_scan_target(rules, store, scan_id, path, opt, &err);
    if (st != STW_OK && !err.msg[0]) {
        fprintf(stderr, "fuzz_scan: failure %d without a message\n", (int)st);
        abort();
    }
    stw_store_end_scan(store, scan_id, &err);
    stw_store_close(store);
    unlink(path);
    return 0;
}
