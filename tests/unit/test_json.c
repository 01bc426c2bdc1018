/* test_json.c - body parsing (media type, depth, trailing bytes), getters,
 * UTF-8 length and validity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "json.h"
#include "req.h"
#include "res.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

static int setup(void **state)
{
	*state = arena_new();
	return 0;
}

static int teardown(void **state)
{
	arena_free(*state);
	return 0;
}

/* Fails unless res holds the error JSON with these values (field NULL: absent). */
static void check_error(size_t row, const struct res *r, int status, const char *code,
                        const char *message, const char *field)
{
	cJSON *root = cJSON_ParseWithLength(r->body, r->body_len);
	cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
	cJSON *c = cJSON_GetObjectItemCaseSensitive(err, "code");
	cJSON *m = cJSON_GetObjectItemCaseSensitive(err, "message");
	cJSON *f = cJSON_GetObjectItemCaseSensitive(err, "field");
	bool ok = r->status == status && cJSON_IsString(c) && strcmp(c->valuestring, code) == 0 &&
	          cJSON_IsString(m) && (message == NULL || strcmp(m->valuestring, message) == 0) &&
	          (field == NULL ? f == NULL
	                         : cJSON_IsString(f) && strcmp(f->valuestring, field) == 0) &&
	          cJSON_GetArraySize(err) == (field == NULL ? 2 : 3);

	cJSON_Delete(root);
	if (!ok)
		fail_msg("row %zu: status %d body %s; want %d %s \"%s\" field %s", row, r->status,
		         r->body ? r->body : "(null)", status, code, message ? message : "*",
		         field ? field : "(none)");
}

/* depth nested arrays around 1: "[[1]]" for depth 2. */
static char *nested(struct arena *a, int depth, char open, char close)
{
	char *s = arena_alloc(a, (size_t)depth * 6 + 8);
	size_t n = 0;
	int i;

	for (i = 0; i < depth; i++) {
		s[n++] = open;
		if (open == '{') {
			memcpy(s + n, "\"a\":", 4);
			n += 4;
		}
	}
	s[n++] = '1';
	for (i = 0; i < depth; i++)
		s[n++] = close;
	s[n] = '\0';
	return s;
}

static void test_utf8_len(void **state)
{
	static const struct {
		const char *s;
		long want;
	} rows[] = {
	        {"", 0},
	        {"abc", 3},
	        {"\xc3\xa9", 1},                 /* é */
	        {"\xe6\x97\xa5\xe6\x9c\xac", 2}, /* 日本 */
	        {"\xf0\x9f\x98\x80", 1},         /* emoji */
	        {"a\xf0\x9f\x98\x80z", 3},
	        {"\xf4\x8f\xbf\xbf", 1},  /* U+10FFFF */
	        {"\xed\x9f\xbf", 1},      /* U+D7FF */
	        {"\xee\x80\x80", 1},      /* U+E000 */
	        {"\xc0\x80", -1},         /* overlong NUL */
	        {"\xc1\xbf", -1},         /* overlong */
	        {"\xe0\x80\xaf", -1},     /* overlong '/' */
	        {"\xf0\x80\x80\xaf", -1}, /* overlong */
	        {"\xed\xa0\x80", -1},     /* surrogate D800 */
	        {"\xed\xbf\xbf", -1},     /* surrogate DFFF */
	        {"\xf4\x90\x80\x80", -1}, /* above U+10FFFF */
	        {"\xf5\x80\x80\x80", -1},
	        {"\xff", -1},
	        {"\x80", -1}, /* stray continuation */
	        {"a\xbf", -1},
	        {"\xe2\x82", -1}, /* truncated */
	        {"\xf0\x9f\x98", -1},
	        {"\xc3", -1},
	        {"\xc3\x28", -1}, /* bad continuation */
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(rows); i++)
		if (json_utf8_len(rows[i].s) != rows[i].want)
			fail_msg("row %zu: got %ld, want %ld", i, json_utf8_len(rows[i].s),
			         rows[i].want);
	assert_int_equal(json_utf8_len(NULL), -1);
}

