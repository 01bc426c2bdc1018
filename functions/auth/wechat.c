/* wechat.c - WeChat mini-program sign-in for the album API.
 *
 * The mini-program calls wx.login() and sends the short-lived code here; the
 * server trades it at WeChat's jscode2session for the user's openid (and
 * session_key, which never leaves this file: it is not read, stored, logged
 * or returned). The user is found or created by openid (unique), and a row
 * in app_sessions backs the AUTH_WECHAT bearer token returned; logout revokes
 * that row. auth_require_user() (shared/src/auth.c) checks such tokens.
 *
 * jscode2session answers HTTP 200 with JSON either way: {openid,
 * session_key, unionid?} on success, {errcode, errmsg} on failure. A refused
 * code (40029 invalid, 40163 used, 45011 rate limit, 40226 high-risk user...)
 * is a 401 wechat_login_failed quoting errmsg and errcode; -1 (WeChat busy)
 * a 503 with Retry-After; no answer, a timeout or an unexpected answer a 502.
 *
 * The development login (POST /api/auth/dev {openid}) skips WeChat: it is
 * routed only when WECHAT_DEV_LOGIN is on, and must never be in production.
 */
#include "wechat.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "arena.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "httpc.h"
#include "json.h"
#include "log.h"

#define WECHAT_DEFAULT_BASE "https://api.weixin.qq.com"
#define WECHAT_CODE_MAX     128
#define WECHAT_OPENID_MAX   128 /* app_users_openid_length */
#define WECHAT_UNIONID_MAX  128
#define WECHAT_ERRMSG_MAX   200 /* bytes of errmsg quoted back */
#define WECHAT_ANSWER_MAX   ((size_t)64 << 10)
#define WECHAT_BUSY_RETRY_S "2"

/* ---- configuration ---------------------------------------------------------------- */

static const char *cfg_appid;
static const char *cfg_secret;
static const char *cfg_api_base;
static long cfg_session_days;
static bool cfg_dev_login;

/* An http(s) base URL without query or fragment. */
static int parse_base(const char *v, void *dest, char *err, size_t errlen)
{
	if ((strncasecmp(v, "https://", 8) != 0 && strncasecmp(v, "http://", 7) != 0) ||
	    strpbrk(v, "?# \t\r\n") != NULL) {
		snprintf(err, errlen, "must be an http:// or https:// URL without query");
		return -1;
	}
	*(const char **)dest = v;
	return 0;
}

/* Days: 1 .. 365. */
static int parse_days(const char *v, void *dest, char *err, size_t errlen)
{
	if (config_parse_long(v, dest, err, errlen) != 0)
		return -1;
	if (*(long *)dest < 1 || *(long *)dest > 365) {
		snprintf(err, errlen, "must be between 1 and 365");
		return -1;
	}
	return 0;
}

static const struct config_var wechat_vars[] = {
        {"WECHAT_APPID", NULL, config_parse_str, &cfg_appid,
         "the mini-program's AppID (jscode2session appid)"},
        {"WECHAT_SECRET", NULL, config_parse_str, &cfg_secret,
         "the mini-program's AppSecret (jscode2session secret); never logged"},
        {"WECHAT_API_BASE", WECHAT_DEFAULT_BASE, parse_base, &cfg_api_base,
         "base URL of WeChat's API (a stand-in server in tests)"},
        {"WECHAT_SESSION_DAYS", "30", parse_days, &cfg_session_days,
         "lifetime of a WeChat user's session (bearer token) in days"},
        {"WECHAT_DEV_LOGIN", "0", config_parse_bool, &cfg_dev_login,
         "1 enables POST /api/auth/dev {openid} (no WeChat; never in production)"},
};

int wechat_init(char *err, size_t errlen)
{
	if (config_load(wechat_vars, sizeof(wechat_vars) / sizeof(wechat_vars[0]), err, errlen))
		return -1;
	if ((cfg_appid == NULL) != (cfg_secret == NULL))
		log_warn("only one of WECHAT_APPID and WECHAT_SECRET is set: WeChat login is off");
	if (cfg_dev_login)
		log_warn("WECHAT_DEV_LOGIN is on: POST /api/auth/dev signs anyone in without "
		         "WeChat; never enable it in production");
	return 0;
}

bool wechat_dev_login_enabled(void)
{
	return cfg_dev_login;
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

/* s percent-encoded for a query value per RFC 3986: every byte but the
 * unreserved characters becomes %XX (so '+', '&', '=' and UTF-8 survive). */
static char *url_escape(struct arena *a, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), j = 0;
	char *out = arena_alloc(a, 3 * n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[j++] = (char)c;
		} else {
			out[j++] = '%';
			out[j++] = hex[c >> 4];
			out[j++] = hex[c & 15];
		}
	}
	out[j] = '\0';
	return out;
}

