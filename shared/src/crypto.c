/* crypto.c - hashes, HMAC, randomness and base64 over OpenSSL libcrypto. */
#include "crypto.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "arena.h"

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The kernel's CSPRNG directly: RAND_bytes would load OpenSSL's providers
 * and configuration, a visible share of a cold start that only needs a
 * request id. */
int crypto_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

void crypto_sha256(const void *data, size_t n, unsigned char out[32])
{
	unsigned int len = 32;

	if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1)
		memset(out, 0, 32);
}

void crypto_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                        unsigned char out[32])
{
	static const unsigned char empty[1];
	unsigned int len = 32;

	if (klen > INT_MAX || HMAC(EVP_sha256(), klen ? key : empty, (int)klen, msg ? msg : empty,
	                           mlen, out, &len) == NULL)
		memset(out, 0, 32);
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

char *crypto_hex(struct arena *a, const void *data, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;
	char *out = arena_alloc(a, 2 * n + 1);

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}

char *crypto_b64_encode(struct arena *a, const void *data, size_t n, bool url)
{
	const char *alpha = url ? b64_url : b64_std;
	const unsigned char *p = data;
	char *out = arena_alloc(a, (n + 2) / 3 * 4 + 1);
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];

		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		out[o++] = alpha[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)p[i] << 16;

		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		if (!url) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;

		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		if (!url)
			out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

static int b64_value(unsigned char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/* Strict: only the chosen alphabet, '=' only as correct final padding, and
 * the unused low bits of the last character must be zero (one encoding per
 * byte string). */
unsigned char *crypto_b64_decode(struct arena *a, const char *s, size_t len, bool url,
                                 size_t *outlen)
{
	size_t data_len = len, o = 0;
	unsigned char *out;
	unsigned acc = 0;
	int bits = 0;

	if (s == NULL)
		return NULL;
	/* Padding: only when the whole is a multiple of 4, one or two '='. */
	while (data_len > 0 && s[data_len - 1] == '=')
		data_len--;
	if (data_len != len) {
		size_t pad = len - data_len;

		if (len % 4 != 0 || pad > 2 || (data_len % 4) + pad != 4)
			return NULL;
	}
	if (data_len % 4 == 1)
		return NULL;
	out = arena_alloc(a, data_len / 4 * 3 + 3 + 1);
	for (size_t i = 0; i < data_len; i++) {
		int v = b64_value((unsigned char)s[i], url);

		if (v < 0)
			return NULL;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return NULL;
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}
