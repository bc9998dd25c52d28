/* test_nested.c - files inside files: archives written by libarchive's own
 * writers (zip, tar, gzip) are opened by their bytes, their members reach
 * the sink under '!/' chain paths, and every bound ends in a note. */
#include "gunzip.h"
#include "limits.h"
#include "nested.h"
#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- building archives with libarchive's writers ------------------------ */

typedef tu_file member;

/* format: as tu_archive; *out malloc'd. */
static void build(const char *format, const member *m, size_t n,
                  unsigned char **out, size_t *outlen)
{
    *out = tu_archive(format, m, n, outlen);
}

/* One gzip member of the n bytes at p followed by zero_mib MiB of zeros
 * (written in pieces, never whole in memory); *out malloc'd. */
static void gzip_with_zeros(const void *p, size_t n, size_t zero_mib,
                            unsigned char **out, size_t *outlen)
{
    size_t cap = n * 2 + (zero_mib << 12) + 4096;
    unsigned char *buf = malloc(cap);
    struct archive *a = archive_write_new();
    archive_write_set_format_raw(a);
    archive_write_add_filter_gzip(a);
    size_t used = 0;
    ck_assert_int_eq(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_filetype(e, AE_IFREG);
    ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
    archive_write_data(a, p, n);
    static const char zero[1 << 20];
    for (size_t i = 0; i < zero_mib; i++)
        ck_assert_int_eq(archive_write_data(a, zero, sizeof(zero)),
                         (la_ssize_t)sizeof(zero));
    archive_entry_free(e);
    ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    *out = buf;
    *outlen = used;
}

static void gzip_bytes(const void *p, size_t n, unsigned char **out,
                       size_t *outlen)
{
    gzip_with_zeros(p, n, 0, out, outlen);
}

/* One zstd frame (or xz stream, xz true) of the n bytes at p, by
 * libarchive's raw writer. */
static void packed_bytes(bool xz, const void *p, size_t n, unsigned char **out,
                         size_t *outlen)
{
    size_t cap = n + n / 8 + 4096;
    unsigned char *buf = malloc(cap);
    struct archive *a = archive_write_new();
    archive_write_set_format_raw(a);
    if (xz) {
        archive_write_add_filter_xz(a);
        archive_write_set_filter_option(a, "xz", "compression-level", "0");
    } else {
        archive_write_add_filter_zstd(a);
    }
    size_t used = 0;
    ck_assert_int_eq(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_filetype(e, AE_IFREG);
    ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_data(a, p, n), (la_ssize_t)n);
    archive_entry_free(e);
    ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    *out = buf;
    *outlen = used;
}

/* ---- a sink that records ------------------------------------------------ */

typedef struct rec {
    char files[64][512]; /* paths given to begin, in order */
    size_t content[64];  /* bytes each received */
    uint64_t fnv[64];    /* and their FNV-1a hash */
    size_t n_files;
    char notes[16][512];
    size_t n_notes;
    const char *fail_note; /* a note holding this cannot be kept */
    size_t entries;
    uint64_t looked;        /* entries under a .github/: judged by their path */
    bool hit_all;           /* lookup answers hit */
    const char *hit_path;   /* or only for this path */
    stw_nested_cost charge; /* and charges this */
    const char *watch;      /* the archive whose room and cost are kept */
    stw_nested_cost room, cost;
    size_t lookups, scanned, complete;
    char last_sha[65];
    char last_complete[512]; /* path of the last archive scanned whole */
} rec;

static stw_status r_entry(void *ctx, const char *path, bool is_dir, bool is_reg,
                          uint64_t size, bool *want_raw)
{
    (void)is_dir, (void)is_reg, (void)size;
    rec *r = ctx;
    r->entries++;
    r->looked += strstr(path, "/.github/") != NULL;
    *want_raw = false;
    return STW_OK;
}
static void r_raw_data(void *ctx, const void *p, size_t n)
{
    (void)ctx, (void)p, (void)n;
}
static stw_status r_raw_end(void *ctx)
{
    (void)ctx;
    return STW_OK;
}
static stw_status r_begin(void *ctx, const char *path, uint64_t size,
                          stw_error *err)
{
    (void)size, (void)err;
    rec *r = ctx;
    ck_assert_uint_lt(r->n_files, 64);
    snprintf(r->files[r->n_files], 512, "%s", path);
    r->fnv[r->n_files] = 14695981039346656037ull;
    r->content[r->n_files++] = 0;
    return STW_OK;
}
static stw_status r_data(void *ctx, const void *p, size_t n, stw_error *err)
{
    (void)err;
    rec *r = ctx;
    r->content[r->n_files - 1] += n;
    for (size_t i = 0; i < n; i++)
        r->fnv[r->n_files - 1] =
            (r->fnv[r->n_files - 1] ^ ((const unsigned char *)p)[i]) *
            1099511628211ull;
    return STW_OK;
}
static stw_status r_end(void *ctx, stw_error *err)
{
    (void)ctx, (void)err;
    return STW_OK;
}
static stw_status r_note(void *ctx, const char *msg)
{
    rec *r = ctx;
    if (r->fail_note && strstr(msg, r->fail_note))
        return STW_ERR_NOMEM;
    if (r->n_notes < 16)
        snprintf(r->notes[r->n_notes++], 512, "%s", msg);
    return STW_OK;
}
static stw_status r_lookup(void *ctx, const char *sha, const char *path,
                           uint64_t size, const stw_nested_cost *room,
                           stw_nested_cost *charge, bool *hit, stw_error *err)
{
    (void)size, (void)err;
    rec *r = ctx;
    r->lookups++;
    snprintf(r->last_sha, sizeof(r->last_sha), "%s", sha);
    if (r->watch && !strcmp(path, r->watch))
        r->room = *room;
    *hit = r->hit_all || (r->hit_path && !strcmp(path, r->hit_path));
    if (*hit)
        *charge = r->charge;
    return STW_OK;
}
/* The cache key the archive was last looked up by is the sha256 of its
 * bytes, by OpenSSL's one-shot digest (not the spool's streamed one). */
static void expect_key(const rec *r, const void *p, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    ck_assert_int_eq(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL), 1);
    char hex[65];
    for (unsigned i = 0; i < len && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    ck_assert_str_eq(r->last_sha, hex);
}

static stw_status r_scanned(void *ctx, const char *sha, const char *path,
                            uint64_t size, const stw_nested_cost *cost,
                            bool complete, stw_error *err)
{
    (void)sha, (void)size, (void)err;
    rec *r = ctx;
    r->scanned++;
    if (r->watch && !strcmp(path, r->watch))
        r->cost = *cost;
    r->complete += complete;
    if (complete)
        snprintf(r->last_complete, sizeof(r->last_complete), "%s", path);
    return STW_OK;
}

static uint64_t r_looked(void *ctx)
{
    return ((rec *)ctx)->looked;
}

static stw_nested *make(rec *r, const stw_nested_limits *lim)
{
    stw_nested_sink s = {.ctx = r,
                         .entry = r_entry,
                         .raw_data = r_raw_data,
                         .raw_end = r_raw_end,
                         .looked = r_looked,
                         .begin = r_begin,
                         .data = r_data,
                         .end = r_end,
                         .note = r_note,
                         .lookup = r_lookup,
                         .scanned = r_scanned};
    stw_nested *n = NULL;
    stw_error err;
    ck_assert_int_eq(stw_nested_create(&s, lim, &n, &err), STW_OK);
    return n;
}

/* A read function over a buffer, in pieces of at most step bytes. */
typedef struct src {
    const unsigned char *p;
    size_t len, off, step;
} src;

static stw_status src_read(void *ctx, const void **buf, size_t *len,
                           stw_error *err)
{
    (void)err;
    src *s = ctx;
    size_t n = s->len - s->off;
    if (n > s->step)
        n = s->step;
    *buf = s->p + s->off;
    *len = n;
    s->off += n;
    return STW_OK;
}

static void scan(stw_nested *n, const char *path, const unsigned char *p,
                 size_t len, size_t step)
{
    src s = {p, len, 0, step};
    stw_error err = {0};
    stw_status st = stw_nested_file(n, path, len, src_read, &s, &err);
    ck_assert_msg(st == STW_OK, "%s", err.msg);
}

static bool has_file(const rec *r, const char *path)
{
    for (size_t i = 0; i < r->n_files; i++)
        if (!strcmp(r->files[i], path))
            return true;
    return false;
}

static bool has_note(const rec *r, const char *needle)
{
    for (size_t i = 0; i < r->n_notes; i++)
        if (strstr(r->notes[i], needle))
            return true;
    return false;
}

static uint64_t fnv(const void *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const unsigned char *)p)[i]) * 1099511628211ull;
    return h;
}

/* a then b, malloc'd. */
static unsigned char *cat(const void *a, size_t al, const void *b, size_t bl,
                          size_t *len)
{
    unsigned char *p = malloc(al + bl + 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, a, al);
    memcpy(p + al, b, bl);
    *len = al + bl;
    return p;
}

static size_t file_index(const rec *r, const char *path)
{
    for (size_t i = 0; i < r->n_files; i++)
        if (!strcmp(r->files[i], path))
            return i;
    ck_abort_msg("%s was not scanned", path);
    return 0;
}

/* path was scanned with exactly the n bytes at p. */
static void expect_content(const rec *r, const char *path, const void *p,
                           size_t n)
{
    size_t i = file_index(r, path);
    ck_assert_uint_eq(r->content[i], n);
    ck_assert(r->fnv[i] == fnv(p, n));
}

/* path, with exactly the n bytes at p, was all that was scanned, and
 * nothing was noted. */
static void expect_only(const rec *r, const char *path, const void *p, size_t n)
{
    ck_assert_uint_eq(r->n_files, 1);
    expect_content(r, path, p, n);
    ck_assert_uint_eq(r->n_notes, 0);
}

/* ---- tests -------------------------------------------------------------- */

