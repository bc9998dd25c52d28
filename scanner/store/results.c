/* results.c - freeing the plain-data results of one scan, whole or some of
 * their findings (results.h). */
#include "results.h"

#include <stdlib.h>

static void rlayer_free(stw_rlayer *l)
{
    free(l->digest);
    free(l->diff_id);
    free(l->media_type);
    free(l->created_by);
}

static void rimage_free(stw_rimage *im)
{
    free(im->ref);
    free(im->manifest_digest);
    free(im->config_digest);
    free(im->platform);
    for (size_t i = 0; i < im->n_layers; i++)
        rlayer_free(&im->layers[i]);
    free(im->layers);
}

static void rfinding_free(stw_rfinding *f)
{
    free(f->layer_digest);
    free(f->path);
    free(f->rule);
    free(f->fingerprint);
    free(f->secret_sha256);
    free(f->excerpt);
    free(f->detail);
    free(f->git_commit);
    free(f->git_path);
}

void stw_results_destroy(stw_results *r)
{
    if (!r)
        return;
    free(r->rules_version);
    for (size_t i = 0; i < r->n_images; i++)
        rimage_free(&r->images[i]);
    free(r->images);
    for (size_t i = 0; i < r->n_findings; i++)
        rfinding_free(&r->findings[i]);
    free(r->findings);
    for (size_t i = 0; i < r->n_errors; i++) {
        free(r->errors[i].target);
        free(r->errors[i].message);
    }
    free(r->errors);
    free(r);
}

size_t stw_results_retain(stw_results *r,
                          bool (*keep)(void *ctx, const stw_results *r,
                                       const stw_rfinding *f),
                          void *ctx)
{
    size_t o = 0, removed = 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        if (keep(ctx, r, &r->findings[i])) {
            if (o != i)
                r->findings[o] = r->findings[i];
            o++;
        } else {
            rfinding_free(&r->findings[i]);
            removed++;
        }
    }
    r->n_findings = o;
    return removed;
}
