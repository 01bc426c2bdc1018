/* test_router.c - pattern matching, params, 404/405/OPTIONS/HEAD, events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "req.h"
#include "res.h"
#include "router.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

static const char *ran; /* name of the handler that ran */

#define HANDLER(fname, status)                                                                     \
	static int fname(struct req *req, struct res *res)                                         \
	{                                                                                          \
		(void)req;                                                                         \
		ran = #fname;                                                                      \
		return res_body(res, status, "text/plain", #fname, strlen(#fname), false);         \
	}

HANDLER(list, 200)
HANDLER(create, 201)
HANDLER(hot, 200)
HANDLER(get, 200)
HANDLER(put, 200)
HANDLER(del, 204)
HANDLER(comment, 200)
HANDLER(ping_get, 200)
HANDLER(ping_head, 200)
HANDLER(on_s3, 200)
HANDLER(root, 200)
HANDLER(opts, 200)

/* Returns a status without touching res. */
static int bare(struct req *req, struct res *res)
{
	(void)req;
	(void)res;
	ran = "bare";
	return 202;
}

static const struct route routes[] = {
        {"GET", "/api/articles", list},
        {"POST", "/api/articles", create},
        {"GET", "/api/articles/hot", hot},
        {"GET", "/api/articles/{id}", get},
        {"PUT", "/api/articles/{id}", put},
        {"DELETE", "/api/articles/{id}", del},
        {"GET", "/api/articles/{id}/comments/{cid}", comment},
        {"HEAD", "/api/ping", ping_head},
        {"GET", "/api/ping", ping_get},
        {"POST", "/api/ping", ping_get},
        {"POST", "/api/ping", ping_get},
        {"EVENT", "/events/s3", on_s3},
        {"GET", "/", root},
        {"POST", "/api/bare", bare},
        {"OPTIONS", "/api/custom", opts},
        {"GET", "/api/custom", opts},
        ROUTES_END,
};

struct row {
	const char *method, *path;
	int status;
	const char *handler; /* NULL: none ran */
	const char *allow;   /* NULL: no Allow header */
	const char *error;   /* error code expected in the body, or NULL */
	const char *p1, *v1; /* a parameter and its value */
	const char *p2, *v2;
};

static const struct row rows[] = {
        {"GET", "/api/articles", 200, "list", NULL, NULL, NULL, NULL, NULL, NULL},
        {"POST", "/api/articles", 201, "create", NULL, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/articles/", 404, NULL, NULL, "not_found", NULL, NULL, NULL, NULL},
        {"GET", "/api/articles/hot", 200, "hot", NULL, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/articles/42", 200, "get", NULL, NULL, "id", "42", NULL, NULL},
        {"PUT", "/api/articles/42", 200, "put", NULL, NULL, "id", "42", NULL, NULL},
        {"DELETE", "/api/articles/7", 204, "del", NULL, NULL, "id", "7", NULL, NULL},
        {"GET", "/api/articles/a%2Fb", 200, "get", NULL, NULL, "id", "a/b", NULL, NULL},
        {"GET", "/api/articles/%41bc%20d", 200, "get", NULL, NULL, "id", "Abc d", NULL, NULL},
        {"GET", "/api/articles/a+b", 200, "get", NULL, NULL, "id", "a+b", NULL, NULL},
        {"GET", "/api/%61rticles", 200, "list", NULL, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/articles/%68ot", 200, "hot", NULL, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/articles/%zz", 400, NULL, NULL, "invalid_path", NULL, NULL, NULL, NULL},
        {"GET", "/api/articles/%00", 400, NULL, NULL, "invalid_path", NULL, NULL, NULL, NULL},
        {"GET", "/api/articles/1%", 400, NULL, NULL, "invalid_path", NULL, NULL, NULL, NULL},
        {"GET", "/api/articles/1/comments/2", 200, "comment", NULL, NULL, "id", "1", "cid", "2"},
        {"GET", "/api/articles/%2F/comments/x%2Fy", 200, "comment", NULL, NULL, "id", "/", "cid",
         "x/y"},
        {"GET", "/api/articles//comments/2", 404, NULL, NULL, "not_found", NULL, NULL, NULL, NULL},
        {"GET", "/api/articles/1/comments", 404, NULL, NULL, "not_found", NULL, NULL, NULL, NULL},
        {"GET", "/api/articles/1/comments/2/x", 404, NULL, NULL, "not_found", NULL, NULL, NULL,
         NULL},
        {"GET", "/api/articles/42/", 404, NULL, NULL, "not_found", NULL, NULL, NULL, NULL},
        {"GET", "/api/Articles", 404, NULL, NULL, "not_found", NULL, NULL, NULL, NULL},
        {"GET", "/api", 404, NULL, NULL, "not_found", NULL, NULL, NULL, NULL},
        {"GET", "//api/articles", 404, NULL, NULL, "not_found", NULL, NULL, NULL, NULL},
        {"GET", "api/articles", 404, NULL, NULL, "not_found", NULL, NULL, NULL, NULL},
        {"PATCH", "/api/articles/42", 405, NULL, "DELETE, GET, HEAD, OPTIONS, PUT",
         "method_not_allowed", NULL, NULL, NULL, NULL},
        {"DELETE", "/api/articles", 405, NULL, "GET, HEAD, OPTIONS, POST", "method_not_allowed",
         NULL, NULL, NULL, NULL},
        /* "hot" also matches {id}: the Allow lists both routes' methods, once each. */
        {"PATCH", "/api/articles/hot", 405, NULL, "DELETE, GET, HEAD, OPTIONS, PUT",
         "method_not_allowed", NULL, NULL, NULL, NULL},
        {"DELETE", "/api/ping", 405, NULL, "GET, HEAD, OPTIONS, POST", "method_not_allowed", NULL,
         NULL, NULL, NULL},
        {"GET", "/api/bare", 405, NULL, "OPTIONS, POST", "method_not_allowed", NULL, NULL, NULL,
         NULL},
        {"HEAD", "/api/bare", 405, NULL, "OPTIONS, POST", "method_not_allowed", NULL, NULL, NULL,
         NULL},
        {"HEAD", "/api/articles/42", 200, "get", NULL, NULL, "id", "42", NULL, NULL},
        {"HEAD", "/api/ping", 200, "ping_head", NULL, NULL, NULL, NULL, NULL, NULL},
        {"OPTIONS", "/api/articles", 204, NULL, "GET, HEAD, OPTIONS, POST", NULL, NULL, NULL, NULL,
         NULL},
        {"OPTIONS", "/api/articles/9", 204, NULL, "DELETE, GET, HEAD, OPTIONS, PUT", NULL, NULL,
         NULL, NULL, NULL},
        {"OPTIONS", "/api/custom", 200, "opts", NULL, NULL, NULL, NULL, NULL, NULL},
        {"OPTIONS", "/nope", 404, NULL, NULL, "not_found", NULL, NULL, NULL, NULL},
        {"GET", "/nope", 404, NULL, NULL, "not_found", NULL, NULL, NULL, NULL},
        {"GET", "/events/s3", 404, NULL, NULL, "not_found", NULL, NULL, NULL, NULL},
        {"POST", "/events/s3", 404, NULL, NULL, "not_found", NULL, NULL, NULL, NULL},
        {"EVENT", "/events/s3", 200, "on_s3", NULL, NULL, NULL, NULL, NULL, NULL},
        {"EVENT", "/api/articles", 404, NULL, NULL, "not_found", NULL, NULL, NULL, NULL},
        {"EVENT", "/events/schedule", 404, NULL, NULL, "not_found", NULL, NULL, NULL, NULL},
        {"GET", "/", 200, "root", NULL, NULL, NULL, NULL, NULL, NULL},
        {"POST", "/api/bare", 202, "bare", NULL, NULL, NULL, NULL, NULL, NULL},
};

/* Error code in res's JSON body, or NULL. */
static char *error_code(struct arena *a, const struct res *res)
{
	cJSON *root = cJSON_ParseWithLength(res->body, res->body_len);
	cJSON *code = cJSON_GetObjectItemCaseSensitive(
	        cJSON_GetObjectItemCaseSensitive(root, "error"), "code");
	char *s = cJSON_IsString(code) ? arena_strdup(a, code->valuestring) : NULL;

	cJSON_Delete(root);
	return s;
}

static void check_param(size_t i, const struct req *req, const char *name, const char *want)
{
	const char *got;

	if (name == NULL)
		return;
	got = req_param(req, name);
	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("row %zu: param %s = \"%s\", want \"%s\"", i, name, got ? got : "(null)",
		         want);
}

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

static void test_dispatch_table(void **state)
{
	struct arena *a = *state;
	struct req req;
	struct res res;
	const char *allow, *code;
	size_t i;
	int status;

	for (i = 0; i < N(rows); i++) {
		arena_reset(a);
		req_init(&req, a);
		res_init(&res, a);
		req_set_method(&req, rows[i].method);
		req.path = rows[i].path; /* raw, as an adapter would leave it */
		ran = NULL;
		status = router_dispatch(routes, &req, &res);
		if (status != rows[i].status || res.status != rows[i].status)
			fail_msg("row %zu %s %s: status %d (res %d), want %d", i, rows[i].method,
			         rows[i].path, status, res.status, rows[i].status);
		if ((ran == NULL) != (rows[i].handler == NULL) ||
		    (ran != NULL && strcmp(ran, rows[i].handler) != 0))
			fail_msg("row %zu %s %s: handler %s, want %s", i, rows[i].method,
			         rows[i].path, ran ? ran : "none",
			         rows[i].handler ? rows[i].handler : "none");
		allow = kv_get(&res.headers, "allow");
		if ((allow == NULL) != (rows[i].allow == NULL) ||
		    (allow != NULL && strcmp(allow, rows[i].allow) != 0))
			fail_msg("row %zu %s %s: Allow \"%s\", want \"%s\"", i, rows[i].method,
			         rows[i].path, allow ? allow : "(none)",
			         rows[i].allow ? rows[i].allow : "(none)");
		if (rows[i].error != NULL) {
			code = error_code(a, &res);
			if (code == NULL || strcmp(code, rows[i].error) != 0)
				fail_msg("row %zu: error code %s, want %s", i,
				         code ? code : "(none)", rows[i].error);
			if (strcmp(kv_get(&res.headers, "content-type"),
			           "application/json; charset=utf-8") != 0)
				fail_msg("row %zu: error is not JSON", i);
		}
		if (rows[i].status == 204 && rows[i].handler == NULL && res.body_len != 0)
			fail_msg("row %zu: 204 with a body", i);
		check_param(i, &req, rows[i].p1, rows[i].v1);
		check_param(i, &req, rows[i].p2, rows[i].v2);
		if (rows[i].p1 == NULL && req.params.n != 0)
			fail_msg("row %zu: unexpected params", i);
	}
}

/* Parameters from an earlier dispatch on the same req do not leak through. */
static void test_params_replaced(void **state)
{
	struct arena *a = *state;
	struct req req;
	struct res res;

	req_init(&req, a);
	res_init(&res, a);
	req.path = "/api/articles/1/comments/2";
	assert_int_equal(router_dispatch(routes, &req, &res), 200);
	req.path = "/api/articles/5";
	res_init(&res, a);
	assert_int_equal(router_dispatch(routes, &req, &res), 200);
	assert_string_equal(req_param(&req, "id"), "5");
	assert_null(req_param(&req, "cid"));
	assert_int_equal(req.params.n, 1);
}

/* A 405's body is the error JSON with the method named in the message. */
static void test_405_body(void **state)
{
	struct arena *a = *state;
	struct req req;
	struct res res;
	cJSON *root, *err;

	req_init(&req, a);
	res_init(&res, a);
	req_set_method(&req, "PATCH");
	req.path = "/api/articles";
	assert_int_equal(router_dispatch(routes, &req, &res), 405);
	root = cJSON_ParseWithLength(res.body, res.body_len);
	err = cJSON_GetObjectItemCaseSensitive(root, "error");
	assert_non_null(err);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(err, "code")->valuestring,
	                    "method_not_allowed");
	assert_non_null(
	        strstr(cJSON_GetObjectItemCaseSensitive(err, "message")->valuestring, "PATCH"));
	assert_null(cJSON_GetObjectItemCaseSensitive(err, "field"));
	cJSON_Delete(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_dispatch_table, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_params_replaced, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_405_body, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
