/* members.h - what a name says, before any content is trusted: whether a
 * tar member belongs to an image archive (docker save, oci-archive) or to a
 * layer's root filesystem, whether it is a document or a layer blob, where
 * a symlink member points, and the digest a blob file's path carries.
 * Pure functions of their arguments. */
#ifndef STW_MEMBERS_H
#define STW_MEMBERS_H

#include "stowaway/stowaway.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct archive_entry;

/* A name that proves, when a whole tar can be indexed first, that it is an
 * image archive rather than a layer: a layer may well hold a top-level
 * blobs/ directory, but not an OCI layout marker, a manifest, a docker save
 * repositories file, nor a legacy <id>/layer.tar. */
bool stw_member_marks_image(const char *n);

/* A name that only an image archive has at its top level (a layer's own
 * entries are paths of a root filesystem). Weaker than marks_image, for a
 * stream where only the first member can be seen. */
bool stw_member_of_image(const char *n);

/* A small JSON document of an image archive: manifest.json, index.json,
 * oci-layout, repositories, or any "*.json". */
bool stw_member_is_doc(const char *n);

/* A layer blob of an image archive: "<id>/layer.tar", "<hex>.tar" or
 * "blobs/sha256/<hex>". */
bool stw_member_is_layer(const char *n);

/* "blobs/sha256/<64 characters>", a blob named by its digest. */
bool stw_member_is_blob(const char *n);

/* A member whose data an image archive needs: a non-empty regular file
 * that is a document or a layer. e borrowed; n its normalised name. */
bool stw_member_wanted(const char *n, struct archive_entry *e);

/* Whether a member of size bytes whose data starts with first (n bytes) is
 * a document to keep in memory: it looks like JSON and is small enough. */
bool stw_member_holds_doc(const void *first, size_t n, int64_t size);

/* The normalised copy of a member's raw path (NULL raw is ""); transferred
 * to the caller, NULL on no memory. */
char *stw_member_path(const char *raw);

/* The target of symlink member name resolved against its directory
 * ("a/layer.tar" -> "../b.tar" gives "b.tar"), "." and ".." applied.
 * *out transferred to the caller; NULL when the target leaves the archive
 * root (not an error). Fails only for want of memory. */
stw_status stw_member_resolve_link(const char *name, const char *target,
                                   char **out, stw_error *err);

/* A blob file named by its digest, as registries and OCI layouts store
 * them (".../sha256/<hex>" or ".../sha256/<hex>/data"): writes
 * "sha256:<hex>" to out and returns true; false when path names none. */
bool stw_member_digest_from_path(const char *path, char out[72]);

#endif
