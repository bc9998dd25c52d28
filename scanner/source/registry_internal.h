/* registry_internal.h - what the files of the registry client share: the
 * layout of a connection, one HTTP transfer, and the calls between
 * ref.c / challenge.c (pure parsers), creds.c (docker config, credential
 * helpers), http.c (transfers and retries), auth.c (tokens, basic auth),
 * registry.c (open/close, documents, blobs) and list.c (catalog, tags).
 * Only those files include it: the rest of the scanner sees registry.h. */
#ifndef STW_REGISTRY_INTERNAL_H
#define STW_REGISTRY_INTERNAL_H

#include "registry.h"

#include "docset.h"
#include "limits.h"
#include "sha256.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STW_REG_DOCKER_HUB      "docker.io"
#define STW_REG_DOCKER_HUB_HOST "registry-1.docker.io"

/* Bytes of a layer buffered between the socket and the reader: the write
 * callback pauses the transfer when it is full, so a slow scan holds back
 * the network instead of growing memory. */
#define STW_REG_STREAM_BUF (1u << 20)

/* A cached bearer token (auth.c). */
typedef struct stw_reg_token stw_reg_token;

struct stw_registry {
    stw_registry_ref ref;
    char name[STW_REGISTRY_REF_MAX + 96]; /* canonical reference */
    char base[300];                       /* "https://host:port" */
    bool plain_http;
    char *ca_cert, *docker_config, *user_agent;
    char **insecure;
    size_t n_insecure;
    int tries;
    long timeout_s;
    int page_size; /* listings */
    bool curl_inited, locks_inited;

    /* Credentials are resolved on the first 401; tokens cached per scope.
     * Guarded by auth_lock (blobs may be read from several threads). */
    pthread_mutex_t auth_lock;
    bool creds_resolved;
    char *user, *pass;
    bool basic; /* the registry asked for basic auth */
    stw_reg_token *tokens;
    size_t n_tokens;

    /* Documents, served by stw_registry_fetch; guarded by doc_lock. The
     * multi handle keeps their connections alive between requests. */
    pthread_mutex_t doc_lock;
    CURLM *doc_multi;
    stw_docset *docs;
    char **mdigests; /* digests an index names: fetched as manifests */
    size_t n_mdigests;
    char digest[STW_DIGEST_STR];
    char media_type[128];
};

/* ---- names and strings (ref.c) ------------------------------------------- */

/* An ASCII letter or digit. */
bool stw_reg_alnum(char c);

/* Repository names (path components of lowercase alphanumerics joined by
 * '.', '_' or '-': the distribution grammar, slightly looser about repeated
 * separators), tags (at most 128 of [A-Za-z0-9_.-], not starting with
 * '.' or '-') and hosts ("name[:port]" or "[v6][:port]"). */
bool stw_reg_valid_repo(const char *s);
bool stw_reg_valid_tag(const char *s);
bool stw_reg_valid_host(const char *s);

/* Copies src into dst (n bytes) when it fits with its NUL; false, and dst
 * untouched, when it does not. */
bool stw_reg_copy_field(char *dst, size_t n, const char *src);

/* Copies at most n-1 printable ASCII bytes of src (len bytes) for use in a
 * one-line message: a server's text must not break the line. */
void stw_reg_clean_copy(char *dst, size_t n, const char *src, size_t len);

/* ---- header values (challenge.c) ----------------------------------------- */

/* Whether a WWW-Authenticate value (borrowed) starts with a scheme we can
 * answer, Bearer or Basic: of several challenges sent as several headers,
 * the first such one is kept. */
bool stw_reg_challenge_ours(const char *value);

/* ---- credentials (creds.c) ----------------------------------------------- */

/* Wipes and frees a secret string; NULL is fine. */
void stw_reg_wipe_free(char *s);

/* Finds credentials once into r->user / r->pass: explicit options, else the
 * docker config (its helper first, then "auths"). No credentials found is
 * STW_OK with r->user NULL. Called with r->auth_lock held. */
stw_status stw_reg_resolve_creds(stw_registry *r, stw_error *err);

/* ---- one HTTP transfer (http.c) ------------------------------------------ */