/* A string field of WeChat's answer with 1..max code points of valid UTF-8,
 * or NULL. */
static const char *answer_str(const cJSON *obj, const char *name, size_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	long n;

	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return NULL;
	n = json_utf8_len(v->valuestring);
	if (n < 1 || (size_t)n > max)
		return NULL;
	return v->valuestring;
}

/* errmsg cut to WECHAT_ERRMSG_MAX bytes on a UTF-8 boundary (arena). */
static const char *errmsg_copy(struct arena *a, const cJSON *obj)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "errmsg");
	const char *s;
	size_t n;

	if (!cJSON_IsString(v) || v->valuestring == NULL || v->valuestring[0] == '\0')
		return "no reason given";
	s = v->valuestring;
	n = strlen(s);
	if (n > WECHAT_ERRMSG_MAX) {
		n = WECHAT_ERRMSG_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return arena_strndup(a, s, n);
}

static int bad_gateway(struct res *res, const char *message)
{
	return res_error(res, 502, "bad_gateway", message, NULL);
}

/* ---- sign-in ------------------------------------------------------------------------ */

/* Finds or creates the user of openid (unionid kept when WeChat sends none),
 * opens a session, and answers 200 {"token","expires_at","user"}. One
 * transaction. Returns the status. */
static int user_sign_in(struct req *req, struct res *res, const char *openid, const char *unionid)
{
	const char *p_user[2] = {openid, unionid};
	struct auth_token t = {.kind = AUTH_WECHAT};
	const char *token, *uid;
	char exp[32], *end;
	PGresult *r;
	cJSON *out, *user;
	long long id;

	if (auth_session_new(t.session) != 0)
		return res_error(res, 500, "internal_error", "internal error", NULL);
	t.expires = time(NULL) + (time_t)cfg_session_days * 86400;
	snprintf(exp, sizeof(exp), "%lld", (long long)t.expires);

	if (db_begin() != 0)
		return db_fail(res);
	r = db_query(req->arena,
	             "INSERT INTO app_users (openid, unionid) VALUES ($1, $2)"
	             " ON CONFLICT (openid) DO UPDATE SET last_login_at = now(),"
	             " unionid = COALESCE(EXCLUDED.unionid, app_users.unionid)"
	             " RETURNING id, nickname",
	             2, p_user);
	if (r == NULL || PQntuples(r) != 1)
		goto db_failed;
	uid = PQgetvalue(r, 0, 0);
	{
		const char *p_old[1] = {uid};
		const char *p_new[3] = {t.session, uid, exp};

		/* The user's long-dead sessions go at the same time. */
		if (db_exec(req->arena,
		            "DELETE FROM app_sessions WHERE user_id = $1"
		            " AND (expires_at < now() - interval '1 day'"
		            " OR revoked_at < now() - interval '1 day')",
		            1, p_old) < 0 ||
		    db_exec(req->arena,
		            "INSERT INTO app_sessions (id, user_id, expires_at)"
		            " VALUES ($1, $2, to_timestamp($3::double precision))",
		            3, p_new) < 0 ||
		    db_commit() != 0)
			goto db_failed;
	}
	errno = 0;
	id = strtoll(uid, &end, 10);
	if (errno != 0 || *end != '\0' || id < 0)
		return res_error(res, 500, "internal_error", "internal error", NULL);
	t.subject = (int64_t)id;
	token = auth_token_issue(req->arena, &t);
	if (token == NULL)
		return res_error(res, 500, "internal_error", "internal error", NULL);

	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "token", token);
	cJSON_AddStringToObject(out, "expires_at", rfc3339(req->arena, t.expires));
	user = cJSON_AddObjectToObject(out, "user");
	cJSON_AddNumberToObject(user, "id", (double)id);
	cJSON_AddStringToObject(user, "nickname", PQgetvalue(r, 0, 1));
	res_header_set(res, "Cache-Control", "no-store");
	return res_json(res, 200, out);

db_failed:
	db_fail(res);
	db_rollback();
	return res->status;
}

/* GET jscode2session for code. Fills *openid / *unionid (arena) and returns
 * 0, or fills res (401, 502, 503) and returns -1. */
