/* migrate.c - numbered SQL migrations (see migrate.h).
 *
 * Files are trusted SQL from the repository, so each file's text goes to
 * the server whole through PQexec (several statements per file); nothing
 * else here takes SQL that is not a literal.
 */
#include "migrate.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arena.h"
#include "crypto.h"

/* Key of the session advisory lock that keeps two runners apart. */
#define MIGRATE_LOCK_KEY "7262693301"
/* A migration file larger than this is refused. */
#define MIGRATE_MAX_FILE (16u * 1024 * 1024)

struct migration {
	long version;
	char *name; /* file name, arena-owned */
	char *path;
	char *sql;      /* file content, NUL-terminated */
	char *checksum; /* lower-case hex sha256 of the content */
};

struct migrate_ctx {
	PGconn *conn;
	struct arena *a;
	FILE *out, *err;
	struct migration *files;
	size_t n;
};

static void migrate_err(struct migrate_ctx *m, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void migrate_err(struct migrate_ctx *m, const char *fmt, ...)
{
	va_list ap;

	if (!m->err)
		return;
	fputs("migrate: ", m->err);
	va_start(ap, fmt);
	vfprintf(m->err, fmt, ap);
	va_end(ap);
	fputc('\n', m->err);
}

/* libpq messages end with a newline; the copy does not. */
static char *migrate_pgmsg(struct migrate_ctx *m, const char *s)
{
	char *c = arena_strdup(m->a, s ? s : "");
	size_t l = strlen(c);

	while (l > 0 && (c[l - 1] == '\n' || c[l - 1] == ' '))
		c[--l] = '\0';
	return c;
}

/* A parameterised statement; returns 0 when it ran (rows in *out if given). */
static int migrate_sql(struct migrate_ctx *m, const char *sql, int n, const char *const *params,
                       PGresult **out)
{
	PGresult *r = PQexecParams(m->conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		migrate_err(m, "%s: %s", sql, migrate_pgmsg(m, PQerrorMessage(m->conn)));
		PQclear(r);
		return -1;
	}
	if (out)
		*out = r;
	else
		PQclear(r);
	return 0;
}

/* "NNN_name.sql": version from the digits, -1 when the name does not fit. */
static long migrate_version(const char *name)
{
	size_t digits = strspn(name, "0123456789");
	size_t len = strlen(name);
	char *end;
	long v;

	if (digits == 0 || name[digits] != '_' || len < digits + 5 ||
	    strcmp(name + len - 4, ".sql") != 0)
		return -1;
	errno = 0;
	v = strtol(name, &end, 10);
	if (errno || end != name + digits || v < 0 || v > INT_MAX)
		return -2;
	return v;
}

static int migrate_cmp(const void *x, const void *y)
{
	const struct migration *a = x, *b = y;

	return (a->version > b->version) - (a->version < b->version);
}

static int migrate_read(struct migrate_ctx *m, struct migration *f)
{
	FILE *fp = NULL;
	char *buf = NULL;
	size_t cap = 0, len = 0;
	unsigned char sum[32];
	int rc = -1;

	fp = fopen(f->path, "rb");
	if (!fp) {
		migrate_err(m, "cannot read %s: %s", f->path, strerror(errno));
		goto out;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				migrate_err(m, "out of memory reading %s", f->name);
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, fp);
		len += got;
		if (len > MIGRATE_MAX_FILE) {
			migrate_err(m, "%s is larger than %u bytes", f->name, MIGRATE_MAX_FILE);
			goto out;
		}
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		migrate_err(m, "cannot read %s: %s", f->path, strerror(errno));
		goto out;
	}
	if (memchr(buf ? buf : "", '\0', len)) {
		migrate_err(m, "%s contains a NUL byte", f->name);
		goto out;
	}
	crypto_sha256(buf ? buf : "", len, sum);
	f->checksum = crypto_hex(m->a, sum, sizeof(sum));
	f->sql = arena_memdup(m->a, buf ? buf : "", len);
	rc = 0;
out:
	free(buf);
	if (fp)
		fclose(fp);
	return rc;
}

