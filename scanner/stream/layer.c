/* layer.c - one layer's tar stream, entry by entry, into the detectors. */
#include "layer.h"
#include "artifact.h"
#include "feeder.h"
#include "common.h"
#include "gitcollect.h"
#include "limits.h"
#include "meta.h"
#include "nestpool.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

char *stw_layer_normalize_path(char *buf)
{
    char *p = buf;
    for (;;) {
        if (p[0] == '/')
            p++;
        else if (p[0] == '.' && p[1] == '/')
            p += 2;
        else if (p[0] == '.' && p[1] == 0)
            p++;
        else
            break;
    }
    /* Collapse "//" and drop a trailing "/" in place. */
    char *w = p;
    for (char *q = p; *q; q++) {
        if (*q == '/' && (q[1] == '/' || q[1] == 0))
            continue;
        *w++ = *q;
    }
    *w = 0;
    return p;
}

typedef struct strv_late {
    char **v;
    size_t n;
} strv_late;

typedef struct walk {
    stw_matcher *m;
    stw_tar *t;
    stw_layer_result *res;
    stw_artifact *art;         /* COPY-artifacts: one per layer */
    stw_feeder *feed;          /* content thread, or NULL to scan inline */
    stw_finding_list *content; /* the content thread's findings */
    stw_nested *nz;            /* files inside files, or NULL */
    stw_nestpool *pool;        /* archive files' walkers, once one came */
    bool pool_failed;          /* none to be had: archives walked here */
    strv_late late;            /* the workers' matcher notes */
    stw_gitcollect *gc;        /* git repositories, or NULL */
    bool git_copy;             /* the current file is copied to gc */
    const stw_layer_options *lo;
    const char *name;
    uint64_t unnamed; /* entries skipped for want of a readable name */
    /* A matcher (the layer's or a worker's) made a note: a regex hit its
     * match limit somewhere in the layer. */
    bool matcher_noted;
    char *path; /* the current entry's path, grown as needed */
    size_t path_cap;
    /* The history being scanned: the repository's path in the layer, where
     * the current blob or message is, the path the matcher sees
     * ("srv/app/.git!/config/deploy.env") and the layer's pathset. */
    const char *git_root;
    stw_finding_git where;
    char git_path[2 * STW_MAX_PATH + 4];
    const void *paths;
    size_t paths_len;
} walk;

/* Content goes to the matcher: through the feeder's thread when there is
 * one, else here. The artifact detector reads (small) files inline. */
static stw_status content_begin(walk *w, const char *path, uint64_t size,
                                stw_error *err)
{
    if (w->feed) {
        stw_status st = stw_feeder_begin(w->feed, path, size);
        return st == STW_OK
                   ? st
                   : stw_fail(err, st, "%.200s...: path too long", path);
    }
    return stw_matcher_begin(w->m, path, size, stw_finding_list_sink,
                             w->res->findings, err);
}

static stw_status content_data(walk *w, const void *p, size_t n, stw_error *err)
{
    if (w->feed)
        return stw_feeder_data(w->feed, p, n);
    return stw_matcher_feed(w->m, p, n, err);
}

static stw_status content_end(walk *w, stw_error *err)
{
    if (w->feed)
        return stw_feeder_end(w->feed);
    return stw_matcher_end(w->m, err);
}

/* The current entry's next block (len 0 at its end), copied on the way to
 * the git collector when the entry is a repository's file. */
static stw_status read_block(walk *w, const void **buf, size_t *len,
                             stw_error *err)
{
    stw_status st = stw_tar_data(w->t, buf, len, err);
    if (st == STW_OK && w->git_copy && *len)
        st = stw_gitcollect_data(w->gc, *buf, *len, err);
    return st;
}

static stw_status layer_read(void *ctx, const void **buf, size_t *len,
                             stw_error *err)
{
    return read_block(ctx, buf, len, err);
}

