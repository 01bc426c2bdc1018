/* test_auth.c - session tokens (round trip, tampering, malformed, expiry,
 * kinds), CSRF tokens, session ids, cookies, passwords, and the parts of
 * auth_require_admin and auth_require_user that decide before the database.
 * The database half of auth_require_admin is covered by
 * tests/integration/test_blog_auth.py; that of auth_require_user here, in the
 * "auth_db" group, against DATABASE_URL (temporary app_users/app_sessions
 * tables shaped like sql/007_albums.sql's), and through the WeChat logout
 * route in tests/integration/test_album_auth.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "auth.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "req.h"
#include "res.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

static const char key1[] = "unit-test-secret-0123456789abcdef";
static const char key2[] = "another-secret-0123456789abcdefgh";
static const char sess1[] = "0123456789abcdef0123456789abcdef";
static const char sess2[] = "fedcba9876543210fedcba9876543210";

#define NOW ((time_t)1800000000)

static int setup(void **state)
{
	(void)state;
	g_cfg.app_secret = key1;
	/* Nothing here may reach a database; if it tries, it fails fast. */
	g_cfg.database_url = "postgresql://127.0.0.1:1/none";
	g_cfg.db_connect_timeout_s = 1;
	return 0;
}

/* A token as auth.h defines it, built independently with any key and any
 * payload text (for forged and non-canonical tokens). */
static char *forge(struct arena *a, const char *key, const char *payload)
{
	unsigned char mac[32];
	char *msg = arena_printf(a, "tok1.%s", payload);

	crypto_hmac_sha256(key, strlen(key), msg, strlen(msg), mac);
	return arena_printf(a, "%s.%s", crypto_b64_encode(a, payload, strlen(payload), true),
	                    crypto_b64_encode(a, mac, 32, true));
}

static struct auth_token tok(enum auth_kind kind, const char *session, int64_t subject,
                             time_t expires)
{
	struct auth_token t;

	memset(&t, 0, sizeof(t));
	t.kind = kind;
	snprintf(t.session, sizeof(t.session), "%s", session);
	t.subject = subject;
	t.expires = expires;
	return t;
}

static void test_roundtrip(void **state)
{
	const struct auth_token cases[] = {
	        tok(AUTH_ADMIN, sess1, 1, NOW + 3600),
	        tok(AUTH_ADMIN, sess2, 42, NOW + 1),
	        tok(AUTH_WECHAT, sess1, 0, NOW + 86400),
	        tok(AUTH_WECHAT, sess2, INT64_MAX, (time_t)4102444800),
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		const struct auth_token *t = &cases[i];
		char *s = auth_token_issue(a, t);
		char *payload = arena_printf(a, "%c.%s.%" PRId64 ".%lld", (char)t->kind, t->session,
		                             t->subject, (long long)t->expires);
		struct auth_token got;

		assert_non_null(s);
		/* The documented format, byte for byte. */
		assert_string_equal(s, forge(a, key1, payload));
		/* Cookie- and header-safe: base64url and one dot. */
		assert_int_equal(strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                           "0123456789-_."),
		                 strlen(s));
		memset(&got, 0x55, sizeof(got));
		assert_int_equal(auth_token_parse(s, NOW, &got), 0);
		assert_int_equal(got.kind, t->kind);
		assert_string_equal(got.session, t->session);
		assert_int_equal(got.subject, t->subject);
		assert_int_equal(got.expires, t->expires);
	}
	arena_free(a);
}

