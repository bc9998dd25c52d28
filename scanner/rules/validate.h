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

/* True if the named validator checks a checksum the issuer always writes
 * (github-checksum, npm-checksum): a string it rejects has the token's
 * prefix and shape but is no token, so no other rule may report it
 * either. False for structural checks and unknown names. */
bool stw_validator_is_checksum(const char *name);

/* Shannon entropy of the bytes, in bits per byte (0 for n == 0). */
double stw_entropy(const char *s, size_t n);

/* True if the secret is an obvious placeholder rather than a value: one
 * repeated character, a run of 'x'/'*', "example", template syntax such as
 * ${VAR}, {{ .Values.x }}, <your-key>, %VAR%, "changeme", a sequential run
 * ("1234567890", "abcdef"), a short unit repeated ("123123123"), or a value
 * made only of filler words and digits ("test", "dummy-token-123"); a word
 * such as "test" inside an otherwise random value does not count. */
bool stw_is_placeholder(const char *s, size_t n);

/* True if the value is made of words and at least one says it was written
 * for a test ("fake-password-for-tests", "TestSourcePassword",
 * "dummy_key_2024"): every letter run (split at separators, digits and
 * camelCase humps) is a syllable of two or more letters with a vowel, one
 * of them is a word such as fake, dummy, example, test, sample, mock or
 * changeme, and letters make most of the value. A random token that
 * happens to contain "Test" ("x9TestKq2LmN8p") has runs that are no words
 * and does not count. */
bool stw_is_fixture_value(const char *s, size_t n);

/* True if a component of the path (borrowed, NUL-terminated) names a test
 * tree or a tree of examples: test, tests, testdata, fixtures, __tests__,
 * examples, ... (any case). */
bool stw_is_fixture_path(const char *path);

/* True if the path (borrowed, NUL-terminated, relative to the layer's
 * root) lies in the distribution's documentation: usr/share/doc,
 * usr/share/man, usr/share/info, usr/share/gtk-doc. */
bool stw_is_doc_tree(const char *path);

/* True if the file the path names (its last component; borrowed,
 * NUL-terminated) is documentation by its extension: .md, .markdown,
 * .rst, .adoc, .asciidoc (any case). */
bool stw_is_doc_file(const char *path);

/* Why a generic finding in the file at path (borrowed) is info by the
 * directories the path runs through - a test or examples tree, the
 * distribution's documentation - or NULL. Such a judgement depends on the
 * path around an archive, so an archive there is never cached. */
const char *stw_tree_note(const char *path);

/* The same by the file's own name (a documentation extension), or NULL:
 * the same wherever the file lies. */
const char *stw_file_note(const char *path);

/* True if the value is the name it is assigned to, spelt again: letters
 * and digits compared without case, against the whole key or its last
 * dotted member ("MYSQL_NATIVE_PASSWORD = \"MYSQL_NATIVE_PASSWORD\"",
 * "sasl_scram512_auth=\"saslScram512Auth\"", "exports.X_AUTH = X_AUTH"):
 * an enumeration or a property table of code, never a secret; so is a
 * value that is a name of 6 such characters or more and a tail of at most
 * 6 ("finish_pass := finish_pass1"). Values of fewer than 4 such characters
 * never are. Both borrowed. */
bool stw_is_name_echo(const char *key, size_t kn, const char *val, size_t vn);

#endif
