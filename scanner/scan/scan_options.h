/* scan_options.h - the layout behind the public, opaque stw_scan_options:
 * read by the scan stage, filled by the setters of scanner/api/ (which
 * keep the strings it points to) and, until it moves to those setters, by
 * the CLI on its stack. Zero means the default everywhere. */
#ifndef STW_SCAN_OPTIONS_H
#define STW_SCAN_OPTIONS_H

#include "stowaway/stowaway.h"

struct stw_scan_options {
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
    /* Progress (stw_scan_options_set_progress): both called on worker
     * threads under the scan's lock, so never two at once. */
    void (*on_layer_done)(void *ctx, const char *digest, uint64_t bytes,
                          int cached);
    void *progress_ctx;
    void (*on_layers_planned)(void *ctx, size_t n_layers);
    /* --show-secrets (stw_scan_options_set_secret_callback). */
    void (*on_secret)(void *ctx, const char *fingerprint, const char *secret,
                      size_t n);
    void *secret_ctx;
    /* --shard K/N (1 <= K <= N), docs/batch.md; shard_n <= 1 scans every
     * layer. Streams read in one forward pass scan every layer. */
    unsigned shard_k, shard_n;
    /* Files inside files: no_nested turns it off (--max-depth 0); 0 in the
     * others keeps the defaults of limits.h. */
    bool no_nested;
    unsigned max_depth;
    uint64_t max_nested_bytes;
    uint64_t max_nested_members;
    /* Remote images (stw_scan_options_set_registry_timeout): the connect
     * timeout, the longest a manifest or token request may take, and the
     * window over which a blob must arrive at the minimum rate, in
     * seconds; 0 = the default (30). */
    long registry_timeout_s;
    /* Git history (stw_scan_options_set_git_history): off when
     * no_git_history; 0 keeps the default bound. */
    bool no_git_history;
    uint64_t max_git_bytes;
    /* Hashing: every blob read is checked against the manifest's digest.
     * A compressed layer's diff_id (the SHA-256 of its tar, which costs as
     * much as inflating it) is computed and checked against the config
     * only with verify_diff_ids (--verify-diff-ids,
     * stw_scan_options_set_hashing); otherwise it is stored and reported as
     * unverified, and never used to find a layer in the store. An uncompressed
     * layer's diff_id is its digest, always checked. A layer reused from the
     * store whose blob is a local file (a layout, an archive, registry storage,
     * standard input) is first hashed to the digest it is stored under, so
     * changed bytes are never answered from the store; trust_cache
     * (--trust-cache) skips that for digests given by a manifest or a blob's
     * name. Blobs of a live registry are content addressed and never downloaded
     * for the check. */
    bool verify_diff_ids;
    bool trust_cache;
    /* Polled before each layer and each block read; non-zero stops the
     * scan with STW_ERR_CANCELLED (stw_scan_options_set_cancel). */
    int (*cancel)(void *ctx);
    void *cancel_ctx;
};

#endif
