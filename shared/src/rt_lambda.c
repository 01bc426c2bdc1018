/* rt_lambda.c - the AWS Lambda Runtime API loop (version 2018-06-01).
 *
 *   GET  /2018-06-01/runtime/invocation/next          long poll; the event is
 *        the body, Lambda-Runtime-Aws-Request-Id / -Deadline-Ms / -Trace-Id
 *        are headers
 *   POST /2018-06-01/runtime/invocation/{id}/response the function's result
 *   POST /2018-06-01/runtime/invocation/{id}/error    {"errorMessage","errorType"}
 *        with Lambda-Runtime-Function-Error-Type
 *   POST /2018-06-01/runtime/init/error                start-up failed
 *
 * An HTTP response of any status (a handler's 500 included) is the function's
 * result and goes to /response; /error is only for an invocation that could
 * not be turned into a response event at all. The local gateway speaks the
 * same API to its workers, so this is also the local code path.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "config.h"
#include "fn.h"
#include "rtapi.h"
#include "log.h"
#include "rt.h"

#define API_VERSION "2018-06-01"
/* /next failures in a row before giving up (the API is gone). */
#define NEXT_MAX_FAILURES 5
/* Calls other than the long poll: the API is on loopback or the host. */
#define CONNECT_TIMEOUT_MS 2000
#define POST_TIMEOUT_MS    10000

static volatile sig_atomic_t g_stop;
static volatile sig_atomic_t g_idle;

static void on_signal(int sig)
{
	(void)sig;
	/* Waiting for an event holds nothing worth finishing: leave now. */
	if (g_idle)
		_exit(0);
	g_stop = 1;
}

/* SIGTERM/SIGINT stop the loop; SIGPIPE is ignored. */
void rt_loop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* Marks the loop as waiting for an event (a stop signal exits at once). */
void rt_loop_idle(int idle)
{
	g_idle = idle ? 1 : 0;
	/* A signal that came while busy ends the process at the next wait. */
	if (idle && g_stop)
		_exit(0);
}

/* True once a stop signal came during an invocation. */
int rt_loop_stopping(void)
{
	return g_stop != 0;
}

/* Sleeps 50 ms * 2^(attempt-1), at most 1 s. */
void rt_loop_backoff(int attempt)
{
	long ms = 50;
	struct timespec ts;

	while (--attempt > 0 && ms < 1000)
		ms *= 2;
	if (ms > 1000)
		ms = 1000;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !g_stop)
		;
}

/* Logs a failed /next; gives up after NEXT_MAX_FAILURES in a row. */
int rt_loop_next_failed(int *failures, const char *why, long status)
{
	log_error("runtime API /next failed: %s (status %ld)", why, status);
	if (++*failures >= NEXT_MAX_FAILURES) {
		log_error("runtime API unreachable after %d attempts; exiting", *failures);
		return -1;
	}
	rt_loop_backoff(*failures);
	return 0;
}

/* GETs url (the /next long poll) with no time limit, marked idle. */
int rt_loop_next(struct arena *a, const char *url, struct httpc_res *res)
{
	struct httpc_req hreq = {
	        .method = "GET",
	        .url = url,
	        .connect_timeout_ms = CONNECT_TIMEOUT_MS,
	        .timeout_ms = -1,
	        .max_response = g_cfg.max_body * 2 + 1024 * 1024,
	};
	int rc;

	memset(res, 0, sizeof(*res));
	rt_loop_idle(1);
	rc = rtapi_do(a, &hreq, res);
	rt_loop_idle(0);
	return rc;
}

/* The handler's response event for the /next body, serialised. */
char *rt_loop_handle(const struct fn_app *app, const struct httpc_res *ev, const char *id,
                     long long deadline_ms)
{
	cJSON *out = fn_handle_event(app, ev->body ? ev->body : "", ev->body_len, id, deadline_ms);
	char *result = out ? cJSON_PrintUnformatted(out) : NULL;

	cJSON_Delete(out);
	return result;
}

/* POSTs body (JSON) to url with an optional extra header. Returns the HTTP
 * status, or -1 when no response came. */