/* Lists dir's migration files, sorted, with content and checksum. */
static int migrate_list(struct migrate_ctx *m, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;
	int rc = -1;

	if (!d) {
		migrate_err(m, "cannot open migrations directory %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		struct migration *f;
		struct stat st;
		long v = migrate_version(e->d_name);
		char *path;

		if (v == -1)
			continue;
		if (v == -2) {
			migrate_err(m, "migration number of %s is too large", e->d_name);
			goto out;
		}
		path = arena_printf(m->a, "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (m->n == cap) {
			struct migration *nf;

			cap = cap ? cap * 2 : 16;
			nf = arena_alloc(m->a, cap * sizeof(*nf));
			if (m->n)
				memcpy(nf, m->files, m->n * sizeof(*nf));
			m->files = nf;
		}
		f = &m->files[m->n++];
		f->version = v;
		f->name = arena_strdup(m->a, e->d_name);
		f->path = path;
	}
	if (m->n)
		qsort(m->files, m->n, sizeof(*m->files), migrate_cmp);
	for (size_t i = 1; i < m->n; i++) {
		if (m->files[i].version == m->files[i - 1].version) {
			migrate_err(m, "duplicate migration number %ld: %s and %s",
			            m->files[i].version, m->files[i - 1].name, m->files[i].name);
			goto out;
		}
	}
	for (size_t i = 0; i < m->n; i++)
		if (migrate_read(m, &m->files[i]))
			goto out;
	rc = 0;
out:
	closedir(d);
	return rc;
}

static struct migration *migrate_find(struct migrate_ctx *m, long version)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->files[i].version == version)
			return &m->files[i];
	return NULL;
}

/* Line (1-based) of a 1-based character position in UTF-8 text. */
static long migrate_line(const char *sql, const char *pos)
{
	char *end;
	long want, ch = 0, line = 1;

	if (!pos)
		return 0;
	errno = 0;
	want = strtol(pos, &end, 10);
	if (errno || *end || want < 1)
		return 0;
	for (const unsigned char *p = (const unsigned char *)sql; *p; p++) {
		if ((*p & 0xC0) != 0x80 && ++ch >= want)
			break;
		if (*p == '\n')
			line++;
	}
	return line;
}

/* Applies one file and records it, all in one transaction. */
static int migrate_apply(struct migrate_ctx *m, const struct migration *f)
{
	PGresult *r = NULL;
	ExecStatusType st;
	char version[24];
	const char *params[3];
	int rc = -1;
	bool open = false;

	if (migrate_sql(m, "BEGIN", 0, NULL, NULL))
		goto out;
	open = true;
	r = PQexec(m->conn, f->sql);
	st = PQresultStatus(r);
	/* PQexec stops at a COPY's data phase with no error to show. */
	if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
		migrate_err(m,
		            "migration %s uses COPY FROM STDIN or TO STDOUT, which a migration "
		            "cannot feed or read; use INSERT instead; rolled back",
		            f->name);
		goto out;
	}
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		long line = migrate_line(f->sql, PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION));

		if (!msg)
			msg = migrate_pgmsg(m, PQerrorMessage(m->conn));
		if (!*msg)
			msg = PQresStatus(st);
		if (line > 0)
			migrate_err(m,
			            "migration %s failed at line %ld: %s (SQLSTATE %s); "
			            "rolled back",
			            f->name, line, msg, state ? state : "-");
		else
			migrate_err(m, "migration %s failed: %s (SQLSTATE %s); rolled back",
			            f->name, msg, state ? state : "-");
		goto out;
	}
	if (PQtransactionStatus(m->conn) != PQTRANS_INTRANS) {
		migrate_err(m,
		            "migration %s ended its transaction (COMMIT or ROLLBACK in the "
		            "file); remove it, each file already runs in its own transaction",
		            f->name);
		goto out;
	}
	snprintf(version, sizeof(version), "%ld", f->version);
	params[0] = version;
	params[1] = f->name;
	params[2] = f->checksum;
	if (migrate_sql(m,
	                "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
	                "VALUES ($1::int, $2, $3, now())",
	                3, params, NULL))
		goto out;
	if (migrate_sql(m, "COMMIT", 0, NULL, NULL))
		goto out;
	open = false;
	if (m->out)
		fprintf(m->out, "applied %s\n", f->name);
	rc = 0;
