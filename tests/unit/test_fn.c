/* test_fn.c - fn_handle / fn_handle_event with a small route table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "arena.h"
#include "config.h"
#include "fn.h"
#include "log.h"

static int h_ok(struct req *req, struct res *res)
{
	cJSON *o = cJSON_CreateObject();
	(void)req;
	cJSON_AddBoolToObject(o, "ok", 1);
	return res_json(res, 200, o);
}

static int h_zero(struct req *req, struct res *res)
{
	(void)req;
	res_header(res, "X-Leak", "should be dropped");
	return 0;
}

static int h_nobody(struct req *req, struct res *res)
{
	(void)req;
	(void)res;
	return 404;
}

static int h_echo(struct req *req, struct res *res)
{
	const char *ct = req_header(req, "content-type");
	res_header(res, "Set-Cookie", "a=1");
	res_header(res, "Set-Cookie", "b=2");
	return res_body(res, 200, ct ? ct : "text/plain", req->body, req->body_len, false);
}

static int h_item(struct req *req, struct res *res)
{
	cJSON *o = cJSON_CreateObject();
	const char *q = req_query(req, "q");
	cJSON_AddStringToObject(o, "id", req_param(req, "id"));
	cJSON_AddStringToObject(o, "q", q ? q : "");
	cJSON_AddStringToObject(o, "request_id", req->ctx.request_id);
	cJSON_AddNumberToObject(o, "deadline_ms", (double)req->ctx.deadline_ms);
	return res_json(res, 200, o);
}

static int h_s3(struct req *req, struct res *res)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "records",
	                        cJSON_GetArraySize(cJSON_GetObjectItem(req->event, "Records")));
	return res_json(res, 200, o);
}

static int h_schedule(struct req *req, struct res *res)
{
	(void)req;
	return res_empty(res, 204);
}

static const struct route routes[] = {
        {"GET", "/t/ok", h_ok},
        {"GET", "/t/zero", h_zero},
        {"GET", "/t/nobody", h_nobody},
        {"POST", "/t/echo", h_echo},
        {"GET", "/t/items/{id}", h_item},
        {"EVENT", "/events/s3", h_s3},
        {"EVENT", "/events/schedule", h_schedule},
        ROUTES_END,
};

static const struct fn_app app = {"testfn", routes, NULL};

static int setup(void **state)
{
	(void)state;
	g_cfg.max_body = 1024;
	log_set_level(LOG_ERROR);
	return 0;
}

/* Runs one event; returns the response event (caller deletes). */
static cJSON *run(const char *event, const char *id, long long deadline)
{
	cJSON *out = fn_handle_event(&app, event, strlen(event), id, deadline);
	assert_non_null(out);
	return out;
}

static int status_of(const cJSON *out)
{
	const cJSON *s = cJSON_GetObjectItem(out, "statusCode");
	assert_true(cJSON_IsNumber(s));
	return s->valueint;
}

