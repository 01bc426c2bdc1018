/* auth.c - signed session tokens, admin authentication, CSRF and passwords.
 * See auth.h for the token format and the rules. */
#include "auth.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "req.h"
#include "res.h"

/* Tokens come from clients: refuse long ones before any work. A real one is
 * about 150 characters. */
#define AUTH_TOKEN_MAX 512
#define AUTH_MAC_LEN   32
#define AUTH_HEX_LEN   32


static const char *auth_secret(void)
{
	return g_cfg.app_secret;
}

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static bool session_ok(const char *s)
{
	return s != NULL && strnlen(s, AUTH_HEX_LEN + 1) == AUTH_HEX_LEN &&
	       is_lower_hex(s, AUTH_HEX_LEN);
}

/* MAC of "tok1." payload with the app secret. */
static void token_mac(const char *key, const char *payload, size_t n, unsigned char out[32])
{
	static const char prefix[] = "tok1.";
	char buf[AUTH_TOKEN_MAX + sizeof(prefix)];

	memcpy(buf, prefix, sizeof(prefix) - 1);
	memcpy(buf + sizeof(prefix) - 1, payload, n);
	crypto_hmac_sha256(key, strlen(key), buf, sizeof(prefix) - 1 + n, out);
}

char *auth_token_issue(struct arena *a, const struct auth_token *t)
{
	const char *key = auth_secret();
	unsigned char mac[AUTH_MAC_LEN];
	char payload[128];
	int n;

	if (key == NULL) {
		log_error("auth_token_issue: no APP_SECRET loaded");
		return NULL;
	}
	if (t == NULL || (t->kind != AUTH_ADMIN && t->kind != AUTH_WECHAT) ||
	    !session_ok(t->session) || t->subject < 0 || t->expires < 0) {
		log_error("auth_token_issue: invalid token fields");
		return NULL;
	}
	n = snprintf(payload, sizeof(payload), "%c.%s.%" PRId64 ".%lld", (char)t->kind, t->session,
	             t->subject, (long long)t->expires);
	if (n < 0 || (size_t)n >= sizeof(payload))
		return NULL;
	token_mac(key, payload, (size_t)n, mac);
	return arena_printf(a, "%s.%s", crypto_b64_encode(a, payload, (size_t)n, true),
	                    crypto_b64_encode(a, mac, sizeof(mac), true));
}

/* A canonical non-negative decimal (no sign, no leading zero) of s[0..n)
 * into *out. 0 / -1. */
static int parse_decimal(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;

	if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "<kind>.<32 hex>.<subject>.<expiry>" into *out. 0 / -1. */
static int parse_payload(const char *p, size_t n, struct auth_token *out)
{
	const char *start = p, *end = p + n, *dot;
	int64_t subject, expires;

	if (n < 2 + AUTH_HEX_LEN + 1 || (p[0] != AUTH_ADMIN && p[0] != AUTH_WECHAT) || p[1] != '.')
		return -1;
	if (!is_lower_hex(p + 2, AUTH_HEX_LEN) || p[2 + AUTH_HEX_LEN] != '.')
		return -1;
	p += 2 + AUTH_HEX_LEN + 1;
	dot = memchr(p, '.', (size_t)(end - p));
	if (dot == NULL || parse_decimal(p, (size_t)(dot - p), &subject) != 0)
		return -1;
	if (parse_decimal(dot + 1, (size_t)(end - dot - 1), &expires) != 0)
		return -1;
	if ((int64_t)(time_t)expires != expires)
		return -1;
	memset(out, 0, sizeof(*out));
	out->kind = (enum auth_kind)start[0];
	memcpy(out->session, start + 2, AUTH_HEX_LEN);
	out->session[AUTH_HEX_LEN] = '\0';
	out->subject = subject;
	out->expires = (time_t)expires;
	return 0;
}

int auth_token_parse(const char *s, time_t now, struct auth_token *out)
{
	const char *key = auth_secret();
	unsigned char want[AUTH_MAC_LEN];
	struct arena *a = NULL;
	struct auth_token t;
	unsigned char *payload, *mac;
	const char *dot;
	size_t len, plen, mlen;
	int rc = -1;

	if (key == NULL || s == NULL || out == NULL)
		return -1;
	len = strnlen(s, AUTH_TOKEN_MAX + 1);
	if (len > AUTH_TOKEN_MAX)
		return -1;
	dot = memchr(s, '.', len);
	if (dot == NULL || memchr(dot + 1, '.', len - (size_t)(dot - s) - 1) != NULL)
		return -1;
	/* Unpadded base64url only: one spelling per token. */
	if (memchr(s, '=', len) != NULL)
		return -1;
	a = arena_new();
	payload = crypto_b64_decode(a, s, (size_t)(dot - s), true, &plen);
	mac = crypto_b64_decode(a, dot + 1, len - (size_t)(dot - s) - 1, true, &mlen);
	if (payload == NULL || mac == NULL || mlen != AUTH_MAC_LEN || plen > AUTH_TOKEN_MAX)
		goto out;
	token_mac(key, (const char *)payload, plen, want);
	if (!crypto_equal(want, mac, AUTH_MAC_LEN))
		goto out;
	if (memchr(payload, '\0', plen) != NULL || parse_payload((const char *)payload, plen, &t))
		goto out;
	if (t.expires <= now)
		goto out;
	*out = t;
	rc = 0;
out:
	arena_free(a);
	return rc;
}

int auth_session_new(char out[33])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char raw[AUTH_HEX_LEN / 2];

	if (crypto_random(raw, sizeof(raw)) != 0) {
		log_error("auth_session_new: no randomness");
		return -1;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 15];
	}
	out[AUTH_HEX_LEN] = '\0';
	return 0;
}

