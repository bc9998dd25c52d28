/* image.c - manifests, indexes and configs (OCI and Docker) to images. */
#include "image.h"
#include "common.h"
#include "limits.h"
#include "sha256.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST                                                         \
    "application/vnd.docker.distribution.manifest.list.v2+json"
#define MAX_INDEX_DEPTH 4

static stw_status parse_json(const char *data, size_t len, const char *what,
                             json_t **out, stw_error *err)
{
    json_error_t je;
    *out = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!*out)
        return stw_fail(err, STW_ERR_JSON, "%s: malformed JSON: %s (line %d)",
                        what, je.text, je.line);
    return STW_OK;
}

/* Fetches a document and parses it; when digest is given the bytes must
 * hash to it (a manifest or config that lies about itself is an error). */
static stw_status fetch_json(const stw_image_source *src, const char *name,
                             const char *digest, json_t **out, const char **raw,
                             size_t *rawlen, stw_error *err)
{
    const char *data;
    size_t len;
    stw_status st = src->fetch(src->ctx, name, &data, &len, err);
    if (st != STW_OK)
        return st;
    if (digest) {
        char got[STW_DIGEST_STR];
        if ((st = stw_sha256_digest(data, len, got, err)) != STW_OK)
            return st;
        if (strcmp(got, digest) != 0)
            return stw_fail(err, STW_ERR_DIGEST,
                            "%s: %s: digest mismatch: expected %s, got %s",
                            src->target, name, digest, got);
    }
    if (raw) {
        *raw = data;
        *rawlen = len;
    }
    char what[600];
    snprintf(what, sizeof(what), "%s: %s", src->target, name);
    return parse_json(data, len, what, out, err);
}

int stw_image_digest_from_name(const char *name, char out[72])
{
    const char *hex = NULL;
    if (strncmp(name, "blobs/sha256/", 13) == 0)
        hex = name + 13;
    else
        hex = name;
    size_t n = 0;
    while (n < 64 && ((hex[n] >= '0' && hex[n] <= '9') ||
                      (hex[n] >= 'a' && hex[n] <= 'f')))
        n++;
    if (n != 64)
        return 0;
    const char *rest = hex + 64;
    if (*rest && strcmp(rest, ".tar") != 0 && strcmp(rest, ".tar.gz") != 0)
        return 0;
    if (hex == name && !*rest)
        return 0; /* a bare hex name is a legacy id, not a digest */
    snprintf(out, 72, "sha256:%.64s", hex);
    return 1;
}

/* "blobs/sha256/<hex>" for digest into *out (transferred). A digest
 * that is not one (NULL included) is STW_ERR_FORMAT with "what" in the
 * message. */
