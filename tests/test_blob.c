/* test_blob.c - the blob stream against real gzip/zstd CLI output: roundtrip
 * and digests for every piece size, concatenated members, truncation at
 * every offset, corruption, trailing garbage, digest mismatches, bombs and
 * size limits; and the sha256 wrapper against known vectors. */
#include "blob.h"
#include "common.h"
#include "limits.h"
#include "sha256.h"
#include "testutil.h"

#include <check.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

/* How the memory reader cuts its input into pieces. */
enum piece_mode { WHOLE, ONE_BYTE, RANDOM, FAIL_AT };

typedef struct mem_reader {
    const unsigned char *data;
    size_t len, pos;
    enum piece_mode mode;
    unsigned seed;
    size_t fail_at; /* FAIL_AT: return an I/O error once pos reaches it */
    int calls_after_eof;
} mem_reader;

static unsigned lcg(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static stw_status mem_read(void *ctx, const void **buf, size_t *len,
                           stw_error *err)
{
    mem_reader *r = ctx;
    if (r->mode == FAIL_AT && r->pos >= r->fail_at)
        return stw_fail(err, STW_ERR_IO, "disk on fire");
    size_t left = r->len - r->pos;
    if (left == 0)
        r->calls_after_eof++;
    size_t n = left;
    if (r->mode == ONE_BYTE)
        n = left ? 1 : 0;
    else if (r->mode == RANDOM && left) {
        /* Mostly small pieces, sometimes large, to hit every state. */
        unsigned x = lcg(&r->seed);
        n = (x & 3) == 0 ? 1 + x % 70000 : 1 + x % 17;
        if (n > left)
            n = left;
    } else if (r->mode == FAIL_AT && n > 4096)
        n = 4096;
    *buf = r->data + r->pos;
    *len = n;
    r->pos += n;
    return STW_OK;
}

typedef struct run_result {
    stw_status st;
    stw_error err;
    unsigned char *out;
    size_t out_len;
    stw_compression comp;
    char digest[STW_DIGEST_STR];
    char diff_id[STW_DIGEST_STR];
    uint64_t raw_bytes, out_bytes;
} run_result;

static void run_free(run_result *r)
{
    free(r->out);
    memset(r, 0, sizeof(*r));
}

/* Streams data through a blob, collecting the output (unless keep is false:
 * big inputs), then reads once more to check the end is sticky. */
static run_result run_blob_once(const void *data, size_t len,
                                enum piece_mode mode,
                                const stw_blob_options *opt, int keep)
{
    run_result res = {0};
    mem_reader r = {.data = data, .len = len, .mode = mode, .seed = 7};
    stw_blob *b = NULL;
    stw_status st = stw_blob_create(mem_read, &r, opt, &b, &res.err);
    ck_assert_int_eq(st, STW_OK);
    ck_assert_str_eq(stw_blob_digest(b), "");
    size_t cap = 0;
    for (;;) {
        const void *p;
        size_t n;
        st = stw_blob_read(b, &p, &n, &res.err);
        if (st != STW_OK || n == 0)
            break;
        ck_assert_ptr_nonnull(p);
        if (keep) {
            if (res.out_len + n > cap) {
                cap = (res.out_len + n) * 2;
                res.out = realloc(res.out, cap);
                ck_assert_ptr_nonnull(res.out);
            }
            memcpy(res.out + res.out_len, p, n);
        }
        res.out_len += n;
    }
    res.st = st;
    if (st == STW_OK) {
        /* The end repeats, and the callback is not asked again. */
        const void *p;
        size_t n = 99;
        ck_assert_int_eq(stw_blob_read(b, &p, &n, NULL), STW_OK);
        ck_assert_uint_eq(n, 0);
        ck_assert_int_le(r.calls_after_eof, 1);
    } else {
        /* A failure is sticky. */
        stw_error again = {0};
        const void *p;
        size_t n;
        ck_assert_int_eq(stw_blob_read(b, &p, &n, &again), st);
        ck_assert_str_eq(again.msg, res.err.msg);
        ck_assert_int_eq(res.err.status, st);
    }
    res.comp = stw_blob_compression(b);
    snprintf(res.digest, sizeof(res.digest), "%s", stw_blob_digest(b));
    snprintf(res.diff_id, sizeof(res.diff_id), "%s", stw_blob_diff_id(b));
    res.raw_bytes = stw_blob_raw_bytes(b);
    res.out_bytes = stw_blob_out_bytes(b);
    stw_blob_destroy(b);
    return res;
}

/* Every case runs twice: decoded on the caller's thread, and on the
 * blob's own inflater thread; the outcome must not tell them apart. */
static run_result run_blob(const void *data, size_t len, enum piece_mode mode,
                           const stw_blob_options *opt, int keep)
{
    stw_blob_options o = opt ? *opt : (stw_blob_options){0};
    o.inflate_thread = false;
    run_result a = run_blob_once(data, len, mode, &o, keep);
    o.inflate_thread = true;
    run_result t = run_blob_once(data, len, mode, &o, keep);
    ck_assert_int_eq(t.st, a.st);
    ck_assert_str_eq(t.err.msg, a.err.msg);
    ck_assert_uint_eq(t.out_len, a.out_len);
    if (keep && a.out_len)
        ck_assert_mem_eq(t.out, a.out, a.out_len);
    ck_assert_int_eq(t.comp, a.comp);
    ck_assert_str_eq(t.digest, a.digest);
    ck_assert_str_eq(t.diff_id, a.diff_id);
    ck_assert_uint_eq(t.raw_bytes, a.raw_bytes);
    ck_assert_uint_eq(t.out_bytes, a.out_bytes);
    run_free(&t);
    return a;
}

/* sha256 by a code path independent of the module: OpenSSL one-shot. */
static void ref_digest(const void *p, size_t n, char out[STW_DIGEST_STR])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    ck_assert_int_eq(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL), 1);
    ck_assert_uint_eq(len, 32);
    strcpy(out, "sha256:");
    for (unsigned i = 0; i < len; i++)
        sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

