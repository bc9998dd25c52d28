/* archmemo.c - results of the archives walked in this scan, by the hash of
 * their bytes (archmemo.h). */
#include "archmemo.h"

#include "common.h"
#include "limits.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct result {
    char sha256[65];
    size_t bytes; /* what its findings hold */
    stw_nested_cost cost;
    stw_finding_list *findings; /* paths relative to the archive */
} result;

/* An archive a walker is walking, or one a walker waits for. */
typedef struct mark {
    char sha256[65];
    const void *owner;
} mark;

typedef struct marks {
    mark *v;
    size_t n, cap;
} marks;

struct stw_archmemo {
    pthread_mutex_t mu;
    pthread_cond_t ended; /* a claim was given back */
    marks claims, waits;
    /* Open addressing over pointers: a result never moves, so get can read
     * it after the lock is let go. */
    result **slots;
    size_t n_slots, n, n_findings;
    size_t n_bytes; /* of the strings the results hold (results_bytes) */
    uint64_t hits;
    bool keep_secrets;
};

stw_status stw_archmemo_create(bool keep_secrets, stw_archmemo **out)
{
    *out = stw_calloc(1, sizeof(**out));
    if (!*out)
        return STW_ERR_NOMEM;
    (*out)->keep_secrets = keep_secrets;
    pthread_mutex_init(&(*out)->mu, NULL);
    pthread_cond_init(&(*out)->ended, NULL);
    return STW_OK;
}

static void result_free(result *r)
{
    if (!r)
        return;
    stw_finding_list_destroy(r->findings);
    free(r);
}

void stw_archmemo_destroy(stw_archmemo *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_slots; i++)
        result_free(m->slots[i]);
    free(m->slots);
    free(m->claims.v);
    free(m->waits.v);
    pthread_cond_destroy(&m->ended);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* ---- claims ---------------------------------------------------------- */

static bool mark_add(marks *s, const void *owner, const char *sha256)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        mark *v = stw_realloc(s->v, cap * sizeof(*v));
        if (!v)
            return false;
        s->v = v;
        s->cap = cap;
    }
    memcpy(s->v[s->n].sha256, sha256, sizeof(s->v[s->n].sha256));
    s->v[s->n++].owner = owner;
    return true;
}

/* The mark of sha256 (and of owner, unless NULL), or NULL. */
static mark *mark_find(const marks *s, const void *owner, const char *sha256)
{
    for (size_t i = 0; i < s->n; i++)
        if ((!owner || s->v[i].owner == owner) &&
            strcmp(s->v[i].sha256, sha256) == 0)
            return &s->v[i];
    return NULL;
}

static const mark *wait_of(const marks *s, const void *owner)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].owner == owner)
            return &s->v[i];
    return NULL;
}

static void mark_drop(marks *s, mark *k)
{
    *k = s->v[--s->n];
}

/* Whether waiting for sha256 would wait for self: its claim's owner waits
 * for another claim, whose owner waits... until an owner that does not
 * wait (no deadlock) or self. Each walker waits for one archive at most,
 * so the chain is no longer than the waiters. */
static bool would_wait_for_self(const stw_archmemo *m, const void *self,
                                const char *sha256)
{
    for (size_t hops = 0; hops <= m->waits.n; hops++) {
        const mark *c = mark_find(&m->claims, NULL, sha256);
        if (!c)
            return false;
        if (c->owner == self)
            return true;
        const mark *w = wait_of(&m->waits, c->owner);
        if (!w)
            return false;
        sha256 = w->sha256;
    }
    return true;
}

static void release_locked(stw_archmemo *m, const void *self,
                           const char *sha256)
{
    mark *k = mark_find(&m->claims, self, sha256);
    if (!k)
        return;
    mark_drop(&m->claims, k);
    pthread_cond_broadcast(&m->ended);
}

void stw_archmemo_release(stw_archmemo *m, const void *self, const char *sha256)
{
    pthread_mutex_lock(&m->mu);
    release_locked(m, self, sha256);
    pthread_mutex_unlock(&m->mu);
}

/* The hex digest is uniform: its first 16 digits are the hash. */
static size_t slot_of(const stw_archmemo *m, const char *sha256)
{
    uint64_t h = 0;
    for (int i = 0; i < 16 && sha256[i]; i++)
        h = h * 16 + (uint64_t)(sha256[i] <= '9'
                                    ? sha256[i] - '0'
                                    : (sha256[i] | 0x20) - 'a' + 10);
    size_t s = (size_t)(h & (m->n_slots - 1));
    while (m->slots[s] && strcmp(m->slots[s]->sha256, sha256) != 0)
        s = (s + 1) & (m->n_slots - 1);
    return s;
}

