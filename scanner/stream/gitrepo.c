/* gitrepo.c - every object of a repository's history into a sink, each
 * blob named after the oldest commit that holds it (gitrepo.h). */
#include "gitrepo.h"

#include "common.h"
#include "limits.h"

#include <dirent.h>
#include <fcntl.h>
#include <git2.h>
#include <zlib.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- libgit2, once per process ------------------------------------------ */

/* libgit2 keeps its state (allocators, caches, options) per process by its
 * own design; these two only guard its one-time set-up. */
static pthread_once_t git_once = PTHREAD_ONCE_INIT;
static int git_init_rc;

static void git_setup(void)
{
    git_init_rc = git_libgit2_init();
    if (git_init_rc < 0)
        return;
    /* An image's repository is data: the scanning user's ~/.gitconfig or
     * /etc/gitconfig has no say in how it is read. */
    static const int levels[] = {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
                                 GIT_CONFIG_LEVEL_GLOBAL,
                                 GIT_CONFIG_LEVEL_PROGRAMDATA};
    for (size_t i = 0; i < STW_ARRAY_LEN(levels); i++)
        git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "");
    /* The copies read are the scanner's own, in its private directory; a
     * repository on disk handed in by a caller is the caller's choice. */
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
    /* Each blob is read once: caching them would only hold memory. */
    git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_BLOB,
                     (size_t)0);
    /* libgit2's defaults suit a long-lived editor, not a scan with a
     * memory bound: its object cache may grow to 256 MiB and its pack
     * windows map up to 8 GiB; trees and commits are walked once each
     * here, so small bounds cost little. */
    git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)STW_GIT_CACHE_BYTES);
    git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE,
                     (size_t)STW_GIT_MAPPED_BYTES / 4);
    git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT,
                     (size_t)STW_GIT_MAPPED_BYTES);
}

/* ---- objects by id ------------------------------------------------------ */

enum {
    OBJ_USED = 1,      /* the slot holds an object */
    OBJ_BAD = 2,       /* libgit2 could not read it */
    OBJ_SEEN = 4,      /* tree walked / blob named already */
    OBJ_REACHABLE = 8, /* a ref reaches it */
};

typedef struct obj {
    git_oid id;
    uint8_t flags;
    int8_t type;    /* git_object_t */
    int32_t commit; /* commits: own index; blobs: index of the commit the
                       blob is named after; -1 none */
    uint64_t size;
    char *path; /* blobs: path in that commit's tree, owned */
} obj;

/* Open addressing, keyed with a per-table seed: object ids are hashes, but
 * a crafted repository can grind ids that share their leading bytes. */
typedef struct table {
    obj *slots;
    size_t cap, n;
    uint64_t seed;
} table;

static size_t slot_of(const table *t, const git_oid *id)
{
    uint64_t h;
    memcpy(&h, id->id, sizeof(h));
    h = (h ^ t->seed) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    return (size_t)h & (t->cap - 1);
}

static obj *table_find(const table *t, const git_oid *id)
{
    if (!t->cap)
        return NULL;
    for (size_t i = slot_of(t, id);; i = (i + 1) & (t->cap - 1)) {
        obj *o = &t->slots[i];
        if (!(o->flags & OBJ_USED))
            return NULL;
        if (git_oid_equal(&o->id, id))
            return o;
    }
}

static obj *table_put(table *t, const git_oid *id)
{
    for (size_t i = slot_of(t, id);; i = (i + 1) & (t->cap - 1)) {
        obj *o = &t->slots[i];
        if (!(o->flags & OBJ_USED)) {
            o->id = *id;
            o->flags = OBJ_USED;
            o->commit = -1;
            t->n++;
            return o;
        }
        if (git_oid_equal(&o->id, id))
            return o;
    }
}

/* Adds id once; false when out of memory. Grows at half full. */
static bool table_add(table *t, const git_oid *id)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        obj *old = t->slots;
        size_t ocap = t->cap;
        if (!(t->slots = stw_calloc(cap, sizeof(*t->slots)))) {
            t->slots = old;
            return false;
        }
        t->cap = cap;
        t->n = 0;
        for (size_t i = 0; i < ocap; i++)
            if (old[i].flags & OBJ_USED)
                *table_put(t, &old[i].id) = old[i];
        free(old);
    }
    table_put(t, id);
    return true;
}

/* A readable object of the given type. */
static bool live(const obj *o, git_object_t type)
{
    return (o->flags & OBJ_USED) && !(o->flags & OBJ_BAD) && o->type == type;
}

/* ---- the repository ----------------------------------------------------- */

typedef struct commit {
    obj *o;
    git_oid tree;
    bool parsed;
    int64_t time;     /* committer time as recorded */
    int64_t eff;      /* corrected: never before a parent's */
    uint32_t gen;     /* 1 + the longest parent chain */
    size_t par, npar; /* parents: indices at parents[par..par+npar) */
    size_t rank;      /* position, oldest first */
} commit;

struct stw_gitrepo {
    git_repository *repo;
    git_odb *odb;
    char *dir, *name;
    stw_gitrepo_limits lim;
    stw_gitrepo_sink sink;
    stw_gitrepo_stats st;
    table t;
    commit *commits;
    size_t n_commits;
    size_t *parents;
    size_t n_parents;
    commit **order; /* commits oldest first, reachable ones before */
    obj **roots;    /* trees and blobs a ref names directly (via tags) */
    size_t n_roots, cap_roots;
    /* Damage, summed up in one note per kind at the end. */
    uint64_t n_bad, n_big, n_budget;
    char first_bad[STW_ERROR_MAX];
    uint64_t tree_entries;
    bool capped_objects, capped_trees, nomem, scanned;
    char path[STW_MAX_PATH + 1];
    /* HEAD's tree and the trees under it on the way to the last path
     * looked up there (head_entry): trees[0] is HEAD's, trees[d] the one
     * head_path[0..end[d]) leads to. A path of STW_MAX_PATH bytes has at
     * most half as many directories. */
    struct {
        git_tree *trees[STW_MAX_PATH / 2 + 2];
        size_t end[STW_MAX_PATH / 2 + 2];
        size_t depth;
    } head;
    char head_path[STW_MAX_PATH + 1], head_name[STW_MAX_PATH + 1];
};

