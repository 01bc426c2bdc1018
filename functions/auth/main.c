/* auth - blog admin sign-in: login, logout and the current session; and
 * the WeChat mini-program's sign-in for the album API (wechat.c).
 *
 *   POST /api/auth/login   {username, password} -> token, csrf_token, cookie
 *   POST /api/auth/logout  revokes the session (cookie callers need X-CSRF-Token)
 *   GET  /api/auth/me      the signed-in admin, a fresh csrf_token
 *   POST /api/auth/wechat         {code} -> bearer token (see wechat.h)
 *   POST /api/auth/wechat/logout  revokes the WeChat session
 *   POST /api/auth/dev            {openid}, only with WECHAT_DEV_LOGIN=1
 *
 * Login throttling: every failure is recorded in login_failures under
 * "user:<name>" and "ip:<HMAC of the client address>" (req_client_ip). With
 * LOGIN_SLOW_AT or more failures of either key in the last 15 minutes an
 * attempt is delayed (250 ms per failure over LOGIN_SLOW_AT - 1, at most
 * 2 s); with LOGIN_REFUSE_AT or more it is refused with 429 and Retry-After
 * before any password is checked. A successful login clears the user's
 * failures.
 * Unknown user and wrong password give the same answer in the same time.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "auth.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "fn.h"
#include "json.h"
#include "log.h"
#include "wechat.h"

#define LOGIN_SLOW_AT     5
#define LOGIN_REFUSE_AT   10
#define LOGIN_DELAY_MS    250
#define LOGIN_DELAY_MAX   2000
#define LOGIN_BAD_MESSAGE "invalid username or password"

static int auth_login(struct req *req, struct res *res);
static int auth_logout(struct req *req, struct res *res);
static int auth_me(struct req *req, struct res *res);

/* Not const: the development login's slot is filled at start-up only when
 * WECHAT_DEV_LOGIN is on; otherwise the path is unknown (404 for every
 * method), not merely refused. */
static struct route routes[] = {
        {"POST", "/api/auth/login", auth_login},
        {"POST", "/api/auth/logout", auth_logout},
        {"GET", "/api/auth/me", auth_me},
        {"POST", "/api/auth/wechat", wechat_login},
        {"POST", "/api/auth/wechat/logout", wechat_logout},
        ROUTES_END, /* the development login, when enabled */
        ROUTES_END,
};
#define ROUTE_DEV_SLOT (sizeof(routes) / sizeof(routes[0]) - 2)

/* ---- configuration ---------------------------------------------------------------- */

static long session_hours;

/* Hours: 1 .. one year. */
static int parse_hours(const char *v, void *dest, char *err, size_t errlen)
{
	if (config_parse_long(v, dest, err, errlen) != 0)
		return -1;
	if (*(long *)dest < 1 || *(long *)dest > 8760) {
		snprintf(err, errlen, "must be between 1 and 8760");
		return -1;
	}
	return 0;
}

static const struct config_var auth_vars[] = {
        {"AUTH_SESSION_HOURS", "12", parse_hours, &session_hours,
         "lifetime of an admin session (token and cookie) in hours"},
};

static int auth_init(void)
{
	char err[256] = "";

	if (config_load(auth_vars, sizeof(auth_vars) / sizeof(auth_vars[0]), err, sizeof(err)) ||
	    wechat_init(err, sizeof(err))) {
		log_error("configuration error: %s", err);
		return -1;
	}
	if (wechat_dev_login_enabled())
		routes[ROUTE_DEV_SLOT] = (struct route){"POST", "/api/auth/dev", wechat_dev_login};
	return 0;
}

static const struct fn_app app = {"auth", routes, auth_init};

/* The function entry point: fn_main picks the runtime. */
int main(int argc, char **argv)
{
	return fn_main(argc, argv, &app);
}

/* ---- helpers ------------------------------------------------------------------------ */

/* RFC 3339 UTC of t (arena). */
static char *rfc3339(struct arena *a, time_t t)
{
	struct tm tm;
	char buf[32];

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return arena_strdup(a, "");
	return arena_strdup(a, buf);
}

