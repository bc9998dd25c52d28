/* modes.c - the inputs whose documents can be read before any layer: an OCI
 * image layout, a registry's storage directory, a live registry; and a
 * single layer blob file, which needs no documents at all. */
#include "scan_internal.h"

#include "bytesrc.h"
#include "common.h"
#include "members.h"
#include "storage.h"

#include <stdio.h>
#include <unistd.h>

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
    return st == STW_OK ? stw_scan_add_doc(s, "index.json", json, len, err)
                        : st;
}

static stw_status open_layout(scan *s, stw_error *err)
{
    char path[STW_MAX_PATH + 32];
    snprintf(path, sizeof(path), "%s/index.json", s->target);
    if (access(path, F_OK) != 0)
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s: directory without index.json (neither an "
                        "OCI image layout nor registry storage)",
                        s->target);
    if (!(s->dir = stw_strdup(s->target)))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    return STW_OK;
}

/* Images first, then one job per distinct layer of them. */
static stw_status scan_images(scan *s, stw_error *err)
{
    stw_status st = stw_images_build(s, err);
    if (st == STW_OK)
        st = stw_jobs_plan(s, err);
    return st == STW_OK ? stw_scan_planned(s, err) : st;
}

stw_status stw_scan_dir(scan *s, stw_error *err)
{
    char root[STW_MAX_PATH + 32];
    stw_status st = stw_storage_detect(s->target, root, sizeof(root))
                        ? open_storage(s, root, err)
                        : open_layout(s, err);
    if (st != STW_OK)
        return st;
    s->has_index = true;
    return scan_images(s, err);
}

/* REGISTRY/REPO:TAG or @sha256:..., over the registry's HTTP API. Layers
 * stored with our rules are not downloaded at all. */
stw_status stw_scan_registry(scan *s, stw_error *err)
{
    stw_registry_options ro = {0};
    if (s->opt) {
        ro.ca_cert = s->opt->ca_cert;
        ro.insecure = s->opt->insecure_registries;
        ro.n_insecure = s->opt->n_insecure_registries;
        ro.timeout_s = s->opt->registry_timeout_s;
    }
    stw_status st = stw_registry_open(s->target, &ro, &s->reg, err);
    if (st != STW_OK)
        return st;
    s->has_index = true; /* the registry module serves an index.json */
    return scan_images(s, err);
}

/* Whether the file on fd (read from its start, left at its start) hashes
 * to digest. */
static bool blob_file_matches(scan *s, int fd, const char *digest)
{
    stw_fd_reader r;
    stw_error ignored;
    stw_blob_options bo = {.name = s->target, .digest = digest};
    bool ok = stw_fd_reader_init(&r, fd, s->target, &ignored) == STW_OK &&
              stw_blob_check_digest(stw_fd_read, &r, &bo, &ignored) == STW_OK;
    stw_fd_reader_clear(&r);
    return lseek(fd, 0, SEEK_SET) == 0 && ok;
}

/* Reused from the store when the path gives a digest that is stored (and
 * the bytes still hash to it), else streamed and verified against that
 * digest - which fails a changed file as it would without a store. */
stw_status stw_scan_blob_file(scan *s, int fd, stw_error *err)
{
    char dg[72];
    bool named = stw_member_digest_from_path(s->target, dg);
    bool hit = false;
    stw_status st = named ? stw_jobs_lookup(s, NULL, dg, &hit, err) : STW_OK;
    if (st != STW_OK)
        return st;
    if (hit && stw_jobs_hit_needs_check(s, false))
        hit = blob_file_matches(s, fd, dg);
    if (hit && (st = stw_jobs_settle_cached(s, NULL, dg, false, err)) == STW_OK)
        st = stw_images_put_single_layer(s, dg, true, err);
    if (hit)
        return st;
    return stw_scan_stream(s, fd, named ? dg : NULL, err);
}
