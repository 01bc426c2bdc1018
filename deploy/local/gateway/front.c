/* front.c - the gateway's public HTTP server (libmicrohttpd).
 *
 * One thread per connection: a handler blocks in pool_invoke() for as long
 * as the function runs, so each connection needs its own thread anyway.
 * Order of routing: /healthz, /metrics, the template's HttpApi routes (v2
 * events to functions, CORS preflight answered here), /storage/... (when the
 * store is file://), then static files for GET/HEAD, else 404 JSON.
 *
 * Paths are matched on the raw request target (percent escapes kept, as
 * API Gateway's rawPath); path parameters are handed over decoded.
 * Every response carries X-Request-Id, the id the function saw; every request
 * makes one JSON access-log line and moves the /metrics counters.
 */
#include "gateway.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "arena.h"
#include "config.h"
#include "crypto.h"
#include "json.h"
#include "kv.h"
#include "log.h"
#include "metrics.h"
#include "rt.h"

/* Idle keep-alive connections are closed after this. */
#define FRONT_IDLE_TIMEOUT_S  60
#define FRONT_MAX_CONNECTIONS 4096
/* Nesting accepted in a function's response JSON. */
#define FRONT_RESPONSE_DEPTH 64
/* Segments in a template path (deeper ones are not routed). */
#define FRONT_MAX_SEGS 32

/* One HttpApi event of the template. */
struct froute {
	const char *fn;     /* function name (binary), borrowed from the tpl */
	const char *method; /* upper-case or "ANY", borrowed */
	char *key;          /* routeKey "GET /api/x/{id}", owned */
	char **segs;        /* path segments, "{id}" kept with braces; owned */
	size_t n;
	bool greedy; /* last segment is {name+} */
};

struct front {
	const struct gw_config *cfg;
	const struct tpl *tpl;
	struct pool *pool;
	struct storage *storage;
	struct asyncq *asyncq;
	struct metrics *metrics;
	struct froute *routes;
	size_t n_routes;
	struct MHD_Daemon *d;
	char url[320];
	atomic_int inflight; /* requests between request line and completion */
	atomic_bool draining;
};

/* One request between MHD's callbacks. */
struct call {
	char *uri;           /* raw request target */
	char *path;          /* raw path (escapes kept), owned */
	const char *query;   /* raw query without '?', "" when none; inside uri */
	unsigned char *body; /* malloc'd, NUL-terminated when set */
	size_t len, cap, max;
	bool started, too_large;
	struct timespec t0;
	char rid[33];
	char version[16];    /* "HTTP/1.1" */
	struct arena *arena; /* created on dispatch */
};

/* ---- small helpers ---- */

static double secs_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("front: %s", msg);
}

/* Joins n strings with ", " (arena-owned). */
static char *join(struct arena *a, const char *const *items, size_t n)
{
	size_t total = 1;
	char *s, *p;

	for (size_t i = 0; i < n; i++)
		total += strlen(items[i]) + 2;
	s = arena_alloc(a, total);
	p = s;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(items[i]);

		if (i > 0) {
			memcpy(p, ", ", 2);
			p += 2;
		}
		memcpy(p, items[i], l);
		p += l;
	}
	*p = '\0';
	return s;
}

static bool str_in(const char *const *items, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(items[i], s) == 0)
			return true;
	}
	return false;
}

/* ---- the route table ---- */

static void routes_free(struct front *f)
{
	for (size_t i = 0; i < f->n_routes; i++) {
		struct froute *r = &f->routes[i];

		for (size_t k = 0; k < r->n; k++)
			free(r->segs[k]);
		free(r->segs);
		free(r->key);
	}
	free(f->routes);
	f->routes = NULL;
	f->n_routes = 0;
}

static bool seg_is_param(const char *s)
{
	size_t n = strlen(s);

	return n >= 3 && s[0] == '{' && s[n - 1] == '}';
}

/* Splits the template path into r->segs; -1 when out of memory or too deep. */
static int route_split(struct froute *r, const char *path)
{
	const char *p = path;

	r->segs = calloc(FRONT_MAX_SEGS, sizeof(*r->segs));
	if (r->segs == NULL)
		return -1;
	while (*p) {
		const char *end;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		if (r->n >= FRONT_MAX_SEGS)
			return -1;
		r->segs[r->n] = strndup(p, (size_t)(end - p));
		if (r->segs[r->n] == NULL)
			return -1;
		r->n++;
		p = end;
	}
	if (r->n > 0) {
		const char *last = r->segs[r->n - 1];
		size_t l = strlen(last);

		r->greedy = seg_is_param(last) && l >= 4 && last[l - 2] == '+';
	}
	return 0;
}

