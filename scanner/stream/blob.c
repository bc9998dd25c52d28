/* blob.c - a layer blob as a verified, decompressed byte stream: raw bytes
 * are pulled through the caller's read callback, hashed, inflated with ISA-L
 * (gzip) or libzstd into reused buffers, and the output hashed when the
 * diff_id is wanted, the hashing overlapped with inflate on a helper
 * thread. */
#include "blob.h"
#include "common.h"
#include "limits.h"
#include "sha256.h"

#include <isa-l/igzip_lib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Output buffer: large enough that the per-call overhead (callback, hash
 * update, consumer dispatch) vanishes against inflate, small enough to stay
 * in L2 between inflate writing it and sha256 reading it. */
#define BLOB_OUT_SIZE (256u << 10)

#define MAGIC_LEN 4
static const unsigned char gzip_magic[] = {0x1f, 0x8b};
static const unsigned char zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};

enum phase { PH_START, PH_BODY, PH_END, PH_FAILED };

/* Hashing costs about as much as inflating (SHA-NI ~1.6 GB/s against
 * igzip's ~1 GB/s of output), so a helper thread hashes each raw piece and
 * output buffer while the next is inflated: the stream then runs at the
 * speed of inflate alone. Jobs run in submission order; the main thread
 * waits for a job only before the memory it reads may change (the next
 * read callback, the reuse of an output buffer) and at the end. */
/* Output buffers in flight: inflate may run this many buffers ahead of the
 * hasher. With the hasher and the content thread sharing the second core,
 * a short ring stalls inflate whenever the hasher is descheduled. */
#define BLOB_RING    8
#define HASHER_SLOTS (BLOB_RING + 2) /* + 1 raw piece, rounded up */
/* Raw pieces below this are hashed inline: handing a tiny piece to the
 * thread costs more than hashing it (a pipe gives 64 KiB pieces). */
#define HASHER_MIN_JOB (32u << 10)

typedef struct hasher_job {
    stw_sha256 *h;
    const void *p;
    size_t n;
} hasher_job;

typedef struct hasher {
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    hasher_job jobs[HASHER_SLOTS];
    uint64_t submitted, done; /* job i sits in jobs[i % HASHER_SLOTS] */
    bool quit;
} hasher;

/* The hasher and the inflater are each a thread sharing a mutex and a
 * condition with the blob. Starts fn(arg) with them; false (and nothing
 * to undo) if any of the three cannot be had. */
static bool thread_start(pthread_t *tid, pthread_mutex_t *mu,
                         pthread_cond_t *cv, void *(*fn)(void *), void *arg)
{
    if (pthread_mutex_init(mu, NULL) != 0)
        return false;
    if (pthread_cond_init(cv, NULL) != 0) {
        pthread_mutex_destroy(mu);
        return false;
    }
    if (!stw_thread_create(tid, fn, arg)) {
        pthread_cond_destroy(cv);
        pthread_mutex_destroy(mu);
        return false;
    }
    return true;
}

/* Sets *quit under mu, wakes and joins the thread, then frees mu and cv. */
static void thread_stop(pthread_t tid, pthread_mutex_t *mu, pthread_cond_t *cv,
                        bool *quit)
{
    pthread_mutex_lock(mu);
    *quit = true;
    pthread_cond_broadcast(cv);
    pthread_mutex_unlock(mu);
    pthread_join(tid, NULL);
    pthread_cond_destroy(cv);
    pthread_mutex_destroy(mu);
}

static void *hasher_main(void *arg)
{
    hasher *hs = arg;
    stw_thread_name("stw-hash");
    pthread_mutex_lock(&hs->mu);
    for (;;) {
        while (hs->done == hs->submitted && !hs->quit)
            pthread_cond_wait(&hs->cv, &hs->mu);
        if (hs->quit)
            break;
        hasher_job job = hs->jobs[hs->done % HASHER_SLOTS];
        pthread_mutex_unlock(&hs->mu);
        stw_sha256_update(job.h, job.p, job.n);
        pthread_mutex_lock(&hs->mu);
        hs->done++;
        pthread_cond_broadcast(&hs->cv);
    }
    pthread_mutex_unlock(&hs->mu);
    return NULL;
}

/* Starts the thread; false (and nothing to undo) if it cannot. */
static bool hasher_start(hasher *hs)
{
    memset(hs, 0, sizeof(*hs));
    return thread_start(&hs->tid, &hs->mu, &hs->cv, hasher_main, hs);
}

