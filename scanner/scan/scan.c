/* scan.c - one target, from its first bytes to images in the store.
 *
 * What a target is comes from its bytes, never its name:
 *   - a directory with index.json: an OCI image layout;
 *   - a plain tar file: first its headers are indexed (seeking over member
 *     data), then, if it holds manifest.json or index.json, it is an image
 *     archive (docker save, oci-archive) whose layers are scanned in
 *     parallel, each by a worker that seeks to its member; otherwise the
 *     tar is itself a layer;
 *   - anything compressed, and standard input: one forward pass. The first
 *     member's name says whether the stream is an image archive or a layer;
 *     in an archive, layers are scanned as they arrive and matched to the
 *     manifest when it arrives, which may be after them.
 * Every layer is stored as soon as it is scanned (put_layer), every image
 * once all its layers are (put_image), so a failure keeps what was done. */
#include "shard.h"
#include "blob.h"
#include "common.h"
#include "image.h"
#include "layer.h"
#include "limits.h"
#include "matcher.h"
#include "registry.h"
#include "rules.h"
#include "sha256.h"
#include "storage.h"
#include "store.h"
#include "tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_BUF (1u << 20)
#define EMPTY_CONFIG_DIGEST                                                    \
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- raw byte sources --------------------------------------------------- */

typedef struct fd_reader {
    int fd;
    const char *name;
    unsigned char *buf;
} fd_reader;

static stw_status fd_read(void *ctx, const void **buf, size_t *len,
                          stw_error *err)
{
    fd_reader *r = ctx;
    for (;;) {
        ssize_t n = read(r->fd, r->buf, READ_BUF);
        if (n >= 0) {
            *buf = r->buf;
            *len = (size_t)n;
            return STW_OK;
        }
        if (errno != EINTR) {
            char eb[128];
            return stw_fail(err, STW_ERR_IO, "%s: read: %s", r->name,
                            stw_strerror(errno, eb, sizeof(eb)));
        }
    }
}

/* A member of an outer archive read straight from libarchive, with an
 * optional first block already taken (to sniff JSON from layers). */
typedef struct member_reader {
    struct archive *a;
    const char *name;
    const void *pending;
    size_t pending_len;
} member_reader;

static stw_status outer_failure(struct archive *a, const char *name,
                                stw_error *err)
{
    const char *msg = archive_error_string(a);
    if (!msg)
        msg = "unreadable tar archive";
    return stw_fail(
        err, strstr(msg, "runcated") ? STW_ERR_TRUNCATED : STW_ERR_FORMAT,
        "%s: %s", name, msg);
}

static stw_status member_read(void *ctx, const void **buf, size_t *len,
                              stw_error *err)
{
    member_reader *m = ctx;
    if (m->pending) {
        *buf = m->pending;
        *len = m->pending_len;
        m->pending = NULL;
        return STW_OK;
    }
    la_int64_t off;
    int rc = archive_read_data_block(m->a, buf, len, &off);
    if (rc == ARCHIVE_EOF) {
        *len = 0;
        return STW_OK;
    }
    if (rc < ARCHIVE_WARN)
        return outer_failure(m->a, m->name, err);
    return STW_OK;
}

/* ---- collected documents ------------------------------------------------ */

typedef struct doc {
    char *name;
    char *data;
    size_t len;
} doc;

/* What a scanned (or cached) layer left behind for the image step. */
typedef struct layer_job {
    char *name;          /* member or file name */
    const char *digest;  /* expected blob digest (borrowed from images) */
    const char *diff_id; /* expected diff_id (borrowed) */
    int64_t size;
    int64_t member; /* index in the outer archive, -1 for files */
    bool done, cached;
    stw_status st;
    stw_error err;
    char got_digest[80];
    char got_diff_id[80];
} layer_job;

typedef struct scan {
    const stw_rules *rules;
    stw_store *store;
    int64_t scan_id;
    const char *target;
    const stw_scan_options *opt;
    char *dir;         /* OCI layout or registry storage root, or NULL */
    bool storage;      /* dir is a distribution registry storage */
    stw_registry *reg; /* a remote image, or NULL */
    doc *docs;
    size_t n_docs;
    doc *links; /* symlink members: name -> target, resolved (legacy docker
                   save writes <id>/layer.tar -> ../<hex>.tar) */
    size_t n_links;
    layer_job *jobs;
    size_t n_jobs;
    stw_image_list images;
    bool image_archive; /* saw manifest.json / index.json / blobs */
    bool has_manifest, has_index;
    pthread_mutex_t lock; /* store writes and job hand-out */
    bool spare_cores;     /* more cores than layer workers */
    bool known_layer;     /* the index showed the tar is a layer */
    /* What a stored layer must have been scanned with to be reused: the
     * rules version and the layer walker's detectors version. */
    char cache_version[96];
    size_t next_job;
} scan;

