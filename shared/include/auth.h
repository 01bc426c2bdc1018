/* auth.h - signed session tokens, admin authentication and CSRF.
 *
 * A token is base64url(payload) "." base64url(HMAC-SHA256(APP_SECRET,
 * "tok1." payload)) where payload is "<kind>.<session id>.<subject id>.<expiry
 * epoch>"; kind is "a" (blog admin) or "w" (WeChat user, the album API). The
 * session id (32 hex) names a row (admin_sessions for admins): logout revokes
 * the row, so a token stops working before it expires.
 *
 * Admins present the token either as "Authorization: Bearer <token>" (API
 * clients; no CSRF check needed, a browser never adds it on its own) or in
 * the HttpOnly, SameSite=Strict cookie AUTH_COOKIE. A cookie-authenticated
 * request with an unsafe method (anything but GET/HEAD/OPTIONS) must also
 * carry the header "X-CSRF-Token: <auth_csrf_token(session id)>" (the
 * login response returns it, and GET /api/auth/me does too), else 403
 * csrf_failed.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct arena;
struct req;
struct res;

#define AUTH_COOKIE "session"
#define AUTH_CSRF_HEADER "X-CSRF-Token"

enum auth_kind { AUTH_ADMIN = 'a', AUTH_WECHAT = 'w' };

struct auth_token {
	enum auth_kind kind;
	char session[33];  /* 32 hex */
	int64_t subject;   /* admin_users.id / the WeChat user's id */
	time_t expires;
};

/* The token string for t (arena-owned); NULL when APP_SECRET is unset. */
char *auth_token_issue(struct arena *a, const struct auth_token *t);
/* 0 when s is a well-formed token with a valid MAC and not expired at now;
 * -1 otherwise (malformed, tampered, expired). Does not look at the DB. */
int auth_token_parse(const char *s, time_t now, struct auth_token *out);

/* A new random session id (32 hex + NUL). 0 / -1. */
int auth_session_new(char out[33]);

/* The CSRF token bound to a session: hex HMAC(APP_SECRET, "csrf." session). */
char *auth_csrf_token(struct arena *a, const char *session);

/* The signed-in admin of this request. */
struct auth_admin {
	int64_t id;
	const char *username;     /* arena-owned */
	const char *session;      /* arena-owned */
	bool via_cookie;
};

/* 0 and *out filled when the request carries a valid admin token whose
 * session exists, is not revoked and not expired (checked in admin_sessions),
 * and, for a cookie on an unsafe method, a matching X-CSRF-Token. Otherwise
 * fills res (401 unauthorized with WWW-Authenticate: Bearer, 403 csrf_failed,
 * or 503 when the database is down) and returns -1. */
int auth_require_admin(struct req *req, struct res *res, struct auth_admin *out);

/* The signed-in WeChat user of this request (the album API). */
struct auth_user {
	int64_t id;               /* app_users.id */
	const char *session;      /* arena-owned */
};

/* 0 and *out filled when "Authorization: Bearer <token>" carries a valid
 * AUTH_WECHAT token whose app_sessions row exists, is not revoked and not
 * expired; else fills res (401 unauthorized with WWW-Authenticate: Bearer,
 * or 503 when the database is down) and returns -1. No cookies: the
 * mini-program sends the header on every call. */
int auth_require_user(struct req *req, struct res *res, struct auth_user *out);

/* "Set-Cookie" value for the session cookie (max_age 0 clears it): HttpOnly;
 * SameSite=Strict; Path=/; Secure when the request came over HTTPS
 * (X-Forwarded-Proto: https, or the platform says so). */
char *auth_cookie(struct arena *a, const struct req *req, const char *token, long max_age);

/* Passwords: argon2id PHC strings ("$argon2id$v=19$m=32768,t=3,p=1$salt$hash",
 * 16-byte random salt, 32-byte hash; about 80 ms on one core). */

/* The PHC string for password (arena-owned); NULL on failure (logged). */
char *auth_password_hash(struct arena *a, const char *password);
/* true when password matches hash (an argon2id PHC string). hash NULL does
 * the same work against a dummy and returns false, so an unknown user costs
 * as much time as a wrong password. */
bool auth_password_verify(const char *hash, const char *password);

#endif
