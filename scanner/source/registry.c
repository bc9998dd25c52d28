/* registry.c - a live registry over the Registry HTTP API v2 / OCI
 * Distribution API: references, auth (anonymous, bearer tokens, basic,
 * docker config and credential helpers), retries with back-off, documents
 * for image.c and layer blobs streamed to stw_layer_scan with libcurl. */
#include "registry.h"

#include "common.h"
#include "limits.h"
#include "sha256.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MT_OCI_INDEX    "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST                                                         \
    "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST                                                     \
    "application/vnd.docker.distribution.manifest.v2+json"
#define ACCEPT_MANIFESTS                                                       \
    "Accept: " MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST           \
    ", " MT_DOCKER_MANIFEST

#define DOCKER_HUB          "docker.io"
#define DOCKER_HUB_HOST     "registry-1.docker.io"
#define DOCKER_HUB_AUTH_KEY "https://index.docker.io/v1/"

/* Bytes of a layer buffered between the socket and the reader: the write
 * callback pauses the transfer when it is full, so a slow scan holds back
 * the network instead of growing memory. */
#define STREAM_BUF (1u << 20)
/* First back-off delay, doubled per attempt up to the cap. */
#define BACKOFF_MS     500
#define BACKOFF_MAX_MS 8000
/* Token lifetime assumed when the answer gives none (the spec's default). */
#define TOKEN_DEFAULT_TTL 60

/* ---- small helpers ------------------------------------------------------- */

/* Copies at most n-1 printable ASCII bytes of src (len bytes) for use in a
 * one-line message: a server's text must not break the line. */
static void clean_copy(char *dst, size_t n, const char *src, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    dst[o] = 0;
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- references ---------------------------------------------------------- */

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alnum(char c)
{
    return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* Path components of lowercase alphanumerics joined by '.', '_' or '-'
 * (the distribution grammar, slightly looser about repeated separators). */
static bool valid_repo(const char *s)
{
    const char *p = s;
    for (;;) {
        if (!lower_alnum(*p))
            return false;
        while (*p && *p != '/') {
            if (!lower_alnum(*p) && *p != '.' && *p != '_' && *p != '-')
                return false;
            p++;
        }
        if (!lower_alnum(p[-1]))
            return false;
        if (!*p)
            return true;
        p++;
    }
}

static bool valid_tag(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!alnum(s[i]) && s[i] != '_' &&
            (i == 0 || (s[i] != '.' && s[i] != '-')))
            return false;
    return true;
}

static bool valid_host(const char *s)
{
    const char *p = s;
    if (*p == '[') {
        for (p++; *p && *p != ']'; p++)
            if (!alnum(*p) && *p != ':' && *p != '.')
                return false;
        if (*p++ != ']')
            return false;
    } else {
        for (; *p && *p != ':'; p++)
            if (!alnum(*p) && *p != '.' && *p != '-')
                return false;
        if (p == s)
            return false;
    }
    if (*p == ':') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
        if (digits == 0 || digits > 5)
            return false;
    }
    return *p == 0;
}

static bool copy_field(char *dst, size_t n, const char *src)
{
    size_t l = strlen(src);
    if (l >= n)
        return false;
    memcpy(dst, src, l + 1);
    return true;
}

stw_status stw_registry_parse_ref(const char *s, stw_registry_ref *out,
                                  stw_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!s || !*s)
        return stw_fail(err, STW_ERR_USAGE, "empty image reference");
    if (strlen(s) >= STW_REGISTRY_REF_MAX)
        return stw_fail(err, STW_ERR_USAGE,
                        "image reference longer than %d bytes",
                        STW_REGISTRY_REF_MAX - 1);
    const char *p = s;
    bool prefixed = false;
    if (strncmp(p, "docker://", 9) == 0) {
        p += 9;
        prefixed = true;
    } else if (strncmp(p, "oci://", 6) == 0) {
        p += 6;
        prefixed = true;
    }
    char buf[STW_REGISTRY_REF_MAX];
    memcpy(buf, p, strlen(p) + 1);
    char *at = strchr(buf, '@');
    if (at) {
        *at = 0;
        if (strncmp(at + 1, "sha256:", 7) != 0)
            return stw_fail(err, STW_ERR_USAGE,
                            "%s: only sha256 digests are supported", s);
        if (!stw_sha256_digest_valid(at + 1))
            return stw_fail(err, STW_ERR_USAGE, "%s: malformed digest", s);
        snprintf(out->digest, sizeof(out->digest), "%s", at + 1);
    }
    char *slash = strrchr(buf, '/');
    char *colon = strrchr(buf, ':');
    if (colon && (!slash || colon > slash)) {
        *colon = 0;
        if (!valid_tag(colon + 1))
            return stw_fail(err, STW_ERR_USAGE, "%s: malformed tag", s);
        snprintf(out->tag, sizeof(out->tag), "%s", colon + 1);
    }
    const char *repo = buf;
    const char *host = DOCKER_HUB;
    char *first = strchr(buf, '/');
    if (first) {
        *first = 0;
        if (strchr(buf, '.') || strchr(buf, ':') || buf[0] == '[' ||
            strcmp(buf, "localhost") == 0) {
            if (!valid_host(buf))
                return stw_fail(err, STW_ERR_USAGE,
                                "%s: malformed registry host", s);
            host = buf;
            repo = first + 1;
            out->explicit_registry = true;
        } else {
            *first = '/';
        }
    }
    if (strcasecmp(host, "index.docker.io") == 0 ||
        strcasecmp(host, DOCKER_HUB_HOST) == 0)
        host = DOCKER_HUB;
    if (!copy_field(out->registry, sizeof(out->registry), host))
        return stw_fail(err, STW_ERR_USAGE, "%s: registry host too long", s);
    bool hub = strcmp(out->registry, DOCKER_HUB) == 0;
    int n = snprintf(out->repository, sizeof(out->repository), "%s%s",
                     hub && !strchr(repo, '/') ? "library/" : "", repo);
    if (n < 0 || (size_t)n >= sizeof(out->repository) || !valid_repo(repo))
        return stw_fail(err, STW_ERR_USAGE, "%s: malformed repository name", s);
    if (!out->tag[0] && !out->digest[0])
        snprintf(out->tag, sizeof(out->tag), "latest");
    out->explicit_registry |= prefixed;
    return STW_OK;
}

char *stw_registry_ref_format(const stw_registry_ref *ref, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s%s%s%s%s", ref->registry, ref->repository,
             ref->tag[0] ? ":" : "", ref->tag, ref->digest[0] ? "@" : "",
             ref->digest);
    return buf;
}

/* ---- WWW-Authenticate ---------------------------------------------------- */

