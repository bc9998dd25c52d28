/* registry.c - a live registry over the Registry HTTP API v2 / OCI
 * Distribution API: opening a connection and resolving a reference, the
 * documents image.c asks for (manifests, indexes, configs, digest checked)
 * and layer blobs streamed to stw_layer_scan. Requests go through http.c;
 * auth, credentials and listings live in their own files. */
#include "registry_internal.h"

#include "common.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MT_OCI_INDEX    "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST                                                         \
    "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST                                                     \
    "application/vnd.docker.distribution.manifest.v2+json"
#define ACCEPT_MANIFESTS                                                       \
    "Accept: " MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST           \
    ", " MT_DOCKER_MANIFEST

const char *stw_registry_name(const stw_registry *r)
{
    return r->name;
}
const char *stw_registry_digest(const stw_registry *r)
{
    return r->digest;
}
const char *stw_registry_media_type(const stw_registry *r)
{
    return r->media_type;
}

/* ---- documents ----------------------------------------------------------- */

static bool is_mdigest(const stw_registry *r, const char *digest)
{
    for (size_t i = 0; i < r->n_mdigests; i++)
        if (strcmp(r->mdigests[i], digest) == 0)
            return true;
    return false;
}

static stw_status add_mdigest(stw_registry *r, const char *digest,
                              stw_error *err)
{
    if (is_mdigest(r, digest))
        return STW_OK;
    char **v = stw_realloc(r->mdigests, (r->n_mdigests + 1) * sizeof(*v));
    if (v)
        r->mdigests = v;
    if (!v || !(v[r->n_mdigests] = stw_strdup(digest)))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    r->n_mdigests++;
    return STW_OK;
}

/* The media type of a manifest or index: the Content-Type when it is one
 * we know, else what the JSON says about itself. "" for schema 1. */
static void classify(const stw_reg_xfer *x, json_t *root, char *mt, size_t n)
{
    static const char *const known[] = {MT_OCI_INDEX, MT_OCI_MANIFEST,
                                        MT_DOCKER_LIST, MT_DOCKER_MANIFEST};
    size_t cl = strcspn(x->ctype, "; ");
    for (size_t i = 0; i < STW_ARRAY_LEN(known); i++)
        if (cl == strlen(known[i]) && strncmp(x->ctype, known[i], cl) == 0) {
            snprintf(mt, n, "%s", known[i]);
            return;
        }
    const char *self = json_string_value(json_object_get(root, "mediaType"));
    for (size_t i = 0; self && i < STW_ARRAY_LEN(known); i++)
        if (strcmp(self, known[i]) == 0) {
            snprintf(mt, n, "%s", known[i]);
            return;
        }
    if (json_integer_value(json_object_get(root, "schemaVersion")) != 2)
        mt[0] = 0;
    else
        snprintf(mt, n, "%s",
                 json_object_get(root, "manifests") ? MT_OCI_INDEX
                                                    : MT_OCI_MANIFEST);
}

/* Fetches a manifest (or, with blob set, a config blob) by digest, checks
 * the bytes against the digest and keeps them as "blobs/sha256/<hex>". The
 * digests an index names are remembered as manifests. With mt, the media
 * type is stored there. */
