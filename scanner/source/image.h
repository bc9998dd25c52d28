/* image.h - the image model: from the JSON documents of a docker-save
 * archive or an OCI layout (manifest.json, index.json, image indexes,
 * manifests, configs) to a list of images, each with its ordered layers,
 * their expected digests and the history entry that created each.
 *
 * Documents are obtained through a fetch callback, so the same parser serves
 * an OCI directory (read from files), an archive (members collected while
 * streaming) and later a registry. Every fetched manifest and config is
 * checked against its digest where one is known. */
#ifndef STW_IMAGE_H
#define STW_IMAGE_H

#include "stowaway/stowaway.h"

#include <stddef.h>
#include <stdint.h>

typedef struct stw_layer_desc {
    char *name;       /* where the blob lives: "blobs/sha256/<hex>" or
                         "<id>/layer.tar" (archive member or file) */
    char *digest;     /* expected "sha256:…" of the blob, or NULL */
    char *diff_id;    /* expected "sha256:…" of the tar, or NULL */
    char *media_type; /* or NULL */
    int64_t size;     /* declared blob size, -1 unknown */
    char *created_by; /* history entry, or NULL */
} stw_layer_desc;

typedef struct stw_image_desc {
    char *ref;
    char *manifest_digest; /* NULL for legacy docker save */
    char *config_digest;   /* "sha256:…" of the config bytes */
    char *platform;        /* "os/arch[/variant]" or NULL */
    char *config;          /* the config JSON (for Env/history scanning) */
    size_t config_len;
    stw_layer_desc *layers;
    size_t n_layers;
} stw_image_desc;

typedef struct stw_image_list {
    stw_image_desc *v;
    size_t n;
} stw_image_list;

/* Returns the document called name ("manifest.json", "index.json",
 * "blobs/sha256/<hex>"). *data is borrowed from the source and valid until
 * the list is built. STW_ERR_NOT_FOUND when missing (err filled). */
typedef stw_status (*stw_fetch_fn)(void *ctx, const char *name,
                                   const char **data, size_t *len,
                                   stw_error *err);

typedef struct stw_image_source {
    stw_fetch_fn fetch;
    void *ctx;
    const char *target;   /* for messages and default refs */
    const char *platform; /* filter "os/arch[/variant]", or NULL */
} stw_image_source;

/* Builds the images of an OCI layout (index.json at the root), with refs
 * from annotations, or from manifest.json's RepoTags when the layout was
 * written by `docker save` (Docker 25+). Appends to list. */
stw_status stw_image_from_oci(const stw_image_source *src, stw_image_list *list,
                              stw_error *err);

/* Builds the images of a docker-save manifest.json (legacy layout).
 * Appends to list. */
stw_status stw_image_from_docker(const stw_image_source *src,
                                 stw_image_list *list, stw_error *err);

/* Frees everything the list owns and zeroes it. */
void stw_image_list_clear(stw_image_list *list);

/* Extracts the hex of a "blobs/sha256/<hex>" or "<hex>.tar" member name as
 * "sha256:<hex>" into out (72 bytes); returns 0 if the name carries none. */
int stw_image_digest_from_name(const char *name, char out[72]);

#endif