static int routes_build(struct front *f)
{
	size_t total = 0;

	for (size_t i = 0; i < f->tpl->n_functions; i++)
		total += f->tpl->functions[i].n_http;
	if (total == 0)
		return 0;
	f->routes = calloc(total, sizeof(*f->routes));
	if (f->routes == NULL)
		return -1;
	for (size_t i = 0; i < f->tpl->n_functions; i++) {
		const struct tpl_function *fn = &f->tpl->functions[i];

		for (size_t k = 0; k < fn->n_http; k++) {
			struct froute *r = &f->routes[f->n_routes++];
			size_t kl = strlen(fn->http[k].method) + strlen(fn->http[k].path) + 2;

			r->fn = fn->name;
			r->method = fn->http[k].method;
			r->key = malloc(kl);
			if (r->key == NULL)
				return -1;
			snprintf(r->key, kl, "%s %s", fn->http[k].method, fn->http[k].path);
			if (route_split(r, fn->http[k].path) != 0) {
				log_error("front: route %s has more than %d segments", r->key,
				          FRONT_MAX_SEGS);
				return -1;
			}
		}
	}
	return 0;
}

/* Matches the raw path against r. On a match, fills rank[] (3 literal, 2
 * {param}, 1 greedy per segment) and, when params is set, the decoded path
 * parameters. */
static bool route_match(const struct froute *r, const char *path, unsigned char *rank,
                        struct arena *a, cJSON *params)
{
	const char *p = path;

	if (p[0] != '/')
		return false;
	p++;
	if (r->n == 0)
		return *p == '\0';
	for (size_t i = 0; i < r->n; i++) {
		const char *seg = r->segs[i];
		const char *end;
		size_t len;

		if (r->greedy && i == r->n - 1) {
			if (*p == '\0')
				return false;
			end = p + strlen(p);
			rank[i] = 1;
		} else {
			end = strchr(p, '/');
			if (end == NULL)
				end = p + strlen(p);
			rank[i] = seg_is_param(seg) ? 2 : 3;
		}
		len = (size_t)(end - p);
		if (rank[i] == 3) {
			if (len != strlen(seg) || memcmp(p, seg, len) != 0)
				return false;
		} else if (len == 0) {
			return false;
		}
		if (rank[i] != 3 && params != NULL) {
			size_t nl = strlen(seg) - 2 - (rank[i] == 1 ? 1 : 0);
			char *name = arena_strndup(a, seg + 1, nl);
			char *value = kv_unescape(a, p, len, false);

			if (value == NULL)
				value = arena_strndup(a, p, len);
			cJSON_AddStringToObject(params, name, value);
		}
		if (i == r->n - 1)
			return *end == '\0';
		if (*end != '/')
			return false;
		p = end + 1;
	}
	return false;
}

/* 3: same method, 2: HEAD on a GET route, 1: ANY, 0: no. */
static int method_fit(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return 3;
	if (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0)
		return 2;
	if (strcmp(route_method, "ANY") == 0)
		return 1;
	return 0;
}

struct match {
	const struct froute *route; /* best route for the method, or NULL */
	bool path_known;            /* some route has this path */
};

static void routes_find(const struct front *f, const char *path, const char *method,
                        struct match *m)
{
	unsigned char best_rank[FRONT_MAX_SEGS], rank[FRONT_MAX_SEGS];
	size_t best_n = 0;
	int best_fit = 0;

	m->route = NULL;
	m->path_known = false;
	for (size_t i = 0; i < f->n_routes; i++) {
		const struct froute *r = &f->routes[i];
		int fit, cmp = 0;

		if (!route_match(r, path, rank, NULL, NULL))
			continue;
		m->path_known = true;
		fit = method_fit(r->method, method);
		if (fit == 0)
			continue;
		if (m->route != NULL) {
			size_t n = r->n < best_n ? r->n : best_n;

			cmp = memcmp(rank, best_rank, n);
			if (cmp == 0)
				cmp = r->n > best_n ? 1 : r->n < best_n ? -1 : 0;
			if (cmp == 0)
				cmp = fit - best_fit;
			if (cmp <= 0)
				continue;
		}
		m->route = r;
		memcpy(best_rank, rank, r->n);
		best_n = r->n;
		best_fit = fit;
	}
}

/* "GET, HEAD, POST" for every route on path (arena-owned). */
static char *routes_allow(const struct front *f, const char *path, struct arena *a)
{
	const char *items[64];
	unsigned char rank[FRONT_MAX_SEGS];
	size_t n = 0;

	for (size_t i = 0; i < f->n_routes && n < 62; i++) {
		const struct froute *r = &f->routes[i];

		if (!route_match(r, path, rank, NULL, NULL) || str_in(items, n, r->method))
			continue;
		items[n++] = r->method;
		if (strcmp(r->method, "GET") == 0 && !str_in(items, n, "HEAD"))
			items[n++] = "HEAD";
	}
	if (f->tpl->cors.enabled && n < 64 && !str_in(items, n, "OPTIONS"))
		items[n++] = "OPTIONS";
	return join(a, items, n);
}

/* ---- CORS (Globals.HttpApi.CorsConfiguration) ---- */

/* Entries like "https://" "*.example.com": any subdomain. */
static bool origin_wildcard(const char *pattern, const char *origin)
{
	const char *star = strstr(pattern, "://*.");
	size_t plen, slen, olen = strlen(origin);

	if (star == NULL)
		return false;
	plen = (size_t)(star - pattern) + 3; /* "https://" */
	slen = strlen(star + 4);             /* ".example.com" */
	return olen > plen + slen && strncmp(origin, pattern, plen) == 0 &&
	       strcmp(origin + olen - slen, star + 4) == 0;
}