static bool tchar(char c)
{
    return alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

stw_status stw_registry_parse_challenge(const char *value,
                                        stw_registry_challenge *out,
                                        stw_error *err)
{
    memset(out, 0, sizeof(*out));
    const char *p = value ? value : "";
    for (;;) {
        p = skip_ws(p);
        while (*p == ',')
            p = skip_ws(p + 1);
        if (!*p)
            break;
        const char *s0 = p;
        while (tchar(*p))
            p++;
        size_t sl = (size_t)(p - s0);
        if (sl == 0)
            return stw_fail(err, STW_ERR_FORMAT,
                            "malformed WWW-Authenticate header");
        stw_registry_challenge c = {0};
        bool usable = (sl == 6 && strncasecmp(s0, "bearer", 6) == 0) ||
                      (sl == 5 && strncasecmp(s0, "basic", 5) == 0);
        for (size_t i = 0; usable && i < sl; i++)
            c.scheme[i] = (char)(s0[i] | 0x20);
        for (;;) {
            p = skip_ws(p);
            const char *k0 = p;
            while (tchar(*p))
                p++;
            size_t kl = (size_t)(p - k0);
            const char *q = skip_ws(p);
            if (kl == 0 || *q != '=') {
                p = k0; /* the next challenge's scheme, or the end */
                break;
            }
            p = skip_ws(q + 1);
            char val[1024];
            size_t vl = 0;
            bool over = false;
            if (*p == '"') {
                for (p++; *p && *p != '"'; p++) {
                    if (*p == '\\' && p[1])
                        p++;
                    if (vl + 1 < sizeof(val))
                        val[vl++] = *p;
                    else
                        over = true;
                }
                if (*p != '"')
                    return stw_fail(err, STW_ERR_FORMAT,
                                    "WWW-Authenticate: unterminated quoted "
                                    "string");
                p++;
            } else {
                for (; *p && *p != ',' && *p != ' ' && *p != '\t'; p++) {
                    if (vl + 1 < sizeof(val))
                        val[vl++] = *p;
                    else
                        over = true;
                }
            }
            val[vl] = 0;
            if (usable) {
                char *dst = NULL;
                size_t dn = 0;
                if (kl == 5 && strncasecmp(k0, "realm", 5) == 0)
                    dst = c.realm, dn = sizeof(c.realm);
                else if (kl == 7 && strncasecmp(k0, "service", 7) == 0)
                    dst = c.service, dn = sizeof(c.service);
                else if (kl == 5 && strncasecmp(k0, "scope", 5) == 0)
                    dst = c.scope, dn = sizeof(c.scope);
                else if (kl == 5 && strncasecmp(k0, "error", 5) == 0)
                    dst = c.error, dn = sizeof(c.error);
                if (dst && (over || !copy_field(dst, dn, val)))
                    return stw_fail(err, STW_ERR_FORMAT,
                                    "WWW-Authenticate: %.*s is too long",
                                    (int)kl, k0);
            }
            p = skip_ws(p);
            if (*p != ',')
                break;
            p++;
        }
        if (usable) {
            if (c.scheme[1] == 'e' && !c.realm[0])
                return stw_fail(err, STW_ERR_FORMAT,
                                "WWW-Authenticate: Bearer challenge without "
                                "realm");
            *out = c;
            return STW_OK;
        }
        if (*p && *p != ',' && !tchar(*p))
            break;
    }
    return stw_fail(err, STW_ERR_FORMAT,
                    "WWW-Authenticate: no Bearer or Basic challenge");
}

/* ---- docker config and credential helpers -------------------------------- */

void stw_registry_cred_clear(stw_registry_cred *c)
{
    if (!c)
        return;
    free(c->username);
    wipe_free(c->password);
    free(c->helper);
    memset(c, 0, sizeof(*c));
}

/* Decodes standard base64 (padding optional) into a NUL-terminated,
 * malloc'd buffer. NULL if malformed or out of memory. */
static char *b64_decode(const char *in, size_t *outlen)
{
    size_t n = strlen(in);
    size_t padded = (n + 3) / 4 * 4;
    char *tmp = malloc(padded + 1);
    unsigned char *out = malloc(padded / 4 * 3 + 1);
    if (!tmp || !out || n % 4 == 1) {
        free(tmp);
        free(out);
        return NULL;
    }
    memcpy(tmp, in, n);
    memset(tmp + n, '=', padded - n);
    tmp[padded] = 0;
    int r =
        padded ? EVP_DecodeBlock(out, (unsigned char *)tmp, (int)padded) : 0;
    size_t pads = 0;
    while (pads < 2 && pads < padded && tmp[padded - 1 - pads] == '=')
        pads++;
    explicit_bzero(tmp, padded);
    free(tmp);
    if (r < 0 || (size_t)r < pads) {
        free(out);
        return NULL;
    }
    *outlen = (size_t)r - pads;
    out[*outlen] = 0;
    return (char *)out;
}

/* True if a config.json key ("https://host/v1/", "host:port") names
 * registry. */
static bool key_matches(const char *key, const char *registry)
{
    const char *k = key;
    if (strncasecmp(k, "https://", 8) == 0)
        k += 8;
    else if (strncasecmp(k, "http://", 7) == 0)
        k += 7;
    size_t kl = strcspn(k, "/");
    if (strcmp(registry, DOCKER_HUB) == 0) {
        static const char *const hub[] = {"docker.io", "index.docker.io",
                                          DOCKER_HUB_HOST};
        for (size_t i = 0; i < STW_ARRAY_LEN(hub); i++)
            if (kl == strlen(hub[i]) && strncasecmp(k, hub[i], kl) == 0)
                return true;
        return false;
    }
    return kl == strlen(registry) && strncasecmp(k, registry, kl) == 0;
}

static stw_status set_pair(stw_registry_cred *out, const char *u, size_t ul,
                           const char *pw)
{
    free(out->username);
    wipe_free(out->password);
    out->username = malloc(ul + 1);
    out->password = stw_strdup(pw);
    if (!out->username || !out->password)
        return STW_ERR_NOMEM;
    memcpy(out->username, u, ul);
    out->username[ul] = 0;
    return STW_OK;
}

stw_status stw_registry_config_auth(const char *json, size_t len,
                                    const char *registry,
                                    stw_registry_cred *out, stw_error *err)
{
    memset(out, 0, sizeof(*out));
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        return stw_fail(err, STW_ERR_JSON,
                        "docker config: malformed JSON: %s (line %d)",
                        root ? "not an object" : je.text, je.line);
    }
    stw_status st = STW_OK;
    const char *k, *helper = NULL;
    json_t *v;
    json_object_foreach(json_object_get(root, "credHelpers"), k, v)
    {
        const char *h = json_string_value(v);
        if (key_matches(k, registry) && h && *h) {
            helper = h;
            break;
        }
    }
    const char *store = json_string_value(json_object_get(root, "credsStore"));
    if (!helper && store && *store)
        helper = store;
    if (helper && !(out->helper = stw_strdup(helper)))
        st = STW_ERR_NOMEM;
    json_object_foreach(json_object_get(root, "auths"), k, v)
    {
        if (st != STW_OK || !key_matches(k, registry) || !json_is_object(v))
            continue;
        const char *a = json_string_value(json_object_get(v, "auth"));
        const char *u = json_string_value(json_object_get(v, "username"));
        const char *pw = json_string_value(json_object_get(v, "password"));
        if (a && *a) {
            size_t dl = 0;
            char *d = b64_decode(a, &dl);
            char *c = d ? memchr(d, ':', dl) : NULL;
            if (!c || strlen(d) != dl) {
                wipe_free(d);
                char kc[128];
                clean_copy(kc, sizeof(kc), k, strlen(k));
                st = stw_fail(err, STW_ERR_FORMAT,
                              "docker config: auths[\"%s\"]: \"auth\" is "
                              "not base64 of user:password",
                              kc);
                break;
            }
            st = set_pair(out, d, (size_t)(c - d), c + 1);
            wipe_free(d);
        } else if (u && pw) {
            st = set_pair(out, u, strlen(u), pw);
        } else {
            continue;
        }
        break;
    }
    json_decref(root);
    if (st == STW_ERR_NOMEM)
        stw_fail(err, st, "out of memory");
    if (st != STW_OK)
        stw_registry_cred_clear(out);
    return st;
}

stw_status stw_registry_parse_helper_output(const char *json, size_t len,
                                            stw_registry_cred *out,
                                            stw_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    const char *u = json_string_value(json_object_get(root, "Username"));
    const char *s = json_string_value(json_object_get(root, "Secret"));
    stw_status st = STW_OK;
    if (!u || !s)
        st = stw_fail(err, STW_ERR_JSON,
                      "credential helper: answer without Username and "
                      "Secret");
    else if (set_pair(out, u, strlen(u), s) != STW_OK)
        st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
    json_decref(root);
    return st;
}

/* ---- the connection ------------------------------------------------------ */

typedef struct doc {
    char *name;
    char *data;
    size_t len;
} doc;

typedef struct token {
    char *scope;
    char *value;
    time_t expires;
} token;

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
    token *tokens;
    size_t n_tokens;

    /* Documents, served by stw_registry_fetch; guarded by doc_lock. The
     * multi handle keeps their connections alive between requests. */
    pthread_mutex_t doc_lock;
    CURLM *doc_multi;
    doc *docs;
    size_t n_docs;
    char **mdigests; /* digests an index names: fetched as manifests */
    size_t n_mdigests;
    char digest[STW_DIGEST_STR];
    char media_type[128];
};

const char *stw_registry_name(const stw_registry *r)
{
    return r->name;
}
const char *stw_registry_digest(const stw_registry *r)
{
    return r->digest;
}
const char *stw_registry_media_type(const stw_registry *r)
{
    return r->media_type;
}

static bool host_insecure(const stw_registry *r, const char *host, size_t len)
{
    for (size_t i = 0; i < r->n_insecure; i++)
        if (strlen(r->insecure[i]) == len &&
            strncasecmp(r->insecure[i], host, len) == 0)
            return true;
    return false;
}