long rt_post_json(struct arena *a, const char *url, const char *body, const char *header)
{
	const char *headers[3] = {"Content-Type: application/json", header, NULL};
	struct httpc_req hreq = {
	        .method = "POST",
	        .url = url,
	        .headers = headers,
	        .body = body,
	        .body_len = strlen(body),
	        .connect_timeout_ms = CONNECT_TIMEOUT_MS,
	        .timeout_ms = POST_TIMEOUT_MS,
	        .max_response = 64 * 1024,
	};
	struct httpc_res hres;

	memset(&hres, 0, sizeof(hres));
	if (rtapi_do(a, &hreq, &hres) != 0) {
		log_error("runtime API %s: %s", url, hres.error);
		return -1;
	}
	return hres.status;
}

/* {"errorMessage":message,"errorType":type} as a malloc'd string. */
char *rt_error_body(const char *type, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;

	if (o && cJSON_AddStringToObject(o, "errorMessage", message) &&
	    cJSON_AddStringToObject(o, "errorType", type))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static long post_error(struct arena *a, const char *url, const char *type, const char *message)
{
	char *body = rt_error_body(type, message);
	char *hdr = arena_printf(a, "Lambda-Runtime-Function-Error-Type: %s", type);
	long st;

	if (!body)
		return -1;
	st = rt_post_json(a, url, body, hdr);
	free(body);
	return st;
}

/* POSTs /runtime/init/error; 0 when accepted. */
int rt_lambda_init_error(const char *api, const char *type, const char *message)
{
	struct arena *a = arena_new();
	char *url = arena_printf(a, "http://%s/" API_VERSION "/runtime/init/error", api);
	long st = post_error(a, url, type, message);

	arena_free(a);
	return st >= 200 && st < 300 ? 0 : -1;
}

/* Answers one invocation. Returns 0, or -1 when the API could not be told. */
static int answer(struct arena *a, const char *base, const char *id, char *result)
{
	char *url;
	long st;

	if (!result) {
		url = arena_printf(a, "%s/invocation/%s/error", base, id);
		st = post_error(a, url, "Runtime.InternalError",
		                "the invocation could not be turned into a response");
		return st >= 200 && st < 300 ? 0 : -1;
	}
	url = arena_printf(a, "%s/invocation/%s/response", base, id);
	st = rt_post_json(a, url, result, NULL);
	if (st == 413) {
		/* Over the platform's payload limit: report it as the error. */
		log_error("response event too large for the runtime API");
		url = arena_printf(a, "%s/invocation/%s/error", base, id);
		st = post_error(a, url, "Function.ResponseSizeTooLarge",
		                "response payload is too large");
	}
	if (st < 200 || st >= 300) {
		log_error("runtime API refused the answer: status %ld", st);
		return -1;
	}
	return 0;
}

/* The invocation loop; 0 after SIGTERM, 1 when the API is gone. */
int rt_lambda_run(const struct fn_app *app, const char *api)
{
	struct arena *a = arena_new();
	char *base = NULL;
	int failures = 0, rc = 1;

	rt_loop_signals();
	base = arena_printf(a, "http://%s/" API_VERSION "/runtime", api);
	/* base lives in its own arena; each invocation gets a fresh one. */
	for (;;) {
		struct arena *ia = arena_new();
		struct httpc_res hres;
		const char *id, *deadline, *trace;
		long long deadline_ms = 0;
		char *result;
		int got = rt_loop_next(ia, arena_printf(ia, "%s/invocation/next", base), &hres);

		id = hres.status == 200 ? kv_get(&hres.headers, "lambda-runtime-aws-request-id")
		                        : NULL;
		if (got != 0 || hres.status != 200 || !id || !*id) {
			/* An event over the size cap also lands here: it cannot be
			 * answered without its id, and the platform times it out. */
			int gone = rt_loop_next_failed(&failures,
			                               got                  ? hres.error
			                               : hres.status != 200 ? "unexpected status"
			                                                    : "no request id",
			                               hres.status);

			arena_free(ia);
			if (gone)
				goto out;
			continue;
		}
		failures = 0;
		deadline = kv_get(&hres.headers, "lambda-runtime-deadline-ms");
		if (deadline) {
			char *end;
			errno = 0;
			long long v = strtoll(deadline, &end, 10);
			if (errno == 0 && end != deadline && *end == '\0' && v > 0)
				deadline_ms = v;
		}
		trace = kv_get(&hres.headers, "lambda-runtime-trace-id");
		if (trace && *trace)
			setenv("_X_AMZN_TRACE_ID", trace, 1);
		else
			unsetenv("_X_AMZN_TRACE_ID");

		result = rt_loop_handle(app, &hres, id, deadline_ms);
		answer(ia, base, id, result);
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
