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

/* Looks a validator up by its name in rule files. "none" and NULL give
 * *fn = NULL (no validation) and return true; an unknown name returns
 * false. */
bool stw_validator_lookup(const char *name, stw_validator_fn *fn);

/* Shannon entropy of the bytes, in bits per byte (0 for n == 0). */
double stw_entropy(const char *s, size_t n);

/* True if the secret is an obvious placeholder rather than a value: one
 * repeated character, a run of 'x'/'*', "example", template syntax such as
 * ${VAR} or <your-key>, "changeme"... */
bool stw_is_placeholder(const char *s, size_t n);

#endif
