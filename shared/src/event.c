/* event.c - platform events to struct req, and struct res back to events.
 *
 * Detection looks at which keys are present; validation then checks their
 * types, so an event of a known kind with a wrong field is a 400 naming the
 * field rather than "unknown event". Query parameters that arrive decoded
 * (v1, Tencent, direct objects) are re-encoded into a raw query string and
 * parsed once by req_set_target(), so every kind is decoded exactly once.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "crypto.h"
#include "event.h"
#include "json.h"
#include "req.h"
#include "res.h"

/* Longest method token accepted ("PROPPATCH" fits). */
#define METHOD_MAX 16

/* A growable string in the request arena (query building). */
struct sbuf {
	struct arena *a;
	char *p;
	size_t len, cap;
};

static void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = arena_alloc(b->a, cap);
		if (b->len)
			memcpy(np, b->p, b->len);
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Appends s percent-encoded (everything but RFC 3986 unreserved). */
static void sbuf_add_escaped(struct sbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			sbuf_add(b, s, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			sbuf_add(b, e, 3);
		}
	}
}

static int invalid(struct res *res, const char *field, const char *msg)
{
	return res_error(res, 400, "invalid_event", msg, field);
}

/* Object member by exact name; NULL when absent or JSON null. */
static const cJSON *member(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsNull(v) ? NULL : v;
}

static bool has(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name) != NULL;
}

/* Optional object member: 0 with *out NULL when absent, -1 when not an object. */
static int opt_object(const cJSON *obj, const char *name, const cJSON **out)
{
	const cJSON *v = member(obj, name);
	*out = NULL;
	if (!v)
		return 0;
	if (!cJSON_IsObject(v))
		return -1;
	*out = v;
	return 0;
}

/* Optional string member: 0 with *out NULL when absent, -1 when not a string. */
static int opt_string(const cJSON *obj, const char *name, const char **out)
{
	const cJSON *v = member(obj, name);
	*out = NULL;
	if (!v)
		return 0;
	if (!cJSON_IsString(v) || !v->valuestring)
		return -1;
	*out = v->valuestring;
	return 0;
}

/* Text of a scalar (string, number, bool); NULL for anything else. */
static const char *scalar_text(struct arena *a, const cJSON *v)
{
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d >= -9007199254740992.0 && d <= 9007199254740992.0 &&
		    d == (double)(long long)d)
			return arena_printf(a, "%lld", (long long)d);
		return arena_printf(a, "%.17g", d);
	}
	return NULL;
}

static int set_method(struct req *req, struct res *res, const cJSON *ev, const char *field)
{
	const char *m = NULL;
	char up[METHOD_MAX + 1];
	size_t i;

	if (opt_string(ev, field, &m) < 0 || !m || !*m)
		return invalid(res, field, "method must be a non-empty string"), -1;
	for (i = 0; m[i]; i++) {
		char c = m[i];
		if (i >= METHOD_MAX || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return invalid(res, field, "method is not a valid HTTP method"), -1;
		up[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
	}
	up[i] = '\0';
	req_set_method(req, up);
	return 0;
}

static int check_path(struct res *res, const char *path, const char *field)
{
	if (!path || path[0] != '/')
		return invalid(res, field, "path must be a string starting with '/'"), -1;
	for (const char *p = path; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return invalid(res, field, "path contains control characters"), -1;
	}
	return 0;
}

static int set_target(struct req *req, struct res *res, const char *path, const char *query,
                      const char *field)
{
	if (check_path(res, path, field) < 0)
		return -1;
	if (req_set_target(req, path, query && *query ? query : NULL) < 0)
		return invalid(res, field, "query string has a malformed percent escape"), -1;
	return 0;
}

/* Adds name=value pairs of a decoded parameter object to q. Values may be
 * scalars or arrays of scalars (repeats); skip names found in skip. */
static int query_from_object(struct sbuf *q, const cJSON *obj, const cJSON *skip)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj)
	{
		const cJSON *vals = it;
		const cJSON *v;
		if (!it->string || (skip && cJSON_GetObjectItemCaseSensitive(skip, it->string)))
			continue;
		if (cJSON_IsNull(it))
			continue;
		if (!cJSON_IsArray(it)) {
			const char *t = scalar_text(q->a, it);
			if (!t)
				return -1;
			if (q->len)
				sbuf_add(q, "&", 1);
			sbuf_add_escaped(q, it->string);
			sbuf_add(q, "=", 1);
			sbuf_add_escaped(q, t);
			continue;
		}
		cJSON_ArrayForEach(v, vals)
		{
			const char *t = scalar_text(q->a, v);
			if (!t)
				return -1;
			if (q->len)
				sbuf_add(q, "&", 1);
			sbuf_add_escaped(q, it->string);
			sbuf_add(q, "=", 1);
			sbuf_add_escaped(q, t);
		}
	}
	return 0;
}

