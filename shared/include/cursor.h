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

#endif