static stw_status scan_content(walk *w, const char *path, uint64_t size,
                               bool art, stw_error *err)
{
    stw_status st = content_begin(w, path, size, err);
    while (st == STW_OK) {
        const void *buf;
        size_t len;
        if ((st = read_block(w, &buf, &len, err)) != STW_OK)
            return st;
        if (len == 0) {
            if (art && (st = stw_artifact_end_file(w->art)) != STW_OK)
                return stw_fail(err, st, "%s: artifact detector failed", path);
            return content_end(w, err);
        }
        if (art)
            stw_artifact_feed(w->art, buf, len);
        st = content_data(w, buf, len, err);
    }
    return st;
}

/* ---- files inside files: the nested walker's sink ----------------------- */

static stw_status nz_entry(void *ctx, const char *path, bool is_dir,
                           bool is_reg, uint64_t size, bool *want_raw)
{
    walk *w = ctx;
    return stw_artifact_entry(w->art, path, is_dir, is_reg, size, want_raw);
}

static void nz_raw_data(void *ctx, const void *p, size_t n)
{
    walk *w = ctx;
    stw_artifact_feed(w->art, p, n);
}

static stw_status nz_raw_end(void *ctx)
{
    walk *w = ctx;
    return stw_artifact_end_file(w->art);
}

static stw_status nz_begin(void *ctx, const char *path, uint64_t size,
                           stw_error *err)
{
    return content_begin(ctx, path, size, err);
}

static stw_status nz_data(void *ctx, const void *p, size_t n, stw_error *err)
{
    return content_data(ctx, p, n, err);
}

static stw_status nz_end(void *ctx, stw_error *err)
{
    return content_end(ctx, err);
}

static stw_status push_str(char ***v, size_t *n, const char *s)
{
    char **nv = stw_realloc(*v, (*n + 1) * sizeof(**v));
    if (!nv)
        return STW_ERR_NOMEM;
    *v = nv;
    if (!(nv[*n] = stw_strdup(s)))
        return STW_ERR_NOMEM;
    (*n)++;
    return STW_OK;
}

/* Adds a note to the result now. */
static stw_status add_note(void *ctx, const char *msg)
{
    walk *w = ctx;
    /* A hostile layer could make a note of every member: past the cap the
     * rest are counted in one last line rather than kept. */
    if (w->res->n_notes >= STW_MAX_NOTES_PER_LAYER)
        return STW_OK;
    if (w->res->n_notes + 1 == STW_MAX_NOTES_PER_LAYER)
        msg = "more notes about this layer were dropped";
    return push_str(&w->res->notes, &w->res->n_notes, msg);
}

/* A note of the walk thread: behind the notes of archives handed over
 * before it, as a serial walk orders them. */
static uint64_t nz_looked(void *ctx)
{
    return stw_artifact_looked(((walk *)ctx)->art);
}

static stw_status nz_note(void *ctx, const char *msg)
{
    walk *w = ctx;
    if (stw_nestpool_pending(w->pool))
        return stw_nestpool_note(w->pool, msg);
    return add_note(w, msg);
}

static stw_status add_archive(void *ctx, const char *sha256, const char *path,
                              uint64_t size, const stw_nested_cost *cost,
                              bool complete, stw_error *err);

static stw_status nz_lookup(void *ctx, const char *sha256, const char *path,
                            uint64_t size, const stw_nested_cost *room,
                            stw_nested_cost *charge, bool *hit, stw_error *err)
{
    walk *w = ctx;
    *hit = false;
    stw_status st = STW_OK;
    if (w->lo->archive_memo)
        st = stw_archmemo_get(w->lo->archive_memo, sha256, path, room, charge,
                              w->res->findings, hit, err);
    if (st == STW_OK && !*hit && w->lo->archive_lookup)
        st = w->lo->archive_lookup(w->lo->archive_ctx, sha256, path, room,
                                   charge, w->res->findings, hit, err);
    /* A replay puts findings under path + "!/" like a walk: it holds the
     * path as much as a walked copy does. */
    if (st == STW_OK && *hit)
        st = add_archive(w, NULL, path, size, NULL, false, err);
    return st;
}