/* Query from a "single" object and an optional "multi" object (arrays);
 * names present in multi are taken from there only. */
static int query_build(struct req *req, struct res *res, const cJSON *ev, const char *single_name,
                       const char *multi_name, const char **out)
{
	struct sbuf q = {req->arena, NULL, 0, 0};
	const cJSON *single = NULL, *multi = NULL;

	if (opt_object(ev, single_name, &single) < 0)
		return invalid(res, single_name, "must be an object"), -1;
	if (multi_name && opt_object(ev, multi_name, &multi) < 0)
		return invalid(res, multi_name, "must be an object"), -1;
	if (multi && query_from_object(&q, multi, NULL) < 0)
		return invalid(res, multi_name, "values must be arrays of strings"), -1;
	if (single && query_from_object(&q, single, multi) < 0)
		return invalid(res, single_name, "values must be strings"), -1;
	*out = q.p ? q.p : "";
	return 0;
}

/* Adds headers of obj (scalar values, or arrays when multi). Names found in
 * skip (case-insensitively) are left out: they came from the multi form. */
static int headers_from_object(struct req *req, const cJSON *obj, const cJSON *skip, bool multi,
                               const char *ignore)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj)
	{
		const cJSON *v;
		if (!it->string || !*it->string)
			return -1;
		if (cJSON_IsNull(it))
			continue;
		if (skip && cJSON_GetObjectItem(skip, it->string))
			continue;
		if (ignore && strcasecmp(it->string, ignore) == 0)
			continue;
		if (multi && cJSON_IsArray(it)) {
			cJSON_ArrayForEach(v, it)
			{
				const char *t = scalar_text(req->arena, v);
				if (!t)
					return -1;
				req_add_header(req, it->string, t);
			}
			continue;
		}
		const char *t = scalar_text(req->arena, it);
		if (!t)
			return -1;
		req_add_header(req, it->string, t);
	}
	return 0;
}

static int body_set(struct req *req, struct res *res, const cJSON *ev, size_t max_body, bool direct)
{
	const cJSON *body = member(ev, "body");
	const cJSON *b64v = member(ev, "isBase64Encoded");
	bool b64 = false;

	if (b64v) {
		if (!cJSON_IsBool(b64v))
			return invalid(res, "isBase64Encoded", "must be a boolean"), -1;
		b64 = cJSON_IsTrue(b64v);
	}
	if (!body)
		return 0;
	if (!cJSON_IsString(body)) {
		char *text;
		size_t len;
		if (!direct)
			return invalid(res, "body", "must be a string"), -1;
		/* Direct invoke: any JSON value is the body, sent as JSON. */
		text = cJSON_PrintUnformatted(body);
		if (!text)
			return res_error(res, 500, "internal_error", "out of memory", NULL), -1;
		len = strlen(text);
		if (len > max_body) {
			free(text);
			return res_error(res, 413, "payload_too_large", "request body is too large",
			                 NULL),
			       -1;
		}
		req_set_body(req, text, len);
		free(text);
		if (!req_header(req, "content-type"))
			req_add_header(req, "content-type", "application/json");
		return 0;
	}

	const char *s = body->valuestring;
	size_t len = strlen(s);
	if (!b64) {
		if (len > max_body)
			return res_error(res, 413, "payload_too_large", "request body is too large",
			                 NULL),
			       -1;
		req_set_body(req, s, len);
		return 0;
	}
	/* Refuse before decoding when even the decoded size must be too big. */
	if (len / 4 * 3 > max_body + 3)
		return res_error(res, 413, "payload_too_large", "request body is too large", NULL),
		       -1;
	size_t outlen = 0;
	unsigned char *raw = crypto_b64_decode(req->arena, s, len, false, &outlen);
	if (!raw)
		return invalid(res, "body", "body is not valid base64"), -1;
	if (outlen > max_body)
		return res_error(res, 413, "payload_too_large", "request body is too large", NULL),
		       -1;
	req_set_body(req, raw, outlen);
	return 0;
}

