/* alloc.h - the library's one way to allocate. Every malloc, calloc,
 * realloc and strdup in scanner/ (but the CLI) goes through these, so a
 * test can make the Nth allocation fail (alloc_test.h) and check that the
 * library answers STW_ERR_NOMEM cleanly; tools/check-banned.sh refuses the
 * raw calls. Same contracts as the libc functions they wrap; what they
 * return is released with free(). Allocations made inside third-party
 * libraries (libarchive, jansson, SQLite...) do not pass through here. */
#ifndef STW_ALLOC_H
#define STW_ALLOC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

void *stw_malloc(size_t n);
void *stw_calloc(size_t n, size_t size);
/* As realloc: on failure NULL, and p is left allocated and unchanged. */
void *stw_realloc(void *p, size_t n);

/* strdup that returns NULL on NULL input (not counted as an allocation).
 * Result transferred to caller. */
char *stw_strdup(const char *s);
/* The first at most n bytes of s, NUL-terminated. Result transferred to
 * caller. */
char *stw_strndup(const char *s, size_t n);

/* pthread_create with default attributes, counted by the same hook: a
 * thread is a resource a process can be refused (a container's pids
 * limit), and each caller has a way to go on without it. false when no
 * thread was started. */
bool stw_thread_create(pthread_t *tid, void *(*fn)(void *), void *arg);

#endif