/* The Access-Control-Allow-Origin value for origin, or NULL when it is not
 * allowed (or CORS is off). */
static const char *cors_origin(const struct tpl_cors *c, const char *origin)
{
	bool star = false;

	if (!c->enabled || origin == NULL || origin[0] == '\0')
		return NULL;
	for (size_t i = 0; i < c->n_origins; i++) {
		if (strcmp(c->origins[i], "*") == 0)
			star = true;
		else if (strcmp(c->origins[i], origin) == 0 ||
		         origin_wildcard(c->origins[i], origin))
			return origin;
	}
	if (star)
		return c->credentials ? origin : "*";
	return NULL;
}

static void cors_actual(const struct front *f, struct MHD_Connection *con,
                        struct MHD_Response *resp, struct arena *a)
{
	const struct tpl_cors *c = &f->tpl->cors;
	const char *origin = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Origin");
	const char *allow = cors_origin(c, origin);

	if (allow == NULL)
		return;
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", allow);
	if (c->credentials)
		MHD_add_response_header(resp, "Access-Control-Allow-Credentials", "true");
	if (c->n_expose > 0)
		MHD_add_response_header(resp, "Access-Control-Expose-Headers",
		                        join(a, c->expose, c->n_expose));
	if (strcmp(allow, "*") != 0)
		MHD_add_response_header(resp, "Vary", "Origin");
}

/* ---- replies ---- */

/* Access-log line (log.h's shape plus function, cold) and metrics. */
static void access_log(const struct call *c, const char *method, unsigned status, const char *fn,
                       bool cold, double secs)
{
	struct timespec ts;
	struct tm tm;
	char stamp[64], path[2048];
	cJSON *o;
	char *line;

	if (g_cfg.log_level > LOG_INFO)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	snprintf(path, sizeof(path), "%s", c->path ? c->path : "");
	o = cJSON_CreateObject();
	if (o == NULL)
		return;
	cJSON_AddStringToObject(o, "ts", stamp);
	cJSON_AddStringToObject(o, "level", "info");
	cJSON_AddStringToObject(o, "fn", "gateway");
	cJSON_AddStringToObject(o, "request_id", c->rid);
	cJSON_AddStringToObject(o, "msg", "request");
	cJSON_AddStringToObject(o, "method", method);
	cJSON_AddStringToObject(o, "path", path);
	cJSON_AddNumberToObject(o, "status", status);
	cJSON_AddNumberToObject(o, "duration_ms", (double)(long long)(secs * 1e6) / 1e3);
	cJSON_AddStringToObject(o, "function", fn ? fn : "");
	cJSON_AddBoolToObject(o, "cold", cold);
	line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (line == NULL)
		return;
	{
		size_t n = strlen(line), off = 0;
		char *buf = realloc(line, n + 2);

		if (buf == NULL) {
			free(line);
			return;
		}
		line = buf;
		line[n] = '\n';
		n++;
		while (off < n) {
			ssize_t w = write(STDERR_FILENO, line + off, n - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
	free(line);
}

/* Adds the headers every response has, queues resp (consumed), logs. */
static enum MHD_Result send_reply(struct front *f, struct MHD_Connection *con, struct call *c,
                                  const char *method, unsigned status, struct MHD_Response *resp,
                                  const char *fn, bool cold)
{
	enum MHD_Result ret;
	double secs;

	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "X-Request-Id", c->rid);
	if (f->tpl->cors.enabled && c->arena != NULL)
		cors_actual(f, con, resp, c->arena);
	if (atomic_load(&f->draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(con, status, resp);
	MHD_destroy_response(resp);
	secs = secs_since(&c->t0);
	metrics_observe(f->metrics, fn ? fn : "", status, secs);
	access_log(c, method, status, fn, cold, secs);
	return ret;
}

static struct MHD_Response *json_response(const char *text, size_t len)
{
	struct MHD_Response *resp =
	        MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);

	if (resp != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return resp;
}

/* {"error":{"code","message"}} with status; close asks MHD to drop the
 * connection afterwards (a body left unread). */
static enum MHD_Result send_error(struct front *f, struct MHD_Connection *con, struct call *c,
                                  const char *method, unsigned status, const char *code,
                                  const char *message, const char *fn, bool close)
{
	cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
	struct MHD_Response *resp = NULL;
	char *text;

	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text != NULL)
		resp = json_response(text, strlen(text));
	free(text);
	if (resp != NULL && close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	if (resp != NULL && status == 429)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	return send_reply(f, con, c, method, status, resp, fn, false);
}

static enum MHD_Result send_too_large(struct front *f, struct MHD_Connection *con, struct call *c,
                                      const char *method)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "request body is larger than %zu bytes", c->max);
	return send_error(f, con, c, method, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large", msg,
	                  NULL, true);
}

/* ---- the v2 event ---- */

struct hdr_ctx {
	struct arena *a;
	cJSON *headers;
	cJSON *cookies;
	const char *content_type;
	const char *user_agent;
	const char *host;
};

static void add_cookies(cJSON *cookies, const char *v)
{
	while (*v) {
		const char *end = strchr(v, ';');
		size_t n;
		char buf[4096];

		while (*v == ' ' || *v == '\t')
			v++;
		if (end == NULL)
			end = v + strlen(v);
		n = (size_t)(end - v);
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n > 0 && n < sizeof(buf)) {
			memcpy(buf, v, n);
			buf[n] = '\0';
			cJSON_AddItemToArray(cookies, cJSON_CreateString(buf));
		}
		v = *end ? end + 1 : end;
	}
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
	struct hdr_ctx *h = cls;
	char *name;
	cJSON *old;

	(void)kind;
	if (key == NULL)
		return MHD_YES;
	if (value == NULL)
		value = "";
	name = arena_strdup(h->a, key);
	for (char *p = name; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	if (strcmp(name, "cookie") == 0) {
		add_cookies(h->cookies, value);
		return MHD_YES;
	}
	if (strcmp(name, "content-type") == 0)
		h->content_type = value;
	else if (strcmp(name, "user-agent") == 0)
		h->user_agent = value;
	else if (strcmp(name, "host") == 0)
		h->host = value;
	old = cJSON_GetObjectItemCaseSensitive(h->headers, name);
	if (old != NULL && cJSON_IsString(old)) {
		const char *joined = arena_printf(h->a, "%s,%s", old->valuestring, value);

		cJSON_ReplaceItemInObjectCaseSensitive(h->headers, name,
		                                       cJSON_CreateString(joined));
	} else {
		cJSON_AddStringToObject(h->headers, name, value);
	}
	return MHD_YES;
}

static bool textual_type(const char *ct)
{
	if (ct == NULL || ct[0] == '\0')
		return true;
	return strncasecmp(ct, "text/", 5) == 0 || strcasestr(ct, "json") != NULL ||
	       strcasestr(ct, "xml") != NULL || strcasestr(ct, "form") != NULL ||
	       strcasestr(ct, "javascript") != NULL;
}

static void source_ip(struct MHD_Connection *con, char *ip, size_t n)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	ip[0] = '\0';
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip,
		          (socklen_t)n);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
		          (socklen_t)n);
}

