/* test_rtapi.c - the runtime-API HTTP client against a canned server on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "kv.h"
#include "rtapi.h"
#include "support/testsrv.h"

static const char *url(struct arena *a, const struct testsrv *s, const char *path)
{
	return arena_printf(a, "http://127.0.0.1:%d%s", s->port, path);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A failed call leaves no half-filled response behind. */
static void assert_failed(const struct httpc_res *res, const char *want_error, const char *what)
{
	if (res->error[0] == '\0')
		fail_msg("%s: failed without an error", what);
	if (want_error && strstr(res->error, want_error) == NULL)
		fail_msg("%s: error \"%s\" does not say \"%s\"", what, res->error, want_error);
	assert_int_equal(res->status, 0);
	assert_int_equal(res->headers.n, 0);
}

static void test_status_body_headers(void **state)
{
	static const char resp[] = "HTTP/1.1 201 Created\r\n"
	                           "Content-Type: text/plain\r\n"
	                           "Lambda-Runtime-Aws-Request-Id:  abc-123\t \r\n"
	                           "X-Multi: a\r\n"
	                           "X-MULTI: \t b c  \r\n"
	                           "X-Empty:\r\n"
	                           "Content-Length: 5\r\n"
	                           "Connection: close\r\n"
	                           "\r\n"
	                           "hello";
	static const char *const want_multi[] = {"a", "b c"};
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start(resp, 0, 0);
	struct httpc_req req = {0};
	struct httpc_res res;
	size_t seen = 0;

	(void)state;
	req.url = url(a, s, "/x?y=1");
	assert_int_equal(rtapi_do(a, &req, &res), 0);
	assert_string_equal(res.error, "");
	assert_int_equal(res.status, 201);
	assert_int_equal(res.body_len, 5);
	assert_string_equal(res.body, "hello");
	assert_int_equal(res.headers.n, 7);
	assert_string_equal(kv_get(&res.headers, "content-type"), "text/plain");
	assert_string_equal(kv_get(&res.headers, "lambda-runtime-aws-request-id"), "abc-123");
	assert_string_equal(kv_get(&res.headers, "x-empty"), "");
	assert_int_equal(kv_count(&res.headers, "x-multi"), 2);
	for (size_t i = 0; i < res.headers.n; i++) {
		const char *n = res.headers.items[i].name;

		for (size_t j = 0; n[j]; j++)
			if (n[j] >= 'A' && n[j] <= 'Z')
				fail_msg("header name \"%s\" is not lower-cased", n);
		if (strcmp(n, "x-multi") == 0) {
			assert_true(seen < 2);
			assert_string_equal(res.headers.items[i].value, want_multi[seen++]);
		}
	}
	/* Names are stored lower-cased, in order. */
	assert_string_equal(res.headers.items[0].name, "content-type");
	assert_string_equal(res.headers.items[1].name, "lambda-runtime-aws-request-id");
	assert_int_equal(atomic_load(&s->requests), 1);
	testsrv_stop(s);
	arena_free(a);
}

/* One response as the server sends it, and what rtapi_do() makes of it. */
struct resp_case {
	const char *name;
	const char *raw;
	size_t raw_len;
	size_t max_response; /* 0 = default */
	int rc;
	long status;
	const char *body; /* rc 0 */
	size_t body_len;
	const char *error; /* rc -1: a substring of res.error */
};

#define RAW(s)  s, sizeof(s) - 1
#define HEAD200 "HTTP/1.1 200 OK\r\n"
#define CHUNKED "Transfer-Encoding: chunked\r\n\r\n"