/* Hands a note to the sink. The sink's note has no error of its own: its
 * failure (out of memory keeping the note) is described in err here. */
static stw_status note(stw_gitrepo *g, stw_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static stw_status note(stw_gitrepo *g, stw_error *err, const char *fmt, ...)
{
    if (!g->sink.note)
        return STW_OK;
    char msg[STW_ERROR_MAX];
    int k = snprintf(msg, sizeof(msg), "%s: git history: ", g->name);
    if (k < 0 || (size_t)k >= sizeof(msg))
        k = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + k, sizeof(msg) - (size_t)k, fmt, ap);
    va_end(ap);
    stw_status st = g->sink.note(g->sink.ctx, msg);
    if (st != STW_OK)
        stw_fail(err, st, "%s: git history: %s", g->name,
                 st == STW_ERR_NOMEM ? "out of memory"
                                     : "a note could not be kept");
    return st;
}

/* libgit2's last message, with the directory read (perhaps a temporary
 * copy) spelled as the repository's name. */
static void git_message(const stw_gitrepo *g, char *out, size_t cap)
{
    const git_error *e = git_error_last();
    const char *m = e && e->message ? e->message : "unreadable";
    size_t dl = strlen(g->dir), w = 0;
    out[0] = 0;
    for (const char *p = m; *p && w + 1 < cap;) {
        if (dl && !strncmp(p, g->dir, dl)) {
            int k = snprintf(out + w, cap - w, "%s", g->name);
            w = k < 0 || (size_t)k >= cap - w ? cap - 1 : w + (size_t)k;
            p += dl;
            continue;
        }
        out[w++] = *p++;
        out[w] = 0;
    }
}

/* An object libgit2 could not read: counted, the first one described. */
static void bad_object(stw_gitrepo *g, obj *o)
{
    o->flags |= OBJ_BAD;
    g->st.skipped++;
    if (g->n_bad++)
        return;
    char hex[GIT_OID_HEXSZ + 1], why[STW_ERROR_MAX / 2];
    git_oid_tostr(hex, sizeof(hex), &o->id);
    git_message(g, why, sizeof(why));
    /* Name the file: a loose object's own, else the packs'. */
    char loose[STW_MAX_PATH + 64];
    struct stat sb;
    snprintf(loose, sizeof(loose), "%s/objects/%.2s/%s", g->dir, hex, hex + 2);
    if (lstat(loose, &sb) == 0)
        snprintf(g->first_bad, sizeof(g->first_bad), "objects/%.2s/%s: %s", hex,
                 hex + 2, why);
    else
        snprintf(g->first_bad, sizeof(g->first_bad), "%s (packed): %s", hex,
                 why);
}

/* The last 20 bytes of the file at path into out; false if unreadable. */
static bool read_tail(const char *path, off_t from_end, unsigned char out[20])
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW);
    if (fd < 0)
        return false;
    struct stat sb;
    bool ok = fstat(fd, &sb) == 0 && sb.st_size >= from_end &&
              pread(fd, out, 20, sb.st_size - from_end) == 20;
    close(fd);
    return ok;
}

/* A pack ends with the checksum of its bytes, and its index repeats it:
 * a pack cut short or replaced no longer matches, and the note can name
 * the file (libgit2 only says an object is missing). Not a full hash. */
/* Rebuilds the index of one pack with libgit2's own indexer, and replaces
 * the image's .idx (and .pack) by what it wrote. The image's index is
 * untrusted: a crafted one can make two deltas each other's base, and
 * libgit2's readers then follow that loop for ever. The indexer resolves
 * deltas from their bases up and computes every object id from content,
 * so a loop, a delta without a base or a lying index ends in an error
 * here, and the pack is then left out. *usable is true when the pack
 * is; *why says otherwise. Fails only when memory does (STW_ERR_NOMEM): a
 * pack is never left out for that. */
static stw_status reindex_pack(const char *dir, const char *pack, bool *usable,
                               char *why, size_t whylen, stw_error *err)
{
    *usable = false;
    char out[STW_MAX_PATH + 96];
    snprintf(out, sizeof(out), "%s/reindex", dir);
    if (mkdir(out, 0700) != 0) {
        snprintf(why, whylen, "cannot make a scratch directory");
        return STW_OK;
    }
    git_indexer *ix = NULL;
    git_indexer_options io = GIT_INDEXER_OPTIONS_INIT;
    git_indexer_progress stats = {0};
    int fd = open(pack, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int rc = fd < 0 ? -1 : git_indexer_new(&ix, out, 0600, NULL, &io);
    static const size_t chunk = 256u << 10;
    char *buf = rc == 0 ? stw_malloc(chunk) : NULL;
    bool nomem = rc == 0 && !buf;
    for (ssize_t n; rc == 0;) {
        if (!buf || (n = read(fd, buf, chunk)) < 0) {
            rc = -1;
            break;
        }
        if (n == 0) {
            rc = git_indexer_commit(ix, &stats);
            break;
        }
        rc = git_indexer_append(ix, buf, (size_t)n, &stats);
    }
    free(buf);
    if (fd >= 0)
        close(fd);
    bool ok = rc == 0;
    if (!ok && !nomem) {
        const git_error *e = git_error_last();
        snprintf(why, whylen, "%s",
                 e && e->message ? e->message : "unreadable");
    }
    /* Replace the image's pack and index by the indexer's (same objects,
     * named by their checksum), or drop the pack when it failed. */
    char idx[STW_MAX_PATH + 400];
    snprintf(idx, sizeof(idx), "%.*s.idx", (int)(strlen(pack) - 5), pack);
    unlink(idx);
    unlink(pack);
    DIR *d = opendir(out);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char from[STW_MAX_PATH + 400], to[STW_MAX_PATH + 400];
        snprintf(from, sizeof(from), "%s/%s", out, e->d_name);
        snprintf(to, sizeof(to), "%s/%s", dir, e->d_name);
        if (!ok || rename(from, to) != 0)
            unlink(from);
    }
    if (d)
        closedir(d);
    rmdir(out);
    git_indexer_free(ix);
    if (nomem)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    *usable = ok;
    return STW_OK;
}

