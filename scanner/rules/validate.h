/* validate.h - cheap, offline checks that cut noise from content matches:
 * Shannon entropy, obvious placeholders, and named structural or checksum
 * validators that a rule selects with `validator:`. All functions are pure
 * and thread-safe. */
#ifndef STW_VALIDATE_H
#define STW_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* Outcome of a validator. */
typedef enum stw_validity {
    STW_VALID_UNKNOWN = 0, /* cannot tell: report, not marked validated */
    STW_VALID_YES,         /* structure/checksum holds: report as validated */
    STW_VALID_NO           /* cannot be a real secret: drop the match */
} stw_validity;

/* A validator looks at the secret bytes (borrowed) and judges them. */
typedef stw_validity (*stw_validator_fn)(const char *s, size_t n);

/* Looks a validator up by its name in rule files: "private-key",
 * "github-checksum" / "npm-checksum" (CRC32 suffix; a wrong one -> NO),
 * "jwt" (header decodes to JSON with "alg"), "base64-jwt", "aws-key-id"
 * (prefix and base32 alphabet), "base64" (decodes cleanly). "none" and NULL
 * give *fn = NULL (no validation) and return true; an unknown name returns
 * false. */
bool stw_validator_lookup(const char *name, stw_validator_fn *fn);

/* Shannon entropy of the bytes, in bits per byte (0 for n == 0). */
double stw_entropy(const char *s, size_t n);

/* True if the secret is an obvious placeholder rather than a value: one
 * repeated character, a run of 'x'/'*', "example", template syntax such as
 * ${VAR}, {{ .Values.x }}, <your-key>, %VAR%, "changeme", a sequential run
 * ("1234567890", "abcdef"), a short unit repeated ("123123123"), or a value
 * made only of filler words and digits ("test", "dummy-token-123"); a word
 * such as "test" inside an otherwise random value does not count. */
bool stw_is_placeholder(const char *s, size_t n);

#endif