static const char *header_of(const cJSON *out, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(out, "headers"), name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The body parsed as JSON (caller deletes). */
static cJSON *body_of(const cJSON *out)
{
	const cJSON *b = cJSON_GetObjectItem(out, "body");
	assert_true(cJSON_IsString(b));
	cJSON *j = cJSON_Parse(b->valuestring);
	assert_non_null(j);
	return j;
}

static void assert_error(const cJSON *out, int status, const char *code)
{
	cJSON *b = body_of(out);
	assert_int_equal(status_of(out), status);
	assert_string_equal(
	        cJSON_GetObjectItem(cJSON_GetObjectItem(b, "error"), "code")->valuestring, code);
	cJSON_Delete(b);
}

static void test_v2_ok_keeps_platform_id(void **state)
{
	(void)state;
	cJSON *out = run("{\"version\":\"2.0\",\"rawPath\":\"/t/items/42\",\"rawQueryString\":"
	                 "\"q=a%20b\",\"requestContext\":{\"requestId\":\"from-event\","
	                 "\"http\":{\"method\":\"GET\",\"path\":\"/t/items/42\"}}}",
	                 "platform-id-1", 1700000000123LL);
	cJSON *b = body_of(out);

	assert_int_equal(status_of(out), 200);
	assert_string_equal(header_of(out, "X-Request-Id"), "platform-id-1");
	assert_string_equal(cJSON_GetObjectItem(b, "id")->valuestring, "42");
	assert_string_equal(cJSON_GetObjectItem(b, "q")->valuestring, "a b");
	assert_string_equal(cJSON_GetObjectItem(b, "request_id")->valuestring, "platform-id-1");
	assert_true(cJSON_GetObjectItem(b, "deadline_ms")->valuedouble == 1700000000123.0);
	assert_non_null(cJSON_GetObjectItem(out, "cookies"));
	cJSON_Delete(b);
	cJSON_Delete(out);
}

static void test_event_id_then_generated_id(void **state)
{
	(void)state;
	cJSON *out = run("{\"httpMethod\":\"GET\",\"path\":\"/t/ok\",\"requestContext\":"
	                 "{\"requestId\":\"evt-7\"}}",
	                 NULL, 0);
	assert_int_equal(status_of(out), 200);
	assert_string_equal(header_of(out, "X-Request-Id"), "evt-7");
	cJSON_Delete(out);

	out = run("{\"method\":\"GET\",\"path\":\"/t/ok\"}", "", 0);
	const char *id = header_of(out, "X-Request-Id");
	assert_non_null(id);
	assert_int_equal(strlen(id), 32);
	assert_int_equal(strspn(id, "0123456789abcdef"), 32);
	cJSON_Delete(out);
}

static void test_invalid_json_is_400_v1(void **state)
{
	(void)state;
	cJSON *out = run("this is not json", "bad-1", 0);
	assert_error(out, 400, "invalid_event");
	assert_non_null(cJSON_GetObjectItem(out, "multiValueHeaders"));
	assert_string_equal(header_of(out, "X-Request-Id"), "bad-1");
	cJSON_Delete(out);

	out = run("{\"unknown\":true}", "bad-2", 0);
	assert_error(out, 400, "invalid_event");
	cJSON_Delete(out);
}

static void test_bad_v2_answers_in_v2_shape(void **state)
{
	(void)state;
	cJSON *out = run("{\"version\":\"2.0\",\"rawPath\":\"/t/echo\",\"body\":\"%%%\","
	                 "\"isBase64Encoded\":true,\"requestContext\":{\"http\":"
	                 "{\"method\":\"POST\",\"path\":\"/t/echo\"}}}",
	                 "x", 0);
	assert_error(out, 400, "invalid_event");
	assert_null(cJSON_GetObjectItem(out, "multiValueHeaders"));
	assert_non_null(cJSON_GetObjectItem(out, "cookies"));
	cJSON_Delete(out);
}

static void test_handler_faults_become_500(void **state)
{
	(void)state;
	cJSON *out = run("{\"method\":\"GET\",\"path\":\"/t/zero\"}", "z", 0);
	assert_error(out, 500, "internal_error");
	assert_null(header_of(out, "X-Leak"));
	assert_string_equal(header_of(out, "X-Request-Id"), "z");
	cJSON_Delete(out);

	out = run("{\"method\":\"GET\",\"path\":\"/t/nobody\"}", "n", 0);
	assert_error(out, 500, "internal_error");
	cJSON_Delete(out);
}

static void test_router_statuses(void **state)
{
	(void)state;
	cJSON *out = run("{\"method\":\"GET\",\"path\":\"/t/missing\"}", "r", 0);
	assert_int_equal(status_of(out), 404);
	cJSON_Delete(out);

	out = run("{\"method\":\"DELETE\",\"path\":\"/t/ok\"}", "r", 0);
	assert_int_equal(status_of(out), 405);
	cJSON_Delete(out);
}

static void test_head_drops_body(void **state)
{
	(void)state;
	cJSON *out = run("{\"method\":\"HEAD\",\"path\":\"/t/ok\"}", "h", 0);
	assert_int_equal(status_of(out), 200);
	assert_string_equal(cJSON_GetObjectItem(out, "body")->valuestring, "");
	cJSON_Delete(out);
}

static void test_echo_body_and_cookies(void **state)
{
	(void)state;
	cJSON *out =
	        run("{\"method\":\"POST\",\"path\":\"/t/echo\",\"body\":{\"k\":[1,2]}}", "e", 0);
	cJSON *b = body_of(out);
	assert_int_equal(status_of(out), 200);
	assert_string_equal(header_of(out, "Content-Type"), "application/json");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(b, "k")), 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
	                         cJSON_GetObjectItem(out, "multiValueHeaders"), "Set-Cookie")),
	                 2);
	cJSON_Delete(b);
	cJSON_Delete(out);

	/* Over max_body: 413 before any handler runs. */
	char *big = malloc(2100);
	assert_non_null(big);
	int n = snprintf(big, 2100, "{\"method\":\"POST\",\"path\":\"/t/echo\",\"body\":\"");
	memset(big + n, 'x', 1500);
	memcpy(big + n + 1500, "\"}", 3);
	out = run(big, "big", 0);
	assert_error(out, 413, "payload_too_large");
	cJSON_Delete(out);
	free(big);
}

