"""WeChat sign-in for the album API against a real PostgreSQL and a stand-in
for WeChat's jscode2session (a local HTTP server answering in its documented
format: {openid, session_key, unionid?} or {errcode, errmsg}, HTTP 200 and
text/plain either way, as WeChat does).

Covered: login creates the user once (same openid twice -> same id, two
sessions; unionid kept when WeChat omits it), the token (kind "w", the
session row, WECHAT_SESSION_DAYS), session_key never in a response nor in
the function's log (nor the AppSecret or the code), what the stand-in
received (appid, secret, js_code, grant_type percent-encoded: + & = / and
Chinese survive), errcode answers (40029, 45011, 40226 -> 401 quoting errmsg;
-1 -> 503 with Retry-After), odd answers and WeChat down or slow (502, within
about HTTP_TIMEOUT_MS), validation, unconfigured (503), the development
login (404 unless WECHAT_DEV_LOGIN is on), logout through auth_require_user
(revokes the row; a revoked, forged, admin-kind or missing token is 401),
the database down (503) and bad WECHAT_* values stopping the function.

Runs in a database of its own."""
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import b64url, forge, lit, tap, token_fields  # noqa: E402

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
APPID = "wx5f2a1c0d9e8b7a63"
# Characters that break a query string unless each value is percent-encoded.
SECRET = "s3cr&t=+/?# 秘密%41"
ODD_CODE = "0a1+b&c=d/e?f#g%41 码~"

DB_NAME = f"album_auth_{os.getpid()}"
URL = lib.fresh_database(DB_NAME)


def q(sql):
    return lib.psql(sql, url=URL)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


# ---- a stand-in for api.weixin.qq.com ---------------------------------------------


class WeChat:
    """Answers GET /sns/jscode2session from .answers (js_code -> JSON object,
    or one of the strings "slow", "http500", "notjson"); an unknown code gets
    errcode 40029. Every request is kept in .calls as (raw query, parsed
    query). Each success carries a fresh session_key, kept in .session_keys."""

    def __init__(self):
        self.answers = {}
        self.calls = []
        self.session_keys = []
        self.lock = threading.Lock()
        wx = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body, ctype="text/plain"):
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                path, _, raw = self.path.partition("?")
                if path != "/sns/jscode2session":
                    return self.reply(404, '{"errcode":404,"errmsg":"no such api"}')
                try:
                    parsed = urllib.parse.parse_qs(raw, keep_blank_values=True,
                                                   strict_parsing=True, errors="strict")
                except ValueError:
                    parsed = {}
                with wx.lock:
                    wx.calls.append((raw, parsed))
                code = (parsed.get("js_code") or [""])[0]
                ans = wx.answers.get(code)
                if ans == "slow":
                    time.sleep(3)
                    ans = {"openid": "o-slow"}
                if ans == "http500":
                    return self.reply(500, "upstream trouble")
                if ans == "notjson":
                    return self.reply(200, "<html>maintenance</html>", "text/html")
                if ans is None:
                    ans = {"errcode": 40029, "errmsg": "invalid code, rid: 6600a1b2-0c"}
                ans = dict(ans)
                if "openid" in ans or ans.get("session_key") == "":
                    with wx.lock:
                        key = b64url(os.urandom(18)) + "SeSsIoNkEy=="
                        wx.session_keys.append(key)
                    ans["session_key"] = key
                self.reply(200, json.dumps(ans, ensure_ascii=False))

        self.server = lib.QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ncalls(self):
        with self.lock:
            return len(self.calls)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


lib.migrate_or_done(lib.fn_env(DATABASE_URL=URL))

wx = WeChat()
# LOG_LEVEL=debug: whatever the function logs, session_key must not be in it.
ENV = lib.fn_env(DATABASE_URL=URL, WECHAT_APPID=APPID, WECHAT_SECRET=SECRET,
                 WECHAT_API_BASE=wx.base + "/", WECHAT_SESSION_DAYS=7, HTTP_TIMEOUT_MS=1000,
                 WECHAT_DEV_LOGIN=None, LOG_LEVEL="debug")