static const struct resp_case resp_cases[] = {
        {"content-length exact", RAW(HEAD200 "Content-Length: 5\r\n\r\nhello"), 0, 0, 200, "hello",
         5, NULL},
        {"content-length zero", RAW(HEAD200 "Content-Length: 0\r\n\r\n"), 0, 0, 200, "", 0, NULL},
        {"body longer than content-length is cut",
         RAW(HEAD200 "Content-Length: 3\r\n\r\nhello world"), 0, 0, 200, "hel", 3, NULL},
        {"body shorter than content-length", RAW(HEAD200 "Content-Length: 10\r\n\r\nhello"), 0, -1,
         0, NULL, 0, "cut short"},
        {"no length: body until close", RAW("HTTP/1.0 200 OK\r\n\r\nuntil close"), 0, 0, 200,
         "until close", 11, NULL},
        {"body with NUL bytes", RAW(HEAD200 "Content-Length: 5\r\n\r\na\0b\0c"), 0, 0, 200,
         "a\0b\0c", 5, NULL},
        {"error status is a response",
         RAW("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops"), 0, 0, 500,
         "oops", 4, NULL},
        {"204 without body", RAW("HTTP/1.1 204 No Content\r\n\r\n"), 0, 0, 204, "", 0, NULL},
        {"malformed content-length", RAW(HEAD200 "Content-Length: 5x\r\n\r\nhello"), 0, -1, 0, NULL,
         0, "Content-Length"},
        {"negative content-length", RAW(HEAD200 "Content-Length: -1\r\n\r\nhello"), 0, -1, 0, NULL,
         0, "Content-Length"},
        /* Chunked bodies. */
        {"chunked, several chunks",
         RAW(HEAD200 CHUNKED "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n"), 0, 0, 200,
         "hello world", 11, NULL},
        {"chunked, hex sizes both cases",
         RAW(HEAD200 CHUNKED "a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n"), 0, 0, 200,
         "0123456789abcdefghijk", 21, NULL},
        {"chunked, extensions ignored",
         RAW(HEAD200 CHUNKED "5;x=y\r\nhello\r\n3 ; q=\"1\"\r\nabc\r\n0;end\r\n\r\n"), 0, 0, 200,
         "helloabc", 8, NULL},
        {"chunked, trailers ignored", RAW(HEAD200 CHUNKED "2\r\nok\r\n0\r\nX-Trailer: 1\r\n\r\n"),
         0, 0, 200, "ok", 2, NULL},
        {"chunked, NUL bytes in data", RAW(HEAD200 CHUNKED "3\r\na\0b\r\n0\r\n\r\n"), 0, 0, 200,
         "a\0b", 3, NULL},
        {"chunked, empty body", RAW(HEAD200 CHUNKED "0\r\n\r\n"), 0, 0, 200, "", 0, NULL},
        {"chunked wins over content-length",
         RAW(HEAD200 "Content-Length: 100\r\nTransfer-Encoding: Chunked\r\n\r\n"
                     "2\r\nok\r\n0\r\n\r\n"),
         0, 0, 200, "ok", 2, NULL},
        {"chunked, non-hex size", RAW(HEAD200 CHUNKED "zz\r\nhello\r\n0\r\n\r\n"), 0, -1, 0, NULL,
         0, "chunked"},
        {"chunked, 0x prefix", RAW(HEAD200 CHUNKED "0x5\r\nhello\r\n0\r\n\r\n"), 0, -1, 0, NULL, 0,
         "chunked"},
        {"chunked, negative size", RAW(HEAD200 CHUNKED "-5\r\nhello\r\n0\r\n\r\n"), 0, -1, 0, NULL,
         0, "chunked"},
        {"chunked, empty size line", RAW(HEAD200 CHUNKED "\r\n5\r\nhello\r\n0\r\n\r\n"), 0, -1, 0,
         NULL, 0, "chunked"},
        {"chunked, junk after size", RAW(HEAD200 CHUNKED "5x\r\nhello\r\n0\r\n\r\n"), 0, -1, 0,
         NULL, 0, "chunked"},
        {"chunked, size past the data", RAW(HEAD200 CHUNKED "9\r\nhello\r\n0\r\n\r\n"), 0, -1, 0,
         NULL, 0, "chunked"},
        {"chunked, huge size", RAW(HEAD200 CHUNKED "ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n"), 0,
         -1, 0, NULL, 0, "chunked"},
        {"chunked, no CRLF after data", RAW(HEAD200 CHUNKED "3\r\nhello\r\n0\r\n\r\n"), 0, -1, 0,
         NULL, 0, "chunked"},
        {"chunked, bare LF after data", RAW(HEAD200 CHUNKED "3\r\nabcX\n0\r\n\r\n"), 0, -1, 0, NULL,
         0, "chunked"},
        {"chunked, no last chunk", RAW(HEAD200 CHUNKED "5\r\nhello\r\n"), 0, -1, 0, NULL, 0,
         "chunked"},
        {"chunked, cut inside a chunk", RAW(HEAD200 CHUNKED "a\r\nhel"), 0, -1, 0, NULL, 0,
         "chunked"},
        {"chunked, no chunks at all", RAW(HEAD200 CHUNKED), 0, -1, 0, NULL, 0, "chunked"},
        /* The response cap. */
        {"body at the cap", RAW(HEAD200 "Content-Length: 10\r\n\r\n0123456789"), 10, 0, 200,
         "0123456789", 10, NULL},
        {"content-length body over the cap", RAW(HEAD200 "Content-Length: 11\r\n\r\n0123456789a"),
         10, -1, 0, NULL, 0, "response too large"},
        {"unframed body over the cap", RAW(HEAD200 "\r\n0123456789a"), 10, -1, 0, NULL, 0,
         "response too large"},
        {"chunked body over the cap", RAW(HEAD200 CHUNKED "6\r\n012345\r\n5\r\n6789a\r\n0\r\n\r\n"),
         10, -1, 0, NULL, 0, "response too large"},
        {"chunked body at the cap", RAW(HEAD200 CHUNKED "6\r\n012345\r\n4\r\n6789\r\n0\r\n\r\n"),
         10, 0, 200, "0123456789", 10, NULL},
        /* Not HTTP. */
        {"no head end", RAW(HEAD200 "Content-Length: 5\r\n"), 0, -1, 0, NULL, 0, "malformed"},
        {"garbage", RAW("hello there\r\n\r\nbody"), 0, -1, 0, NULL, 0, "malformed"},
        {"HTTP/2 status line", RAW("HTTP/2 200 OK\r\n\r\n"), 0, -1, 0, NULL, 0, "malformed"},
        {"status below 100", RAW("HTTP/1.1 099 Odd\r\n\r\n"), 0, -1, 0, NULL, 0, "malformed"},
        {"no status code", RAW("HTTP/1.1 OK\r\n\r\n"), 0, -1, 0, NULL, 0, "malformed"},
        {"binary junk", RAW("\x16\x03\x01\x00\xff\r\n\r\n"), 0, -1, 0, NULL, 0, "malformed"},
};