static stw_status blob_name(const stw_image_source *src, const char *digest,
                            const char *what, char **out, stw_error *err)
{
    *out = NULL;
    if (!digest || !stw_sha256_digest_valid(digest))
        return stw_fail(err, STW_ERR_FORMAT, "%s: bad %s '%s'", src->target,
                        what, digest ? digest : "");
    size_t n = strlen(digest) + 16;
    if (!(*out = stw_malloc(n)))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    snprintf(*out, n, "blobs/sha256/%s", digest + 7);
    return STW_OK;
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* "os/arch[/variant]" into *out (transferred), NULL when os or arch is
 * missing. Fails only with STW_ERR_NOMEM. */
static stw_status platform_string(const char *os, const char *arch,
                                  const char *variant, char **out,
                                  stw_error *err)
{
    *out = NULL;
    if (!os || !arch)
        return STW_OK;
    size_t n = strlen(os) + strlen(arch) + (variant ? strlen(variant) : 0) + 3;
    if (!(*out = stw_malloc(n)))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    snprintf(*out, n, variant && *variant ? "%s/%s/%s" : "%s/%s", os, arch,
             variant ? variant : "");
    return STW_OK;
}

/* "linux/arm64" matches "linux/arm64/v8"; a filter with a variant must
 * match it exactly. */
static int platform_matches(const char *filter, const char *p)
{
    if (!filter)
        return 1;
    if (!p)
        return 0;
    size_t n = strlen(filter);
    return strncmp(filter, p, n) == 0 && (p[n] == 0 || p[n] == '/');
}

static void layer_desc_free(stw_layer_desc *l)
{
    free(l->name);
    free(l->digest);
    free(l->diff_id);
    free(l->media_type);
    free(l->created_by);
}

static void image_desc_free(stw_image_desc *d)
{
    free(d->ref);
    free(d->manifest_digest);
    free(d->config_digest);
    free(d->platform);
    free(d->config);
    for (size_t i = 0; i < d->n_layers; i++)
        layer_desc_free(&d->layers[i]);
    free(d->layers);
    memset(d, 0, sizeof(*d));
}

void stw_image_list_clear(stw_image_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        image_desc_free(&list->v[i]);
    free(list->v);
    list->v = NULL;
    list->n = 0;
}

static stw_status list_push(stw_image_list *list, stw_image_desc *d,
                            const char *target, stw_error *err)
{
    if (list->n >= STW_MAX_IMAGES) {
        image_desc_free(d);
        return stw_fail(err, STW_ERR_LIMIT, "%s: more than %d images", target,
                        STW_MAX_IMAGES);
    }
    stw_image_desc *v = stw_realloc(list->v, (list->n + 1) * sizeof(*v));
    if (!v) {
        image_desc_free(d);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    list->v = v;
    v[list->n++] = *d;
    return STW_OK;
}

/* Reads rootfs.diff_ids, history and platform from a config into d, and
 * keeps the config bytes for config scanning. Layers must be filled in. */
static stw_status apply_config(const stw_image_source *src, json_t *cfg,
                               const char *raw, size_t rawlen,
                               stw_image_desc *d, stw_error *err)
{
    if (!json_is_object(cfg))
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s: image config is not an object", src->target);
    if (!(d->config = stw_malloc(rawlen + 1)))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    memcpy(d->config, raw, rawlen);
    d->config[rawlen] = 0;
    d->config_len = rawlen;
    stw_status st;
    if (!d->platform &&
        (st = platform_string(jstr(cfg, "os"), jstr(cfg, "architecture"),
                              jstr(cfg, "variant"), &d->platform, err)) !=
            STW_OK)
        return st;
    json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
    if (json_is_array(ids) && json_array_size(ids) != d->n_layers)
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s: config lists %zu diff_ids for %zu layers",
                        src->target, json_array_size(ids), d->n_layers);
    for (size_t i = 0; json_is_array(ids) && i < d->n_layers; i++) {
        const char *id = json_string_value(json_array_get(ids, i));
        if (!id || !stw_sha256_digest_valid(id))
            return stw_fail(err, STW_ERR_FORMAT, "%s: bad diff_id #%zu",
                            src->target, i);
        if (!(d->layers[i].diff_id = stw_strdup(id)))
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    /* History entries with empty_layer made no layer; the rest map to the
     * layers in order. */
    json_t *hist = json_object_get(cfg, "history");
    size_t li = 0, i;
    json_t *h;
    json_array_foreach(hist, i, h)
    {
        if (json_is_true(json_object_get(h, "empty_layer")))
            continue;
        if (li >= d->n_layers)
            break;
        const char *cb = jstr(h, "created_by");
        if (cb && !(d->layers[li].created_by = stw_strdup(cb)))
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        li++;
    }
    return STW_OK;
}

static int is_layer_media_type(const char *mt)
{
    return !mt || strstr(mt, "layer") || strstr(mt, "rootfs");
}

/* One image manifest (OCI or Docker schema 2) -> one image. */
static stw_status from_manifest(const stw_image_source *src, const char *digest,
                                const char *ref, const char *platform,
                                stw_image_list *list, stw_error *err)
{
    char *name;
    stw_status st = blob_name(src, digest, "manifest digest", &name, err);
    if (st != STW_OK)
        return st;
    json_t *m = NULL, *cfg = NULL;
    stw_image_desc d = {0};
    st = fetch_json(src, name, digest, &m, NULL, NULL, err);
    free(name);
    if (st != STW_OK)
        return st;
    json_t *layers = json_object_get(m, "layers");
    const char *cdig = jstr(json_object_get(m, "config"), "digest");
    if (!json_is_array(layers) || !cdig) {
        st = stw_fail(err, STW_ERR_FORMAT,
                      "%s: manifest %s has no config or layers", src->target,
                      digest);
        goto out;
    }
    if (json_array_size(layers) > STW_MAX_LAYERS) {
        st = stw_fail(err, STW_ERR_LIMIT, "%s: manifest %s has %zu layers",
                      src->target, digest, json_array_size(layers));
        goto out;
    }
    d.ref = stw_strdup(ref);
    d.manifest_digest = stw_strdup(digest);
    d.config_digest = stw_strdup(cdig);
    d.platform = stw_strdup(platform);
    d.layers = stw_calloc(json_array_size(layers) + 1, sizeof(*d.layers));
    if (!d.ref || !d.manifest_digest || !d.config_digest || !d.layers ||
        (platform && !d.platform)) {
        st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l)
    {
        const char *ld = jstr(l, "digest");
        const char *mt = jstr(l, "mediaType");
        if (!is_layer_media_type(mt))
            continue;
        stw_layer_desc *ldesc = &d.layers[d.n_layers++];
        if ((st = blob_name(src, ld, "layer digest", &ldesc->name, err)) !=
            STW_OK)
            goto out;
        /* A layer without its digest would be read unverified. */
        if (!(ldesc->digest = stw_strdup(ld)) ||
            (mt && !(ldesc->media_type = stw_strdup(mt)))) {
            st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
            goto out;
        }
        json_t *sz = json_object_get(l, "size");
        ldesc->size = json_is_integer(sz) ? json_integer_value(sz) : -1;
    }
    char *cname;
    const char *raw;
    size_t rawlen;
    st = blob_name(src, cdig, "config digest", &cname, err);
    if (st == STW_OK)
        st = fetch_json(src, cname, cdig, &cfg, &raw, &rawlen, err);
    free(cname);
    if (st == STW_OK)
        st = apply_config(src, cfg, raw, rawlen, &d, err);
    if (st == STW_OK && !platform_matches(src->platform, d.platform))
        goto out; /* filtered out: not an error */
    if (st == STW_OK) {
        st = list_push(list, &d, src->target, err);
        memset(&d, 0, sizeof(d));
    }
out:
    image_desc_free(&d);
    json_decref(m);
    json_decref(cfg);
    return st;
}

static const char *ref_annotation(json_t *desc)
{
    json_t *ann = json_object_get(desc, "annotations");
    const char *r = jstr(ann, "io.containerd.image.name");
    return r ? r : jstr(ann, "org.opencontainers.image.ref.name");
}

/* A ref for an image: a full name from annotations as is, a bare tag
 * ("v1") joined to the target, else the target itself. */
static char *make_ref(const char *target, const char *ann)
{
    if (ann && (strchr(ann, ':') || strchr(ann, '/')))
        return stw_strdup(ann);
    const char *base = strrchr(target, '/');
    base = base && base[1] ? base + 1 : target;
    size_t n = strlen(base) + (ann ? strlen(ann) : 0) + 2;
    char *p = stw_malloc(n);
    if (p)
        snprintf(p, n, ann ? "%s:%s" : "%s", base, ann ? ann : "");
    return p;
}

static stw_status from_index(const stw_image_source *src, json_t *idx,
                             const char *ref, int depth, stw_image_list *list,
                             stw_error *err)
{
    json_t *mans = json_object_get(idx, "manifests");
    if (!json_is_array(mans))
        return stw_fail(err, STW_ERR_FORMAT, "%s: index has no manifests",
                        src->target);
    size_t i;
    json_t *desc;
    json_array_foreach(mans, i, desc)
    {
        const char *mt = jstr(desc, "mediaType");
        const char *dig = jstr(desc, "digest");
        json_t *plat = json_object_get(desc, "platform");
        const char *os = jstr(plat, "os");
        /* BuildKit attaches provenance as "unknown/unknown" manifests. */
        if (os && strcmp(os, "unknown") == 0)
            continue;
        if (!dig)
            return stw_fail(err, STW_ERR_FORMAT,
                            "%s: index entry #%zu has no digest", src->target,
                            i);
        const char *ann = ref_annotation(desc);
        char *r = ann ? make_ref(src->target, ann) : stw_strdup(ref);
        if (!r)
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        stw_status st;
        if (mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST))) {
            char *name = NULL;
            json_t *child = NULL;
            if (depth >= MAX_INDEX_DEPTH)
                st = stw_fail(err, STW_ERR_LIMIT,
                              "%s: image indexes nested too deep", src->target);
            else if ((st = blob_name(src, dig, "digest", &name, err)) == STW_OK)
                st = fetch_json(src, name, dig, &child, NULL, NULL, err);
            if (st == STW_OK)
                st = from_index(src, child, r, depth + 1, list, err);
            json_decref(child);
            free(name);
        } else {
            char *p;
            st = platform_string(os, jstr(plat, "architecture"),
                                 jstr(plat, "variant"), &p, err);
            if (st == STW_OK)
                st = from_manifest(src, dig, r, p, list, err);
            free(p);
        }
        free(r);
        if (st != STW_OK)
            return st;
    }
    return STW_OK;
}