out:
	PQclear(r);
	if (open && PQstatus(m->conn) == CONNECTION_OK &&
	    PQtransactionStatus(m->conn) != PQTRANS_IDLE) {
		PGresult *rb = PQexecParams(m->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);

		PQclear(rb);
	}
	return rc;
}

/* Refuses to go on when an applied file was edited since. */
static int migrate_verify(struct migrate_ctx *m, const PGresult *applied)
{
	for (int i = 0; i < PQntuples(applied); i++) {
		long v = strtol(PQgetvalue(applied, i, 0), NULL, 10);
		const char *name = PQgetvalue(applied, i, 1);
		const char *sum = PQgetvalue(applied, i, 2);
		struct migration *f = migrate_find(m, v);

		if (!f) {
			if (m->err)
				fprintf(m->err,
				        "migrate: warning: %s (version %ld) is recorded as "
				        "applied but its file is missing\n",
				        name, v);
			continue;
		}
		if (strcmp(f->checksum, sum) != 0) {
			migrate_err(m,
			            "migration %s was changed after it was applied (checksum "
			            "%.12s... recorded, %.12s... now); add a new migration "
			            "instead of editing an applied one",
			            f->name, sum, f->checksum);
			return -1;
		}
	}
	return 0;
}

static bool migrate_is_applied(const PGresult *applied, long version)
{
	for (int i = 0; i < PQntuples(applied); i++)
		if (strtol(PQgetvalue(applied, i, 0), NULL, 10) == version)
			return true;
	return false;
}

/* Applies pending files under the advisory lock; count applied or -1. */
int migrate_run(PGconn *conn, const char *dir, FILE *out, FILE *err)
{
	struct migrate_ctx m = {conn, NULL, out, err, NULL, 0};
	PGresult *applied = NULL;
	const char *lock[] = {MIGRATE_LOCK_KEY};
	bool locked = false, missing;
	int count = 0, rc = -1;

	m.a = arena_new();
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		migrate_err(&m, "no database connection");
		goto out;
	}
	if (migrate_list(&m, dir))
		goto out;
	if (migrate_sql(&m, "SELECT pg_advisory_lock($1::bigint)", 1, lock, NULL))
		goto out;
	locked = true;
	/* Checked first (under the lock) so a re-run prints no NOTICE. */
	if (migrate_sql(&m, "SELECT to_regclass('schema_migrations') IS NULL", 0, NULL, &applied))
		goto out;
	missing = strcmp(PQgetvalue(applied, 0, 0), "t") == 0;
	PQclear(applied);
	applied = NULL;
	if (missing && migrate_sql(&m,
	                           "CREATE TABLE schema_migrations ("
	                           " version int PRIMARY KEY,"
	                           " name text NOT NULL,"
	                           " checksum text NOT NULL,"
	                           " applied_at timestamptz NOT NULL DEFAULT now())",
	                           0, NULL, NULL))
		goto out;
	if (migrate_sql(&m,
	                "SELECT version, name, checksum FROM schema_migrations ORDER BY version", 0,
	                NULL, &applied))
		goto out;
	if (migrate_verify(&m, applied))
		goto out;
	for (size_t i = 0; i < m.n; i++) {
		if (migrate_is_applied(applied, m.files[i].version))
			continue;
		if (migrate_apply(&m, &m.files[i]))
			goto out;
		count++;
	}
	if (out) {
		if (count)
			fprintf(out, "%d migration%s applied\n", count, count == 1 ? "" : "s");
		else
			fprintf(out, "database is up to date (%zu migration%s)\n", m.n,
			        m.n == 1 ? "" : "s");
	}
	rc = count;
out:
	if (locked && PQstatus(conn) == CONNECTION_OK) {
		PGresult *r = PQexecParams(conn, "SELECT pg_advisory_unlock($1::bigint)", 1, NULL,
		                           lock, NULL, NULL, 0);

		PQclear(r);
	}
	PQclear(applied);
	arena_free(m.a);
	return rc;
}