static void test_responses(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(resp_cases) / sizeof(resp_cases[0]); i++) {
		const struct resp_case *tc = &resp_cases[i];
		struct arena *a = arena_new();
		struct testsrv *s = testsrv_start(tc->raw, tc->raw_len, 0);
		struct httpc_req req = {0};
		struct httpc_res res;
		int rc;

		req.url = url(a, s, "/");
		req.timeout_ms = 5000;
		req.max_response = tc->max_response;
		rc = rtapi_do(a, &req, &res);
		if (rc != tc->rc)
			fail_msg("%s: rc %d, want %d (error \"%s\")", tc->name, rc, tc->rc,
			         res.error);
		if (tc->rc == 0) {
			if (res.error[0] != '\0')
				fail_msg("%s: error \"%s\" on success", tc->name, res.error);
			if (res.status != tc->status)
				fail_msg("%s: status %ld, want %ld", tc->name, res.status,
				         tc->status);
			if (res.body_len != tc->body_len ||
			    memcmp(res.body, tc->body, tc->body_len) != 0)
				fail_msg("%s: body of %zu bytes \"%.*s\", want \"%s\"", tc->name,
				         res.body_len, (int)res.body_len, res.body, tc->body);
			/* The body is NUL-terminated. */
			assert_int_equal(res.body[res.body_len], '\0');
		} else {
			assert_failed(&res, tc->error, tc->name);
		}
		testsrv_stop(s);
		arena_free(a);
	}
}

