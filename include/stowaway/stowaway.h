/* stowaway.h - public API of libstowaway, the container image scanner.
 *
 * Enough to scan images and read what was found without any other header:
 * compile a rule set once, open a store (SQLite), scan targets (paths,
 * registry references, or a byte stream you supply) into it, load the
 * results of a scan, walk them with accessor functions, drop what a team
 * has suppressed, and render a report; stowaway/db.h and stowaway/batch.h,
 * included at the end, look after a store and run registry-wide batch
 * scans. The `stowaway` command is written on these headers alone; see
 * docs/embedding.md for a complete example.
 *
 *   stw_rules    compiled signatures; immutable once created, so one set is
 *                shared by every scan and thread (yara's compiled rules).
 *   stw_store    one SQLite database; findings are stored per layer digest,
 *                so a layer shared by many images is scanned once.
 *   stw_results  what one scan found, read back from a store; plain data
 *                reached through accessors, owned by the stw_results.
 *
 * Errors. The library never prints and never exits: every function that
 * can fail returns a stw_status and, on failure, writes a one-line message
 * naming the input and the problem into a caller-supplied stw_error (which
 * may be NULL when the message is not wanted).
 *
 * Ownership words used below:
 *   borrowed    - the callee reads it during the call and keeps no reference
 *                 (or, where said, keeps it for a stated lifetime);
 *   copied      - the callee keeps its own copy;
 *   transferred - the caller owns the result and must destroy it.
 * Every *_destroy() and *_close() accepts NULL. A failing call leaves its
 * out-parameters NULL/zero and the objects it was given unchanged, unless
 * it says otherwise.
 *
 * Threads. The library keeps no global mutable state of its own: distinct
 * objects may be used from distinct threads at once. A const object (a
 * stw_rules, a loaded stw_results, a stw_suppress once loaded) may be read
 * from many threads at once. A stw_store and an options object are used by
 * one thread at a time. A scan runs worker threads of its own; callbacks
 * say on which thread they are called.
 *
 * Process-wide side effects, all from scanning (and from listing a
 * registry, stowaway/batch.h), none at load time:
 *   - A registry reference (host/repo:tag) makes the scan call
 *     curl_global_init(), as stw_registry_list and
 *     stw_registry_image_created do, which libcurl before 7.84 does not make
 *     thread-safe: a program that scans registries from several threads, or
 *     uses libcurl itself, should call curl_global_init() once first.
 *   - Environment read: DOCKER_CONFIG and HOME (registry credentials in
 *     config.json), TMPDIR (where large archives inside layers are spooled;
 *     /tmp when unset). Nothing else: no locale, no signal handlers.
 *   - The locale is the caller's: libarchive converts the names of archive
 *     members to the process's LC_CTYPE, so in the "C" locale a zip member
 *     whose name is flagged UTF-8 and is not ASCII (a jar's, always) has
 *     no readable name and is skipped, with a note. The stowaway command
 *     sets LC_CTYPE to C.UTF-8 before anything else; a program using the
 *     library should run in a UTF-8 LC_CTYPE too.
 *   - Credential helpers: for a registry whose config.json names one, the
 *     scan spawns `docker-credential-<name> get` (posix_spawnp, the PATH
 *     and environment of the process) and reads its answer from a pipe.
 *   - Files: the store's database (and its -wal/-shm), temporary spool files
 *     under TMPDIR, removed before the scan returns.
 */
#ifndef STOWAWAY_H
#define STOWAWAY_H

#include "stowaway/version.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Marks what libstowaway.so exports; the rest is hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define STW_API __attribute__((visibility("default")))
#else
#define STW_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version, status, errors ---------------------------------------------
 */

/* The version of the library loaded at run time, as STW_VERSION_NUMBER and
 * STW_VERSION (version.h) give it at compile time. The string is static. */
STW_API unsigned stw_version_number(void);
STW_API const char *stw_version_string(void);

/* Status codes. Never renumber: they are stored in databases. New codes
 * are added at the end; treat an unknown negative value as a failure. */
typedef enum stw_status {
    STW_OK = 0,
    STW_ERR_NOMEM = -1,      /* allocation failed */
    STW_ERR_IO = -2,         /* read/write/open failed */
    STW_ERR_FORMAT = -3,     /* input is not what it claims, or malformed */
    STW_ERR_TRUNCATED = -4,  /* input ended early */
    STW_ERR_DIGEST = -5,     /* sha256 of a blob differs from its digest */
    STW_ERR_LIMIT = -6,      /* an untrusted size exceeded a limit */
    STW_ERR_JSON = -7,       /* malformed JSON in a manifest or config */
    STW_ERR_DB = -8,         /* SQLite failed */
    STW_ERR_USAGE = -9,      /* bad argument from the caller */
    STW_ERR_RULES = -10,     /* a rule failed to load or compile */
    STW_ERR_NOT_FOUND = -11, /* a referenced blob/file/image is missing */
    STW_ERR_CANCELLED = -12  /* the caller's cancel callback said stop */
} stw_status;

