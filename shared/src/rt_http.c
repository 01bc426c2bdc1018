/* rt_http.c - the HTTP server adapter (libmicrohttpd).
 *
 * Used for SCF Web Functions, Knative, OpenFaaS http mode and Cloud Run.
 * Handlers run one at a time: db.c keeps one PostgreSQL connection per
 * process and it is not thread-safe (and the FaaS model runs one request per
 * instance anyway). So MHD runs RT_HTTP_THREADS = 1 epoll thread: with the
 * handlers serialised, four threads measured 15.5k req/s with a p99 of 25 ms
 * on GET /api/articles/1 (wrk -c32), one thread 19.8k req/s and 2.8 ms. The
 * lock (srv.lock) stays, so a larger pool remains correct. The request
 * arena is likewise one, reused under the lock; response bodies are copied to
 * MHD before the arena is reset.
 *
 * SIGTERM / SIGINT: stop accepting, let in-flight requests finish (up to
 * RT_HTTP_DRAIN_S seconds; a second signal cuts the wait short), then stop.
 */
#include "rt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "arena.h"
#include "config.h"
#include "fn.h"
#include "log.h"
#include "req.h"
#include "res.h"

#define RT_HTTP_THREADS 1
#define RT_HTTP_DRAIN_S        30
#define RT_HTTP_IDLE_TIMEOUT_S 60

/* One request between MHD's callbacks: created when the request line
 * arrives, freed when MHD reports the request completed. */
struct http_call {
	char *uri;           /* raw request target (escapes kept) */
	unsigned char *body; /* malloc'd, grown up to max_body */
	size_t len, cap;
	bool started;   /* the first access-handler call happened */
	bool too_large; /* body went past max_body: discard, answer 413 */
	struct timespec t0;
};

struct http_server {
	const struct fn_app *app;
	pthread_mutex_t lock; /* serialises handlers (see top) */
	struct arena *arena;  /* only used under lock */
	atomic_int inflight;  /* requests between request line and completion */
	atomic_bool draining;
	size_t max_body;
};

static double ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("http: %s", msg);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct http_server *srv = cls;
	struct http_call *call = calloc(1, sizeof(*call));

	(void)con;
	if (call == NULL)
		return NULL;
	call->uri = strdup(uri != NULL ? uri : "/");
	if (call->uri == NULL) {
		free(call);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &call->t0);
	atomic_fetch_add(&srv->inflight, 1);
	return call;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct http_call *call = *req_cls;

	(void)con;
	(void)toe;
	if (call == NULL)
		return;
	*req_cls = NULL;
	free(call->body);
	free(call->uri);
	free(call);
	atomic_fetch_sub(&srv->inflight, 1);
}

static bool request_id_ok(const char *id);

/* Queues a JSON error that MHD sends with Connection: close; used before a
 * struct req exists, so it takes the request id from the headers itself. */
static enum MHD_Result send_error(struct http_server *srv, struct MHD_Connection *con,
                                  struct http_call *call, const char *method, unsigned status,
                                  const char *code, const char *message)
{
	char body[256], id[80];
	const char *rid;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int n;

	n = snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code,
	             message);
	if (n < 0 || (size_t)n >= sizeof(body))
		return MHD_NO;
	resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	rid = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "X-Request-Id");
	if (request_id_ok(rid))
		snprintf(id, sizeof(id), "%s", rid);
	else
		rt_new_request_id(id);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "X-Request-Id", id);
	MHD_add_response_header(resp, "Connection", "close");
	ret = MHD_queue_response(con, status, resp);
	MHD_destroy_response(resp);
	(void)srv;
	log_set_request_id(id);
	log_request(method, call->uri, (int)status, ms_since(&call->t0));
	log_set_request_id(NULL);
	return ret;
}

static enum MHD_Result send_too_large(struct http_server *srv, struct MHD_Connection *con,
                                      struct http_call *call, const char *method)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "request body is larger than %zu bytes", srv->max_body);
	return send_error(srv, con, call, method, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
	                  msg);
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
	(void)kind;
	if (key != NULL)
		req_add_header(cls, key, value != NULL ? value : "");
	return MHD_YES;
}