/* True when the loose object file at path inflates (with zlib, the
 * library git and libgit2 use) to exactly "<type> <size>\0" + size bytes,
 * size within max. libgit2 1.5 can spin for ever on a loose object whose
 * stream goes on past its declared size (found by fuzz_layer), so no
 * loose object reaches it unchecked. */
static bool loose_ok(const char *path, uint64_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    z_stream z = {0};
    if (inflateInit(&z) != Z_OK) {
        close(fd);
        return false;
    }
    unsigned char in[16384], out[16384];
    char head[64];
    size_t hlen = 0;
    uint64_t total = 0, want = UINT64_MAX;
    int rc = Z_OK;
    while (rc == Z_OK) {
        ssize_t n = read(fd, in, sizeof(in));
        if (n <= 0)
            break;
        z.next_in = in;
        z.avail_in = (uInt)n;
        while (z.avail_in && rc == Z_OK) {
            z.next_out = out;
            z.avail_out = sizeof(out);
            rc = inflate(&z, Z_NO_FLUSH);
            size_t got = sizeof(out) - z.avail_out;
            for (size_t i = 0; i < got && want == UINT64_MAX; i++) {
                if (hlen == sizeof(head) - 1) {
                    rc = Z_DATA_ERROR; /* no header ends this late */
                    break;
                }
                head[hlen++] = (char)out[i];
                if (!out[i]) {
                    const char *sp = memchr(head, ' ', hlen);
                    char *end;
                    unsigned long long v = sp ? strtoull(sp + 1, &end, 10) : 0;
                    if (!sp || *end || v > max)
                        rc = Z_DATA_ERROR;
                    want = hlen + v;
                }
            }
            total += got;
            if (total > want || (want == UINT64_MAX && total > sizeof(head)))
                rc = Z_DATA_ERROR;
        }
    }
    inflateEnd(&z);
    close(fd);
    return rc == Z_STREAM_END && total == want;
}

/* Removes from the private copy every loose object that is not one
 * (loose_ok), so libgit2 never reads it; returns how many, and the first
 * one's name ("objects/ab/cdef...") in first. */
static size_t check_loose(stw_gitrepo *g, char *first, size_t n)
{
    size_t bad = 0;
    first[0] = 0;
    for (int i = 0; i < 256; i++) {
        char d[STW_MAX_PATH + 96];
        snprintf(d, sizeof(d), "%s/objects/%02x", g->dir, i);
        DIR *dir = opendir(d);
        for (struct dirent *e; dir && (e = readdir(dir)) != NULL;) {
            if (e->d_name[0] == '.')
                continue;
            char p[STW_MAX_PATH + 400];
            snprintf(p, sizeof(p), "%s/%s", d, e->d_name);
            if (!loose_ok(p, g->lim.max_object_bytes)) {
                if (!bad++)
                    snprintf(first, n, "objects/%02x/%.60s", i, e->d_name);
                unlink(p);
            }
        }
        if (dir)
            closedir(dir);
    }
    return bad;
}

static stw_status check_packs(stw_gitrepo *g, stw_error *err)
{
    char dir[STW_MAX_PATH + 64];
    snprintf(dir, sizeof(dir), "%s/objects/pack", g->dir);
    DIR *d = opendir(dir);
    if (!d)
        return STW_OK;
    stw_status st = STW_OK;
    struct dirent *e;
    char packs[STW_GIT_MAX_PACKS][STW_MAX_PATH + 400];
    size_t n_packs = 0;
    while (st == STW_OK && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".idx") || l > 255)
            continue;
        char idx[STW_MAX_PATH + 400], pack[STW_MAX_PATH + 400];
        snprintf(idx, sizeof(idx), "%s/%s", dir, e->d_name);
        snprintf(pack, sizeof(pack), "%s/%.*s.pack", dir, (int)(l - 4),
                 e->d_name);
        unsigned char want[20], have[20];
        if (!read_tail(idx, 40, want))
            st = note(g, err, "objects/pack/%s: unreadable pack index",
                      e->d_name);
        else if (!read_tail(pack, 20, have))
            st = note(g, err, "objects/pack/%.*s.pack: missing or unreadable",
                      (int)(l - 4), e->d_name);
        else if (memcmp(want, have, 20))
            st = note(g, err,
                      "objects/pack/%.*s.pack: truncated or damaged (its "
                      "checksum is not the one its index names)",
                      (int)(l - 4), e->d_name);
        else if (n_packs < STW_ARRAY_LEN(packs))
            snprintf(packs[n_packs++], sizeof(packs[0]), "%s", pack);
        else {
            /* Unindexed, its index could not be trusted: left out. */
            unlink(idx);
            unlink(pack);
            st = note(g, err, "objects/pack/%s: more than %d packs; not read",
                      e->d_name, STW_GIT_MAX_PACKS);
        }
    }
    closedir(d);
    /* Indexed after the directory walk: the indexer writes into it. */
    for (size_t i = 0; st == STW_OK && i < n_packs; i++) {
        char why[256];
        bool usable;
        st = reindex_pack(dir, packs[i], &usable, why, sizeof(why), err);
        if (st == STW_OK && !usable)
            st = note(g, err,
                      "objects/pack/%s: not a usable pack (%s); its "
                      "objects are not read",
                      strrchr(packs[i], '/') + 1, why);
    }
    return st;
}

