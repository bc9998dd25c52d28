/* fuzz_suppress.c - libFuzzer target: any bytes as an ignore file
 * (.stowawayignore) or as a baseline, then the loaded set applied to a
 * small scan result, as `stowaway report --ignore-file/--baseline` does:
 * the parser, the expiry dates, and the matching with the file's globs
 * and fingerprints. The first byte picks ignore file or baseline; the rest
 * is the file. A baseline is read from a path, so it goes through an
 * in-memory file (memfd), as production reads it from disk. */
#define _GNU_SOURCE
#include "memfile.h"
#include "suppress.h"

#include "common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Findings shaped like a real scan's: a secret in a file, a config
 * finding, a key deep in a tree, in images with and without a tag. */
static stw_results *sample_results(void)
{
    static const struct {
        size_t image;
        int layer;
        const char *path, *rule, *fp, *sha;
    } f[] = {
        {0, 0, "app/.env", "aws-access-key-id",
         "3f1c0a9b8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e3d",
         "9b74c9897bac770ffc029102a200c5de"
         "9b74c9897bac770ffc029102a200c5de"},
        {0, -1, "<config>", "generic-password",
         "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1",
         ""},
        {1, 1, "root/.ssh/id_rsa", "private-key-rsa",
         "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
         "0000000000000000000000000000000000000000000000000000000000000000"},
        {1, 0, "usr/bin/sudo", "setuid", "00", ""},
    };
    static const char *const refs[] = {"app:1.2", "docker.io/library/x"};
    stw_results *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->images = calloc(2, sizeof(*r->images));
    r->findings = calloc(STW_ARRAY_LEN(f), sizeof(*r->findings));
    if (!r->images || !r->findings)
        goto fail;
    for (size_t i = 0; i < 2; i++, r->n_images++) {
        stw_rimage *im = &r->images[i];
        im->layers = calloc(2, sizeof(*im->layers));
        if (!(im->ref = stw_strdup(refs[i])) || !im->layers)
            goto fail;
        for (size_t j = 0; j < 2; j++, im->n_layers++) {
            char d[80];
            snprintf(d, sizeof(d), "sha256:%064zu", i * 2 + j);
            if (!(im->layers[j].digest = stw_strdup(d)) ||
                !(im->layers[j].diff_id = stw_strdup(d)))
                goto fail;
        }
    }
    for (size_t i = 0; i < STW_ARRAY_LEN(f); i++, r->n_findings++) {
        stw_rfinding *x = &r->findings[i];
        x->image = f[i].image;
        x->layer = f[i].layer;
        x->offset = -1;
        x->removed_in_layer = -1;
        x->visible = true;
        const stw_rimage *im = &r->images[f[i].image];
        if (!(x->layer_digest =
                  stw_strdup(f[i].layer >= 0 ? im->layers[f[i].layer].digest
                                             : "sha256:c0")) ||
            !(x->path = stw_strdup(f[i].path)) ||
            !(x->rule = stw_strdup(f[i].rule)) ||
            !(x->fingerprint = stw_strdup(f[i].fp)) ||
            !(x->secret_sha256 = stw_strdup(f[i].sha)))
            goto fail;
    }
    return r;
fail:
    stw_results_destroy(r);
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    stw_suppress *s = NULL;
    stw_error err = {0};
    if (stw_suppress_create(&s, &err) != STW_OK)
        abort();
    stw_status st;
    if (data[0] & 1) {
        st = stw_suppress_load_baseline(s, memfile_set(data + 1, size - 1),
                                        &err);
    } else {
        /* Exactly the file's bytes, so ASan sees any read past the end. */
        char *text = malloc(size - 1 ? size - 1 : 1);
        if (!text)
            abort();
        memcpy(text, data + 1, size - 1);
        st = stw_suppress_parse_ignore(s, ".stowawayignore", text, size - 1,
                                       "2026-06-15", &err);
        free(text);
    }
    if (st != STW_OK && !err.msg[0])
        abort();
    for (size_t i = 0; i < stw_suppress_warning_count(s); i++)
        if (!stw_suppress_warning(s, i))
            abort();
    /* What loaded before an error still suppresses: apply it. */
    stw_results *r = sample_results();
    if (r) {
        size_t before = r->n_findings;
        stw_suppress_counts c = {0};
        stw_suppress_apply(s, r, &c);
        if (c.ignored + c.baselined + c.layers + r->n_findings != before)
            abort();
        stw_results_destroy(r);
    }
    stw_suppress_destroy(s);
    return 0;
}
