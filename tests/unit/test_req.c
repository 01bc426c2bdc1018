/* test_req.c - building requests and the typed getters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "config.h"
#include "req.h"
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

/* Checks res holds {"error":{"code":code,"message":message,"field":field}}. */
static void check_error(const struct res *r, int status, const char *code, const char *message,
                        const char *field)
{
	cJSON *root = cJSON_ParseWithLength(r->body, r->body_len);
	cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
	cJSON *f = cJSON_GetObjectItemCaseSensitive(err, "field");

	if (r->status != status)
		fail_msg("status %d, want %d (%s)", r->status, status, r->body);
	assert_non_null(err);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(err, "code")->valuestring, code);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(err, "message")->valuestring, message);
	if (field == NULL)
		assert_null(f);
	else
		assert_string_equal(f->valuestring, field);
	cJSON_Delete(root);
}

static void test_init_defaults(void **state)
{
	struct req r;

	req_init(&r, *state);
	assert_ptr_equal(r.arena, *state);
	assert_int_equal(r.kind, REQ_HTTP);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, "/");
	assert_string_equal(r.raw_query, "");
	assert_string_equal(r.source_ip, "");
	assert_int_equal(r.body_len, 0);
	assert_int_equal(r.headers.n, 0);
	assert_null(req_header(&r, "host"));
	assert_null(req_query(&r, "x"));
	assert_null(req_cookie(&r, "x"));
	assert_null(req_param(&r, "x"));
	assert_null(req_form(&r, "x"));
}

static void test_method(void **state)
{
	struct req r;

	req_init(&r, *state);
	req_set_method(&r, "post");
	assert_string_equal(r.method, "POST");
	req_set_method(&r, "Delete");
	assert_string_equal(r.method, "DELETE");
	req_set_method(&r, NULL);
	assert_string_equal(r.method, "GET");
}

static void test_set_target(void **state)
{
	static const struct {
		const char *path, *query;
		int rc;
		const char *want_path, *want_raw, *key, *want_value;
	} rows[] = {
	        {"/a?x=1&y=2", NULL, 0, "/a", "x=1&y=2", "y", "2"},
	        {"/a", "x=1", 0, "/a", "x=1", "x", "1"},
	        {"/a", "?x=1", 0, "/a", "x=1", "x", "1"},
	        {"/a?b=1", "x=1", 0, "/a?b=1", "x=1", "b", NULL}, /* query given: no split */
	        {"/a", NULL, 0, "/a", "", "x", NULL},
	        {"/a?", NULL, 0, "/a", "", "x", NULL},
	        {"/a?x=a+b%21", NULL, 0, "/a", "x=a+b%21", "x", "a b!"},
	        {"/p%20q/%2F?k=v", NULL, 0, "/p%20q/%2F", "k=v", "k", "v"},
	        {"/a?x=1?y=2", NULL, 0, "/a", "x=1?y=2", "x", "1?y=2"},
	        {"", NULL, 0, "/", "", "x", NULL},
	        {NULL, NULL, 0, "/", "", "x", NULL},
	        {"?x=1", NULL, 0, "/", "x=1", "x", "1"},
	        {"/a?x=%zz", NULL, -1, "/a", "x=%zz", "x", NULL},
	        {"/a", "x=%4", -1, "/a", "x=%4", "x", NULL},
	};
	struct req r;
	const char *v;
	size_t i;
	int rc;

	for (i = 0; i < N(rows); i++) {
		req_init(&r, *state);
		rc = req_set_target(&r, rows[i].path, rows[i].query);
		v = req_query(&r, rows[i].key);
		if (rc != rows[i].rc || strcmp(r.path, rows[i].want_path) != 0 ||
		    strcmp(r.raw_query, rows[i].want_raw) != 0 ||
		    (rows[i].want_value == NULL) != (v == NULL) ||
		    (v != NULL && strcmp(v, rows[i].want_value) != 0))
			fail_msg("row %zu: rc %d path \"%s\" raw \"%s\" %s=\"%s\"", i, rc, r.path,
			         r.raw_query, rows[i].key, v ? v : "(null)");
	}
	/* Setting the target again replaces the query. */
	req_init(&r, *state);
	req_set_target(&r, "/a?x=1", NULL);
	req_set_target(&r, "/b?y=2", NULL);
	assert_null(req_query(&r, "x"));
	assert_string_equal(req_query(&r, "y"), "2");
	/* Repeated query names: first wins in the getter, all are kept. */
	req_set_target(&r, "/b?t=1&t=2", NULL);
	assert_string_equal(req_query(&r, "t"), "1");
	assert_int_equal(kv_count(&r.query, "t"), 2);
}