static stw_status doc_add(scan *s, const char *name, char *data, size_t len,
                          stw_error *err)
{
    if (s->n_docs >= STW_MAX_MEMBERS) {
        free(data);
        return stw_fail(err, STW_ERR_LIMIT, "%s: too many members", s->target);
    }
    doc *v = realloc(s->docs, (s->n_docs + 1) * sizeof(*v));
    char *n = stw_strdup(name);
    if (!v || !n) {
        free(n);
        free(data);
        if (v)
            s->docs = v;
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    s->docs = v;
    v[s->n_docs++] = (doc){n, data, len};
    return STW_OK;
}

/* Where a document or blob lives under the directory: an OCI layout keeps
 * "blobs/sha256/<hex>" as is; registry storage shards it as
 * "blobs/sha256/<2 hex>/<hex>/data". */
static void dir_path(const scan *s, const char *name, char *out, size_t n)
{
    if (s->storage && !strncmp(name, "blobs/sha256/", 13) &&
        strlen(name + 13) == 64)
        snprintf(out, n, "%s/blobs/sha256/%.2s/%s/data", s->dir, name + 13,
                 name + 13);
    else
        snprintf(out, n, "%s/%s", s->dir, name);
}

static stw_status fetch_doc(void *ctx, const char *name, const char **data,
                            size_t *len, stw_error *err)
{
    scan *s = ctx;
    for (size_t i = 0; i < s->n_docs; i++) {
        if (strcmp(s->docs[i].name, name) == 0) {
            *data = s->docs[i].data;
            *len = s->docs[i].len;
            return STW_OK;
        }
    }
    if (s->dir) {
        char path[STW_MAX_PATH + 64], what[STW_MAX_PATH + 64];
        dir_path(s, name, path, sizeof(path));
        snprintf(what, sizeof(what), "%s: %s", s->target, name);
        char *buf = NULL;
        size_t n = 0;
        stw_status st =
            stw_read_small_file(path, what, STW_MAX_JSON_BYTES, &buf, &n, err);
        if (st != STW_OK)
            return st;
        if ((st = doc_add(s, name, buf, n, err)) != STW_OK)
            return st;
        *data = s->docs[s->n_docs - 1].data;
        *len = n;
        return STW_OK;
    }
    return stw_fail(err, STW_ERR_NOT_FOUND, "%s: missing %s", s->target, name);
}

/* ---- what members are --------------------------------------------------- */

/* Names that decide, when a whole archive can be indexed first, that it is
 * an image archive rather than a layer: a layer may well hold a top-level
 * blobs/ directory, but not an OCI layout marker, a manifest or a docker
 * save repositories file, nor a legacy <id>/layer.tar. */
static bool archive_marker_name(const char *n)
{
    if (!strcmp(n, "manifest.json") || !strcmp(n, "index.json") ||
        !strcmp(n, "oci-layout") || !strcmp(n, "repositories"))
        return true;
    return strlen(n) == 74 && stw_is_hex64(n) && !strcmp(n + 64, "/layer.tar");
}

/* Names that only an image archive (docker save, oci-archive) has at its
 * top level. A layer's own entries are paths of a root filesystem. */
static bool archive_member_name(const char *n)
{
    if (archive_marker_name(n))
        return true;
    if (!strcmp(n, "manifest.json") || !strcmp(n, "index.json") ||
        !strcmp(n, "oci-layout") || !strcmp(n, "repositories") ||
        !strcmp(n, "blobs") || !strncmp(n, "blobs/", 6))
        return true;
    if (strlen(n) >= 64 && stw_is_hex64(n))
        return !n[64] || !strcmp(n + 64, ".json") || !strcmp(n + 64, ".tar") ||
               n[64] == '/';
    return false;
}

/* JSON documents we keep: everything small that is not a layer. */
static bool doc_name(const char *n)
{
    size_t l = strlen(n);
    return !strcmp(n, "manifest.json") || !strcmp(n, "index.json") ||
           !strcmp(n, "oci-layout") || !strcmp(n, "repositories") ||
           (l > 5 && !strcmp(n + l - 5, ".json"));
}

static bool layer_name(const char *n)
{
    size_t l = strlen(n);
    return (l > 10 && !strcmp(n + l - 10, "/layer.tar")) ||
           (l == 68 && stw_is_hex64(n) && !strcmp(n + 64, ".tar")) ||
           (!strncmp(n, "blobs/sha256/", 13) && l == 77);
}

static bool looks_json(const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        if (c[i] == ' ' || c[i] == '\n' || c[i] == '\r' || c[i] == '\t')
            continue;
        return c[i] == '{' || c[i] == '[';
    }
    return false;
}

static char *member_path(const char *raw)
{
    char *p = stw_strdup(raw ? raw : "");
    if (!p)
        return NULL;
    char *n = stw_layer_normalize_path(p);
    memmove(p, n, strlen(n) + 1);
    return p;
}

/* Reads the rest of a member whose first block is (first, n) into a doc. */
static stw_status slurp_member(scan *s, struct archive *a, const char *name,
                               const void *first, size_t n, stw_error *err)
{
    size_t cap = n + 4096, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    const void *blk = first;
    size_t bl = n;
    for (;;) {
        if (len + bl > STW_MAX_JSON_BYTES) {
            free(buf);
            return stw_fail(err, STW_ERR_LIMIT,
                            "%s: %s: JSON document larger than %u bytes",
                            s->target, name, STW_MAX_JSON_BYTES);
        }
        if (len + bl > cap) {
            cap = (len + bl) * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                return stw_fail(err, STW_ERR_NOMEM, "out of memory");
            }
            buf = nb;
        }
        memcpy(buf + len, blk, bl);
        len += bl;
        la_int64_t off;
        int rc = archive_read_data_block(a, &blk, &bl, &off);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc < ARCHIVE_WARN) {
            free(buf);
            return outer_failure(a, s->target, err);
        }
    }
    buf[len] = 0;
    return doc_add(s, name, buf, len, err);
}

/* ---- scanning one layer ------------------------------------------------- */

/* Hands plaintext secrets to --show-secrets; caller holds the lock. */
static void pass_secrets(scan *s, const stw_finding_list *l,
                         const char *blob_digest)
{
    if (!s->opt || !s->opt->on_secret)
        return;
    for (size_t i = 0; i < stw_finding_list_count(l); i++) {
        const stw_finding *f = stw_finding_list_get(l, i);
        if (!f->secret)
            continue;
        char fp[33];
        stw_finding_fingerprint(f, blob_digest, fp);
        s->opt->on_secret(s->opt->secret_ctx, fp, f->secret, f->secret_n);
    }
}

static stw_status store_layer(scan *s, const stw_layer_result *r,
                              const char *media_type, stw_error *err)
{
    const void *ps;
    size_t pslen;
    stw_pathset_finish(r->pathset, &ps, &pslen);
    stw_layer_record rec = {
        .digest = r->digest,
        .diff_id = r->diff_id,
        .media_type = media_type,
        .size = (int64_t)r->raw_bytes,
        .uncompressed = (int64_t)r->tar_bytes,
        .entries = (int64_t)r->entries,
        .pathset = ps,
        .pathset_len = pslen,
        .rules_version = s->cache_version,
    };
    pthread_mutex_lock(&s->lock);
    stw_status st = stw_store_put_layer(s->store, &rec, r->findings, err);
    if (st == STW_OK)
        pass_secrets(s, r->findings, r->digest);
    if (st == STW_OK && s->opt && s->opt->on_layer_done)
        s->opt->on_layer_done(s->opt->progress_ctx, r->digest, r->tar_bytes, 0);
    pthread_mutex_unlock(&s->lock);
    return st;
}

static stw_blob_options blob_opts(const scan *s, const char *name,
                                  const char *digest, const char *diff_id)
{
    stw_blob_options bo = {
        .name = name,
        .digest = digest,
        .diff_id = diff_id,
        .max_out = s->opt ? s->opt->max_layer_bytes : 0,
        .max_ratio = s->opt ? s->opt->max_ratio : 0,
    };
    return bo;
}

/* Layers are walked with a content thread when cores would otherwise
 * idle: fewer layer workers than cores (-j1 on two cores, or one stream). */
