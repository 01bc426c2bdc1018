/* json.c - parsing a request body as JSON, with typed field getters.
 *
 * cJSON's own nesting limit is 1000, far above what a request needs, so the
 * body is scanned first: brackets outside strings are counted against the
 * limit, and raw NUL bytes or "\u0000" escapes (which cJSON would silently cut
 * strings at) make the text invalid. Trailing bytes after the value, other
 * than whitespace, are an error as well.
 */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "req.h"
#include "res.h"

/* Largest integer a double holds exactly together with its neighbours. */
#define JSON_SAFE_INT 9007199254740991LL

enum json_scan_result { JSON_SCAN_OK, JSON_SCAN_INVALID, JSON_SCAN_TOO_DEEP };

/* Bracket depth and forbidden-byte scan of s[0..len). */
static enum json_scan_result json_scan(const char *s, size_t len, int max_depth)
{
	bool in_str = false, esc = false;
	int depth = 0;
	size_t i;
	char c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '\0')
			return JSON_SCAN_INVALID;
		if (in_str) {
			if (esc) {
				esc = false;
				if (c == 'u' && len - i > 4 && memcmp(s + i + 1, "0000", 4) == 0)
					return JSON_SCAN_INVALID;
			} else if (c == '\\') {
				esc = true;
			} else if (c == '"') {
				in_str = false;
			}
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max_depth)
				return JSON_SCAN_TOO_DEEP;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return JSON_SCAN_OK;
}