static void test_issue_rejects_bad_fields(void **state)
{
	const struct auth_token cases[] = {
	        tok((enum auth_kind)'x', sess1, 1, NOW),
	        tok(AUTH_ADMIN, "0123456789ABCDEF0123456789abcdef", 1, NOW), /* upper case */
	        tok(AUTH_ADMIN, "0123456789abcdef", 1, NOW),                 /* short */
	        tok(AUTH_ADMIN, "0123456789abcdef0123456789abcdeg", 1, NOW), /* not hex */
	        tok(AUTH_ADMIN, sess1, -1, NOW),
	        tok(AUTH_ADMIN, sess1, 1, -5),
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		assert_null(auth_token_issue(a, &cases[i]));
	assert_null(auth_token_issue(a, NULL));
	arena_free(a);
}

/* Flipping any single character of the token (payload, dot or MAC) breaks it. */
static void test_tampered_every_char(void **state)
{
	struct auth_token t = tok(AUTH_ADMIN, sess1, 7, NOW + 60), got;
	struct arena *a = arena_new();
	char *s = auth_token_issue(a, &t);
	size_t n = strlen(s);

	(void)state;
	assert_int_equal(auth_token_parse(s, NOW, &got), 0);
	for (size_t i = 0; i < n; i++) {
		char *m = arena_strdup(a, s);

		m[i] = m[i] == 'A' ? 'B' : 'A';
		if (auth_token_parse(m, NOW, &got) == 0)
			fail_msg("tampered at %zu still accepted: %s", i, m);
	}
	arena_free(a);
}

/* Each part replaced by another valid-looking part: re-encoded payloads with a
 * different kind, session, subject or expiry under the old MAC, a MAC from
 * another token, a token signed with another key. */
static void test_tampered_parts(void **state)
{
	struct auth_token t = tok(AUTH_ADMIN, sess1, 7, NOW + 60), got;
	struct arena *a = arena_new();
	char *good = auth_token_issue(a, &t);
	const char *mac = strchr(good, '.') + 1;
	const char *payloads[] = {
	        "w.0123456789abcdef0123456789abcdef.7.1800000060",
	        "a.fedcba9876543210fedcba9876543210.7.1800000060",
	        "a.0123456789abcdef0123456789abcdef.8.1800000060",
	        "a.0123456789abcdef0123456789abcdef.7.1900000060",
	};
	struct auth_token other = tok(AUTH_ADMIN, sess2, 7, NOW + 60);
	char *other_s = auth_token_issue(a, &other);

	(void)state;
	for (size_t i = 0; i < N(payloads); i++) {
		char *m = arena_printf(a, "%s.%s",
		                       crypto_b64_encode(a, payloads[i], strlen(payloads[i]), true),
		                       mac);

		assert_int_equal(auth_token_parse(m, NOW, &got), -1);
	}
	/* Payload of one token with the MAC of another. */
	assert_int_equal(auth_token_parse(arena_printf(a, "%.*s.%s", (int)(mac - good - 1), good,
	                                               strchr(other_s, '.') + 1),
	                                  NOW, &got),
	                 -1);
	/* Signed with another key; the MAC without the "tok1." prefix. */
	assert_int_equal(auth_token_parse(forge(a, key2,
	                                        "a.0123456789abcdef0123456789abcdef.7."
	                                        "1800000060"),
	                                  NOW, &got),
	                 -1);
	{
		const char *p = "a.0123456789abcdef0123456789abcdef.7.1800000060";
		unsigned char raw[32];

		crypto_hmac_sha256(key1, strlen(key1), p, strlen(p), raw);
		assert_int_equal(
		        auth_token_parse(arena_printf(a, "%s.%s",
		                                      crypto_b64_encode(a, p, strlen(p), true),
		                                      crypto_b64_encode(a, raw, 32, true)),
		                         NOW, &got),
		        -1);
	}
	/* Another APP_SECRET (a rotated key): earlier tokens stop working. */
	g_cfg.app_secret = key2;
	assert_int_equal(auth_token_parse(good, NOW, &got), -1);
	g_cfg.app_secret = key1;
	assert_int_equal(auth_token_parse(good, NOW, &got), 0);
	arena_free(a);
}

/* Correctly signed, but the payload is not canonical: refused all the same. */
static void test_signed_bad_payload(void **state)
{
	static const char *const payloads[] = {
	        "",
	        "a",
	        "x.0123456789abcdef0123456789abcdef.7.1800000060",  /* kind */
	        "A.0123456789abcdef0123456789abcdef.7.1800000060",  /* kind case */
	        "a.0123456789ABCDEF0123456789abcdef.7.1800000060",  /* hex case */
	        "a.0123456789abcdef0123456789abcde.7.1800000060",   /* 31 hex */
	        "a.0123456789abcdef0123456789abcdef0.7.1800000060", /* 33 hex */
	        "a.0123456789abcdef0123456789abcdef.07.1800000060", /* leading zero */
	        "a.0123456789abcdef0123456789abcdef.-7.1800000060", /* sign */
	        "a.0123456789abcdef0123456789abcdef.+7.1800000060",
	        "a.0123456789abcdef0123456789abcdef. 7.1800000060",
	        "a.0123456789abcdef0123456789abcdef..1800000060",   /* empty subject */
	        "a.0123456789abcdef0123456789abcdef.7.",            /* empty expiry */
	        "a.0123456789abcdef0123456789abcdef.7",             /* missing expiry */
	        "a.0123456789abcdef0123456789abcdef.7.1800000060.", /* extra field */
	        "a.0123456789abcdef0123456789abcdef.7.1800000060x",
	        "a.0123456789abcdef0123456789abcdef.9223372036854775808.1800000060", /* > int64 */
	        "a.0123456789abcdef0123456789abcdef.7.99999999999999999999",
	        "a_0123456789abcdef0123456789abcdef.7.1800000060",
	};
	struct arena *a = arena_new();
	struct auth_token got;

	(void)state;
	/* The control: the canonical form of the same token is accepted. */
	assert_int_equal(auth_token_parse(forge(a, key1,
	                                        "a.0123456789abcdef0123456789abcdef.7."
	                                        "1800000060"),
	                                  NOW, &got),
	                 0);
	for (size_t i = 0; i < N(payloads); i++) {
		if (auth_token_parse(forge(a, key1, payloads[i]), NOW, &got) == 0)
			fail_msg("accepted payload \"%s\"", payloads[i]);
	}
	arena_free(a);
}

static void test_malformed(void **state)
{
	struct auth_token t = tok(AUTH_ADMIN, sess1, 7, NOW + 60), got;
	struct arena *a = arena_new();
	char *good = auth_token_issue(a, &t);
	char *dot = strchr(good, '.');
	char big[2048];
	const char *cases[] = {
	        "",
	        ".",
	        "abc",
	        arena_printf(a, "%s.", good), /* two dots */
	        arena_printf(a, ".%s", good),
	        arena_printf(a, "%.*s", (int)(dot - good), good), /* no MAC */
	        arena_printf(a, "%s", dot + 1),                   /* no payload */
	        arena_printf(a, "%s=", good),                     /* padding */
	        arena_printf(a, "%s ", good),                     /* trailing space */
	        arena_printf(a, " %s", good),
	        arena_printf(a, "%.*s+%s", (int)(dot - good - 1), good, dot), /* std alphabet */
	        arena_printf(a, "%s.%s", crypto_b64_encode(a, "a.x", 3, true), dot + 1),
	        arena_printf(a, "%.*s", (int)(strlen(good) - 2), good), /* short MAC */
	        big,
	};

	(void)state;
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[100] = '.';
	for (size_t i = 0; i < N(cases); i++) {
		if (auth_token_parse(cases[i], NOW, &got) == 0)
			fail_msg("accepted case %zu: %s", i, cases[i]);
	}
	assert_int_equal(auth_token_parse(NULL, NOW, &got), -1);
	assert_int_equal(auth_token_parse(good, NOW, &got), 0);
	arena_free(a);
}

static void test_expiry(void **state)
{
	struct auth_token t = tok(AUTH_ADMIN, sess1, 7, NOW), got;
	struct arena *a = arena_new();
	char *s = auth_token_issue(a, &t);

	(void)state;
	assert_int_equal(auth_token_parse(s, NOW - 1, &got), 0);
	assert_int_equal(auth_token_parse(s, NOW, &got), -1); /* expires is exclusive */
	assert_int_equal(auth_token_parse(s, NOW + 1, &got), -1);
	assert_int_equal(auth_token_parse(s, NOW + 86400 * 365, &got), -1);
	arena_free(a);
}

static void test_no_secret(void **state)
{
	struct auth_token t = tok(AUTH_ADMIN, sess1, 7, NOW + 60), got;
	struct arena *a = arena_new();
	char *s = auth_token_issue(a, &t);

	(void)state;
	g_cfg.app_secret = NULL;
	assert_null(auth_token_issue(a, &t));
	assert_int_equal(auth_token_parse(s, NOW, &got), -1);
	assert_null(auth_csrf_token(a, sess1));
	g_cfg.app_secret = key1;
	arena_free(a);
}

static bool all_hex(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

static void test_session_new(void **state)
{
	char s1[33], s2[33];

	(void)state;
	memset(s1, 'x', sizeof(s1));
	assert_int_equal(auth_session_new(s1), 0);
	assert_int_equal(auth_session_new(s2), 0);
	assert_true(all_hex(s1, 32));
	assert_true(all_hex(s2, 32));
	assert_string_not_equal(s1, s2);
}

static void test_csrf(void **state)
{
	struct arena *a = arena_new();
	unsigned char mac[32];
	char *c1 = auth_csrf_token(a, sess1);

	(void)state;
	assert_non_null(c1);
	assert_true(all_hex(c1, 64));
	/* Deterministic per session, and exactly hex HMAC(secret, "csrf." session). */
	assert_string_equal(c1, auth_csrf_token(a, sess1));
	crypto_hmac_sha256(key1, strlen(key1), "csrf.0123456789abcdef0123456789abcdef", 37, mac);
	assert_string_equal(c1, crypto_hex(a, mac, 32));
	/* Different sessions, different tokens; another secret, another token. */
	assert_string_not_equal(c1, auth_csrf_token(a, sess2));
	g_cfg.app_secret = key2;
	assert_string_not_equal(c1, auth_csrf_token(a, sess1));
	g_cfg.app_secret = key1;
	arena_free(a);
}

static struct req *new_req(struct arena *a, const char *method, const char *const *headers)
{
	struct req *r = arena_alloc(a, sizeof(*r));

	req_init(r, a);
	req_set_method(r, method);
	assert_int_equal(req_set_target(r, "/api/auth/me", NULL), 0);
	for (size_t i = 0; headers && headers[i]; i += 2)
		req_add_header(r, headers[i], headers[i + 1]);
	return r;
}

static void test_cookie(void **state)
{
	static const struct {
		const char *proto; /* X-Forwarded-Proto, NULL: none */
		bool secure;
	} cases[] = {
	        {NULL, false},         {"http", false},        {"https", true},   {"HTTPS", true},
	        {"https, http", true}, {"http, https", false}, {"httpsx", false}, {"", false},
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		const char *h[] = {"X-Forwarded-Proto", cases[i].proto, NULL};
		struct req *r = new_req(a, "POST", cases[i].proto ? h : NULL);
		char *c = auth_cookie(a, r, "tok.en", 3600);
		const char *want =
		        cases[i].secure
		                ? "session=tok.en; Path=/; HttpOnly; SameSite=Strict; "
		                  "Max-Age=3600; "
		                  "Secure"
		                : "session=tok.en; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600";

		assert_string_equal(c, want);
	}
	{
		struct req *r = new_req(a, "POST", NULL);

		/* Clearing: empty value, Max-Age=0, the same attributes. */
		assert_string_equal(auth_cookie(a, r, NULL, 0),
		                    "session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
		assert_string_equal(auth_cookie(a, r, "x", 0),
		                    "session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
	}
	arena_free(a);
}

static void test_password(void **state)
{
	struct arena *a = arena_new();
	const char *pw = "correct horse 电池 staple 🐴";
	char *h1 = auth_password_hash(a, pw);
	char *h2 = auth_password_hash(a, pw);

	(void)state;
	assert_non_null(h1);
	assert_non_null(h2);
	assert_true(strncmp(h1, "$argon2id$v=19$m=32768,t=3,p=1$", 31) == 0);
	assert_string_not_equal(h1, h2); /* random salt */
	assert_true(auth_password_verify(h1, pw));
	assert_true(auth_password_verify(h2, pw));
	assert_false(auth_password_verify(h1, "correct horse 电池 staple"));
	assert_false(auth_password_verify(h1, ""));
	assert_false(auth_password_verify(NULL, pw));
	assert_false(auth_password_verify("$argon2i$v=19$m=32768,t=3,p=1$c2FsdHNhbHQ$abc", pw));
	assert_false(auth_password_verify("not a hash", pw));
	arena_free(a);
}

/* {"error":{"code":code,...}} with status. */
static void check_error(const struct res *r, int status, const char *code)
{
	cJSON *root = cJSON_ParseWithLength(r->body, r->body_len);
	cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");

	if (r->status != status)
		fail_msg("status %d, want %d (%.*s)", r->status, status, (int)r->body_len, r->body);
	assert_non_null(err);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(err, "code")->valuestring, code);
	cJSON_Delete(root);
}

/* Requests that are refused before the session lookup: no token, a bad
 * token, an expired one, a WeChat token, and another Authorization scheme. */
static void test_require_admin_without_db(void **state)
{
	struct arena *a = arena_new();
	struct auth_token tw = tok(AUTH_WECHAT, sess1, 7, time(NULL) + 600);
	struct auth_token te = tok(AUTH_ADMIN, sess1, 7, time(NULL) - 1);
	const char *wechat = auth_token_issue(a, &tw);
	const char *expired = auth_token_issue(a, &te);
	const char *bearer_w = arena_printf(a, "Bearer %s", wechat);
	const char *bearer_e = arena_printf(a, "bearer  %s", expired);
	const char *cookie_w = arena_printf(a, "session=%s", wechat);
	const char *const cases[][5] = {
	        {NULL},
	        {"Authorization", "Bearer", NULL},
	        {"Authorization", "Bearer ", NULL},
	        {"Authorization", "Bearer not-a-token", NULL},
	        {"Authorization", bearer_w, NULL},
	        {"Authorization", bearer_e, NULL},
	        {"Cookie", cookie_w, NULL},
	        {"Cookie", "session=", NULL},
	        {"Cookie", "other=1", NULL},
	        {"Authorization", "Basic dXNlcjpwYXNz", NULL},
	        /* A bad bearer token is not rescued by the cookie, nor the reverse. */
	        {"Authorization", "Bearer junk", "Cookie", cookie_w, NULL},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct req *r = new_req(a, i % 2 ? "GET" : "POST", cases[i]);
		struct res res;
		struct auth_admin me;

		res_init(&res, a);
		assert_int_equal(auth_require_admin(r, &res, &me), -1);
		check_error(&res, 401, "unauthorized");
		assert_string_equal(kv_get(&res.headers, "WWW-Authenticate"), "Bearer");
	}
	arena_free(a);
}

/* auth_require_user before (or without) the database: no token, a cookie
 * (never accepted), other schemes, bad, expired and admin tokens. */
static void test_require_user_without_db(void **state)
{
	struct arena *a = arena_new();
	struct auth_token tw = tok(AUTH_WECHAT, sess1, 7, time(NULL) + 600);
	struct auth_token ta = tok(AUTH_ADMIN, sess1, 7, time(NULL) + 600);
	struct auth_token te = tok(AUTH_WECHAT, sess1, 7, time(NULL) - 1);
	const char *wechat = auth_token_issue(a, &tw);
	const char *bearer_a = arena_printf(a, "Bearer %s", auth_token_issue(a, &ta));
	const char *bearer_e = arena_printf(a, "Bearer %s", auth_token_issue(a, &te));
	const char *cookie_w = arena_printf(a, "session=%s", wechat);
	const char *basic_w = arena_printf(a, "Basic %s", wechat);
	const char *const cases[][5] = {
	        {NULL},
	        {"Authorization", "Bearer", NULL},
	        {"Authorization", "Bearer ", NULL},
	        {"Authorization", "Bearer not-a-token", NULL},
	        {"Authorization", bearer_a, NULL},
	        {"Authorization", bearer_e, NULL},
	        {"Authorization", basic_w, NULL},
	        {"Authorization", wechat, NULL},
	        {"Cookie", cookie_w, NULL},
	        {"Authorization", "Bearer junk", "Cookie", cookie_w, NULL},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct req *r = new_req(a, i % 2 ? "GET" : "POST", cases[i]);
		struct res res;
		struct auth_user me = {-1, NULL};

		res_init(&res, a);
		if (auth_require_user(r, &res, &me) != -1)
			fail_msg("case %zu accepted", i);
		check_error(&res, 401, "unauthorized");
		assert_string_equal(kv_get(&res.headers, "WWW-Authenticate"), "Bearer");
		assert_int_equal(me.id, -1);
	}
	/* A well-formed token, but the database is down: 503, not 401. */
	{
		const char *h[] = {"Authorization", arena_printf(a, "Bearer %s", wechat), NULL};
		struct req *r = new_req(a, "GET", h);
		struct res res;
		struct auth_user me;

		res_init(&res, a);
		assert_int_equal(auth_require_user(r, &res, &me), -1);
		check_error(&res, 503, "db_unavailable");
		assert_null(kv_get(&res.headers, "WWW-Authenticate"));
		db_close();
	}
	arena_free(a);
}

/* ---- auth_require_user against a database (DATABASE_URL) ---- */

static int64_t user1, user2;

static int64_t insert_user(struct arena *a, const char *openid)
{
	const char *params[1] = {openid};
	PGresult *r =
	        db_query(a, "INSERT INTO app_users (openid) VALUES ($1) RETURNING id", 1, params);

	assert_non_null(r);
	return strtoll(PQgetvalue(r, 0, 0), NULL, 10);
}

/* An app_sessions row; expires_s from now (negative: in the past). */
static void insert_session(struct arena *a, const char *id, int64_t user, long expires_s,
                           bool revoked)
{
	const char *params[4] = {id, arena_printf(a, "%" PRId64, user),
	                         arena_printf(a, "%ld", expires_s), revoked ? "1" : NULL};

	assert_int_equal(db_exec(a,
	                         "INSERT INTO app_sessions (id, user_id, expires_at, revoked_at)"
	                         " VALUES ($1, $2, now() + make_interval(secs => $3::int),"
	                         " CASE WHEN $4::text IS NULL THEN NULL ELSE now() END)",
	                         4, params),
	                 1);
}

static int db_setup(void **state)
{
	struct arena *a = arena_new();
	const char *url = getenv("DATABASE_URL");
	int rc = -1;

	(void)state;
	g_cfg.app_secret = key1;
	if (url == NULL || *url == '\0') {
		fprintf(stderr, "test_auth: DATABASE_URL is not set\n");
		goto out;
	}
	db_close();
	g_cfg.database_url = url;
	g_cfg.db_connect_timeout_s = 5;
	/* Temporary tables (first on the search path) shaped like 007_albums.sql's. */
	if (db_exec(a,
	            "CREATE TEMP TABLE app_users ("
	            " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	            " openid text NOT NULL UNIQUE)",
	            0, NULL) < 0 ||
	    db_exec(a,
	            "CREATE TEMP TABLE app_sessions ("
	            " id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),"
	            " user_id bigint NOT NULL REFERENCES app_users (id) ON DELETE CASCADE,"
	            " created_at timestamptz NOT NULL DEFAULT now(),"
	            " expires_at timestamptz NOT NULL, revoked_at timestamptz)",
	            0, NULL) < 0)
		goto out;
	user1 = insert_user(a, "openid-one");
	user2 = insert_user(a, "openid-two");
	insert_session(a, "11111111111111111111111111111111", user1, 3600, false); /* valid */
	insert_session(a, "22222222222222222222222222222222", user1, 3600, true);  /* revoked */
	insert_session(a, "33333333333333333333333333333333", user1, -10, false);  /* expired */
	insert_session(a, "44444444444444444444444444444444", user2, 3600, false); /* valid */
	rc = 0;
out:
	arena_free(a);
	return rc;
}

static int db_teardown(void **state)
{
	(void)state;
	db_rollback();
	db_close();
	return 0;
}

/* Runs auth_require_user with "Authorization: Bearer <token>". */
static int require_user(struct arena *a, const char *token, struct res *res, struct auth_user *me)
{
	const char *h[] = {"Authorization", arena_printf(a, "Bearer %s", token), NULL};
	struct req *r = new_req(a, "DELETE", h);

	res_init(res, a);
	return auth_require_user(r, res, me);
}

static void test_require_user_valid(void **state)
{
	struct arena *a = arena_new();
	struct auth_token t1 =
	        tok(AUTH_WECHAT, "11111111111111111111111111111111", user1, time(NULL) + 600);
	struct auth_token t2 =
	        tok(AUTH_WECHAT, "44444444444444444444444444444444", user2, time(NULL) + 600);
	struct auth_user me;
	struct res res;

	(void)state;
	memset(&me, 0, sizeof(me));
	assert_int_equal(require_user(a, auth_token_issue(a, &t1), &res, &me), 0);
	assert_int_equal(me.id, user1);
	assert_string_equal(me.session, "11111111111111111111111111111111");
	assert_int_equal(res.status, 0); /* nothing written for the handler to undo */
	assert_int_equal(require_user(a, auth_token_issue(a, &t2), &res, &me), 0);
	assert_int_equal(me.id, user2);
	assert_string_equal(me.session, "44444444444444444444444444444444");
	arena_free(a);
}

/* Correctly signed tokens the database refuses, and tampered ones. */
static void test_require_user_refused(void **state)
{
	struct arena *a = arena_new();
	time_t later = time(NULL) + 600;
	const struct {
		const char *name;
		struct auth_token t;
	} cases[] = {
	        {"revoked session",
	         tok(AUTH_WECHAT, "22222222222222222222222222222222", user1, later)},
	        {"expired session row",
	         tok(AUTH_WECHAT, "33333333333333333333333333333333", user1, later)},
	        {"no such session",
	         tok(AUTH_WECHAT, "55555555555555555555555555555555", user1, later)},
	        /* user2's live session named with user1's id, and the reverse */
	        {"session of another user",
	         tok(AUTH_WECHAT, "44444444444444444444444444444444", user1, later)},
	        {"subject of another user",
	         tok(AUTH_WECHAT, "11111111111111111111111111111111", user2, later)},
	        {"no such user",
	         tok(AUTH_WECHAT, "11111111111111111111111111111111", 999999, later)},
	        /* an admin token naming a live app session */
	        {"admin kind", tok(AUTH_ADMIN, "11111111111111111111111111111111", user1, later)},
	};
	struct auth_token good = tok(AUTH_WECHAT, "11111111111111111111111111111111", user1, later);
	const char *good_s = auth_token_issue(a, &good);
	struct auth_user me;
	struct res res;

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		if (require_user(a, auth_token_issue(a, &cases[i].t), &res, &me) != -1)
			fail_msg("accepted: %s", cases[i].name);
		check_error(&res, 401, "unauthorized");
		assert_string_equal(kv_get(&res.headers, "WWW-Authenticate"), "Bearer");
	}
	/* The good token with any one character changed; the same payload under
	 * another key. */
	for (size_t i = 0; good_s[i] != '\0'; i++) {
		char *m = arena_strdup(a, good_s);

		m[i] = m[i] == 'A' ? 'B' : 'A';
		if (require_user(a, m, &res, &me) != -1)
			fail_msg("tampered at %zu accepted", i);
		check_error(&res, 401, "unauthorized");
	}
	assert_int_equal(
	        require_user(
	                a,
	                forge(a, key2,
	                      arena_printf(a, "w.11111111111111111111111111111111.%" PRId64 ".%lld",
	                                   user1, (long long)later)),
	                &res, &me),
	        -1);
	check_error(&res, 401, "unauthorized");
	/* The control: the untouched token still works. */
	assert_int_equal(require_user(a, good_s, &res, &me), 0);
	arena_free(a);
}

/* Revoking or expiring the row, or deleting the user, ends a token at once. */
static void test_require_user_follows_the_row(void **state)
{
	struct arena *a = arena_new();
	struct auth_token t =
	        tok(AUTH_WECHAT, "66666666666666666666666666666666", user2, time(NULL) + 600);
	const char *s = auth_token_issue(a, &t);
	const char *params[1] = {"66666666666666666666666666666666"};
	struct auth_user me;
	struct res res;

	(void)state;
	insert_session(a, params[0], user2, 3600, false);
	assert_int_equal(require_user(a, s, &res, &me), 0);
	assert_int_equal(
	        db_exec(a, "UPDATE app_sessions SET revoked_at = now() WHERE id = $1", 1, params),
	        1);
	assert_int_equal(require_user(a, s, &res, &me), -1);
	check_error(&res, 401, "unauthorized");
	assert_int_equal(db_exec(a,
	                         "UPDATE app_sessions SET revoked_at = NULL,"
	                         " expires_at = now() - interval '1 second' WHERE id = $1",
	                         1, params),
	                 1);
	assert_int_equal(require_user(a, s, &res, &me), -1);
	check_error(&res, 401, "unauthorized");
	assert_int_equal(db_exec(a,
	                         "UPDATE app_sessions SET expires_at = now() + interval '1 hour'"
	                         " WHERE id = $1",
	                         1, params),
	                 1);
	assert_int_equal(require_user(a, s, &res, &me), 0);
	{
		const char *p_user[1] = {arena_printf(a, "%" PRId64, user2)};

		assert_int_equal(db_exec(a, "DELETE FROM app_users WHERE id = $1", 1, p_user), 1);
	}
	assert_int_equal(require_user(a, s, &res, &me), -1);
	check_error(&res, 401, "unauthorized");
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_roundtrip),
	        cmocka_unit_test(test_issue_rejects_bad_fields),
	        cmocka_unit_test(test_tampered_every_char),
	        cmocka_unit_test(test_tampered_parts),
	        cmocka_unit_test(test_signed_bad_payload),
	        cmocka_unit_test(test_malformed),
	        cmocka_unit_test(test_expiry),
	        cmocka_unit_test(test_no_secret),
	        cmocka_unit_test(test_session_new),
	        cmocka_unit_test(test_csrf),
	        cmocka_unit_test(test_cookie),
	        cmocka_unit_test(test_password),
	        cmocka_unit_test(test_require_admin_without_db),
	        cmocka_unit_test(test_require_user_without_db),
	};
	const struct CMUnitTest db_tests[] = {
	        cmocka_unit_test(test_require_user_valid),
	        cmocka_unit_test(test_require_user_refused),
	        cmocka_unit_test(test_require_user_follows_the_row),
	};
	int failed;

	failed = cmocka_run_group_tests_name("auth", tests, setup, NULL);
	failed += cmocka_run_group_tests_name("auth_db", db_tests, db_setup, db_teardown);
	return failed ? 1 : 0;
}