/* Message buffer filled by a failing call; the caller owns it (usually on
 * its stack). Its size is part of the ABI and will not change. */
#define STW_ERROR_MAX 512
typedef struct stw_error {
    stw_status status;
    char msg[STW_ERROR_MAX];
} stw_error;

/* A static, human-readable name for a status ("truncated input"). */
STW_API const char *stw_status_str(stw_status st);

/* ---- kinds and severities --------------------------------------------- */

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
STW_API const char *stw_kind_str(stw_kind k);
STW_API const char *stw_severity_str(stw_severity s);
/* Parse those names; STW_ERR_USAGE (out unchanged) for an unknown one. */
STW_API stw_status stw_severity_parse(const char *s, stw_severity *out);
STW_API stw_status stw_kind_parse(const char *s, stw_kind *out);

/* ---- options objects -----------------------------------------------------
 * Options are opaque objects with setters, never structs: a new option is
 * a new function, so a program built against an older header keeps
 * working with a newer library, defaults are the library's (not whatever
 * zero means), and a bad value fails at the setter that took it, by name.
 * Strings given to setters are copied. An options object is read only
 * during the call it is passed to, and may be reused or destroyed after. */

/* ---- rules ------------------------------------------------------------- */

typedef struct stw_rules stw_rules;
typedef struct stw_rules_options stw_rules_options;

/* A fresh options object: the built-in rules, no extra files, none
 * disabled, no cache. *out transferred (stw_rules_options_destroy). */
STW_API stw_status stw_rules_options_create(stw_rules_options **out,
                                            stw_error *err);
STW_API void stw_rules_options_destroy(stw_rules_options *o);
/* Adds a YAML rule file (path copied; read by stw_rules_create). A rule
 * whose id is already loaded replaces the earlier one. */
STW_API stw_status stw_rules_options_add_file(stw_rules_options *o,
                                              const char *path, stw_error *err);
/* Drops the rule with this id (copied); an id no rule has is an error of
 * stw_rules_create. */
STW_API stw_status stw_rules_options_disable(stw_rules_options *o,
                                             const char *rule_id,
                                             stw_error *err);
/* false: skip the built-in rules (only the added files are loaded). */
STW_API void stw_rules_options_set_builtin(stw_rules_options *o, bool on);
/* Caches the compiled prefilter (vectorscan databases, most of the
 * compile time) between runs under dir (copied; NULL, the default, turns
 * the cache off: the library never picks a directory itself).
 * stw_rules_create then creates dir and dir/rules (one level each, mode
 * 0700) if missing, reads the entry named by a SHA-256 of the rules, the
 * stowaway and vectorscan versions and the CPU, and writes it (mode 0600,
 * through a temporary file renamed into place) when it was missing or
 * unusable, keeping the 8 most recently used entries and deleting older
 * ones. An entry is checked whole before use; a damaged, foreign or
 * unreadable one, or an unwritable dir, only costs the compile: the rules
 * and every result are the same with or without a cache. */
STW_API stw_status stw_rules_options_set_cache_dir(stw_rules_options *o,
                                                   const char *dir,
                                                   stw_error *err);

/* Loads and compiles the rule set. On error names the file, the rule id
 * and the problem ("rules.yaml: rule 'x': regex: missing ) at offset 4").
 * opt borrowed, may be NULL (built-in rules only; opt must come from
 * stw_rules_options_create). *out transferred; immutable and safe to share
 * between threads and scans until stw_rules_destroy. */
STW_API stw_status stw_rules_create(const stw_rules_options *opt,
                                    stw_rules **out, stw_error *err);
STW_API void stw_rules_destroy(stw_rules *r);

/* 16 hex digits of sha256 over the compiled rules: a layer stored by an
 * earlier scan is reused only when scanned with the same version.
 * Borrowed while r lives. */
STW_API const char *stw_rules_version(const stw_rules *r);