static stw_status fetch_doc(stw_registry *r, const char *ref_or_digest,
                            bool blob, char *mt, size_t mtn, stw_error *err)
{
    char url[1600], what[200];
    snprintf(url, sizeof(url), "%s/v2/%s/%s/%s", r->base, r->ref.repository,
             blob ? "blobs" : "manifests", ref_or_digest);
    snprintf(what, sizeof(what), "%s %s", blob ? "blob" : "manifest",
             ref_or_digest);
    stw_reg_req q = {.url = url,
                     .accept = blob ? NULL : ACCEPT_MANIFESTS,
                     .what = what,
                     .limit = STW_MAX_JSON_BYTES,
                     .registry_auth = true};
    stw_reg_xfer *x;
    stw_status st = stw_reg_request(r, r->doc_multi, &q, &x, err);
    if (st != STW_OK)
        return st;
    char got[STW_DIGEST_STR];
    const char *body = x->buf ? (const char *)x->buf : "";
    st = stw_sha256_digest(body, x->len, got, err);
    const char *want =
        strncmp(ref_or_digest, "sha256:", 7) == 0 ? ref_or_digest : NULL;
    if (st == STW_OK && want && strcmp(want, got) != 0)
        st = stw_fail(err, STW_ERR_DIGEST,
                      "%s: %s: digest mismatch: expected %s, got %s", r->name,
                      what, want, got);
    if (st == STW_OK && !blob && !want && strncmp(x->dcd, "sha256:", 7) == 0 &&
        strcmp(x->dcd, got) != 0) {
        char dcd[80];
        stw_reg_clean_copy(dcd, sizeof(dcd), x->dcd, strlen(x->dcd));
        st = stw_fail(err, STW_ERR_DIGEST,
                      "%s: %s: registry says digest %s, content hashes to %s",
                      r->name, what, dcd, got);
    }
    json_t *root = NULL;
    char mtype[128] = "";
    if (st == STW_OK && !blob) {
        root = json_loadb(body, x->len, 0, NULL);
        classify(x, root, mtype, sizeof(mtype));
        if (!mtype[0])
            st = stw_fail(err, STW_ERR_FORMAT,
                          "%s: %s: not an OCI or Docker schema 2 manifest "
                          "(schema 1 is not supported)",
                          r->name, what);
    }
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(root, "manifests"), i, d)
    {
        const char *dg = json_string_value(json_object_get(d, "digest"));
        if (st == STW_OK && dg && stw_sha256_digest_valid(dg))
            st = add_mdigest(r, dg, err);
    }
    json_decref(root);
    if (st == STW_OK && mt)
        snprintf(mt, mtn, "%s", mtype);
    if (st == STW_OK) {
        char name[STW_DIGEST_STR + 16];
        snprintf(name, sizeof(name), "blobs/sha256/%s", got + 7);
        char *data = (char *)x->buf;
        size_t len = x->len;
        x->buf = NULL;
        if (!data && !(data = stw_calloc(1, 1)))
            st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
        if (st == STW_OK)
            st = stw_docset_add(r->docs, name, data, len, err);
        if (st == STW_OK && mt)
            snprintf(r->digest, sizeof(r->digest), "%s", got);
    }
    stw_reg_xfer_free(x);
    return st;
}

/* The document fetch_doc kept last; borrowed. */
static void last_doc(const stw_registry *r, const char **data, size_t *len)
{
    const char *name;
    stw_docset_get(r->docs, stw_docset_count(r->docs) - 1, &name, data, len);
}

/* Resolves the reference and synthesizes index.json around it. */
static stw_status resolve(stw_registry *r, stw_error *err)
{
    const char *ref = r->ref.digest[0] ? r->ref.digest : r->ref.tag;
    stw_status st =
        fetch_doc(r, ref, false, r->media_type, sizeof(r->media_type), err);
    if (st != STW_OK)
        return st;
    st = add_mdigest(r, r->digest, err);
    if (st != STW_OK)
        return st;
    const char *m;
    size_t mlen;
    last_doc(r, &m, &mlen);
    json_t *idx =
        json_pack("{s:i, s:s, s:[{s:s, s:s, s:I, s:{s:s}}]}", "schemaVersion",
                  2, "mediaType", MT_OCI_INDEX, "manifests", "mediaType",
                  r->media_type, "digest", r->digest, "size", (json_int_t)mlen,
                  "annotations", "org.opencontainers.image.ref.name", r->name);
    char *text = idx ? json_dumps(idx, JSON_COMPACT) : NULL;
    json_decref(idx);
    if (!text)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    return stw_docset_add(r->docs, "index.json", text, strlen(text), err);
}

stw_status stw_registry_fetch(void *ctx, const char *name, const char **data,
                              size_t *len, stw_error *err)
{
    stw_registry *r = ctx;
    stw_status st = STW_OK;
    pthread_mutex_lock(&r->doc_lock);
    if (stw_docset_find(r->docs, name, data, len))
        goto out;
    if (strncmp(name, "blobs/sha256/", 13) != 0 || strlen(name) != 77 ||
        !stw_is_hex64(name + 13)) {
        char nc[100];
        stw_reg_clean_copy(nc, sizeof(nc), name, strlen(name));
        st = stw_fail(err, STW_ERR_NOT_FOUND,
                      "%s: no document %s in a registry", r->name, nc);
        goto out;
    }
    char digest[STW_DIGEST_STR];
    snprintf(digest, sizeof(digest), "sha256:%s", name + 13);
    bool man = is_mdigest(r, digest);
    st = fetch_doc(r, digest, !man, NULL, 0, err);
    if (st == STW_ERR_NOT_FOUND && !man) {
        /* Not named by an index we read, yet perhaps a manifest. */
        stw_error e2 = {0};
        if (fetch_doc(r, digest, false, NULL, 0, &e2) == STW_OK)
            st = STW_OK;
    }
    if (st == STW_OK)
        last_doc(r, data, len);
out:
    pthread_mutex_unlock(&r->doc_lock);
    return st;
}

