/* test_gitrepo.c - git history: repositories built with the real git CLI
 * (packed by gc or loose, branches, tags, dropped stashes, amended commits,
 * bare clones) are read through stw_gitrepo and through a layer that holds
 * them; each planted token is found once, named after the right commit,
 * and damaged repositories end in a note. */
#include "common.h"
#include "gitrepo.h"
#include "layer.h"
#include "limits.h"
#include "matcher.h"
#include "rules.h"
#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* GitHub-token-shaped values with a valid checksum (bench/mint.py ghp
 * git-<name>): rule github-pat reports them; they open nothing. */
#define TOK_GC       "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"
#define TOK_LOOSE    "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"
#define TOK_BRANCH   "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"
#define TOK_TAG      "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"
#define TOK_STASH    "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"
#define TOK_AMEND    "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"
#define TOK_MESSAGE  "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"
#define TOK_WORKTREE "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"
#define TOK_HP_KEEP  "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"
#define TOK_HP_EDIT  "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"
#define TOK_HP_DEEP  "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"
#define TOK_HP_BIG   "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"
#define TOK_HP_FILE  "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"
#define TOK_HP_DIR   "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"
#define TOK_HP_GONE  "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"

/* ---- repositories made by git ------------------------------------------- */

static char *root; /* this test's scratch directory */

/* Runs a shell command in dir with a fixed identity and no user config;
 * dates are given per commit by the callers. */
static void sh(const char *dir, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sh(const char *dir, const char *fmt, ...)
{
    char cmd[8192], body[6144];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && export HOME='%s' GIT_CONFIG_NOSYSTEM=1 "
             "GIT_AUTHOR_NAME=Dev GIT_AUTHOR_EMAIL=dev@example.invalid "
             "GIT_COMMITTER_NAME=Dev GIT_COMMITTER_EMAIL=dev@example.invalid "
             "&& (%s) >/dev/null 2>&1",
             dir, root, body);
    ck_assert_msg(system(cmd) == 0, "failed: %s", body);
}

/* A commit of everything in the work tree at a given second, so "oldest"
 * is not left to the clock. */
static void commit_at(const char *dir, int t, const char *msg)
{
    sh(dir,
       "git add -A && GIT_AUTHOR_DATE='@%d +0000' "
       "GIT_COMMITTER_DATE='@%d +0000' git commit -q --allow-empty -m '%s'",
       1600000000 + t, 1600000000 + t, msg);
}

static void put(const char *dir, const char *name, const char *text)
{
    char *p = tu_path(dir, name);
    char *slash = strrchr(p, '/');
    *slash = 0;
    sh(dir, "mkdir -p '%s'", p);
    *slash = '/';
    tu_write_file(p, text, strlen(text));
    free(p);
}

static char *new_repo(const char *tag)
{
    char *d = tu_mkdtemp(tag);
    sh(d, "git init -q -b main . && git config gc.auto 0");
    put(d, "README", "an application\n");
    commit_at(d, 0, "start");
    return d;
}

/* The full id git gives rev (static buffer per call: copy it). */
static char *rev(const char *dir, const char *r)
{
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "cd '%s' && git rev-parse '%s'", dir, r);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    char buf[128] = {0};
    ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
    pclose(f);
    buf[strcspn(buf, "\n")] = 0;
    return stw_strdup(buf);
}

/* ---- scanning a repository's history with the matcher ------------------- */

static stw_rules *rules;
static stw_matcher *matcher;

typedef struct history {
    stw_finding_list *found;
    char **notes;
    size_t n_notes;
    const char *worktree; /* directory the work tree is in, or NULL */
    stw_finding_git where;
    char path[STW_MAX_PATH + 1];
} history;

static stw_status on_finding(void *ctx, const stw_finding *f)
{
    history *h = ctx;
    stw_finding c = *f;
    c.git = h->where;
    c.git.path = h->path;
    return stw_finding_list_add(h->found, &c);
}

static stw_status h_begin(void *ctx, const stw_finding_git *g, uint64_t size,
                          stw_error *err)
{
    history *h = ctx;
    h->where = *g;
    snprintf(h->path, sizeof(h->path), "%s", g->path);
    return stw_matcher_begin(matcher, "repo/.git", size, on_finding, h, err);
}

