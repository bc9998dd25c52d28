/* validate.c - entropy, placeholder filter and the registry of named
 * offline validators (structure checks now, token checksums later). */
#include "validate.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* Decodes base64 (standard alphabet) while skipping whitespace and the
 * escaped line breaks "\n" / "\r" of keys embedded in JSON or code strings.
 * Stops at '=' or at the first foreign character. Decodes at most cap bytes
 * into out and returns how many it wrote. */
static size_t b64_prefix(const char *s, size_t n, unsigned char *out,
                         size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n && o < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        else if (c == '\\' && i + 1 < n &&
                 (s[i + 1] == 'n' || s[i + 1] == 'r')) {
            i++;
            continue;
        } else
            break;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return o;
}

/* A private key body is recognised by what it decodes to: a DER SEQUENCE
 * (PKCS#1, SEC1, PKCS#8, DSA), the openssh-key-v1 magic, an OpenPGP secret
 * key packet, or a PuTTY private blob (a length-prefixed mpint/string). A
 * body that decodes to something else is still reported (it may be a real
 * key mangled in transit), just not marked validated. */
static stw_validity validate_private_key(const char *s, size_t n)
{
    unsigned char d[16];
    size_t k = b64_prefix(s, n, d, sizeof(d));
    if (k < 4)
        return STW_VALID_UNKNOWN;
    if (d[0] == 0x30 && (d[1] == 0x81 || d[1] == 0x82 || d[1] < 0x80))
        return STW_VALID_YES;
    if (k >= 15 && memcmp(d, "openssh-key-v1", 15) == 0)
        return STW_VALID_YES;
    /* OpenPGP packet header: bit 7 set; tag 5 = secret key, new or old
     * format. */
    if ((d[0] & 0xC0) == 0xC0 && (d[0] & 0x3F) == 5)
        return STW_VALID_YES;
    if ((d[0] & 0xC0) == 0x80 && ((d[0] >> 2) & 0x0F) == 5)
        return STW_VALID_YES;
    if (d[0] == 0 && d[1] == 0 && d[2] < 0x10)
        return STW_VALID_YES; /* PuTTY: big-endian length of first field */
    return STW_VALID_UNKNOWN;
}

static const struct {
    const char *name;
    stw_validator_fn fn;
} validators[] = {
    {"none", NULL},
    {"private-key", validate_private_key},
};

bool stw_validator_lookup(const char *name, stw_validator_fn *fn)
{
    *fn = NULL;
    if (!name)
        return true;
    for (size_t i = 0; i < sizeof(validators) / sizeof(validators[0]); i++) {
        if (strcmp(name, validators[i].name) == 0) {
            *fn = validators[i].fn;
            return true;
        }
    }
    return false;
}

double stw_entropy(const char *s, size_t n)
{
    if (n == 0)
        return 0.0;
    size_t count[256] = {0};
    for (size_t i = 0; i < n; i++)
        count[(unsigned char)s[i]]++;
    double h = 0.0;
    for (int c = 0; c < 256; c++) {
        if (count[c]) {
            double p = (double)count[c] / (double)n;
            h -= p * log2(p);
        }
    }
    return h;
}

/* Case-insensitive substring search over a length-bounded haystack. */
static bool contains_ci(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++) {
        if (strncasecmp(s + i, needle, k) == 0)
            return true;
    }
    return false;
}

bool stw_is_placeholder(const char *s, size_t n)
{
    if (n == 0)
        return true;
    size_t same = 1;
    for (size_t i = 1; i < n && s[i] == s[0]; i++)
        same++;
    if (same == n)
        return true;
    /* Needles are long enough that random base64 of a real key contains
     * one with negligible probability (< 1e-9 per key). */
    static const char *const needles[] = {
        "xxxxxxxx", "********", "example", "changeme",    "${",       "{{",
        "<your",    "your_",    "your-",   "placeholder", "redacted",
    };
    for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++) {
        if (contains_ci(s, n, needles[i]))
            return true;
    }
    return false;
}
