/* test_urlsign.c - signed storage URLs: round trip, tampering, expiry, keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "config.h"
#include "kv.h"
#include "urlsign.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

static const char secret[] = "integration-test-secret-0123456789";
static const char base[] = "http://127.0.0.1:8080";

static int setup(void **state)
{
	(void)state;
	g_cfg.app_secret = secret;
	return 0;
}

/* The parts of a URL urlsign_url made: decoded key, expires, signature. */
struct parts {
	char *key, *expires, *sig;
};

static void split(struct arena *a, const char *url, struct parts *p)
{
	const char *path, *q, *e, *s;
	size_t blen = strlen(base);

	assert_non_null(url);
	assert_int_equal(strncmp(url, base, blen), 0);
	path = url + blen;
	assert_int_equal(strncmp(path, "/storage/", 9), 0);
	path += 9;
	q = strchr(path, '?');
	assert_non_null(q);
	p->key = kv_unescape(a, path, (size_t)(q - path), false);
	assert_non_null(p->key);
	assert_int_equal(strncmp(q, "?X-Expires=", 11), 0);
	e = q + 11;
	s = strchr(e, '&');
	assert_non_null(s);
	p->expires = arena_strndup(a, e, (size_t)(s - e));
	assert_int_equal(strncmp(s, "&X-Signature=", 13), 0);
	p->sig = arena_strdup(a, s + 13);
}

static void test_roundtrip(void **state)
{
	static const char *const keys[] = {
	        "a",        "photos/ab12/orig.jpg", "uploads/a.jpg", "x/y/z/w.tar.gz",
	        "a..b/c..", "-_.~/file-name_1.txt",
	};
	struct arena *a = arena_new();
	time_t now = time(NULL);

	(void)state;
	for (size_t i = 0; i < N(keys); i++) {
		struct parts g, p;

		split(a, urlsign_url(a, base, "GET", keys[i], 60), &g);
		split(a, urlsign_url(a, base, "PUT", keys[i], 60), &p);
		assert_string_equal(g.key, keys[i]);
		assert_int_equal(strlen(g.sig), 64);
		assert_int_equal(urlsign_check("GET", g.key, g.expires, g.sig, now), URLSIGN_OK);
		assert_int_equal(urlsign_check("PUT", p.key, p.expires, p.sig, now), URLSIGN_OK);
		/* A URL signed for one method never works for the other. */
		assert_int_equal(urlsign_check("PUT", g.key, g.expires, g.sig, now), URLSIGN_BAD);
		assert_int_equal(urlsign_check("GET", p.key, p.expires, p.sig, now), URLSIGN_BAD);
		assert_int_equal(urlsign_check("HEAD", g.key, g.expires, g.sig, now), URLSIGN_BAD);
	}
	arena_free(a);
}

/* A vector computed independently (Python hmac), the algorithm the
 * integration tests and any other client implement. */
static void test_known_vector(void **state)
{
	static const char sig[] =
	        "bf7389bcedb5078e52fe1e414f89698ec1093bd2c6a72fca3b2e339841e33b67";
	static const char upper[] =
	        "BF7389BCEDB5078E52FE1E414F89698EC1093BD2C6A72FCA3B2E339841E33B67";

	(void)state;
	assert_int_equal(
	        urlsign_check("GET", "photos/ab12/orig.jpg", "2000000000", sig, 1999999000),
	        URLSIGN_OK);
	assert_int_equal(
	        urlsign_check("GET", "photos/ab12/orig.jpg", "2000000000", upper, 1999999000),
	        URLSIGN_OK);
	assert_int_equal(
	        urlsign_check("GET", "photos/ab12/orig.jpg", "2000000000", sig, 2000000001),
	        URLSIGN_EXPIRED);
}