char *auth_csrf_token(struct arena *a, const char *session)
{
	const char *key = auth_secret();
	unsigned char mac[32];
	char msg[8 + AUTH_HEX_LEN + 1];
	int n;

	if (key == NULL || session == NULL)
		return NULL;
	n = snprintf(msg, sizeof(msg), "csrf.%s", session);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return NULL;
	crypto_hmac_sha256(key, strlen(key), msg, (size_t)n, mac);
	return crypto_hex(a, mac, sizeof(mac));
}

/* ---- requests ----------------------------------------------------------------- */

static bool method_safe(const char *m)
{
	return m != NULL &&
	       (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0);
}

/* The token of "Authorization: Bearer <token>" (arena copy), or NULL when
 * the header is absent or another scheme. */
static const char *bearer_token(const struct req *req)
{
	const char *h = req_header(req, "authorization");
	size_t n;

	if (h == NULL)
		return NULL;
	while (*h == ' ' || *h == '\t')
		h++;
	if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return NULL;
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	n = strlen(h);
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	return arena_strndup(req->arena, h, n);
}

/* Is the Origin header (when present) this request's own host? Compared with
 * Host and X-Forwarded-Host, a default port on either side ignored. */
static bool origin_ok(const struct req *req)
{
	const char *origin = req_header(req, "origin");
	const char *hosts[2] = {req_header(req, "host"), req_header(req, "x-forwarded-host")};
	const char *o, *def_port;
	size_t on;

	if (origin == NULL)
		return true;
	if (strncasecmp(origin, "https://", 8) == 0) {
		o = origin + 8;
		def_port = ":443";
	} else if (strncasecmp(origin, "http://", 7) == 0) {
		o = origin + 7;
		def_port = ":80";
	} else {
		return false; /* "null" and anything odd */
	}
	on = strlen(o);
	if (on == 0 || memchr(o, '/', on) != NULL)
		return false;
	for (size_t i = 0; i < 2; i++) {
		const char *h = hosts[i];
		size_t hn, dn = strlen(def_port);

		if (h == NULL || *h == '\0')
			continue;
		hn = strlen(h);
		if (hn == on && strncasecmp(h, o, on) == 0)
			return true;
		/* "example.com:443" vs "https://example.com" and the reverse. */
		if (hn == on + dn && strncasecmp(h, o, on) == 0 && strcmp(h + on, def_port) == 0)
			return true;
		if (on == hn + dn && strncasecmp(h, o, hn) == 0 && strcmp(o + hn, def_port) == 0)
			return true;
	}
	return false;
}

static int unauthorized(struct res *res, const char *message)
{
	res_header_set(res, "WWW-Authenticate", "Bearer");
	return res_error(res, 401, "unauthorized", message, NULL);
}

/* The session a bearer token (or cookie) names: token parsed as kind and
 * its row looked up with sql ($1 session id, $2 user id; the first column the
 * user's id). 0 with *t, *row and *id filled; -1 with res filled (401 for no
 * token or a bad, expired or revoked one). */
