/* pathset.h - what one layer does to the paths of the layers below it, in a
 * compact form that is stored with the layer and lets visibility be decided
 * later without decompressing the layer again.
 *
 * A pathset is a sorted array of 64-bit entries: a hash of the path with the
 * low two bits holding the entry type. A later layer hides a lower file if it
 * holds a whiteout for the path or an ancestor, an opaque marker on an
 * ancestor directory, any entry at the same path (a directory at the same
 * path merges with a lower directory instead), or a non-directory at an
 * ancestor path. Hash collisions (2^-62 per pair) could only ever hide a
 * finding's visibility, never drop the finding. */
#ifndef STW_PATHSET_H
#define STW_PATHSET_H

#include "stowaway/stowaway.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum stw_path_type {
    STW_PT_FILE = 0,     /* regular file, symlink, hardlink, device... */
    STW_PT_DIR = 1,      /* directory */
    STW_PT_WHITEOUT = 2, /* .wh.NAME: NAME deleted */
    STW_PT_OPAQUE = 3    /* DIR/.wh..wh..opq: lower contents of DIR hidden */
} stw_path_type;

typedef struct stw_pathset stw_pathset;

stw_status stw_pathset_create(stw_pathset **out);
void stw_pathset_destroy(stw_pathset *ps);

/* Adds one tar entry by its normalised path (no leading "./" or "/", no
 * trailing "/"). Whiteout names are translated here: "a/.wh.b" records a
 * whiteout for "a/b", "a/.wh..wh..opq" an opaque marker for "a". */
stw_status stw_pathset_add_entry(stw_pathset *ps, const char *path,
                                 bool is_dir);

/* Sorts and deduplicates; afterwards the set is read-only. Returns the
 * serialised form (little-endian uint64 array), borrowed from ps. */
void stw_pathset_finish(stw_pathset *ps, const void **blob, size_t *len);

/* Returns true if a layer whose serialised pathset is blob/len hides a path
 * of a lower layer (is_dir: the lower entry is a directory). A path inside
 * an archive ("a.jar!/x") is hidden when the archive file "a.jar" is. */
bool stw_pathset_hides(const void *blob, size_t len, const char *path,
                       bool is_dir);

/* Splits a tar path into the name it stands for: returns STW_PT_WHITEOUT /
 * STW_PT_OPAQUE with *target set to the hidden path (written into buf of
 * size n), or STW_PT_FILE for an ordinary name (buf untouched). */
stw_path_type stw_pathset_classify(const char *path, char *buf, size_t n);

#endif