static stw_status h_data(void *ctx, const void *p, size_t n, stw_error *err)
{
    (void)ctx;
    return stw_matcher_feed(matcher, p, n, err);
}

static stw_status h_end(void *ctx, stw_error *err)
{
    (void)ctx;
    return stw_matcher_end(matcher, err);
}

static stw_status h_note(void *ctx, const char *msg)
{
    history *h = ctx;
    h->notes = realloc(h->notes, (h->n_notes + 1) * sizeof(*h->notes));
    h->notes[h->n_notes++] = stw_strdup(msg);
    return STW_OK;
}

static bool h_worktree_has(void *ctx, const char *path)
{
    history *h = ctx;
    char *p = tu_path(h->worktree, path);
    bool ok = access(p, F_OK) == 0;
    free(p);
    return ok;
}

static void history_free(history *h)
{
    stw_finding_list_destroy(h->found);
    for (size_t i = 0; i < h->n_notes; i++)
        free(h->notes[i]);
    free(h->notes);
}

/* Scans the repository at gitdir; worktree may be NULL (bare). */
static void scan_repo(const char *gitdir, const char *worktree, history *h,
                      stw_gitrepo_stats *stats)
{
    memset(h, 0, sizeof(*h));
    h->worktree = worktree;
    ck_assert_int_eq(stw_finding_list_create(&h->found), STW_OK);
    stw_finding_list_keep_secrets(h->found);
    stw_gitrepo_sink sink = {.ctx = h,
                             .begin = h_begin,
                             .data = h_data,
                             .end = h_end,
                             .note = h_note,
                             .worktree_has = worktree ? h_worktree_has : NULL};
    stw_gitrepo *g;
    stw_error err = {0};
    ck_assert_msg(stw_gitrepo_create(gitdir, "repo/.git", NULL, &g, &err) ==
                      STW_OK,
                  "%s", err.msg);
    ck_assert_msg(stw_gitrepo_scan(g, &sink, stats, &err) == STW_OK, "%s",
                  err.msg);
    stw_gitrepo_destroy(g);
}

static void scan_worktree_repo(const char *dir, history *h)
{
    char *gitdir = tu_path(dir, ".git");
    scan_repo(gitdir, dir, h, NULL);
    free(gitdir);
}

/* The findings of token tok: exactly one is expected. */
static const stw_finding *only(const stw_finding_list *l, const char *tok)
{
    const stw_finding *hit = NULL;
    for (size_t i = 0; i < stw_finding_list_count(l); i++) {
        const stw_finding *f = stw_finding_list_get(l, i);
        if (f->secret && !strcmp(f->secret, tok)) {
            ck_assert_msg(!hit, "%s found twice (%s and %s)", tok,
                          hit->git.commit, f->git.commit);
            hit = f;
        }
    }
    ck_assert_msg(hit != NULL, "%s not found", tok);
    ck_assert_str_eq(hit->rule, "github-pat");
    return hit;
}

static void expect(const stw_finding *f, stw_git_source src, const char *commit,
                   const char *path, bool reachable, bool in_worktree)
{
    ck_assert_int_eq(f->git.source, src);
    ck_assert_str_eq(f->git.commit, commit);
    ck_assert_str_eq(f->git.path, path);
    ck_assert_int_eq(f->git.reachable, reachable);
    ck_assert_int_eq(f->git.in_worktree, in_worktree);
}

static bool has_note(const history *h, const char *needle)
{
    for (size_t i = 0; i < h->n_notes; i++)
        if (strstr(h->notes[i], needle))
            return true;
    return false;
}

/* A token committed, kept for a commit, then deleted: the blob is in two
 * commits' trees and named after the older. */
static char *deleted_secret_repo(const char *tag, const char *tok, char **added)
{
    char *d = new_repo(tag);
    char text[256];
    snprintf(text, sizeof(text), "REGION=eu\nGITHUB_TOKEN=%s\n", tok);
    put(d, "config/deploy.env", text);
    commit_at(d, 10, "deploy config");
    *added = rev(d, "HEAD");
    put(d, "docs.txt", "more\n");
    commit_at(d, 20, "docs");
    sh(d, "git rm -q config/deploy.env");
    commit_at(d, 30, "remove the token");
    return d;
}

/* ---- the object database, every object ---------------------------------- */

