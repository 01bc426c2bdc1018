/* db.c - one lazy PostgreSQL connection per process, parameterised
 * statements only, errors classified by SQLSTATE. See db.h. */
#include "db.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "arena.h"
#include "config.h"
#include "fn.h"
#include "log.h"
#include "res.h"

/* Column type OIDs (pg_type.h is server-side; these never change). */
#define OID_BOOL        16
#define OID_INT8        20
#define OID_INT2        21
#define OID_INT4        23
#define OID_JSON        114
#define OID_FLOAT4      700
#define OID_FLOAT8      701
#define OID_TIMESTAMP   1114
#define OID_TIMESTAMPTZ 1184
#define OID_NUMERIC     1700
#define OID_JSONB       3802

/* Largest integer a JSON reader using doubles keeps exactly (2^53 - 1). */
#define DB_JSON_SAFE_INT 9007199254740991LL

static PGconn *db_pg;
static bool db_in_tx;

/* Statements of the live session, by SQL text; statement i is named "s<i>"
 * once prepared. A statement is prepared the second time it runs: preparing
 * and then running with PQexecPrepared skips the server's parse and plan on
 * every warm call (about half the time of a short query), while a cold
 * start's one-off statements keep their single round trip. The cache dies
 * with the session. */
#define DB_STMT_MAX 128
static struct {
	char *sql;
	bool prepared;
} db_stmts[DB_STMT_MAX];
static int db_nstmts;
static enum db_error db_err;
static char db_state[6];
static char db_column[64];

static void db_error_clear(void)
{
	db_err = DB_OK;
	db_state[0] = '\0';
	db_column[0] = '\0';
}

static void db_error_set(enum db_error e, const char *state)
{
	db_err = e;
	snprintf(db_state, sizeof(db_state), "%s", state ? state : "");
}

/* Forgets the connection; the next use outside a transaction reconnects. */
static void db_drop(void)
{
	PQfinish(db_pg);
	db_pg = NULL;
	for (int i = 0; i < db_nstmts; i++)
		free(db_stmts[i].sql);
	db_nstmts = 0;
}

/* Runs sql as a prepared statement of this session when it has run before
 * (preparing it then), else unprepared; always unprepared when turned off or
 * the cache is full. A failed prepare is returned as the statement's failure:
 * it carries the same error the execution would have. */
static PGresult *db_exec_stmt(PGconn *c, const char *sql, int n, const char *const *params)
{
	char name[16];
	int i = 0;

	if (!g_cfg.db_prepare)
		return PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	while (i < db_nstmts && strcmp(db_stmts[i].sql, sql) != 0)
		i++;
	if (i == db_nstmts) {
		if (i < DB_STMT_MAX && (db_stmts[i].sql = strdup(sql)) != NULL) {
			db_stmts[i].prepared = false;
			db_nstmts++;
		}
		return PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	}
	snprintf(name, sizeof(name), "s%d", i);
	if (!db_stmts[i].prepared) {
		PGresult *p = PQprepare(c, name, sql, n, NULL);

		if (PQresultStatus(p) != PGRES_COMMAND_OK)
			return p;
		PQclear(p);
		db_stmts[i].prepared = true;
	}
	return PQexecPrepared(c, name, n, params, NULL, NULL, 0);
}

/* Session options: ours appended to any the connection string carries, so
 * TimeZone and statement_timeout hold whatever DATABASE_URL says. */
static int db_options(const char *url, char *buf, size_t len)
{
	const char *have = "";
	PQconninfoOption *opts = NULL;
	int n, rc = -1;

	if (url && *url) {
		opts = PQconninfoParse(url, NULL);
		for (PQconninfoOption *o = opts; o && o->keyword; o++)
			if (strcmp(o->keyword, "options") == 0 && o->val)
				have = o->val;
	}
	n = snprintf(buf, len, "%s%s-c TimeZone=UTC -c DateStyle=ISO -c statement_timeout=%ld",
	             have, *have ? " " : "", g_cfg.db_statement_timeout_ms);
	if (n < 0 || (size_t)n >= len)
		goto out;
	rc = 0;
out:
	PQconninfoFree(opts);
	return rc;
}