static void set_request_id(struct req *req, const char *id)
{
	if (id && *id && !req->ctx.request_id[0])
		snprintf(req->ctx.request_id, sizeof(req->ctx.request_id), "%s", id);
}

static void set_source_ip(struct req *req, const char *ip)
{
	if (ip)
		req->source_ip = arena_strdup(req->arena, ip);
}

/* API Gateway REST proxy (v1). */
static int from_v1(const cJSON *ev, struct req *req, struct res *res, size_t max_body)
{
	const cJSON *ctx = NULL, *ident = NULL, *hdrs = NULL, *mhdrs = NULL;
	const char *path = NULL, *query = NULL, *id = NULL, *ip = NULL;

	req->kind = REQ_APIGW_V1;
	if (set_method(req, res, ev, "httpMethod") < 0)
		return -1;
	if (opt_object(ev, "requestContext", &ctx) < 0)
		return invalid(res, "requestContext", "must be an object"), -1;
	if (ctx && opt_object(ctx, "identity", &ident) < 0)
		return invalid(res, "requestContext.identity", "must be an object"), -1;
	if (ctx && opt_string(ctx, "requestId", &id) < 0)
		return invalid(res, "requestContext.requestId", "must be a string"), -1;
	if (ident && opt_string(ident, "sourceIp", &ip) < 0)
		return invalid(res, "requestContext.identity.sourceIp", "must be a string"), -1;
	if (opt_string(ev, "path", &path) < 0)
		return invalid(res, "path", "must be a string"), -1;
	if (query_build(req, res, ev, "queryStringParameters", "multiValueQueryStringParameters",
	                &query) < 0)
		return -1;
	if (set_target(req, res, path, query, "path") < 0)
		return -1;
	if (opt_object(ev, "headers", &hdrs) < 0)
		return invalid(res, "headers", "must be an object"), -1;
	if (opt_object(ev, "multiValueHeaders", &mhdrs) < 0)
		return invalid(res, "multiValueHeaders", "must be an object"), -1;
	if (mhdrs && headers_from_object(req, mhdrs, NULL, true, NULL) < 0)
		return invalid(res, "multiValueHeaders", "values must be arrays of strings"), -1;
	if (hdrs && headers_from_object(req, hdrs, mhdrs, false, NULL) < 0)
		return invalid(res, "headers", "values must be strings"), -1;
	set_request_id(req, id);
	set_source_ip(req, ip);
	return body_set(req, res, ev, max_body, false);
}

