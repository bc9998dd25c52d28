/* sha256.c - SHA-256 contexts over OpenSSL EVP; see sha256.h. */
#include "sha256.h"
#include "common.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST_PREFIX     "sha256:"
#define DIGEST_PREFIX_LEN 7

struct stw_sha256 {
    EVP_MD_CTX *ctx;
    bool failed; /* an update failed since the last reset */
};

static bool sha256_reset(stw_sha256 *h)
{
    h->failed = false;
    return EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) == 1;
}

stw_status stw_sha256_create(stw_sha256 **out, stw_error *err)
{
    *out = NULL;
    stw_sha256 *h = stw_calloc(1, sizeof(*h));
    if (!h)
        return stw_fail(err, STW_ERR_NOMEM, "sha256: out of memory");
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || !sha256_reset(h)) {
        stw_sha256_destroy(h);
        return stw_fail(err, STW_ERR_NOMEM, "sha256: cannot initialise");
    }
    *out = h;
    return STW_OK;
}

stw_status stw_sha256_strings(const char *const *s, size_t n,
                              unsigned char md[STW_SHA256_LEN])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    bool ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(c, s[i], strlen(s[i]) + 1) == 1;
    unsigned int len = 0;
    ok = ok && EVP_DigestFinal_ex(c, md, &len) == 1 && len == STW_SHA256_LEN;
    EVP_MD_CTX_free(c);
    return ok ? STW_OK : STW_ERR_NOMEM;
}

void stw_sha256_destroy(stw_sha256 *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void stw_sha256_update(stw_sha256 *h, const void *p, size_t n)
{
    if (n && EVP_DigestUpdate(h->ctx, p, n) != 1)
        h->failed = true;
}

stw_status stw_sha256_final_raw(stw_sha256 *h, unsigned char md[STW_SHA256_LEN],
                                stw_error *err)
{
    unsigned int len = 0;
    bool ok = !h->failed && EVP_DigestFinal_ex(h->ctx, md, &len) == 1 &&
              len == STW_SHA256_LEN;
    if (!sha256_reset(h))
        ok = false;
    if (!ok)
        return stw_fail(err, STW_ERR_NOMEM, "sha256: hashing failed");
    return STW_OK;
}

stw_status stw_sha256_final(stw_sha256 *h, char out[STW_DIGEST_STR],
                            stw_error *err)
{
    unsigned char md[STW_SHA256_LEN];
    out[0] = 0;
    stw_status st = stw_sha256_final_raw(h, md, err);
    if (st != STW_OK)
        return st;
    memcpy(out, DIGEST_PREFIX, DIGEST_PREFIX_LEN);
    stw_hex(md, sizeof(md), out + DIGEST_PREFIX_LEN);
    return STW_OK;
}

stw_status stw_sha256_digest(const void *p, size_t n, char out[STW_DIGEST_STR],
                             stw_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    out[0] = 0;
    if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1 ||
        len != STW_SHA256_LEN)
        return stw_fail(err, STW_ERR_NOMEM, "sha256: hashing failed");
    memcpy(out, DIGEST_PREFIX, DIGEST_PREFIX_LEN);
    stw_hex(md, STW_SHA256_LEN, out + DIGEST_PREFIX_LEN);
    return STW_OK;
}

bool stw_sha256_digest_valid(const char *s)
{
    if (!s || strncmp(s, DIGEST_PREFIX, DIGEST_PREFIX_LEN) != 0)
        return false;
    s += DIGEST_PREFIX_LEN;
    for (int i = 0; i < 2 * STW_SHA256_LEN; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return s[2 * STW_SHA256_LEN] == 0;
}
