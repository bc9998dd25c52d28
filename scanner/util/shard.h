/* shard.h - how the work of a scan is split into shards, deterministically
 * by digest, so that N workers never scan the same layer. Used by the scan
 * (which layers to read) and the store (which images a shard completes). */
#ifndef STW_SHARD_H
#define STW_SHARD_H

#include "stowaway/stowaway.h"

/* Most shards a scan can be split into; far more than workers anyone runs,
 * small enough that K and N print in a few digits. */
#define STW_MAX_SHARDS 65536u

/* stw_shard_parse ("K/N", N at most STW_MAX_SHARDS) is public
 * (stowaway/batch.h). */

/* The shard, 1..n, that owns digest: for "sha256:<hex>" the first 8 bytes
 * of the hash as a big-endian integer, modulo n, plus one (hashes are
 * uniform, so shards get even shares). Any other text is hashed with
 * FNV-1a first. n <= 1 gives 1. */
unsigned stw_shard_of(const char *digest, unsigned n);

#endif
