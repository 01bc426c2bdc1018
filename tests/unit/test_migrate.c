/* test_migrate.c - migrate_run() in-process against a real PostgreSQL.
 *
 * Every test gets its own database (t_mig_<random> on the DATABASE_URL
 * cluster) and its own directory of SQL files under /tmp; both go in
 * teardown. tests/integration/test_migrate.py drives the migrate program;
 * these look at what only an in-process caller sees: the exact out/err
 * text, the return count, and the connection left behind (idle, unlocked,
 * no NOTICE noise). Without DATABASE_URL every test errors: tests/run
 * always sets it, so a skip would only hide a broken setup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <libpq-fe.h>

#include "crypto.h"
#include "migrate.h"

#define ARRAY_LEN(x) (sizeof(x) / sizeof((x)[0]))

/* One test's world: a database, a directory, the streams of the last run. */
struct fx {
	PGconn *admin; /* on DATABASE_URL, creates and drops db */
	PGconn *conn;  /* on db, handed to migrate_run() */
	char db[32];
	char dir[64];
	char *outbuf, *errbuf;
	size_t outlen, errlen;
	FILE *out, *err;
	int notices;    /* NOTICE/WARNING messages seen on conn */
	char val[8192]; /* the last q() value */
};

/* A file to write: text NULL makes a directory instead. */
struct file {
	const char *name;
	const char *text;
};

static void fx_notice(void *arg, const char *msg)
{
	struct fx *fx = arg;

	fx->notices++;
	fprintf(stderr, "# notice: %s", msg);
}

static int fx_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void fx_streams_close(struct fx *fx)
{
	if (fx->out)
		fclose(fx->out);
	if (fx->err)
		fclose(fx->err);
	free(fx->outbuf);
	free(fx->errbuf);
	fx->out = fx->err = NULL;
	fx->outbuf = fx->errbuf = NULL;
	fx->outlen = fx->errlen = 0;
}

