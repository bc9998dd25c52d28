/* gitcollect.h - collects the git repositories of a layer (every ".git"
 * directory, and bare repositories: a directory with HEAD and objects/)
 * from the layer's stream onto disk, so that libgit2 can read their
 * history (gitrepo.h) once the layer has been walked: tar order is not
 * guaranteed, so a repository is whole only at the end of the layer.
 *
 * Only what history needs is copied - HEAD, packed-refs, shallow, refs/,
 * the stash's reflog, loose objects and packs - into a private temporary
 * directory (mkdtemp under $TMPDIR, mode 0700) that stw_gitcollect_destroy
 * removes with all it holds, whatever happened before. Never copied: the
 * config, hooks, the index, other reflogs, and objects/info/alternates and
 * commondir (they would point libgit2 at paths of the scanning machine).
 * Names are checked component by component (no "..", no absolute paths)
 * and files are created with O_NOFOLLOW in directories the collector made
 * itself, so an entry cannot write outside the directory.
 *
 * The bytes copied per layer are capped: a file that would pass the cap is
 * not copied, and the repository's history is read from what fits, with a
 * note. */
#ifndef STW_GITCOLLECT_H
#define STW_GITCOLLECT_H

#include "stowaway/stowaway.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct stw_gitcollect stw_gitcollect;

/* Receives a note (msg borrowed for the call): a repository cut short, a
 * ".git" that is a file. Returns STW_OK to go on. */
typedef stw_status (*stw_gitcollect_note_fn)(void *ctx, const char *msg);

/* max_bytes: bytes copied per layer (0: STW_MAX_GIT_BYTES). note and ctx
 * are borrowed. The temporary directory is made on the first file copied.
 * *out transferred. */
stw_status stw_gitcollect_create(uint64_t max_bytes,
                                 stw_gitcollect_note_fn note, void *ctx,
                                 stw_gitcollect **out, stw_error *err);
/* Removes the temporary directory and everything in it. NULL is fine. */
void stw_gitcollect_destroy(stw_gitcollect *c);

/* One entry of the layer (path normalised, borrowed). *want says whether
 * its content is to be copied: then every byte of it goes to
 * stw_gitcollect_data, and stw_gitcollect_end follows in any case. */
stw_status stw_gitcollect_entry(stw_gitcollect *c, const char *path,
                                bool is_dir, bool is_reg, uint64_t size,
                                bool *want, stw_error *err);
stw_status stw_gitcollect_data(stw_gitcollect *c, const void *p, size_t n,
                               stw_error *err);
/* Closes the entry's copy; a copy shorter than the entry's size (its
 * reading was cut short) is removed. A no-op when nothing is open. */
void stw_gitcollect_end(stw_gitcollect *c);

/* Once the layer is walked: the repositories that hold history (objects),
 * each made ready for libgit2. Notes the ones cut short by the cap. */
stw_status stw_gitcollect_finish(stw_gitcollect *c, stw_error *err);
size_t stw_gitcollect_count(const stw_gitcollect *c);
/* The i-th repository: its path in the layer ("srv/app/.git"), the
 * directory of its copy, and whether it is bare (no work tree around it).
 * Strings borrowed until the collector is destroyed. */
void stw_gitcollect_get(const stw_gitcollect *c, size_t i,
                        const char **layer_path, const char **dir, bool *bare);

#endif