/* API Gateway HTTP API, payload format 2.0. */
static int from_v2(const cJSON *ev, struct req *req, struct res *res, size_t max_body)
{
	const cJSON *ctx = NULL, *http = NULL, *hdrs = NULL, *cookies = NULL;
	const char *path = NULL, *raw_path = NULL, *query = NULL, *id = NULL, *ip = NULL;

	req->kind = REQ_APIGW_V2;
	if (opt_object(ev, "requestContext", &ctx) < 0 || !ctx)
		return invalid(res, "requestContext", "must be an object"), -1;
	if (opt_object(ctx, "http", &http) < 0 || !http)
		return invalid(res, "requestContext.http", "must be an object"), -1;
	if (set_method(req, res, http, "method") < 0)
		return -1;
	if (opt_string(ctx, "requestId", &id) < 0)
		return invalid(res, "requestContext.requestId", "must be a string"), -1;
	if (opt_string(http, "sourceIp", &ip) < 0)
		return invalid(res, "requestContext.http.sourceIp", "must be a string"), -1;
	if (opt_string(http, "path", &path) < 0)
		return invalid(res, "requestContext.http.path", "must be a string"), -1;
	if (opt_string(ev, "rawPath", &raw_path) < 0)
		return invalid(res, "rawPath", "must be a string"), -1;
	if (opt_string(ev, "rawQueryString", &query) < 0)
		return invalid(res, "rawQueryString", "must be a string"), -1;
	if (!query || !*query) {
		/* Only decoded parameters given (hand-written events). */
		if (query_build(req, res, ev, "queryStringParameters", NULL, &query) < 0)
			return -1;
	}
	/* rawPath keeps the client's escapes; http.path is the fallback. */
	if (set_target(req, res, raw_path ? raw_path : path, query,
	               raw_path ? "rawPath" : "requestContext.http.path") < 0)
		return -1;
	if (opt_object(ev, "headers", &hdrs) < 0)
		return invalid(res, "headers", "must be an object"), -1;
	cookies = member(ev, "cookies");
	if (cookies && !cJSON_IsArray(cookies))
		return invalid(res, "cookies", "must be an array of strings"), -1;
	/* With a cookies array the Cookie header is rebuilt from it, once. */
	if (hdrs && headers_from_object(req, hdrs, NULL, false, cookies ? "cookie" : NULL) < 0)
		return invalid(res, "headers", "values must be strings"), -1;
	if (cookies && cJSON_GetArraySize(cookies) > 0) {
		struct sbuf c = {req->arena, NULL, 0, 0};
		const cJSON *it;
		cJSON_ArrayForEach(it, cookies)
		{
			if (!cJSON_IsString(it))
				return invalid(res, "cookies", "must be an array of strings"), -1;
			if (c.len)
				sbuf_add(&c, "; ", 2);
			sbuf_add(&c, it->valuestring, strlen(it->valuestring));
		}
		req_add_header(req, "cookie", c.p);
	}
	set_request_id(req, id);
	set_source_ip(req, ip);
	return body_set(req, res, ev, max_body, false);
}

/* Tencent API Gateway trigger (integration request). */
static int from_tencent(const cJSON *ev, struct req *req, struct res *res, size_t max_body)
{
	const cJSON *ctx = NULL, *hdrs = NULL, *hparams = NULL, *qs = NULL;
	const char *path = NULL, *query = NULL, *id = NULL, *ip = NULL;

	req->kind = REQ_TENCENT_APIGW;
	if (set_method(req, res, ev, "httpMethod") < 0)
		return -1;
	if (opt_object(ev, "requestContext", &ctx) < 0)
		return invalid(res, "requestContext", "must be an object"), -1;
	if (ctx && opt_string(ctx, "requestId", &id) < 0)
		return invalid(res, "requestContext.requestId", "must be a string"), -1;
	if (ctx && opt_string(ctx, "sourceIp", &ip) < 0)
		return invalid(res, "requestContext.sourceIp", "must be a string"), -1;
	if (opt_string(ev, "path", &path) < 0)
		return invalid(res, "path", "must be a string"), -1;
	/* "queryString" holds every parameter; "queryStringParameters" only the
	 * ones declared on the API, so it is the fallback. */
	if (opt_object(ev, "queryString", &qs) < 0)
		return invalid(res, "queryString", "must be an object"), -1;
	if (query_build(req, res, ev, qs ? "queryString" : "queryStringParameters", NULL, &query) <
	    0)
		return -1;
	if (set_target(req, res, path, query, "path") < 0)
		return -1;
	if (opt_object(ev, "headers", &hdrs) < 0)
		return invalid(res, "headers", "must be an object"), -1;
	if (opt_object(ev, "headerParameters", &hparams) < 0)
		return invalid(res, "headerParameters", "must be an object"), -1;
	if (hdrs && headers_from_object(req, hdrs, NULL, false, NULL) < 0)
		return invalid(res, "headers", "values must be strings"), -1;
	/* Declared header parameters normally repeat "headers"; add the rest. */
	if (hparams && headers_from_object(req, hparams, hdrs, false, NULL) < 0)
		return invalid(res, "headerParameters", "values must be strings"), -1;
	set_request_id(req, id);
	set_source_ip(req, ip);
	return body_set(req, res, ev, max_body, false);
}

