/* test_event.c - platform events to struct req, and responses back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "arena.h"
#include "event.h"
#include "req.h"
#include "res.h"

#define MAX_BODY 64

struct ok_case {
	const char *name;
	const char *event;
	enum req_kind kind;
	const char *method;
	const char *path;
	const char *raw_query;        /* NULL: not checked */
	const char *q_name, *q_value; /* one query lookup; NULL: none */
	size_t q_count;               /* entries for q_name */
	const char *h_name, *h_value; /* one header lookup */
	size_t h_count;               /* entries for h_name */
	const char *cookie_name, *cookie_value;
	const char *body; /* expected body; NULL: empty */
	size_t body_len;
	const char *source_ip;
	const char *request_id;
};

static const struct ok_case ok_cases[] = {
        {"v1 basic",
         "{\"resource\":\"/{proxy+}\",\"path\":\"/api/articles\",\"httpMethod\":\"get\","
         "\"headers\":{\"Accept\":\"application/json\",\"X-One\":\"a\"},"
         "\"multiValueHeaders\":{\"X-One\":[\"a\",\"b\"],\"Accept\":[\"application/json\"]},"
         "\"queryStringParameters\":{\"q\":\"x y\",\"n\":\"2\"},"
         "\"multiValueQueryStringParameters\":{\"q\":[\"x y\",\"z&w\"]},"
         "\"requestContext\":{\"requestId\":\"req-v1\",\"identity\":{\"sourceIp\":\"1.2.3.4\"}},"
         "\"body\":\"hello\",\"isBase64Encoded\":false}",
         REQ_APIGW_V1, "GET", "/api/articles", NULL, "q", "x y", 2, "x-one", "a", 2, NULL, NULL,
         "hello", 5, "1.2.3.4", "req-v1"},
        {"v1 nulls and base64 body",
         "{\"path\":\"/p\",\"httpMethod\":\"POST\",\"headers\":null,\"multiValueHeaders\":null,"
         "\"queryStringParameters\":null,\"requestContext\":{},"
         "\"body\":\"AAEC/w==\",\"isBase64Encoded\":true}",
         REQ_APIGW_V1, "POST", "/p", "", NULL, NULL, 0, NULL, NULL, 0, NULL, NULL,
         "\x00\x01\x02\xff", 4, "", ""},
        {"v1 query value with plus and percent is decoded once",
         "{\"path\":\"/p\",\"httpMethod\":\"GET\",\"requestContext\":{},"
         "\"queryStringParameters\":{\"k\":\"a+b%20c\"}}",
         REQ_APIGW_V1, "GET", "/p", NULL, "k", "a+b%20c", 1, NULL, NULL, 0, NULL, NULL, NULL, 0, "",
         ""},
        {"v1 cookie header fills cookies",
         "{\"path\":\"/p\",\"httpMethod\":\"GET\",\"requestContext\":{},"
         "\"headers\":{\"Cookie\":\"sid=abc; theme=dark\"}}",
         REQ_APIGW_V1, "GET", "/p", NULL, NULL, NULL, 0, "cookie", "sid=abc; theme=dark", 1,
         "theme", "dark", NULL, 0, "", ""},
        {"v2 basic",
         "{\"version\":\"2.0\",\"routeKey\":\"$default\",\"rawPath\":\"/api/a%20b\","
         "\"rawQueryString\":\"q=%2525&tag=a&tag=b\","
         "\"cookies\":[\"sid=abc\",\"lang=en\"],"
         "\"headers\":{\"accept\":\"text/html, application/json\",\"cookie\":\"ignored=1\"},"
         "\"requestContext\":{\"requestId\":\"req-v2\",\"http\":{\"method\":\"PUT\","
         "\"path\":\"/api/a b\",\"sourceIp\":\"5.6.7.8\"}},"
         "\"body\":\"eyJhIjoxfQ==\",\"isBase64Encoded\":true}",
         REQ_APIGW_V2, "PUT", "/api/a%20b", "q=%2525&tag=a&tag=b", "q", "%25", 1, "accept",
         "text/html, application/json", 1, "lang", "en", "{\"a\":1}", 7, "5.6.7.8", "req-v2"},
        {"v2 without rawPath uses http.path",
         "{\"version\":\"2.0\",\"requestContext\":{\"http\":{\"method\":\"GET\",\"path\":\"/x\"}},"
         "\"queryStringParameters\":{\"a\":\"1\"}}",
         REQ_APIGW_V2, "GET", "/x", "a=1", "a", "1", 1, NULL, NULL, 0, NULL, NULL, NULL, 0, "", ""},
        {"tencent apigw",
         "{\"requestContext\":{\"serviceId\":\"service-f94sy04v\",\"path\":\"/test/{path}\","
         "\"httpMethod\":\"POST\",\"requestId\":\"req-tc\",\"identity\":{\"secretId\":\"x\"},"
         "\"sourceIp\":\"10.0.2.14\",\"stage\":\"release\"},"
         "\"headers\":{\"Accept\":\"application/json\",\"Host\":\"h\"},"
         "\"body\":\"{\\\"test\\\":\\\"body\\\"}\",\"pathParameters\":{\"path\":\"value\"},"
         "\"queryStringParameters\":{\"foo\":\"bar\"},\"headerParameters\":{\"Refer\":\"r\"},"
         "\"stageVariables\":{\"stage\":\"release\"},\"path\":\"/test/value\","
         "\"queryString\":{\"foo\":\"bar\",\"bob\":\"alice\"},\"httpMethod\":\"POST\"}",
         REQ_TENCENT_APIGW, "POST", "/test/value", NULL, "bob", "alice", 1, "refer", "r", 1, NULL,
         NULL, "{\"test\":\"body\"}", 15, "10.0.2.14", "req-tc"},
        {"direct with JSON body",
         "{\"method\":\"POST\",\"path\":\"/api/x\",\"query\":{\"k\":\"v "
         "w\",\"n\":5,\"t\":[\"a\",\"b\"]},"
         "\"headers\":{\"X-A\":\"1\"},\"body\":{\"title\":\"hi\"}}",
         REQ_DIRECT, "POST", "/api/x", NULL, "t", "a", 2, "content-type", "application/json", 1,
         NULL, NULL, "{\"title\":\"hi\"}", 14, "", ""},
        {"direct with query in path and string body",
         "{\"method\":\"GET\",\"path\":\"/api/x?n=5\",\"body\":\"plain\","
         "\"headers\":{\"Content-Type\":\"text/plain\"}}",
         REQ_DIRECT, "GET", "/api/x", "n=5", "n", "5", 1, "content-type", "text/plain", 1, NULL,
         NULL, "plain", 5, "", ""},
        {"s3 event",
         "{\"Records\":[{\"eventSource\":\"aws:s3\",\"s3\":{\"bucket\":{\"name\":\"b\"},"
         "\"object\":{\"key\":\"k\"}}}]}",
         REQ_S3, "EVENT", "/events/s3", "", NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, NULL, 0, "",
         ""},
        {"cos event", "{\"Records\":[{\"cos\":{\"cosObject\":{\"key\":\"/1/b/k\"}},\"event\":{}}]}",
         REQ_S3, "EVENT", "/events/s3", "", NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, NULL, 0, "",
         ""},
        {"eventbridge schedule",
         "{\"version\":\"0\",\"detail-type\":\"Scheduled Event\",\"source\":\"aws.events\","
         "\"time\":\"2026-11-27T09:00:00Z\",\"detail\":{}}",
         REQ_SCHEDULE, "EVENT", "/events/schedule", "", NULL, NULL, 0, NULL, NULL, 0, NULL, NULL,
         NULL, 0, "", ""},
        {"scf timer",
         "{\"Type\":\"Timer\",\"TriggerName\":\"EveryDay\",\"Time\":\"2019-02-21T11:49:00Z\","
         "\"Message\":\"m\"}",
         REQ_SCHEDULE, "EVENT", "/events/schedule", "", NULL, NULL, 0, NULL, NULL, 0, NULL, NULL,
         NULL, 0, "", ""},
};