static void test_platform_events(void **state)
{
	(void)state;
	cJSON *out = run("{\"Records\":[{\"s3\":{\"object\":{\"key\":\"a\"}}},"
	                 "{\"s3\":{\"object\":{\"key\":\"b\"}}}]}",
	                 "s3", 0);
	cJSON *b = body_of(out);
	assert_int_equal(status_of(out), 200);
	assert_int_equal(cJSON_GetObjectItem(b, "records")->valueint, 2);
	cJSON_Delete(b);
	cJSON_Delete(out);

	out = run("{\"Type\":\"Timer\",\"TriggerName\":\"every-minute\",\"Message\":\"\"}", "t", 0);
	assert_int_equal(status_of(out), 204);
	cJSON_Delete(out);
}

static void test_fn_handle_direct(void **state)
{
	struct arena *a = arena_new();
	struct req req;
	struct res res;
	(void)state;

	req_init(&req, a);
	res_init(&res, a);
	req_set_method(&req, "GET");
	assert_int_equal(req_set_target(&req, "/t/ok", NULL), 0);
	assert_int_equal(fn_handle(&app, &req, &res), 200);
	assert_int_equal(res.status, 200);
	assert_non_null(kv_get(&res.headers, "X-Request-Id"));
	assert_int_equal(strlen(req.ctx.request_id), 32);
	assert_string_equal(req.ctx.function, "testfn");
	/* An id with spaces or control characters is replaced, not echoed. */
	res_init(&res, a);
	snprintf(req.ctx.request_id, sizeof(req.ctx.request_id), "bad id\r\n");
	fn_handle(&app, &req, &res);
	assert_null(strchr(kv_get(&res.headers, "X-Request-Id"), ' '));
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_v2_ok_keeps_platform_id),
	        cmocka_unit_test(test_event_id_then_generated_id),
	        cmocka_unit_test(test_invalid_json_is_400_v1),
	        cmocka_unit_test(test_bad_v2_answers_in_v2_shape),
	        cmocka_unit_test(test_handler_faults_become_500),
	        cmocka_unit_test(test_router_statuses),
	        cmocka_unit_test(test_head_drops_body),
	        cmocka_unit_test(test_echo_body_and_cookies),
	        cmocka_unit_test(test_platform_events),
	        cmocka_unit_test(test_fn_handle_direct),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