/* A response far over the cap is refused without reading all of it. */
static void test_huge_response(void **state)
{
	static const size_t n = 1 << 20;
	char *raw = malloc(n);
	struct arena *a = arena_new();
	struct testsrv *s;
	struct httpc_req req = {0};
	struct httpc_res res;
	int hl;

	(void)state;
	assert_non_null(raw);
	memset(raw, 'x', n);
	/* A 64-byte head (padded with a header), then n - 64 bytes of 'x'. */
	hl = snprintf(raw, 64, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nX-Pad: ", n - 64);
	assert_true(hl > 0 && hl < 60);
	memset(raw + hl, ' ', (size_t)(60 - hl));
	memcpy(raw + 60, "\r\n\r\n", 4);
	s = testsrv_start(raw, n, 0);
	req.url = url(a, s, "/");
	req.timeout_ms = 5000;
	req.max_response = 100;
	assert_int_equal(rtapi_do(a, &req, &res), -1);
	assert_failed(&res, "response too large", "huge");
	/* The same response fits under a big enough cap. */
	req.max_response = n;
	assert_int_equal(rtapi_do(a, &req, &res), 0);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.body_len, n - 64);
	assert_int_equal(res.body[0], 'x');
	assert_int_equal(res.body[n - 65], 'x');
	testsrv_stop(s);
	free(raw);
	arena_free(a);
}

static void test_empty_response(void **state)
{
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start("", 0, 0);
	struct httpc_req req = {0};
	struct httpc_res res;

	(void)state;
	s->response_len = 0; /* closes without a byte */
	req.url = url(a, s, "/");
	req.timeout_ms = 5000;
	assert_int_equal(rtapi_do(a, &req, &res), -1);
	assert_failed(&res, "empty response", "empty");
	assert_int_equal(atomic_load(&s->requests), 1);
	testsrv_stop(s);
	arena_free(a);
}

/* What the server receives for a request. */
struct req_case {
	const char *name;
	const char *method;
	const char *path; /* appended to http://127.0.0.1:port */
	const char *const *headers;
	const char *body;
	size_t body_len;
	const char *want_line; /* request line without CRLF */
};

static const char *const rt_headers[] = {"Lambda-Runtime-Function-Error-Type: Unhandled",
                                         "Content-Type: application/json", NULL};
static const char *const no_headers[] = {NULL};

static const struct req_case req_cases[] = {
        {"GET by default", NULL, "/2018-06-01/runtime/invocation/next", NULL, NULL, 0,
         "GET /2018-06-01/runtime/invocation/next HTTP/1.1"},
        {"no path means /", NULL, "", NULL, NULL, 0, "GET / HTTP/1.1"},
        {"query kept", "GET", "/a/b?x=1&y=%20", no_headers, NULL, 0, "GET /a/b?x=1&y=%20 HTTP/1.1"},
        {"POST by default with a body", NULL, "/runtime/invocation/id-1/response", NULL,
         "{\"ok\":true}", 11, "POST /runtime/invocation/id-1/response HTTP/1.1"},
        {"body with NUL bytes, extra headers", "POST", "/runtime/invocation/id-2/error", rt_headers,
         "a\0b\0\0c", 6, "POST /runtime/invocation/id-2/error HTTP/1.1"},
        {"explicit method, empty body", "PUT", "/p", rt_headers, "", 0, "PUT /p HTTP/1.1"},
};

static void check_request(const struct testsrv *s, const struct req_case *tc)
{
	const char *r = s->request, *head_end, *body;
	char want[256];
	size_t body_len = tc->body ? tc->body_len : 0;
	int n;

	head_end = memmem(r, s->request_len, "\r\n\r\n", 4);
	if (head_end == NULL)
		fail_msg("%s: no request head in \"%s\"", tc->name, r);
	body = head_end + 4;
	n = snprintf(want, sizeof(want), "%s\r\n", tc->want_line);
	assert_true(n > 0 && (size_t)n < sizeof(want));
	if (strncmp(r, want, (size_t)n) != 0)
		fail_msg("%s: request starts \"%.60s\", want \"%s\"", tc->name, r, tc->want_line);
	n = snprintf(want, sizeof(want), "\r\nHost: 127.0.0.1:%d\r\n", s->port);
	assert_true(n > 0 && (size_t)n < sizeof(want));
	if (strstr(r, want) == NULL || strstr(strstr(r, want) + 1, "\r\nHost:") != NULL)
		fail_msg("%s: not one Host header \"127.0.0.1:%d\" in \"%s\"", tc->name, s->port,
		         r);
	n = snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n", body_len);
	assert_true(n > 0 && (size_t)n < sizeof(want));
	if (strstr(r, want) == NULL)
		fail_msg("%s: no \"Content-Length: %zu\" in \"%s\"", tc->name, body_len, r);
	/* HTTP/1.1 keeps the connection: no Connection header at all. */
	assert_null(strstr(r, "\r\nConnection:"));
	for (const char *const *h = tc->headers; h && *h; h++) {
		n = snprintf(want, sizeof(want), "\r\n%s\r\n", *h);
		assert_true(n > 0 && (size_t)n < sizeof(want));
		if (strstr(r, want) == NULL || strstr(r, want) > head_end)
			fail_msg("%s: header \"%s\" not sent", tc->name, *h);
	}
	/* Exactly the body bytes, nothing after them. */
	if ((size_t)(r + s->request_len - body) != body_len ||
	    memcmp(body, tc->body ? tc->body : "", body_len) != 0)
		fail_msg("%s: %zu body bytes sent, want %zu", tc->name,
		         (size_t)(r + s->request_len - body), body_len);
}