/* Compressible but not trivial: text lines with pseudo-random numbers. */
static unsigned char *make_data(size_t n)
{
    unsigned char *d = malloc(n);
    ck_assert_ptr_nonnull(d);
    unsigned s = 12345;
    size_t i = 0;
    while (i < n) {
        char line[96];
        int k = snprintf(line, sizeof(line), "usr/lib/file-%u.so %u %08x\n",
                         lcg(&s) % 5000, lcg(&s) % 100, lcg(&s));
        for (int j = 0; j < k && i < n; j++)
            d[i++] = (unsigned char)line[j];
    }
    return d;
}

/* Runs a shell command (the gzip / zstd CLIs) over files in dir. */
static void sh(const char *dir, const char *cmd)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "cd '%s' && %s", dir, cmd);
    ck_assert_msg(system(buf) == 0, "command failed: %s", buf);
}

/* Writes data to dir/in, runs cmd (which must produce dir/out) and returns
 * out's contents. */
static unsigned char *compress_with(const char *dir, const void *data, size_t n,
                                    const char *cmd, size_t *out_n)
{
    char *in = tu_path(dir, "in");
    char *out = tu_path(dir, "out");
    tu_write_file(in, data, n);
    sh(dir, cmd);
    unsigned char *res = (unsigned char *)tu_read_file(out, out_n);
    remove(in);
    remove(out);
    free(in);
    free(out);
    return res;
}

static unsigned char *gz(const char *dir, const void *d, size_t n, size_t *o)
{
    return compress_with(dir, d, n, "gzip -6 -n -c in > out", o);
}

static unsigned char *zst(const char *dir, const void *d, size_t n, size_t *o)
{
    return compress_with(dir, d, n, "zstd -q -3 -c in > out", o);
}

static unsigned char *concat(const void *a, size_t an, const void *b, size_t bn)
{
    unsigned char *p = malloc(an + bn + 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, a, an);
    memcpy(p + an, b, bn);
    return p;
}

#define DATA_LEN (1u << 20)

/* A well-formed digest that nothing here hashes to. */
#define ZERO_DIGEST                                                            \
    "sha256:0000000000000000000000000000000000000000000000000000000000000000"

/* Checks a compressed roundtrip for every piece size, with and without
 * expected digests. */
static void check_roundtrip(const unsigned char *raw, size_t raw_n,
                            const unsigned char *data, size_t n,
                            stw_compression comp)
{
    char want_digest[STW_DIGEST_STR], want_diff[STW_DIGEST_STR];
    ref_digest(raw, raw_n, want_digest);
    ref_digest(data, n, want_diff);
    enum piece_mode modes[] = {WHOLE, RANDOM, ONE_BYTE};
    for (size_t m = 0; m < STW_ARRAY_LEN(modes); m++) {
        stw_blob_options opt = {.name = "blobs/sha256/rt", .hash_output = true};
        if (m != 0) {
            opt.digest = want_digest;
            opt.diff_id = want_diff;
        }
        run_result r = run_blob(raw, raw_n, modes[m], &opt, 1);
        ck_assert_msg(r.st == STW_OK, "mode %zu: %s", m, r.err.msg);
        ck_assert_int_eq(r.comp, comp);
        ck_assert_uint_eq(r.out_len, n);
        ck_assert_msg(memcmp(r.out, data, n) == 0, "output differs");
        ck_assert_str_eq(r.digest, want_digest);
        ck_assert_str_eq(r.diff_id, want_diff);
        ck_assert_uint_eq(r.raw_bytes, raw_n);
        ck_assert_uint_eq(r.out_bytes, n);
        run_free(&r);
    }
}

/* ---- sha256 ------------------------------------------------------------- */

