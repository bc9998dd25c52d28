/* embedded.h - data files (rules, SQL migrations) compiled into the binary
 * by cmake/embed.cmake. Each table ends with a {0} entry. */
#ifndef STW_EMBEDDED_H
#define STW_EMBEDDED_H

#include <stddef.h>

struct stw_embedded {
    const char *name; /* file base name, e.g. "001_init.sql" */
    const char *data; /* NUL-terminated contents */
    size_t len;       /* length without the terminating NUL */
    int swapped;      /* bytes stored nibble-swapped: use stw_embedded_text */
};

/* The file's text, decoded if it was stored swapped: malloc'd,
 * NUL-terminated, transferred to the caller; NULL when out of memory. */
char *stw_embedded_text(const struct stw_embedded *e);

/* The db/ SQL files, sorted by name: migrations applied in order. */
extern const struct stw_embedded stw_embedded_migrations[];
/* The signatures/ YAML files, sorted by name: the built-in rule set. */
extern const struct stw_embedded stw_embedded_rules[];

#endif
