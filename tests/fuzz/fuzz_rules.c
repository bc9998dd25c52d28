/* fuzz_rules.c - libFuzzer target: any bytes as a rule file given with
 * --rules (stowaway's YAML, with Trivy's secret-config keys): the YAML
 * loader alone (stw_rulefile_parse) and, when it accepts the file, the
 * whole stw_rules_create of it as production runs it, read from a path
 * (an in-memory file): rule selection, the PCRE2 and vectorscan compiles,
 * the size caps, the examples' self-test data and the version hash.
 * Built-in rules are left out so one input compiles in milliseconds. */
#define _GNU_SOURCE
#include "memfile.h"
#include "ruleload.h"
#include "rules.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly the file's bytes, so ASan sees any read past the end. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    stw_rulefile f;
    stw_error err = {0};
    stw_status st = stw_rulefile_parse("fuzz.yaml", text, size, &f, &err);
    free(text);
    if (st != STW_OK) {
        if (!err.msg[0])
            abort();
        return 0;
    }
    stw_rulefile_free(&f);

    const char *files[] = {memfile_set(data, size)};
    /* Small caps, so a file that asks for huge compiled programs is
     * refused quickly by the same code that refuses it at full size. */
    stw_rules_options o = {.files = files,
                           .n_files = 1,
                           .no_builtin = 1,
                           .max_rules = 64,
                           .max_compiled_bytes = 8u << 20};
    stw_rules *rs = NULL;
    err.msg[0] = 0;
    st = stw_rules_create(&o, &rs, &err);
    if (st == STW_OK) {
        for (size_t i = 0; i < stw_rules_count(rs); i++) {
            stw_rule_info info;
            if (stw_rules_info(rs, i, &info) != STW_OK || !info.id ||
                stw_rules_find(rs, info.id) == NULL)
                abort();
        }
        if (!stw_rules_version(rs)[0])
            abort();
        stw_rules_destroy(rs);
    } else if (!err.msg[0] || rs) {
        abort();
    }
    return 0;
}
