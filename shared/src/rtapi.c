/* rtapi.c - see rtapi.h. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "kv.h"
#include "rtapi.h"

#define HEAD_MAX (64 * 1024)
#define DEF_CONNECT_TIMEOUT_MS 2000
#define DEF_TIMEOUT_MS 10000
#define DEF_MAX_RESPONSE ((size_t)8 << 20)

/* One call: the socket, its deadline and the bytes read so far. */
struct conn {
	int fd;
	long long deadline; /* CLOCK_MONOTONIC ms; 0 = none */
	char *buf;          /* malloc'd */
	size_t len, cap, max;
	struct httpc_res *res;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(struct httpc_res *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct httpc_res *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->error, sizeof(res->error), fmt, ap);
	va_end(ap);
	return -1;
}

/* Waits for events on c->fd until the deadline; EINTR restarts the wait. */
static int wait_fd(struct conn *c, short events)
{
	struct pollfd p = {.fd = c->fd, .events = events};

	for (;;) {
		int ms = -1;
		if (c->deadline) {
			long long left = c->deadline - now_ms();
			if (left <= 0)
				return fail(c->res, "timed out");
			ms = left > 60000 ? 60000 : (int)left;
		}
		int n = poll(&p, 1, ms);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return fail(c->res, "poll: %s", strerror(errno));
	}
}

/* Splits "http://host[:port]/path" into host, port and path (arena). */
static int parse_url(struct arena *a, const char *url, char **host, char **port,
		     const char **path)
{
	const char *p, *slash, *colon;

	if (!url || strncmp(url, "http://", 7) != 0)
		return -1;
	for (p = url; *p; p++) /* it goes into the request line verbatim */
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return -1;
	p = url + 7;
	slash = strchr(p, '/');
	*path = slash ? slash : "/";
	if (!slash)
		slash = p + strlen(p);
	if (*p == '[') { /* [v6]:port */
		const char *close = memchr(p, ']', (size_t)(slash - p));
		if (!close)
			return -1;
		*host = arena_strndup(a, p + 1, (size_t)(close - p - 1));
		colon = close + 1 < slash && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(slash - p));
		*host = arena_strndup(a, p, (size_t)((colon ? colon : slash) - p));
	}
	*port = colon ? arena_strndup(a, colon + 1, (size_t)(slash - colon - 1))
		      : arena_strdup(a, "80");
	return **host && **port ? 0 : -1;
}

/* Connects with the connect timeout; the socket stays non-blocking. */
static int open_conn(struct conn *c, const char *host, const char *port, long timeout_ms)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL, *it;
	long long saved = c->deadline;
	int rc;

	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0)
		return fail(c->res, "cannot resolve %s: %s", host, gai_strerror(rc));
	rc = -1;
	for (it = ai; it && rc != 0; it = it->ai_next) {
		int err = 0;
		socklen_t len = sizeof(err);

		c->fd = socket(it->ai_family, it->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0) {
			fail(c->res, "socket: %s", strerror(errno));
			continue;
		}
		c->deadline = now_ms() + timeout_ms;
		if (saved && saved < c->deadline)
			c->deadline = saved;
		if (connect(c->fd, it->ai_addr, it->ai_addrlen) == 0) {
			rc = 0;
			break;
		}
		if (errno != EINPROGRESS)
			err = errno;
		else if (wait_fd(c, POLLOUT) != 0)
			err = ETIMEDOUT; /* or a failed poll; either way, no connection */
		else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err == 0) {
			rc = 0;
			break;
		}
		fail(c->res, "cannot connect to %s:%s: %s", host, port, strerror(err));
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(ai);
	c->deadline = saved;
	return rc;
}

static int send_all(struct conn *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				if (wait_fd(c, POLLOUT) != 0)
					return -1;
				continue;
			}
			return fail(c->res, "send: %s", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads until the peer closes, keeping at most max + HEAD_MAX bytes. */
static int recv_all(struct conn *c)
{
	for (;;) {
		if (c->len == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 16384;
			char *nb;
			if (c->len >= HEAD_MAX && c->len - HEAD_MAX >= c->max)
				return fail(c->res, "response too large");
			nb = realloc(c->buf, cap + 1);
			if (!nb)
				return fail(c->res, "out of memory");
			c->buf = nb;
			c->cap = cap;
		}
		ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (r == 0)
			return 0;
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				if (wait_fd(c, POLLIN) != 0)
					return -1;
				continue;
			}
			return fail(c->res, "recv: %s", strerror(errno));
		}
		c->len += (size_t)r;
	}
}

/* Decodes a chunked body in place; returns its length or -1. A size line is
 * hex digits, then optionally ";extension" (ignored); trailers are ignored. */
