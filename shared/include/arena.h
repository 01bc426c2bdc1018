/* arena.h - per-invocation memory.
 *
 * Every allocation made while handling one request comes from its arena and is
 * released at once by arena_reset() (warm reuse) or arena_free(). Foreign
 * objects (cJSON trees, PGresults, malloc'd strings) join the arena's lifetime
 * with arena_defer(). Allocation failure aborts the process, as a FaaS runtime
 * would after running out of memory; sizes driven by input are capped by the
 * caller before they reach the arena.
 */
#ifndef ARENA_H
#define ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

/* Caller frees with arena_free(). */
struct arena *arena_new(void);
/* Runs deferred cleanups (last registered first), frees every block. NULL ok. */
void arena_free(struct arena *a);
/* Like arena_free() but keeps the first block for the next invocation. */
void arena_reset(struct arena *a);

/* Zeroed, aligned for any type. Borrowed: valid until reset/free. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* Copies n bytes and appends a NUL (handy for bodies). */
void *arena_memdup(struct arena *a, const void *p, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap);

/* Calls fn(p) when the arena is reset or freed. p may be NULL (then nothing
 * is registered). Returns p for chaining. */
void *arena_defer(struct arena *a, void (*fn)(void *), void *p);

/* Total bytes handed out since the last reset (for tests and metrics). */
size_t arena_used(const struct arena *a);

#endif