/* Where stw_rules_create got the compiled prefilter from. */
typedef enum stw_rules_cache_use {
    STW_RULES_CACHE_OFF = 0, /* no cache directory: compiled */
    STW_RULES_CACHE_LOADED,  /* read from the cache */
    STW_RULES_CACHE_STORED,  /* compiled, and written to the cache */
    STW_RULES_CACHE_FAILED   /* compiled; the cache could not be written */
} stw_rules_cache_use;
/* The above for r; *why (why may be NULL) is borrowed while r lives: what
 * was wrong with the entry found or with writing one (a path and a
 * reason), or "" when nothing was. */
STW_API stw_rules_cache_use stw_rules_cache_state(const stw_rules *r,
                                                  const char **why);

/* The rules in the set, i in [0, stw_rules_count). Strings borrowed while
 * r lives; NULL (or STW_SEV_INFO / STW_KIND_SECRET) when i is out of
 * range. remediation may be NULL. */
STW_API size_t stw_rules_count(const stw_rules *r);
STW_API const char *stw_rules_rule_id(const stw_rules *r, size_t i);
STW_API const char *stw_rules_rule_title(const stw_rules *r, size_t i);
STW_API const char *stw_rules_rule_remediation(const stw_rules *r, size_t i);
STW_API stw_kind stw_rules_rule_kind(const stw_rules *r, size_t i);
STW_API stw_severity stw_rules_rule_severity(const stw_rules *r, size_t i);

/* The examples written with rule i in its rule file (signatures/README.md),
 * for self-tests: with match true the strings it must find, else those it
 * must not; j in [0, n) until NULL. *path (may be NULL) receives the file
 * path the example is to be scanned as. Borrowed while r lives. */
STW_API const char *stw_rules_rule_example(const stw_rules *r, size_t i,
                                           bool match, size_t j,
                                           const char **path);

/* ---- matching a buffer ---------------------------------------------------
 * What a scan does to each file, for one buffer you hold: a rule file's
 * self-test, or content that never was in an image. A matcher is the
 * per-thread scratch over a shared stw_rules (yara's scanner): create one
 * per thread, never share it. */

typedef struct stw_matcher stw_matcher;
/* One finding while it is reported; reached through stw_match_* only. */
typedef struct stw_finding stw_match;

/* rules borrowed: must outlive the matcher. *out transferred
 * (stw_matcher_destroy). */
STW_API stw_status stw_matcher_create(const stw_rules *rules, stw_matcher **out,
                                      stw_error *err);
STW_API void stw_matcher_destroy(stw_matcher *m);

/* Called for each finding, on the calling thread; m borrowed for the call.
 * A status other than STW_OK stops the scan with it. */
typedef stw_status (*stw_match_fn)(void *ctx, const stw_match *m);

/* Scans data (len bytes, borrowed) as the content of a file at path (the
 * path inside an image, borrowed; path rules apply to it), calling fn for
 * every finding, with the redaction, validators and filters of a scan. */
STW_API stw_status stw_matcher_scan(stw_matcher *m, const char *path,
                                    const void *data, size_t len,
                                    stw_match_fn fn, void *ctx, stw_error *err);

/* Files whose scan left part of their content unchecked because a rule's
 * regex hit its match limit, one line each naming the file (the path given
 * to stw_matcher_scan) and the rule, in scan order since the last
 * stw_matcher_clear_notes: a scan never drops such a window silently, and
 * neither should its caller. *notes borrowed until the next scan or clear.
 * Returns the count. */
STW_API size_t stw_matcher_notes(const stw_matcher *m,
                                 const char *const **notes);
STW_API void stw_matcher_clear_notes(stw_matcher *m);

/* A finding reported to a stw_match_fn. Strings borrowed for the call. */
STW_API const char *stw_match_rule(const stw_match *m);
STW_API stw_kind stw_match_kind(const stw_match *m);
STW_API stw_severity stw_match_severity(const stw_match *m);
/* 1-based line, 0 when none; byte offset, -1 when none. */
STW_API int64_t stw_match_line(const stw_match *m);
STW_API int64_t stw_match_offset(const stw_match *m);
/* Redacted, safe to print. */
STW_API const char *stw_match_excerpt(const stw_match *m);

/* ---- store ------------------------------------------------------------- */

typedef struct stw_store stw_store;

/* Opens (creating if needed) and migrates the database at path (borrowed);
 * NULL or ":memory:" gives a private in-memory database. The parent
 * directory must exist. A database from a newer stowaway is refused with
 * STW_ERR_DB. Two processes may write one file (WAL, busy timeout); inside
 * a process one thread at a time. *out transferred (stw_store_close). */
STW_API stw_status stw_store_open(const char *path, stw_store **out,
                                  stw_error *err);
STW_API void stw_store_close(stw_store *s);

