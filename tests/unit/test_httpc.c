/* test_httpc.c - outbound HTTP against a canned server on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "httpc.h"
#include "kv.h"
#include "support/testsrv.h"

static const char *url(struct arena *a, const struct testsrv *s, const char *scheme,
                       const char *path)
{
	return arena_printf(a, "%s://127.0.0.1:%d%s", scheme, s->port, path);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_status_body_headers(void **state)
{
	static const char resp[] = "HTTP/1.1 201 Created\r\n"
	                           "Content-Type: text/plain\r\n"
	                           "X-Multi: a\r\n"
	                           "X-MULTI: \t b c  \r\n"
	                           "Content-Length: 5\r\n"
	                           "Connection: close\r\n"
	                           "\r\n"
	                           "hello";
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start(resp, 0, 0);
	struct httpc_req req = {0};
	struct httpc_res res;
	size_t seen = 0;

	(void)state;
	req.url = url(a, s, "http", "/x?y=1");
	assert_int_equal(httpc_do(a, &req, &res), 0);
	assert_string_equal(res.error, "");
	assert_int_equal(res.status, 201);
	assert_int_equal(res.body_len, 5);
	assert_string_equal(res.body, "hello");
	assert_string_equal(kv_get(&res.headers, "content-type"), "text/plain");
	assert_int_equal(kv_count(&res.headers, "x-multi"), 2);
	for (size_t i = 0; i < res.headers.n; i++) {
		const char *n = res.headers.items[i].name;

		for (size_t j = 0; n[j]; j++)
			assert_false(isupper((unsigned char)n[j]));
		if (strcmp(n, "x-multi") == 0)
			assert_string_equal(res.headers.items[i].value, seen++ ? "b c" : "a");
	}
	assert_non_null(strstr(s->request, "GET /x?y=1 HTTP/1.1\r\n"));
	testsrv_stop(s);
	arena_free(a);
}

static void test_methods_and_body(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
	                           "\r\nok";
	static const char *const hdrs[] = {"X-Test: 1", "Content-Type: application/json", NULL};
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start(resp, 0, 0);
	struct httpc_req req = {0};
	struct httpc_res res;

	(void)state;
	/* Body without a method: POST, with the body and headers sent. */
	req.url = url(a, s, "http", "/p");
	req.headers = hdrs;
	req.body = "{\"a\":1}";
	req.body_len = 7;
	assert_int_equal(httpc_do(a, &req, &res), 0);
	assert_true(strncmp(s->request, "POST /p ", 8) == 0);
	assert_non_null(strstr(s->request, "\r\nX-Test: 1\r\n"));
	assert_non_null(strstr(s->request, "\r\nContent-Length: 7\r\n"));
	assert_null(strcasestr(s->request, "expect:"));
	assert_string_equal(s->request + s->request_len - 7, "{\"a\":1}");

	req.method = "PUT";
	assert_int_equal(httpc_do(a, &req, &res), 0);
	assert_true(strncmp(s->request, "PUT /p ", 7) == 0);
	assert_string_equal(s->request + s->request_len - 7, "{\"a\":1}");

	req.method = "DELETE";
	req.body = NULL;
	req.body_len = 0;
	assert_int_equal(httpc_do(a, &req, &res), 0);
	assert_true(strncmp(s->request, "DELETE /p ", 10) == 0);

	/* A reset handle: the previous call's method does not stick. */
	req.method = NULL;
	assert_int_equal(httpc_do(a, &req, &res), 0);
	assert_true(strncmp(s->request, "GET /p ", 7) == 0);
	assert_null(strstr(s->request, "X-Test: 1\r\nX-Test"));

	req.method = "HEAD";
	assert_int_equal(httpc_do(a, &req, &res), 0);
	assert_true(strncmp(s->request, "HEAD /p ", 8) == 0);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.body_len, 0);
	testsrv_stop(s);
	arena_free(a);
}

/* Interim 1xx responses do not leak their headers into the final ones. */
static void test_interim_resets_headers(void **state)
{
	static const char resp[] = "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
	                           "HTTP/1.1 200 OK\r\nX-Final: 2\r\nContent-Length: 2\r\n"
	                           "Connection: close\r\n\r\nok";
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start(resp, 0, 0);
	struct httpc_req req = {0};
	struct httpc_res res;

	(void)state;
	req.url = url(a, s, "http", "/");
	assert_int_equal(httpc_do(a, &req, &res), 0);
	assert_int_equal(res.status, 200);
	assert_null(kv_get(&res.headers, "x-interim"));
	assert_string_equal(kv_get(&res.headers, "x-final"), "2");
	testsrv_stop(s);
	arena_free(a);
}

