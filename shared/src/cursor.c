/* cursor.c - opaque, tamper-evident page cursors (payload "." MAC). */
#include "cursor.h"

#include <stdbool.h>
#include <string.h>

#include "arena.h"
#include "config.h"
#include "crypto.h"
#include "log.h"

/* Truncated HMAC-SHA256: 128 bits. */
#define CURSOR_MAC_LEN 16
/* Cursors come from clients: refuse long ones before any work. */
#define CURSOR_MAX_LEN 1024

/* Payloads are printable ASCII without '.', non-empty. */
static bool payload_ok(const char *p, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '.')
			return false;
	}
	return true;
}

static const char *cursor_key(void)
{
	return g_cfg.app_secret;
}

char *cursor_encode(struct arena *a, const char *payload)
{
	unsigned char mac[32];
	const char *key = cursor_key();
	size_t n = payload ? strlen(payload) : 0;

	if (key == NULL) {
		log_error("cursor_encode: no APP_SECRET loaded");
		return NULL;
	}
	if (!payload_ok(payload, n) || n > CURSOR_MAX_LEN / 2) {
		log_error("cursor_encode: payload must be printable ASCII without '.'");
		return NULL;
	}
	crypto_hmac_sha256(key, strlen(key), payload, n, mac);
	return arena_printf(a, "%s.%s", crypto_b64_encode(a, payload, n, true),
	                    crypto_b64_encode(a, mac, CURSOR_MAC_LEN, true));
}

char *cursor_decode(struct arena *a, const char *cursor)
{
	unsigned char want[32];
	const char *key = cursor_key();
	const char *dot;
	unsigned char *payload, *mac;
	size_t len, plen, mlen;

	if (key == NULL || cursor == NULL)
		return NULL;
	len = strnlen(cursor, CURSOR_MAX_LEN + 1);
	if (len > CURSOR_MAX_LEN)
		return NULL;
	dot = memchr(cursor, '.', len);
	if (dot == NULL || memchr(dot + 1, '.', len - (size_t)(dot - cursor) - 1) != NULL)
		return NULL;
	payload = crypto_b64_decode(a, cursor, (size_t)(dot - cursor), true, &plen);
	mac = crypto_b64_decode(a, dot + 1, len - (size_t)(dot - cursor) - 1, true, &mlen);
	if (payload == NULL || mac == NULL || mlen != CURSOR_MAC_LEN)
		return NULL;
	crypto_hmac_sha256(key, strlen(key), payload, plen, want);
	if (!crypto_equal(want, mac, CURSOR_MAC_LEN))
		return NULL;
	if (!payload_ok((const char *)payload, plen))
		return NULL;
	return (char *)payload;
}
