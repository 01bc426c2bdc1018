/* multipart.c - Content-Type parameters and multipart/form-data parts.
 *
 * A body is: an optional preamble, then for each part the delimiter
 * "--" boundary, optional linear white space, CRLF, header lines, an empty
 * line and the data, up to the next CRLF "--" boundary; the delimiter
 * followed by "--" closes the body. Part data is never copied.
 */
#include "multipart.h"

#include <string.h>
#include <strings.h>

#include "arena.h"

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

char *multipart_media_type(struct arena *a, const char *value, const char **params)
{
	const char *end;
	size_t n;
	char *mt;

	while (is_ws(*value))
		value++;
	end = strchr(value, ';');
	n = end ? (size_t)(end - value) : strlen(value);
	while (n > 0 && is_ws(value[n - 1]))
		n--;
	mt = arena_strndup(a, value, n);
	for (char *p = mt; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	*params = end ? end + 1 : value + strlen(value);
	return mt;
}

char *multipart_param(struct arena *a, const char *p, const char *name)
{
	size_t nlen = strlen(name);

	while (*p) {
		const char *k, *v;
		size_t klen;
		char *val = NULL;

		while (is_ws(*p) || *p == ';')
			p++;
		k = p;
		while (*p && *p != '=' && *p != ';' && !is_ws(*p))
			p++;
		klen = (size_t)(p - k);
		while (is_ws(*p))
			p++;
		if (*p != '=')
			continue;
		p++;
		while (is_ws(*p))
			p++;
		if (*p == '"') {
			size_t j = 0;

			v = ++p;
			val = arena_alloc(a, strlen(v) + 1);
			while (*p && *p != '"') {
				if (*p == '\\' && p[1] != '\0')
					p++;
				val[j++] = *p++;
			}
			if (*p != '"')
				return NULL; /* unterminated */
			p++;
			val[j] = '\0';
		} else {
			v = p;
			while (*p && *p != ';' && !is_ws(*p))
				p++;
			val = arena_strndup(a, v, (size_t)(p - v));
		}
		if (klen == nlen && strncasecmp(k, name, nlen) == 0)
			return val;
	}
	return NULL;
}

bool multipart_boundary_valid(const char *b)
{
	size_t n = strlen(b);

	if (n == 0 || n > MULTIPART_MAX_BOUNDARY || b[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = b[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("'()+_,-./:=? ", c) != NULL))
			return false;
	}
	return true;
}

/* Reads one part's header block [h, h+n): its form field name, filename and
 * media type (arena). */
static void part_headers(struct arena *a, const unsigned char *h, size_t n, const char **name,
                         struct multipart_part *part)
{
	const unsigned char *end = h + n;

	*name = NULL;
	part->ctype = NULL;
	part->filename = NULL;
	while (h < end) {
		const unsigned char *eol = memmem(h, (size_t)(end - h), "\r\n", 2);
		const unsigned char *colon;
		const char *params, *mt;
		char *value;
		size_t len = eol ? (size_t)(eol - h) : (size_t)(end - h);

		colon = memchr(h, ':', len);
		if (colon != NULL) {
			size_t klen = (size_t)(colon - h);

			value = arena_strndup(a, (const char *)colon + 1, len - klen - 1);
			if (klen == 19 &&
			    strncasecmp((const char *)h, "content-disposition", 19) == 0) {
				mt = multipart_media_type(a, value, &params);
				if (strcmp(mt, "form-data") == 0) {
					*name = multipart_param(a, params, "name");
					part->filename = multipart_param(a, params, "filename");
				}
			} else if (klen == 12 &&
			           strncasecmp((const char *)h, "content-type", 12) == 0) {
				part->ctype = multipart_media_type(a, value, &params);
			}
		}
		h += len + (eol ? 2 : 0);
	}
}

enum multipart_result multipart_find(struct arena *a, const unsigned char *body, size_t len,
                                     const char *boundary, const char *name,
                                     struct multipart_part *out)
{
	const unsigned char *end = body + len, *p;
	char *delim = arena_printf(a, "\r\n--%s", boundary);
	size_t dlen = strlen(delim);

	memset(out, 0, sizeof(*out));
	/* the first delimiter opens the body or follows a preamble line */
	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
		p = body + dlen - 2;
	} else {
		p = memmem(body, len, delim, dlen);
		if (p == NULL)
			return MULTIPART_MALFORMED;
		p += dlen;
	}
	for (int parts = 0; parts < MULTIPART_MAX_PARTS; parts++) {
		const unsigned char *headers, *hend, *data, *next;
		struct multipart_part part;
		const char *field;

		/* p is just past a delimiter: "--" closes, else padding and CRLF */
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;
		while (p < end && is_ws((char)*p))
			p++;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return MULTIPART_MALFORMED;
		headers = p + 2;
		if (end - headers >= 2 && headers[0] == '\r' && headers[1] == '\n') {
			hend = headers; /* no header lines */
			data = headers + 2;
		} else {
			size_t window = (size_t)(end - headers);

			if (window > MULTIPART_MAX_HEADERS)
				window = MULTIPART_MAX_HEADERS;
			hend = memmem(headers, window, "\r\n\r\n", 4);
			if (hend == NULL)
				return MULTIPART_MALFORMED;
			data = hend + 4;
		}
		next = memmem(data, (size_t)(end - data), delim, dlen);
		if (next == NULL)
			return MULTIPART_MALFORMED;
		part_headers(a, headers, (size_t)(hend - headers), &field, &part);
		if (field != NULL && strcmp(field, name) == 0) {
			part.data = data;
			part.len = (size_t)(next - data);
			*out = part;
			return MULTIPART_FOUND;
		}
		p = next + dlen;
	}
	return MULTIPART_NO_PART;
}