START_TEST(test_nested_sniff_by_bytes_not_name)
{
    unsigned char tar[512] = {0};
    memcpy(tar + 257, "ustar\0", 6);
    ck_assert_int_eq(stw_nested_sniff("PK\x03\x04rest", 8), STW_NEST_ZIP);
    ck_assert_int_eq(stw_nested_sniff("\x1f\x8b\x08\0", 4), STW_NEST_GZIP);
    ck_assert_int_eq(stw_nested_sniff("\x28\xb5\x2f\xfd", 4), STW_NEST_ZSTD);
    ck_assert_int_eq(stw_nested_sniff("\xfd"
                                      "7zXZ\0\0",
                                      6),
                     STW_NEST_XZ);
    ck_assert_int_eq(stw_nested_sniff("BZh91AY&SY\0", 11), STW_NEST_BZIP2);
    ck_assert_int_eq(stw_nested_sniff(tar, sizeof(tar)), STW_NEST_TAR);
    /* a text file that starts like one, or a tar head cut short */
    ck_assert_int_eq(stw_nested_sniff("BZh is a word", 13), STW_NEST_NONE);
    ck_assert_int_eq(stw_nested_sniff("PK\x05\x06", 4), STW_NEST_NONE);
    ck_assert_int_eq(stw_nested_sniff(tar, 300 - 40), STW_NEST_NONE);
}
END_TEST

/* Bytes that do not compress, so an archive holding them is as big as
 * they are: archives below STW_NESTED_CACHE_MIN are neither looked up in
 * nor written to the archive cache. */
static char *incompressible(size_t n)
{
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    unsigned x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (char)(x >> 16);
    }
    return p;
}

START_TEST(test_nested_zip_members_get_chain_paths)
{
    size_t big = STW_NESTED_CACHE_MIN + 4096;
    char *junk = incompressible(big);
    member m[] = {{"BOOT-INF/classes/application.properties", "pw=x\n", 5},
                  {"./META-INF/MANIFEST.MF", "M: 1\n", 5},
                  {"lib/native.bin", junk, big}};
    unsigned char *z;
    size_t zl;
    build("zip", m, 3, &z, &zl);
    free(junk);
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "app/app.jar", z, zl, 1 << 20);
    ck_assert(
        has_file(&r, "app/app.jar!/BOOT-INF/classes/application.properties"));
    ck_assert(has_file(&r, "app/app.jar!/META-INF/MANIFEST.MF"));
    ck_assert(!has_file(&r, "app/app.jar")); /* not scanned as raw bytes */
    ck_assert_uint_eq(r.n_notes, 0);
    ck_assert_uint_eq(r.scanned, 1);
    ck_assert_uint_eq(r.complete, 1);
    stw_nested_destroy(n);
    free(z);
}
END_TEST

START_TEST(test_nested_head_split_in_one_byte_pieces)
{
    member m[] = {{"etc/shadow", "root:$6$x:1::::::\n", 18}};
    unsigned char *t;
    size_t tl;
    build("tar.gz", m, 1, &t, &tl);
    for (size_t step = 1; step <= 300; step += 299) {
        rec r = {0};
        stw_nested *n = make(&r, NULL);
        scan(n, "opt/backup.tar.gz", t, tl, step);
        ck_assert(has_file(&r, "opt/backup.tar.gz!/etc/shadow"));
        ck_assert_uint_eq(r.content[0], 18);
        stw_nested_destroy(n);
    }
    free(t);
    /* a plain tar, its magic at 257, read a byte at a time */
    build("tar", m, 1, &t, &tl);
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "backup.tar", t, tl, 1);
    ck_assert(has_file(&r, "backup.tar!/etc/shadow"));
    stw_nested_destroy(n);
    free(t);
}
END_TEST

START_TEST(test_nested_single_gzip_stream_is_its_content)
{
    const char text[] = "line one\nkey=value\n";
    unsigned char *g;
    size_t gl;
    gzip_bytes(text, sizeof(text) - 1, &g, &gl);
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "var/log/app.log.1.gz", g, gl, 1 << 20);
    ck_assert_uint_eq(r.n_files, 1);
    ck_assert_str_eq(r.files[0], "var/log/app.log.1.gz!/app.log.1");
    ck_assert_uint_eq(r.content[0], sizeof(text) - 1);
    stw_nested_destroy(n);
    free(g);
}
END_TEST

START_TEST(test_nested_zip_in_zip_and_depth_bound)
{
    member in[] = {{"config/payments.yml", "token: x\n", 9}};
    unsigned char *iz, *oz;
    size_t izl, ozl;
    build("zip", in, 1, &iz, &izl);
    member out[] = {{"config-bundle.zip", iz, izl}};
    build("zip-stored", out, 1, &oz, &ozl);
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "opt/bundle.zip", oz, ozl, 4096);
    ck_assert(
        has_file(&r, "opt/bundle.zip!/config-bundle.zip!/config/payments.yml"));
    stw_nested_destroy(n);
    /* depth 1: the inner zip is a member scanned as bytes, never opened */
    rec r1 = {0};
    stw_nested_limits lim = {.max_depth = 1};
    n = make(&r1, &lim);
    scan(n, "opt/bundle.zip", oz, ozl, 4096);
    ck_assert(has_file(&r1, "opt/bundle.zip!/config-bundle.zip"));
    ck_assert(!has_file(
        &r1, "opt/bundle.zip!/config-bundle.zip!/config/payments.yml"));
    stw_nested_destroy(n);
    free(iz);
    free(oz);
}
END_TEST

/* The same jar walked at depth 0 and inside another archive: a walk that
 * left an archive inside it unopened for --max-depth is no cache record
 * (walked less deep it would have been opened), and a record says how
 * many levels it opened, a look-up how many are left. */
START_TEST(test_nested_depth_cut_is_not_complete)
{
    size_t big = STW_NESTED_CACHE_MIN + 4096;
    char *junk = incompressible(big);
    member ym[] = {{"conf/app.properties", "a=b\n", 4}};
    unsigned char *y, *x, *w;
    size_t yl, xl, wl;
    build("zip", ym, 1, &y, &yl);
    member xm[] = {{"lib/y.zip", y, yl}, {"pad.bin", junk, big}};
    build("zip", xm, 2, &x, &xl);
    member wm[] = {{"BOOT-INF/x.jar", x, xl}};
    build("zip-stored", wm, 1, &w, &wl);
    free(junk);
    stw_nested_limits lim = {.max_depth = 2};

    /* x.jar at depth 0: y.zip opened, x.jar complete, one level used. */
    rec r0 = {.watch = "opt/x.jar"};
    stw_nested *n = make(&r0, &lim);
    scan(n, "opt/x.jar", x, xl, 1 << 20);
    ck_assert(has_file(&r0, "opt/x.jar!/lib/y.zip!/conf/app.properties"));
    ck_assert_uint_eq(r0.complete, 1);
    ck_assert_uint_eq(r0.room.levels, 1);
    ck_assert_uint_eq(r0.cost.levels, 1);
    stw_nested_destroy(n);

    /* Inside w.zip: y.zip is at the depth bound and not opened, so x.jar's
     * result holds at this depth only, and the record made at depth 0
     * (one level) does not fit where no level is left. */
    rec r1 = {.watch = "opt/w.zip!/BOOT-INF/x.jar"};
    n = make(&r1, &lim);
    scan(n, "opt/w.zip", w, wl, 1 << 20);
    ck_assert(has_file(&r1, "opt/w.zip!/BOOT-INF/x.jar!/lib/y.zip"));
    ck_assert_uint_eq(r1.room.levels, 0);
    ck_assert_uint_eq(r1.complete, 0);
    stw_nested_destroy(n);
    free(y);
    free(x);
    free(w);
}
END_TEST

START_TEST(test_nested_byte_bound_is_a_note_and_keeps_earlier_members)
{
    static char big[64 << 10];
    memset(big, 'a', sizeof(big));
    member m[] = {{"first.txt", "early\n", 6},
                  {"big.txt", big, sizeof(big)},
                  {"after.txt", "late\n", 5}};
    unsigned char *z;
    size_t zl;
    build("zip", m, 3, &z, &zl);
    rec r = {0};
    stw_nested_limits lim = {.max_bytes = 1000};
    stw_nested *n = make(&r, &lim);
    scan(n, "a.zip", z, zl, 1 << 20);
    ck_assert(has_file(&r, "a.zip!/first.txt"));
    ck_assert(!has_file(&r, "a.zip!/after.txt"));
    ck_assert(has_note(&r, "a.zip: "));
    ck_assert(has_note(&r, "--max-nested-bytes"));
    ck_assert_uint_eq(r.complete, 0); /* never cached as complete */
    stw_nested_destroy(n);
    free(z);
}
END_TEST

/* A bound's note the sink cannot keep (out of memory): the walk stops
 * there as for any bound, and the failure is the file's when the walk
 * ends, with a message - not a report that never says the bound fell. */
START_TEST(test_nested_bound_note_that_cannot_be_kept_fails_the_file)
{
    static char big[64 << 10];
    memset(big, 'a', sizeof(big));
    member m[] = {{"first.txt", "early\n", 6}, {"big.txt", big, sizeof(big)}};
    unsigned char *z;
    size_t zl;
    build("zip", m, 2, &z, &zl);
    rec r = {.fail_note = "--max-nested-bytes"};
    stw_nested_limits lim = {.max_bytes = 1000};
    stw_nested *n = make(&r, &lim);
    src s = {z, zl, 0, 1 << 20};
    stw_error err = {0};
    ck_assert_int_eq(stw_nested_file(n, "a.zip", zl, src_read, &s, &err),
                     STW_ERR_NOMEM);
    ck_assert_str_eq(err.msg, "a.zip: out of memory");
    /* The next file starts clean. */
    member ok[] = {{"x.txt", "x\n", 2}};
    unsigned char *o;
    size_t ol;
    build("zip", ok, 1, &o, &ol);
    src s2 = {o, ol, 0, 1 << 20};
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(stw_nested_file(n, "b.zip", ol, src_read, &s2, &err),
                     STW_OK);
    ck_assert(has_file(&r, "b.zip!/x.txt"));
    stw_nested_destroy(n);
    free(z);
    free(o);
}
END_TEST

START_TEST(test_nested_member_bound)
{
    member m[] = {{"a", "1", 1}, {"b", "2", 1}, {"c", "3", 1}};
    unsigned char *z;
    size_t zl;
    build("zip", m, 3, &z, &zl);
    rec r = {0};
    stw_nested_limits lim = {.max_members = 2};
    stw_nested *n = make(&r, &lim);
    scan(n, "m.zip", z, zl, 1 << 20);
    ck_assert_uint_eq(r.n_files, 2);
    ck_assert(has_note(&r, "more than 2 members"));
    stw_nested_destroy(n);
    free(z);
}
END_TEST

