/* feeder.c - a bounded queue of file contents from the tar walker to a
 * content-scanning thread. Records are packed into large slots so a layer
 * of 80,000 small files costs a few thousand lock round trips, not 240,000. */
#include "feeder.h"
#include "common.h"
#include "limits.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FEED_SLOTS 16
#define REC_HEADER 5 /* type byte + 32-bit little-endian length */
/* 256 KiB of file data, and room for the largest record: a file's BEGIN
 * (its size and a path of up to STW_MAX_CHAIN_PATH) in a slot of its own. */
#define FEED_SLOT_SIZE ((256u << 10) + 64)
_Static_assert(FEED_SLOT_SIZE >=
                   REC_HEADER + sizeof(uint64_t) + STW_MAX_CHAIN_PATH,
               "a BEGIN record must fit in an empty slot");

enum { REC_BEGIN = 1, REC_DATA, REC_END };

typedef struct slot {
    unsigned char *buf;
    size_t len;
} slot;

struct stw_feeder {
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t ready; /* consumer waits for a published slot */
    pthread_cond_t freed; /* producer waits for a free slot */
    slot slots[FEED_SLOTS];
    uint64_t head; /* slots published (producer fills slots[head % N]) */
    uint64_t tail; /* slots consumed */
    bool filling;  /* the producer holds slots[head % N] */
    bool closing;  /* no more slots will be published */
    bool abort;    /* discard what is queued */
    bool running;
    bool sync_init; /* mu and the conditions exist */
    /* Producer: offset of the current file's DATA record in the slot being
     * filled, which later data extends; SIZE_MAX when there is none. */
    size_t open_data;
    stw_matcher *m;
    stw_finding_list *out;
    /* Consumer state, touched only by the consumer thread until joined. */
    stw_status st;
    stw_error err;
    /* The current file's path: a member deep in archives or a PAX path
     * may be long (up to STW_MAX_CHAIN_PATH), so it is sized per file. */
    char *path;
    size_t path_cap;
};

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Whether the records at p[i..len) are one DATA record and the END of the
 * file begun just before them: the whole file is then in this slot. */
static bool whole_file(const unsigned char *p, size_t len, size_t i,
                       const unsigned char **data, size_t *n)
{
    if (i + REC_HEADER > len || p[i] != REC_DATA)
        return false;
    uint32_t dn = get_u32(p + i + 1);
    size_t end = i + REC_HEADER + dn;
    if (end + REC_HEADER > len || p[end] != REC_END)
        return false;
    *data = p + i + REC_HEADER;
    *n = dn;
    return true;
}

/* Runs the matcher over one slot's records; after the first failure only
 * drains, so the producer never blocks on a dead consumer. */
static void consume(stw_feeder *f, const unsigned char *p, size_t len)
{
    size_t i = 0;
    while (i + REC_HEADER <= len) {
        int type = p[i];
        uint32_t n = get_u32(p + i + 1);
        const unsigned char *body = p + i + REC_HEADER;
        i += REC_HEADER + n;
        if (f->st != STW_OK)
            continue;
        if (type == REC_BEGIN) {
            uint64_t size;
            memcpy(&size, body, sizeof(size));
            size_t pl = n - sizeof(size);
            if (pl + 1 > f->path_cap) {
                char *np = stw_realloc(f->path, pl + 1);
                if (!np) {
                    f->st = stw_fail(&f->err, STW_ERR_NOMEM, "out of memory");
                    continue;
                }
                f->path = np;
                f->path_cap = pl + 1;
            }
            memcpy(f->path, body + sizeof(size), pl);
            f->path[pl] = 0;
            const unsigned char *whole;
            size_t wn;
            if (whole_file(p, len, i, &whole, &wn)) {
                /* Most files: scanned where they lie, not copied again. */
                f->st = stw_matcher_scan_buffer(f->m, f->path, whole, wn,
                                                stw_finding_list_sink, f->out,
                                                &f->err);
                i += 2 * REC_HEADER + wn;
                continue;
            }
            f->st = stw_matcher_begin(f->m, f->path, size,
                                      stw_finding_list_sink, f->out, &f->err);
        } else if (type == REC_DATA) {
            f->st = stw_matcher_feed(f->m, body, n, &f->err);
        } else {
            f->st = stw_matcher_end(f->m, &f->err);
        }
    }
}

