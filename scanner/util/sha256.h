/* sha256.h - incremental and one-shot SHA-256 over OpenSSL's EVP (which
 * picks the SHA-NI / AVX2 code path at run time), producing OCI digest
 * strings "sha256:<64 lowercase hex>". */
#ifndef STW_SHA256_H
#define STW_SHA256_H

#include "stowaway/stowaway.h"

#include <stdbool.h>
#include <stddef.h>

/* Raw digest length in bytes. */
#define STW_SHA256_LEN 32
/* Buffer size for "sha256:" + 64 hex digits + NUL. */
#define STW_DIGEST_STR 72

typedef struct stw_sha256 stw_sha256;

/* Creates a hash context ready for updates. *out transferred to the caller.
 * Fails with STW_ERR_NOMEM. */
stw_status stw_sha256_create(stw_sha256 **out, stw_error *err);
void stw_sha256_destroy(stw_sha256 *h);

/* Feeds n bytes (borrowed). A failure inside OpenSSL is remembered and
 * reported by the next final call, so hot loops need not check each update.
 */
void stw_sha256_update(stw_sha256 *h, const void *p, size_t n);

/* Finishes the hash into md (32 bytes) and resets h for a new message.
 * Returns STW_ERR_NOMEM if OpenSSL failed at any point since the last reset.
 */
stw_status stw_sha256_final_raw(stw_sha256 *h, unsigned char md[STW_SHA256_LEN],
                                stw_error *err);

/* Like stw_sha256_final_raw but writes "sha256:<hex>" into out. */
stw_status stw_sha256_final(stw_sha256 *h, char out[STW_DIGEST_STR],
                            stw_error *err);

/* One shot: "sha256:<hex>" of n bytes at p (borrowed) into out. */
stw_status stw_sha256_digest(const void *p, size_t n, char out[STW_DIGEST_STR],
                             stw_error *err);

/* One shot over n NUL-terminated strings (borrowed), each hashed with its
 * NUL, into md. Takes no memory of ours (OpenSSL's context aside), for
 * callers that cannot report a failure, such as suppression matching.
 * STW_ERR_NOMEM (err untouched) when OpenSSL fails. */
stw_status stw_sha256_strings(const char *const *s, size_t n,
                              unsigned char md[STW_SHA256_LEN]);

/* True if s is exactly "sha256:" followed by 64 lowercase hex digits, the
 * only form the OCI spec allows for sha256 digests. */
bool stw_sha256_digest_valid(const char *s);

#endif