struct bad_case {
	const char *name;
	const char *event;
	int status;
	const char *code;
	const char *field; /* NULL: not checked */
};

static const struct bad_case bad_cases[] = {
        {"not an object", "[1,2]", 400, "invalid_event", NULL},
        {"unknown shape", "{\"hello\":\"world\"}", 400, "invalid_event", NULL},
        {"v1 method a number", "{\"httpMethod\":5,\"path\":\"/\",\"requestContext\":{}}", 400,
         "invalid_event", "httpMethod"},
        {"v1 method with spaces", "{\"httpMethod\":\"G T\",\"path\":\"/\",\"requestContext\":{}}",
         400, "invalid_event", "httpMethod"},
        {"v1 relative path", "{\"httpMethod\":\"GET\",\"path\":\"api\",\"requestContext\":{}}", 400,
         "invalid_event", "path"},
        {"v1 missing path", "{\"httpMethod\":\"GET\",\"requestContext\":{}}", 400, "invalid_event",
         "path"},
        {"v1 headers an array",
         "{\"httpMethod\":\"GET\",\"path\":\"/\",\"requestContext\":{},\"headers\":[]}", 400,
         "invalid_event", "headers"},
        {"v1 header value an object",
         "{\"httpMethod\":\"GET\",\"path\":\"/\",\"requestContext\":{},\"headers\":{\"a\":{}}}",
         400, "invalid_event", "headers"},
        {"v1 body a number",
         "{\"httpMethod\":\"GET\",\"path\":\"/\",\"requestContext\":{},\"body\":5}", 400,
         "invalid_event", "body"},
        {"v1 isBase64Encoded a string",
         "{\"httpMethod\":\"GET\",\"path\":\"/\",\"requestContext\":{},\"body\":\"x\","
         "\"isBase64Encoded\":\"yes\"}",
         400, "invalid_event", "isBase64Encoded"},
        {"invalid base64",
         "{\"httpMethod\":\"POST\",\"path\":\"/\",\"requestContext\":{},\"body\":\"@@@@\","
         "\"isBase64Encoded\":true}",
         400, "invalid_event", "body"},
        {"body over max",
         "{\"httpMethod\":\"POST\",\"path\":\"/\",\"requestContext\":{},\"body\":\""
         "0123456789012345678901234567890123456789012345678901234567890123456789\"}",
         413, "payload_too_large", NULL},
        {"base64 body over max",
         "{\"httpMethod\":\"POST\",\"path\":\"/\",\"requestContext\":{},\"isBase64Encoded\":true,"
         "\"body\":\"MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw"
         "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ==\"}",
         413, "payload_too_large", NULL},
        {"v2 without http", "{\"version\":\"2.0\",\"requestContext\":{},\"rawPath\":\"/\"}", 400,
         "invalid_event", "requestContext.http"},
        {"v2 cookies not an array",
         "{\"version\":\"2.0\",\"rawPath\":\"/\",\"cookies\":\"a=1\","
         "\"requestContext\":{\"http\":{\"method\":\"GET\",\"path\":\"/\"}}}",
         400, "invalid_event", "cookies"},
        {"v2 malformed raw query",
         "{\"version\":\"2.0\",\"rawPath\":\"/\",\"rawQueryString\":\"a=%zz\","
         "\"requestContext\":{\"http\":{\"method\":\"GET\",\"path\":\"/\"}}}",
         400, "invalid_event", NULL},
        {"direct without method", "{\"path\":\"/x\"}", 400, "invalid_event", "method"},
        {"direct path a number", "{\"method\":\"GET\",\"path\":7}", 400, "invalid_event", "path"},
        {"direct JSON body over max",
         "{\"method\":\"POST\",\"path\":\"/x\",\"body\":{\"k\":"
         "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}}",
         413, "payload_too_large", NULL},
        {"tencent query an array",
         "{\"httpMethod\":\"GET\",\"path\":\"/\",\"queryString\":[],\"requestContext\":{}}", 400,
         "invalid_event", "queryString"},
};

