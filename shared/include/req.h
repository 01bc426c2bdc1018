/* req.h - the request every handler sees, whatever platform it came from.
 *
 * Adapters (event.c, rt_http.c) build a struct req with req_init() and the
 * req_set_* / req_add_* calls; handlers read it with the getters. All strings
 * are borrowed from req->arena and valid until the response has been sent.
 */
#ifndef REQ_H
#define REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv.h"

struct arena;
struct res;
typedef struct cJSON cJSON;

/* What the request came from (event.c sets it; HTTP mode is REQ_HTTP). */
enum req_kind {
	REQ_HTTP,         /* plain HTTP (server mode) */
	REQ_APIGW_V1,     /* API Gateway REST proxy */
	REQ_APIGW_V2,     /* API Gateway HTTP API (payload 2.0) */
	REQ_TENCENT_APIGW,/* Tencent API Gateway trigger */
	REQ_DIRECT,       /* direct-invoke JSON {"method","path",...} */
	REQ_S3,           /* S3 / COS object event: method "EVENT", path "/events/s3" */
	REQ_SCHEDULE,     /* EventBridge / SCF timer: method "EVENT", path "/events/schedule" */
};

/* Per-invocation context from the platform. */
struct req_ctx {
	char request_id[80];   /* platform id, or generated */
	int64_t deadline_ms;   /* epoch ms, 0 if unknown */
	const char *function;  /* function name (fn_main's app name) */
};

struct req {
	struct arena *arena;
	enum req_kind kind;
	const char *method;     /* upper-case, e.g. "GET"; "EVENT" for events */
	const char *path;       /* raw path, no query; percent escapes kept */
	const char *raw_query;  /* without '?', "" when none */
	struct kvlist headers;  /* names lower-cased, repeats kept */
	struct kvlist query;    /* decoded */
	struct kvlist cookies;  /* from every Cookie header (and v2 "cookies") */
	struct kvlist params;   /* path parameters, set by the router (decoded) */
	const unsigned char *body; /* NUL-terminated copy; may hold NULs */
	size_t body_len;
	const char *source_ip;  /* "" when unknown */
	struct req_ctx ctx;
	const cJSON *event;     /* the raw event for REQ_S3/REQ_SCHEDULE/REQ_DIRECT; borrowed */

	/* private */
	cJSON *json_;           /* parsed body cache, freed with the arena */
	bool form_parsed_;
	struct kvlist form_;
};

void req_init(struct req *r, struct arena *a);

/* Builders used by adapters. Values are copied into the arena. */
void req_set_method(struct req *r, const char *method);
/* Splits "path?query" when target contains '?'. Returns -1 on a malformed
 * query escape (callers answer 400). */
int req_set_target(struct req *r, const char *path, const char *query);
/* Adds one header; a Cookie header also fills r->cookies. */
void req_add_header(struct req *r, const char *name, const char *value);
void req_set_body(struct req *r, const void *body, size_t len);

/* Getters. Strings are borrowed; NULL when absent. */
const char *req_header(const struct req *r, const char *name);
const char *req_query(const struct req *r, const char *name);
const char *req_cookie(const struct req *r, const char *name);
const char *req_param(const struct req *r, const char *name);
/* Field of an application/x-www-form-urlencoded body (parsed on first use). */
const char *req_form(struct req *r, const char *name);

/* The client's address for rate limits and counting (arena-owned; "" when
 * unknown). From a platform event it is the platform's sourceIp (API
 * Gateway's, or the local gateway's peer address): X-Forwarded-For is the
 * client's to write there and is ignored. In HTTP mode it is the peer
 * address, or with TRUST_PROXY=1 (behind Knative's or Cloud Run's proxy) the
 * last X-Forwarded-For entry, the one that proxy appended. */
const char *req_client_ip(const struct req *r);

/* Typed, range-checked getters: return 0 and set *out, or -1 after filling
 * res with a 4xx JSON error naming the parameter (400 invalid_parameter). */
int req_param_u64(struct req *r, struct res *res, const char *name,
		  uint64_t min, uint64_t max, uint64_t *out);
/* Missing query parameter -> *out = def. */
int req_query_u64(struct req *r, struct res *res, const char *name,
		  uint64_t def, uint64_t min, uint64_t max, uint64_t *out);

#endif
