/* test_cursor.c - round trips, tampering, malformed cursors, the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "config.h"
#include "crypto.h"
#include "cursor.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

static const char key1[] = "unit-test-secret-0123456789abcdef";
static const char key2[] = "another-secret-0123456789abcdefgh";

static int setup(void **state)
{
	(void)state;
	g_cfg.app_secret = key1;
	return 0;
}

/* base64url(payload) "." base64url(mac16) with any key, for forged cursors. */
static char *forge(struct arena *a, const char *key, const char *payload)
{
	unsigned char mac[32];

	crypto_hmac_sha256(key, strlen(key), payload, strlen(payload), mac);
	return arena_printf(a, "%s.%s", crypto_b64_encode(a, payload, strlen(payload), true),
	                    crypto_b64_encode(a, mac, 16, true));
}

static void test_roundtrip(void **state)
{
	static const char *const payloads[] = {
	        "1732700000123456,42",
	        "x",
	        "a b ~!@#$%^&*()_+={}[]|\\:;\"'<>,?/`",
	        "9223372036854775807,9223372036854775807",
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(payloads); i++) {
		char *c = cursor_encode(a, payloads[i]);

		assert_non_null(c);
		/* URL-safe without escaping: only the base64url alphabet and one dot. */
		assert_int_equal(strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                           "0123456789-_."),
		                 strlen(c));
		assert_string_equal(c, forge(a, key1, payloads[i]));
		assert_string_equal(cursor_decode(a, c), payloads[i]);
	}
	arena_free(a);
}

static void test_encode_rejects_bad_payload(void **state)
{
	static const char *const bad[] = {"", "a.b", "tab\there", "nl\n", "\x7f", "caf\xc3\xa9"};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(bad); i++)
		assert_null(cursor_encode(a, bad[i]));
	assert_null(cursor_encode(a, NULL));
	arena_free(a);
}

static void test_tampered(void **state)
{
	struct arena *a = arena_new();
	char *c = cursor_encode(a, "1732700000123456,42");
	char *t;
	size_t len = strlen(c);

	(void)state;
	/* Flip every character in turn: none may decode to anything. */
	for (size_t i = 0; i < len; i++) {
		if (c[i] == '.')
			continue;
		t = arena_strdup(a, c);
		t[i] = t[i] == 'A' ? 'B' : 'A';
		if (cursor_decode(a, t) != NULL)
			fail_msg("tampered cursor %s decoded", t);
	}
	/* A valid MAC for another payload does not transfer. */
	t = arena_printf(a, "%s.%s", crypto_b64_encode(a, "1,1", 3, true), strchr(c, '.') + 1);
	assert_null(cursor_decode(a, t));
	arena_free(a);
}

static void test_wrong_key(void **state)
{
	struct arena *a = arena_new();
	char *c = cursor_encode(a, "5,6");

	(void)state;
	assert_string_equal(cursor_decode(a, c), "5,6");
	assert_null(cursor_decode(a, forge(a, key2, "5,6")));
	g_cfg.app_secret = key2;
	assert_null(cursor_decode(a, c));
	g_cfg.app_secret = key1;
	arena_free(a);
}

static void test_malformed(void **state)
{
	struct arena *a = arena_new();
	char *good = cursor_encode(a, "7,8");
	char *mac = strchr(good, '.') + 1;
	char *payload = arena_strndup(a, good, (size_t)(mac - 1 - good));
	char big[2048];
	const char *rows[] = {
	        "",
	        ".",
	        "abc",
	        payload,
	        arena_printf(a, "%s.", payload),
	        arena_printf(a, ".%s", mac),
	        arena_printf(a, "%s.%s.%s", payload, mac, mac),
	        arena_printf(a, "%s..%s", payload, mac),
	        arena_printf(a, "%s.%.*s", payload, 20, mac), /* short MAC */
	        arena_printf(a, "%s.%sAAAA", payload, mac),   /* long MAC */
	        arena_printf(a, "%s=.%s", payload, mac),      /* bad padding */
	        arena_printf(a, "%s.%s ", payload, mac),      /* trailing space */
	        arena_printf(a, "%s+.%s", payload, mac),      /* std alphabet */
	};

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		if (cursor_decode(a, rows[i]) != NULL)
			fail_msg("malformed cursor \"%s\" decoded", rows[i]);
	}
	assert_null(cursor_decode(a, NULL));
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[100] = '.';
	assert_null(cursor_decode(a, big));
	arena_free(a);
}