static stw_layer_options layer_opts(const scan *s)
{
    stw_layer_options lo = {
        .max_entries = s->opt ? s->opt->max_entries : 0,
        .content_thread = s->spare_cores,
        .keep_secrets = s->opt && s->opt->on_secret,
    };
    return lo;
}

/* Scans a layer pulled through fn/ctx and stores it; fills the job's
 * computed digests. */
static stw_status scan_layer(scan *s, stw_matcher *m, layer_job *j,
                             stw_read_fn fn, void *ctx, const char *label,
                             const char *media_type)
{
    stw_layer_result r;
    stw_blob_options bo = blob_opts(s, label, j->digest, j->diff_id);
    stw_layer_options lo = layer_opts(s);
    stw_status st = stw_layer_scan(m, fn, ctx, &bo, &lo, &r, &j->err);
    if (st == STW_OK) {
        snprintf(j->got_digest, sizeof(j->got_digest), "%s", r.digest);
        snprintf(j->got_diff_id, sizeof(j->got_diff_id), "%s", r.diff_id);
        st = store_layer(s, &r, media_type, &j->err);
    }
    stw_layer_result_clear(&r);
    return st;
}

static const char *job_media_type(const scan *s, const layer_job *j)
{
    for (size_t i = 0; i < s->images.n; i++)
        for (size_t k = 0; k < s->images.v[i].n_layers; k++)
            if (!strcmp(s->images.v[i].layers[k].name, j->name))
                return s->images.v[i].layers[k].media_type;
    return NULL;
}

/* A worker's view of one job in a seekable archive: reopen the file, seek
 * over members to ours, and stream it. */
static stw_status run_member_job(scan *s, stw_matcher *m, layer_job *j,
                                 char *label)
{
    struct archive *a = archive_read_new();
    if (!a)
        return stw_fail(&j->err, STW_ERR_NOMEM, "out of memory");
    archive_read_support_format_tar(a);
    stw_status st = STW_OK;
    if (archive_read_open_filename(a, s->target, READ_BUF) != ARCHIVE_OK)
        st = outer_failure(a, s->target, &j->err);
    struct archive_entry *e;
    for (int64_t i = 0; st == STW_OK && i <= j->member; i++)
        if (archive_read_next_header(a, &e) < ARCHIVE_WARN)
            st = outer_failure(a, s->target, &j->err);
    if (st == STW_OK) {
        member_reader mr = {.a = a, .name = label};
        st = scan_layer(s, m, j, member_read, &mr, label, job_media_type(s, j));
    }
    archive_read_free(a);
    return st;
}

static stw_status run_file_job(scan *s, stw_matcher *m, layer_job *j,
                               char *label)
{
    char path[STW_MAX_PATH + 128], eb[128];
    dir_path(s, j->name, path, sizeof(path));
    fd_reader r = {.fd = open(path, O_RDONLY | O_CLOEXEC), .name = label};
    if (r.fd < 0)
        return stw_fail(&j->err,
                        errno == ENOENT ? STW_ERR_NOT_FOUND : STW_ERR_IO,
                        "%s: missing layer blob: %s", label,
                        stw_strerror(errno, eb, sizeof(eb)));
    stw_status st = STW_OK;
    if (!(r.buf = malloc(READ_BUF)))
        st = stw_fail(&j->err, STW_ERR_NOMEM, "out of memory");
    else
        st = scan_layer(s, m, j, fd_read, &r, label, job_media_type(s, j));
    free(r.buf);
    close(r.fd);
    return st;
}

/* A layer of a remote image, streamed from the registry as it downloads;
 * opening (which may fetch a token) is serialised, reading is not. */
static stw_status run_registry_job(scan *s, stw_matcher *m, layer_job *j,
                                   char *label)
{
    stw_registry_blob *b = NULL;
    pthread_mutex_lock(&s->lock);
    stw_status st = stw_registry_blob_open(s->reg, j->digest, &b, &j->err);
    pthread_mutex_unlock(&s->lock);
    if (st == STW_OK)
        st = scan_layer(s, m, j, stw_registry_blob_read, b, label,
                        job_media_type(s, j));
    stw_registry_blob_close(b);
    return st;
}

static void *worker(void *arg)
{
    scan *s = arg;
    stw_matcher *m = NULL;
    stw_error merr = {0};
    stw_status mst = stw_matcher_create(s->rules, &m, &merr);
    char label[STW_MAX_PATH + 600];
    for (;;) {
        pthread_mutex_lock(&s->lock);
        layer_job *j = NULL;
        while (s->next_job < s->n_jobs && !j) {
            j = &s->jobs[s->next_job++];
            if (j->done)
                j = NULL;
        }
        pthread_mutex_unlock(&s->lock);
        if (!j)
            break;
        snprintf(label, sizeof(label), "%s: layer %s", s->target, j->name);
        if (mst != STW_OK) {
            j->st = mst;
            j->err = merr;
        } else if (s->reg) {
            j->st = run_registry_job(s, m, j, label);
        } else if (s->dir) {
            j->st = run_file_job(s, m, j, label);
        } else {
            j->st = run_member_job(s, m, j, label);
        }
        j->done = true;
    }
    stw_matcher_destroy(m);
    return NULL;
}

static int job_cmp_size_desc(const void *a, const void *b)
{
    const layer_job *x = a, *y = b;
    return (x->size < y->size) - (x->size > y->size);
}

static int default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Runs every pending job on -j workers, largest first so the longest layer
 * is not started last. */
static void run_jobs(scan *s)
{
    stw_sort(s->jobs, s->n_jobs, sizeof(*s->jobs), job_cmp_size_desc);
    int n = s->opt && s->opt->jobs > 0 ? s->opt->jobs : default_jobs();
    if ((size_t)n > s->n_jobs)
        n = (int)s->n_jobs;
    s->spare_cores = n < default_jobs();
    if (n <= 1) {
        worker(s);
        return;
    }
    pthread_t *t = calloc((size_t)n, sizeof(*t));
    int started = 0;
    for (; t && started < n; started++)
        if (pthread_create(&t[started], NULL, worker, s) != 0)
            break;
    if (started == 0)
        worker(s); /* no threads to be had: do it here */
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    free(t);
}

/* ---- planning ----------------------------------------------------------- */

