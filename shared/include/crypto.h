/* crypto.h - hashes, HMAC, randomness and base64 over OpenSSL libcrypto. */
#ifndef CRYPTO_H
#define CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

/* Fills buf from the OS CSPRNG. Returns 0 or -1. */
int crypto_random(void *buf, size_t n);
void crypto_sha256(const void *data, size_t n, unsigned char out[32]);
void crypto_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
			unsigned char out[32]);
/* Constant-time equality of two buffers of the same length. */
bool crypto_equal(const void *a, const void *b, size_t n);

/* Lower-case hex of n bytes, arena-owned. */
char *crypto_hex(struct arena *a, const void *data, size_t n);
/* Standard (url=false, padded) or URL-safe (url=true, unpadded) base64. */
char *crypto_b64_encode(struct arena *a, const void *data, size_t n, bool url);
/* Accepts the alphabet chosen by url, padding optional. NULL when invalid.
 * The result is NUL-terminated; *outlen excludes it. */
unsigned char *crypto_b64_decode(struct arena *a, const char *s, size_t len, bool url,
				 size_t *outlen);

#endif