static int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* "ip:" + hex HMAC(APP_SECRET, address): the address itself is never stored. */
static const char *ip_key(struct req *req)
{
	const char *ip = req_client_ip(req);
	const char *key = g_cfg.app_secret ? g_cfg.app_secret : "";
	unsigned char mac[32];

	if (*ip == '\0')
		ip = "unknown";
	crypto_hmac_sha256(key, strlen(key), ip, strlen(ip), mac);
	return arena_printf(req->arena, "ip:%s", crypto_hex(req->arena, mac, sizeof(mac)));
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* {"id","username","display_name"} from columns 0..2 of row 0. */
static cJSON *user_json(const PGresult *r)
{
	cJSON *u = cJSON_CreateObject();
	int64_t id = 0;

	(void)parse_i64(PQgetvalue(r, 0, 0), &id);
	cJSON_AddNumberToObject(u, "id", (double)id);
	cJSON_AddStringToObject(u, "username", PQgetvalue(r, 0, 1));
	cJSON_AddStringToObject(u, "display_name", PQgetvalue(r, 0, 2));
	return u;
}

/* ---- login -------------------------------------------------------------------------- */

/* The most failures of either key in the window, and (when that reaches
 * LOGIN_REFUSE_AT) the seconds until it drops below again. 0 / -1. */
static int failures_recent(struct req *req, const char *ukey, const char *ikey, long *count,
                           long *retry_s)
{
	/* Row LOGIN_REFUSE_AT counted from the newest is the failure whose
	 * leaving the window brings its key back under the limit. */
	static const char sql[] =
	        "WITH f AS (SELECT failed_at,"
	        "  row_number() OVER (PARTITION BY key ORDER BY failed_at DESC) AS rn,"
	        "  count(*) OVER (PARTITION BY key) AS n"
	        "  FROM login_failures"
	        "  WHERE key IN ($1, $2) AND failed_at > now() - interval '15 minutes')"
	        " SELECT coalesce(max(n), 0),"
	        "  coalesce(max(ceil(extract(epoch FROM"
	        "   failed_at + interval '15 minutes' - now())))"
	        "   FILTER (WHERE rn = $3::bigint), 0)::bigint"
	        " FROM f";
	char refuse[16];
	const char *params[3] = {ukey, ikey, refuse};
	PGresult *r;
	int64_t n, s;

	snprintf(refuse, sizeof(refuse), "%d", LOGIN_REFUSE_AT);
	r = db_query(req->arena, sql, 3, params);
	if (r == NULL || PQntuples(r) != 1 || parse_i64(PQgetvalue(r, 0, 0), &n) ||
	    parse_i64(PQgetvalue(r, 0, 1), &s))
		return -1;
	*count = (long)n;
	*retry_s = s < 1 ? 1 : (long)s;
	return 0;
}

static int failure_record(struct req *req, const char *ukey, const char *ikey)
{
	const char *params[2] = {ukey, ikey};

	/* Old rows of these keys go at the same time: the table stays small. */
	if (db_exec(req->arena,
	            "DELETE FROM login_failures WHERE key IN ($1, $2)"
	            " AND failed_at < now() - interval '15 minutes'",
	            2, params) < 0)
		return -1;
	return db_exec(req->arena, "INSERT INTO login_failures (key) VALUES ($1), ($2)", 2,
	               params) < 0
	               ? -1
	               : 0;
}

/* The session row for user id, valid until expires; clears the user's
 * failures and the user's long-dead sessions. One transaction. */
static int session_create(struct req *req, const char *ukey, const char *uid, const char *session,
                          time_t expires)
{
	char exp[32];
	const char *p_key[1] = {ukey};
	const char *p_user[1] = {uid};
	const char *p_new[3] = {session, uid, exp};

	snprintf(exp, sizeof(exp), "%lld", (long long)expires);
	if (db_begin() != 0)
		return -1;
	if (db_exec(req->arena, "DELETE FROM login_failures WHERE key = $1", 1, p_key) < 0 ||
	    db_exec(req->arena,
	            "DELETE FROM admin_sessions WHERE user_id = $1"
	            " AND (expires_at < now() - interval '1 day'"
	            " OR revoked_at < now() - interval '1 day')",
	            1, p_user) < 0 ||
	    db_exec(req->arena,
	            "INSERT INTO admin_sessions (id, user_id, expires_at)"
	            " VALUES ($1, $2, to_timestamp($3::double precision))",
	            3, p_new) < 0 ||
	    db_commit() != 0)
		return -1;
	return 0;
}

/* POST /api/auth/login {username, password}. */
static int auth_login(struct req *req, struct res *res)
{
	const cJSON *body;
	const char *username, *password, *ukey, *ikey, *token, *csrf;
	struct auth_token t = {.kind = AUTH_ADMIN};
	long failures = 0, retry_s = 0;
	PGresult *r;
	cJSON *out;
	int64_t uid;

	if (json_body(req, res, &body) != 0)
		return res->status;
	if (json_str(res, body, "username", true, 1, 64, &username) != 0 ||
	    json_str(res, body, "password", true, 1, 1024, &password) != 0)
		return res->status;
	ukey = arena_printf(req->arena, "user:%s", username);
	ikey = ip_key(req);

	if (failures_recent(req, ukey, ikey, &failures, &retry_s) != 0)
		return db_fail(res);
	if (failures >= LOGIN_REFUSE_AT) {
		res_header_set(res, "Retry-After", arena_printf(req->arena, "%ld", retry_s));
		return res_error(res, 429, "too_many_requests",
		                 "too many failed sign-in attempts, try again later", NULL);
	}
	if (failures >= LOGIN_SLOW_AT) {
		long ms = LOGIN_DELAY_MS * (failures - (LOGIN_SLOW_AT - 1));

		sleep_ms(ms > LOGIN_DELAY_MAX ? LOGIN_DELAY_MAX : ms);
	}

	{
		const char *params[1] = {username};

		r = db_query(req->arena,
		             "SELECT id, username, display_name, password_hash FROM admin_users"
		             " WHERE username = $1",
		             1, params);
	}
	if (r == NULL)
		return db_fail(res);
	if (!auth_password_verify(PQntuples(r) == 1 ? PQgetvalue(r, 0, 3) : NULL, password)) {
		if (failure_record(req, ukey, ikey) != 0)
			return db_fail(res);
		res_header_set(res, "WWW-Authenticate", "Bearer");
		return res_error(res, 401, "unauthorized", LOGIN_BAD_MESSAGE, NULL);
	}
	if (parse_i64(PQgetvalue(r, 0, 0), &uid) != 0 || auth_session_new(t.session) != 0)
		return res_error(res, 500, "internal_error", "internal error", NULL);
	t.subject = uid;
	t.expires = time(NULL) + session_hours * 3600;
	if (session_create(req, ukey, PQgetvalue(r, 0, 0), t.session, t.expires) != 0) {
		db_fail(res);
		db_rollback();
		return res->status;
	}
	token = auth_token_issue(req->arena, &t);
	csrf = auth_csrf_token(req->arena, t.session);
	if (token == NULL || csrf == NULL)
		return res_error(res, 500, "internal_error", "internal error", NULL);

	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "token", token);
	cJSON_AddStringToObject(out, "csrf_token", csrf);
	cJSON_AddStringToObject(out, "expires_at", rfc3339(req->arena, t.expires));
	cJSON_AddItemToObject(out, "user", user_json(r));
	res_header(res, "Set-Cookie", auth_cookie(req->arena, req, token, session_hours * 3600));
	res_header_set(res, "Cache-Control", "no-store");
	return res_json(res, 200, out);
}