stw_status stw_layer_archives_add(stw_layer_archives *l, const char *sha256,
                                  const char *path, uint64_t size,
                                  const stw_nested_cost *cost, bool complete)
{
    if (l->full)
        return STW_OK;
    if (l->n >= STW_MAX_ARCHIVES_PER_LAYER) {
        for (size_t i = 0; i < l->n; i++)
            l->v[i].not_kept = true;
        l->full = true;
        return STW_OK;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        stw_layer_archive *v = stw_realloc(l->v, cap * sizeof(*v));
        if (!v)
            return STW_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    stw_layer_archive *a = &l->v[l->n];
    if (sha256)
        memcpy(a->sha256, sha256, sizeof(a->sha256));
    else
        a->sha256[0] = 0;
    a->size = size;
    a->cost = cost ? *cost : (stw_nested_cost){0};
    a->not_kept = !complete || !sha256;
    if (!(a->path = stw_strdup(path)))
        return STW_ERR_NOMEM;
    l->n++;
    return STW_OK;
}

void stw_layer_archives_clear(stw_layer_archives *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].path);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static stw_status add_archive(void *ctx, const char *sha256, const char *path,
                              uint64_t size, const stw_nested_cost *cost,
                              bool complete, stw_error *err)
{
    walk *w = ctx;
    stw_status st = stw_layer_archives_add(&w->res->archives, sha256, path,
                                           size, cost, complete);
    return st ? stw_fail(err, st, "out of memory") : STW_OK;
}

/* The walk thread's archives are not added to the memo: their members'
 * findings come back from the content thread later. */
static stw_status nz_scanned(void *ctx, const char *sha256, const char *path,
                             uint64_t size, const stw_nested_cost *cost,
                             bool complete, stw_error *err)
{
    return add_archive(ctx, sha256, path, size, cost, complete, err);
}

/* ---- archive files walked on the pool's threads ------------------------ */

static stw_status pool_finding(void *ctx, const stw_finding *f)
{
    walk *w = ctx;
    return stw_finding_list_add(w->res->findings, f);
}

/* Past the layer's cap of notes they would only be dropped at the end. */
static stw_status pool_matcher_note(void *ctx, const char *msg)
{
    walk *w = ctx;
    w->matcher_noted = true;
    if (w->late.n >= STW_MAX_NOTES_PER_LAYER)
        return STW_OK;
    return push_str(&w->late.v, &w->late.n, msg);
}

/* The pool starts with the layer's first archive file: most layers have
 * none, and a worker's matcher is not free. */
static void pool_start(walk *w)
{
    stw_nestpool_options o = {
        .rules = w->lo->rules,
        .workers = w->lo->nested_workers,
        .lim = w->lo->nested,
        .lookup = w->lo->archive_lookup,
        .lookup_ctx = w->lo->archive_ctx,
        .memo = w->lo->archive_memo,
        .keep_secrets = w->lo->keep_secrets,
    };
    stw_nestpool_sink sink = {
        .ctx = w,
        .finding = pool_finding,
        .note = add_note,
        .scanned = add_archive,
        .matcher_note = pool_matcher_note,
    };
    stw_error ignored = {0};
    if (stw_nestpool_create(&o, &sink, &w->pool, &ignored) != STW_OK)
        w->pool_failed = true;
}

/* An archive file of the layer, spooled (a transferred): to a worker, or
 * walked here when there is none. */
static stw_status nz_archive(void *ctx, stw_nested_archive *a, stw_error *err)
{
    walk *w = ctx;
    if (!w->pool && !w->pool_failed)
        pool_start(w);
    if (w->pool)
        return stw_nestpool_submit(w->pool, a, err);
    stw_status st = stw_nested_walk_archive(w->nz, a, err);
    stw_nested_archive_free(a);
    return st;
}

/* Merges every handed-over archive, in order. On the walk's own failure
 * (st) a job handed over before it failed first in a serial walk, so its
 * failure is the one reported; a cancelled walk does not wait. */
static stw_status pool_finish(walk *w, stw_status st, stw_error *err)
{
    if (!w->pool || st == STW_ERR_CANCELLED)
        return st;
    stw_error jerr = {0};
    stw_status jst = stw_nestpool_finish(w->pool, &jerr);
    if (jst == STW_OK)
        return st;
    *err = jerr;
    stw_error_prefix(err, w->name);
    return jst;
}