START_TEST(test_gitrepo_deleted_and_packed_by_gc_names_oldest_commit)
{
    char *added;
    char *d = deleted_secret_repo("git-gc", TOK_GC, &added);
    sh(d, "git gc -q --prune=now && test -z \"$(find .git/objects -type f "
          "-path '*/objects/[0-9a-f][0-9a-f]/*')\"");
    history h;
    stw_gitrepo_stats st;
    char *gitdir = tu_path(d, ".git");
    scan_repo(gitdir, d, &h, &st);
    expect(only(h.found, TOK_GC), STW_GIT_BLOB, added, "config/deploy.env",
           true, false);
    ck_assert_int_eq(only(h.found, TOK_GC)->line, 2);
    ck_assert_uint_eq(st.commits, 4);
    ck_assert_uint_eq(st.unreachable, 0);
    ck_assert_uint_eq(h.n_notes, 0);
    history_free(&h);
    free(gitdir);
    free(added);
    free(d);
}
END_TEST

START_TEST(test_gitrepo_deleted_loose_objects_names_oldest_commit)
{
    char *added;
    char *d = deleted_secret_repo("git-loose", TOK_LOOSE, &added);
    sh(d, "test -z \"$(find .git/objects/pack -type f)\"");
    history h;
    scan_worktree_repo(d, &h);
    expect(only(h.found, TOK_LOOSE), STW_GIT_BLOB, added, "config/deploy.env",
           true, false);
    history_free(&h);
    free(added);
    free(d);
}
END_TEST

START_TEST(test_gitrepo_secret_only_on_other_branch_is_reachable)
{
    char *d = new_repo("git-branch");
    sh(d, "git checkout -q -b feature");
    put(d, "src/settings.py", "TOKEN = '" TOK_BRANCH "'\n");
    commit_at(d, 10, "wip");
    char *c = rev(d, "HEAD");
    sh(d, "git checkout -q main");
    history h;
    scan_worktree_repo(d, &h);
    expect(only(h.found, TOK_BRANCH), STW_GIT_BLOB, c, "src/settings.py", true,
           false);
    history_free(&h);
    free(c);
    free(d);
}
END_TEST

START_TEST(test_gitrepo_secret_only_in_tag_is_reachable)
{
    char *d = new_repo("git-tag");
    sh(d, "git checkout -q -b release");
    put(d, "release.cfg", "token: " TOK_TAG "\n");
    commit_at(d, 10, "release build");
    char *c = rev(d, "HEAD");
    sh(d, "git tag -a v1.0 -m 'release 1.0' && git checkout -q main && "
          "git branch -q -D release && git gc -q --prune=now");
    history h;
    scan_worktree_repo(d, &h);
    expect(only(h.found, TOK_TAG), STW_GIT_BLOB, c, "release.cfg", true, false);
    history_free(&h);
    free(c);
    free(d);
}
END_TEST

START_TEST(test_gitrepo_secret_only_in_dropped_stash_is_unreachable)
{
    char *d = new_repo("git-stash");
    put(d, "README", "an application\nexport GH=" TOK_STASH "\n");
    sh(d, "GIT_COMMITTER_DATE='@1600000100 +0000' git stash -q");
    char *w = rev(d, "stash@{0}");
    sh(d, "git stash drop -q");
    history h;
    stw_gitrepo_stats st;
    char *gitdir = tu_path(d, ".git");
    scan_repo(gitdir, d, &h, &st);
    expect(only(h.found, TOK_STASH), STW_GIT_BLOB, w, "README", false, false);
    ck_assert_uint_eq(st.unreachable, 2); /* the stash's work tree + index */
    history_free(&h);
    free(gitdir);
    free(w);
    free(d);
}
END_TEST

START_TEST(test_gitrepo_secret_kept_in_stash_is_reachable)
{
    char *d = new_repo("git-stash-kept");
    put(d, "README", "export GH=" TOK_STASH "\n");
    sh(d, "git stash -q");
    put(d, "README", "two\n");
    sh(d, "git stash -q"); /* the first is stash@{1}: only the reflog */
    char *w = rev(d, "stash@{1}");
    history h;
    scan_worktree_repo(d, &h);
    expect(only(h.found, TOK_STASH), STW_GIT_BLOB, w, "README", true, false);
    history_free(&h);
    free(w);
    free(d);
}
END_TEST