static bool too_big(stw_gitrepo *g, const obj *o)
{
    if (o->size <= g->lim.max_object_bytes)
        return false;
    g->n_big++;
    g->st.skipped++;
    return true;
}

/* Opens (or opens again) the repository and its object database. Bare:
 * the config is not read at open (and never trusted), and no parent
 * directory is searched. */
static int open_repo(stw_gitrepo *g)
{
    git_odb_free(g->odb);
    git_repository_free(g->repo);
    g->odb = NULL;
    g->repo = NULL;
    unsigned flags = GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE |
                     GIT_REPOSITORY_OPEN_NO_DOTGIT;
    if (git_repository_open_ext(&g->repo, g->dir, flags, NULL) < 0)
        return -1;
    return git_repository_odb(&g->odb, g->repo);
}

stw_status stw_gitrepo_create(const char *dir, const char *name,
                              const stw_gitrepo_limits *lim, stw_gitrepo **out,
                              stw_error *err)
{
    *out = NULL;
    pthread_once(&git_once, git_setup);
    if (git_init_rc < 0)
        return stw_fail(err, STW_ERR_IO, "%s: libgit2 failed to initialise",
                        name);
    /* libgit2 follows alternates wherever they point: on the scanning
     * machine, not in the image. */
    char alt[STW_MAX_PATH + 64];
    struct stat sb;
    snprintf(alt, sizeof(alt), "%s/objects/info/alternates", dir);
    if (lstat(alt, &sb) == 0)
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s: objects/info/alternates names object stores "
                        "outside the repository; not read",
                        name);
    stw_gitrepo *g = stw_calloc(1, sizeof(*g));
    if (!g || !(g->dir = stw_strdup(dir)) || !(g->name = stw_strdup(name))) {
        stw_gitrepo_destroy(g);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    if (lim)
        g->lim = *lim;
    if (!g->lim.max_objects)
        g->lim.max_objects = STW_GIT_MAX_OBJECTS;
    if (!g->lim.max_object_bytes)
        g->lim.max_object_bytes = STW_GIT_MAX_OBJECT_BYTES;
    if (!g->lim.max_scan_bytes)
        g->lim.max_scan_bytes = STW_GIT_MAX_SCAN_BYTES;
    if (!g->lim.max_tree_entries)
        g->lim.max_tree_entries = STW_GIT_MAX_TREE_ENTRIES;
    if (open_repo(g) < 0) {
        char why[STW_ERROR_MAX / 2];
        git_message(g, why, sizeof(why));
        stw_gitrepo_destroy(g);
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s: not a readable repository: %s", name, why);
    }
    g->t.seed = (uint64_t)time(NULL) * 0xbf58476d1ce4e5b9ull ^
                (uint64_t)(uintptr_t)g ^ (uint64_t)getpid() << 32;
    *out = g;
    return STW_OK;
}

void stw_gitrepo_destroy(stw_gitrepo *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->t.cap; i++)
        free(g->t.slots[i].path);
    free(g->t.slots);
    free(g->commits);
    free(g->parents);
    free(g->order);
    free(g->roots);
    git_odb_free(g->odb);
    git_repository_free(g->repo);
    free(g->dir);
    free(g->name);
    free(g);
}

/* ---- 1. every object id, with its type and size ------------------------- */

static int on_object(const git_oid *id, void *payload)
{
    stw_gitrepo *g = payload;
    if (table_find(&g->t, id))
        return 0; /* loose and packed, or in two packs */
    if (g->t.n >= g->lim.max_objects) {
        g->capped_objects = true;
        return 1;
    }
    if (!table_add(&g->t, id)) {
        g->nomem = true;
        return 1;
    }
    return 0;
}

static stw_status collect(stw_gitrepo *g, stw_error *err)
{
    stw_status st = check_packs(g, err);
    char first[96];
    size_t bad_loose = st == STW_OK ? check_loose(g, first, sizeof(first)) : 0;
    if (st == STW_OK && bad_loose)
        st =
            note(g, err,
                 "%zu loose objects unreadable (damaged, or over %llu "
                 "bytes), first %s; not read",
                 bad_loose, (unsigned long long)g->lim.max_object_bytes, first);
    if (st != STW_OK)
        return st;
    /* The packs on disk changed under the open object database (each one
     * re-indexed or left out): open it again. */
    if (open_repo(g) < 0) {
        char why[STW_ERROR_MAX / 2];
        git_message(g, why, sizeof(why));
        return note(g, err, "not readable after its packs were checked: %s",
                    why);
    }
    int rc = git_odb_foreach(g->odb, on_object, g);
    if (g->nomem)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    if (rc < 0 && rc != GIT_EUSER) {
        char why[STW_ERROR_MAX / 2];
        git_message(g, why, sizeof(why));
        st = note(g, err,
                  "the object database is partly unreadable (%s); the "
                  "objects listed before are read",
                  why);
    }
    if (st == STW_OK && g->capped_objects)
        st = note(g, err, "more than %llu objects; the first %llu are read",
                  (unsigned long long)g->lim.max_objects,
                  (unsigned long long)g->lim.max_objects);
    g->st.objects = g->t.n;
    for (size_t i = 0; st == STW_OK && i < g->t.cap; i++) {
        obj *o = &g->t.slots[i];
        if (!(o->flags & OBJ_USED))
            continue;
        size_t len;
        git_object_t type;
        if (git_odb_read_header(&len, &type, g->odb, &o->id) < 0) {
            bad_object(g, o);
            continue;
        }
        o->type = (int8_t)type;
        o->size = len;
    }
    return st;
}

