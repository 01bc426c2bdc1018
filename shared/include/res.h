/* res.h - the response a handler fills in.
 *
 * Handlers return an HTTP status; the res_* helpers set the body and return
 * the status they set, so a handler can `return res_json(res, 200, obj);`.
 * Body and headers are borrowed from res->arena.
 */
#ifndef RES_H
#define RES_H

#include <stdbool.h>
#include <stddef.h>

#include "kv.h"

struct arena;
typedef struct cJSON cJSON;

struct res {
	struct arena *arena;
	int status;           /* 0 until set */
	struct kvlist headers;/* as sent; Set-Cookie may repeat */
	const char *body;     /* may hold NULs when binary */
	size_t body_len;
	bool binary;          /* send base64-encoded through event adapters */
};

void res_init(struct res *r, struct arena *a);

void res_header(struct res *r, const char *name, const char *value);
/* Replaces earlier values of name. */
void res_header_set(struct res *r, const char *name, const char *value);

/* Takes ownership of root (deleted with the arena). Sets Content-Type
 * application/json. Returns status. */
int res_json(struct res *r, int status, cJSON *root);
/* Body is copied. */
int res_body(struct res *r, int status, const char *content_type,
	     const void *body, size_t len, bool binary);
/* Empty body (e.g. 204). */
int res_empty(struct res *r, int status);

/* {"error":{"code":code,"message":message,"field":field}}; field may be NULL.
 * Returns status. */
int res_error(struct res *r, int status, const char *code, const char *message,
	      const char *field);
int res_errorf(struct res *r, int status, const char *code, const char *field,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Reason phrase for a status ("Not Found"); "Unknown" for others. */
const char *res_reason(int status);

#endif
