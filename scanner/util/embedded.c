/* embedded.c - decoding of data files compiled into the binary. */
#include "embedded.h"
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

char *stw_embedded_text(const struct stw_embedded *e)
{
    char *t = stw_malloc(e->len + 1);
    if (!t)
        return NULL;
    const unsigned char *p = (const unsigned char *)e->data;
    for (size_t i = 0; i < e->len; i++)
        t[i] =
            (char)(e->swapped ? (unsigned char)(p[i] << 4 | p[i] >> 4) : p[i]);
    t[e->len] = 0;
    return t;
}