static void test_parse_limited(void **state)
{
	static const struct {
		const char *s;
		int depth;
		bool ok;
	} rows[] = {
	        {"{}", 1, true},
	        {"[]", 1, true},
	        {"1", 0, true},
	        {" {\"a\":[1,2]} \n\t\r", 2, true},
	        {"{\"a\":[1,2]}", 1, false},
	        {"[[]]", 2, true},
	        {"[[[]]]", 2, false},
	        {"[\"[[[[{{{{\"]", 1, true},    /* brackets in strings do not count */
	        {"[\"\\\"[[[[\"]", 1, true},    /* nor after an escaped quote */
	        {"[\"a\\\\\",[[]]]", 2, false}, /* escaped backslash ends the string */
	        {"{} x", 5, false},             /* trailing garbage */
	        {"{}{}", 5, false},
	        {"{", 5, false},
	        {"", 5, false},
	        {"   ", 5, false},
	        {"{\"a\":1,}", 5, false},
	        {"[\"\\u0000\"]", 5, false}, /* would truncate the string */
	        {"[\"\\u00e9\\ud83d\\ude00\"]", 5, true},
	        {"[\"\\ud83d\"]", 5, false}, /* lone surrogate */
	        {"nul", 5, false},
	};
	cJSON *j;
	size_t i;

	(void)state;
	for (i = 0; i < N(rows); i++) {
		j = json_parse_limited(rows[i].s, strlen(rows[i].s), rows[i].depth);
		if ((j != NULL) != rows[i].ok) {
			cJSON_Delete(j);
			fail_msg("row %zu (%s): %s", i, rows[i].s, j ? "parsed" : "rejected");
		}
		cJSON_Delete(j);
	}
	/* Raw NUL bytes inside the length are refused; bytes past len are not read. */
	assert_null(json_parse_limited("{}\0garbage", 10, 5));
	j = json_parse_limited("{}garbage", 2, 5);
	assert_non_null(j);
	cJSON_Delete(j);
	assert_null(json_parse_limited(NULL, 0, 5));
}

static void test_parse_limited_depth_edges(void **state)
{
	struct arena *a = *state;
	const char *s;
	cJSON *j;

	s = nested(a, JSON_MAX_DEPTH, '[', ']');
	j = json_parse_limited(s, strlen(s), JSON_MAX_DEPTH);
	assert_non_null(j);
	cJSON_Delete(j);
	s = nested(a, JSON_MAX_DEPTH + 1, '[', ']');
	assert_null(json_parse_limited(s, strlen(s), JSON_MAX_DEPTH));
	/* Far beyond cJSON's own limit: refused before cJSON recurses. */
	s = nested(a, 100000, '[', ']');
	assert_null(json_parse_limited(s, strlen(s), JSON_MAX_DEPTH));
}

static void test_body(void **state)
{
	struct arena *a = *state;
	const struct {
		const char *ct; /* NULL: no Content-Type */
		const char *body;
		int status;
		const char *code, *message;
	} rows[] = {
	        {NULL, "{\"a\":1}", 0, NULL, NULL},
	        {"application/json", "{}", 0, NULL, NULL},
	        {"application/json; charset=utf-8", "{}", 0, NULL, NULL},
	        {"Application/JSON", " {} ", 0, NULL, NULL},
	        {"application/merge-patch+json", "{}", 0, NULL, NULL},
	        {"application/vnd.api+json; charset=utf-8", "{}", 0, NULL, NULL},
	        {"text/plain", "{}", 415, "unsupported_media_type", NULL},
	        {"application/x-www-form-urlencoded", "a=1", 415, "unsupported_media_type", NULL},
	        {"application/jsonx", "{}", 415, "unsupported_media_type", NULL},
	        {"+json", "{}", 415, "unsupported_media_type", NULL},
	        {"text/json+", "{}", 415, "unsupported_media_type", NULL},
	        {"", "{}", 415, "unsupported_media_type", NULL},
	        {"application/json", "", 400, "invalid_json", "request body is empty"},
	        {NULL, "", 400, "invalid_json", "request body is empty"},
	        {NULL, "{", 400, "invalid_json", NULL},
	        {NULL, "{} {}", 400, "invalid_json", NULL},
	        {NULL, "{}x", 400, "invalid_json", NULL},
	        {NULL, "[1]", 422, "validation_failed", "body must be a JSON object"},
	        {NULL, "\"s\"", 422, "validation_failed", "body must be a JSON object"},
	        {NULL, "null", 422, "validation_failed", "body must be a JSON object"},
	        {NULL, nested(a, JSON_MAX_DEPTH, '{', '}'), 0, NULL, NULL},
	        {NULL, nested(a, JSON_MAX_DEPTH + 1, '{', '}'), 400, "invalid_json", NULL},
	        {NULL, nested(a, 5000, '[', ']'), 400, "invalid_json", NULL},
	};
	const cJSON *out;
	struct req req;
	struct res res;
	size_t i;
	int rc;

	for (i = 0; i < N(rows); i++) {
		req_init(&req, a);
		res_init(&res, a);
		if (rows[i].ct != NULL)
			req_add_header(&req, "Content-Type", rows[i].ct);
		req_set_body(&req, rows[i].body, strlen(rows[i].body));
		out = NULL;
		rc = json_body(&req, &res, &out);
		if (rows[i].status == 0) {
			if (rc != 0 || !cJSON_IsObject(out) || res.status != 0)
				fail_msg("row %zu: rc %d status %d %s", i, rc, res.status,
				         res.body ? res.body : "");
			continue;
		}
		if (rc != -1 || out != NULL)
			fail_msg("row %zu: rc %d, want -1", i, rc);
		check_error(i, &res, rows[i].status, rows[i].code, rows[i].message, NULL);
	}
}

