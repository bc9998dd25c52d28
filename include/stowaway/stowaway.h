/* stowaway.h - public API of libstowaway, the container image scanner.
 *
 * The library never prints and never exits: every function returns a
 * stw_status and, on failure, writes a one-line message naming the input and
 * the problem into a caller-supplied stw_error. The CLI (scanner/cli/) is the
 * first client of this API and decides what a person sees.
 *
 * Ownership words used below:
 *   borrowed    - the callee reads it during the call and keeps no reference;
 *   copied      - the callee keeps its own copy;
 *   transferred - the caller owns the result and must destroy it.
 * Every *_destroy() accepts NULL. */
#ifndef STOWAWAY_H
#define STOWAWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STW_VERSION "0.1.0"

/* Status codes. Never renumber: they are stored in databases. */
typedef enum stw_status {
    STW_OK = 0,
    STW_ERR_NOMEM = -1,     /* allocation failed */
    STW_ERR_IO = -2,        /* read/write/open failed */
    STW_ERR_FORMAT = -3,    /* input is not what it claims, or malformed */
    STW_ERR_TRUNCATED = -4, /* input ended early */
    STW_ERR_DIGEST = -5,    /* sha256 of a blob differs from its digest */
    STW_ERR_LIMIT = -6,     /* an untrusted size exceeded a limit */
    STW_ERR_JSON = -7,      /* malformed JSON in a manifest or config */
    STW_ERR_DB = -8,        /* SQLite failed */
    STW_ERR_USAGE = -9,     /* bad argument from the caller */
    STW_ERR_RULES = -10,    /* a rule failed to load or compile */
    STW_ERR_NOT_FOUND = -11 /* a referenced blob/file/image is missing */
} stw_status;

/* Message buffer filled by a failing call; the caller owns it. */
#define STW_ERROR_MAX 512
typedef struct stw_error {
    stw_status status;
    char msg[STW_ERROR_MAX];
} stw_error;

/* Returns a static, human-readable name for a status ("truncated input"). */
const char *stw_status_str(stw_status st);

/* ---- findings ------------------------------------------------------------ */

typedef enum stw_kind {
    STW_KIND_SECRET = 0,
    STW_KIND_PRIVATE_KEY,
    STW_KIND_CREDENTIAL_FILE,
    STW_KIND_ARTIFACT,
    STW_KIND_SETUID,
    STW_KIND_SETGID,
    STW_KIND_WORLD_WRITABLE,
    STW_KIND_CONFIG,
    STW_KIND_COUNT_
} stw_kind;

/* Ordered: a larger value is more severe. */
typedef enum stw_severity {
    STW_SEV_INFO = 0,
    STW_SEV_LOW,
    STW_SEV_MEDIUM,
    STW_SEV_HIGH,
    STW_SEV_CRITICAL,
    STW_SEV_COUNT_
} stw_severity;

/* Static lowercase names, as in the JSON report ("private-key", "high"). */
const char *stw_kind_str(stw_kind k);
const char *stw_severity_str(stw_severity s);
/* Parses a severity name; returns STW_ERR_USAGE for an unknown one. */
stw_status stw_severity_parse(const char *s, stw_severity *out);
/* Parses a kind name ("private-key"); STW_ERR_USAGE for an unknown one. */
stw_status stw_kind_parse(const char *s, stw_kind *out);

/* ---- scanning ------------------------------------------------------------ */

typedef struct stw_rules stw_rules;
typedef struct stw_store stw_store;

/* Options of one scan. Zero-initialise, then set what you need. Strings are
 * borrowed for the duration of stw_scan_targets(). */
