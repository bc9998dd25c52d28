/* limits.h - every bound that an untrusted image controls, in one place.
 * Each default is overridable per scan through stw_scan_options. */
#ifndef STW_LIMITS_H
#define STW_LIMITS_H

/* JSON documents (manifest.json, index.json, configs, manifests) are read
 * whole; real ones are a few KiB, 16 MiB allows absurd histories. */
#define STW_MAX_JSON_BYTES (16u << 20)
/* JSON nesting depth accepted by the parser (jansson's own recursion). */
#define STW_MAX_JSON_DEPTH 64
/* Uncompressed bytes of one layer: far above any real layer (tens of GB),
 * low enough that a decompression bomb stops. */
#define STW_MAX_LAYER_BYTES (64ull << 30)
/* Decompression ratio beyond which a layer is a bomb. Real tar+gzip of
 * sparse files reaches ~1000; zeros compress ~1030x in gzip, far more in
 * zstd, so the ratio is only enforced past STW_RATIO_GRACE bytes. */
#define STW_MAX_RATIO   2000.0
#define STW_RATIO_GRACE (64ull << 20)
/* Entries in one layer: node_modules trees reach ~10^5. */
#define STW_MAX_ENTRIES 5000000ull
/* Path length inside a layer (PATH_MAX-ish) for the detectors that keep
 * paths in fixed buffers (artifact directories, git collection). */
#define STW_MAX_PATH 4096
/* A tar entry's path (a PAX header allows any length): scanned whole up
 * to this; a longer one is skipped with a note in the report's errors. */
#define STW_MAX_ENTRY_PATH (64u << 10)
/* A path through archives inside a layer file ("a.jar!/lib/b.jar!/c"):
 * a few entry paths long at most; a longer member is skipped with a note. */
#define STW_MAX_CHAIN_PATH (4 * STW_MAX_ENTRY_PATH)
/* Members of an outer archive (docker save / oci-archive) and layers of one
 * image. */
#define STW_MAX_MEMBERS 100000
#define STW_MAX_LAYERS  1000
/* Images in one archive or index. */
#define STW_MAX_IMAGES 4096
/* Findings kept per layer; beyond this they are counted, not stored. */
#define STW_MAX_FINDINGS_PER_LAYER 100000
/* Content scanning window: files are scanned in chunks of this size with
 * STW_SCAN_OVERLAP bytes carried over, so a match up to that long that
 * straddles two chunks is still seen whole. */
#define STW_SCAN_CHUNK   (1u << 20)
#define STW_SCAN_OVERLAP (64u << 10)

/* zstd frames declare their window size; a hostile frame could make the
 * decoder allocate up to 2 GiB per layer (per worker). 2^27 = 128 MiB
 * covers `zstd --long` (default 2^27) and every level up to 19. */
#define STW_ZSTD_WINDOW_LOG_MAX 27

/* Keyword confirmation window: a prefilter hit at offset h runs the rule's
 * regex over [h - BEFORE, h + AFTER] of the current chunk, so a rule's
 * keyword must sit within BEFORE bytes of the match start and the match must
 * end within AFTER bytes of the keyword (a 4096-bit RSA PEM is ~3.3 KiB). */
#define STW_SCAN_HIT_BEFORE (4u << 10)
#define STW_SCAN_HIT_AFTER  (16u << 10)
/* Bytes before a chunk's first reportable offset kept as look-behind
 * context (\b, (?<=...)) for the regexes. Must be < STW_SCAN_OVERLAP. */
#define STW_SCAN_CONTEXT 256u
/* PCRE2 match limit per confirmation window: hostile content cannot make a
 * regex backtrack for ever; a window that hits it is narrowed (matcher.c's
 * confirm()), and what stays undecided is named in the report's errors. */
#define STW_REGEX_MATCH_LIMIT 10000000u
/* Extra regex runs, each bounded by the match limit, spent per file to
 * narrow a window that hit it (find the hostile start offset, skip it, go
 * on): enough for a few hostile spots in one file; past it the rest of a
 * window is left unchecked and the file named in the report's errors. */
#define STW_REGEX_RETRY_PROBES 64u
/* Decoded values of one file (rules/decode.c: a Kubernetes Secret's
 * base64 data, a Docker config's auths) handed to the content rules. Real
 * manifests hold a few KiB; a List of every Secret of a cluster some
 * hundreds. Past it the rest are scanned in their encoded form only. Only
 * files that fit one scan window (STW_SCAN_CHUNK + STW_SCAN_OVERLAP) are
 * decoded at all. */
