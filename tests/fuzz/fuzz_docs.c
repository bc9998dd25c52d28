/* fuzz_docs.c - libFuzzer target: the JSON documents an image is built
 * from, on their own (no tar, no layers): OCI index.json and image
 * indexes, OCI and Docker manifests, Docker's legacy manifest.json and
 * image configs, through the image model of image.h as an archive, an
 * OCI directory or a registry serves them.
 *
 * A document found by digest must hash to it, which a mutated input never
 * would; so the input is a list of documents and the harness links them:
 *
 *   byte 0       bit 0: an OCI layout (index.json) or a legacy docker
 *                save (manifest.json); bit 1: filter platform linux/amd64
 *   then         documents separated by the line "%%", the first being
 *                the root; in an OCI layout the second also answers
 *                "manifest.json" (docker save's, read for its RepoTags)
 *   "@N"         (N a hex digit, 1-f) inside document i < N becomes the
 *                sha256 hex of document N as served, so "sha256:@2"
 *                names document 2 and "@3.json" is a legacy config name
 *
 * Every document but the root is served under blobs/sha256/<hex> and
 * <hex>.json. Each image built then goes through what the scan does with
 * it: its config parsed again for Env and history (images.c). */
#include "image.h"

#include "common.h"
#include "sha256.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DOCS 16

typedef struct doc {
    char *data; /* after substitution; exactly len bytes */
    size_t len;
    char hex[STW_DIGEST_STR];
} doc;

typedef struct docs {
    doc v[MAX_DOCS];
    size_t n;
    bool oci;
} docs;

static int hexval(uint8_t c)
{
    if (c >= '1' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Document i from raw bytes, its "@N" (N > i) replaced by the hex digest
 * of document N, which is already built. */
static bool build_doc(docs *d, size_t i, const uint8_t *p, size_t n)
{
    size_t cap = n * 32 + 1, o = 0;
    char *out = malloc(cap);
    if (!out)
        return false;
    for (size_t k = 0; k < n; k++) {
        int t = p[k] == '@' && k + 1 < n ? hexval(p[k + 1]) : -1;
        if (t > 0 && (size_t)t > i && (size_t)t < d->n) {
            const char *h = d->v[t].hex + 7; /* past "sha256:" */
            memcpy(out + o, h, 64);
            o += 64;
            k++;
        } else {
            out[o++] = (char)p[k];
        }
    }
    /* Exactly o bytes, so ASan sees any read past the document's end. */
    char *exact = malloc(o ? o : 1);
    if (!exact) {
        free(out);
        return false;
    }
    memcpy(exact, out, o);
    free(out);
    d->v[i].data = exact;
    d->v[i].len = o;
    stw_error err;
    return stw_sha256_digest(exact, o, d->v[i].hex, &err) == STW_OK;
}

static stw_status fetch(void *ctx, const char *name, const char **data,
                        size_t *len, stw_error *err)
{
    const docs *d = ctx;
    size_t hit = MAX_DOCS;
    if (!strcmp(name, d->oci ? "index.json" : "manifest.json"))
        hit = 0;
    else if (d->oci && !strcmp(name, "manifest.json") && d->n > 1)
        hit = 1;
    for (size_t i = 1; hit == MAX_DOCS && i < d->n; i++) {
        const char *h = d->v[i].hex + 7;
        if ((!strncmp(name, "blobs/sha256/", 13) && !strcmp(name + 13, h)) ||
            (!strncmp(name, h, 64) && !strcmp(name + 64, ".json")))
            hit = i;
    }
    if (hit == MAX_DOCS || hit >= d->n)
        return stw_fail(err, STW_ERR_NOT_FOUND, "%s: not found", name);
    *data = d->v[hit].data;
    *len = d->v[hit].len;
    return STW_OK;
}

/* What images.c does with a built image's config: Env and history. */
static void use_image(const stw_image_desc *im)
{
    if (!im->ref || !im->config_digest || (im->n_layers && !im->layers))
        abort();
    for (size_t i = 0; i < im->n_layers; i++)
        if (!im->layers[i].name)
            abort();
    json_error_t je;
    json_t *cfg = json_loadb(im->config, im->config_len, 0, &je);
    if (!cfg)
        abort(); /* the image model parsed it already */
    json_t *env = json_object_get(json_object_get(cfg, "config"), "Env");
    json_t *hist = json_object_get(cfg, "history");
    for (size_t i = 0; i < json_array_size(env); i++)
        (void)json_string_value(json_array_get(env, i));
    for (size_t i = 0; i < json_array_size(hist); i++)
        (void)json_string_value(
            json_object_get(json_array_get(hist, i), "created_by"));
    json_decref(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    docs d = {.oci = (data[0] & 1) != 0};
    /* Split after the control byte at each "\n%%\n"; empty documents
     * are documents too. */
    const uint8_t *p = data + 1, *end = data + size;
    const uint8_t *starts[MAX_DOCS];
    size_t lens[MAX_DOCS];
    while (d.n < MAX_DOCS) {
        const uint8_t *q = p, *sep = NULL;
        for (; q + 4 <= end; q++)
            if (!memcmp(q, "\n%%\n", 4)) {
                sep = q;
                break;
            }
        starts[d.n] = p;
        lens[d.n] = (size_t)((sep ? sep : end) - p);
        d.n++;
        if (!sep)
            break;
        p = sep + 4;
    }
    bool ok = true;
    for (size_t i = d.n; ok && i-- > 0;)
        ok = build_doc(&d, i, starts[i], lens[i]);
    if (ok) {
        stw_image_source src = {
            .fetch = fetch,
            .ctx = &d,
            .target = "fuzz.tar",
            .platform = data[0] & 2 ? "linux/amd64" : NULL,
        };
        stw_image_list list = {0};
        stw_error err = {0};
        stw_status st = d.oci ? stw_image_from_oci(&src, &list, &err)
                              : stw_image_from_docker(&src, &list, &err);
        if (st != STW_OK && !err.msg[0])
            abort();
        for (size_t i = 0; st == STW_OK && i < list.n; i++)
            use_image(&list.v[i]);
        stw_image_list_clear(&list);
    }
    for (size_t i = 0; i < d.n; i++)
        free(d.v[i].data);
    return 0;
}