static long dechunk(char *p, size_t n)
{
	size_t in = 0, out = 0;

	for (;;) {
		const char *eol = memmem(p + in, n - in, "\r\n", 2);
		const char *q = p + in;
		size_t size = 0;

		if (!eol || q == eol)
			return -1;
		for (; q < eol; q++) {
			int d = *q >= '0' && *q <= '9'   ? *q - '0'
				: *q >= 'a' && *q <= 'f' ? *q - 'a' + 10
				: *q >= 'A' && *q <= 'F' ? *q - 'A' + 10
							 : -1;
			if (d < 0)
				break;
			size = size * 16 + (size_t)d;
			if (size > n) /* also keeps size + 2 from overflowing */
				return -1;
		}
		if (q == p + in)
			return -1;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (q < eol && *q != ';')
			return -1;
		in = (size_t)(eol - p) + 2;
		if (size == 0)
			return (long)out;
		if (size + 2 > n - in || p[in + size] != '\r' || p[in + size + 1] != '\n')
			return -1;
		memmove(p + out, p + in, size);
		out += size;
		in += size + 2;
	}
}

/* Parses status line, headers and body out of c->buf into c->res. */
static int parse_response(struct arena *a, struct conn *c)
{
	struct httpc_res *res = c->res;
	char *head_end, *line, *body;
	size_t body_len;
	bool chunked = false;
	long long clen = -1;
	int status;

	c->buf[c->len] = '\0';
	head_end = memmem(c->buf, c->len, "\r\n\r\n", 4);
	if (!head_end || sscanf(c->buf, "HTTP/1.%*1[01] %3d", &status) != 1 || status < 100)
		return fail(res, "malformed response");
	*head_end = '\0';
	body = head_end + 4;
	body_len = c->len - (size_t)(body - c->buf);
	line = strstr(c->buf, "\r\n");
	while (line && line < head_end) {
		char *name = line + 2, *next = strstr(name, "\r\n"), *colon;
		if (next)
			*next = '\0';
		colon = strchr(name, ':');
		if (colon) {
			char *v = colon + 1;
			*colon = '\0';
			for (char *q = name; *q; q++)
				*q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
			while (*v == ' ' || *v == '\t')
				v++;
			for (char *e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t');)
				*--e = '\0';
			kv_add(a, &res->headers, name, v);
			if (strcmp(name, "transfer-encoding") == 0 && strcasestr(v, "chunked"))
				chunked = true;
			if (strcmp(name, "content-length") == 0) {
				char *end;
				errno = 0;
				clen = strtoll(v, &end, 10);
				if (errno || end == v || *end || clen < 0)
					return fail(res, "malformed Content-Length");
			}
		}
		line = next;
	}
	if (chunked) {
		long n = dechunk(body, body_len);
		if (n < 0)
			return fail(res, "malformed chunked body");
		body_len = (size_t)n;
	} else if (clen >= 0) {
		if ((unsigned long long)clen > body_len)
			return fail(res, "response body cut short");
		body_len = (size_t)clen;
	}
	if (body_len > c->max)
		return fail(res, "response too large");
	res->status = status;
	res->body = arena_memdup(a, body, body_len);
	res->body_len = body_len;
	return 0;
}

int rtapi_do(struct arena *a, const struct httpc_req *req, struct httpc_res *res)
{
	struct conn c = {.fd = -1, .res = res};
	const char *method = req->method ? req->method : (req->body ? "POST" : "GET");
	const char *path;
	char *host, *port, *head;
	long timeout = req->timeout_ms ? req->timeout_ms : DEF_TIMEOUT_MS;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	c.max = req->max_response ? req->max_response : DEF_MAX_RESPONSE;
	if (parse_url(a, req->url, &host, &port, &path) != 0)
		return fail(res, "unsupported URL (want http://host:port/path)");
	if (timeout > 0)
		c.deadline = now_ms() + timeout;
	if (open_conn(&c, host, port,
		      req->connect_timeout_ms > 0 ? req->connect_timeout_ms
						  : DEF_CONNECT_TIMEOUT_MS) != 0)
		goto out;

	head = arena_printf(a, "%s %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nConnection: close\r\n"
			       "Content-Length: %zu\r\n",
			    method, path, strchr(host, ':') ? "[" : "", host,
			    strchr(host, ':') ? "]" : "", port, req->body ? req->body_len : 0);
	if (send_all(&c, head, strlen(head)) != 0)
		goto out;
	for (const char *const *h = req->headers; h && *h; h++)
		if (send_all(&c, *h, strlen(*h)) != 0 || send_all(&c, "\r\n", 2) != 0)
			goto out;
	if (send_all(&c, "\r\n", 2) != 0 ||
	    (req->body && send_all(&c, req->body, req->body_len) != 0))
		goto out;
	/* No shutdown(SHUT_WR) here: Go's net/http (the Lambda runtime API)
	 * reads a half-close as the client going away and cancels the request;
	 * Connection: close already makes the server close after answering. */
	if (recv_all(&c) != 0 || c.len == 0 || parse_response(a, &c) != 0) {
		if (!res->error[0])
			fail(res, "empty response");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0) {
		res->status = 0;
		memset(&res->headers, 0, sizeof(res->headers));
	}
	if (c.fd >= 0)
		close(c.fd);
	free(c.buf);
	return rc;
}
