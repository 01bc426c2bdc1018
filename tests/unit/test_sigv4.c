/* test_sigv4.c - store_s3_presign: AWS's documented query-string SigV4
 * example reproduced exactly, then the variations the store uses (path
 * style, ports, session tokens, keys needing encoding) and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "store.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

/* 2013-05-24T00:00:00Z */
static const time_t example_now = 1369353600;

static struct store_s3_params example(void)
{
	struct store_s3_params p = {
	        .endpoint = "https://s3.amazonaws.com",
	        .bucket = "examplebucket",
	        .region = "us-east-1",
	        .path_style = false,
	        .access_key = "AKIAIOSFODNN7EXAMPLE",
	        .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	};

	return p;
}

/* AWS S3 docs, "Authenticating Requests: Using Query Parameters (AWS
 * Signature Version 4)", the GET example. */
static void test_aws_example(void **state)
{
	struct arena *a = arena_new();
	struct store_s3_params p = example();
	char *url;

	(void)state;
	url = store_s3_presign(a, &p, "GET", "test.txt", example_now, 86400);
	assert_non_null(url);
	assert_string_equal(url,
	                    "https://examplebucket.s3.amazonaws.com/test.txt"
	                    "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
	                    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3"
	                    "%2Faws4_request"
	                    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
	                    "&X-Amz-SignedHeaders=host"
	                    "&X-Amz-Signature="
	                    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
	arena_free(a);
}

static const char *sig_of(const char *url)
{
	const char *s = strstr(url, "&X-Amz-Signature=");

	assert_non_null(s);
	return s + 17;
}

/* Every input that is signed changes the signature. */
static void test_inputs_are_signed(void **state)
{
	struct arena *a = arena_new();
	struct store_s3_params p = example();
	const char *base = sig_of(store_s3_presign(a, &p, "GET", "test.txt", example_now, 86400));
	const char *other[6];

	(void)state;
	other[0] = store_s3_presign(a, &p, "PUT", "test.txt", example_now, 86400);
	other[1] = store_s3_presign(a, &p, "GET", "test2.txt", example_now, 86400);
	other[2] = store_s3_presign(a, &p, "GET", "test.txt", example_now + 1, 86400);
	other[3] = store_s3_presign(a, &p, "GET", "test.txt", example_now, 86401);
	p.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ";
	other[4] = store_s3_presign(a, &p, "GET", "test.txt", example_now, 86400);
	p = example();
	p.region = "eu-west-1";
	other[5] = store_s3_presign(a, &p, "GET", "test.txt", example_now, 86400);
	for (size_t i = 0; i < N(other); i++) {
		assert_non_null(other[i]);
		assert_string_not_equal(sig_of(other[i]), base);
	}
	arena_free(a);
}

/* Path style with a port, a key needing percent-encoding, a session token
 * (sorted between X-Amz-Expires and X-Amz-SignedHeaders, encoded). */
static void test_path_style_token(void **state)
{
	struct arena *a = arena_new();
	struct store_s3_params p = example();
	const char *url, *q;

	(void)state;
	p.endpoint = "http://127.0.0.1:4568";
	p.path_style = true;
	p.session_token = "tok/en+=";
	url = store_s3_presign(a, &p, "PUT", "photos/a b/\xc3\xbc.jpg", example_now, 900);
	assert_non_null(url);
	q = "http://127.0.0.1:4568/examplebucket/photos/a%20b/%C3%BC.jpg?X-Amz-Algorithm=";
	assert_memory_equal(url, q, strlen(q));
	assert_non_null(strstr(url, "&X-Amz-Expires=900&X-Amz-Security-Token=tok%2Fen%2B%3D"
	                            "&X-Amz-SignedHeaders=host&X-Amz-Signature="));
	assert_int_equal(strlen(sig_of(url)), 64);

	/* a default port is not part of the host */
	p.endpoint = "https://s3.amazonaws.com:443";
	p.path_style = false;
	p.session_token = NULL;
	url = store_s3_presign(a, &p, "GET", "test.txt", example_now, 86400);
	assert_non_null(url);
	assert_string_equal(sig_of(url),
	                    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
	arena_free(a);
}

static void test_refusals(void **state)
{
	struct arena *a = arena_new();
	struct store_s3_params p = example();
	static const char *const bad_keys[] = {"", "../x", "a//b", ".meta/x", "a/.put-1", "a\\b"};
	static const long bad_ttls[] = {0, -1, 604801};

	(void)state;
	for (size_t i = 0; i < N(bad_keys); i++)
		assert_null(store_s3_presign(a, &p, "GET", bad_keys[i], example_now, 60));
	for (size_t i = 0; i < N(bad_ttls); i++)
		assert_null(store_s3_presign(a, &p, "GET", "k", example_now, bad_ttls[i]));
	assert_non_null(store_s3_presign(a, &p, "GET", "k", example_now, 604800));
	assert_null(store_s3_presign(a, &p, "get", "k", example_now, 60));
	p.secret_key = "";
	assert_null(store_s3_presign(a, &p, "GET", "k", example_now, 60));
	p = example();
	p.endpoint = "ftp://s3.amazonaws.com";
	assert_null(store_s3_presign(a, &p, "GET", "k", example_now, 60));
	p.endpoint = "https://s3.amazonaws.com/path";
	assert_null(store_s3_presign(a, &p, "GET", "k", example_now, 60));
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_aws_example),
	        cmocka_unit_test(test_inputs_are_signed),
	        cmocka_unit_test(test_path_style_token),
	        cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
