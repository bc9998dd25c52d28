/* storage.c - the tags of a distribution registry's filesystem storage as
 * one OCI image index. */
#include "storage.h"
#include "common.h"
#include "limits.h"
#include "sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Repository names nest ("acme/team/app"); the distribution spec caps a
 * name's components far below this. */
#define MAX_REPO_DEPTH  16
#define MT_OCI_INDEX    "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"

typedef struct tag_entry {
    char *ref;
    char digest[72];
    char *media_type;
} tag_entry;

typedef struct walk {
    const char *root;
    const char *repo_glob, *tag_glob;
    tag_entry *v;
    size_t n;
} walk;

static bool is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

bool stw_storage_detect(const char *dir, char *root, size_t n)
{
    char p[STW_MAX_PATH + 64];
    snprintf(p, sizeof(p), "%s/docker/registry/v2/repositories", dir);
    if (is_dir(p)) {
        snprintf(root, n, "%s/docker/registry/v2", dir);
        return true;
    }
    snprintf(p, sizeof(p), "%s/repositories", dir);
    char b[STW_MAX_PATH + 64];
    snprintf(b, sizeof(b), "%s/blobs/sha256", dir);
    if (is_dir(p) && is_dir(b)) {
        snprintf(root, n, "%s", dir);
        return true;
    }
    return false;
}

/* The media type of the manifest a tag points at: from its own mediaType,
 * else by shape (an index lists "manifests"). */
