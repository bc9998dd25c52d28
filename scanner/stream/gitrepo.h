/* gitrepo.h - the whole history of a git repository on disk (a .git
 * directory or a bare repository), read with libgit2: every object of its
 * object database, loose or packed, reachable from a ref or not (amended
 * commits, dropped stashes). Each distinct blob, each commit message and
 * each annotated tag message goes to a sink once, with where it sits in
 * history (finding.h, stw_finding_git): the oldest commit whose tree holds
 * the blob and the path there, whether a ref reaches it, whether the work
 * tree still holds it.
 *
 * "Oldest" is by corrected commit time (a commit is never older than its
 * parents, whatever its clock said), reachable commits first: a blob an
 * amended-away commit and its amendment both hold is named after the
 * amendment, the one a user can `git show`. A commit is reachable from any
 * ref (branches, tags, remotes, notes, refs/stash), HEAD and the entries of
 * the stash's reflog (stash@{1}...), and from nothing else: an amended or
 * rebased commit that only a branch's reflog remembers is unreachable.
 *
 * Hostile repositories: every size is checked against the limits before an
 * object is inflated, and what libgit2 cannot read (a truncated pack, a
 * corrupt loose object, a delta without its base) is a note naming the
 * repository and the object, never a failure of the scan.
 *
 * Process-wide side effect: the first stw_gitrepo_create initialises
 * libgit2 for the process (never shut down) and sets its global options:
 * no system, global or XDG git configuration is read, repository ownership
 * is not checked (the scanner's own temporary copies are read), blobs are
 * not cached. */
#ifndef STW_GITREPO_H
#define STW_GITREPO_H

#include "finding.h"

#include <stdbool.h>
#include <stdint.h>

/* Bounds per repository; zeroes mean the defaults of limits.h. */
typedef struct stw_gitrepo_limits {
    uint64_t max_objects;      /* distinct objects read */
    uint64_t max_object_bytes; /* one object inflated */
    uint64_t max_scan_bytes;   /* blob and message bytes scanned */
    uint64_t max_tree_entries; /* tree entries visited */
} stw_gitrepo_limits;

/* Where history goes. Every callback returns STW_OK to go on; any other
 * status aborts the scan with it. Pointers are borrowed for the call. */
typedef struct stw_gitrepo_sink {
    void *ctx;
    /* One blob or message, whole, between begin and end: g says where in
     * history it is (g->path borrowed until end). */
    stw_status (*begin)(void *ctx, const stw_finding_git *g, uint64_t size,
                        stw_error *err);
    stw_status (*data)(void *ctx, const void *p, size_t n, stw_error *err);
    stw_status (*end)(void *ctx, stw_error *err);
    /* Something was skipped or unreadable: msg names the repository (by the
     * name given to create) and why. May be NULL. */
    stw_status (*note)(void *ctx, const char *msg);
    /* Whether the work tree next to the repository holds a file at path
     * (inside the repository): with HEAD's tree holding the blob there, the
     * blob is in_worktree. NULL: no work tree (a bare repository). */
    bool (*worktree_has)(void *ctx, const char *path);
} stw_gitrepo_sink;

/* What a scan read, for statistics and tests. */
typedef struct stw_gitrepo_stats {
    uint64_t objects;     /* distinct objects in the object database */
    uint64_t commits;     /* commit objects read */
    uint64_t unreachable; /* of which no ref reaches */
    uint64_t blobs;       /* blobs scanned */
    uint64_t bytes;       /* bytes of blobs and messages scanned */
    uint64_t skipped;     /* objects skipped: over a bound or unreadable */
    uint64_t head_trees;  /* trees of HEAD read to tell which blobs the
                             work tree still holds */
} stw_gitrepo_stats;

typedef struct stw_gitrepo stw_gitrepo;

/* Opens the repository in dir (borrowed): a .git directory or a bare
 * repository; neither the repository's config nor any other is read.
 * name (copied) is what notes and errors call it, e.g. "srv/app/.git" -
 * never dir, which may be a temporary copy. lim is copied; NULL means the
 * defaults. A directory that is no repository, or whose object database
 * names alternates (objects/info/alternates: libgit2 would follow them out
 * of the repository), is STW_ERR_FORMAT. *out transferred. */
stw_status stw_gitrepo_create(const char *dir, const char *name,
                              const stw_gitrepo_limits *lim, stw_gitrepo **out,
                              stw_error *err);
void stw_gitrepo_destroy(stw_gitrepo *g);

/* Sends every blob and message to sink (copied), oldest commit first.
 * stats (may be NULL) is filled. Damage is a note; a failure is only a
 * sink's or an allocation's. Once per stw_gitrepo. */
stw_status stw_gitrepo_scan(stw_gitrepo *g, const stw_gitrepo_sink *sink,
                            stw_gitrepo_stats *stats, stw_error *err);

#endif
