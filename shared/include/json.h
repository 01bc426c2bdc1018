/* json.h - validated reads of a JSON request body.
 *
 * Each getter returns 0 and sets *out, or -1 after filling res with a JSON
 * error naming the field: 422 validation_failed for a missing required field,
 * a wrong type, a string too short/long (length in UTF-8 code points, and the
 * string must be valid UTF-8) or a number out of range. An absent optional
 * field leaves *out untouched and returns 0 (use json_has() to tell).
 */
#ifndef JSON_H
#define JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct req;
struct res;
typedef struct cJSON cJSON;

/* Maximum nesting accepted in a request body. */
#define JSON_MAX_DEPTH 32

/* Parses the body once (cached in req). 415 unsupported_media_type when a
 * Content-Type is present and is not JSON, 400 invalid_json when it does not
 * parse or nests deeper than JSON_MAX_DEPTH, 422 when it is not an object.
 * *out is borrowed from req. */
int json_body(struct req *req, struct res *res, const cJSON **out);

bool json_has(const cJSON *obj, const char *field);

int json_str(struct res *res, const cJSON *obj, const char *field, bool required,
	     size_t min_len, size_t max_len, const char **out);
int json_i64(struct res *res, const cJSON *obj, const char *field, bool required,
	     int64_t min, int64_t max, int64_t *out);
int json_bool(struct res *res, const cJSON *obj, const char *field, bool required,
	      bool *out);

/* Count of UTF-8 code points, or -1 when s is not valid UTF-8. */
long json_utf8_len(const char *s);

/* Parses with a depth limit; NULL when invalid. Caller frees with cJSON_Delete. */
cJSON *json_parse_limited(const char *s, size_t len, int max_depth);

#endif
