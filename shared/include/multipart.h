/* multipart.h - Content-Type values and multipart/form-data bodies
 * (RFC 7578 / RFC 2046), for the functions that take uploaded files.
 *
 * Nothing here copies part data: a part points into the body it was found
 * in. Header values (media types, parameters, names) are copied into the
 * arena given. The parser looks at most MULTIPART_MAX_PARTS parts and
 * MULTIPART_MAX_HEADERS bytes of one part's header block, so a hostile body
 * costs a bounded amount of work beyond a few memmem() scans.
 */
#ifndef MULTIPART_H
#define MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* Parts looked at, and bytes of one part's header block. */
#define MULTIPART_MAX_PARTS   32
#define MULTIPART_MAX_HEADERS 8192
/* RFC 2046: a boundary is 1 to 70 characters. */
#define MULTIPART_MAX_BOUNDARY 70

struct multipart_part {
	const unsigned char *data; /* borrowed from the body */
	size_t len;
	const char *ctype;    /* the part's media type (lower-cased), NULL when none */
	const char *filename; /* its Content-Disposition filename, NULL when none */
};

enum multipart_result {
	MULTIPART_FOUND = 0,
	MULTIPART_NO_PART = 1, /* well formed, but no part of that name */
	MULTIPART_MALFORMED = -1,
};

/* The media type of a Content-Type-like value, lower-cased, without
 * parameters (arena); *params points at what follows the first ';' (or at
 * the end of value). */
char *multipart_media_type(struct arena *a, const char *value, const char **params);

/* The value of parameter name (ASCII case-insensitive) in "; a=b; c=\"d\""
 * text: a token or a quoted string with backslash escapes undone
 * (arena-owned); NULL when absent or the quoted string is unterminated. */
char *multipart_param(struct arena *a, const char *params, const char *name);

/* True for a boundary RFC 2046 allows: 1-70 of its bchars, not ending in a
 * space. */
bool multipart_boundary_valid(const char *boundary);

/* Finds the first part of form field name in body[0..len) delimited by
 * boundary (valid per multipart_boundary_valid). MULTIPART_FOUND and *out
 * filled, MULTIPART_NO_PART, or MULTIPART_MALFORMED (no opening delimiter,
 * a part without its header block or closing delimiter). */
enum multipart_result multipart_find(struct arena *a, const unsigned char *body, size_t len,
                                     const char *boundary, const char *name,
                                     struct multipart_part *out);

#endif