#define STW_MAX_DECODED_BYTES (1u << 20)
/* Size of one user rule file read from disk. */
#define STW_MAX_RULEFILE_BYTES (16u << 20)
/* Rules in one rule set, built-in ones included (306 today): compile
 * time and memory grow with the count, so a huge generated rule file is
 * refused with its name instead of compiling for minutes. */
#define STW_MAX_RULES 10000u
/* Bytes of the compiled rule set: PCRE2 programs plus the vectorscan
 * databases (hs_database_size); the built-in rules take ~2 MiB. */
#define STW_MAX_COMPILED_BYTES (256u << 20)

/* COPY-artifact detector (artifact.c): distinct artifact directories
 * (.git/, .github/...) remembered per layer for one-finding-per-directory.
 * A real layer has a handful; a hostile one could name millions. Past the
 * cap each new directory is reported on sight, without its .git/config. */
#define STW_MAX_ARTIFACT_DIRS 65536u
/* Bytes of .git/config, .hg/hgrc or a key store's header read by the
 * artifact detector; real repository configs are well under 4 KiB. */
#define STW_MAX_ARTIFACT_READ (64u << 10)

/* Registry client (registry.c). Attempts per request on 429, 5xx and
 * transport failures; a server's Retry-After is obeyed up to the cap, so a
 * hostile or confused registry cannot park a scan for hours. */
#define STW_REGISTRY_TRIES             4
#define STW_REGISTRY_MAX_RETRY_AFTER_S 60
/* Default --timeout (seconds): the connect timeout, the whole time a
 * document request (manifest, index, config, token, listing page) may take,
 * and the window over which a blob must keep up STW_REGISTRY_MIN_RATE. */
#define STW_REGISTRY_TIMEOUT_S 30
/* Largest --timeout accepted: an hour per window is already no deadline. */
#define STW_REGISTRY_MAX_TIMEOUT_S 3600
/* Bytes per second a blob download must average over every --timeout
 * seconds the scanner waits for it (time it spends scanning, with the
 * transfer paused, is not counted): its total time scales with its size,
 * and a server dripping bytes fails within one window instead of holding
 * a scan for months. Any real registry link is a hundred times faster. */
#define STW_REGISTRY_MIN_RATE (16u << 10)
/* Redirects followed per request (registry -> blob storage is one). */
#define STW_REGISTRY_MAX_REDIRECTS 8
/* Bytes kept of a response header value (WWW-Authenticate, Content-Type)
 * and of an error body (to name the registry's error code). */
#define STW_REGISTRY_MAX_HEADER     4096u
#define STW_REGISTRY_MAX_ERROR_BODY (16u << 10)
/* A token endpoint's JSON answer (JWTs are a few KiB) and a credential
 * helper's output. */
#define STW_REGISTRY_MAX_TOKEN_BYTES  (1u << 20)
#define STW_REGISTRY_MAX_HELPER_BYTES (64u << 10)

/* Suppression files (suppress.c): an ignore file is written by hand, a few
 * hundred lines at most; a baseline lists every accepted finding of a
 * registry-sized scan. Both are read whole. */
#define STW_MAX_IGNORE_BYTES   (1u << 20)
#define STW_MAX_BASELINE_BYTES (256u << 20)

/* Confirmation window of a token rule (any kind but private-key) without a
 * `window:` of its own: tokens are short and their keyword is their prefix
 * or the key name just before them, so [h - 512, h + 2048] holds any match;
 * the narrow window keeps frequent keywords ("http://", "token") cheap. A
 * rule's `window: N` asks for [h - N, h + N], N <= STW_SCAN_HIT_AFTER. */
#define STW_SCAN_TOKEN_HIT_BEFORE 512u
#define STW_SCAN_TOKEN_HIT_AFTER  2048u

/* Registry listing (registry.c catalog/tags, `batch registry`). Entries
 * asked for per page; the server may answer fewer. Repositories in a
 * catalog and tags of one repository beyond these counts are an error, not
 * an endless walk: a hostile or looping registry cannot pin a batch scan
 * (its Link header could point back to the same page for ever). */
#define STW_REGISTRY_PAGE_SIZE 1000
#define STW_REGISTRY_MAX_REPOS 1000000
#define STW_REGISTRY_MAX_TAGS  100000
/* Pages followed for one listing: enough for the counts above at a page
 * size as small as 10 (some registries cap n far below what we ask). */
#define STW_REGISTRY_MAX_PAGES 100000
/* References (repository:tag) one `batch registry` listing keeps. */
#define STW_MAX_IMAGES_LISTED 10000000u

/* Files inside files (stream/nested.c), per file of a layer. Archives
 * opened inside each other: a zip in a jar in a tar.gz is depth 3. */
#define STW_NESTED_MAX_DEPTH 4u
/* Bytes decompressed out of the archives of one file: generous (a fat jar
 * holds a few hundred MB), finite (a 42.zip holds petabytes). */