/* The API Gateway HTTP API payload 2.0 event for this request; malloc'd JSON
 * text (caller frees), NULL when out of memory. */
static char *build_event(struct MHD_Connection *con, struct call *c, const char *method,
                         const struct froute *r, cJSON *params, size_t *len)
{
	struct hdr_ctx h = {c->arena, NULL, NULL, NULL, NULL, NULL};
	cJSON *ev = cJSON_CreateObject(), *ctx, *http;
	struct kvlist q = {0};
	struct timespec now;
	struct tm tm;
	char stamp[64], ip[INET6_ADDRSTRLEN], domain[256];
	char *text = NULL;

	if (ev == NULL)
		return NULL;
	h.headers = cJSON_CreateObject();
	h.cookies = cJSON_CreateArray();
	MHD_get_connection_values(con, MHD_HEADER_KIND, collect_header, &h);

	cJSON_AddStringToObject(ev, "version", "2.0");
	cJSON_AddStringToObject(ev, "routeKey", r->key);
	cJSON_AddStringToObject(ev, "rawPath", c->path);
	cJSON_AddStringToObject(ev, "rawQueryString", c->query);
	if (cJSON_GetArraySize(h.cookies) > 0) {
		cJSON_AddItemToObject(ev, "cookies", h.cookies);
		h.cookies = NULL;
	}
	cJSON_AddItemToObject(ev, "headers", h.headers);
	if (c->query[0] != '\0' &&
	    kv_parse_urlencoded(c->arena, &q, c->query, strlen(c->query)) == 0 && q.n > 0) {
		cJSON *qs = cJSON_AddObjectToObject(ev, "queryStringParameters");

		for (size_t i = 0; i < q.n; i++) {
			cJSON *old = cJSON_GetObjectItemCaseSensitive(qs, q.items[i].name);

			if (old != NULL)
				cJSON_ReplaceItemInObjectCaseSensitive(
				        qs, q.items[i].name,
				        cJSON_CreateString(arena_printf(c->arena, "%s,%s",
				                                        old->valuestring,
				                                        q.items[i].value)));
			else
				cJSON_AddStringToObject(qs, q.items[i].name, q.items[i].value);
		}
	}
	if (cJSON_GetArraySize(params) > 0)
		cJSON_AddItemReferenceToObject(ev, "pathParameters", params);

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	if (strftime(stamp, sizeof(stamp), "%d/%b/%Y:%H:%M:%S +0000", &tm) == 0)
		stamp[0] = '\0';
	source_ip(con, ip, sizeof(ip));
	snprintf(domain, sizeof(domain), "%s", h.host ? h.host : "localhost");
	if (domain[0] != '[') {
		char *colon = strchr(domain, ':');

		if (colon != NULL)
			*colon = '\0';
	}
	ctx = cJSON_AddObjectToObject(ev, "requestContext");
	cJSON_AddStringToObject(ctx, "accountId", "000000000000");
	cJSON_AddStringToObject(ctx, "apiId", "local");
	cJSON_AddStringToObject(ctx, "domainName", domain);
	{
		char *dot = strchr(domain, '.');

		if (dot != NULL)
			*dot = '\0';
		cJSON_AddStringToObject(ctx, "domainPrefix", domain);
	}
	http = cJSON_AddObjectToObject(ctx, "http");
	cJSON_AddStringToObject(http, "method", method);
	cJSON_AddStringToObject(http, "path", c->path);
	cJSON_AddStringToObject(http, "protocol", c->version);
	cJSON_AddStringToObject(http, "sourceIp", ip);
	cJSON_AddStringToObject(http, "userAgent", h.user_agent ? h.user_agent : "");
	cJSON_AddStringToObject(ctx, "requestId", c->rid);
	cJSON_AddStringToObject(ctx, "routeKey", r->key);
	cJSON_AddStringToObject(ctx, "stage", "$default");
	cJSON_AddStringToObject(ctx, "time", stamp);
	cJSON_AddNumberToObject(ctx, "timeEpoch",
	                        (double)((long long)now.tv_sec * 1000 + now.tv_nsec / 1000000));

	if (c->len > 0) {
		bool text_ok = textual_type(h.content_type) && memchr(c->body, 0, c->len) == NULL &&
		               json_utf8_len((const char *)c->body) >= 0;

		if (text_ok)
			cJSON_AddStringToObject(ev, "body", (const char *)c->body);
		else
			cJSON_AddStringToObject(
			        ev, "body", crypto_b64_encode(c->arena, c->body, c->len, false));
		cJSON_AddBoolToObject(ev, "isBase64Encoded", !text_ok);
	} else {
		cJSON_AddBoolToObject(ev, "isBase64Encoded", false);
	}
	text = cJSON_PrintUnformatted(ev);
	if (text != NULL)
		*len = strlen(text);
	cJSON_Delete(h.cookies);
	cJSON_Delete(ev);
	return text;
}

