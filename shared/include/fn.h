/* fn.h - the function contract: a route table plus handlers.
 *
 *   static const struct route routes[] = {
 *           { "GET", "/api/articles", articles_list },
 *           ROUTES_END
 *   };
 *   static const struct fn_app app = { "articles", routes, NULL };
 *   int main(int argc, char **argv) { return fn_main(argc, argv, &app); }
 *
 * fn_main loads the configuration once (cold start), runs app->init, then
 * picks the runtime adapter:
 *   AWS_LAMBDA_RUNTIME_API set -> Lambda Runtime API loop
 *   SCF_RUNTIME_API set        -> Tencent SCF custom runtime loop
 *   --http [ADDR:]PORT, or PORT set -> HTTP server (libmicrohttpd)
 *   invoke [FILE]              -> one event from FILE or stdin, response on stdout
 */
#ifndef FN_H
#define FN_H

#include "req.h"
#include "res.h"
#include "router.h"

struct fn_app {
	const char *name;
	const struct route *routes;
	/* Optional, run once after config load; non-zero aborts start-up. */
	int (*init)(void);
};

int fn_main(int argc, char **argv, const struct fn_app *app);

/* Handles one request end to end: dispatch, catch-all errors (a handler that
 * set no status -> 500), rollback of a transaction left open, request log line.
 * Used by every adapter. Returns the final status. */
int fn_handle(const struct fn_app *app, struct req *req, struct res *res);

/* One event in, one response event out (Lambda, SCF, invoke). request_id and
 * deadline_ms (0 if unknown) go to req->ctx. Caller frees with cJSON_Delete. */
cJSON *fn_handle_event(const struct fn_app *app, const char *event_json, size_t len,
		       const char *request_id, long long deadline_ms);

/* The running app (set by fn_main), for adapters and logs. */
const struct fn_app *fn_app_current(void);

#endif
