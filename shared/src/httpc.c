/* httpc.c - outbound HTTP over libcurl.
 *
 * One easy handle per thread, reset before each call (keeps its connection
 * cache, so warm calls to the same host reuse the connection). Peers are
 * always verified; only http and https are spoken; redirects are not followed.
 */
#include "httpc.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "arena.h"
#include "config.h"
#include "log.h"

/* Used when the shared config has not been loaded (tools, tests). */
#define DEF_CONNECT_TIMEOUT_MS 3000L
#define DEF_TIMEOUT_MS         10000L
#define DEF_MAX_RESPONSE       ((size_t)8 << 20)

static pthread_key_t handle_key;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;

/* State of one call, seen by the callbacks. */
struct call {
	struct arena *arena;
	struct httpc_res *res;
	char *buf; /* malloc'd body so far */
	size_t len, cap, max;
	bool too_large;
};

static void handle_destroy(void *h)
{
	curl_easy_cleanup(h);
}

/* Frees the exiting thread's handle; other threads free theirs on exit. */
static void httpc_at_exit(void)
{
	CURL *h = pthread_getspecific(handle_key);

	if (h != NULL) {
		pthread_setspecific(handle_key, NULL);
		curl_easy_cleanup(h);
	}
	curl_global_cleanup();
}

/* libcurl (and the TLS stack under it) is set up on the first outbound call,
 * not at start: most functions never make one, and a cold start should not
 * pay for it. */
static void handle_key_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_key_create(&handle_key, handle_destroy);
	atexit(httpc_at_exit);
}

/* The calling thread's handle, reset; NULL when curl cannot make one. */
static CURL *handle_get(void)
{
	CURL *h;

	pthread_once(&handle_once, handle_key_init);
	h = pthread_getspecific(handle_key);
	if (h != NULL) {
		curl_easy_reset(h);
		return h;
	}
	h = curl_easy_init();
	if (h != NULL && pthread_setspecific(handle_key, h) != 0) {
		curl_easy_cleanup(h);
		h = NULL;
	}
	return h;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct call *c = userp;
	size_t n = size * nmemb;

	if (n > c->max - c->len) {
		c->too_large = true;
		return 0; /* aborts the transfer */
	}
	if (c->len + n > c->cap) {
		size_t cap = c->cap ? c->cap : 16384;
		char *p;

		while (cap < c->len + n)
			cap = cap > c->max / 2 ? c->max : cap * 2;
		p = realloc(c->buf, cap);
		if (p == NULL)
			return 0;
		c->buf = p;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, data, n);
	c->len += n;
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct call *c = userp;
	size_t n = size * nmemb, name_len, i;
	const char *colon, *v, *end;
	char *name;

	/* A new status line (after 1xx, or a proxy's CONNECT) starts afresh. */
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		c->res->headers.n = 0;
		return n;
	}
	colon = memchr(data, ':', n);
	if (colon == NULL || colon == data)
		return n; /* blank line, or nothing we can use */
	name_len = (size_t)(colon - data);
	name = arena_strndup(c->arena, data, name_len);
	for (i = 0; i < name_len; i++)
		name[i] = (char)tolower((unsigned char)name[i]);
	v = colon + 1;
	end = data + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	kv_add_ref(c->arena, &c->res->headers, name, arena_strndup(c->arena, v, (size_t)(end - v)));
	return n;
}

/* Builds the header list; adds "Expect:" so large bodies go without a
 * 100-continue round trip. NULL on allocation failure. */
static struct curl_slist *make_headers(const char *const *headers, bool *ok)
{
	struct curl_slist *list = NULL, *t;
	bool has_expect = false;

	*ok = false;
	for (size_t i = 0; headers && headers[i]; i++) {
		if (strncasecmp(headers[i], "expect:", 7) == 0)
			has_expect = true;
		t = curl_slist_append(list, headers[i]);
		if (t == NULL)
			goto fail;
		list = t;
	}
	if (!has_expect) {
		t = curl_slist_append(list, "Expect:");
		if (t == NULL)
			goto fail;
		list = t;
	}
	*ok = true;
	return list;
fail:
	curl_slist_free_all(list);
	return NULL;
}

static void set_options(CURL *h, const struct httpc_req *req, struct call *c,
                        struct curl_slist *hdrs, char *errbuf)
{
	long connect_ms = req->connect_timeout_ms;
	long total_ms = req->timeout_ms;
	const char *method = req->method;
	const char *ca = getenv("HTTPC_CA_FILE");

	if (connect_ms <= 0)
		connect_ms = g_cfg.http_connect_timeout_ms > 0 ? g_cfg.http_connect_timeout_ms
		                                               : DEF_CONNECT_TIMEOUT_MS;
	if (total_ms == 0)
		total_ms = g_cfg.http_timeout_ms > 0 ? g_cfg.http_timeout_ms : DEF_TIMEOUT_MS;
	else if (total_ms < 0)
		total_ms = 0; /* none */

	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca != NULL && ca[0] != '\0')
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "fn-shared/1");
	if (req->aws_sigv4 != NULL && req->userpwd != NULL) {
		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, req->aws_sigv4);
		curl_easy_setopt(h, CURLOPT_USERPWD, req->userpwd);
	}

	if (method == NULL)
		method = req->body ? "POST" : "GET";
	if (req->body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
	}
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") == 0 && req->body == NULL)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "POST") != 0 || req->body == NULL)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
}

int httpc_do(struct arena *a, const struct httpc_req *req, struct httpc_res *res)
{
	struct call c = {a, res, NULL, 0, 0, 0, false};
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	CURL *h;
	bool ok;
	int ret = -1;

	memset(res, 0, sizeof(*res));
	c.max = req->max_response         ? req->max_response
	        : g_cfg.http_max_response ? g_cfg.http_max_response
	                                  : DEF_MAX_RESPONSE;
	if (req->url == NULL) {
		snprintf(res->error, sizeof(res->error), "no url");
		goto out;
	}
	h = handle_get();
	hdrs = make_headers(req->headers, &ok);
	if (h == NULL || !ok) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		goto out;
	}
	set_options(h, req, &c, hdrs, errbuf);
	rc = curl_easy_perform(h);
	/* Forget borrowed pointers before the handle is reused. */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	if (c.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(res->error, sizeof(res->error), "response too large");
		goto out;
	}
	if (rc != CURLE_OK) {
		snprintf(res->error, sizeof(res->error), "%s%.200s",
		         rc == CURLE_OPERATION_TIMEDOUT ? "timeout: " : "",
		         errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
	ret = 0;
out:
	if (ret == 0) {
		res->body = arena_memdup(a, c.buf ? c.buf : "", c.len);
		res->body_len = c.len;
	} else {
		res->status = 0;
		res->body = arena_strdup(a, "");
		res->body_len = 0;
		res->headers.n = 0;
	}
	free(c.buf);
	curl_slist_free_all(hdrs);
	return ret;
}