/* ---- the function's response ---- */

static bool hop_header(const char *name, bool cors)
{
	return strcasecmp(name, "content-length") == 0 ||
	       strcasecmp(name, "transfer-encoding") == 0 || strcasecmp(name, "connection") == 0 ||
	       strcasecmp(name, "x-request-id") == 0 ||
	       (cors && strncasecmp(name, "access-control-", 15) == 0);
}

/* A header value as text: strings as is, numbers and booleans printed. */
static const char *header_text(struct arena *a, const cJSON *v)
{
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	if (cJSON_IsNumber(v)) {
		if (v->valuedouble == (double)(long long)v->valuedouble)
			return arena_printf(a, "%lld", (long long)v->valuedouble);
		return arena_printf(a, "%g", v->valuedouble);
	}
	return NULL;
}

static void add_fn_header(struct MHD_Response *resp, const char *fn, const char *name,
                          const char *value)
{
	if (value != NULL && MHD_add_response_header(resp, name, value) != MHD_YES)
		log_warn("front: %s: response header %s refused", fn, name);
}

/* Turns the v2 response JSON into an MHD response; -1 when it is not one. */
static int response_from_v2(const struct front *f, struct call *c, const char *fn, const char *text,
                            size_t len, unsigned *status, struct MHD_Response **out)
{
	cJSON *r = json_parse_limited(text, len, FRONT_RESPONSE_DEPTH);
	const cJSON *sc, *body, *b64, *hdrs, *mv, *cookies, *it;
	const char *data = "";
	size_t dlen = 0;
	bool cors = f->tpl->cors.enabled;
	struct MHD_Response *resp = NULL;
	int rc = -1;

	if (!cJSON_IsObject(r))
		goto out;
	sc = cJSON_GetObjectItemCaseSensitive(r, "statusCode");
	if (!cJSON_IsNumber(sc) || sc->valuedouble < 100 || sc->valuedouble > 599 ||
	    sc->valuedouble != (double)(int)sc->valuedouble)
		goto out;
	body = cJSON_GetObjectItemCaseSensitive(r, "body");
	b64 = cJSON_GetObjectItemCaseSensitive(r, "isBase64Encoded");
	if (cJSON_IsString(body)) {
		data = body->valuestring;
		dlen = strlen(data);
		if (cJSON_IsTrue(b64)) {
			data = (const char *)crypto_b64_decode(c->arena, data, dlen, false, &dlen);
			if (data == NULL)
				goto out;
		}
	} else if (body != NULL && !cJSON_IsNull(body)) {
		char *printed = cJSON_PrintUnformatted(body);

		if (printed == NULL)
			goto out;
		data = arena_strdup(c->arena, printed);
		dlen = strlen(data);
		free(printed);
	}
	resp = MHD_create_response_from_buffer(dlen, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		goto out;
	mv = cJSON_GetObjectItemCaseSensitive(r, "multiValueHeaders");
	if (cJSON_IsObject(mv)) {
		cJSON_ArrayForEach(it, mv)
		{
			const cJSON *v;

			if (it->string == NULL || hop_header(it->string, cors) ||
			    !cJSON_IsArray(it))
				continue;
			cJSON_ArrayForEach(v, it)
			        add_fn_header(resp, fn, it->string, header_text(c->arena, v));
		}
	}
	hdrs = cJSON_GetObjectItemCaseSensitive(r, "headers");
	if (cJSON_IsObject(hdrs)) {
		cJSON_ArrayForEach(it, hdrs)
		{
			if (it->string == NULL || hop_header(it->string, cors))
				continue;
			if (cJSON_IsObject(mv) && cJSON_GetObjectItem(mv, it->string) != NULL)
				continue;
			add_fn_header(resp, fn, it->string, header_text(c->arena, it));
		}
	}
	cookies = cJSON_GetObjectItemCaseSensitive(r, "cookies");
	if (cJSON_IsArray(cookies)) {
		cJSON_ArrayForEach(it, cookies)
		{
			if (cJSON_IsString(it))
				add_fn_header(resp, fn, MHD_HTTP_HEADER_SET_COOKIE,
				              it->valuestring);
		}
	}
	*status = (unsigned)sc->valuedouble;
	*out = resp;
	resp = NULL;
	rc = 0;
out:
	if (resp != NULL)
		MHD_destroy_response(resp);
	cJSON_Delete(r);
	return rc;
}

/* ---- dispatch ---- */

static enum MHD_Result invoke_route(struct front *f, struct MHD_Connection *con, struct call *c,
                                    const char *method, const struct froute *r)
{
	unsigned char rank[FRONT_MAX_SEGS];
	cJSON *params = cJSON_CreateObject();
	struct inv_out out = {0};
	struct MHD_Response *resp = NULL;
	enum inv_result res;
	enum MHD_Result ret;
	unsigned status = 502;
	char *event;
	size_t len = 0;

	route_match(r, c->path, rank, c->arena, params);
	event = build_event(con, c, method, r, params, &len);
	cJSON_Delete(params);
	if (event == NULL)
		return send_error(f, con, c, method, 500, "internal_error", "out of memory", r->fn,
		                  false);
	res = pool_invoke(f->pool, r->fn, event, len, &out);
	free(event);
	switch (res) {
	case INV_OK:
		if (out.body != NULL &&
		    response_from_v2(f, c, r->fn, out.body, out.len, &status, &resp) == 0) {
			ret = send_reply(f, con, c, method, status, resp, r->fn, out.cold);
			goto out;
		}
		log_warn("front: %s returned a response that is not an HTTP API v2 response",
		         r->fn);
		ret = send_error(f, con, c, method, 502, "bad_gateway",
		                 "the function returned an invalid response", r->fn, false);
		break;
	case INV_FUNCTION_ERROR:
		log_warn("front: %s failed: %.300s", r->fn, out.body ? out.body : "");
		ret = send_error(f, con, c, method, 502, "bad_gateway", "the function failed",
		                 r->fn, false);
		break;
	case INV_THROTTLED:
		ret = send_error(f, con, c, method, 429, "too_many_requests",
		                 "the function is at its concurrency limit", r->fn, false);
		break;
	case INV_TIMEOUT:
		ret = send_error(f, con, c, method, 504, "gateway_timeout",
		                 "the function timed out", r->fn, false);
		break;
	case INV_STOPPING:
		ret = send_error(f, con, c, method, 503, "unavailable", "the gateway is stopping",
		                 r->fn, true);
		break;
	case INV_CRASHED:
		ret = send_error(f, con, c, method, 502, "bad_gateway", "the function crashed",
		                 r->fn, false);
		break;
	case INV_UNKNOWN:
	case INV_UNAVAILABLE:
	default:
		ret = send_error(f, con, c, method, 502, "bad_gateway",
		                 "the function could not be started", r->fn, false);
		break;
	}
out:
	free(out.body);
	return ret;
}

static enum MHD_Result preflight(struct front *f, struct MHD_Connection *con, struct call *c)
{
	const struct tpl_cors *cors = &f->tpl->cors;
	const char *origin = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Origin");
	const char *allow = cors_origin(cors, origin);
	struct MHD_Response *resp =
	        MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);

	if (resp == NULL)
		return MHD_NO;
	if (allow != NULL) {
		const char *want_m = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
		                                                 "Access-Control-Request-Method");
		const char *want_h = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
		                                                 "Access-Control-Request-Headers");
		bool any_m = str_in(cors->methods, cors->n_methods, "*");
		bool any_h = str_in(cors->headers, cors->n_headers, "*");

		MHD_add_response_header(resp, "Access-Control-Allow-Origin", allow);
		if (any_m && want_m != NULL)
			MHD_add_response_header(resp, "Access-Control-Allow-Methods", want_m);
		else if (cors->n_methods > 0)
			MHD_add_response_header(resp, "Access-Control-Allow-Methods",
			                        join(c->arena, cors->methods, cors->n_methods));
		if (any_h && want_h != NULL)
			MHD_add_response_header(resp, "Access-Control-Allow-Headers", want_h);
		else if (cors->n_headers > 0)
			MHD_add_response_header(resp, "Access-Control-Allow-Headers",
			                        join(c->arena, cors->headers, cors->n_headers));
		if (cors->max_age >= 0)
			MHD_add_response_header(resp, "Access-Control-Max-Age",
			                        arena_printf(c->arena, "%d", cors->max_age));
		if (cors->credentials)
			MHD_add_response_header(resp, "Access-Control-Allow-Credentials", "true");
		if (strcmp(allow, "*") != 0)
			MHD_add_response_header(resp, "Vary", "Origin");
	}
	/* send_reply would add the actual-response CORS headers again. */
	MHD_add_response_header(resp, "X-Request-Id", c->rid);
	if (atomic_load(&f->draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	{
		enum MHD_Result ret = MHD_queue_response(con, MHD_HTTP_NO_CONTENT, resp);
		double secs = secs_since(&c->t0);

		MHD_destroy_response(resp);
		metrics_observe(f->metrics, "", MHD_HTTP_NO_CONTENT, secs);
		access_log(c, "OPTIONS", MHD_HTTP_NO_CONTENT, "", false, secs);
		return ret;
	}
}

static enum MHD_Result serve_metrics(struct front *f, struct MHD_Connection *con, struct call *c,
                                     const char *method)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mf = open_memstream(&buf, &len);
	struct MHD_Response *resp;

	if (mf == NULL)
		return send_error(f, con, c, method, 500, "internal_error", "out of memory", NULL,
		                  false);
	metrics_write(f->metrics, mf);
	if (f->pool != NULL)
		pool_metrics(f->pool, mf);
	if (f->asyncq != NULL)
		asyncq_metrics(f->asyncq, mf);
	fclose(mf);
	resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        "text/plain; version=0.0.4; charset=utf-8");
	return send_reply(f, con, c, method, 200, resp, NULL, false);
}

