/* cursor.h - opaque, tamper-evident page cursors.
 *
 * A cursor is base64url(payload) "." base64url(HMAC-SHA256(APP_SECRET,
 * payload)[0..16)). Handlers choose the payload (e.g. "1732700000123456,42"
 * for a keyset on published_at, id); a tampered or malformed cursor decodes
 * to NULL and the handler answers 400 invalid_cursor.
 */
#ifndef CURSOR_H
#define CURSOR_H

#include <stddef.h>

struct arena;

char *cursor_encode(struct arena *a, const char *payload);
/* Payload (arena-owned) or NULL. */
char *cursor_decode(struct arena *a, const char *cursor);

/* Fingerprints bind a cursor to the query or filters it was issued for:
 * CURSOR_FP_HEX lower-case hex digits of SHA-256(text). Arena-owned. */
#define CURSOR_FP_HEX 16
char *cursor_fingerprint(struct arena *a, const char *text);

/* Offset cursors (ranked lists, not a keyset): payload "<fp>,<offset>".
 * The cursor for offset under fingerprint fp (arena); NULL on failure. */
char *cursor_offset_encode(struct arena *a, const char *fp, long offset);
/* The offset (0..max) a cursor issued under fp carries; -1 when it is
 * tampered, malformed, issued under another fingerprint or beyond max. */
long cursor_offset_decode(struct arena *a, const char *cursor, const char *fp, long max);

/* Keyset cursors on (timestamp, id): payload "<epoch us>,<id>[,<fp>]",
 * the fingerprint part only when fp is neither NULL nor "". us and id are
 * decimal text as the query returned them. Arena-owned; NULL on failure. */
char *cursor_keyset_encode(struct arena *a, const char *us, const char *id, const char *fp);
/* A keyset cursor back to its epoch microseconds and id (id >= 1): 0; -1
 * when tampered or malformed; -2 when well formed but issued under another
 * fingerprint than fp (NULL or "": none). */
int cursor_keyset_decode(struct arena *a, const char *cursor, const char *fp, long long *us,
                         long long *id);
/* Epoch microseconds as an exact UTC timestamp literal
 * "YYYY-MM-DD HH:MM:SS.ffffff+00" (arena); NULL outside years 1..9999. */
char *cursor_us_timestamp(struct arena *a, long long us);

#endif