/* Records the start of a scan; *scan_id names it for stw_scan_* and
 * stw_store_load_scan. tool_version (e.g. stw_version_string()),
 * rules_version (stw_rules_version()) and args (free text: what was asked
 * for, so a batch can resume it) are copied. */
STW_API stw_status stw_store_begin_scan(stw_store *s, const char *tool_version,
                                        const char *rules_version,
                                        const char *args, int64_t *scan_id,
                                        stw_error *err);
/* Marks the scan finished (its end time); call it also after failures. */
STW_API stw_status stw_store_end_scan(stw_store *s, int64_t scan_id,
                                      stw_error *err);

/* ---- scanning ---------------------------------------------------------- */

/* Defaults and bounds of the scan options, for a program that offers them
 * to its users (the `stowaway` command line): archives inside layers are
 * opened this deep unless stw_scan_options_set_nested says otherwise, and
 * a registry timeout is at most this many seconds. */
#define STW_NESTED_DEPTH_DEFAULT   4u
#define STW_REGISTRY_TIMEOUT_MAX_S 3600

typedef struct stw_scan_options stw_scan_options;

/* A fresh options object with the defaults: every platform, one worker per
 * core, the limits of docs/cli.md, archives inside layers opened four
 * deep, no callbacks. *out transferred (stw_scan_options_destroy). */
STW_API stw_status stw_scan_options_create(stw_scan_options **out,
                                           stw_error *err);
STW_API void stw_scan_options_destroy(stw_scan_options *o);

/* "os/arch[/variant]" (copied): only that image of a multi-platform index;
 * NULL for every one. */
STW_API stw_status stw_scan_options_set_platform(stw_scan_options *o,
                                                 const char *platform,
                                                 stw_error *err);
/* Layers scanned at once; <= 0 means one per core, at most 16 (with a
 * second core, each layer is a pipeline of four threads). */
STW_API void stw_scan_options_set_jobs(stw_scan_options *o, int jobs);
/* Bounds on what one layer may make us do (0 keeps the default):
 * uncompressed bytes, tar entries, and uncompressed/compressed ratio. A
 * layer past one fails with STW_ERR_LIMIT; the others are still scanned. */
STW_API void stw_scan_options_set_layer_limits(stw_scan_options *o,
                                               uint64_t max_bytes,
                                               uint64_t max_entries,
                                               double max_ratio);
/* Files inside files (jar, zip, tar, gzip...): max_depth archives deep
 * (0: none), and per file at most max_bytes decompressed and max_members
 * members (0 keeps those defaults). A bound reached is an error entry of
 * the results, not a failed scan. */
STW_API void stw_scan_options_set_nested(stw_scan_options *o,
                                         unsigned max_depth, uint64_t max_bytes,
                                         uint64_t max_members);
/* Git history of .git directories and bare repositories in layers: on
 * (the default) or off, and at most max_bytes of repository files
 * collected per layer (0 keeps the default). Reading a history
 * initialises libgit2 once per process. */
STW_API void stw_scan_options_set_git_history(stw_scan_options *o, bool on,
                                              uint64_t max_bytes);
/* Registry targets: the connect timeout, the longest a manifest or token
 * request may take, and the window over which a blob must keep arriving at
 * a minimum rate, in seconds (0: the default, 30; at most 3600). */
STW_API void stw_scan_options_set_registry_timeout(stw_scan_options *o,
                                                   long seconds);
/* What is hashed: verify_diff_ids computes every compressed layer's diff_id
 * and checks it against the config (by default only the blob digest is, and
 * an unverified diff_id never finds a layer in the store); trust_cache
 * reuses a stored layer of a local file without hashing its blob first. */
STW_API void stw_scan_options_set_hashing(stw_scan_options *o,
                                          bool verify_diff_ids,
                                          bool trust_cache);
/* Registry targets: a CA bundle trusted instead of the system's (copied;
 * NULL for the system's), and a "host:port" reached over plain HTTP
 * (copied; may be called several times). */
STW_API stw_status stw_scan_options_set_ca_cert(stw_scan_options *o,
                                                const char *path,
                                                stw_error *err);
STW_API stw_status stw_scan_options_add_insecure_registry(stw_scan_options *o,
                                                          const char *host,
                                                          stw_error *err);
/* Registry storage directories, and the listing of a live registry
 * (stw_registry_list): fnmatch globs on repository names and tags (copied;
 * NULL for all). */
STW_API stw_status stw_scan_options_set_globs(stw_scan_options *o,
                                              const char *repo_glob,
                                              const char *tag_glob,
                                              stw_error *err);
/* Batch scans over N workers (docs/batch.md): only layers whose digest
 * falls in shard k of n (1 <= k <= n) are read; n <= 1 reads all. */
