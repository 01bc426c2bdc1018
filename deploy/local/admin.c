/* admin - blog admin accounts from the command line.
 *
 *   admin create USERNAME          password: the first line of stdin
 *   admin ensure                   when no admin exists, creates ADMIN_USER
 *                                  with ADMIN_PASSWORD (from the environment)
 *   admin ensure --random USERNAME when no admin exists, creates USERNAME with
 *                                  a random 20-character password and prints
 *                                  "admin user: NAME password: PW" (only then)
 *   admin password USERNAME        sets a new password (first line of stdin)
 *                                  and ends every session of that user
 *
 * Connects with DATABASE_URL, or libpq's PG* variables when it is unset.
 * Passwords are stored as argon2id hashes (auth_password_hash). Exit 0 on
 * success (ensure: also when an admin already exists), 1 on any error.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "auth.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "json.h"
#include "log.h"

#define PASSWORD_MAX  1024 /* characters, as the login accepts */
#define RANDOM_PW_LEN 20

static void usage(FILE *f)
{
	fputs("usage: admin create USERNAME        (password: first line of stdin)\n"
	      "       admin ensure                 (ADMIN_USER / ADMIN_PASSWORD)\n"
	      "       admin ensure --random USERNAME\n"
	      "       admin password USERNAME      (new password: first line of stdin)\n"
	      "Creates blog admin accounts. ensure does nothing when an admin exists;\n"
	      "--random prints the generated password once. Connects with DATABASE_URL\n"
	      "or the PG* variables.\n",
	      f);
}

/* The database column's rule: ^[A-Za-z0-9_.@-]{1,64}$. */
static bool username_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '@' || c == '-'))
			return false;
	}
	return true;
}

static bool password_ok(const char *s)
{
	long n = json_utf8_len(s);

	return n >= 1 && n <= PASSWORD_MAX;
}

/* The first line of stdin without its line end (arena); NULL when empty. */
static char *read_password(struct arena *a)
{
	char buf[PASSWORD_MAX * 4 + 3];
	size_t n;

	if (fgets(buf, sizeof(buf), stdin) == NULL)
		return NULL;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] != '\n' && !feof(stdin))
		return NULL; /* longer than any allowed password */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	return arena_strndup(a, buf, n);
}