/* A correctly signed payload that breaks the payload rules is refused. */
static void test_signed_bad_payload(void **state)
{
	struct arena *a = arena_new();

	(void)state;
	assert_null(cursor_decode(a, forge(a, key1, "1.2")));
	assert_null(cursor_decode(a, forge(a, key1, "a\nb")));
	assert_null(cursor_decode(a, forge(a, key1, "")));
	assert_string_equal(cursor_decode(a, forge(a, key1, "1,2")), "1,2");
	arena_free(a);
}

static void test_no_key(void **state)
{
	struct arena *a = arena_new();
	char *c = cursor_encode(a, "1,2");

	(void)state;
	g_cfg.app_secret = NULL;
	assert_null(cursor_encode(a, "1,2"));
	assert_null(cursor_decode(a, c));
	g_cfg.app_secret = key1;
	arena_free(a);
}

static void test_fingerprint(void **state)
{
	struct arena *a = arena_new();
	unsigned char h[32];
	char *fp = cursor_fingerprint(a, "'tea':* & '故宫'");

	(void)state;
	crypto_sha256("'tea':* & '故宫'", strlen("'tea':* & '故宫'"), h);
	assert_int_equal(strlen(fp), CURSOR_FP_HEX);
	assert_string_equal(fp, crypto_hex(a, h, CURSOR_FP_HEX / 2));
	assert_string_equal(cursor_fingerprint(a, ""), "e3b0c44298fc1c14");
	assert_string_not_equal(cursor_fingerprint(a, "a"), cursor_fingerprint(a, "b"));
	arena_free(a);
}

static void test_offset(void **state)
{
	struct arena *a = arena_new();
	const char *fp = cursor_fingerprint(a, "q"), *other = cursor_fingerprint(a, "r");
	const char *bad[] = {
	        forge(a, key1, arena_printf(a, "%s,", fp)),
	        forge(a, key1, arena_printf(a, "%s,-1", fp)),
	        forge(a, key1, arena_printf(a, "%s,+1", fp)),
	        forge(a, key1, arena_printf(a, "%s, 1", fp)),
	        forge(a, key1, arena_printf(a, "%s,1x", fp)),
	        forge(a, key1, arena_printf(a, "%s,101", fp)),   /* beyond max */
	        forge(a, key1, arena_printf(a, "%s,99999999999999999999", fp)),
	        forge(a, key1, arena_printf(a, "%s,20", other)), /* another query */
	        forge(a, key1, arena_printf(a, "%sx,20", fp)),
	        forge(a, key1, "20"),
	        forge(a, key2, arena_printf(a, "%s,20", fp)),    /* another key */
	        "garbage",
	};

	(void)state;
	assert_string_equal(cursor_decode(a, cursor_offset_encode(a, fp, 40)),
	                    arena_printf(a, "%s,40", fp));
	assert_int_equal(cursor_offset_decode(a, cursor_offset_encode(a, fp, 0), fp, 100), 0);
	assert_int_equal(cursor_offset_decode(a, cursor_offset_encode(a, fp, 40), fp, 100), 40);
	assert_int_equal(cursor_offset_decode(a, cursor_offset_encode(a, fp, 100), fp, 100), 100);
	assert_int_equal(cursor_offset_decode(a, cursor_offset_encode(a, fp, 40), other, 100), -1);
	for (size_t i = 0; i < N(bad); i++)
		if (cursor_offset_decode(a, bad[i], fp, 100) != -1)
			fail_msg("offset cursor %zu accepted", i);
	arena_free(a);
}

