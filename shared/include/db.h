/* db.h - PostgreSQL for functions: one lazy connection per process.
 *
 * The connection is opened on first use from DATABASE_URL (or libpq's PG*
 * variables), kept across warm invocations, and re-opened once when found
 * broken (only outside a transaction: a statement is never silently retried
 * inside one). Only parameterised statements exist here: there is no call
 * that takes SQL built from input. Sessions run with TimeZone=UTC.
 *
 * Results are registered with the arena given and cleared with it.
 */
#ifndef DB_H
#define DB_H

#include <stdbool.h>
#include <libpq-fe.h>

struct arena;
struct res;
typedef struct cJSON cJSON;

enum db_error {
	DB_OK,
	DB_UNAVAILABLE,   /* cannot connect / connection lost */
	DB_UNIQUE,        /* 23505 */
	DB_FOREIGN_KEY,   /* 23503 */
	DB_CHECK,         /* 23514, 23502, 22xxx data errors */
	DB_FAILED,        /* anything else */
};

/* The live connection, connecting if needed; NULL when unavailable. */
PGconn *db_conn(void);
/* Closes the connection (end of process, tests). */
void db_close(void);

/* Runs sql with n text parameters (NULL entries are SQL NULL). Returns a
 * result (PGRES_TUPLES_OK or PGRES_COMMAND_OK) owned by the arena, or NULL
 * with db_last_error() set and the error logged. */
PGresult *db_query(struct arena *a, const char *sql, int n, const char *const *params);
/* Like db_query for statements without rows; returns affected rows or -1. */
long db_exec(struct arena *a, const char *sql, int n, const char *const *params);

enum db_error db_last_error(void);
/* SQLSTATE of the last failure ("" if none). */
const char *db_last_sqlstate(void);

int db_begin(void);
int db_commit(void);
/* Safe to call when no transaction is open. */
void db_rollback(void);
bool db_in_transaction(void);

/* Fills res for the last failure: 503 db_unavailable with Retry-After: 1,
 * 409 conflict (unique), 422 (foreign key / check), 500 otherwise.
 * Returns the status. */
int db_fail(struct res *res);

/* Row i as a JSON object keyed by column name, typed by column OID: int2/4/8
 * and numeric/float -> number (int8 beyond 2^53 -> string), bool -> bool,
 * json/jsonb -> parsed value, timestamptz -> RFC 3339 UTC string
 * ("2026-11-27T09:00:00.123456Z"), NULL -> null, others -> string.
 * Caller owns the result (cJSON_Delete, or hand it to res_json). */
cJSON *db_row_json(const PGresult *r, int row);
/* Every row, as an array. */
cJSON *db_rows_json(const PGresult *r);

#endif
