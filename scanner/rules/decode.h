/* decode.h - values that manifests hold encoded, found so the content rules
 * can see what they encode: the base64 `data:` (and plain `stringData:`)
 * of a Kubernetes Secret, alone or in a `kubectl get -o yaml|json` List,
 * and the base64 `auth` ("user:password") of a Docker config
 * (config.json, .dockerconfigjson, legacy .dockercfg), also when a
 * Secret's .dockerconfigjson holds one. Recognised by content: the file's
 * name plays no part. */
#ifndef STW_DECODE_H
#define STW_DECODE_H

#include "stowaway/stowaway.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One value, with where it is in the file. */
typedef struct stw_decoded {
    /* Where in the manifest, for the finding's detail, with no value:
     * "data.DB_PASSWORD (base64)", "items[1].stringData.token",
     * "data..dockerconfigjson (base64): auths.ghcr.io.auth (base64)". */
    char *detail;
    /* The value as the rules should read it: "KEY: value" for a one-line
     * value (a generic rule needs the name: "DB_PASSWORD: s3cr3t"), the
     * value alone for a multi-line one (a PEM, a whole .env), "user:pass"
     * for a Docker auth. */
    char *text;
    size_t len;
    /* The credential inside text: the value, or a Docker auth's password. */
    size_t cred_lo, cred_hi;
    bool docker_auth; /* text is a Docker config's user:password */
    bool legacy;      /* ... of a .dockercfg (registries at the top) */
    int64_t line;     /* 1-based line of the value in the file */
    size_t lo, hi;    /* the value's bytes in the file (quotes included) */
} stw_decoded;

typedef struct stw_decoded_set {
    stw_decoded *v; /* ordered by lo */
    size_t n, cap;
    size_t bytes; /* of every text, bounded by STW_MAX_DECODED_BYTES */
} stw_decoded_set;

/* Finds the encoded values of text (len bytes, borrowed: a whole file)
 * into out, which must be empty (zero-initialised or cleared). Text that
 * is not YAML or JSON, or holds no such manifest, gives none. Past
 * STW_MAX_DECODED_BYTES of values the rest are left out (the rules still
 * see their encoded form). Returns STW_OK or STW_ERR_NOMEM (out then holds
 * what was found before; clear it either way). */
stw_status stw_decode_manifests(const char *text, size_t len,
                                stw_decoded_set *out, stw_error *err);

/* Frees every value and empties s for reuse (its array is kept). */
void stw_decoded_set_clear(stw_decoded_set *s);
/* Frees s's array too. */
void stw_decoded_set_free(stw_decoded_set *s);

/* Whether text (len bytes) may hold a manifest stw_decode_manifests()
 * reads: a cheap test, so that YAML parsing is tried on few files. */
bool stw_decode_worth_trying(const char *text, size_t len);

/* The same test as vectorscan expressions (case-sensitive, no flags), so
 * that it rides on the content scan every file has anyway instead of a
 * pass of its own: text passes the test exactly when some expression i
 * reports a match ending at `end` for which stw_decode_gate_hit(i, text,
 * len, end) holds. Borrowed, static. */
#define STW_DECODE_GATES 2
extern const char *const stw_decode_gate_expr[STW_DECODE_GATES];
bool stw_decode_gate_hit(unsigned gate, const char *text, size_t len,
                         size_t end);

#endif