typedef struct stw_reg_xfer {
    CURL *easy;
    CURLM *multi;
    struct curl_slist *hdrs;
    char errbuf[CURL_ERROR_SIZE];
    long status; /* of the response being received */
    char ctype[128], dcd[128], retry_after[64];
    char www_auth[STW_REGISTRY_MAX_HEADER];
    char link[STW_REGISTRY_MAX_HEADER]; /* pagination of listings */
    bool stream;  /* bounded buffer with pause, else grow up to limit */
    size_t limit; /* non-stream: body bytes allowed */
    unsigned char *buf;
    size_t len, cap;
    bool taken; /* buf was handed to the reader */
    bool over_limit, paused, done;
    CURLcode result;
    char ebody[STW_REGISTRY_MAX_ERROR_BODY + 1];
    size_t elen;
    /* Deadlines: the request's URL (copied) names it when one is missed;
     * time is counted only while stw_reg_xfer_run waits for the server. */
    char *url;
    int64_t waited_ms;     /* in all, for a document's deadline */
    int64_t window_ms;     /* in the current window, for a blob's rate */
    uint64_t window_bytes; /* received in the current window */
    uint64_t received;     /* body bytes received so far */
} stw_reg_xfer;

/* What one request needs; the strings are borrowed for the call. */
typedef struct stw_reg_req {
    const char *url;
    const char *accept; /* a whole "Accept: ..." header line, or NULL */
    const char *what;   /* for messages: "manifest 1", "blob sha256:..." */
    bool stream;
    size_t limit;
    uint64_t range_from;
    bool registry_auth; /* send the registry's token / basic credentials */
    bool token_auth;    /* token endpoint: basic credentials if any */
    const char *scope;  /* token scope; NULL: pull of the reference's repo */
} stw_reg_req;

/* Sends a request on multi, answering auth challenges once and retrying
 * transport failures, 429 and 5xx with back-off. On success *out (transferred
 * to the caller, free with stw_reg_xfer_free) holds a 2xx transfer: done,
 * or streaming with its first bytes buffered. On failure *out is NULL and
 * the message names r and q->what. */
stw_status stw_reg_request(stw_registry *r, CURLM *multi, const stw_reg_req *q,
                           stw_reg_xfer **out, stw_error *err);

/* Runs the transfer until it is done or, with want > 0, until a successful
 * response has want bytes buffered or is paused. Fails with STW_ERR_IO,
 * naming the URL, when the server misses its deadline: a document that
 * takes longer than r->timeout_s in all, a stream that receives less than
 * STW_REGISTRY_MIN_RATE bytes/s over r->timeout_s of waiting. */
stw_status stw_reg_xfer_run(stw_registry *r, stw_reg_xfer *x, size_t want,
                            stw_error *err);
void stw_reg_xfer_free(stw_reg_xfer *x);

/* Whether a failed transfer is worth another attempt, and how long to wait
 * before attempt number attempt (1 = the first retry): the server's
 * Retry-After (seconds or an HTTP date, may be NULL) when given, else
 * exponential. */
bool stw_reg_retryable(CURLcode c);
long stw_reg_backoff_ms(int attempt, const char *retry_after);
void stw_reg_sleep_ms(long ms);

/* Whether host (len bytes, "host:port") was listed as insecure. */
bool stw_reg_host_insecure(const stw_registry *r, const char *host, size_t len);

/* ---- auth (auth.c) ------------------------------------------------------- */

/* The Authorization header line q needs for scope into *out, or NULL when
 * none is due: the cached token or basic credentials with
 * q->registry_auth, basic credentials for a token endpoint with
 * q->token_auth. STW_ERR_NOMEM when one is due but cannot be built: sent
 * without it, the request would fail as "authentication required", a
 * wrong reason. *out is transferred to the caller (free with
 * stw_reg_wipe_free). */
stw_status stw_reg_authorization(stw_registry *r, const stw_reg_req *q,
                                 const char *scope, char **out, stw_error *err);

/* Answers a 401 (x, borrowed): learns the challenge, finds credentials,
 * gets a token. scope (scope_n bytes) is updated to the one the server
 * asked for. */
stw_status stw_reg_authenticate(stw_registry *r, CURLM *multi,
                                const stw_reg_xfer *x, const char *what,
                                char *scope, size_t scope_n, stw_error *err);

/* Frees (and wipes) the cached tokens. */
void stw_reg_tokens_free(stw_registry *r);

/* ---- connections (registry.c) -------------------------------------------- */

/* Everything of a connection but resolving a reference, from o (its strings
 * copied); ref names the target in messages. r->ref and r->name are set by
 * the caller. On failure r is consumed (closed). */
stw_status stw_reg_setup(stw_registry *r, const char *ref,
                         const stw_registry_options *o, stw_error *err);

#endif
