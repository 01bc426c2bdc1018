/* test_invoke.c - fn_invoke_async against a canned Lambda endpoint on
 * loopback: the request it sends (path, headers, SigV4, body) and how it
 * reads the answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "invoke.h"

/* A one-connection-at-a-time HTTP server: reads a request (headers and a
 * Content-Length body), optionally stalls, writes a canned response, closes. */
struct canned {
	int fd;
	int port;
	pthread_t thread;
	const char *response;
	size_t response_len;
	int stall_ms;
	atomic_bool stop;
	atomic_int requests;
	char request[65536];
	size_t request_len;
};

static bool wait_readable(int fd, struct canned *s)
{
	struct pollfd p = {fd, POLLIN, 0};

	while (!atomic_load(&s->stop)) {
		int rc = poll(&p, 1, 20);

		if (rc > 0)
			return true;
		if (rc < 0)
			return false;
	}
	return false;
}

static void read_request(struct canned *s, int c)
{
	size_t want = 0;
	char *end;

	s->request_len = 0;
	for (;;) {
		ssize_t n;

		if (!wait_readable(c, s))
			return;
		n = read(c, s->request + s->request_len, sizeof(s->request) - 1 - s->request_len);
		if (n <= 0)
			return;
		s->request_len += (size_t)n;
		s->request[s->request_len] = '\0';
		end = strstr(s->request, "\r\n\r\n");
		if (end != NULL && want == 0) {
			const char *cl = strcasestr(s->request, "\r\ncontent-length:");

			want = (size_t)(end + 4 - s->request);
			if (cl != NULL && cl < end)
				want += strtoul(cl + 17, NULL, 10);
		}
		if ((want > 0 && s->request_len >= want) || s->request[0] == 0x16 /* TLS */)
			return;
		if (s->request_len >= sizeof(s->request) - 1)
			return;
	}
}

static void *serve(void *arg)
{
	struct canned *s = arg;

	while (!atomic_load(&s->stop)) {
		int c;

		if (!wait_readable(s->fd, s))
			break;
		c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		read_request(s, c);
		atomic_fetch_add(&s->requests, 1);
		for (int waited = 0; waited < s->stall_ms && !atomic_load(&s->stop); waited += 10)
			usleep(10000);
		if (write(c, s->response, s->response_len) < 0)
			perror("canned server write");
		close(c);
	}
	return NULL;
}

static struct canned *canned_start(const char *response, size_t len, int stall_ms)
{
	struct canned *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof(sa);
	int one = 1;

	assert_non_null(s);
	s->response = response;
	s->response_len = len ? len : strlen(response);
	s->stall_ms = stall_ms;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->fd, 16), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sa, &sl), 0);
	s->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
	return s;
}

static void canned_stop(struct canned *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->fd);
	free(s);
}

static const char accepted[] = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n"
                               "Connection: close\r\n\r\n";

static const char payload[] = "{\"method\":\"POST\",\"path\":\"/api/x\",\"body\":\"h\\u00e9\"}";

static void clear_env(void)
{
	unsetenv("AWS_ENDPOINT_URL_LAMBDA");
	unsetenv("AWS_REGION");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
}

static void point_at(const struct canned *s, const char *suffix)
{
	char ep[64];

	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d%s", s->port, suffix);
	setenv("AWS_ENDPOINT_URL_LAMBDA", ep, 1);
}