static void test_tampered(void **state)
{
	struct arena *a = arena_new();
	time_t now = time(NULL);
	struct parts p;
	char *s;

	(void)state;
	split(a, urlsign_url(a, base, "PUT", "uploads/a.jpg", 600), &p);
	assert_int_equal(urlsign_check("PUT", p.key, p.expires, p.sig, now), URLSIGN_OK);
	/* method */
	assert_int_equal(urlsign_check("GET", p.key, p.expires, p.sig, now), URLSIGN_BAD);
	assert_int_equal(urlsign_check("POST", p.key, p.expires, p.sig, now), URLSIGN_BAD);
	assert_int_equal(urlsign_check("put", p.key, p.expires, p.sig, now), URLSIGN_BAD);
	/* key */
	assert_int_equal(urlsign_check("PUT", "uploads/b.jpg", p.expires, p.sig, now), URLSIGN_BAD);
	assert_int_equal(urlsign_check("PUT", "uploads/a.jpgx", p.expires, p.sig, now),
	                 URLSIGN_BAD);
	assert_int_equal(urlsign_check("PUT", "Uploads/a.jpg", p.expires, p.sig, now), URLSIGN_BAD);
	/* expires: a later time, the same time spelled differently */
	s = arena_printf(a, "%lld", strtoll(p.expires, NULL, 10) + 1);
	assert_int_equal(urlsign_check("PUT", p.key, s, p.sig, now), URLSIGN_BAD);
	s = arena_printf(a, "0%s", p.expires);
	assert_int_equal(urlsign_check("PUT", p.key, s, p.sig, now), URLSIGN_BAD);
	/* signature: every position flipped, truncated, extended */
	for (size_t i = 0; i < 64; i++) {
		s = arena_strdup(a, p.sig);
		s[i] = s[i] == '0' ? '1' : '0';
		assert_int_equal(urlsign_check("PUT", p.key, p.expires, s, now), URLSIGN_BAD);
	}
	s = arena_strndup(a, p.sig, 63);
	assert_int_equal(urlsign_check("PUT", p.key, p.expires, s, now), URLSIGN_BAD);
	s = arena_printf(a, "%s0", p.sig);
	assert_int_equal(urlsign_check("PUT", p.key, p.expires, s, now), URLSIGN_BAD);
	/* another secret */
	g_cfg.app_secret = "another-secret-0123456789abcdefgh";
	assert_int_equal(urlsign_check("PUT", p.key, p.expires, p.sig, now), URLSIGN_BAD);
	g_cfg.app_secret = secret;
	arena_free(a);
}

static void test_expired(void **state)
{
	struct arena *a = arena_new();
	time_t now = time(NULL);
	struct parts p;
	long long exp;

	(void)state;
	split(a, urlsign_url(a, base, "GET", "k/v.txt", 30), &p);
	exp = strtoll(p.expires, NULL, 10);
	assert_true(exp >= (long long)now + 30 && exp <= (long long)now + 31);
	assert_int_equal(urlsign_check("GET", p.key, p.expires, p.sig, (time_t)exp), URLSIGN_OK);
	assert_int_equal(urlsign_check("GET", p.key, p.expires, p.sig, (time_t)exp + 1),
	                 URLSIGN_EXPIRED);
	assert_int_equal(urlsign_check("GET", p.key, p.expires, p.sig, (time_t)exp + 86400),
	                 URLSIGN_EXPIRED);
	/* Expired and tampered is just bad. */
	assert_int_equal(urlsign_check("PUT", p.key, p.expires, p.sig, (time_t)exp + 1),
	                 URLSIGN_BAD);
	arena_free(a);
}

/* ttl is capped at a week, like S3 presigned URLs; checks refuse longer. */
static void test_ttl_cap(void **state)
{
	struct arena *a = arena_new();
	time_t now = time(NULL);
	struct parts p;
	long long exp;

	(void)state;
	split(a, urlsign_url(a, base, "GET", "k", 365L * 86400), &p);
	exp = strtoll(p.expires, NULL, 10);
	assert_true(exp <= (long long)now + 7 * 86400 + 1);
	assert_true(exp >= (long long)now + 7 * 86400);
	assert_int_equal(urlsign_check("GET", "k", p.expires, p.sig, now), URLSIGN_OK);
	/* A validly signed URL living a year is refused all the same. */
	assert_int_equal(
	        urlsign_check("GET", "photos/ab12/orig.jpg", "2000000000",
	                      "bf7389bcedb5078e52fe1e414f89698ec1093bd2c6a72fca3b2e339841e33b67",
	                      2000000000 - 365L * 86400),
	        URLSIGN_BAD);
	/* A negative ttl makes a URL that expires now. */
	split(a, urlsign_url(a, base, "GET", "k", -5), &p);
	assert_true(strtoll(p.expires, NULL, 10) <= (long long)time(NULL));
	arena_free(a);
}

static void test_malformed(void **state)
{
	static const char *const expires[] = {
	        "", "12a", "-5", "+5", " 5", "5 ", "0x10", "1e9", "99999999999999999999",
	};
	static const char *const sigs[] = {
	        "",
	        "zz7389bcedb5078e52fe1e414f89698ec1093bd2c6a72fca3b2e339841e33b67",
	        "bf7389bcedb5078e52fe1e414f89698ec1093bd2c6a72fca3b2e339841e33b6",
	        " bf7389bcedb5078e52fe1e414f89698ec1093bd2c6a72fca3b2e339841e33b6",
	};
	static const char sig[] =
	        "bf7389bcedb5078e52fe1e414f89698ec1093bd2c6a72fca3b2e339841e33b67";
	const char *k = "photos/ab12/orig.jpg";

	(void)state;
	for (size_t i = 0; i < N(expires); i++)
		assert_int_equal(urlsign_check("GET", k, expires[i], sig, 1999999000), URLSIGN_BAD);
	for (size_t i = 0; i < N(sigs); i++)
		assert_int_equal(urlsign_check("GET", k, "2000000000", sigs[i], 1999999000),
		                 URLSIGN_BAD);
	assert_int_equal(urlsign_check("GET", k, NULL, sig, 1999999000), URLSIGN_BAD);
	assert_int_equal(urlsign_check("GET", k, "2000000000", NULL, 1999999000), URLSIGN_BAD);
	assert_int_equal(urlsign_check(NULL, k, "2000000000", sig, 1999999000), URLSIGN_BAD);
	assert_int_equal(urlsign_check("GET", NULL, "2000000000", sig, 1999999000), URLSIGN_BAD);
	assert_int_equal(urlsign_check("", k, "2000000000", sig, 1999999000), URLSIGN_BAD);
	assert_int_equal(urlsign_check("G\nET", k, "2000000000", sig, 1999999000), URLSIGN_BAD);
}

