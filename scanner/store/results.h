/* results.h - the results of one scan as read back from the store: what
 * every report (table, JSON, SARIF...) renders. Plain data; everything is
 * owned by the stw_results and freed by stw_results_destroy(). */
#ifndef STW_RESULTS_H
#define STW_RESULTS_H

#include "finding.h"
#include "stowaway/stowaway.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct stw_rlayer {
    char *digest; /* "sha256:…" */
    /* What the image's config claims (the computed one for an image without
     * a config); may be "". Verified only when diff_id_verified says so. */
    char *diff_id;
    char *media_type; /* may be "" */
    char *created_by; /* history entry that made the layer, may be "" */
    int64_t size;     /* compressed bytes, -1 unknown */
    bool cached;      /* this scan reused stored results for it */
    /* diff_id was computed from the layer's bytes and the claim agrees.
     * Nothing should rely on an unverified one: a config can claim any. */
    bool diff_id_verified;
} stw_rlayer;

typedef struct stw_rimage {
    char *ref;             /* "app:1.2" or the target when untagged */
    char *manifest_digest; /* may be "" (legacy docker save has none) */
    char *config_digest;
    char *platform; /* "linux/amd64" or "" */
    stw_rlayer *layers;
    size_t n_layers;
} stw_rimage;

typedef struct stw_rfinding {
    size_t image;       /* index into images */
    int layer;          /* index into the image's layers; -1 for config */
    char *layer_digest; /* blob digest; the config digest for -1 */
    char *path;         /* "<config>" for config findings */
    stw_kind kind;
    char *rule;
    stw_severity severity;
    int64_t line;   /* 0 none */
    int64_t offset; /* -1 none */
    bool visible;
    int removed_in_layer; /* -1 when visible */
    bool has_mode;
    uint32_t mode;
    int64_t uid, gid;
    bool validated;
    char *fingerprint;
    char *secret_sha256; /* "" when none */
    char *excerpt;       /* redacted */
    char *detail;        /* may be "" */
    /* A finding in the history of a git repository in the layer (path is
     * the repository directory): git_source != STW_GIT_NONE, and where. */
    stw_git_source git_source;
    char *git_commit; /* hex id, "" when no commit holds the blob; NULL
                         when git_source is NONE, as git_path */
    char *git_path;   /* inside the repository, "" for messages */
    bool git_reachable, git_in_worktree;
    bool in_history; /* a file's secret that the history holds too */
} stw_rfinding;

typedef struct stw_rerror {
    char *target;
    char *message;
} stw_rerror;

typedef struct stw_results {
    char *rules_version;
    stw_rimage *images;
    size_t n_images;
    stw_rfinding *findings; /* ordered: image, layer (config last), path,
                               offset, rule */
    size_t n_findings;
    stw_rerror *errors;
    size_t n_errors;
    uint64_t layers_scanned, layers_cached;
} stw_results;

void stw_results_destroy(stw_results *r);

/* stw_results_retain is public (stowaway/stowaway.h). */

#endif
