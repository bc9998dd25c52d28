/* docs.c - the documents an image is built from (manifests, indexes,
 * configs), collected from archive members or read from a directory on
 * demand, and the symlink members that lead to legacy layers. */
#include "scan_internal.h"

#include "bytesrc.h"
#include "common.h"
#include "members.h"

#include <archive_entry.h>
#include <stdio.h>
#include <string.h>

/* An OCI layout keeps "blobs/sha256/<hex>" as is; registry storage shards
 * it as "blobs/sha256/<2 hex>/<hex>/data". */
void stw_scan_dir_path(const scan *s, const char *name, char *out, size_t n)
{
    if (s->storage && stw_member_is_blob(name))
        snprintf(out, n, "%s/blobs/sha256/%.2s/%s/data", s->dir, name + 13,
                 name + 13);
    else
        snprintf(out, n, "%s/%s", s->dir, name);
}

stw_status stw_scan_add_doc(scan *s, const char *name, char *data, size_t len,
                            stw_error *err)
{
    return stw_docset_add(s->docs, name, data, len, err);
}

stw_status stw_scan_fetch_doc(void *ctx, const char *name, const char **data,
                              size_t *len, stw_error *err)
{
    scan *s = ctx;
    if (stw_docset_find(s->docs, name, data, len))
        return STW_OK;
    if (!s->dir)
        return stw_fail(err, STW_ERR_NOT_FOUND, "%s: missing %s", s->target,
                        name);
    char path[STW_MAX_PATH + 64], what[STW_MAX_PATH + 64];
    stw_scan_dir_path(s, name, path, sizeof(path));
    snprintf(what, sizeof(what), "%s: %s", s->target, name);
    char *buf = NULL;
    size_t n = 0;
    stw_status st =
        stw_read_small_file(path, what, STW_MAX_JSON_BYTES, &buf, &n, err);
    if (st == STW_OK)
        st = stw_scan_add_doc(s, name, buf, n, err);
    if (st != STW_OK)
        return st;
    *data = buf; /* owned by the set now, valid as long as it is */
    *len = n;
    return STW_OK;
}

stw_status stw_scan_keep_member(scan *s, struct archive *a, const char *name,
                                const void *first, size_t n, stw_error *err)
{
    char *buf;
    size_t len;
    stw_status st =
        stw_outer_slurp(a, s->target, name, first, n, &buf, &len, err);
    return st == STW_OK ? stw_scan_add_doc(s, name, buf, len, err) : st;
}

/* Records a symlink member, its target resolved against its directory.
 * Targets leaving the archive root are ignored. */
static stw_status add_link(scan *s, const char *name, const char *target,
                           stw_error *err)
{
    if (!target || stw_docset_count(s->links) >= STW_MAX_MEMBERS)
        return STW_OK;
    char *res;
    stw_status st = stw_member_resolve_link(name, target, &res, err);
    if (st != STW_OK || !res)
        return st;
    return stw_docset_add(s->links, name, res, strlen(res), err);
}

stw_status stw_scan_note_member(scan *s, const char *name,
                                struct archive_entry *e, stw_error *err)
{
    s->has_manifest |= !strcmp(name, "manifest.json");
    s->has_index |= !strcmp(name, "index.json");
    if (archive_entry_filetype(e) == AE_IFLNK)
        return add_link(s, name, archive_entry_symlink(e), err);
    return STW_OK;
}