/* ---- 2. commits, their parents and order -------------------------------- */

static stw_status read_commits(stw_gitrepo *g, stw_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < g->t.cap; i++) {
        obj *o = &g->t.slots[i];
        if (live(o, GIT_OBJECT_COMMIT))
            n++;
    }
    if (!n)
        return STW_OK;
    if (!(g->commits = stw_calloc(n, sizeof(*g->commits))) ||
        !(g->order = stw_malloc(n * sizeof(*g->order))))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < g->t.cap; i++) {
        obj *o = &g->t.slots[i];
        if (live(o, GIT_OBJECT_COMMIT)) {
            o->commit = (int32_t)g->n_commits;
            g->commits[g->n_commits++].o = o;
        }
    }
    size_t cap_par = 0;
    for (size_t i = 0; i < n; i++) {
        commit *c = &g->commits[i];
        git_commit *gc;
        if (too_big(g, c->o))
            continue;
        if (git_commit_lookup(&gc, g->repo, &c->o->id) < 0) {
            bad_object(g, c->o);
            continue;
        }
        c->parsed = true;
        c->time = git_commit_time(gc);
        c->tree = *git_commit_tree_id(gc);
        c->par = g->n_parents;
        unsigned np = git_commit_parentcount(gc);
        for (unsigned k = 0; k < np; k++) {
            obj *p = table_find(&g->t, git_commit_parent_id(gc, k));
            if (!p || p->commit < 0 || p->type != GIT_OBJECT_COMMIT)
                continue; /* a shallow clone's boundary, or missing */
            if (g->n_parents == cap_par) {
                size_t nc = cap_par ? cap_par * 2 : 1024;
                size_t *v = stw_realloc(g->parents, nc * sizeof(*v));
                if (!v) {
                    git_commit_free(gc);
                    return stw_fail(err, STW_ERR_NOMEM, "out of memory");
                }
                g->parents = v;
                cap_par = nc;
            }
            g->parents[g->n_parents++] = (size_t)p->commit;
            c->npar++;
        }
        git_commit_free(gc);
    }
    g->st.commits = n;
    return STW_OK;
}

static stw_status add_root(stw_gitrepo *g, obj *o, stw_error *err)
{
    if (g->n_roots == g->cap_roots) {
        size_t nc = g->cap_roots ? g->cap_roots * 2 : 16;
        obj **v = stw_realloc(g->roots, nc * sizeof(*v));
        if (!v)
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        g->roots = v;
        g->cap_roots = nc;
    }
    g->roots[g->n_roots++] = o;
    return STW_OK;
}

/* Marks what a ref names as reachable: annotated tags are followed to what
 * they tag; a commit is marked and goes on the stack (of n_commits slots)
 * for the walk over parents; a tree or a blob is a root of its own. */
static stw_status mark_ref_target(stw_gitrepo *g, const git_oid *id,
                                  size_t *stack, size_t *sp, stw_error *err)
{
    obj *o = table_find(&g->t, id);
    for (unsigned depth = 0; o && depth <= STW_GIT_MAX_TAG_DEPTH; depth++) {
        if (o->flags & (OBJ_BAD | OBJ_REACHABLE))
            return STW_OK;
        o->flags |= OBJ_REACHABLE;
        if (o->type == GIT_OBJECT_COMMIT) {
            if (o->commit >= 0)
                stack[(*sp)++] = (size_t)o->commit;
            return STW_OK;
        }
        if (o->type == GIT_OBJECT_TREE || o->type == GIT_OBJECT_BLOB)
            return add_root(g, o, err);
        if (o->type != GIT_OBJECT_TAG || too_big(g, o))
            return STW_OK;
        git_tag *tag;
        if (git_tag_lookup(&tag, g->repo, &o->id) < 0) {
            bad_object(g, o);
            return STW_OK;
        }
        o = table_find(&g->t, git_tag_target_id(tag));
        git_tag_free(tag);
    }
    return STW_OK;
}

/* Reachability: refs, HEAD and the stash's reflog name commits; every
 * parent of a reachable commit is reachable. A commit is marked when it is
 * pushed, so the stack never holds more than n_commits. */
static stw_status mark_reachable(stw_gitrepo *g, stw_error *err)
{
    size_t *stack = stw_malloc((g->n_commits + 1) * sizeof(*stack));
    if (!stack)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    size_t sp = 0;
    stw_status st = STW_OK;
    git_reference_iterator *it = NULL;
    if (git_reference_iterator_new(&it, g->repo) == 0) {
        git_reference *ref;
        while (st == STW_OK && git_reference_next(&ref, it) == 0) {
            git_reference *res = NULL;
            if (git_reference_resolve(&res, ref) == 0 &&
                git_reference_target(res))
                st = mark_ref_target(g, git_reference_target(res), stack, &sp,
                                     err);
            git_reference_free(res);
            git_reference_free(ref);
        }
        git_reference_iterator_free(it);
    }
    git_oid id;
    if (st == STW_OK && git_reference_name_to_id(&id, g->repo, "HEAD") == 0)
        st = mark_ref_target(g, &id, stack, &sp, err);
    git_reflog *log = NULL;
    if (st == STW_OK && git_reflog_read(&log, g->repo, "refs/stash") == 0) {
        size_t n = git_reflog_entrycount(log);
        for (size_t i = 0; st == STW_OK && i < n; i++)
            st = mark_ref_target(
                g, git_reflog_entry_id_new(git_reflog_entry_byindex(log, i)),
                stack, &sp, err);
        git_reflog_free(log);
    }
    while (st == STW_OK && sp) {
        const commit *c = &g->commits[stack[--sp]];
        for (size_t k = 0; k < c->npar; k++) {
            size_t p = g->parents[c->par + k];
            if (!(g->commits[p].o->flags & OBJ_REACHABLE)) {
                g->commits[p].o->flags |= OBJ_REACHABLE;
                stack[sp++] = p;
            }
        }
    }
    free(stack);
    for (size_t i = 0; i < g->n_commits; i++)
        if (!(g->commits[i].o->flags & OBJ_REACHABLE))
            g->st.unreachable++;
    return st;
}