static void test_requests(void **state)
{
	static const char resp[] = "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok";

	(void)state;
	for (size_t i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
		const struct req_case *tc = &req_cases[i];
		struct arena *a = arena_new();
		struct testsrv *s = testsrv_start(resp, 0, 0);
		struct httpc_req req = {0};
		struct httpc_res res;

		s->check_half_close = true;
		req.method = tc->method;
		req.url = url(a, s, tc->path);
		req.headers = tc->headers;
		req.body = tc->body;
		req.body_len = tc->body_len;
		req.timeout_ms = 5000;
		if (rtapi_do(a, &req, &res) != 0)
			fail_msg("%s: %s", tc->name, res.error);
		assert_int_equal(res.status, 202);
		assert_string_equal(res.body, "ok");
		assert_int_equal(atomic_load(&s->requests), 1);
		check_request(s, tc);
		/* The request is not half-closed before the answer: Go's net/http
		 * (the Lambda runtime API) would take that for a gone client. */
		if (atomic_load(&s->half_closed))
			fail_msg("%s: client shut down its side before the response", tc->name);
		testsrv_stop(s);
		arena_free(a);
	}
}

static void test_total_timeout(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start(resp, 0, 5000);
	struct httpc_req req = {0};
	struct httpc_res res;
	double t0, took;

	(void)state;
	req.url = url(a, s, "/slow");
	req.timeout_ms = 300;
	t0 = now_ms();
	assert_int_equal(rtapi_do(a, &req, &res), -1);
	took = now_ms() - t0;
	assert_failed(&res, "timed out", "stalled server");
	if (took < 290 || took > 1500)
		fail_msg("timed out after %.0f ms, want about 300", took);
	testsrv_stop(s);
	arena_free(a);
}

/* A server that sends part of a response and then stalls also times out. */
static void test_timeout_mid_response(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial";
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start(resp, 0, 0);
	struct httpc_req req = {0};
	struct httpc_res res;
	double t0, took;

	(void)state;
	s->hold_ms = 5000;
	req.url = url(a, s, "/");
	req.timeout_ms = 300;
	t0 = now_ms();
	assert_int_equal(rtapi_do(a, &req, &res), -1);
	took = now_ms() - t0;
	assert_failed(&res, "timed out", "stall mid-response");
	if (took < 290 || took > 1500)
		fail_msg("timed out after %.0f ms, want about 300", took);
	testsrv_stop(s);
	arena_free(a);
}

/* timeout_ms -1 waits as long as it takes (the long poll for the next event). */
static void test_no_timeout(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nlater";
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start(resp, 0, 500);
	struct httpc_req req = {0};
	struct httpc_res res;
	double t0, took;

	(void)state;
	req.url = url(a, s, "/next");
	req.timeout_ms = -1;
	t0 = now_ms();
	assert_int_equal(rtapi_do(a, &req, &res), 0);
	took = now_ms() - t0;
	assert_string_equal(res.error, "");
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body, "later");
	if (took < 490)
		fail_msg("answered after %.0f ms, the server stalled 500", took);
	testsrv_stop(s);
	arena_free(a);
}

/* A listener whose accept queue is full drops new SYNs: connect() hangs
 * there, and the connect timeout (or the total one, if sooner) ends it. */
