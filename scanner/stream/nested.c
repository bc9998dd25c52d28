/* nested.c - archives and compressed files inside layer files (nested.h). */
#include "nested.h"

#include "common.h"
#include "gunzip.h"
#include "layer.h"
#include "limits.h"
#include "sha256.h"
#include "validate.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <lzma.h>
#include <unistd.h>
#include <zstd.h>

stw_nest_kind stw_nested_sniff(const void *p, size_t n)
{
    const unsigned char *b = p;
    if (n >= 4 && !memcmp(b, "PK\x03\x04", 4))
        return STW_NEST_ZIP;
    if (n >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8)
        return STW_NEST_GZIP;
    if (n >= 4 && !memcmp(b, "\x28\xb5\x2f\xfd", 4))
        return STW_NEST_ZSTD;
    if (n >= 6 && !memcmp(b,
                          "\xfd"
                          "7zXZ\0",
                          6))
        return STW_NEST_XZ;
    /* "BZh" + block size digit + the block magic (pi in BCD): three bytes
     * alone are too common in text to open everything that starts so. */
    if (n >= 10 && !memcmp(b, "BZh", 3) && b[3] >= '1' && b[3] <= '9' &&
        !memcmp(b + 4, "\x31\x41\x59\x26\x53\x59", 6))
        return STW_NEST_BZIP2;
    if (n >= 263 && !memcmp(b + 257, "ustar", 5) &&
        (b[262] == 0 || b[262] == ' '))
        return STW_NEST_TAR;
    /* A .deb, not any ar archive: a static library's members are object
     * files, scanned as well whole. */
    if (n >= 21 && !memcmp(b, "!<arch>\ndebian-binary", 21))
        return STW_NEST_DEB;
    if (n >= 6 && !memcmp(b, "7z\xbc\xaf\x27\x1c", 6))
        return STW_NEST_7Z;
    return STW_NEST_NONE;
}

/* ---- the spool: a file's bytes kept for random access ------------------- */

typedef struct spool {
    unsigned char *mem;
    size_t len, cap;
    int fd; /* -1 while in memory */
    uint64_t size;
    stw_sha256 *sha;
} spool;

static void spool_clear(spool *s)
{
    free(s->mem);
    if (s->fd >= 0)
        close(s->fd);
    stw_sha256_destroy(s->sha);
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}

/* An unlinked file in $TMPDIR (or /tmp): gone when closed, whatever the
 * exit path, and never visible under a name another process could open. */
static stw_status spool_spill(spool *s, stw_error *err)
{
    const char *dir = getenv("TMPDIR");
    char tmpl[STW_MAX_PATH];
    snprintf(tmpl, sizeof(tmpl), "%s/stowaway-nested-XXXXXX",
             dir && *dir ? dir : "/tmp");
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        char eb[128];
        return stw_fail(
            err, STW_ERR_IO, "cannot create a temporary file in %s: %s",
            dir && *dir ? dir : "/tmp", stw_strerror(errno, eb, sizeof(eb)));
    }
    unlink(tmpl);
    s->fd = fd;
    return STW_OK;
}

static stw_status write_all(int fd, const void *p, size_t n, stw_error *err)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            char eb[128];
            return stw_fail(
                err, STW_ERR_IO, "temporary file: %s",
                stw_strerror(w < 0 ? errno : ENOSPC, eb, sizeof(eb)));
        }
        c += w;
        n -= (size_t)w;
    }
    return STW_OK;
}

/* Bytes in memory are hashed only at the end, and only for an archive big
 * enough for the cache: most spooled archives are small (a man page's
 * .gz) and never looked up. What goes to a file is hashed on the way. */
static stw_status spool_write(spool *s, const void *p, size_t n, stw_error *err)
{
    s->size += n;
    if (s->fd < 0 && s->len + n > STW_NESTED_MEM_MAX) {
        stw_sha256_update(s->sha, s->mem, s->len);
        stw_status st = spool_spill(s, err);
        if (st == STW_OK)
            st = write_all(s->fd, s->mem, s->len, err);
        free(s->mem);
        s->mem = NULL;
        s->len = s->cap = 0;
        if (st != STW_OK)
            return st;
    }
    if (s->fd >= 0) {
        stw_sha256_update(s->sha, p, n);
        return write_all(s->fd, p, n, err);
    }
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 64u << 10;
        while (cap < s->len + n)
            cap *= 2;
        unsigned char *m = stw_realloc(s->mem, cap);
        if (!m)
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        s->mem = m;
        s->cap = cap;
    }
    memcpy(s->mem + s->len, p, n);
    s->len += n;
    return STW_OK;
}

/* The spool's bytes from offset from (at most its size) to its end, as a
 * stw_read_fn: the memory in one piece, a file in pieces of
 * SPOOL_READ_CHUNK read into buf (init seeks the file; one reader of a
 * spool at a time). */
#define SPOOL_READ_CHUNK (256u << 10)

static stw_status spool_seek(const spool *sp, const char *path, uint64_t off,
                             stw_error *err)
{
    if (sp->fd >= 0 && lseek(sp->fd, (off_t)off, SEEK_SET) < 0)
        return stw_fail(err, STW_ERR_IO, "%s: temporary file: seek failed",
                        path);
    return STW_OK;
}

typedef struct spool_reader {
    const spool *sp;
    const char *path; /* for messages, borrowed */
    uint64_t from;    /* where the next read starts */
    uint64_t end;     /* where reading stops: the spool's end, or less */
    unsigned char *buf;
    bool done;
} spool_reader;

static stw_status spool_reader_init(spool_reader *r, const spool *sp,
                                    const char *path, uint64_t from,
                                    stw_error *err)
{
    *r = (spool_reader){.sp = sp,
                        .path = path,
                        .from = from,
                        .end = sp->fd < 0 ? sp->len : sp->size};
    if (sp->fd < 0)
        return STW_OK;
    stw_status st = spool_seek(sp, path, from, err);
    if (st != STW_OK)
        return st;
    if (!(r->buf = stw_malloc(SPOOL_READ_CHUNK)))
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    return STW_OK;
}

static stw_status spool_read(void *ctx, const void **buf, size_t *len,
                             stw_error *err)
{
    spool_reader *r = ctx;
    *len = 0;
    if (r->sp->fd < 0) {
        *buf = r->sp->mem + r->from;
        *len = r->done || r->from >= r->end ? 0 : (size_t)(r->end - r->from);
        r->done = true;
        return STW_OK;
    }
    if (r->from >= r->end)
        return STW_OK;
    size_t want = SPOOL_READ_CHUNK;
    if (r->end - r->from < want)
        want = (size_t)(r->end - r->from);
    for (;;) {
        ssize_t got = read(r->sp->fd, r->buf, want);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return stw_fail(err, STW_ERR_IO, "%s: temporary file: read failed",
                            r->path);
        *buf = r->buf;
        *len = (size_t)got;
        r->from += (uint64_t)got;
        return STW_OK;
    }
}

/* ---- the walk ----------------------------------------------------------- */