static stw_status nested_create(walk *w, stw_error *err)
{
    stw_nested_sink sink = {
        .ctx = w,
        .entry = nz_entry,
        .raw_data = nz_raw_data,
        .raw_end = nz_raw_end,
        .looked = nz_looked,
        .begin = nz_begin,
        .data = nz_data,
        .end = nz_end,
        .note = nz_note,
        .lookup = nz_lookup,
        .scanned = nz_scanned,
        .archive = w->lo->nested_workers && w->lo->rules ? nz_archive : NULL,
    };
    return stw_nested_create(&sink, &w->lo->nested, &w->nz, err);
}

static bool is_whiteout(const char *path)
{
    const char *slash = strrchr(path, '/');
    return strncmp(slash ? slash + 1 : path, ".wh.", 4) == 0;
}

static stw_status walk_entry(walk *w, struct archive_entry *e, stw_error *err)
{
    const char *raw = archive_entry_pathname(e);
    if (!raw)
        raw = archive_entry_pathname_utf8(e);
    /* Nothing is skipped silently: a layer whose key sits under an
     * unnameable or absurdly long path must not look clean. */
    if (!raw) {
        w->unnamed++; /* said once, at the end of the layer */
        return STW_OK;
    }
    size_t rlen = strlen(raw);
    if (rlen > STW_MAX_ENTRY_PATH) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "an entry with a path of %zu bytes was skipped (longer than "
                 "%u bytes)",
                 rlen, STW_MAX_ENTRY_PATH);
        stw_status st = nz_note(w, msg);
        if (st != STW_OK)
            stw_fail(err, st, "%s: out of memory", w->name);
        return st;
    }
    if (rlen + 1 > w->path_cap) {
        char *p = stw_realloc(w->path, rlen + 1);
        if (!p)
            return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", w->name);
        w->path = p;
        w->path_cap = rlen + 1;
    }
    memcpy(w->path, raw, rlen + 1);
    char *path = stw_layer_normalize_path(w->path);
    if (!*path)
        return STW_OK;
    /* A name holding "!/" puts what is found in it where the findings of
     * an archive at the part before would be: that archive is not kept. */
    for (const char *b = strstr(path, "!/"); b; b = strstr(b + 2, "!/")) {
        char *pre = stw_strndup(path, (size_t)(b - path));
        stw_status ast = pre ? add_archive(w, NULL, pre, 0, NULL, false, err)
                             : stw_fail(err, STW_ERR_NOMEM, "out of memory");
        free(pre);
        if (ast != STW_OK)
            return ast;
    }
    uint32_t type = archive_entry_filetype(e);
    bool hardlink = archive_entry_hardlink(e) != NULL;
    stw_status st =
        stw_pathset_add_entry(w->res->pathset, path, type == AE_IFDIR);
    if (st != STW_OK)
        return stw_fail(err, st, "%s: out of memory", w->name);
    if (is_whiteout(path))
        return STW_OK; /* markers for the overlay, not files of the image */
    if (!hardlink) {
        st = stw_meta_check(path, type, archive_entry_mode(e),
                            archive_entry_uid(e), archive_entry_gid(e),
                            stw_finding_list_sink, w->res->findings);
        if (st != STW_OK)
            return stw_fail(err, st, "%s: out of memory", w->name);
    }
    int64_t size = archive_entry_size(e);
    bool art = false;
    st = stw_artifact_entry(w->art, path, type == AE_IFDIR, type == AE_IFREG,
                            size > 0 ? (uint64_t)size : 0, &art);
    if (st != STW_OK)
        return stw_fail(err, st, "%s: artifact detector failed", w->name);
    if (w->gc) {
        st = stw_gitcollect_entry(
            w->gc, path, type == AE_IFDIR, type == AE_IFREG && !hardlink,
            size > 0 ? (uint64_t)size : 0, &w->git_copy, err);
        if (st != STW_OK) {
            stw_error_prefix(err, w->name);
            return st;
        }
    }
    if (type != AE_IFREG || hardlink || size <= 0)
        return STW_OK;
    if (w->nz && !art)
        st = stw_nested_file(w->nz, path, (uint64_t)size, layer_read, w, err);
    else
        st = scan_content(w, path, (uint64_t)size, art, err);
    if (w->git_copy) {
        stw_gitcollect_end(w->gc);
        w->git_copy = false;
    }
    if (st != STW_OK)
        stw_error_prefix(err, w->name);
    return st;
}