START_TEST(test_sha256_known_vectors_and_incremental)
{
    char out[STW_DIGEST_STR];
    ck_assert_int_eq(stw_sha256_digest("", 0, out, NULL), STW_OK);
    ck_assert_str_eq(out, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649"
                          "b934ca495991b7852b855");
    ck_assert_int_eq(stw_sha256_digest("abc", 3, out, NULL), STW_OK);
    ck_assert_str_eq(out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a3961"
                          "77a9cb410ff61f20015ad");

    stw_sha256 *h = NULL;
    ck_assert_int_eq(stw_sha256_create(&h, NULL), STW_OK);
    stw_sha256_update(h, "a", 1);
    stw_sha256_update(h, "", 0);
    stw_sha256_update(h, "bc", 2);
    char inc[STW_DIGEST_STR];
    ck_assert_int_eq(stw_sha256_final(h, inc, NULL), STW_OK);
    ck_assert_str_eq(inc, out);
    /* final resets: the context is reusable. */
    stw_sha256_update(h, "abc", 3);
    unsigned char md[STW_SHA256_LEN];
    ck_assert_int_eq(stw_sha256_final_raw(h, md, NULL), STW_OK);
    ck_assert_uint_eq(md[0], 0xba);
    ck_assert_uint_eq(md[31], 0xad);
    stw_sha256_destroy(h);
    stw_sha256_destroy(NULL);

    ck_assert(stw_sha256_digest_valid(out));
    ck_assert(!stw_sha256_digest_valid(NULL));
    ck_assert(!stw_sha256_digest_valid(""));
    ck_assert(!stw_sha256_digest_valid("sha256:"));
    ck_assert(!stw_sha256_digest_valid(out + 7));
    char bad[STW_DIGEST_STR + 1];
    strcpy(bad, out);
    bad[10] = 'A';
    ck_assert(!stw_sha256_digest_valid(bad));
    strcpy(bad, out);
    strcat(bad, "0");
    ck_assert(!stw_sha256_digest_valid(bad));
    strcpy(bad, out);
    bad[70] = 0;
    ck_assert(!stw_sha256_digest_valid(bad));
}
END_TEST

/* ---- sniffing and creation ---------------------------------------------- */

START_TEST(test_blob_sniff_by_magic_bytes)
{
    ck_assert_int_eq(stw_compression_sniff("\x1f\x8b\x08\x00", 4),
                     STW_COMP_GZIP);
    ck_assert_int_eq(stw_compression_sniff("\x28\xb5\x2f\xfd\x00", 5),
                     STW_COMP_ZSTD);
    ck_assert_int_eq(stw_compression_sniff("\x1f\x8b\x08", 3), STW_COMP_NONE);
    ck_assert_int_eq(stw_compression_sniff("usr/", 4), STW_COMP_NONE);
    ck_assert_int_eq(stw_compression_sniff("\x28\xb5\x2f\xfe", 4),
                     STW_COMP_NONE);
    ck_assert_int_eq(stw_compression_sniff(NULL, 0), STW_COMP_NONE);
}
END_TEST

START_TEST(test_blob_create_rejects_malformed_expected_digest)
{
    const char *bad[] = {
        "",
        "sha256:",
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        "sha256:"
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        "sha256:"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
        "sha512:"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    };
    mem_reader r = {0};
    for (size_t i = 0; i < STW_ARRAY_LEN(bad); i++) {
        for (int which = 0; which < 2; which++) {
            stw_blob_options opt = {.name = "blobs/sha256/x"};
            if (which)
                opt.diff_id = bad[i];
            else
                opt.digest = bad[i];
            stw_blob *b = (stw_blob *)&r; /* must be reset to NULL */
            stw_error err = {0};
            ck_assert_int_eq(stw_blob_create(mem_read, &r, &opt, &b, &err),
                             STW_ERR_FORMAT);
            ck_assert_ptr_null(b);
            ck_assert_msg(strstr(err.msg, "blobs/sha256/x") == err.msg, "%s",
                          err.msg);
        }
    }
    stw_blob_destroy(NULL);
}
END_TEST

/* ---- roundtrips --------------------------------------------------------- */

START_TEST(test_blob_plain_roundtrip_is_zero_copy)
{
    unsigned char *data = make_data(DATA_LEN);
    check_roundtrip(data, DATA_LEN, data, DATA_LEN, STW_COMP_NONE);

    /* The whole-piece reader's buffer is handed out as is. */
    mem_reader r = {.data = data, .len = DATA_LEN};
    stw_blob *b;
    ck_assert_int_eq(stw_blob_create(mem_read, &r, NULL, &b, NULL), STW_OK);
    const void *p;
    size_t n;
    ck_assert_int_eq(stw_blob_read(b, &p, &n, NULL), STW_OK);
    ck_assert_ptr_eq(p, data);
    ck_assert_uint_eq(n, DATA_LEN);
    ck_assert_int_eq(stw_blob_drain(b, NULL), STW_OK);
    stw_blob_destroy(b);

    /* Tiny blobs: empty, and shorter than any magic. */
    run_result e = run_blob("", 0, WHOLE, NULL, 1);
    ck_assert_int_eq(e.st, STW_OK);
    ck_assert_uint_eq(e.out_len, 0);
    ck_assert_str_eq(e.diff_id, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41"
                                "e4649b934ca495991b7852b855");
    run_free(&e);
    run_result t = run_blob("ab", 2, ONE_BYTE, NULL, 1);
    ck_assert_int_eq(t.st, STW_OK);
    ck_assert_uint_eq(t.out_len, 2);
    ck_assert(memcmp(t.out, "ab", 2) == 0);
    run_free(&t);
    free(data);
}
END_TEST