static int jscode2session(struct req *req, struct res *res, const char *code, const char **openid,
                          const char **unionid)
{
	struct arena *a = req->arena;
	size_t base_len = strlen(cfg_api_base);
	struct httpc_req hr = {0};
	struct httpc_res hres;
	const cJSON *errcode;
	cJSON *answer = NULL;
	const char *s;
	int rc = -1;

	while (base_len > 0 && cfg_api_base[base_len - 1] == '/')
		base_len--;
	hr.method = "GET";
	hr.url = arena_printf(a,
	                      "%.*s/sns/jscode2session?appid=%s&secret=%s&js_code=%s"
	                      "&grant_type=authorization_code",
	                      (int)base_len, cfg_api_base, url_escape(a, cfg_appid),
	                      url_escape(a, cfg_secret), url_escape(a, code));
	hr.max_response = WECHAT_ANSWER_MAX;
	/* The URL holds the secret and the code: it is never logged. */
	if (httpc_do(a, &hr, &hres) != 0) {
		log_warn("jscode2session: no answer: %s", hres.error);
		bad_gateway(res, "WeChat did not answer");
		goto out;
	}
	if (hres.status != 200) {
		log_warn("jscode2session: HTTP status %ld", hres.status);
		bad_gateway(res, "WeChat answered with an error status");
		goto out;
	}
	answer = json_parse_limited(hres.body, hres.body_len, 8);
	if (!cJSON_IsObject(answer)) {
		log_warn("jscode2session: the answer is not a JSON object");
		bad_gateway(res, "WeChat sent an unexpected answer");
		goto out;
	}
	errcode = cJSON_GetObjectItemCaseSensitive(answer, "errcode");
	if (errcode != NULL && !(cJSON_IsNumber(errcode) && errcode->valuedouble == 0)) {
		const char *msg = errmsg_copy(a, answer);
		long ec = cJSON_IsNumber(errcode) ? (long)errcode->valueint : 0;

		log_warn("jscode2session refused the code: errcode %ld", ec);
		if (ec == -1) {
			res_header_set(res, "Retry-After", WECHAT_BUSY_RETRY_S);
			res_errorf(res, 503, "wechat_busy", NULL,
			           "WeChat is busy, try again shortly: %s (%ld)", msg, ec);
			goto out;
		}
		res_header_set(res, "WWW-Authenticate", "Bearer");
		res_errorf(res, 401, "wechat_login_failed", NULL,
		           "WeChat refused the code: %s (%ld)", msg, ec);
		goto out;
	}
	s = answer_str(answer, "openid", WECHAT_OPENID_MAX);
	if (s == NULL) {
		log_warn("jscode2session: the answer has no usable openid");
		bad_gateway(res, "WeChat sent an unexpected answer");
		goto out;
	}
	*openid = arena_strdup(a, s);
	s = answer_str(answer, "unionid", WECHAT_UNIONID_MAX);
	*unionid = s ? arena_strdup(a, s) : NULL;
	rc = 0;
out:
	/* The answer holds session_key: it goes with the parsed tree, unread. */
	cJSON_Delete(answer);
	return rc;
}

/* POST /api/auth/wechat {code}. */
int wechat_login(struct req *req, struct res *res)
{
	const char *code, *openid = NULL, *unionid = NULL;
	const cJSON *body;

	if (cfg_appid == NULL || cfg_secret == NULL)
		return res_error(res, 503, "wechat_not_configured",
		                 "WeChat login is not configured (WECHAT_APPID, WECHAT_SECRET)",
		                 NULL);
	if (json_body(req, res, &body) != 0)
		return res->status;
	if (json_str(res, body, "code", true, 1, WECHAT_CODE_MAX, &code) != 0)
		return res->status;
	if (jscode2session(req, res, code, &openid, &unionid) != 0)
		return res->status;
	return user_sign_in(req, res, openid, unionid);
}

/* POST /api/auth/dev {openid}: routed only when WECHAT_DEV_LOGIN is on. */
int wechat_dev_login(struct req *req, struct res *res)
{
	const char *openid;
	const cJSON *body;

	if (!cfg_dev_login) /* not routed then; kept as a second lock */
		return res_error(res, 404, "not_found", "no such resource", NULL);
	if (json_body(req, res, &body) != 0)
		return res->status;
	if (json_str(res, body, "openid", true, 1, WECHAT_OPENID_MAX, &openid) != 0)
		return res->status;
	log_warn("development login (WECHAT_DEV_LOGIN)");
	return user_sign_in(req, res, openid, NULL);
}

/* POST /api/auth/wechat/logout: revokes the bearer's session. */
int wechat_logout(struct req *req, struct res *res)
{
	struct auth_user me;
	char uid[24];
	const char *params[2];
	long n;

	if (auth_require_user(req, res, &me) != 0)
		return res->status;
	snprintf(uid, sizeof(uid), "%lld", (long long)me.id);
	params[0] = me.session;
	params[1] = uid;
	n = db_exec(req->arena,
	            "UPDATE app_sessions SET revoked_at = now()"
	            " WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
	            2, params);
	if (n < 0)
		return db_fail(res);
	if (n == 0) { /* revoked by a concurrent logout */
		res_header_set(res, "WWW-Authenticate", "Bearer");
		return res_error(res, 401, "unauthorized", "invalid or expired session", NULL);
	}
	res_header_set(res, "Cache-Control", "no-store");
	return res_empty(res, 204);
}
