/* archives.c - files inside files in the store: findings of an archive kept
 * under the sha256 of its bytes, so that a jar met again in another layer
 * or image is not inflated again, and the notes of a layer (what its scan
 * skipped), replayed whenever the layer is reused. */
#include "store_internal.h"

#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static stw_status put_notes(stw_store *s, const stw_layer_record *layer,
                            stw_error *err)
{
    sqlite3_stmt *q = NULL;
    stw_status st =
        stw_sql_prepare(s, "DELETE FROM layer_notes WHERE layer_digest = ?1",
                        &q, err, "clear notes of %.100s", layer->digest);
    if (st)
        return st;
    stw_sql_bind_text(q, 1, layer->digest);
    if ((st = stw_sql_finish(s, q, err, "clear notes")) != STW_OK ||
        !layer->n_notes)
        return st;
    st = stw_sql_prepare(s,
                         "INSERT INTO layer_notes (layer_digest, message) "
                         "VALUES (?1, ?2)",
                         &q, err, "store notes of %.100s", layer->digest);
    for (size_t i = 0; !st && i < layer->n_notes; i++) {
        stw_sql_bind_text(q, 1, layer->digest);
        stw_sql_bind_text(q, 2, layer->notes[i]);
        st = stw_sql_run(s, q, err, "store note");
    }
    sqlite3_finalize(q);
    return st;
}

/* The findings of one archive: those of the layer under path + "!/",
 * stored with the prefix cut off. An archive already known for these
 * rules is left as it is (same bytes, same rules: same findings). */
