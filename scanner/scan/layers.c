/* layers.c - one layer: walked through whatever reader brings its bytes,
 * stored as soon as it is done (so a later failure keeps it), its secrets
 * handed to --show-secrets. */
#include "scan_internal.h"

#include "common.h"

#include <stdio.h>
#include <stdlib.h>

void stw_scan_pass_secrets(scan *s, const stw_finding_list *l,
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

stw_status stw_scan_store_layer(scan *s, const stw_layer_result *r,
                                const char *media_type, stw_error *err)
{
    const void *ps;
    size_t pslen;
    stw_pathset_finish(r->pathset, &ps, &pslen);
    stw_archive_record *ar = NULL;
    const stw_layer_archives *la = &r->archives;
    if (la->n && !(ar = stw_calloc(la->n, sizeof(*ar))))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < la->n; i++)
        ar[i] = (stw_archive_record){
            .sha256 = la->v[i].sha256,
            .path = la->v[i].path,
            .size = (int64_t)la->v[i].size,
            .cost = {la->v[i].cost.bytes, la->v[i].cost.inflated,
                     la->v[i].cost.members, la->v[i].cost.levels},
            .not_kept = la->v[i].not_kept};
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
        .notes = (const char *const *)r->notes,
        .n_notes = r->n_notes,
        .archives = ar,
        .n_archives = la->n,
    };
    pthread_mutex_lock(&s->lock);
    stw_status st = stw_store_put_layer(s->store, &rec, r->findings, err);
    if (st == STW_OK && r->n_notes)
        st = stw_store_put_layer_notes(s->store, s->scan_id, s->target,
                                       r->digest, err);
    if (st == STW_OK)
        stw_scan_pass_secrets(s, r->findings, r->digest);
    if (st == STW_OK && s->opt && s->opt->on_layer_done)
        s->opt->on_layer_done(s->opt->progress_ctx, r->digest, r->tar_bytes, 0);
    pthread_mutex_unlock(&s->lock);
    free(ar);
    return st;
}

stw_blob_options stw_scan_blob_opts(const scan *s, const char *name,
                                    const char *digest, const char *diff_id)
{
    stw_blob_options bo = {
        .name = name,
        .digest = digest,
        .diff_id = diff_id,
        .max_out = s->opt ? s->opt->max_layer_bytes : 0,
        .max_ratio = s->opt ? s->opt->max_ratio : 0,
        .hash_output = s->opt && s->opt->verify_diff_ids,
        .inflate_thread = s->spare_cores && !s->caller_reader,
    };
    return bo;
}

/* The archive cache, asked from a layer's walking thread: the store is
 * shared by the workers, so under the scan's lock. */
static stw_status archive_lookup(void *ctx, const char *sha256,
                                 const char *path, const stw_nested_cost *room,
                                 stw_nested_cost *charge, stw_finding_list *out,
                                 bool *hit, stw_error *err)
{
    scan *s = ctx;
    stw_archive_cost r = {room->bytes, room->inflated, room->members,
                          room->levels},
                     c = {0};
    pthread_mutex_lock(&s->lock);
    stw_status st = stw_store_archive_findings(
        s->store, sha256, s->cache_version, path, &r, &c, out, hit, err);
    pthread_mutex_unlock(&s->lock);
    if (st == STW_OK && *hit)
        *charge = (stw_nested_cost){c.bytes, c.inflated, c.members, c.levels};
    return st;
}

/* Archive files of a layer are walked on one thread per core (at most
 * STW_NESTED_WORKERS_MAX): like the layers' own pipelines, threads beyond
 * the cores only take turns while their queues are full, and a layer of
 * jars left alone at the end has every core it can use. */
unsigned stw_scan_nested_workers(void)
{
    unsigned n = (unsigned)stw_jobs_cores();
    return n < STW_NESTED_WORKERS_MAX ? n : STW_NESTED_WORKERS_MAX;
}

/* With a second core every layer is a pipeline: inflate and hashing on
 * one thread (blob.c), the tar walk on the worker, content matching on a
 * third (feeder.c). */
stw_layer_options stw_scan_layer_opts(scan *s)
{
    const stw_scan_options *o = s->opt;
    stw_layer_options lo = {
        .max_entries = o ? o->max_entries : 0,
        .content_thread = s->spare_cores,
        .keep_secrets = o && o->on_secret,
        .nested_off = o && o->no_nested,
        .nested = {.max_depth = o ? o->max_depth : 0,
                   .max_bytes = o ? o->max_nested_bytes : 0,
                   .max_members = o ? o->max_nested_members : 0},
        .git_off = o && o->no_git_history,
        .max_git_bytes = o ? o->max_git_bytes : 0,
        .archive_lookup = archive_lookup,
        .archive_ctx = s,
        .archive_memo = s->memo,
        .nested_workers = s->spare_cores ? stw_scan_nested_workers() : 0,
        .rules = s->rules,
    };
    return lo;
}

stw_status stw_scan_layer(scan *s, stw_matcher *m, layer_job *j, stw_read_fn fn,
                          void *ctx, const stw_blob_options *bo,
                          const char *media_type, stw_error *err)
{
    stw_layer_result r;
    stw_layer_options lo = stw_scan_layer_opts(s);
    if (stw_scan_cancelled(s, err))
        return STW_ERR_CANCELLED;
    stw_cancel_reader cr = {.s = s, .fn = fn, .ctx = ctx};
    stw_status st = stw_layer_scan(m, stw_cancel_read, &cr, bo, &lo, &r, err);
    if (st == STW_OK) {
        snprintf(j->got_digest, sizeof(j->got_digest), "%s", r.digest);
        snprintf(j->got_diff_id, sizeof(j->got_diff_id), "%s", r.diff_id);
        st = stw_scan_store_layer(s, &r, media_type, err);
    }
    stw_layer_result_clear(&r);
    return st;
}
