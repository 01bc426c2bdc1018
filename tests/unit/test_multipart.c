/* test_multipart.c - Content-Type media types and parameters, boundaries,
 * and finding a form field's part in multipart/form-data bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "multipart.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

static void test_media_type(void **state)
{
	static const struct {
		const char *in, *type, *params;
	} rows[] = {
	        {"image/png", "image/png", ""},
	        {"  Image/PNG ; charset=binary", "image/png", " charset=binary"},
	        {"multipart/form-data; boundary=x", "multipart/form-data", " boundary=x"},
	        {"", "", ""},
	        {"\ttext/plain\t", "text/plain", ""},
	        {";a=b", "", "a=b"},
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		const char *params;
		char *mt = multipart_media_type(a, rows[i].in, &params);

		if (strcmp(mt, rows[i].type) != 0 || strcmp(params, rows[i].params) != 0)
			fail_msg("row %zu (%s): got \"%s\" / \"%s\"", i, rows[i].in, mt, params);
	}
	arena_free(a);
}

static void test_param(void **state)
{
	static const struct {
		const char *params, *name, *want; /* want NULL: absent */
	} rows[] = {
	        {" boundary=abc", "boundary", "abc"},
	        {" charset=utf-8; BOUNDARY=\"a b\"", "boundary", "a b"},
	        {"name=\"fi\\\"le\"; filename=\"x.jpg\"", "name", "fi\"le"},
	        {"name=\"file\"; filename=\"x.jpg\"", "filename", "x.jpg"},
	        {"name=\"unterminated", "name", NULL},
	        {"a=1", "b", NULL},
	        {"flag; a = 2", "a", "2"},
	        {"ab=1; a=2", "a", "2"},
	        {"", "a", NULL},
	        {"a=", "a", ""},
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		const char *got = multipart_param(a, rows[i].params, rows[i].name);

		if (rows[i].want == NULL && got != NULL)
			fail_msg("row %zu (%s): want NULL, got \"%s\"", i, rows[i].params, got);
		if (rows[i].want != NULL && (got == NULL || strcmp(got, rows[i].want) != 0))
			fail_msg("row %zu (%s): want \"%s\", got \"%s\"", i, rows[i].params,
			         rows[i].want, got ? got : "(null)");
	}
	arena_free(a);
}

static void test_boundary_valid(void **state)
{
	static const struct {
		const char *b;
		bool ok;
	} rows[] = {
	        {"abc", true},
	        {"----WebKitFormBoundary7MA4YWxkTrZu0gW", true},
	        {"b'(q)+_,-./:=?", true},
	        {"with space inside", true},
	        {"", false},
	        {"ends with space ", false},
	        {"semi;colon", false},
	        {"quote\"", false},
	        {"1234567890123456789012345678901234567890123456789012345678901234567890", true},
	        {"12345678901234567890123456789012345678901234567890123456789012345678901", false},
	        {"\xe4\xb8\xad", false},
	};

	(void)state;
	for (size_t i = 0; i < N(rows); i++)
		if (multipart_boundary_valid(rows[i].b) != rows[i].ok)
			fail_msg("row %zu (%s): want %d", i, rows[i].b, rows[i].ok);
}