static void test_connect_timeout(void **state)
{
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof(sa);
	int lfd, fillers[8], nfill = 0;
	struct arena *a = arena_new();
	struct httpc_req req = {0};
	struct httpc_res res;
	double t0, took;

	(void)state;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 0), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	/* Fill the queue; the fillers that do not get in are harmless. */
	for (int i = 0; i < 8; i++) {
		struct pollfd p;

		fillers[nfill] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_true(fillers[nfill] >= 0);
		if (connect(fillers[nfill], (struct sockaddr *)&sa, sizeof(sa)) != 0)
			assert_int_equal(errno, EINPROGRESS);
		p = (struct pollfd){fillers[nfill], POLLOUT, 0};
		(void)poll(&p, 1, 50);
		nfill++;
	}
	req.url = arena_printf(a, "http://127.0.0.1:%d/", ntohs(sa.sin_port));
	req.connect_timeout_ms = 200;
	req.timeout_ms = -1;
	t0 = now_ms();
	assert_int_equal(rtapi_do(a, &req, &res), -1);
	took = now_ms() - t0;
	assert_failed(&res, "timed out", "connect timeout");
	assert_non_null(strstr(res.error, "cannot connect"));
	if (took < 190 || took > 1500)
		fail_msg("connect gave up after %.0f ms, want about 200", took);

	/* The total timeout bounds the connect too. */
	req.connect_timeout_ms = 5000;
	req.timeout_ms = 250;
	t0 = now_ms();
	assert_int_equal(rtapi_do(a, &req, &res), -1);
	took = now_ms() - t0;
	assert_failed(&res, "timed out", "total timeout during connect");
	if (took < 240 || took > 1500)
		fail_msg("connect gave up after %.0f ms, want about 250", took);
	for (int i = 0; i < nfill; i++)
		close(fillers[i]);
	close(lfd);
	arena_free(a);
}

static void test_connection_refused(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start(resp, 0, 0);
	struct httpc_req req = {0};
	struct httpc_res res;
	char want[64];
	int port = s->port;

	(void)state;
	testsrv_stop(s); /* nothing listens there any more */
	req.url = arena_printf(a, "http://127.0.0.1:%d/next", port);
	req.timeout_ms = 2000;
	assert_int_equal(rtapi_do(a, &req, &res), -1);
	assert_failed(&res, "refused", "refused");
	assert_true(snprintf(want, sizeof(want), "cannot connect to 127.0.0.1:%d", port) > 0);
	if (strstr(res.error, want) == NULL)
		fail_msg("error \"%s\" does not name the address", res.error);
	arena_free(a);
}

static void test_bad_urls(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	static const char *const fmts[] = {
	        "https://127.0.0.1:%d/",
	        "ftp://127.0.0.1:%d/",
	        "HTTP//127.0.0.1:%d/",
	        "http:/127.0.0.1:%d/",
	        "127.0.0.1:%d/",
	        "http://:%d/",
	        "http://[::1:%d/",
	        "http://127.0.0.1:/x%d",
	        "http://[]:%d/",
	        "http://127.0.0.1:%d/a b",
	        "http://127.0.0.1:%d/a\r\nX-Evil: 1",
	        "http://127.0.0.1:%d/a\tb",
	        "",
	};
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start(resp, 0, 0);
	struct httpc_req req = {0};
	struct httpc_res res;

	(void)state;
	req.timeout_ms = 1000;
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		req.url = arena_printf(a, fmts[i], s->port);
		if (rtapi_do(a, &req, &res) != -1)
			fail_msg("\"%s\" was accepted", req.url);
		assert_failed(&res, "unsupported URL", req.url);
	}
	req.url = NULL;
	assert_int_equal(rtapi_do(a, &req, &res), -1);
	assert_failed(&res, "unsupported URL", "NULL url");
	/* None of them reached the server. */
	assert_int_equal(atomic_load(&s->requests), 0);
	/* And the well-formed one does. */
	req.url = url(a, s, "/");
	assert_int_equal(rtapi_do(a, &req, &res), 0);
	assert_int_equal(atomic_load(&s->requests), 1);
	testsrv_stop(s);
	arena_free(a);
}

