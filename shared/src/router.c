/* router.c - method + path pattern dispatch.
 *
 * The request path is split on '/' first and each segment percent-decoded
 * afterwards, so "%2F" inside a parameter is data, never a separator. Routes
 * are tried in table order; the first one whose pattern and method both match
 * wins. "EVENT" routes form a separate world: only "EVENT" requests see them.
 */
#include "router.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "req.h"
#include "res.h"

struct router_path {
	const char **seg; /* decoded segments */
	size_t n;
};

/* Splits path ("/a/b%2Fc" -> "a", "b/c"); "/" gives one empty segment.
 * Returns 0, -1 for a malformed escape (or decoded NUL), -2 when path does
 * not start with '/'. */
static int router_split(struct arena *a, const char *path, struct router_path *out)
{
	const char *p, *slash;
	size_t n = 1, i;

	if (path == NULL || path[0] != '/')
		return -2;
	path++;
	for (p = path; *p != '\0'; p++)
		if (*p == '/')
			n++;
	out->seg = arena_alloc(a, n * sizeof(*out->seg));
	out->n = n;
	p = path;
	for (i = 0; i < n; i++) {
		slash = strchr(p, '/');
		if (slash == NULL)
			slash = p + strlen(p);
		out->seg[i] = kv_unescape(a, p, (size_t)(slash - p), false);
		if (out->seg[i] == NULL)
			return -1;
		p = *slash == '/' ? slash + 1 : slash;
	}
	return 0;
}

/* True when [s, e) is a whole "{name}" segment. */
static bool router_is_param(const char *s, const char *e)
{
	return e - s >= 3 && s[0] == '{' && e[-1] == '}';
}

/* Matches pattern against path segment by segment; when params is not NULL
 * the {name} values are appended to it. */
static bool router_match(struct arena *a, const char *pattern, const struct router_path *path,
                         struct kvlist *params)
{
	const char *p, *e;
	size_t i, len;

	if (pattern == NULL || pattern[0] != '/')
		return false;
	p = pattern + 1;
	for (i = 0; i < path->n; i++) {
		if (p == NULL)
			return false; /* path has more segments */
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		len = (size_t)(e - p);
		if (router_is_param(p, e)) {
			if (path->seg[i][0] == '\0')
				return false;
			if (params != NULL)
				kv_add_ref(a, params, arena_strndup(a, p + 1, len - 2),
				           path->seg[i]);
		} else if (strlen(path->seg[i]) != len || memcmp(path->seg[i], p, len) != 0) {
			return false;
		}
		p = *e == '/' ? e + 1 : NULL;
	}
	return p == NULL; /* pattern has no segments left */
}

static int router_cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* "DELETE, GET, HEAD, OPTIONS": the methods given, sorted and unique, plus
 * HEAD when GET is there, plus OPTIONS. */
static const char *router_allow(struct arena *a, const char **m, size_t n)
{
	size_t i, j, k = 0, len = 0;
	bool get = false;
	char *out, *o;

	for (i = 0; i < n; i++)
		if (strcmp(m[i], "GET") == 0)
			get = true;
	if (get)
		m[n++] = "HEAD";
	m[n++] = "OPTIONS";
	qsort(m, n, sizeof(*m), router_cmp_str);
	for (i = 0; i < n; i++)
		if (k == 0 || strcmp(m[k - 1], m[i]) != 0)
			m[k++] = m[i];
	for (i = 0; i < k; i++)
		len += strlen(m[i]) + 2;
	out = arena_alloc(a, len + 1);
	o = out;
	for (i = 0; i < k; i++) {
		if (i > 0) {
			*o++ = ',';
			*o++ = ' ';
		}
		j = strlen(m[i]);
		memcpy(o, m[i], j);
		o += j;
	}
	*o = '\0';
	return out;
}

/* Finds the route, fills req->params, calls the handler. Returns the status:
 * the handler's, or 400 invalid_path, 404 not_found, 405 method_not_allowed,
 * 204 for OPTIONS. */
int router_dispatch(const struct route *routes, struct req *req, struct res *res)
{
	struct router_path path;
	const struct route *r, *chosen = NULL, *head_get = NULL;
	const char **methods;
	const char *method = req->method != NULL ? req->method : "";
	bool event = strcmp(method, "EVENT") == 0, is_head = strcmp(method, "HEAD") == 0;
	size_t nroutes = 0, nm = 0;
	int rc, status;

	rc = router_split(req->arena, req->path, &path);
	if (rc == -1)
		return res_error(res, 400, "invalid_path",
		                 "request path contains a malformed percent escape", NULL);
	if (rc != 0 || routes == NULL)
		return res_error(res, 404, "not_found", "no such resource", NULL);

	for (r = routes; r->method != NULL; r++)
		nroutes++;
	methods = arena_alloc(req->arena, (nroutes + 2) * sizeof(*methods));

	for (r = routes; r->method != NULL; r++) {
		if ((strcmp(r->method, "EVENT") == 0) != event)
			continue;
		if (!router_match(req->arena, r->pattern, &path, NULL))
			continue;
		methods[nm++] = r->method;
		if (chosen == NULL && strcmp(r->method, method) == 0)
			chosen = r;
		if (head_get == NULL && is_head && strcmp(r->method, "GET") == 0)
			head_get = r;
	}
	if (chosen == NULL)
		chosen = head_get;

	if (chosen == NULL) {
		if (nm == 0)
			return res_error(res, 404, "not_found", "no such resource", NULL);
		res_header_set(res, "Allow", router_allow(req->arena, methods, nm));
		if (strcmp(method, "OPTIONS") == 0)
			return res_empty(res, 204);
		return res_errorf(res, 405, "method_not_allowed", NULL,
		                  "method %.32s is not allowed here", method);
	}

	req->params.n = 0;
	router_match(req->arena, chosen->pattern, &path, &req->params);
	status = chosen->handler(req, res);
	if (status != 0 && res->status == 0)
		res->status = status;
	return status;
}