/* {"method","path","query","headers","body","isBase64Encoded"}. */
static int from_direct(const cJSON *ev, struct req *req, struct res *res, size_t max_body)
{
	const cJSON *hdrs = NULL, *q;
	const char *path = NULL, *query = "", *ip = NULL;

	req->kind = REQ_DIRECT;
	req->event = ev;
	if (set_method(req, res, ev, "method") < 0)
		return -1;
	if (opt_string(ev, "path", &path) < 0)
		return invalid(res, "path", "must be a string"), -1;
	q = member(ev, "query");
	if (cJSON_IsString(q)) {
		query = q->valuestring[0] == '?' ? q->valuestring + 1 : q->valuestring;
	} else if (q) {
		if (query_build(req, res, ev, "query", NULL, &query) < 0)
			return -1;
	}
	if (path && strchr(path, '?') && *query)
		return invalid(res, "path", "give the query in \"path\" or \"query\", not both"),
		       -1;
	if (set_target(req, res, path, *query ? query : NULL, "path") < 0)
		return -1;
	if (opt_object(ev, "headers", &hdrs) < 0)
		return invalid(res, "headers", "must be an object"), -1;
	if (hdrs && headers_from_object(req, hdrs, NULL, true, NULL) < 0)
		return invalid(res, "headers", "values must be strings"), -1;
	if (opt_string(ev, "sourceIp", &ip) < 0)
		return invalid(res, "sourceIp", "must be a string"), -1;
	set_source_ip(req, ip);
	return body_set(req, res, ev, max_body, true);
}

static int from_platform_event(const cJSON *ev, struct req *req, struct res *res,
                               enum req_kind kind, const char *path)
{
	req->kind = kind;
	req->event = ev;
	req_set_method(req, "EVENT");
	if (req_set_target(req, path, NULL) < 0)
		return res_error(res, 500, "internal_error", "cannot set event path", NULL), -1;
	return 0;
}

static bool is_s3_event(const cJSON *ev)
{
	const cJSON *recs = cJSON_GetObjectItemCaseSensitive(ev, "Records");
	const cJSON *first = cJSON_GetArrayItem(recs, 0);
	return cJSON_IsArray(recs) && cJSON_IsObject(first) &&
	       (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(first, "s3")) ||
	        cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(first, "cos")));
}

static bool is_schedule_event(const cJSON *ev)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "Type");
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(ev, "source");
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(ev, "detail-type");

	if (cJSON_IsString(type) && strcmp(type->valuestring, "Timer") == 0)
		return true;
	if (cJSON_IsString(src) && strcmp(src->valuestring, "aws.events") == 0)
		return true;
	return cJSON_IsString(dt) && strcmp(dt->valuestring, "Scheduled Event") == 0;
}

static bool is_tencent(const cJSON *ev)
{
	const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(ev, "requestContext");
	return has(ev, "headerParameters") || has(ev, "queryString") ||
	       (cJSON_IsObject(ctx) && has(ctx, "serviceId"));
}

/* Detects the event kind and fills req; 400/413 in res when it cannot. */
int event_to_req(const cJSON *event, struct req *req, struct res *res, size_t max_body)
{
	const cJSON *version;

	if (!cJSON_IsObject(event))
		return invalid(res, NULL, "event must be a JSON object"), -1;
	if (is_s3_event(event))
		return from_platform_event(event, req, res, REQ_S3, "/events/s3");
	if (is_schedule_event(event))
		return from_platform_event(event, req, res, REQ_SCHEDULE, "/events/schedule");
	version = cJSON_GetObjectItemCaseSensitive(event, "version");
	if (cJSON_IsString(version) && strcmp(version->valuestring, "2.0") == 0)
		return from_v2(event, req, res, max_body);
	if (has(event, "httpMethod")) {
		if (is_tencent(event))
			return from_tencent(event, req, res, max_body);
		if (has(event, "requestContext"))
			return from_v1(event, req, res, max_body);
	}
	if (has(event, "method") || (has(event, "path") && !has(event, "httpMethod")))
		return from_direct(event, req, res, max_body);
	return invalid(res, NULL, "unrecognised event shape"), -1;
}

/* ---- responses ---- */

static bool is_set_cookie(const char *name)
{
	return strcasecmp(name, "Set-Cookie") == 0;
}

