/* test_kv.c - lists, percent decoding, URL-encoded and Cookie parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "kv.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

/* "a=1|b=2" rendering of a list, for compact table expectations. */
static const char *render(struct arena *a, const struct kvlist *l)
{
	const char *s = "";
	size_t i;

	for (i = 0; i < l->n; i++)
		s = arena_printf(a, "%s%s%s=%s", s, i > 0 ? "|" : "", l->items[i].name,
		                 l->items[i].value);
	return s;
}

static void test_unescape(void **state)
{
	static const struct {
		const char *in;
		bool plus;
		const char *want; /* NULL: rejected */
	} rows[] = {
	        {"", false, ""},           {"plain", false, "plain"},
	        {"a%20b", false, "a b"},   {"a+b", true, "a b"},
	        {"a+b", false, "a+b"},     {"%2B", true, "+"},
	        {"%41%42c", false, "ABc"}, {"%e2%82%ac", false, "\xe2\x82\xac"},
	        {"%2F", false, "/"},       {"%2f%2F", false, "//"},
	        {"%", false, NULL},        {"%4", false, NULL},
	        {"100%", false, NULL},     {"%zz", false, NULL},
	        {"%G0", false, NULL},      {"a%2", false, NULL},
	        {"%00", false, NULL},      {"x%00y", true, NULL},
	};
	struct arena *a = arena_new();
	const char *got;
	size_t i;

	(void)state;
	for (i = 0; i < N(rows); i++) {
		got = kv_unescape(a, rows[i].in, strlen(rows[i].in), rows[i].plus);
		if (rows[i].want == NULL && got != NULL)
			fail_msg("row %zu (%s): want NULL, got \"%s\"", i, rows[i].in, got);
		if (rows[i].want != NULL && (got == NULL || strcmp(got, rows[i].want) != 0))
			fail_msg("row %zu (%s): want \"%s\", got \"%s\"", i, rows[i].in,
			         rows[i].want, got ? got : "(null)");
	}
	/* Only len bytes are read; a raw NUL inside them is refused. */
	assert_string_equal(kv_unescape(a, "ab%41", 2, false), "ab");
	assert_null(kv_unescape(a, "a\0b", 3, false));
	arena_free(a);
}

static void test_escape(void **state)
{
	static const struct {
		const char *in, *want;
	} rows[] = {
	        {"", ""},
	        {"AZaz09-_.~", "AZaz09-_.~"},
	        {"a b", "a%20b"},
	        {"a/b?c=d&e#f", "a%2Fb%3Fc%3Dd%26e%23f"},
	        {"100%", "100%25"},
	        {"+\"'<>", "%2B%22%27%3C%3E"},
	        {"\xE6\x97\xA5", "%E6%97%A5"},
	        {"\x7F\x01", "%7F%01"},
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		const char *got = kv_escape(a, rows[i].in);

		if (strcmp(got, rows[i].want) != 0)
			fail_msg("row %zu: want \"%s\", got \"%s\"", i, rows[i].want, got);
		/* and back */
		assert_string_equal(kv_unescape(a, got, strlen(got), false), rows[i].in);
	}
	arena_free(a);
}

static void test_parse_urlencoded(void **state)
{
	static const struct {
		const char *in;
		int rc;
		const char *want;
	} rows[] = {
	        {"", 0, ""},
	        {"a=1&b=two%20x", 0, "a=1|b=two x"},
	        {"a", 0, "a="},
	        {"a=", 0, "a="},
	        {"a=&b", 0, "a=|b="},
	        {"&&a=1&&", 0, "a=1"},
	        {"a=1&a=2", 0, "a=1|a=2"},
	        {"=x&b=1", 0, "b=1"},
	        {"a+b=c+d", 0, "a b=c d"},
	        {"q=%E4%BD%A0%F0%9F%98%80", 0, "q=\xe4\xbd\xa0\xf0\x9f\x98\x80"},
	        {"k=a=b", 0, "k=a=b"},
	        {"k=%26%3D", 0, "k=&="},
	        {"x=%zz", -1, ""},
	        {"ok=1&x=%2", -1, ""},
	        {"%zz=1", -1, ""},
	        {"=%zz", -1, ""},
	        {"a=%00", -1, ""},
	};
	struct arena *a = arena_new();
	struct kvlist l;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < N(rows); i++) {
		memset(&l, 0, sizeof(l));
		rc = kv_parse_urlencoded(a, &l, rows[i].in, strlen(rows[i].in));
		if (rc != rows[i].rc)
			fail_msg("row %zu (%s): rc %d, want %d", i, rows[i].in, rc, rows[i].rc);
		if (strcmp(render(a, &l), rows[i].want) != 0)
			fail_msg("row %zu (%s): got \"%s\", want \"%s\"", i, rows[i].in,
			         render(a, &l), rows[i].want);
	}
	/* A failure adds nothing to a list that already has entries. */
	memset(&l, 0, sizeof(l));
	kv_add(a, &l, "keep", "1");
	assert_int_equal(kv_parse_urlencoded(a, &l, "a=1&b=%x1", 9), -1);
	assert_string_equal(render(a, &l), "keep=1");
	/* Only len bytes are parsed. */
	assert_int_equal(kv_parse_urlencoded(a, &l, "c=3&d=4", 3), 0);
	assert_string_equal(render(a, &l), "keep=1|c=3");
	assert_int_equal(kv_parse_urlencoded(a, &l, NULL, 0), 0);
	arena_free(a);
}