static stw_status manifest_media_type(const walk *w, const char *digest,
                                      char **out, stw_error *err)
{
    char path[STW_MAX_PATH + 160];
    snprintf(path, sizeof(path), "%s/blobs/sha256/%.2s/%s/data", w->root,
             digest + 7, digest + 7);
    char *data;
    size_t len;
    stw_status st =
        stw_read_small_file(path, NULL, STW_MAX_JSON_BYTES, &data, &len, err);
    if (st != STW_OK)
        return st;
    json_t *j = json_loadb(data, len, 0, NULL);
    free(data);
    if (!j)
        return stw_fail(err, STW_ERR_JSON, "%s: malformed manifest", path);
    const char *mt = json_string_value(json_object_get(j, "mediaType"));
    if (!mt)
        mt = json_object_get(j, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST;
    *out = stw_strdup(mt);
    json_decref(j);
    return *out ? STW_OK : stw_fail(err, STW_ERR_NOMEM, "out of memory");
}

static stw_status add_tag(walk *w, const char *repo, const char *tag,
                          const char *tagdir, stw_error *err)
{
    if (w->tag_glob && fnmatch(w->tag_glob, tag, 0) != 0)
        return STW_OK;
    if (w->n >= STW_MAX_IMAGES)
        return stw_fail(err, STW_ERR_LIMIT, "%s: more than %d tags", w->root,
                        STW_MAX_IMAGES);
    char path[STW_MAX_PATH + 400];
    snprintf(path, sizeof(path), "%s/current/link", tagdir);
    char *link;
    size_t len;
    stw_status st = stw_read_small_file(path, NULL, 128, &link, &len, err);
    if (st != STW_OK)
        return st;
    while (len && (link[len - 1] == '\n' || link[len - 1] == ' '))
        link[--len] = 0;
    if (!stw_sha256_digest_valid(link)) {
        free(link);
        return stw_fail(err, STW_ERR_FORMAT, "%s: not a sha256 digest", path);
    }
    tag_entry *v = stw_realloc(w->v, (w->n + 1) * sizeof(*v));
    if (!v) {
        free(link);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    w->v = v;
    tag_entry *e = &v[w->n];
    memset(e, 0, sizeof(*e));
    snprintf(e->digest, sizeof(e->digest), "%s", link);
    free(link);
    size_t rl = strlen(repo) + strlen(tag) + 2;
    if (!(e->ref = stw_malloc(rl)))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    snprintf(e->ref, rl, "%s:%s", repo, tag);
    w->n++;
    return manifest_media_type(w, e->digest, &e->media_type, err);
}

static stw_status walk_tags(walk *w, const char *repo, const char *repodir,
                            stw_error *err)
{
    if (w->repo_glob && fnmatch(w->repo_glob, repo, 0) != 0)
        return STW_OK;
    char tags[STW_MAX_PATH + 64];
    snprintf(tags, sizeof(tags), "%s/_manifests/tags", repodir);
    DIR *d = opendir(tags);
    if (!d)
        return STW_OK; /* a repository without tags holds no image */
    stw_status st = STW_OK;
    struct dirent *de;
    while (st == STW_OK && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char tagdir[STW_MAX_PATH + 320];
        snprintf(tagdir, sizeof(tagdir), "%s/%s", tags, de->d_name);
        if (is_dir(tagdir))
            st = add_tag(w, repo, de->d_name, tagdir, err);
    }
    closedir(d);
    return st;
}

/* Repositories are the directories that hold _manifests; their names are
 * the path below repositories/. */
static stw_status walk_repos(walk *w, const char *dir, const char *repo,
                             int depth, stw_error *err)
{
    if (depth > MAX_REPO_DEPTH)
        return stw_fail(err, STW_ERR_LIMIT,
                        "%s: repositories nested deeper than %d", w->root,
                        MAX_REPO_DEPTH);
    DIR *d = opendir(dir);
    if (!d) {
        char eb[128];
        return stw_fail(err, STW_ERR_IO, "%s: %s", dir,
                        stw_strerror(errno, eb, sizeof(eb)));
    }
    stw_status st = STW_OK;
    struct dirent *de;
    while (st == STW_OK && (de = readdir(d))) {
        const char *nm = de->d_name;
        if (nm[0] == '.')
            continue;
        char sub[STW_MAX_PATH + 1];
        int k = snprintf(sub, sizeof(sub), "%s/%s", dir, nm);
        if (k < 0 || (size_t)k >= sizeof(sub) || !is_dir(sub))
            continue;
        if (!strcmp(nm, "_manifests")) {
            st = walk_tags(w, repo, dir, err);
            continue;
        }
        if (nm[0] == '_')
            continue; /* _layers, _uploads */
        char name[STW_MAX_PATH + 1];
        k = snprintf(name, sizeof(name), "%s%s%s", repo, *repo ? "/" : "", nm);
        if (k < 0 || (size_t)k >= sizeof(name))
            continue;
        st = walk_repos(w, sub, name, depth + 1, err);
    }
    closedir(d);
    return st;
}

static int cmp_ref(const void *a, const void *b)
{
    return strcmp(((const tag_entry *)a)->ref, ((const tag_entry *)b)->ref);
}

static stw_status to_json(walk *w, char **json, size_t *len, stw_error *err)
{
    /* readdir order is the filesystem's: sort so reports are stable. */
    if (w->n)
        stw_sort(w->v, w->n, sizeof(*w->v), cmp_ref);
    json_t *mans = json_array();
    json_t *idx = json_pack("{s:i,s:s,s:o}", "schemaVersion", 2, "mediaType",
                            MT_OCI_INDEX, "manifests", mans);
    for (size_t i = 0; idx && i < w->n; i++) {
        json_t *e =
            json_pack("{s:s,s:s,s:{s:s}}", "mediaType", w->v[i].media_type,
                      "digest", w->v[i].digest, "annotations",
                      "org.opencontainers.image.ref.name", w->v[i].ref);
        if (!e || json_array_append_new(mans, e) != 0) {
            json_decref(idx);
            idx = NULL;
        }
    }
    char *s = idx ? json_dumps(idx, JSON_COMPACT) : NULL;
    json_decref(idx);
    if (!s)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    *json = s;
    *len = strlen(s);
    return STW_OK;
}

stw_status stw_storage_index(const char *root, const char *repo_glob,
                             const char *tag_glob, char **json, size_t *len,
                             stw_error *err)
{
    walk w = {root, repo_glob, tag_glob, NULL, 0};
    char repos[STW_MAX_PATH + 32];
    snprintf(repos, sizeof(repos), "%s/repositories", root);
    stw_status st = walk_repos(&w, repos, "", 0, err);
    if (st == STW_OK)
        st = to_json(&w, json, len, err);
    for (size_t i = 0; i < w.n; i++) {
        free(w.v[i].ref);
        free(w.v[i].media_type);
    }
    free(w.v);
    return st;
}