START_TEST(test_nested_damaged_and_fake_archives)
{
    member m[] = {{"one.txt", "first member\n", 13},
                  {"two.txt", "second member\n", 14}};
    unsigned char *t;
    size_t tl;
    build("tar.gz", m, 2, &t, &tl);
    /* cut inside the gzip stream: a note names the file, no failure */
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "cut.tar.gz", t, tl / 2, 1 << 20);
    ck_assert_uint_ge(r.n_notes, 1);
    ck_assert(has_note(&r, "cut.tar.gz"));
    ck_assert_uint_eq(r.complete, 0);
    stw_nested_destroy(n);
    /* zip magic and nothing after it: scanned as the bytes it is */
    const unsigned char fake[] = "PK\x03\x04 this is no zip at all, a token "
                                 "could sit here";
    rec f = {0};
    n = make(&f, NULL);
    scan(n, "fake.bin", fake, sizeof(fake) - 1, 1 << 20);
    ck_assert_uint_eq(f.n_files, 1);
    ck_assert_str_eq(f.files[0], "fake.bin");
    ck_assert_uint_eq(f.content[0], sizeof(fake) - 1);
    ck_assert(has_note(&f, "fake.bin: starts like a zip but cannot be opened"));
    stw_nested_destroy(n);
    free(t);
}
END_TEST

START_TEST(test_nested_large_archive_spills_to_a_temporary_file)
{
    /* Above the in-memory bound, stored or of noise (so it stays large):
     * a zip read with seeking, a tar.gz inflated from the file. */
    size_t big = STW_NESTED_MEM_MAX + (1u << 20);
    unsigned char *noise = malloc(big);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < big; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        noise[i] = (unsigned char)x;
    }
    member m[] = {{"blob.bin", noise, big}, {"conf/app.env", "K=v\n", 4}};
    static const char *const fmt[] = {"zip-stored", "tar.gz"};
    static const char *const name[] = {"big.zip", "big.tar.gz"};
    for (size_t k = 0; k < 2; k++) {
        unsigned char *z;
        size_t zl;
        char p1[64], p2[64];
        build(fmt[k], m, 2, &z, &zl);
        ck_assert_uint_gt(zl, big);
        rec r = {0};
        stw_nested *n = make(&r, NULL);
        scan(n, name[k], z, zl, 256 << 10);
        snprintf(p1, sizeof(p1), "%s!/blob.bin", name[k]);
        snprintf(p2, sizeof(p2), "%s!/conf/app.env", name[k]);
        expect_content(&r, p1, noise, big);
        expect_content(&r, p2, "K=v\n", 4);
        ck_assert_uint_eq(r.n_notes, 0);
        ck_assert_uint_eq(r.complete, 1);
        /* Hashed partly in memory, then on the way to the file. */
        ck_assert_uint_eq(r.lookups, 1);
        expect_key(&r, z, zl);
        stw_nested_destroy(n);
        free(z);
    }
    free(noise);
}
END_TEST

START_TEST(test_nested_spill_failure_names_the_directory)
{
    /* An archive over the in-memory bound with nowhere to spill: the
     * file's scan fails with an I/O error naming the directory. */
    size_t big = STW_NESTED_MEM_MAX + (1u << 20);
    unsigned char *zeros = calloc(1, big);
    member m[] = {{"blob.bin", zeros, big}};
    unsigned char *z;
    size_t zl;
    build("zip-stored", m, 1, &z, &zl);
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("TMPDIR", "/nonexistent-stowaway-tmp", 1);
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    src sr = {z, zl, 0, 1 << 20};
    stw_error err = {0};
    stw_status st = stw_nested_file(n, "big.zip", zl, src_read, &sr, &err);
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
    ck_assert_int_eq(st, STW_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent-stowaway-tmp"));
    stw_nested_destroy(n);
    free(z);
    free(zeros);
}
END_TEST

START_TEST(test_nested_cache_hit_skips_the_archive)
{
    size_t big = STW_NESTED_CACHE_MIN + 4096;
    char *junk = incompressible(big);
    member m[] = {{"x.properties", "a=b\n", 4}, {"x.bin", junk, big}};
    unsigned char *z;
    size_t zl;
    build("zip", m, 2, &z, &zl);
    free(junk);
    rec r = {.hit_all = true};
    stw_nested *n = make(&r, NULL);
    scan(n, "lib/x.jar", z, zl, 1 << 20);
    ck_assert_uint_eq(r.lookups, 1);
    ck_assert_uint_eq(r.n_files, 0);
    ck_assert_uint_eq(r.scanned, 0);
    expect_key(&r, z, zl);
    stw_nested_destroy(n);
    free(z);
}
END_TEST

/* What a walk used of the outer file's budget goes with its cache record,
 * and what is left goes with the look-up: a result replayed by the scan's
 * memo (stw_archmemo) fits in it and is charged to it. */
START_TEST(test_nested_cost_of_a_walk_and_room_at_a_lookup)
{
    size_t big = STW_NESTED_CACHE_MIN + 4096;
    char *junk = incompressible(big);
    member im[] = {{"x.properties", "a=b\n", 4}, {"x.bin", junk, big}};
    unsigned char *in;
    size_t il;
    build("zip", im, 2, &in, &il);
    free(junk);
    member om[] = {{"lib/in.jar", in, il}, {"after.txt", "z", 1}};
    unsigned char *z;
    size_t zl;
    build("zip-stored", om, 2, &z, &zl);
    rec r = {.watch = "o.zip!/lib/in.jar"};
    stw_nested_limits lim = {.max_bytes = 10u << 20, .max_members = 10};
    stw_nested *n = make(&r, &lim);
    scan(n, "o.zip", z, zl, 1 << 20);
    ck_assert(has_file(&r, "o.zip!/lib/in.jar!/x.properties"));
    /* Its member was read out of o.zip before the look-up. */
    ck_assert_uint_eq(r.room.bytes, (10u << 20) - il);
    ck_assert_uint_eq(r.room.members, 9);
    ck_assert_uint_eq(r.cost.bytes, 4 + big);
    ck_assert_uint_eq(r.cost.members, 2);
    ck_assert_uint_eq(r.cost.inflated, 0);
    stw_nested_destroy(n);

    /* A replay charged 8 members: the bound of 10 then falls on the
     * second file after it, as if the jar had been walked. */
    member cm[] = {{"lib/in.jar", in, il},
                   {"a.txt", "1", 1},
                   {"b.txt", "2", 1},
                   {"c.txt", "3", 1}};
    unsigned char *c;
    size_t cl;
    build("zip-stored", cm, 4, &c, &cl);
    rec h = {.hit_path = "c.zip!/lib/in.jar", .charge = {.members = 8}};
    n = make(&h, &lim);
    scan(n, "c.zip", c, cl, 1 << 20);
    ck_assert(!has_file(&h, "c.zip!/lib/in.jar!/x.properties"));
    ck_assert(has_file(&h, "c.zip!/a.txt"));
    ck_assert(!has_file(&h, "c.zip!/b.txt"));
    ck_assert(has_note(&h, "more than 10 members"));
    stw_nested_destroy(n);
    free(c);
    free(z);
    free(in);
}
END_TEST

/* An archive whose members the sink judged by the path around them (its
 * looked count rose) is no cache record: replayed at another path, its
 * artifact findings would be the first path's. */
START_TEST(test_nested_archive_judged_by_its_path_is_not_cached)
{
    size_t big = STW_NESTED_CACHE_MIN + 4096;
    char *junk = incompressible(big);
    member gm[] = {{".github/workflows/ci.yml", "on: push\n", 9},
                   {"x.bin", junk, big}};
    member pm[] = {{"x.properties", "a=b\n", 4}, {"x.bin", junk, big}};
    unsigned char *g, *p;
    size_t gl, pl;
    build("zip", gm, 2, &g, &gl);
    build("zip", pm, 2, &p, &pl);
    free(junk);
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "app/gh.jar", g, gl, 1 << 20);
    ck_assert_uint_eq(r.scanned, 1);
    ck_assert_uint_eq(r.complete, 0);
    scan(n, "app/plain.jar", p, pl, 1 << 20);
    ck_assert_uint_eq(r.scanned, 2);
    ck_assert_uint_eq(r.complete, 1);
    ck_assert_str_eq(r.last_complete, "app/plain.jar");
    stw_nested_destroy(n);
    free(g);
    free(p);
}
END_TEST

/* A zip written by Python's zipfile whose first three members have UTF-8
 * names flagged as such ("vermögen.txt", Greek, Cyrillic) and the last an
 * ASCII one, as the JDK's lib/security/public_suffix_list.dat (160 such
 * names) and any jar with non-ASCII names are. */
static const unsigned char utf8_names_zip[] = {
    0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00,
    0x21, 0x50, 0x1f, 0x08, 0xea, 0x46, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00,
    0x00, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x76, 0x65, 0x72, 0x6d, 0xc3, 0xb6,
    0x67, 0x65, 0x6e, 0x2e, 0x74, 0x78, 0x74, 0x78, 0x0a, 0x50, 0x4b, 0x03,
    0x04, 0x14, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x21, 0x50, 0x1f,
    0x08, 0xea, 0x46, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x08,
    0x00, 0x00, 0x00, 0xce, 0xb5, 0xce, 0xbb, 0x2e, 0x74, 0x78, 0x74, 0x78,
    0x0a, 0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
    0x00, 0x21, 0x50, 0x1f, 0x08, 0xea, 0x46, 0x02, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0xd0, 0xb1, 0xd0, 0xb3, 0x2e,
    0x74, 0x78, 0x74, 0x78, 0x0a, 0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x50, 0x7d, 0x0e, 0x16, 0xda, 0x03,
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x6f,
    0x6b, 0x2e, 0x74, 0x78, 0x74, 0x6f, 0x6b, 0x0a, 0x50, 0x4b, 0x01, 0x02,
    0x14, 0x03, 0x14, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x21, 0x50,
    0x1f, 0x08, 0xea, 0x46, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x0d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x76, 0x65, 0x72, 0x6d, 0xc3, 0xb6,
    0x67, 0x65, 0x6e, 0x2e, 0x74, 0x78, 0x74, 0x50, 0x4b, 0x01, 0x02, 0x14,
    0x03, 0x14, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x21, 0x50, 0x1f,
    0x08, 0xea, 0x46, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x08,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,
    0x01, 0x2d, 0x00, 0x00, 0x00, 0xce, 0xb5, 0xce, 0xbb, 0x2e, 0x74, 0x78,
    0x74, 0x50, 0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00, 0x00, 0x08, 0x00,
    0x00, 0x00, 0x00, 0x21, 0x50, 0x1f, 0x08, 0xea, 0x46, 0x02, 0x00, 0x00,
    0x00, 0x02, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x55, 0x00, 0x00, 0x00, 0xd0,
    0xb1, 0xd0, 0xb3, 0x2e, 0x74, 0x78, 0x74, 0x50, 0x4b, 0x01, 0x02, 0x14,
    0x03, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x50, 0x7d,
    0x0e, 0x16, 0xda, 0x03, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x06,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,
    0x01, 0x7d, 0x00, 0x00, 0x00, 0x6f, 0x6b, 0x2e, 0x74, 0x78, 0x74, 0x50,
    0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x04, 0x00, 0xdb,
    0x00, 0x00, 0x00, 0xa4, 0x00, 0x00, 0x00, 0x00, 0x00};