START_TEST(test_blob_gzip_roundtrip_any_piece_size)
{
    char *dir = tu_mkdtemp("blob-gz");
    unsigned char *data = make_data(DATA_LEN);
    size_t zn;
    unsigned char *z = gz(dir, data, DATA_LEN, &zn);
    check_roundtrip(z, zn, data, DATA_LEN, STW_COMP_GZIP);
    free(z);
    free(data);
    free(dir);
}
END_TEST

START_TEST(test_blob_zstd_roundtrip_any_piece_size)
{
    char *dir = tu_mkdtemp("blob-zst");
    unsigned char *data = make_data(DATA_LEN);
    size_t zn;
    unsigned char *z = zst(dir, data, DATA_LEN, &zn);
    check_roundtrip(z, zn, data, DATA_LEN, STW_COMP_ZSTD);
    free(z);
    free(data);
    free(dir);
}
END_TEST

START_TEST(test_blob_gzip_concatenated_members_and_zero_padding)
{
    char *dir = tu_mkdtemp("blob-gzcat");
    unsigned char *data = make_data(300000);
    size_t an, bn, en;
    unsigned char *a = gz(dir, data, 200000, &an);
    unsigned char *b = gz(dir, data + 200000, 100000, &bn);
    unsigned char *e = gz(dir, "", 0, &en); /* an empty member */
    unsigned char *ab = concat(a, an, e, en);
    unsigned char *abe = concat(ab, an + en, b, bn);
    size_t n = an + en + bn;
    check_roundtrip(abe, n, data, 300000, STW_COMP_GZIP);

    /* Block-device style zero padding after the last member is fine. */
    unsigned char *pad = calloc(1, n + 4096);
    memcpy(pad, abe, n);
    check_roundtrip(pad, n + 4096, data, 300000, STW_COMP_GZIP);

    /* The same through the CLI, which appends members. */
    char *path = tu_path(dir, "d");
    tu_write_file(path, data, 300000);
    sh(dir, "gzip -n -c d > cat.gz && gzip -n -c d >> cat.gz");
    char *catp = tu_path(dir, "cat.gz");
    size_t cn;
    char *cat = tu_read_file(catp, &cn);
    unsigned char *twice = concat(data, 300000, data, 300000);
    check_roundtrip((unsigned char *)cat, cn, twice, 600000, STW_COMP_GZIP);

    free(twice);
    free(cat);
    free(catp);
    free(path);
    free(pad);
    free(abe);
    free(ab);
    free(a);
    free(b);
    free(e);
    free(data);
    free(dir);
}
END_TEST

START_TEST(test_blob_zstd_concatenated_frames)
{
    char *dir = tu_mkdtemp("blob-zstcat");
    unsigned char *data = make_data(300000);
    size_t an, bn;
    unsigned char *a = zst(dir, data, 123457, &an);
    unsigned char *b = zst(dir, data + 123457, 300000 - 123457, &bn);
    unsigned char *ab = concat(a, an, b, bn);
    check_roundtrip(ab, an + bn, data, 300000, STW_COMP_ZSTD);
    free(ab);
    free(a);
    free(b);
    free(data);
    free(dir);
}
END_TEST

/* ---- hostile input ------------------------------------------------------ */

/* Every proper prefix (at least one byte) of z must fail, never succeed. */
static void check_every_truncation_fails(const unsigned char *z, size_t zn,
                                         const char *what)
{
    for (size_t cut = 1; cut < zn; cut++) {
        enum piece_mode mode = cut % 3 == 0 ? ONE_BYTE : WHOLE;
        stw_blob_options opt = {.name = "blobs/sha256/cut"};
        run_result r = run_blob(z, cut, mode, &opt, 0);
        ck_assert_msg(r.st == STW_ERR_TRUNCATED || r.st == STW_ERR_FORMAT,
                      "%s cut at %zu of %zu: status %d (%s)", what, cut, zn,
                      r.st, r.err.msg);
        ck_assert_msg(strncmp(r.err.msg, "blobs/sha256/cut: ", 18) == 0, "%s",
                      r.err.msg);
        if (cut > zn / 2)
            ck_assert_msg(strstr(r.err.msg, "truncated") != NULL,
                          "%s cut at %zu: %s", what, cut, r.err.msg);
        run_free(&r);
    }
}

START_TEST(test_blob_truncated_gzip_fails_at_every_offset)
{
    char *dir = tu_mkdtemp("blob-gzcut");
    unsigned char *data = make_data(6000);
    size_t zn;
    unsigned char *z = gz(dir, data, 6000, &zn);
    check_every_truncation_fails(z, zn, "gzip");
    /* A second member cut short is truncated too. */
    unsigned char *zz = concat(z, zn, z, zn);
    for (size_t cut = zn + 1; cut < 2 * zn; cut += 7) {
        run_result r = run_blob(zz, cut, RANDOM, NULL, 0);
        ck_assert_msg(r.st == STW_ERR_TRUNCATED || r.st == STW_ERR_FORMAT,
                      "cut %zu: %d", cut, r.st);
        run_free(&r);
    }
    free(zz);
    free(z);
    free(data);
    free(dir);
}
END_TEST