/* Corrected times and generations, parents before children (git's own
 * commit-graph does the same so that a skewed clock cannot make a child
 * older than its parent). Iterative: a history is as deep as it is long. */
static stw_status correct_times(stw_gitrepo *g, stw_error *err)
{
    size_t n = g->n_commits;
    size_t cap = n + g->n_parents + 1;
    size_t *stack = stw_malloc(cap * sizeof(*stack));
    uint8_t *state = stw_calloc(n ? n : 1, 1); /* 0 new, 1 open, 2 done */
    if (!stack || !state) {
        free(stack);
        free(state);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (state[i])
            continue;
        size_t sp = 0;
        stack[sp++] = i;
        while (sp) {
            size_t ci = stack[sp - 1];
            commit *c = &g->commits[ci];
            if (state[ci] == 0) {
                state[ci] = 1;
                for (size_t k = 0; k < c->npar; k++) {
                    size_t p = g->parents[c->par + k];
                    if (state[p] == 0 && sp < cap)
                        stack[sp++] = p;
                }
                continue;
            }
            sp--;
            if (state[ci] == 2)
                continue; /* pushed twice by two children */
            c->eff = c->time;
            c->gen = 1;
            for (size_t k = 0; k < c->npar; k++) {
                const commit *p = &g->commits[g->parents[c->par + k]];
                if (state[g->parents[c->par + k]] != 2)
                    continue; /* a cycle only a forged history has */
                if (p->eff > c->eff)
                    c->eff = p->eff;
                if (p->gen + 1 > c->gen)
                    c->gen = p->gen + 1;
            }
            state[ci] = 2;
        }
    }
    free(stack);
    free(state);
    return STW_OK;
}

static int cmp_commit(const void *x, const void *y)
{
    const commit *a = *(const commit *const *)x;
    const commit *b = *(const commit *const *)y;
    bool ra = a->o->flags & OBJ_REACHABLE, rb = b->o->flags & OBJ_REACHABLE;
    if (ra != rb)
        return ra ? -1 : 1;
    if (a->eff != b->eff)
        return a->eff < b->eff ? -1 : 1;
    if (a->gen != b->gen)
        return a->gen < b->gen ? -1 : 1;
    return git_oid_cmp(&a->o->id, &b->o->id);
}

/* ---- 3. each blob's oldest commit and path ------------------------------ */

/* Walks the tree id at g->path[0..plen) for commit ci (-1: a tree a ref
 * names directly): each blob not named yet gets this commit and path. A
 * tree walked before is not walked again: the commit that walked it first
 * is older (or reachable where this one is not), and so are its blobs'. */
static stw_status walk_tree(stw_gitrepo *g, const git_oid *id, size_t plen,
                            int32_t ci, bool reachable, stw_error *err)
{
    obj *t = table_find(&g->t, id);
    if (!t || t->type != GIT_OBJECT_TREE || (t->flags & (OBJ_SEEN | OBJ_BAD)))
        return STW_OK;
    t->flags |= OBJ_SEEN;
    if (g->capped_trees || too_big(g, t))
        return STW_OK;
    git_tree *tree;
    if (git_tree_lookup(&tree, g->repo, id) < 0) {
        bad_object(g, t);
        return STW_OK;
    }
    stw_status st = STW_OK;
    size_t n = git_tree_entrycount(tree);
    for (size_t i = 0; st == STW_OK && i < n; i++) {
        if (++g->tree_entries > g->lim.max_tree_entries) {
            g->capped_trees = true;
            st = note(g, err,
                      "more than %llu tree entries; blobs not named by "
                      "then are reported without their commit",
                      (unsigned long long)g->lim.max_tree_entries);
            break;
        }
        const git_tree_entry *e = git_tree_entry_byindex(tree, i);
        git_object_t type = git_tree_entry_type(e);
        if (type != GIT_OBJECT_BLOB && type != GIT_OBJECT_TREE)
            continue; /* a submodule's commit: another repository's */
        const char *name = git_tree_entry_name(e);
        size_t nl = strlen(name);
        if (plen + (plen ? 1 : 0) + nl > STW_MAX_PATH)
            continue;
        size_t at = plen;
        if (plen)
            g->path[at++] = '/';
        memcpy(g->path + at, name, nl + 1);
        if (type == GIT_OBJECT_TREE) {
            st =
                walk_tree(g, git_tree_entry_id(e), at + nl, ci, reachable, err);
        } else {
            obj *b = table_find(&g->t, git_tree_entry_id(e));
            if (b && b->type == GIT_OBJECT_BLOB && !(b->flags & OBJ_SEEN)) {
                b->flags |= OBJ_SEEN | (reachable ? OBJ_REACHABLE : 0);
                b->commit = ci;
                if (!(b->path = stw_strdup(g->path)))
                    st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
            }
        }
        g->path[plen] = 0;
    }
    git_tree_free(tree);
    return st;
}