STW_API stw_status stw_scan_options_set_shard(stw_scan_options *o, unsigned k,
                                              unsigned n, stw_error *err);

/* Progress. on_layers_planned(ctx, n) is called once the layers of a
 * target are known: n on_layer_done calls follow (never called for inputs
 * read in one forward pass, such as stw_scan_read). on_layer_done(ctx,
 * digest, bytes, cached) is called after each layer: its blob digest
 * (borrowed for the call), the uncompressed bytes read, and whether the
 * store's earlier result was reused. Both are called on the scan's worker
 * threads, not the caller's, but never two at once (they hold the scan's
 * lock: keep them short and never call back into the scan or its store).
 * Either may be NULL; ctx borrowed for the scans the options are used
 * in. */
typedef void (*stw_layers_planned_fn)(void *ctx, size_t n_layers);
typedef void (*stw_layer_done_fn)(void *ctx, const char *digest, uint64_t bytes,
                                  int cached);
STW_API void stw_scan_options_set_progress(stw_scan_options *o,
                                           stw_layers_planned_fn planned,
                                           stw_layer_done_fn done, void *ctx);

/* The plaintext of every secret found in what the scan reads (not in
 * layers reused from the store, which never held it), keyed by the
 * finding's fingerprint, for a terminal that shows secrets on request.
 * Without it (NULL, the default) plaintext never leaves the detector.
 * Called on worker threads, never two at once; fingerprint and secret
 * (n bytes, not NUL-terminated) borrowed for the call. */
typedef void (*stw_secret_fn)(void *ctx, const char *fingerprint,
                              const char *secret, size_t n);
STW_API void stw_scan_options_set_secret_callback(stw_scan_options *o,
                                                  stw_secret_fn fn, void *ctx);

/* Cancellation: fn(ctx) is polled from any of the scan's threads, at
 * least once per block read (about every MiB) and before each layer, often
 * concurrently: make it cheap and thread-safe (an atomic flag set by a
 * signal handler or another thread is the usual body). Once it returns
 * non-zero, the scan stops reading and returns STW_ERR_CANCELLED; layers
 * and images completed before stay in the store. NULL: never cancelled. */
typedef int (*stw_cancel_fn)(void *ctx);
STW_API void stw_scan_options_set_cancel(stw_scan_options *o, stw_cancel_fn fn,
                                         void *ctx);

/* Scans one target into the store as part of scan_id: a path (docker save
 * or OCI archive, OCI layout directory, a layer blob, a registry's storage
 * directory), a registry reference ("registry.example/app:1.2"), or "-"
 * for standard input. What a target is comes from its bytes, never its
 * name. Layers are committed as they finish and each image in one
 * transaction, so a failure part-way keeps earlier images. On failure
 * returns the status and fills err; the error is also recorded in the
 * store's errors for this scan. rules, store, target and opt (NULL: the
 * defaults) borrowed for the call. The calling thread blocks until the
 * scan ends; workers are joined before return. */
STW_API stw_status stw_scan_target(const stw_rules *rules, stw_store *store,
                                   int64_t scan_id, const char *target,
                                   const stw_scan_options *opt, stw_error *err);

/* Pulls the next piece of a byte stream: sets *buf and *len to bytes the
 * callee owns and keeps valid until its next call; *len 0 means the end.
 * Returns STW_OK, or a status with err filled to abort the scan with it.
 * Called on the thread that called stw_scan_read. */
typedef stw_status (*stw_read_fn)(void *ctx, const void **buf, size_t *len,
                                  stw_error *err);

/* Scans a byte stream the caller supplies - `docker save` output piped in,
 * an upload being received, a single layer blob - read once, forward, as
 * with "-" for standard input: an image archive (tar) or one layer (tar,
 * gzip or zstd), whichever its bytes say. name (borrowed) labels messages
 * and the image when the archive has no tag. fn/ctx are borrowed for the
 * call; the library never closes or frees ctx. Otherwise as
 * stw_scan_target. */
STW_API stw_status stw_scan_read(const stw_rules *rules, stw_store *store,
                                 int64_t scan_id, const char *name,
                                 stw_read_fn fn, void *ctx,
                                 const stw_scan_options *opt, stw_error *err);

/* ---- results ----------------------------------------------------------- */

typedef struct stw_results stw_results;
typedef struct stw_rimage stw_result_image;
typedef struct stw_rlayer stw_result_layer;
typedef struct stw_rfinding stw_result_finding;
typedef struct stw_rerror stw_result_error;