static void test_find(void **state)
{
	static const struct {
		const char *body;
		const char *field;
		int want;
		const char *data, *ctype, *filename; /* when found */
	} rows[] = {
	        /* the simplest body */
	        {"--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nDATA\r\n--B--\r\n",
	         "file", MULTIPART_FOUND, "DATA", NULL, NULL},
	        /* a preamble, another field first, a type and a filename */
	        {"preamble\r\n--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nt\r\n"
	         "--B\r\ncontent-disposition: form-data; name=file; filename=\"a.png\"\r\n"
	         "Content-Type: Image/PNG\r\n\r\n\x89PNG\r\n--B--",
	         "file", MULTIPART_FOUND, "\x89PNG", "image/png", "a.png"},
	        /* padding after a delimiter; data holding a near-delimiter */
	        {"--B  \r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--C\r\n--B--",
	         "file", MULTIPART_FOUND, "x\r\n--C", NULL, NULL},
	        /* a part without header lines has no name */
	        {"--B\r\n\r\nanon\r\n--B--", "file", MULTIPART_NO_PART, NULL, NULL, NULL},
	        /* empty data */
	        {"--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\r\n--B--", "file",
	         MULTIPART_FOUND, "", NULL, NULL},
	        /* the field is absent */
	        {"--B\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--B--", "file",
	         MULTIPART_NO_PART, NULL, NULL, NULL},
	        /* only the closing delimiter */
	        {"--B--\r\n", "file", MULTIPART_NO_PART, NULL, NULL, NULL},
	        /* no delimiter at all */
	        {"just text", "file", MULTIPART_MALFORMED, NULL, NULL, NULL},
	        {"", "file", MULTIPART_MALFORMED, NULL, NULL, NULL},
	        /* the part never ends */
	        {"--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nDATA", "file",
	         MULTIPART_MALFORMED, NULL, NULL, NULL},
	        /* no header terminator */
	        {"--B\r\nContent-Disposition: form-data; name=\"file\"\r\nDATA\r\n--B--", "file",
	         MULTIPART_MALFORMED, NULL, NULL, NULL},
	        /* garbage after a delimiter instead of CRLF */
	        {"--Bxyz\r\n\r\nD\r\n--B--", "file", MULTIPART_MALFORMED, NULL, NULL, NULL},
	        /* a field named like a prefix of file is not it */
	        {"--B\r\nContent-Disposition: form-data; name=\"fil\"\r\n\r\nx\r\n--B--", "file",
	         MULTIPART_NO_PART, NULL, NULL, NULL},
	        /* Content-Disposition other than form-data carries no name */
	        {"--B\r\nContent-Disposition: attachment; name=\"file\"\r\n\r\nx\r\n--B--", "file",
	         MULTIPART_NO_PART, NULL, NULL, NULL},
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		struct multipart_part part;
		size_t len = strlen(rows[i].body);
		/* a copy of exactly len bytes, so a read past the end is caught */
		unsigned char *body = arena_alloc(a, len ? len : 1);
		enum multipart_result got;

		memcpy(body, rows[i].body, len);
		got = multipart_find(a, body, len, "B", rows[i].field, &part);
		if ((int)got != rows[i].want)
			fail_msg("row %zu: got %d, want %d", i, (int)got, rows[i].want);
		if (got != MULTIPART_FOUND)
			continue;
		if (part.len != strlen(rows[i].data) || memcmp(part.data, rows[i].data, part.len))
			fail_msg("row %zu: data \"%.*s\"", i, (int)part.len,
			         (const char *)part.data);
		if (part.data < body || part.data + part.len > body + len)
			fail_msg("row %zu: data not borrowed from the body", i);
		if ((rows[i].ctype == NULL) != (part.ctype == NULL) ||
		    (rows[i].ctype && strcmp(rows[i].ctype, part.ctype) != 0))
			fail_msg("row %zu: ctype %s", i, part.ctype ? part.ctype : "(null)");
		if ((rows[i].filename == NULL) != (part.filename == NULL) ||
		    (rows[i].filename && strcmp(rows[i].filename, part.filename) != 0))
			fail_msg("row %zu: filename %s", i,
			         part.filename ? part.filename : "(null)");
	}
	arena_free(a);
}

/* Binary data with NULs, and more parts than the parser looks at. */
static void test_binary_and_part_cap(void **state)
{
	struct arena *a = arena_new();
	static const unsigned char bin[] = {0xff, 0xd8, 0x00, 0x0d, 0x0a, 0x00, 0xff};
	const char *head = "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n";
	const char *tail = "\r\n--B--\r\n";
	size_t hl = strlen(head), tl = strlen(tail), len = hl + sizeof(bin) + tl;
	unsigned char *body = arena_alloc(a, len);
	struct multipart_part part;
	const char *many = "";

	(void)state;
	memcpy(body, head, hl);
	memcpy(body + hl, bin, sizeof(bin));
	memcpy(body + hl + sizeof(bin), tail, tl);
	assert_int_equal(multipart_find(a, body, len, "B", "file", &part), MULTIPART_FOUND);
	assert_int_equal(part.len, sizeof(bin));
	assert_memory_equal(part.data, bin, sizeof(bin));

	for (int i = 0; i < MULTIPART_MAX_PARTS; i++)
		many = arena_printf(a,
		                    "%s--B\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\n"
		                    "x\r\n",
		                    many, i);
	many = arena_printf(a,
	                    "%s--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"
	                    "late\r\n--B--",
	                    many);
	assert_int_equal(
	        multipart_find(a, (const unsigned char *)many, strlen(many), "B", "file", &part),
	        MULTIPART_NO_PART);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_media_type),          cmocka_unit_test(test_param),
	        cmocka_unit_test(test_boundary_valid),      cmocka_unit_test(test_find),
	        cmocka_unit_test(test_binary_and_part_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