static void test_body_cached_and_nul(void **state)
{
	const cJSON *one = NULL, *two = NULL;
	struct req req;
	struct res res;

	req_init(&req, *state);
	res_init(&res, *state);
	req_set_body(&req, "{\"k\":\"v\"}", 9);
	assert_int_equal(json_body(&req, &res, &one), 0);
	assert_int_equal(json_body(&req, &res, &two), 0);
	assert_ptr_equal(one, two);
	/* A body with a NUL byte after the value is not JSON. */
	req_set_body(&req, "{}\0{}", 5);
	assert_int_equal(json_body(&req, &res, &one), -1);
	check_error(0, &res, 400, "invalid_json", NULL, NULL);
}

/* One getter call on {"...": ...} parsed from json. */
struct get_row {
	const char *json;
	char kind; /* 's', 'i', 'b' */
	bool required;
	int64_t min, max; /* string: code points; number: value */
	int rc;
	const char *message;  /* on error */
	const char *want_str; /* on success for 's'; NULL: *out untouched */
	int64_t want_i;       /* on success for 'i' */
	int want_b;           /* on success for 'b': 0/1, -1 untouched */
};

#define EMOJI   "\xf0\x9f\x98\x80"
#define EMOJI10 EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI

static const struct get_row get_rows[] = {
        {"{\"f\":\"hi\"}", 's', true, 1, 200, 0, NULL, "hi", 0, 0},
        {"{}", 's', true, 1, 200, -1, "f is required", NULL, 0, 0},
        {"{\"f\":null}", 's', true, 1, 200, -1, "f is required", NULL, 0, 0},
        {"{}", 's', false, 1, 200, 0, NULL, NULL, 0, 0},
        {"{\"f\":null}", 's', false, 1, 200, 0, NULL, NULL, 0, 0},
        {"{\"F\":\"x\"}", 's', true, 1, 200, -1, "f is required", NULL, 0, 0},
        {"{\"f\":5}", 's', true, 1, 200, -1, "f must be a string", NULL, 0, 0},
        {"{\"f\":[\"x\"]}", 's', false, 1, 200, -1, "f must be a string", NULL, 0, 0},
        {"{\"f\":\"\"}", 's', true, 1, 200, -1, "f must not be empty", NULL, 0, 0},
        {"{\"f\":\"\"}", 's', true, 0, 200, 0, NULL, "", 0, 0},
        {"{\"f\":\"ab\"}", 's', true, 3, 200, -1, "f must be at least 3 characters", NULL, 0, 0},
        {"{\"f\":\"abcd\"}", 's', true, 1, 3, -1, "f must be at most 3 characters", NULL, 0, 0},
        {"{\"f\":\"abc\"}", 's', true, 1, 3, 0, NULL, "abc", 0, 0},
        /* Ten emoji are ten characters (40 bytes). */
        {"{\"f\":\"" EMOJI10 "\"}", 's', true, 10, 10, 0, NULL, EMOJI10, 0, 0},
        {"{\"f\":\"" EMOJI10 "x\"}", 's', true, 1, 10, -1, "f must be at most 10 characters", NULL,
         0, 0},
        {"{\"f\":\"\\ud83d\\ude00\"}", 's', true, 1, 1, 0, NULL, EMOJI, 0, 0},
        {"{\"f\":\"\xc0\x80\"}", 's', true, 0, 10, -1, "f must be valid UTF-8", NULL, 0, 0},
        {"{\"f\":\"a\xff\"}", 's', true, 0, 10, -1, "f must be valid UTF-8", NULL, 0, 0},
        {"{\"f\":\"\xed\xa0\x80\"}", 's', true, 0, 10, -1, "f must be valid UTF-8", NULL, 0, 0},

        {"{\"f\":10}", 'i', true, 1, 100, 0, NULL, NULL, 10, 0},
        {"{\"f\":1}", 'i', true, 1, 100, 0, NULL, NULL, 1, 0},
        {"{\"f\":100}", 'i', true, 1, 100, 0, NULL, NULL, 100, 0},
        {"{\"f\":1e2}", 'i', true, 1, 100, 0, NULL, NULL, 100, 0},
        {"{\"f\":-5}", 'i', true, -10, 10, 0, NULL, NULL, -5, 0},
        {"{\"f\":0}", 'i', true, 1, 100, -1, "f must be between 1 and 100", NULL, 0, 0},
        {"{\"f\":101}", 'i', true, 1, 100, -1, "f must be between 1 and 100", NULL, 0, 0},
        {"{\"f\":1.5}", 'i', true, 1, 100, -1, "f must be an integer", NULL, 0, 0},
        {"{\"f\":\"10\"}", 'i', true, 1, 100, -1, "f must be an integer", NULL, 0, 0},
        {"{\"f\":true}", 'i', true, 1, 100, -1, "f must be an integer", NULL, 0, 0},
        {"{}", 'i', true, 1, 100, -1, "f is required", NULL, 0, 0},
        {"{}", 'i', false, 1, 100, 0, NULL, NULL, 777, 0},
        {"{\"f\":9007199254740991}", 'i', true, INT64_MIN, INT64_MAX, 0, NULL, NULL,
         9007199254740991LL, 0},
        {"{\"f\":-9007199254740991}", 'i', true, INT64_MIN, INT64_MAX, 0, NULL, NULL,
         -9007199254740991LL, 0},
        {"{\"f\":9007199254740993}", 'i', true, INT64_MIN, INT64_MAX, -1,
         "f must be between -9007199254740991 and 9007199254740991", NULL, 0, 0},
        {"{\"f\":1e300}", 'i', true, 0, INT64_MAX, -1, "f must be between 0 and 9007199254740991",
         NULL, 0, 0},

        {"{\"f\":true}", 'b', true, 0, 0, 0, NULL, NULL, 0, 1},
        {"{\"f\":false}", 'b', true, 0, 0, 0, NULL, NULL, 0, 0},
        {"{\"f\":1}", 'b', true, 0, 0, -1, "f must be a boolean", NULL, 0, 0},
        {"{\"f\":\"true\"}", 'b', true, 0, 0, -1, "f must be a boolean", NULL, 0, 0},
        {"{}", 'b', true, 0, 0, -1, "f is required", NULL, 0, 0},
        {"{}", 'b', false, 0, 0, 0, NULL, NULL, 0, -1},
};

