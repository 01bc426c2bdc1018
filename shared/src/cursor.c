/* cursor.c - opaque, tamper-evident page cursors (payload "." MAC). */
#include "cursor.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* ---- fingerprints, offset and keyset cursors ---- */

/* The first CURSOR_FP_HEX / 2 bytes of SHA-256(text), in hex. */
char *cursor_fingerprint(struct arena *a, const char *text)
{
	unsigned char h[32];

	crypto_sha256(text, strlen(text), h);
	return crypto_hex(a, h, CURSOR_FP_HEX / 2);
}

/* "<fp>,<offset>" signed. */
char *cursor_offset_encode(struct arena *a, const char *fp, long offset)
{
	return cursor_encode(a, arena_printf(a, "%s,%ld", fp, offset));
}

/* fp, a comma, then decimal digits only. */
long cursor_offset_decode(struct arena *a, const char *cursor, const char *fp, long max)
{
	const char *p = cursor_decode(a, cursor);
	size_t fl = strlen(fp);
	char *end;
	long off;

	if (p == NULL || strncmp(p, fp, fl) != 0 || p[fl] != ',' || p[fl + 1] < '0' ||
	    p[fl + 1] > '9')
		return -1;
	off = strtol(p + fl + 1, &end, 10);
	if (*end != '\0' || off < 0 || off > max)
		return -1;
	return off;
}

/* "<us>,<id>" or "<us>,<id>,<fp>" signed. */
char *cursor_keyset_encode(struct arena *a, const char *us, const char *id, const char *fp)
{
	bool with_fp = fp != NULL && fp[0] != '\0';

	return cursor_encode(a, arena_printf(a, "%s,%s%s%s", us, id, with_fp ? "," : "",
	                                     with_fp ? fp : ""));
}

/* A signed integer, a comma, a positive integer, then an optional
 * fingerprint of exactly CURSOR_FP_HEX lower-case hex digits. */
int cursor_keyset_decode(struct arena *a, const char *cursor, const char *fp, long long *us,
                         long long *id)
{
	const char *p = cursor_decode(a, cursor);
	const char *have_fp = "";
	char *end;

	if (!p || !((p[0] >= '0' && p[0] <= '9') || p[0] == '-'))
		return -1;
	errno = 0;
	*us = strtoll(p, &end, 10);
	if (errno || end == p || *end != ',' || !(end[1] >= '0' && end[1] <= '9'))
		return -1;
	p = end + 1;
	*id = strtoll(p, &end, 10);
	if (errno || *id < 1)
		return -1;
	if (*end == ',') {
		have_fp = end + 1;
		if (strlen(have_fp) != CURSOR_FP_HEX ||
		    strspn(have_fp, "0123456789abcdef") != CURSOR_FP_HEX)
			return -1;
	} else if (*end) {
		return -1;
	}
	if (strcmp(have_fp, fp ? fp : "") != 0)
		return -2;
	return 0;
}

/* Whole seconds through gmtime_r, the microseconds printed exactly (no
 * float rounding: a page never skips or repeats a row). */
char *cursor_us_timestamp(struct arena *a, long long us)
{
	long long secs = us / 1000000, frac = us % 1000000;
	struct tm tm;
	time_t t;

	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	t = (time_t)secs;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
		return NULL;
	return arena_printf(a, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", tm.tm_year + 1900,
	                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}