/* ---- one HTTP transfer --------------------------------------------------- */

typedef struct xfer {
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
} xfer;

static bool ok2xx(const xfer *x)
{
    return x->status >= 200 && x->status < 300;
}

static void copy_header(char *dst, size_t n, const char *v, size_t vl)
{
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ' ||
                  v[vl - 1] == '\t'))
        vl--;
    if (vl >= n)
        vl = n - 1;
    memcpy(dst, v, vl);
    dst[vl] = 0;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
    xfer *x = ud;
    size_t n = sz * nm;
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new response (after a redirect or a 100): forget the last. */
        const char *sp = memchr(p, ' ', n);
        long code = 0;
        for (sp = sp ? sp + 1 : p + n; sp < p + n && *sp >= '0' && *sp <= '9';
             sp++)
            code = code * 10 + (*sp - '0');
        x->status = code;
        x->ctype[0] = x->dcd[0] = x->retry_after[0] = x->www_auth[0] = 0;
        x->link[0] = 0;
        return n;
    }
    const char *colon = memchr(p, ':', n);
    if (!colon)
        return n;
    size_t kl = (size_t)(colon - p), vl = n - kl - 1;
    const char *v = colon + 1;
    if (kl == 12 && strncasecmp(p, "content-type", kl) == 0)
        copy_header(x->ctype, sizeof(x->ctype), v, vl);
    else if (kl == 21 && strncasecmp(p, "docker-content-digest", kl) == 0)
        copy_header(x->dcd, sizeof(x->dcd), v, vl);
    else if (kl == 11 && strncasecmp(p, "retry-after", kl) == 0)
        copy_header(x->retry_after, sizeof(x->retry_after), v, vl);
    else if (kl == 4 && strncasecmp(p, "link", kl) == 0) {
        /* Keep the Link header that names the next page, if several. */
        char tmp[STW_REGISTRY_MAX_HEADER], next[8];
        copy_header(tmp, sizeof(tmp), v, vl);
        if (!x->link[0] || stw_registry_next_link(tmp, next, sizeof(next)) ||
            strstr(tmp, "next"))
            snprintf(x->link, sizeof(x->link), "%s", tmp);
    } else if (kl == 16 && strncasecmp(p, "www-authenticate", kl) == 0) {
        /* Several challenges may come as several headers: keep the first
         * one we can answer. */
        char tmp[16];
        copy_header(tmp, sizeof(tmp), v, vl);
        bool ours =
            !strncasecmp(tmp, "bearer", 6) || !strncasecmp(tmp, "basic", 5);
        bool kept_ours = !strncasecmp(x->www_auth, "bearer", 6) ||
                         !strncasecmp(x->www_auth, "basic", 5);
        if (!x->www_auth[0] || (ours && !kept_ours))
            copy_header(x->www_auth, sizeof(x->www_auth), v, vl);
    }
    return n;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    xfer *x = ud;
    size_t n = sz * nm;
    if (!ok2xx(x)) {
        /* An error answer: keep its start to name the registry's code. */
        size_t room = STW_REGISTRY_MAX_ERROR_BODY - x->elen;
        size_t k = n < room ? n : room;
        memcpy(x->ebody + x->elen, p, k);
        x->elen += k;
        x->ebody[x->elen] = 0;
        return n;
    }
    if (x->stream) {
        if (x->len > 0 && x->len + n > x->cap) {
            x->paused = true;
            return CURL_WRITEFUNC_PAUSE;
        }
        /* curl hands over at most what it buffered while paused; take a
         * piece larger than the buffer whole rather than stall. */
        if (n > x->cap) {
            unsigned char *nb = realloc(x->buf, n + 1);
            if (!nb)
                return 0;
            x->buf = nb;
            x->cap = n;
        }
    } else {
        if (x->len + n > x->limit) {
            x->over_limit = true;
            return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
        }
        if (x->len + n > x->cap) {
            size_t cap = (x->len + n) * 2;
            if (cap < 4096)
                cap = 4096;
            if (cap > x->limit)
                cap = x->limit;
            unsigned char *nb = realloc(x->buf, cap + 1);
            if (!nb)
                return 0;
            x->buf = nb;
            x->cap = cap;
        }
    }
    memcpy(x->buf + x->len, p, n);
    x->len += n;
    x->buf[x->len] = 0;
    return n;
}

static void xfer_free(xfer *x)
{
    if (!x)
        return;
    if (x->easy) {
        if (x->multi)
            curl_multi_remove_handle(x->multi, x->easy);
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->hdrs);
    free(x->buf);
    free(x);
}

/* What one request needs. */
typedef struct req {
    const char *url;
    const char *accept; /* a whole "Accept: ..." header line, or NULL */
    const char *what;   /* for messages: "manifest 1", "blob sha256:..." */
    bool stream;
    size_t limit;
    uint64_t range_from;
    bool registry_auth; /* send the registry's token / basic credentials */
    bool token_auth;    /* token endpoint: basic credentials if any */
    const char *scope;  /* token scope; NULL: pull of the reference's repo */
} req;

static stw_status xfer_new(stw_registry *r, CURLM *multi, const req *q,
                           const char *authz, xfer **out, stw_error *err)
{
    xfer *x = calloc(1, sizeof(*x));
    if (!x)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    x->stream = q->stream;
    x->limit = q->limit;
    if (x->stream) {
        x->buf = malloc(STREAM_BUF + 1);
        x->cap = STREAM_BUF;
    }
    x->easy = curl_easy_init();
    bool ok = x->easy && (!x->stream || x->buf);
    const char *lines[] = {q->accept, authz};
    for (size_t i = 0; ok && i < STW_ARRAY_LEN(lines); i++) {
        if (!lines[i])
            continue;
        struct curl_slist *h = curl_slist_append(x->hdrs, lines[i]);
        if (h)
            x->hdrs = h;
        ok = h != NULL;
    }
    if (!ok) {
        xfer_free(x);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    CURL *e = x->easy;
    char range[32];
    snprintf(range, sizeof(range), "%llu-", (unsigned long long)q->range_from);
    CURLcode c = CURLE_OK;
#define SET(opt, val)                                                          \
    if (c == CURLE_OK)                                                         \
    c = curl_easy_setopt(e, opt, val)
    SET(CURLOPT_URL, q->url);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_HTTPHEADER, x->hdrs);
    SET(CURLOPT_USERAGENT, r->user_agent);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    /* Blob storage behind a redirect is fine; a downgrade to plain HTTP only
     * where the registry itself is plain. curl drops a custom Authorization
     * header when a redirect leaves the first host:port. */
    SET(CURLOPT_FOLLOWLOCATION, 1L);
    SET(CURLOPT_MAXREDIRS, (long)STW_REGISTRY_MAX_REDIRECTS);
    SET(CURLOPT_REDIR_PROTOCOLS_STR, r->plain_http ? "http,https" : "https");
    SET(CURLOPT_CONNECTTIMEOUT, r->timeout_s);
    SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
    SET(CURLOPT_LOW_SPEED_TIME, r->timeout_s);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (r->ca_cert)
        SET(CURLOPT_CAINFO, r->ca_cert);
    if (q->range_from)
        SET(CURLOPT_RANGE, range);
#undef SET
    if (c != CURLE_OK) {
        xfer_free(x);
        return stw_fail(err, STW_ERR_IO, "%s: %s: curl: %s", r->name, q->what,
                        curl_easy_strerror(c));
    }
    if (curl_multi_add_handle(multi, e) != CURLM_OK) {
        xfer_free(x);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    x->multi = multi;
    *out = x;
    return STW_OK;
}

/* Runs the transfer until it is done or, with want > 0, until a successful
 * response has want bytes buffered or is paused. */
static stw_status xfer_run(stw_registry *r, xfer *x, size_t want,
                           stw_error *err)
{
    for (;;) {
        if (x->done || (want && ok2xx(x) && (x->len >= want || x->paused)))
            return STW_OK;
        int running = 0;
        CURLMcode mc = curl_multi_perform(x->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(x->multi, &left)))
            if (m->msg == CURLMSG_DONE && m->easy_handle == x->easy) {
                x->done = true;
                x->result = m->data.result;
            }
        if (mc == CURLM_OK && !x->done &&
            !(want && ok2xx(x) && (x->len >= want || x->paused)))
            mc = curl_multi_poll(x->multi, NULL, 0, 1000, NULL);
        if (mc != CURLM_OK)
            return stw_fail(err, STW_ERR_IO, "%s: curl: %s", r->name,
                            curl_multi_strerror(mc));
    }
}

