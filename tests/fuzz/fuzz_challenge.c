/* fuzz_challenge.c - libFuzzer target: any bytes as the value of the two
 * HTTP headers the registry client acts on, WWW-Authenticate (RFC 7235,
 * answered with a token request) and Link (RFC 8288, followed to the next
 * page of a listing). The value is cut where curl's header callback would
 * (a line, at most STW_REGISTRY_MAX_HEADER bytes), and the Link target is
 * written into buffers of the sizes the client uses, down to one byte. */
#include "registry_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char v[STW_REGISTRY_MAX_HEADER];
    size_t n = 0;
    while (n < size && n + 1 < sizeof(v) && data[n] && data[n] != '\r' &&
           data[n] != '\n') {
        v[n] = (char)data[n];
        n++;
    }
    v[n] = 0;

    stw_registry_challenge c;
    stw_error err = {0};
    stw_status st = stw_registry_parse_challenge(v, &c, &err);
    if (st == STW_OK) {
        /* The token request is built from these: each must be a string
         * that fits its field, and the scheme one of the two answered. */
        if (strcmp(c.scheme, "bearer") && strcmp(c.scheme, "basic"))
            abort();
        if (!memchr(c.realm, 0, sizeof(c.realm)) ||
            !memchr(c.service, 0, sizeof(c.service)) ||
            !memchr(c.scope, 0, sizeof(c.scope)) ||
            !memchr(c.error, 0, sizeof(c.error)))
            abort();
        if (!strcmp(c.scheme, "bearer") && !c.realm[0])
            abort();
    } else if (!err.msg[0]) {
        abort();
    }
    (void)stw_reg_challenge_ours(v);

    static const size_t sizes[] = {1, 8, 64, STW_REGISTRY_MAX_HEADER};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char *out = malloc(sizes[i]);
        if (!out)
            return 0;
        if (stw_registry_next_link(v, out, sizes[i]) &&
            (!memchr(out, 0, sizes[i]) || !out[0]))
            abort();
        free(out);
    }
    return 0;
}