static stw_status name_blobs(stw_gitrepo *g, stw_error *err)
{
    stw_status st = STW_OK;
    /* Reachable commits, then what refs name directly, then the rest. */
    size_t i = 0;
    for (; st == STW_OK && i < g->n_commits; i++) {
        commit *c = g->order[i];
        if (!(c->o->flags & OBJ_REACHABLE))
            break;
        g->path[0] = 0;
        if (c->parsed)
            st = walk_tree(g, &c->tree, 0, c->o->commit, true, err);
    }
    for (size_t r = 0; st == STW_OK && r < g->n_roots; r++) {
        obj *o = g->roots[r];
        g->path[0] = 0;
        if (o->type == GIT_OBJECT_TREE)
            st = walk_tree(g, &o->id, 0, -1, true, err);
        else
            o->flags |= OBJ_SEEN; /* named by the ref, with no path */
    }
    for (; st == STW_OK && i < g->n_commits; i++) {
        commit *c = g->order[i];
        g->path[0] = 0;
        if (c->parsed)
            st = walk_tree(g, &c->tree, 0, c->o->commit, false, err);
    }
    return st;
}

/* ---- 4. scanning, oldest first ------------------------------------------ */

typedef struct unit {
    obj *o;
    size_t rank; /* of the blob's commit; SIZE_MAX: none */
} unit;

static int cmp_unit(const void *x, const void *y)
{
    const unit *a = x, *b = y;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    bool ra = a->o->flags & OBJ_REACHABLE, rb = b->o->flags & OBJ_REACHABLE;
    if (ra != rb)
        return ra ? -1 : 1;
    int c = strcmp(a->o->path ? a->o->path : "", b->o->path ? b->o->path : "");
    return c ? c : git_oid_cmp(&a->o->id, &b->o->id);
}

/* Hands one buffer to the sink as a whole file, within the byte budget. */
static stw_status emit(stw_gitrepo *g, const stw_finding_git *where,
                       const void *p, size_t n, stw_error *err)
{
    if (g->st.bytes + n > g->lim.max_scan_bytes) {
        g->n_budget++;
        g->st.skipped++;
        return STW_OK;
    }
    g->st.bytes += n;
    stw_status st = g->sink.begin(g->sink.ctx, where, n, err);
    if (st == STW_OK && n)
        st = g->sink.data(g->sink.ctx, p, n, err);
    return st == STW_OK ? g->sink.end(g->sink.ctx, err) : st;
}

static void hex_of(const git_oid *id, char out[STW_GIT_OID_HEX])
{
    git_oid_tostr(out, STW_GIT_OID_HEX, id);
}

static stw_status scan_message(stw_gitrepo *g, commit *c, stw_error *err)
{
    if (!c->parsed)
        return STW_OK;
    git_commit *gc;
    if (git_commit_lookup(&gc, g->repo, &c->o->id) < 0) {
        bad_object(g, c->o);
        return STW_OK;
    }
    /* The message only: the author and committer lines stay unread. */
    const char *m = git_commit_message_raw(gc);
    stw_finding_git where = {.source = STW_GIT_COMMIT_MESSAGE,
                             .path = "",
                             .reachable = c->o->flags & OBJ_REACHABLE};
    hex_of(&c->o->id, where.commit);
    stw_status st = m ? emit(g, &where, m, strlen(m), err) : STW_OK;
    git_commit_free(gc);
    return st;
}

/* HEAD's tree into g->head.trees[0], for whether a blob is still in the
 * work tree; stays NULL when HEAD names no readable commit. */
static void head_open(stw_gitrepo *g)
{
    git_oid id;
    g->head.depth = 0;
    g->head.trees[0] = NULL;
    if (git_reference_name_to_id(&id, g->repo, "HEAD") < 0)
        return;
    obj *o = table_find(&g->t, &id);
    if (!o || o->commit < 0 || o->type != GIT_OBJECT_COMMIT ||
        !g->commits[o->commit].parsed)
        return;
    if (git_tree_lookup(&g->head.trees[0], g->repo,
                        &g->commits[o->commit].tree) < 0)
        g->head.trees[0] = NULL;
    else
        g->st.head_trees++;
}

/* Frees the trees held from level keep + 1 down. */
static void head_drop(stw_gitrepo *g, size_t keep)
{
    for (; g->head.depth > keep; g->head.depth--)
        git_tree_free(g->head.trees[g->head.depth]);
}

static void head_close(stw_gitrepo *g)
{
    head_drop(g, 0);
    git_tree_free(g->head.trees[0]);
    g->head.trees[0] = NULL;
}

/* The entry git_tree_entry_bypath(HEAD's tree, path) gives - the same walk
 * by the same rules, so the same answer - or NULL where it gives none;
 * borrowed until the next call. libgit2 caches no tree over 4 KiB, so
 * bypath read and parsed a large directory again for every blob under it
 * (28 of 31 CPU-s on 350k small objects); blobs come sorted by path, so
 * the trees of the directories shared with the last path are kept. */
static const git_tree_entry *head_entry(stw_gitrepo *g, const char *path)
{
    size_t plen = strlen(path), d = 0;
    if (!g->head.trees[0] || plen > STW_MAX_PATH)
        return NULL;
    /* A level is kept when path goes on below it, as bypath would. */
    while (d < g->head.depth &&
           !strncmp(path, g->head_path, g->head.end[d + 1]) &&
           path[g->head.end[d + 1]])
        d++;
    head_drop(g, d);
    memcpy(g->head_path, path, plen + 1);
    const git_tree *tree = g->head.trees[d];
    for (size_t at = g->head.end[d];;) {
        size_t len = strcspn(path + at, "/");
        if (!len)
            return NULL; /* "a//b", "/a": bypath's invalid path */
        memcpy(g->head_name, path + at, len);
        g->head_name[len] = 0;
        const git_tree_entry *e = git_tree_entry_byname(tree, g->head_name);
        if (!e || !path[at + len])
            return e;
        /* Only a tree has more components under it; a trailing slash
         * names the tree itself. */
        if (git_tree_entry_type(e) != GIT_OBJECT_TREE)
            return NULL;
        if (!path[at + len + 1])
            return e;
        git_tree *sub;
        if (git_tree_lookup(&sub, g->repo, git_tree_entry_id(e)) < 0)
            return NULL;
        g->st.head_trees++;
        at += len + 1;
        g->head.trees[++g->head.depth] = sub;
        g->head.end[g->head.depth] = at;
        tree = sub;
    }
}

