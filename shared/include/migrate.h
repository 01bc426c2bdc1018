/* migrate.h - numbered SQL migrations.
 *
 * Applies dir/NNN_name.sql in numeric order, each in its own transaction,
 * recording (version, name, sha256 checksum, applied_at) in schema_migrations.
 * Files already recorded are skipped; one whose checksum changed is refused
 * before anything else runs. A session advisory lock keeps two runners apart.
 */
#ifndef MIGRATE_H
#define MIGRATE_H

#include <stdio.h>
#include <libpq-fe.h>

/* Returns the number of files applied (0 when up to date), or -1 after
 * printing a clear error to err. Progress lines go to out (may be NULL). */
int migrate_run(PGconn *conn, const char *dir, FILE *out, FILE *err);

#endif