/* Waits until job seq has finished; UINT64_MAX waits for every job. */
static void hasher_wait(hasher *hs, uint64_t seq)
{
    pthread_mutex_lock(&hs->mu);
    while (hs->done < hs->submitted && (seq == UINT64_MAX || hs->done <= seq))
        pthread_cond_wait(&hs->cv, &hs->mu);
    pthread_mutex_unlock(&hs->mu);
}

/* Queues h += p[0..n) and returns the job's sequence number. */
static uint64_t hasher_submit(hasher *hs, stw_sha256 *h, const void *p,
                              size_t n)
{
    pthread_mutex_lock(&hs->mu);
    while (hs->submitted - hs->done >= HASHER_SLOTS)
        pthread_cond_wait(&hs->cv, &hs->mu);
    uint64_t seq = hs->submitted++;
    hs->jobs[seq % HASHER_SLOTS] = (hasher_job){h, p, n};
    pthread_cond_broadcast(&hs->cv);
    pthread_mutex_unlock(&hs->mu);
    return seq;
}

/* Abandons queued jobs (the current one finishes) and joins the thread. */
static void hasher_stop(hasher *hs)
{
    thread_stop(hs->tid, &hs->mu, &hs->cv, &hs->quit);
}

/* Where the gzip decoder is between and after members. */
enum gz_state {
    GZ_MEMBER,  /* inside a member (header, deflate data or trailer) */
    GZ_BETWEEN, /* a member ended: next is a member, zero padding or EOF */
    GZ_PADDING, /* zero bytes after the last member: only zeros until EOF */
    GZ_DONE
};

struct stw_blob {
    stw_read_fn fn;
    void *ctx;
    char *name;
    char want_digest[STW_DIGEST_STR];  /* "" = not checked */
    char want_diff_id[STW_DIGEST_STR]; /* "" = not checked */
    uint64_t max_out;
    double max_ratio;
    bool hash_out; /* hash the output of a compressed blob (the diff_id) */
    bool want_inflater;

    enum phase phase;
    stw_error fail; /* sticky: every call after a failure repeats it */
    stw_compression comp;
    stw_sha256 *raw_hash;
    stw_sha256 *out_hash;
    uint64_t raw_bytes;
    uint64_t out_bytes;
    char digest[STW_DIGEST_STR];
    char diff_id[STW_DIGEST_STR];

    /* Input: the unconsumed part of the current piece. The first piece may
     * be shorter than the magic, so the first bytes can sit in stage and
     * the remainder of the piece that completed it in rest. */
    bool eof;
    const unsigned char *in;
    size_t in_len;
    unsigned char stage[MAGIC_LEN];
    size_t stage_len;
    const unsigned char *rest;
    size_t rest_len;

    /* Compressed input only: bufs holds ring BLOB_OUT_SIZE buffers (one
     * unless the hasher thread reads the output); out is the one being
     * filled. */
    unsigned char *bufs;
    unsigned ring;
    unsigned char *out;
    hasher hs;
    bool hs_on;
    bool raw_job_on, out_job_on[BLOB_RING]; /* a job reads that memory */
    uint64_t raw_job, out_job[BLOB_RING];   /* its sequence number */
    unsigned cur;                           /* index of out in bufs */
    struct inflate_state *gz;
    enum gz_state gz_state;
    uint64_t gz_members; /* members finished */
    ZSTD_DCtx *zs;
    size_t zs_hint; /* last ZSTD_decompressStream result; 0 = frame done */

    /* The inflater thread (want_inflater, compressed blobs): it owns every
     * field above from its start until it reports done; the caller sees
     * the filled buffers of the ring through these, under inf_mu. */
    bool inf_on;
    pthread_t inf_tid;
    pthread_mutex_t inf_mu;
    pthread_cond_t inf_cv;
    size_t inf_len[BLOB_RING];
    uint64_t inf_made;     /* buffers filled */
    uint64_t inf_taken;    /* buffers handed to the caller */
    uint64_t inf_released; /* buffers the caller let go of */
    bool inf_done;         /* the thread ended: at the end or failed */
    bool inf_quit;         /* the caller gives up: stop filling */
    stw_status inf_st;
    uint64_t inf_raw, inf_out; /* raw_bytes, out_bytes as published */
};

static void inflater_stop(stw_blob *b);

/* After a failure the caller may free its input before destroying the
 * blob: no job may still read it. */
static void blob_stop_hashing(stw_blob *b)
{
    if (b->hs_on)
        hasher_wait(&b->hs, UINT64_MAX);
}

/* Records a failure on the blob (so later calls repeat it) and copies it to
 * err. The message is "<name>: <fmt...>". */