typedef struct stw_scan_options {
    const char *platform;     /* "os/arch[/variant]" or NULL for every one */
    int jobs;                 /* worker threads; <= 0 means number of cores */
    uint64_t max_layer_bytes; /* uncompressed bytes per layer; 0 = default */
    uint64_t max_entries;     /* tar entries per layer; 0 = default */
    double max_ratio;         /* uncompressed/compressed; 0 = default */
    /* Remote images (REGISTRY/REPO:TAG): a CA file trusted instead of the
     * system store, and "host:port" entries reached over plain HTTP. */
    const char *ca_cert;
    const char *const *insecure_registries;
    size_t n_insecure_registries;
    /* Registry storage only: fnmatch globs on repository names and tags;
     * NULL scans all. */
    const char *repo_glob;
    const char *tag_glob;
    /* Called from the scanning thread after each layer finishes, for
     * progress display; may be NULL. */
    void (*on_layer_done)(void *ctx, const char *digest, uint64_t bytes,
                          int cached);
    void *progress_ctx;
    /* Called from the scanning thread once the layers of a target are
     * known, before they are scanned: how many on_layer_done calls will
     * follow for them (cached ones included), so a progress display can
     * show "done/total" and an ETA. May be NULL; may not be called for
     * inputs read in one forward pass. */
    void (*on_layers_planned)(void *ctx, size_t n_layers);
    /* --show-secrets: called with the plaintext of every secret found in
     * what this scan reads (not in layers reused from the store, which
     * never held plaintext), keyed by the finding's fingerprint, so a
     * terminal report can show it. NULL (the default): plaintext is not
     * kept past the detector. Called with no two calls at once; secret is
     * borrowed for the call. */
    void (*on_secret)(void *ctx, const char *fingerprint, const char *secret,
                      size_t n);
    void *secret_ctx;
    /* --shard K/N (1 <= K <= N): only layers whose blob digest falls in
     * shard K are read and stored; the others are left to the other
     * shards' workers (docs/batch.md). shard_n <= 1 scans every layer.
     * Use with a store in shard mode (stw_store_set_shard), which records
     * images for `db merge` to complete. Streams read in one forward pass
     * (standard input, compressed archives) scan every layer. */
    unsigned shard_k, shard_n;
    /* Files inside files: a layer file that is a zip (jar, war, whl...),
     * tar, gzip, zstd, xz or bzip2 is opened and its members scanned, to
     * max_depth archives deep (0 = the default, 4). no_nested turns it off
     * (--max-depth 0). Per file of a layer: at most max_nested_bytes
     * decompressed and max_nested_members members (0 = the defaults); a
     * bound reached is an entry in the report's errors, not a failure. */
    bool no_nested;
    unsigned max_depth;
    uint64_t max_nested_bytes;
    uint64_t max_nested_members;
    /* Git history: every object of a .git directory or bare repository in
     * a layer is scanned (no_git_history turns it off); at most
     * max_git_bytes of repository files are collected per layer (0 = the
     * default); beyond it what fits is scanned and the report says so. */
    bool no_git_history;
    uint64_t max_git_bytes;
    /* Hashing: every blob read is checked against the manifest's digest.
     * A compressed layer's diff_id (the SHA-256 of its tar, which costs as
     * much as inflating it) is computed and checked against the config
     * only with verify_diff_ids (--verify-diff-ids); otherwise it is stored
     * and reported as unverified, and never used to find a layer in the
     * store. An uncompressed layer's diff_id is its digest, always checked.
     * A layer reused from the store whose blob is a local file (a layout,
     * an archive, registry storage, standard input) is first hashed to the
     * digest it is stored under, so changed bytes are never answered from
     * the store; trust_cache (--trust-cache) skips that for digests given
     * by a manifest or a blob's name. Blobs of a live registry are content
     * addressed and never downloaded for the check. */
    bool verify_diff_ids;
    bool trust_cache;
} stw_scan_options;

/* Scans one target (a path, or "-" for standard input) into the store as one
 * scan. Per-image results are committed one transaction per image, so a
 * failure part-way leaves earlier images intact. On failure returns the
 * status and fills err; the error is also recorded in the store's errors
 * table for this scan. rules and store are borrowed. */
stw_status stw_scan_target(const stw_rules *rules, stw_store *store,
                           int64_t scan_id, const char *target,
                           const stw_scan_options *opt, stw_error *err);

#ifdef __cplusplus
}
#endif
#endif
