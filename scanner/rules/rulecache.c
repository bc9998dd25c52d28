/* rulecache.c - reading and writing cached vectorscan parts of a rule set
 * (rulecache.h). An entry is one file, dir/rules/<key hex>.hsdb:
 *
 *   magic "STWRULE\n" | u32 format | u32 0 | key[32] | u64 payload length |
 *   sha256(payload)[32] | payload
 *   payload: u32 n_rules, modes[n_rules] | u32 n_path_slots,
 *            path_always[n_path_slots] | 3 x (u64 length, serialised db)
 *
 * integers little-endian. Everything is checked before vectorscan sees a
 * byte: the file is a regular file of this user, writable by no one else,
 * of exactly the length its header declares, whose payload hashes to the
 * header's digest; the counts must then match the rule set (the caller
 * checks the modes). */
#include "rulecache.h"

#include "common.h"
#include "decode.h"
#include "sha256.h"
#include "stowaway/version.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Entries kept: a user has the built-ins plus a few custom sets in use;
 * every entry past these is the least recently used and goes. */
#define STW_RULECACHE_KEEP 8
/* A temporary file older than this belongs to a writer that died. */
#define STW_RULECACHE_STALE_TMP_S 600
/* Bump when rules.c changes what it gives vectorscan or how the parts are
 * laid out, so older entries stop matching. */
/* 2: the content databases end with decode.h's gate patterns. */
#define STW_RULECACHE_FORMAT 2u

static const char magic[8] = {'S', 'T', 'W', 'R', 'U', 'L', 'E', '\n'};
#define HDR_LEN      (8 + 4 + 4 + STW_RULECACHE_KEY_LEN + 8 + STW_SHA256_LEN)
#define ENTRY_SUFFIX ".hsdb"

void stw_hs_parts_free(stw_hs_parts *p)
{
    free(p->modes);
    free(p->path_always);
    hs_free_database(p->content);
    hs_free_database(p->content_path);
    hs_free_database(p->path);
    memset(p, 0, sizeof(*p));
}

/* ---- the key ------------------------------------------------------------ */

/* A string with its length first, so no two lists hash alike; NULL differs
 * from "". */
static void hash_str(stw_sha256 *h, const char *s)
{
    uint64_t n = s ? strlen(s) + 1 : 0;
    stw_sha256_update(h, &n, sizeof(n));
    if (s)
        stw_sha256_update(h, s, n - 1);
}

static void hash_u64(stw_sha256 *h, uint64_t v)
{
    stw_sha256_update(h, &v, sizeof(v));
}

/* What build_path_db reads of an allow rule: whether it is path-only, and
 * its path regex. */
static void hash_allows(stw_sha256 *h, const stw_allow *a, size_t n)
{
    hash_u64(h, n);
    for (size_t i = 0; i < n; i++) {
        hash_u64(h, a[i].re != NULL);
        hash_u64(h, a[i].path_re != NULL);
        hash_str(h, a[i].path_src);
    }
}

stw_status stw_rulecache_key(const stw_rules *rs,
                             unsigned char key[STW_RULECACHE_KEY_LEN],
                             stw_error *err)
{
    stw_sha256 *h;
    stw_status st = stw_sha256_create(&h, err);
    if (st != STW_OK)
        return st;
    hash_str(h, "stowaway rules cache");
    hash_u64(h, STW_RULECACHE_FORMAT);
    hash_str(h, STW_VERSION);
    hash_u64(h, sizeof(void *));
    hash_str(h, hs_version());
    /* hs_compile with no platform builds for this CPU: an entry from a
     * machine with other features (a shared home directory) must miss. */
    hs_platform_info_t plat;
    memset(&plat, 0, sizeof(plat));
    if (hs_populate_platform(&plat) == HS_SUCCESS) {
        hash_u64(h, plat.tune);
        hash_u64(h, plat.cpu_features);
    } else {
        hash_str(h, "no platform");
    }
    hash_u64(h, rs->n_rules);
    for (size_t i = 0; i < rs->n_rules; i++) {
        const stw_rule *r = &rs->rules[i];
        hash_str(h, r->id);
        hash_u64(h, (uint64_t)r->mode);
        hash_str(h, r->regex_src);
        hash_u64(h, r->path_re != NULL);
        hash_str(h, r->path_src);
        hash_u64(h, r->n_keywords);
        for (size_t j = 0; j < r->n_keywords; j++)
            hash_str(h, r->keywords[j]);
        hash_str(h, r->keyword_next);
        hash_allows(h, r->allows, r->n_allows);
    }
    hash_allows(h, rs->allows, rs->n_allows);
    /* The gates are compiled into the content databases after the rules'
     * patterns: a change to them must miss too. */
    hash_u64(h, STW_DECODE_GATES);
    for (size_t g = 0; g < STW_DECODE_GATES; g++)
        hash_str(h, stw_decode_gate_expr[g]);
    st = stw_sha256_final_raw(h, key, err);
    stw_sha256_destroy(h);
    return st;
}

