/* gitcollect.c - a layer's git repositories copied out of its stream into a
 * private temporary directory (gitcollect.h). */
/* nftw() is XSI. */
#define _XOPEN_SOURCE 700

#include "gitcollect.h"

#include "common.h"
#include "limits.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct repo {
    char *root; /* path in the layer */
    char *dir;  /* its copy */
    bool bare, has_head, has_objects, over_cap;
    /* Files of the repository that could not be copied (a ref too big to
     * be one, a name too long or clashing with a directory): said once. */
    uint64_t skipped;
} repo;

struct stw_gitcollect {
    uint64_t max_bytes, bytes;
    stw_gitcollect_note_fn note;
    void *ctx;
    char *tmp; /* the private directory, once made */
    repo *repos;
    size_t n;
    bool capped;
    /* The entry being copied. */
    int fd;
    uint64_t size, written;
    char cur[STW_MAX_PATH + 128];
};

stw_status stw_gitcollect_create(uint64_t max_bytes,
                                 stw_gitcollect_note_fn note, void *ctx,
                                 stw_gitcollect **out, stw_error *err)
{
    stw_gitcollect *c = stw_calloc(1, sizeof(*c));
    if (!c)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    c->max_bytes = max_bytes ? max_bytes : STW_MAX_GIT_BYTES;
    c->note = note;
    c->ctx = ctx;
    c->fd = -1;
    *out = c;
    return STW_OK;
}

static int remove_one(const char *path, const struct stat *sb, int flag,
                      struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0; /* remove what can be removed, whatever fails */
}