static void *consumer_main(void *arg)
{
    stw_feeder *f = arg;
    stw_thread_name("stw-match");
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (f->tail == f->head && !f->closing)
            pthread_cond_wait(&f->ready, &f->mu);
        if (f->tail == f->head)
            break; /* closing and drained */
        slot *s = &f->slots[f->tail % FEED_SLOTS];
        bool skip = f->abort;
        pthread_mutex_unlock(&f->mu);
        if (!skip)
            consume(f, s->buf, s->len);
        pthread_mutex_lock(&f->mu);
        s->len = 0;
        f->tail++;
        pthread_cond_signal(&f->freed);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

stw_status stw_feeder_create(stw_matcher *m, stw_finding_list *out,
                             stw_feeder **fp, stw_error *err)
{
    *fp = NULL;
    stw_feeder *f = stw_calloc(1, sizeof(*f));
    if (!f)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    f->m = m;
    f->out = out;
    f->open_data = SIZE_MAX;
    for (int i = 0; i < FEED_SLOTS; i++) {
        if (!(f->slots[i].buf = stw_malloc(FEED_SLOT_SIZE))) {
            stw_feeder_destroy(f);
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        }
    }
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->ready, NULL);
    pthread_cond_init(&f->freed, NULL);
    f->sync_init = true;
    if (!stw_thread_create(&f->tid, consumer_main, f)) {
        stw_feeder_destroy(f);
        return stw_fail(err, STW_ERR_IO, "cannot start a scanning thread");
    }
    f->running = true;
    *fp = f;
    return STW_OK;
}

/* Hands the slot being filled to the consumer. */
static void publish(stw_feeder *f)
{
    f->open_data = SIZE_MAX;
    pthread_mutex_lock(&f->mu);
    f->head++;
    f->filling = false;
    pthread_cond_signal(&f->ready);
    pthread_mutex_unlock(&f->mu);
}

/* The slot to write into, with at least need bytes free; waits for the
 * consumer when all slots are queued. */
static slot *room(stw_feeder *f, size_t need)
{
    if (f->filling &&
        FEED_SLOT_SIZE - f->slots[f->head % FEED_SLOTS].len < need)
        publish(f);
    if (!f->filling) {
        pthread_mutex_lock(&f->mu);
        while (f->head - f->tail >= FEED_SLOTS)
            pthread_cond_wait(&f->freed, &f->mu);
        pthread_mutex_unlock(&f->mu);
        f->filling = true;
    }
    return &f->slots[f->head % FEED_SLOTS];
}

static void put_record(slot *s, int type, const void *a, size_t an,
                       const void *b, size_t bn)
{
    unsigned char *p = s->buf + s->len;
    p[0] = (unsigned char)type;
    put_u32(p + 1, (uint32_t)(an + bn));
    if (an)
        memcpy(p + REC_HEADER, a, an);
    if (bn)
        memcpy(p + REC_HEADER + an, b, bn);
    s->len += REC_HEADER + an + bn;
}

stw_status stw_feeder_begin(stw_feeder *f, const char *path, uint64_t size)
{
    size_t pl = strlen(path);
    if (pl > STW_MAX_CHAIN_PATH)
        return STW_ERR_LIMIT;
    slot *s = room(f, REC_HEADER + sizeof(size) + pl);
    put_record(s, REC_BEGIN, &size, sizeof(size), path, pl);
    f->open_data = SIZE_MAX;
    return STW_OK;
}

stw_status stw_feeder_data(stw_feeder *f, const void *p, size_t n)
{
    const unsigned char *c = p;
    while (n > 0) {
        /* Small pieces are not worth a record of their own at a slot's
         * tail: ask for a useful amount of room. */
        size_t want = n < 4096 ? n : 4096;
        slot *s = room(f, REC_HEADER + want);
        size_t k = FEED_SLOT_SIZE - s->len;
        if (f->open_data == SIZE_MAX)
            k -= REC_HEADER;
        if (k > n)
            k = n;
        if (f->open_data != SIZE_MAX) {
            /* Contiguous with the file's record: one record, so a file that
             * arrived in several blocks can still be scanned in place. */
            unsigned char *h = s->buf + f->open_data;
            memcpy(s->buf + s->len, c, k);
            put_u32(h + 1, get_u32(h + 1) + (uint32_t)k);
            s->len += k;
        } else {
            f->open_data = s->len;
            put_record(s, REC_DATA, c, k, NULL, 0);
        }
        c += k;
        n -= k;
    }
    return STW_OK;
}

stw_status stw_feeder_end(stw_feeder *f)
{
    put_record(room(f, REC_HEADER), REC_END, NULL, 0, NULL, 0);
    f->open_data = SIZE_MAX;
    return STW_OK;
}

static void stop(stw_feeder *f, bool discard)
{
    if (!f->running)
        return;
    if (f->filling && !discard && f->slots[f->head % FEED_SLOTS].len)
        publish(f);
    pthread_mutex_lock(&f->mu);
    f->closing = true;
    f->abort = discard;
    pthread_cond_signal(&f->ready);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->tid, NULL);
    f->running = false;
}

stw_status stw_feeder_finish(stw_feeder *f, stw_error *err)
{
    stop(f, false);
    if (f->st != STW_OK && err)
        *err = f->err;
    return f->st;
}

void stw_feeder_destroy(stw_feeder *f)
{
    if (!f)
        return;
    stop(f, true);
    if (f->sync_init) {
        pthread_cond_destroy(&f->ready);
        pthread_cond_destroy(&f->freed);
        pthread_mutex_destroy(&f->mu);
    }
    for (int i = 0; i < FEED_SLOTS; i++)
        free(f->slots[i].buf);
    free(f->path);
    free(f);
}
