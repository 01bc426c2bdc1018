/* fn.c - the function contract: start-up, adapter choice, and the one path
 * every request takes (fn_handle) whatever adapter brought it in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "event.h"
#include "fn.h"
#include "json.h"
#include "log.h"
#include "rt.h"

/* Event JSON may nest a little deeper than a request body: the direct-invoke
 * body sits one level down, and platform envelopes add a few levels. */
#define EVENT_MAX_DEPTH (JSON_MAX_DEPTH + 8)

static const struct fn_app *g_app;

/* The app fn_main is running (NULL before). */
const struct fn_app *fn_app_current(void)
{
	return g_app;
}

/* 32 hex digits from the CSPRNG (clock-derived if it ever fails). */
void rt_new_request_id(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];

	if (crypto_random(raw, sizeof(raw)) != 0) {
		/* Ids only correlate logs; a clock-based one will do. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long long v = (unsigned long long)ts.tv_sec * 1000000000ull +
		                       (unsigned long long)ts.tv_nsec;
		for (size_t i = 0; i < sizeof(raw); i++) {
			raw[i] = (unsigned char)(v >> ((i % 8) * 8));
			v = v * 6364136223846793005ull + 1442695040888963407ull;
		}
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[32] = '\0';
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* A platform id is echoed in a response header: printable ASCII only. */
static int id_usable(const char *id)
{
	if (!id[0])
		return 0;
	for (const char *p = id; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 0;
	}
	return 1;
}

/* Sets the request id (generated when missing) for the logs. */
static void request_id_prepare(struct req *req)
{
	if (!id_usable(req->ctx.request_id))
		rt_new_request_id(req->ctx.request_id);
	log_set_request_id(req->ctx.request_id);
}

/* Dispatches one request and enforces the response contract. */
int fn_handle(const struct fn_app *app, struct req *req, struct res *res)
{
	double start = now_ms();
	int status;

	request_id_prepare(req);
	req->ctx.function = app->name;
	status = router_dispatch(app->routes, req, res);
	/* The returned status is the one that counts. */
	if (status >= 100 && status <= 599)
		res->status = status;
	if (status < 100 || status > 599 || (status >= 400 && (!res->body || res->body_len == 0))) {
		log_error("handler for %s %s returned %d (response status %d, %zu body bytes)",
		          req->method, req->path, status, res->status,
		          res->body ? res->body_len : 0);
		res_init(res, res->arena);
		status = res_error(res, 500, "internal_error", "internal error", NULL);
	}
	if (db_in_transaction()) {
		log_error("handler left a transaction open; rolled back");
		db_rollback();
	}
	res_header_set(res, "X-Request-Id", req->ctx.request_id);
	log_request(req->method, req->path, status, now_ms() - start);
	/* In HTTP mode libmicrohttpd drops a HEAD body itself and keeps the
	 * GET Content-Length; events carry no body for HEAD. */
	if (req->kind != REQ_HTTP && strcmp(req->method, "HEAD") == 0) {
		res->body = NULL;
		res->body_len = 0;
	}
	return status;
}

static void json_delete(void *p)
{
	cJSON_Delete(p);
}

/* Event JSON text in, response event out; never NULL but on out of memory. */
cJSON *fn_handle_event(const struct fn_app *app, const char *event_json, size_t len,
                       const char *request_id, long long deadline_ms)
{
	struct arena *a = arena_new();
	struct req req;
	struct res res;
	cJSON *ev, *out;

	req_init(&req, a);
	res_init(&res, a);
	req.ctx.deadline_ms = deadline_ms;
	req.ctx.function = app->name;
	ev = json_parse_limited(event_json, len, EVENT_MAX_DEPTH);
	if (!ev) {
		res_error(&res, 400, "invalid_event", "event is not valid JSON", NULL);
	} else {
		arena_defer(a, json_delete, ev);
		if (event_to_req(ev, &req, &res, g_cfg.max_body) == 0) {
			/* The platform's id wins over one found in the event. */
			if (request_id && *request_id)
				snprintf(req.ctx.request_id, sizeof(req.ctx.request_id), "%s",
				         request_id);
			fn_handle(app, &req, &res);
			goto render;
		}
	}
	/* The event never reached a handler: still give it an id and a log line. */
	if (request_id && *request_id)
		snprintf(req.ctx.request_id, sizeof(req.ctx.request_id), "%s", request_id);
	request_id_prepare(&req);
	res_header_set(&res, "X-Request-Id", req.ctx.request_id);
	log_request(ev ? req.method : "-", ev ? req.path : "-", res.status, 0.0);
render:
	out = event_from_res(&res, req.kind);
	if (!out)
		log_error("cannot render the response event");
	arena_free(a);
	return out;
}

static void usage(FILE *f, const char *name)
{
	fprintf(f,
	        "usage: %s [--http [ADDR:]PORT | invoke [FILE] | --help]\n"
	        "\n"
	        "Runs the %s function. The runtime is chosen by:\n"
	        "  --http [ADDR:]PORT        HTTP server (also when PORT is set)\n"
	        "  invoke [FILE]             one event JSON from FILE or stdin, response on "
	        "stdout\n"
	        "  AWS_LAMBDA_RUNTIME_API    AWS Lambda Runtime API loop\n"
	        "  SCF_RUNTIME_API           Tencent SCF custom runtime loop\n"
	        "Command-line modes win over the environment.\n"
	        "\n"
	        "Environment:\n",
	        name, name);
	for (size_t i = 0; i < config_shared_count; i++) {
		const struct config_var *v = &config_shared_vars[i];
		fprintf(f, "  %-26s %s%s%s%s\n", v->name, v->help ? v->help : "",
		        v->def ? " (default " : "", v->def ? v->def : "", v->def ? ")" : "");
	}
}

enum mode { MODE_NONE, MODE_HTTP, MODE_INVOKE, MODE_HELP };

/* Returns 0, or -1 for a command line that makes no sense. */
static int parse_args(int argc, char **argv, enum mode *mode, const char **arg)
{
	*mode = MODE_NONE;
	*arg = NULL;
	if (argc <= 1)
		return 0;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		*mode = MODE_HELP;
		return argc == 2 ? 0 : -1;
	}
	if (strcmp(argv[1], "--http") == 0) {
		if (argc != 3 || !argv[2][0])
			return -1;
		*mode = MODE_HTTP;
		*arg = argv[2];
		return 0;
	}
	if (strcmp(argv[1], "invoke") == 0) {
		if (argc > 3)
			return -1;
		*mode = MODE_INVOKE;
		*arg = argc == 3 ? argv[2] : NULL;
		return 0;
	}
	return -1;
}

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* Start-up: arguments, configuration, init, then the chosen adapter. */
int fn_main(int argc, char **argv, const struct fn_app *app)
{
	const char *lambda_api = env_nonempty("AWS_LAMBDA_RUNTIME_API");
	const char *scf_api = env_nonempty("SCF_RUNTIME_API");
	const char *port = env_nonempty("PORT");
	const char *arg = NULL;
	enum mode mode;
	char err[256] = "";
	int rc = 1;

	g_app = app;
	log_set_function(app->name);
	if (parse_args(argc, argv, &mode, &arg) < 0) {
		usage(stderr, app->name);
		return 2;
	}
	if (mode == MODE_HELP) {
		usage(stdout, app->name);
		return 0;
	}
	/* Explicit command-line modes win over the platform's variables. */
	if (mode != MODE_NONE)
		lambda_api = scf_api = NULL;

	if (config_load_shared(err, sizeof(err)) != 0) {
		log_error("configuration error: %s", err);
		if (lambda_api)
			rt_lambda_init_error(lambda_api, "Runtime.ConfigError", err);
		goto out;
	}
	log_set_level((enum log_level)g_cfg.log_level);
	if (app->init && app->init() != 0) {
		log_error("initialisation of %s failed", app->name);
		if (lambda_api)
			rt_lambda_init_error(lambda_api, "Runtime.InitError",
			                     "function initialisation failed");
		goto out;
	}

	if (mode == MODE_INVOKE)
		rc = rt_invoke_run(app, arg);
	else if (mode == MODE_HTTP)
		rc = rt_http_run(app, arg);
	else if (lambda_api)
		rc = rt_lambda_run(app, lambda_api);
	else if (scf_api)
		rc = rt_scf_run(app, scf_api);
	else if (port) {
		/* A platform port (Cloud Run, Knative, SCF Web Function) must be
		 * reachable from outside: every interface, not loopback. */
		char all[32];
		if (snprintf(all, sizeof(all), ":%s", port) >= (int)sizeof(all)) {
			fprintf(stderr, "%s: PORT: too long\n", app->name);
			rc = 2;
		} else {
			rc = rt_http_run(app, all);
		}
	}
	else {
		fprintf(stderr,
		        "%s: no runtime: set AWS_LAMBDA_RUNTIME_API, SCF_RUNTIME_API "
		        "or PORT, or give --http or invoke\n\n",
		        app->name);
		usage(stderr, app->name);
		rc = 2;
	}
out:
	db_close();
	return rc;
}