START_TEST(test_blob_truncated_zstd_fails_at_every_offset)
{
    char *dir = tu_mkdtemp("blob-zstcut");
    unsigned char *data = make_data(6000);
    size_t zn;
    unsigned char *z = zst(dir, data, 6000, &zn);
    check_every_truncation_fails(z, zn, "zstd");
    free(z);
    free(data);
    free(dir);
}
END_TEST

START_TEST(test_blob_corrupt_data_is_format_error)
{
    char *dir = tu_mkdtemp("blob-corrupt");
    unsigned char *data = make_data(100000);
    size_t gn, zn;
    unsigned char *g = gz(dir, data, 100000, &gn);
    unsigned char *z = zst(dir, data, 100000, &zn);
    /* Flip bits at several places of the body and in the trailer. */
    size_t gpos[] = {20, gn / 3, gn / 2, gn - 6, gn - 2};
    for (size_t i = 0; i < STW_ARRAY_LEN(gpos); i++) {
        g[gpos[i]] ^= 0x41;
        run_result r = run_blob(g, gn, WHOLE, NULL, 0);
        ck_assert_msg(r.st == STW_ERR_FORMAT, "gzip flip at %zu: %d %s",
                      gpos[i], r.st, r.err.msg);
        ck_assert_ptr_nonnull(strstr(r.err.msg, "corrupt gzip"));
        run_free(&r);
        g[gpos[i]] ^= 0x41;
    }
    size_t zpos[] = {20, zn / 3, zn / 2, zn - 2};
    for (size_t i = 0; i < STW_ARRAY_LEN(zpos); i++) {
        z[zpos[i]] ^= 0x41;
        run_result r = run_blob(z, zn, WHOLE, NULL, 0);
        ck_assert_msg(r.st == STW_ERR_FORMAT, "zstd flip at %zu: %d %s",
                      zpos[i], r.st, r.err.msg);
        ck_assert_ptr_nonnull(strstr(r.err.msg, "corrupt zstd"));
        run_free(&r);
        z[zpos[i]] ^= 0x41;
    }
    /* Unflipped, both still decode. */
    run_result ok = run_blob(g, gn, WHOLE, NULL, 0);
    ck_assert_int_eq(ok.st, STW_OK);
    run_free(&ok);
    free(g);
    free(z);
    free(data);
    free(dir);
}
END_TEST

START_TEST(test_blob_trailing_garbage_is_rejected)
{
    char *dir = tu_mkdtemp("blob-garbage");
    unsigned char *data = make_data(50000);
    size_t gn, zn;
    unsigned char *g = gz(dir, data, 50000, &gn);
    unsigned char *z = zst(dir, data, 50000, &zn);
    const char *tails[] = {"x", "garbage!", "\x1f\x00\x00\x00\x00\x00",
                           "\0\0\0\0x"};
    size_t tail_n[] = {1, 8, 6, 5};
    enum piece_mode modes[] = {WHOLE, ONE_BYTE};
    for (size_t t = 0; t < STW_ARRAY_LEN(tails); t++) {
        for (size_t m = 0; m < 2; m++) {
            unsigned char *bad = concat(g, gn, tails[t], tail_n[t]);
            stw_blob_options opt = {.name = "blobs/sha256/junk"};
            run_result r = run_blob(bad, gn + tail_n[t], modes[m], &opt, 0);
            ck_assert_msg(r.st == STW_ERR_FORMAT ||
                              (t == 2 && r.st == STW_ERR_TRUNCATED),
                          "gzip tail %zu: %d %s", t, r.st, r.err.msg);
            if (t != 2)
                ck_assert_msg(strstr(r.err.msg, "trailing garbage") != NULL,
                              "%s", r.err.msg);
            run_free(&r);
            free(bad);

            bad = concat(z, zn, tails[t], tail_n[t]);
            r = run_blob(bad, zn + tail_n[t], modes[m], &opt, 0);
            ck_assert_msg(r.st != STW_OK, "zstd tail %zu accepted", t);
            if (t != 0)
                ck_assert_msg(strstr(r.err.msg, "trailing garbage") != NULL,
                              "%s", r.err.msg);
            run_free(&r);
            free(bad);
        }
    }
    free(g);
    free(z);
    free(data);
    free(dir);
}
END_TEST