__attribute__((format(printf, 4, 5))) static stw_status
blob_fail(stw_blob *b, stw_error *err, stw_status st, const char *fmt, ...)
{
    char msg[STW_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    stw_fail(&b->fail, st, "%s: %s", b->name, msg);
    blob_stop_hashing(b);
    b->phase = PH_FAILED;
    if (err)
        *err = b->fail;
    return st;
}

static stw_status blob_repeat_fail(const stw_blob *b, stw_error *err)
{
    if (err)
        *err = b->fail;
    return b->fail.status;
}

stw_compression stw_compression_sniff(const void *p, size_t n)
{
    if (n < MAGIC_LEN)
        return STW_COMP_NONE;
    if (memcmp(p, gzip_magic, sizeof(gzip_magic)) == 0)
        return STW_COMP_GZIP;
    if (memcmp(p, zstd_magic, sizeof(zstd_magic)) == 0)
        return STW_COMP_ZSTD;
    return STW_COMP_NONE;
}

static stw_status copy_expected(stw_blob *b, const char *what, const char *s,
                                char out[STW_DIGEST_STR], stw_error *err)
{
    if (!s)
        return STW_OK;
    if (!stw_sha256_digest_valid(s))
        return stw_fail(err, STW_ERR_FORMAT,
                        "%s: invalid expected %s \"%.80s\" (want sha256:<64 "
                        "lowercase hex>)",
                        b->name, what, s);
    memcpy(out, s, strlen(s) + 1);
    return STW_OK;
}

stw_status stw_blob_create(stw_read_fn fn, void *ctx,
                           const stw_blob_options *opt, stw_blob **out,
                           stw_error *err)
{
    static const stw_blob_options defaults = {0};
    if (!out)
        return stw_fail(err, STW_ERR_USAGE, "blob: no output pointer");
    *out = NULL;
    if (!opt)
        opt = &defaults;
    const char *name = opt->name ? opt->name : "blob";
    if (!fn)
        return stw_fail(err, STW_ERR_USAGE, "%s: no read callback", name);
    if (!(opt->max_ratio >= 0)) /* also rejects NaN */
        return stw_fail(err, STW_ERR_USAGE, "%s: invalid max_ratio", name);

    stw_blob *b = stw_calloc(1, sizeof(*b));
    if (!b)
        return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", name);
    b->fn = fn;
    b->ctx = ctx;
    b->max_out = opt->max_out ? opt->max_out : STW_MAX_LAYER_BYTES;
    b->max_ratio = opt->max_ratio > 0 ? opt->max_ratio : STW_MAX_RATIO;
    b->hash_out = opt->hash_output;
    b->want_inflater = opt->inflate_thread;
    b->phase = PH_START;
    b->name = stw_strdup(name);
    stw_status st = STW_ERR_NOMEM;
    if (!b->name) {
        stw_fail(err, st, "%s: out of memory", name);
        goto fail;
    }
    if ((st = copy_expected(b, "digest", opt->digest, b->want_digest, err)) ||
        (st =
             copy_expected(b, "diff_id", opt->diff_id, b->want_diff_id, err)) ||
        (st = stw_sha256_create(&b->raw_hash, err)) ||
        (st = stw_sha256_create(&b->out_hash, err))) {
        stw_error_prefix(err, b->name);
        goto fail;
    }
    *out = b;
    return STW_OK;
fail:
    stw_blob_destroy(b);
    return st;
}

void stw_blob_destroy(stw_blob *b)
{
    if (!b)
        return;
    if (b->inf_on)
        inflater_stop(b); /* it may still read, inflate and hash */
    if (b->hs_on)
        hasher_stop(&b->hs); /* before the hashes and buffers go */
    stw_sha256_destroy(b->raw_hash);
    stw_sha256_destroy(b->out_hash);
    ZSTD_freeDCtx(b->zs);
    free(b->gz);
    free(b->bufs);
    free(b->name);
    free(b);
}

/* Pulls the next raw piece into in/in_len (in_len 0 and eof set at the end)
 * and hashes it. */
static stw_status pull(stw_blob *b, stw_error *err)
{
    const void *p = NULL;
    size_t n = 0;
    stw_error e = {0};
    if (b->raw_job_on) {
        /* The callback may reuse the memory of the previous piece. */
        hasher_wait(&b->hs, b->raw_job);
        b->raw_job_on = false;
    }
    stw_status st = b->fn(b->ctx, &p, &n, &e);
    if (st != STW_OK) {
        blob_stop_hashing(b);
        if (!e.msg[0])
            stw_fail(&e, st, "read failed: %s", stw_status_str(st));
        e.status = st;
        stw_error_prefix(&e, b->name);
        b->fail = e;
        b->phase = PH_FAILED;
        return blob_repeat_fail(b, err);
    }
    b->in_len = 0;
    if (n == 0) {
        b->eof = true;
        return STW_OK;
    }
    if (!p)
        return blob_fail(b, err, STW_ERR_USAGE,
                         "read callback returned NULL data");
    if (b->hs_on && n >= HASHER_MIN_JOB) {
        /* The previous raw job finished above, so the order holds. */
        b->raw_job = hasher_submit(&b->hs, b->raw_hash, p, n);
        b->raw_job_on = true;
    } else {
        stw_sha256_update(b->raw_hash, p, n);
    }
    b->raw_bytes += n;
    b->in = p;
    b->in_len = n;
    return STW_OK;
}

/* Makes in/in_len the next unconsumed input: staged magic bytes, then the
 * rest of the piece they were cut from, then fresh pieces. */
static stw_status next_input(stw_blob *b, stw_error *err)
{
    if (b->stage_len) {
        b->in = b->stage;
        b->in_len = b->stage_len;
        b->stage_len = 0;
        return STW_OK;
    }
    if (b->rest_len) {
        b->in = b->rest;
        b->in_len = b->rest_len;
        b->rest_len = 0;
        return STW_OK;
    }
    if (b->eof) {
        b->in_len = 0;
        return STW_OK;
    }
    return pull(b, err);
}

static bool is_prefix_of(const unsigned char *p, size_t n,
                         const unsigned char *magic, size_t magic_len)
{
    return n <= magic_len && memcmp(p, magic, n) == 0;
}

/* Reads the first bytes, decides the compression and sets up its decoder. */
static stw_status blob_start(stw_blob *b, stw_error *err)
{
    stw_status st = pull(b, err);
    if (st != STW_OK)
        return st;
    const unsigned char *head = b->in;
    size_t head_len = b->in_len;
    if (!b->eof && b->in_len < MAGIC_LEN) {
        /* Tiny pieces: collect the magic in stage without losing the rest
         * of the piece that completes it. */
        memcpy(b->stage, b->in, b->in_len);
        b->stage_len = b->in_len;
        b->in_len = 0;
        while (b->stage_len < MAGIC_LEN) {
            if ((st = pull(b, err)) != STW_OK)
                return st;
            if (b->eof)
                break;
            size_t take = MAGIC_LEN - b->stage_len;
            if (take > b->in_len)
                take = b->in_len;
            memcpy(b->stage + b->stage_len, b->in, take);
            b->stage_len += take;
            b->rest = b->in + take;
            b->rest_len = b->in_len - take;
            b->in_len = 0;
        }
        head = b->stage;
        head_len = b->stage_len;
    }
    b->comp = stw_compression_sniff(head, head_len);
    if (head_len > 0 && head_len < MAGIC_LEN) {
        /* Too short for any format but an empty one: a cut-off magic is a
         * truncated stream, not a 3-byte tar. */
        if (head[0] == gzip_magic[0] &&
            (head_len < 2 || head[1] == gzip_magic[1]))
            return blob_fail(b, err, STW_ERR_TRUNCATED,
                             "truncated gzip stream");
        if (is_prefix_of(head, head_len, zstd_magic, sizeof(zstd_magic)))
            return blob_fail(b, err, STW_ERR_TRUNCATED,
                             "truncated zstd stream");
    }

    /* An uncompressed blob is handed out as it is read: with a second
     * core, its hash (the digest and the diff_id at once, as costly as
     * inflate) runs on the hasher while the caller walks each piece. */
    if (b->comp == STW_COMP_NONE && b->want_inflater)
        b->hs_on = hasher_start(&b->hs);
    if (b->comp != STW_COMP_NONE) {
        /* A buffer waits in the ring only while the hasher reads it. */
        b->ring = b->hash_out || b->want_inflater ? BLOB_RING : 1;
        b->bufs = stw_malloc(b->ring * (size_t)BLOB_OUT_SIZE);
        if (!b->bufs && b->ring > 1) {
            b->ring = 1;
            b->bufs = stw_malloc(BLOB_OUT_SIZE);
        }
        if (!b->bufs)
            return blob_fail(b, err, STW_ERR_NOMEM, "out of memory");
        b->out = b->bufs;
        /* Raw pieces are hashed on the hasher even beside an inflater
         * thread: hashed between inflate calls, they made one layer's read,
         * hash and inflate a single thread's work, the critical path of a
         * layer scanned alone (-j1 on full.oci 2.57 -> 2.38 s, zstd 2.24
         * -> 2.16 s on two cores, the same CPU). */
        b->hs_on = hasher_start(&b->hs);
    }
    if (b->comp == STW_COMP_GZIP) {
        b->gz = stw_malloc(sizeof(*b->gz));
        if (!b->gz)
            return blob_fail(b, err, STW_ERR_NOMEM, "out of memory");
        isal_inflate_init(b->gz);
        b->gz->crc_flag = ISAL_GZIP; /* parse headers, verify CRC32+ISIZE */
        b->gz_state = GZ_MEMBER;
    } else if (b->comp == STW_COMP_ZSTD) {
        b->zs = ZSTD_createDCtx();
        if (!b->zs)
            return blob_fail(b, err, STW_ERR_NOMEM, "out of memory");
        size_t r = ZSTD_DCtx_setParameter(b->zs, ZSTD_d_windowLogMax,
                                          STW_ZSTD_WINDOW_LOG_MAX);
        if (ZSTD_isError(r))
            return blob_fail(b, err, STW_ERR_NOMEM, "zstd: %s",
                             ZSTD_getErrorName(r));
        b->zs_hint = 1;
    }
    b->phase = PH_BODY;
    return STW_OK;
}

/* Uncompressed: hand out the caller's pieces as they are, without a copy. */
static stw_status read_none(stw_blob *b, const void **buf, size_t *len,
                            stw_error *err)
{
    stw_status st;
    if (b->in_len == 0 && (st = next_input(b, err)) != STW_OK)
        return st;
    *buf = b->in;
    *len = b->in_len;
    b->in_len = 0;
    return STW_OK;
}

static stw_status gzip_error(stw_blob *b, int ret, stw_error *err)
{
    switch (ret) {
    case ISAL_INVALID_WRAPPER:
    case ISAL_UNSUPPORTED_METHOD:
        if (b->gz_members > 0)
            return blob_fail(b, err, STW_ERR_FORMAT,
                             "trailing garbage after gzip member %llu",
                             (unsigned long long)b->gz_members);
        return blob_fail(b, err, STW_ERR_FORMAT,
                         "corrupt gzip stream (bad header)");
    case ISAL_INCORRECT_CHECKSUM:
        return blob_fail(b, err, STW_ERR_FORMAT,
                         "corrupt gzip stream (CRC or length mismatch)");
    default:
        return blob_fail(b, err, STW_ERR_FORMAT,
                         "corrupt gzip stream (invalid deflate data, isal "
                         "error %d)",
                         ret);
    }
}

/* One isal_inflate call on the current input into out[*pos..]. */
static stw_status gzip_step(stw_blob *b, size_t *pos, stw_error *err)
{
    struct inflate_state *gz = b->gz;
    uint32_t avail = b->in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)b->in_len;
    uint32_t room = (uint32_t)(BLOB_OUT_SIZE - *pos);
    enum isal_block_state before = gz->block_state;
    gz->next_in = (uint8_t *)b->in;
    gz->avail_in = avail;
    gz->next_out = b->out + *pos;
    gz->avail_out = room;
    int ret = isal_inflate(gz);
    size_t used = avail - gz->avail_in;
    size_t made = room - gz->avail_out;
    b->in += used;
    b->in_len -= used;
    *pos += made;
    if (ret != ISAL_DECOMP_OK && ret != ISAL_END_INPUT &&
        ret != ISAL_OUT_OVERFLOW)
        return gzip_error(b, ret, err);
    if (gz->block_state == ISAL_BLOCK_FINISH) {
        b->gz_members++;
        b->gz_state = GZ_BETWEEN;
    } else if (used == 0 && made == 0 && gz->block_state == before) {
        /* No progress: at the end of input the member is cut short;
         * before it, a stall would otherwise be a hang. */
        if (b->in_len == 0 && b->eof)
            return blob_fail(b, err, STW_ERR_TRUNCATED,
                             "truncated gzip stream");
        if (b->in_len > 0)
            return blob_fail(b, err, STW_ERR_FORMAT,
                             "corrupt gzip stream (decoder stalled)");
    }
    return STW_OK;
}

