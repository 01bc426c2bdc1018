/* test_res.c - response helpers: JSON bodies, error shape, headers, reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "res.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

static int setup(void **state)
{
	*state = arena_new();
	return 0;
}

static int teardown(void **state)
{
	arena_free(*state);
	return 0;
}

static void test_json_body(void **state)
{
	struct res r;
	cJSON *root = cJSON_CreateObject();

	res_init(&r, *state);
	assert_int_equal(r.status, 0);
	cJSON_AddStringToObject(root, "title", "h\u00e9llo \"q\"");
	cJSON_AddNumberToObject(root, "n", 3);
	assert_int_equal(res_json(&r, 201, root), 201);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.body, "{\"title\":\"h\u00e9llo \\\"q\\\"\",\"n\":3}");
	assert_int_equal(r.body_len, strlen(r.body));
	assert_false(r.binary);
	assert_string_equal(kv_get(&r.headers, "content-type"), "application/json; charset=utf-8");
	/* A second body replaces the first; one Content-Type stays. Both trees
	 * are freed with the arena (LeakSanitizer checks). */
	assert_int_equal(res_json(&r, 200, cJSON_CreateArray()), 200);
	assert_string_equal(r.body, "[]");
	assert_int_equal(kv_count(&r.headers, "Content-Type"), 1);
}

static void test_json_null_is_500(void **state)
{
	struct res r;
	cJSON *root, *err;

	res_init(&r, *state);
	assert_int_equal(res_json(&r, 200, NULL), 500);
	assert_int_equal(r.status, 500);
	root = cJSON_Parse(r.body);
	err = cJSON_GetObjectItemCaseSensitive(root, "error");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(err, "code")->valuestring, "internal_error");
	cJSON_Delete(root);
}

static void test_error_shape(void **state)
{
	static const struct {
		int status;
		const char *code, *message, *field;
		const char *want;
	} rows[] = {
	        {422, "validation_failed", "title is required", "title",
	         "{\"error\":{\"code\":\"validation_failed\",\"message\":\"title is required\","
	         "\"field\":\"title\"}}"},
	        {404, "not_found", "no such article", NULL,
	         "{\"error\":{\"code\":\"not_found\",\"message\":\"no such article\"}}"},
	        {400, "bad", "quote \" and \\ and \n", NULL,
	         "{\"error\":{\"code\":\"bad\",\"message\":\"quote \\\" and \\\\ and \\n\"}}"},
	        {500, "internal", NULL, NULL,
	         "{\"error\":{\"code\":\"internal\",\"message\":\"\"}}"},
	};
	struct res r;
	size_t i;

	for (i = 0; i < N(rows); i++) {
		res_init(&r, *state);
		if (res_error(&r, rows[i].status, rows[i].code, rows[i].message, rows[i].field) !=
		    rows[i].status)
			fail_msg("row %zu: wrong return", i);
		if (r.status != rows[i].status || strcmp(r.body, rows[i].want) != 0)
			fail_msg("row %zu: status %d body %s", i, r.status, r.body);
		if (strcmp(kv_get(&r.headers, "Content-Type"), "application/json; charset=utf-8"))
			fail_msg("row %zu: content type", i);
	}
}

static void test_errorf(void **state)
{
	struct res r;

	res_init(&r, *state);
	assert_int_equal(res_errorf(&r, 400, "invalid_parameter", "id",
	                            "%s must be an integer between %d and %d", "id", 1, 100),
	                 400);
	assert_string_equal(r.body,
	                    "{\"error\":{\"code\":\"invalid_parameter\",\"message\":"
	                    "\"id must be an integer between 1 and 100\",\"field\":\"id\"}}");
}

static void test_headers(void **state)
{
	struct res r;

	res_init(&r, *state);
	res_header(&r, "Set-Cookie", "a=1");
	res_header(&r, "Set-Cookie", "b=2");
	res_header(&r, "X-One", "1");
	assert_int_equal(kv_count(&r.headers, "set-cookie"), 2);
	assert_string_equal(r.headers.items[0].value, "a=1");
	assert_string_equal(r.headers.items[1].value, "b=2");
	res_header_set(&r, "x-one", "uno");
	assert_int_equal(kv_count(&r.headers, "X-One"), 1);
	assert_string_equal(kv_get(&r.headers, "X-ONE"), "uno");
	res_header_set(&r, "Cache-Control", "no-store");
	assert_string_equal(kv_get(&r.headers, "cache-control"), "no-store");
}

static void test_body_and_empty(void **state)
{
	struct res r;
	char src[] = {'P', 'N', 'G', '\0', 'x'};

	res_init(&r, *state);
	assert_int_equal(res_body(&r, 200, "image/png", src, sizeof(src), true), 200);
	src[0] = 'Z';
	assert_int_equal(r.body_len, 5);
	assert_memory_equal(r.body, "PNG\0x", 5); /* copied, NULs kept */
	assert_true(r.binary);
	assert_string_equal(kv_get(&r.headers, "content-type"), "image/png");
	res_body(&r, 200, "text/plain; charset=utf-8", "hi", 2, false);
	assert_int_equal(kv_count(&r.headers, "content-type"), 1);
	assert_false(r.binary);

	res_init(&r, *state);
	assert_int_equal(res_empty(&r, 204), 204);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.body_len, 0);
	assert_non_null(r.body);
}

static void test_reason(void **state)
{
	static const struct {
		int status;
		const char *want;
	} rows[] = {
	        {200, "OK"},
	        {201, "Created"},
	        {204, "No Content"},
	        {301, "Moved Permanently"},
	        {304, "Not Modified"},
	        {400, "Bad Request"},
	        {401, "Unauthorized"},
	        {403, "Forbidden"},
	        {404, "Not Found"},
	        {405, "Method Not Allowed"},
	        {409, "Conflict"},
	        {413, "Content Too Large"},
	        {415, "Unsupported Media Type"},
	        {422, "Unprocessable Content"},
	        {429, "Too Many Requests"},
	        {500, "Internal Server Error"},
	        {502, "Bad Gateway"},
	        {503, "Service Unavailable"},
	        {504, "Gateway Timeout"},
	        {0, "Unknown"},
	        {299, "Unknown"},
	        {999, "Unknown"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(rows); i++)
		if (strcmp(res_reason(rows[i].status), rows[i].want) != 0)
			fail_msg("%d: got \"%s\"", rows[i].status, res_reason(rows[i].status));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_json_body, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_json_null_is_500, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_error_shape, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_errorf, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_headers, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_body_and_empty, setup, teardown),
	        cmocka_unit_test(test_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