static bool is_api_path(const char *path)
{
	return strncmp(path, "/api", 4) == 0 && (path[4] == '\0' || path[4] == '/');
}

/* url is libmicrohttpd's decoded path (what static.c and storage.c take);
 * routing uses the raw c->path. */
static enum MHD_Result dispatch(struct front *f, struct MHD_Connection *con, struct call *c,
                                const char *url, const char *method)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	struct match m;
	struct gw_reply rep = {0, NULL};

	c->arena = arena_new();
	if (get && strcmp(c->path, "/healthz") == 0) {
		static const char ok[] = "{\"status\":\"ok\"}";

		return send_reply(f, con, c, method, 200, json_response(ok, sizeof(ok) - 1), NULL,
		                  false);
	}
	if (get && strcmp(c->path, "/metrics") == 0)
		return serve_metrics(f, con, c, method);

	routes_find(f, c->path, method, &m);
	if (m.path_known && f->tpl->cors.enabled && strcmp(method, "OPTIONS") == 0)
		return preflight(f, con, c);
	if (m.route != NULL)
		return invoke_route(f, con, c, method, m.route);
	if (m.path_known) {
		struct MHD_Response *resp;
		cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
		char *text;

		cJSON_AddStringToObject(e, "code", "method_not_allowed");
		cJSON_AddStringToObject(e, "message",
		                        arena_printf(c->arena, "%s is not allowed here", method));
		text = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (text == NULL)
			return MHD_NO;
		resp = json_response(text, strlen(text));
		free(text);
		if (resp != NULL)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
			                        routes_allow(f, c->path, c->arena));
		return send_reply(f, con, c, method, 405, resp, NULL, false);
	}
	if (f->storage != NULL &&
	    (strncmp(url, "/storage/", 9) == 0 || strncmp(url, "/media/", 7) == 0)) {
		if (storage_reply(f->storage, con, method, url, (const char *)c->body, c->len,
		                  &rep) != 0 ||
		    rep.resp == NULL)
			return send_error(f, con, c, method, 500, "internal_error",
			                  "storage failed", NULL, false);
		return send_reply(f, con, c, method, rep.status, rep.resp, NULL, false);
	}
	if (get && !is_api_path(c->path) && f->cfg->static_dir != NULL) {
		int rc = static_uri_safe(c->path)
		                 ? static_reply(con, f->cfg->static_dir, method, url, &rep)
		                 : static_error(&rep, 404, "not_found", "no such file");

		if (rc != 0 || rep.resp == NULL)
			return send_error(f, con, c, method, 500, "internal_error",
			                  "static files failed", NULL, false);
		return send_reply(f, con, c, method, rep.status, rep.resp, NULL, false);
	}
	return send_error(f, con, c, method, 404, "not_found",
	                  arena_printf(c->arena, "no route for %s %s", method, c->path), NULL,
	                  false);
}