/* Reads back everything one scan stored, ordered deterministically
 * (findings by image, layer with config last, path, offset, rule). *out
 * transferred (stw_results_destroy). */
STW_API stw_status stw_store_load_scan(stw_store *s, int64_t scan_id,
                                       stw_results **out, stw_error *err);
/* For every image ref (and platform) in the store, the image of its latest
 * scan, without rescanning. image_glob (fnmatch, borrowed; NULL for all)
 * keeps matching refs. *out transferred (stw_results_destroy). */
STW_API stw_status stw_store_load_latest(stw_store *s, const char *image_glob,
                                         stw_results **out, stw_error *err);
STW_API void stw_results_destroy(stw_results *r);

/* Every pointer returned below, and every string, is borrowed from r and
 * valid until r is destroyed or changed by stw_results_suppress. Element
 * getters return NULL when the index is out of range. Strings are never
 * NULL; "" means none. */
STW_API const char *stw_results_rules_version(const stw_results *r);
/* Layers this scan read, and those it reused from the store. */
STW_API uint64_t stw_results_layers_scanned(const stw_results *r);
STW_API uint64_t stw_results_layers_cached(const stw_results *r);

STW_API size_t stw_results_image_count(const stw_results *r);
STW_API const stw_result_image *stw_results_image(const stw_results *r,
                                                  size_t i);
/* "app:1.2", or the target when the archive names no tag. */
STW_API const char *stw_result_image_ref(const stw_result_image *im);
STW_API const char *
stw_result_image_manifest_digest(const stw_result_image *im);
STW_API const char *stw_result_image_config_digest(const stw_result_image *im);
/* "linux/amd64", or "". */
STW_API const char *stw_result_image_platform(const stw_result_image *im);
STW_API size_t stw_result_image_layer_count(const stw_result_image *im);
/* Layers bottom (0) to top. */
STW_API const stw_result_layer *
stw_result_image_layer(const stw_result_image *im, size_t i);
STW_API const char *stw_result_layer_digest(const stw_result_layer *l);
/* The diff_id the image's config claims for the layer (the computed one
 * for an image without a config); may be "". Only a verified one (below)
 * says anything about the layer's bytes: a config can claim any. */
STW_API const char *stw_result_layer_diff_id(const stw_result_layer *l);
/* The diff_id was computed from the layer's bytes and agrees: always for an
 * uncompressed layer, for a compressed one with verify_diff_ids. */
STW_API bool stw_result_layer_diff_id_verified(const stw_result_layer *l);
STW_API const char *stw_result_layer_media_type(const stw_result_layer *l);
/* The history entry (Dockerfile instruction) that made the layer. */
STW_API const char *stw_result_layer_created_by(const stw_result_layer *l);
/* Compressed bytes; -1 when unknown. */
STW_API int64_t stw_result_layer_size(const stw_result_layer *l);
STW_API bool stw_result_layer_cached(const stw_result_layer *l);

STW_API size_t stw_results_finding_count(const stw_results *r);
STW_API const stw_result_finding *stw_results_finding(const stw_results *r,
                                                      size_t i);
/* Index into stw_results_image. */
STW_API size_t stw_result_finding_image(const stw_result_finding *f);
/* Index into the image's layers; -1 for a finding in the image config
 * (Env, history), whose path is "<config>". */
STW_API int stw_result_finding_layer(const stw_result_finding *f);
/* The blob digest of the layer (the config digest for layer -1). */
STW_API const char *
stw_result_finding_layer_digest(const stw_result_finding *f);
/* Relative to the image root; "a.jar!/b/c.properties" inside archives. */
STW_API const char *stw_result_finding_path(const stw_result_finding *f);
STW_API const char *stw_result_finding_rule(const stw_result_finding *f);
STW_API stw_kind stw_result_finding_kind(const stw_result_finding *f);
STW_API stw_severity stw_result_finding_severity(const stw_result_finding *f);
/* 1-based line of the match, 0 when none; byte offset, -1 when none. */
STW_API int64_t stw_result_finding_line(const stw_result_finding *f);
STW_API int64_t stw_result_finding_offset(const stw_result_finding *f);
/* Present in the final filesystem of the image; when not, the index of
 * the layer that deleted or replaced it (else -1). A hidden finding is
 * still in the image for anyone who unpacks the earlier layer. */
STW_API bool stw_result_finding_visible(const stw_result_finding *f);
STW_API int stw_result_finding_removed_in_layer(const stw_result_finding *f);
/* Metadata findings (setuid...): st_mode bits, uid and gid from the tar
 * header; false (and *mode, *uid, *gid untouched) for the others. Each out
 * pointer may be NULL. */