/* Fills out with up to BLOB_OUT_SIZE bytes; *len 0 only at the clean end. */
static stw_status read_gzip(stw_blob *b, size_t *len, stw_error *err)
{
    size_t pos = 0;
    stw_status st = STW_OK;
    while (pos < BLOB_OUT_SIZE && b->gz_state != GZ_DONE) {
        if (b->in_len == 0) {
            if ((st = next_input(b, err)) != STW_OK)
                return st;
            if (b->in_len == 0 && b->gz_state != GZ_MEMBER) {
                b->gz_state = GZ_DONE;
                break;
            }
        }
        switch (b->gz_state) {
        case GZ_MEMBER:
            if ((st = gzip_step(b, &pos, err)) != STW_OK)
                return st;
            break;
        case GZ_BETWEEN:
            if (b->in[0] == 0) {
                b->gz_state = GZ_PADDING;
            } else if (b->in[0] == gzip_magic[0]) {
                /* Another member (RFC 1952 2.2); isal_inflate_reset keeps
                 * crc_flag, set it anyway as the contract of the reset is
                 * not documented. */
                isal_inflate_reset(b->gz);
                b->gz->crc_flag = ISAL_GZIP;
                b->gz_state = GZ_MEMBER;
            } else {
                return blob_fail(b, err, STW_ERR_FORMAT,
                                 "trailing garbage after gzip member %llu",
                                 (unsigned long long)b->gz_members);
            }
            break;
        case GZ_PADDING:
            for (size_t i = 0; i < b->in_len; i++)
                if (b->in[i] != 0)
                    return blob_fail(b, err, STW_ERR_FORMAT,
                                     "trailing garbage after gzip padding");
            b->in_len = 0;
            break;
        case GZ_DONE:
            break;
        }
    }
    *len = pos;
    return STW_OK;
}