srv = lib.Server("auth", env=ENV)
bodies = []  # every response body of srv, checked for session_key at the end


def call(method, path, body=None, headers=None, server=None):
    status, hdrs, data = (server or srv).request(method, path, body, headers)
    bodies.append(data)
    try:
        obj = json.loads(data) if data else None
    except ValueError:
        obj = None
    return status, dict((k.lower(), v) for k, v in hdrs), obj


def login(code, server=None):
    return call("POST", "/api/auth/wechat", {"code": code}, server=server)


def user_count():
    return int(q("SELECT count(*) FROM app_users"))


# ---- login ------------------------------------------------------------------------------


def test_login_creates_user_once():
    wx.answers["code-1"] = {"openid": "oUser1-abc", "unionid": "uUnion1"}
    wx.answers["code-2"] = {"openid": "oUser1-abc"}  # no unionid this time
    before = user_count()
    t0 = int(time.time())
    status, hdrs, b1 = login("code-1")
    ok = tap.check("login: 200 with token, expires_at and user",
                   status == 200 and isinstance(b1, dict) and isinstance(b1.get("token"), str)
                   and RFC3339.match(b1.get("expires_at") or "") is not None
                   and isinstance((b1.get("user") or {}).get("id"), int)
                   and (b1.get("user") or {}).get("nickname") == "", f"{status} {b1}")
    if not ok:
        return
    tap.eq("login: exactly these fields", sorted(b1), ["expires_at", "token", "user"])
    tap.eq("login: user has id and nickname", sorted(b1["user"]), ["id", "nickname"])
    tap.eq("login: Cache-Control no-store", hdrs.get("cache-control"), "no-store")
    uid = b1["user"]["id"]
    tap.eq("the user row: openid and unionid",
           q(f"SELECT openid || '|' || coalesce(unionid, '-') FROM app_users WHERE id = {uid}"),
           "oUser1-abc|uUnion1")
    kind, sess, subject, exp = token_fields(b1["token"])
    tap.eq("token kind is w (WeChat)", kind, "w")
    tap.eq("token subject is the user id", subject, str(uid))
    tap.check("token expiry is WECHAT_SESSION_DAYS (7) from now",
              abs(int(exp) - (t0 + 7 * 86400)) <= 5, exp)
    tap.eq("expires_at is the token's expiry",
           b1["expires_at"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(exp))))
    tap.eq("the token's session row exists, for that user, expiring with it",
           q(f"SELECT user_id || '|' || floor(extract(epoch FROM expires_at))::bigint || '|' ||"
             f" (revoked_at IS NULL) FROM app_sessions WHERE id = {lit(sess)}"),
           f"{uid}|{exp}|true")
    tap.check("the token is properly signed",
              forge(".".join([kind, sess, subject, exp])) == b1["token"], b1["token"])
    last1 = q(f"SELECT last_login_at FROM app_users WHERE id = {uid}")

    time.sleep(0.05)
    status, _, b2 = login("code-2")
    tap.check("the same openid again: 200, the same user id",
              status == 200 and (b2 or {}).get("user", {}).get("id") == uid, f"{status} {b2}")
    tap.eq("one user created in all", user_count(), before + 1)
    tap.eq("two sessions for the user",
           q(f"SELECT count(*) FROM app_sessions WHERE user_id = {uid}"), "2")
    tap.check("a different token and session each time",
              b2 and b2["token"] != b1["token"] and token_fields(b2["token"])[1] != sess)
    tap.eq("unionid kept when WeChat omits it",
           q(f"SELECT unionid FROM app_users WHERE id = {uid}"), "uUnion1")
    tap.check("last_login_at moved on",
              q(f"SELECT last_login_at > {lit(last1)}::timestamptz FROM app_users"
                f" WHERE id = {uid}") == "t")
    wx.answers["code-3"] = {"openid": "oUser1-abc", "unionid": "uUnion2"}
    status, _, _ = login("code-3")
    tap.eq("a new unionid replaces the old", (status, q(
        f"SELECT unionid FROM app_users WHERE id = {uid}")), (200, "uUnion2"))

    wx.answers["code-other"] = {"openid": "oUser2-xyz"}
    status, _, b3 = login("code-other")
    tap.check("another openid: another user",
              status == 200 and b3["user"]["id"] != uid, f"{status} {b3}")


