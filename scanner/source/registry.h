/* registry.h - images in a live registry, over the Registry HTTP API v2 /
 * OCI Distribution API (libcurl).
 *
 * Pull-based, like the other sources: stw_registry_fetch is an stw_fetch_fn
 * that serves the documents image.c asks for ("index.json", manifests and
 * configs as "blobs/sha256/<hex>"), and a layer is pulled through
 * stw_registry_blob_read, an stw_read_fn that feeds stw_layer_scan straight
 * from the socket: no temporary files, memory bounded by one buffer per
 * blob. Digests of layer blobs are verified by stw_blob (pass the expected
 * digest in stw_blob_options); manifests and configs are verified here.
 *
 * Auth: anonymous; the bearer-token flow announced by WWW-Authenticate
 * (tokens cached per scope); basic auth; credentials from the options, else
 * from a docker config.json ("auths", credHelpers / credsStore through
 * docker-credential-NAME when it is on PATH). TLS is verified with the system
 * CA store or opt->ca_cert; plain HTTP only for hosts listed as insecure.
 * Requests are retried with exponential back-off on 429, 5xx and transport
 * failures, honouring Retry-After, a bounded number of times. */
#ifndef STW_REGISTRY_H
#define STW_REGISTRY_H

#include "stowaway/stowaway.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- references (pure) --------------------------------------------------- */

/* Longest reference accepted, prefix included. */
#define STW_REGISTRY_REF_MAX 1024

typedef struct stw_registry_ref {
    char registry[256];     /* "host[:port]"; Docker Hub is "docker.io" */
    char repository[256];   /* "library/alpine", "team/app" */
    char tag[129];          /* "" when only a digest was given */
    char digest[72];        /* "sha256:<hex>" or "" */
    bool explicit_registry; /* a docker:// or oci:// prefix, or a first
                               component that names a host (has '.' or ':',
                               or is "localhost") */
} stw_registry_ref;

/* Parses "[docker://|oci://][REGISTRY/]REPO[:TAG][@sha256:HEX]". Without a
 * registry the reference is Docker Hub's ("alpine" -> docker.io,
 * library/alpine:latest); without tag or digest the tag is "latest"; with
 * both, the digest decides what is fetched. Returns STW_ERR_USAGE with a
 * message naming s for anything else. Does not look at the filesystem:
 * callers check whether a target is a local path first. */
stw_status stw_registry_parse_ref(const char *s, stw_registry_ref *out,
                                  stw_error *err);

/* Writes the canonical "registry/repository[:tag][@digest]" into buf;
 * returns buf. */
char *stw_registry_ref_format(const stw_registry_ref *ref, char *buf, size_t n);

/* ---- WWW-Authenticate (pure) --------------------------------------------- */

typedef struct stw_registry_challenge {
    char scheme[16]; /* "bearer" or "basic", lowercased */
    char realm[1024];
    char service[256];
    char scope[1024]; /* "" when the server named none */
    char error[64];   /* e.g. "insufficient_scope", or "" */
} stw_registry_challenge;

/* Parses a WWW-Authenticate value (RFC 7235 auth-params, quoted strings
 * with backslash escapes). With several challenges, the first Bearer or
 * Basic one is taken. STW_ERR_FORMAT when none is usable or a field is
 * longer than its buffer. */
stw_status stw_registry_parse_challenge(const char *value,
                                        stw_registry_challenge *out,
                                        stw_error *err);

/* ---- docker config credentials (pure) ------------------------------------ */

typedef struct stw_registry_cred {
    char *username; /* NULL when none; transferred, free with _clear */
    char *password;
    char *helper; /* credential helper name ("pass" for
                     docker-credential-pass) to ask first, or NULL */
} stw_registry_cred;

/* Frees (and wipes the password of) what a cred holds; zeroes it. */
void stw_registry_cred_clear(stw_registry_cred *c);

/* Looks registry ("host[:port]", "docker.io") up in the JSON text of a
 * docker config.json (borrowed): credHelpers[registry] or credsStore give
 * out->helper; "auths" entries (keyed "host", "https://host", "http://host/v2/"
 * ...) give username and password from the base64 "auth" field or from
 * "username"/"password". Both may be filled: the caller tries the helper
 * first. Nothing found is STW_OK with all NULL. STW_ERR_JSON for malformed
 * JSON, STW_ERR_FORMAT for an "auth" that is not base64 of "user:password".
 */
stw_status stw_registry_config_auth(const char *json, size_t len,
                                    const char *registry,
                                    stw_registry_cred *out, stw_error *err);

/* Parses what `docker-credential-NAME get` prints ({"Username": ...,
 * "Secret": ...}) into out->username / out->password (replacing them). */
stw_status stw_registry_parse_helper_output(const char *json, size_t len,
                                            stw_registry_cred *out,
                                            stw_error *err);

/* ---- a registry connection ----------------------------------------------- */