static stw_status read_zstd(stw_blob *b, size_t *len, stw_error *err)
{
    size_t pos = 0;
    stw_status st;
    while (pos < BLOB_OUT_SIZE) {
        if (b->in_len == 0) {
            if ((st = next_input(b, err)) != STW_OK)
                return st;
            if (b->in_len == 0 && b->zs_hint == 0)
                break; /* every frame complete and flushed */
        }
        ZSTD_inBuffer ib = {b->in, b->in_len, 0};
        ZSTD_outBuffer ob = {b->out, BLOB_OUT_SIZE, pos};
        bool at_boundary = b->zs_hint == 0;
        size_t r = ZSTD_decompressStream(b->zs, &ob, &ib);
        size_t made = ob.pos - pos;
        b->in += ib.pos;
        b->in_len -= ib.pos;
        pos = ob.pos;
        if (ZSTD_isError(r)) {
            ZSTD_ErrorCode code = ZSTD_getErrorCode(r);
            if (code == ZSTD_error_frameParameter_windowTooLarge)
                return blob_fail(b, err, STW_ERR_LIMIT,
                                 "zstd window larger than 2^%d bytes",
                                 STW_ZSTD_WINDOW_LOG_MAX);
            if (at_boundary && code == ZSTD_error_prefix_unknown)
                return blob_fail(b, err, STW_ERR_FORMAT,
                                 "trailing garbage after zstd frame");
            return blob_fail(b, err, STW_ERR_FORMAT, "corrupt zstd stream (%s)",
                             ZSTD_getErrorName(r));
        }
        b->zs_hint = r;
        if (r != 0 && b->eof && b->in_len == 0 && made == 0)
            return blob_fail(b, err, STW_ERR_TRUNCATED,
                             "truncated zstd stream");
    }
    *len = pos;
    return STW_OK;
}