/* In the "C" locale libarchive converts those names to nothing: they are
 * skipped, and said in one note for the whole file, not one per member
 * (the JDK's zip gave 160 lines); in a UTF-8 LC_CTYPE, the command's, all
 * four are read. */
START_TEST(test_nested_unreadable_names_one_note)
{
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "lib/names.jar", utf8_names_zip, sizeof(utf8_names_zip), 1 << 20);
    ck_assert(has_file(&r, "lib/names.jar!/ok.txt"));
    ck_assert_uint_eq(r.n_files, 1);
    ck_assert_uint_eq(r.n_notes, 1);
    ck_assert_str_eq(r.notes[0], "lib/names.jar: 3 members of archives in it "
                                 "without a readable name were skipped");
    stw_nested_destroy(n);

    ck_assert_ptr_nonnull(setlocale(LC_CTYPE, "C.UTF-8"));
    rec u = {0};
    n = make(&u, NULL);
    scan(n, "lib/names.jar", utf8_names_zip, sizeof(utf8_names_zip), 1 << 20);
    ck_assert(has_file(&u, "lib/names.jar!/verm\xc3\xb6gen.txt"));
    ck_assert_uint_eq(u.n_files, 4);
    ck_assert_uint_eq(u.n_notes, 0);
    stw_nested_destroy(n);

    /* Big enough for the cache, written in a UTF-8 locale (its name
     * flagged UTF-8), walked in "C": a member skipped for its name makes
     * the archive no record, as a note would. */
    size_t big = STW_NESTED_CACHE_MIN + 4096;
    char *junk = incompressible(big);
    member bm[] = {{"verm\xc3\xb6gen.txt", "x\n", 2}, {"pad.bin", junk, big}};
    unsigned char *z;
    size_t zl;
    build("zip-stored", bm, 2, &z, &zl);
    setlocale(LC_CTYPE, "C");
    rec b = {.watch = "lib/big.jar"};
    n = make(&b, NULL);
    scan(n, "lib/big.jar", z, zl, 1 << 20);
    ck_assert(has_file(&b, "lib/big.jar!/pad.bin"));
    ck_assert(has_note(&b, "1 member of archives in it without a readable"));
    ck_assert_uint_eq(b.scanned, 1);
    ck_assert_uint_eq(b.complete, 0);
    stw_nested_destroy(n);
    free(z);
    free(junk);
}
END_TEST

/* A gzip stream of nothing (Debian ships empty man pages) is neither an
 * archive that cannot be opened nor content: no note, nothing scanned. */
START_TEST(test_nested_empty_gzip_is_quiet)
{
    unsigned char *g;
    size_t gl;
    gzip_bytes("", 0, &g, &gl);
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "usr/share/man/man1/empty.1.gz", g, gl, 1 << 20);
    ck_assert_uint_eq(r.n_notes, 0);
    ck_assert_uint_eq(r.n_files, 0);
    stw_nested_destroy(n);
    free(g);
}
END_TEST

/* A Debian package (ar: debian-binary, control.tar.gz, data.tar.xz) and a
 * 7-Zip archive are opened like the others (a cpio archive is not), to the
 * file inside the package's data.tar.xz; an ar archive that is no .deb
 * (a static library of object files) is scanned whole. */
START_TEST(test_nested_deb_cpio_7z)
{
    static const char conf[] = "db_password = \"Xq7vN2pL9sK4mT8w\"\n";
    member dm[] = {{"etc/acme/app.conf", conf, sizeof(conf) - 1}};
    unsigned char *data, *ctl, *deb;
    size_t datal, ctll, debl;
    build("tar.xz", dm, 1, &data, &datal);
    member cm[] = {{"./control", "Package: acme\n", 14}};
    build("tar.gz", cm, 1, &ctl, &ctll);
    member pm[] = {{"debian-binary", "2.0\n", 4},
                   {"control.tar.gz", ctl, ctll},
                   {"data.tar.xz", data, datal}};
    build("ar", pm, 3, &deb, &debl);
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "var/cache/apt/archives/acme.deb", deb, debl, 1 << 20);
    ck_assert(has_file(
        &r, "var/cache/apt/archives/acme.deb!/data.tar.xz!/etc/acme/app.conf"));
    ck_assert(has_file(&r, "var/cache/apt/archives/acme.deb!/control.tar.gz!/"
                           "control"));
    ck_assert_uint_eq(r.n_notes, 0);
    stw_nested_destroy(n);

    static const char *const formats[] = {"7z", "cpio"};
    for (size_t i = 0; i < 2; i++) {
        unsigned char *x;
        size_t xl;
        build(formats[i], dm, 1, &x, &xl);
        char path[64], member_path[128];
        snprintf(path, sizeof(path), "srv/backup.%s", formats[i]);
        snprintf(member_path, sizeof(member_path), "%s!/etc/acme/app.conf",
                 path);
        rec c = {0};
        n = make(&c, NULL);
        scan(n, path, x, xl, 1 << 20);
        /* cpio is not opened: libarchive's reader allocates what a newc
         * header's name size says (fuzzing found 2.5 GB from a 2 KB
         * file), so it stays content. */
        ck_assert_msg(has_file(&c, member_path) == (i == 0), "%s", formats[i]);
        ck_assert_uint_eq(c.n_notes, 0);
        stw_nested_destroy(n);
        free(x);
    }

    /* A static library: ar, but no debian-binary first. */
    member lm[] = {{"crt.o", conf, sizeof(conf) - 1}};
    unsigned char *lib;
    size_t libl;
    build("ar", lm, 1, &lib, &libl);
    rec l = {0};
    n = make(&l, NULL);
    scan(n, "usr/lib/libacme.a", lib, libl, 1 << 20);
    ck_assert(has_file(&l, "usr/lib/libacme.a"));
    ck_assert(!has_file(&l, "usr/lib/libacme.a!/crt.o"));
    stw_nested_destroy(n);
    free(lib), free(deb), free(ctl), free(data);
}
END_TEST

START_TEST(test_nested_small_archive_is_never_cached)
{
    member m[] = {{"x.properties", "a=b\n", 4}};
    unsigned char *z;
    size_t zl;
    build("zip", m, 1, &z, &zl);
    ck_assert_uint_lt(zl, STW_NESTED_CACHE_MIN);
    rec r = {.hit_all = true};
    stw_nested *n = make(&r, NULL);
    scan(n, "lib/x.jar", z, zl, 1 << 20);
    ck_assert_uint_eq(r.lookups, 0); /* not hashed, not asked */
    ck_assert(has_file(&r, "lib/x.jar!/x.properties"));
    /* Not remembered: only named as a holder of its path (no hash). */
    ck_assert_uint_eq(r.scanned, 1);
    ck_assert_uint_eq(r.complete, 0);
    stw_nested_destroy(n);
    free(z);
}
END_TEST

/* ---- gzip inside layer files: ISA-L's stream, libarchive's formats ----- */

START_TEST(test_nested_gzip_tar_plain_and_multi_member_give_their_bytes)
{
    const char text[] = "user=deploy\npassword=Xk9mQ2vLp7zR4wTe\n";
    size_t nl = 200000;
    char *noise = incompressible(nl);
    member m[] = {{"etc/app.conf", text, sizeof(text) - 1},
                  {"etc/noise.bin", noise, nl}};
    /* The tar itself, and gzip'd whole, and gzip'd as two members that
     * split it mid-header (as `cat a.gz b.gz` makes one stream). */
    unsigned char *tar, *tgz, *g1, *g2, *multi;
    size_t tl, tgl, g1l, g2l, ml;
    build("tar", m, 2, &tar, &tl);
    build("tar.gz", m, 2, &tgz, &tgl);
    gzip_bytes(tar, 700, &g1, &g1l);
    gzip_bytes(tar + 700, tl - 700, &g2, &g2l);
    multi = cat(g1, g1l, g2, g2l, &ml);
    const unsigned char *in[] = {tgz, multi};
    const size_t inl[] = {tgl, ml};
    for (size_t k = 0; k < 2; k++) {
        for (size_t step = 1000; step <= (1 << 20); step *= 1024) {
            rec r = {0};
            stw_nested *n = make(&r, NULL);
            scan(n, "opt/backup.tar.gz", in[k], inl[k], step);
            ck_assert_uint_eq(r.n_files, 2);
            expect_content(&r, "opt/backup.tar.gz!/etc/app.conf", text,
                           sizeof(text) - 1);
            expect_content(&r, "opt/backup.tar.gz!/etc/noise.bin", noise, nl);
            ck_assert_uint_eq(r.n_notes, 0);
            ck_assert_uint_eq(r.scanned, 1);
            ck_assert_uint_eq(r.complete, 1);
            stw_nested_destroy(n);
        }
    }
    /* A single stream in two members is one file of both contents. */
    unsigned char *a, *b, *ab;
    size_t al, bl, abl;
    gzip_bytes(text, sizeof(text) - 1, &a, &al);
    gzip_bytes(noise, 1000, &b, &bl);
    ab = cat(a, al, b, bl, &abl);
    unsigned char *want;
    size_t wl;
    want = cat(text, sizeof(text) - 1, noise, 1000, &wl);
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "var/log/app.log.2.gz", ab, abl, 1 << 20);
    expect_only(&r, "var/log/app.log.2.gz!/app.log.2", want, wl);
    stw_nested_destroy(n);
    free(tar), free(tgz), free(g1), free(g2), free(multi);
    free(a), free(b), free(ab), free(want), free(noise);
}
END_TEST