/* Server notices (e.g. "word is too long to be indexed") go to the JSON
 * log at debug level instead of libpq's raw stderr line. */
static void db_notice(void *arg, const char *message)
{
	size_t l = strlen(message);

	(void)arg;
	while (l > 0 && (message[l - 1] == '\n' || message[l - 1] == ' '))
		l--;
	log_debug("db: server notice: %.*s", (int)l, message);
}

static PGconn *db_connect(void)
{
	const struct fn_app *app = fn_app_current();
	const char *url = g_cfg.database_url ? g_cfg.database_url : "";
	char timeout[32], options[512];
	PGconn *c;
	int n;

	n = snprintf(timeout, sizeof(timeout), "%ld",
	             g_cfg.db_connect_timeout_s > 0 ? g_cfg.db_connect_timeout_s : 5);
	if (n < 0 || (size_t)n >= sizeof(timeout) || db_options(url, options, sizeof(options))) {
		log_error("db: connection options too long");
		return NULL;
	}
	/* Entries before dbname are defaults the URL may override; entries
	 * after it are forced (libpq: the last non-empty value wins). */
	const char *const keys[] = {"application_name", "connect_timeout", "dbname",
	                            "options",          "client_encoding", NULL};
	const char *const vals[] = {
	        app && app->name ? app->name : "function", timeout, url, options, "UTF8", NULL};
	c = PQconnectdbParams(keys, vals, 1);
	if (!c) {
		log_error("db: out of memory connecting");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		/* libpq's message names host and database, never the password. */
		char msg[512];
		size_t l;

		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
		l = strlen(msg);
		while (l > 0 && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
			msg[--l] = '\0';
		log_error("db: cannot connect: %s", msg);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, db_notice, NULL);
	return c;
}

/* The live session, (re)connecting when idle and broken; NULL when unavailable. */
PGconn *db_conn(void)
{
	if (db_pg && PQstatus(db_pg) != CONNECTION_OK) {
		log_warn("db: connection is broken, closing it");
		db_drop();
	}
	if (!db_pg) {
		/* Never open a fresh session in the middle of a transaction: its
		 * earlier statements died with the old one. */
		if (db_in_tx)
			return NULL;
		db_pg = db_connect();
		return db_pg;
	}
	if (!db_in_tx && PQtransactionStatus(db_pg) != PQTRANS_IDLE) {
		/* A transaction opened behind db_begin's back: end it. */
		PGresult *r = PQexecParams(db_pg, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);

		PQclear(r);
		if (PQstatus(db_pg) != CONNECTION_OK || PQtransactionStatus(db_pg) != PQTRANS_IDLE)
			db_drop();
	}
	return db_pg;
}

/* Closes the session and forgets any open transaction. */
void db_close(void)
{
	db_drop();
	db_in_tx = false;
}

/* Maps a SQLSTATE to the error kinds handlers act on. */
static enum db_error db_classify(const char *state, bool conn_bad)
{
	if (conn_bad)
		return DB_UNAVAILABLE;
	if (!state || strlen(state) != 5)
		return DB_FAILED;
	if (strcmp(state, "23505") == 0)
		return DB_UNIQUE;
	if (strcmp(state, "23503") == 0)
		return DB_FOREIGN_KEY;
	if (strcmp(state, "23514") == 0 || strcmp(state, "23502") == 0 ||
	    strncmp(state, "22", 2) == 0)
		return DB_CHECK;
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
		return DB_UNAVAILABLE;
	return DB_FAILED;
}

/* Records and logs a failed statement. Parameter values are never logged;
 * data errors (class 22) quote their input in the message, so for them
 * only the SQLSTATE and column are. */
static void db_record_failure(PGconn *c, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *col = r ? PQresultErrorField(r, PG_DIAG_COLUMN_NAME) : NULL;
	const char *cons = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
	bool bad = !c || PQstatus(c) != CONNECTION_OK;
	enum db_error e = db_classify(state, bad);
	char connmsg[256];

	db_error_set(e, state);
	snprintf(db_column, sizeof(db_column), "%s", col ? col : "");
	if (!msg && c) {
		size_t l;

		snprintf(connmsg, sizeof(connmsg), "%s", PQerrorMessage(c));
		l = strlen(connmsg);
		while (l > 0 && (connmsg[l - 1] == '\n' || connmsg[l - 1] == ' '))
			connmsg[--l] = '\0';
		msg = connmsg;
	}
	if (state && strncmp(state, "22", 2) == 0)
		msg = "invalid value";
	if (e == DB_UNIQUE || e == DB_FOREIGN_KEY || e == DB_CHECK)
		log_info("db: statement failed: sqlstate %s: %s%s%s", state ? state : "-",
		         msg ? msg : "", cons ? " constraint " : "", cons ? cons : "");
	else
		log_error("db: statement failed: sqlstate %s: %s", state ? state : "-",
		          msg ? msg : "unknown error");
}

/* Runs one statement with the retry rule of db.h. Caller PQclears. */
static PGresult *db_run(const char *sql, int n, const char *const *params)
{
	PGresult *r = NULL;

	db_error_clear();
	for (int attempt = 0; attempt < 2; attempt++) {
		PGconn *c = db_conn();
		ExecStatusType st;

		if (!c) {
			db_error_set(DB_UNAVAILABLE, "08006");
			if (db_in_tx)
				log_error("db: connection lost inside a transaction");
			return NULL;
		}
		r = db_exec_stmt(c, sql, n, params);
		st = PQresultStatus(r);
		if (r && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK))
			return r;
		if (PQstatus(c) == CONNECTION_BAD) {
			/* Lost the server. Outside a transaction the statement is
			 * retried once on a new connection; inside one it is not,
			 * and the dead session is dropped so the next request
			 * starts clean after db_rollback(). */
			bool retry = !db_in_tx && attempt == 0;

			if (retry) {
				log_warn("db: connection lost, reconnecting");
				PQclear(r);
				r = NULL;
				db_drop();
				continue;
			}
			db_record_failure(c, r);
			db_error_set(DB_UNAVAILABLE, db_state[0] ? db_state : "08006");
			db_drop();
			PQclear(r);
			return NULL;
		}
		db_record_failure(c, r);
		PQclear(r);
		return NULL;
	}
	return NULL;
}

