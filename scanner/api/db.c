/* db.c - the public API of stowaway/db.h over the store's admin functions:
 * the size-first records copied out of the store's own, and read-only
 * views of the by-layer leak report. */
#include "common.h"
#include "store.h"

#include <stddef.h>
#include <string.h>

/* A record the caller passed (NULL: none wanted) has its size set, at
 * least to hold its first count. Checked before any work, so that a call
 * refused for it has changed nothing. */
static bool record_size_ok(const void *out)
{
    size_t size = 0;
    if (out)
        memcpy(&size, out, sizeof size);
    return !out || size >= sizeof(size_t) + sizeof(int64_t);
}

/* Copies full (full_size bytes, a public record whose first member is its
 * size) into out (checked by record_size_ok) as far as the caller's
 * out->size reaches, keeping that size: a program built against a shorter
 * record gets what it knows. */
static void copy_record(void *out, const void *full, size_t full_size)
{
    size_t size;
    memcpy(&size, out, sizeof size);
    size_t n = size < full_size ? size : full_size;
    memcpy((char *)out + sizeof(size_t), (const char *)full + sizeof(size_t),
           n - sizeof(size_t));
}

stw_status stw_store_read_stats(stw_store *s, stw_db_stats *out, stw_error *err)
{
    stw_store_stats st;
    stw_db_stats full = {.size = sizeof full};
    if (!s || !out)
        return stw_fail(err, STW_ERR_USAGE, "stw_store_read_stats: NULL");
    if (!record_size_ok(out))
        return stw_fail(err, STW_ERR_USAGE,
                        "stw_store_read_stats: size not set");
    stw_status rc = stw_store_stats_get(s, &st, err);
    if (rc != STW_OK)
        return rc;
    full.scans = st.scans;
    full.images = st.images;
    full.image_refs = st.image_refs;
    full.layers = st.layers;
    full.findings = st.findings;
    memcpy(full.by_severity, st.by_severity, sizeof full.by_severity);
    full.bytes = st.bytes;
    snprintf(full.first_scan, sizeof full.first_scan, "%s", st.first_scan);
    snprintf(full.last_scan, sizeof full.last_scan, "%s", st.last_scan);
    copy_record(out, &full, sizeof full);
    return STW_OK;
}

stw_status stw_store_prune_older(stw_store *s, int64_t older_than_s,
                                 bool vacuum, stw_db_pruned *out,
                                 stw_error *err)
{
    stw_prune_counts c = {0};
    if (!s || older_than_s < 0)
        return stw_fail(err, STW_ERR_USAGE, "stw_store_prune_older: %s",
                        s ? "negative age" : "NULL store");
    if (!record_size_ok(out))
        return stw_fail(err, STW_ERR_USAGE,
                        "stw_store_prune_older: size not set");
    stw_status rc = stw_store_prune(s, older_than_s, vacuum, &c, err);
    if (rc != STW_OK || !out)
        return rc;
    stw_db_pruned full = {.size = sizeof full,
                          .scans = c.scans,
                          .images = c.images,
                          .layers = c.layers,
                          .findings = c.findings};
    copy_record(out, &full, sizeof full);
    return STW_OK;
}

stw_status stw_store_merge_file(stw_store *s, const char *in_path,
                                stw_db_merged *out, stw_error *err)
{
    stw_merge_counts c = {0};
    if (!s || !in_path)
        return stw_fail(err, STW_ERR_USAGE, "stw_store_merge_file: NULL");
    if (!record_size_ok(out))
        return stw_fail(err, STW_ERR_USAGE,
                        "stw_store_merge_file: size not set");
    stw_status rc = stw_store_merge(s, in_path, &c, err);
    if (rc != STW_OK || !out)
        return rc;
    stw_db_merged full = {.size = sizeof full,
                          .scans = c.scans,
                          .layers = c.layers,
                          .findings = c.findings,
                          .images = c.images,
                          .waiting = c.deferred};
    copy_record(out, &full, sizeof full);
    return STW_OK;
}

/* ---- leaking layers ----------------------------------------------------- */

/* The stored strings may be NULL; the API promises "". */
static const char *str(const char *s)
{
    return s ? s : "";
}

size_t stw_leak_report_layer_count(const stw_leak_report *r)
{
    return r ? r->n_layers : 0;
}

const stw_leak_layer *stw_leak_report_layer(const stw_leak_report *r, size_t i)
{
    return r && i < r->n_layers ? &r->layers[i] : NULL;
}

const char *stw_leak_layer_digest(const stw_leak_layer *l)
{
    return str(l->digest);
}

const char *stw_leak_layer_created_by(const stw_leak_layer *l)
{
    return str(l->created_by);
}

int64_t stw_leak_layer_findings(const stw_leak_layer *l)
{
    return l->findings;
}

int64_t stw_leak_layer_findings_at(const stw_leak_layer *l, stw_severity s)
{
    return (unsigned)s < STW_SEV_COUNT_ ? l->by_severity[s] : 0;
}

stw_severity stw_leak_layer_max_severity(const stw_leak_layer *l)
{
    return l->max_severity;
}

int64_t stw_leak_layer_visible(const stw_leak_layer *l)
{
    return l->visible;
}

int64_t stw_leak_layer_hidden(const stw_leak_layer *l)
{
    return l->hidden;
}

size_t stw_leak_layer_image_count(const stw_leak_layer *l)
{
    return l->n_images;
}

const stw_leak_image *stw_leak_layer_image(const stw_leak_layer *l, size_t i)
{
    return i < l->n_images ? &l->images[i] : NULL;
}

const char *stw_leak_image_ref(const stw_leak_image *im)
{
    return str(im->ref);
}

const char *stw_leak_image_platform(const stw_leak_image *im)
{
    return str(im->platform);
}

const char *stw_leak_image_scanned_at(const stw_leak_image *im)
{
    return str(im->scanned_at);
}

int stw_leak_image_layer(const stw_leak_image *im)
{
    return im->layer_idx;
}

int64_t stw_leak_image_visible(const stw_leak_image *im)
{
    return im->visible;
}

int64_t stw_leak_image_hidden(const stw_leak_image *im)
{
    return im->hidden;
}
