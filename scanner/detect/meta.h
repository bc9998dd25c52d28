/* meta.h - the metadata detector: what a tar header alone betrays
 * (setuid/setgid files, world-writable files and directories). Never reads
 * content. Stateless. */
#ifndef STW_META_H
#define STW_META_H

#include "finding.h"

#include <stdbool.h>
#include <stdint.h>

/* Emits zero or more findings for one entry. type is the S_IF* file type
 * bits, mode the full mode. path borrowed. */
stw_status stw_meta_check(const char *path, uint32_t type, uint32_t mode,
                          int64_t uid, int64_t gid, stw_finding_fn fn,
                          void *ctx);

#endif