/* ---- open / close -------------------------------------------------------- */

stw_status stw_reg_setup(stw_registry *r, const char *ref,
                         const stw_registry_options *o, stw_error *err)
{
    if (pthread_mutex_init(&r->auth_lock, NULL) != 0) {
        free(r);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    if (pthread_mutex_init(&r->doc_lock, NULL) != 0) {
        pthread_mutex_destroy(&r->auth_lock);
        free(r);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    r->locks_inited = true;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        stw_registry_close(r);
        return stw_fail(err, STW_ERR_IO, "%s: curl initialisation failed", ref);
    }
    r->curl_inited = true;
    char ua[64];
    snprintf(ua, sizeof(ua), "stowaway/%s", STW_VERSION);
    r->user_agent = stw_strdup(o->user_agent ? o->user_agent : ua);
    r->ca_cert = stw_strdup(o->ca_cert);
    r->docker_config = stw_strdup(o->docker_config);
    r->user = stw_strdup(o->username);
    r->pass = stw_strdup(o->username ? (o->password ? o->password : "") : NULL);
    r->tries = o->tries > 0 ? o->tries : STW_REGISTRY_TRIES;
    r->timeout_s = o->timeout_s > 0 ? o->timeout_s : STW_REGISTRY_TIMEOUT_S;
    if (r->timeout_s > STW_REGISTRY_MAX_TIMEOUT_S)
        r->timeout_s = STW_REGISTRY_MAX_TIMEOUT_S;
    r->page_size = o->page_size > 0 && o->page_size <= STW_REGISTRY_PAGE_SIZE
                       ? o->page_size
                       : STW_REGISTRY_PAGE_SIZE;
    r->insecure = stw_calloc(o->n_insecure + 1, sizeof(char *));
    bool nomem = !r->user_agent || !r->insecure ||
                 (o->ca_cert && !r->ca_cert) ||
                 (o->docker_config && !r->docker_config) ||
                 (o->username && (!r->user || !r->pass));
    for (size_t i = 0; !nomem && i < o->n_insecure; i++) {
        if (!(r->insecure[i] = stw_strdup(o->insecure[i])))
            nomem = true;
        else
            r->n_insecure++;
    }
    if (!nomem && !(r->doc_multi = curl_multi_init()))
        nomem = true;
    /* No count limit of its own, as before the set existed: what image.c
     * asks for is bounded by its limits. */
    if (!nomem && stw_docset_create(SIZE_MAX, "registry documents", &r->docs,
                                    NULL) != STW_OK)
        nomem = true;
    if (nomem) {
        stw_registry_close(r);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    const char *host = strcmp(r->ref.registry, STW_REG_DOCKER_HUB) == 0
                           ? STW_REG_DOCKER_HUB_HOST
                           : r->ref.registry;
    r->plain_http =
        stw_reg_host_insecure(r, r->ref.registry, strlen(r->ref.registry));
    snprintf(r->base, sizeof(r->base), "%s://%s",
             r->plain_http ? "http" : "https", host);
    return STW_OK;
}

stw_status stw_registry_open(const char *ref, const stw_registry_options *o,
                             stw_registry **out, stw_error *err)
{
    static const stw_registry_options none = {0};
    *out = NULL;
    if (!o)
        o = &none;
    stw_registry *r = stw_calloc(1, sizeof(*r));
    if (!r)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    stw_status st = stw_registry_parse_ref(ref, &r->ref, err);
    if (st != STW_OK) {
        free(r);
        return st;
    }
    stw_registry_ref_format(&r->ref, r->name, sizeof(r->name));
    if ((st = stw_reg_setup(r, ref, o, err)) != STW_OK)
        return st;
    if ((st = resolve(r, err)) != STW_OK) {
        stw_registry_close(r);
        return st;
    }
    *out = r;
    return STW_OK;
}

void stw_registry_close(stw_registry *r)
{
    if (!r)
        return;
    stw_docset_destroy(r->docs);
    for (size_t i = 0; i < r->n_mdigests; i++)
        free(r->mdigests[i]);
    free(r->mdigests);
    stw_reg_tokens_free(r);
    for (size_t i = 0; i < r->n_insecure; i++)
        free(r->insecure[i]);
    free(r->insecure);
    free(r->user);
    stw_reg_wipe_free(r->pass);
    free(r->ca_cert);
    free(r->docker_config);
    free(r->user_agent);
    if (r->doc_multi)
        curl_multi_cleanup(r->doc_multi);
    if (r->locks_inited) {
        pthread_mutex_destroy(&r->auth_lock);
        pthread_mutex_destroy(&r->doc_lock);
    }
    if (r->curl_inited)
        curl_global_cleanup();
    free(r);
}

/* ---- blobs --------------------------------------------------------------- */

struct stw_registry_blob {
    stw_registry *r;
    CURLM *multi;
    stw_reg_xfer *x;
    char digest[STW_DIGEST_STR];
    char what[100];
    uint64_t delivered;
    int attempts;
};

uint64_t stw_registry_blob_bytes(const stw_registry_blob *b)
{
    return b->delivered;
}

static stw_status blob_start(stw_registry_blob *b, stw_error *err)
{
    char url[1600];
    snprintf(url, sizeof(url), "%s/v2/%s/blobs/%s", b->r->base,
             b->r->ref.repository, b->digest);
    stw_reg_req q = {.url = url,
                     .what = b->what,
                     .stream = true,
                     .range_from = b->delivered,
                     .registry_auth = true};
    stw_status st = stw_reg_request(b->r, b->multi, &q, &b->x, err);
    if (st == STW_OK && b->delivered && b->x->status != 206) {
        stw_reg_xfer_free(b->x);
        b->x = NULL;
        return stw_fail(err, STW_ERR_IO,
                        "%s: %s: connection lost after %llu bytes and the "
                        "registry cannot resume",
                        b->r->name, b->what, (unsigned long long)b->delivered);
    }
    return st;
}

stw_status stw_registry_blob_open(stw_registry *r, const char *digest,
                                  stw_registry_blob **out, stw_error *err)
{
    *out = NULL;
    char d[STW_DIGEST_STR];
    if (strncmp(digest, "blobs/sha256/", 13) == 0)
        snprintf(d, sizeof(d), "sha256:%.64s", digest + 13);
    else
        snprintf(d, sizeof(d), "%.71s", digest);
    if (!stw_sha256_digest_valid(d) ||
        (strncmp(digest, "blobs/", 6) == 0 && strlen(digest) != 77))
        return stw_fail(err, STW_ERR_USAGE, "%s: bad blob digest", r->name);
    stw_registry_blob *b = stw_calloc(1, sizeof(*b));
    if (!b || !(b->multi = curl_multi_init())) {
        free(b);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    b->r = r;
    memcpy(b->digest, d, sizeof(d));
    snprintf(b->what, sizeof(b->what), "blob %s", d);
    stw_status st = blob_start(b, err);
    if (st != STW_OK) {
        stw_registry_blob_close(b);
        return st;
    }
    *out = b;
    return STW_OK;
}

stw_status stw_registry_blob_read(void *ctx, const void **buf, size_t *len,
                                  stw_error *err)
{
    stw_registry_blob *b = ctx;
    for (;;) {
        stw_reg_xfer *x = b->x;
        if (!x)
            return stw_fail(err, STW_ERR_IO, "%s: %s: transfer failed",
                            b->r->name, b->what);
        if (x->taken) {
            x->len = 0;
            x->taken = false;
        }
        if (x->paused) {
            x->paused = false;
            CURLcode c = curl_easy_pause(x->easy, CURLPAUSE_CONT);
            if (c != CURLE_OK)
                return stw_fail(err, STW_ERR_IO, "%s: %s: %s", b->r->name,
                                b->what, curl_easy_strerror(c));
        }
        stw_status st = stw_reg_xfer_run(b->r, x, STW_REG_STREAM_BUF / 2, err);
        if (st != STW_OK)
            return st;
        if (x->len > 0) {
            x->taken = true;
            *buf = x->buf;
            *len = x->len;
            b->delivered += x->len;
            return STW_OK;
        }
        if (!x->done)
            continue;
        if (x->result == CURLE_OK) {
            *buf = x->buf;
            *len = 0;
            return STW_OK;
        }
        if (!stw_reg_retryable(x->result) || ++b->attempts >= b->r->tries)
            return stw_fail(
                err, STW_ERR_IO, "%s: %s: after %llu bytes: %s", b->r->name,
                b->what, (unsigned long long)b->delivered,
                x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result));
        stw_reg_xfer_free(x);
        b->x = NULL;
        stw_reg_sleep_ms(stw_reg_backoff_ms(b->attempts, NULL));
        if ((st = blob_start(b, err)) != STW_OK)
            return st;
    }
}

void stw_registry_blob_close(stw_registry_blob *b)
{
    if (!b)
        return;
    stw_reg_xfer_free(b->x);
    if (b->multi)
        curl_multi_cleanup(b->multi);
    free(b);
}