struct stw_nested {
    stw_nested_sink sink;
    stw_nested_limits lim;
    /* Budget of the current outer file. */
    uint64_t outer_size;
    uint64_t bytes;    /* decompressed out of archives so far */
    uint64_t inflated; /* out of gzip streams, members or not */
    uint64_t members;  /* archive members seen so far */
    bool stopped;      /* a bound was reached: unwind, scan nothing more */
    /* Members skipped for want of a readable name in the current outer
     * file: one note for all of them when its walk ends (a zip of 160
     * such names is one line, not 160). */
    uint64_t unnamed;
    /* The deepest archive opened (or replayed, with the levels of its
     * result) in the current walk_spooled, and the archives left unopened
     * for --max-depth, ever: either makes a walk's result depend on the
     * depth it was walked at. */
    unsigned deepest;
    uint64_t depth_cut;
    const char *outer;
    uint64_t noted; /* notes made, ever: an archive whose walk made one is
                       not cached (walk_spooled) */
    /* The first note the sink could not keep in this outer file: where a
     * bound's note is made the walk only stops, so the failure is
     * returned when the walk ends rather than lost. */
    stw_status note_failed;
    /* A compressed stream that libarchive's tar reader took for a tar but
     * that gave no member (it starts with zero blocks: an ISO or disk
     * image) is walked again as one raw member: raw_only asks the next
     * walk_archive for that, tar_gave_nothing says a walk needs it. */
    bool raw_only, tar_gave_nothing;
};

stw_status stw_nested_create(const stw_nested_sink *sink,
                             const stw_nested_limits *lim, stw_nested **out,
                             stw_error *err)
{
    stw_nested *n = stw_calloc(1, sizeof(*n));
    if (!n)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    n->sink = *sink;
    if (lim)
        n->lim = *lim;
    if (!n->lim.max_depth)
        n->lim.max_depth = STW_NESTED_MAX_DEPTH;
    if (!n->lim.max_bytes)
        n->lim.max_bytes = STW_NESTED_MAX_BYTES;
    if (!(n->lim.max_ratio > 0))
        n->lim.max_ratio = STW_NESTED_MAX_RATIO;
    if (!n->lim.max_members)
        n->lim.max_members = STW_NESTED_MAX_MEMBERS;
    *out = n;
    return STW_OK;
}

void stw_nested_destroy(stw_nested *n)
{
    free(n);
}