static layer_job *job_find(scan *s, const char *name)
{
    /* One hop through a symlink member is all docker save ever uses. */
    for (int hop = 0; hop < 2 && name; hop++) {
        for (size_t i = 0; i < s->n_jobs; i++)
            if (!strcmp(s->jobs[i].name, name))
                return &s->jobs[i];
        const char *next = NULL;
        for (size_t i = 0; i < s->n_links && !next; i++)
            if (!strcmp(s->links[i].name, name))
                next = s->links[i].data;
        name = next;
    }
    return NULL;
}

/* Records a symlink member, its target resolved against its directory
 * ("a/layer.tar" -> "../b.tar" gives "b.tar"). Targets leaving the archive
 * root are ignored. */
static stw_status link_add(scan *s, const char *name, const char *target,
                           stw_error *err)
{
    if (!target || s->n_links >= STW_MAX_MEMBERS)
        return STW_OK;
    size_t n = strlen(name) + strlen(target) + 2;
    char *buf = malloc(n), *res = malloc(n);
    if (!buf || !res) {
        free(buf);
        free(res);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    const char *slash = strrchr(name, '/');
    snprintf(buf, n, "%.*s%s%s", slash ? (int)(slash - name) : 0, name,
             slash ? "/" : "", target);
    /* Resolve "." and ".." components. */
    size_t w = 0;
    bool escaped = false;
    for (char *save = NULL, *c = strtok_r(buf, "/", &save); c;
         c = strtok_r(NULL, "/", &save)) {
        if (!strcmp(c, "."))
            continue;
        if (!strcmp(c, "..")) {
            if (w == 0) {
                escaped = true;
                break;
            }
            while (w > 0 && res[w - 1] != '/')
                w--;
            if (w > 0)
                w--;
            continue;
        }
        if (w)
            res[w++] = '/';
        size_t cl = strlen(c);
        memcpy(res + w, c, cl);
        w += cl;
    }
    res[w] = 0;
    free(buf);
    doc *v = escaped ? NULL : realloc(s->links, (s->n_links + 1) * sizeof(*v));
    char *nm = v ? stw_strdup(name) : NULL;
    if (!nm) {
        free(res);
        if (v)
            s->links = v;
        return escaped ? STW_OK : stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    s->links = v;
    v[s->n_links++] = (doc){nm, res, w};
    return STW_OK;
}

static stw_status job_add(scan *s, const char *name, layer_job **out,
                          stw_error *err)
{
    layer_job *v = realloc(s->jobs, (s->n_jobs + 1) * sizeof(*v));
    if (!v)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    s->jobs = v;
    layer_job *j = &v[s->n_jobs];
    memset(j, 0, sizeof(*j));
    j->member = -1;
    j->size = -1;
    if (!(j->name = stw_strdup(name)))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    s->n_jobs++;
    *out = j;
    return STW_OK;
}

/* The digest a layer is cached under before it is read: its blob digest
 * when the manifest or member name gives one; for a legacy docker save
 * layer.tar (uncompressed, so the blob is the tar) its diff_id. */
static const char *cache_key(const layer_job *j)
{
    return j->digest ? j->digest : j->diff_id;
}

/* One job per distinct layer of all images. */
static stw_status plan_jobs(scan *s, stw_error *err)
{
    for (size_t i = 0; i < s->images.n; i++) {
        stw_image_desc *d = &s->images.v[i];
        for (size_t k = 0; k < d->n_layers; k++) {
            stw_layer_desc *l = &d->layers[k];
            if (job_find(s, l->name))
                continue;
            layer_job *j;
            stw_status st = job_add(s, l->name, &j, err);
            if (st != STW_OK)
                return st;
            j->digest = l->digest;
            j->diff_id = l->diff_id;
            j->size = l->size;
        }
    }
    return STW_OK;
}

/* ---- config ------------------------------------------------------------- */

/* Where the secrets of one config string are, to redact them from the
 * history shown in reports (a --build-arg token lands in created_by). */
#define MAX_REDACT 32

typedef struct config_sink {
    stw_finding_list *list;
    const char *detail;
    int64_t off[MAX_REDACT], len[MAX_REDACT];
    int n;
} config_sink;

static stw_status config_emit(void *ctx, const stw_finding *f)
{
    config_sink *c = ctx;
    stw_finding g = *f;
    g.detail = c->detail;
    if (f->secret_len > 0 && f->secret_offset >= 0 && c->n < MAX_REDACT) {
        c->off[c->n] = f->secret_offset;
        c->len[c->n++] = f->secret_len;
    }
    return stw_finding_list_add(c->list, &g);
}

/* Returns text with every recorded secret replaced by its redacted form
 * ("npm_…(40 chars)"); transferred to the caller, NULL on no memory. */
static char *redact(const char *text, const config_sink *c)
{
    size_t n = strlen(text);
    char *out = malloc(n + (size_t)c->n * 24 + 1);
    if (!out)
        return NULL;
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        int hit = -1;
        for (int k = 0; k < c->n; k++)
            if ((size_t)c->off[k] == i && (hit < 0 || c->len[k] > c->len[hit]))
                hit = k;
        if (hit < 0) {
            out[w++] = text[i++];
            continue;
        }
        size_t len = (size_t)c->len[hit];
        if (len > n - i)
            len = n - i;
        stw_finding tmp = {0};
        stw_finding_set_secret(&tmp, text + i, len);
        size_t el = strlen(tmp.excerpt);
        memcpy(out + w, tmp.excerpt, el);
        w += el;
        i += len;
    }
    out[w] = 0;
    return out;
}

typedef struct redaction {
    char *orig, *redacted;
} redaction;

/* Env values and history entries are where ARG and --build-arg values
 * leak; they are scanned with the same rules as files. The detail names
 * where, never the value; history entries with secrets get a redacted copy
 * in red (transferred to the caller: free both strings of each, then the
 * array). */
static stw_status scan_config(stw_matcher *m, const stw_image_desc *d,
                              stw_finding_list *out, redaction **red,
                              size_t *n_red, stw_error *err)
{
    *red = NULL;
    *n_red = 0;
    json_t *cfg = json_loadb(d->config, d->config_len, 0, NULL);
    if (!cfg)
        return STW_OK; /* already parsed once; cannot fail here */
    stw_status st = STW_OK;
    char detail[160];
    config_sink cs = {.list = out, .detail = detail};
    json_t *env = json_object_get(json_object_get(cfg, "config"), "Env");
    size_t i;
    json_t *v;
    json_array_foreach(env, i, v)
    {
        const char *s = json_string_value(v);
        if (!s || st != STW_OK)
            continue;
        const char *eq = strchr(s, '=');
        int n = eq ? (int)(eq - s) : (int)strlen(s);
        snprintf(detail, sizeof(detail), "Env %.*s", n > 100 ? 100 : n, s);
        st = stw_matcher_scan_buffer(m, "<config>", s, strlen(s), config_emit,
                                     &cs, err);
    }
    json_t *hist = json_object_get(cfg, "history");
    json_array_foreach(hist, i, v)
    {
        const char *s = json_string_value(json_object_get(v, "created_by"));
        if (!s || st != STW_OK)
            continue;
        snprintf(detail, sizeof(detail), "history entry %zu", i);
        cs.n = 0;
        st = stw_matcher_scan_buffer(m, "<config>", s, strlen(s), config_emit,
                                     &cs, err);
        if (st != STW_OK || cs.n == 0)
            continue;
        redaction *r = realloc(*red, (*n_red + 1) * sizeof(*r));
        if (!r) {
            st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
            break;
        }
        *red = r;
        r[*n_red].orig = stw_strdup(s);
        r[*n_red].redacted = redact(s, &cs);
        (*n_red)++;
        if (!r[*n_red - 1].orig || !r[*n_red - 1].redacted)
            st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    json_decref(cfg);
    stw_finding_list_dedupe_secrets(out);
    return st;
}

static void redactions_free(redaction *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].orig);
        free(r[i].redacted);
    }
    free(r);
}