static void test_getters(void **state)
{
	const char *s;
	int64_t v;
	bool b;
	struct res res;
	cJSON *obj;
	size_t i;
	int rc = 0;

	for (i = 0; i < N(get_rows); i++) {
		const struct get_row *g = &get_rows[i];

		obj = json_parse_limited(g->json, strlen(g->json), JSON_MAX_DEPTH);
		if (obj == NULL)
			fail_msg("row %zu: fixture does not parse", i);
		res_init(&res, *state);
		s = NULL;
		v = 777;
		b = g->want_b != 1; /* the opposite of what should come out */
		if (g->kind == 's')
			rc = json_str(&res, obj, "f", g->required, (size_t)g->min, (size_t)g->max,
			              &s);
		else if (g->kind == 'i')
			rc = json_i64(&res, obj, "f", g->required, g->min, g->max, &v);
		else
			rc = json_bool(&res, obj, "f", g->required, &b);
		/* Keep what we need, then free the tree before any failure. */
		if (rc == 0 && g->kind == 's' && s != NULL)
			s = arena_strdup(*state, s);
		cJSON_Delete(obj);
		if (rc != g->rc)
			fail_msg("row %zu (%s): rc %d, want %d; %s", i, g->json, rc, g->rc,
			         res.body ? res.body : "");
		if (rc != 0) {
			check_error(i, &res, 422, "validation_failed", g->message, "f");
			continue;
		}
		if (res.status != 0)
			fail_msg("row %zu: status set on success", i);
		if (g->kind == 's' && ((s == NULL) != (g->want_str == NULL) ||
		                       (s != NULL && strcmp(s, g->want_str) != 0)))
			fail_msg("row %zu: got \"%s\"", i, s ? s : "(untouched)");
		if (g->kind == 'i' && v != g->want_i)
			fail_msg("row %zu: got %lld", i, (long long)v);
		if (g->kind == 'b' && g->want_b >= 0 && b != (g->want_b == 1))
			fail_msg("row %zu: got %d", i, b);
		if (g->kind == 'b' && g->want_b < 0 && b != true)
			fail_msg("row %zu: untouched value changed", i);
	}
}

static void test_has(void **state)
{
	cJSON *obj = cJSON_Parse("{\"a\":1,\"n\":null,\"s\":\"\"}");

	(void)state;
	assert_true(json_has(obj, "a"));
	assert_true(json_has(obj, "s"));
	assert_false(json_has(obj, "n"));
	assert_false(json_has(obj, "missing"));
	assert_false(json_has(obj, "A"));
	assert_false(json_has(NULL, "a"));
	cJSON_Delete(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_utf8_len),
	        cmocka_unit_test(test_parse_limited),
	        cmocka_unit_test_setup_teardown(test_parse_limited_depth_edges, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_body, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_body_cached_and_nul, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_getters, setup, teardown),
	        cmocka_unit_test(test_has),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
