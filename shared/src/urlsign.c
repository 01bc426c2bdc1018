/* urlsign.c - HMAC-signed, expiring URLs for the local object store.
 *
 * signature = hex(HMAC-SHA256(APP_SECRET, method "\n" key "\n" expires)).
 * The three parts cannot run into each other: a method has no newline, a
 * valid key has no control character and expires is decimal digits only.
 */
#include "urlsign.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "config.h"
#include "crypto.h"
#include "json.h"

/* Like S3 presigned URLs: at most a week. */
#define URLSIGN_MAX_TTL (7L * 24 * 3600)
/* S3's key limit, in bytes. */
#define URLSIGN_MAX_KEY 1024
/* "9223372036854775807" */
#define URLSIGN_MAX_EXP_DIGITS 19

static bool method_valid(const char *method)
{
	if (method == NULL || *method == '\0' || strlen(method) > 16)
		return false;
	for (const char *p = method; *p; p++)
		if (*p < 'A' || *p > 'Z')
			return false;
	return true;
}

bool urlsign_key_valid(const char *key)
{
	size_t n, seg = 0;

	if (key == NULL)
		return false;
	n = strlen(key);
	if (n == 0 || n > URLSIGN_MAX_KEY || json_utf8_len(key) < 0)
		return false;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)key[i];

		if (c == '/' || c == '\0') {
			size_t len = i - seg;

			/* empty (leading "/", "//", trailing "/"), "." and ".." */
			if (len == 0 || (len == 1 && key[seg] == '.') ||
			    (len == 2 && key[seg] == '.' && key[seg + 1] == '.'))
				return false;
			seg = i + 1;
			continue;
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			return false;
	}
	return true;
}

/* The MAC over method, key and expires (as text) with the app secret. */
static int sign(const char *method, const char *key, const char *expires, unsigned char mac[32])
{
	const char *secret = g_cfg.app_secret;
	struct arena *a = NULL;
	char *msg;
	int rc = -1;

	if (secret == NULL || *secret == '\0')
		goto out;
	a = arena_new();
	msg = arena_printf(a, "%s\n%s\n%s", method, key, expires);
	crypto_hmac_sha256(secret, strlen(secret), msg, strlen(msg), mac);
	rc = 0;
out:
	arena_free(a);
	return rc;
}

/* key percent-encoded, arena-owned: RFC 3986 unreserved bytes and "/" kept. */
static char *encode_key(struct arena *a, const char *key)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(key), j = 0;
	char *out = arena_alloc(a, 3 * n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)key[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
			out[j++] = (char)c;
		} else {
			out[j++] = '%';
			out[j++] = hex[c >> 4];
			out[j++] = hex[c & 15];
		}
	}
	out[j] = '\0';
	return out;
}

char *urlsign_url(struct arena *a, const char *base, const char *method, const char *key,
                  long ttl_s)
{
	unsigned char mac[32];
	char expires[32];
	long long exp;
	int n;

	if (a == NULL || base == NULL || !method_valid(method) || !urlsign_key_valid(key))
		return NULL;
	if (ttl_s < 0)
		ttl_s = 0;
	if (ttl_s > URLSIGN_MAX_TTL)
		ttl_s = URLSIGN_MAX_TTL;
	exp = (long long)time(NULL) + ttl_s;
	n = snprintf(expires, sizeof(expires), "%lld", exp);
	if (n < 0 || (size_t)n >= sizeof(expires))
		return NULL;
	if (sign(method, key, expires, mac) != 0)
		return NULL;
	return arena_printf(a, "%s/storage/%s?X-Expires=%s&X-Signature=%s", base,
	                    encode_key(a, key), expires, crypto_hex(a, mac, sizeof(mac)));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 64 hex digits (either case) to 32 bytes; -1 when malformed. */
static int parse_signature(const char *s, unsigned char out[32])
{
	if (s == NULL || strlen(s) != 64)
		return -1;
	for (size_t i = 0; i < 32; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Decimal digits only (no sign, no spaces), no overflow. */
static int parse_expires(const char *s, long long *out)
{
	size_t n;
	char *end;
	long long v;

	if (s == NULL)
		return -1;
	n = strlen(s);
	if (n == 0 || n > URLSIGN_MAX_EXP_DIGITS)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

enum urlsign_result urlsign_check(const char *method, const char *key, const char *expires,
                                  const char *signature, time_t now)
{
	unsigned char want[32], got[32];
	long long exp;

	if (!method_valid(method) || !urlsign_key_valid(key) || parse_expires(expires, &exp) != 0 ||
	    parse_signature(signature, got) != 0 || sign(method, key, expires, want) != 0)
		return URLSIGN_BAD;
	if (!crypto_equal(want, got, sizeof(want)))
		return URLSIGN_BAD;
	/* Never longer-lived than urlsign_url can make (a leaked secret aside). */
	if (exp > (long long)now + URLSIGN_MAX_TTL + 60)
		return URLSIGN_BAD;
	if ((long long)now > exp)
		return URLSIGN_EXPIRED;
	return URLSIGN_OK;
}
