/* fuzz_ref.c - libFuzzer target: any bytes as an image reference, the way
 * a scan target or `stowaway registry` names one ("[docker://|oci://]
 * [REGISTRY/]REPO[:TAG][@sha256:HEX]"). Beyond no crash, it checks what
 * the registry client relies on: an accepted reference formats to a
 * canonical name that parses back to the same reference, and the host,
 * repository and tag the parser accepted pass their own validators. */
#include "registry_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what, const char *input)
{
    if (!ok) {
        fprintf(stderr, "fuzz_ref: %s for input '%s'\n", what, input);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Targets come from argv and batch files: C strings, so no NUL. */
    if (size > 2 * STW_REGISTRY_REF_MAX || memchr(data, 0, size))
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    stw_registry_ref ref, again;
    stw_error err = {0};
    if (stw_registry_parse_ref(s, &ref, &err) == STW_OK) {
        check(ref.tag[0] || ref.digest[0], "neither tag nor digest", s);
        check(stw_reg_valid_host(ref.registry) ||
                  !strcmp(ref.registry, STW_REG_DOCKER_HUB),
              "invalid host accepted", s);
        check(stw_reg_valid_repo(ref.repository), "invalid repo accepted", s);
        check(!ref.tag[0] || stw_reg_valid_tag(ref.tag), "invalid tag", s);
        char canon[STW_REGISTRY_REF_MAX + 96];
        stw_registry_ref_format(&ref, canon, sizeof(canon));
        stw_error err2 = {0};
        check(stw_registry_parse_ref(canon, &again, &err2) == STW_OK,
              "canonical form does not parse", s);
        check(!strcmp(ref.registry, again.registry) &&
                  !strcmp(ref.repository, again.repository) &&
                  !strcmp(ref.tag, again.tag) &&
                  !strcmp(ref.digest, again.digest),
              "canonical form parses to another reference", s);
    } else if (!err.msg[0]) {
        check(false, "failure without a message", s);
    }
    free(s);
    return 0;
}
