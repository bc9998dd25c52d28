/* artifact.h - the COPY-artifact detector: what a careless `COPY . .`
 * drags into an image (.git/, .svn/, .hg/, .idea/, .vscode/, .github/,
 * .gitlab-ci.yml, Dockerfile, .dockerignore, key stores by name).
 *
 * One detector per layer walk. Every entry of the layer goes through
 * stw_artifact_entry; a directory artifact is reported once per layer (path
 * "app/.git", is_dir true) however many files it holds, so findings come
 * out of stw_artifact_finish at the end of the layer. A few small files
 * (.git/config, .hg/hgrc, the first bytes of key stores) are read: the
 * walker streams their content into stw_artifact_feed when asked to.
 *
 * Artifacts that third-party packages ship (node_modules/x/.github/, a
 * vendored repository's .git/) are not the image author's mistake: they are
 * reported at info (.git/.svn/.hg, key stores) or not at all (editor and CI
 * metadata), unless a .git remote embeds credentials, which is high
 * anywhere. */
#ifndef STW_ARTIFACT_H
#define STW_ARTIFACT_H

#include "finding.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct stw_artifact stw_artifact;

/* Creates the detector for one layer. Findings go to fn(ctx, ...) (borrowed;
 * must outlive the detector). *out transferred to the caller. Returns
 * STW_ERR_NOMEM on allocation failure. */
stw_status stw_artifact_create(stw_finding_fn fn, void *ctx,
                               stw_artifact **out);
/* Accepts NULL. */
void stw_artifact_destroy(stw_artifact *a);

/* Looks at one entry. path (borrowed for the call) is normalised: relative
 * to the image root, no "./", no trailing "/". is_dir and is_reg give the
 * entry type; size is the declared content size. Sets *want_content when the
 * detector needs the entry's content: the caller then streams it through
 * stw_artifact_feed and calls stw_artifact_end_file, or skips both when it
 * cannot read the content (the detector then judges by name alone). Returns
 * STW_OK, STW_ERR_NOMEM, or the sink's status. */
stw_status stw_artifact_entry(stw_artifact *a, const char *path, bool is_dir,
                              bool is_reg, uint64_t size, bool *want_content);

/* Content of the entry that asked for it, in pieces of any size. Only the
 * first STW_MAX_ARTIFACT_READ bytes are kept; the rest is ignored. */
void stw_artifact_feed(stw_artifact *a, const void *data, size_t len);

/* The content of the current entry is complete. Returns STW_OK, or the
 * sink's status if a finding was emitted and refused. */
stw_status stw_artifact_end_file(stw_artifact *a);

/* Emits one finding per artifact directory seen in the layer, in the order
 * they were first seen. Call once, after the last entry. Returns STW_OK or
 * the sink's status. */
stw_status stw_artifact_finish(stw_artifact *a);

/* Entries so far whose path made the detector look - an artifact
 * directory in it, a CI file, a Dockerfile, a key store's name - whatever
 * the rest of the path then decided (third-party trees, trust stores). The
 * members of an archive that add none give no finding of this detector
 * wherever the archive lies, so its results can be reused at another path
 * (stream/archmemo.h). */
uint64_t stw_artifact_looked(const stw_artifact *a);

/* Copies url into out (size cap, always NUL-terminated) with the password
 * of its userinfo (or a token standing as the user name) replaced by
 * "****": "https://deploy:****@git.example.com/acme/app.git". Sets
 * *secret and *secret_len to the credential inside url (borrowed) or NULL/0
 * when the URL carries none (no userinfo, a plain user name, a ${VAR}
 * placeholder). */
void stw_artifact_redact_url(const char *url, size_t len, char *out, size_t cap,
                             const char **secret, size_t *secret_len);

#endif