/* The history text a report may show for a layer. */
static const char *shown_created_by(const char *cb, const redaction *r,
                                    size_t n)
{
    for (size_t i = 0; cb && i < n; i++)
        if (!strcmp(r[i].orig, cb))
            return r[i].redacted;
    return cb;
}

/* ---- images ------------------------------------------------------------- */

static stw_status record_error(scan *s, const stw_error *e)
{
    stw_error ignored;
    stw_store_put_error(s->store, s->scan_id, s->target, e->msg, &ignored);
    return e->status;
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
    for (size_t k = 0; k < d->n_layers && st == STW_OK; k++) {
        const stw_layer_desc *l = &d->layers[k];
        layer_job *j = job_find(s, l->name);
        if (!j || !j->done) {
            st = stw_fail(err, STW_ERR_NOT_FOUND,
                          "%s: manifest names missing layer %s", s->target,
                          l->name);
        } else if (j->st != STW_OK) {
            *err = j->err;
            st = j->st;
        } else if (!j->cached && l->diff_id &&
                   strcmp(l->diff_id, j->got_diff_id) != 0) {
            st = stw_fail(err, STW_ERR_DIGEST,
                          "%s: layer %s: diff_id mismatch: config says %s, "
                          "content is %s",
                          s->target, l->name, l->diff_id, j->got_diff_id);
        }
        ls[k].digest = j ? j->got_digest : NULL;
        ls[k].created_by = l->created_by;
        ls[k].cached = j && j->cached;
    }
    redaction *red = NULL;
    size_t n_red = 0;
    if (st == STW_OK && d->config)
        st = scan_config(m, d, cf, &red, &n_red, err);
    for (size_t k = 0; k < d->n_layers; k++)
        ls[k].created_by = shown_created_by(ls[k].created_by, red, n_red);
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
            pass_secrets(s, cf, rec.config_digest);
            pthread_mutex_unlock(&s->lock);
        }
    }
    stw_finding_list_destroy(cf);
    redactions_free(red, n_red);
    free(ls);
    return st;
}

/* Stores every image; an image that cannot be stored is an error, but the
 * others still land. Returns the first error. */
static stw_status put_images(scan *s, stw_error *err)
{
    stw_matcher *m;
    stw_status st = stw_matcher_create(s->rules, &m, err);
    if (st != STW_OK)
        return st;
    stw_status first = STW_OK;
    for (size_t i = 0; i < s->images.n; i++) {
        stw_error e = {0};
        if ((st = put_image(s, m, &s->images.v[i], &e)) != STW_OK) {
            record_error(s, &e);
            if (first == STW_OK) {
                first = st;
                *err = e;
            }
        }
    }
    stw_matcher_destroy(m);
    return first;
}