static bool grow(stw_archmemo *m)
{
    size_t n = m->n_slots ? m->n_slots * 2 : 64;
    result **old = m->slots;
    size_t old_n = m->n_slots;
    result **v = stw_calloc(n, sizeof(*v));
    if (!v)
        return false;
    m->slots = v;
    m->n_slots = n;
    for (size_t i = 0; i < old_n; i++)
        if (old[i])
            m->slots[slot_of(m, old[i]->sha256)] = old[i];
    free(old);
    return true;
}

/* Finding f of the walk, under prefix (plen bytes, "!/" included), as the
 * database keeps it (store/archives.c), and its secret if to keeps them. */
static stw_status keep(stw_finding_list *to, const stw_finding *f, size_t plen)
{
    stw_finding c = {.path = f->path + plen,
                     .is_dir = f->is_dir,
                     .kind = f->kind,
                     .rule = f->rule,
                     .severity = f->severity,
                     .line = f->line,
                     .offset = f->offset,
                     .validated = f->validated,
                     .generic = f->generic,
                     .detail = f->detail,
                     .secret = f->secret,
                     .secret_n = f->secret_n,
                     .secret_offset = -1};
    memcpy(c.secret_sha256, f->secret_sha256, sizeof(c.secret_sha256));
    memcpy(c.excerpt, f->excerpt, sizeof(c.excerpt));
    return stw_finding_list_add(to, &c);
}

/* What a kept finding costs in memory: its record and its strings (a
 * member's path alone may be STW_MAX_ENTRY_PATH long, a key's plaintext
 * a few KB). */
static size_t finding_bytes(const stw_finding *f, size_t plen, bool secrets)
{
    return sizeof(*f) + strlen(f->path) - plen + 1 +
           (f->rule ? strlen(f->rule) + 1 : 0) +
           (f->detail ? strlen(f->detail) + 1 : 0) +
           (secrets ? f->secret_n + 1 : 0);
}

/* A copy of the findings of from[first..] under path + "!/", or NULL (out
 * of memory, or more than are left to keep, in count or in bytes: *n_out
 * and *bytes_out set to what they hold). */
static stw_finding_list *copy_under(const char *path,
                                    const stw_finding_list *from, size_t first,
                                    size_t left, size_t left_bytes,
                                    bool secrets, size_t *n_out,
                                    size_t *bytes_out)
{
    size_t plen = strlen(path), total = stw_finding_list_count(from);
    stw_finding_list *l = NULL;
    if (stw_finding_list_create(&l) != STW_OK)
        return NULL;
    if (secrets)
        stw_finding_list_keep_secrets(l);
    *n_out = 0;
    *bytes_out = 0;
    for (size_t i = first; i < total; i++) {
        const stw_finding *f = stw_finding_list_get(from, i);
        if (strncmp(f->path, path, plen) != 0 ||
            strncmp(f->path + plen, "!/", 2) != 0)
            continue;
        *bytes_out += finding_bytes(f, plen + 2, secrets);
        if (++*n_out > left || *bytes_out > left_bytes ||
            keep(l, f, plen + 2) != STW_OK) {
            stw_finding_list_destroy(l);
            return NULL;
        }
    }
    return l;
}

static bool put(stw_archmemo *m, const char *sha256, const char *path,
                const stw_nested_cost *cost, const stw_finding_list *from,
                size_t first);

bool stw_archmemo_put(stw_archmemo *m, const char *sha256, const char *path,
                      const stw_nested_cost *cost, const stw_finding_list *from,
                      size_t first)
{
    return stw_archmemo_put_claimed(m, NULL, sha256, path, cost, from, first);
}

bool stw_archmemo_put_claimed(stw_archmemo *m, const void *self,
                              const char *sha256, const char *path,
                              const stw_nested_cost *cost,
                              const stw_finding_list *from, size_t first)
{
    bool kept = false;
    if (strlen(sha256) == 64)
        kept = put(m, sha256, path, cost, from, first);
    if (self)
        stw_archmemo_release(m, self, sha256);
    return kept;
}

