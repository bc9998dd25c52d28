/* alloc_test.h - the allocation failure hook, for tests only (never in the
 * public API): makes stw_malloc and its siblings (alloc.h) return NULL from
 * the Nth call on, or at the Nth call alone, so a test can replay a
 * scenario for N = 1, 2, ... and check every run ends in STW_ERR_NOMEM or
 * success, without a crash or a leak (tests/test_torture.c).
 *
 * The hook is process-wide state, the one exception to "no globals": a
 * counter has to see every allocation of a scan, on every thread, without
 * an allocation context threaded through each module's signature. It is
 * only ever set by tests; unarmed, it costs one relaxed atomic load per
 * allocation. Arm and disarm it while no other thread allocates. */
#ifndef STW_ALLOC_TEST_H
#define STW_ALLOC_TEST_H

#include <stdbool.h>

typedef enum stw_alloc_fail_mode {
    /* Calls N, N+1, ... all fail: memory stays short, as when a process is
     * truly out of it; finds cleanup paths that leak or crash. */
    STW_ALLOC_FAIL_FROM,
    /* Call N fails, later ones succeed: finds recovery paths that carry on
     * with a NULL or with a half-built object after one failure. */
    STW_ALLOC_FAIL_ONLY,
} stw_alloc_fail_mode;

/* Counts allocations from 0 again and fails from (or at) the nth, n >= 1.
 * n == 0 disarms, as stw_alloc_fail_disarm. */
void stw_alloc_fail_arm(unsigned long n, stw_alloc_fail_mode mode);

/* Disarms the hook. *calls (may be NULL) gets the allocations counted
 * since stw_alloc_fail_arm; returns how many of them were failed (0: the
 * scenario made fewer than n allocations, so it ran untouched). */
unsigned long stw_alloc_fail_disarm(unsigned long *calls);

/* Makes stw_thread_create fail from its nth call on (n >= 1; 0 disarms),
 * as a pids limit does once reached, counting from 0 again. Returns the
 * threads it refused since the last arming when disarming with 0. */
unsigned long stw_thread_fail_arm(unsigned long n);

#endif