/* stw_gunzip alone, its input in pieces of one byte (headers, trailers
 * and the seam between members all fall across pieces), of a few bytes,
 * and whole. */
START_TEST(test_nested_gunzip_one_byte_pieces_and_what_follows_a_stream)
{
    const char a[] = "first member\n", b[] = "second member\n";
    unsigned char *ga, *gb, *two;
    size_t gal, gbl, twol;
    gzip_bytes(a, sizeof(a) - 1, &ga, &gal);
    gzip_bytes(b, sizeof(b) - 1, &gb, &gbl);
    two = cat(ga, gal, gb, gbl, &twol);
    /* What follows the last member: nothing, zeros, text, a lone magic
     * byte, a cut header - all end the stream quietly, as in gzip(1), and
     * the stream's end is where the second member ends. */
    static const struct {
        const char *p;
        size_t n;
    } tail[] = {{"", 0},
                {"\0\0\0\0\0\0\0\0", 8},
                {"GARBAGE password=x\n", 19},
                {"\x1f", 1},
                {"\x1f\x8b\x08\0\0", 5},
                {"\x1f\x8b\x09\0\0\0\0\0\0\x03junk", 14}};
    static const size_t steps[] = {1, 5, 1 << 20};
    for (size_t t = 0; t < sizeof(tail) / sizeof(tail[0]); t++) {
        for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
            size_t inl;
            unsigned char *in = cat(two, twol, tail[t].p, tail[t].n, &inl);
            src sr = {in, inl, 0, steps[k]};
            stw_gunzip *g;
            stw_error err = {0};
            ck_assert_int_eq(stw_gunzip_create(src_read, &sr, &g, &err),
                             STW_OK);
            uint64_t end = 0;
            bool damaged = true;
            ck_assert(!stw_gunzip_end(g, &end, &damaged)); /* not before */
            char out[64];
            size_t ol = 0;
            for (;;) {
                const void *p;
                size_t l;
                ck_assert_int_eq(stw_gunzip_read(g, &p, &l, &err), STW_OK);
                if (!l)
                    break;
                ck_assert_uint_le(ol + l, sizeof(out));
                memcpy(out + ol, p, l);
                ol += l;
            }
            ck_assert_uint_eq(ol, sizeof(a) - 1 + sizeof(b) - 1);
            ck_assert(!memcmp(out, a, sizeof(a) - 1));
            ck_assert(!memcmp(out + sizeof(a) - 1, b, sizeof(b) - 1));
            ck_assert(!stw_gunzip_bad_check(g));
            ck_assert(stw_gunzip_end(g, &end, &damaged));
            ck_assert(!damaged);
            ck_assert_msg(end == twol, "tail %zu, step %zu: end %llu, want %zu",
                          t, steps[k], (unsigned long long)end, twol);
            stw_gunzip_destroy(g);
            free(in);
        }
    }
    /* A stream cut inside its second member, or whose second member is
     * a whole gzip header and then no deflate data: the end is where the
     * first member ends, and the stream is damaged there. Cut inside the
     * first member, it has no end to tell. */
    static const unsigned char fake[] = "\x1f\x8b\x08\0\0\0\0\0\0\x03"
                                        "password=plain-text-after\n";
    size_t fakel;
    unsigned char *withfake = cat(ga, gal, fake, sizeof(fake) - 1, &fakel);
    static const struct {
        size_t cut;    /* bytes of the input */
        bool fake;     /* ga + fake, not two */
        stw_status st; /* what the read fails with */
        bool has_end;
    } dmg[] = {{0, false, STW_ERR_TRUNCATED, true},
               {0, true, STW_ERR_FORMAT, true},
               {8, false, STW_ERR_TRUNCATED, false}};
    for (size_t i = 0; i < sizeof(dmg) / sizeof(dmg[0]); i++) {
        size_t inl = dmg[i].fake ? fakel : dmg[i].cut ? dmg[i].cut : twol - 3;
        src sr = {dmg[i].fake ? withfake : two, inl, 0, 1};
        stw_gunzip *g;
        stw_error err = {0};
        ck_assert_int_eq(stw_gunzip_create(src_read, &sr, &g, &err), STW_OK);
        const void *p;
        size_t l = 1;
        while (l && stw_gunzip_read(g, &p, &l, &err) == STW_OK)
            ;
        ck_assert_int_eq(stw_gunzip_read(g, &p, &l, &err), dmg[i].st);
        uint64_t end = 0;
        bool damaged = false;
        ck_assert(stw_gunzip_end(g, &end, &damaged) == dmg[i].has_end);
        if (dmg[i].has_end) {
            ck_assert(damaged);
            ck_assert_uint_eq(end, gal);
        }
        stw_gunzip_destroy(g);
    }
    free(withfake);
    free(ga), free(gb), free(two);
}
END_TEST

START_TEST(test_nested_gzip_damaged_is_a_note_and_its_bytes_are_scanned)
{
    const char text[] = "line one\napi_key=AIzaSyD-example-value-0123456\n";
    size_t tl0 = sizeof(text) - 1;
    unsigned char *g;
    size_t gl;
    gzip_bytes(text, tl0, &g, &gl);

    /* A CRC that does not match: what it inflated to is scanned, and the
     * note says it is damaged (libarchive's filter never checked). */
    unsigned char *bad = cat(g, gl, "", 0, &gl);
    bad[gl - 8] ^= 0xff;
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "app.log.gz", bad, gl, 1 << 20);
    expect_content(&r, "app.log.gz!/app.log", text, tl0);
    ck_assert(has_note(&r, "app.log.gz: damaged gzip stream: a member's CRC"));
    stw_nested_destroy(n);
    free(bad);

    /* Cut before its end, too short to be opened: scanned as the bytes it
     * is, under its own name, with the reason. */
    rec c = {0};
    n = make(&c, NULL);
    scan(n, "cut.gz", g, gl - 3, 1 << 20);
    ck_assert_uint_eq(c.n_files, 1);
    expect_content(&c, "cut.gz", g, gl - 3);
    ck_assert(has_note(
        &c, "cut.gz: starts like gzip but cannot be opened (truncated gzip "
            "stream); scanned as it is"));
    stw_nested_destroy(n);

    /* Text after the stream ends it, and is no member's: the same file,
     * and the text scanned as it is under the file's own path, with a
     * note. */
    size_t tgl;
    unsigned char *tg = cat(g, gl, "GARBAGE\n", 8, &tgl);
    rec t = {0};
    n = make(&t, NULL);
    scan(n, "app.log.gz", tg, tgl, 1 << 20);
    ck_assert_uint_eq(t.n_files, 2);
    expect_content(&t, "app.log.gz!/app.log", text, tl0);
    expect_content(&t, "app.log.gz", "GARBAGE\n", 8);
    ck_assert_uint_eq(t.n_notes, 1);
    ck_assert_str_eq(t.notes[0], "app.log.gz: 8 bytes after the gzip stream; "
                                 "scanned as they are");
    stw_nested_destroy(n);
    free(tg);

    /* Not gzip after its magic (reserved flags, then no deflate data):
     * scanned as it is. libarchive's filter refused the header and its raw
     * reader then nested the file in itself to the depth bound
     * ("x.gz!/x!/x!/x!/x"). */
    static const unsigned char fake[] = "\x1f\x8b\x08\xe0\0\0\0\0\0\x03"
                                        "password=not-deflate-at-all\n";
    rec f = {0};
    n = make(&f, NULL);
    scan(n, "fake.gz", fake, sizeof(fake) - 1, 1 << 20);
    ck_assert_uint_eq(f.n_files, 1);
    expect_content(&f, "fake.gz", fake, sizeof(fake) - 1);
    ck_assert(has_note(&f, "fake.gz: starts like gzip but cannot be opened"));
    stw_nested_destroy(n);
    free(g);
}
END_TEST

START_TEST(test_nested_gzip_tar_cut_or_damaged_keeps_earlier_members)
{
    size_t nl = 200000;
    char *noise = incompressible(nl);
    member m[] = {{"etc/first.txt", "first\n", 6},
                  {"etc/noise.bin", noise, nl}};
    unsigned char *t;
    size_t tl;
    build("tar.gz", m, 2, &t, &tl);
    /* Cut in the middle: the first member whole, a note for the second. */
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "b.tar.gz", t, tl / 2, 1 << 20);
    expect_content(&r, "b.tar.gz!/etc/first.txt", "first\n", 6);
    ck_assert(has_note(&r, "b.tar.gz!/etc/noise.bin: damaged archive member: "
                           "truncated gzip stream"));
    ck_assert_uint_eq(r.complete, 0);
    stw_nested_destroy(n);
    /* Cut in the gzip trailer, after the tar's end: every member, and the
     * damage reported rather than cached as a complete archive. */
    rec e = {0};
    n = make(&e, NULL);
    scan(n, "b.tar.gz", t, tl - 4, 1 << 20);
    expect_content(&e, "b.tar.gz!/etc/noise.bin", noise, nl);
    ck_assert(has_note(&e, "b.tar.gz: damaged gzip stream after the "
                           "archive's end (truncated gzip stream)"));
    ck_assert_uint_eq(e.scanned, 1);
    ck_assert_uint_eq(e.complete, 0);
    stw_nested_destroy(n);
    /* A wrong CRC: the same, as a mismatch. */
    t[tl - 8] ^= 0xff;
    rec c = {0};
    n = make(&c, NULL);
    scan(n, "b.tar.gz", t, tl, 1 << 20);
    expect_content(&c, "b.tar.gz!/etc/noise.bin", noise, nl);
    ck_assert(has_note(&c, "b.tar.gz: damaged gzip stream: a member's CRC"));
    ck_assert_uint_eq(c.complete, 0);
    stw_nested_destroy(n);
    free(t);
    free(noise);
}
END_TEST