/* cJSON parse of exactly s[0..len): whitespace may follow the value, nothing else. */
static cJSON *json_parse_exact(const char *s, size_t len)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(s, len, &end, 0);

	if (root == NULL)
		return NULL;
	while (end != NULL && end < s + len &&
	       (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	if (end != s + len) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* Parses s[0..len) with at most max_depth nested arrays/objects; NULL when
 * invalid or too deep. Caller frees with cJSON_Delete. */
cJSON *json_parse_limited(const char *s, size_t len, int max_depth)
{
	if (s == NULL || json_scan(s, len, max_depth) != JSON_SCAN_OK)
		return NULL;
	return json_parse_exact(s, len);
}

/* application/json, or any type/subtype+json, parameters ignored. */
static bool json_media_ok(const char *ct)
{
	const char *slash;
	size_t len;

	while (*ct == ' ' || *ct == '\t')
		ct++;
	len = strcspn(ct, ";");
	while (len > 0 && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
		len--;
	if (len == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return true;
	slash = memchr(ct, '/', len);
	return slash != NULL && slash > ct && (size_t)(ct + len - slash) > 6 &&
	       strncasecmp(ct + len - 5, "+json", 5) == 0;
}

static void json_delete(void *p)
{
	cJSON_Delete(p);
}

/* The body as a JSON object (parsed once, cached in req, borrowed). */
int json_body(struct req *req, struct res *res, const cJSON **out)
{
	const char *ct, *body = (const char *)req->body;
	cJSON *root = req->json_;

	if (root == NULL) {
		ct = req_header(req, "content-type");
		if (ct != NULL && !json_media_ok(ct)) {
			res_error(res, 415, "unsupported_media_type",
			          "Content-Type must be application/json", NULL);
			return -1;
		}
		if (body == NULL || req->body_len == 0) {
			res_error(res, 400, "invalid_json", "request body is empty", NULL);
			return -1;
		}
		switch (json_scan(body, req->body_len, JSON_MAX_DEPTH)) {
		case JSON_SCAN_OK:
			break;
		case JSON_SCAN_TOO_DEEP:
			res_errorf(res, 400, "invalid_json", NULL,
			           "request body nests deeper than %d levels", JSON_MAX_DEPTH);
			return -1;
		case JSON_SCAN_INVALID:
		default:
			res_error(res, 400, "invalid_json", "request body is not valid JSON", NULL);
			return -1;
		}
		root = json_parse_exact(body, req->body_len);
		if (root == NULL) {
			res_error(res, 400, "invalid_json", "request body is not valid JSON", NULL);
			return -1;
		}
		req->json_ = arena_defer(req->arena, json_delete, root);
	}
	if (!cJSON_IsObject(root)) {
		res_error(res, 422, "validation_failed", "body must be a JSON object", NULL);
		return -1;
	}
	*out = root;
	return 0;
}

/* The member named field (case-sensitive), NULL when absent or null. */
static const cJSON *json_field(const cJSON *obj, const char *field)
{
	const cJSON *item;

	if (obj == NULL || field == NULL)
		return NULL;
	item = cJSON_GetObjectItemCaseSensitive(obj, field);
	return cJSON_IsNull(item) ? NULL : item;
}

/* True when obj has field with a non-null value. */
bool json_has(const cJSON *obj, const char *field)
{
	return json_field(obj, field) != NULL;
}

/* Fills res for a missing required field and returns -1; 0 when optional. */
static int json_missing(struct res *res, const char *field, bool required)
{
	if (!required)
		return 0;
	res_errorf(res, 422, "validation_failed", field, "%s is required", field);
	return -1;
}

/* String field, valid UTF-8, min_len..max_len code points (max_len 0: no cap). */
int json_str(struct res *res, const cJSON *obj, const char *field, bool required, size_t min_len,
             size_t max_len, const char **out)
{
	const cJSON *item = json_field(obj, field);
	long n;

	if (item == NULL)
		return json_missing(res, field, required);
	if (!cJSON_IsString(item) || item->valuestring == NULL) {
		res_errorf(res, 422, "validation_failed", field, "%s must be a string", field);
		return -1;
	}
	n = json_utf8_len(item->valuestring);
	if (n < 0) {
		res_errorf(res, 422, "validation_failed", field, "%s must be valid UTF-8", field);
		return -1;
	}
	if ((size_t)n < min_len) {
		if (min_len == 1)
			res_errorf(res, 422, "validation_failed", field, "%s must not be empty",
			           field);
		else
			res_errorf(res, 422, "validation_failed", field,
			           "%s must be at least %zu characters", field, min_len);
		return -1;
	}
	if (max_len > 0 && (size_t)n > max_len) {
		res_errorf(res, 422, "validation_failed", field,
		           "%s must be at most %zu characters", field, max_len);
		return -1;
	}
	*out = item->valuestring;
	return 0;
}

/* Integral number field in [min, max] (and within +-(2^53-1), where doubles
 * stay exact). */
int json_i64(struct res *res, const cJSON *obj, const char *field, bool required, int64_t min,
             int64_t max, int64_t *out)
{
	const cJSON *item = json_field(obj, field);
	int64_t lo = min > -JSON_SAFE_INT ? min : -JSON_SAFE_INT;
	int64_t hi = max < JSON_SAFE_INT ? max : JSON_SAFE_INT;
	double d;
	int64_t v;

	if (item == NULL)
		return json_missing(res, field, required);
	if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble) ||
	    item->valuedouble != floor(item->valuedouble)) {
		res_errorf(res, 422, "validation_failed", field, "%s must be an integer", field);
		return -1;
	}
	d = item->valuedouble;
	if (d < (double)lo || d > (double)hi) {
		res_errorf(res, 422, "validation_failed", field,
		           "%s must be between %" PRId64 " and %" PRId64, field, lo, hi);
		return -1;
	}
	v = (int64_t)d;
	*out = v;
	return 0;
}

/* Boolean field (true/false only). */
int json_bool(struct res *res, const cJSON *obj, const char *field, bool required, bool *out)
{
	const cJSON *item = json_field(obj, field);

	if (item == NULL)
		return json_missing(res, field, required);
	if (!cJSON_IsBool(item)) {
		res_errorf(res, 422, "validation_failed", field, "%s must be a boolean", field);
		return -1;
	}
	*out = cJSON_IsTrue(item);
	return 0;
}

/* Code points in s, or -1 for invalid UTF-8 (overlong forms, surrogates,
 * values above U+10FFFF and stray continuation bytes included). */
long json_utf8_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;
	unsigned c, lo, hi;
	int k, i;

	if (s == NULL)
		return -1;
	while (*p != '\0') {
		c = *p;
		lo = 0x80;
		hi = 0xBF;
		if (c < 0x80) {
			k = 0;
		} else if (c >= 0xC2 && c <= 0xDF) {
			k = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			k = 2;
			if (c == 0xE0)
				lo = 0xA0; /* overlong */
			else if (c == 0xED)
				hi = 0x9F; /* surrogates */
		} else if (c >= 0xF0 && c <= 0xF4) {
			k = 3;
			if (c == 0xF0)
				lo = 0x90; /* overlong */
			else if (c == 0xF4)
				hi = 0x8F; /* above U+10FFFF */
		} else {
			return -1;
		}
		p++;
		for (i = 0; i < k; i++, p++) {
			if (*p < lo || *p > hi)
				return -1; /* also stops at the terminating NUL */
			lo = 0x80;
			hi = 0xBF;
		}
		n++;
	}
	return n;
}