/* Drops the database, removes the directory; safe on a half-opened fx. */
static void fx_close(struct fx *fx)
{
	fx_streams_close(fx);
	PQfinish(fx->conn);
	fx->conn = NULL;
	if (fx->admin && fx->db[0]) {
		char sql[96];
		PGresult *r;

		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", fx->db);
		r = PQexec(fx->admin, sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			fprintf(stderr, "# drop %s: %s", fx->db, PQerrorMessage(fx->admin));
		PQclear(r);
	}
	fx->db[0] = '\0';
	PQfinish(fx->admin);
	fx->admin = NULL;
	if (fx->dir[0] && nftw(fx->dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "# cannot remove %s: %s\n", fx->dir, strerror(errno));
	fx->dir[0] = '\0';
	fx->notices = 0;
}

/* Creates the database and the directory; -1 (with a reason on stderr). */
static int fx_open(struct fx *fx)
{
	const char *url = getenv("DATABASE_URL");
	const char *keys[] = {"dbname", "dbname", NULL};
	const char *vals[] = {url, NULL, NULL};
	unsigned char rnd[6];
	char sql[96];
	PGresult *r;
	int rc;

	memset(fx, 0, sizeof(*fx));
	if (!url || !*url) {
		fprintf(stderr, "# DATABASE_URL is not set: these tests need a PostgreSQL "
		                "(tests/run starts one)\n");
		return -1;
	}
	if (crypto_random(rnd, sizeof(rnd)) != 0)
		return -1;
	rc = snprintf(fx->db, sizeof(fx->db), "t_mig_%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
	              rnd[2], rnd[3], rnd[4], rnd[5]);
	if (rc < 0 || (size_t)rc >= sizeof(fx->db))
		return -1;
	fx->admin = PQconnectdb(url);
	if (PQstatus(fx->admin) != CONNECTION_OK) {
		fprintf(stderr, "# cannot connect to DATABASE_URL: %s", PQerrorMessage(fx->admin));
		goto fail;
	}
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", fx->db);
	r = PQexec(fx->admin, sql);
	rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
	if (rc)
		fprintf(stderr, "# %s: %s", sql, PQerrorMessage(fx->admin));
	PQclear(r);
	if (rc) {
		fx->db[0] = '\0';
		goto fail;
	}
	vals[1] = fx->db;
	fx->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(fx->conn) != CONNECTION_OK) {
		fprintf(stderr, "# cannot connect to %s: %s", fx->db, PQerrorMessage(fx->conn));
		goto fail;
	}
	PQsetNoticeProcessor(fx->conn, fx_notice, fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/t_mig.XXXXXX");
	if (!mkdtemp(fx->dir)) {
		fprintf(stderr, "# mkdtemp: %s\n", strerror(errno));
		fx->dir[0] = '\0';
		goto fail;
	}
	return 0;
fail:
	fx_close(fx);
	return -1;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	if (fx_open(fx)) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	fx_close(fx);
	free(fx);
	return 0;
}

/* A fresh database and directory for the next case of a table. */
static void fx_reset(struct fx *fx)
{
	fx_close(fx);
	assert_int_equal(fx_open(fx), 0);
}

static void path_of(const struct fx *fx, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", fx->dir, name);

	assert_true(n > 0 && (size_t)n < size);
}

/* Writes dir/name (creating parent directories), or makes it a directory. */
static void put(struct fx *fx, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	path_of(fx, name, path, sizeof(path));
	for (char *s = strchr(path + strlen(fx->dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*s = '/';
	}
	if (!text) {
		if (mkdir(path, 0700) != 0)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		return;
	}
	f = fopen(path, "wb");
	if (!f)
		fail_msg("fopen %s: %s", path, strerror(errno));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void put_all(struct fx *fx, const struct file *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(fx, files[i].name, files[i].text);
}

static void unput(struct fx *fx, const char *name)
{
	char path[512];

	path_of(fx, name, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
}

/* migrate_run() on conn and dir with fresh memory streams (NULL: none). */
static int run_with(struct fx *fx, PGconn *conn, const char *dir, bool streams)
{
	int rc;

	fx_streams_close(fx);
	if (streams) {
		fx->out = open_memstream(&fx->outbuf, &fx->outlen);
		fx->err = open_memstream(&fx->errbuf, &fx->errlen);
		assert_non_null(fx->out);
		assert_non_null(fx->err);
	}
	rc = migrate_run(conn, dir, fx->out, fx->err);
	if (streams) {
		assert_int_equal(fflush(fx->out), 0);
		assert_int_equal(fflush(fx->err), 0);
		if (fx->errlen)
			fprintf(stderr, "# err: %s", fx->errbuf);
	}
	return rc;
}

static int run(struct fx *fx)
{
	return run_with(fx, fx->conn, fx->dir, true);
}

/* The first value of a literal query on the test database ("" for NULL). */
static const char *q(struct fx *fx, const char *sql)
{
	PGresult *r = PQexec(fx->conn, sql);
	int n;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		PQclear(r);
		fail_msg("%s: %s", sql, PQerrorMessage(fx->conn));
	}
	n = snprintf(fx->val, sizeof(fx->val), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	assert_true(n >= 0 && (size_t)n < sizeof(fx->val));
	return fx->val;
}

static bool table_exists(struct fx *fx, const char *name)
{
	const char *params[1] = {name};
	PGresult *r = PQexecParams(fx->conn, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, params,
	                           NULL, NULL, 0);
	bool exists;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		PQclear(r);
		fail_msg("to_regclass(%s): %s", name, PQerrorMessage(fx->conn));
	}
	exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return exists;
}

/* "version:name,..." from schema_migrations; "-" when it does not exist. */
static const char *applied(struct fx *fx)
{
	if (!table_exists(fx, "schema_migrations"))
		return "-";
	return q(fx, "SELECT coalesce(string_agg(version || ':' || name, ',' ORDER BY version), '')"
	             " FROM schema_migrations");
}

/* The connection is usable, outside a transaction, holding no advisory lock. */
static void assert_conn_clean(struct fx *fx)
{
	assert_int_equal(PQstatus(fx->conn), CONNECTION_OK);
	assert_int_equal(PQtransactionStatus(fx->conn), PQTRANS_IDLE);
	assert_string_equal(q(fx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
	                          " AND pid = pg_backend_pid()"),
	                    "0");
}

static void assert_has(const char *what, const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("%s: want \"%s\" in \"%s\"", what, needle, hay ? hay : "(null)");
}

static void assert_lacks(const char *what, const char *hay, const char *needle)
{
	if (hay && strstr(hay, needle))
		fail_msg("%s: did not want \"%s\" in \"%s\"", what, needle, hay);
}

/* Every line on err is "migrate: ..." and ends with a newline. */
static void assert_err_lines(struct fx *fx)
{
	const char *p = fx->errbuf;

	assert_true(fx->errlen > 0);
	assert_int_equal(p[fx->errlen - 1], '\n');
	for (; *p; p = strchr(p, '\n') + 1)
		if (strncmp(p, "migrate: ", 9) != 0)
			fail_msg("err line without \"migrate: \": %s", p);
}

/* ---- applying ---- */

static void test_numeric_order_and_count(void **state)
{
	struct fx *fx = *state;
	/* Written in an order that is neither numeric nor alphabetic; 10 and 9
	 * depend on 2, and "10" < "2" < "9" as strings. */
	static const struct file files[] = {
	        {"10_b.sql",
	         "ALTER TABLE a ADD COLUMN b text;\nINSERT INTO a VALUES (1, 2, 'x');\n"},
	        {"2_a.sql", "CREATE TABLE a (id int);\n"},
	        {"9_c.sql", "ALTER TABLE a ADD COLUMN c int;\n"},
	        {"001_first.sql", "CREATE TABLE first (id int);\n"},
	};
	unsigned char sum[32];
	char hex[65];

	put_all(fx, files, ARRAY_LEN(files));
	assert_int_equal(run(fx), 4);
	assert_string_equal(fx->outbuf, "applied 001_first.sql\n"
	                                "applied 2_a.sql\n"
	                                "applied 9_c.sql\n"
	                                "applied 10_b.sql\n"
	                                "4 migrations applied\n");
	assert_string_equal(fx->errbuf, "");
	assert_string_equal(applied(fx), "1:001_first.sql,2:2_a.sql,9:9_c.sql,10:10_b.sql");
	assert_string_equal(q(fx, "SELECT id::text || c || b FROM a"), "12x");
	assert_int_equal(fx->notices, 0);
	assert_conn_clean(fx);

	/* The recorded checksum is the lower-case hex sha256 of the file. */
	crypto_sha256(files[0].text, strlen(files[0].text), sum);
	for (size_t i = 0; i < sizeof(sum); i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	assert_string_equal(q(fx, "SELECT checksum FROM schema_migrations WHERE version = 10"),
	                    hex);
}

static void test_rerun_changes_nothing(void **state)
{
	struct fx *fx = *state;
	static const struct file files[] = {
	        {"001_a.sql", "CREATE TABLE a (id int);\n"},
	        {"002_b.sql", "INSERT INTO a VALUES (1);\n"},
	};
	static const char snap_sql[] =
	        "SELECT string_agg(version || '@' || name || '@' || checksum || '@' || applied_at,"
	        " ',' ORDER BY version) FROM schema_migrations";
	char before[2048];

	put_all(fx, files, ARRAY_LEN(files));
	assert_int_equal(run(fx), 2);
	snprintf(before, sizeof(before), "%s", q(fx, snap_sql));

	for (int i = 0; i < 2; i++) {
		assert_int_equal(run(fx), 0);
		assert_string_equal(fx->outbuf, "database is up to date (2 migrations)\n");
		assert_string_equal(fx->errbuf, "");
		assert_string_equal(q(fx, snap_sql), before);
		assert_string_equal(q(fx, "SELECT count(*) FROM a"), "1");
	}
	/* Re-running must not even raise "already exists, skipping" notices. */
	assert_int_equal(fx->notices, 0);
	assert_conn_clean(fx);

	/* A file added later is applied alone, and the count says 1. */
	put(fx, "003_c.sql", "INSERT INTO a VALUES (3);\n");
	assert_int_equal(run(fx), 1);
	assert_string_equal(fx->outbuf, "applied 003_c.sql\n1 migration applied\n");
	assert_string_equal(q(fx, "SELECT string_agg(id::text, ',' ORDER BY id) FROM a"), "1,3");
	assert_int_equal(run(fx), 0);
	assert_string_equal(fx->outbuf, "database is up to date (3 migrations)\n");
}

static void test_empty_dir_and_empty_files(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(run(fx), 0);
	assert_string_equal(fx->outbuf, "database is up to date (0 migrations)\n");
	assert_string_equal(fx->errbuf, "");
	assert_string_equal(applied(fx), "");

	/* An empty file and a comment-only file are valid (empty query). */
	put(fx, "001_empty.sql", "");
	put(fx, "002_comment.sql", "-- nothing yet\n");
	assert_int_equal(run(fx), 2);
	assert_string_equal(applied(fx), "1:001_empty.sql,2:002_comment.sql");
	assert_conn_clean(fx);
}

static void test_missing_applied_file_warns(void **state)
{
	struct fx *fx = *state;

	put(fx, "001_a.sql", "CREATE TABLE a (id int);\n");
	put(fx, "002_b.sql", "CREATE TABLE b (id int);\n");
	assert_int_equal(run(fx), 2);
	unput(fx, "002_b.sql");
	put(fx, "003_c.sql", "CREATE TABLE c (id int);\n");
	assert_int_equal(run(fx), 1);
	assert_string_equal(fx->errbuf, "migrate: warning: 002_b.sql (version 2) is recorded as "
	                                "applied but its file is missing\n");
	assert_string_equal(applied(fx), "1:001_a.sql,2:002_b.sql,3:003_c.sql");
}

/* ---- what is not a migration ---- */

static void test_non_migration_files_ignored(void **state)
{
	struct fx *fx = *state;
	/* Each would fail if it ran. */
	static const char *const ignored[] = {
	        "README",        "README.md",    "1_x.txt",      "seed/005_demo.sql",
	        "x_004.sql",     "7.sql",        "_8.sql",       "9_x.sql.bak",
	        "010_y.SQL",     "011_z.sqlx",   ".012_h.sql",   "013-dash.sql",
	        " 14_space.sql", "0x15_hex.sql", "+16_plus.sql", "017_notes.sql~",
	        "018_.sq",       "019_sql",
	};

	put(fx, "001_real.sql", "CREATE TABLE real (id int);\n");
	for (size_t i = 0; i < ARRAY_LEN(ignored); i++)
		put(fx, ignored[i], "SELECT broken;\n");
	put(fx, "006_dir.sql", NULL); /* a directory with a migration's name */
	put(fx, "006_dir.sql/020_inside.sql", "SELECT broken;\n");

	assert_int_equal(run(fx), 1);
	assert_string_equal(fx->outbuf, "applied 001_real.sql\n1 migration applied\n");
	assert_string_equal(fx->errbuf, "");
	assert_string_equal(applied(fx), "1:001_real.sql");
}

/* ---- refusals before anything runs ---- */

struct refusal_case {
	const char *what;
	struct file files[3];
	const char *dir; /* relative to the temp dir; NULL = the temp dir */
	const char *err[3];
};

static const struct refusal_case refusal_cases[] = {
        {"duplicate numbers",
         {{"001_a.sql", "CREATE TABLE a (id int);\n"}, {"1_b.sql", "CREATE TABLE b (id int);\n"}},
         NULL,
         {"duplicate migration number 1: ", "001_a.sql", "1_b.sql"}},
        {"duplicate among others",
         {{"001_a.sql", "CREATE TABLE a (id int);\n"},
          {"002_b.sql", "CREATE TABLE b (id int);\n"},
          {"0002_c.sql", "CREATE TABLE c (id int);\n"}},
         NULL,
         {"duplicate migration number 2: ", "002_b.sql", "0002_c.sql"}},
        {"number beyond int",
         {{"001_a.sql", "CREATE TABLE a (id int);\n"}, {"99999999999_x.sql", "SELECT 1;\n"}},
         NULL,
         {"migration number of 99999999999_x.sql is too large"}},
        {"number beyond long",
         {{"001_a.sql", "CREATE TABLE a (id int);\n"},
          {"99999999999999999999999_x.sql", "SELECT 1;\n"}},
         NULL,
         {"99999999999999999999999_x.sql is too large"}},
        {"missing directory",
         {{"001_a.sql", "CREATE TABLE a (id int);\n"}},
         "no-such-dir",
         {"cannot open migrations directory ", "no-such-dir: No such file or directory"}},
        {"a file, not a directory",
         {{"001_a.sql", "CREATE TABLE a (id int);\n"}},
         "001_a.sql",
         {"cannot open migrations directory ", "001_a.sql: Not a directory"}},
};

static void test_refusals(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < ARRAY_LEN(refusal_cases); i++) {
		const struct refusal_case *c = &refusal_cases[i];
		char dir[512];

		if (i)
			fx_reset(fx);
		print_message("# refusal: %s\n", c->what);
		for (size_t j = 0; j < ARRAY_LEN(c->files) && c->files[j].name; j++)
			put(fx, c->files[j].name, c->files[j].text);
		if (c->dir)
			path_of(fx, c->dir, dir, sizeof(dir));
		else
			snprintf(dir, sizeof(dir), "%s", fx->dir);
		assert_int_equal(run_with(fx, fx->conn, dir, true), -1);
		assert_string_equal(fx->outbuf, "");
		for (size_t j = 0; j < ARRAY_LEN(c->err) && c->err[j]; j++)
			assert_has(c->what, fx->errbuf, c->err[j]);
		assert_err_lines(fx);
		/* Refused before touching the database at all. */
		assert_string_equal(applied(fx), "-");
		assert_false(table_exists(fx, "a"));
		assert_conn_clean(fx);
	}
}

/* ---- an applied file edited afterwards ---- */

struct edit_case {
	const char *what;
	const char *file;
	const char *text;
};

static const struct file edit_base[] = {
        {"001_a.sql", "CREATE TABLE a (id int);\n"},
        {"002_b.sql", "INSERT INTO a VALUES (2);\n"},
};

static const struct edit_case edit_cases[] = {
        {"comment appended", "001_a.sql", "CREATE TABLE a (id int);\n-- an innocent edit\n"},
        {"trailing newline removed", "001_a.sql", "CREATE TABLE a (id int);"},
        {"value changed", "002_b.sql", "INSERT INTO a VALUES (3);\n"},
        {"emptied", "002_b.sql", ""},
};

static void test_edited_file_refused(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < ARRAY_LEN(edit_cases); i++) {
		const struct edit_case *c = &edit_cases[i];
		char want[160];
		const struct file *orig = NULL;

		if (i)
			fx_reset(fx);
		print_message("# edit: %s\n", c->what);
		put_all(fx, edit_base, ARRAY_LEN(edit_base));
		assert_int_equal(run(fx), 2);

		put(fx, c->file, c->text);
		/* A new file too: it must not run while the edit stands. */
		put(fx, "003_new.sql", "CREATE TABLE should_not_exist (id int);\n");
		assert_int_equal(run(fx), -1);
		snprintf(want, sizeof(want),
		         "migrate: migration %s was changed after it was applied (checksum ",
		         c->file);
		assert_has(c->what, fx->errbuf, want);
		assert_has(c->what, fx->errbuf, "add a new migration instead of editing");
		assert_err_lines(fx);
		assert_string_equal(fx->outbuf, "");
		assert_string_equal(applied(fx), "1:001_a.sql,2:002_b.sql");
		assert_false(table_exists(fx, "should_not_exist"));
		assert_conn_clean(fx);

		/* Putting the original back is all it takes to go on. */
		for (size_t j = 0; j < ARRAY_LEN(edit_base); j++)
			if (strcmp(edit_base[j].name, c->file) == 0)
				orig = &edit_base[j];
		assert_non_null(orig);
		put(fx, orig->name, orig->text);
		assert_int_equal(run(fx), 1);
		assert_string_equal(fx->outbuf, "applied 003_new.sql\n1 migration applied\n");
		assert_true(table_exists(fx, "should_not_exist"));
	}
}

/* ---- a failing file ---- */

struct fail_case {
	const char *what;
	const char *sql;     /* 002_bad.sql */
	bool committed;      /* the file's COMMIT made its first half stick */
	const char *err[4];  /* all on the err stream */
	const char *not_err; /* never on it */
};

/* 30 three-byte characters on line 2: a byte offset taken for the server's
 * character position would land on line 2, not 3. */
#define WIDE "你你你你你你你你你你你你你你你你你你你你你你你你你你你你你你"

static const struct fail_case fail_cases[] = {
        {"undefined table",
         "CREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\nSELECT * FROM "
         "no_such_table;\n",
         false,
         {"migrate: migration 002_bad.sql failed at line 3: ", "\"no_such_table\" does not exist",
          "(SQLSTATE 42P01); rolled back\n"},
         NULL},
        {"syntax error",
         "CREATE TABLE half (id int);\n\nCREATE TABLEX oops;\n",
         false,
         {"migration 002_bad.sql failed at line 3: syntax error", "(SQLSTATE 42601)"},
         NULL},
        {"line counts characters, not bytes",
         "CREATE TABLE half (name text);\nINSERT INTO half VALUES ('" WIDE "');\n"
         "SELECT nope FROM half;\n",
         false,
         {"migration 002_bad.sql failed at line 3: ", "\"nope\" does not exist", "42703"},
         NULL},
        {"run-time error without a position",
         "CREATE TABLE half (id int);\n"
         "INSERT INTO half SELECT 1 / (g - 1) FROM generate_series(1, 2) g;\n",
         false,
         {"migrate: migration 002_bad.sql failed: division by zero (SQLSTATE 22012); "
          "rolled back\n"},
         "at line"},
        {"unique violation",
         "CREATE TABLE half (id int PRIMARY KEY);\nINSERT INTO half VALUES (1), (1);\n",
         false,
         {"migration 002_bad.sql failed", "duplicate key", "(SQLSTATE 23505)"},
         NULL},
        /* PQexec stops at the data phase without an error of its own. */
        {"COPY FROM STDIN",
         "CREATE TABLE half (id int);\nCOPY half FROM STDIN;\n",
         false,
         {"migrate: migration 002_bad.sql uses COPY FROM STDIN or TO STDOUT"},
         "(SQLSTATE -)"},
        {"COPY TO STDOUT",
         "CREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\nCOPY half TO STDOUT;\n",
         false,
         {"migrate: migration 002_bad.sql uses COPY FROM STDIN or TO STDOUT"},
         "(SQLSTATE -)"},
        {"ROLLBACK in the file",
         "CREATE TABLE half (id int);\nROLLBACK;\n",
         false,
         {"migrate: migration 002_bad.sql ended its transaction (COMMIT or ROLLBACK in the "
          "file)"},
         NULL},
        /* The server already committed the part before COMMIT; what can be
         * promised is that the file is reported and not recorded. */
        {"COMMIT in the file",
         "CREATE TABLE half (id int);\nCOMMIT;\n",
         true,
         {"migrate: migration 002_bad.sql ended its transaction"},
         NULL},
};

static void test_failing_file_rolled_back(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < ARRAY_LEN(fail_cases); i++) {
		const struct fail_case *c = &fail_cases[i];

		if (i)
			fx_reset(fx);
		print_message("# failing: %s\n", c->what);
		put(fx, "001_ok.sql", "CREATE TABLE ok (id int);\n");
		put(fx, "002_bad.sql", c->sql);
		put(fx, "003_later.sql", "CREATE TABLE later (id int);\n");
		assert_int_equal(run(fx), -1);
		assert_string_equal(fx->outbuf, "applied 001_ok.sql\n");
		for (size_t j = 0; j < ARRAY_LEN(c->err) && c->err[j]; j++)
			assert_has(c->what, fx->errbuf, c->err[j]);
		if (c->not_err)
			assert_lacks(c->what, fx->errbuf, c->not_err);
		assert_err_lines(fx);
		assert_string_equal(applied(fx), "1:001_ok.sql");
		assert_true(table_exists(fx, "ok"));
		assert_int_equal(table_exists(fx, "half"), c->committed);
		assert_false(table_exists(fx, "later"));
		assert_conn_clean(fx);

		/* Fixed, the next run carries on from the failed file. */
		put(fx, "002_bad.sql", "CREATE TABLE fixed (id int);\n");
		assert_int_equal(run(fx), 2);
		assert_string_equal(
		        fx->outbuf,
		        "applied 002_bad.sql\napplied 003_later.sql\n2 migrations applied\n");
		assert_string_equal(applied(fx), "1:001_ok.sql,2:002_bad.sql,3:003_later.sql");
		assert_true(table_exists(fx, "later"));
		assert_conn_clean(fx);
	}
}

/* ---- streams and connections ---- */

static void test_null_streams(void **state)
{
	struct fx *fx = *state;
	char missing[512];

	put(fx, "001_a.sql", "CREATE TABLE a (id int);\n");
	assert_int_equal(run_with(fx, fx->conn, fx->dir, false), 1);
	assert_string_equal(applied(fx), "1:001_a.sql");
	assert_int_equal(run_with(fx, fx->conn, fx->dir, false), 0);
	path_of(fx, "no-such-dir", missing, sizeof(missing));
	assert_int_equal(run_with(fx, fx->conn, missing, false), -1);
	put(fx, "002_b.sql", "SELECT * FROM no_such_table;\n");
	assert_int_equal(run_with(fx, fx->conn, fx->dir, false), -1);
	assert_string_equal(applied(fx), "1:001_a.sql");
	assert_conn_clean(fx);
}

static void test_no_connection(void **state)
{
	struct fx *fx = *state;
	PGconn *bad;

	put(fx, "001_a.sql", "CREATE TABLE a (id int);\n");
	assert_int_equal(run_with(fx, NULL, fx->dir, true), -1);
	assert_string_equal(fx->errbuf, "migrate: no database connection\n");
	assert_string_equal(fx->outbuf, "");

	bad = PQconnectdb("host=/nonexistent-t-mig port=1 dbname=x connect_timeout=2");
	assert_non_null(bad);
	assert_int_not_equal(PQstatus(bad), CONNECTION_OK);
	assert_int_equal(run_with(fx, bad, fx->dir, true), -1);
	PQfinish(bad);
	assert_string_equal(fx->errbuf, "migrate: no database connection\n");
	assert_string_equal(applied(fx), "-");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_numeric_order_and_count, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rerun_changes_nothing, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_empty_dir_and_empty_files, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_missing_applied_file_warns, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_non_migration_files_ignored, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_edited_file_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_failing_file_rolled_back, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_null_streams, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_no_connection, setup, teardown),
	};

	return cmocka_run_group_tests_name("migrate", tests, NULL, NULL) ? 1 : 0;
}