static void db_pqclear(void *p)
{
	PQclear(p);
}

/* One parameterised statement; the result is cleared with the arena. */
PGresult *db_query(struct arena *a, const char *sql, int n, const char *const *params)
{
	PGresult *r = db_run(sql, n, params);

	if (r)
		arena_defer(a, db_pqclear, r);
	return r;
}

/* db_query for writes: affected rows, or -1. */
long db_exec(struct arena *a, const char *sql, int n, const char *const *params)
{
	PGresult *r = db_query(a, sql, n, params);
	const char *t;
	char *end;
	long v;

	if (!r)
		return -1;
	t = PQcmdTuples(r);
	if (!t || !*t)
		return 0;
	errno = 0;
	v = strtol(t, &end, 10);
	if (errno || *end)
		return 0;
	return v;
}

/* Kind of the last failure (DB_OK after a success). */
enum db_error db_last_error(void)
{
	return db_err;
}

/* SQLSTATE of the last failure, "" after a success. */
const char *db_last_sqlstate(void)
{
	return db_state;
}

/* Opens a transaction; nesting is refused. */
int db_begin(void)
{
	PGresult *r;

	if (db_in_tx) {
		log_error("db: db_begin inside a transaction");
		db_error_set(DB_FAILED, "25001");
		return -1;
	}
	r = db_run("BEGIN", 0, NULL);
	if (!r)
		return -1;
	PQclear(r);
	db_in_tx = true;
	return 0;
}

