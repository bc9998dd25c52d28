/* http.c - one request to a registry with libcurl: the transfer (headers
 * kept, body grown up to a limit or streamed through a bounded buffer with
 * pause), and the loop around it that answers a 401 once and retries
 * transport failures, 429 and 5xx with back-off, honouring Retry-After. */
#include "registry_internal.h"

#include "common.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* First back-off delay, doubled per attempt up to the cap. */
#define BACKOFF_MS     500
#define BACKOFF_MAX_MS 8000

void stw_reg_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

bool stw_reg_host_insecure(const stw_registry *r, const char *host, size_t len)
{
    for (size_t i = 0; i < r->n_insecure; i++)
        if (strlen(r->insecure[i]) == len &&
            strncasecmp(r->insecure[i], host, len) == 0)
            return true;
    return false;
}

static bool ok2xx(const stw_reg_xfer *x)
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
    stw_reg_xfer *x = ud;
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
        if (!x->www_auth[0] || (stw_reg_challenge_ours(tmp) &&
                                !stw_reg_challenge_ours(x->www_auth)))
            copy_header(x->www_auth, sizeof(x->www_auth), v, vl);
    }
    return n;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    stw_reg_xfer *x = ud;
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
            unsigned char *nb = stw_realloc(x->buf, n + 1);
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
            unsigned char *nb = stw_realloc(x->buf, cap + 1);
            if (!nb)
                return 0;
            x->buf = nb;
            x->cap = cap;
        }
    }
    memcpy(x->buf + x->len, p, n);
    x->len += n;
    x->buf[x->len] = 0;
    x->received += n;
    x->window_bytes += n;
    return n;
}

void stw_reg_xfer_free(stw_reg_xfer *x)
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
    free(x->url);
    free(x);
}

static stw_status xfer_new(stw_registry *r, CURLM *multi, const stw_reg_req *q,
                           const char *authz, stw_reg_xfer **out,
                           stw_error *err)
{
    stw_reg_xfer *x = stw_calloc(1, sizeof(*x));
    if (!x)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    x->stream = q->stream;
    x->limit = q->limit;
    x->url = stw_strdup(q->url);
    if (x->stream) {
        x->buf = stw_malloc(STW_REG_STREAM_BUF + 1);
        x->cap = STW_REG_STREAM_BUF;
    }
    x->easy = curl_easy_init();
    bool ok = x->easy && x->url && (!x->stream || x->buf);
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
        stw_reg_xfer_free(x);
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
        stw_reg_xfer_free(x);
        return stw_fail(err, STW_ERR_IO, "%s: %s: curl: %s", r->name, q->what,
                        curl_easy_strerror(c));
    }
    if (curl_multi_add_handle(multi, e) != CURLM_OK) {
        stw_reg_xfer_free(x);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    x->multi = multi;
    *out = x;
    return STW_OK;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Counts ms more of waiting for x; fails when that misses its deadline. */
static stw_status charge_wait(stw_registry *r, stw_reg_xfer *x, int64_t ms,
                              stw_error *err)
{
    int64_t limit_ms = (int64_t)r->timeout_s * 1000;
    x->waited_ms += ms;
    x->window_ms += ms;
    if (!x->stream && x->waited_ms > limit_ms)
        return stw_fail(err, STW_ERR_IO,
                        "%s: %s: no complete answer within %ld s (after "
                        "%llu bytes; --timeout)",
                        r->name, x->url, r->timeout_s,
                        (unsigned long long)x->received);
    if (x->stream && x->window_ms >= limit_ms) {
        if (x->window_bytes < (uint64_t)STW_REGISTRY_MIN_RATE * r->timeout_s)
            return stw_fail(err, STW_ERR_IO,
                            "%s: %s: too slow: %llu bytes in %ld s, below "
                            "%u bytes/s (after %llu bytes; --timeout)",
                            r->name, x->url,
                            (unsigned long long)x->window_bytes, r->timeout_s,
                            STW_REGISTRY_MIN_RATE,
                            (unsigned long long)x->received);
        x->window_ms = 0;
        x->window_bytes = 0;
    }
    return STW_OK;
}

stw_status stw_reg_xfer_run(stw_registry *r, stw_reg_xfer *x, size_t want,
                            stw_error *err)
{
    for (;;) {
        if (x->done || (want && ok2xx(x) && (x->len >= want || x->paused)))
            return STW_OK;
        int64_t t0 = now_ms();
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
        stw_status st = charge_wait(r, x, now_ms() - t0, err);
        if (st != STW_OK)
            return st;
    }
}

bool stw_reg_retryable(CURLcode c)
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

long stw_reg_backoff_ms(int attempt, const char *retry_after)
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
                             const stw_reg_xfer *x, stw_error *err)
{
    char code[64] = "", msg[160] = "";
    json_t *root = json_loadb(x->ebody, x->elen, 0, NULL);
    json_t *e0 = json_array_get(json_object_get(root, "errors"), 0);
    const char *c = json_string_value(json_object_get(e0, "code"));
    const char *m = json_string_value(json_object_get(e0, "message"));
    if (c)
        stw_reg_clean_copy(code, sizeof(code), c, strlen(c));
    if (m)
        stw_reg_clean_copy(msg, sizeof(msg), m, strlen(m));
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

stw_status stw_reg_request(stw_registry *r, CURLM *multi, const stw_reg_req *q,
                           stw_reg_xfer **out, stw_error *err)
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
        stw_reg_xfer *x = NULL;
        stw_status st = stw_reg_authorization(r, q, scope, &authz, err);
        if (st != STW_OK)
            return st;
        st = xfer_new(r, multi, q, authz, &x, err);
        stw_reg_wipe_free(authz);
        if (st == STW_OK)
            st = stw_reg_xfer_run(r, x, q->stream ? STW_REG_STREAM_BUF / 2 : 0,
                                  err);
        if (st != STW_OK) {
            stw_reg_xfer_free(x);
            return st;
        }
        if (x->over_limit) {
            stw_reg_xfer_free(x);
            return stw_fail(err, STW_ERR_LIMIT, "%s: %s: more than %zu bytes",
                            r->name, q->what, q->limit);
        }
        if (x->done && x->result != CURLE_OK) {
            if (stw_reg_retryable(x->result) && ++attempt < r->tries) {
                stw_reg_xfer_free(x);
                stw_reg_sleep_ms(stw_reg_backoff_ms(attempt, NULL));
                continue;
            }
            st = stw_fail(err, STW_ERR_IO, "%s: %s: %s", r->name, q->what,
                          x->errbuf[0] ? x->errbuf
                                       : curl_easy_strerror(x->result));
            stw_reg_xfer_free(x);
            return st;
        }
        if (ok2xx(x)) {
            *out = x;
            return STW_OK;
        }
        if (x->status == 401 && q->registry_auth && !auth_tried) {
            auth_tried = true;
            st = stw_reg_authenticate(r, multi, x, q->what, scope,
                                      sizeof(scope), err);
            stw_reg_xfer_free(x);
            if (st != STW_OK)
                return st;
            continue;
        }
        if ((x->status == 429 || x->status == 500 || x->status == 502 ||
             x->status == 503 || x->status == 504) &&
            ++attempt < r->tries) {
            long ms = stw_reg_backoff_ms(attempt, x->retry_after);
            stw_reg_xfer_free(x);
            stw_reg_sleep_ms(ms);
            continue;
        }
        st = http_error(r, q->what, x, err);
        stw_reg_xfer_free(x);
        return st;
    }
}