START_TEST(test_gitrepo_secret_only_in_amended_commit_is_unreachable)
{
    char *d = new_repo("git-amend");
    put(d, "app.ini", "[gh]\ntoken = " TOK_AMEND "\n");
    commit_at(d, 10, "app config");
    char *old = rev(d, "HEAD");
    put(d, "app.ini", "[gh]\ntoken = from-the-environment\n");
    sh(d, "git add -A && GIT_COMMITTER_DATE='@1600000020 +0000' "
          "git commit -q --amend -m 'app config'");
    history h;
    scan_worktree_repo(d, &h);
    expect(only(h.found, TOK_AMEND), STW_GIT_BLOB, old, "app.ini", false,
           false);
    history_free(&h);
    free(old);
    free(d);
}
END_TEST

START_TEST(test_gitrepo_secret_in_commit_message)
{
    char *d = new_repo("git-message");
    put(d, "ci.yml", "steps: []\n");
    commit_at(d, 10, "ci: use token " TOK_MESSAGE " for now");
    char *c = rev(d, "HEAD");
    history h;
    scan_worktree_repo(d, &h);
    expect(only(h.found, TOK_MESSAGE), STW_GIT_COMMIT_MESSAGE, c, "", true,
           false);
    history_free(&h);
    free(c);
    free(d);
}
END_TEST

START_TEST(test_gitrepo_secret_in_tag_message)
{
    char *d = new_repo("git-tag-message");
    put(d, "ci.yml", "steps: []\n");
    commit_at(d, 10, "ci");
    sh(d, "git tag -a v1 -m 'release, deploy token %s'", TOK_MESSAGE);
    char *t = rev(d, "v1"); /* the annotated tag object, not its commit */
    history h;
    scan_worktree_repo(d, &h);
    expect(only(h.found, TOK_MESSAGE), STW_GIT_TAG_MESSAGE, t, "", true, false);
    history_free(&h);
    free(t);
    free(d);
}
END_TEST

START_TEST(test_gitrepo_bare_clone_has_the_history)
{
    char *added;
    char *d = deleted_secret_repo("git-bare-src", TOK_GC, &added);
    char *bare = tu_mkdtemp("git-bare");
    sh(bare, "git clone -q --bare '%s' repo.git", d);
    char *gitdir = tu_path(bare, "repo.git");
    history h;
    scan_repo(gitdir, NULL, &h, NULL);
    expect(only(h.found, TOK_GC), STW_GIT_BLOB, added, "config/deploy.env",
           true, false);
    history_free(&h);
    free(gitdir);
    free(bare);
    free(added);
    free(d);
}
END_TEST

START_TEST(test_gitrepo_secret_still_in_worktree_says_so)
{
    char *d = new_repo("git-worktree");
    put(d, ".env", "GH_TOKEN=" TOK_WORKTREE "\n");
    commit_at(d, 10, "env");
    char *c = rev(d, "HEAD");
    commit_at(d, 20, "later, same tree");
    history h;
    scan_worktree_repo(d, &h);
    expect(only(h.found, TOK_WORKTREE), STW_GIT_BLOB, c, ".env", true, true);
    history_free(&h);
    free(c);
    free(d);
}
END_TEST

/* Which blobs HEAD still holds, over paths that share directories, differ
 * in one character, become a directory or leave: each answer as
 * git_tree_entry_bypath gives it, and HEAD's trees read once per run of
 * paths under them, not once per blob (a 300-file directory read again
 * for every blob in it was most of a many-object scan). */
