/* images.c - images: built from the collected documents by the image model,
 * stored one transaction each once all their layers are, with the findings
 * of their config and the history text a report may show. */
#include "scan_internal.h"

#include "common.h"
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The digest of an empty config, for an image that has none (a single
 * layer): the store keys config findings by it. */
#define EMPTY_CONFIG_DIGEST                                                    \
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

stw_status stw_images_build(scan *s, stw_error *err)
{
    /* Directories and registries always serve an index.json. */
    if (!s->has_manifest && !s->has_index)
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s: image archive without manifest.json or "
                        "index.json",
                        s->target);
    stw_image_source src = {
        .fetch = s->reg ? stw_registry_fetch : stw_scan_fetch_doc,
        .ctx = s->reg ? (void *)s->reg : (void *)s,
        .target = s->target,
        .platform = s->opt ? s->opt->platform : NULL,
    };
    stw_status st = s->has_index || (s->dir && !s->has_manifest)
                        ? stw_image_from_oci(&src, &s->images, err)
                        : stw_image_from_docker(&src, &s->images, err);
    if (st == STW_OK && s->images.n == 0)
        st = stw_fail(
            err, STW_ERR_NOT_FOUND,
            s->opt && s->opt->platform ? "%s: no image for platform %s"
                                       : "%s: no images in it%s",
            s->target, s->opt && s->opt->platform ? s->opt->platform : "");
    return st;
}

typedef struct config_note_ctx {
    scan *s;
    const char *ref;
} config_note_ctx;

/* What the config detector left unchecked (a regex at its match limit) is
 * an error row of this scan, as a layer's notes are: the config is
 * scanned anew by every scan, so it is not kept with the image. */
static stw_status config_note(void *ctx, const char *note)
{
    config_note_ctx *c = ctx;
    char msg[1024];
    snprintf(msg, sizeof(msg), "config of %s: %s",
             c->ref ? c->ref : "the image", note);
    stw_error ignored;
    pthread_mutex_lock(&c->s->lock);
    stw_store_put_error(c->s->store, c->s->scan_id, c->s->target, msg,
                        &ignored);
    pthread_mutex_unlock(&c->s->lock);
    return STW_OK;
}

/* Runs the config detector over the Env and history strings of d's config
 * (see config.h for *red). */
static stw_status scan_config(scan *s, stw_matcher *m, const stw_image_desc *d,
                              stw_finding_list *out,
                              stw_config_redactions **red, stw_error *err)
{
    *red = NULL;
    json_error_t je;
    json_t *cfg = json_loadb(d->config, d->config_len, 0, &je);
    if (!cfg) /* the image model parsed it already: only memory can fail */
        return json_error_code(&je) == json_error_out_of_memory
                   ? stw_fail(err, STW_ERR_NOMEM, "out of memory")
                   : STW_OK;
    json_t *env = json_object_get(json_object_get(cfg, "config"), "Env");
    json_t *hist = json_object_get(cfg, "history");
    size_t n_env = json_array_size(env), n_hist = json_array_size(hist);
    /* Borrowed from cfg; a non-string is NULL, which the detector skips. */
    const char **v = calloc(n_env + n_hist + 1, sizeof(*v));
    if (!v) {
        json_decref(cfg);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n_env; i++)
        v[i] = json_string_value(json_array_get(env, i));
    for (size_t i = 0; i < n_hist; i++)
        v[n_env + i] = json_string_value(
            json_object_get(json_array_get(hist, i), "created_by"));
    stw_config_strings c = {
        .env = v,
        .n_env = n_env,
        .created_by = v + n_env,
        .n_history = n_hist,
    };
    config_note_ctx cn = {s, d->ref};
    stw_status st = stw_config_scan(m, &c, out, red, config_note, &cn, err);
    free(v);
    json_decref(cfg);
    return st;
}

/* Fills ls (one per layer of d) from the jobs: the stored digest of each
 * layer, which must have been scanned, or reused, and match its diff_id
 * wherever that is known (computed by this scan, or verified when it was
 * stored); an unknown one is kept as the config's unverified claim. */
