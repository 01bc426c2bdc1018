/* rt_scf.c - the Tencent SCF custom runtime loop.
 *
 * Tencent's custom-runtime documentation (cloud.tencent.com/document/product/
 * 583/47274) gives the API at http://$SCF_RUNTIME_API:$SCF_RUNTIME_API_PORT:
 *   POST /runtime/init/ready          once, when initialisation is done
 *   GET  /runtime/invocation/next     long poll; the event is the body
 *   POST /runtime/invocation/response the result of that event
 *   POST /runtime/invocation/error    the invocation failed
 * One event is in flight per instance, so the response and error paths carry
 * no id. Choices where the documentation is silent:
 *   - the request id is read from a "request_id" header of /next (also
 *     "x-scf-request-id" or "x-request-id"); without one, the event's
 *     requestContext.requestId is used, else a generated id;
 *   - the error body is {"errorMessage","errorType"}, like Lambda's;
 *   - SCF_RUNTIME_API may carry the port itself ("host:port") when
 *     SCF_RUNTIME_API_PORT is unset; otherwise the port defaults to 9001;
 *   - a failed init/ready or repeated /next failures end the process with 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "fn.h"
#include "rtapi.h"
#include "log.h"
#include "rt.h"

#define MAX_FAILURES 5
#define DEFAULT_PORT "9001"

static const char *const id_headers[] = {"request_id", "x-scf-request-id", "x-request-id"};

static int ok(long status)
{
	return status >= 200 && status < 300;
}

/* Reports readiness, retrying a few times. Returns 0 or -1. */
static int init_ready(const char *base)
{
	for (int attempt = 1; attempt <= MAX_FAILURES; attempt++) {
		struct arena *a = arena_new();
		long st =
		        rt_post_json(a, arena_printf(a, "%s/runtime/init/ready", base), "{}", NULL);
		arena_free(a);
		if (ok(st))
			return 0;
		log_error("runtime API init/ready failed (status %ld)", st);
		rt_loop_backoff(attempt);
	}
	return -1;
}

static int answer(struct arena *a, const char *base, char *result)
{
	long st;

	if (result) {
		st = rt_post_json(a, arena_printf(a, "%s/runtime/invocation/response", base),
		                  result, NULL);
	} else {
		char *body = rt_error_body("Runtime.InternalError",
		                           "the invocation could not be turned into a response");

		st = body ? rt_post_json(a, arena_printf(a, "%s/runtime/invocation/error", base),
		                         body, NULL)
		          : -1;
		free(body);
	}
	if (!ok(st)) {
		log_error("runtime API refused the answer: status %ld", st);
		return -1;
	}
	return 0;
}

/* init/ready, then the invocation loop; 0 after SIGTERM, 1 when the API is gone. */
int rt_scf_run(const struct fn_app *app, const char *api)
{
	struct arena *a = arena_new();
	const char *port = getenv("SCF_RUNTIME_API_PORT");
	const char *base;
	int failures = 0, rc = 1;

	rt_loop_signals();
	if (port && *port)
		base = arena_printf(a, "http://%s:%s", api, port);
	else if (strchr(api, ':'))
		base = arena_printf(a, "http://%s", api);
	else
		base = arena_printf(a, "http://%s:" DEFAULT_PORT, api);
	if (init_ready(base) < 0) {
		log_error("runtime API init/ready never accepted; exiting");
		goto out;
	}
	for (;;) {
		struct arena *ia = arena_new();
		struct httpc_res hres;
		const char *id = NULL;
		char *result;
		int got = rt_loop_next(ia, arena_printf(ia, "%s/runtime/invocation/next", base),
		                       &hres);

		if (got != 0 || hres.status != 200) {
			int gone = rt_loop_next_failed(&failures, got ? hres.error : "bad response",
			                               hres.status);

			arena_free(ia);
			if (gone)
				goto out;
			continue;
		}
		failures = 0;
		for (size_t i = 0; !id && i < sizeof(id_headers) / sizeof(id_headers[0]); i++)
			id = kv_get(&hres.headers, id_headers[i]);

		result = rt_loop_handle(app, &hres, id, 0);
		answer(ia, base, result);
		free(result);
		log_set_request_id(NULL);
		arena_free(ia);
		if (rt_loop_stopping())
			break;
	}
	rc = 0;
out:
	arena_free(a);
	return rc;
}