static void check_ok(const struct ok_case *c)
{
	struct arena *a = arena_new();
	struct req req;
	struct res res;
	cJSON *ev = cJSON_Parse(c->event);

	print_message("# %s\n", c->name);
	assert_non_null(ev);
	req_init(&req, a);
	res_init(&res, a);
	assert_int_equal(event_to_req(ev, &req, &res, MAX_BODY), 0);
	assert_int_equal(res.status, 0);
	assert_int_equal(req.kind, c->kind);
	assert_string_equal(req.method, c->method);
	assert_string_equal(req.path, c->path);
	if (c->raw_query)
		assert_string_equal(req.raw_query, c->raw_query);
	if (c->q_name) {
		assert_non_null(req_query(&req, c->q_name));
		assert_string_equal(req_query(&req, c->q_name), c->q_value);
		assert_int_equal(kv_count(&req.query, c->q_name), c->q_count);
	}
	if (c->h_name) {
		assert_non_null(req_header(&req, c->h_name));
		assert_string_equal(req_header(&req, c->h_name), c->h_value);
		assert_int_equal(kv_count(&req.headers, c->h_name), c->h_count);
	}
	if (c->cookie_name) {
		assert_non_null(req_cookie(&req, c->cookie_name));
		assert_string_equal(req_cookie(&req, c->cookie_name), c->cookie_value);
	}
	if (c->body) {
		assert_int_equal(req.body_len, c->body_len);
		assert_memory_equal(req.body, c->body, c->body_len);
	} else {
		assert_int_equal(req.body_len, 0);
	}
	assert_string_equal(req.source_ip, c->source_ip);
	assert_string_equal(req.ctx.request_id, c->request_id);
	if (c->kind == REQ_S3 || c->kind == REQ_SCHEDULE || c->kind == REQ_DIRECT)
		assert_ptr_equal(req.event, ev);
	else
		assert_null(req.event);
	arena_free(a);
	cJSON_Delete(ev);
}