/* ---- MHD callbacks ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct front *f = cls;
	struct call *c = calloc(1, sizeof(*c));
	char *q;

	(void)con;
	if (c == NULL)
		return NULL;
	c->uri = strdup(uri != NULL ? uri : "/");
	if (c->uri == NULL) {
		free(c);
		return NULL;
	}
	q = strchr(c->uri, '?');
	c->path = q ? strndup(c->uri, (size_t)(q - c->uri)) : strdup(c->uri);
	c->query = q ? q + 1 : "";
	if (c->path == NULL) {
		free(c->uri);
		free(c);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	rt_new_request_id(c->rid);
	atomic_fetch_add(&f->inflight, 1);
	return c;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct front *f = cls;
	struct call *c = *req_cls;

	(void)con;
	(void)toe;
	if (c == NULL)
		return;
	*req_cls = NULL;
	arena_free(c->arena);
	free(c->body);
	free(c->path);
	free(c->uri);
	free(c);
	atomic_fetch_sub(&f->inflight, 1);
}

static long long content_length(struct MHD_Connection *con)
{
	const char *v =
	        MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	long long n;

	if (v == NULL || v[0] < '0' || v[0] > '9')
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno == ERANGE)
		return LLONG_MAX;
	if (*end != '\0')
		return -1;
	return n;
}

/* Appends to the body up to c->max (+1 byte kept for a NUL). */
static int body_append(struct call *c, const char *data, size_t n)
{
	if (n > c->max - c->len)
		return -1;
	if (c->len + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		unsigned char *p;

		while (cap < c->len + n + 1)
			cap = cap > (c->max + 1) / 2 ? c->max + 1 : cap * 2;
		p = realloc(c->body, cap);
		if (p == NULL)
			return -1;
		c->body = p;
		c->cap = cap;
	}
	memcpy(c->body + c->len, data, n);
	c->len += n;
	c->body[c->len] = '\0';
	return 0;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *con, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
	struct front *f = cls;
	struct call *c = *req_cls;

	if (c == NULL)
		return MHD_NO;
	if (!c->started) {
		long long cl = content_length(con);

		c->started = true;
		snprintf(c->version, sizeof(c->version), "%s", version ? version : "HTTP/1.1");
		c->max = f->cfg->max_body;
		if (f->storage != NULL && strncmp(url, "/storage/", 9) == 0)
			c->max = f->cfg->storage_max;
		if (atomic_load(&f->draining))
			return send_error(f, con, c, method, 503, "unavailable",
			                  "the gateway is stopping", NULL, true);
		if (cl >= 0 && (unsigned long long)cl > c->max)
			return send_too_large(f, con, c, method);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (!c->too_large && body_append(c, upload_data, n) != 0) {
			/* A chunked body past the cap: keep nothing more, 413 at the end. */
			c->too_large = true;
			free(c->body);
			c->body = NULL;
			c->len = c->cap = 0;
		}
		return MHD_YES;
	}
	if (c->too_large)
		return send_too_large(f, con, c, method);
	return dispatch(f, con, c, url, method);
}