static bool request_id_ok(const char *id)
{
	size_t n = 0;

	if (id == NULL)
		return false;
	for (; id[n] != '\0'; n++) {
		char c = id[n];

		if (n >= 64 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		                 (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return n > 0;
}

/* X-Request-Id when it is [A-Za-z0-9-]{1,64}, else a new one. */
static void set_request_id(struct req *req)
{
	const char *given = req_header(req, "x-request-id");

	if (request_id_ok(given))
		snprintf(req->ctx.request_id, sizeof(req->ctx.request_id), "%s", given);
	else
		rt_new_request_id(req->ctx.request_id);
}

static void set_source_ip(struct req *req, struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char ip[INET6_ADDRSTRLEN] = "";
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip,
		          sizeof(ip));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
		          sizeof(ip));
	req->source_ip = arena_strdup(req->arena, ip);
}

/* Copies res into an MHD response (headers in order, repeats kept). */
static struct MHD_Response *make_response(const struct res *res, const struct req *req, bool close)
{
	struct MHD_Response *resp;

	if (res->body != NULL && res->body_len > 0)
		resp = MHD_create_response_from_buffer(res->body_len, (void *)res->body,
		                                       MHD_RESPMEM_MUST_COPY);
	else
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return NULL;
	for (size_t i = 0; i < res->headers.n; i++) {
		const struct kv *h = &res->headers.items[i];

		if (strcasecmp(h->name, "content-length") == 0 ||
		    strcasecmp(h->name, "transfer-encoding") == 0 ||
		    (strcasecmp(h->name, "connection") == 0 && strcasecmp(h->value, "close") != 0))
			continue;
		if (MHD_add_response_header(resp, h->name, h->value) != MHD_YES)
			log_warn("http: response header %s refused", h->name);
	}
	if (kv_get(&res->headers, "x-request-id") == NULL)
		MHD_add_response_header(resp, "X-Request-Id", req->ctx.request_id);
	if (close && kv_get(&res->headers, "connection") == NULL)
		MHD_add_response_header(resp, "Connection", "close");
	return resp;
}

/* Builds the request, runs the handler, queues the response. Serialised. */
static enum MHD_Result handle(struct http_server *srv, struct MHD_Connection *con,
                              struct http_call *call, const char *method)
{
	struct req req;
	struct res res;
	struct MHD_Response *resp = NULL;
	enum MHD_Result ret = MHD_NO;
	char *path, *query;
	int status;

	pthread_mutex_lock(&srv->lock);
	req_init(&req, srv->arena);
	res_init(&res, srv->arena);
	req.kind = REQ_HTTP;
	req_set_method(&req, method);
	req.ctx.function = srv->app->name;
	MHD_get_connection_values(con, MHD_HEADER_KIND, add_header, &req);
	set_request_id(&req);
	set_source_ip(&req, con);
	req_set_body(&req, call->body != NULL ? call->body : (const unsigned char *)"", call->len);

	path = arena_strdup(srv->arena, call->uri);
	query = strchr(path, '?');
	if (query != NULL)
		*query++ = '\0';
	if (req_set_target(&req, path, query != NULL ? query : "") != 0) {
		status = res_error(&res, 400, "invalid_query", "malformed query string", NULL);
		log_set_request_id(req.ctx.request_id);
		log_request(req.method, req.path, status, ms_since(&call->t0));
	} else {
		log_set_request_id(req.ctx.request_id);
		status = fn_handle(srv->app, &req, &res);
	}
	log_set_request_id(NULL);
	if (status < 100 || status > 599) {
		res_init(&res, srv->arena);
		status = res_error(&res, 500, "internal_error", "internal error", NULL);
	}
	resp = make_response(&res, &req, atomic_load(&srv->draining));
	if (resp != NULL) {
		ret = MHD_queue_response(con, (unsigned)status, resp);
		MHD_destroy_response(resp);
	}
	arena_reset(srv->arena);
	pthread_mutex_unlock(&srv->lock);
	return ret;
}

/* Parses a Content-Length value; -1 when absent or not a number. */
static long long content_length(struct MHD_Connection *con)
{
	const char *v = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Length");
	char *end;
	long long n;

	if (v == NULL || v[0] < '0' || v[0] > '9')
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno == ERANGE)
		return LLONG_MAX;
	if (*end != '\0')
		return -1;
	return n;
}

