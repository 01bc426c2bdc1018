/* req.c - building the platform-neutral request and reading it back. */
#include "req.h"
#include "config.h"

#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "res.h"

/* Longest decimal accepted by the u64 getters (UINT64_MAX has 20 digits,
 * leading zeros allowed up to this cap). */
#define REQ_U64_MAX_DIGITS 32

/* Empty request: GET /, no query, headers or body. */
void req_init(struct req *r, struct arena *a)
{
	memset(r, 0, sizeof(*r));
	r->arena = a;
	r->kind = REQ_HTTP;
	r->method = "GET";
	r->path = "/";
	r->raw_query = "";
	r->source_ip = "";
	r->body = (const unsigned char *)"";
}

static char req_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static char req_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Stores an upper-cased copy of method (NULL -> "GET"). */
void req_set_method(struct req *r, const char *method)
{
	char *m;
	size_t i;

	if (method == NULL) {
		r->method = "GET";
		return;
	}
	m = arena_strdup(r->arena, method);
	for (i = 0; m[i] != '\0'; i++)
		m[i] = req_upper(m[i]);
	r->method = m;
}

/* Stores path and raw query (split from path when query is NULL) and decodes
 * the query into r->query, replacing what was there. -1 on a bad escape. */
int req_set_target(struct req *r, const char *path, const char *query)
{
	const char *qmark;

	if (path == NULL || path[0] == '\0')
		path = "/";
	qmark = query == NULL ? strchr(path, '?') : NULL;
	if (qmark != NULL) {
		r->path = arena_strndup(r->arena, path, (size_t)(qmark - path));
		query = qmark + 1;
	} else {
		r->path = arena_strdup(r->arena, path);
	}
	if (r->path[0] == '\0')
		r->path = "/";
	if (query == NULL)
		query = "";
	if (query[0] == '?')
		query++;
	r->raw_query = arena_strdup(r->arena, query);
	r->query.n = 0;
	return kv_parse_urlencoded(r->arena, &r->query, r->raw_query, strlen(r->raw_query));
}

/* Adds a header under its lower-cased name; Cookie headers also fill cookies. */
void req_add_header(struct req *r, const char *name, const char *value)
{
	char *n = arena_strdup(r->arena, name != NULL ? name : "");
	char *v = arena_strdup(r->arena, value != NULL ? value : "");
	size_t i;

	for (i = 0; n[i] != '\0'; i++)
		n[i] = req_lower(n[i]);
	kv_add_ref(r->arena, &r->headers, n, v);
	if (strcmp(n, "cookie") == 0)
		kv_parse_cookies(r->arena, &r->cookies, v);
}

/* Copies the body (NUL-terminated) and forgets anything parsed from the old one. */
void req_set_body(struct req *r, const void *body, size_t len)
{
	if (body == NULL)
		len = 0;
	r->body = arena_memdup(r->arena, body, len);
	r->body_len = len;
	r->json_ = NULL;
	r->form_parsed_ = false;
	memset(&r->form_, 0, sizeof(r->form_));
}

/* First value of header name (any case), or NULL. */
const char *req_header(const struct req *r, const char *name)
{
	return kv_get(&r->headers, name);
}

/* First decoded query value for name, or NULL. */
const char *req_query(const struct req *r, const char *name)
{
	return kv_get(&r->query, name);
}

/* First cookie value for name, or NULL. */
const char *req_cookie(const struct req *r, const char *name)
{
	return kv_get(&r->cookies, name);
}

/* Decoded path parameter set by the router, or NULL. */
const char *req_param(const struct req *r, const char *name)
{
	return kv_get(&r->params, name);
}

/* True when the Content-Type's media type (before ';', trimmed) is want. */
static bool req_media_type_is(const char *ct, const char *want)
{
	size_t len, wlen = strlen(want);

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	len = strcspn(ct, ";");
	while (len > 0 && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
		len--;
	return len == wlen && strncasecmp(ct, want, len) == 0;
}

/* Field of an application/x-www-form-urlencoded body; NULL for other bodies,
 * absent fields and bodies with a malformed escape. */
const char *req_form(struct req *r, const char *name)
{
	if (!r->form_parsed_) {
		r->form_parsed_ = true;
		if (req_media_type_is(req_header(r, "content-type"),
		                      "application/x-www-form-urlencoded") &&
		    kv_parse_urlencoded(r->arena, &r->form_, (const char *)r->body, r->body_len) !=
		            0)
			r->form_.n = 0;
	}
	return kv_get(&r->form_, name);
}

/* Strict unsigned decimal: digits only, no sign, blanks or overflow. */
static int req_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	unsigned d;

	if (s == NULL || s[0] == '\0' || strlen(s) > REQ_U64_MAX_DIGITS)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Parses value into *out within [min, max] or fills res with a 400. */
static int req_u64_check(struct res *res, const char *name, const char *value, uint64_t min,
                         uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (req_parse_u64(value, &v) != 0 || v < min || v > max) {
		res_errorf(res, 400, "invalid_parameter", name,
		           "%s must be an integer between %" PRIu64 " and %" PRIu64, name, min,
		           max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Path parameter as an integer in [min, max]; 400 invalid_parameter otherwise. */
int req_param_u64(struct req *r, struct res *res, const char *name, uint64_t min, uint64_t max,
                  uint64_t *out)
{
	const char *v = req_param(r, name);

	if (v == NULL) {
		res_errorf(res, 400, "invalid_parameter", name, "%s is required", name);
		return -1;
	}
	return req_u64_check(res, name, v, min, max, out);
}

/* Query parameter as an integer in [min, max]; def when absent. */
int req_query_u64(struct req *r, struct res *res, const char *name, uint64_t def, uint64_t min,
                  uint64_t max, uint64_t *out)
{
	const char *v = req_query(r, name);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	return req_u64_check(res, name, v, min, max, out);
}

/* Longest address kept (an IPv6 address with zone fits easily). */
#define REQ_CLIENT_IP_MAX 64

const char *req_client_ip(const struct req *r)
{
	const char *xff = r->kind == REQ_HTTP && g_cfg.trust_proxy
	                          ? req_header(r, "x-forwarded-for")
	                          : NULL;
	const char *p, *e;

	if (!xff)
		return r->source_ip ? r->source_ip : "";
	/* The last entry: the one our proxy appended. */
	e = xff + strlen(xff);
	while (e > xff && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	p = e;
	while (p > xff && p[-1] != ',')
		p--;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if (p == e)
		return r->source_ip ? r->source_ip : "";
	if ((size_t)(e - p) > REQ_CLIENT_IP_MAX)
		p = e - REQ_CLIENT_IP_MAX;
	return arena_strndup(r->arena, p, (size_t)(e - p));
}