/* ---- git history: the sink of gitrepo ----------------------------------- */

/* A history finding: the repository's directory is its path, so it shares
 * the directory's fate in later layers (a whiteout of .git makes it
 * deleted but recoverable) and its fingerprint does not move when the
 * repository grows. Path rules alone are no evidence in history (each
 * version of an .npmrc would be one): only findings with a secret count. */
static stw_status gh_finding(void *ctx, const stw_finding *f)
{
    walk *w = ctx;
    if (!f->secret_sha256[0])
        return STW_OK;
    stw_finding c = *f;
    c.path = w->git_root;
    c.is_dir = true;
    c.git = w->where;
    return stw_finding_list_add(w->res->findings, &c);
}

static stw_status gh_begin(void *ctx, const stw_finding_git *g, uint64_t size,
                           stw_error *err)
{
    walk *w = ctx;
    /* The matcher's path rules see the path inside the repository, as
     * they see a member's inside an archive. */
    int k = snprintf(w->git_path, sizeof(w->git_path), "%s!/%s", w->git_root,
                     g->path);
    if (k < 0 || (size_t)k >= sizeof(w->git_path))
        return stw_fail(err, STW_ERR_LIMIT, "%s: path too long", w->git_root);
    w->where = *g;
    w->where.path = w->git_path + strlen(w->git_root) + 2;
    return stw_matcher_begin(w->m, w->git_path, size, gh_finding, w, err);
}

static stw_status gh_data(void *ctx, const void *p, size_t n, stw_error *err)
{
    walk *w = ctx;
    return stw_matcher_feed(w->m, p, n, err);
}

static stw_status gh_end(void *ctx, stw_error *err)
{
    walk *w = ctx;
    return stw_matcher_end(w->m, err);
}

/* Whether this layer holds the work-tree file next to the repository. */
static bool gh_worktree_has(void *ctx, const char *path)
{
    walk *w = ctx;
    const char *slash = strrchr(w->git_root, '/');
    size_t dl = slash ? (size_t)(slash - w->git_root) : 0;
    char p[2 * STW_MAX_PATH + 2];
    int k = snprintf(p, sizeof(p), "%.*s%s%s", (int)dl, w->git_root,
                     dl ? "/" : "", path);
    if (k < 0 || (size_t)k >= sizeof(p))
        return false;
    return stw_pathset_hides(w->paths, w->paths_len, p, false);
}

/* Runs each collected repository's history through the matcher, on this
 * thread: the content thread is done by now. A repository libgit2 cannot
 * open is a note; only a sink's failure or memory fails the layer. */
static stw_status scan_histories(walk *w, stw_error *err)
{
    stw_status st = stw_gitcollect_finish(w->gc, err);
    stw_pathset_finish(w->res->pathset, &w->paths, &w->paths_len);
    for (size_t i = 0; st == STW_OK && i < stw_gitcollect_count(w->gc); i++) {
        const char *dir;
        bool bare;
        stw_gitcollect_get(w->gc, i, &w->git_root, &dir, &bare);
        stw_gitrepo_sink sink = {
            .ctx = w,
            .begin = gh_begin,
            .data = gh_data,
            .end = gh_end,
            .note = nz_note,
            .worktree_has = bare ? NULL : gh_worktree_has,
        };
        stw_gitrepo *g;
        stw_error gerr = {0};
        st = stw_gitrepo_create(dir, w->git_root, &w->lo->git, &g, &gerr);
        if (st == STW_OK)
            st = stw_gitrepo_scan(g, &sink, NULL, err);
        else if (st == STW_ERR_NOMEM)
            *err = gerr;
        else if ((st = nz_note(w, gerr.msg)) != STW_OK)
            stw_fail(err, st, "out of memory"); /* keeping the note */
        stw_gitrepo_destroy(g);
    }
    return st;
}