/* RANDOM_PW_LEN letters and digits, uniformly (rejection sampling). */
static char *random_password(struct arena *a)
{
	static const char alphabet[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	const unsigned limit = 256 - 256 % (sizeof(alphabet) - 1);
	char *pw = arena_alloc(a, RANDOM_PW_LEN + 1);
	size_t n = 0;

	while (n < RANDOM_PW_LEN) {
		unsigned char b[32];

		if (crypto_random(b, sizeof(b)) != 0)
			return NULL;
		for (size_t i = 0; i < sizeof(b) && n < RANDOM_PW_LEN; i++)
			if (b[i] < limit)
				pw[n++] = alphabet[b[i] % (sizeof(alphabet) - 1)];
	}
	pw[n] = '\0';
	return pw;
}

/* 1 when any admin exists, 0 when none, -1 on error. */
static int admin_exists(struct arena *a)
{
	PGresult *r = db_query(a, "SELECT EXISTS (SELECT 1 FROM admin_users)", 0, NULL);

	if (r == NULL)
		return -1;
	return strcmp(PQgetvalue(r, 0, 0), "t") == 0;
}

/* Inserts the account. only_first: inside a transaction that locks the table
 * and inserts only while it is empty (two concurrent ensures make one admin).
 * 1 created, 0 skipped (only_first and an admin exists), -1 error (printed). */
static int create_user(struct arena *a, const char *username, const char *password, bool only_first)
{
	const char *hash = auth_password_hash(a, password);
	const char *params[2] = {username, hash};
	int exists, rc = -1;

	if (hash == NULL) {
		fprintf(stderr, "admin: cannot hash the password\n");
		return -1;
	}
	if (db_begin() != 0)
		goto fail;
	if (only_first) {
		if (db_exec(a, "LOCK TABLE admin_users IN SHARE ROW EXCLUSIVE MODE", 0, NULL) < 0)
			goto fail;
		exists = admin_exists(a);
		if (exists < 0)
			goto fail;
		if (exists) {
			rc = 0;
			goto done;
		}
	}
	if (db_exec(a, "INSERT INTO admin_users (username, password_hash) VALUES ($1, $2)", 2,
	            params) < 0) {
		if (db_last_error() == DB_UNIQUE)
			fprintf(stderr, "admin: user %s already exists\n", username);
		goto fail;
	}
	rc = 1;
done:
	if (db_commit() != 0)
		goto fail;
	return rc;
fail:
	db_rollback();
	if (db_last_error() != DB_UNIQUE)
		fprintf(stderr, "admin: database error (%s)\n",
		        db_last_sqlstate()[0] ? db_last_sqlstate() : "no connection");
	return -1;
}

static int cmd_create(struct arena *a, const char *username)
{
	const char *password;

	if (!username_ok(username)) {
		fprintf(stderr, "admin: username must be 1-64 of A-Z a-z 0-9 _ . @ -\n");
		return 1;
	}
	password = read_password(a);
	if (password == NULL || !password_ok(password)) {
		fprintf(stderr,
		        "admin: the password (first line of stdin) must be 1-%d characters\n",
		        PASSWORD_MAX);
		return 1;
	}
	return create_user(a, username, password, false) == 1 ? 0 : 1;
}

static int cmd_ensure(struct arena *a, const char *random_user)
{
	const char *username = random_user ? random_user : getenv("ADMIN_USER");
	const char *password;
	int exists = admin_exists(a), rc;

	if (exists < 0) {
		fprintf(stderr, "admin: cannot read admin_users (%s)\n",
		        db_last_sqlstate()[0] ? db_last_sqlstate() : "no connection");
		return 1;
	}
	if (exists)
		return 0; /* the common case: no hashing, no output */
	if (username == NULL || !username_ok(username)) {
		fprintf(stderr, "admin: %s must be 1-64 of A-Z a-z 0-9 _ . @ -\n",
		        random_user ? "USERNAME" : "ADMIN_USER");
		return 1;
	}
	password = random_user ? random_password(a) : getenv("ADMIN_PASSWORD");
	if (password == NULL || !password_ok(password)) {
		fprintf(stderr, "admin: %s\n",
		        random_user ? "cannot generate a password"
		                    : "ADMIN_PASSWORD must be set, 1-1024 characters");
		return 1;
	}
	rc = create_user(a, username, password, true);
	if (rc < 0)
		return 1;
	if (rc == 1 && random_user) {
		printf("admin user: %s password: %s\n", username, password);
		if (fflush(stdout) != 0)
			return 1;
	}
	return 0;
}

/* A forgotten password: the new hash and the end of every session of the
 * user, in one transaction (a stolen session dies with the old password). */
static int cmd_password(struct arena *a, const char *username)
{
	const char *password = read_password(a), *params[2];
	long n;

	if (password == NULL || !password_ok(password)) {
		fprintf(stderr,
		        "admin: the password (first line of stdin) must be 1-%d characters\n",
		        PASSWORD_MAX);
		return 1;
	}
	params[0] = username;
	params[1] = auth_password_hash(a, password);
	if (params[1] == NULL) {
		fprintf(stderr, "admin: cannot hash the password\n");
		return 1;
	}
	if (db_begin() != 0)
		goto fail;
	n = db_exec(a, "UPDATE admin_users SET password_hash = $2 WHERE username = $1", 2, params);
	if (n < 0)
		goto fail;
	if (n == 0) {
		db_rollback();
		fprintf(stderr, "admin: no user %s\n", username);
		return 1;
	}
	if (db_exec(a,
	            "DELETE FROM admin_sessions WHERE user_id ="
	            " (SELECT id FROM admin_users WHERE username = $1)",
	            1, params) < 0 ||
	    db_commit() != 0)
		goto fail;
	printf("admin: new password set for %s; its sessions are signed out\n", username);
	return 0;
fail:
	db_rollback();
	fprintf(stderr, "admin: database error (%s)\n",
	        db_last_sqlstate()[0] ? db_last_sqlstate() : "no connection");
	return 1;
}

/* Exit 0 on success, 1 after printing why not. */
int main(int argc, char **argv)
{
	struct arena *a = NULL;
	char err[256] = "";
	int rc = 1;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	/* The shared table without its random-APP_SECRET fallback: no secret is
	 * needed here. */
	if (config_load(config_shared_vars, config_shared_count, err, sizeof(err)) != 0) {
		fprintf(stderr, "admin: configuration error: %s\n", err);
		return 1;
	}
	/* The tool explains failures itself: the library's info lines are noise. */
	log_set_function("admin");
	log_set_level(getenv("LOG_LEVEL") ? (enum log_level)g_cfg.log_level : LOG_WARN);
	a = arena_new();
	if (argc == 3 && strcmp(argv[1], "create") == 0)
		rc = cmd_create(a, argv[2]);
	else if (argc == 2 && strcmp(argv[1], "ensure") == 0)
		rc = cmd_ensure(a, NULL);
	else if (argc == 3 && strcmp(argv[1], "password") == 0)
		rc = cmd_password(a, argv[2]);
	else if (argc == 4 && strcmp(argv[1], "ensure") == 0 && strcmp(argv[2], "--random") == 0)
		rc = cmd_ensure(a, argv[3]);
	else
		usage(stderr);
	arena_free(a);
	db_close();
	return rc;
}