STW_API bool stw_result_finding_mode(const stw_result_finding *f,
                                     uint32_t *mode, int64_t *uid,
                                     int64_t *gid);
/* A checksum or structural check confirmed the secret. */
STW_API bool stw_result_finding_validated(const stw_result_finding *f);
/* Stable across rescans (rule, layer digest, path, secret hash): what
 * baselines and ignore files match on. 32 hex digits. */
STW_API const char *stw_result_finding_fingerprint(const stw_result_finding *f);
/* Hex sha256 of the secret, or "". The secret itself is never stored. */
STW_API const char *
stw_result_finding_secret_sha256(const stw_result_finding *f);
/* Redacted ("AKIA…(20 chars)"), safe to print. */
STW_API const char *stw_result_finding_excerpt(const stw_result_finding *f);
/* Extra redacted context (a git remote with its password masked), or "". */
STW_API const char *stw_result_finding_detail(const stw_result_finding *f);

/* Inputs that could not be scanned, or were scanned only in part (a bound
 * reached, a damaged archive inside a layer). */
STW_API size_t stw_results_error_count(const stw_results *r);
STW_API const stw_result_error *stw_results_error(const stw_results *r,
                                                  size_t i);
STW_API const char *stw_result_error_target(const stw_result_error *e);
STW_API const char *stw_result_error_message(const stw_result_error *e);

/* Findings with severity >= min; hidden ones (deleted by a later layer)
 * count only with include_hidden. What a CI gate compares against. */
STW_API size_t stw_results_count_at_least(const stw_results *r,
                                          stw_severity min,
                                          bool include_hidden);

/* Keeps the findings f of r for which keep(ctx, r, f) returns true, in
 * their order, and drops the others (images, layers and errors stay;
 * pointers to findings of r taken before are invalid after). Returns how
 * many were dropped. keep is called on the calling thread. */
typedef bool (*stw_keep_fn)(void *ctx, const stw_results *r,
                            const stw_result_finding *f);
STW_API size_t stw_results_retain(stw_results *r, stw_keep_fn keep, void *ctx);

/* ---- suppressions: ignore files, baselines, inherited layers ----------- */

typedef struct stw_suppress stw_suppress;

/* Why a finding is not reported. */
typedef enum stw_suppress_why {
    STW_SUPPRESS_NONE = 0,
    STW_SUPPRESS_IGNORE,   /* an ignore-file entry */
    STW_SUPPRESS_BASELINE, /* a baseline entry */
    STW_SUPPRESS_LAYER     /* a layer given to stw_suppress_add_layer */
} stw_suppress_why;

/* An empty set that suppresses nothing. *out transferred
 * (stw_suppress_destroy). Loading is one thread at a time; a loaded set is
 * read-only and may be shared. */
STW_API stw_status stw_suppress_create(stw_suppress **out, stw_error *err);
STW_API void stw_suppress_destroy(stw_suppress *s);

/* Reads an ignore file (docs/cli.md#ignore-files) at path (borrowed). An
 * entry whose expires= date is before today ("YYYY-MM-DD", the caller's
 * UTC date, borrowed) no longer suppresses and adds a warning. STW_ERR_IO
 * when it cannot be read, STW_ERR_FORMAT naming file and line on a syntax
 * error (s then keeps the entries of earlier lines). */
STW_API stw_status stw_suppress_load_ignore(stw_suppress *s, const char *path,
                                            const char *today, stw_error *err);
/* The same from text in memory (len bytes, borrowed); name labels
 * messages. */
STW_API stw_status stw_suppress_parse_ignore(stw_suppress *s, const char *name,
                                             const char *text, size_t len,
                                             const char *today, stw_error *err);
/* Warnings collected while loading (expired entries), one line each.
 * Borrowed while s lives. */
STW_API size_t stw_suppress_warning_count(const stw_suppress *s);
STW_API const char *stw_suppress_warning(const stw_suppress *s, size_t i);

/* Reads a baseline written by stw_suppress_write_baseline (path
 * borrowed): its findings are accepted, matched by fingerprint or, after a
 * rebuild changed the layer digests, by rule, path and secret hash. */
STW_API stw_status stw_suppress_load_baseline(stw_suppress *s, const char *path,
                                              stw_error *err);
/* Accepts every finding of r (borrowed) as if it were in a baseline: how
 * a base image's own findings stop being reported. */
STW_API stw_status stw_suppress_add_baseline_results(stw_suppress *s,
                                                     const stw_results *r,
                                                     stw_error *err);