/* ---- paths ------------------------------------------------------------- */

/* dir/rules into out; false when it does not fit. */
static bool rules_dir(const char *dir, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/rules", dir);
    return n > 0 && (size_t)n < cap;
}

static bool entry_path(const char *dir,
                       const unsigned char key[STW_RULECACHE_KEY_LEN],
                       char *out, size_t cap)
{
    char hex[2 * STW_RULECACHE_KEY_LEN + 1];
    stw_hex(key, STW_RULECACHE_KEY_LEN, hex);
    int n = snprintf(out, cap, "%s/rules/%s" ENTRY_SUFFIX, dir, hex);
    return n > 0 && (size_t)n < cap;
}

/* "what: reason" into why (why_len bytes; nothing when 0). The reason is
 * errno e's text, or text when e is 0. */
static void say(char *why, size_t why_len, const char *what, int e,
                const char *text)
{
    char eb[128];
    if (why_len)
        snprintf(why, why_len, "%s: %s", what,
                 e ? stw_strerror(e, eb, sizeof(eb)) : text);
}

/* ---- little-endian fields ---------------------------------------------- */

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* The payload's checksum into md; false when hashing failed (memory). */
static bool payload_sum(const unsigned char *p, size_t n,
                        unsigned char md[STW_SHA256_LEN])
{
    stw_error ignored;
    stw_sha256 *h;
    if (stw_sha256_create(&h, &ignored) != STW_OK)
        return false;
    stw_sha256_update(h, p, n);
    bool ok = stw_sha256_final_raw(h, md, &ignored) == STW_OK;
    stw_sha256_destroy(h);
    return ok;
}

/* A cursor over the payload: every take is bounds-checked. */
typedef struct cursor {
    const unsigned char *p;
    size_t left;
} cursor;

static const unsigned char *take(cursor *c, size_t n)
{
    if (n > c->left)
        return NULL;
    const unsigned char *at = c->p;
    c->p += n;
    c->left -= n;
    return at;
}

/* n bytes of c copied into *out (NULL when n is 0). */
static bool take_bytes(cursor *c, size_t n, unsigned char **out)
{
    const unsigned char *at = take(c, n);
    if (!at)
        return false;
    if (n == 0)
        return true;
    if (!(*out = stw_malloc(n)))
        return false;
    memcpy(*out, at, n);
    return true;
}

static bool take_db(cursor *c, hs_database_t **out)
{
    const unsigned char *lp = take(c, 8);
    if (!lp)
        return false;
    uint64_t n = get_u64(lp);
    if (n == 0)
        return true;
    const unsigned char *at = n <= c->left ? take(c, (size_t)n) : NULL;
    if (!at)
        return false;
    /* vectorscan checks its own header (version, platform, CRC) too. */
    return hs_deserialize_database((const char *)at, (size_t)n, out) ==
           HS_SUCCESS;
}

/* ---- loading ----------------------------------------------------------- */

/* The whole file behind fd, when its size is what stat said: at most
 * HDR_LEN + max_bytes. */
static unsigned char *read_all(int fd, size_t size)
{
    unsigned char *buf = stw_malloc(size ? size : 1);
    size_t got = 0;
    while (buf && got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(buf);
            return NULL;
        }
        got += (size_t)n;
    }
    return buf;
}

static bool parse_payload(const unsigned char *p, size_t n, stw_hs_parts *out)
{
    cursor c = {p, n};
    const unsigned char *f;
    if (!(f = take(&c, 4)))
        return false;
    out->n_rules = get_u32(f);
    if (!take_bytes(&c, out->n_rules, &out->modes))
        return false;
    if (!(f = take(&c, 4)))
        return false;
    out->n_path_slots = get_u32(f);
    if (!take_bytes(&c, out->n_path_slots, &out->path_always))
        return false;
    return take_db(&c, &out->content) && take_db(&c, &out->content_path) &&
           take_db(&c, &out->path) && c.left == 0;
}

