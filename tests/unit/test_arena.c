/* test_arena.c - arena allocation, alignment, growth, defer order and reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"

static void test_alignment_and_zero(void **state)
{
	static const size_t sizes[] = {1,  2,  3,   7,    15,   16,   17,
	                               31, 33, 100, 1000, 4095, 9000, 70000};
	struct arena *a = arena_new();
	size_t i, j, round;
	unsigned char *p;

	(void)state;
	for (round = 0; round < 3; round++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			p = arena_alloc(a, sizes[i]);
			if ((uintptr_t)p % 16 != 0)
				fail_msg("size %zu: pointer %p not 16-aligned", sizes[i],
				         (void *)p);
			for (j = 0; j < sizes[i]; j++)
				if (p[j] != 0)
					fail_msg("size %zu: byte %zu not zeroed", sizes[i], j);
			memset(p, 0xA5, sizes[i]);
		}
		/* Reused memory must come back zeroed too. */
		arena_reset(a);
	}
	arena_free(a);
}

/* Many allocations across several blocks never overlap. */
static void test_growth_keeps_data(void **state)
{
	struct arena *a = arena_new();
	unsigned char *ptrs[500];
	size_t i, j, n;

	(void)state;
	for (i = 0; i < 500; i++) {
		n = 100 + i * 7;
		ptrs[i] = arena_alloc(a, n);
		memset(ptrs[i], (int)(i & 0xFF), n);
	}
	for (i = 0; i < 500; i++) {
		n = 100 + i * 7;
		for (j = 0; j < n; j++)
			if (ptrs[i][j] != (unsigned char)(i & 0xFF))
				fail_msg("allocation %zu byte %zu overwritten", i, j);
	}
	arena_free(a);
}

/* A request larger than any block gets its own block; later small ones still work. */
static void test_big_allocation(void **state)
{
	struct arena *a = arena_new();
	size_t big = 5u * 1024u * 1024u;
	unsigned char *small1, *p, *small2;

	(void)state;
	small1 = arena_alloc(a, 10);
	memset(small1, 1, 10);
	p = arena_alloc(a, big);
	memset(p, 0xEE, big); /* ASan catches any overrun */
	assert_int_equal(p[big - 1], 0xEE);
	small2 = arena_alloc(a, 10);
	memset(small2, 2, 10);
	assert_int_equal(small1[9], 1);
	assert_int_equal(p[0], 0xEE);
	assert_true(arena_used(a) >= big + 20);
	arena_free(a);
}

static int order[16];
static size_t norder;

static void record(void *p)
{
	order[norder++] = *(int *)p;
}

static struct arena *nested_arena;
static int nested_value = 99;

static void defer_more(void *p)
{
	record(p);
	arena_defer(nested_arena, record, &nested_value);
}

static void test_defer_lifo_on_reset(void **state)
{
	static int vals[] = {1, 2, 3};
	struct arena *a = arena_new();

	(void)state;
	norder = 0;
	assert_ptr_equal(arena_defer(a, record, &vals[0]), &vals[0]);
	arena_defer(a, record, &vals[1]);
	assert_null(arena_defer(a, record, NULL)); /* registers nothing */
	arena_defer(a, record, &vals[2]);
	assert_int_equal(norder, 0);
	arena_reset(a);
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 3);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 1);
	/* Already run: a second reset runs nothing. */
	arena_reset(a);
	assert_int_equal(norder, 3);
	arena_free(a);
	assert_int_equal(norder, 3);
}

static void test_defer_on_free_and_nested(void **state)
{
	static int vals[] = {7, 8};

	(void)state;
	norder = 0;
	nested_arena = arena_new();
	arena_defer(nested_arena, record, &vals[0]);
	arena_defer(nested_arena, defer_more, &vals[1]);
	arena_free(nested_arena);
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 8);
	assert_int_equal(order[1], 99); /* registered during cleanup, still run */
	assert_int_equal(order[2], 7);
	nested_arena = NULL;
	arena_free(NULL); /* allowed */
}

static void free_counter(void *p)
{
	(*(int *)p)++;
}

