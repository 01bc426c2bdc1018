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
#include <netinet/in.h>
#include <netinet/tcp.h>
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
	bool framed;        /* the response's length is known (keep-alive possible) */
	struct httpc_res *res;
};

/* The connection kept open between calls (one per thread: the runtime loops
 * are single-threaded). Reusing it saves a TCP handshake per call and, on the
 * local gateway, a server thread per call. */
static _Thread_local struct {
	int fd;
	char host[256];
	char port[16];
} kept = {.fd = -1};

static void kept_close(void)
{
	if (kept.fd >= 0)
		close(kept.fd);
	kept.fd = -1;
}

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
			int one = 1;
			/* One write per request, but never wait on Nagle either. */
			if (it->ai_family == AF_INET || it->ai_family == AF_INET6)
				setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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
			int one = 1;
			/* One write per request, but never wait on Nagle either. */
			if (it->ai_family == AF_INET || it->ai_family == AF_INET6)
				setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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

/* The value of header name (lower-case) in the head [buf, end), or NULL.
 * Writes nothing: the head is parsed for real by parse_response(). */
static const char *head_value(const char *buf, const char *end, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);

	for (const char *line = memmem(buf, (size_t)(end - buf), "\r\n", 2); line && line < end;) {
		const char *p = line + 2, *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
		if (!eol)
			break;
		if ((size_t)(eol - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
			p += nlen + 1;
			while (p < eol && (*p == ' ' || *p == '\t'))
				p++;
			*vlen = (size_t)(eol - p);
			return p;
		}
		line = eol;
	}
	return NULL;
}

/* 1 when the chunked body at p[0..n) has its last chunk and final CRLF,
 * 0 when more is needed, -1 when the framing is broken. */
static int chunked_complete(const char *p, size_t n)
{
	size_t in = 0;

	for (;;) {
		const char *eol = memmem(p + in, n - in, "\r\n", 2);
		char *end;
		unsigned long long size;

		if (!eol)
			return n - in > 64 ? -1 : 0;
		errno = 0;
		size = strtoull(p + in, &end, 16);
		if (errno || end == p + in || size > (unsigned long long)1 << 40)
			return -1;
		in = (size_t)(eol - p) + 2;
		if (size == 0) /* trailers, if any, end with an empty line */
			return memmem(p + in - 2, n - in + 2, "\r\n\r\n", 4) || (n - in >= 2 && p[in] == '\r' && p[in + 1] == '\n') ? 1 : 0;
		if (n - in < size + 2)
			return 0;
		in += (size_t)size + 2;
	}
}

/* 1 when c->buf holds a whole response (by Content-Length, chunked framing,
 * or a status without a body), 0 when more is needed; sets c->framed. */
static int response_complete(struct conn *c)
{
	const char *head_end = memmem(c->buf, c->len, "\r\n\r\n", 4), *v;
	size_t vlen, have;
	int status;

	c->framed = false;
	if (!head_end)
		return 0;
	have = c->len - (size_t)(head_end + 4 - c->buf);
	if (sscanf(c->buf, "HTTP/1.%*1[01] %3d", &status) == 1 &&
	    ((status >= 100 && status < 200) || status == 204 || status == 304)) {
		c->framed = true;
		return 1;
	}
	v = head_value(c->buf, head_end, "transfer-encoding", &vlen);
	if (v && memmem(v, vlen, "chunked", 7)) {
		int done = chunked_complete(head_end + 4, have);
		c->framed = done >= 0;
		return done != 0; /* broken framing: stop, parse_response reports it */
	}
	v = head_value(c->buf, head_end, "content-length", &vlen);
	if (v) {
		char *end;
		errno = 0;
		unsigned long long clen = strtoull(v, &end, 10);
		if (errno || end == v || end != v + vlen)
			return 1; /* parse_response reports it */
		c->framed = true;
		return have >= clen;
	}
	return 0; /* until the peer closes */
}

/* Reads one response: until it is complete or the peer closes, keeping at
 * most max + HEAD_MAX bytes. */