static void test_keyset(void **state)
{
	struct arena *a = arena_new();
	const char *fp = cursor_fingerprint(a, "filters");
	long long us = 0, id = 0;
	static const char *const malformed[] = {
	        "", "1", "1,", ",1", "1,0", "1,-1", "1,x", "x,1", "1,2,", "1,2,abc",
	        "1,2,0123456789ABCDEF", "1,2,0123456789abcdef0", "1,2,0123456789abcde", "1 ,2",
	        "99999999999999999999,1", "1,99999999999999999999", "+1,2", "1,+2",
	};

	(void)state;
	assert_string_equal(cursor_decode(a, cursor_keyset_encode(a, "1732700000123456", "42", NULL)),
	                    "1732700000123456,42");
	assert_string_equal(cursor_decode(a, cursor_keyset_encode(a, "5", "6", "")), "5,6");
	assert_string_equal(cursor_decode(a, cursor_keyset_encode(a, "5", "6", fp)),
	                    arena_printf(a, "5,6,%s", fp));

	assert_int_equal(cursor_keyset_decode(a, cursor_keyset_encode(a, "-1500000", "7", NULL), NULL,
	                                      &us, &id),
	                 0);
	assert_true(us == -1500000 && id == 7);
	assert_int_equal(cursor_keyset_decode(a, cursor_keyset_encode(a, "10", "3", fp), fp, &us, &id),
	                 0);
	assert_true(us == 10 && id == 3);
	/* well formed, other filters: -2 both ways */
	assert_int_equal(cursor_keyset_decode(a, cursor_keyset_encode(a, "10", "3", fp), NULL, &us, &id),
	                 -2);
	assert_int_equal(cursor_keyset_decode(a, cursor_keyset_encode(a, "10", "3", NULL), fp, &us, &id),
	                 -2);
	assert_int_equal(cursor_keyset_decode(a, cursor_keyset_encode(a, "10", "3", fp),
	                                      cursor_fingerprint(a, "other"), &us, &id),
	                 -2);
	for (size_t i = 0; i < N(malformed); i++)
		if (cursor_keyset_decode(a, forge(a, key1, malformed[i]), NULL, &us, &id) != -1)
			fail_msg("keyset payload \"%s\" accepted", malformed[i]);
	assert_int_equal(cursor_keyset_decode(a, forge(a, key2, "1,2"), NULL, &us, &id), -1);
	assert_int_equal(cursor_keyset_decode(a, NULL, NULL, &us, &id), -1);
	arena_free(a);
}

static void test_us_timestamp(void **state)
{
	static const struct {
		long long us;
		const char *want;
	} rows[] = {
	        {0, "1970-01-01 00:00:00.000000+00"},
	        {1732700000123456LL, "2024-11-27 09:33:20.123456+00"},
	        {-1, "1969-12-31 23:59:59.999999+00"},
	        {-1500000, "1969-12-31 23:59:58.500000+00"},
	        {253402300799999999LL, "9999-12-31 23:59:59.999999+00"},
	        {-62135596800000000LL, "0001-01-01 00:00:00.000000+00"},
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(rows); i++)
		assert_string_equal(cursor_us_timestamp(a, rows[i].us), rows[i].want);
	assert_null(cursor_us_timestamp(a, 253402300800000000LL));  /* year 10000 */
	assert_null(cursor_us_timestamp(a, -62135596800000001LL)); /* year 0 */
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_encode_rejects_bad_payload),
	        cmocka_unit_test(test_tampered),  cmocka_unit_test(test_wrong_key),
	        cmocka_unit_test(test_malformed), cmocka_unit_test(test_signed_bad_payload),
	        cmocka_unit_test(test_no_key),    cmocka_unit_test(test_fingerprint),
	        cmocka_unit_test(test_offset),    cmocka_unit_test(test_keyset),
	        cmocka_unit_test(test_us_timestamp),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