static bool retryable(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

/* Delay before attempt number `attempt` (1 = the first retry): the server's
 * Retry-After (seconds or an HTTP date) when given, else exponential. */
static long backoff_ms(int attempt, const char *retry_after)
{
    if (retry_after && *retry_after) {
        long s = -1;
        char *end;
        long v = strtol(retry_after, &end, 10);
        if (end != retry_after && *end == 0 && v >= 0)
            s = v;
        else {
            time_t t = curl_getdate(retry_after, NULL);
            if (t != -1)
                s = (long)(t - time(NULL));
            if (s < 0 && t != -1)
                s = 0;
        }
        if (s >= 0)
            return (s > STW_REGISTRY_MAX_RETRY_AFTER_S
                        ? STW_REGISTRY_MAX_RETRY_AFTER_S
                        : s) *
                   1000L;
    }
    long ms = BACKOFF_MS;
    for (int i = 1; i < attempt && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static stw_status http_error(const stw_registry *r, const char *what,
                             const xfer *x, stw_error *err)
{
    char code[64] = "", msg[160] = "";
    json_t *root = json_loadb(x->ebody, x->elen, 0, NULL);
    json_t *e0 = json_array_get(json_object_get(root, "errors"), 0);
    const char *c = json_string_value(json_object_get(e0, "code"));
    const char *m = json_string_value(json_object_get(e0, "message"));
    if (c)
        clean_copy(code, sizeof(code), c, strlen(c));
    if (m)
        clean_copy(msg, sizeof(msg), m, strlen(m));
    json_decref(root);
    if (!msg[0] && x->status == 401)
        snprintf(msg, sizeof(msg), "authentication required");
    if (!msg[0] && x->status == 403)
        snprintf(msg, sizeof(msg), "access denied");
    stw_status st = x->status == 404 ? STW_ERR_NOT_FOUND : STW_ERR_IO;
    const char *nf = x->status == 404 && !msg[0] ? "not found" : msg;
    return stw_fail(err, st, "%s: %s: HTTP %ld%s%s%s%s", r->name, what,
                    x->status, code[0] ? " " : "", code, nf[0] ? ": " : "", nf);
}

/* ---- auth ---------------------------------------------------------------- */

static char *basic_header(const char *user, const char *pass)
{
    size_t ul = strlen(user), pl = strlen(pass), n = ul + pl + 1;
    char *plain = malloc(n + 1);
    size_t enc = 4 * ((n + 2) / 3) + 1;
    char *h = malloc(enc + 32);
    if (!plain || !h) {
        free(plain);
        free(h);
        return NULL;
    }
    snprintf(plain, n + 1, "%s:%s", user, pass);
    memcpy(h, "Authorization: Basic ", 21);
    EVP_EncodeBlock((unsigned char *)h + 21, (unsigned char *)plain, (int)n);
    wipe_free(plain);
    return h;
}

/* The Authorization header for a request needing scope, or NULL. Caller
 * frees (wipe_free). */
static char *auth_header(stw_registry *r, const char *scope)
{
    char *h = NULL;
    pthread_mutex_lock(&r->auth_lock);
    time_t now = time(NULL);
    for (size_t i = 0; i < r->n_tokens; i++) {
        if (strcmp(r->tokens[i].scope, scope) == 0 &&
            r->tokens[i].expires > now) {
            size_t n = strlen(r->tokens[i].value) + 32;
            if ((h = malloc(n)))
                snprintf(h, n, "Authorization: Bearer %s", r->tokens[i].value);
            break;
        }
    }
    if (!h && r->basic && r->user && r->pass)
        h = basic_header(r->user, r->pass);
    pthread_mutex_unlock(&r->auth_lock);
    return h;
}

/* pipe() with both ends close-on-exec, so concurrent spawns elsewhere in
 * the process do not inherit them (pipe2 is not POSIX 2008). */
static int pipe_cloexec(int fd[2])
{
    if (pipe(fd) != 0)
        return -1;
    if (fcntl(fd[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(fd[1], F_SETFD, FD_CLOEXEC) != 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    return 0;
}

/* Runs `docker-credential-NAME get` with the server URL on standard input.
 * *ran is false when no such program is on PATH; a helper that exits
 * non-zero (it knows no credentials for the server) leaves out empty. */
static stw_status run_helper(const stw_registry *r, const char *name,
                             stw_registry_cred *out, bool *ran, stw_error *err)
{
    *ran = false;
    for (const char *p = name; *p; p++)
        if (!alnum(*p) && *p != '-' && *p != '_' && *p != '.')
            return stw_fail(err, STW_ERR_FORMAT,
                            "docker config: bad credential helper name");
    char prog[160];
    snprintf(prog, sizeof(prog), "docker-credential-%s", name);
    const char *server = strcmp(r->ref.registry, DOCKER_HUB) == 0
                             ? DOCKER_HUB_AUTH_KEY
                             : r->ref.registry;
    int in[2], outp[2];
    if (pipe_cloexec(in) != 0)
        return stw_fail(err, STW_ERR_IO, "%s: pipe failed", prog);
    if (pipe_cloexec(outp) != 0) {
        close(in[0]);
        close(in[1]);
        return stw_fail(err, STW_ERR_IO, "%s: pipe failed", prog);
    }
    /* The input fits the pipe buffer: writing it before the child exists
     * means no SIGPIPE whatever the helper does. */
    ssize_t w = write(in[1], server, strlen(server));
    close(in[1]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = {prog, (char *)"get", NULL};
    pid_t pid;
    int rc = w == (ssize_t)strlen(server)
                 ? posix_spawnp(&pid, prog, &fa, NULL, argv, environ)
                 : EIO;
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(outp[1]);
    if (rc != 0) {
        close(outp[0]);
        if (rc == ENOENT)
            return STW_OK;
        char eb[128];
        return stw_fail(err, STW_ERR_IO, "%s: %s", prog,
                        stw_strerror(rc, eb, sizeof(eb)));
    }
    *ran = true;
    char *buf = malloc(STW_REGISTRY_MAX_HELPER_BYTES + 1);
    size_t len = 0;
    bool timed_out = false, too_big = false;
    time_t deadline = time(NULL) + r->timeout_s;
    while (buf) {
        struct pollfd pf = {outp[0], POLLIN, 0};
        int pr = poll(&pf, 1, 1000);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) {
            if (time(NULL) >= deadline) {
                timed_out = true;
                break;
            }
            continue;
        }
        if (len == STW_REGISTRY_MAX_HELPER_BYTES) {
            too_big = true;
            break;
        }
        ssize_t n =
            read(outp[0], buf + len, STW_REGISTRY_MAX_HELPER_BYTES - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(outp[0]);
    if (timed_out || too_big || !buf)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    stw_status st = STW_OK;
    if (!buf)
        st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
    else if (timed_out || too_big)
        st = stw_fail(err, STW_ERR_IO, "%s: %s", prog,
                      timed_out ? "timed out" : "answer too large");
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        st = stw_registry_parse_helper_output(buf, len, out, err);
    if (buf) {
        explicit_bzero(buf, len);
        free(buf);
    }
    if (st != STW_OK)
        stw_error_prefix(err, r->name);
    return st;
}

/* Finds credentials once: explicit options, else the docker config (its
 * helper first, then "auths"). Called with auth_lock held. */
static stw_status resolve_creds(stw_registry *r, stw_error *err)
{
    if (r->creds_resolved)
        return STW_OK;
    r->creds_resolved = true;
    if (r->user)
        return STW_OK;
    char path[4096];
    const char *dc = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
    if (r->docker_config)
        snprintf(path, sizeof(path), "%s", r->docker_config);
    else if (dc && *dc)
        snprintf(path, sizeof(path), "%s/config.json", dc);
    else if (home && *home)
        snprintf(path, sizeof(path), "%s/.docker/config.json", home);
    else
        return STW_OK;
    if (!path[0])
        return STW_OK;
    char *json = NULL;
    size_t len = 0;
    stw_status st =
        stw_read_small_file(path, NULL, STW_MAX_JSON_BYTES, &json, &len, err);
    if (st == STW_ERR_NOT_FOUND)
        return STW_OK;
    if (st != STW_OK)
        return st;
    stw_registry_cred c;
    st = stw_registry_config_auth(json, len, r->ref.registry, &c, err);
    explicit_bzero(json, len);
    free(json);
    if (st != STW_OK) {
        stw_error_prefix(err, path);
        stw_error_prefix(err, r->name);
        return st;
    }
    if (c.helper) {
        stw_registry_cred hc = {0};
        bool ran;
        st = run_helper(r, c.helper, &hc, &ran, err);
        if (st == STW_OK && hc.username) {
            stw_registry_cred_clear(&c);
            c = hc;
        } else {
            stw_registry_cred_clear(&hc);
        }
    }
    if (st == STW_OK && c.username) {
        r->user = c.username;
        r->pass = c.password;
        c.username = c.password = NULL;
    }
    stw_registry_cred_clear(&c);
    return st;
}

static stw_status do_request(stw_registry *r, CURLM *multi, const req *q,
                             xfer **out, stw_error *err);

/* Runs the token flow for a Bearer challenge and caches the token under
 * scope. */
static stw_status fetch_token(stw_registry *r, CURLM *multi,
                              const stw_registry_challenge *c,
                              const char *scope, stw_error *err)
{
    const char *realm = c->realm;
    bool https = strncasecmp(realm, "https://", 8) == 0;
    bool http = strncasecmp(realm, "http://", 7) == 0;
    if (http) {
        const char *h = realm + 7;
        size_t hl = strcspn(h, "/?#");
        if (!r->plain_http && !host_insecure(r, h, hl))
            http = false;
    }
    if (!https && !http) {
        char rc[200];
        clean_copy(rc, sizeof(rc), realm, strlen(realm));
        return stw_fail(err, STW_ERR_IO,
                        "%s: token realm %s is neither https nor an "
                        "insecure registry",
                        r->name, rc);
    }
    CURL *e = curl_easy_init();
    char *svc = e ? curl_easy_escape(e, c->service, 0) : NULL;
    char *scp = e ? curl_easy_escape(e, scope, 0) : NULL;
    size_t n =
        strlen(realm) + (svc ? strlen(svc) : 0) + (scp ? strlen(scp) : 0) + 32;
    char *url = malloc(n);
    if (url && svc && scp)
        snprintf(url, n, "%s%cservice=%s&scope=%s", realm,
                 strchr(realm, '?') ? '&' : '?', svc, scp);
    curl_free(svc);
    curl_free(scp);
    curl_easy_cleanup(e);
    if (!url || !svc || !scp) {
        free(url);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    req tq = {.url = url,
              .what = "token",
              .limit = STW_REGISTRY_MAX_TOKEN_BYTES,
              .token_auth = true};
    xfer *x = NULL;
    stw_status st = do_request(r, multi, &tq, &x, err);
    free(url);
    if (st != STW_OK)
        return st;
    json_t *root = json_loadb((const char *)x->buf, x->len, 0, NULL);
    const char *tok = json_string_value(json_object_get(root, "token"));
    if (!tok || !*tok)
        tok = json_string_value(json_object_get(root, "access_token"));
    json_int_t ttl = json_integer_value(json_object_get(root, "expires_in"));
    bool valid = tok && *tok;
    for (const char *p = tok; valid && *p; p++)
        valid = *p > 0x20 && *p < 0x7f;
    char *val = valid ? stw_strdup(tok) : NULL;
    char *sc = valid ? stw_strdup(scope) : NULL;
    json_decref(root);
    if (x->buf)
        explicit_bzero(x->buf, x->len);
    xfer_free(x);
    if (!valid)
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s: token endpoint answered without a usable token",
                        r->name);
    if (!val || !sc) {
        wipe_free(val);
        free(sc);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    /* Renew a little early; never trust a lifetime below the spec's 60 s. */
    time_t exp =
        time(NULL) + (ttl >= TOKEN_DEFAULT_TTL ? ttl : TOKEN_DEFAULT_TTL) - 10;
    pthread_mutex_lock(&r->auth_lock);
    size_t i;
    for (i = 0; i < r->n_tokens; i++)
        if (strcmp(r->tokens[i].scope, scope) == 0)
            break;
    if (i == r->n_tokens) {
        token *t = realloc(r->tokens, (r->n_tokens + 1) * sizeof(*t));
        if (t) {
            r->tokens = t;
            t[i] = (token){sc, val, exp};
            r->n_tokens++;
            sc = val = NULL;
        }
    } else {
        wipe_free(r->tokens[i].value);
        r->tokens[i].value = val;
        r->tokens[i].expires = exp;
        val = NULL;
    }
    pthread_mutex_unlock(&r->auth_lock);
    free(sc);
    if (val) {
        wipe_free(val);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    return STW_OK;
}

/* Answers a 401: learns the challenge, finds credentials, gets a token.
 * scope is updated to the one the server asked for. */
static stw_status authenticate(stw_registry *r, CURLM *multi, const xfer *x,
                               const char *what, char *scope, size_t scope_n,
                               stw_error *err)
{
    stw_registry_challenge c;
    if (stw_registry_parse_challenge(x->www_auth, &c, err) != STW_OK)
        return stw_fail(err, STW_ERR_IO,
                        "%s: %s: HTTP 401 without a usable WWW-Authenticate "
                        "challenge",
                        r->name, what);
    pthread_mutex_lock(&r->auth_lock);
    stw_status st = resolve_creds(r, err);
    bool have = r->user != NULL;
    if (st == STW_OK && c.scheme[1] == 'a')
        r->basic = have;
    pthread_mutex_unlock(&r->auth_lock);
    if (st != STW_OK)
        return st;
    if (c.scheme[1] == 'a') {
        if (!have)
            return stw_fail(err, STW_ERR_IO,
                            "%s: %s: HTTP 401: authentication required and "
                            "no credentials for %s",
                            r->name, what, r->ref.registry);
        return STW_OK;
    }
    if (c.scope[0])
        snprintf(scope, scope_n, "%s", c.scope);
    return fetch_token(r, multi, &c, scope, err);
}

/* Sends a request, answering auth challenges once and retrying transport
 * failures, 429 and 5xx with back-off. On success *out holds a 2xx
 * transfer (done, or streaming with its first bytes buffered). */
static stw_status do_request(stw_registry *r, CURLM *multi, const req *q,
                             xfer **out, stw_error *err)
{
    char scope[1100];
    if (q->scope)
        snprintf(scope, sizeof(scope), "%s", q->scope);
    else
        snprintf(scope, sizeof(scope), "repository:%s:pull", r->ref.repository);
    int attempt = 0;
    bool auth_tried = false;
    *out = NULL;
    for (;;) {
        char *authz = NULL;
        if (q->registry_auth)
            authz = auth_header(r, scope);
        else if (q->token_auth) {
            pthread_mutex_lock(&r->auth_lock);
            if (r->user && r->pass)
                authz = basic_header(r->user, r->pass);
            pthread_mutex_unlock(&r->auth_lock);
        }
        xfer *x = NULL;
        stw_status st = xfer_new(r, multi, q, authz, &x, err);
        wipe_free(authz);
        if (st == STW_OK)
            st = xfer_run(r, x, q->stream ? STREAM_BUF / 2 : 0, err);
        if (st != STW_OK) {
            xfer_free(x);
            return st;
        }
        if (x->over_limit) {
            xfer_free(x);
            return stw_fail(err, STW_ERR_LIMIT, "%s: %s: more than %zu bytes",
                            r->name, q->what, q->limit);
        }
        if (x->done && x->result != CURLE_OK) {
            if (retryable(x->result) && ++attempt < r->tries) {
                xfer_free(x);
                sleep_ms(backoff_ms(attempt, NULL));
                continue;
            }
            st = stw_fail(err, STW_ERR_IO, "%s: %s: %s", r->name, q->what,
                          x->errbuf[0] ? x->errbuf
                                       : curl_easy_strerror(x->result));
            xfer_free(x);
            return st;
        }
        if (ok2xx(x)) {
            *out = x;
            return STW_OK;
        }
        if (x->status == 401 && q->registry_auth && !auth_tried) {
            auth_tried = true;
            st = authenticate(r, multi, x, q->what, scope, sizeof(scope), err);
            xfer_free(x);
            if (st != STW_OK)
                return st;
            continue;
        }
        if ((x->status == 429 || x->status == 500 || x->status == 502 ||
             x->status == 503 || x->status == 504) &&
            ++attempt < r->tries) {
            long ms = backoff_ms(attempt, x->retry_after);
            xfer_free(x);
            sleep_ms(ms);
            continue;
        }
        st = http_error(r, q->what, x, err);
        xfer_free(x);
        return st;
    }
}

/* ---- documents ----------------------------------------------------------- */

static stw_status doc_add(stw_registry *r, const char *name, char *data,
                          size_t len, stw_error *err)
{
    doc *v = realloc(r->docs, (r->n_docs + 1) * sizeof(*v));
    char *n = stw_strdup(name);
    if (!v || !n) {
        free(n);
        free(data);
        if (v)
            r->docs = v;
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    r->docs = v;
    v[r->n_docs++] = (doc){n, data, len};
    return STW_OK;
}

static bool is_mdigest(const stw_registry *r, const char *digest)
{
    for (size_t i = 0; i < r->n_mdigests; i++)
        if (strcmp(r->mdigests[i], digest) == 0)
            return true;
    return false;
}

static stw_status add_mdigest(stw_registry *r, const char *digest,
                              stw_error *err)
{
    if (is_mdigest(r, digest))
        return STW_OK;
    char **v = realloc(r->mdigests, (r->n_mdigests + 1) * sizeof(*v));
    if (v)
        r->mdigests = v;
    if (!v || !(v[r->n_mdigests] = stw_strdup(digest)))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    r->n_mdigests++;
    return STW_OK;
}

/* The media type of a manifest or index: the Content-Type when it is one
 * we know, else what the JSON says about itself. "" for schema 1. */
static void classify(const xfer *x, json_t *root, char *mt, size_t n)
{
    static const char *const known[] = {MT_OCI_INDEX, MT_OCI_MANIFEST,
                                        MT_DOCKER_LIST, MT_DOCKER_MANIFEST};
    size_t cl = strcspn(x->ctype, "; ");
    for (size_t i = 0; i < STW_ARRAY_LEN(known); i++)
        if (cl == strlen(known[i]) && strncmp(x->ctype, known[i], cl) == 0) {
            snprintf(mt, n, "%s", known[i]);
            return;
        }
    const char *self = json_string_value(json_object_get(root, "mediaType"));
    for (size_t i = 0; self && i < STW_ARRAY_LEN(known); i++)
        if (strcmp(self, known[i]) == 0) {
            snprintf(mt, n, "%s", known[i]);
            return;
        }
    if (json_integer_value(json_object_get(root, "schemaVersion")) != 2)
        mt[0] = 0;
    else
        snprintf(mt, n, "%s",
                 json_object_get(root, "manifests") ? MT_OCI_INDEX
                                                    : MT_OCI_MANIFEST);
}

/* Fetches a manifest (or, with blob set, a config blob) by digest, checks
 * the bytes against the digest and keeps them as "blobs/sha256/<hex>". The
 * digests an index names are remembered as manifests. With mt, the media
 * type is stored there. */
static stw_status fetch_doc(stw_registry *r, const char *ref_or_digest,
                            bool blob, char *mt, size_t mtn, stw_error *err)
{
    char url[1600], what[200];
    snprintf(url, sizeof(url), "%s/v2/%s/%s/%s", r->base, r->ref.repository,
             blob ? "blobs" : "manifests", ref_or_digest);
    snprintf(what, sizeof(what), "%s %s", blob ? "blob" : "manifest",
             ref_or_digest);
    req q = {.url = url,
             .accept = blob ? NULL : ACCEPT_MANIFESTS,
             .what = what,
             .limit = STW_MAX_JSON_BYTES,
             .registry_auth = true};
    xfer *x;
    stw_status st = do_request(r, r->doc_multi, &q, &x, err);
    if (st != STW_OK)
        return st;
    char got[STW_DIGEST_STR];
    const char *body = x->buf ? (const char *)x->buf : "";
    st = stw_sha256_digest(body, x->len, got, err);
    const char *want =
        strncmp(ref_or_digest, "sha256:", 7) == 0 ? ref_or_digest : NULL;
    if (st == STW_OK && want && strcmp(want, got) != 0)
        st = stw_fail(err, STW_ERR_DIGEST,
                      "%s: %s: digest mismatch: expected %s, got %s", r->name,
                      what, want, got);
    if (st == STW_OK && !blob && !want && strncmp(x->dcd, "sha256:", 7) == 0 &&
        strcmp(x->dcd, got) != 0) {
        char dcd[80];
        clean_copy(dcd, sizeof(dcd), x->dcd, strlen(x->dcd));
        st = stw_fail(err, STW_ERR_DIGEST,
                      "%s: %s: registry says digest %s, content hashes to %s",
                      r->name, what, dcd, got);
    }
    json_t *root = NULL;
    char mtype[128] = "";
    if (st == STW_OK && !blob) {
        root = json_loadb(body, x->len, 0, NULL);
        classify(x, root, mtype, sizeof(mtype));
        if (!mtype[0])
            st = stw_fail(err, STW_ERR_FORMAT,
                          "%s: %s: not an OCI or Docker schema 2 manifest "
                          "(schema 1 is not supported)",
                          r->name, what);
    }
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(root, "manifests"), i, d)
    {
        const char *dg = json_string_value(json_object_get(d, "digest"));
        if (st == STW_OK && dg && stw_sha256_digest_valid(dg))
            st = add_mdigest(r, dg, err);
    }
    json_decref(root);
    if (st == STW_OK && mt)
        snprintf(mt, mtn, "%s", mtype);
    if (st == STW_OK) {
        char name[STW_DIGEST_STR + 16];
        snprintf(name, sizeof(name), "blobs/sha256/%s", got + 7);
        char *data = (char *)x->buf;
        size_t len = x->len;
        x->buf = NULL;
        if (!data && !(data = calloc(1, 1)))
            st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
        if (st == STW_OK)
            st = doc_add(r, name, data, len, err);
        if (st == STW_OK && mt)
            snprintf(r->digest, sizeof(r->digest), "%s", got);
    }
    xfer_free(x);
    return st;
}

/* Resolves the reference and synthesizes index.json around it. */
static stw_status resolve(stw_registry *r, stw_error *err)
{
    const char *ref = r->ref.digest[0] ? r->ref.digest : r->ref.tag;
    stw_status st =
        fetch_doc(r, ref, false, r->media_type, sizeof(r->media_type), err);
    if (st != STW_OK)
        return st;
    st = add_mdigest(r, r->digest, err);
    if (st != STW_OK)
        return st;
    const doc *m = &r->docs[r->n_docs - 1];
    json_t *idx = json_pack(
        "{s:i, s:s, s:[{s:s, s:s, s:I, s:{s:s}}]}", "schemaVersion", 2,
        "mediaType", MT_OCI_INDEX, "manifests", "mediaType", r->media_type,
        "digest", r->digest, "size", (json_int_t)m->len, "annotations",
        "org.opencontainers.image.ref.name", r->name);
    char *text = idx ? json_dumps(idx, JSON_COMPACT) : NULL;
    json_decref(idx);
    if (!text)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    return doc_add(r, "index.json", text, strlen(text), err);
}

stw_status stw_registry_fetch(void *ctx, const char *name, const char **data,
                              size_t *len, stw_error *err)
{
    stw_registry *r = ctx;
    stw_status st = STW_OK;
    pthread_mutex_lock(&r->doc_lock);
    for (size_t i = 0; i < r->n_docs; i++) {
        if (strcmp(r->docs[i].name, name) == 0) {
            *data = r->docs[i].data;
            *len = r->docs[i].len;
            goto out;
        }
    }
    if (strncmp(name, "blobs/sha256/", 13) != 0 || strlen(name) != 77 ||
        !stw_is_hex64(name + 13)) {
        char nc[100];
        clean_copy(nc, sizeof(nc), name, strlen(name));
        st = stw_fail(err, STW_ERR_NOT_FOUND,
                      "%s: no document %s in a registry", r->name, nc);
        goto out;
    }
    char digest[STW_DIGEST_STR];
    snprintf(digest, sizeof(digest), "sha256:%s", name + 13);
    bool man = is_mdigest(r, digest);
    st = fetch_doc(r, digest, !man, NULL, 0, err);
    if (st == STW_ERR_NOT_FOUND && !man) {
        /* Not named by an index we read, yet perhaps a manifest. */
        stw_error e2 = {0};
        if (fetch_doc(r, digest, false, NULL, 0, &e2) == STW_OK)
            st = STW_OK;
    }
    if (st == STW_OK) {
        *data = r->docs[r->n_docs - 1].data;
        *len = r->docs[r->n_docs - 1].len;
    }
out:
    pthread_mutex_unlock(&r->doc_lock);
    return st;
}

/* ---- open / close -------------------------------------------------------- */

/* Everything of a connection but resolving a reference: r->ref and
 * r->name are set by the caller; on failure r is closed. */
static stw_status registry_setup(stw_registry *r, const char *ref,
                                 const stw_registry_options *o, stw_error *err)
{
    if (pthread_mutex_init(&r->auth_lock, NULL) != 0) {
        free(r);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    if (pthread_mutex_init(&r->doc_lock, NULL) != 0) {
        pthread_mutex_destroy(&r->auth_lock);
        free(r);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    r->locks_inited = true;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        stw_registry_close(r);
        return stw_fail(err, STW_ERR_IO, "%s: curl initialisation failed", ref);
    }
    r->curl_inited = true;
    char ua[64];
    snprintf(ua, sizeof(ua), "stowaway/%s", STW_VERSION);
    r->user_agent = stw_strdup(o->user_agent ? o->user_agent : ua);
    r->ca_cert = stw_strdup(o->ca_cert);
    r->docker_config = stw_strdup(o->docker_config);
    r->user = stw_strdup(o->username);
    r->pass = stw_strdup(o->username ? (o->password ? o->password : "") : NULL);
    r->tries = o->tries > 0 ? o->tries : STW_REGISTRY_TRIES;
    r->timeout_s = o->timeout_s > 0 ? o->timeout_s : STW_REGISTRY_TIMEOUT_S;
    r->page_size = o->page_size > 0 && o->page_size <= STW_REGISTRY_PAGE_SIZE
                       ? o->page_size
                       : STW_REGISTRY_PAGE_SIZE;
    r->insecure = calloc(o->n_insecure + 1, sizeof(char *));
    bool nomem = !r->user_agent || !r->insecure ||
                 (o->ca_cert && !r->ca_cert) ||
                 (o->docker_config && !r->docker_config) ||
                 (o->username && (!r->user || !r->pass));
    for (size_t i = 0; !nomem && i < o->n_insecure; i++) {
        if (!(r->insecure[i] = stw_strdup(o->insecure[i])))
            nomem = true;
        else
            r->n_insecure++;
    }
    if (!nomem && !(r->doc_multi = curl_multi_init()))
        nomem = true;
    if (nomem) {
        stw_registry_close(r);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    const char *host = strcmp(r->ref.registry, DOCKER_HUB) == 0
                           ? DOCKER_HUB_HOST
                           : r->ref.registry;
    r->plain_http = host_insecure(r, r->ref.registry, strlen(r->ref.registry));
    snprintf(r->base, sizeof(r->base), "%s://%s",
             r->plain_http ? "http" : "https", host);
    return STW_OK;
}

stw_status stw_registry_open(const char *ref, const stw_registry_options *o,
                             stw_registry **out, stw_error *err)
{
    static const stw_registry_options none = {0};
    *out = NULL;
    if (!o)
        o = &none;
    stw_registry *r = calloc(1, sizeof(*r));
    if (!r)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    stw_status st = stw_registry_parse_ref(ref, &r->ref, err);
    if (st != STW_OK) {
        free(r);
        return st;
    }
    stw_registry_ref_format(&r->ref, r->name, sizeof(r->name));
    if ((st = registry_setup(r, ref, o, err)) != STW_OK)
        return st;
    if ((st = resolve(r, err)) != STW_OK) {
        stw_registry_close(r);
        return st;
    }
    *out = r;
    return STW_OK;
}

void stw_registry_close(stw_registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_docs; i++) {
        free(r->docs[i].name);
        free(r->docs[i].data);
    }
    free(r->docs);
    for (size_t i = 0; i < r->n_mdigests; i++)
        free(r->mdigests[i]);
    free(r->mdigests);
    for (size_t i = 0; i < r->n_tokens; i++) {
        free(r->tokens[i].scope);
        wipe_free(r->tokens[i].value);
    }
    free(r->tokens);
    for (size_t i = 0; i < r->n_insecure; i++)
        free(r->insecure[i]);
    free(r->insecure);
    free(r->user);
    wipe_free(r->pass);
    free(r->ca_cert);
    free(r->docker_config);
    free(r->user_agent);
    if (r->doc_multi)
        curl_multi_cleanup(r->doc_multi);
    if (r->locks_inited) {
        pthread_mutex_destroy(&r->auth_lock);
        pthread_mutex_destroy(&r->doc_lock);
    }
    if (r->curl_inited)
        curl_global_cleanup();
    free(r);
}

/* ---- blobs --------------------------------------------------------------- */

struct stw_registry_blob {
    stw_registry *r;
    CURLM *multi;
    xfer *x;
    char digest[STW_DIGEST_STR];
    char what[100];
    uint64_t delivered;
    int attempts;
};

uint64_t stw_registry_blob_bytes(const stw_registry_blob *b)
{
    return b->delivered;
}

static stw_status blob_start(stw_registry_blob *b, stw_error *err)
{
    char url[1600];
    snprintf(url, sizeof(url), "%s/v2/%s/blobs/%s", b->r->base,
             b->r->ref.repository, b->digest);
    req q = {.url = url,
             .what = b->what,
             .stream = true,
             .range_from = b->delivered,
             .registry_auth = true};
    stw_status st = do_request(b->r, b->multi, &q, &b->x, err);
    if (st == STW_OK && b->delivered && b->x->status != 206) {
        xfer_free(b->x);
        b->x = NULL;
        return stw_fail(err, STW_ERR_IO,
                        "%s: %s: connection lost after %llu bytes and the "
                        "registry cannot resume",
                        b->r->name, b->what, (unsigned long long)b->delivered);
    }
    return st;
}

stw_status stw_registry_blob_open(stw_registry *r, const char *digest,
                                  stw_registry_blob **out, stw_error *err)
{
    *out = NULL;
    char d[STW_DIGEST_STR];
    if (strncmp(digest, "blobs/sha256/", 13) == 0)
        snprintf(d, sizeof(d), "sha256:%.64s", digest + 13);
    else
        snprintf(d, sizeof(d), "%.71s", digest);
    if (!stw_sha256_digest_valid(d) ||
        (strncmp(digest, "blobs/", 6) == 0 && strlen(digest) != 77))
        return stw_fail(err, STW_ERR_USAGE, "%s: bad blob digest", r->name);
    stw_registry_blob *b = calloc(1, sizeof(*b));
    if (!b || !(b->multi = curl_multi_init())) {
        free(b);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    b->r = r;
    memcpy(b->digest, d, sizeof(d));
    snprintf(b->what, sizeof(b->what), "blob %s", d);
    stw_status st = blob_start(b, err);
    if (st != STW_OK) {
        stw_registry_blob_close(b);
        return st;
    }
    *out = b;
    return STW_OK;
}

stw_status stw_registry_blob_read(void *ctx, const void **buf, size_t *len,
                                  stw_error *err)
{
    stw_registry_blob *b = ctx;
    for (;;) {
        xfer *x = b->x;
        if (!x)
            return stw_fail(err, STW_ERR_IO, "%s: %s: transfer failed",
                            b->r->name, b->what);
        if (x->taken) {
            x->len = 0;
            x->taken = false;
        }
        if (x->paused) {
            x->paused = false;
            CURLcode c = curl_easy_pause(x->easy, CURLPAUSE_CONT);
            if (c != CURLE_OK)
                return stw_fail(err, STW_ERR_IO, "%s: %s: %s", b->r->name,
                                b->what, curl_easy_strerror(c));
        }
        stw_status st = xfer_run(b->r, x, STREAM_BUF / 2, err);
        if (st != STW_OK)
            return st;
        if (x->len > 0) {
            x->taken = true;
            *buf = x->buf;
            *len = x->len;
            b->delivered += x->len;
            return STW_OK;
        }
        if (!x->done)
            continue;
        if (x->result == CURLE_OK) {
            *buf = x->buf;
            *len = 0;
            return STW_OK;
        }
        if (!retryable(x->result) || ++b->attempts >= b->r->tries)
            return stw_fail(
                err, STW_ERR_IO, "%s: %s: after %llu bytes: %s", b->r->name,
                b->what, (unsigned long long)b->delivered,
                x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result));
        xfer_free(x);
        b->x = NULL;
        sleep_ms(backoff_ms(b->attempts, NULL));
        if ((st = blob_start(b, err)) != STW_OK)
            return st;
    }
}

void stw_registry_blob_close(stw_registry_blob *b)
{
    if (!b)
        return;
    xfer_free(b->x);
    if (b->multi)
        curl_multi_cleanup(b->multi);
    free(b);
}

/* ---- listing: catalog and tags ------------------------------------------ */

bool stw_registry_next_link(const char *value, char *out, size_t n)
{
    const char *p = value ? value : "";
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p != '<')
            return false;
        const char *u = ++p, *gt = strchr(p, '>');
        if (!gt)
            return false;
        size_t ul = (size_t)(gt - u);
        p = gt + 1;
        bool next = false;
        /* Parameters up to the next link: ;name=value or ;name="value". */
        while (*p && *p != ',') {
            while (*p == ' ' || *p == '\t' || *p == ';')
                p++;
            const char *name = p;
            while (*p && *p != '=' && *p != ';' && *p != ',')
                p++;
            size_t nl = (size_t)(p - name);
            while (nl && (name[nl - 1] == ' ' || name[nl - 1] == '\t'))
                nl--;
            char val[256];
            size_t vl = 0;
            if (*p == '=') {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                bool quoted = *p == '"';
                p += quoted;
                while (*p && (quoted ? *p != '"' : (*p != ';' && *p != ','))) {
                    if (quoted && *p == '\\' && p[1])
                        p++;
                    if (vl + 1 < sizeof(val))
                        val[vl++] = *p;
                    p++;
                }
                p += quoted && *p == '"';
            }
            val[vl] = 0;
            if (nl == 3 && strncasecmp(name, "rel", 3) == 0) {
                /* rel may list several relation types. */
                for (char *save = NULL, *t = strtok_r(val, " \t", &save); t;
                     t = strtok_r(NULL, " \t", &save))
                    next |= strcasecmp(t, "next") == 0;
            }
            while (*p == ' ' || *p == '\t')
                p++;
        }
        if (next) {
            if (ul == 0 || ul >= n)
                return false;
            memcpy(out, u, ul);
            out[ul] = 0;
            return true;
        }
    }
    return false;
}

stw_status stw_registry_connect(const char *host, const stw_registry_options *o,
                                stw_registry **out, stw_error *err)
{
    static const stw_registry_options none = {0};
    *out = NULL;
    if (!o)
        o = &none;
    const char *h = host ? host : "";
    if (!strncmp(h, "docker://", 9))
        h += 9;
    else if (!strncmp(h, "oci://", 6))
        h += 6;
    size_t hl = strlen(h);
    while (hl && h[hl - 1] == '/')
        hl--;
    stw_registry *r = calloc(1, sizeof(*r));
    if (!r)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    if (hl == 0 || hl >= sizeof(r->ref.registry)) {
        free(r);
        return stw_fail(err, STW_ERR_USAGE, "%s: not a registry host",
                        host ? host : "(null)");
    }
    memcpy(r->ref.registry, h, hl);
    r->ref.registry[hl] = 0;
    r->ref.explicit_registry = true;
    if (!valid_host(r->ref.registry)) {
        free(r);
        return stw_fail(err, STW_ERR_USAGE,
                        "%s: not a registry host (want HOST[:PORT])", host);
    }
    snprintf(r->name, sizeof(r->name), "%s", r->ref.registry);
    stw_status st = registry_setup(r, host, o, err);
    if (st != STW_OK)
        return st;
    *out = r;
    return STW_OK;
}

/* Follows the pages of one listing from path (under the registry's base):
 * the names are the strings of the answer's key array. */
static stw_status list_pages(stw_registry *r, const char *path, const char *key,
                             const char *scope, bool repos, size_t max,
                             const char *what, stw_registry_name_fn fn,
                             void *ctx, stw_error *err)
{
    char url[STW_REGISTRY_MAX_HEADER + 320];
    snprintf(url, sizeof(url), "%s%s", r->base, path);
    size_t count = 0, base_len = strlen(r->base);
    stw_status st = STW_OK;
    for (size_t page = 0; st == STW_OK; page++) {
        if (page >= STW_REGISTRY_MAX_PAGES)
            return stw_fail(err, STW_ERR_LIMIT, "%s: %s: more than %d pages",
                            r->name, what, STW_REGISTRY_MAX_PAGES);
        req q = {.url = url,
                 .what = what,
                 .limit = STW_MAX_JSON_BYTES,
                 .registry_auth = true,
                 .scope = scope};
        xfer *x = NULL;
        pthread_mutex_lock(&r->doc_lock);
        st = do_request(r, r->doc_multi, &q, &x, err);
        pthread_mutex_unlock(&r->doc_lock);
        if (st != STW_OK)
            return st;
        json_error_t je;
        json_t *root =
            json_loadb(x->buf ? (const char *)x->buf : "", x->len, 0, &je);
        json_t *arr = json_object_get(root, key);
        if (!root || (arr && !json_is_array(arr) && !json_is_null(arr)))
            st = stw_fail(err, STW_ERR_JSON,
                          "%s: %s: not a JSON object with "
                          "an array \"%s\"",
                          r->name, what, key);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            if (st != STW_OK)
                break;
            const char *name = json_string_value(v);
            if (!name || !(repos ? valid_repo(name) : valid_tag(name)) ||
                strlen(name) >= 256) {
                char nc[100];
                clean_copy(nc, sizeof(nc), name ? name : "(not a string)",
                           strlen(name ? name : "(not a string)"));
                st = stw_fail(err, STW_ERR_FORMAT, "%s: %s: bad %s name '%s'",
                              r->name, what, repos ? "repository" : "tag", nc);
            } else if (++count > max) {
                st = stw_fail(err, STW_ERR_LIMIT, "%s: %s: more than %zu %s",
                              r->name, what, max,
                              repos ? "repositories" : "tags");
            } else {
                st = fn(ctx, name, err);
            }
        }
        json_decref(root);
        char next[STW_REGISTRY_MAX_HEADER];
        bool more =
            st == STW_OK && stw_registry_next_link(x->link, next, sizeof(next));
        xfer_free(x);
        if (!more)
            break;
        /* Relative to the registry, or an absolute URL on the same one:
         * the next request carries the registry's credentials. */
        if (next[0] == '/')
            snprintf(url, sizeof(url), "%s%s", r->base, next);
        else if (strncmp(next, r->base, base_len) == 0 && next[base_len] == '/')
            snprintf(url, sizeof(url), "%s", next);
        else {
            char nc[160];
            clean_copy(nc, sizeof(nc), next, strlen(next));
            st = stw_fail(err, STW_ERR_FORMAT,
                          "%s: %s: next page %s is not on this registry",
                          r->name, what, nc);
        }
    }
    return st;
}

stw_status stw_registry_catalog(stw_registry *r, stw_registry_name_fn fn,
                                void *ctx, stw_error *err)
{
    char path[64];
    snprintf(path, sizeof(path), "/v2/_catalog?n=%d", r->page_size);
    return list_pages(r, path, "repositories", "registry:catalog:*", true,
                      STW_REGISTRY_MAX_REPOS, "catalog", fn, ctx, err);
}

stw_status stw_registry_tags(stw_registry *r, const char *repo,
                             stw_registry_name_fn fn, void *ctx, stw_error *err)
{
    if (!repo || strlen(repo) >= 256 || !valid_repo(repo))
        return stw_fail(err, STW_ERR_USAGE, "%s: bad repository name '%s'",
                        r->name, repo ? repo : "(null)");
    char path[400], scope[300], what[300];
    snprintf(path, sizeof(path), "/v2/%s/tags/list?n=%d", repo, r->page_size);
    snprintf(scope, sizeof(scope), "repository:%s:pull", repo);
    snprintf(what, sizeof(what), "tags of %s", repo);
    return list_pages(r, path, "tags", scope, false, STW_REGISTRY_MAX_TAGS,
                      what, fn, ctx, err);
}