/* Commits; on failure rolls back, keeps the error for db_fail and returns -1. */
int db_commit(void)
{
	char saved_state[sizeof(db_state)], saved_column[sizeof(db_column)];
	enum db_error saved_err;
	PGresult *r = NULL;
	int rc = -1;

	if (!db_in_tx) {
		log_error("db: db_commit without a transaction");
		db_error_set(DB_FAILED, "25P01");
		return -1;
	}
	saved_err = db_err;
	snprintf(saved_state, sizeof(saved_state), "%s", db_state);
	snprintf(saved_column, sizeof(saved_column), "%s", db_column);
	r = db_run("COMMIT", 0, NULL);
	if (!r)
		goto out;
	/* COMMIT of a failed transaction "succeeds" as ROLLBACK; the error
	 * that failed it stays the one db_fail reports. */
	if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		log_warn("db: transaction was rolled back at commit");
		if (saved_err != DB_OK) {
			db_error_set(saved_err, saved_state);
			snprintf(db_column, sizeof(db_column), "%s", saved_column);
		} else {
			db_error_set(DB_FAILED, "40000");
		}
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	if (rc)
		db_rollback();
	db_in_tx = false;
	return rc;
}

/* Ends an open transaction; keeps the last error. */
void db_rollback(void)
{
	PGresult *r;

	if (!db_in_tx)
		return;
	db_in_tx = false;
	if (!db_pg)
		return;
	if (PQstatus(db_pg) != CONNECTION_OK) {
		db_drop();
		return;
	}
	if (PQtransactionStatus(db_pg) == PQTRANS_IDLE)
		return;
	/* Not db_run: the caller's error (for db_fail) must survive. */
	r = PQexecParams(db_pg, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		log_warn("db: rollback failed, closing the connection");
		db_drop();
	}
	PQclear(r);
}

/* True between db_begin and commit/rollback. */
bool db_in_transaction(void)
{
	return db_in_tx;
}

/* The HTTP answer for the last failure (see db.h). */
int db_fail(struct res *res)
{
	const char *field = db_column[0] ? db_column : NULL;

	switch (db_err) {
	case DB_UNAVAILABLE:
		res_header_set(res, "Retry-After", "1");
		return res_error(res, 503, "db_unavailable",
		                 "the database is unavailable, try again shortly", NULL);
	case DB_UNIQUE:
		return res_error(res, 409, "conflict", "a record with this value already exists",
		                 field);
	case DB_FOREIGN_KEY:
		return res_error(res, 422, "validation_failed",
		                 "the value refers to a record that does not exist", field);
	case DB_CHECK:
		return res_error(res, 422, "validation_failed", "a value is not allowed", field);
	case DB_OK:
	case DB_FAILED:
	default:
		return res_error(res, 500, "internal_error", "internal error", NULL);
	}
}

/* Server timestamp text ("2026-11-27 09:00:00.123456+00", or without the
 * offset for timestamp) to RFC 3339 UTC. Copies the input when it is not
 * in that shape (infinity, BC dates). */