static void test_error_status_is_a_response(void **state)
{
	static const char resp[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n"
	                           "Connection: close\r\n\r\nbusy";
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start(resp, 0, 0);
	struct httpc_req req = {0};
	struct httpc_res res;

	(void)state;
	req.url = url(a, s, "http", "/");
	assert_int_equal(httpc_do(a, &req, &res), 0);
	assert_int_equal(res.status, 503);
	assert_string_equal(res.body, "busy");
	testsrv_stop(s);
	arena_free(a);
}

static void test_redirect_not_followed(void **state)
{
	static const char resp[] = "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n"
	                           "Content-Length: 0\r\nConnection: close\r\n\r\n";
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start(resp, 0, 0);
	struct httpc_req req = {0};
	struct httpc_res res;

	(void)state;
	req.url = url(a, s, "http", "/start");
	assert_int_equal(httpc_do(a, &req, &res), 0);
	assert_int_equal(res.status, 302);
	assert_string_equal(kv_get(&res.headers, "location"), "/elsewhere");
	assert_int_equal(atomic_load(&s->requests), 1);
	testsrv_stop(s);
	arena_free(a);
}

static char *big_response(bool with_length, size_t body)
{
	char head[128];
	int n;
	char *r;

	if (with_length)
		n = snprintf(head, sizeof(head),
		             "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		             body);
	else
		n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
	assert_true(n > 0 && (size_t)n < sizeof(head));
	r = malloc((size_t)n + body + 1);
	assert_non_null(r);
	memcpy(r, head, (size_t)n);
	memset(r + n, 'z', body);
	r[(size_t)n + body] = '\0';
	return r;
}

static void test_size_cap(void **state)
{
	struct arena *a = arena_new();
	struct httpc_req req = {0};
	struct httpc_res res;
	char *r;
	struct testsrv *s;

	(void)state;
	req.max_response = 1000;
	/* Announced length over the cap. */
	r = big_response(true, 1001);
	s = testsrv_start(r, 0, 0);
	req.url = url(a, s, "http", "/");
	assert_int_equal(httpc_do(a, &req, &res), -1);
	assert_string_equal(res.error, "response too large");
	assert_int_equal(res.status, 0);
	testsrv_stop(s);
	free(r);
	/* No length: the stream itself is cut at the cap. */
	r = big_response(false, 200000);
	s = testsrv_start(r, 0, 0);
	req.url = url(a, s, "http", "/");
	assert_int_equal(httpc_do(a, &req, &res), -1);
	assert_string_equal(res.error, "response too large");
	testsrv_stop(s);
	free(r);
	/* Exactly at the cap is fine. */
	r = big_response(false, 1000);
	s = testsrv_start(r, 0, 0);
	req.url = url(a, s, "http", "/");
	if (httpc_do(a, &req, &res) != 0)
		fail_msg("at the cap: %s", res.error);
	assert_int_equal(res.body_len, 1000);
	assert_int_equal(res.body[999], 'z');
	assert_int_equal(res.body[1000], '\0');
	testsrv_stop(s);
	free(r);
	arena_free(a);
}

static void test_total_timeout(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start(resp, 0, 5000);
	struct httpc_req req = {0};
	struct httpc_res res;
	double t0 = now_ms(), took;

	(void)state;
	req.url = url(a, s, "http", "/slow");
	req.timeout_ms = 300;
	assert_int_equal(httpc_do(a, &req, &res), -1);
	took = now_ms() - t0;
	assert_int_equal(res.status, 0);
	assert_true(took >= 250 && took < 2500);
	if (strstr(res.error, "timeout") == NULL)
		fail_msg("error \"%s\" does not say timeout", res.error);
	testsrv_stop(s);
	arena_free(a);
}

/* TLS is verified and an https URL never falls back to plain text. */
static void test_https_to_plain_socket_fails(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start(resp, 0, 0);
	struct httpc_req req = {0};
	struct httpc_res res;

	(void)state;
	req.url = url(a, s, "https", "/");
	req.timeout_ms = 3000;
	assert_int_equal(httpc_do(a, &req, &res), -1);
	assert_int_equal(res.status, 0);
	assert_true(res.error[0] != '\0');
	/* The server did see a TLS ClientHello, not a plain request. */
	assert_int_equal((unsigned char)s->request[0], 0x16);
	testsrv_stop(s);
	arena_free(a);
}

static void test_transport_failures(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start(resp, 0, 0);
	struct httpc_req req = {0};
	struct httpc_res res;
	int port = s->port;

	(void)state;
	/* Only http and https. */
	req.url = "file:///etc/hostname";
	assert_int_equal(httpc_do(a, &req, &res), -1);
	assert_true(res.error[0] != '\0');
	req.url = url(a, s, "ftp", "/");
	assert_int_equal(httpc_do(a, &req, &res), -1);
	req.url = url(a, s, "gopher", "/");
	assert_int_equal(httpc_do(a, &req, &res), -1);
	assert_int_equal(atomic_load(&s->requests), 0);
	req.url = NULL;
	assert_int_equal(httpc_do(a, &req, &res), -1);
	testsrv_stop(s);
	/* Nothing listens there any more. */
	req.url = arena_printf(a, "http://127.0.0.1:%d/", port);
	assert_int_equal(httpc_do(a, &req, &res), -1);
	assert_int_equal(res.status, 0);
	assert_true(res.error[0] != '\0');
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_status_body_headers),
	        cmocka_unit_test(test_methods_and_body),
	        cmocka_unit_test(test_interim_resets_headers),
	        cmocka_unit_test(test_error_status_is_a_response),
	        cmocka_unit_test(test_redirect_not_followed),
	        cmocka_unit_test(test_size_cap),
	        cmocka_unit_test(test_total_timeout),
	        cmocka_unit_test(test_https_to_plain_socket_fails),
	        cmocka_unit_test(test_transport_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