static void test_keys(void **state)
{
	static const struct {
		const char *key;
		bool valid;
	} rows[] = {
	        {"a", true},
	        {"photos/ab12/orig.jpg", true},
	        {"my file.jpg", true},
	        {"相册/照片 1.jpg", true},
	        {"a..b", true},
	        {"..a/b", true},
	        {".hidden", true},
	        {"", false},
	        {"/a", false},
	        {"a/", false},
	        {"a//b", false},
	        {"..", false},
	        {"../a", false},
	        {"a/../b", false},
	        {"a/..", false},
	        {".", false},
	        {"./a", false},
	        {"a/./b", false},
	        {"a\\b", false},
	        {"..\\a", false},
	        {"a\nb", false},
	        {"a\rb", false},
	        {"a\tb", false},
	        {"a\x01"
	         "b",
	         false},
	        {"a\x7f"
	         "b",
	         false},
	        {"a\xff"
	         "b",
	         false},             /* not UTF-8 */
	        {"\xc0\xaf", false}, /* overlong "/" */
	};
	struct arena *a = arena_new();
	char *long_key;

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		if (urlsign_key_valid(rows[i].key) != rows[i].valid)
			fail_msg("key %zu \"%s\": want %s", i, rows[i].key,
			         rows[i].valid ? "valid" : "invalid");
		if (!rows[i].valid)
			assert_null(urlsign_url(a, base, "GET", rows[i].key, 60));
	}
	assert_false(urlsign_key_valid(NULL));
	assert_null(urlsign_url(a, base, "GET", NULL, 60));
	long_key = arena_alloc(a, 1026);
	memset(long_key, 'k', 1024);
	assert_true(urlsign_key_valid(long_key));
	long_key[1024] = 'k';
	assert_false(urlsign_key_valid(long_key));
	arena_free(a);
}

/* Keys are percent-encoded per segment; "/" separates segments. */
static void test_encoding(void **state)
{
	static const struct {
		const char *key, *path;
	} rows[] = {
	        {"my file.jpg", "/storage/my%20file.jpg?"},
	        {"相册/ü.jpg", "/storage/%E7%9B%B8%E5%86%8C/%C3%BC.jpg?"},
	        {"a+b&c=d?e#f%g", "/storage/a%2Bb%26c%3Dd%3Fe%23f%25g?"},
	        {"dir/sub/x.png", "/storage/dir/sub/x.png?"},
	        {"😀.txt", "/storage/%F0%9F%98%80.txt?"},
	};
	struct arena *a = arena_new();
	time_t now = time(NULL);

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		char *url = urlsign_url(a, base, "GET", rows[i].key, 60);
		struct parts p;

		assert_non_null(url);
		assert_non_null(strstr(url, rows[i].path));
		split(a, url, &p);
		assert_string_equal(p.key, rows[i].key);
		assert_int_equal(urlsign_check("GET", p.key, p.expires, p.sig, now), URLSIGN_OK);
	}
	arena_free(a);
}

static void test_no_secret(void **state)
{
	struct arena *a = arena_new();
	struct parts p;

	(void)state;
	split(a, urlsign_url(a, base, "GET", "k", 60), &p);
	g_cfg.app_secret = NULL;
	assert_null(urlsign_url(a, base, "GET", "k", 60));
	assert_int_equal(urlsign_check("GET", "k", p.expires, p.sig, time(NULL)), URLSIGN_BAD);
	g_cfg.app_secret = "";
	assert_null(urlsign_url(a, base, "GET", "k", 60));
	g_cfg.app_secret = secret;
	assert_int_equal(urlsign_check("GET", "k", p.expires, p.sig, time(NULL)), URLSIGN_OK);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_known_vector),
	        cmocka_unit_test(test_tampered),  cmocka_unit_test(test_expired),
	        cmocka_unit_test(test_ttl_cap),   cmocka_unit_test(test_malformed),
	        cmocka_unit_test(test_keys),      cmocka_unit_test(test_encoding),
	        cmocka_unit_test(test_no_secret),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
