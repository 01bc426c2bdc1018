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

#endif