/* gzip whose content is gzip again: each stream is a level of the chain
 * (libarchive's filter chain made it one). */
START_TEST(test_nested_gzip_in_gzip_is_one_level_each)
{
    const char text[] = "token: x\n";
    unsigned char *g, *gg;
    size_t gl, ggl;
    gzip_bytes(text, sizeof(text) - 1, &g, &gl);
    gzip_bytes(g, gl, &gg, &ggl);
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "a.txt.gz.gz", gg, ggl, 1 << 20);
    ck_assert_uint_eq(r.n_files, 1);
    expect_content(&r, "a.txt.gz.gz!/a.txt.gz!/a.txt", text, sizeof(text) - 1);
    stw_nested_destroy(n);
    free(g), free(gg);
}
END_TEST

/* 64 MiB and more of zeros as one tar member, in a gzip stream written
 * in pieces (never whole in memory); name_len > 0 gives the member a name
 * of that length. */
static unsigned char *zeros_tgz(size_t mib, size_t name_len, size_t *len)
{
    size_t cap = (mib << 10) + (1u << 20);
    unsigned char *buf = malloc(cap);
    char *name = malloc(name_len + 8);
    ck_assert_ptr_nonnull(buf);
    ck_assert_ptr_nonnull(name);
    memset(name, 'n', name_len);
    strcpy(name + name_len, "/zeros");
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_gzip(a);
    size_t used = 0;
    ck_assert_int_eq(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)mib << 20);
    ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
    static char zero[1 << 20];
    for (size_t i = 0; i < mib; i++)
        ck_assert_int_eq(archive_write_data(a, zero, sizeof(zero)),
                         (la_ssize_t)sizeof(zero));
    archive_entry_clear(e);
    archive_entry_set_pathname(e, "after.txt");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 6);
    ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
    archive_write_data(a, "after\n", 6);
    archive_entry_free(e);
    ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    free(name);
    *len = used;
    return buf;
}

START_TEST(test_nested_gzip_bombs_stop_at_the_byte_bound)
{
    stw_nested_limits lim = {.max_bytes = 1u << 20};
    /* A member that inflates past the bound: stopped in it. */
    size_t tl;
    unsigned char *t = zeros_tgz(16, 1, &tl);
    rec r = {0};
    stw_nested *n = make(&r, &lim);
    scan(n, "bomb.tar.gz", t, tl, 1 << 20);
    ck_assert(has_note(&r, "bomb.tar.gz: nested archives: stopped after"));
    ck_assert(has_note(&r, "--max-nested-bytes"));
    ck_assert(!has_file(&r, "bomb.tar.gz!/after.txt"));
    ck_assert_uint_le(r.content[file_index(&r, "bomb.tar.gz!/n/zeros")],
                      (1u << 20) + (256u << 10));
    stw_nested_destroy(n);
    free(t);
    /* A member skipped for its name (over 64 KiB) is inflated all the
     * same, to be passed over: bounded too, past the members' own bound
     * plus STW_RATIO_GRACE (libarchive's filter inflated all of it). */
    t = zeros_tgz((STW_RATIO_GRACE >> 20) + 16, STW_MAX_ENTRY_PATH + 1, &tl);
    rec s = {0};
    n = make(&s, &lim);
    scan(n, "skip.tar.gz", t, tl, 1 << 20);
    ck_assert(has_note(&s, "with a name over 64 KiB was skipped"));
    ck_assert(has_note(&s, "skip.tar.gz: nested archives: stopped after"));
    ck_assert(!has_file(&s, "skip.tar.gz!/after.txt"));
    ck_assert_uint_eq(s.complete, 0);
    stw_nested_destroy(n);
    free(t);
}
END_TEST

/* ---- bytes after a gzip stream ------------------------------------------ */

/* What `cat x.gz key.txt` appends. The sink here records bytes and matches
 * nothing, so the text only has to be recognisable. */
static const char tail_key[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n"
                               "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n"
                               "-----END OPENSSH PRIVATE KEY-----\n";
#define TAIL_KEY_LEN (sizeof(tail_key) - 1)

/* The note of n bytes after the stream of the gzip file at path. */
static void expect_tail_note(const rec *r, const char *path, size_t n)
{
    char want[600];
    snprintf(want, sizeof(want),
             "%s: %zu bytes after the gzip stream; scanned as they are", path,
             n);
    for (size_t i = 0; i < r->n_notes; i++)
        if (!strcmp(r->notes[i], want))
            return;
    ck_abort_msg("no note \"%s\" (%zu notes)", want, r->n_notes);
}

/* The gzip file at path was scanned as its one member (name: its name
 * in the chain) holding the n bytes at p, then tail_key after its stream
 * as the file's own bytes, with the note: nothing else. */
static void expect_member_and_tail(const rec *r, const char *path,
                                   const char *name, const void *p, size_t n)
{
    char mpath[600];
    snprintf(mpath, sizeof(mpath), "%s!/%s", path, name);
    ck_assert_uint_eq(r->n_files, 2);
    expect_content(r, mpath, p, n);
    expect_content(r, path, tail_key, TAIL_KEY_LEN);
    ck_assert_uint_eq(r->n_notes, 1);
    expect_tail_note(r, path, TAIL_KEY_LEN);
}

/* The archive of len bytes at p, scanned as path, gives its one member
 * (mpath: n bytes at content) and nothing else, and is cached whole when
 * cached (a single compressed stream never is: its member is named after
 * its path). */
static void expect_one_member(const char *path, const void *p, size_t len,
                              const char *mpath, const void *content, size_t n,
                              unsigned cached)
{
    rec z = {0};
    stw_nested *nz = make(&z, NULL);
    scan(nz, path, p, len, 1 << 20);
    expect_only(&z, mpath, content, n);
    ck_assert_uint_eq(z.complete, cached);
    stw_nested_destroy(nz);
}

START_TEST(test_nested_gzip_trailer_is_scanned_at_the_file_path)
{
    /* cat backup.gz key.txt: big enough to be worth caching. */
    size_t nl = STW_NESTED_CACHE_MIN + 4096;
    char *noise = incompressible(nl);
    unsigned char *g, *in;
    size_t gl, inl;
    gzip_bytes(noise, nl, &g, &gl);
    in = cat(g, gl, tail_key, TAIL_KEY_LEN, &inl);
    for (size_t step = 1000; step <= (1 << 20); step *= 1024) {
        rec r = {0};
        stw_nested *n = make(&r, NULL);
        scan(n, "srv/backup.gz", in, inl, step);
        expect_member_and_tail(&r, "srv/backup.gz", "backup", noise, nl);
        /* Not cached: the cache replays members' findings only. */
        ck_assert_uint_eq(r.scanned, 1);
        ck_assert_uint_eq(r.complete, 0);
        stw_nested_destroy(n);
    }
    free(in);
    /* Zeros after it (tape or block padding): nothing more, no note (and
     * not cached, as no single stream is). */
    static const unsigned char pad[10240];
    in = cat(g, gl, pad, sizeof(pad), &inl);
    expect_one_member("srv/backup.gz", in, inl, "srv/backup.gz!/backup", noise,
                      nl, 0);
    free(in);
    /* Zeros and then text: all of it, from the stream's end. */
    unsigned char *zt;
    size_t ztl;
    zt = cat(pad, sizeof(pad), tail_key, TAIL_KEY_LEN, &ztl);
    in = cat(g, gl, zt, ztl, &inl);
    rec t = {0};
    stw_nested *n = make(&t, NULL);
    scan(n, "srv/backup.gz", in, inl, 1 << 20);
    expect_content(&t, "srv/backup.gz", zt, ztl);
    expect_tail_note(&t, "srv/backup.gz", ztl);
    stw_nested_destroy(n);
    free(in), free(zt), free(g), free(noise);
}
END_TEST

/* `cat backup.tar notes.txt`: a tar reader stops at the end-of-archive
 * blocks, so what follows them is scanned as it is, from their end (the
 * record's zero padding included), under the tar's own path; a tar whose
 * padding is all that follows is left alone and cached. */
START_TEST(test_nested_bytes_after_a_tar_are_scanned)
{
    size_t nl = STW_NESTED_CACHE_MIN + 4096;
    char *noise = incompressible(nl);
    member m[] = {{"db/dump.bin", noise, nl}};
    unsigned char *tar, *in;
    size_t tl, inl;
    build("tar", m, 1, &tar, &tl);
    /* The end-of-archive blocks end 1024 bytes after the last member's
     * data, rounded up to a block. */
    size_t end = 512 + (nl + 511) / 512 * 512 + 1024;
    ck_assert_uint_le(end, tl);
    in = cat(tar, tl, tail_key, TAIL_KEY_LEN, &inl);
    for (size_t step = 1000; step <= (1 << 20); step *= 1024) {
        rec r = {0};
        stw_nested *n = make(&r, NULL);
        scan(n, "srv/backup.tar", in, inl, step);
        ck_assert_uint_eq(r.n_files, 2);
        expect_content(&r, "srv/backup.tar!/db/dump.bin", noise, nl);
        expect_content(&r, "srv/backup.tar", in + end, inl - end);
        char want[300];
        snprintf(want, sizeof(want),
                 "srv/backup.tar: %zu bytes after the end of the tar archive; "
                 "scanned as they are",
                 inl - end);
        ck_assert_uint_eq(r.n_notes, 1);
        ck_assert_str_eq(r.notes[0], want);
        ck_assert_uint_eq(r.scanned, 1);
        ck_assert_uint_eq(r.complete, 0);
        stw_nested_destroy(n);
    }
    expect_one_member("srv/backup.tar", tar, tl, "srv/backup.tar!/db/dump.bin",
                      noise, nl, 1);
    free(in), free(tar), free(noise);
}
END_TEST

/* A whole gzip header and then text, after a good member: the stream
 * fails there, and the text must not hide behind the damage. */
START_TEST(test_nested_gzip_text_behind_a_fake_member_is_scanned)
{
    /* More than one read of the stream: damage in the first read is a
     * file that cannot be opened, scanned whole. */
    size_t tl = 300u << 10;
    char *text = incompressible(tl);
    unsigned char *g, *fk, *in;
    size_t gl, fkl, inl;
    gzip_bytes(text, tl, &g, &gl);
    static const unsigned char hdr[] = "\x1f\x8b\x08\0\0\0\0\0\0\x03";
    fk = cat(hdr, sizeof(hdr) - 1, tail_key, TAIL_KEY_LEN, &fkl);
    in = cat(g, gl, fk, fkl, &inl);
    for (size_t step = 1; step <= (1 << 20); step *= 1024) {
        rec r = {0};
        stw_nested *n = make(&r, NULL);
        scan(n, "srv/app.log.gz", in, inl, step);
        expect_content(&r, "srv/app.log.gz!/app.log", text, tl);
        expect_content(&r, "srv/app.log.gz", fk, fkl);
        char want[300];
        snprintf(want, sizeof(want),
                 "srv/app.log.gz: %zu bytes after the last whole member of "
                 "the damaged gzip stream; scanned as they are",
                 fkl);
        ck_assert_msg(has_note(&r, want), "no note \"%s\"", want);
        ck_assert_uint_eq(r.complete, 0);
        stw_nested_destroy(n);
    }
    free(in), free(fk), free(g), free(text);
}
END_TEST

/* Bytes a gzip stream inflates to after the end of the tar inside it
 * (`cat x.tar key.pem | gzip`) are in no member: scanned at the file's
 * own path with a note, in one stream or two members, and in pieces of
 * one byte; zeros alone there are padding. */
START_TEST(test_nested_bytes_after_a_tar_inside_its_gzip_stream)
{
    const char conf[] = "user=deploy\n";
    member m[] = {{"etc/app.conf", conf, sizeof(conf) - 1}};
    unsigned char *tar;
    size_t tl;
    build("tar", m, 1, &tar, &tl);
    size_t wl;
    unsigned char *with = cat(tar, tl, tail_key, TAIL_KEY_LEN, &wl);
    unsigned char *one, *g1, *g2, *two;
    size_t onel, g1l, g2l, twol;
    gzip_bytes(with, wl, &one, &onel);
    gzip_bytes(tar, tl, &g1, &g1l);
    gzip_bytes(tail_key, TAIL_KEY_LEN, &g2, &g2l);
    two = cat(g1, g1l, g2, g2l, &twol);
    const unsigned char *gz[] = {one, two, one};
    const size_t gzl[] = {onel, twol, onel};
    const size_t step[] = {4096, 4096, 1};
    char note[300];
    snprintf(note, sizeof(note),
             "srv/backup.tgz: %zu bytes after the end of the tar archive in "
             "its gzip stream; scanned as they are",
             TAIL_KEY_LEN);
    for (size_t k = 0; k < 3; k++) {
        rec r = {0};
        stw_nested *n = make(&r, NULL);
        scan(n, "srv/backup.tgz", gz[k], gzl[k], step[k]);
        ck_assert_uint_eq(r.n_files, 2);
        expect_content(&r, "srv/backup.tgz!/etc/app.conf", conf,
                       sizeof(conf) - 1);
        expect_content(&r, "srv/backup.tgz", tail_key, TAIL_KEY_LEN);
        ck_assert_uint_eq(r.n_notes, 1);
        ck_assert_str_eq(r.notes[0], note);
        ck_assert_uint_eq(r.complete, 0);
        stw_nested_destroy(n);
    }
    /* A tar and 2 MiB of zeros in the stream: padding, nothing to say. */
    unsigned char *padded;
    size_t pl;
    gzip_with_zeros(tar, tl, 2, &padded, &pl);
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "srv/backup.tgz", padded, pl, 4096);
    ck_assert_uint_eq(r.n_files, 1);
    ck_assert_uint_eq(r.n_notes, 0);
    stw_nested_destroy(n);
    free(tar), free(with), free(one), free(g1), free(g2), free(two);
    free(padded);
}
END_TEST

