/* test_db.c - db.c: row-to-JSON conversion and error mapping without a
 * server; with DATABASE_URL set, also transactions, SQLSTATE classification
 * and reconnects against a real PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cJSON.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "res.h"

/* ---- helpers ---- */

/* A one-row result built without a server (libpq supports this). */
static PGresult *make_result(int ncols, const char *const *names, const Oid *types,
                             const char *const *values)
{
	PGresAttDesc attrs[16];
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);

	assert_non_null(r);
	assert_true(ncols <= 16);
	memset(attrs, 0, sizeof(attrs));
	for (int i = 0; i < ncols; i++) {
		attrs[i].name = (char *)names[i];
		attrs[i].typid = types[i];
		attrs[i].typlen = -1;
		attrs[i].atttypmod = -1;
	}
	assert_int_equal(PQsetResultAttrs(r, ncols, attrs), 1);
	for (int i = 0; i < ncols; i++) {
		/* len -1 marks SQL NULL. */
		int len = values[i] ? (int)strlen(values[i]) : -1;

		assert_int_equal(PQsetvalue(r, 0, i, (char *)values[i], len), 1);
	}
	return r;
}

/* The JSON text of one value of type oid. */
static char *value_json(Oid oid, const char *text)
{
	const char *names[] = {"v"};
	const Oid types[] = {oid};
	const char *values[] = {text};
	PGresult *r = make_result(1, names, types, values);
	cJSON *row = db_row_json(r, 0);
	char *out;

	assert_non_null(row);
	out = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(row, "v"));
	cJSON_Delete(row);
	PQclear(r);
	return out;
}

/* ---- without a server ---- */

struct conv_case {
	Oid oid;
	const char *in;   /* NULL = SQL NULL */
	const char *json; /* expected JSON text of the value */
};

static const struct conv_case conv_cases[] = {
        {23, "42", "42"},
        {23, "-7", "-7"},
        {21, "0", "0"},
        {20, "999999999999999", "999999999999999"},
        {20, "1000000000000001", "1000000000000001"},
        {20, "9007199254740991", "9007199254740991"},
        {20, "-9007199254740991", "-9007199254740991"},
        {20, "9007199254740992", "\"9007199254740992\""},
        {20, "9223372036854775807", "\"9223372036854775807\""},
        {20, "-9223372036854775808", "\"-9223372036854775808\""},
        {701, "1.5", "1.5"},
        {700, "-0.25", "-0.25"},
        {1700, "12.50", "12.5"},
        {1700, "NaN", "\"NaN\""},
        {701, "Infinity", "\"Infinity\""},
        {701, "-Infinity", "\"-Infinity\""},
        {16, "t", "true"},
        {16, "f", "false"},
        {114, "{\"a\":[1,2]}", "{\"a\":[1,2]}"},
        {3802, "[1, \"x\"]", "[1,\"x\"]"},
        {3802, "null", "null"},
        {1184, "2026-11-27 09:00:00.123456+00", "\"2026-11-27T09:00:00.123456Z\""},
        {1184, "2026-11-27 09:00:00+00", "\"2026-11-27T09:00:00Z\""},
        {1184, "2026-11-27 09:00:00.5+00:00", "\"2026-11-27T09:00:00.5Z\""},
        {1184, "2026-11-27 10:00:00+01", "\"2026-11-27T10:00:00+01:00\""},
        {1184, "2026-11-27 04:30:00-05:30", "\"2026-11-27T04:30:00-05:30\""},
        {1184, "infinity", "\"infinity\""},
        {1184, "0001-01-01 00:00:00+00 BC", "\"0001-01-01 00:00:00+00 BC\""},
        {1114, "2026-11-27 09:00:00.123456", "\"2026-11-27T09:00:00.123456Z\""},
        {1114, "2026-11-27 09:00:00", "\"2026-11-27T09:00:00Z\""},
        {1114, "-infinity", "\"-infinity\""},
        {25, "héllo 你好 👋", "\"héllo 你好 👋\""},
        {25, "", "\"\""},
        {1043, "quote \" and \\", "\"quote \\\" and \\\\\""},
        {2950, "0e2e5f0c-0000-4000-8000-000000000000", "\"0e2e5f0c-0000-4000-8000-000000000000\""},
        {23, NULL, "null"},
        {1184, NULL, "null"},
        {25, NULL, "null"},
};

