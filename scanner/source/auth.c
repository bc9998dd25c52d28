/* auth.c - authorizing registry requests: bearer tokens from the realm a
 * WWW-Authenticate challenge names (cached per scope until they expire) and
 * basic credentials, on the first 401 of a connection. */
#include "registry_internal.h"

#include "common.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Token lifetime assumed when the answer gives none (the spec's default). */
#define TOKEN_DEFAULT_TTL 60

struct stw_reg_token {
    char *scope;
    char *value;
    time_t expires;
};

static char *basic_header(const char *user, const char *pass)
{
    size_t ul = strlen(user), pl = strlen(pass), n = ul + pl + 1;
    char *plain = stw_malloc(n + 1);
    size_t enc = 4 * ((n + 2) / 3) + 1;
    char *h = stw_malloc(enc + 32);
    if (!plain || !h) {
        free(plain);
        free(h);
        return NULL;
    }
    snprintf(plain, n + 1, "%s:%s", user, pass);
    memcpy(h, "Authorization: Basic ", 21);
    EVP_EncodeBlock((unsigned char *)h + 21, (unsigned char *)plain, (int)n);
    stw_reg_wipe_free(plain);
    return h;
}

/* The Authorization header for a request needing scope, or NULL; *due
 * says whether one should have been sent (so a NULL is out of memory).
 * Caller frees (stw_reg_wipe_free). */
static char *auth_header(stw_registry *r, const char *scope, bool *due)
{
    char *h = NULL;
    pthread_mutex_lock(&r->auth_lock);
    time_t now = time(NULL);
    for (size_t i = 0; i < r->n_tokens && !*due; i++) {
        if (strcmp(r->tokens[i].scope, scope) == 0 &&
            r->tokens[i].expires > now) {
            *due = true;
            size_t n = strlen(r->tokens[i].value) + 32;
            if ((h = stw_malloc(n)))
                snprintf(h, n, "Authorization: Bearer %s", r->tokens[i].value);
        }
    }
    if (!*due && r->basic && r->user && r->pass) {
        *due = true;
        h = basic_header(r->user, r->pass);
    }
    pthread_mutex_unlock(&r->auth_lock);
    return h;
}

stw_status stw_reg_authorization(stw_registry *r, const stw_reg_req *q,
                                 const char *scope, char **out, stw_error *err)
{
    char *h = NULL;
    bool due = false;
    if (q->registry_auth) {
        h = auth_header(r, scope, &due);
    } else if (q->token_auth) {
        pthread_mutex_lock(&r->auth_lock);
        if ((due = r->user && r->pass))
            h = basic_header(r->user, r->pass);
        pthread_mutex_unlock(&r->auth_lock);
    }
    *out = h;
    if (due && !h)
        return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", r->name);
    return STW_OK;
}

void stw_reg_tokens_free(stw_registry *r)
{
    for (size_t i = 0; i < r->n_tokens; i++) {
        free(r->tokens[i].scope);
        stw_reg_wipe_free(r->tokens[i].value);
    }
    free(r->tokens);
    r->tokens = NULL;
    r->n_tokens = 0;
}

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
        if (!r->plain_http && !stw_reg_host_insecure(r, h, hl))
            http = false;
    }
    if (!https && !http) {
        char rc[200];
        stw_reg_clean_copy(rc, sizeof(rc), realm, strlen(realm));
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
    char *url = stw_malloc(n);
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
    stw_reg_req tq = {.url = url,
                      .what = "token",
                      .limit = STW_REGISTRY_MAX_TOKEN_BYTES,
                      .token_auth = true};
    stw_reg_xfer *x = NULL;
    stw_status st = stw_reg_request(r, multi, &tq, &x, err);
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
    stw_reg_xfer_free(x);
    if (!valid)
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s: token endpoint answered without a usable token",
                        r->name);
    if (!val || !sc) {
        stw_reg_wipe_free(val);
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
        stw_reg_token *t =
            stw_realloc(r->tokens, (r->n_tokens + 1) * sizeof(*t));
        if (t) {
            r->tokens = t;
            t[i] = (stw_reg_token){sc, val, exp};
            r->n_tokens++;
            sc = val = NULL;
        }
    } else {
        stw_reg_wipe_free(r->tokens[i].value);
        r->tokens[i].value = val;
        r->tokens[i].expires = exp;
        val = NULL;
    }
    pthread_mutex_unlock(&r->auth_lock);
    free(sc);
    if (val) {
        stw_reg_wipe_free(val);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    return STW_OK;
}

stw_status stw_reg_authenticate(stw_registry *r, CURLM *multi,
                                const stw_reg_xfer *x, const char *what,
                                char *scope, size_t scope_n, stw_error *err)
{
    stw_registry_challenge c;
    if (stw_registry_parse_challenge(x->www_auth, &c, err) != STW_OK)
        return stw_fail(err, STW_ERR_IO,
                        "%s: %s: HTTP 401 without a usable WWW-Authenticate "
                        "challenge",
                        r->name, what);
    pthread_mutex_lock(&r->auth_lock);
    stw_status st = stw_reg_resolve_creds(r, err);
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