static void zstd_bytes(const void *p, size_t n, unsigned char **out,
                       size_t *outlen)
{
    packed_bytes(false, p, n, out, outlen);
}

static void xz_bytes(const void *p, size_t n, unsigned char **out,
                     size_t *outlen)
{
    packed_bytes(true, p, n, out, outlen);
}

/* Bytes after a zstd stream's last whole frame or an xz stream (`cat
 * x.tar.zst key.pem`; libarchive could not even open such an xz file): a
 * single stream, two, a tar in one, and one spilled to a temporary file
 * (walked through a mapping) are scanned at the file's own path with a
 * note; a file that is the stream to its end, or has zeros after it
 * (padding), has none. */
static void stream_trailer_cases(bool xz)
{
    void (*pack)(const void *, size_t, unsigned char **, size_t *) =
        xz ? xz_bytes : zstd_bytes;
    const char *path = xz ? "srv/x.xz" : "srv/x.zst";
    const char text[] = "user=deploy\nhost=db\n";
    const char conf[] = "password=hunter2hunter2\n";
    member m[] = {{"etc/app.conf", conf, sizeof(conf) - 1}};
    unsigned char *s1, *s2, *two, *tar;
    size_t s1l, s2l, twol, tl;
    pack(text, sizeof(text) - 1, &s1, &s1l);
    pack(conf, sizeof(conf) - 1, &s2, &s2l);
    two = cat(s1, s1l, s2, s2l, &twol);
    build(xz ? "tar.xz" : "tar.zst", m, 1, &tar, &tl);
    size_t big = STW_NESTED_MEM_MAX + 4096;
    char *junk = incompressible(big);
    unsigned char *sbig;
    size_t sbl;
    pack(junk, big, &sbig, &sbl);
    free(junk);
    const unsigned char *ss[] = {s1, two, tar, sbig};
    const size_t sl[] = {s1l, twol, tl, sbl};
    const char *inner[] = {"x", "x", "etc/app.conf", "x"};
    char note[200];
    snprintf(note, sizeof(note),
             "%s: %zu bytes after the %s stream; scanned "
             "as they are",
             path, TAIL_KEY_LEN, xz ? "xz" : "zstd");
    for (size_t k = 0; k < 4; k++) {
        size_t inl;
        unsigned char *in = cat(ss[k], sl[k], tail_key, TAIL_KEY_LEN, &inl);
        char member_of[64];
        snprintf(member_of, sizeof(member_of), "%s!/%s", path, inner[k]);
        rec r = {0};
        stw_nested *n = make(&r, NULL);
        scan(n, path, in, inl, 65536);
        ck_assert_msg(has_file(&r, member_of), "case %zu: no %s", k, member_of);
        expect_content(&r, path, tail_key, TAIL_KEY_LEN);
        ck_assert_uint_eq(r.n_notes, 1);
        ck_assert_str_eq(r.notes[0], note);
        ck_assert_uint_eq(r.complete, 0);
        stw_nested_destroy(n);
        free(in);
    }
    char tar_member[64];
    snprintf(tar_member, sizeof(tar_member), "%s!/etc/app.conf", path);
    static const unsigned char zeros[4096];
    for (size_t k = 0; k < 2; k++) {
        size_t pl;
        unsigned char *padded = k ? cat(tar, tl, zeros, sizeof(zeros), &pl)
                                  : cat(tar, tl, "", 0, &pl);
        rec r = {0};
        stw_nested *n = make(&r, NULL);
        scan(n, path, padded, pl, 65536);
        ck_assert(has_file(&r, tar_member));
        ck_assert_uint_eq(r.n_notes, 0);
        stw_nested_destroy(n);
        free(padded);
    }
    free(s1), free(s2), free(two), free(tar), free(sbig);
}

START_TEST(test_nested_bytes_after_a_zstd_stream)
{
    stream_trailer_cases(false);
}
END_TEST

START_TEST(test_nested_bytes_after_an_xz_stream)
{
    stream_trailer_cases(true);
}
END_TEST

/* An xz bomb with a byte appended (many streams of 64 MiB of one letter;
 * zeros alone would sniff as an empty tar): finding where its streams end
 * stops at the outer file's byte budget, so the file costs what the bound
 * allows, not the 128 GB it holds. */
START_TEST(test_nested_xz_end_stops_at_the_byte_bound)
{
    size_t zl = 64u << 20;
    char *same = malloc(zl);
    memset(same, 'A', zl);
    unsigned char *one;
    size_t onel;
    xz_bytes(same, zl, &one, &onel);
    free(same);
    size_t copies = 2000, bl = onel * copies + 1;
    unsigned char *bomb = malloc(bl);
    for (size_t i = 0; i < copies; i++)
        memcpy(bomb + i * onel, one, onel);
    bomb[bl - 1] = 'x';
    free(one);
    rec r = {0};
    stw_nested_limits lim = {.max_bytes = 1u << 20};
    stw_nested *n = make(&r, &lim);
    clock_t t0 = clock();
    scan(n, "srv/bomb.xz", bomb, bl, 1 << 20);
    double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
    /* Unbounded, its 128 GB of zeros take minutes to decode. */
    ck_assert_msg(cpu < 10.0, "%.1f CPU-s", cpu);
    ck_assert(has_note(&r, "--max-nested-bytes"));
    stw_nested_destroy(n);
    free(bomb);
}
END_TEST

/* A compressed file whose content starts with zero blocks (an ISO image,
 * a disk image) is no tar, though libarchive's tar reader takes it for an
 * empty one: its content is one raw member, scanned whole - the key after
 * 4 KiB of zeros, or after one zero block and then text. */
START_TEST(test_nested_zero_led_stream_is_one_raw_member)
{
    size_t kl = TAIL_KEY_LEN;
    unsigned char *img = calloc(1, 4096 + kl);
    memcpy(img + 4096, tail_key, kl);
    unsigned char *one = calloc(1, 512 + 5 + kl);
    memcpy(one + 512, "boot\n", 5);
    memcpy(one + 517, tail_key, kl);
    const unsigned char *raw[] = {img, one};
    const size_t rawl[] = {4096 + kl, 517 + kl};
    for (size_t k = 0; k < 2; k++) {
        unsigned char *pk[3];
        size_t pl[3];
        gzip_bytes(raw[k], rawl[k], &pk[0], &pl[0]);
        zstd_bytes(raw[k], rawl[k], &pk[1], &pl[1]);
        xz_bytes(raw[k], rawl[k], &pk[2], &pl[2]);
        static const char *const paths[] = {"srv/d.img.gz", "srv/d.img.zst",
                                            "srv/d.img.xz"};
        static const char *const members[] = {"srv/d.img.gz!/d.img",
                                              "srv/d.img.zst!/d.img",
                                              "srv/d.img.xz!/d.img"};
        for (size_t f = 0; f < 3; f++) {
            rec r = {0};
            stw_nested *n = make(&r, NULL);
            scan(n, paths[f], pk[f], pl[f], 65536);
            expect_content(&r, members[f], raw[k], rawl[k]);
            ck_assert_uint_eq(r.n_notes, 0);
            stw_nested_destroy(n);
            free(pk[f]);
        }
    }
    free(img);
    free(one);
}
END_TEST