START_TEST(test_blob_wrong_digest_and_diff_id_are_digest_errors)
{
    char *dir = tu_mkdtemp("blob-digest");
    unsigned char *data = make_data(70000);
    size_t gn;
    unsigned char *g = gz(dir, data, 70000, &gn);
    char good_d[STW_DIGEST_STR], good_id[STW_DIGEST_STR];
    ref_digest(g, gn, good_d);
    ref_digest(data, 70000, good_id);
    const char *wrong = ZERO_DIGEST;

    stw_blob_options opt = {.name = "blobs/sha256/dd",
                            .digest = wrong,
                            .diff_id = good_id,
                            .hash_output = true};
    run_result r = run_blob(g, gn, RANDOM, &opt, 1);
    ck_assert_int_eq(r.st, STW_ERR_DIGEST);
    /* All output was delivered before the verdict at the end. */
    ck_assert_uint_eq(r.out_len, 70000);
    ck_assert_msg(strstr(r.err.msg, "blobs/sha256/dd: digest mismatch") ==
                      r.err.msg,
                  "%s", r.err.msg);
    ck_assert_ptr_nonnull(strstr(r.err.msg, wrong));
    ck_assert_ptr_nonnull(strstr(r.err.msg, good_d));
    ck_assert_str_eq(r.digest, good_d);
    run_free(&r);

    opt.digest = good_d;
    opt.diff_id = wrong;
    r = run_blob(g, gn, WHOLE, &opt, 0);
    ck_assert_int_eq(r.st, STW_ERR_DIGEST);
    ck_assert_ptr_nonnull(strstr(r.err.msg, "diff_id mismatch"));
    ck_assert_ptr_nonnull(strstr(r.err.msg, good_id));
    run_free(&r);

    /* For a plain tar the diff_id is the digest; both are checked. */
    opt.digest = NULL;
    opt.diff_id = good_id;
    r = run_blob(data, 70000, WHOLE, &opt, 0);
    ck_assert_int_eq(r.st, STW_OK);
    ck_assert_str_eq(r.digest, good_id);
    run_free(&r);
    opt.diff_id = good_d;
    r = run_blob(data, 70000, ONE_BYTE, &opt, 0);
    ck_assert_int_eq(r.st, STW_ERR_DIGEST);
    run_free(&r);

    free(g);
    free(data);
    free(dir);
}
END_TEST

/* The default reads a compressed blob without hashing its output: the
 * diff_id stays unknown ("") and an expected one is not checked, while the
 * digest still is. A plain tar's diff_id is its digest, known for free. */
START_TEST(test_blob_compressed_diff_id_only_when_asked)
{
    char *dir = tu_mkdtemp("blob-noid");
    unsigned char *data = make_data(300000);
    const char *wrong = ZERO_DIGEST;
    char want_id[STW_DIGEST_STR];
    ref_digest(data, 300000, want_id);
    for (int c = 0; c < 2; c++) {
        size_t n;
        unsigned char *z =
            c == 0 ? gz(dir, data, 300000, &n) : zst(dir, data, 300000, &n);
        char want[STW_DIGEST_STR];
        ref_digest(z, n, want);
        stw_blob_options opt = {
            .name = "blobs/sha256/noid", .digest = want, .diff_id = wrong};
        run_result r = run_blob(z, n, RANDOM, &opt, 1);
        ck_assert_msg(r.st == STW_OK, "%s", r.err.msg);
        ck_assert_uint_eq(r.out_len, 300000);
        ck_assert(memcmp(r.out, data, 300000) == 0);
        ck_assert_str_eq(r.digest, want);
        ck_assert_str_eq(r.diff_id, "");
        run_free(&r);
        /* Still a digest error when the compressed bytes are wrong. */
        opt.digest = wrong;
        r = run_blob(z, n, WHOLE, &opt, 0);
        ck_assert_int_eq(r.st, STW_ERR_DIGEST);
        run_free(&r);
        /* Asked, the same blob yields its diff_id and checks it. */
        opt.digest = want;
        opt.hash_output = true;
        r = run_blob(z, n, WHOLE, &opt, 0);
        ck_assert_int_eq(r.st, STW_ERR_DIGEST);
        ck_assert_ptr_nonnull(strstr(r.err.msg, "diff_id mismatch"));
        run_free(&r);
        opt.diff_id = want_id;
        r = run_blob(z, n, ONE_BYTE, &opt, 0);
        ck_assert_msg(r.st == STW_OK, "%s", r.err.msg);
        ck_assert_str_eq(r.diff_id, want_id);
        run_free(&r);
        free(z);
    }
    stw_blob_options opt = {.name = "layer.tar", .diff_id = want_id};
    run_result r = run_blob(data, 300000, RANDOM, &opt, 0);
    ck_assert_int_eq(r.st, STW_OK);
    ck_assert_str_eq(r.diff_id, want_id);
    run_free(&r);
    free(data);
    free(dir);
}
END_TEST

/* Checking a stored blob hashes its bytes as they are (no inflate) and
 * fails a mismatch with the very message a streamed read gives. */