static void db_ts_rfc3339(const char *in, bool has_zone, char *out, size_t len)
{
	const char *p = in;
	size_t i = 0;

	/* date: digits '-' digits '-' digits */
	for (int part = 0; part < 3; part++) {
		size_t digits = 0;

		while (p[digits] >= '0' && p[digits] <= '9')
			digits++;
		if (digits == 0 || (part < 2 && p[digits] != '-') ||
		    (part == 2 && p[digits] != ' '))
			goto copy;
		p += digits + 1;
	}
	/* time: HH:MM:SS[.frac] */
	if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' && p[2] == ':' &&
	      p[3] >= '0' && p[3] <= '9' && p[4] >= '0' && p[4] <= '9' && p[5] == ':' &&
	      p[6] >= '0' && p[6] <= '9' && p[7] >= '0' && p[7] <= '9'))
		goto copy;
	p += 8;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			goto copy;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	/* The date-time part is copied with 'T' for the space. */
	i = (size_t)(p - in);
	if (i + 8 > len)
		goto copy;
	memcpy(out, in, i);
	for (size_t k = 0; k < i; k++)
		if (out[k] == ' ')
			out[k] = 'T';
	if (!has_zone) {
		if (*p)
			goto copy;
		snprintf(out + i, len - i, "Z");
		return;
	}
	if ((p[0] == '+' || p[0] == '-') && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
	    p[2] <= '9') {
		if (p[3] == '\0') {
			if (p[1] == '0' && p[2] == '0')
				snprintf(out + i, len - i, "Z");
			else
				snprintf(out + i, len - i, "%.3s:00", p);
			return;
		}
		if (p[3] == ':' && p[4] >= '0' && p[4] <= '9' && p[5] >= '0' && p[5] <= '9' &&
		    p[6] == '\0') {
			if (strcmp(p + 1, "00:00") == 0)
				snprintf(out + i, len - i, "Z");
			else
				snprintf(out + i, len - i, "%s", p);
			return;
		}
	}
copy:
	snprintf(out, len, "%s", in);
}

static cJSON *db_value_json(Oid type, const char *v)
{
	char *end;

	switch (type) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8: {
		long long n;

		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno || *end || end == v || n > DB_JSON_SAFE_INT || n < -DB_JSON_SAFE_INT)
			return cJSON_CreateString(v);
		/* cJSON prints doubles with 15 significant digits when that reads
		 * back "close enough", so 16-digit integers go out verbatim. */
		if (n >= 1000000000000000LL || n <= -1000000000000000LL) {
			char digits[24];

			snprintf(digits, sizeof(digits), "%lld", n);
			return cJSON_CreateRaw(digits);
		}
		return cJSON_CreateNumber((double)n);
	}
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC: {
		double d;

		errno = 0;
		d = strtod(v, &end);
		/* NaN and Infinity have no JSON number. */
		if (*end || end == v || d != d || d > 1.7976931348623157e308 ||
		    d < -1.7976931348623157e308)
			return cJSON_CreateString(v);
		return cJSON_CreateNumber(d);
	}
	case OID_BOOL:
		return cJSON_CreateBool(v[0] == 't');
	case OID_JSON:
	case OID_JSONB: {
		cJSON *j = cJSON_Parse(v);

		return j ? j : cJSON_CreateString(v);
	}
	case OID_TIMESTAMPTZ:
	case OID_TIMESTAMP: {
		char buf[64];

		db_ts_rfc3339(v, type == OID_TIMESTAMPTZ, buf, sizeof(buf));
		return cJSON_CreateString(buf);
	}
	default:
		return cJSON_CreateString(v);
	}
}

/* Row as a typed JSON object; NULL when row is out of range. */
cJSON *db_row_json(const PGresult *r, int row)
{
	cJSON *obj;
	int cols;

	if (!r || row < 0 || row >= PQntuples(r))
		return NULL;
	obj = cJSON_CreateObject();
	if (!obj)
		abort();
	cols = PQnfields(r);
	for (int i = 0; i < cols; i++) {
		cJSON *v = PQgetisnull(r, row, i)
		                   ? cJSON_CreateNull()
		                   : db_value_json(PQftype(r, i), PQgetvalue(r, row, i));

		if (!v)
			abort();
		cJSON_AddItemToObject(obj, PQfname(r, i), v);
	}
	return obj;
}

/* All rows as a JSON array (empty for NULL). */
cJSON *db_rows_json(const PGresult *r)
{
	cJSON *arr = cJSON_CreateArray();
	int rows = r ? PQntuples(r) : 0;

	if (!arr)
		abort();
	for (int i = 0; i < rows; i++)
		cJSON_AddItemToArray(arr, db_row_json(r, i));
	return arr;
}
