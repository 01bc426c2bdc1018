/* gateway.h - the local API gateway: what its modules share.
 *
 * build/bin/gateway is to this project what API Gateway + Lambda are in the
 * cloud (see ../../../README.md, "The local gateway"). Modules:
 *
 *   main.c      flags and environment, start-up, SIGTERM drain, `emit`
 *   front.c     the public libmicrohttpd server: routes /api/... per the
 *               template's HttpApi events (v2 events to functions), CORS,
 *               body cap, request ids, access log, /healthz, /metrics; hands
 *               other paths to storage.c and static.c
 *   pool.c      worker processes per function speaking the Lambda Runtime API
 *               to a loopback libmicrohttpd server of its own; concurrency,
 *               wait queue, timeouts, memory limits, crashes, scale to zero;
 *               also the Lambda Invoke API (async invocations -> asyncq)
 *   template.c  deploy/template.yaml (AWS SAM) read with libyaml
 *   emit.c      Tencent serverless.yml files and Knative manifests from the
 *               template
 *   static.c    frontend files: content types, ETag/Last-Modified/304, no escape
 *   storage.c   the file:// object store at /storage/ with signed URLs
 *   asyncq.c    the durable async-invocation queue in PostgreSQL, retries,
 *               dead letters; S3 ObjectCreated fan-out
 *   sched.c     Schedule events (rate() / cron())
 *
 * Ownership: every struct here is created and freed by its module's
 * x_new()/x_free(); strings inside a struct tpl live as long as the tpl.
 */
#ifndef GATEWAY_H
#define GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct MHD_Connection;
struct MHD_Response;

/* ---- configuration (main.c) ---- */

struct gw_config {
	const char *listen;          /* GATEWAY_ADDR, "127.0.0.1:8080" */
	const char *template_path;   /* --template, "deploy/template.yaml" */
	const char *bin_dir;         /* --bin-dir, "build/bin": binaries by CodeUri basename */
	const char *static_dir;      /* --static, "frontend/blog" */
	const char *storage_dir;     /* from STORAGE_URL=file://DIR, ".data/objects" */
	const char *database_url;    /* DATABASE_URL (async queue) */
	const char *public_url;      /* GATEWAY_PUBLIC_URL, "http://<listen>" (signed URLs) */
	size_t max_body;             /* GW_MAX_BODY, 10M (API Gateway's limit) */
	size_t storage_max;          /* GW_STORAGE_MAX, 50M: one PUT to /storage/ */
	int idle_s;                  /* GW_IDLE_SECONDS, 300: idle workers stop */
	int default_concurrency;     /* GW_CONCURRENCY, 4: when no ReservedConcurrentExecutions */
	int queue_len;               /* GW_QUEUE_LENGTH, 100: waiting requests per function */
	double time_scale;           /* GW_TIME_SCALE, 1: schedules run this many times faster */
	int async_max_attempts;      /* GW_ASYNC_ATTEMPTS, 3: then dead letter (AWS default: 2 retries) */
	bool memory_limits;          /* GW_MEMORY_LIMITS, true: MemorySize -> setrlimit */
};

/* ---- template.c: deploy/template.yaml ---- */

struct tpl_http {
	const char *method;  /* upper-case, or "ANY" */
	const char *path;    /* "/api/articles/{id}", may end in "{proxy+}" */
};

struct tpl_s3 {
	const char *bucket;  /* logical id of the bucket resource */
	const char *event;   /* "s3:ObjectCreated:*", "s3:ObjectCreated:Put" */
	const char *prefix;  /* "" when none */
	const char *suffix;  /* "" when none */
};

struct tpl_schedule {
	const char *name;        /* the event's key in Events */
	const char *expression;  /* "rate(5 minutes)", "cron(0 3 * * ? *)" */
	const char *input;       /* JSON text, or NULL */
	bool enabled;
};

struct tpl_env {
	const char *name;
	const char *value;  /* literal; intrinsic functions (!Ref ...) -> NULL (unset locally) */
};