static void test_parse_cookies(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} rows[] = {
	        {"", ""},
	        {"a=1; b=2", "a=1|b=2"},
	        {"  a = 1 ;b=\"quoted\"", "a=1|b=quoted"},
	        {"bad; c=3", "c=3"},
	        {"=x; d=4", "d=4"},
	        {"e=", "e="},
	        {"f=\"\"", "f="},
	        {"g=a=b", "g=a=b"},
	        {";;;", ""},
	        {"h=\"", "h=\""},
	        {"sid=abc%20def", "sid=abc%20def"}, /* cookie values are not decoded */
	        {"x=1;x=2", "x=1|x=2"},
	        {"\tt=\t1\t", "t=1"},
	};
	struct arena *a = arena_new();
	struct kvlist l;
	size_t i;

	(void)state;
	for (i = 0; i < N(rows); i++) {
		memset(&l, 0, sizeof(l));
		kv_parse_cookies(a, &l, rows[i].in);
		if (strcmp(render(a, &l), rows[i].want) != 0)
			fail_msg("row %zu (%s): got \"%s\", want \"%s\"", i, rows[i].in,
			         render(a, &l), rows[i].want);
	}
	kv_parse_cookies(a, &l, NULL);
	arena_free(a);
}

static void test_get_count_case_insensitive(void **state)
{
	struct arena *a = arena_new();
	struct kvlist l = {0};

	(void)state;
	kv_add(a, &l, "Content-Type", "text/plain");
	kv_add(a, &l, "x-a", "1");
	kv_add(a, &l, "X-A", "2");
	assert_string_equal(kv_get(&l, "content-type"), "text/plain");
	assert_string_equal(kv_get(&l, "CONTENT-TYPE"), "text/plain");
	assert_string_equal(kv_get(&l, "x-a"), "1"); /* first of repeats */
	assert_int_equal(kv_count(&l, "X-a"), 2);
	assert_int_equal(kv_count(&l, "nope"), 0);
	assert_null(kv_get(&l, "nope"));
	assert_null(kv_get(&l, NULL));
	kv_add(a, &l, "empty", NULL);
	assert_string_equal(kv_get(&l, "empty"), "");
	arena_free(a);
}

static void test_set(void **state)
{
	struct arena *a = arena_new();
	struct kvlist l = {0};

	(void)state;
	kv_add(a, &l, "a", "1");
	kv_add(a, &l, "B", "2");
	kv_add(a, &l, "c", "3");
	kv_add(a, &l, "b", "4");
	kv_set(a, &l, "b", "new");
	assert_string_equal(render(a, &l), "a=1|b=new|c=3");
	kv_set(a, &l, "d", "5");
	assert_string_equal(render(a, &l), "a=1|b=new|c=3|d=5");
	assert_int_equal(kv_count(&l, "b"), 1);
	arena_free(a);
}

static void test_copy_and_ref(void **state)
{
	struct arena *a = arena_new();
	struct kvlist l = {0};
	char name[] = "key", value[] = "value";

	(void)state;
	kv_add(a, &l, name, value);
	kv_add_ref(a, &l, name, value);
	value[0] = 'V';
	assert_string_equal(l.items[0].value, "value"); /* copied */
	assert_string_equal(l.items[1].value, "Value"); /* borrowed */
	assert_ptr_equal(l.items[1].name, name);
	arena_free(a);
}

static void test_growth(void **state)
{
	struct arena *a = arena_new();
	struct kvlist l = {0};
	char name[16];
	size_t i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "k%zu", i);
		kv_add(a, &l, name, name + 1);
	}
	assert_int_equal(l.n, 1000);
	assert_true(l.cap >= 1000);
	assert_string_equal(kv_get(&l, "k0"), "0");
	assert_string_equal(kv_get(&l, "k999"), "999");
	assert_string_equal(kv_get(&l, "K500"), "500");
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_unescape),
	        cmocka_unit_test(test_parse_urlencoded),
	        cmocka_unit_test(test_escape),
	        cmocka_unit_test(test_parse_cookies),
	        cmocka_unit_test(test_get_count_case_insensitive),
	        cmocka_unit_test(test_set),
	        cmocka_unit_test(test_copy_and_ref),
	        cmocka_unit_test(test_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
