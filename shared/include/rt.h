/* rt.h - runtime adapters (private to shared/; fn_main chooses one).
 * Each returns the process exit status. */
#ifndef RT_H
#define RT_H

struct fn_app;

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

/* Shared by the Lambda and SCF loops (rt_lambda.c). SIGTERM/SIGINT end the
 * process with status 0 at once while idle (waiting for the next event),
 * otherwise after the current invocation has been answered. */
void rt_loop_signals(void);
void rt_loop_idle(int idle);
int rt_loop_stopping(void);
/* Sleeps before retry number attempt (1, 2, ...): 50 ms doubling, max 1 s. */
void rt_loop_backoff(int attempt);

#endif