static stw_status put_archive(stw_store *s, const char *rules_version,
                              const stw_archive_record *a,
                              const stw_finding_list *findings, stw_error *err)
{
    sqlite3_stmt *q = NULL;
    stw_status st = stw_sql_prepare(
        s,
        "INSERT OR IGNORE INTO archives (sha256, rules_version, size, "
        "scanned_at, bytes, inflated, members, levels) VALUES (?1, ?2, ?3, "
        "strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?4, ?5, ?6, ?7)",
        &q, err, "store archive %.64s", a->sha256);
    if (st)
        return st;
    stw_sql_bind_text(q, 1, a->sha256);
    stw_sql_bind_text(q, 2, rules_version);
    stw_sql_bind_int64(q, 3, a->size);
    stw_sql_bind_int64(q, 4, (int64_t)a->cost.bytes);
    stw_sql_bind_int64(q, 5, (int64_t)a->cost.inflated);
    stw_sql_bind_int64(q, 6, (int64_t)a->cost.members);
    stw_sql_bind_int64(q, 7, (int64_t)a->cost.levels);
    if ((st = stw_sql_finish(s, q, err, "store archive")) != STW_OK ||
        sqlite3_changes(s->db) == 0)
        return st;
    st = stw_sql_prepare(
        s,
        "INSERT INTO archive_findings (sha256, rules_version, path, is_dir, "
        "kind, rule, severity, line, \"offset\", validated, generic, "
        "secret_sha256, excerpt, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
        "?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        &q, err, "store archive findings");
    size_t plen = strlen(a->path);
    size_t n = stw_finding_list_count(findings);
    for (size_t i = 0; !st && i < n; i++) {
        const stw_finding *f = stw_finding_list_get(findings, i);
        if (strncmp(f->path, a->path, plen) || strncmp(f->path + plen, "!/", 2))
            continue;
        stw_sql_bind_text(q, 1, a->sha256);
        stw_sql_bind_text(q, 2, rules_version);
        stw_sql_bind_text(q, 3, f->path + plen + 2);
        stw_sql_bind_int64(q, 4, f->is_dir);
        stw_sql_bind_text(q, 5, stw_kind_str(f->kind));
        stw_sql_bind_text(q, 6, f->rule);
        stw_sql_bind_text(q, 7, stw_severity_str(f->severity));
        stw_sql_bind_int64_or_null(q, 8, f->line > 0, f->line);
        stw_sql_bind_int64_or_null(q, 9, f->offset >= 0, f->offset);
        stw_sql_bind_int64(q, 10, f->validated);
        stw_sql_bind_int64(q, 11, f->generic);
        stw_sql_bind_text(q, 12, f->secret_sha256);
        stw_sql_bind_text(q, 13, f->excerpt);
        stw_sql_bind_text(q, 14, stw_sql_or_empty(f->detail));
        st = stw_sql_run(s, q, err, "store archive finding");
    }
    sqlite3_finalize(q);
    return st;
}

static int by_path(const void *a, const void *b)
{
    const stw_archive_record *x = *(const stw_archive_record *const *)a;
    const stw_archive_record *y = *(const stw_archive_record *const *)b;
    return strcmp(x->path, y->path);
}

/* An archive's findings are told apart from the rest of the layer's by
 * path alone, so a path the layer holds twice (a tar may: the later entry
 * wins on extraction, the earlier still ships) would give each copy the
 * findings of both, and a later image holding one copy would be told of
 * secrets it does not have. Such archives are not kept; they are walked
 * again when met. The other holder need not be kept itself: a copy too
 * small to cache or cut short, one replayed from a cache, or an entry
 * named "app.jar!/x" (not_kept records). */
static stw_status put_archives(stw_store *s, const stw_layer_record *layer,
                               const stw_finding_list *findings, stw_error *err)
{
    size_t n = layer->n_archives;
    if (!n)
        return STW_OK;
    const stw_archive_record **v = stw_calloc(n, sizeof(*v));
    if (!v)
        return stw_store_nomem(s, err);
    for (size_t i = 0; i < n; i++)
        v[i] = &layer->archives[i];
    qsort(v, n, sizeof(*v), by_path);
    stw_status st = STW_OK;
    for (size_t i = 0; !st && i < n; i++) {
        bool twice = (i > 0 && !strcmp(v[i]->path, v[i - 1]->path)) ||
                     (i + 1 < n && !strcmp(v[i]->path, v[i + 1]->path));
        if (!twice && !v[i]->not_kept)
            st = put_archive(s, layer->rules_version, v[i], findings, err);
    }
    free(v);
    return st;
}

stw_status stw_store_put_layer_extras_tx(stw_store *s,
                                         const stw_layer_record *layer,
                                         const stw_finding_list *findings,
                                         stw_error *err)
{
    stw_status st = put_notes(s, layer, err);
    return st ? st : put_archives(s, layer, findings, err);
}

/* One row of archive_findings into out, its path under prefix. */
static stw_status add_row(stw_store *s, sqlite3_stmt *q, const char *prefix,
                          stw_finding_list *out, stw_error *err)
{
    const char *rel = (const char *)sqlite3_column_text(q, 0);
    const char *kind = (const char *)sqlite3_column_text(q, 2);
    const char *sev = (const char *)sqlite3_column_text(q, 4);
    stw_finding f = {.is_dir = sqlite3_column_int(q, 1) != 0,
                     .rule = (const char *)sqlite3_column_text(q, 3),
                     .line = sqlite3_column_int64(q, 5),
                     .offset = sqlite3_column_type(q, 6) == SQLITE_NULL
                                   ? -1
                                   : sqlite3_column_int64(q, 6),
                     .validated = sqlite3_column_int(q, 7) != 0,
                     .generic = sqlite3_column_int(q, 8) != 0,
                     .detail = (const char *)sqlite3_column_text(q, 11),
                     .secret_offset = -1};
    if (!rel || !kind || !sev || !f.rule ||
        stw_kind_parse(kind, &f.kind) != STW_OK ||
        stw_severity_parse(sev, &f.severity) != STW_OK)
        return stw_fail(err, STW_ERR_DB, "%s: damaged archive finding row",
                        s->name);
    if (f.detail && !*f.detail)
        f.detail = NULL;
    snprintf(f.secret_sha256, sizeof(f.secret_sha256), "%s",
             (const char *)sqlite3_column_text(q, 9));
    snprintf(f.excerpt, sizeof(f.excerpt), "%s",
             (const char *)sqlite3_column_text(q, 10));
    size_t n = strlen(prefix) + 2 + strlen(rel) + 1;
    char *path = stw_malloc(n);
    if (!path)
        return stw_store_nomem(s, err);
    snprintf(path, n, "%s!/%s", prefix, rel);
    f.path = path;
    stw_status st = stw_finding_list_add(out, &f);
    free(path);
    return st == STW_OK ? STW_OK : stw_store_nomem(s, err);
}

stw_status stw_store_archive_findings(
    stw_store *s, const char *sha256, const char *rules_version,
    const char *prefix, const stw_archive_cost *room, stw_archive_cost *charge,
    stw_finding_list *out, bool *hit, stw_error *err)
{
    *hit = false;
    sqlite3_stmt *q = NULL;
    stw_status st = stw_sql_prepare(
        s,
        "SELECT bytes, inflated, members, levels FROM archives WHERE "
        "sha256 = ?1 AND rules_version = ?2",
        &q, err, "look up archive");
    if (st)
        return st;
    stw_sql_bind_text(q, 1, sha256);
    stw_sql_bind_text(q, 2, rules_version);
    bool row = false;
    st = stw_sql_step(s, q, &row, err, "look up archive %.64s", sha256);
    stw_archive_cost c = {0};
    if (!st && row) {
        c.bytes = (uint64_t)sqlite3_column_int64(q, 0);
        c.inflated = (uint64_t)sqlite3_column_int64(q, 1);
        c.members = (uint64_t)sqlite3_column_int64(q, 2);
        c.levels = (uint64_t)sqlite3_column_int64(q, 3);
    }
    sqlite3_finalize(q);
    if (st || !row)
        return st;
    /* Replayed only where its walk would have reached no bound and no
     * --max-depth cut, as the scan's memo does: else it is walked. */
    if (c.bytes > room->bytes || c.inflated > room->inflated ||
        c.members > room->members || c.levels > room->levels)
        return STW_OK;
    *charge = c;
    st = stw_sql_prepare(
        s,
        "SELECT path, is_dir, kind, rule, severity, line, \"offset\", "
        "validated, generic, secret_sha256, excerpt, detail FROM "
        "archive_findings WHERE sha256 = ?1 AND rules_version = ?2 ORDER BY "
        "rowid",
        &q, err, "read archive findings");
    if (st)
        return st;
    stw_sql_bind_text(q, 1, sha256);
    stw_sql_bind_text(q, 2, rules_version);
    for (;;) {
        if ((st = stw_sql_step(s, q, &row, err, "read archive findings")) ||
            !row)
            break;
        if ((st = add_row(s, q, prefix, out, err)) != STW_OK)
            break;
    }
    sqlite3_finalize(q);
    if (!st)
        *hit = true;
    return st;
}

stw_status stw_store_put_layer_notes(stw_store *s, int64_t scan_id,
                                     const char *target, const char *digest,
                                     stw_error *err)
{
    sqlite3_stmt *q = NULL;
    stw_status st = stw_sql_prepare(
        s,
        "INSERT INTO errors (scan_id, target, message) SELECT ?1, ?2, "
        "'layer ' || substr(?3, 1, 19) || ': ' || message FROM layer_notes "
        "WHERE layer_digest = ?3 ORDER BY rowid",
        &q, err, "replay notes of %.100s", digest);
    if (st)
        return st;
    stw_sql_bind_int64(q, 1, scan_id);
    stw_sql_bind_text(q, 2, stw_sql_or_empty(target));
    stw_sql_bind_text(q, 3, digest);
    return stw_sql_finish(s, q, err, "replay notes");
}