struct tpl_function {
	const char *logical_id;  /* "ArticlesFunction" */
	const char *name;        /* CodeUri basename: "articles" (also the binary name) */
	const char *code_uri;
	int timeout_s;           /* Timeout, default 3 (SAM's) or Globals */
	int memory_mb;           /* MemorySize, default 128 or Globals */
	int reserved;            /* ReservedConcurrentExecutions, -1 when unset */
	struct tpl_env *env;     /* Globals' variables first, then the function's */
	size_t n_env;
	struct tpl_http *http;
	size_t n_http;
	struct tpl_s3 *s3;
	size_t n_s3;
	struct tpl_schedule *schedules;
	size_t n_schedules;
};

struct tpl_cors {
	bool enabled;
	const char **origins, **methods, **headers, **expose;
	size_t n_origins, n_methods, n_headers, n_expose;
	int max_age;             /* -1 when unset */
	bool credentials;
};

struct tpl {
	struct tpl_function *functions;
	size_t n_functions;
	struct tpl_cors cors;    /* Globals.HttpApi.CorsConfiguration */
};

/* Parses path; NULL with a message in err (file:line: what) on failure. */
struct tpl *tpl_load(const char *path, char *err, size_t errlen);
void tpl_free(struct tpl *t);
const struct tpl_function *tpl_function(const struct tpl *t, const char *name);

/* ---- emit.c ---- */

/* Writes every function's Tencent serverless.yml (documents separated by
 * "---") or Knative Service for t to out. 0 / -1. */
int emit_tencent(const struct tpl *t, FILE *out);
int emit_knative(const struct tpl *t, FILE *out);
/* Writes dir/<fn>/serverless.yml for every function (dir and the folders are
 * created when missing, files overwritten). 0, or -1 with err set. */
int emit_tencent_dir(const struct tpl *t, const char *dir, char *err, size_t errlen);

/* ---- pool.c: workers ---- */

enum inv_result {
	INV_OK,            /* out->body is the function's response JSON */
	INV_FUNCTION_ERROR,/* the worker posted /error: out->body is its error JSON */
	INV_THROTTLED,     /* concurrency and wait queue full (429) */
	INV_TIMEOUT,       /* Timeout passed: worker killed (504) */
	INV_CRASHED,       /* worker died mid-invocation (502) */
	INV_UNAVAILABLE,   /* could not start a worker / init error (502) */
	INV_UNKNOWN,       /* no such function */
	INV_STOPPING,      /* gateway is draining (503) */
};

struct inv_out {
	char *body;        /* malloc'd, NUL-terminated; caller frees; may be NULL */
	size_t len;
	bool cold;         /* a worker was started for this invocation */
	double ms;         /* queue wait + run */
};

struct pool;
struct asyncq;

/* Starts the Runtime API server on 127.0.0.1 (ephemeral port); no workers
 * until the first invocation. */
struct pool *pool_new(const struct tpl *t, const struct gw_config *cfg);
/* Runs one invocation and waits for it (bounded by the function's Timeout
 * plus the time spent queued). Thread-safe. */
enum inv_result pool_invoke(struct pool *p, const char *fn, const char *event, size_t len,
			    struct inv_out *out);
/* Where async Invoke API calls go (set once, before traffic). */
void pool_set_asyncq(struct pool *p, struct asyncq *q);
/* "127.0.0.1:PORT" of the Runtime API server (workers' AWS_LAMBDA_RUNTIME_API
 * is this plus "/w/<worker id>"). */
const char *pool_runtime_addr(const struct pool *p);
/* Stops taking invocations, waits up to timeout_s for running ones, stops
 * every worker. */
void pool_drain(struct pool *p, int timeout_s);
void pool_free(struct pool *p);
/* Prometheus text: cold starts, live workers, in-flight, queued, per function. */
void pool_metrics(struct pool *p, FILE *out);
/* The function binary name in the colon-separated dirs (--bin-dir): the
 * first executable regular file dir/name, written to out; NULL when none. */
const char *pool_find_binary(const char *dirs, const char *name, char *out, size_t outlen);

/* ---- asyncq.c ---- */

struct asyncq *asyncq_new(struct pool *p, const struct tpl *t, const struct gw_config *cfg);
/* Stores the event durably (committed before return). dedupe_key may be NULL;
 * a second enqueue with the same (fn, dedupe_key) is dropped. 0 / -1. */
int asyncq_enqueue(struct asyncq *q, const char *fn, const char *payload, size_t len,
		   const char *dedupe_key);