void stw_gitcollect_destroy(stw_gitcollect *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    if (c->tmp)
        nftw(c->tmp, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    for (size_t i = 0; i < c->n; i++) {
        free(c->repos[i].root);
        free(c->repos[i].dir);
    }
    free(c->repos);
    free(c->tmp);
    free(c);
}

/* Hands a note to the layer. Its note function has no error of its own:
 * its failure (out of memory keeping the note) is described in err here. */
static stw_status say(stw_gitcollect *c, stw_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static stw_status say(stw_gitcollect *c, stw_error *err, const char *fmt, ...)
{
    if (!c->note)
        return STW_OK;
    char msg[STW_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    stw_status st = c->note(c->ctx, msg);
    if (st != STW_OK)
        stw_fail(err, st, "%s",
                 st == STW_ERR_NOMEM ? "out of memory"
                                     : "a note could not be kept");
    return st;
}

/* ---- which entries are history ------------------------------------------ */

static bool is_hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
}

/* Every component a plain name: nothing that climbs or is empty. */
static bool plain(const char *rel)
{
    for (const char *p = rel;;) {
        const char *s = strchr(p, '/');
        size_t l = s ? (size_t)(s - p) : strlen(p);
        if (l == 0 || (l == 1 && p[0] == '.') ||
            (l == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (!s)
            return true;
        p = s + 1;
    }
}

static bool has_suffix(const char *s, const char *sfx)
{
    size_t l = strlen(s), k = strlen(sfx);
    return l >= k && !strcmp(s + l - k, sfx);
}

/* Whether rel (inside a repository) is a file history needs. A bare
 * repository is only recognised by its objects, HEAD and the usual ref
 * namespaces (any=false); inside a ".git", any ref counts (refs/original
 * of a filter-branch, refs/pull/...). */
static bool wanted(const char *rel, bool any_ref, bool *object, bool *head)
{
    *object = *head = false;
    if (!strcmp(rel, "HEAD"))
        return *head = true;
    if (!strcmp(rel, "packed-refs") || !strcmp(rel, "shallow") ||
        !strcmp(rel, "logs/refs/stash") || !strcmp(rel, "refs/stash"))
        return true;
    if (!strncmp(rel, "objects/pack/pack-", 18) && !strchr(rel + 18, '/') &&
        (has_suffix(rel, ".pack") || has_suffix(rel, ".idx")) && plain(rel))
        return *object = true;
    if (!strncmp(rel, "objects/", 8) && strlen(rel) == 8 + 2 + 1 + 38 &&
        is_hex(rel + 8, 2) && rel[10] == '/' && is_hex(rel + 11, 38))
        return *object = true;
    if (strncmp(rel, "refs/", 5) || !plain(rel))
        return false;
    if (any_ref)
        return true;
    static const char *const ns[] = {"heads/", "tags/", "remotes/", "notes/"};
    for (size_t i = 0; i < STW_ARRAY_LEN(ns); i++)
        if (!strncmp(rel + 5, ns[i], strlen(ns[i])))
            return true;
    return false;
}

/* Splits path into the repository it belongs to (root_len bytes of path)
 * and the path inside it. false when it belongs to none. */
static bool classify(const char *path, size_t *root_len, const char **rel,
                     bool *bare)
{
    /* A ".git" component: everything under it is that repository's. */
    for (const char *p = path;;) {
        const char *s = strchr(p, '/');
        size_t l = s ? (size_t)(s - p) : strlen(p);
        if (l == 4 && !strncmp(p, ".git", 4)) {
            *root_len = (size_t)(p - path) + 4;
            *rel = s ? s + 1 : p + 4;
            *bare = false;
            return true;
        }
        if (!s)
            break;
        p = s + 1;
    }
    /* A bare repository: the leftmost place a history file's name starts. */
    bool object, head;
    for (const char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
        if (wanted(p + 1, false, &object, &head)) {
            *root_len = (size_t)(p - path);
            *rel = p + 1;
            *bare = true;
            return true;
        }
    }
    return false;
}

/* ---- copies ------------------------------------------------------------- */

static stw_status io_fail(stw_error *err, const char *what)
{
    char eb[128];
    return stw_fail(err, STW_ERR_IO, "git history: %s: %s", what,
                    stw_strerror(errno, eb, sizeof(eb)));
}

static stw_status make_tmp(stw_gitcollect *c, stw_error *err)
{
    const char *base = getenv("TMPDIR");
    char t[STW_MAX_PATH];
    snprintf(t, sizeof(t), "%s/stowaway-git-XXXXXX",
             base && *base ? base : "/tmp");
    if (!mkdtemp(t)) /* mode 0700 */
        return io_fail(err, "cannot create a temporary directory");
    if (!(c->tmp = stw_strdup(t))) {
        rmdir(t);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    return STW_OK;
}

/* The repository at path[0..root_len), registered on first sight. NULL
 * when past the cap (noted once). */
static stw_status find_repo(stw_gitcollect *c, const char *path,
                            size_t root_len, bool bare, repo **out,
                            stw_error *err)
{
    *out = NULL;
    for (size_t i = 0; i < c->n; i++) {
        if (!strncmp(c->repos[i].root, path, root_len) &&
            !c->repos[i].root[root_len] && c->repos[i].bare == bare) {
            *out = &c->repos[i];
            return STW_OK;
        }
    }
    if (c->n >= STW_GIT_MAX_REPOS) {
        if (c->capped)
            return STW_OK;
        c->capped = true;
        return say(c, err,
                   "%.*s: git history: more than %u repositories in one "
                   "layer; this one and later ones are not read",
                   (int)root_len, path, STW_GIT_MAX_REPOS);
    }
    stw_status st;
    if (!c->tmp && (st = make_tmp(c, err)) != STW_OK)
        return st;
    repo *v = stw_realloc(c->repos, (c->n + 1) * sizeof(*v));
    if (!v)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    c->repos = v;
    repo *r = &v[c->n];
    memset(r, 0, sizeof(*r));
    char d[STW_MAX_PATH];
    snprintf(d, sizeof(d), "%s/%zu", c->tmp, c->n);
    r->root = stw_malloc(root_len + 1);
    r->dir = stw_strdup(d);
    if (!r->root || !r->dir) {
        free(r->root);
        free(r->dir);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    memcpy(r->root, path, root_len);
    r->root[root_len] = 0;
    r->bare = bare;
    c->n++;
    if (mkdir(d, 0700) < 0)
        return io_fail(err, "cannot create a directory");
    *out = r;
    return STW_OK;
}

/* Creates the directories of rel below dir (all made by us: no links). */
static void make_parents(char *full, size_t dir_len)
{
    for (char *s = strchr(full + dir_len + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = 0;
        mkdir(full, 0700);
        *s = '/';
    }
}

stw_status stw_gitcollect_entry(stw_gitcollect *c, const char *path,
                                bool is_dir, bool is_reg, uint64_t size,
                                bool *want, stw_error *err)
{
    *want = false;
    size_t root_len;
    const char *rel;
    bool bare;
    if (!classify(path, &root_len, &rel, &bare) || root_len == 0)
        return STW_OK;
    if (!bare && !*rel) {
        if (is_reg)
            return say(c, err,
                       "%s: a file, not a directory: a submodule's or a "
                       "worktree's \"gitdir:\" pointer; the history it "
                       "names is elsewhere and not read",
                       path);
        if (!is_dir)
            return STW_OK;
    }
    bool object, head;
    if (*rel && (!is_reg || !wanted(rel, !bare, &object, &head)))
        return STW_OK;
    repo *r;
    stw_status st = find_repo(c, path, root_len, bare, &r, err);
    if (st != STW_OK || !r || !*rel)
        return st;
    /* A ref or HEAD is a line; anything bigger is not one. */
    if (!object && strcmp(rel, "packed-refs") && size > STW_GIT_MAX_REF_BYTES) {
        r->skipped++;
        return STW_OK;
    }
    if (c->bytes + size > c->max_bytes) {
        r->over_cap = true;
        return STW_OK;
    }
    int k = snprintf(c->cur, sizeof(c->cur), "%s/%s", r->dir, rel);
    if (k < 0 || (size_t)k >= sizeof(c->cur)) {
        r->skipped++;
        return STW_OK;
    }
    make_parents(c->cur, strlen(r->dir));
    c->fd = open(c->cur, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                 0600);
    if (c->fd < 0) {
        r->skipped++; /* a name that clashes with a directory */
        return STW_OK;
    }
    c->bytes += size;
    c->size = size;
    c->written = 0;
    r->has_objects |= object;
    r->has_head |= head;
    *want = true;
    return STW_OK;
}

stw_status stw_gitcollect_data(stw_gitcollect *c, const void *p, size_t n,
                               stw_error *err)
{
    const char *b = p;
    if (c->fd < 0 || c->written + n > c->size)
        return STW_OK;
    while (n) {
        ssize_t w = write(c->fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return io_fail(err, "cannot write a temporary file");
        }
        b += w;
        n -= (size_t)w;
        c->written += (size_t)w;
    }
    return STW_OK;
}

void stw_gitcollect_end(stw_gitcollect *c)
{
    if (c->fd < 0)
        return;
    close(c->fd);
    c->fd = -1;
    if (c->written != c->size)
        unlink(c->cur);
}

/* ---- after the layer ---------------------------------------------------- */

static stw_status write_small(const char *dir, const char *name,
                              const char *text, stw_error *err)
{
    char p[STW_MAX_PATH + 128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    int fd =
        open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return io_fail(err, "cannot create a temporary file");
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n;
    close(fd);
    return ok ? STW_OK : io_fail(err, "cannot write a temporary file");
}

stw_status stw_gitcollect_finish(stw_gitcollect *c, stw_error *err)
{
    stw_gitcollect_end(c);
    size_t w = 0;
    for (size_t i = 0; i < c->n; i++) {
        repo r = c->repos[i];
        stw_status st = STW_OK;
        if (r.over_cap)
            st = say(c, err,
                     "%s: git history over %llu bytes (--max-git-bytes); "
                     "scanned what fits",
                     r.root, (unsigned long long)c->max_bytes);
        if (st == STW_OK && r.skipped)
            st = say(c, err,
                     "%s: %llu repository files not copied for its history "
                     "(a ref over %u bytes, or an unusable name); the rest "
                     "is read",
                     r.root, (unsigned long long)r.skipped,
                     STW_GIT_MAX_REF_BYTES);
        /* A bare candidate needs both to be one; a ".git" with no object
         * copied has no history to read. */
        if (st == STW_OK && (!r.has_objects || (r.bare && !r.has_head))) {
            free(r.root);
            free(r.dir);
            continue;
        }
        char p[STW_MAX_PATH + 128];
        static const char *const dirs[] = {"objects", "refs"};
        for (size_t k = 0; k < STW_ARRAY_LEN(dirs); k++) {
            snprintf(p, sizeof(p), "%s/%s", r.dir, dirs[k]);
            mkdir(p, 0700);
        }
        /* libgit2 opens no repository without HEAD: one that names no
         * branch still lets every object be read. */
        if (st == STW_OK && !r.has_head)
            st = write_small(r.dir, "HEAD", "ref: refs/heads/stowaway-none\n",
                             err);
        c->repos[w++] = r;
        if (st != STW_OK) {
            for (size_t k = i + 1; k < c->n; k++) {
                free(c->repos[k].root);
                free(c->repos[k].dir);
            }
            c->n = w;
            return st;
        }
    }
    c->n = w;
    return STW_OK;
}

size_t stw_gitcollect_count(const stw_gitcollect *c)
{
    return c ? c->n : 0;
}

void stw_gitcollect_get(const stw_gitcollect *c, size_t i,
                        const char **layer_path, const char **dir, bool *bare)
{
    *layer_path = c->repos[i].root;
    *dir = c->repos[i].dir;
    *bare = c->repos[i].bare;
}
