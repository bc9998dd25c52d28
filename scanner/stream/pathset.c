/* pathset.c - a layer's effect on lower layers (entries, whiteouts, opaque
 * directories) as a sorted array of tagged 64-bit path hashes. */
#include "pathset.h"
#include "common.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define TYPE_MASK 3ull

struct stw_pathset {
    uint64_t *v;
    size_t n, cap;
    bool finished;
};

/* FNV-1a: paths are short and this runs once per tar entry, so a simple,
 * well-spread hash is enough; the low two bits are replaced by the type. */
static uint64_t path_hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h & ~TYPE_MASK;
}

stw_status stw_pathset_create(stw_pathset **out)
{
    *out = stw_calloc(1, sizeof(**out));
    return *out ? STW_OK : STW_ERR_NOMEM;
}

void stw_pathset_destroy(stw_pathset *ps)
{
    if (!ps)
        return;
    free(ps->v);
    free(ps);
}

stw_path_type stw_pathset_classify(const char *path, char *buf, size_t n)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dirlen = slash ? (size_t)(slash - path) : 0;
    if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) != 0)
        return STW_PT_FILE;
    if (strcmp(base, WH_OPAQUE) == 0) {
        if (dirlen + 1 > n)
            return STW_PT_FILE;
        memcpy(buf, path, dirlen);
        buf[dirlen] = 0;
        return STW_PT_OPAQUE;
    }
    const char *name = base + strlen(WH_PREFIX);
    size_t namelen = strlen(name);
    if (namelen == 0 || dirlen + 1 + namelen + 1 > n)
        return STW_PT_FILE;
    size_t off = 0;
    if (slash) {
        memcpy(buf, path, dirlen);
        buf[dirlen] = '/';
        off = dirlen + 1;
    }
    memcpy(buf + off, name, namelen + 1);
    return STW_PT_WHITEOUT;
}

static stw_status push(stw_pathset *ps, uint64_t x)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 256;
        uint64_t *v = stw_realloc(ps->v, cap * sizeof(*v));
        if (!v)
            return STW_ERR_NOMEM;
        ps->v = v;
        ps->cap = cap;
    }
    ps->v[ps->n++] = x;
    return STW_OK;
}

stw_status stw_pathset_add_entry(stw_pathset *ps, const char *path, bool is_dir)
{
    size_t len = strlen(path);
    char *buf = stw_malloc(len + 2);
    if (!buf)
        return STW_ERR_NOMEM;
    stw_path_type t = stw_pathset_classify(path, buf, len + 2);
    stw_status st;
    if (t == STW_PT_FILE)
        st = push(ps, path_hash(path, len) | (is_dir ? STW_PT_DIR : 0));
    else
        st = push(ps, path_hash(buf, strlen(buf)) | t);
    free(buf);
    return st;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void stw_pathset_finish(stw_pathset *ps, const void **blob, size_t *len)
{
    if (!ps->finished) {
        if (ps->n)
            stw_sort(ps->v, ps->n, sizeof(*ps->v), cmp_u64);
        size_t w = 0;
        for (size_t i = 0; i < ps->n; i++)
            if (w == 0 || ps->v[w - 1] != ps->v[i])
                ps->v[w++] = ps->v[i];
        ps->n = w;
        for (size_t i = 0; i < ps->n; i++)
            ps->v[i] = htole64(ps->v[i]);
        ps->finished = true;
    }
    *blob = ps->v;
    *len = ps->n * sizeof(*ps->v);
}

static uint64_t get(const unsigned char *blob, size_t i)
{
    uint64_t x;
    memcpy(&x, blob + i * 8, 8);
    return le64toh(x);
}

/* Bitmask (1 << type) of the entry types the set holds for this path. */
static unsigned types_at(const unsigned char *blob, size_t n, const char *p,
                         size_t plen)
{
    uint64_t h = path_hash(p, plen);
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (get(blob, mid) < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    unsigned mask = 0;
    for (size_t i = lo; i < n; i++) {
        uint64_t x = get(blob, i);
        if ((x & ~TYPE_MASK) != h)
            break;
        mask |= 1u << (x & TYPE_MASK);
    }
    return mask;
}

#define HAS(mask, t) (((mask) >> (t)) & 1u)

bool stw_pathset_hides(const void *blob, size_t len, const char *path,
                       bool is_dir)
{
    size_t n = len / 8;
    if (!blob || n == 0)
        return false;
    const unsigned char *b = blob;
    size_t plen = strlen(path);
    /* A member of an archive ("opt/backup.tar.gz!/etc/shadow") lives and
     * dies with the archive file that holds it. */
    const char *bang = strstr(path, "!/");
    if (bang) {
        plen = (size_t)(bang - path);
        is_dir = false;
    }
    unsigned m = types_at(b, n, path, plen);
    if (HAS(m, STW_PT_WHITEOUT) || HAS(m, STW_PT_FILE))
        return true;
    /* A directory over a directory merges; over a file it replaces it. An
     * opaque marker on the directory itself empties what was below. */
    if (HAS(m, STW_PT_DIR) && !is_dir)
        return true;
    if (HAS(m, STW_PT_OPAQUE) && is_dir)
        return true;
    for (size_t i = plen; i-- > 0;) {
        if (path[i] != '/')
            continue;
        unsigned a = types_at(b, n, path, i);
        if (HAS(a, STW_PT_WHITEOUT) || HAS(a, STW_PT_OPAQUE) ||
            HAS(a, STW_PT_FILE))
            return true;
    }
    return false;
}
