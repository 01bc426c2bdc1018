/* test_log.c - one valid JSON object per line, fields, escaping, levels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

/* stderr goes to a temporary file between capture_start and capture_end. */
static int saved_fd = -1;
static FILE *cap;

static void capture_start(void)
{
	cap = tmpfile();
	assert_non_null(cap);
	fflush(stderr);
	saved_fd = dup(STDERR_FILENO);
	assert_true(saved_fd >= 0);
	assert_true(dup2(fileno(cap), STDERR_FILENO) >= 0);
}

/* Returns the captured text (caller frees). */
static char *capture_end(void)
{
	long n;
	char *buf;

	assert_true(dup2(saved_fd, STDERR_FILENO) >= 0);
	close(saved_fd);
	n = ftell(cap);
	/* The fd was shared: its offset is where the writes ended. */
	n = lseek(fileno(cap), 0, SEEK_END);
	assert_true(n >= 0);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fileno(cap), buf, (size_t)n, 0), n);
	buf[n] = '\0';
	fclose(cap);
	return buf;
}

/* Splits text into lines, parses each; every line must be one JSON object. */
static size_t parse_lines(char *text, cJSON **out, size_t max)
{
	size_t n = 0;
	char *line = text, *nl;

	while ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		assert_true(n < max);
		out[n] = cJSON_Parse(line);
		if (out[n] == NULL || !cJSON_IsObject(out[n]))
			fail_msg("not a JSON object: %s", line);
		n++;
		line = nl + 1;
	}
	assert_string_equal(line, ""); /* every line ends with \n */
	return n;
}

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void free_all(cJSON **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(l[i]);
}

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_DEBUG);
	log_set_function("unittest");
	log_set_request_id(NULL);
	return 0;
}

static void test_fields(void **state)
{
	cJSON *l[4];
	char *text;
	size_t n;
	const char *ts;

	(void)state;
	capture_start();
	log_info("hello %d", 42);
	log_set_request_id("req-1");
	log_error("boom");
	log_set_request_id("");
	log_warn("after");
	text = capture_end();
	n = parse_lines(text, l, N(l));
	assert_int_equal(n, 3);
	assert_string_equal(str(l[0], "level"), "info");
	assert_string_equal(str(l[0], "fn"), "unittest");
	assert_string_equal(str(l[0], "msg"), "hello 42");
	assert_null(cJSON_GetObjectItem(l[0], "request_id"));
	assert_string_equal(str(l[1], "level"), "error");
	assert_string_equal(str(l[1], "request_id"), "req-1");
	assert_null(cJSON_GetObjectItem(l[2], "request_id"));
	assert_string_equal(str(l[2], "level"), "warn");
	/* RFC 3339 UTC with milliseconds: 2026-11-27T09:00:00.123Z */
	ts = str(l[0], "ts");
	assert_non_null(ts);
	assert_int_equal(strlen(ts), 24);
	assert_true(ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' && ts[13] == ':' &&
	            ts[16] == ':' && ts[19] == '.' && ts[23] == 'Z');
	free_all(l, n);
	free(text);
}

static void test_levels(void **state)
{
	cJSON *l[8];
	char *text;
	size_t n;

	(void)state;
	capture_start();
	log_set_level(LOG_WARN);
	log_debug("d");
	log_info("i");
	log_request("GET", "/x", 200, 1.0); /* info: filtered too */
	log_warn("w");
	log_error("e");
	log_set_level(LOG_DEBUG);
	log_debug("d2");
	text = capture_end();
	n = parse_lines(text, l, N(l));
	assert_int_equal(n, 3);
	assert_string_equal(str(l[0], "msg"), "w");
	assert_string_equal(str(l[1], "msg"), "e");
	assert_string_equal(str(l[2], "msg"), "d2");
	assert_string_equal(str(l[2], "level"), "debug");
	free_all(l, n);
	free(text);
}

static void test_level_parse(void **state)
{
	static const struct {
		const char *in;
		int want; /* -1: rejected */
	} rows[] = {
	        {"debug", LOG_DEBUG},
	        {"info", LOG_INFO},
	        {"warn", LOG_WARN},
	        {"error", LOG_ERROR},
	        {"INFO", LOG_INFO},
	        {"warning", LOG_WARN},
	        {"", -1},
	        {"verbose", -1},
	        {"info ", -1},
	};
	enum log_level got;

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		int rc = log_level_parse(rows[i].in, &got);

		if (rows[i].want < 0) {
			assert_int_equal(rc, -1);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(got, rows[i].want);
		}
	}
	assert_int_equal(log_level_parse(NULL, &got), -1);
}