static stw_status note(stw_nested *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static stw_status note(stw_nested *n, const char *fmt, ...)
{
    char msg[STW_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    n->noted++;
    stw_status st = n->sink.note ? n->sink.note(n->sink.ctx, msg) : STW_OK;
    if (st != STW_OK && n->note_failed == STW_OK)
        n->note_failed = st;
    return st;
}

/* Reading the current member of an archive, as a stw_read_fn: every byte
 * counts against the outer file's budget; a bound or a damaged member ends
 * the member (len 0) and is remembered, so the caller's loop stays simple
 * and the archive's own failure is a note, not the layer's. */
typedef struct member_reader {
    stw_nested *n;
    struct archive *a;
    const char *path;
    bool damaged;
    char why[256];
} member_reader;

static void note_byte_bound(stw_nested *n, uint64_t bytes)
{
    note(n,
         "%s: nested archives: stopped after %llu bytes decompressed "
         "(limit %llu, --max-nested-bytes); what was read before is "
         "scanned",
         n->outer, (unsigned long long)bytes,
         (unsigned long long)n->lim.max_bytes);
}

static bool over_budget(stw_nested *n)
{
    if (n->bytes > n->lim.max_bytes) {
        note_byte_bound(n, n->bytes);
        return true;
    }
    if (n->bytes > STW_RATIO_GRACE &&
        (double)n->bytes > n->lim.max_ratio * (double)(n->outer_size + 1)) {
        note(n,
             "%s: nested archives: stopped at a decompression ratio above "
             "%g (a decompression bomb?); what was read before is scanned",
             n->outer, n->lim.max_ratio);
        return true;
    }
    return false;
}

/* What can still be read before over_budget, gz_count or the member
 * count stops the walk: a result replayed within it reaches no bound, as
 * its walk would not have. */
static stw_nested_cost budget_left(const stw_nested *n)
{
    stw_nested_cost c = {0};
    uint64_t cap = n->lim.max_bytes;
    double by_ratio = n->lim.max_ratio * (double)(n->outer_size + 1);
    /* Below 2^53 a whole number converts exactly, so bytes up to its
     * floor pass over_budget's ratio test. */
    uint64_t ratio_cap =
        by_ratio < 9007199254740992.0 ? (uint64_t)by_ratio : UINT64_MAX;
    if (ratio_cap < STW_RATIO_GRACE)
        ratio_cap = STW_RATIO_GRACE;
    if (ratio_cap < cap)
        cap = ratio_cap;
    if (n->bytes < cap)
        c.bytes = cap - n->bytes;
    uint64_t icap = n->lim.max_bytes + STW_RATIO_GRACE;
    if (n->inflated < icap)
        c.inflated = icap - n->inflated;
    if (n->members < n->lim.max_members)
        c.members = n->lim.max_members - n->members;
    return c;
}

/* budget_left for the archive at depth: and how many levels below it
 * --max-depth lets open (a member at depth + k is opened when depth + k <
 * max_depth). */
static stw_nested_cost room_at(const stw_nested *n, unsigned depth)
{
    stw_nested_cost c = budget_left(n);
    c.levels = n->lim.max_depth > depth + 1 ? n->lim.max_depth - 1 - depth : 0;
    return c;
}

static stw_status member_read(void *ctx, const void **buf, size_t *len,
                              stw_error *err)
{
    (void)err;
    member_reader *r = ctx;
    *len = 0;
    if (r->n->stopped || r->damaged)
        return STW_OK;
    la_int64_t off;
    int rc = archive_read_data_block(r->a, buf, len, &off);
    if (rc == ARCHIVE_EOF) {
        *len = 0;
        return STW_OK;
    }
    if (rc < ARCHIVE_WARN) {
        /* A bound reached inside gz_read was noted there. */
        if (r->n->stopped)
            return STW_OK;
        const char *m = archive_error_string(r->a);
        snprintf(r->why, sizeof(r->why), "%s", m ? m : "unreadable member");
        r->damaged = true;
        *len = 0;
        return STW_OK;
    }
    r->n->bytes += *len;
    if (over_budget(r->n)) {
        r->n->stopped = true;
        *len = 0;
    }
    return STW_OK;
}

static stw_status scan_file(stw_nested *n, const char *path, uint64_t size,
                            unsigned depth, bool want_raw, stw_read_fn fn,
                            void *ctx, stw_error *err);

struct head;
typedef stw_status (*piece_fn)(void *octx, const void *p, size_t n,
                               stw_error *err);
static stw_status drain(const struct head *h, stw_read_fn fn, void *ctx,
                        piece_fn out, void *octx, stw_error *err);

/* The name a single compressed stream's content gets in the chain: the
 * file's own name without its compression suffix ("app.log.gz" ->
 * "app.log"), or the name as is when it has none. */
static void stream_name(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    snprintf(out, cap, "%s", base);
    static const char *const sfx[] = {".gz", ".tgz", ".zst", ".zstd",
                                      ".xz", ".bz2", ".z"};
    size_t l = strlen(out);
    for (size_t i = 0; i < STW_ARRAY_LEN(sfx); i++) {
        size_t k = strlen(sfx[i]);
        if (l > k && !strcasecmp(out + l - k, sfx[i])) {
            if (!strcmp(sfx[i], ".tgz"))
                snprintf(out + l - k, cap - (l - k), ".tar");
            else
                out[l - k] = 0;
            return;
        }
    }
}

static const char *kind_name(stw_nest_kind kind)
{
    switch (kind) {
    case STW_NEST_ZIP:
        return "a zip";
    case STW_NEST_TAR:
        return "a tar";
    case STW_NEST_GZIP:
        return "gzip";
    case STW_NEST_ZSTD:
        return "zstd";
    case STW_NEST_XZ:
        return "xz";
    case STW_NEST_BZIP2:
        return "bzip2";
    case STW_NEST_DEB:
        return "a Debian package";
    case STW_NEST_7Z:
        return "a 7-Zip archive";
    default:
        return "an archive";
    }
}

static struct archive *reader_for(stw_nest_kind kind, bool raw_only)
{
    struct archive *a = archive_read_new();
    if (!a)
        return NULL;
    switch (kind) {
    case STW_NEST_ZIP:
        archive_read_support_format_zip(a);
        break;
    case STW_NEST_TAR:
        archive_read_support_format_tar(a);
        break;
    case STW_NEST_DEB:
        archive_read_support_format_ar(a);
        break;
    case STW_NEST_7Z:
        archive_read_support_format_7zip(a);
        break;
    default:
        /* A gzip stream reaches libarchive inflated (gz_read), so gzip is
         * no filter of its own; the others are. */
        if (kind != STW_NEST_GZIP)
            archive_read_support_filter_gzip(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_xz(a);
        archive_read_support_filter_bzip2(a);
        if (!raw_only)
            archive_read_support_format_tar(a);
        archive_read_support_format_raw(a);
        break;
    }
    return a;
}

static stw_status member_path(stw_nested *n, struct archive *a,
                              struct archive_entry *e, const char *apath,
                              char *name, bool raw_format, unsigned depth,
                              bool *damaged, stw_error *err);

/* One member of an open archive: its path in the chain, the per-entry
 * detectors, and its content (recursing when it is an archive itself). */
static stw_status scan_member(stw_nested *n, struct archive *a,
                              struct archive_entry *e, const char *apath,
                              bool raw_format, unsigned depth, bool *damaged,
                              stw_error *err)
{
    const char *raw = archive_entry_pathname(e);
    if (!raw && !raw_format)
        raw = archive_entry_pathname_utf8(e);
    if (!raw_format && !raw) {
        n->unnamed++; /* noted once the outer file ends (described) */
        return STW_OK;
    }
    if (!raw_format && strlen(raw) > STW_MAX_ENTRY_PATH)
        return note(n, "%.300s: a member with a name over 64 KiB was skipped",
                    apath);
    size_t cap = raw_format ? strlen(apath) + 1 : strlen(raw) + 1;
    char *name = stw_malloc(cap);
    if (!name)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    if (raw_format)
        stream_name(apath, name, cap);
    else
        memcpy(name, raw, cap);
    stw_status st =
        member_path(n, a, e, apath, name, raw_format, depth, damaged, err);
    free(name);
    return st;
}

/* scan_member's second half, once the member's own name is in name. */
static stw_status member_path(stw_nested *n, struct archive *a,
                              struct archive_entry *e, const char *apath,
                              char *name, bool raw_format, unsigned depth,
                              bool *damaged, stw_error *err)
{
    char *rel = raw_format ? name : stw_layer_normalize_path(name);
    if (!*rel)
        return STW_OK;
    size_t alen = strlen(apath), rlen = strlen(rel);
    size_t plen = alen + 2 + rlen + 1;
    if (plen > STW_MAX_CHAIN_PATH)
        return note(n,
                    "%.200s...: a member whose path through archives is "
                    "over %u bytes was skipped",
                    apath, STW_MAX_CHAIN_PATH);
    char *path = stw_malloc(plen);
    if (!path)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    memcpy(path, apath, alen);
    memcpy(path + alen, "!/", 2);
    memcpy(path + alen + 2, rel, rlen + 1);
    /* A member whose own name holds "!/" puts its findings where those of
     * an archive at the part before would be: that one is not kept. */
    stw_status hst = STW_OK;
    for (char *b = strstr(path + alen + 2, "!/");
         hst == STW_OK && b && n->sink.scanned; b = strstr(b + 2, "!/")) {
        stw_nested_cost none = {0};
        *b = 0;
        hst = n->sink.scanned(n->sink.ctx, NULL, path, 0, &none, false, err);
        *b = '!';
    }
    if (hst != STW_OK) {
        free(path);
        return hst;
    }
    unsigned type = raw_format ? AE_IFREG : archive_entry_filetype(e);
    int64_t dsize = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
    uint64_t size = dsize > 0 ? (uint64_t)dsize : 0;
    bool want_raw = false;
    stw_status st = STW_OK;
    if (n->sink.entry && !raw_format)
        st = n->sink.entry(n->sink.ctx, path, type == AE_IFDIR,
                           type == AE_IFREG, size, &want_raw);
    if (st == STW_OK && type == AE_IFREG) {
        member_reader r = {.n = n, .a = a, .path = path};
        st = scan_file(n, path, size, depth, want_raw, member_read, &r, err);
        if (st == STW_OK && r.damaged) {
            *damaged = true;
            st = note(n, "%s: damaged archive member: %s", path, r.why);
        }
    }
    free(path);
    return st;
}

/* A gzip archive's stream as libarchive reads it: inflated by ISA-L (about
 * twice zlib's speed) from the spool, so libarchive parses the tar or raw
 * format of the result without a gzip filter. */
typedef struct gz_source {
    stw_nested *n;
    spool_reader in;
    stw_gunzip *g;
    char why[STW_ERROR_MAX]; /* the gzip stream's own failure, if any */
    uint64_t out;            /* bytes the stream inflated to so far */
    uint64_t nonzero_end;    /* just past the last of them that is not 0 */
    bool raw_only;           /* the walk reads one raw member, no tar */
} gz_source;

/* Notes where the inflated bytes stop being zeros: what a tar inside the
 * stream leaves after its end is padding when it is zeros alone. */
static void gz_seen(gz_source *s, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    size_t i = len;
    while (i > 0 && p[i - 1] == 0)
        i--;
    if (i)
        s->nonzero_end = s->out + i;
    s->out += len;
}

/* Counts len more bytes out of a gzip stream against the outer file's
 * budget; true once the walk is stopped. Members count against the byte
 * bound as they are read; this bounds what they never see (the data of
 * members that are skipped, tar headers, the stream after the archive's
 * end), which inflates all the same. Past the members' own bound and then
 * some, so it never fires first for what they do see. */
static bool gz_count(stw_nested *n, size_t len)
{
    n->inflated += len;
    if (!n->stopped && n->inflated > n->lim.max_bytes + STW_RATIO_GRACE) {
        n->stopped = true;
        note_byte_bound(n, n->inflated);
    }
    return n->stopped;
}

static la_ssize_t gz_read(struct archive *a, void *ctx, const void **buf)
{
    gz_source *s = ctx;
    stw_nested *n = s->n;
    size_t len = 0;
    stw_error e = {0};
    if (stw_gunzip_read(s->g, buf, &len, &e) != STW_OK) {
        /* Kept: libarchive may report its own failure instead ("Unrecognized
         * archive format" when a format's bid read into it). */
        snprintf(s->why, sizeof(s->why), "%s", e.msg);
        archive_set_error(a, EILSEQ, "%s", e.msg);
        return ARCHIVE_FATAL;
    }
    gz_seen(s, *buf, len);
    if (gz_count(n, len)) {
        archive_set_error(a, EFBIG, "nested byte bound reached");
        return ARCHIVE_FATAL;
    }
    return (la_ssize_t)len;
}

/* The spool's first bytes up to a reader's end, for libarchive. */
static la_ssize_t limited_read(struct archive *a, void *ctx, const void **buf)
{
    size_t len = 0;
    stw_error e = {0};
    if (spool_read(ctx, buf, &len, &e) != STW_OK) {
        archive_set_error(a, EIO, "%s", e.msg);
        return ARCHIVE_FATAL;
    }
    return (la_ssize_t)len;
}

/* Opens the spool with a (reader_for(kind)), its first limit bytes only;
 * gz is set up for a gzip stream, or for the limit, and released by the
 * caller with gz_source_free. Returns libarchive's status of the open in
 * *rc, or a failure of ours. */
static stw_status open_spool(struct archive *a, spool *sp, stw_nest_kind kind,
                             const char *path, uint64_t limit, gz_source *gz,
                             int *rc, stw_error *err)
{
    if (kind != STW_NEST_GZIP && limit < sp->size) {
        stw_status st = spool_reader_init(&gz->in, sp, path, 0, err);
        if (st != STW_OK)
            return st;
        gz->in.end = limit;
        *rc = archive_read_open(a, &gz->in, NULL, limited_read, NULL);
    } else if (kind == STW_NEST_GZIP) {
        stw_status st = spool_reader_init(&gz->in, sp, path, 0, err);
        if (st == STW_OK)
            st = stw_gunzip_create(spool_read, &gz->in, &gz->g, err);
        if (st != STW_OK)
            return st;
        *rc = archive_read_open(a, gz, NULL, gz_read, NULL);
    } else if (sp->fd >= 0) {
        stw_status st = spool_seek(sp, path, 0, err);
        if (st != STW_OK)
            return st;
        *rc = archive_read_open_fd(a, sp->fd, 64u << 10);
    } else {
        *rc = archive_read_open_memory(a, sp->mem, sp->len);
    }
    return STW_OK;
}

static void gz_source_free(gz_source *gz)
{
    stw_gunzip_destroy(gz->g);
    free(gz->in.buf);
}

/* Whether a reads a compressed stream of the layer file as a tar. */
static bool tar_in_stream(struct archive *a, stw_nest_kind kind)
{
    return kind != STW_NEST_ZIP && kind != STW_NEST_TAR &&
           (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR;
}

static stw_status walk_members(stw_nested *n, struct archive *a,
                               stw_nest_kind kind, const char *path,
                               unsigned depth, const gz_source *gz,
                               bool *opened, bool *complete, stw_error *err);
static stw_status gz_check_end(stw_nested *n, gz_source *gz, const char *path,
                               bool *complete);
static stw_status scan_trailer(stw_nested *n, spool *sp, const char *path,
                               uint64_t off, const char *what, bool *complete,
                               stw_error *err);
static stw_status scan_gz_tail(stw_nested *n, spool *sp, const char *path,
                               uint64_t from, uint64_t len, bool *complete,
                               stw_error *err);
static stw_status stream_end(const stw_nested *n, const spool *sp,
                             stw_nest_kind kind, const char *path,
                             uint64_t *end, stw_error *err);

/* Walks every member of the spooled archive at path (depth: how many
 * archives deep its members are). *complete turns false when the walk was
 * cut short. */
static stw_status walk_archive(stw_nested *n, spool *sp, stw_nest_kind kind,
                               const char *path, unsigned depth, bool *opened,
                               bool *complete, stw_error *err)
{
    bool raw_only = n->raw_only; /* for this walk, not those inside it */
    n->raw_only = false;
    uint64_t members = n->members;
    struct archive *a = reader_for(kind, raw_only);
    if (!a)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    gz_source gz = {.n = n, .raw_only = raw_only};
    int rc = ARCHIVE_FATAL;
    /* A zstd stream ends after its last whole frame, an xz one after its
     * last stream and padding, as zstd(1) and xz(1) read them: libarchive
     * gets those bytes alone, and what follows is a trailer. */
    uint64_t zend = 0;
    stw_status st = stream_end(n, sp, kind, path, &zend, err);
    bool ztail = zend > 0 && zend < sp->size;
    if (st == STW_OK)
        st = open_spool(a, sp, kind, path, ztail ? zend : sp->size, &gz, &rc,
                        err);
    *opened = rc == ARCHIVE_OK;
    if (st == STW_OK && !*opened && n->stopped) {
        *opened = true; /* the bound was noted; nothing more is read */
        *complete = false;
    } else if (st == STW_OK && !*opened && kind == STW_NEST_GZIP && gz.g &&
               !gz.why[0] && gz.out == 0) {
        /* A whole gzip stream of nothing (an empty man page, an empty
         * log rotated): no archive, no content, nothing to say. */
        *opened = true;
    } else if (st == STW_OK && !*opened) {
        const char *m = gz.why[0] ? gz.why : archive_error_string(a);
        st = note(n,
                  "%s: starts like %s but cannot be opened (%s); scanned "
                  "as it is",
                  path, kind_name(kind), m ? m : "unreadable");
    } else if (st == STW_OK) {
        st = walk_members(n, a, kind, path, depth, &gz, opened, complete, err);
    }
    if (st == STW_OK && *opened && !raw_only && !n->stopped &&
        n->members == members && tar_in_stream(a, kind))
        n->tar_gave_nothing = true;
    if (n->tar_gave_nothing) { /* the caller walks it again, raw */
        archive_read_free(a);
        gz_source_free(&gz);
        return st;
    }
    /* A tar read to its end-of-archive blocks: where they end, in the
     * spool or in what its gzip stream inflates to. */
    int64_t tar_end = -1;
    bool in_gz = kind == STW_NEST_GZIP && tar_in_stream(a, kind);
    if (st == STW_OK && *opened && *complete && !n->stopped &&
        (kind == STW_NEST_TAR || in_gz))
        tar_end = archive_filter_bytes(a, 0);
    archive_read_free(a);
    if (!in_gz && tar_end >= 0 && (uint64_t)tar_end < sp->size)
        st = scan_trailer(n, sp, path, (uint64_t)tar_end,
                          "end of the tar archive", complete, err);
    /* After a zstd stream's last whole frame or an xz stream's end (`cat
     * x.tar.zst key.pem`). */
    if (st == STW_OK && *opened && ztail && !n->stopped)
        st = scan_trailer(n, sp, path, zend,
                          kind == STW_NEST_ZSTD ? "zstd stream" : "xz stream",
                          complete, err);
    uint64_t end = 0;
    bool damaged = false;
    if (st == STW_OK && *opened && gz.g)
        st = gz_check_end(n, &gz, path, complete);
    /* What the stream inflates to after the tar's end is no member's
     * either (`cat x.tar key.pem | gzip`), unless it is zeros. */
    if (st == STW_OK && in_gz && tar_end >= 0 && !n->stopped &&
        gz.nonzero_end > (uint64_t)tar_end)
        st = scan_gz_tail(n, sp, path, (uint64_t)tar_end,
                          gz.out - (uint64_t)tar_end, complete, err);
    /* Where the stream's last whole member ended, what follows it is no
     * member's, whether the stream ends there or fails after it. */
    if (st == STW_OK && *opened && gz.g && !n->stopped &&
        stw_gunzip_end(gz.g, &end, &damaged) && end < sp->size)
        st = scan_trailer(n, sp, path, end,
                          damaged ? "last whole member of the damaged gzip "
                                    "stream"
                                  : "gzip stream",
                          complete, err);
    gz_source_free(&gz);
    return st;
}

/* After the walk of a gzip archive: the rest of its stream is read (a tar
 * ends before it does: the tar's padding, whatever was compressed after
 * the tar, the stream's trailer), under the byte bound, so that a damaged
 * or cut end is reported rather than cached as a complete archive, and
 * where the stream ends in the spool is known. Notes a damaged end or a
 * member whose CRC or length is wrong, and marks the walk incomplete for
 * it. */
static stw_status gz_check_end(stw_nested *n, gz_source *gz, const char *path,
                               bool *complete)
{
    bool damaged = gz->why[0] != 0; /* already reported by the walk */
    while (!damaged && !n->stopped) {
        const void *b;
        size_t l;
        stw_error e = {0};
        if (stw_gunzip_read(gz->g, &b, &l, &e) != STW_OK) {
            if (!*complete) /* the walk's own note says it was cut short */
                break;
            *complete = false;
            return note(n,
                        "%s: damaged gzip stream after the archive's end "
                        "(%s); the members are scanned",
                        path, e.msg);
        }
        if (l == 0)
            break;
        gz_seen(gz, b, l);
        if (gz_count(n, l))
            *complete = false;
    }
    if (!stw_gunzip_bad_check(gz->g))
        return STW_OK;
    *complete = false;
    return note(n,
                "%s: damaged gzip stream: a member's CRC or length does not "
                "match its content; what it inflated to is scanned",
                path);
}

/* walk_archive's loop over the members of the opened archive a (gz: its
 * gzip stream's, whose failure is the better message). */
static stw_status walk_members(stw_nested *n, struct archive *a,
                               stw_nest_kind kind, const char *path,
                               unsigned depth, const gz_source *gz,
                               bool *opened, bool *complete, stw_error *err)
{
    stw_status st = STW_OK;
    bool raw_format = false, first = true;
    for (;;) {
        struct archive_entry *e;
        int rc = archive_read_next_header(a, &e);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc < ARCHIVE_WARN && n->stopped) {
            *complete = false; /* a bound inside gz_read, noted there */
            break;
        }
        if (rc < ARCHIVE_WARN) {
            const char *m = archive_error_string(a);
            if (first && tar_in_stream(a, kind) && !gz->raw_only) {
                n->tar_gave_nothing = true; /* walked again, raw */
                break;
            }
            if (first) {
                m = gz->why[0] ? gz->why : m;
                /* Not one member: it is no archive after all, and its
                 * bytes are scanned as they are by the caller. */
                *opened = false;
                st = note(n,
                          "%s: starts like %s but cannot be opened (%s); "
                          "scanned as it is",
                          path, kind_name(kind), m ? m : "unreadable");
                break;
            }
            *complete = false;
            st = note(n,
                      "%s: damaged archive: %s; the members before it are "
                      "scanned",
                      path, m ? m : "unreadable");
            break;
        }
        first = false;
        raw_format = archive_format(a) == ARCHIVE_FORMAT_RAW;
        /* A single compressed stream's one member is named after the
         * archive's own path (stream_name: "one.env.gz" -> "one.env"), so
         * its findings are not a function of its bytes alone: a record
         * replayed for the same bytes at "two.gz" would name "one.env"
         * (and path rules would have judged the wrong name). */
        if (raw_format)
            *complete = false;
        if (++n->members > n->lim.max_members) {
            n->stopped = true;
            st = note(n,
                      "%s: nested archives: more than %llu members "
                      "(--max-nested-members); the rest is not scanned",
                      n->outer, (unsigned long long)n->lim.max_members);
        }
        if (st != STW_OK || n->stopped)
            break;
        bool damaged = false;
        st = scan_member(n, a, e, path, raw_format, depth, &damaged, err);
        if (damaged)
            *complete = false;
        if (st != STW_OK || n->stopped)
            break;
    }
    if (n->stopped)
        *complete = false;
    return st;
}

/* Streams the spool's bytes from off on to the content sink as the file
 * path: the whole of a file that looked like an archive but is none
 * libarchive can open, or what follows a gzip stream. */
static stw_status spool_as_content(stw_nested *n, spool *sp, const char *path,
                                   uint64_t off, stw_error *err)
{
    spool_reader r;
    stw_status st = spool_reader_init(&r, sp, path, off, err);
    if (st != STW_OK)
        return st;
    st = n->sink.begin(n->sink.ctx, path, sp->size - off, err);
    while (st == STW_OK) {
        const void *b;
        size_t l;
        if ((st = spool_read(&r, &b, &l, err)) != STW_OK)
            break;
        if (l == 0) {
            st = n->sink.end(n->sink.ctx, err);
            break;
        }
        st = n->sink.data(n->sink.ctx, b, l, err);
    }
    free(r.buf);
    return st;
}

/* The spool's bytes in memory: its buffer, or its file (our own unlinked
 * one, so nobody cuts it short under the mapping) mapped read-only. *p is
 * NULL for a file too large to map; spool_unview(*map, *len) after. */
static stw_status spool_view(const spool *sp, const char *path,
                             const unsigned char **p, size_t *len, void **map,
                             stw_error *err)
{
    *p = sp->mem;
    *len = sp->len;
    *map = NULL;
    if (sp->fd < 0)
        return STW_OK;
    *p = NULL;
    if (sp->size == 0 || sp->size > SIZE_MAX)
        return STW_OK;
    *len = (size_t)sp->size;
    void *m = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, sp->fd, 0);
    if (m == MAP_FAILED)
        return stw_fail(err, STW_ERR_IO, "%s: temporary file: cannot map it",
                        path);
    *p = m;
    *map = m;
    return STW_OK;
}

static void spool_unview(void *map, size_t len)
{
    if (map)
        munmap(map, len);
}

/* Where the zstd stream at p ends: after its last whole frame (skippable
 * ones too), as zstd(1) reads concatenated frames. libarchive's filter
 * does not say, and reads no further than the tar in it needs. Frames are
 * walked by their headers and block headers (ZSTD_findFrameCompressedSize):
 * nothing is decompressed, a page per block is touched. */
static uint64_t zstd_frames_end(const unsigned char *p, size_t len)
{
    size_t off = 0;
    while (off < len) {
        size_t n = ZSTD_findFrameCompressedSize(p + off, len - off);
        if (ZSTD_isError(n) || n == 0)
            break;
        off += n;
    }
    return off;
}

/* Stream padding of an xz file: zero bytes in groups of four. */
static size_t xz_padding(const unsigned char *p, size_t len)
{
    size_t n = 0;
    while (n + 4 <= len && !p[n] && !p[n + 1] && !p[n + 2] && !p[n + 3])
        n += 4;
    return n;
}

/* Where the xz stream at p ends, as xz(1) reads it: each
 * stream is decoded (its output thrown away) to where its footer ends,
 * then padding and another stream may follow. Only for bytes whose last
 * bytes are no stream footer (lzma_stream_footer_decode), so a file that
 * is xz to its end is never decoded twice; and never past max_out bytes
 * of output, what the outer file's budget has left (a bomb with a byte
 * appended). 0 when the first stream cannot be read to its end within
 * that: libarchive then says what it says, under the same bound. */
static uint64_t xz_streams_end(const unsigned char *p, size_t len,
                               uint64_t max_out)
{
    uint64_t end = 0;
    size_t tail = len;
    while (tail >= 4 && !p[tail - 1] && !p[tail - 2] && !p[tail - 3] &&
           !p[tail - 4])
        tail -= 4;
    lzma_stream_flags flags;
    bool footer = tail >= LZMA_STREAM_HEADER_SIZE &&
                  lzma_stream_footer_decode(
                      &flags, p + tail - LZMA_STREAM_HEADER_SIZE) == LZMA_OK;
    static const unsigned char magic[6] = {0xfd, '7', 'z', 'X', 'Z', 0};
    size_t off = 0;
    unsigned char *sink = footer ? NULL : stw_malloc(64u << 10);
    while (sink && off + sizeof(magic) <= len &&
           !memcmp(p + off, magic, sizeof(magic))) {
        lzma_stream z = LZMA_STREAM_INIT;
        if (lzma_stream_decoder(&z, UINT64_MAX, 0) != LZMA_OK)
            break;
        z.next_in = p + off;
        z.avail_in = len - off;
        lzma_ret rc = LZMA_OK;
        while (rc == LZMA_OK && z.total_out <= max_out) {
            z.next_out = sink;
            z.avail_out = 64u << 10;
            rc = lzma_code(&z, LZMA_FINISH);
        }
        size_t used = (size_t)z.total_in;
        bool over = z.total_out > max_out;
        max_out -= over ? max_out : z.total_out;
        lzma_end(&z);
        if (over)
            end = 0; /* not known within the budget */
        if (rc != LZMA_STREAM_END)
            break; /* a damaged stream: the trailer starts before it */
        off += used;
        off += xz_padding(p + off, len - off);
        end = off;
    }
    free(sink);
    return end;
}

/* Where the zstd or xz stream that starts the spool ends (0: unknown, or
 * another kind), through one view of the spool. */
static stw_status stream_end(const stw_nested *n, const spool *sp,
                             stw_nest_kind kind, const char *path,
                             uint64_t *end, stw_error *err)
{
    const unsigned char *p = NULL;
    size_t len = 0;
    void *map = NULL;
    *end = 0;
    if (kind != STW_NEST_ZSTD && kind != STW_NEST_XZ)
        return STW_OK;
    stw_status st = spool_view(sp, path, &p, &len, &map, err);
    if (st != STW_OK || !p)
        return st;
    *end = kind == STW_NEST_ZSTD ? zstd_frames_end(p, len)
                                 : xz_streams_end(p, len, budget_left(n).bytes);
    spool_unview(map, len);
    return STW_OK;
}

/* Whether the spool's bytes from off on are all zeros (true for none). */
static stw_status spool_zeros_from(spool *sp, const char *path, uint64_t off,
                                   bool *zeros, stw_error *err)
{
    spool_reader r;
    stw_status st = spool_reader_init(&r, sp, path, off, err);
    *zeros = true;
    while (st == STW_OK && *zeros) {
        const void *b;
        size_t l;
        if ((st = spool_read(&r, &b, &l, err)) != STW_OK || l == 0)
            break;
        const unsigned char *p = b;
        *zeros = p[0] == 0 && !memcmp(p, p + 1, l - 1);
    }
    free(r.buf);
    return st;
}

/* The bytes of the spooled archive at path from off on, after its end
 * (what: the gzip stream's, or its last whole member's when damaged; a
 * tar's end-of-archive blocks): no member holds them (`cat x.gz
 * notes.txt`, `cat x.tar notes.txt`, a tool's trailer, a gzip header
 * followed by text), so they are scanned as they are, under the file's
 * own path, with a note. Zeros alone are tape or block padding and are
 * left alone. The archive is then not cached (*complete false): the
 * archive cache keeps the findings under its members' paths, and these
 * are at its own path, so a replay would lose them. An archive that holds
 * this one as a member keeps them under its members and is cached as
 * usual. */
static stw_status scan_trailer(stw_nested *n, spool *sp, const char *path,
                               uint64_t off, const char *what, bool *complete,
                               stw_error *err)
{
    bool zeros = true;
    stw_status st = spool_zeros_from(sp, path, off, &zeros, err);
    if (st != STW_OK || zeros)
        return st;
    uint64_t len = sp->size - off;
    *complete = false;
    st = note(n, "%s: %llu %s after the %s; scanned as %s", path,
              (unsigned long long)len, len == 1 ? "byte" : "bytes", what,
              len == 1 ? "it is" : "they are");
    return st == STW_OK ? spool_as_content(n, sp, path, off, err) : st;
}

/* The bytes the gzip stream of the spool at path inflates to from offset
 * from on (len of them): the end of the tar inside it is known only once
 * the stream was read past it, so the stream is inflated again, as rarely
 * as a crafted file makes it. Its damage, if any, was noted already: the
 * bytes before it are scanned. Not cached, as scan_trailer. */
static stw_status scan_gz_tail(stw_nested *n, spool *sp, const char *path,
                               uint64_t from, uint64_t len, bool *complete,
                               stw_error *err)
{
    *complete = false;
    stw_status st =
        note(n,
             "%s: %llu %s after the end of the tar archive in its "
             "gzip stream; scanned as %s",
             path, (unsigned long long)len, len == 1 ? "byte" : "bytes",
             len == 1 ? "it is" : "they are");
    spool_reader r = {0};
    stw_gunzip *g = NULL;
    if (st == STW_OK)
        st = spool_reader_init(&r, sp, path, 0, err);
    if (st == STW_OK)
        st = stw_gunzip_create(spool_read, &r, &g, err);
    if (st == STW_OK)
        st = n->sink.begin(n->sink.ctx, path, len, err);
    for (uint64_t pos = 0; st == STW_OK;) {
        const void *b;
        size_t l = 0;
        stw_error e = {0};
        if (stw_gunzip_read(g, &b, &l, &e) != STW_OK || l == 0 ||
            pos >= from + len) {
            st = n->sink.end(n->sink.ctx, err);
            break;
        }
        if (pos + l > from) {
            size_t skip = from > pos ? (size_t)(from - pos) : 0;
            size_t take = l - skip;
            if (pos + l > from + len)
                take -= (size_t)(pos + l - from - len);
            st = n->sink.data(n->sink.ctx, (const char *)b + skip, take, err);
        }
        pos += l;
    }
    stw_gunzip_destroy(g);
    free(r.buf);
    return st;
}

/* An archive file: spool, hash, ask the cache, walk. */
static stw_status spool_piece(void *octx, const void *p, size_t len,
                              stw_error *err)
{
    return spool_write(octx, p, len, err);
}

/* The walk of a spooled archive that was not found in the cache: its
 * members, or its bytes as they are when it opens as no archive, and the
 * cache record when it is worth one (hex: its hash, NULL when too small). */
static stw_status walk_spooled(stw_nested *n, spool *sp, stw_nest_kind kind,
                               const char *path, unsigned depth,
                               const char *hex, stw_error *err)
{
    bool opened = false, complete = true;
    uint64_t noted = n->noted, unnamed = n->unnamed;
    uint64_t looked = n->sink.looked ? n->sink.looked(n->sink.ctx) : 0;
    stw_nested_cost before = {n->bytes, n->inflated, n->members, 0};
    unsigned deepest = n->deepest;
    uint64_t cut = n->depth_cut;
    n->deepest = depth;
    n->tar_gave_nothing = false;
    stw_status st =
        walk_archive(n, sp, kind, path, depth + 1, &opened, &complete, err);
    if (st == STW_OK && n->tar_gave_nothing) {
        /* Not a tar after all: its content is one raw member, read and
         * counted once. */
        n->tar_gave_nothing = false;
        n->bytes = before.bytes;
        n->inflated = before.inflated;
        n->members = before.members;
        n->raw_only = true;
        opened = false;
        complete = true;
        st =
            walk_archive(n, sp, kind, path, depth + 1, &opened, &complete, err);
    }
    /* A cache record replays findings, not notes: an archive with a note
     * anywhere inside it (an inner archive damaged, bytes after a stream)
     * is walked again each time, so its notes are never lost. */
    if (n->noted != noted || n->unnamed != unnamed)
        complete = false;
    /* Nor is one whose members the artifact detector judged by the path
     * around them: usr/share/java/x.jar!/.github/ is a third-party tree's
     * metadata, app/x.jar!/.github/ a finding. */
    if (n->sink.looked && n->sink.looked(n->sink.ctx) != looked)
        complete = false;
    /* Nor is one with an archive inside left unopened for --max-depth:
     * walked less deep, it would have been opened. */
    if (n->depth_cut != cut)
        complete = false;
    unsigned levels = n->deepest - depth;
    if (n->deepest < deepest)
        n->deepest = deepest;
    if (st == STW_OK && !opened)
        st = spool_as_content(n, sp, path, 0, err);
    else if (st == STW_OK && n->sink.scanned) {
        /* Too small to cache (hex NULL), it still holds its path. */
        stw_nested_cost used = {n->bytes - before.bytes,
                                n->inflated - before.inflated,
                                n->members - before.members, levels};
        st = n->sink.scanned(n->sink.ctx, hex, path, sp->size, &used,
                             complete && hex, err);
    }
    return st;
}

/* An archive file of the layer, spooled, with what its walk needs to run
 * on another stw_nested exactly as it would have run here. */
struct stw_nested_archive {
    spool sp;
    stw_nest_kind kind;
    char *path;
    bool cacheable;
    char hex[65];
    uint64_t outer_size;
};

const char *stw_nested_archive_path(const stw_nested_archive *a)
{
    return a->path;
}

void stw_nested_archive_free(stw_nested_archive *a)
{
    if (!a)
        return;
    spool_clear(&a->sp);
    free(a->path);
    free(a);
}

/* Moves the spool into an archive for the sink to take; sp is cleared
 * whatever happens. */
static stw_status hand_over(stw_nested *n, spool *sp, stw_nest_kind kind,
                            const char *path, const char *hex, stw_error *err)
{
    stw_nested_archive *a = stw_calloc(1, sizeof(*a));
    char *p = stw_strdup(path);
    if (!a || !p) {
        free(a);
        free(p);
        spool_clear(sp);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    a->sp = *sp;
    memset(sp, 0, sizeof(*sp));
    sp->fd = -1;
    a->kind = kind;
    a->path = p;
    a->cacheable = hex != NULL;
    if (hex)
        memcpy(a->hex, hex, sizeof(a->hex));
    a->outer_size = n->outer_size;
    return n->sink.archive(n->sink.ctx, a, err);
}

/* A note the sink could not keep (out of memory) fails the walk without a
 * message of its own: note() has no error to write into. One whose
 * failure the walk could only stop at (a bound's) fails it here. */
static stw_status described(stw_nested *n, stw_status st, const char *path,
                            stw_error *err)
{
    if (st == STW_OK && n->unnamed)
        note(n,
             "%s: %llu %s of archives in it without a readable name %s "
             "skipped",
             path, (unsigned long long)n->unnamed,
             n->unnamed == 1 ? "member" : "members",
             n->unnamed == 1 ? "was" : "were");
    n->unnamed = 0;
    if (st == STW_OK)
        st = n->note_failed;
    if (st != STW_OK && err && !err->msg[0])
        stw_fail(err, st, "%s: %s", path,
                 st == STW_ERR_NOMEM ? "out of memory" : stw_status_str(st));
    return st;
}

stw_status stw_nested_walk_archive(stw_nested *n, stw_nested_archive *a,
                                   stw_error *err)
{
    n->outer = a->path;
    n->outer_size = a->outer_size;
    n->bytes = 0;
    n->inflated = 0;
    n->members = 0;
    n->stopped = false;
    n->note_failed = STW_OK;
    n->deepest = 0;
    n->unnamed = 0;
    /* Asked again: the walk thread asked without waiting, and another
     * walker may have walked the same bytes since, or be walking them. */
    if (a->cacheable && n->sink.lookup) {
        bool hit = false;
        stw_nested_cost room = room_at(n, 0), charge = {0};
        stw_status st = n->sink.lookup(n->sink.ctx, a->hex, a->path, a->sp.size,
                                       &room, &charge, &hit, err);
        if (st != STW_OK || hit)
            return described(n, st, a->path, err);
    }
    return described(n,
                     walk_spooled(n, &a->sp, a->kind, a->path, 0,
                                  a->cacheable ? a->hex : NULL, err),
                     a->path, err);
}

static stw_status scan_archive(stw_nested *n, const char *path,
                               stw_nest_kind kind, unsigned depth,
                               const struct head *h, stw_read_fn fn, void *ctx,
                               stw_error *err)
{
    spool sp = {.fd = -1};
    stw_status st = stw_sha256_create(&sp.sha, err);
    if (st == STW_OK)
        st = drain(h, fn, ctx, spool_piece, &sp, err);
    unsigned char md[STW_SHA256_LEN];
    char hex[65] = "";
    /* An archive under a tree that lowers generic findings (a test tree,
     * documentation) is never cached or replayed: the matcher judges by the
     * whole path, the part around the archive included, so its results
     * hold at its path only (tests/x.jar and app/x.jar may hold the same
     * bytes). */
    bool cacheable = sp.size >= STW_NESTED_CACHE_MIN && !stw_tree_note(path);
    if (st == STW_OK && cacheable) {
        if (sp.fd < 0)
            stw_sha256_update(sp.sha, sp.mem, sp.len);
        st = stw_sha256_final_raw(sp.sha, md, err);
    }
    if (st != STW_OK) {
        spool_clear(&sp);
        return st;
    }
    if (cacheable)
        stw_hex(md, sizeof(md), hex);
    bool hit = false;
    stw_nested_cost room = room_at(n, depth), charge = {0};
    if (cacheable && n->sink.lookup &&
        (st = n->sink.lookup(n->sink.ctx, hex, path, sp.size, &room, &charge,
                             &hit, err)) != STW_OK) {
        spool_clear(&sp);
        return st;
    }
    if (hit) { /* within room: no bound is reached */
        n->bytes += charge.bytes;
        n->inflated += charge.inflated;
        n->members += charge.members;
        if (n->deepest < depth + charge.levels)
            n->deepest = depth + (unsigned)charge.levels;
    }
    if (!hit && depth == 0 && n->sink.archive)
        return hand_over(n, &sp, kind, path, cacheable ? hex : NULL, err);
    if (!hit)
        st = walk_spooled(n, &sp, kind, path, depth, cacheable ? hex : NULL,
                          err);
    spool_clear(&sp);
    return st;
}

/* A file's first bytes, enough to sniff (a tar magic sits at 257 and a
 * first block may be shorter). Read blocks are borrowed from the reader
 * only until its next call, so a short head is copied into keep and the
 * rest of the block that completed it stays pending. */
typedef struct head {
    unsigned char keep[STW_NESTED_SNIFF_BYTES];
    size_t klen;      /* bytes in keep, emitted first */
    const void *pend; /* then these (borrowed from the reader) */
    size_t plen;
    bool eof; /* the file ended within the head */
} head;

static stw_status read_head(stw_read_fn fn, void *ctx, head *h, stw_error *err)
{
    memset(h, 0, sizeof(*h));
    for (;;) {
        const void *b;
        size_t l;
        stw_status st = fn(ctx, &b, &l, err);
        if (st != STW_OK)
            return st;
        if (l == 0) {
            h->eof = true;
            return STW_OK;
        }
        if (h->klen == 0 && l >= STW_NESTED_SNIFF_BYTES) {
            h->pend = b; /* the block itself is the head */
            h->plen = l;
            return STW_OK;
        }
        size_t take = STW_NESTED_SNIFF_BYTES - h->klen;
        if (take > l)
            take = l;
        memcpy(h->keep + h->klen, b, take);
        h->klen += take;
        if (h->klen == STW_NESTED_SNIFF_BYTES) {
            h->pend = (const unsigned char *)b + take;
            h->plen = l - take;
            return STW_OK;
        }
    }
}

static stw_nest_kind head_kind(const head *h)
{
    return h->klen ? stw_nested_sniff(h->keep, h->klen)
                   : stw_nested_sniff(h->pend, h->plen);
}

/* Hands the head, then the rest of the file, to out in pieces. */
static stw_status drain(const head *h, stw_read_fn fn, void *ctx, piece_fn out,
                        void *octx, stw_error *err)
{
    stw_status st = STW_OK;
    if (h->klen)
        st = out(octx, h->keep, h->klen, err);
    if (st == STW_OK && h->plen)
        st = out(octx, h->pend, h->plen, err);
    if (h->eof)
        return st;
    while (st == STW_OK) {
        const void *b;
        size_t l;
        if ((st = fn(ctx, &b, &l, err)) != STW_OK || l == 0)
            break;
        st = out(octx, b, l, err);
    }
    return st;
}

typedef struct pass {
    stw_nested *n;
    bool want_raw;
} pass;

static stw_status pass_piece(void *octx, const void *p, size_t len,
                             stw_error *err)
{
    pass *x = octx;
    if (x->want_raw)
        x->n->sink.raw_data(x->n->sink.ctx, p, len);
    return x->n->sink.data(x->n->sink.ctx, p, len, err);
}

static stw_status pass_through(stw_nested *n, const char *path, uint64_t size,
                               bool want_raw, const head *h, stw_read_fn fn,
                               void *ctx, stw_error *err)
{
    stw_status st = n->sink.begin(n->sink.ctx, path, size, err);
    pass x = {n, want_raw};
    if (st == STW_OK)
        st = drain(h, fn, ctx, pass_piece, &x, err);
    if (st == STW_OK && want_raw)
        st = n->sink.raw_end(n->sink.ctx);
    return st == STW_OK ? n->sink.end(n->sink.ctx, err) : st;
}

static stw_status scan_file(stw_nested *n, const char *path, uint64_t size,
                            unsigned depth, bool want_raw, stw_read_fn fn,
                            void *ctx, stw_error *err)
{
    /* On the stack: this runs for every regular file of every layer, and
     * recursion is bounded by max_depth. */
    head hd, *h = &hd;
    stw_status st = read_head(fn, ctx, h, err);
    if (st == STW_OK) {
        stw_nest_kind kind = head_kind(h);
        /* A file the artifact detector reads (a .git/config, a key store's
         * header) is taken as it is: those are never archives worth
         * opening, and the detector wants the bytes in order. */
        if (kind != STW_NEST_NONE && !want_raw && !n->stopped &&
            depth >= n->lim.max_depth)
            n->depth_cut++;
        if (kind == STW_NEST_NONE || want_raw || n->stopped ||
            depth >= n->lim.max_depth)
            st = pass_through(n, path, size, want_raw, h, fn, ctx, err);
        else
            st = scan_archive(n, path, kind, depth, h, fn, ctx, err);
    }
    return st;
}

stw_status stw_nested_file(stw_nested *n, const char *path, uint64_t size,
                           stw_read_fn fn, void *ctx, stw_error *err)
{
    n->outer = path;
    n->outer_size = size;
    n->bytes = 0;
    n->inflated = 0;
    n->members = 0;
    n->stopped = false;
    n->note_failed = STW_OK;
    n->deepest = 0;
    n->unnamed = 0;
    return described(n, scan_file(n, path, size, 0, false, fn, ctx, err), path,
                     err);
}
