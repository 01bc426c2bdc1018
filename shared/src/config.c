/* config.c - the environment, read once through one table. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "log.h"

struct shared_config g_cfg;

/* Hex of 32 random bytes when APP_SECRET is unset. */
static char random_secret[65];

static int fail(char *err, size_t errlen, const char *reason)
{
	snprintf(err, errlen, "%s", reason);
	return -1;
}

int config_parse_str(const char *v, void *dest, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	*(const char **)dest = v;
	return 0;
}

int config_parse_long(const char *v, void *dest, char *err, size_t errlen)
{
	char *end;
	long n;

	if (v[0] < '0' || v[0] > '9')
		return fail(err, errlen, "must be a non-negative integer");
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0)
		return fail(err, errlen, "must be a non-negative integer");
	*(long *)dest = n;
	return 0;
}

/* Like config_parse_long, but 0 is refused (timeouts: 0 would mean none). */
static int parse_positive(const char *v, void *dest, char *err, size_t errlen)
{
	long n;

	if (config_parse_long(v, &n, err, errlen) != 0 || n == 0)
		return fail(err, errlen, "must be a positive integer");
	*(long *)dest = n;
	return 0;
}

int config_parse_size(const char *v, void *dest, char *err, size_t errlen)
{
	static const char reason[] = "must be a size like 1048576, 64K, 6M or 1G";
	char *end;
	unsigned long long n, mult = 1;

	if (v[0] < '0' || v[0] > '9')
		return fail(err, errlen, reason);
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0)
		return fail(err, errlen, reason);
	if (*end != '\0') {
		switch (*end) {
		case 'k':
		case 'K':
			mult = 1024ULL;
			break;
		case 'm':
		case 'M':
			mult = 1024ULL * 1024;
			break;
		case 'g':
		case 'G':
			mult = 1024ULL * 1024 * 1024;
			break;
		default:
			return fail(err, errlen, reason);
		}
		end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end != '\0')
			return fail(err, errlen, reason);
	}
	if (n > SIZE_MAX / mult)
		return fail(err, errlen, "is too large");
	*(size_t *)dest = (size_t)(n * mult);
	return 0;
}

int config_parse_bool(const char *v, void *dest, char *err, size_t errlen)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*(bool *)dest = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*(bool *)dest = false;
			return 0;
		}
	}
	return fail(err, errlen, "must be one of 1/0, true/false, yes/no, on/off");
}

/* dest is an int holding an enum log_level. */
int config_parse_level(const char *v, void *dest, char *err, size_t errlen)
{
	enum log_level level;

	if (log_level_parse(v, &level) != 0)
		return fail(err, errlen, "must be one of debug, info, warn, error");
	*(int *)dest = (int)level;
	return 0;
}

/* APP_SECRET: a string of at least 16 bytes. */
static int parse_secret(const char *v, void *dest, char *err, size_t errlen)
{
	if (strlen(v) < 16)
		return fail(err, errlen, "must be at least 16 characters long");
	*(const char **)dest = v;
	return 0;
}

/* An empty variable counts as unset (FOO= in an env file). */
int config_load(const struct config_var *vars, size_t n, char *err, size_t errlen)
{
	char reason[160];

	for (size_t i = 0; i < n; i++) {
		const char *v = getenv(vars[i].name);

		if (v == NULL || v[0] == '\0')
			v = vars[i].def;
		if (v == NULL)
			continue;
		reason[0] = '\0';
		if (vars[i].parse(v, vars[i].dest, reason, sizeof(reason)) != 0) {
			snprintf(err, errlen, "%s: %s", vars[i].name,
			         reason[0] ? reason : "invalid value");
			return -1;
		}
	}
	return 0;
}

const struct config_var config_shared_vars[] = {
        {"DATABASE_URL", NULL, config_parse_str, &g_cfg.database_url,
         "PostgreSQL connection URI; unset: libpq's PG* variables"},
        {"DB_CONNECT_TIMEOUT", "5", parse_positive, &g_cfg.db_connect_timeout_s,
         "seconds to wait for a database connection"},
        {"DB_STATEMENT_TIMEOUT_MS", "10000", config_parse_long, &g_cfg.db_statement_timeout_ms,
         "statement_timeout of the database session in ms (0: none)"},
        {"DB_PREPARED_STATEMENTS", "1", config_parse_bool, &g_cfg.db_prepare,
         "prepare each statement once per session (turn off behind a transaction-pooling "
         "PgBouncer older than 1.21)"},
        {"TRUST_PROXY", "0", config_parse_bool, &g_cfg.trust_proxy,
         "HTTP mode behind a proxy: the client address is the last X-Forwarded-For entry"},
        {"MAX_BODY_BYTES", "6M", config_parse_size, &g_cfg.max_body,
         "largest request body accepted (413 above); 6M is the FaaS payload limit"},
        {"LOG_LEVEL", "info", config_parse_level, &g_cfg.log_level, "debug, info, warn or error"},
        {"APP_SECRET", NULL, parse_secret, &g_cfg.app_secret,
         "HMAC key for cursors and tokens, at least 16 characters; unset: random per process"},
        {"HTTP_CONNECT_TIMEOUT_MS", "3000", parse_positive, &g_cfg.http_connect_timeout_ms,
         "connect timeout of outbound HTTP calls in ms"},
        {"HTTP_TIMEOUT_MS", "10000", parse_positive, &g_cfg.http_timeout_ms,
         "total timeout of outbound HTTP calls in ms"},
        {"HTTP_MAX_RESPONSE_BYTES", "8M", config_parse_size, &g_cfg.http_max_response,
         "largest outbound HTTP response accepted"},
};

const size_t config_shared_count = sizeof(config_shared_vars) / sizeof(config_shared_vars[0]);

int config_load_shared(char *err, size_t errlen)
{
	unsigned char key[32];

	memset(&g_cfg, 0, sizeof(g_cfg));
	if (config_load(config_shared_vars, config_shared_count, err, errlen) != 0)
		return -1;
	log_set_level((enum log_level)g_cfg.log_level);
	if (g_cfg.app_secret == NULL) {
		if (crypto_random(key, sizeof(key)) != 0)
			return fail(err, errlen, "APP_SECRET: cannot generate a random key");
		for (size_t i = 0; i < sizeof(key); i++)
			snprintf(random_secret + 2 * i, 3, "%02x", key[i]);
		g_cfg.app_secret = random_secret;
		log_warn("APP_SECRET is not set: cursors and tokens are valid for this process "
		         "only");
	}
	return 0;
}