static stw_status image_layers(scan *s, const stw_image_desc *d,
                               stw_image_layer *ls, stw_error *err)
{
    stw_status st = STW_OK;
    for (size_t k = 0; k < d->n_layers && st == STW_OK; k++) {
        const stw_layer_desc *l = &d->layers[k];
        layer_job *j = stw_job_find(s, l->name);
        if (!j || !j->done) {
            st = stw_fail(err, STW_ERR_NOT_FOUND,
                          "%s: manifest names missing layer %s", s->target,
                          l->name);
        } else if (j->st != STW_OK) {
            *err = j->err;
            st = j->st;
        } else if (l->diff_id && j->got_diff_id[0] &&
                   strcmp(l->diff_id, j->got_diff_id) != 0) {
            st = stw_fail(err, STW_ERR_DIGEST,
                          "%s: layer %s: diff_id mismatch: config says %s, "
                          "content is %s",
                          s->target, l->name, l->diff_id, j->got_diff_id);
        }
        ls[k].digest = j ? j->got_digest : NULL;
        ls[k].created_by = l->created_by;
        ls[k].cached = j && j->cached;
        ls[k].diff_id = l->diff_id;
    }
    return st;
}

static stw_status put_image(scan *s, stw_matcher *m, const stw_image_desc *d,
                            stw_error *err)
{
    stw_image_layer *ls = calloc(d->n_layers + 1, sizeof(*ls));
    stw_finding_list *cf = NULL;
    stw_status st = ls ? stw_finding_list_create(&cf) : STW_ERR_NOMEM;
    if (st != STW_OK) {
        free(ls);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    if (s->opt && s->opt->on_secret)
        stw_finding_list_keep_secrets(cf);
    st = image_layers(s, d, ls, err);
    stw_config_redactions *red = NULL;
    if (st == STW_OK && d->config)
        st = scan_config(s, m, d, cf, &red, err);
    for (size_t k = 0; k < d->n_layers; k++)
        ls[k].created_by = stw_config_shown(red, ls[k].created_by);
    if (st == STW_OK) {
        stw_image_record rec = {
            .ref = d->ref,
            .manifest_digest = d->manifest_digest,
            .config_digest =
                d->config_digest ? d->config_digest : EMPTY_CONFIG_DIGEST,
            .platform = d->platform,
            .layers = ls,
            .n_layers = d->n_layers,
        };
        int64_t id;
        st = stw_store_put_image(s->store, s->scan_id, &rec, cf, &id, err);
        if (st == STW_OK) {
            pthread_mutex_lock(&s->lock);
            stw_scan_pass_secrets(s, cf, rec.config_digest);
            pthread_mutex_unlock(&s->lock);
        }
    }
    stw_finding_list_destroy(cf);
    stw_config_redactions_destroy(red);
    free(ls);
    return st;
}

stw_status stw_images_put(scan *s, stw_error *err)
{
    stw_matcher *m;
    stw_status st = stw_matcher_create(s->rules, &m, err);
    if (st != STW_OK)
        return st;
    stw_status first = STW_OK;
    for (size_t i = 0; i < s->images.n; i++) {
        stw_error e = {0};
        if ((st = put_image(s, m, &s->images.v[i], &e)) != STW_OK) {
            stw_scan_record_error(s, &e);
            if (first == STW_OK) {
                first = st;
                *err = e;
            }
        }
    }
    stw_matcher_destroy(m);
    return first;
}

stw_status stw_images_put_single_layer(scan *s, const char *digest, bool cached,
                                       stw_error *err)
{
    stw_image_desc d = {0};
    stw_layer_desc l = {0};
    d.ref = (char *)s->target;
    d.layers = &l;
    d.n_layers = 1;
    l.name = (char *)s->target;
    layer_job *j = NULL;
    stw_status st = stw_job_add(s, s->target, &j, err);
    if (st != STW_OK)
        return st;
    stw_job_settle(j, digest, cached);
    stw_matcher *m;
    if ((st = stw_matcher_create(s->rules, &m, err)) != STW_OK)
        return st;
    st = put_image(s, m, &d, err);
    stw_matcher_destroy(m);
    return st;
}
