/* regfetch.c - test helper: pulls an image from a live registry through the
 * registry module alone (resolve, index/manifest/config through
 * stw_registry_fetch and image.c, every layer streamed into stw_layer_scan)
 * and prints what it saw, so tests/cli/test_registry.sh exercises the module
 * against a real server independently of the scan pipeline.
 *
 * Usage: regfetch [--ca-cert FILE] [--insecure HOST:PORT]... [--user U]
 *                 [--password P] [--docker-config FILE] [--platform P]
 *                 [--tries N] [--timeout S] REF
 * Output, one line each:
 *   resolved REF DIGEST MEDIA_TYPE
 *   image I REF MANIFEST_DIGEST CONFIG_DIGEST PLATFORM NLAYERS
 *   layer I J DIGEST DIFF_ID RAW_BYTES FINDINGS KINDS(comma list or -)
 * Exit 0 on success; 2 with one line "regfetch: MESSAGE" on stderr. */
#include "image.h"
#include "layer.h"
#include "matcher.h"
#include "registry.h"
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INSECURE 8

static int die(const stw_error *e)
{
    fprintf(stderr, "regfetch: %s\n", e->msg);
    return 2;
}

static void kinds(const stw_finding_list *l, char *out, size_t n)
{
    bool seen[STW_KIND_COUNT_] = {0};
    for (size_t i = 0; i < stw_finding_list_count(l); i++)
        seen[stw_finding_list_get(l, i)->kind] = true;
    out[0] = 0;
    for (int k = 0; k < STW_KIND_COUNT_; k++)
        if (seen[k])
            snprintf(out + strlen(out), n - strlen(out), "%s%s",
                     out[0] ? "," : "", stw_kind_str((stw_kind)k));
    if (!out[0])
        snprintf(out, n, "-");
}

static int scan_layers(stw_registry *reg, stw_matcher *m,
                       const stw_image_list *imgs)
{
    for (size_t i = 0; i < imgs->n; i++) {
        const stw_image_desc *d = &imgs->v[i];
        printf("image %zu %s %s %s %s %zu\n", i, d->ref,
               d->manifest_digest ? d->manifest_digest : "-",
               d->config_digest ? d->config_digest : "-",
               d->platform ? d->platform : "-", d->n_layers);
        for (size_t j = 0; j < d->n_layers; j++) {
            const stw_layer_desc *l = &d->layers[j];
            stw_error e = {0};
            stw_registry_blob *b = NULL;
            if (stw_registry_blob_open(reg, l->digest ? l->digest : l->name, &b,
                                       &e) != STW_OK)
                return die(&e);
            /* The diff_ids are part of what this checks. */
            stw_blob_options bo = {.name = l->name,
                                   .digest = l->digest,
                                   .diff_id = l->diff_id,
                                   .hash_output = true};
            stw_layer_result res;
            stw_status st =
                stw_layer_scan(m, stw_registry_blob_read, b, &bo, 0, &res, &e);
            stw_registry_blob_close(b);
            if (st != STW_OK)
                return die(&e);
            char ks[256];
            kinds(res.findings, ks, sizeof(ks));
            printf("layer %zu %zu %s %s %llu %zu %s\n", i, j, res.digest,
                   res.diff_id, (unsigned long long)res.raw_bytes,
                   stw_finding_list_count(res.findings), ks);
            stw_layer_result_clear(&res);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    stw_registry_options o = {0};
    const char *insecure[MAX_INSECURE];
    const char *platform = NULL, *ref = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool opt = a[0] == '-' && a[1] == '-';
        if (opt && !v) {
            fprintf(stderr, "regfetch: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--ca-cert"))
            o.ca_cert = v;
        else if (!strcmp(a, "--insecure") && o.n_insecure < MAX_INSECURE)
            insecure[o.n_insecure++] = v;
        else if (!strcmp(a, "--user"))
            o.username = v;
        else if (!strcmp(a, "--password"))
            o.password = v;
        else if (!strcmp(a, "--docker-config"))
            o.docker_config = v;
        else if (!strcmp(a, "--platform"))
            platform = v;
        else if (!strcmp(a, "--tries"))
            o.tries = atoi(v);
        else if (!strcmp(a, "--timeout"))
            o.timeout_s = atol(v);
        else if (!opt && !ref) {
            ref = a;
            continue;
        } else {
            fprintf(stderr, "regfetch: bad argument %s\n", a);
            return 2;
        }
        i++;
    }
    if (!ref) {
        fprintf(stderr, "regfetch: no reference\n");
        return 2;
    }
    o.insecure = insecure;

    stw_error e = {0};
    stw_registry *reg = NULL;
    stw_rules *rules = NULL;
    stw_matcher *m = NULL;
    stw_image_list imgs = {0};
    int rc = 0;
    if (stw_registry_open(ref, &o, &reg, &e) != STW_OK ||
        stw_rules_create(NULL, &rules, &e) != STW_OK ||
        stw_matcher_create(rules, &m, &e) != STW_OK) {
        rc = die(&e);
        goto out;
    }
    printf("resolved %s %s %s\n", stw_registry_name(reg),
           stw_registry_digest(reg), stw_registry_media_type(reg));
    stw_image_source src = {.fetch = stw_registry_fetch,
                            .ctx = reg,
                            .target = stw_registry_name(reg),
                            .platform = platform};
    if (stw_image_from_oci(&src, &imgs, &e) != STW_OK) {
        rc = die(&e);
        goto out;
    }
    rc = scan_layers(reg, m, &imgs);
out:
    stw_image_list_clear(&imgs);
    stw_matcher_destroy(m);
    stw_rules_destroy(rules);
    stw_registry_close(reg);
    return rc;
}