/* Adds body and isBase64Encoded; binary (or non-UTF-8 text) goes base64. */
static int add_body(cJSON *out, const struct res *res)
{
	const char *body = res->body ? res->body : "";
	size_t len = res->body ? res->body_len : 0;
	bool b64 = res->binary;
	const char *text = body;

	if (!b64 && len) {
		char *copy = arena_memdup(res->arena, body, len);
		if (memchr(body, '\0', len) || json_utf8_len(copy) < 0)
			b64 = true;
		text = copy;
	}
	if (b64)
		text = crypto_b64_encode(res->arena, body, len, false);
	if (!text || !cJSON_AddStringToObject(out, "body", text) ||
	    !cJSON_AddBoolToObject(out, "isBase64Encoded", b64))
		return -1;
	return 0;
}

/* v1 / Tencent headers: one value -> headers, repeats -> multiValueHeaders. */
static int add_headers_multi(cJSON *out, const struct res *res, bool always_multi)
{
	cJSON *h = cJSON_AddObjectToObject(out, "headers");
	cJSON *mh = cJSON_CreateObject();

	if (!h || !mh)
		goto fail;
	for (size_t i = 0; i < res->headers.n; i++) {
		const struct kv *kv = &res->headers.items[i];
		if (kv_count(&res->headers, kv->name) == 1) {
			if (!cJSON_AddStringToObject(h, kv->name, kv->value))
				goto fail;
			continue;
		}
		cJSON *arr = cJSON_GetObjectItem(mh, kv->name);
		if (!arr && !(arr = cJSON_AddArrayToObject(mh, kv->name)))
			goto fail;
		cJSON *s = cJSON_CreateString(kv->value);
		if (!s || !cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			goto fail;
		}
	}
	if (always_multi || mh->child) {
		if (!cJSON_AddItemToObject(out, "multiValueHeaders", mh))
			goto fail;
	} else {
		cJSON_Delete(mh);
	}
	return 0;
fail:
	cJSON_Delete(mh);
	return -1;
}

/* v2 headers: Set-Cookie -> cookies[], other repeats comma-joined. */
static int add_headers_v2(cJSON *out, const struct res *res)
{
	cJSON *h = cJSON_AddObjectToObject(out, "headers");
	cJSON *cookies = cJSON_AddArrayToObject(out, "cookies");

	if (!h || !cookies)
		return -1;
	for (size_t i = 0; i < res->headers.n; i++) {
		const struct kv *kv = &res->headers.items[i];
		if (is_set_cookie(kv->name)) {
			cJSON *s = cJSON_CreateString(kv->value);
			if (!s || !cJSON_AddItemToArray(cookies, s)) {
				cJSON_Delete(s);
				return -1;
			}
			continue;
		}
		cJSON *prev = cJSON_GetObjectItem(h, kv->name);
		if (!prev) {
			if (!cJSON_AddStringToObject(h, kv->name, kv->value))
				return -1;
			continue;
		}
		char *joined = arena_printf(res->arena, "%s, %s", prev->valuestring, kv->value);
		if (!cJSON_SetValuestring(prev, joined))
			return -1;
	}
	return 0;
}

/* Renders res in the response shape of the event kind it answers. */
cJSON *event_from_res(const struct res *res, enum req_kind kind)
{
	cJSON *out = cJSON_CreateObject();
	int status = res->status >= 100 && res->status <= 599 ? res->status : 500;

	if (!out)
		return NULL;
	switch (kind) {
	case REQ_APIGW_V2:
		if (!cJSON_AddNumberToObject(out, "statusCode", status) ||
		    add_headers_v2(out, res) < 0 || add_body(out, res) < 0)
			goto fail;
		break;
	case REQ_TENCENT_APIGW:
		/* Tencent's integration response: {isBase64Encoded, statusCode,
		 * headers, body}; repeated headers (Set-Cookie) also go out in a
		 * v1-style multiValueHeaders, present only when needed. */
		if (!cJSON_AddNumberToObject(out, "statusCode", status) ||
		    add_headers_multi(out, res, false) < 0 || add_body(out, res) < 0)
			goto fail;
		break;
	default:
		if (!cJSON_AddNumberToObject(out, "statusCode", status) ||
		    add_headers_multi(out, res, true) < 0 || add_body(out, res) < 0)
			goto fail;
		break;
	}
	return out;
fail:
	cJSON_Delete(out);
	return NULL;
}