#define STW_NESTED_MAX_BYTES (8ull << 30)
/* Decompressed bytes / the file's size past STW_RATIO_GRACE: jars and
 * tarballs of text stay under 20, sparse files under 1000; a bomb is far
 * above. */
#define STW_NESTED_MAX_RATIO 1000.0
/* Members of all the archives in one file (a big fat jar: ~10^4). */
#define STW_NESTED_MAX_MEMBERS 1000000ull
/* An archive is kept in memory up to this many bytes while it is read;
 * a larger one goes to an unlinked temporary file, so memory stays flat
 * whatever the archive's size (one spool per nesting level). */
#define STW_NESTED_MEM_MAX (8u << 20)
/* Archives smaller than this are scanned again rather than looked up in
 * and written to the archive cache (a man page's .gz is cheaper to inflate
 * than to remember). */
#define STW_NESTED_CACHE_MIN (64u << 10)
/* Notes (skipped or cut-short files) kept per layer, and archives of one
 * layer remembered for the archive cache. */
#define STW_MAX_NOTES_PER_LAYER    1000u
#define STW_MAX_ARCHIVES_PER_LAYER 100000u
/* Threads that walk the archive files of one layer beside its walk thread
 * (stream/nestpool.c), at most: each holds a matcher and one spool at a
 * time, and a layer of jars rarely keeps more busy. Archives spooled and
 * waiting for them, at most: a few spools of STW_NESTED_MEM_MAX each. */
#define STW_NESTED_WORKERS_MAX 4u
#define STW_NESTED_QUEUE_EXTRA 2u
/* Results of archives walked in one scan kept in memory for the same
 * archive met again (stream/archmemo.c): a few hundred bytes per finding,
 * so at most some tens of MB; past either bound nothing more is kept. */
#define STW_ARCHMEMO_MAX_ARCHIVES 100000u
#define STW_ARCHMEMO_MAX_FINDINGS 100000u
/* And the bytes those findings hold: a crafted archive's member paths may
 * be STW_MAX_ENTRY_PATH long each, so the count alone bounds nothing. */
#define STW_ARCHMEMO_MAX_BYTES (64u << 20)
/* Archives walked but not yet merged (a long one ahead of them holds them
 * back): only their results are kept, a few hundred bytes each. */
#define STW_NESTED_RESULTS_MAX 256u

/* Git history inside layers (stream/gitcollect.c, stream/gitrepo.c). The
 * files of a layer's .git directories (and bare repositories) are copied
 * to a private temporary directory so libgit2 can read them: at most this
 * many bytes per layer, generous (the history of a large project is a few
 * GB), finite (a layer could hold a terabyte "pack"). Over it, the files
 * that fit are read and a note says so (--max-git-bytes). */
#define STW_MAX_GIT_BYTES (4ull << 30)
/* Repositories collected from one layer (a monorepo's vendored checkouts
 * are a few dozen); past it, the rest are noted and not read. */
#define STW_GIT_MAX_REPOS 256u
/* Objects of one repository read (loose and packed, distinct): a
 * shallow-cloned large project has a few 10^5, the whole Linux history
 * ~10^7. Each costs ~100 bytes of bookkeeping plus the path of a blob. */
#define STW_GIT_MAX_OBJECTS 4000000ull
/* One object is inflated whole into memory: larger blobs (build outputs,
 * media) are skipped with a note; larger commits and trees are not read. */
#define STW_GIT_MAX_OBJECT_BYTES (64u << 20)
/* Bytes of blobs and messages scanned per repository: bounds the time a
 * hostile history (a small pack of deltas expanding to terabytes) takes. */
#define STW_GIT_MAX_SCAN_BYTES (16ull << 30)
/* Tree entries visited per repository while finding each blob's oldest
 * commit (each distinct tree is read once). */
#define STW_GIT_MAX_TREE_ENTRIES 100000000ull
/* A loose ref or HEAD is one line (41 bytes); a bigger file of that name
 * is not copied as one. */
#define STW_GIT_MAX_REF_BYTES 4096u
/* Annotated tags followed from one ref to what they tag (tags of tags). */
#define STW_GIT_MAX_TAG_DEPTH 16u

/* libgit2's memory while a history is read (stream/gitrepo.c): its object
 * cache and the pack windows it maps at once. */
/* Packs of one repository whose index is rebuilt by libgit2's indexer
 * before anything is read (a real repository has a handful). */
#define STW_GIT_MAX_PACKS    16
#define STW_GIT_CACHE_BYTES  (16u << 20)
#define STW_GIT_MAPPED_BYTES (64u << 20)

#endif