typedef struct stw_registry_options {
    const char *ca_cert; /* PEM file trusted instead of the system store */
    const char *const *insecure; /* "host:port" reached over plain HTTP */
    size_t n_insecure;
    const char *docker_config; /* config.json path; NULL =
                                  $DOCKER_CONFIG/config.json or
                                  $HOME/.docker/config.json; "" = none */
    const char *username;      /* explicit credentials win over docker config */
    const char *password;
    int tries;      /* attempts per request; 0 = STW_REGISTRY_TRIES */
    long timeout_s; /* connect timeout, deadline of a document, window of
                       a blob's minimum rate (limits.h); 0 = default */
    const char *user_agent; /* NULL = "stowaway/<version>" */
    int page_size;          /* listings: entries asked per page (the n= of
                               _catalog and tags/list); 0 = STW_REGISTRY_PAGE_SIZE */
} stw_registry_options;

typedef struct stw_registry stw_registry;

/* Parses ref (see stw_registry_parse_ref), connects and resolves it: the
 * manifest or index it names is fetched and its digest checked (against
 * the reference's digest and the Docker-Content-Digest header). Options and
 * their strings are copied; o may be NULL. Errors are one line naming the
 * reference and the HTTP status or transport error (STW_ERR_NOT_FOUND for a
 * missing tag or repository, STW_ERR_IO for network, TLS and auth
 * failures). *out transferred to the caller. */
stw_status stw_registry_open(const char *ref, const stw_registry_options *o,
                             stw_registry **out, stw_error *err);
void stw_registry_close(stw_registry *r);

/* The canonical reference ("127.0.0.1:5000/app:1"); borrowed. */
const char *stw_registry_name(const stw_registry *r);
/* "sha256:…" of what the reference resolved to, and its media type;
 * borrowed. */
const char *stw_registry_digest(const stw_registry *r);
const char *stw_registry_media_type(const stw_registry *r);

/* stw_fetch_fn over a registry (ctx is the stw_registry): "index.json" is a
 * synthesized OCI index with one descriptor for what the reference resolved
 * to, annotated org.opencontainers.image.ref.name = the canonical
 * reference; "blobs/sha256/<hex>" is that manifest, index or config
 * (manifests endpoint for digests named by an index, blobs endpoint
 * otherwise), at most STW_MAX_JSON_BYTES, digest verified. Anything else is
 * STW_ERR_NOT_FOUND. *data stays valid until stw_registry_close. Calls are
 * serialised internally. */
stw_status stw_registry_fetch(void *ctx, const char *name, const char **data,
                              size_t *len, stw_error *err);

typedef struct stw_registry_blob stw_registry_blob;

/* Starts downloading blob digest ("sha256:<hex>", or a "blobs/sha256/<hex>"
 * name) and waits for the response to begin, so a missing blob or refused
 * access fails here. Redirects to blob storage are followed; the
 * Authorization header is not sent to another host. Several blobs may be
 * open at once, each used by one thread. *out transferred to the caller;
 * r must outlive it. */
stw_status stw_registry_blob_open(stw_registry *r, const char *digest,
                                  stw_registry_blob **out, stw_error *err);

/* stw_read_fn (ctx is the stw_registry_blob): the next bytes of the blob,
 * valid until the next call; *len == 0 at the end. A connection lost
 * mid-blob is resumed with a Range request while tries remain. The bytes are
 * not hashed here: give stw_blob the expected digest. */
stw_status stw_registry_blob_read(void *ctx, const void **buf, size_t *len,
                                  stw_error *err);

/* Bytes delivered so far. */
uint64_t stw_registry_blob_bytes(const stw_registry_blob *b);

void stw_registry_blob_close(stw_registry_blob *b);

/* ---- listing a registry (catalog and tags) ------------------------------- */

/* Parses a Link header value (RFC 8288) and writes the target of its
 * rel="next" link ("/v2/_catalog?last=a&n=100", or an absolute URL) into
 * out (size n). Returns false when there is none or it does not fit. */
bool stw_registry_next_link(const char *value, char *out, size_t n);

/* Called once per name listed, in the order the registry gives them; name
 * is borrowed. A non-OK return stops the listing and is returned. */
typedef stw_status (*stw_registry_name_fn)(void *ctx, const char *name,
                                           stw_error *err);

/* Connects to a registry host ("host[:port]", "docker.io") without
 * resolving any image, for stw_registry_catalog and stw_registry_tags.
 * Options as for stw_registry_open (copied). *out transferred. */
stw_status stw_registry_connect(const char *host, const stw_registry_options *o,
                                stw_registry **out, stw_error *err);

/* Lists every repository of GET /v2/_catalog, following the Link header's
 * pages (n= the options' page_size); at most STW_REGISTRY_MAX_REPOS names
 * and STW_REGISTRY_MAX_PAGES pages, else STW_ERR_LIMIT. A name that is not
 * a valid repository name is STW_ERR_FORMAT. A next link to another host is
 * refused (STW_ERR_FORMAT): credentials are not sent elsewhere. */
stw_status stw_registry_catalog(stw_registry *r, stw_registry_name_fn fn,
                                void *ctx, stw_error *err);

/* Lists the tags of repository repo (GET /v2/REPO/tags/list, paginated the
 * same way; at most STW_REGISTRY_MAX_TAGS). A repository with no tags
 * ("tags": null) lists nothing. */
stw_status stw_registry_tags(stw_registry *r, const char *repo,
                             stw_registry_name_fn fn, void *ctx,
                             stw_error *err);

#endif
