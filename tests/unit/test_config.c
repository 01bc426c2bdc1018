/* test_config.c - parsers, the table walk, and the shared table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

static const char *const shared_names[] = {
        "DATABASE_URL",
        "DB_CONNECT_TIMEOUT",
        "DB_STATEMENT_TIMEOUT_MS",
        "DB_PREPARED_STATEMENTS",
        "TRUST_PROXY",
        "MAX_BODY_BYTES",
        "LOG_LEVEL",
        "APP_SECRET",
        "HTTP_CONNECT_TIMEOUT_MS",
        "HTTP_TIMEOUT_MS",
        "HTTP_MAX_RESPONSE_BYTES",
};

static int clear_env(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(shared_names); i++)
		unsetenv(shared_names[i]);
	unsetenv("TEST_A");
	unsetenv("TEST_B");
	return 0;
}

static void test_parse_long(void **state)
{
	static const struct {
		const char *in;
		long want; /* -1: rejected */
	} rows[] = {
	        {"0", 0},     {"5", 5},    {"10000", 10000}, {"9223372036854775807", LONG_MAX},
	        {"-1", -1},   {"", -1},    {"abc", -1},      {"12abc", -1},
	        {" 5", -1},   {"5 ", -1},  {"+5", -1},       {"99999999999999999999", -1},
	        {"0x10", -1}, {"1.5", -1},
	};
	char err[128];
	long v;

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		v = 77;
		err[0] = '\0';
		int rc = config_parse_long(rows[i].in, &v, err, sizeof(err));

		if (rows[i].want < 0) {
			if (rc != -1)
				fail_msg("accepted \"%s\"", rows[i].in);
			assert_true(err[0] != '\0');
			assert_int_equal(v, 77);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(v, rows[i].want);
		}
	}
}

static void test_parse_size(void **state)
{
	static const struct {
		const char *in;
		bool ok;
		size_t want;
	} rows[] = {
	        {"0", true, 0},
	        {"123", true, 123},
	        {"64K", true, 65536},
	        {"64k", true, 65536},
	        {"6M", true, 6291456},
	        {"8M", true, 8388608},
	        {"1G", true, 1073741824},
	        {"1KB", true, 1024},
	        {"", false, 0},
	        {"K", false, 0},
	        {"-1", false, 0},
	        {"1T", false, 0},
	        {"1MM", false, 0},
	        {"1 M", false, 0},
	        {"1.5M", false, 0},
	        {"99999999999999999999G", false, 0},
	        {"17179869184G", false, 0},
	};
	char err[128];
	size_t v;

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		int rc = config_parse_size(rows[i].in, &v, err, sizeof(err));

		if (!rows[i].ok) {
			if (rc != -1)
				fail_msg("accepted \"%s\"", rows[i].in);
		} else {
			if (rc != 0)
				fail_msg("refused \"%s\": %s", rows[i].in, err);
			assert_int_equal(v, rows[i].want);
		}
	}
}