static stw_status build_images(scan *s, stw_error *err)
{
    stw_image_source src = {
        .fetch = s->reg ? stw_registry_fetch : fetch_doc,
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

/* A single layer as an image of its own: no config, one layer. */
static stw_status put_single_layer(scan *s, const char *digest, bool cached,
                                   stw_error *err)
{
    stw_image_desc d = {0};
    stw_layer_desc l = {0};
    d.ref = (char *)s->target;
    d.layers = &l;
    d.n_layers = 1;
    l.name = (char *)s->target;
    layer_job *j = NULL;
    stw_status st = job_add(s, s->target, &j, err);
    if (st != STW_OK)
        return st;
    j->done = true;
    j->cached = cached;
    snprintf(j->got_digest, sizeof(j->got_digest), "%s", digest);
    stw_matcher *m;
    if ((st = stw_matcher_create(s->rules, &m, err)) != STW_OK)
        return st;
    st = put_image(s, m, &d, err);
    stw_matcher_destroy(m);
    return st;
}

/* ---- modes -------------------------------------------------------------- */

static stw_status check_cached(scan *s, stw_error *err);

/* A registry's storage: its tags become one synthesized index.json. */
static stw_status open_storage(scan *s, const char *root, stw_error *err)
{
    if (!(s->dir = stw_strdup(root)))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    s->storage = true;
    char *json;
    size_t len;
    stw_status st =
        stw_storage_index(root, s->opt ? s->opt->repo_glob : NULL,
                          s->opt ? s->opt->tag_glob : NULL, &json, &len, err);
    return st == STW_OK ? doc_add(s, "index.json", json, len, err) : st;
}

static stw_status scan_dir(scan *s, stw_error *err)
{
    char path[STW_MAX_PATH + 32];
    stw_status st = STW_OK;
    if (stw_storage_detect(s->target, path, sizeof(path))) {
        st = open_storage(s, path, err);
    } else {
        snprintf(path, sizeof(path), "%s/index.json", s->target);
        if (access(path, F_OK) != 0)
            return stw_fail(err, STW_ERR_FORMAT,
                            "%s: directory without index.json (neither an "
                            "OCI image layout nor registry storage)",
                            s->target);
        if (!(s->dir = stw_strdup(s->target)))
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    s->has_index = true;
    if (st == STW_OK)
        st = build_images(s, err);
    if (st == STW_OK)
        st = plan_jobs(s, err);
    if (st == STW_OK)
        st = check_cached(s, err);
    if (st != STW_OK)
        return st;
    run_jobs(s);
    return put_images(s, err);
}

/* A remote image: REGISTRY/REPO:TAG or @sha256:..., over the registry's
 * HTTP API. Layers stored with our rules are not downloaded at all. */
static stw_status scan_registry(scan *s, stw_error *err)
{
    stw_registry_options ro = {0};
    if (s->opt) {
        ro.ca_cert = s->opt->ca_cert;
        ro.insecure = s->opt->insecure_registries;
        ro.n_insecure = s->opt->n_insecure_registries;
    }
    stw_status st = stw_registry_open(s->target, &ro, &s->reg, err);
    if (st != STW_OK)
        return st;
    s->has_index = true; /* the registry module serves an index.json */
    if ((st = build_images(s, err)) == STW_OK &&
        (st = plan_jobs(s, err)) == STW_OK)
        st = check_cached(s, err);
    if (st != STW_OK)
        return st;
    run_jobs(s);
    return put_images(s, err);
}

/* First pass over a plain tar file: member names and sizes, documents read,
 * layer data skipped by seeking. */
static stw_status index_archive(scan *s, stw_error *err)
{
    struct archive *a = archive_read_new();
    if (!a)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    archive_read_support_format_tar(a);
    stw_status st = STW_OK;
    if (archive_read_open_filename(a, s->target, READ_BUF) != ARCHIVE_OK) {
        st = outer_failure(a, s->target, err);
        goto out;
    }
    struct archive_entry *e;
    for (int64_t i = 0; st == STW_OK; i++) {
        int rc = archive_read_next_header(a, &e);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc < ARCHIVE_WARN) {
            st = outer_failure(a, s->target, err);
            break;
        }
        if (i >= STW_MAX_MEMBERS) {
            st = stw_fail(err, STW_ERR_LIMIT, "%s: more than %d members",
                          s->target, STW_MAX_MEMBERS);
            break;
        }
        char *name = member_path(archive_entry_pathname(e));
        if (!name) {
            st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
            break;
        }
        if (archive_marker_name(name))
            s->image_archive = true;
        s->has_manifest |= !strcmp(name, "manifest.json");
        s->has_index |= !strcmp(name, "index.json");
        int64_t size = archive_entry_size(e);
        if (archive_entry_filetype(e) == AE_IFLNK)
            st = link_add(s, name, archive_entry_symlink(e), err);
        if (archive_entry_filetype(e) == AE_IFREG && size > 0 &&
            (doc_name(name) || layer_name(name))) {
            const void *blk;
            size_t n = 0;
            la_int64_t off;
            rc = archive_read_data_block(a, &blk, &n, &off);
            if (rc < ARCHIVE_WARN)
                st = outer_failure(a, s->target, err);
            else if (rc != ARCHIVE_EOF && looks_json(blk, n) &&
                     size <= STW_MAX_JSON_BYTES)
                st = slurp_member(s, a, name, blk, n, err);
            else if (layer_name(name)) {
                layer_job *j = NULL;
                if ((st = job_add(s, name, &j, err)) == STW_OK) {
                    j->member = i;
                    j->size = size;
                }
            }
        }
        free(name);
    }
out:
    archive_read_free(a);
    return st;
}

/* After the documents are known: expected digests for the archive jobs
 * come from the images. */
static void bind_jobs_to_images(scan *s)
{
    for (size_t i = 0; i < s->images.n; i++) {
        stw_image_desc *d = &s->images.v[i];
        for (size_t k = 0; k < d->n_layers; k++) {
            layer_job *j = job_find(s, d->layers[k].name);
            if (!j || j->digest || j->diff_id)
                continue;
            j->digest = d->layers[k].digest;
            j->diff_id = d->layers[k].diff_id;
        }
    }
}

/* If a layer with this digest is stored, scanned with our rules, marks the
 * job (when given) as done from the store and sets *hit. */
static stw_status try_cache(scan *s, layer_job *j, const char *digest,
                            bool *hit, stw_error *err)
{
    *hit = false;
    stw_status st =
        stw_store_layer_cached(s->store, digest, s->cache_version, hit, err);
    if (st != STW_OK || !*hit)
        return st;
    if (j) {
        j->done = j->cached = true;
        snprintf(j->got_digest, sizeof(j->got_digest), "%s", digest);
    }
    if (s->opt && s->opt->on_layer_done)
        s->opt->on_layer_done(s->opt->progress_ctx, digest, 0, 1);
    return STW_OK;
}

/* --shard K/N: a layer whose blob digest belongs to another shard is left
 * to that shard's worker, marked done like a cached one; the store (in
 * shard mode) records the image for `db merge` to complete. */
static void shard_filter(scan *s)
{
    if (!s->opt || s->opt->shard_n <= 1)
        return;
    for (size_t i = 0; i < s->n_jobs; i++) {
        layer_job *j = &s->jobs[i];
        const char *key = cache_key(j);
        if (j->done || !key ||
            stw_shard_of(key, s->opt->shard_n) == s->opt->shard_k)
            continue;
        j->done = j->cached = true;
        snprintf(j->got_digest, sizeof(j->got_digest), "%s", key);
    }
}

/* Tells the progress display how many layers follow, then marks the ones
 * the store already has (jobs already done are not this target's). */
static stw_status check_cached(scan *s, stw_error *err)
{
    shard_filter(s);
    size_t todo = 0;
    for (size_t i = 0; i < s->n_jobs; i++)
        todo += !s->jobs[i].done;
    if (s->opt && s->opt->on_layers_planned)
        s->opt->on_layers_planned(s->opt->progress_ctx, todo);
    for (size_t i = 0; i < s->n_jobs; i++) {
        layer_job *j = &s->jobs[i];
        if (j->done)
            continue;
        bool hit;
        stw_status st =
            cache_key(j) ? try_cache(s, j, cache_key(j), &hit, err) : STW_OK;
        if (st != STW_OK)
            return st;
    }
    return STW_OK;
}

static stw_status scan_layer_file(scan *s, stw_error *err);

static stw_status scan_tar_file(scan *s, stw_error *err)
{
    stw_status st = index_archive(s, err);
    if (st != STW_OK)
        return st;
    if (!s->image_archive)
        return scan_layer_file(s, err);
    if (!s->has_manifest && !s->has_index)
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s: image archive without manifest.json or "
                        "index.json",
                        s->target);
    if ((st = build_images(s, err)) != STW_OK)
        return st;
    bind_jobs_to_images(s);
    /* Members that no image uses (other platforms) are not scanned. */
    bool *used = calloc(s->n_jobs + 1, sizeof(*used));
    if (!used)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < s->images.n; k++)
        for (size_t l = 0; l < s->images.v[k].n_layers; l++) {
            layer_job *j = job_find(s, s->images.v[k].layers[l].name);
            if (j)
                used[j - s->jobs] = true;
        }
    for (size_t i = 0; i < s->n_jobs; i++)
        if (!used[i])
            s->jobs[i].done = true;
    free(used);
    if ((st = check_cached(s, err)) != STW_OK)
        return st;
    run_jobs(s);
    return put_images(s, err);
}

