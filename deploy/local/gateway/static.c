/* static.c - the frontend's files: content types, validators, no escape.
 *
 * A request path is checked twice: lexically (no "..", no hidden or empty
 * segments, no backslash or control byte, nothing that still looks encoded
 * after libmicrohttpd's decoding) and then by where the opened file really
 * is (/proc/self/fd, else realpath): only a regular file under
 * realpath(root) is served, so a symlink inside the folder pointing out of
 * it is a 404 while one pointing at another file inside it works. Files go
 * out with MHD_create_response_from_fd (sendfile), never read into memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "arena.h"
#include "gateway.h"
#include "kv.h"
#include "log.h"

static const struct {
	const char *ext;
	const char *type;
} types[] = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json; charset=utf-8"},
        {"map", "application/json; charset=utf-8"},
        {"svg", "image/svg+xml; charset=utf-8"},
        {"txt", "text/plain; charset=utf-8"},
        {"xml", "application/xml; charset=utf-8"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"ico", "image/x-icon"},
        {"woff2", "font/woff2"},
        {"wasm", "application/wasm"},
};

const char *static_content_type(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash + 1 : name, '.');

	if (dot != NULL && dot[1] != '\0')
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

int static_error(struct gw_reply *out, unsigned status, const char *code, const char *message)
{
	char buf[512];
	struct MHD_Response *r;
	int n;

	/* code and message are the gateway's own constants: nothing to escape */
	n = snprintf(buf, sizeof(buf), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code,
	             message);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	r = MHD_create_response_from_buffer((size_t)n, buf, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return -1;
	if (MHD_add_response_header(r, "Content-Type", "application/json") != MHD_YES) {
		MHD_destroy_response(r);
		return -1;
	}
	out->status = status;
	out->resp = r;
	return 0;
}

static int hexdig(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool static_uri_safe(const char *uri)
{
	if (uri == NULL)
		return false;
	for (const char *p = uri; *p != '\0' && *p != '?' && *p != '#'; p++) {
		if (*p == '\\')
			return false;
		if (*p == '%') {
			int hi = hexdig(p[1]), lo = hi < 0 ? -1 : hexdig(p[2]);
			int c = hi << 4 | lo;

			if (hi < 0 || lo < 0)
				return false;
			/* encoded slash, backslash, dot or NUL: nothing legitimate */
			if (c == '/' || c == '\\' || c == '.' || c == 0)
				return false;
		}
	}
	return true;
}

/* The decoded path is one we may map onto root: absolute, no empty, ".",
 * ".." or hidden segment (a trailing "/" aside), no backslash or control
 * byte, nothing that was double-encoded ("%252e" decoded once). */
static bool path_ok(const char *url)
{
	size_t n;

	if (url == NULL || url[0] != '/')
		return false;
	n = strlen(url);
	if (n >= PATH_MAX / 2 || strcasestr(url, "%2e") || strcasestr(url, "%2f") ||
	    strcasestr(url, "%5c") || strstr(url, "%00"))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c != '/')
			continue;
		if (url[i + 1] == '\0')
			break; /* "/" or "dir/" */
		if (url[i + 1] == '/' || url[i + 1] == '.')
			return false; /* "//", "/.", "/..", "/.hidden" */
	}
	return strstr(url, "..") == NULL;
}

/* Where fd really is: /proc/self/fd/N, else realpath(path). */
int static_fd_realpath(int fd, const char *path, char *out, size_t outlen)
{
	char link[64];
	ssize_t k;

	if (snprintf(link, sizeof(link), "/proc/self/fd/%d", fd) < (int)sizeof(link)) {
		k = readlink(link, out, outlen - 1);
		if (k > 0 && (size_t)k < outlen - 1) {
			out[k] = '\0';
			if (out[0] == '/')
				return 0;
		}
	}
	if (outlen < PATH_MAX || realpath(path, out) == NULL)
		return -1;
	return 0;
}

/* real is root itself or inside it, with no hidden segment below root. */
static bool under_root(const char *rroot, const char *real)
{
	size_t n = strlen(rroot);

	if (strcmp(rroot, "/") == 0)
		n = 0;
	else if (strncmp(real, rroot, n) != 0 || (real[n] != '/' && real[n] != '\0'))
		return false;
	return strstr(real + n, "/.") == NULL;
}

/* Opens root/rel and checks where it landed. Returns the fd (a regular file
 * or a directory under root), -2 when it is not there for us (404), -1 on
 * an internal error. */
static int open_checked(const char *rroot, const char *path, struct stat *st)
{
	char real[PATH_MAX];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return errno == EMFILE || errno == ENFILE || errno == ENOMEM ? -1 : -2;
	if (static_fd_realpath(fd, path, real, sizeof(real)) != 0 || !under_root(rroot, real) ||
	    fstat(fd, st) != 0 || !(S_ISREG(st->st_mode) || S_ISDIR(st->st_mode))) {
		close(fd);
		return -2;
	}
	return fd;
}

/* An entity tag from size and modification time; weak (not a digest). */
static void make_etag(const struct stat *st, char *out, size_t len)
{
	uint64_t ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;

	if (snprintf(out, len, "W/\"%jx-%" PRIx64 "\"", (uintmax_t)st->st_size, ns) >= (int)len)
		out[0] = '\0';
}