def test_request_encoding():
    wx.answers[ODD_CODE] = {"openid": "oOdd", "unionid": "uOdd"}
    n = wx.ncalls()
    status, _, body = login(ODD_CODE)
    tap.check("a code with + & = / ? # % and Chinese: 200",
              status == 200 and body["user"]["id"] > 0, f"{status} {body}")
    tap.eq("one call to jscode2session", wx.ncalls(), n + 1)
    raw, parsed = wx.calls[-1]
    tap.eq("jscode2session got exactly appid, secret, js_code, grant_type",
           sorted(parsed), ["appid", "grant_type", "js_code", "secret"])
    tap.eq("appid as configured", parsed.get("appid"), [APPID])
    tap.eq("secret decoded intact", parsed.get("secret"), [SECRET])
    tap.eq("js_code decoded intact", parsed.get("js_code"), [ODD_CODE])
    tap.eq("grant_type=authorization_code", parsed.get("grant_type"), ["authorization_code"])
    # Percent-encoding, not form encoding: no raw + (a space to some servers), no raw
    # reserved characters inside values.
    tap.check("every value percent-encoded (no raw + & = ? # / space or non-ASCII)",
              all(re.fullmatch(r"[A-Za-z0-9._~%-]*", part.partition("=")[2])
                  for part in raw.split("&")), raw)
    tap.check("js_code is RFC 3986 encoded",
              "js_code=" + urllib.parse.quote(ODD_CODE, safe="-._~") in raw.split("&"), raw)


def test_errcodes():
    cases = [
        ("bad-code", None, 40029, "invalid code, rid: 6600a1b2-0c"),
        ("rate", {"errcode": 45011, "errmsg": "api minute-quota reach limit"},
         45011, "api minute-quota reach limit"),
        ("risky", {"errcode": 40226, "errmsg": "high risk user"}, 40226, "high risk user"),
        ("used", {"errcode": 40163, "errmsg": "code been used, rid: 1f"}, 40163,
         "code been used, rid: 1f"),
    ]
    before = user_count()
    for code, ans, errcode, errmsg in cases:
        if ans is not None:
            wx.answers[code] = ans
        status, hdrs, body = login(code)
        tap.check(f"errcode {errcode}: 401 wechat_login_failed",
                  status == 401 and lib.is_error(body, "wechat_login_failed"), f"{status} {body}")
        tap.eq(f"errcode {errcode}: the message quotes errmsg and errcode",
               (body or {}).get("error", {}).get("message"),
               f"WeChat refused the code: {errmsg} ({errcode})")
        tap.eq(f"errcode {errcode}: WWW-Authenticate", hdrs.get("www-authenticate"), "Bearer")
    wx.answers["busy"] = {"errcode": -1, "errmsg": "system error"}
    status, hdrs, body = login("busy")
    tap.check("errcode -1 (busy): 503 with Retry-After",
              status == 503 and lib.is_error(body) and
              (hdrs.get("retry-after") or "").isdigit(), f"{status} {hdrs} {body}")
    tap.check("errcode -1: the message quotes WeChat",
              "system error (-1)" in (body or {}).get("error", {}).get("message", ""), body)
    tap.eq("no user created by refused codes", user_count(), before)


def test_odd_answers():
    wx.answers["http500"] = "http500"
    wx.answers["notjson"] = "notjson"
    wx.answers["noopenid"] = {"session_key": ""}   # a success without openid
    wx.answers["numopenid"] = {"openid": 12345}
    wx.answers["longopenid"] = {"openid": "o" * 129}
    wx.answers["zero"] = {"errcode": 0, "errmsg": "ok", "openid": "oZero"}
    before = user_count()
    for code in ("http500", "notjson", "noopenid", "numopenid", "longopenid"):
        status, _, body = login(code)
        tap.check(f"answer {code}: 502 bad_gateway",
                  status == 502 and lib.is_error(body, "bad_gateway"), f"{status} {body}")
    tap.eq("no user created by odd answers", user_count(), before)
    status, _, body = login("zero")
    tap.check("errcode 0 with an openid is a success",
              status == 200 and body["user"]["id"] > 0, f"{status} {body}")