START_TEST(test_nested_gzip_trailer_after_a_tar_single_or_multi_member)
{
    const char conf[] = "user=deploy\n";
    member m[] = {{"etc/app.conf", conf, sizeof(conf) - 1}};
    unsigned char *tar, *tgz, *g1, *g2, *multi, *padded;
    size_t tl, tgl, g1l, g2l, ml, pl;
    build("tar", m, 1, &tar, &tl);
    build("tar.gz", m, 1, &tgz, &tgl);
    /* The tar in two members (the seam inside its first header), and the
     * tar followed inside the stream by 2 MiB of zeros, more than a tar's
     * end ever leaves: the stream is still read to its end. */
    gzip_bytes(tar, 300, &g1, &g1l);
    gzip_bytes(tar + 300, tl - 300, &g2, &g2l);
    multi = cat(g1, g1l, g2, g2l, &ml);
    gzip_with_zeros(tar, tl, 2, &padded, &pl);
    const unsigned char *gz[] = {tgz, multi, padded};
    const size_t gzl[] = {tgl, ml, pl};
    for (size_t k = 0; k < 3; k++) {
        size_t inl;
        unsigned char *in = cat(gz[k], gzl[k], tail_key, TAIL_KEY_LEN, &inl);
        rec r = {0};
        stw_nested *n = make(&r, NULL);
        scan(n, "var/cache/pkg.tgz", in, inl, 4096);
        expect_member_and_tail(&r, "var/cache/pkg.tgz", "etc/app.conf", conf,
                               sizeof(conf) - 1);
        stw_nested_destroy(n);
        free(in);
    }
    free(tar), free(tgz), free(g1), free(g2), free(multi), free(padded);
}
END_TEST

/* A .gz with a trailer as a member of a tar: the trailer is the member's
 * bytes, under the member's chain path. Neither is cached: a cache record
 * replays findings but not notes, and the tar's walk made one (the
 * trailer's), which would be lost the next time the tar is met. */
START_TEST(test_nested_gzip_trailer_at_depth_two)
{
    size_t nl = STW_NESTED_CACHE_MIN + 4096;
    char *noise = incompressible(nl);
    unsigned char *g, *gz, *tar;
    size_t gl, gzl, tl;
    gzip_bytes(noise, nl, &g, &gl);
    gz = cat(g, gl, tail_key, TAIL_KEY_LEN, &gzl);
    member m[] = {{"db/backup.gz", gz, gzl}};
    build("tar", m, 1, &tar, &tl);
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "opt/dump.tar", tar, tl, 1 << 20);
    expect_member_and_tail(&r, "opt/dump.tar!/db/backup.gz", "backup", noise,
                           nl);
    ck_assert_uint_eq(r.scanned, 2);
    ck_assert_uint_eq(r.complete, 0);
    stw_nested_destroy(n);
    /* The same tar with a clean .gz inside: the tar cached (a single
     * stream never is: its member is named after its path). */
    unsigned char *clean;
    size_t cl;
    member mc[] = {{"db/backup.gz", g, gl}};
    build("tar", mc, 1, &clean, &cl);
    rec c = {0};
    n = make(&c, NULL);
    scan(n, "opt/dump.tar", clean, cl, 1 << 20);
    ck_assert_uint_eq(c.n_notes, 0);
    ck_assert_uint_eq(c.scanned, 2);
    ck_assert_uint_eq(c.complete, 1);
    ck_assert_str_eq(c.last_complete, "opt/dump.tar");
    stw_nested_destroy(n);
    free(clean);
    free(noise), free(g), free(gz), free(tar);
}
END_TEST

/* Past the in-memory bound the spool is a temporary file: what follows
 * the stream is read from it in pieces, from the stream's end; zeros over
 * more than one piece before the text are looked through. */
START_TEST(test_nested_gzip_trailer_of_a_spilled_file)
{
    size_t nl = STW_NESTED_MEM_MAX + (1u << 20);
    char *noise = incompressible(nl);
    unsigned char *g;
    size_t gl;
    gzip_bytes(noise, nl, &g, &gl);
    ck_assert_uint_gt(gl, STW_NESTED_MEM_MAX);
    size_t zl = 600u << 10;
    unsigned char *zeros = calloc(1, zl);
    unsigned char *tail, *in;
    size_t tl, inl;
    tail = cat(zeros, zl, tail_key, TAIL_KEY_LEN, &tl);
    in = cat(g, gl, tail, tl, &inl);
    rec r = {0};
    stw_nested *n = make(&r, NULL);
    scan(n, "big.gz", in, inl, 256 << 10);
    expect_content(&r, "big.gz!/big", noise, nl);
    expect_content(&r, "big.gz", tail, tl);
    expect_tail_note(&r, "big.gz", tl);
    ck_assert_uint_eq(r.complete, 0);
    stw_nested_destroy(n);
    free(in);
    /* Zeros alone: nothing. */
    in = cat(g, gl, zeros, zl, &inl);
    rec z = {0};
    n = make(&z, NULL);
    scan(n, "big.gz", in, inl, 256 << 10);
    expect_only(&z, "big.gz!/big", noise, nl);
    ck_assert_uint_eq(z.complete, 0); /* a single stream */
    stw_nested_destroy(n);
    free(in), free(tail), free(zeros), free(g), free(noise);
}
END_TEST

/* A stream that does not end within the byte bound has no known end:
 * the bound is the note, and nothing after it is scanned. */
START_TEST(test_nested_gzip_trailer_behind_the_byte_bound)
{
    const char conf[] = "user=deploy\n";
    member m[] = {{"etc/app.conf", conf, sizeof(conf) - 1}};
    unsigned char *tar, *g, *in;
    size_t tl, gl, inl;
    build("tar", m, 1, &tar, &tl);
    gzip_with_zeros(tar, tl, (STW_RATIO_GRACE >> 20) + 4, &g, &gl);
    in = cat(g, gl, tail_key, TAIL_KEY_LEN, &inl);
    stw_nested_limits lim = {.max_bytes = 1u << 20};
    rec r = {0};
    stw_nested *n = make(&r, &lim);
    scan(n, "pkg.tgz", in, inl, 1 << 20);
    expect_content(&r, "pkg.tgz!/etc/app.conf", conf, sizeof(conf) - 1);
    ck_assert(has_note(&r, "pkg.tgz: nested archives: stopped after"));
    ck_assert(!has_note(&r, "after the gzip stream"));
    ck_assert(!has_file(&r, "pkg.tgz"));
    stw_nested_destroy(n);
    free(tar), free(g), free(in);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("nested");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_nested_sniff_by_bytes_not_name);
    tcase_add_test(tc, test_nested_zip_members_get_chain_paths);
    tcase_add_test(tc, test_nested_cost_of_a_walk_and_room_at_a_lookup);
    tcase_add_test(tc, test_nested_archive_judged_by_its_path_is_not_cached);
    tcase_add_test(tc, test_nested_small_archive_is_never_cached);
    tcase_add_test(tc, test_nested_head_split_in_one_byte_pieces);
    tcase_add_test(tc, test_nested_single_gzip_stream_is_its_content);
    tcase_add_test(tc, test_nested_zip_in_zip_and_depth_bound);
    tcase_add_test(tc, test_nested_unreadable_names_one_note);
    tcase_add_test(tc, test_nested_deb_cpio_7z);
    tcase_add_test(tc, test_nested_empty_gzip_is_quiet);
    tcase_add_test(tc, test_nested_depth_cut_is_not_complete);
    tcase_add_test(tc,
                   test_nested_byte_bound_is_a_note_and_keeps_earlier_members);
    tcase_add_test(tc,
                   test_nested_bound_note_that_cannot_be_kept_fails_the_file);
    tcase_add_test(tc, test_nested_member_bound);
    tcase_add_test(tc, test_nested_damaged_and_fake_archives);
    tcase_add_test(tc, test_nested_large_archive_spills_to_a_temporary_file);
    tcase_add_test(tc, test_nested_spill_failure_names_the_directory);
    tcase_add_test(tc, test_nested_cache_hit_skips_the_archive);
    tcase_add_test(
        tc, test_nested_gzip_tar_plain_and_multi_member_give_their_bytes);
    tcase_add_test(
        tc, test_nested_gunzip_one_byte_pieces_and_what_follows_a_stream);
    tcase_add_test(
        tc, test_nested_gzip_damaged_is_a_note_and_its_bytes_are_scanned);
    tcase_add_test(tc,
                   test_nested_gzip_tar_cut_or_damaged_keeps_earlier_members);
    tcase_add_test(tc, test_nested_gzip_in_gzip_is_one_level_each);
    tcase_add_test(tc, test_nested_gzip_bombs_stop_at_the_byte_bound);
    tcase_add_test(tc, test_nested_gzip_trailer_is_scanned_at_the_file_path);
    tcase_add_test(tc, test_nested_gzip_text_behind_a_fake_member_is_scanned);
    tcase_add_test(tc, test_nested_bytes_after_a_tar_are_scanned);
    tcase_add_test(tc,
                   test_nested_gzip_trailer_after_a_tar_single_or_multi_member);
    tcase_add_test(tc, test_nested_bytes_after_a_tar_inside_its_gzip_stream);
    tcase_add_test(tc, test_nested_bytes_after_a_zstd_stream);
    tcase_add_test(tc, test_nested_bytes_after_an_xz_stream);
    tcase_add_test(tc, test_nested_xz_end_stops_at_the_byte_bound);
    tcase_add_test(tc, test_nested_zero_led_stream_is_one_raw_member);
    tcase_add_test(tc, test_nested_gzip_trailer_at_depth_two);
    tcase_add_test(tc, test_nested_gzip_trailer_of_a_spilled_file);
    tcase_add_test(tc, test_nested_gzip_trailer_behind_the_byte_bound);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