static void test_events_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++)
		check_ok(&ok_cases[i]);
}

static void test_events_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct arena *a = arena_new();
		struct req req;
		struct res res;
		cJSON *ev = cJSON_Parse(c->event);
		cJSON *body, *err;

		print_message("# %s\n", c->name);
		assert_non_null(ev);
		req_init(&req, a);
		res_init(&res, a);
		assert_int_equal(event_to_req(ev, &req, &res, MAX_BODY), -1);
		assert_int_equal(res.status, c->status);
		body = cJSON_ParseWithLength(res.body, res.body_len);
		assert_non_null(body);
		err = cJSON_GetObjectItem(body, "error");
		assert_non_null(err);
		assert_string_equal(cJSON_GetObjectItem(err, "code")->valuestring, c->code);
		assert_true(cJSON_IsString(cJSON_GetObjectItem(err, "message")));
		if (c->field) {
			assert_non_null(cJSON_GetObjectItem(err, "field"));
			assert_string_equal(cJSON_GetObjectItem(err, "field")->valuestring,
			                    c->field);
		}
		cJSON_Delete(body);
		cJSON_Delete(ev);
		arena_free(a);
	}
}

/* A response with a repeated Set-Cookie, a repeated Vary and a JSON body. */
static void make_res(struct res *res, struct arena *a)
{
	res_init(res, a);
	res_body(res, 201, "application/json", "{\"ok\":true}", 11, false);
	res_header(res, "Set-Cookie", "a=1; Path=/");
	res_header(res, "Set-Cookie", "b=2; Path=/");
	res_header(res, "Vary", "Origin");
	res_header(res, "Vary", "Accept");
}

static const char *str_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_from_res_v1(void **state)
{
	struct arena *a = arena_new();
	struct res res;
	cJSON *out, *h, *mh, *sc;
	(void)state;

	make_res(&res, a);
	out = event_from_res(&res, REQ_APIGW_V1);
	assert_non_null(out);
	assert_int_equal(cJSON_GetObjectItem(out, "statusCode")->valueint, 201);
	assert_string_equal(str_of(out, "body"), "{\"ok\":true}");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(out, "isBase64Encoded")));
	h = cJSON_GetObjectItem(out, "headers");
	mh = cJSON_GetObjectItem(out, "multiValueHeaders");
	assert_non_null(h);
	assert_non_null(mh);
	assert_string_equal(str_of(h, "Content-Type"), "application/json");
	/* Repeats only in multiValueHeaders, so API Gateway cannot double them. */
	assert_null(cJSON_GetObjectItem(h, "Set-Cookie"));
	sc = cJSON_GetObjectItem(mh, "Set-Cookie");
	assert_int_equal(cJSON_GetArraySize(sc), 2);
	assert_string_equal(cJSON_GetArrayItem(sc, 0)->valuestring, "a=1; Path=/");
	assert_string_equal(cJSON_GetArrayItem(sc, 1)->valuestring, "b=2; Path=/");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(mh, "Vary")), 2);
	cJSON_Delete(out);

	/* Direct invokes and events answer in the same shape. */
	out = event_from_res(&res, REQ_DIRECT);
	assert_non_null(cJSON_GetObjectItem(out, "multiValueHeaders"));
	assert_int_equal(cJSON_GetObjectItem(out, "statusCode")->valueint, 201);
	cJSON_Delete(out);
	arena_free(a);
}