START_TEST(test_gitrepo_worktree_lookups_share_head_trees)
{
    char *d = new_repo("git-headpath");
    put(d, "a/b/keep.env", "T=" TOK_HP_KEEP "\n");
    put(d, "a/b2.env", "T=" TOK_HP_EDIT "\n");
    put(d, "a/bc/d/deep.env", "T=" TOK_HP_DEEP "\n");
    sh(d, "mkdir big && for i in $(seq -w 0 299); do echo filler $i "
          ">big/f$i.txt; done");
    put(d, "big/f0150.env", "T=" TOK_HP_BIG "\n");
    put(d, "conf", "T=" TOK_HP_FILE "\n");
    put(d, "gone/old.env", "T=" TOK_HP_GONE "\n");
    commit_at(d, 10, "everything");
    char *first = rev(d, "HEAD");
    put(d, "a/b2.env", "T=edited\n");
    sh(d, "git rm -q -r gone conf");
    put(d, "conf/x.env", "T=" TOK_HP_DIR "\n");
    commit_at(d, 20, "edit, remove, conf becomes a directory");
    char *second = rev(d, "HEAD");
    sh(d, "git gc -q");
    history h;
    stw_gitrepo_stats st;
    char *gitdir = tu_path(d, ".git");
    scan_repo(gitdir, d, &h, &st);
    expect(only(h.found, TOK_HP_KEEP), STW_GIT_BLOB, first, "a/b/keep.env",
           true, true);
    expect(only(h.found, TOK_HP_EDIT), STW_GIT_BLOB, first, "a/b2.env", true,
           false);
    expect(only(h.found, TOK_HP_DEEP), STW_GIT_BLOB, first, "a/bc/d/deep.env",
           true, true);
    expect(only(h.found, TOK_HP_BIG), STW_GIT_BLOB, first, "big/f0150.env",
           true, true);
    expect(only(h.found, TOK_HP_FILE), STW_GIT_BLOB, first, "conf", true,
           false);
    expect(only(h.found, TOK_HP_GONE), STW_GIT_BLOB, first, "gone/old.env",
           true, false);
    expect(only(h.found, TOK_HP_DIR), STW_GIT_BLOB, second, "conf/x.env", true,
           true);
    /* HEAD's root once; then a, a/b, a/bc, a/bc/d and big for the first
     * commit's sorted run of blobs, a and conf for the second's. A lookup
     * per blob would read over 600 trees. */
    ck_assert_uint_le(st.head_trees, 8);
    history_free(&h);
    free(gitdir);
    free(first);
    free(second);
    free(d);
}
END_TEST

START_TEST(test_gitrepo_clean_repository_gives_nothing)
{
    /* Real source text: libgit2's own headers, as Debian ships them. */
    char *d = new_repo("git-clean");
    sh(d, "cp -r /usr/include/git2 src && cp /usr/include/git2.h src/");
    commit_at(d, 10, "import headers");
    sh(d, "git rm -q -r src/sys");
    commit_at(d, 20, "drop sys");
    sh(d, "git gc -q");
    history h;
    stw_gitrepo_stats st;
    char *gitdir = tu_path(d, ".git");
    scan_repo(gitdir, d, &h, &st);
    ck_assert_msg(stw_finding_list_count(h.found) == 0, "%s in %s",
                  stw_finding_list_count(h.found)
                      ? stw_finding_list_get(h.found, 0)->rule
                      : "",
                  stw_finding_list_count(h.found)
                      ? stw_finding_list_get(h.found, 0)->git.path
                      : "");
    ck_assert_uint_gt(st.blobs, 50);
    ck_assert_uint_eq(h.n_notes, 0);
    history_free(&h);
    free(gitdir);
    free(d);
}
END_TEST

/* ---- damaged repositories ----------------------------------------------- */

START_TEST(test_gitrepo_truncated_pack_is_a_note)
{
    char *added;
    char *d = deleted_secret_repo("git-trunc", TOK_GC, &added);
    sh(d, "git gc -q --prune=now && p=$(ls .git/objects/pack/*.pack) && "
          "truncate -s $(( $(stat -c %%s $p) / 2 )) $p");
    history h;
    stw_gitrepo_stats st;
    char *gitdir = tu_path(d, ".git");
    scan_repo(gitdir, d, &h, &st);
    ck_assert_uint_gt(st.skipped, 0);
    ck_assert_msg(has_note(&h, "repo/.git: git history: objects/pack/pack-"),
                  "no note");
    ck_assert_msg(has_note(&h, ".pack: truncated"), "no note");
    for (size_t i = 0; i < h.n_notes; i++)
        ck_assert_msg(!strstr(h.notes[i], gitdir), "%s", h.notes[i]);
    history_free(&h);
    free(gitdir);
    free(added);
    free(d);
}
END_TEST