/* ---- session -------------------------------------------------------------------------- */

/* POST /api/auth/logout: revokes the session, clears the cookie. */
static int auth_logout(struct req *req, struct res *res)
{
	struct auth_admin me;
	const char *params[1];

	if (auth_require_admin(req, res, &me))
		return res->status;
	params[0] = me.session;
	if (db_exec(req->arena,
	            "UPDATE admin_sessions SET revoked_at = now()"
	            " WHERE id = $1 AND revoked_at IS NULL",
	            1, params) < 0)
		return db_fail(res);
	res_header(res, "Set-Cookie", auth_cookie(req->arena, req, NULL, 0));
	res_header_set(res, "Cache-Control", "no-store");
	return res_empty(res, 204);
}

/* GET /api/auth/me: {"user", "csrf_token", "expires_at"}. */
static int auth_me(struct req *req, struct res *res)
{
	struct auth_admin me;
	const char *params[1];
	const char *csrf;
	PGresult *r;
	int64_t expires;
	cJSON *out;

	if (auth_require_admin(req, res, &me))
		return res->status;
	params[0] = me.session;
	r = db_query(req->arena,
	             "SELECT u.id, u.username, u.display_name,"
	             " floor(extract(epoch FROM s.expires_at))::bigint"
	             " FROM admin_sessions s JOIN admin_users u ON u.id = s.user_id"
	             " WHERE s.id = $1",
	             1, params);
	if (r == NULL)
		return db_fail(res);
	if (PQntuples(r) != 1 || parse_i64(PQgetvalue(r, 0, 3), &expires) != 0) {
		res_header_set(res, "WWW-Authenticate", "Bearer");
		return res_error(res, 401, "unauthorized", "invalid or expired session", NULL);
	}
	csrf = auth_csrf_token(req->arena, me.session);
	if (csrf == NULL)
		return res_error(res, 500, "internal_error", "internal error", NULL);
	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "user", user_json(r));
	cJSON_AddStringToObject(out, "csrf_token", csrf);
	cJSON_AddStringToObject(out, "expires_at", rfc3339(req->arena, (time_t)expires));
	res_header_set(res, "Cache-Control", "no-store");
	return res_json(res, 200, out);
}