/* ---- one forward pass (stdin, compressed files) ------------------------- */

static stw_status stream_layer_member(scan *s, stw_matcher *m,
                                      struct archive *a, const char *name,
                                      const void *first, size_t n,
                                      stw_error *err)
{
    layer_job *j = NULL;
    stw_status st = job_add(s, name, &j, err);
    if (st != STW_OK)
        return st;
    char dg[72];
    bool hit = false;
    if (stw_image_digest_from_name(name, dg) &&
        (st = try_cache(s, j, dg, &hit, err)) != STW_OK)
        return st;
    if (hit)
        return STW_OK; /* the next header skips the data */
    char label[STW_MAX_PATH + 600];
    snprintf(label, sizeof(label), "%s: layer %s", s->target, name);
    member_reader mr = {
        .a = a, .name = label, .pending = first, .pending_len = n};
    /* The digest in a blob's name is checked while it streams; diff_ids are
     * checked against the config once it has arrived. */
    char *expect = stw_image_digest_from_name(name, dg) ? dg : NULL;
    j->digest = NULL;
    stw_layer_result r;
    stw_blob_options bo = blob_opts(s, label, expect, NULL);
    stw_layer_options lo = layer_opts(s);
    st = stw_layer_scan(m, member_read, &mr, &bo, &lo, &r, err);
    if (st == STW_OK) {
        snprintf(j->got_digest, sizeof(j->got_digest), "%s", r.digest);
        snprintf(j->got_diff_id, sizeof(j->got_diff_id), "%s", r.diff_id);
        st = store_layer(s, &r, NULL, err);
    }
    stw_layer_result_clear(&r);
    j->done = true;
    j->st = st;
    if (st != STW_OK)
        j->err = *err;
    return st;
}

static stw_status stream_archive(scan *s, stw_matcher *m, stw_tar *t,
                                 struct archive_entry *e, stw_error *err)
{
    struct archive *a = stw_tar_archive(t);
    stw_status st = STW_OK;
    for (size_t i = 0; e && st == STW_OK; i++) {
        if (i >= STW_MAX_MEMBERS)
            return stw_fail(err, STW_ERR_LIMIT, "%s: more than %d members",
                            s->target, STW_MAX_MEMBERS);
        char *name = member_path(archive_entry_pathname(e));
        if (!name)
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        s->has_manifest |= !strcmp(name, "manifest.json");
        s->has_index |= !strcmp(name, "index.json");
        int64_t size = archive_entry_size(e);
        if (archive_entry_filetype(e) == AE_IFLNK)
            st = link_add(s, name, archive_entry_symlink(e), err);
        if (st == STW_OK && archive_entry_filetype(e) == AE_IFREG && size > 0 &&
            (doc_name(name) || layer_name(name))) {
            const void *blk;
            size_t n = 0;
            if ((st = stw_tar_data(t, &blk, &n, err)) != STW_OK) {
                free(name);
                return st;
            }
            if (looks_json(blk, n) && size <= STW_MAX_JSON_BYTES)
                st = slurp_member(s, a, name, blk, n, err);
            else if (layer_name(name))
                st = stream_layer_member(s, m, a, name, blk, n, err);
        }
        free(name);
        if (st == STW_OK)
            st = stw_tar_next(t, &e, err);
    }
    if (st != STW_OK)
        return st;
    if (!s->has_manifest && !s->has_index)
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s: image archive without manifest.json or "
                        "index.json",
                        s->target);
    if ((st = build_images(s, err)) != STW_OK)
        return st;
    return put_images(s, err);
}

/* A blob file named by its digest, as registries and OCI layouts store
 * them (".../sha256/<hex>" or ".../sha256/<hex>/data"), carries its
 * expected digest: it is verified while streaming and lets a stored layer be
 * reused without reading the file. */
static bool digest_from_path(const char *path, char out[72])
{
    size_t n = strlen(path);
    const char *end = path + n;
    if (n >= 5 && !strcmp(end - 5, "/data"))
        end -= 5;
    if (end - path < 64 || !stw_is_hex64(end - 64))
        return false;
    const char *hex = end - 64;
    if (hex > path && hex[-1] != '/')
        return false;
    snprintf(out, 72, "sha256:%.64s", hex);
    return true;
}

static const char *layer_media_type(stw_compression c)
{
    switch (c) {
    case STW_COMP_GZIP:
        return "application/vnd.oci.image.layer.v1.tar+gzip";
    case STW_COMP_ZSTD:
        return "application/vnd.oci.image.layer.v1.tar+zstd";
    case STW_COMP_NONE:
        break;
    }
    return "application/vnd.oci.image.layer.v1.tar";
}

/* The stream is a layer of its own: walk it (first entry already read, or
 * none for an empty layer) and store it as a one-layer image. */
static stw_status stream_single_layer(scan *s, stw_matcher *m, stw_tar *t,
                                      stw_blob *b, struct archive_entry *e,
                                      stw_error *err)
{
    stw_layer_result lr;
    stw_layer_options lo = layer_opts(s);
    stw_status st = stw_layer_walk(m, t, e, b, s->target, &lo, &lr, err);
    if (st == STW_OK)
        st = store_layer(s, &lr, layer_media_type(lr.compression), err);
    if (st == STW_OK)
        st = put_single_layer(s, lr.digest, false, err);
    stw_layer_result_clear(&lr);
    return st;
}