static int recv_response(struct conn *c)
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
		if (r == 0) {
			c->framed = false; /* the peer closed: never reuse */
			return 0;
		}
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				if (wait_fd(c, POLLIN) != 0)
					return -1;
				continue;
			}
			return fail(c->res, "recv: %s", strerror(errno));
		}
		c->len += (size_t)r;
		if (response_complete(c))
			return 0;
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

/* The whole request in one buffer (arena), so it leaves in one write. */
static char *build_request(struct arena *a, const struct httpc_req *req, const char *method,
			   const char *host, const char *port, const char *path, size_t *len)
{
	size_t hlen = 0, blen = req->body ? req->body_len : 0;
	char *head, *out;
	bool v6 = strchr(host, ':') != NULL;

	for (const char *const *h = req->headers; h && *h; h++)
		hlen += strlen(*h) + 2;
	head = arena_printf(a, "%s %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nContent-Length: %zu\r\n",
			    method, path, v6 ? "[" : "", host, v6 ? "]" : "", port, blen);
	size_t n = strlen(head);
	out = arena_alloc(a, n + hlen + 2 + blen + 1);
	memcpy(out, head, n);
	for (const char *const *h = req->headers; h && *h; h++) {
		size_t l = strlen(*h);
		memcpy(out + n, *h, l);
		memcpy(out + n + l, "\r\n", 2);
		n += l + 2;
	}
	memcpy(out + n, "\r\n", 2);
	n += 2;
	if (blen)
		memcpy(out + n, req->body, blen);
	*len = n + blen;
	return out;
}

int rtapi_do(struct arena *a, const struct httpc_req *req, struct httpc_res *res)
{
	struct conn c = {.fd = -1, .res = res};
	const char *method = req->method ? req->method : (req->body ? "POST" : "GET");
	const char *path;
	char *host, *port, *msg;
	size_t msg_len;
	long timeout = req->timeout_ms ? req->timeout_ms : DEF_TIMEOUT_MS;
	bool reused;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	c.max = req->max_response ? req->max_response : DEF_MAX_RESPONSE;
	if (parse_url(a, req->url, &host, &port, &path) != 0)
		return fail(res, "unsupported URL (want http://host:port/path)");
	if (timeout > 0)
		c.deadline = now_ms() + timeout;
	msg = build_request(a, req, method, host, port, path, &msg_len);

	/* A kept connection the server has since closed fails at once (send
	 * error or EOF before any byte): then one fresh connection is tried. */
	reused = kept.fd >= 0 && strcmp(kept.host, host) == 0 && strcmp(kept.port, port) == 0;
	if (reused) {
		c.fd = kept.fd;
		kept.fd = -1;
	} else {
		kept_close();
	}
	for (;;) {
		if (c.fd < 0 && open_conn(&c, host, port,
					  req->connect_timeout_ms > 0 ? req->connect_timeout_ms
								      : DEF_CONNECT_TIMEOUT_MS) != 0)
			goto out;
		c.len = 0;
		if (send_all(&c, msg, msg_len) == 0 && recv_response(&c) == 0 && c.len > 0)
			break;
		if (!reused || c.len > 0 || (c.deadline && now_ms() >= c.deadline)) {
			if (!res->error[0])
				fail(res, "empty response");
			goto out;
		}
		close(c.fd);
		c.fd = -1;
		reused = false;
		res->error[0] = '\0';
	}
	if (parse_response(a, &c) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		res->status = 0;
		memset(&res->headers, 0, sizeof(res->headers));
	}
	if (c.fd >= 0) {
		const char *conn_hdr = rc == 0 ? kv_get(&res->headers, "connection") : NULL;
		if (rc == 0 && c.framed && strncmp(c.buf, "HTTP/1.1", 8) == 0 &&
		    !(conn_hdr && strcasestr(conn_hdr, "close")) &&
		    strlen(host) < sizeof(kept.host) && strlen(port) < sizeof(kept.port)) {
			kept.fd = c.fd;
			snprintf(kept.host, sizeof(kept.host), "%s", host);
			snprintf(kept.port, sizeof(kept.port), "%s", port);
		} else {
			close(c.fd);
		}
	}
	free(c.buf);
	return rc;
}