void stw_layer_result_clear(stw_layer_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_notes; i++)
        free(r->notes[i]);
    free(r->notes);
    stw_layer_archives_clear(&r->archives);
    stw_finding_list_destroy(r->findings);
    stw_pathset_destroy(r->pathset);
    memset(r, 0, sizeof(*r));
}

static void late_clear(walk *w)
{
    for (size_t i = 0; i < w->late.n; i++)
        free(w->late.v[i]);
    free(w->late.v);
    w->late.v = NULL;
    w->late.n = 0;
}

/* Moves the matcher's notes (files a regex's match limit left partly
 * unchecked) into the result's, then the archive workers' matchers' (the
 * one case where the order differs from a serial walk's: these come after
 * the layer matcher's instead of in file order). Called when no other
 * thread uses them. */
static stw_status matcher_notes(walk *w)
{
    const char *const *v;
    size_t n = stw_matcher_notes(w->m, &v);
    w->matcher_noted |= n > 0;
    stw_status st = STW_OK;
    for (size_t i = 0; st == STW_OK && i < n; i++)
        st = nz_note(w, v[i]);
    stw_matcher_clear_notes(w->m);
    for (size_t i = 0; st == STW_OK && i < w->late.n; i++)
        st = nz_note(w, w->late.v[i]);
    late_clear(w);
    return st;
}

/* Waits for the content thread and moves its findings into the result.
 * The thread's failure keeps its own message (the file it was in). */
static stw_status join_content(walk *w, stw_error *err)
{
    stw_status st = stw_feeder_finish(w->feed, err);
    if (st != STW_OK)
        return st;
    size_t n = stw_finding_list_count(w->content);
    for (size_t i = 0; st == STW_OK && i < n; i++)
        st = stw_finding_list_add(w->res->findings,
                                  stw_finding_list_get(w->content, i));
    return st == STW_OK ? st : stw_fail(err, st, "out of memory");
}