static void test_parse_bool_level_str(void **state)
{
	static const char *const yes[] = {"1", "true", "TRUE", "yes", "on", "On"};
	static const char *const no[] = {"0", "false", "no", "off", "OFF"};
	static const char *const bad[] = {"", "2", "y", "nope", "true "};
	char err[128];
	bool b;
	int lvl;
	const char *s = NULL;

	(void)state;
	for (size_t i = 0; i < N(yes); i++) {
		b = false;
		assert_int_equal(config_parse_bool(yes[i], &b, err, sizeof(err)), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < N(no); i++) {
		b = true;
		assert_int_equal(config_parse_bool(no[i], &b, err, sizeof(err)), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < N(bad); i++)
		assert_int_equal(config_parse_bool(bad[i], &b, err, sizeof(err)), -1);
	assert_int_equal(config_parse_level("warn", &lvl, err, sizeof(err)), 0);
	assert_int_equal(lvl, LOG_WARN);
	assert_int_equal(config_parse_level("debug", &lvl, err, sizeof(err)), 0);
	assert_int_equal(lvl, LOG_DEBUG);
	assert_int_equal(config_parse_level("loud", &lvl, err, sizeof(err)), -1);
	assert_int_equal(config_parse_str("x", &s, err, sizeof(err)), 0);
	assert_string_equal(s, "x");
}

static void test_load_table(void **state)
{
	long a = 0;
	const char *b = NULL;
	size_t c = 0;
	struct config_var vars[] = {
	        {"TEST_A", "7", config_parse_long, &a, "a"},
	        {"TEST_B", NULL, config_parse_str, &b, "b"},
	        {"TEST_C_UNSET_NO_DEFAULT", NULL, config_parse_size, &c, "c"},
	};
	char err[128] = "";

	(void)state;
	/* Defaults; a variable with no default stays as it was. */
	assert_int_equal(config_load(vars, N(vars), err, sizeof(err)), 0);
	assert_int_equal(a, 7);
	assert_null(b);
	assert_int_equal(c, 0);
	/* The environment wins; empty counts as unset. */
	setenv("TEST_A", "42", 1);
	setenv("TEST_B", "hello", 1);
	assert_int_equal(config_load(vars, N(vars), err, sizeof(err)), 0);
	assert_int_equal(a, 42);
	assert_string_equal(b, "hello");
	setenv("TEST_A", "", 1);
	assert_int_equal(config_load(vars, N(vars), err, sizeof(err)), 0);
	assert_int_equal(a, 7);
	/* A bad value names the variable, never the value. */
	setenv("TEST_A", "s3cr3t-value", 1);
	assert_int_equal(config_load(vars, N(vars), err, sizeof(err)), -1);
	assert_true(strncmp(err, "TEST_A: ", 8) == 0);
	assert_null(strstr(err, "s3cr3t"));
	unsetenv("TEST_A");
	unsetenv("TEST_B");
}

static void test_shared_defaults(void **state)
{
	char err[256] = "";
	int saved, pipefd[2];
	char buf[4096];
	ssize_t n;

	(void)state;
	/* Capture the warning about the missing APP_SECRET. */
	assert_int_equal(pipe(pipefd), 0);
	saved = dup(STDERR_FILENO);
	dup2(pipefd[1], STDERR_FILENO);
	int rc = config_load_shared(err, sizeof(err));
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(pipefd[1]);
	n = read(pipefd[0], buf, sizeof(buf) - 1);
	close(pipefd[0]);
	assert_int_equal(rc, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "APP_SECRET is not set"));
	assert_non_null(strstr(buf, "\"level\":\"warn\""));

	assert_null(g_cfg.database_url);
	assert_int_equal(g_cfg.db_connect_timeout_s, 5);
	assert_int_equal(g_cfg.db_statement_timeout_ms, 10000);
	assert_true(g_cfg.db_prepare);
	assert_int_equal(g_cfg.max_body, 6 * 1024 * 1024);
	assert_int_equal(g_cfg.log_level, LOG_INFO);
	assert_int_equal(g_cfg.http_connect_timeout_ms, 3000);
	assert_int_equal(g_cfg.http_timeout_ms, 10000);
	assert_int_equal(g_cfg.http_max_response, 8 * 1024 * 1024);
	/* A random per-process key: 32 bytes as hex. */
	assert_non_null(g_cfg.app_secret);
	assert_int_equal(strlen(g_cfg.app_secret), 64);
	assert_int_equal(strspn(g_cfg.app_secret, "0123456789abcdef"), 64);
}

static void test_shared_from_env(void **state)
{
	char err[256] = "";

	(void)state;
	setenv("DATABASE_URL", "postgresql:///x", 1);
	setenv("MAX_BODY_BYTES", "1K", 1);
	setenv("LOG_LEVEL", "error", 1);
	setenv("APP_SECRET", "0123456789abcdef", 1);
	setenv("HTTP_TIMEOUT_MS", "250", 1);
	assert_int_equal(config_load_shared(err, sizeof(err)), 0);
	assert_string_equal(g_cfg.database_url, "postgresql:///x");
	assert_int_equal(g_cfg.max_body, 1024);
	assert_int_equal(g_cfg.log_level, LOG_ERROR);
	assert_string_equal(g_cfg.app_secret, "0123456789abcdef");
	assert_int_equal(g_cfg.http_timeout_ms, 250);
	log_set_level(LOG_INFO);
	clear_env(NULL);
}

static void test_shared_errors(void **state)
{
	static const struct {
		const char *name, *value;
	} rows[] = {
	        {"APP_SECRET", "short-secret"}, /* < 16 characters */
	        {"DB_CONNECT_TIMEOUT", "soon"},    {"DB_CONNECT_TIMEOUT", "0"},
	        {"DB_STATEMENT_TIMEOUT_MS", "-5"}, {"MAX_BODY_BYTES", "lots"},
	        {"LOG_LEVEL", "chatty"},           {"HTTP_CONNECT_TIMEOUT_MS", "0"},
	        {"HTTP_TIMEOUT_MS", "1s"},         {"HTTP_MAX_RESPONSE_BYTES", "8Q"},
	};
	char err[256], want[64];

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		clear_env(NULL);
		setenv(rows[i].name, rows[i].value, 1);
		err[0] = '\0';
		if (config_load_shared(err, sizeof(err)) != -1)
			fail_msg("%s=%s accepted", rows[i].name, rows[i].value);
		snprintf(want, sizeof(want), "%s: ", rows[i].name);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("error \"%s\" does not start with \"%s\"", err, want);
		if (strstr(err, rows[i].value) != NULL)
			fail_msg("error \"%s\" shows the value", err);
	}
	clear_env(NULL);
}

/* The table documents itself: every row has a name, a parser, a dest and help. */
static void test_table(void **state)
{
	(void)state;
	assert_int_equal(config_shared_count, N(shared_names));
	for (size_t i = 0; i < config_shared_count; i++) {
		const struct config_var *v = &config_shared_vars[i];

		assert_string_equal(v->name, shared_names[i]);
		assert_non_null(v->parse);
		assert_non_null(v->dest);
		assert_non_null(v->help);
		assert_true(strlen(v->help) > 10);
		assert_null(strchr(v->help, '\n'));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_long),           cmocka_unit_test(test_parse_size),
	        cmocka_unit_test(test_parse_bool_level_str), cmocka_unit_test(test_load_table),
	        cmocka_unit_test(test_shared_defaults),      cmocka_unit_test(test_shared_from_env),
	        cmocka_unit_test(test_shared_errors),        cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, clear_env, NULL);
}