static void test_ipv6_literal(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv6";
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start_af(AF_INET6, resp, 0, 0);
	struct httpc_req req = {0};
	struct httpc_res res;
	char want[64];

	(void)state;
	if (s == NULL) {
		/* Only a machine without IPv6 or without ::1 skips this. */
		if (errno != EAFNOSUPPORT && errno != EADDRNOTAVAIL)
			fail_msg("cannot listen on [::1]: %s", strerror(errno));
		arena_free(a);
		skip();
	}
	req.url = arena_printf(a, "http://[::1]:%d/v6?q=1", s->port);
	req.timeout_ms = 5000;
	assert_int_equal(rtapi_do(a, &req, &res), 0);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body, "v6");
	assert_true(strncmp(s->request, "GET /v6?q=1 HTTP/1.1\r\n", 22) == 0);
	/* The Host header keeps the brackets (RFC 7230 5.4). */
	assert_true(snprintf(want, sizeof(want), "\r\nHost: [::1]:%d\r\n", s->port) > 0);
	if (strstr(s->request, want) == NULL)
		fail_msg("no \"%s\" in \"%s\"", want + 2, s->request);
	testsrv_stop(s);
	arena_free(a);
}

/* The same response object can be reused: a failure after a success leaves
 * nothing of the success behind. */
static void test_reuse_after_success(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nok";
	struct arena *a = arena_new();
	struct testsrv *s = testsrv_start(resp, 0, 0);
	struct httpc_req req = {0};
	struct httpc_res res;
	int port = s->port;

	(void)state;
	req.url = url(a, s, "/");
	req.timeout_ms = 2000;
	assert_int_equal(rtapi_do(a, &req, &res), 0);
	assert_int_equal(res.headers.n, 2);
	testsrv_stop(s);
	req.url = arena_printf(a, "http://127.0.0.1:%d/", port);
	assert_int_equal(rtapi_do(a, &req, &res), -1);
	assert_failed(&res, "cannot connect", "reuse");
	assert_null(kv_get(&res.headers, "x-a"));
	arena_free(a);
}

/* Three calls to one server: over one connection when the server keeps it,
 * over fresh ones (transparently) when it closes after each answer or says
 * Connection: close. */
static void test_keep_alive(void **state)
{
	static const struct {
		const char *name;
		bool keep_alive;
		const char *response;
		int want_accepts;
	} cases[] = {
		{"kept", true, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1},
		{"kept, chunked", true,
		 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 1},
		{"server closes", false, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 3},
		{"Connection: close", true,
		 "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 3},
		{"HTTP/1.0", true, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 3},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct testsrv *s = testsrv_start(cases[i].response, 0, 0);
		struct arena *a = arena_new();

		s->keep_alive = cases[i].keep_alive;
		for (int call = 0; call < 3; call++) {
			struct httpc_req req = {0};
			struct httpc_res res;

			req.url = arena_printf(a, "http://127.0.0.1:%d/x", s->port);
			req.timeout_ms = 2000;
			if (rtapi_do(a, &req, &res) != 0 || res.status != 200 ||
			    strcmp(res.body, "ok") != 0)
				fail_msg("%s: call %d failed: %s", cases[i].name, call, res.error);
		}
		if (atomic_load(&s->accepts) != cases[i].want_accepts)
			fail_msg("%s: %d connections, want %d", cases[i].name,
			         atomic_load(&s->accepts), cases[i].want_accepts);
		assert_int_equal(atomic_load(&s->requests), 3);
		testsrv_stop(s);
		arena_free(a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_keep_alive),
	        cmocka_unit_test(test_status_body_headers),
	        cmocka_unit_test(test_responses),
	        cmocka_unit_test(test_huge_response),
	        cmocka_unit_test(test_empty_response),
	        cmocka_unit_test(test_requests),
	        cmocka_unit_test(test_total_timeout),
	        cmocka_unit_test(test_timeout_mid_response),
	        cmocka_unit_test(test_no_timeout),
	        cmocka_unit_test(test_connect_timeout),
	        cmocka_unit_test(test_connection_refused),
	        cmocka_unit_test(test_bad_urls),
	        cmocka_unit_test(test_ipv6_literal),
	        cmocka_unit_test(test_reuse_after_success),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