bool stw_rulecache_load(const char *dir,
                        const unsigned char key[STW_RULECACHE_KEY_LEN],
                        size_t max_bytes, stw_hs_parts *out, char *why,
                        size_t why_len)
{
    memset(out, 0, sizeof(*out));
    if (why_len)
        why[0] = 0;
    char path[4096];
    if (!entry_path(dir, key, path, sizeof(path)))
        return false;
    /* No symlink followed, no FIFO waited on. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            say(why, why_len, path, errno, NULL);
        return false;
    }
    struct stat sb;
    unsigned char *buf = NULL;
    const char *bad = NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        bad = "not a regular file";
    else if (sb.st_uid != geteuid() || (sb.st_mode & 022))
        bad = "owned by another user or writable by others";
    else if ((uint64_t)sb.st_size < HDR_LEN ||
             (uint64_t)sb.st_size - HDR_LEN > max_bytes)
        bad = "bad size";
    else if (!(buf = read_all(fd, (size_t)sb.st_size)))
        bad = "unreadable";
    close(fd);
    if (!bad) {
        const unsigned char *k = buf + 16, *len = k + STW_RULECACHE_KEY_LEN;
        const unsigned char *sum = len + 8, *payload = buf + HDR_LEN;
        size_t n = (size_t)sb.st_size - HDR_LEN;
        unsigned char md[STW_SHA256_LEN];
        if (memcmp(buf, magic, sizeof(magic)) != 0 ||
            get_u32(buf + 8) != STW_RULECACHE_FORMAT || get_u32(buf + 12) != 0)
            bad = "not a cache entry of this version";
        else if (memcmp(k, key, STW_RULECACHE_KEY_LEN) != 0)
            bad = "key mismatch";
        else if (get_u64(len) != n)
            bad = "length mismatch";
        else if (!payload_sum(payload, n, md))
            bad = "out of memory";
        else if (memcmp(md, sum, sizeof(md)) != 0)
            bad = "checksum mismatch";
        else if (!parse_payload(payload, n, out))
            bad = "damaged payload";
    }
    free(buf);
    if (bad) {
        say(why, why_len, path, 0, bad);
        stw_hs_parts_free(out);
        return false;
    }
    /* The entry was used: it is the most recent for pruning. */
    utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW);
    return true;
}

/* ---- storing ----------------------------------------------------------- */

/* Makes dir (one level) mode 0700 if missing. With strict, an existing
 * one must be a directory of this user that nobody else may write, not a
 * symlink: rules/, where entries are made. The caller's directory only
 * has to be a directory (it may be reached through a symlink, like a
 * ~/.cache on another disk); what is read from it is checked anyway. */
static bool own_dir(const char *dir, bool strict, char *why, size_t why_len)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        say(why, why_len, dir, errno, NULL);
        return false;
    }
    struct stat sb;
    if ((strict ? lstat(dir, &sb) : stat(dir, &sb)) != 0) {
        say(why, why_len, dir, errno, NULL);
        return false;
    }
    if (!S_ISDIR(sb.st_mode) ||
        (strict && (sb.st_uid != geteuid() || (sb.st_mode & 022)))) {
        say(why, why_len, dir, 0,
            strict ? "not a directory of this user closed to others"
                   : "not a directory");
        return false;
    }
    return true;
}

typedef struct entry_age {
    char name[2 * STW_RULECACHE_KEY_LEN + sizeof(ENTRY_SUFFIX) + 1];
    struct timespec mtime;
} entry_age;

static int newer_first(const void *a, const void *b)
{
    const struct timespec *x = &((const entry_age *)a)->mtime;
    const struct timespec *y = &((const entry_age *)b)->mtime;
    if (x->tv_sec != y->tv_sec)
        return x->tv_sec < y->tv_sec ? 1 : -1;
    return x->tv_nsec < y->tv_nsec ? 1 : x->tv_nsec > y->tv_nsec ? -1 : 0;
}

static bool is_entry_name(const char *s)
{
    size_t n = strlen(s), sl = strlen(ENTRY_SUFFIX);
    return n == 2 * STW_RULECACHE_KEY_LEN + sl &&
           strcmp(s + n - sl, ENTRY_SUFFIX) == 0 &&
           strspn(s, "0123456789abcdef") == 2 * STW_RULECACHE_KEY_LEN;
}

/* Keeps the STW_RULECACHE_KEEP most recently used entries of rdir and
 * removes the rest, and temporary files of writers that died. Only names
 * this code writes are touched. Best effort. */
