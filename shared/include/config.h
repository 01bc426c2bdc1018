/* config.h - the environment, read once at cold start through one table.
 *
 * A table row names a variable, its default (NULL = unset allowed) and a
 * parser writing into dest. config_load() stops at the first bad value with
 * a message naming the variable (never its value: it may be a secret).
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct config_var {
	const char *name;
	const char *def;
	/* Returns 0, or -1 with a reason in err. */
	int (*parse)(const char *value, void *dest, char *err, size_t errlen);
	void *dest;
	const char *help;  /* one line, for the README table and --help */
};

int config_load(const struct config_var *vars, size_t n, char *err, size_t errlen);

/* Parsers. dest types: const char ** / long / size_t / bool. */
int config_parse_str(const char *v, void *dest, char *err, size_t errlen);
int config_parse_long(const char *v, void *dest, char *err, size_t errlen);   /* >= 0 */
int config_parse_size(const char *v, void *dest, char *err, size_t errlen);   /* 123, 64K, 6M, 1G */
int config_parse_bool(const char *v, void *dest, char *err, size_t errlen);   /* 1/0 true/false yes/no on/off */
int config_parse_level(const char *v, void *dest, char *err, size_t errlen);  /* enum log_level */

/* Settings every function shares, filled by config_load_shared(). */
struct shared_config {
	const char *database_url;   /* DATABASE_URL; NULL -> libpq PG* variables */
	long db_connect_timeout_s;  /* DB_CONNECT_TIMEOUT */
	long db_statement_timeout_ms; /* DB_STATEMENT_TIMEOUT_MS */
	bool db_prepare;            /* DB_PREPARED_STATEMENTS */
	bool trust_proxy;           /* TRUST_PROXY */
	size_t max_body;            /* MAX_BODY_BYTES */
	int log_level;              /* LOG_LEVEL */
	const char *app_secret;     /* APP_SECRET (HMAC key for cursors, tokens) */
	long http_connect_timeout_ms; /* HTTP_CONNECT_TIMEOUT_MS */
	long http_timeout_ms;       /* HTTP_TIMEOUT_MS */
	size_t http_max_response;   /* HTTP_MAX_RESPONSE_BYTES */
};

extern struct shared_config g_cfg;

/* Loads the shared table; on a missing APP_SECRET makes a random per-process
 * key and warns. Returns 0 or -1 with err set. */
int config_load_shared(char *err, size_t errlen);

/* The shared table, for documentation and tests. */
extern const struct config_var config_shared_vars[];
extern const size_t config_shared_count;

#endif