/* Weak comparison (RFC 9110 13.1.2): any listed tag, W/ ignored, or "*". */
static bool etag_matches(const char *header, const char *etag)
{
	const char *want = strncmp(etag, "W/", 2) == 0 ? etag + 2 : etag;
	size_t wlen = strlen(want);
	const char *p = header;

	while (*p != '\0') {
		const char *start, *end;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (*p == '*')
			return true;
		start = strncmp(p, "W/", 2) == 0 ? p + 2 : p;
		end = strchr(start, ',');
		if (end == NULL)
			end = start + strlen(start);
		p = end;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if ((size_t)(end - start) == wlen && memcmp(start, want, wlen) == 0)
			return true;
	}
	return false;
}

/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") to epoch; -1 when not one. */
static time_t parse_http_date(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return (time_t)-1;
	return timegm(&tm);
}

static bool not_modified(struct MHD_Connection *con, const char *etag, const struct stat *st)
{
	const char *inm = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "If-None-Match");
	const char *ims = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "If-Modified-Since");
	time_t t;

	/* If-None-Match wins over If-Modified-Since when both are sent. */
	if (inm != NULL)
		return etag[0] != '\0' && etag_matches(inm, etag);
	if (ims != NULL) {
		t = parse_http_date(ims);
		return t != (time_t)-1 && st->st_mtim.tv_sec <= t;
	}
	return false;
}

/* A 304 without a body or the file on *fd (MHD takes it), with its headers. */
int static_file_reply(int *fd, const struct stat *st, bool not_modified, const char *type,
                      const char *etag, const char *cache_control, struct gw_reply *out)
{
	struct MHD_Response *r;
	char date[64];
	struct tm tm;

	if (not_modified) {
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		out->status = MHD_HTTP_NOT_MODIFIED;
	} else {
		r = MHD_create_response_from_fd((size_t)st->st_size, *fd);
		if (r != NULL)
			*fd = -1; /* MHD owns it now */
		out->status = MHD_HTTP_OK;
	}
	if (r == NULL)
		return -1;
	if (gmtime_r(&st->st_mtim.tv_sec, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		date[0] = '\0';
	if (MHD_add_response_header(r, "Content-Type", type) != MHD_YES ||
	    (etag[0] && MHD_add_response_header(r, "ETag", etag) != MHD_YES) ||
	    (date[0] && MHD_add_response_header(r, "Last-Modified", date) != MHD_YES) ||
	    MHD_add_response_header(r, "Cache-Control", cache_control) != MHD_YES ||
	    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") != MHD_YES ||
	    MHD_add_response_header(r, "X-Frame-Options", "DENY") != MHD_YES) {
		MHD_destroy_response(r);
		return -1;
	}
	out->resp = r;
	return 0;
}

/* 301 to the raw path with a "/" added (a directory asked for without it). */
static int redirect_slash(const char *raw, struct arena *a, struct gw_reply *out)
{
	static const char body[] = "{\"status\":301}";
	struct MHD_Response *r;
	const char *loc = arena_printf(a, "%s/", raw);

	if (loc == NULL)
		return -1;
	r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return -1;
	if (MHD_add_response_header(r, "Location", loc) != MHD_YES ||
	    MHD_add_response_header(r, "Content-Type", "application/json") != MHD_YES) {
		MHD_destroy_response(r);
		return -1;
	}
	out->status = MHD_HTTP_MOVED_PERMANENTLY;
	out->resp = r;
	return 0;
}

int static_reply(struct MHD_Connection *con, const char *root, const char *method, const char *url,
                 struct gw_reply *out)
{
	char rroot[PATH_MAX], path[PATH_MAX], etag[64];
	const char *type, *raw;
	struct arena *a = NULL;
	struct stat st;
	int fd = -1, rc = -1, n;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		if (static_error(out, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
		                 "static files allow GET and HEAD") != 0)
			return -1;
		MHD_add_response_header(out->resp, "Allow", "GET, HEAD");
		return 0;
	}
	/* url is the raw path (front.c: API Gateway's rawPath): decoded here */
	if (!static_uri_safe(url))
		goto not_found;
	raw = url;
	a = arena_new();
	url = kv_unescape(a, url, strlen(url), false);
	if (url == NULL || !path_ok(url) || realpath(root, rroot) == NULL)
		goto not_found;
	n = snprintf(path, sizeof(path), "%s%s", rroot, url);
	if (n < 0 || (size_t)n >= sizeof(path))
		goto not_found;
	fd = open_checked(rroot, path, &st);
	if (fd == -1)
		goto out;
	if (fd == -2)
		goto not_found;
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		fd = -1;
		/* "/admin" -> "/admin/", so the page's relative URLs resolve */
		if (url[strlen(url) - 1] != '/') {
			rc = redirect_slash(raw, a, out);
			goto out;
		}
		n = snprintf(path, sizeof(path), "%s%sindex.html", rroot, url);
		if (n < 0 || (size_t)n >= sizeof(path))
			goto not_found;
		fd = open_checked(rroot, path, &st);
		if (fd == -1)
			goto out;
		if (fd == -2 || !S_ISREG(st.st_mode))
			goto not_found;
	}
	make_etag(&st, etag, sizeof(etag));
	type = static_content_type(path);
	/* Revalidated every time (a 304 is cheap): an edited page, script or
	 * stylesheet shows on the next reload while developing. */
	if (static_file_reply(&fd, &st, not_modified(con, etag, &st), type, etag, "no-cache",
	                      out) != 0) {
		log_error("static: cannot build the response for %s", url);
		goto out;
	}
	rc = 0;
	goto out;
not_found:
	rc = static_error(out, MHD_HTTP_NOT_FOUND, "not_found", "no such file");
out:
	if (fd >= 0)
		close(fd);
	arena_free(a);
	return rc;
}