static int body_append(struct http_call *call, const char *data, size_t n, size_t max)
{
	if (n > max - call->len)
		return -1;
	if (call->len + n > call->cap) {
		size_t cap = call->cap ? call->cap : 4096;
		unsigned char *p;

		while (cap < call->len + n)
			cap = cap > max / 2 ? max : cap * 2;
		p = realloc(call->body, cap);
		if (p == NULL)
			return -1;
		call->body = p;
		call->cap = cap;
	}
	memcpy(call->body + call->len, data, n);
	call->len += n;
	return 0;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *con, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
	struct http_server *srv = cls;
	struct http_call *call = *req_cls;

	(void)url;
	(void)version;
	if (call == NULL)
		return MHD_NO; /* out of memory at the request line */
	if (!call->started) {
		long long cl = content_length(con);

		call->started = true;
		if (cl >= 0 && (unsigned long long)cl > srv->max_body)
			return send_too_large(srv, con, call, method);
		if (cl > 0) {
			/* Announced, not yet sent: reserve at most 64K up front. */
			call->cap = (size_t)cl < 65536 ? (size_t)cl : 65536;
			call->body = malloc(call->cap);
			if (call->body == NULL)
				return MHD_NO;
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (!call->too_large && body_append(call, upload_data, n, srv->max_body) != 0) {
			/* Chunked body past the cap: keep nothing more, answer 413 at the end. */
			call->too_large = true;
			free(call->body);
			call->body = NULL;
			call->len = call->cap = 0;
		}
		return MHD_YES;
	}
	if (call->too_large)
		return send_too_large(srv, con, call, method);
	return handle(srv, con, call, method);
}

int rt_listen_socket(const char *addr, int backlog, char *desc, size_t desclen)
{
	char host[256], port[16];
	const char *colon, *h = addr, *p;
	size_t hlen;
	struct addrinfo hints, *ai = NULL;
	char *end;
	long pn;
	int fd = -1, one = 1, rc;

	if (addr == NULL || addr[0] == '\0')
		goto bad;
	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');

		if (rb == NULL || rb[1] != ':')
			goto bad;
		h = addr + 1;
		hlen = (size_t)(rb - h);
		p = rb + 2;
	} else if ((colon = strrchr(addr, ':')) != NULL) {
		hlen = (size_t)(colon - addr);
		p = colon + 1;
		if (memchr(addr, ':', hlen) != NULL)
			goto bad; /* IPv6 needs brackets */
	} else {
		h = "127.0.0.1";
		hlen = strlen(h);
		p = addr;
	}
	if (hlen == 0) {
		h = "0.0.0.0";
		hlen = strlen(h);
	}
	if (hlen >= sizeof(host) || p[0] < '0' || p[0] > '9')
		goto bad;
	errno = 0;
	pn = strtol(p, &end, 10);
	if (errno != 0 || *end != '\0' || pn < 0 || pn > 65535)
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	snprintf(port, sizeof(port), "%ld", pn);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		log_error("rt_listen_socket: cannot resolve %s: %s", host, gai_strerror(rc));
		goto out;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		log_error("rt_listen_socket: socket: %s", strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
		log_error("rt_listen_socket: cannot listen on %s port %s: %s", host, port, strerror(errno));
		close(fd);
		fd = -1;
		goto out;
	}
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		unsigned bound = (unsigned)pn;

		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
			bound = ntohs(ss.ss_family == AF_INET6
			                      ? ((struct sockaddr_in6 *)&ss)->sin6_port
			                      : ((struct sockaddr_in *)&ss)->sin_port);
		snprintf(desc, desclen, ai->ai_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
		         bound);
	}
	goto out;
bad:
	log_error("rt_listen_socket: bad listen address \"%s\" (want [ADDR:]PORT)", addr ? addr : "");
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	return fd;
}

/* Waits until no request is in flight, the drain time is over, or another
 * signal arrives. */
static void drain(struct http_server *srv, const sigset_t *set)
{
	struct timespec start, tick = {0, 20 * 1000 * 1000};

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (atomic_load(&srv->inflight) > 0) {
		if (ms_since(&start) > RT_HTTP_DRAIN_S * 1000.0) {
			log_warn("http: %d requests still running after %d s, stopping",
			         atomic_load(&srv->inflight), RT_HTTP_DRAIN_S);
			return;
		}
		if (sigtimedwait(set, NULL, &tick) > 0) {
			log_warn("http: second signal, stopping now");
			return;
		}
	}
}

int rt_http_run(const struct fn_app *app, const char *addr)
{
	static struct http_server srv;
	struct MHD_Daemon *d = NULL;
	MHD_socket qfd = MHD_INVALID_SOCKET;
	sigset_t set, old;
	char desc[300] = "";
	int fd, sig = 0, status = 1;

	srv.app = app;
	srv.max_body = g_cfg.max_body;
	atomic_store(&srv.inflight, 0);
	atomic_store(&srv.draining, false);
	srv.arena = arena_new();
	pthread_mutex_init(&srv.lock, NULL);

	/* Signals are taken synchronously by this thread; MHD's threads inherit
	 * the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);

	fd = rt_listen_socket(addr, 511, desc, sizeof(desc));
	if (fd < 0)
		goto out;
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
	                             MHD_USE_ERROR_LOG,
	                     0, NULL, NULL, on_access, &srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
	                     NULL, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE,
	                     (unsigned)RT_HTTP_THREADS, MHD_OPTION_CONNECTION_TIMEOUT,
	                     (unsigned)RT_HTTP_IDLE_TIMEOUT_S, MHD_OPTION_URI_LOG_CALLBACK, on_uri,
	                     &srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv, MHD_OPTION_END);
	if (d == NULL) {
		log_error("http: cannot start the server on %s", desc);
		close(fd);
		goto out;
	}
	log_info("listening on %s", desc);

	while (sigwait(&set, &sig) != 0)
		;
	log_info("%s received: finishing in-flight requests", sig == SIGINT ? "SIGINT" : "SIGTERM");
	atomic_store(&srv.draining, true);
	qfd = MHD_quiesce_daemon(d);
	drain(&srv, &set);
	MHD_stop_daemon(d);
	if (qfd != MHD_INVALID_SOCKET)
		close(qfd);
	log_info("stopped");
	status = 0;
out:
	arena_free(srv.arena);
	srv.arena = NULL;
	pthread_mutex_destroy(&srv.lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return status;
}