static int session_check(struct req *req, struct res *res, const char *token,
                         enum auth_kind kind, const char *sql, struct auth_token *t,
                         PGresult **row, int64_t *id)
{
	char subject[24];
	const char *params[2];
	PGresult *r;
	char *end;
	long long v;

	if (token == NULL || *token == '\0') {
		unauthorized(res, "sign in required");
		return -1;
	}
	if (auth_token_parse(token, time(NULL), t) != 0 || t->kind != kind) {
		unauthorized(res, "invalid or expired session");
		return -1;
	}
	snprintf(subject, sizeof(subject), "%" PRId64, t->subject);
	params[0] = t->session;
	params[1] = subject;
	r = db_query(req->arena, sql, 2, params);
	if (r == NULL) {
		db_fail(res);
		return -1;
	}
	if (PQntuples(r) != 1) {
		unauthorized(res, "invalid or expired session");
		return -1;
	}
	errno = 0;
	v = strtoll(PQgetvalue(r, 0, 0), &end, 10);
	if (errno != 0 || *end != '\0' || (int64_t)v != t->subject) {
		res_error(res, 500, "internal_error", "internal error", NULL);
		return -1;
	}
	*row = r;
	*id = (int64_t)v;
	return 0;
}

int auth_require_admin(struct req *req, struct res *res, struct auth_admin *out)
{
	static const char sql[] = "SELECT u.id, u.username FROM admin_sessions s"
	                          " JOIN admin_users u ON u.id = s.user_id"
	                          " WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL"
	                          " AND s.expires_at > now()";
	const char *token = bearer_token(req);
	bool via_cookie = false;
	struct auth_token t;
	PGresult *r;
	int64_t id;

	if (token == NULL) {
		token = req_cookie(req, AUTH_COOKIE);
		via_cookie = true;
	}
	if (session_check(req, res, token, AUTH_ADMIN, sql, &t, &r, &id) != 0)
		return -1;
	if (via_cookie && !method_safe(req->method)) {
		const char *want = auth_csrf_token(req->arena, t.session);
		const char *got = req_header(req, AUTH_CSRF_HEADER);

		if (want == NULL || got == NULL || strlen(got) != strlen(want) ||
		    !crypto_equal(got, want, strlen(want))) {
			res_error(res, 403, "csrf_failed", "missing or wrong " AUTH_CSRF_HEADER,
			          NULL);
			return -1;
		}
		if (!origin_ok(req)) {
			res_error(res, 403, "csrf_failed", "cross-origin request refused", NULL);
			return -1;
		}
	}
	out->id = id;
	out->username = arena_strdup(req->arena, PQgetvalue(r, 0, 1));
	out->session = arena_strdup(req->arena, t.session);
	out->via_cookie = via_cookie;
	return 0;
}

int auth_require_user(struct req *req, struct res *res, struct auth_user *out)
{
	/* One round trip: the session row and its user, both still there. */
	static const char sql[] = "SELECT u.id FROM app_sessions s"
	                          " JOIN app_users u ON u.id = s.user_id"
	                          " WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL"
	                          " AND s.expires_at > now()";
	struct auth_token t;
	PGresult *r;
	int64_t id;

	if (session_check(req, res, bearer_token(req), AUTH_WECHAT, sql, &t, &r, &id) != 0)
		return -1;
	out->id = id;
	out->session = arena_strdup(req->arena, t.session);
	return 0;
}

/* Did the request reach the platform over HTTPS? The first entry of
 * X-Forwarded-Proto (API Gateway, load balancers and the like set it). */
static bool request_https(const struct req *req)
{
	const char *p = req_header(req, "x-forwarded-proto");

	if (p == NULL)
		return false;
	while (*p == ' ')
		p++;
	return strncasecmp(p, "https", 5) == 0 && (p[5] == '\0' || p[5] == ',' || p[5] == ' ');
}

char *auth_cookie(struct arena *a, const struct req *req, const char *token, long max_age)
{
	if (max_age <= 0 || token == NULL) {
		max_age = 0;
		token = "";
	}
	return arena_printf(a, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s",
	                    AUTH_COOKIE, token, max_age,
	                    req && request_https(req) ? "; Secure" : "");
}