static void test_escaping(void **state)
{
	static const char *const msgs[] = {
	        "quote \" backslash \\ slash /",
	        "nl\ncr\rtab\tbell\adel\x7f esc\x1b",
	        "emoji \xf0\x9f\x98\x80 and \xe4\xb8\xad",
	        "{\"fake\":\"json\"}\n{\"level\":\"error\"}",
	};
	cJSON *l[8];
	char *text;
	size_t n;

	(void)state;
	capture_start();
	for (size_t i = 0; i < N(msgs); i++)
		log_info("%s", msgs[i]);
	log_info("bad utf8 \xff\xc3(");
	text = capture_end();
	n = parse_lines(text, l, N(l));
	assert_int_equal(n, N(msgs) + 1);
	for (size_t i = 0; i < N(msgs); i++)
		assert_string_equal(str(l[i], "msg"), msgs[i]);
	assert_string_equal(str(l[N(msgs)], "msg"), "bad utf8 \xef\xbf\xbd\xef\xbf\xbd(");
	free_all(l, n);
	free(text);
}

static void test_truncation(void **state)
{
	cJSON *l[2];
	char *text, *big;
	size_t n, size = 100000;

	(void)state;
	big = malloc(size + 1);
	assert_non_null(big);
	/* Control characters: the worst case for escaping. */
	memset(big, '\x01', size);
	big[size] = '\0';
	capture_start();
	log_info("%s", big);
	memset(big, 'x', size);
	log_set_request_id("r");
	log_request("GET", big, 200, 1.5);
	log_set_request_id(NULL);
	text = capture_end();
	n = parse_lines(text, l, N(l));
	assert_int_equal(n, 2);
	assert_true(strlen(str(l[0], "msg")) < 8192);
	assert_true(strlen(str(l[0], "msg")) > 1000);
	assert_string_equal(str(l[0], "msg") + strlen(str(l[0], "msg")) - 3, "...");
	assert_true(strlen(str(l[1], "path")) < 8192);
	assert_int_equal(cJSON_GetObjectItem(l[1], "status")->valueint, 200);
	free_all(l, n);
	free(text);
	free(big);
}

static void test_request_line(void **state)
{
	cJSON *l[2];
	char *text;
	size_t n;

	(void)state;
	capture_start();
	log_set_request_id("abc-123");
	log_request("POST", "/api/articles?x=\"1\"", 201, 12.3456);
	log_set_request_id(NULL);
	text = capture_end();
	n = parse_lines(text, l, N(l));
	assert_int_equal(n, 1);
	assert_string_equal(str(l[0], "msg"), "request");
	assert_string_equal(str(l[0], "level"), "info");
	assert_string_equal(str(l[0], "method"), "POST");
	assert_string_equal(str(l[0], "path"), "/api/articles?x=\"1\"");
	assert_string_equal(str(l[0], "request_id"), "abc-123");
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(l[0], "status")));
	assert_int_equal(cJSON_GetObjectItem(l[0], "status")->valueint, 201);
	assert_true(cJSON_GetObjectItem(l[0], "duration_ms")->valuedouble > 12.34);
	assert_true(cJSON_GetObjectItem(l[0], "duration_ms")->valuedouble < 12.35);
	free_all(l, n);
	free(text);
}

#define THREADS    8
#define PER_THREAD 200

static void *writer(void *arg)
{
	char id[16];

	snprintf(id, sizeof(id), "t%ld", (long)(intptr_t)arg);
	log_set_request_id(id);
	for (int i = 0; i < PER_THREAD; i++)
		log_info("thread %ld line %d %0300d", (long)(intptr_t)arg, i, 0);
	return NULL;
}

/* Concurrent writers: every line intact, request ids per thread. */
static void test_threads(void **state)
{
	static cJSON *l[THREADS * PER_THREAD + 1];
	pthread_t t[THREADS];
	char *text, want[16];
	size_t n;

	(void)state;
	capture_start();
	for (long i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	text = capture_end();
	n = parse_lines(text, l, N(l));
	assert_int_equal(n, THREADS * PER_THREAD);
	for (size_t i = 0; i < n; i++) {
		long th;
		int line;

		assert_int_equal(sscanf(str(l[i], "msg"), "thread %ld line %d", &th, &line), 2);
		snprintf(want, sizeof(want), "t%ld", th);
		assert_string_equal(str(l[i], "request_id"), want);
	}
	/* The main thread's id was not touched by the writers. */
	capture_start();
	log_info("main");
	text[0] = '\0';
	free_all(l, n);
	free(text);
	text = capture_end();
	n = parse_lines(text, l, 1);
	assert_null(cJSON_GetObjectItem(l[0], "request_id"));
	free_all(l, n);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fields),      cmocka_unit_test(test_levels),
	        cmocka_unit_test(test_level_parse), cmocka_unit_test(test_escaping),
	        cmocka_unit_test(test_truncation),  cmocka_unit_test(test_request_line),
	        cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
