/* test_crypto.c - SHA-256 / HMAC vectors, hex, strict base64, random. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "crypto.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

static void test_sha256(void **state)
{
	static const struct {
		const char *in;
		const char *hex;
	} rows[] = {
	        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	};
	struct arena *a = arena_new();
	unsigned char out[32];

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		crypto_sha256(rows[i].in, strlen(rows[i].in), out);
		assert_string_equal(crypto_hex(a, out, 32), rows[i].hex);
	}
	arena_free(a);
}

/* RFC 4231 test cases 1, 2, 6 and 7. */
static void test_hmac(void **state)
{
	unsigned char k1[20], k6[131];
	static const char d6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	static const char d7[] =
	        "This is a test using a larger than block-size key and a larger than "
	        "block-size data. The key needs to be hashed before being used by the HMAC "
	        "algorithm.";
	struct arena *a = arena_new();
	unsigned char out[32];

	(void)state;
	memset(k1, 0x0b, sizeof(k1));
	memset(k6, 0xaa, sizeof(k6));
	crypto_hmac_sha256(k1, sizeof(k1), "Hi There", 8, out);
	assert_string_equal(crypto_hex(a, out, 32),
	                    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out);
	assert_string_equal(crypto_hex(a, out, 32),
	                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	crypto_hmac_sha256(k6, sizeof(k6), d6, strlen(d6), out);
	assert_string_equal(crypto_hex(a, out, 32),
	                    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	crypto_hmac_sha256(k6, sizeof(k6), d7, strlen(d7), out);
	assert_string_equal(crypto_hex(a, out, 32),
	                    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
	/* Empty key and message still give the defined value. */
	crypto_hmac_sha256("", 0, "", 0, out);
	assert_string_equal(crypto_hex(a, out, 32),
	                    "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
	arena_free(a);
}

static void test_equal_and_hex(void **state)
{
	struct arena *a = arena_new();
	static const unsigned char bytes[] = {0x00, 0x01, 0xab, 0xff};

	(void)state;
	assert_true(crypto_equal("abcd", "abcd", 4));
	assert_false(crypto_equal("abcd", "abce", 4));
	assert_false(crypto_equal("xbcd", "abcd", 4));
	assert_true(crypto_equal("a", "b", 0));
	assert_string_equal(crypto_hex(a, bytes, sizeof(bytes)), "0001abff");
	assert_string_equal(crypto_hex(a, bytes, 0), "");
	arena_free(a);
}

/* RFC 4648 section 10 vectors, both alphabets. */
static void test_b64_vectors(void **state)
{
	static const struct {
		const char *in, *std, *url;
	} rows[] = {
	        {"", "", ""},
	        {"f", "Zg==", "Zg"},
	        {"fo", "Zm8=", "Zm8"},
	        {"foo", "Zm9v", "Zm9v"},
	        {"foob", "Zm9vYg==", "Zm9vYg"},
	        {"fooba", "Zm9vYmE=", "Zm9vYmE"},
	        {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
	        {"\xfb\xff\xfe", "+//+", "-__-"},
	};
	struct arena *a = arena_new();
	unsigned char *dec;
	size_t n;

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		size_t len = strlen(rows[i].in);

		assert_string_equal(crypto_b64_encode(a, rows[i].in, len, false), rows[i].std);
		assert_string_equal(crypto_b64_encode(a, rows[i].in, len, true), rows[i].url);
		dec = crypto_b64_decode(a, rows[i].std, strlen(rows[i].std), false, &n);
		assert_non_null(dec);
		assert_int_equal(n, len);
		assert_memory_equal(dec, rows[i].in, len);
		assert_int_equal(dec[n], 0);
		dec = crypto_b64_decode(a, rows[i].url, strlen(rows[i].url), true, &n);
		assert_non_null(dec);
		assert_int_equal(n, len);
		assert_memory_equal(dec, rows[i].in, len);
	}
	arena_free(a);
}

static void test_b64_binary_roundtrip(void **state)
{
	struct arena *a = arena_new();
	unsigned char buf[257], *dec;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7);
	for (size_t len = 0; len <= sizeof(buf); len += 1) {
		for (int url = 0; url <= 1; url++) {
			char *enc = crypto_b64_encode(a, buf, len, url);

			dec = crypto_b64_decode(a, enc, strlen(enc), url, &n);
			assert_non_null(dec);
			assert_int_equal(n, len);
			assert_memory_equal(dec, buf, len);
		}
	}
	arena_free(a);
}

static void test_b64_decode_padding_optional(void **state)
{
	struct arena *a = arena_new();
	size_t n;

	(void)state;
	/* Unpadded standard and padded URL-safe input are accepted. */
	assert_string_equal((char *)crypto_b64_decode(a, "Zg", 2, false, &n), "f");
	assert_string_equal((char *)crypto_b64_decode(a, "Zm8", 3, false, &n), "fo");
	assert_string_equal((char *)crypto_b64_decode(a, "Zg==", 4, true, &n), "f");
	assert_string_equal((char *)crypto_b64_decode(a, "Zm8=", 4, true, &n), "fo");
	/* len is honoured: bytes after it are not read. */
	assert_string_equal((char *)crypto_b64_decode(a, "Zm9v!!!", 4, false, &n), "foo");
	arena_free(a);
}

static void test_b64_decode_rejects(void **state)
{
	static const struct {
		const char *in;
		bool url;
	} rows[] = {
	        {"Z", false},     /* one char left over */
	        {"Zm9vY", false}, /* 4k+1 */
	        {"Zg=", false},   /* short padding */
	        {"Zg===", false}, /* long padding */
	        {"Zm8==", false}, /* too much padding for 3 chars */
	        {"====", false},       {"=", false},
	        {"Z=g=", false},     /* '=' inside */
	        {"Zg==Zg==", false}, /* padding mid-string */
	        {"Zm9v\n", false},   /* whitespace */
	        {"Zm 9v", false},      {"Zm9v*", false},
	        {"-__-", false}, /* URL alphabet in standard mode */
	        {"+//+", true},  /* standard alphabet in URL mode */
	        {"Zh==", false}, /* non-zero unused bits */
	        {"Zm9=", false},       {"Zh", true},
	        {"Zm\xc3\xa9", false},
	};
	struct arena *a = arena_new();
	size_t n;

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		if (crypto_b64_decode(a, rows[i].in, strlen(rows[i].in), rows[i].url, &n) != NULL)
			fail_msg("accepted \"%s\" (url=%d)", rows[i].in, rows[i].url);
	}
	/* An embedded NUL inside len is a bad character. */
	assert_null(crypto_b64_decode(a, "Zm\0v", 4, false, &n));
	arena_free(a);
}

static void test_random(void **state)
{
	unsigned char a[32], b[32], zero[32] = {0};

	(void)state;
	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_int_equal(crypto_random(a, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sha256),
	        cmocka_unit_test(test_hmac),
	        cmocka_unit_test(test_equal_and_hex),
	        cmocka_unit_test(test_b64_vectors),
	        cmocka_unit_test(test_b64_binary_roundtrip),
	        cmocka_unit_test(test_b64_decode_padding_optional),
	        cmocka_unit_test(test_b64_decode_rejects),
	        cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
