/* alloc.c - allocation wrappers and the test-only failure hook (see
 * alloc_test.h for why it is process-wide). */
#include "alloc.h"
#include "alloc_test.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* 0: unarmed, the only value production ever sees. */
static atomic_ulong fail_at;
static atomic_ulong calls;
static atomic_ulong failed;
static atomic_bool fail_once;

/* true when this allocation is to fail. Unarmed: one relaxed load. */
static bool fail_now(void)
{
    unsigned long at = atomic_load_explicit(&fail_at, memory_order_relaxed);
    if (at == 0)
        return false;
    unsigned long n = atomic_fetch_add(&calls, 1) + 1;
    bool fail = atomic_load(&fail_once) ? n == at : n >= at;
    if (fail)
        atomic_fetch_add(&failed, 1);
    return fail;
}

void stw_alloc_fail_arm(unsigned long n, stw_alloc_fail_mode mode)
{
    atomic_store(&calls, 0);
    atomic_store(&failed, 0);
    atomic_store(&fail_once, mode == STW_ALLOC_FAIL_ONLY);
    atomic_store(&fail_at, n);
}

unsigned long stw_alloc_fail_disarm(unsigned long *n_calls)
{
    atomic_store(&fail_at, 0);
    if (n_calls)
        *n_calls = atomic_load(&calls);
    return atomic_load(&failed);
}

void *stw_malloc(size_t n)
{
    return fail_now() ? NULL : malloc(n); /* banned-ok: the wrapper */
}

void *stw_calloc(size_t n, size_t size)
{
    return fail_now() ? NULL : calloc(n, size); /* banned-ok: the wrapper */
}

void *stw_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : realloc(p, n); /* banned-ok: the wrapper */
}

char *stw_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = stw_malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *stw_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = stw_malloc(len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = 0;
    }
    return p;
}

/* Thread creation, counted apart from allocations: 0 unarmed. */
static atomic_ulong thread_fail_at;
static atomic_ulong thread_calls;
static atomic_ulong thread_failed;

unsigned long stw_thread_fail_arm(unsigned long n)
{
    unsigned long refused = atomic_load(&thread_failed);
    atomic_store(&thread_calls, 0);
    atomic_store(&thread_failed, 0);
    atomic_store(&thread_fail_at, n);
    return refused;
}

bool stw_thread_create(pthread_t *tid, void *(*fn)(void *), void *arg)
{
    unsigned long at =
        atomic_load_explicit(&thread_fail_at, memory_order_relaxed);
    if (at && atomic_fetch_add(&thread_calls, 1) + 1 >= at) {
        atomic_fetch_add(&thread_failed, 1);
        return false;
    }
    return pthread_create(tid, NULL, fn, arg) == 0; /* banned-ok: wrapper */
}
