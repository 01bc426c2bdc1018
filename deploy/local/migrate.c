/* migrate - applies sql/NNN_*.sql to the database.
 *
 *   migrate [DIR]    DIR defaults to "sql"
 *
 * Connects with DATABASE_URL, or libpq's PG* variables when it is unset.
 * Exit 0 when the database is up to date, 1 on any error (printed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "migrate.h"

static void usage(FILE *f)
{
	fputs("usage: migrate [DIR]\n"
	      "Applies DIR/NNN_name.sql (default DIR: sql) in numeric order, each in its own\n"
	      "transaction, recording them in schema_migrations. Connects with DATABASE_URL\n"
	      "or the PG* variables.\n",
	      f);
}

/* Exit 0 when the database is up to date, 1 after printing why not. */
int main(int argc, char **argv)
{
	const char *dir = "sql";
	const char *url = getenv("DATABASE_URL");
	PGconn *conn = NULL;
	int rc = 1;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return 1;
	}
	if (argc == 2)
		dir = argv[1];

	/* Defaults first, so the URL may override them (libpq: last wins). */
	const char *const keys[] = {"application_name", "connect_timeout", "dbname",
	                            "client_encoding", NULL};
	const char *const vals[] = {"migrate", "10", url ? url : "", "UTF8", NULL};
	conn = PQconnectdbParams(keys, vals, 1);
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "migrate: cannot connect to the database (DATABASE_URL%s): %s",
		        url ? "" : " unset, using PG* variables",
		        conn ? PQerrorMessage(conn) : "out of memory\n");
		goto out;
	}
	if (migrate_run(conn, dir, stdout, stderr) < 0)
		goto out;
	rc = 0;
out:
	PQfinish(conn);
	return rc;
}