/* Docker 25+ writes both index.json and manifest.json; the latter holds the
 * RepoTags people know the image by. */
static stw_status refs_from_docker_manifest(const stw_image_source *src,
                                            stw_image_list *list, size_t first,
                                            stw_error *err)
{
    const char *data;
    size_t len;
    stw_error ignored;
    json_t *m;
    if (src->fetch(src->ctx, "manifest.json", &data, &len, &ignored) !=
            STW_OK ||
        parse_json(data, len, "manifest.json", &m, &ignored) != STW_OK)
        return STW_OK;
    size_t i;
    json_t *e;
    json_array_foreach(m, i, e)
    {
        char cd[72];
        const char *cfg = jstr(e, "Config");
        const char *tag = json_string_value(
            json_array_get(json_object_get(e, "RepoTags"), 0));
        if (!cfg || !tag || !stw_image_digest_from_name(cfg, cd))
            continue;
        for (size_t k = first; k < list->n; k++) {
            if (strcmp(list->v[k].config_digest, cd) != 0)
                continue;
            char *t = stw_strdup(tag);
            if (!t) {
                json_decref(m);
                return stw_fail(err, STW_ERR_NOMEM, "out of memory");
            }
            free(list->v[k].ref);
            list->v[k].ref = t;
        }
    }
    json_decref(m);
    return STW_OK;
}