def test_slow_wechat():
    wx.answers["slow"] = "slow"
    t0 = time.time()
    status, _, body = login("slow")
    took = time.time() - t0
    tap.check("WeChat slower than HTTP_TIMEOUT_MS (1 s): 502 bad_gateway",
              status == 502 and lib.is_error(body, "bad_gateway"), f"{status} {body}")
    tap.check("... after about the timeout", 0.8 <= took < 2.5, f"{took:.2f} s")


def test_validation():
    n = wx.ncalls()
    cases = [
        ("no code", {}, 422, "code"),
        ("empty code", {"code": ""}, 422, "code"),
        ("code of 129 characters", {"code": "c" * 129}, 422, "code"),
        ("code not a string", {"code": 123}, 422, "code"),
        ("body not an object", [], 422, None),
    ]
    for name, body, want, field in cases:
        status, _, obj = call("POST", "/api/auth/wechat", body)
        tap.check(f"{name}: {want}", status == want and lib.is_error(obj, field=field),
                  f"{status} {obj}")
    status, _, obj = call("POST", "/api/auth/wechat", "{nope",
                          {"Content-Type": "application/json"})
    tap.check("invalid JSON: 400", status == 400 and lib.is_error(obj), f"{status} {obj}")
    tap.eq("WeChat was not called for invalid requests", wx.ncalls(), n)
    # 128 characters (Chinese ones: code points, not bytes) pass validation.
    status, _, obj = login("码" * 128)
    tap.check("a code of 128 characters reaches WeChat (401 from the stand-in)",
              status == 401 and wx.ncalls() == n + 1, f"{status} {obj}")


def test_dev_login_off():
    for method in ("POST", "GET", "OPTIONS"):
        status, _, obj = call(method, "/api/auth/dev",
                              {"openid": "oDev"} if method == "POST" else None)
        tap.check(f"dev login off: {method} /api/auth/dev is 404 like an unknown route",
                  status == 404 and lib.is_error(obj, "not_found"), f"{status} {obj}")
    tap.eq("dev login off: no user created",
           q("SELECT count(*) FROM app_users WHERE openid = 'oDev'"), "0")


# ---- logout (auth_require_user) ------------------------------------------------------