/* The arena is reusable after reset, and the first block is kept: the first
 * allocation after a reset lands where the first one did. */
static void test_reset_reuses_first_block(void **state)
{
	struct arena *a = arena_new();
	void *first, *again;
	int freed = 0;
	size_t i;

	(void)state;
	first = arena_alloc(a, 32);
	for (i = 0; i < 100; i++)
		arena_alloc(a, 1000); /* forces growth blocks */
	arena_defer(a, free_counter, &freed);
	arena_reset(a);
	assert_int_equal(freed, 1);
	assert_int_equal(arena_used(a), 0);
	again = arena_alloc(a, 32);
	assert_ptr_equal(first, again);
	arena_free(a);
	assert_int_equal(freed, 1);
}

static void test_used(void **state)
{
	struct arena *a = arena_new();

	(void)state;
	assert_int_equal(arena_used(a), 0);
	arena_alloc(a, 10);
	assert_int_equal(arena_used(a), 10);
	arena_strdup(a, "abc");
	assert_int_equal(arena_used(a), 14);
	arena_memdup(a, "xy", 2);
	assert_int_equal(arena_used(a), 17);
	arena_reset(a);
	assert_int_equal(arena_used(a), 0);
	arena_free(a);
}

static void test_strings(void **state)
{
	static const struct {
		const char *src;
		size_t n;
		const char *want;
	} ndup[] = {
	        {"hello", 3, "hel"}, {"hello", 5, "hello"}, {"hello", 50, "hello"},
	        {"hello", 0, ""},    {"", 4, ""},
	};
	struct arena *a = arena_new();
	char src[] = "mutable";
	char *d;
	unsigned char *m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ndup) / sizeof(ndup[0]); i++) {
		d = arena_strndup(a, ndup[i].src, ndup[i].n);
		if (strcmp(d, ndup[i].want) != 0)
			fail_msg("strndup row %zu: got \"%s\"", i, d);
	}
	d = arena_strdup(a, src);
	src[0] = 'X';
	assert_string_equal(d, "mutable");
	assert_null(arena_strdup(a, NULL));
	assert_null(arena_strndup(a, NULL, 3));

	m = arena_memdup(a, "a\0b", 3);
	assert_memory_equal(m, "a\0b", 3);
	assert_int_equal(m[3], 0);
	m = arena_memdup(a, NULL, 0);
	assert_int_equal(m[0], 0);

	assert_string_equal(arena_printf(a, "%s-%d-%05.1f", "x", 42, 3.14159), "x-42-003.1");
	assert_string_equal(arena_printf(a, "%s", ""), "");
	arena_free(a);
}

static void test_printf_long(void **state)
{
	struct arena *a = arena_new();
	char *s;
	size_t i;

	(void)state;
	s = arena_printf(a, "%20000d|%s", 7, "end");
	assert_int_equal(strlen(s), 20004);
	for (i = 0; i < 19999; i++)
		if (s[i] != ' ')
			fail_msg("byte %zu is '%c'", i, s[i]);
	assert_string_equal(s + 19999, "7|end");
	arena_free(a);
}

/* A size that cannot be satisfied aborts the process (in a child). */
static void test_alloc_failure_aborts(void **state)
{
	pid_t pid;
	int status = 0;

	(void)state;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct arena *a;

		signal(SIGABRT, SIG_DFL); /* cmocka's handler would catch it */
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(3);
		a = arena_new();
		arena_alloc(a, SIZE_MAX - 8);
		_exit(0); /* not reached when arena aborts */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_alignment_and_zero),
	        cmocka_unit_test(test_growth_keeps_data),
	        cmocka_unit_test(test_big_allocation),
	        cmocka_unit_test(test_defer_lifo_on_reset),
	        cmocka_unit_test(test_defer_on_free_and_nested),
	        cmocka_unit_test(test_reset_reuses_first_block),
	        cmocka_unit_test(test_used),
	        cmocka_unit_test(test_strings),
	        cmocka_unit_test(test_printf_long),
	        cmocka_unit_test(test_alloc_failure_aborts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