static void test_value_conversion(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(conv_cases) / sizeof(conv_cases[0]); i++) {
		char *got = value_json(conv_cases[i].oid, conv_cases[i].in);

		if (strcmp(got, conv_cases[i].json) != 0)
			fail_msg("case %zu (oid %u, %s): got %s, want %s", i,
			         (unsigned)conv_cases[i].oid,
			         conv_cases[i].in ? conv_cases[i].in : "NULL", got,
			         conv_cases[i].json);
		free(got);
	}
}

static void test_row_json_shape(void **state)
{
	const char *names[] = {"id", "title", "published_at", "flag"};
	const Oid types[] = {20, 25, 1184, 16};
	const char *values[] = {"5", "Hi", "2026-01-02 03:04:05+00", NULL};
	PGresult *r = make_result(4, names, types, values);
	cJSON *row = db_row_json(r, 0), *rows;
	char *text;

	(void)state;
	text = cJSON_PrintUnformatted(row);
	assert_string_equal(text, "{\"id\":5,\"title\":\"Hi\",\"published_at\":"
	                          "\"2026-01-02T03:04:05Z\",\"flag\":null}");
	free(text);
	cJSON_Delete(row);

	/* Out of range rows give NULL rather than reading past the result. */
	assert_null(db_row_json(r, 1));
	assert_null(db_row_json(r, -1));
	assert_null(db_row_json(NULL, 0));

	rows = db_rows_json(r);
	assert_int_equal(cJSON_GetArraySize(rows), 1);
	cJSON_Delete(rows);
	rows = db_rows_json(NULL);
	assert_int_equal(cJSON_GetArraySize(rows), 0);
	cJSON_Delete(rows);
	PQclear(r);
}

