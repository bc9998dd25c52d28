/* finding.h - the record a detector emits, and the sink it emits into.
 * Detectors fill a stw_finding on their stack and call the sink; the sink
 * copies what it keeps. Plaintext secrets never leave the detector: only the
 * redacted excerpt and the sha256 of the secret do. */
#ifndef STW_FINDING_H
#define STW_FINDING_H

#include "stowaway/stowaway.h"

#include <stdbool.h>
#include <stdint.h>

#define STW_EXCERPT_MAX 96
#define STW_SHA256_HEX  65 /* 64 hex digits + NUL */
/* A git object id in hex: 40 digits (SHA-1) or 64 (SHA-256) + NUL. */
#define STW_GIT_OID_HEX 65

/* What part of a git repository's history a finding was made in. */
typedef enum stw_git_source {
    STW_GIT_NONE = 0,       /* not a history finding */
    STW_GIT_BLOB,           /* a file's content as some commit holds it */
    STW_GIT_COMMIT_MESSAGE, /* the message of a commit */
    STW_GIT_TAG_MESSAGE     /* the message of an annotated tag */
} stw_git_source;

/* Where in the history of a copied repository (a .git directory or a bare
 * repository in a layer) a finding was made. The finding's own path is the
 * repository directory ("srv/app/.git"), so its fingerprint and its
 * visibility follow the directory; this says where inside it. Author names
 * and e-mails are never part of it. */
typedef struct stw_finding_git {
    stw_git_source source; /* STW_GIT_NONE: the rest is meaningless */
    /* Hex id: for a blob, the oldest commit whose tree holds it (the oldest
     * reachable one when any is); for a commit message, that commit; for a
     * tag message, the tag object itself. "" when no commit holds the blob
     * (a dangling blob, one only staged or tagged directly). */
    char commit[STW_GIT_OID_HEX];
    /* Borrowed; the blob's path inside the repository in that commit
     * ("config/deploy.env"); "" for messages and blobs no tree names. */
    const char *path;
    bool reachable;   /* some ref, tag, HEAD or stash entry reaches it */
    bool in_worktree; /* the work tree next to the repository still holds
                         this very blob at path (HEAD's tree has it there
                         and the layer has the file) */
} stw_finding_git;

typedef struct stw_finding {
    const char *path; /* borrowed; relative to image root, no "./" or "/" */
    bool is_dir;      /* the finding is about a directory (e.g. .git/) */
    stw_kind kind;
    const char *rule; /* borrowed; rule id, e.g. "rsa-private-key" */
    stw_severity severity;
    int64_t line;   /* 1-based line of the match, 0 when none */
    int64_t offset; /* byte offset of the match in the file, -1 none */
    bool has_mode;  /* mode/uid/gid are meaningful (metadata findings) */
    uint32_t mode;  /* full st_mode bits as in the tar header */
    int64_t uid, gid;
    bool validated; /* a checksum or structural check passed */
    bool generic;   /* from a generic rule (a name = value shape, not a
                       published format): gives way to a specific rule
                       on the same secret */
    char secret_sha256[STW_SHA256_HEX]; /* hex sha256 of the secret or "" */
    char excerpt[STW_EXCERPT_MAX];      /* redacted, e.g. "AKIA…(20 chars)" */
    const char *detail; /* borrowed, optional; already redacted context such
                           as a git remote URL with its password masked */
    /* The plaintext secret, for --show-secrets only: borrowed during the
     * callback; a finding list keeps a copy only when asked to
     * (stw_finding_list_keep_secrets); the store never sees it. */
    const char *secret;
    size_t secret_n;
    int64_t secret_offset; /* byte offset of the raw secret (before any
                              normalisation) in the scanned file or buffer;
                              -1 when the finding has no secret */
    int64_t secret_len;    /* its length in bytes; 0 when none */
    /* A history finding says where in the history (git.source != NONE). */
    stw_finding_git git;
    /* A work-tree finding whose secret the history of a repository in the
     * same layer holds too: its history finding was folded into this one
     * (stw_finding_list_fold_history). */
    bool in_history;
} stw_finding;

/* "blob", "commit-message", "tag-message" ("" for NONE), as stored and
 * reported; parse is the inverse (STW_ERR_USAGE for anything else). */
const char *stw_git_source_str(stw_git_source s);
stw_status stw_git_source_parse(const char *s, stw_git_source *out);

/* Receives findings. Returns STW_OK to continue; any other status aborts the
 * scan of the current input with that status. */
typedef stw_status (*stw_finding_fn)(void *ctx, const stw_finding *f);

/* Fills f->secret_sha256 and f->excerpt for a secret of n bytes: the excerpt
 * shows at most the first 4 characters and the length ("AKIA…(20 chars)").
 * Printable bytes only; others become '?'. */
void stw_finding_set_secret(stw_finding *f, const char *secret, size_t n);

/* ---- finding lists ------------------------------------------------------ */

/* A growable list of findings that owns copies of every string, so a
 * detector's borrowed pointers can be kept past the callback. */
typedef struct stw_finding_list stw_finding_list;

stw_status stw_finding_list_create(stw_finding_list **out);
void stw_finding_list_destroy(stw_finding_list *l);
/* Deep-copies f. Past STW_MAX_FINDINGS_PER_LAYER findings it only counts. */
stw_status stw_finding_list_add(stw_finding_list *l, const stw_finding *f);
size_t stw_finding_list_count(const stw_finding_list *l);
/* From now on, stw_finding_list_add copies each finding's plaintext secret
 * too (wiped when the list is destroyed); by default it is dropped. */
void stw_finding_list_keep_secrets(stw_finding_list *l);
/* Findings dropped because the list was full. */
uint64_t stw_finding_list_dropped(const stw_finding_list *l);
/* Borrowed; valid until the list is destroyed or added to. */
const stw_finding *stw_finding_list_get(const stw_finding_list *l, size_t i);
/* One finding per secret: when several rules match the same secret in the
 * same file (an AWS key in .env is an AWS key id, a credential-file line and
 * maybe part of a key pair), keeps the most severe, then the most specific
 * kind (private-key, secret, credential-file, ...), then the first. Findings
 * without a secret (metadata, artifacts) are kept as they are. */
stw_status stw_finding_list_dedupe_secrets(stw_finding_list *l);

/* One finding per secret across a repository's history and the files of
 * the layer: a history finding (git.source != STW_GIT_NONE) whose secret a
 * finding outside history also has is dropped, and every such finding is
 * marked in_history. Findings without a secret are kept as they are.
 * Both fail only with STW_ERR_NOMEM, leaving l unchanged: a list kept
 * undeduplicated would be stored as if complete, with findings a
 * successful scan never reports. */
stw_status stw_finding_list_fold_history(stw_finding_list *l);

/* stw_finding_fn adapter: ctx is a stw_finding_list. */
stw_status stw_finding_list_sink(void *ctx, const stw_finding *f);

/* Stable fingerprint: hex sha256 over rule, blob digest, path and secret
 * hash (32 hex digits kept). out must hold 33 bytes. */
void stw_finding_fingerprint(const stw_finding *f, const char *blob_digest,
                             char out[33]);
#endif