START_TEST(test_gitrepo_corrupt_loose_object_is_a_note)
{
    char *added;
    char *d = deleted_secret_repo("git-corrupt", TOK_LOOSE, &added);
    /* Every loose object but the token's blob becomes garbage. */
    sh(d,
       "b=$(git rev-parse %s:config/deploy.env) && "
       "for f in $(find .git/objects -type f -path "
       "'*/objects/[0-9a-f][0-9a-f]/*'); do "
       "case $f in *${b#??}) ;; *) chmod u+w $f; "
       "head -c 100 /dev/urandom > $f;; esac; done",
       added);
    history h;
    stw_gitrepo_stats st;
    char *gitdir = tu_path(d, ".git");
    scan_repo(gitdir, d, &h, &st);
    ck_assert_msg(has_note(&h, "objects unreadable"), "no note");
    ck_assert_msg(has_note(&h, "first objects/"), "loose file not named");
    /* The blob itself is intact: found, though no commit names it. */
    expect(only(h.found, TOK_LOOSE), STW_GIT_BLOB, "", "", false, false);
    history_free(&h);
    free(gitdir);
    free(added);
    free(d);
}
END_TEST

/* A loose object is checked by inflating its header, "<type> <size>\0",
 * into a small buffer: one whose header never ends must be refused
 * without writing past it. */
START_TEST(test_gitrepo_loose_object_without_header_end_is_a_note)
{
    char *added;
    char *d = deleted_secret_repo("git-nohead", TOK_LOOSE, &added);
    unsigned char plain[4096], packed[4096];
    memset(plain, 'a', sizeof(plain));
    uLongf n = sizeof(packed);
    ck_assert_int_eq(compress(packed, &n, plain, sizeof(plain)), Z_OK);
    char *bad = tu_path(d, ".git/objects/00/"
                           "11111111111111111111111111111111111111");
    sh(d, "mkdir -p .git/objects/00");
    FILE *fp = fopen(bad, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(packed, 1, n, fp), n);
    fclose(fp);
    history h;
    stw_gitrepo_stats st;
    char *gitdir = tu_path(d, ".git");
    scan_repo(gitdir, d, &h, &st);
    ck_assert_msg(has_note(&h, "first objects/00/1111"), "no note");
    expect(only(h.found, TOK_LOOSE), STW_GIT_BLOB, added, "config/deploy.env",
           true, false);
    history_free(&h);
    free(gitdir);
    free(bad);
    free(added);
    free(d);
}
END_TEST

START_TEST(test_gitrepo_alternates_are_refused)
{
    char *d = new_repo("git-alt");
    put(d, ".git/objects/info/alternates", "/etc\n");
    char *gitdir = tu_path(d, ".git");
    stw_gitrepo *g;
    stw_error err = {0};
    ck_assert_int_eq(stw_gitrepo_create(gitdir, "x/.git", NULL, &g, &err),
                     STW_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "x/.git: "));
    free(gitdir);
    free(d);
}
END_TEST

START_TEST(test_gitrepo_object_cap_is_a_note)
{
    char *d = new_repo("git-cap");
    history h;
    memset(&h, 0, sizeof(h));
    ck_assert_int_eq(stw_finding_list_create(&h.found), STW_OK);
    stw_gitrepo_sink sink = {.ctx = &h,
                             .begin = h_begin,
                             .data = h_data,
                             .end = h_end,
                             .note = h_note};
    stw_gitrepo_limits lim = {.max_objects = 1};
    char *gitdir = tu_path(d, ".git");
    stw_gitrepo *g;
    stw_error err = {0};
    ck_assert_int_eq(stw_gitrepo_create(gitdir, "r/.git", &lim, &g, &err),
                     STW_OK);
    stw_gitrepo_stats st;
    ck_assert_int_eq(stw_gitrepo_scan(g, &sink, &st, &err), STW_OK);
    stw_gitrepo_destroy(g);
    ck_assert_uint_eq(st.objects, 1);
    ck_assert_msg(has_note(&h, "more than 1 objects"), "no note");
    history_free(&h);
    free(gitdir);
    free(d);
}
END_TEST

/* ---- through a layer ---------------------------------------------------- */

typedef struct file_src {
    FILE *f;
    char buf[64 << 10];
} file_src;

static stw_status file_read(void *ctx, const void **buf, size_t *len,
                            stw_error *err)
{
    (void)err;
    file_src *s = ctx;
    *len = fread(s->buf, 1, sizeof(s->buf), s->f);
    *buf = s->buf;
    return STW_OK;
}

/* A layer made by tar from what is under dir (members named as tar names
 * them, e.g. "srv/app/.git/HEAD"), scanned with lo; TMPDIR points at an
 * empty directory that must be empty again afterwards. */
