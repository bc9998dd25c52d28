/* members.c - what member names and blob paths say (members.h). */
#include "members.h"

#include "common.h"
#include "layer.h"
#include "limits.h"

#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The files at the top of an image archive that no layer has there. */
static bool top_doc(const char *n)
{
    static const char *const names[] = {"manifest.json", "index.json",
                                        "oci-layout", "repositories"};
    for (size_t i = 0; i < STW_ARRAY_LEN(names); i++)
        if (!strcmp(n, names[i]))
            return true;
    return false;
}

/* n starts with a sha256 in hex, as blob and legacy layer names do. */
static bool hex_named(const char *n)
{
    return strlen(n) >= 64 && stw_is_hex64(n);
}

/* n is a sha256 in hex followed by exactly tail. */
static bool hex_then(const char *n, const char *tail)
{
    return hex_named(n) && !strcmp(n + 64, tail);
}

static bool ends_with(const char *n, const char *suffix)
{
    size_t l = strlen(n), sl = strlen(suffix);
    return l > sl && !strcmp(n + l - sl, suffix);
}

bool stw_member_marks_image(const char *n)
{
    return top_doc(n) || hex_then(n, "/layer.tar");
}

bool stw_member_of_image(const char *n)
{
    if (top_doc(n) || !strcmp(n, "blobs") || !strncmp(n, "blobs/", 6))
        return true;
    return hex_named(n) && (!n[64] || !strcmp(n + 64, ".json") ||
                            !strcmp(n + 64, ".tar") || n[64] == '/');
}

bool stw_member_is_doc(const char *n)
{
    return top_doc(n) || ends_with(n, ".json");
}

bool stw_member_is_blob(const char *n)
{
    return !strncmp(n, "blobs/sha256/", 13) && strlen(n + 13) == 64;
}

bool stw_member_is_layer(const char *n)
{
    return ends_with(n, "/layer.tar") || hex_then(n, ".tar") ||
           stw_member_is_blob(n);
}

bool stw_member_wanted(const char *n, struct archive_entry *e)
{
    return archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0 &&
           (stw_member_is_doc(n) || stw_member_is_layer(n));
}

bool stw_member_holds_doc(const void *first, size_t n, int64_t size)
{
    if (size > STW_MAX_JSON_BYTES)
        return false;
    const unsigned char *c = first;
    for (size_t i = 0; i < n; i++) {
        if (c[i] == ' ' || c[i] == '\n' || c[i] == '\r' || c[i] == '\t')
            continue;
        return c[i] == '{' || c[i] == '[';
    }
    return false;
}

char *stw_member_path(const char *raw)
{
    char *p = stw_strdup(raw ? raw : "");
    if (!p)
        return NULL;
    char *n = stw_layer_normalize_path(p);
    memmove(p, n, strlen(n) + 1);
    return p;
}

stw_status stw_member_resolve_link(const char *name, const char *target,
                                   char **out, stw_error *err)
{
    *out = NULL;
    size_t n = strlen(name) + strlen(target) + 2;
    char *buf = stw_malloc(n), *res = stw_malloc(n);
    if (!buf || !res) {
        free(buf);
        free(res);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    const char *slash = strrchr(name, '/');
    snprintf(buf, n, "%.*s%s%s", slash ? (int)(slash - name) : 0, name,
             slash ? "/" : "", target);
    size_t w = 0;
    bool escaped = false;
    for (char *save = NULL, *c = strtok_r(buf, "/", &save); c;
         c = strtok_r(NULL, "/", &save)) {
        if (!strcmp(c, "."))
            continue;
        if (!strcmp(c, "..")) {
            if (w == 0) {
                escaped = true;
                break;
            }
            while (w > 0 && res[w - 1] != '/')
                w--;
            if (w > 0)
                w--;
            continue;
        }
        if (w)
            res[w++] = '/';
        size_t cl = strlen(c);
        memcpy(res + w, c, cl);
        w += cl;
    }
    res[w] = 0;
    free(buf);
    if (escaped)
        free(res);
    else
        *out = res;
    return STW_OK;
}

bool stw_member_digest_from_path(const char *path, char out[72])
{
    size_t n = strlen(path);
    const char *end = path + n;
    if (n >= 5 && !strcmp(end - 5, "/data"))
        end -= 5;
    if (end - path < 64 || !stw_is_hex64(end - 64))
        return false;
    const char *hex = end - 64;
    if (hex > path && hex[-1] != '/')
        return false;
    snprintf(out, 72, "sha256:%.64s", hex);
    return true;
}
