/* rt.h - runtime adapters (private to shared/; fn_main chooses one).
 * Each returns the process exit status. */
#ifndef RT_H
#define RT_H

#include <stddef.h>

struct arena;
struct fn_app;
struct httpc_res;

/* Lambda Runtime API loop against http://$AWS_LAMBDA_RUNTIME_API. */
int rt_lambda_run(const struct fn_app *app, const char *api);
/* Tencent SCF custom runtime loop against http://$SCF_RUNTIME_API[:$SCF_RUNTIME_API_PORT]. */
int rt_scf_run(const struct fn_app *app, const char *api);
/* HTTP server on addr ("127.0.0.1:8080", ":8080" or "8080") until SIGTERM/SIGINT;
 * in-flight requests finish before it returns. */
int rt_http_run(const struct fn_app *app, const char *addr);
/* Reads one event from path (or stdin when path is NULL or "-"), writes the
 * response JSON and a newline to stdout. Exit 0 when a response was written. */
int rt_invoke_run(const struct fn_app *app, const char *path);

/* Reports a start-up failure to POST http://api/2018-06-01/runtime/init/error
 * (Lambda mode, before exiting 1). Works before the configuration is loaded.
 * Returns 0 when the API accepted it. */
int rt_lambda_init_error(const char *api, const char *type, const char *message);

/* A fresh request id: 16 random bytes as 32 lower-case hex digits. */
void rt_new_request_id(char out[33]);

/* Opens a bound, listening TCP socket (close-on-exec, SO_REUSEADDR) for addr:
 * "[HOST]:PORT", "HOST:PORT", ":PORT" (all addresses) or "PORT" (127.0.0.1);
 * port 0 picks a free one. Writes "HOST:PORT" ("[HOST]:PORT" for IPv6, with
 * the port actually bound) to desc. Returns the fd, or -1 with a logged
 * reason. Also used by the local gateway (deploy/local/gateway/front.c). */
int rt_listen_socket(const char *addr, int backlog, char *desc, size_t desclen);

/* Shared by the Lambda and SCF loops (rt_lambda.c). SIGTERM/SIGINT end the
 * process with status 0 at once while idle (waiting for the next event),
 * otherwise after the current invocation has been answered. */
void rt_loop_signals(void);
void rt_loop_idle(int idle);
int rt_loop_stopping(void);
/* Sleeps before retry number attempt (1, 2, ...): 50 ms doubling, max 1 s. */
void rt_loop_backoff(int attempt);
/* The long poll for the next event: GETs url with no time limit and a cap
 * fitting the largest event, idle (see rt_loop_idle) while it waits. Returns
 * rtapi_do's result; res is always set. */
int rt_loop_next(struct arena *a, const char *url, struct httpc_res *res);
/* Counts one more failed /next in a row (*failures; the caller resets it
 * after a success) and logs why and status. Returns 0 after sleeping the
 * backoff, -1 (logged) when the API is taken for gone: 5 failures in a row. */
int rt_loop_next_failed(int *failures, const char *why, long status);
/* Runs the event in ev's body through fn_handle_event (id: the platform's
 * request id or NULL; deadline_ms: epoch ms or 0) and returns the response
 * event as a malloc'd JSON string, NULL when none could be made. */
char *rt_loop_handle(const struct fn_app *app, const struct httpc_res *ev, const char *id,
                     long long deadline_ms);
/* POSTs body (JSON) to url with an optional extra header line (NULL for
 * none), with the loops' connect and total timeouts. Returns the HTTP status,
 * or -1 (logged) when no response came. */
long rt_post_json(struct arena *a, const char *url, const char *body, const char *header);
/* {"errorMessage":message,"errorType":type} as a malloc'd string (NULL when
 * out of memory). */
char *rt_error_body(const char *type, const char *message);

#endif