static void scan_layer(const char *dir, const char *members,
                       const stw_layer_options *lo, stw_layer_result *res)
{
    char *tmp = tu_mkdtemp("git-layer-tmp");
    char *tar = tu_path(tmp, "../layer.tar");
    sh(dir, "tar -cf '%s' %s", tar, members);
    char *old = getenv("TMPDIR") ? stw_strdup(getenv("TMPDIR")) : NULL;
    setenv("TMPDIR", tmp, 1);
    file_src *src = malloc(sizeof(*src));
    src->f = fopen(tar, "rb");
    ck_assert_ptr_nonnull(src->f);
    stw_blob_options bo = {.name = "layer.tar"};
    stw_error err = {0};
    stw_layer_options o = lo ? *lo : (stw_layer_options){0};
    o.keep_secrets = true;
    ck_assert_msg(stw_layer_scan(matcher, file_read, src, &bo, &o, res, &err) ==
                      STW_OK,
                  "%s", err.msg);
    fclose(src->f);
    free(src);
    if (old)
        setenv("TMPDIR", old, 1);
    else
        unsetenv("TMPDIR");
    free(old);
    /* Every temporary copy is gone. */
    sh(tmp, "test -z \"$(ls -A .)\"");
    free(tar);
    free(tmp);
}

static bool layer_note(const stw_layer_result *r, const char *needle)
{
    for (size_t i = 0; i < r->n_notes; i++)
        if (strstr(r->notes[i], needle))
            return true;
    return false;
}

/* An image's /srv/app: a COPY . . of a checkout whose history holds a
 * token that its work tree no longer has. */
static char *app_tree(const char *tok, char **added)
{
    char *top = tu_mkdtemp("git-layer");
    char *app = tu_path(top, "srv/app");
    sh(top, "mkdir -p srv");
    char *d = deleted_secret_repo("git-layer-src", tok, added);
    sh(top, "cp -a '%s' srv/app", d);
    sh(d, "rm -rf '%s'", d);
    free(d);
    free(app);
    return top;
}

START_TEST(test_gitrepo_layer_history_finding_names_repository_and_commit)
{
    char *added;
    char *top = app_tree(TOK_GC, &added);
    sh(top, "cd srv/app && git gc -q --prune=now");
    stw_layer_result res;
    scan_layer(top, "srv", NULL, &res);
    const stw_finding *f = only(res.findings, TOK_GC);
    ck_assert_str_eq(f->path, "srv/app/.git");
    ck_assert(f->is_dir);
    expect(f, STW_GIT_BLOB, added, "config/deploy.env", true, false);
    ck_assert_int_eq(f->line, 2);
    ck_assert_msg(res.n_notes == 0, "%s", res.n_notes ? res.notes[0] : "");
    stw_layer_result_clear(&res);
    free(added);
    free(top);
}
END_TEST

START_TEST(test_gitrepo_layer_secret_in_worktree_and_history_is_one_finding)
{
    char *top = tu_mkdtemp("git-layer-wt");
    sh(top, "mkdir -p srv/app && cd srv/app && git init -q -b main . && "
            "printf 'GH_TOKEN=%%s\\n' " TOK_WORKTREE " > .env && "
            "git add -A && git -c user.name=D -c user.email=d@e.invalid "
            "commit -q -m env");
    stw_layer_result res;
    scan_layer(top, "srv", NULL, &res);
    const stw_finding *f = only(res.findings, TOK_WORKTREE);
    ck_assert_str_eq(f->path, "srv/app/.env");
    ck_assert_int_eq(f->git.source, STW_GIT_NONE);
    ck_assert(f->in_history);
    stw_layer_result_clear(&res);
    /* Without the work-tree file, history alone has it, and says the work
     * tree does not. */
    scan_layer(top, "--exclude=srv/app/.env srv", NULL, &res);
    expect(only(res.findings, TOK_WORKTREE), STW_GIT_BLOB,
           only(res.findings, TOK_WORKTREE)->git.commit, ".env", true, false);
    stw_layer_result_clear(&res);
    free(top);
}
END_TEST

