/* fuzz_layer.c - libFuzzer target: any bytes as one layer blob, from
 * memory, in pieces of varying size. Faster than fuzz_scan (no file, no
 * store), so it goes deeper into what every layer passes through: the
 * gzip and zstd decoders with their member and frame boundaries, the
 * digest and bomb checks, libarchive's tar parser, the layer walk, the
 * pathset, the detectors and the matcher with its window carry-over. The
 * first input byte picks the piece size and whether the content thread
 * runs, so both paths and every split are reached. */
#include "layer.h"
#include "matcher.h"
#include "rules.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static stw_rules *rules;

typedef struct mem_reader {
    const uint8_t *p;
    size_t n, piece;
} mem_reader;

static stw_status mem_read(void *ctx, const void **buf, size_t *len,
                           stw_error *err)
{
    (void)err;
    mem_reader *r = ctx;
    size_t k = r->n < r->piece ? r->n : r->piece;
    *buf = r->p;
    *len = k;
    r->p += k;
    r->n -= k;
    return STW_OK;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    stw_error err = {0};
    if (stw_rules_create(NULL, &rules, &err) != STW_OK) {
        fprintf(stderr, "fuzz_layer: %s\n", err.msg);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const size_t pieces[] = {1, 7, 512, 4096, 65536, 1u << 20};
    mem_reader r = {data + 1, size - 1, pieces[(data[0] & 0x7f) % 6]};
    stw_blob_options bo = {.name = "fuzz", .max_out = 64u << 20};
    /* Bit 0x40: archive files on two worker threads, with the scan's
     * memory of walked archives between them (nestpool.c, archmemo.c). */
    bool workers = (data[0] & 0x40) != 0;
    stw_archmemo *memo = NULL;
    if (workers && stw_archmemo_create(false, &memo) != STW_OK)
        abort();
    stw_layer_options lo = {.max_entries = 100000,
                            .content_thread = (data[0] & 0x80) != 0,
                            .nested_workers = workers ? 2 : 0,
                            .rules = rules,
                            .archive_memo = memo};
    stw_error err = {0};
    stw_matcher *m = NULL;
    if (stw_matcher_create(rules, &m, &err) != STW_OK)
        abort();
    stw_layer_result res;
    stw_status st = stw_layer_scan(m, mem_read, &r, &bo, &lo, &res, &err);
    if (st != STW_OK && !err.msg[0]) {
        fprintf(stderr, "fuzz_layer: failure %d without a message\n", (int)st);
        abort();
    }
    stw_layer_result_clear(&res);
    stw_matcher_destroy(m);
    stw_archmemo_destroy(memo);
    return 0;
}