static bool put(stw_archmemo *m, const char *sha256, const char *path,
                const stw_nested_cost *cost, const stw_finding_list *from,
                size_t first)
{
    pthread_mutex_lock(&m->mu);
    size_t left = STW_ARCHMEMO_MAX_FINDINGS - m->n_findings;
    size_t left_bytes = STW_ARCHMEMO_MAX_BYTES - m->n_bytes;
    bool full = m->n >= STW_ARCHMEMO_MAX_ARCHIVES;
    pthread_mutex_unlock(&m->mu);
    if (full)
        return false;
    result *r = stw_calloc(1, sizeof(*r));
    size_t n = 0;
    if (!r || !(r->findings = copy_under(path, from, first, left, left_bytes,
                                         m->keep_secrets, &n, &r->bytes))) {
        free(r);
        return false;
    }
    memcpy(r->sha256, sha256, sizeof(r->sha256));
    r->cost = *cost;
    bool kept = false;
    pthread_mutex_lock(&m->mu);
    if (m->n < STW_ARCHMEMO_MAX_ARCHIVES &&
        n <= STW_ARCHMEMO_MAX_FINDINGS - m->n_findings &&
        r->bytes <= STW_ARCHMEMO_MAX_BYTES - m->n_bytes &&
        ((m->n + 1) * 2 <= m->n_slots || grow(m))) {
        size_t s = slot_of(m, sha256);
        if (!m->slots[s]) {
            m->slots[s] = r;
            m->n++;
            m->n_findings += n;
            m->n_bytes += r->bytes;
            kept = true;
        }
    }
    pthread_mutex_unlock(&m->mu);
    if (!kept)
        result_free(r);
    return kept;
}

static bool fits(const stw_nested_cost *c, const stw_nested_cost *room)
{
    return c->bytes <= room->bytes && c->inflated <= room->inflated &&
           c->members <= room->members && c->levels <= room->levels;
}

static const result *find_locked(stw_archmemo *m, const char *sha256)
{
    return m->n_slots ? m->slots[slot_of(m, sha256)] : NULL;
}

/* Adds r's findings to out under path. */
static stw_status replay(stw_archmemo *m, const result *r, const char *path,
                         stw_nested_cost *charge, stw_finding_list *out,
                         bool *hit, stw_error *err);

stw_status stw_archmemo_get(stw_archmemo *m, const char *sha256,
                            const char *path, const stw_nested_cost *room,
                            stw_nested_cost *charge, stw_finding_list *out,
                            bool *hit, stw_error *err)
{
    *hit = false;
    pthread_mutex_lock(&m->mu);
    const result *r = find_locked(m, sha256);
    if (r && !fits(&r->cost, room))
        r = NULL;
    pthread_mutex_unlock(&m->mu);
    return r ? replay(m, r, path, charge, out, hit, err) : STW_OK;
}

stw_status stw_archmemo_get_or_claim(stw_archmemo *m, const void *self,
                                     const char *sha256, const char *path,
                                     const stw_nested_cost *room,
                                     stw_nested_cost *charge,
                                     stw_finding_list *out, bool *hit,
                                     bool *claimed, stw_error *err)
{
    *hit = false;
    *claimed = false;
    pthread_mutex_lock(&m->mu);
    const result *r = NULL;
    for (;;) {
        if ((r = find_locked(m, sha256)) != NULL)
            break;
        if (!mark_find(&m->claims, NULL, sha256)) {
            /* Without room for the claim, the walk goes on unclaimed. */
            *claimed = mark_add(&m->claims, self, sha256);
            break;
        }
        if (would_wait_for_self(m, self, sha256) ||
            !mark_add(&m->waits, self, sha256))
            break;
        pthread_cond_wait(&m->ended, &m->mu);
        mark_drop(&m->waits, mark_find(&m->waits, self, sha256));
    }
    if (r && !fits(&r->cost, room))
        r = NULL;
    pthread_mutex_unlock(&m->mu);
    return r ? replay(m, r, path, charge, out, hit, err) : STW_OK;
}

static stw_status replay(stw_archmemo *m, const result *r, const char *path,
                         stw_nested_cost *charge, stw_finding_list *out,
                         bool *hit, stw_error *err)
{
    pthread_mutex_lock(&m->mu);
    m->hits++;
    pthread_mutex_unlock(&m->mu);
    size_t n = stw_finding_list_count(r->findings);
    for (size_t i = 0; i < n; i++) {
        const stw_finding *f = stw_finding_list_get(r->findings, i);
        size_t len = strlen(path) + 2 + strlen(f->path) + 1;
        char *p = stw_malloc(len);
        if (!p)
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        snprintf(p, len, "%s!/%s", path, f->path);
        stw_finding c = *f;
        c.path = p;
        stw_status st = stw_finding_list_add(out, &c);
        free(p);
        if (st != STW_OK)
            return stw_fail(err, st, "out of memory");
    }
    *charge = r->cost;
    *hit = true;
    return STW_OK;
}

size_t stw_archmemo_count(stw_archmemo *m)
{
    pthread_mutex_lock(&m->mu);
    size_t n = m->n;
    pthread_mutex_unlock(&m->mu);
    return n;
}

uint64_t stw_archmemo_hits(stw_archmemo *m)
{
    pthread_mutex_lock(&m->mu);
    uint64_t n = m->hits;
    pthread_mutex_unlock(&m->mu);
    return n;
}
