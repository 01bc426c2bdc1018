/* test_invoke.c - fn_invoke_async against a canned Lambda endpoint on
 * loopback: the request it sends (path, headers, SigV4, body) and how it
 * reads the answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "invoke.h"
#include "support/testsrv.h"

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

static void point_at(const struct testsrv *s, const char *suffix)
{
	char ep[64];

	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d%s", s->port, suffix);
	setenv("AWS_ENDPOINT_URL_LAMBDA", ep, 1);
}

/* The request's header block, lower-cased, for case-insensitive searches. */
static const char *header_value(const struct testsrv *s, const char *name, char *buf, size_t n)
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

static const char *body_of(const struct testsrv *s)
{
	const char *end = strstr(s->request, "\r\n\r\n");

	return end ? end + 4 : "";
}

static void test_unsigned_request(void **state)
{
	struct testsrv *s = testsrv_start(accepted, 0, 0);
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
	testsrv_stop(s);
	clear_env();
}

static void test_signed_request(void **state)
{
	struct testsrv *s = testsrv_start(accepted, 0, 0);
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
	testsrv_stop(s);
	clear_env();
}

static void test_arn_accepted(void **state)
{
	struct testsrv *s = testsrv_start(accepted, 0, 0);
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
	testsrv_stop(s);
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
		struct testsrv *s = testsrv_start(responses[i], 0, 0);

		clear_env();
		point_at(s, "");
		assert_int_equal(fn_invoke_async("testfn", "{}", 2), -1);
		assert_int_equal(atomic_load(&s->requests), 1);
		testsrv_stop(s);
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
	struct testsrv *s = testsrv_start(accepted, 0, 0);
	int port = s->port;
	char ep[64];

	(void)state;
	testsrv_stop(s); /* nothing listens there now */
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
	struct testsrv *s = testsrv_start(accepted, 0, 0);

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
	testsrv_stop(s);
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