/* Counts and hashes n output bytes, enforcing max_out and max_ratio. */
static stw_status account(stw_blob *b, const void *p, size_t n, stw_error *err)
{
    if (n > b->max_out - b->out_bytes)
        return blob_fail(b, err, STW_ERR_LIMIT,
                         "decompressed size exceeds the limit of %llu bytes",
                         (unsigned long long)b->max_out);
    b->out_bytes += n;
    if (b->comp != STW_COMP_NONE && b->out_bytes > STW_RATIO_GRACE &&
        (double)b->out_bytes > b->max_ratio * (double)b->raw_bytes)
        return blob_fail(b, err, STW_ERR_LIMIT,
                         "decompression bomb: %llu bytes from %llu "
                         "(ratio above %.0f)",
                         (unsigned long long)b->out_bytes,
                         (unsigned long long)b->raw_bytes, b->max_ratio);
    /* Uncompressed output is the raw input, already hashed. */
    if (b->comp == STW_COMP_NONE || !b->hash_out)
        return STW_OK;
    if (b->hs_on) {
        b->out_job[b->cur] = hasher_submit(&b->hs, b->out_hash, p, n);
        b->out_job_on[b->cur] = true;
    } else {
        stw_sha256_update(b->out_hash, p, n);
    }
    return STW_OK;
}

