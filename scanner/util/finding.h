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
} stw_finding;

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
void stw_finding_list_dedupe_secrets(stw_finding_list *l);

/* stw_finding_fn adapter: ctx is a stw_finding_list. */
stw_status stw_finding_list_sink(void *ctx, const stw_finding *f);

/* Stable fingerprint: hex sha256 over rule, blob digest, path and secret
 * hash (32 hex digits kept). out must hold 33 bytes. */
void stw_finding_fingerprint(const stw_finding *f, const char *blob_digest,
                             char out[33]);
#endif
