/* router.h - method + path pattern dispatch.
 *
 * Patterns are literal segments and {name} segments ("/api/articles/{id}").
 * A {name} matches one non-empty segment; its percent-decoded value becomes
 * req_param(name). No match -> 404; path matches but method does not -> 405
 * with an Allow header; HEAD falls back to GET; OPTIONS on a known path -> 204
 * with Allow.
 */
#ifndef ROUTER_H
#define ROUTER_H

struct req;
struct res;

/* Handlers return the HTTP status they set in res. */
typedef int (*handler_fn)(struct req *req, struct res *res);

struct route {
	const char *method;  /* "GET", "POST", ..., or "EVENT" for non-HTTP events */
	const char *pattern;
	handler_fn handler;
};

/* Route tables end with this. */
#define ROUTES_END { NULL, NULL, NULL }

/* Finds the route, fills req->params, calls the handler. Returns the status. */
int router_dispatch(const struct route *routes, struct req *req, struct res *res);

#endif