/* End of the raw bytes: computes the digest. */
static stw_status blob_final_digest(stw_blob *b, stw_error *err)
{
    stw_error e = {0};
    blob_stop_hashing(b);
    if (stw_sha256_final(b->raw_hash, b->digest, &e) != STW_OK)
        return blob_fail(b, err, e.status, "%s", e.msg);
    return STW_OK;
}

static stw_status blob_check_digest(stw_blob *b, stw_error *err)
{
    if (b->want_digest[0] && strcmp(b->want_digest, b->digest) != 0)
        return blob_fail(b, err, STW_ERR_DIGEST,
                         "digest mismatch: expected %s got %s", b->want_digest,
                         b->digest);
    return STW_OK;
}

/* End of stream: computes the digests and checks them. */
static stw_status blob_finish(stw_blob *b, stw_error *err)
{
    stw_error e = {0};
    stw_status st = blob_final_digest(b, err);
    if (st != STW_OK)
        return st;
    if (b->comp == STW_COMP_NONE)
        memcpy(b->diff_id, b->digest, sizeof(b->diff_id));
    else if (b->hash_out &&
             stw_sha256_final(b->out_hash, b->diff_id, &e) != STW_OK)
        return blob_fail(b, err, e.status, "%s", e.msg);
    if ((st = blob_check_digest(b, err)) != STW_OK)
        return st;
    if (b->want_diff_id[0] && b->diff_id[0] &&
        strcmp(b->want_diff_id, b->diff_id) != 0)
        return blob_fail(b, err, STW_ERR_DIGEST,
                         "diff_id mismatch: expected %s got %s",
                         b->want_diff_id, b->diff_id);
    b->phase = PH_END;
    return STW_OK;
}

/* Decodes the next output buffer into bufs[slot] (the ring's next slot
 * when slot is -1): its bytes and length, 0 at the checked end. */
static stw_status blob_fill(stw_blob *b, int slot, const void **buf,
                            size_t *len, stw_error *err)
{
    if (slot >= 0 || (b->hs_on && b->comp != STW_COMP_NONE)) {
        /* The buffer about to be filled must be hashed (and libarchive let
         * go of it at the callback BLOB_RING - 1 ago). */
        b->cur = slot >= 0 ? (unsigned)slot : (b->cur + 1) % b->ring;
        if (b->out_job_on[b->cur]) {
            hasher_wait(&b->hs, b->out_job[b->cur]);
            b->out_job_on[b->cur] = false;
        }
        b->out = b->bufs + b->cur * (size_t)BLOB_OUT_SIZE;
    }
    const void *p = b->out;
    size_t n = 0;
    stw_status st;
    switch (b->comp) {
    case STW_COMP_NONE:
        st = read_none(b, &p, &n, err);
        break;
    case STW_COMP_GZIP:
        st = read_gzip(b, &n, err);
        break;
    case STW_COMP_ZSTD:
        st = read_zstd(b, &n, err);
        break;
    default:
        st = blob_fail(b, err, STW_ERR_FORMAT, "unknown compression");
    }
    if (st != STW_OK)
        return st;
    if (n == 0)
        return blob_finish(b, err);
    if ((st = account(b, p, n, err)) != STW_OK)
        return st;
    *buf = p;
    *len = n;
    return STW_OK;
}

/* ---- the inflater thread ------------------------------------------------ */

/* Fills the ring ahead of the caller until the end, a failure, or the
 * caller quits. A slot is refilled only once the caller released it. */
static void *inflater_main(void *arg)
{
    stw_blob *b = arg;
    stw_thread_name("stw-inflate");
    stw_status st = STW_OK;
    for (uint64_t i = 0;; i++) {
        pthread_mutex_lock(&b->inf_mu);
        while (i - b->inf_released >= BLOB_RING && !b->inf_quit)
            pthread_cond_wait(&b->inf_cv, &b->inf_mu);
        bool quit = b->inf_quit;
        pthread_mutex_unlock(&b->inf_mu);
        if (quit)
            break;
        const void *p;
        size_t n = 0;
        unsigned slot = (unsigned)(i % BLOB_RING);
        st = blob_fill(b, (int)slot, &p, &n, NULL);
        if (st != STW_OK || n == 0)
            break;
        pthread_mutex_lock(&b->inf_mu);
        b->inf_len[slot] = n;
        b->inf_made++;
        b->inf_raw = b->raw_bytes;
        b->inf_out = b->out_bytes;
        pthread_cond_broadcast(&b->inf_cv);
        pthread_mutex_unlock(&b->inf_mu);
    }
    pthread_mutex_lock(&b->inf_mu);
    b->inf_st = st;
    b->inf_done = true;
    b->inf_raw = b->raw_bytes;
    b->inf_out = b->out_bytes;
    pthread_cond_broadcast(&b->inf_cv);
    pthread_mutex_unlock(&b->inf_mu);
    return NULL;
}