static void prune(const char *rdir)
{
    int dfd = open(rdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    entry_age *v = NULL;
    size_t n = 0, cap = 0;
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat sb;
        bool entry = is_entry_name(de->d_name);
        bool tmp = de->d_name[0] == '.' && strncmp(de->d_name, ".tmp-", 5) == 0;
        if ((!entry && !tmp) ||
            fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(sb.st_mode))
            continue;
        if (tmp) {
            if (now - sb.st_mtime > STW_RULECACHE_STALE_TMP_S)
                unlinkat(dfd, de->d_name, 0);
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            entry_age *nv = stw_realloc(v, nc * sizeof(*nv));
            if (!nv)
                break;
            v = nv;
            cap = nc;
        }
        snprintf(v[n].name, sizeof(v[n].name), "%s", de->d_name);
        v[n++].mtime = sb.st_mtim;
    }
    stw_sort(v, n, sizeof(*v), newer_first);
    for (size_t i = STW_RULECACHE_KEEP; i < n; i++)
        unlinkat(dfd, v[i].name, 0);
    free(v);
    closedir(d);
}

static bool write_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

/* Serialises db into *out, *len (NULL, 0 for none); false on failure. */
static bool serialise(const hs_database_t *db, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    return !db || hs_serialize_database(db, out, len) == HS_SUCCESS;
}

/* The payload of p, malloc'd into *out. */
static bool build_payload(const stw_hs_parts *p, unsigned char **out,
                          size_t *len)
{
    const hs_database_t *dbs[3] = {p->content, p->content_path, p->path};
    char *ser[3] = {NULL, NULL, NULL};
    size_t sl[3] = {0, 0, 0};
    bool ok = p->n_rules <= UINT32_MAX && p->n_path_slots <= UINT32_MAX;
    for (int i = 0; ok && i < 3; i++)
        ok = serialise(dbs[i], &ser[i], &sl[i]);
    size_t n =
        4 + p->n_rules + 4 + p->n_path_slots + 3 * 8 + sl[0] + sl[1] + sl[2];
    unsigned char *b = ok ? stw_malloc(n) : NULL, *w = b;
    if (b) {
        put_u32(w, (uint32_t)p->n_rules);
        w += 4;
        if (p->n_rules)
            memcpy(w, p->modes, p->n_rules);
        w += p->n_rules;
        put_u32(w, (uint32_t)p->n_path_slots);
        w += 4;
        if (p->n_path_slots)
            memcpy(w, p->path_always, p->n_path_slots);
        w += p->n_path_slots;
        for (int i = 0; i < 3; i++) {
            put_u64(w, sl[i]);
            w += 8;
            if (sl[i])
                memcpy(w, ser[i], sl[i]);
            w += sl[i];
        }
    }
    for (int i = 0; i < 3; i++)
        free(ser[i]);
    *out = b;
    *len = n;
    return b != NULL;
}

bool stw_rulecache_store(const char *dir,
                         const unsigned char key[STW_RULECACHE_KEY_LEN],
                         const stw_hs_parts *p, char *why, size_t why_len)
{
    if (why_len)
        why[0] = 0;
    char rdir[4096], path[4096], tmp[4096 + 16];
    if (!rules_dir(dir, rdir, sizeof(rdir)) ||
        !entry_path(dir, key, path, sizeof(path))) {
        say(why, why_len, dir, 0, "path too long");
        return false;
    }
    if (!own_dir(dir, false, why, why_len) ||
        !own_dir(rdir, true, why, why_len))
        return false;
    unsigned char *payload = NULL, hdr[HDR_LEN];
    size_t n = 0;
    if (!build_payload(p, &payload, &n) ||
        !payload_sum(payload, n, hdr + 24 + STW_RULECACHE_KEY_LEN)) {
        free(payload);
        say(why, why_len, rdir, 0, "out of memory, or serialisation failed");
        return false;
    }
    memcpy(hdr, magic, sizeof(magic));
    put_u32(hdr + 8, STW_RULECACHE_FORMAT);
    put_u32(hdr + 12, 0);
    memcpy(hdr + 16, key, STW_RULECACHE_KEY_LEN);
    put_u64(hdr + 16 + STW_RULECACHE_KEY_LEN, n);
    snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", rdir);
    int fd = mkstemp(tmp); /* mode 0600 */
    int e = errno;
    bool ok = false;
    if (fd >= 0) {
        ok = write_all(fd, hdr, sizeof(hdr)) && write_all(fd, payload, n);
        e = errno;
        ok = close(fd) == 0 && ok;
        /* rename replaces a file or a symlink, never follows one; it fails
         * on a directory in the way, which then stays a miss. */
        if (ok && rename(tmp, path) != 0) {
            e = errno;
            ok = false;
        }
        if (!ok)
            unlink(tmp);
    }
    free(payload);
    if (!ok) {
        say(why, why_len, fd >= 0 ? path : rdir, e, "write failed");
        return false;
    }
    prune(rdir);
    return true;
}