def test_logout():
    wx.answers["lo-1"] = {"openid": "oLogout"}
    wx.answers["lo-2"] = {"openid": "oLogout"}
    _, _, b1 = login("lo-1")
    _, _, b2 = login("lo-2")
    t1, t2 = b1["token"], b2["token"]
    s1, s2 = token_fields(t1)[1], token_fields(t2)[1]
    uid = b1["user"]["id"]

    status, hdrs, obj = call("POST", "/api/auth/wechat/logout")
    tap.check("logout without a token: 401 with WWW-Authenticate",
              status == 401 and lib.is_error(obj, "unauthorized") and
              hdrs.get("www-authenticate") == "Bearer", f"{status} {hdrs} {obj}")
    status, _, obj = call("POST", "/api/auth/wechat/logout", headers={"Cookie": f"session={t1}"})
    tap.check("logout with the token in a cookie: 401 (bearer only)", status == 401, status)
    status, _, data = srv.request("POST", "/api/auth/wechat/logout", headers=bearer(t1))
    tap.check("logout: 204, empty body", status == 204 and data == b"", f"{status} {data!r}")
    tap.check("the session row is revoked",
              q(f"SELECT revoked_at IS NOT NULL FROM app_sessions WHERE id = {lit(s1)}") == "t")
    tap.check("the other session is untouched",
              q(f"SELECT revoked_at IS NULL FROM app_sessions WHERE id = {lit(s2)}") == "t")
    status, hdrs, obj = call("POST", "/api/auth/wechat/logout", headers=bearer(t1))
    tap.check("the revoked token: 401 unauthorized",
              status == 401 and lib.is_error(obj, "unauthorized") and
              hdrs.get("www-authenticate") == "Bearer", f"{status} {obj}")

    exp = token_fields(t2)[3]
    forged = [
        ("admin kind", forge(f"a.{s2}.{uid}.{exp}")),
        ("another subject", forge(f"w.{s2}.{uid + 1000}.{exp}")),
        ("another key", forge(f"w.{s2}.{uid}.{exp}", key="some-other-secret-0123456789ab")),
        ("expired", forge(f"w.{s2}.{uid}.{int(time.time()) - 1}")),
        ("unknown session", forge(f"w.{'ab' * 16}.{uid}.{exp}")),
        ("garbage", "not-a-token"),
    ]
    for name, tok in forged:
        status, _, obj = call("POST", "/api/auth/wechat/logout", headers=bearer(tok))
        tap.check(f"logout with a token of {name}: 401",
                  status == 401 and lib.is_error(obj, "unauthorized"), f"{status} {obj}")
    tap.check("none of them revoked the live session",
              q(f"SELECT revoked_at IS NULL FROM app_sessions WHERE id = {lit(s2)}") == "t")
    # An expired row behind an unexpired token.
    q(f"UPDATE app_sessions SET expires_at = now() - interval '1 second' WHERE id = {lit(s2)}")
    status, _, _ = call("POST", "/api/auth/wechat/logout", headers=bearer(t2))
    tap.eq("a token whose session row expired: 401", status, 401)
    q(f"UPDATE app_sessions SET expires_at = now() + interval '1 hour' WHERE id = {lit(s2)}")
    status, _, _ = call("POST", "/api/auth/wechat/logout", headers=bearer(t2))
    tap.eq("the same token once the row is live again: 204", status, 204)
    status, hdrs, _ = call("GET", "/api/auth/wechat/logout", headers=bearer(t2))
    tap.eq("GET on the logout route: 405", status, 405)


# ---- other configurations -------------------------------------------------------------


def test_unconfigured_and_dev_login():
    env = lib.fn_env(DATABASE_URL=URL, WECHAT_APPID=None, WECHAT_SECRET=None,
                     WECHAT_API_BASE=wx.base, WECHAT_DEV_LOGIN=1, WECHAT_SESSION_DAYS=None)
    s = lib.Server("auth", env=env)
    try:
        n = wx.ncalls()
        status, _, obj = login("code-1", server=s)
        tap.check("WECHAT_APPID / WECHAT_SECRET unset: 503 wechat_not_configured",
                  status == 503 and lib.is_error(obj, "wechat_not_configured"), f"{status} {obj}")
        tap.eq("... without calling WeChat", wx.ncalls(), n)
        t0 = int(time.time())
        status, _, b1 = call("POST", "/api/auth/dev", {"openid": "oDevUser"}, server=s)
        tap.check("dev login on: 200 with a token",
                  status == 200 and isinstance((b1 or {}).get("token"), str), f"{status} {b1}")
        if status != 200:
            return
        status, _, b2 = call("POST", "/api/auth/dev", {"openid": "oDevUser"}, server=s)
        tap.check("dev login: the same openid, the same user",
                  status == 200 and b2["user"]["id"] == b1["user"]["id"], f"{status} {b2}")
        tap.eq("dev login: one user row", q("SELECT count(*) FROM app_users"
                                            " WHERE openid = 'oDevUser'"), "1")
        tap.check("dev login: default session of 30 days",
                  abs(int(token_fields(b1["token"])[3]) - (t0 + 30 * 86400)) <= 5, b1)
        status, _, obj = call("POST", "/api/auth/dev", {}, server=s)
        tap.check("dev login without openid: 422 field openid",
                  status == 422 and lib.is_error(obj, field="openid"), f"{status} {obj}")
        status, _, obj = call("POST", "/api/auth/dev", {"openid": "o" * 129}, server=s)
        tap.check("dev login with a 129-character openid: 422",
                  status == 422 and lib.is_error(obj, field="openid"), f"{status} {obj}")
        status, _, _ = call("POST", "/api/auth/wechat/logout", headers=bearer(b1["token"]),
                            server=s)
        tap.eq("a dev-login token works with auth_require_user (logout 204)", status, 204)
        # The token is valid on every instance sharing APP_SECRET and the database.
        status, _, _ = call("POST", "/api/auth/wechat/logout", headers=bearer(b2["token"]))
        tap.eq("... and on another instance", status, 204)
    finally:
        rc = s.stop()
        tap.eq("the dev-login server stops cleanly", rc, 0)
        log = s.log()
        tap.check("dev login on: the function warns at start",
                  "WECHAT_DEV_LOGIN is on" in log, log[-1000:])