stw_status stw_image_from_oci(const stw_image_source *src, stw_image_list *list,
                              stw_error *err)
{
    json_t *idx;
    size_t first = list->n;
    stw_status st = fetch_json(src, "index.json", NULL, &idx, NULL, NULL, err);
    if (st != STW_OK)
        return st;
    char *ref = make_ref(src->target, NULL);
    st = ref ? from_index(src, idx, ref, 0, list, err)
             : stw_fail(err, STW_ERR_NOMEM, "out of memory");
    free(ref);
    json_decref(idx);
    if (st == STW_OK)
        st = refs_from_docker_manifest(src, list, first, err);
    return st;
}

/* One entry of a legacy manifest.json. */
static stw_status from_docker_entry(const stw_image_source *src, json_t *e,
                                    size_t idx, stw_image_list *list,
                                    stw_error *err)
{
    const char *cfgname = jstr(e, "Config");
    json_t *layers = json_object_get(e, "Layers");
    if (!cfgname || !json_is_array(layers))
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s: manifest.json entry #%zu has no Config or Layers",
                        src->target, idx);
    if (json_array_size(layers) > STW_MAX_LAYERS)
        return stw_fail(err, STW_ERR_LIMIT, "%s: %zu layers in one image",
                        src->target, json_array_size(layers));
    char expect[72];
    int has_expect = stw_image_digest_from_name(cfgname, expect);
    const char *raw;
    size_t rawlen;
    json_t *cfg = NULL;
    stw_image_desc d = {0};
    stw_status st = fetch_json(src, cfgname, has_expect ? expect : NULL, &cfg,
                               &raw, &rawlen, err);
    if (st != STW_OK)
        return st;
    const char *tag =
        json_string_value(json_array_get(json_object_get(e, "RepoTags"), 0));
    char cd[STW_DIGEST_STR];
    d.ref = tag ? stw_strdup(tag) : make_ref(src->target, NULL);
    d.layers = stw_calloc(json_array_size(layers) + 1, sizeof(*d.layers));
    if (!d.ref || !d.layers) {
        st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = stw_sha256_digest(raw, rawlen, cd, err)) != STW_OK ||
        !(d.config_digest = stw_strdup(cd))) {
        st = st ? st : stw_fail(err, STW_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l)
    {
        const char *name = json_string_value(l);
        if (!name) {
            st = stw_fail(err, STW_ERR_FORMAT,
                          "%s: manifest.json: layer #%zu is not a string",
                          src->target, i);
            goto out;
        }
        stw_layer_desc *ld = &d.layers[d.n_layers++];
        ld->size = -1;
        char dg[72];
        if (!(ld->name = stw_strdup(name)) ||
            (stw_image_digest_from_name(name, dg) &&
             !(ld->digest = stw_strdup(dg)))) {
            st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    st = apply_config(src, cfg, raw, rawlen, &d, err);
    if (st == STW_OK && platform_matches(src->platform, d.platform)) {
        st = list_push(list, &d, src->target, err);
        memset(&d, 0, sizeof(d));
    }
out:
    image_desc_free(&d);
    json_decref(cfg);
    return st;
}

stw_status stw_image_from_docker(const stw_image_source *src,
                                 stw_image_list *list, stw_error *err)
{
    json_t *m;
    stw_status st = fetch_json(src, "manifest.json", NULL, &m, NULL, NULL, err);
    if (st != STW_OK)
        return st;
    if (!json_is_array(m) || json_array_size(m) == 0) {
        json_decref(m);
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s: manifest.json is not a non-empty array",
                        src->target);
    }
    size_t i;
    json_t *e;
    json_array_foreach(m, i, e)
    {
        if ((st = from_docker_entry(src, e, i, list, err)) != STW_OK)
            break;
    }
    json_decref(m);
    return st;
}
