/* shard.c - shard arithmetic (shard.h). */
#include "shard.h"

#include "common.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static bool parse_uint(const char *s, size_t len, unsigned *out)
{
    unsigned long v = 0;
    if (len == 0 || len > 9)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    *out = (unsigned)v;
    return true;
}

stw_status stw_shard_parse(const char *s, unsigned *k, unsigned *n,
                           stw_error *err)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    unsigned a = 0, b = 0;
    if (!slash || !parse_uint(s, (size_t)(slash - s), &a) ||
        !parse_uint(slash + 1, strlen(slash + 1), &b) || a < 1 || b < 1 ||
        a > b || b > STW_MAX_SHARDS)
        return stw_fail(err, STW_ERR_USAGE,
                        "bad shard '%s' (want K/N with 1 <= K <= N <= %u, "
                        "e.g. 2/8)",
                        s ? s : "(null)", STW_MAX_SHARDS);
    *k = a;
    *n = b;
    return STW_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

unsigned stw_shard_of(const char *digest, unsigned n)
{
    if (n <= 1 || !digest)
        return 1;
    uint64_t v = 0;
    const char *hex = strncmp(digest, "sha256:", 7) == 0 ? digest + 7 : NULL;
    for (int i = 0; hex && i < 16; i++) {
        int h = hexval(hex[i]);
        if (h < 0) {
            hex = NULL;
            break;
        }
        v = v << 4 | (uint64_t)h;
    }
    if (!hex) {
        v = 14695981039346656037ull;
        for (const unsigned char *p = (const unsigned char *)digest; *p; p++)
            v = (v ^ *p) * 1099511628211ull;
    }
    return (unsigned)(v % n) + 1;
}