static stw_status scan_blob(stw_gitrepo *g, obj *o, stw_error *err)
{
    if (too_big(g, o))
        return STW_OK;
    git_odb_object *data;
    if (git_odb_read(&data, g->odb, &o->id) < 0) {
        bad_object(g, o);
        return STW_OK;
    }
    stw_finding_git where = {.source = STW_GIT_BLOB,
                             .path = o->path ? o->path : "",
                             .reachable = o->flags & OBJ_REACHABLE};
    if (o->commit >= 0)
        hex_of(&g->commits[o->commit].o->id, where.commit);
    const git_tree_entry *e;
    if (o->path && g->sink.worktree_has && (e = head_entry(g, o->path)) &&
        git_oid_equal(git_tree_entry_id(e), &o->id))
        where.in_worktree = g->sink.worktree_has(g->sink.ctx, o->path);
    g->st.blobs++;
    stw_status st = emit(g, &where, git_odb_object_data(data),
                         git_odb_object_size(data), err);
    git_odb_object_free(data);
    return st;
}

static stw_status scan_tag(stw_gitrepo *g, obj *o, stw_error *err)
{
    if (too_big(g, o))
        return STW_OK;
    git_tag *tag;
    if (git_tag_lookup(&tag, g->repo, &o->id) < 0) {
        bad_object(g, o);
        return STW_OK;
    }
    const char *m = git_tag_message(tag);
    stw_finding_git where = {.source = STW_GIT_TAG_MESSAGE,
                             .path = "",
                             .reachable = o->flags & OBJ_REACHABLE};
    hex_of(&o->id, where.commit);
    stw_status st = m ? emit(g, &where, m, strlen(m), err) : STW_OK;
    git_tag_free(tag);
    return st;
}

static stw_status scan_all(stw_gitrepo *g, stw_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < g->t.cap; i++) {
        const obj *o = &g->t.slots[i];
        if (live(o, GIT_OBJECT_BLOB))
            n++;
    }
    unit *u = stw_malloc((n ? n : 1) * sizeof(*u));
    if (!u)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < g->t.cap; i++) {
        obj *o = &g->t.slots[i];
        if (live(o, GIT_OBJECT_BLOB)) {
            u[k].o = o;
            u[k++].rank =
                o->commit >= 0 ? g->commits[o->commit].rank : SIZE_MAX;
        }
    }
    stw_sort(u, n, sizeof(*u), cmp_unit);
    head_open(g);
    stw_status st = STW_OK;
    size_t j = 0;
    /* Each commit's message, then the blobs it is the first to hold: what
     * reaches the sink first is the oldest place of a secret. */
    for (size_t r = 0; st == STW_OK && r < g->n_commits; r++) {
        st = scan_message(g, g->order[r], err);
        for (; st == STW_OK && j < n && u[j].rank == r; j++)
            st = scan_blob(g, u[j].o, err);
    }
    for (; st == STW_OK && j < n; j++)
        st = scan_blob(g, u[j].o, err);
    for (size_t i = 0; st == STW_OK && i < g->t.cap; i++) {
        obj *o = &g->t.slots[i];
        if (live(o, GIT_OBJECT_TAG))
            st = scan_tag(g, o, err);
    }
    head_close(g);
    free(u);
    return st;
}

stw_status stw_gitrepo_scan(stw_gitrepo *g, const stw_gitrepo_sink *sink,
                            stw_gitrepo_stats *stats, stw_error *err)
{
    if (g->scanned)
        return stw_fail(err, STW_ERR_USAGE, "%s: scanned twice", g->name);
    g->scanned = true;
    g->sink = *sink;
    stw_status st = collect(g, err);
    if (st == STW_OK)
        st = read_commits(g, err);
    if (st == STW_OK)
        st = mark_reachable(g, err);
    if (st == STW_OK)
        st = correct_times(g, err);
    if (st == STW_OK) {
        for (size_t i = 0; i < g->n_commits; i++)
            g->order[i] = &g->commits[i];
        stw_sort(g->order, g->n_commits, sizeof(*g->order), cmp_commit);
        for (size_t i = 0; i < g->n_commits; i++)
            g->order[i]->rank = i;
        st = name_blobs(g, err);
    }
    if (st == STW_OK)
        st = scan_all(g, err);
    if (st == STW_OK && g->n_bad)
        st = note(g, err,
                  "%llu objects unreadable (a damaged pack or loose "
                  "object?), first %s",
                  (unsigned long long)g->n_bad, g->first_bad);
    if (st == STW_OK && g->n_big)
        st = note(g, err, "%llu objects over %llu bytes not read",
                  (unsigned long long)g->n_big,
                  (unsigned long long)g->lim.max_object_bytes);
    if (st == STW_OK && g->n_budget)
        st =
            note(g, err, "%llu objects not scanned after %llu bytes of history",
                 (unsigned long long)g->n_budget,
                 (unsigned long long)g->lim.max_scan_bytes);
    if (stats)
        *stats = g->st;
    return st;
}
