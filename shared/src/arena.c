/* arena.c - per-invocation memory: a list of blocks plus deferred cleanups.
 *
 * The first block (ARENA_FIRST bytes) lives as long as the arena; later
 * blocks double in size up to ARENA_MAX_GROW, and a request larger than half
 * the next block gets a block of its own, so a big body does not waste the
 * rest of the current one. Every pointer handed out is ARENA_ALIGN-aligned.
 */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN    16u
#define ARENA_FIRST    8192u
#define ARENA_MAX_GROW (1024u * 1024u)

struct arena_block {
	struct arena_block *next; /* older block */
	size_t size;              /* usable bytes in mem */
	size_t used;              /* bytes consumed in mem, padding included */
	unsigned char *mem;       /* ARENA_ALIGN-aligned start of the usable bytes */
};

struct arena_cleanup {
	struct arena_cleanup *next; /* registered earlier */
	void (*fn)(void *);
	void *p;
};

struct arena {
	struct arena_block *head;       /* newest block, allocations come from it */
	struct arena_block *first;      /* the block kept by arena_reset() */
	size_t next_size;               /* size of the next growth block */
	size_t used;                    /* bytes handed out since the last reset */
	struct arena_cleanup *cleanups; /* newest first */
};

static void arena_die(const char *what, size_t n)
{
	fprintf(stderr, "arena: out of memory (%s, %zu bytes)\n", what, n);
	abort();
}

/* One malloc holds the block header and its memory, aligned by hand so the
 * result does not depend on malloc's own alignment. */
static struct arena_block *arena_block_new(size_t size)
{
	size_t hdr = sizeof(struct arena_block);
	struct arena_block *b;
	uintptr_t mem;

	if (size > SIZE_MAX - hdr - ARENA_ALIGN)
		arena_die("block size overflow", size);
	b = malloc(hdr + ARENA_ALIGN + size);
	if (b == NULL)
		arena_die("block", size);
	mem = (uintptr_t)b + hdr;
	mem = (mem + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
	b->next = NULL;
	b->size = size;
	b->used = 0;
	b->mem = (unsigned char *)mem;
	return b;
}

/* Reserves n bytes (n > 0) in b or returns NULL when they do not fit. */
static void *arena_block_take(struct arena_block *b, size_t n)
{
	size_t off = (b->used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

	if (off > b->size || n > b->size - off)
		return NULL;
	b->used = off + n;
	return b->mem + off;
}

/* Uninitialised, aligned, not counted in arena_used(). */
static void *arena_take(struct arena *a, size_t n)
{
	struct arena_block *b;
	void *p;

	if (n == 0)
		n = 1;
	p = arena_block_take(a->head, n);
	if (p != NULL)
		return p;

	if (n > a->next_size / 2) {
		/* A block of its own, slid behind the head so the head's free
		 * space stays in use. */
		b = arena_block_new(n);
		b->next = a->head->next;
		a->head->next = b;
		p = arena_block_take(b, n);
		return p;
	}
	b = arena_block_new(a->next_size);
	if (a->next_size < ARENA_MAX_GROW)
		a->next_size *= 2;
	b->next = a->head;
	a->head = b;
	return arena_block_take(b, n);
}

/* Caller frees with arena_free(). */
struct arena *arena_new(void)
{
	struct arena *a = malloc(sizeof(*a));

	if (a == NULL)
		arena_die("arena", sizeof(*a));
	a->first = arena_block_new(ARENA_FIRST);
	a->head = a->first;
	a->next_size = ARENA_FIRST * 2;
	a->used = 0;
	a->cleanups = NULL;
	return a;
}

/* Runs cleanups newest first; a cleanup that defers another gets it run too. */
static void arena_run_cleanups(struct arena *a)
{
	struct arena_cleanup *c;

	while ((c = a->cleanups) != NULL) {
		a->cleanups = c->next;
		c->fn(c->p);
	}
}

/* Frees every block except the first one. */
static void arena_free_blocks(struct arena *a)
{
	struct arena_block *b = a->head, *next;

	while (b != NULL) {
		next = b->next;
		if (b != a->first)
			free(b);
		b = next;
	}
	a->first->used = 0;
	a->first->next = NULL;
	a->head = a->first;
	a->next_size = ARENA_FIRST * 2;
	a->used = 0;
}

/* Runs deferred cleanups (last registered first), frees every block. */
void arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	arena_run_cleanups(a);
	arena_free_blocks(a);
	free(a->first);
	free(a);
}

/* Runs deferred cleanups and keeps only the first block, emptied. */
void arena_reset(struct arena *a)
{
	if (a == NULL)
		return;
	arena_run_cleanups(a);
	arena_free_blocks(a);
}

/* Zeroed, ARENA_ALIGN-aligned, valid until reset/free. */
void *arena_alloc(struct arena *a, size_t n)
{
	void *p = arena_take(a, n);

	memset(p, 0, n);
	a->used += n;
	return p;
}

/* Arena copy of s; NULL for NULL. */
char *arena_strdup(struct arena *a, const char *s)
{
	if (s == NULL)
		return NULL;
	return arena_memdup(a, s, strlen(s));
}

/* Arena copy of at most n bytes of s, NUL-terminated; NULL for NULL. */
char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	if (s == NULL)
		return NULL;
	return arena_memdup(a, s, strnlen(s, n));
}

/* Copies n bytes of p and appends a NUL. */
void *arena_memdup(struct arena *a, const void *p, size_t n)
{
	unsigned char *d;

	if (n == SIZE_MAX)
		arena_die("memdup size overflow", n);
	d = arena_take(a, n + 1);
	if (n > 0)
		memcpy(d, p, n);
	d[n] = '\0';
	a->used += n + 1;
	return d;
}

/* Formats into the arena; aborts on a format error like on exhaustion. */
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	char *s;
	int len;

	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len < 0) {
		fprintf(stderr, "arena: vsnprintf failed for format \"%s\"\n", fmt);
		abort();
	}
	s = arena_take(a, (size_t)len + 1);
	if (vsnprintf(s, (size_t)len + 1, fmt, ap) != len) {
		fprintf(stderr, "arena: vsnprintf changed length for format \"%s\"\n", fmt);
		abort();
	}
	a->used += (size_t)len + 1;
	return s;
}

/* printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return s;
}

/* Registers fn(p) to run at reset/free, newest first; NULL p registers nothing. */
void *arena_defer(struct arena *a, void (*fn)(void *), void *p)
{
	struct arena_cleanup *c;

	if (p == NULL || fn == NULL)
		return p;
	c = arena_take(a, sizeof(*c));
	c->fn = fn;
	c->p = p;
	c->next = a->cleanups;
	a->cleanups = c;
	return p;
}

/* Bytes handed out since the last reset (cleanup records not included). */
size_t arena_used(const struct arena *a)
{
	return a == NULL ? 0 : a->used;
}