static stw_status scan_stream(scan *s, int fd, const char *expect,
                              stw_error *err)
{
    /* One pass, one layer at a time: every other core is spare. */
    s->spare_cores = default_jobs() > 1;
    fd_reader r = {.fd = fd, .name = s->target, .buf = malloc(READ_BUF)};
    if (!r.buf)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    stw_blob *b = NULL;
    stw_tar *t = NULL;
    stw_matcher *m = NULL;
    struct archive_entry *e = NULL;
    stw_blob_options bo = blob_opts(s, s->target, expect, NULL);
    stw_status st = stw_blob_create(fd_read, &r, &bo, &b, err);
    if (st == STW_OK)
        st = stw_tar_open(b, s->target, &t, err);
    if (st == STW_OK)
        st = stw_matcher_create(s->rules, &m, err);
    if (st == STW_OK)
        st = stw_tar_next(t, &e, err);
    if (st == STW_OK && !e && stw_blob_raw_bytes(b) == 0)
        st = stw_fail(err, STW_ERR_FORMAT, "%s: empty input", s->target);
    if (st != STW_OK)
        goto out;
    char *first = e ? member_path(archive_entry_pathname(e)) : NULL;
    /* In one pass only the first member can tell; an indexed tar was
     * already classified by all of its names. */
    bool archive = !s->known_layer && first && archive_member_name(first);
    free(first);
    if (archive)
        st = stream_archive(s, m, t, e, err);
    else
        st = stream_single_layer(s, m, t, b, e, err);
out:
    stw_matcher_destroy(m);
    stw_tar_close(t);
    stw_blob_destroy(b);
    free(r.buf);
    return st;
}

/* A layer blob file: reused from the store when its name gives a digest
 * that is stored, else streamed (and verified against that digest). */
static stw_status scan_blob_file(scan *s, int fd, stw_error *err)
{
    char dg[72];
    bool named = digest_from_path(s->target, dg);
    bool hit = false;
    stw_status st = named ? try_cache(s, NULL, dg, &hit, err) : STW_OK;
    if (st != STW_OK)
        return st;
    if (hit)
        return put_single_layer(s, dg, true, err);
    return scan_stream(s, fd, named ? dg : NULL, err);
}

/* A plain tar that is not an image archive: it is a layer. */
static stw_status scan_layer_file(scan *s, stw_error *err)
{
    s->known_layer = true;
    int fd = open(s->target, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        char eb[128];
        return stw_fail(err, STW_ERR_IO, "%s: %s", s->target,
                        stw_strerror(errno, eb, sizeof(eb)));
    }
    stw_status st = scan_blob_file(s, fd, err);
    close(fd);
    return st;
}

static bool is_tar_header(const unsigned char *h, size_t n)
{
    if (n < 512)
        return false;
    if (!memcmp(h + 257, "ustar", 5))
        return true;
    /* v7 tar: no magic, but the header checksum must add up. */
    unsigned sum = 0, stored = 0;
    for (int i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    for (int i = 148; i < 156 && h[i]; i++) {
        if (h[i] == ' ')
            continue;
        if (h[i] < '0' || h[i] > '7')
            return false;
        stored = stored * 8 + (unsigned)(h[i] - '0');
    }
    return h[0] && sum == stored;
}

static stw_status scan_file(scan *s, stw_error *err)
{
    char eb[128];
    int fd = open(s->target, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return stw_fail(err, errno == ENOENT ? STW_ERR_NOT_FOUND : STW_ERR_IO,
                        "%s: %s", s->target,
                        stw_strerror(errno, eb, sizeof(eb)));
    unsigned char head[512];
    ssize_t n = pread(fd, head, sizeof(head), 0);
    stw_status st;
    if (n < 0)
        st = stw_fail(err, STW_ERR_IO, "%s: read: %s", s->target,
                      stw_strerror(errno, eb, sizeof(eb)));
    else if (n == 0)
        st = stw_fail(err, STW_ERR_FORMAT, "%s: empty file", s->target);
    else if (stw_compression_sniff(head, (size_t)n) != STW_COMP_NONE)
        st = scan_blob_file(s, fd, err);
    else if (is_tar_header(head, (size_t)n))
        st = scan_tar_file(s, err);
    else
        st = stw_fail(err, STW_ERR_FORMAT,
                      "%s: not a container image or layer (neither tar, "
                      "gzip, zstd nor an OCI layout)",
                      s->target);
    close(fd);
    return st;
}

/* A target that is no path but names a registry: "docker://…", or a first
 * component that is a host ("localhost:5000/app:1", "ghcr.io/a/b"). */
static bool is_registry_ref(const char *target)
{
    stw_registry_ref ref;
    stw_error ignored;
    return errno == ENOENT &&
           stw_registry_parse_ref(target, &ref, &ignored) == STW_OK &&
           ref.explicit_registry;
}

static void scan_free(scan *s)
{
    for (size_t i = 0; i < s->n_docs; i++) {
        free(s->docs[i].name);
        free(s->docs[i].data);
    }
    free(s->docs);
    for (size_t i = 0; i < s->n_links; i++) {
        free(s->links[i].name);
        free(s->links[i].data);
    }
    free(s->links);
    for (size_t i = 0; i < s->n_jobs; i++)
        free(s->jobs[i].name);
    free(s->jobs);
    stw_image_list_clear(&s->images);
    free(s->dir);
    stw_registry_close(s->reg);
    pthread_mutex_destroy(&s->lock);
}

stw_status stw_scan_target(const stw_rules *rules, stw_store *store,
                           int64_t scan_id, const char *target,
                           const stw_scan_options *opt, stw_error *err)
{
    stw_error local = {0};
    if (!err)
        err = &local;
    if (!rules || !store || !target)
        return stw_fail(err, STW_ERR_USAGE, "stw_scan_target: NULL argument");
    scan s = {
        .rules = rules,
        .store = store,
        .scan_id = scan_id,
        .target = target,
        .opt = opt,
    };
    pthread_mutex_init(&s.lock, NULL);
    snprintf(s.cache_version, sizeof(s.cache_version), "%s+d%s",
             stw_rules_version(rules), STW_DETECTORS_VERSION);
    stw_status st;
    struct stat sb;
    if (!strcmp(target, "-")) {
        st = scan_stream(&s, STDIN_FILENO, NULL, err);
    } else if (stat(target, &sb) != 0 && is_registry_ref(target)) {
        st = scan_registry(&s, err);
    } else if (stat(target, &sb) != 0) {
        char eb[128];
        st = stw_fail(err, errno == ENOENT ? STW_ERR_NOT_FOUND : STW_ERR_IO,
                      "%s: %s", target, stw_strerror(errno, eb, sizeof(eb)));
    } else if (S_ISDIR(sb.st_mode)) {
        st = scan_dir(&s, err);
    } else {
        st = scan_file(&s, err);
    }
    if (st != STW_OK) {
        stw_error_prefix(err, target);
        /* put_images records its own per-image errors. */
        if (!s.images.n || st == STW_ERR_NOMEM)
            record_error(&s, err);
    }
    scan_free(&s);
    return st;
}