/* Suppresses every finding in the layer with this blob digest or diff_id
 * ("sha256:...", copied): a layer inherited from a base image. A diff_id
 * matches only a layer whose diff_id was verified (scan with
 * verify_diff_ids), so a config claiming a base layer's diff_id for other
 * bytes cannot hide them. */
STW_API stw_status stw_suppress_add_layer(stw_suppress *s, const char *digest,
                                          stw_error *err);
/* Why f, a finding of r (all borrowed), is suppressed. */
STW_API stw_suppress_why stw_suppress_match(const stw_suppress *s,
                                            const stw_results *r,
                                            const stw_result_finding *f);
/* Removes from r every finding s suppresses (order of the rest kept;
 * images, layers and errors untouched; pointers to findings of r taken
 * before are invalid after). Adds how many went for each reason to
 * *ignored, *baselined and *layers (each may be NULL). */
STW_API void stw_results_suppress(stw_results *r, const stw_suppress *s,
                                  size_t *ignored, size_t *baselined,
                                  size_t *layers);
/* Writes the baseline of r (borrowed) as JSON to out (borrowed, not
 * closed): fingerprints, rebuild keys, rules, paths - never an excerpt or
 * a secret hash. Sorted, so the same findings give the same bytes.
 * STW_ERR_IO when the write fails. */
STW_API stw_status stw_suppress_write_baseline(const stw_results *r, FILE *out,
                                               stw_error *err);

/* ---- reports ------------------------------------------------------------ */

/* The formats of docs/cli.md: an 80-column table for people, the JSON
 * report of docs/json-report.md, SARIF 2.1.0 for code scanning, one
 * self-contained HTML page. */
typedef enum stw_report_format {
    STW_REPORT_TABLE = 0,
    STW_REPORT_JSON = 1,
    STW_REPORT_SARIF = 2,
    STW_REPORT_HTML = 3
} stw_report_format;

/* Parses "table", "json", "sarif" or "html"; STW_ERR_USAGE for anything
 * else (out unchanged). */
STW_API stw_status stw_report_format_parse(const char *s,
                                           stw_report_format *out);

typedef struct stw_report_options stw_report_options;

/* Defaults: no colour, no remediation lines, no rule texts (built-in
 * titles), secrets never shown. *out transferred
 * (stw_report_options_destroy). */
STW_API stw_status stw_report_options_create(stw_report_options **out,
                                             stw_error *err);
STW_API void stw_report_options_destroy(stw_report_options *o);
/* Table only: ANSI colours (the caller decides: a terminal, NO_COLOR). */
STW_API void stw_report_options_set_color(stw_report_options *o, bool on);
/* Table only: a one-line fix under the first finding of each rule. */
STW_API void stw_report_options_set_remediation(stw_report_options *o, bool on);
/* Rule titles and remediations for the table, SARIF and HTML: rules is
 * borrowed and must outlive every render with these options. NULL: built-in
 * texts only. */
STW_API void stw_report_options_set_rules(stw_report_options *o,
                                          const stw_rules *rules);
/* Table only: every finding on a line of its own. Without it, stock
 * setuid/setgid binaries and published test keys - nothing to act on -
 * fold into one line per layer each. */
STW_API void stw_report_options_set_verbose(stw_report_options *o, bool on);
/* Table only: fn(ctx, fingerprint) gives the plaintext secret of a finding
 * (as a stw_secret_fn collected it), or NULL when not known; the table
 * prints it under the finding. For a terminal whose user asked to see
 * secrets, never for a file. Called on the rendering thread; the string
 * is borrowed until the render returns. fn NULL (the default): a report
 * never shows a secret. ctx borrowed as rules above. */
typedef const char *(*stw_secret_lookup_fn)(void *ctx, const char *fingerprint);
STW_API void stw_report_options_set_secret_lookup(stw_report_options *o,
                                                  stw_secret_lookup_fn fn,
                                                  void *ctx);

/* Writes r in format to out (both borrowed; out is flushed, not closed).
 * opt may be NULL (the defaults). The same results always render to the
 * same bytes. Strings from the image are escaped or replaced (invalid
 * UTF-8, control characters), so a hostile file name cannot drive a
 * terminal or inject markup. STW_ERR_IO when writing fails (out may then
 * hold part of the report), STW_ERR_NOMEM. */
STW_API stw_status stw_report_render(const stw_results *r,
                                     stw_report_format format,
                                     const stw_report_options *opt, FILE *out,
                                     stw_error *err);

#ifdef __cplusplus
}
#endif

/* The rest of the API, in headers of their own so this one stays
 * readable; including this one is enough. */
#include "stowaway/batch.h"
#include "stowaway/db.h"

#endif
