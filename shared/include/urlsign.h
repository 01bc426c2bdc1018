/* urlsign.h - HMAC-signed, expiring URLs for the local object store.
 *
 * The file:// storage backend hands out URLs the gateway serves at
 * /storage/<key>:  <base>/storage/<key>?X-Expires=<epoch>&X-Signature=<hex>
 * where the signature is HMAC-SHA256(APP_SECRET, method "\n" key "\n"
 * expires), hex. A URL signed for PUT does not work for GET and vice versa.
 * Keys are the object keys as stored (e.g. "photos/ab12/orig.jpg"); they must
 * be relative, without "..", empty segments, control characters or
 * backslashes (urlsign_key_valid).
 */
#ifndef URLSIGN_H
#define URLSIGN_H

#include <stdbool.h>
#include <time.h>

struct arena;

bool urlsign_key_valid(const char *key);

/* The full URL (arena-owned) for method ("GET" / "PUT") on key, valid for
 * ttl_s seconds from now; NULL when the key is invalid. base has no trailing
 * slash, e.g. "http://127.0.0.1:8080". The key is percent-encoded per
 * segment. */
char *urlsign_url(struct arena *a, const char *base, const char *method, const char *key,
		  long ttl_s);

enum urlsign_result {
	URLSIGN_OK,
	URLSIGN_BAD,      /* missing, malformed or wrong signature (403) */
	URLSIGN_EXPIRED,  /* well signed but past X-Expires (403) */
};

/* Checks a request: key as decoded from the path, the two query values. */
enum urlsign_result urlsign_check(const char *method, const char *key, const char *expires,
				  const char *signature, time_t now);

#endif