static void test_from_res_v2(void **state)
{
	struct arena *a = arena_new();
	struct res res;
	cJSON *out, *h, *cookies;
	(void)state;

	make_res(&res, a);
	out = event_from_res(&res, REQ_APIGW_V2);
	assert_non_null(out);
	assert_int_equal(cJSON_GetObjectItem(out, "statusCode")->valueint, 201);
	assert_null(cJSON_GetObjectItem(out, "multiValueHeaders"));
	h = cJSON_GetObjectItem(out, "headers");
	assert_string_equal(str_of(h, "Vary"), "Origin, Accept");
	assert_null(cJSON_GetObjectItem(h, "Set-Cookie"));
	cookies = cJSON_GetObjectItem(out, "cookies");
	assert_int_equal(cJSON_GetArraySize(cookies), 2);
	assert_string_equal(cJSON_GetArrayItem(cookies, 1)->valuestring, "b=2; Path=/");
	cJSON_Delete(out);
	arena_free(a);
}

static void test_from_res_tencent(void **state)
{
	struct arena *a = arena_new();
	struct res res;
	cJSON *out;
	(void)state;

	res_init(&res, a);
	res_error(&res, 404, "not_found", "no such article", NULL);
	out = event_from_res(&res, REQ_TENCENT_APIGW);
	assert_non_null(out);
	assert_int_equal(cJSON_GetObjectItem(out, "statusCode")->valueint, 404);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(out, "isBase64Encoded")));
	assert_true(cJSON_IsObject(cJSON_GetObjectItem(out, "headers")));
	assert_null(cJSON_GetObjectItem(out, "multiValueHeaders"));
	assert_non_null(strstr(str_of(out, "body"), "not_found"));
	cJSON_Delete(out);
	arena_free(a);
}

static void test_from_res_binary(void **state)
{
	static const unsigned char png[] = {0x89, 'P', 'N', 'G', 0, 1, 2, 0xff};
	static const char latin1[] = "caf\xe9";
	struct arena *a = arena_new();
	struct res res;
	cJSON *out;
	(void)state;

	res_init(&res, a);
	res_body(&res, 200, "image/png", png, sizeof(png), true);
	out = event_from_res(&res, REQ_APIGW_V2);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(out, "isBase64Encoded")));
	assert_string_equal(str_of(out, "body"), "iVBORwABAv8=");
	cJSON_Delete(out);

	/* Text that is not UTF-8 cannot travel in a JSON string either. */
	res_init(&res, a);
	res_body(&res, 200, "text/plain", latin1, 4, false);
	out = event_from_res(&res, REQ_APIGW_V1);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(out, "isBase64Encoded")));
	assert_string_equal(str_of(out, "body"), "Y2Fm6Q==");
	cJSON_Delete(out);

	/* An empty 204 has an empty body, not a missing one. */
	res_init(&res, a);
	res_empty(&res, 204);
	out = event_from_res(&res, REQ_APIGW_V1);
	assert_int_equal(cJSON_GetObjectItem(out, "statusCode")->valueint, 204);
	assert_string_equal(str_of(out, "body"), "");
	cJSON_Delete(out);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_events_ok),        cmocka_unit_test(test_events_bad),
	        cmocka_unit_test(test_from_res_v1),      cmocka_unit_test(test_from_res_v2),
	        cmocka_unit_test(test_from_res_tencent), cmocka_unit_test(test_from_res_binary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