static void test_headers(void **state)
{
	struct req r;

	req_init(&r, *state);
	req_add_header(&r, "Content-Type", "application/json");
	req_add_header(&r, "X-Forwarded-For", "1.1.1.1");
	req_add_header(&r, "x-forwarded-for", "2.2.2.2");
	assert_string_equal(r.headers.items[0].name, "content-type"); /* stored lower-case */
	assert_string_equal(r.headers.items[2].name, "x-forwarded-for");
	assert_string_equal(req_header(&r, "content-type"), "application/json");
	assert_string_equal(req_header(&r, "CONTENT-TYPE"), "application/json");
	assert_string_equal(req_header(&r, "X-Forwarded-For"), "1.1.1.1");
	assert_int_equal(kv_count(&r.headers, "x-forwarded-for"), 2);
	assert_null(req_header(&r, "authorization"));
}

static void test_cookies(void **state)
{
	struct req r;

	req_init(&r, *state);
	req_add_header(&r, "Cookie", "sid=abc; theme=\"dark\"");
	req_add_header(&r, "COOKIE", "lang=zh; sid=second");
	req_add_header(&r, "X-Cookie", "not=parsed");
	assert_string_equal(req_cookie(&r, "sid"), "abc");
	assert_string_equal(req_cookie(&r, "theme"), "dark");
	assert_string_equal(req_cookie(&r, "lang"), "zh");
	assert_int_equal(kv_count(&r.cookies, "sid"), 2);
	assert_null(req_cookie(&r, "not"));
	assert_int_equal(r.cookies.n, 4);
}

static void test_body(void **state)
{
	struct req r;
	char src[] = {'a', '\0', 'b'};

	req_init(&r, *state);
	req_set_body(&r, src, sizeof(src));
	src[0] = 'z';
	assert_int_equal(r.body_len, 3);
	assert_memory_equal(r.body, "a\0b", 3);
	assert_int_equal(r.body[3], 0);
	req_set_body(&r, NULL, 10);
	assert_int_equal(r.body_len, 0);
	assert_int_equal(r.body[0], 0);
}

static void test_form(void **state)
{
	static const struct {
		const char *ct, *body, *key, *want;
	} rows[] = {
	        {"application/x-www-form-urlencoded", "name=Ann+Lee&msg=hi%21", "name", "Ann Lee"},
	        {"application/x-www-form-urlencoded", "name=Ann+Lee&msg=hi%21", "msg", "hi!"},
	        {"Application/X-WWW-Form-Urlencoded; charset=UTF-8", "a=1", "a", "1"},
	        {" application/x-www-form-urlencoded ;charset=utf-8", "a=1", "a", "1"},
	        {"application/json", "a=1", "a", NULL},
	        {"text/plain", "a=1", "a", NULL},
	        {"application/x-www-form-urlencodedx", "a=1", "a", NULL},
	        {NULL, "a=1", "a", NULL},
	        {"application/x-www-form-urlencoded", "a=1&b=%zz", "a", NULL},
	        {"application/x-www-form-urlencoded", "", "a", NULL},
	};
	struct req r;
	const char *v;
	size_t i;

	for (i = 0; i < N(rows); i++) {
		req_init(&r, *state);
		if (rows[i].ct != NULL)
			req_add_header(&r, "Content-Type", rows[i].ct);
		req_set_body(&r, rows[i].body, strlen(rows[i].body));
		v = req_form(&r, rows[i].key);
		if ((v == NULL) != (rows[i].want == NULL) ||
		    (v != NULL && strcmp(v, rows[i].want) != 0))
			fail_msg("row %zu: got \"%s\"", i, v ? v : "(null)");
	}
	/* A new body is parsed again on next use. */
	req_init(&r, *state);
	req_add_header(&r, "content-type", "application/x-www-form-urlencoded");
	req_set_body(&r, "a=1", 3);
	assert_string_equal(req_form(&r, "a"), "1");
	req_set_body(&r, "a=2", 3);
	assert_string_equal(req_form(&r, "a"), "2");
}

struct u64_row {
	const char *value; /* NULL: absent */
	uint64_t min, max;
	int rc;
	uint64_t want;
	const char *message;
};