START_TEST(test_blob_check_digest_matches_streamed_verdict)
{
    char *dir = tu_mkdtemp("blob-check");
    unsigned char *data = make_data(200000);
    size_t gn;
    unsigned char *g = gz(dir, data, 200000, &gn);
    char good[STW_DIGEST_STR];
    ref_digest(g, gn, good);
    const char *wrong = ZERO_DIGEST;
    enum piece_mode modes[] = {WHOLE, RANDOM, ONE_BYTE};
    for (size_t m = 0; m < STW_ARRAY_LEN(modes); m++) {
        mem_reader mr = {.data = g, .len = gn, .mode = modes[m], .seed = 5};
        stw_blob_options opt = {.name = "blobs/sha256/chk", .digest = good};
        stw_error err = {0};
        ck_assert_int_eq(stw_blob_check_digest(mem_read, &mr, &opt, &err),
                         STW_OK);
        mem_reader mr2 = {.data = g, .len = gn, .mode = modes[m], .seed = 5};
        opt.digest = wrong;
        ck_assert_int_eq(stw_blob_check_digest(mem_read, &mr2, &opt, &err),
                         STW_ERR_DIGEST);
        run_result r = run_blob(g, gn, modes[m], &opt, 0);
        ck_assert_int_eq(r.st, STW_ERR_DIGEST);
        ck_assert_str_eq(err.msg, r.err.msg);
        run_free(&r);
    }
    /* A failing read is the reader's error, named. */
    mem_reader fr = {.data = g, .len = gn, .mode = FAIL_AT, .fail_at = 100};
    stw_blob_options opt = {.name = "layer.tar", .digest = good};
    stw_error err = {0};
    ck_assert_int_eq(stw_blob_check_digest(mem_read, &fr, &opt, &err),
                     STW_ERR_IO);
    ck_assert_str_eq(err.msg, "layer.tar: disk on fire");
    opt.digest = NULL;
    ck_assert_int_eq(stw_blob_check_digest(mem_read, &fr, &opt, &err),
                     STW_ERR_USAGE);
    free(g);
    free(data);
    free(dir);
}
END_TEST

START_TEST(test_blob_drain_verifies_after_early_stop)
{
    char *dir = tu_mkdtemp("blob-drain");
    unsigned char *data = make_data(DATA_LEN);
    size_t zn;
    unsigned char *z = zst(dir, data, DATA_LEN, &zn);
    char want[STW_DIGEST_STR], want_id[STW_DIGEST_STR];
    ref_digest(z, zn, want);
    ref_digest(data, DATA_LEN, want_id);
    for (int good = 0; good < 2; good++) {
        mem_reader r = {.data = z, .len = zn, .mode = RANDOM, .seed = 3};
        stw_blob_options opt = {.name = "blobs/sha256/drain",
                                .digest = good ? want : want_id,
                                .hash_output = true};
        stw_blob *b;
        ck_assert_int_eq(stw_blob_create(mem_read, &r, &opt, &b, NULL), STW_OK);
        const void *p;
        size_t n;
        ck_assert_int_eq(stw_blob_read(b, &p, &n, NULL), STW_OK);
        ck_assert_uint_gt(n, 0);
        ck_assert_int_eq(stw_blob_compression(b), STW_COMP_ZSTD);
        ck_assert_str_eq(stw_blob_digest(b), "");
        stw_error err = {0};
        ck_assert_int_eq(stw_blob_drain(b, &err),
                         good ? STW_OK : STW_ERR_DIGEST);
        ck_assert_str_eq(stw_blob_digest(b), want);
        ck_assert_str_eq(stw_blob_diff_id(b), want_id);
        ck_assert_uint_eq(stw_blob_out_bytes(b), DATA_LEN);
        ck_assert_uint_eq(stw_blob_raw_bytes(b), zn);
        stw_blob_destroy(b);
    }
    free(z);
    free(data);
    free(dir);
}
END_TEST

START_TEST(test_blob_read_error_names_blob)
{
    unsigned char *data = make_data(100000);
    mem_reader r = {
        .data = data, .len = 100000, .mode = FAIL_AT, .fail_at = 50000};
    stw_blob_options opt = {.name = "layer.tar"};
    stw_blob *b;
    ck_assert_int_eq(stw_blob_create(mem_read, &r, &opt, &b, NULL), STW_OK);
    stw_error err = {0};
    ck_assert_int_eq(stw_blob_drain(b, &err), STW_ERR_IO);
    ck_assert_str_eq(err.msg, "layer.tar: disk on fire");
    ck_assert_str_eq(stw_blob_digest(b), "");
    stw_blob_destroy(b);
    free(data);
}
END_TEST

/* 200 MiB of zeros as 200 gzip members of 1 MiB each: ~1000:1. */
START_TEST(test_blob_gzip_bomb_stops_at_ratio_limit)
{
    char *dir = tu_mkdtemp("blob-bomb");
    unsigned char *zeros = calloc(1, 1u << 20);
    size_t one_n;
    unsigned char *one = gz(dir, zeros, 1u << 20, &one_n);
    size_t n = 200 * one_n;
    unsigned char *bomb = malloc(n);
    for (int i = 0; i < 200; i++)
        memcpy(bomb + (size_t)i * one_n, one, one_n);

    stw_blob_options opt = {.name = "blobs/sha256/bomb", .max_ratio = 100};
    run_result r = run_blob(bomb, n, WHOLE, &opt, 0);
    ck_assert_int_eq(r.st, STW_ERR_LIMIT);
    ck_assert_msg(strstr(r.err.msg, "decompression bomb") != NULL, "%s",
                  r.err.msg);
    ck_assert_uint_gt(r.out_len, STW_RATIO_GRACE - (1u << 20));
    ck_assert_uint_lt(r.out_len, STW_RATIO_GRACE + (1u << 20));
    run_free(&r);

    /* The default ratio (2000) lets real-world ~1000:1 zeros through. */
    r = run_blob(bomb, n, WHOLE, NULL, 0);
    ck_assert_msg(r.st == STW_OK, "%s", r.err.msg);
    ck_assert_uint_eq(r.out_len, 200u << 20);
    run_free(&r);

    free(bomb);
    free(one);
    free(zeros);
    free(dir);
}
END_TEST