stw_status stw_layer_walk(stw_matcher *m, stw_tar *t,
                          struct archive_entry *first, stw_blob *b,
                          const char *name, const stw_layer_options *lo,
                          stw_layer_result *res, stw_error *err)
{
    static const stw_layer_options defaults = {0};
    if (!lo)
        lo = &defaults;
    uint64_t max_entries = lo->max_entries;
    memset(res, 0, sizeof(*res));
    walk *w = stw_calloc(1, sizeof(*w));
    stw_status st;
    if (!w || stw_finding_list_create(&res->findings) != STW_OK ||
        stw_pathset_create(&res->pathset) != STW_OK ||
        stw_artifact_create(stw_finding_list_sink, res->findings, &w->art) !=
            STW_OK) {
        st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", name);
        goto out;
    }
    w->m = m;
    stw_matcher_clear_notes(m);
    w->t = t;
    w->res = res;
    w->name = name;
    w->lo = lo;
    if (!lo->nested_off && (st = nested_create(w, err)) != STW_OK)
        goto out;
    if (!lo->git_off && (st = stw_gitcollect_create(lo->max_git_bytes, nz_note,
                                                    w, &w->gc, err)) != STW_OK)
        goto out;
    if (lo->keep_secrets)
        stw_finding_list_keep_secrets(res->findings);
    if (lo->content_thread) {
        if (stw_finding_list_create(&w->content) != STW_OK) {
            st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", name);
            goto out;
        }
        if (lo->keep_secrets)
            stw_finding_list_keep_secrets(w->content);
        st = stw_feeder_create(m, w->content, &w->feed, err);
        if (st == STW_ERR_IO) {
            /* No thread to be had (a pids limit): match on this one. */
            stw_finding_list_destroy(w->content);
            w->content = NULL;
            memset(err, 0, sizeof(*err));
            st = STW_OK;
        } else if (st != STW_OK) {
            st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", name);
            goto out;
        }
    }
    if (!max_entries)
        max_entries = STW_MAX_ENTRIES;
    for (struct archive_entry *e = first;; e = NULL) {
        if (!e && (st = stw_tar_next(t, &e, err)) != STW_OK)
            break;
        if (!e)
            break;
        if (++res->entries > max_entries) {
            st = stw_fail(err, STW_ERR_LIMIT,
                          "%s: more than %llu entries in one layer", name,
                          (unsigned long long)max_entries);
            break;
        }
        if ((st = walk_entry(w, e, err)) != STW_OK)
            break;
    }
    if ((st = pool_finish(w, st, err)) != STW_OK)
        goto out;
    if (w->feed && (st = join_content(w, err)) != STW_OK) {
        stw_error_prefix(err, name);
        goto out;
    }
    if ((st = matcher_notes(w)) != STW_OK) {
        stw_fail(err, st, "%s: out of memory", name);
        goto out;
    }
    if ((st = stw_artifact_finish(w->art)) != STW_OK) {
        stw_fail(err, st, "%s: artifact detector failed", name);
        goto out;
    }
    if (w->gc && (st = scan_histories(w, err)) != STW_OK) {
        stw_error_prefix(err, name);
        goto out;
    }
    if (w->unnamed) {
        char msg[128];
        snprintf(msg, sizeof(msg),
                 "%llu entries without a readable name were skipped",
                 (unsigned long long)w->unnamed);
        if ((st = nz_note(w, msg)) != STW_OK) {
            stw_fail(err, st, "%s: out of memory", name);
            goto out;
        }
    }
    if ((st = matcher_notes(w)) != STW_OK) {
        stw_fail(err, st, "%s: out of memory", name);
        goto out;
    }
    /* A record replays findings, not the matcher's notes, and a note
     * cannot be tied to the archive it came from once the content thread
     * has matched it: a layer with any keeps none of its archives, so the
     * note comes back whenever they are met (rare: a regex at its match
     * limit). */
    if (w->matcher_noted)
        for (size_t i = 0; i < res->archives.n; i++)
            res->archives.v[i].not_kept = true;
    if ((st = stw_finding_list_dedupe_secrets(res->findings)) != STW_OK ||
        (st = stw_finding_list_fold_history(res->findings)) != STW_OK) {
        stw_fail(err, st, "%s: out of memory", name);
        goto out;
    }
    if ((st = stw_blob_drain(b, err)) != STW_OK) {
        stw_error_prefix(err, name);
        goto out;
    }
    const void *blob;
    size_t len;
    stw_pathset_finish(res->pathset, &blob, &len);
    res->raw_bytes = stw_blob_raw_bytes(b);
    res->tar_bytes = stw_blob_out_bytes(b);
    res->compression = stw_blob_compression(b);
    snprintf(res->digest, sizeof(res->digest), "%s", stw_blob_digest(b));
    snprintf(res->diff_id, sizeof(res->diff_id), "%s", stw_blob_diff_id(b));
out:
    if (w) {
        stw_nestpool_destroy(w->pool); /* drops jobs of a failed walk */
        late_clear(w);
        stw_feeder_destroy(w->feed); /* stops the thread on a failure */
        stw_finding_list_destroy(w->content);
        stw_artifact_destroy(w->art);
        free(w->path);
        stw_nested_destroy(w->nz);
        stw_gitcollect_destroy(w->gc); /* the temporary copies go here */
    }
    free(w);
    if (st != STW_OK)
        stw_layer_result_clear(res);
    return st;
}

stw_status stw_layer_scan(stw_matcher *m, stw_read_fn fn, void *ctx,
                          const stw_blob_options *bo,
                          const stw_layer_options *lo, stw_layer_result *res,
                          stw_error *err)
{
    memset(res, 0, sizeof(*res));
    stw_blob *b = NULL;
    stw_tar *t = NULL;
    stw_status st = stw_blob_create(fn, ctx, bo, &b, err);
    if (st == STW_OK)
        st = stw_tar_open(b, bo->name, &t, err);
    if (st == STW_OK)
        st = stw_layer_walk(m, t, NULL, b, bo->name, lo, res, err);
    if (st != STW_OK)
        stw_error_prefix(err, bo->name);
    stw_tar_close(t);
    stw_blob_destroy(b);
    return st;
}