/* Enqueues an S3 ObjectCreated:Put event for every function whose S3 event
 * matches key (prefix/suffix), once per (function, key, etag). 0 / -1. */
int asyncq_object_created(struct asyncq *q, const char *bucket, const char *key, size_t size,
			  const char *etag);
void asyncq_stop(struct asyncq *q);
void asyncq_free(struct asyncq *q);
void asyncq_metrics(struct asyncq *q, FILE *out);

/* ---- sched.c ---- */

struct sched;
struct sched *sched_new(const struct tpl *t, struct asyncq *q, const struct gw_config *cfg);
void sched_free(struct sched *s);
/* Seconds from now until expression next fires (at scale 1); -1 if invalid.
 * Exposed for tests. */
long sched_next_delay(const char *expression, long now_epoch);

/* ---- static.c and storage.c: replies the front sends ---- */

struct gw_reply {
	unsigned status;
	struct MHD_Response *resp;  /* owned by the caller after return */
};

/* Serves root/url for GET/HEAD. 0 when it made a reply (200, 304, 404, 405),
 * -1 on an internal error. */
int static_reply(struct MHD_Connection *con, const char *root, const char *method,
		 const char *url, struct gw_reply *out);

/* Added by static.c's author, shared with storage.c and front.c: */
/* The Content-Type for a file name by its extension ("; charset=utf-8" for
 * text), "application/octet-stream" when unknown. Static string. */
const char *static_content_type(const char *name);
/* Fills out with status and {"error":{"code":code,"message":message}} (both
 * the gateway's own constants: not escaped). 0 / -1. */
int static_error(struct gw_reply *out, unsigned status, const char *code, const char *message);
/* False when a raw request target (before percent-decoding) has an encoded
 * slash, backslash, dot or NUL (%2F %5C %2E %00), a raw backslash or a
 * malformed escape in its path: such a request is a 404 for static files.
 * NOTE: static_reply and storage_reply take url as the RAW path (still
 * percent-encoded, no query), as front.c passes it, and decode it once
 * themselves; static_reply applies this test first. */
bool static_uri_safe(const char *uri);
struct stat;
/* Where the open fd really is (from /proc/self/fd, else realpath(path)):
 * 0, or -1 when neither tells. */
int static_fd_realpath(int fd, const char *path, char *out, size_t outlen);
/* Makes out a reply for the regular file open on *fd (st: its fstat): a 304
 * without a body when not_modified, else a 200 with the file (MHD takes the
 * fd and *fd becomes -1); both with Content-Type type, ETag etag (none when
 * ""), Last-Modified, Cache-Control cache_control and nosniff. 0 / -1. */
int static_file_reply(int *fd, const struct stat *st, bool not_modified, const char *type,
		      const char *etag, const char *cache_control, struct gw_reply *out);

struct storage;
struct storage *storage_new(const struct gw_config *cfg, struct asyncq *q);
void storage_free(struct storage *s);
/* url starts with "/storage/" (signed GET/HEAD/PUT) or "/media/" (public
 * GET/HEAD of keys under uploads/). body/len: the PUT body (already capped). */
int storage_reply(struct storage *s, struct MHD_Connection *con, const char *method,
		  const char *url, const char *body, size_t len, struct gw_reply *out);

/* ---- front.c: the public server ---- */

struct front;
/* Listens on cfg->listen (port 0: any) and serves until front_drain();
 * NULL after logging why. storage may be NULL (an s3:// store: /storage/ is
 * not served). cfg, t, p and s must outlive the front. */
struct front *front_new(const struct gw_config *cfg, const struct tpl *t, struct pool *p,
			struct storage *s);
/* Where /metrics gets the queue's figures; NULL (no database) leaves them
 * out. Set once, before traffic. */
void front_set_asyncq(struct front *f, struct asyncq *q);
/* "http://127.0.0.1:8080": the address actually bound. Borrowed. */
const char *front_url(const struct front *f);
/* Stops accepting: new connections are refused, new requests on open
 * connections get 503; requests already started go on. */
void front_quiesce(struct front *f);
/* Quiesces, waits up to timeout_s for started requests to finish (each
 * completes its pool_invoke), then closes every connection. */
void front_drain(struct front *f, int timeout_s);
/* Stops the server if still running; NULL ok. */
void front_free(struct front *f);

#endif