START_TEST(test_blob_zstd_bomb_stops_at_default_ratio)
{
    /* zstd squeezes 200 MiB of zeros into ~7 KiB: far above 2000:1. */
    char *dir = tu_mkdtemp("blob-zbomb");
    sh(dir, "head -c 209715200 /dev/zero | zstd -q -1 -c > out");
    char *path = tu_path(dir, "out");
    size_t n;
    char *z = tu_read_file(path, &n);
    run_result r = run_blob(z, n, WHOLE, NULL, 0);
    ck_assert_int_eq(r.st, STW_ERR_LIMIT);
    ck_assert_ptr_nonnull(strstr(r.err.msg, "decompression bomb"));
    ck_assert_uint_lt(r.out_len, 200u << 20);
    run_free(&r);
    free(z);
    free(path);
    free(dir);
}
END_TEST

START_TEST(test_blob_max_out_exceeded_is_limit)
{
    char *dir = tu_mkdtemp("blob-maxout");
    unsigned char *data = make_data(DATA_LEN);
    size_t gn, zn;
    unsigned char *g = gz(dir, data, DATA_LEN, &gn);
    unsigned char *z = zst(dir, data, DATA_LEN, &zn);
    struct {
        const unsigned char *p;
        size_t n;
    } in[] = {{data, DATA_LEN}, {g, gn}, {z, zn}};
    for (size_t i = 0; i < STW_ARRAY_LEN(in); i++) {
        stw_blob_options opt = {.name = "big", .max_out = 300000};
        run_result r = run_blob(in[i].p, in[i].n, RANDOM, &opt, 0);
        ck_assert_msg(r.st == STW_ERR_LIMIT, "input %zu: %d", i, r.st);
        ck_assert_uint_le(r.out_len, 300000);
        ck_assert_uint_le(r.out_bytes, 300000);
        ck_assert_ptr_nonnull(strstr(r.err.msg, "exceeds the limit"));
        run_free(&r);
        /* Exactly at the limit is fine. */
        opt.max_out = DATA_LEN;
        r = run_blob(in[i].p, in[i].n, WHOLE, &opt, 0);
        ck_assert_msg(r.st == STW_OK, "input %zu: %s", i, r.err.msg);
        run_free(&r);
    }
    free(g);
    free(z);
    free(data);
    free(dir);
}
END_TEST

START_TEST(test_blob_zstd_window_beyond_limit_is_rejected)
{
    char *dir = tu_mkdtemp("blob-zwin");
    /* From a pipe the size is unknown, so the frame keeps the 1 GiB window
     * that --long=30 asks for. */
    sh(dir, "head -c 5000 /dev/urandom | zstd -q --long=30 -c > out");
    char *path = tu_path(dir, "out");
    size_t n;
    char *z = tu_read_file(path, &n);
    run_result r = run_blob(z, n, WHOLE, NULL, 0);
    ck_assert_int_eq(r.st, STW_ERR_LIMIT);
    ck_assert_ptr_nonnull(strstr(r.err.msg, "window"));
    run_free(&r);
    free(z);
    free(path);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("blob");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_sha256_known_vectors_and_incremental);
    tcase_add_test(tc, test_blob_sniff_by_magic_bytes);
    tcase_add_test(tc, test_blob_create_rejects_malformed_expected_digest);
    tcase_add_test(tc, test_blob_plain_roundtrip_is_zero_copy);
    tcase_add_test(tc, test_blob_gzip_roundtrip_any_piece_size);
    tcase_add_test(tc, test_blob_zstd_roundtrip_any_piece_size);
    tcase_add_test(tc, test_blob_gzip_concatenated_members_and_zero_padding);
    tcase_add_test(tc, test_blob_zstd_concatenated_frames);
    tcase_add_test(tc, test_blob_truncated_gzip_fails_at_every_offset);
    tcase_add_test(tc, test_blob_truncated_zstd_fails_at_every_offset);
    tcase_add_test(tc, test_blob_corrupt_data_is_format_error);
    tcase_add_test(tc, test_blob_trailing_garbage_is_rejected);
    tcase_add_test(tc, test_blob_wrong_digest_and_diff_id_are_digest_errors);
    tcase_add_test(tc, test_blob_compressed_diff_id_only_when_asked);
    tcase_add_test(tc, test_blob_check_digest_matches_streamed_verdict);
    tcase_add_test(tc, test_blob_drain_verifies_after_early_stop);
    tcase_add_test(tc, test_blob_read_error_names_blob);
    tcase_add_test(tc, test_blob_gzip_bomb_stops_at_ratio_limit);
    tcase_add_test(tc, test_blob_zstd_bomb_stops_at_default_ratio);
    tcase_add_test(tc, test_blob_max_out_exceeded_is_limit);
    tcase_add_test(tc, test_blob_zstd_window_beyond_limit_is_rejected);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