/* ---- the listening socket ---- */

/* Opens cfg->listen (see rt_listen_socket); sets f->url. */
static int listen_on(struct front *f, const char *addr)
{
	char desc[300];
	int fd = rt_listen_socket(addr, 1024, desc, sizeof(desc));
	int n;

	if (fd < 0)
		return -1;
	n = snprintf(f->url, sizeof(f->url), "http://%s", desc);
	if (n < 0 || (size_t)n >= sizeof(f->url)) {
		log_error("front: listen address \"%s\" too long", desc);
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- public ---- */

struct front *front_new(const struct gw_config *cfg, const struct tpl *t, struct pool *p,
                        struct storage *s)
{
	struct front *f = calloc(1, sizeof(*f));
	int fd = -1;

	if (f == NULL)
		return NULL;
	f->cfg = cfg;
	f->tpl = t;
	f->pool = p;
	f->storage = s;
	atomic_init(&f->inflight, 0);
	atomic_init(&f->draining, false);
	f->metrics = metrics_new();
	if (f->metrics == NULL || routes_build(f) != 0)
		goto fail;
	fd = listen_on(f, cfg->listen);
	if (fd < 0)
		goto fail;
	f->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	                                MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
	                        0, NULL, NULL, on_access, f, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
	                        NULL, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT,
	                        (unsigned)FRONT_IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
	                        (unsigned)FRONT_MAX_CONNECTIONS, MHD_OPTION_URI_LOG_CALLBACK,
	                        on_uri, f, MHD_OPTION_NOTIFY_COMPLETED, on_completed, f,
	                        MHD_OPTION_END);
	if (f->d == NULL) {
		log_error("front: cannot start the server on %s", f->url);
		close(fd);
		goto fail;
	}
	return f;
fail:
	front_free(f);
	return NULL;
}

void front_set_asyncq(struct front *f, struct asyncq *q)
{
	f->asyncq = q;
}

const char *front_url(const struct front *f)
{
	return f->url;
}

void front_quiesce(struct front *f)
{
	MHD_socket fd;

	if (f == NULL || f->d == NULL || atomic_exchange(&f->draining, true))
		return;
	fd = MHD_quiesce_daemon(f->d);
	/* Closed now, so new connections are refused rather than left waiting. */
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

void front_drain(struct front *f, int timeout_s)
{
	struct timespec t0, tick = {0, 10 * 1000 * 1000};

	if (f == NULL || f->d == NULL)
		return;
	front_quiesce(f);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load(&f->inflight) > 0) {
		if (secs_since(&t0) > (double)timeout_s) {
			log_warn("front: %d requests still running after %d s, closing",
			         atomic_load(&f->inflight), timeout_s);
			break;
		}
		nanosleep(&tick, NULL);
	}
	MHD_stop_daemon(f->d);
	f->d = NULL;
}

void front_free(struct front *f)
{
	if (f == NULL)
		return;
	if (f->d != NULL) {
		front_quiesce(f);
		MHD_stop_daemon(f->d);
	}
	routes_free(f);
	metrics_free(f->metrics);
	free(f);
}