/* Without the thread, the caller's thread inflates (inf_on stays false). */
static void inflater_start(stw_blob *b)
{
    b->inf_on =
        thread_start(&b->inf_tid, &b->inf_mu, &b->inf_cv, inflater_main, b);
}

static void inflater_stop(stw_blob *b)
{
    thread_stop(b->inf_tid, &b->inf_mu, &b->inf_cv, &b->inf_quit);
    b->inf_on = false;
}

/* The caller's side: lets go of the buffer it had, takes the next one the
 * thread filled, or, once the thread is done and the ring empty, its
 * outcome (the end, or the failure stored on the blob). */
static stw_status inflater_take(stw_blob *b, const void **buf, size_t *len,
                                stw_error *err)
{
    pthread_mutex_lock(&b->inf_mu);
    if (b->inf_released < b->inf_taken) {
        b->inf_released++;
        pthread_cond_broadcast(&b->inf_cv);
    }
    while (b->inf_taken == b->inf_made && !b->inf_done)
        pthread_cond_wait(&b->inf_cv, &b->inf_mu);
    stw_status st = STW_OK;
    if (b->inf_taken < b->inf_made) {
        unsigned slot = (unsigned)(b->inf_taken % BLOB_RING);
        *buf = b->bufs + slot * (size_t)BLOB_OUT_SIZE;
        *len = b->inf_len[slot];
        b->inf_taken++;
    } else if ((st = b->inf_st) != STW_OK && err) {
        *err = b->fail;
    }
    pthread_mutex_unlock(&b->inf_mu);
    return st;
}

stw_status stw_blob_read(stw_blob *b, const void **buf, size_t *len,
                         stw_error *err)
{
    *buf = NULL;
    *len = 0;
    if (b->inf_on)
        return inflater_take(b, buf, len, err);
    if (b->phase == PH_FAILED)
        return blob_repeat_fail(b, err);
    if (b->phase == PH_END)
        return STW_OK;
    stw_status st;
    if (b->phase == PH_START) {
        if ((st = blob_start(b, err)) != STW_OK)
            return st;
        /* The thread fills every slot of the ring: not with the one-buffer
         * ring left after a failed allocation. */
        if (b->want_inflater && b->comp != STW_COMP_NONE &&
            b->ring == BLOB_RING) {
            inflater_start(b);
            if (b->inf_on)
                return inflater_take(b, buf, len, err);
        }
    }
    return blob_fill(b, -1, buf, len, err);
}

stw_status stw_blob_drain(stw_blob *b, stw_error *err)
{
    for (;;) {
        const void *p;
        size_t n;
        stw_status st = stw_blob_read(b, &p, &n, err);
        if (st != STW_OK || n == 0)
            return st;
    }
}

stw_status stw_blob_check_digest(stw_read_fn fn, void *ctx,
                                 const stw_blob_options *opt, stw_error *err)
{
    if (!opt || !opt->digest)
        return stw_fail(err, STW_ERR_USAGE, "%s: no digest to check",
                        opt && opt->name ? opt->name : "blob");
    stw_blob_options o = {.name = opt->name, .digest = opt->digest};
    stw_blob *b;
    stw_status st = stw_blob_create(fn, ctx, &o, &b, err);
    while (st == STW_OK && !b->eof)
        st = pull(b, err);
    if (st == STW_OK)
        st = blob_final_digest(b, err);
    if (st == STW_OK)
        st = blob_check_digest(b, err);
    stw_blob_destroy(b);
    return st;
}

stw_compression stw_blob_compression(const stw_blob *b)
{
    return b->comp;
}

const char *stw_blob_digest(const stw_blob *b)
{
    return b->digest;
}

const char *stw_blob_diff_id(const stw_blob *b)
{
    return b->diff_id;
}

/* While an inflater thread runs, the counts it last published. */
static uint64_t published(const stw_blob *b, bool raw)
{
    stw_blob *m = (stw_blob *)b; /* the lock, not the blob, changes */
    pthread_mutex_lock(&m->inf_mu);
    uint64_t v = raw ? b->inf_raw : b->inf_out;
    pthread_mutex_unlock(&m->inf_mu);
    return v;
}

uint64_t stw_blob_raw_bytes(const stw_blob *b)
{
    return b->inf_on ? published(b, true) : b->raw_bytes;
}

uint64_t stw_blob_out_bytes(const stw_blob *b)
{
    return b->inf_on ? published(b, false) : b->out_bytes;
}
