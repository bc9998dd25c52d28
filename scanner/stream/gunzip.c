/* gunzip.c - a gzip file inside a layer file inflated by ISA-L (gunzip.h):
 * members one after the other into one reused output buffer, CRC32 and
 * length checked, what follows the last member left to the caller, which
 * learns where it starts. */
#include "gunzip.h"

#include "common.h"

#include <isa-l/igzip_lib.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Output buffer. libarchive's gzip filter used 64 KiB; 256 KiB halves
 * what ISA-L spends finishing a buffer through its own (copying) tail and
 * what libarchive copies for reads across buffers: on the npm-heavy
 * benchmark image, 9% less CPU for the whole scan against 64 KiB's 2%.
 * One per gzip stream open at a time, so at most one per nesting level. */
#define GUNZIP_OUT_SIZE (256u << 10)

enum gu_state {
    GU_MEMBER,  /* inside a member: header, deflate data or trailer */
    GU_BETWEEN, /* a member ended: another, or the end */
    GU_DONE
};

struct stw_gunzip {
    stw_read_fn fn;
    void *ctx;
    const unsigned char *in; /* unconsumed input, borrowed from fn */
    size_t in_len;
    bool eof;
    uint64_t in_bytes;  /* input pulled from fn so far */
    uint64_t end_bytes; /* input up to the end of the last whole member */
    enum gu_state state;
    uint64_t members;      /* members begun */
    uint64_t members_done; /* members read to their trailer */
    uint64_t out_bytes;
    bool bad_check;
    bool failed; /* fail holds the error every later call repeats */
    stw_error fail;
    struct inflate_state st;
    unsigned char out[GUNZIP_OUT_SIZE];
};

stw_status stw_gunzip_create(stw_read_fn fn, void *ctx, stw_gunzip **out,
                             stw_error *err)
{
    /* Not calloc: the buffers are large and isal_inflate_init sets the
     * state; only the bookkeeping needs zeroes. */
    stw_gunzip *g = stw_malloc(sizeof(*g));
    if (!g)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    memset(g, 0, offsetof(stw_gunzip, st));
    g->fn = fn;
    g->ctx = ctx;
    g->state = GU_MEMBER;
    g->members = 1;
    isal_inflate_init(&g->st);
    g->st.crc_flag = ISAL_GZIP; /* parse the header, check CRC32 + ISIZE */
    *out = g;
    return STW_OK;
}

void stw_gunzip_destroy(stw_gunzip *g)
{
    free(g);
}

__attribute__((format(printf, 3, 4))) static void
gu_fail(stw_gunzip *g, stw_status st, const char *fmt, ...)
{
    g->fail.status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->fail.msg, sizeof(g->fail.msg), fmt, ap);
    va_end(ap);
    g->failed = true;
}

static void pull(stw_gunzip *g)
{
    const void *p = NULL;
    size_t n = 0;
    stw_error e = {0};
    stw_status st = g->fn(g->ctx, &p, &n, &e);
    if (st != STW_OK) {
        if (!e.msg[0])
            stw_fail(&e, st, "read failed: %s", stw_status_str(st));
        e.status = st;
        g->fail = e;
        g->failed = true;
        return;
    }
    if (n && !p) {
        gu_fail(g, STW_ERR_USAGE, "read callback returned NULL data");
        return;
    }
    g->in = p;
    g->in_len = n;
    g->in_bytes += n;
    g->eof = n == 0;
}

/* A member after the first that fails before its header is whole is not
 * a member: bytes after the stream, where gzip(1) and libarchive stop. */
static bool trailing_bytes(const stw_gunzip *g)
{
    return g->members > 1 && !g->st.wrapper_flag;
}

/* A member's trailer was read. ISA-L takes no byte past it (what its bit
 * buffer holds after the last block is the trailer, 64 bits at most), so
 * the input not yet taken starts right after the member. */
static void member_ended(stw_gunzip *g)
{
    g->end_bytes = g->in_bytes - g->in_len;
    g->members_done++;
    g->state = GU_BETWEEN;
}

/* One isal_inflate call on the current input into out[*pos..]. */
static void step(stw_gunzip *g, size_t *pos)
{
    struct inflate_state *s = &g->st;
    uint32_t avail = g->in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)g->in_len;
    uint32_t room = (uint32_t)(GUNZIP_OUT_SIZE - *pos);
    enum isal_block_state before = s->block_state;
    s->next_in = (uint8_t *)g->in;
    s->avail_in = avail;
    s->next_out = g->out + *pos;
    s->avail_out = room;
    int ret = isal_inflate(s);
    size_t used = avail - s->avail_in;
    size_t made = room - s->avail_out;
    g->in += used;
    g->in_len -= used;
    *pos += made;
    if (ret == ISAL_INCORRECT_CHECKSUM) {
        /* The trailer was read: the member ended, its bytes are out. */
        g->bad_check = true;
        member_ended(g);
        return;
    }
    if (ret < 0) {
        if (trailing_bytes(g))
            g->state = GU_DONE;
        else if (ret == ISAL_INVALID_WRAPPER || ret == ISAL_UNSUPPORTED_METHOD)
            gu_fail(g, STW_ERR_FORMAT, "not a gzip stream (bad header)");
        else
            gu_fail(g, STW_ERR_FORMAT,
                    "corrupt gzip stream (invalid deflate data, isal "
                    "error %d)",
                    ret);
        return;
    }
    if (s->block_state == ISAL_BLOCK_FINISH) {
        member_ended(g);
    } else if (used == 0 && made == 0 && s->block_state == before) {
        /* No progress: at the end of input the member is cut short;
         * before it, a stall would otherwise be a hang. */
        if (g->in_len == 0 && trailing_bytes(g))
            g->state = GU_DONE;
        else if (g->in_len == 0)
            gu_fail(g, STW_ERR_TRUNCATED, "truncated gzip stream");
        else
            gu_fail(g, STW_ERR_FORMAT, "corrupt gzip stream (decoder stalled)");
    }
}

stw_status stw_gunzip_read(stw_gunzip *g, const void **buf, size_t *len,
                           stw_error *err)
{
    *buf = g->out;
    *len = 0;
    size_t pos = 0;
    while (!g->failed && pos < GUNZIP_OUT_SIZE && g->state != GU_DONE) {
        if (g->in_len == 0 && !g->eof) {
            pull(g);
            continue;
        }
        if (g->state == GU_MEMBER) {
            step(g, &pos);
        } else if (g->in_len && g->in[0] == 0x1f) {
            /* Another member (RFC 1952 2.2); the reset keeps crc_flag but
             * does not document it, so it is set again. */
            isal_inflate_reset(&g->st);
            g->st.crc_flag = ISAL_GZIP;
            g->members++;
            g->state = GU_MEMBER;
        } else {
            g->state = GU_DONE; /* the end, or bytes after the stream */
        }
    }
    if (pos == 0 && g->failed) {
        if (err)
            *err = g->fail;
        return g->fail.status;
    }
    g->out_bytes += pos;
    *len = pos;
    return STW_OK;
}

uint64_t stw_gunzip_out_bytes(const stw_gunzip *g)
{
    return g->out_bytes;
}

bool stw_gunzip_bad_check(const stw_gunzip *g)
{
    return g->bad_check;
}

bool stw_gunzip_end(const stw_gunzip *g, uint64_t *in_bytes, bool *damaged)
{
    /* A failure after a whole member: what follows it is no member either
     * (a gzip header then plain text must not hide the text). */
    if (g->failed ? g->members_done == 0 : g->state != GU_DONE)
        return false;
    *in_bytes = g->end_bytes;
    *damaged = g->failed;
    return true;
}