/* The body's error code, or "" (arena-independent copy). */
static void res_code(const struct res *res, char *buf, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(res->body, res->body_len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");

	snprintf(buf, len, "%s", cJSON_IsString(c) ? c->valuestring : "");
	cJSON_Delete(root);
}

/* No server on the port: 503 db_unavailable with Retry-After, quickly. */
static void test_unavailable_maps_to_503(void **state)
{
	const char *saved = g_cfg.database_url;
	struct arena *a = arena_new();
	struct res res;
	char code[64];

	(void)state;
	db_close();
	g_cfg.database_url = "postgresql://127.0.0.1:1/nothing?connect_timeout=2";
	assert_null(db_conn());
	assert_null(db_query(a, "SELECT 1", 0, NULL));
	assert_int_equal(db_last_error(), DB_UNAVAILABLE);
	assert_int_equal(db_exec(a, "SELECT 1", 0, NULL), -1);
	assert_int_equal(db_begin(), -1);
	assert_false(db_in_transaction());
	db_rollback(); /* no transaction: harmless */

	res_init(&res, a);
	assert_int_equal(db_fail(&res), 503);
	assert_int_equal(res.status, 503);
	assert_non_null(kv_get(&res.headers, "Retry-After"));
	assert_string_equal(kv_get(&res.headers, "Retry-After"), "1");
	res_code(&res, code, sizeof(code));
	assert_string_equal(code, "db_unavailable");

	db_close();
	g_cfg.database_url = saved;
	arena_free(a);
}

/* ---- against a server (DATABASE_URL) ---- */

static int server_setup(void **state)
{
	struct arena *a = arena_new();
	int rc = 0;

	(void)state;
	db_close();
	g_cfg.database_url = getenv("DATABASE_URL");
	g_cfg.db_connect_timeout_s = 5;
	g_cfg.db_statement_timeout_ms = 4321;
	if (db_exec(a,
	            "CREATE TEMP TABLE IF NOT EXISTS t_db ("
	            " id int PRIMARY KEY, v text UNIQUE, n int CHECK (n >= 0),"
	            " p int REFERENCES t_db (id))",
	            0, NULL) < 0)
		rc = -1;
	arena_free(a);
	return rc;
}

static int server_teardown(void **state)
{
	(void)state;
	db_rollback();
	db_close();
	return 0;
}

static long count_rows(struct arena *a)
{
	PGresult *r = db_query(a, "SELECT count(*) FROM t_db", 0, NULL);

	assert_non_null(r);
	return strtol(PQgetvalue(r, 0, 0), NULL, 10);
}

static void test_session_settings(void **state)
{
	struct arena *a = arena_new();
	PGresult *r;

	(void)state;
	r = db_query(a,
	             "SELECT current_setting('TimeZone'), current_setting('statement_timeout'),"
	             " current_setting('DateStyle'), current_setting('client_encoding')",
	             0, NULL);
	assert_non_null(r);
	assert_string_equal(PQgetvalue(r, 0, 0), "UTC");
	assert_string_equal(PQgetvalue(r, 0, 1), "4321ms");
	assert_string_equal(PQgetvalue(r, 0, 2), "ISO, MDY");
	assert_string_equal(PQgetvalue(r, 0, 3), "UTF8");
	arena_free(a);
}

static void test_params_and_json(void **state)
{
	struct arena *a = arena_new();
	const char *p[] = {"x'; DROP TABLE t_db; --", NULL, "2026-11-27 10:00:00.123456+01"};
	PGresult *r;
	cJSON *row;
	char *text;

	(void)state;
	r = db_query(a,
	             "SELECT $1::text AS s, $2::text AS n, $3::timestamptz AS ts, 7::int8 AS i,"
	             " true AS b, '{\"k\": [1]}'::jsonb AS j, 1.25::numeric AS d",
	             3, p);
	assert_non_null(r);
	row = db_row_json(r, 0);
	text = cJSON_PrintUnformatted(row);
	assert_string_equal(text, "{\"s\":\"x'; DROP TABLE t_db; --\",\"n\":null,"
	                          "\"ts\":\"2026-11-27T09:00:00.123456Z\",\"i\":7,\"b\":true,"
	                          "\"j\":{\"k\":[1]},\"d\":1.25}");
	free(text);
	cJSON_Delete(row);
	assert_int_equal(count_rows(a), count_rows(a)); /* the table survived */
	arena_free(a);
}

static void test_exec_counts_rows(void **state)
{
	struct arena *a = arena_new();
	const char *p[] = {"100"};

	(void)state;
	assert_int_equal(db_exec(a,
	                         "INSERT INTO t_db (id, v) SELECT g, 'r' || g FROM"
	                         " generate_series($1::int, $1::int + 2) g",
	                         1, p),
	                 3);
	assert_int_equal(db_exec(a, "DELETE FROM t_db WHERE id >= $1::int", 1, p), 3);
	assert_int_equal(db_exec(a, "DELETE FROM t_db WHERE id >= $1::int", 1, p), 0);
	arena_free(a);
}

static void test_rollback_leaves_nothing(void **state)
{
	struct arena *a = arena_new();
	const char *p[] = {"1", "one"};
	long before;

	(void)state;
	before = count_rows(a);
	assert_int_equal(db_begin(), 0);
	assert_true(db_in_transaction());
	assert_int_equal(db_begin(), -1); /* no nesting */
	assert_int_equal(db_exec(a, "INSERT INTO t_db (id, v) VALUES ($1::int, $2)", 2, p), 1);
	assert_int_equal(count_rows(a), before + 1);
	db_rollback();
	assert_false(db_in_transaction());
	assert_int_equal(count_rows(a), before);
	db_rollback(); /* twice is fine */

	/* And a commit keeps the row. */
	assert_int_equal(db_begin(), 0);
	assert_int_equal(db_exec(a, "INSERT INTO t_db (id, v) VALUES ($1::int, $2)", 2, p), 1);
	assert_int_equal(db_commit(), 0);
	assert_false(db_in_transaction());
	assert_int_equal(count_rows(a), before + 1);
	assert_int_equal(db_exec(a, "DELETE FROM t_db WHERE id = $1::int", 1, p), 1);
	assert_int_equal(db_commit(), -1); /* nothing to commit */
	arena_free(a);
}

struct fail_case {
	const char *sql;
	int n;
	const char *p[3];
	enum db_error err;
	const char *state;
	int status;
	const char *code;
};

static void test_errors_classified(void **state)
{
	static const struct fail_case cases[] = {
	        {"INSERT INTO t_db (id, v) VALUES ($1::int, $2)",
	         2,
	         {"2", "dup"},
	         DB_UNIQUE,
	         "23505",
	         409,
	         "conflict"},
	        {"INSERT INTO t_db (id, v, p) VALUES ($1::int, $2, $3::int)",
	         3,
	         {"3", "fk", "999"},
	         DB_FOREIGN_KEY,
	         "23503",
	         422,
	         "validation_failed"},
	        {"INSERT INTO t_db (id, v, n) VALUES ($1::int, $2, $3::int)",
	         3,
	         {"4", "neg", "-1"},
	         DB_CHECK,
	         "23514",
	         422,
	         "validation_failed"},
	        {"INSERT INTO t_db (id, v) VALUES ($1::int, $2)",
	         2,
	         {NULL, "nul"},
	         DB_CHECK,
	         "23502",
	         422,
	         "validation_failed"},
	        {"SELECT $1::int",
	         1,
	         {"not a number"},
	         DB_CHECK,
	         "22P02",
	         422,
	         "validation_failed"},
	        {"SELECT 1 / $1::int", 1, {"0"}, DB_CHECK, "22012", 422, "validation_failed"},
	        {"SELECT * FROM no_such_table",
	         0,
	         {NULL},
	         DB_FAILED,
	         "42P01",
	         500,
	         "internal_error"},
	};
	struct arena *a = arena_new();
	const char *seed[] = {"2", "dup"};

	(void)state;
	assert_int_equal(db_exec(a, "INSERT INTO t_db (id, v) VALUES ($1::int, $2)", 2, seed), 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct res res;
		char code[64];

		/* The unique case reuses the seeded value with a new id. */
		const char *p[3] = {cases[i].p[0], cases[i].p[1], cases[i].p[2]};
		if (cases[i].err == DB_UNIQUE)
			p[0] = "5";
		assert_null(db_query(a, cases[i].sql, cases[i].n, p));
		if (db_last_error() != cases[i].err || strcmp(db_last_sqlstate(), cases[i].state))
			fail_msg("case %zu: error %d sqlstate %s, want %d %s", i, db_last_error(),
			         db_last_sqlstate(), cases[i].err, cases[i].state);
		res_init(&res, a);
		assert_int_equal(db_fail(&res), cases[i].status);
		res_code(&res, code, sizeof(code));
		assert_string_equal(code, cases[i].code);
		assert_null(kv_get(&res.headers, "Retry-After"));
	}
	/* Success clears the last error. */
	assert_non_null(db_query(a, "SELECT 1", 0, NULL));
	assert_int_equal(db_last_error(), DB_OK);
	assert_string_equal(db_last_sqlstate(), "");
	assert_int_equal(db_exec(a, "DELETE FROM t_db WHERE id = 2", 0, NULL), 1);
	arena_free(a);
}

/* A unique violation inside a transaction: the caller rolls back and
 * db_fail still reports the violation (rollback keeps the error). */
static void test_unique_in_transaction(void **state)
{
	struct arena *a = arena_new();
	const char *p1[] = {"10", "same"};
	const char *p2[] = {"11", "same"};
	struct res res;
	long before;

	(void)state;
	before = count_rows(a);
	assert_int_equal(db_begin(), 0);
	assert_int_equal(db_exec(a, "INSERT INTO t_db (id, v) VALUES ($1::int, $2)", 2, p1), 1);
	assert_int_equal(db_exec(a, "INSERT INTO t_db (id, v) VALUES ($1::int, $2)", 2, p2), -1);
	assert_int_equal(db_last_error(), DB_UNIQUE);
	/* The transaction is aborted: commit fails and rolls back. */
	assert_int_equal(db_commit(), -1);
	assert_false(db_in_transaction());
	assert_int_equal(db_last_error(), DB_UNIQUE);
	res_init(&res, a);
	assert_int_equal(db_fail(&res), 409);
	assert_int_equal(count_rows(a), before);
	arena_free(a);
}

/* Kills our backend from a second connection. */
static void kill_backend(void)
{
	struct arena *a = arena_new();
	PGresult *r = db_query(a, "SELECT pg_backend_pid()::text", 0, NULL);
	const char *pid[1];
	PGconn *other;
	PGresult *k;

	assert_non_null(r);
	pid[0] = PQgetvalue(r, 0, 0);
	other = PQconnectdb(getenv("DATABASE_URL"));
	assert_int_equal(PQstatus(other), CONNECTION_OK);
	k = PQexecParams(other, "SELECT pg_terminate_backend($1::int, 5000)", 1, NULL, pid, NULL,
	                 NULL, 0);
	assert_int_equal(PQresultStatus(k), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(k, 0, 0), "t");
	PQclear(k);
	PQfinish(other);
	arena_free(a);
}

static void test_reconnects_outside_transaction(void **state)
{
	struct arena *a = arena_new();
	PGresult *r;

	(void)state;
	assert_non_null(db_conn());
	kill_backend();
	/* The statement is retried once on a fresh connection. */
	r = db_query(a, "SELECT current_setting('TimeZone')", 0, NULL);
	assert_non_null(r);
	assert_string_equal(PQgetvalue(r, 0, 0), "UTC");
	assert_int_equal(db_last_error(), DB_OK);
	/* The temp table went with the old session; recreate it. */
	arena_free(a);
	assert_int_equal(server_setup(NULL), 0);
}

static void test_no_retry_inside_transaction(void **state)
{
	struct arena *a = arena_new();
	const char *p[] = {"20", "tx"};
	struct res res;

	(void)state;
	assert_int_equal(db_begin(), 0);
	kill_backend();
	assert_int_equal(db_exec(a, "INSERT INTO t_db (id, v) VALUES ($1::int, $2)", 2, p), -1);
	assert_int_equal(db_last_error(), DB_UNAVAILABLE);
	/* Still no silent new session while the transaction is open. */
	assert_true(db_in_transaction());
	assert_null(db_query(a, "SELECT 1", 0, NULL));
	assert_int_equal(db_last_error(), DB_UNAVAILABLE);
	res_init(&res, a);
	assert_int_equal(db_fail(&res), 503);
	db_rollback();
	assert_false(db_in_transaction());
	/* The next request reconnects. */
	assert_non_null(db_query(a, "SELECT 1", 0, NULL));
	arena_free(a);
	assert_int_equal(server_setup(NULL), 0);
}

static const char *prepared_count(struct arena *a)
{
	PGresult *r = db_query(a,
	                       "SELECT count(*) FROM pg_prepared_statements"
	                       " WHERE statement = 'SELECT $1::int + 1 AS eight'",
	                       0, NULL);

	assert_non_null(r);
	return PQgetvalue(r, 0, 0);
}

/* With DB_PREPARED_STATEMENTS on, a statement is prepared on its second run
 * in a session (a cold start's one-off statements stay one round trip) and
 * reused after; off, nothing is prepared. */
static void test_prepared_once(void **state)
{
	struct arena *a = arena_new();
	const char *one[1] = {"7"};
	PGresult *r;

	(void)state;
	for (int i = 0; i < 3; i++) {
		r = db_query(a, "SELECT $1::int + 1 AS eight", 1, one);
		assert_non_null(r);
		assert_string_equal(PQgetvalue(r, 0, 0), "8");
		if (i == 0)
			assert_string_equal(prepared_count(a), "0");
	}
	assert_string_equal(prepared_count(a), g_cfg.db_prepare ? "1" : "0");
	arena_free(a);
}

static int server_setup_prepared(void **state)
{
	g_cfg.db_prepare = true;
	return server_setup(state);
}

int main(void)
{
	const struct CMUnitTest offline[] = {
	        cmocka_unit_test(test_value_conversion),
	        cmocka_unit_test(test_row_json_shape),
	        cmocka_unit_test(test_unavailable_maps_to_503),
	};
	const struct CMUnitTest server[] = {
	        cmocka_unit_test(test_session_settings),
	        cmocka_unit_test(test_params_and_json),
	        cmocka_unit_test(test_exec_counts_rows),
	        cmocka_unit_test(test_rollback_leaves_nothing),
	        cmocka_unit_test(test_errors_classified),
	        cmocka_unit_test(test_unique_in_transaction),
	        cmocka_unit_test(test_reconnects_outside_transaction),
	        cmocka_unit_test(test_no_retry_inside_transaction),
	        cmocka_unit_test(test_prepared_once),
	};
	const char *url = getenv("DATABASE_URL");
	int failed;

	failed = cmocka_run_group_tests_name("db", offline, NULL, NULL);
	/* The server groups need a database (tests/run always provides one):
	 * once with plain statements, once with prepared ones. */
	if (!url || !*url) {
		fprintf(stderr, "test_db: DATABASE_URL is not set\n");
		return 1;
	}
	failed += cmocka_run_group_tests_name("db_server", server, server_setup, server_teardown);
	failed += cmocka_run_group_tests_name("db_server_prepared", server, server_setup_prepared,
	                                      server_teardown);
	return failed ? 1 : 0;
}
