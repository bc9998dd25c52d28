/* fuzz_creds.c - libFuzzer target: any bytes as a docker config.json
 * (looked up for one of several registries: Docker Hub and its aliases, a
 * host, a host:port, an IPv6 literal) or as what a credential helper
 * printed. The first byte picks which; the rest is the document, as
 * read from the file or the helper's pipe (not NUL-terminated). What is
 * found must be usable the way auth.c uses it: username and password both
 * set or both absent, a helper name not empty, nothing left on failure. */
#include "registry_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const registries[] = {
        "docker.io",  "ghcr.io", "quay.io",        "localhost:5000",
        "[::1]:5000", "gcr.io",  "registry.local", "a"};
    if (size < 1 || size > STW_MAX_JSON_BYTES)
        return 0;
    const char *reg = registries[data[0] & 7];
    bool helper = (data[0] & 8) != 0;
    /* A copy of exactly the document's bytes, so ASan sees any read past
     * its end. */
    size_t n = size - 1;
    char *doc = malloc(n ? n : 1);
    if (!doc)
        return 0;
    memcpy(doc, data + 1, n);
    stw_registry_cred c = {0};
    stw_error err = {0};
    stw_status st = helper ? stw_registry_parse_helper_output(doc, n, &c, &err)
                           : stw_registry_config_auth(doc, n, reg, &c, &err);
    if (st != STW_OK && !err.msg[0])
        abort();
    if (st == STW_OK) {
        if (!c.username != !c.password)
            abort();
        if (c.username)
            (void)(strlen(c.username) + strlen(c.password));
        if (c.helper && !c.helper[0])
            abort();
    } else if (c.username || c.password || c.helper) {
        abort(); /* a failure leaves nothing behind */
    }
    stw_registry_cred_clear(&c);
    free(doc);
    return 0;
}