/* The request's header block, lower-cased, for case-insensitive searches. */
static const char *header_value(const struct canned *s, const char *name, char *buf, size_t n)
{
	char needle[64];
	const char *p, *end = strstr(s->request, "\r\n\r\n");
	size_t len;

	snprintf(needle, sizeof(needle), "\r\n%s:", name);
	p = strcasestr(s->request, needle);
	if (p == NULL || end == NULL || p > end)
		return NULL;
	p += strlen(needle);
	while (*p == ' ')
		p++;
	len = strcspn(p, "\r");
	if (len >= n)
		len = n - 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

static const char *body_of(const struct canned *s)
{
	const char *end = strstr(s->request, "\r\n\r\n");

	return end ? end + 4 : "";
}

static void test_unsigned_request(void **state)
{
	struct canned *s = canned_start(accepted, 0, 0);
	char v[256], want[32];

	(void)state;
	clear_env();
	point_at(s, "/"); /* a trailing slash is dropped */
	assert_int_equal(fn_invoke_async("testfn", payload, strlen(payload)), 0);
	assert_int_equal(atomic_load(&s->requests), 1);
	assert_non_null(
	        strstr(s->request, "POST /2015-03-31/functions/testfn/invocations HTTP/1.1\r\n"));
	assert_string_equal(header_value(s, "x-amz-invocation-type", v, sizeof(v)), "Event");
	assert_string_equal(header_value(s, "content-type", v, sizeof(v)), "application/json");
	snprintf(want, sizeof(want), "%zu", strlen(payload));
	assert_string_equal(header_value(s, "content-length", v, sizeof(v)), want);
	assert_null(header_value(s, "authorization", v, sizeof(v)));
	assert_null(header_value(s, "x-amz-security-token", v, sizeof(v)));
	assert_string_equal(body_of(s), payload);
	canned_stop(s);
	clear_env();
}

static void test_signed_request(void **state)
{
	struct canned *s = canned_start(accepted, 0, 0);
	char v[512], want[128], date[16];
	const char *auth;
	time_t now = time(NULL);
	struct tm tm;

	(void)state;
	clear_env();
	point_at(s, "");
	setenv("AWS_REGION", "eu-west-1", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	setenv("AWS_SESSION_TOKEN", "session-token-xyz", 1);
	assert_int_equal(fn_invoke_async("my-fn_2", payload, strlen(payload)), 0);
	assert_non_null(
	        strstr(s->request, "POST /2015-03-31/functions/my-fn_2/invocations HTTP/1.1\r\n"));
	auth = header_value(s, "authorization", v, sizeof(v));
	assert_non_null(auth);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y%m%d", &tm);
	snprintf(want, sizeof(want),
	         "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/%s/eu-west-1/lambda/aws4_request, ",
	         date);
	assert_true(strncmp(auth, want, strlen(want)) == 0);
	assert_non_null(strstr(auth, "SignedHeaders="));
	assert_non_null(strstr(auth, "Signature="));
	assert_non_null(header_value(s, "x-amz-date", v, sizeof(v)));
	assert_int_equal(strlen(v), 16); /* 20240101T000000Z */
	assert_int_equal(strncmp(v, date, 8), 0);
	assert_string_equal(header_value(s, "x-amz-security-token", v, sizeof(v)),
	                    "session-token-xyz");
	assert_non_null(header_value(s, "x-amz-content-sha256", v, sizeof(v)));
	assert_int_equal(strlen(v), 64);
	assert_string_equal(header_value(s, "x-amz-invocation-type", v, sizeof(v)), "Event");
	assert_null(strstr(s->request, "wJalrXUtnFEMI")); /* the secret never travels */
	assert_string_equal(body_of(s), payload);
	canned_stop(s);
	clear_env();
}

static void test_arn_accepted(void **state)
{
	struct canned *s = canned_start(accepted, 0, 0);
	static const char arn[] = "arn:aws:lambda:us-east-1:123456789012:function:thumbs:live";

	(void)state;
	clear_env();
	point_at(s, "");
	assert_int_equal(fn_invoke_async(arn, "{}", 2), 0);
	assert_int_equal(atomic_load(&s->requests), 1);
	assert_non_null(strstr(s->request,
	                       "/2015-03-31/functions/"
	                       "arn:aws:lambda:us-east-1:123456789012:function:thumbs:live/"
	                       "invocations HTTP/1.1\r\n"));
	canned_stop(s);
	clear_env();
}

static void test_refusals(void **state)
{
	static const char *const responses[] = {
	        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nX-Amzn-ErrorType: "
	        "ResourceNotFoundException\r\nContent-Length: 54\r\nConnection: close\r\n\r\n"
	        "{\"Type\":\"User\",\"Message\":\"Function not found: testfn\"}",
	        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: "
	        "close\r\n\r\n"
	        "oops",
	        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
	        "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++) {
		struct canned *s = canned_start(responses[i], 0, 0);

		clear_env();
		point_at(s, "");
		assert_int_equal(fn_invoke_async("testfn", "{}", 2), -1);
		assert_int_equal(atomic_load(&s->requests), 1);
		canned_stop(s);
	}
	clear_env();
}

static void test_no_endpoint(void **state)
{
	(void)state;
	clear_env();
	assert_int_equal(fn_invoke_async("testfn", "{}", 2), -1);
	setenv("AWS_REGION", "", 1);
	assert_int_equal(fn_invoke_async("testfn", "{}", 2), -1);
	clear_env();
}

static void test_transport_failure(void **state)
{
	struct canned *s = canned_start(accepted, 0, 0);
	int port = s->port;
	char ep[64];

	(void)state;
	canned_stop(s); /* nothing listens there now */
	clear_env();
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", port);
	setenv("AWS_ENDPOINT_URL_LAMBDA", ep, 1);
	assert_int_equal(fn_invoke_async("testfn", "{}", 2), -1);
	clear_env();
}

static void test_bad_names(void **state)
{
	static const char *const names[] = {
	        "",
	        "a/b",
	        "../x",
	        "fn?x=1",
	        "fn name",
	        "fn%2F",
	        "0123456789012345678901234567890123456789012345678901234567890123X", /* 65 */
	        "arn:aws:lambda:us-east-1:123456789012:function:",
	        "arn:aws:s3:us-east-1:123456789012:function:x",
	        "arn:aws:lambda:us-east-1:123456789012:layer:x",
	        "arn:aws:lambda:us-east-1:123456789012:function:x:1:2",
	        "arn:aws:lambda:us-east-1:123456789012:function:x/y",
	};
	struct canned *s = canned_start(accepted, 0, 0);

	(void)state;
	clear_env();
	point_at(s, "");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (fn_invoke_async(names[i], "{}", 2) != -1)
			fail_msg("name '%s' was accepted", names[i]);
	assert_int_equal(fn_invoke_async(NULL, "{}", 2), -1);
	assert_int_equal(fn_invoke_async("testfn", NULL, 0), -1);
	assert_int_equal(atomic_load(&s->requests), 0);
	/* 64 characters is the limit, not past it */
	assert_int_equal(
	        fn_invoke_async("0123456789012345678901234567890123456789012345678901234567890123",
	                        "{}", 2),
	        0);
	canned_stop(s);
	clear_env();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_unsigned_request), cmocka_unit_test(test_signed_request),
	        cmocka_unit_test(test_arn_accepted),     cmocka_unit_test(test_refusals),
	        cmocka_unit_test(test_no_endpoint),      cmocka_unit_test(test_transport_failure),
	        cmocka_unit_test(test_bad_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
