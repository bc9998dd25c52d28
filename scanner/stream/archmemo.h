/* archmemo.h - results of the archives walked in this scan, kept in memory
 * by the SHA-256 of their bytes, so that the same jar met again (loose in
 * a layer and stored in a fat jar beside it, in ~/.m2 and in the app) is
 * not inflated again while the first one's record is not yet in the
 * database (the database keeps a layer's archives when the layer ends).
 *
 * A result is what the database's archive cache would replay: the findings
 * under the archive's path, without it, with the fields the database keeps
 * (stw_store_archive_findings), and their secrets when asked for. It also keeps
 * what the walk used of the outer file's budget (stw_nested_cost), so that a
 * replay charges it and is refused where the walk would have reached a bound:
 * with or without the memo, and whichever thread got there first, a scan
 * reports the same.
 *
 * Shared by every thread of a scan: put and get lock; a result, once in,
 * is immutable until destroy. A walker that would walk an archive another
 * one is walking waits for that walk instead (stw_archmemo_get_or_claim):
 * the same jar loose and in a fat jar beside it is inflated once even when
 * two threads meet both at once. Memory is bounded by STW_ARCHMEMO_MAX_*
 * (limits.h): past them nothing more is remembered. */
#ifndef STW_ARCHMEMO_H
#define STW_ARCHMEMO_H

#include "finding.h"
#include "nested.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct stw_archmemo stw_archmemo;

/* keep_secrets: results keep the plaintext of their secrets too, and
 * replays give it back, for --show-secrets (a walk would have given it;
 * the database never keeps it). Wiped on destroy. */
stw_status stw_archmemo_create(bool keep_secrets, stw_archmemo **out);
/* Accepts NULL. */
void stw_archmemo_destroy(stw_archmemo *m);

/* Remembers the archive at path (borrowed) whose bytes hash to sha256 (64
 * hex): the findings of from, from index first on, whose path lies under
 * path + "!/", and cost, what its walk used. Returns whether it was kept:
 * not when already known, past the bounds, or out of memory - a memo that
 * forgets only costs a walk, so none of these is an error. */
bool stw_archmemo_put(stw_archmemo *m, const char *sha256, const char *path,
                      const stw_nested_cost *cost, const stw_finding_list *from,
                      size_t first);
/* put, then gives back self's claim on sha256 if it has one. */
bool stw_archmemo_put_claimed(stw_archmemo *m, const void *self,
                              const char *sha256, const char *path,
                              const stw_nested_cost *cost,
                              const stw_finding_list *from, size_t first);

/* On a result for sha256 whose cost fits in room (each field at most
 * room's), adds its findings to out under path + "!/", sets *charge to its
 * cost and *hit. Otherwise *hit is false and out untouched. Fails only
 * when out cannot take a finding (STW_ERR_NOMEM, err filled); some of the
 * findings may then be in out. */
stw_status stw_archmemo_get(stw_archmemo *m, const char *sha256,
                            const char *path, const stw_nested_cost *room,
                            stw_nested_cost *charge, stw_finding_list *out,
                            bool *hit, stw_error *err);

/* stw_archmemo_get for a walker that will walk the archive on a miss:
 * while another walker has claimed it (its walk is under way), waits for
 * that walk to end and looks again - unless the claim's owner waits, through
 * others, for one of self's own claims (a crafted archive holding itself),
 * which would never end. On a miss, claims the archive for self (a
 * pointer of the caller's, the same for all its claims) and sets *claimed;
 * stw_archmemo_put or stw_archmemo_release gives it back, on every path. */
stw_status stw_archmemo_get_or_claim(stw_archmemo *m, const void *self,
                                     const char *sha256, const char *path,
                                     const stw_nested_cost *room,
                                     stw_nested_cost *charge,
                                     stw_finding_list *out, bool *hit,
                                     bool *claimed, stw_error *err);

/* Gives back self's claim on sha256 (its walk ended without a result to
 * keep), waking who waits for it. */
void stw_archmemo_release(stw_archmemo *m, const void *self,
                          const char *sha256);

/* Results kept, and replays given: for tests and statistics. */
size_t stw_archmemo_count(stw_archmemo *m);
uint64_t stw_archmemo_hits(stw_archmemo *m);

#endif