START_TEST(test_gitrepo_layer_bare_repository)
{
    char *added;
    char *d = deleted_secret_repo("git-layer-bare-src", TOK_LOOSE, &added);
    char *top = tu_mkdtemp("git-layer-bare");
    sh(top, "mkdir -p srv && git clone -q --bare '%s' srv/mirror.git", d);
    stw_layer_result res;
    scan_layer(top, "srv", NULL, &res);
    const stw_finding *f = only(res.findings, TOK_LOOSE);
    ck_assert_str_eq(f->path, "srv/mirror.git");
    expect(f, STW_GIT_BLOB, added, "config/deploy.env", true, false);
    stw_layer_result_clear(&res);
    free(top);
    free(added);
    free(d);
}
END_TEST

START_TEST(test_gitrepo_layer_bounds_switch_and_gitdir_file)
{
    char *added;
    char *top = app_tree(TOK_GC, &added);
    stw_layer_result res;
    stw_layer_options lo = {.max_git_bytes = 600};
    scan_layer(top, "srv", &lo, &res);
    ck_assert_msg(layer_note(&res, "srv/app/.git: git history over 600 bytes"),
                  "%s", res.n_notes ? res.notes[0] : "no note");
    stw_layer_result_clear(&res);
    lo = (stw_layer_options){.git_off = true};
    scan_layer(top, "srv", &lo, &res);
    for (size_t i = 0; i < stw_finding_list_count(res.findings); i++)
        ck_assert_int_eq(stw_finding_list_get(res.findings, i)->git.source,
                         STW_GIT_NONE);
    stw_layer_result_clear(&res);
    sh(top, "mkdir -p srv/sub && echo 'gitdir: ../../.git/modules/sub' > "
            "srv/sub/.git");
    scan_layer(top, "srv/sub", NULL, &res);
    ck_assert(layer_note(&res, "srv/sub/.git: a file, not a directory"));
    stw_layer_result_clear(&res);
    free(added);
    free(top);
}
END_TEST

static void setup(void)
{
    stw_error err = {0};
    ck_assert_msg(stw_rules_create(NULL, &rules, &err) == STW_OK, "%s",
                  err.msg);
    ck_assert_int_eq(stw_matcher_create(rules, &matcher, &err), STW_OK);
    root = tu_mkdtemp("gitrepo-home");
}

static void teardown(void)
{
    stw_matcher_destroy(matcher);
    stw_rules_destroy(rules);
    free(root);
}

static Suite *suite(void)
{
    Suite *s = suite_create("gitrepo");
    TCase *tc = tcase_create("history");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc,
                   test_gitrepo_deleted_and_packed_by_gc_names_oldest_commit);
    tcase_add_test(tc, test_gitrepo_deleted_loose_objects_names_oldest_commit);
    tcase_add_test(tc, test_gitrepo_secret_only_on_other_branch_is_reachable);
    tcase_add_test(tc, test_gitrepo_secret_only_in_tag_is_reachable);
    tcase_add_test(tc,
                   test_gitrepo_secret_only_in_dropped_stash_is_unreachable);
    tcase_add_test(tc, test_gitrepo_secret_kept_in_stash_is_reachable);
    tcase_add_test(tc,
                   test_gitrepo_secret_only_in_amended_commit_is_unreachable);
    tcase_add_test(tc, test_gitrepo_secret_in_commit_message);
    tcase_add_test(tc, test_gitrepo_secret_in_tag_message);
    tcase_add_test(tc, test_gitrepo_bare_clone_has_the_history);
    tcase_add_test(tc, test_gitrepo_secret_still_in_worktree_says_so);
    tcase_add_test(tc, test_gitrepo_worktree_lookups_share_head_trees);
    tcase_add_test(tc, test_gitrepo_clean_repository_gives_nothing);
    tcase_add_test(tc, test_gitrepo_truncated_pack_is_a_note);
    tcase_add_test(tc, test_gitrepo_corrupt_loose_object_is_a_note);
    tcase_add_test(tc, test_gitrepo_loose_object_without_header_end_is_a_note);
    tcase_add_test(tc, test_gitrepo_alternates_are_refused);
    tcase_add_test(tc, test_gitrepo_object_cap_is_a_note);
    tcase_add_test(
        tc, test_gitrepo_layer_history_finding_names_repository_and_commit);
    tcase_add_test(
        tc, test_gitrepo_layer_secret_in_worktree_and_history_is_one_finding);
    tcase_add_test(tc, test_gitrepo_layer_bare_repository);
    tcase_add_test(tc, test_gitrepo_layer_bounds_switch_and_gitdir_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