def test_wechat_down():
    env = dict(ENV, WECHAT_API_BASE=f"http://127.0.0.1:{lib.free_port()}")
    s = lib.Server("auth", env=env)
    try:
        t0 = time.time()
        status, _, obj = login("code-1", server=s)
        tap.check("WeChat unreachable: 502 bad_gateway",
                  status == 502 and lib.is_error(obj, "bad_gateway"), f"{status} {obj}")
        tap.check("... at once", time.time() - t0 < 2, time.time() - t0)
    finally:
        s.stop()
        log = s.log()
        tap.check("WeChat unreachable: the secret is not in the log", SECRET not in log and
                  urllib.parse.quote(SECRET, safe="") not in log, log[-1000:])


def test_db_down():
    wx.answers["db-down"] = {"openid": "oDbDown"}
    wx.answers["db-live"] = {"openid": "oDbLive"}
    _, _, live = login("db-live")
    env = dict(ENV, DATABASE_URL=f"postgresql://127.0.0.1:{lib.free_port()}/none",
               DB_CONNECT_TIMEOUT="2")
    s = lib.Server("auth", env=env)
    try:
        status, hdrs, obj = login("db-down", server=s)
        tap.check("login with the database down: 503 db_unavailable",
                  status == 503 and lib.is_error(obj, "db_unavailable"), f"{status} {obj}")
        status, _, obj = call("POST", "/api/auth/wechat/logout", headers=bearer(live["token"]),
                              server=s)
        tap.check("logout with the database down: 503, not 401",
                  status == 503 and lib.is_error(obj, "db_unavailable"), f"{status} {obj}")
    finally:
        s.stop()


def test_bad_config():
    for name, bad in (("WECHAT_SESSION_DAYS", "0"), ("WECHAT_SESSION_DAYS", "366"),
                      ("WECHAT_SESSION_DAYS", "ten"), ("WECHAT_API_BASE", "ftp://x"),
                      ("WECHAT_API_BASE", "https://x/?a=1"), ("WECHAT_DEV_LOGIN", "maybe")):
        rc, out, err = lib.invoke("auth", {"method": "POST", "path": "/api/auth/wechat",
                                           "body": "{}"},
                                  env=dict(ENV, **{name: bad}))
        tap.check(f"{name}={bad} stops the function at start, naming it",
                  rc != 0 and name in err and out is None, (rc, out, err[-500:]))


try:
    for t in (test_login_creates_user_once, test_request_encoding, test_errcodes,
              test_odd_answers, test_slow_wechat, test_validation, test_dev_login_off,
              test_logout, test_unconfigured_and_dev_login, test_wechat_down, test_db_down,
              test_bad_config):
        tap.run(t)
finally:
    log = lib.stop_clean(srv, "the auth server stops cleanly (no sanitizer report)",
                         "no sanitizer report in the server log", tail=2000)
    tap.check("WeChat handed out session keys during the run", len(wx.session_keys) >= 5,
              len(wx.session_keys))
    blob = b"".join(bodies)
    leaked = [k for k in wx.session_keys if k.encode() in blob]
    tap.check("no session_key in any response body", not leaked and b"session_key" not in blob,
              leaked)
    leaked = [k for k in wx.session_keys if k in log]
    tap.check("no session_key in the function's log (LOG_LEVEL=debug)",
              not leaked and "session_key" not in log, leaked)
    tap.check("neither the AppSecret nor a code in the function's log",
              SECRET not in log and urllib.parse.quote(SECRET, safe="") not in log and
              ODD_CODE not in log and "code-1" not in log, log[-2000:])
    wx.close()
    lib.drop_database(DB_NAME)
tap.done()