static const struct u64_row u64_rows[] = {
        {"1", 1, 100, 0, 1, NULL},
        {"42", 1, 100, 0, 42, NULL},
        {"100", 1, 100, 0, 100, NULL},
        {"007", 1, 100, 0, 7, NULL},
        {"0", 0, 5, 0, 0, NULL},
        {"18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX, NULL},
        {"0", 1, 100, -1, 0, "id must be an integer between 1 and 100"},
        {"101", 1, 100, -1, 0, "id must be an integer between 1 and 100"},
        {"18446744073709551616", 0, UINT64_MAX, -1, 0,
         "id must be an integer between 0 and 18446744073709551615"},
        {"99999999999999999999999", 1, 100, -1, 0, "id must be an integer between 1 and 100"},
        {"-1", 1, 100, -1, 0, "id must be an integer between 1 and 100"},
        {"+1", 1, 100, -1, 0, "id must be an integer between 1 and 100"},
        {" 1", 1, 100, -1, 0, "id must be an integer between 1 and 100"},
        {"1 ", 1, 100, -1, 0, "id must be an integer between 1 and 100"},
        {"0x10", 1, 100, -1, 0, "id must be an integer between 1 and 100"},
        {"1e2", 1, 100, -1, 0, "id must be an integer between 1 and 100"},
        {"1.0", 1, 100, -1, 0, "id must be an integer between 1 and 100"},
        {"", 1, 100, -1, 0, "id must be an integer between 1 and 100"},
        {"abc", 1, 100, -1, 0, "id must be an integer between 1 and 100"},
};

static void test_param_u64(void **state)
{
	struct req r;
	struct res s;
	uint64_t out;
	size_t i;
	int rc;

	for (i = 0; i < N(u64_rows); i++) {
		req_init(&r, *state);
		res_init(&s, *state);
		kv_add(*state, &r.params, "id", u64_rows[i].value);
		out = 12345;
		rc = req_param_u64(&r, &s, "id", u64_rows[i].min, u64_rows[i].max, &out);
		if (rc != u64_rows[i].rc)
			fail_msg("row %zu (%s): rc %d", i, u64_rows[i].value, rc);
		if (rc == 0 && (out != u64_rows[i].want || s.status != 0))
			fail_msg("row %zu (%s): out %llu", i, u64_rows[i].value,
			         (unsigned long long)out);
		if (rc != 0) {
			if (out != 12345)
				fail_msg("row %zu: out touched on error", i);
			check_error(&s, 400, "invalid_parameter", u64_rows[i].message, "id");
		}
	}
	/* A missing path parameter is a 400 as well. */
	req_init(&r, *state);
	res_init(&s, *state);
	assert_int_equal(req_param_u64(&r, &s, "id", 1, 10, &out), -1);
	check_error(&s, 400, "invalid_parameter", "id is required", "id");
}

static void test_query_u64(void **state)
{
	struct req r;
	struct res s;
	uint64_t out = 0;

	req_init(&r, *state);
	res_init(&s, *state);
	assert_int_equal(req_set_target(&r, "/x?limit=50&bad=5x&empty=", NULL), 0);
	assert_int_equal(req_query_u64(&r, &s, "limit", 20, 1, 100, &out), 0);
	assert_int_equal(out, 50);
	assert_int_equal(req_query_u64(&r, &s, "absent", 20, 1, 100, &out), 0);
	assert_int_equal(out, 20);
	assert_int_equal(s.status, 0);
	assert_int_equal(req_query_u64(&r, &s, "bad", 20, 1, 100, &out), -1);
	check_error(&s, 400, "invalid_parameter", "bad must be an integer between 1 and 100",
	            "bad");
	res_init(&s, *state);
	assert_int_equal(req_query_u64(&r, &s, "empty", 20, 1, 100, &out), -1);
	check_error(&s, 400, "invalid_parameter", "empty must be an integer between 1 and 100",
	            "empty");
	res_init(&s, *state);
	assert_int_equal(req_query_u64(&r, &s, "limit", 20, 1, 10, &out), -1);
	check_error(&s, 400, "invalid_parameter", "limit must be an integer between 1 and 10",
	            "limit");
}

/* The client address: the platform's, X-Forwarded-For only behind a trusted
 * proxy in HTTP mode, and then its last entry. */
static void test_client_ip(void **state)
{
	static const struct {
		enum req_kind kind;
		bool trust;
		const char *source, *xff, *want;
	} cases[] = {
	        {REQ_HTTP, false, "10.0.0.9", NULL, "10.0.0.9"},
	        {REQ_HTTP, false, "10.0.0.9", "1.2.3.4", "10.0.0.9"},
	        {REQ_HTTP, true, "10.0.0.9", "1.2.3.4", "1.2.3.4"},
	        {REQ_HTTP, true, "10.0.0.9", "6.6.6.6, 1.2.3.4", "1.2.3.4"},
	        {REQ_HTTP, true, "10.0.0.9", " 6.6.6.6 ,  1.2.3.4  ", "1.2.3.4"},
	        {REQ_HTTP, true, "10.0.0.9", "1.2.3.4,", "10.0.0.9"},
	        {REQ_HTTP, true, "10.0.0.9", "", "10.0.0.9"},
	        {REQ_HTTP, true, NULL, NULL, ""},
	        {REQ_APIGW_V2, true, "198.51.100.1", "6.6.6.6", "198.51.100.1"},
	        {REQ_APIGW_V1, false, "198.51.100.1", "6.6.6.6", "198.51.100.1"},
	        {REQ_TENCENT_APIGW, true, "198.51.100.1", "6.6.6.6", "198.51.100.1"},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct req r;

		req_init(&r, *state);
		r.kind = cases[i].kind;
		if (cases[i].source)
			r.source_ip = cases[i].source;
		if (cases[i].xff)
			req_add_header(&r, "X-Forwarded-For", cases[i].xff);
		g_cfg.trust_proxy = cases[i].trust;
		if (strcmp(req_client_ip(&r), cases[i].want) != 0)
			fail_msg("case %zu: %s, want %s", i, req_client_ip(&r), cases[i].want);
	}
	g_cfg.trust_proxy = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_init_defaults, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_method, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_set_target, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_headers, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cookies, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_body, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_form, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_param_u64, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_query_u64, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_client_ip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
