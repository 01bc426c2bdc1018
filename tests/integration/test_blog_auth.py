"""Blog admin authentication against a real PostgreSQL: the admin tool
(create, ensure, ensure --random), login (token, cookie flags, argon2id
hashes), wrong password vs unknown user, /me by bearer and by cookie, logout
revoking the session, expiry, tampered and forged tokens, CSRF and Origin
checks for cookie callers, login throttling (per user and per client IP,
429 + Retry-After), validation, SQL metacharacters, configuration and the
database being unreachable.

Runs in a database of its own: the throttling rows (all from 127.0.0.1
unless X-Forwarded-For says otherwise) must not lock other test files out."""
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import b64url, forge, lit, tap, token_fields  # noqa: E402

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
BAD_LOGIN = "invalid username or password"

DB_NAME = f"blog_auth_{os.getpid()}"
URL = lib.fresh_database(DB_NAME)
# TRUST_PROXY=1: the tests play the proxy and name each client in
# X-Forwarded-For (req_client_ip takes the last entry, the proxy's).
ENV = lib.fn_env(DATABASE_URL=URL, ADMIN_USER=None, ADMIN_PASSWORD=None, TRUST_PROXY=1)


def q(sql):
    return lib.psql(sql, url=URL)


def admin(*args, stdin="", env=None):
    return subprocess.run([lib.bin_path("admin"), *args], input=stdin, env=env or ENV,
                          capture_output=True, text=True, timeout=60)


def ip_key(ip):
    return "ip:" + hmac.new(lib.SECRET.encode(), ip.encode(), hashlib.sha256).hexdigest()


lib.migrate_or_done(ENV)


# ---- the admin tool -----------------------------------------------------------


def test_admin_tool():
    # ensure without an admin and without ADMIN_USER / ADMIN_PASSWORD: an error.
    p = admin("ensure")
    tap.eq("ensure without the variables fails", p.returncode, 1)
    tap.eq("ensure without the variables prints nothing on stdout", p.stdout, "")
    tap.check("ensure explains why", "ADMIN_USER" in p.stderr, p.stderr)
    p = admin("ensure", env=dict(ENV, ADMIN_USER="boss"))
    tap.eq("ensure without ADMIN_PASSWORD fails", p.returncode, 1)
    tap.eq("nothing was created", q("SELECT count(*) FROM admin_users"), "0")

    p = admin("ensure", env=dict(ENV, ADMIN_USER="boss", ADMIN_PASSWORD="boss-pass-1"))
    tap.eq("ensure from the environment: exit 0", p.returncode, 0)
    tap.eq("ensure prints nothing", p.stdout, "")
    tap.eq("ensure created the admin", q("SELECT username FROM admin_users"), "boss")
    p = admin("ensure", env=dict(ENV, ADMIN_USER="boss2", ADMIN_PASSWORD="x"))
    tap.eq("ensure with an admin present: exit 0", p.returncode, 0)
    p = admin("ensure", "--random", "root")
    tap.eq("ensure --random with an admin present: exit 0", p.returncode, 0)
    tap.eq("ensure --random with an admin present prints nothing", p.stdout, "")
    tap.eq("and creates no one", q("SELECT string_agg(username, ',') FROM admin_users"), "boss")

    q("DELETE FROM admin_users")
    p = admin("ensure", "--random", "root")
    m = re.fullmatch(r"admin user: root password: ([A-Za-z0-9]{20})\n", p.stdout)
    tap.check("ensure --random prints the user and a 20-character password", m and
              p.returncode == 0, f"rc={p.returncode} out={p.stdout!r} err={p.stderr!r}")
    root_pw = m.group(1) if m else ""
    p2 = admin("ensure", "--random", "root")
    tap.check("a second ensure --random prints nothing", p2.returncode == 0 and p2.stdout == "",
              p2.stdout)
    tap.eq("exactly one admin", q("SELECT count(*) FROM admin_users"), "1")
    h = q("SELECT password_hash FROM admin_users WHERE username = 'root'")
    tap.check("the stored hash is argon2id", h.startswith("$argon2id$v=19$"), h)
    tap.check("the password is not stored", root_pw not in h)

    p = admin("create", "alice", stdin="alice-pass-1\nsecond line ignored\n")
    tap.eq("create alice: exit 0", p.returncode, 0)
    tap.eq("create prints nothing", p.stdout, "")
    p = admin("create", "alice", stdin="other-pass\n")
    tap.eq("create an existing user: exit 1", p.returncode, 1)
    tap.check("and says so", "exists" in p.stderr, p.stderr)
    for name in ("bad name", "", "x" * 65, "x'; DROP TABLE admin_users; --", "名字"):
        p = admin("create", name, stdin="pw\n")
        tap.eq(f"create refuses username {name[:20]!r}", p.returncode, 1)
    p = admin("create", "nopass", stdin="")
    tap.eq("create without a password: exit 1", p.returncode, 1)
    p = admin("create", "nopass", stdin="\n")
    tap.eq("create with an empty password: exit 1", p.returncode, 1)
    p = admin("create", "crlf", stdin="crlf-pass\r\n")
    tap.eq("create with a CRLF line: exit 0", p.returncode, 0)
    meta_pw = "'; DROP TABLE admin_users; -- \" \\ %s $1 🔑"
    p = admin("create", "meta.user@x", stdin=meta_pw + "\n")
    tap.eq("create with SQL metacharacters in the password: exit 0", p.returncode, 0)
    tap.eq("create usage error: exit 1", admin("frobnicate").returncode, 1)
    tap.eq("users so far", q("SELECT string_agg(username, ',' ORDER BY username)"
                             " FROM admin_users"), "alice,crlf,meta.user@x,root")
    tap.check("every hash is argon2id",
              q("SELECT bool_and(password_hash LIKE '$argon2id$%') FROM admin_users") == "t")
    return root_pw, meta_pw


ROOT_PW, META_PW = "", ""


def admin_tool():
    global ROOT_PW, META_PW
    ROOT_PW, META_PW = test_admin_tool()


tap.run(admin_tool)

srv = lib.Server("auth", env=ENV)
HOST = f"127.0.0.1:{srv.port}"


def login(user, pw, ip="192.0.2.1", headers=None):
    """Returns status, header pairs, parsed body, seconds taken."""
    h = {"X-Forwarded-For": ip}
    h.update(headers or {})
    t0 = time.monotonic()
    status, hdrs, data = srv.request("POST", "/api/auth/login",
                                     {"username": user, "password": pw}, h)
    took = time.monotonic() - t0
    try:
        body = json.loads(data) if data else None
    except ValueError:
        body = None
    return status, hdrs, body, took


def set_cookies(hdrs):
    return [v for k, v in hdrs if k.lower() == "set-cookie"]


def me(token=None, cookie=None, headers=None):
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    if cookie is not None:
        h["Cookie"] = f"session={cookie}"
    return srv.json("GET", "/api/auth/me", headers=h)


def logout(token=None, cookie=None, headers=None):
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    if cookie is not None:
        h["Cookie"] = f"session={cookie}"
    return srv.request("POST", "/api/auth/logout", body="", headers=h)


def fresh_login(user="alice", pw="alice-pass-1", ip="192.0.2.50"):
    status, hdrs, body, _ = login(user, pw, ip)
    if status != 200:
        raise RuntimeError(f"login {user}: {status} {body}")
    return body


# ---- login -------------------------------------------------------------------------


def test_login_ok():
    status, hdrs, body, _ = login("alice", "alice-pass-1")
    tap.eq("login: 200", status, 200)
    tap.check("login body has token, csrf_token, expires_at, user",
              isinstance(body, dict) and {"token", "csrf_token", "expires_at", "user"} <= set(body),
              body)
    user = body["user"]
    tap.eq("login user", (user.get("username"), user.get("display_name")), ("alice", ""))
    tap.eq("login user id", str(user.get("id")),
           q("SELECT id FROM admin_users WHERE username = 'alice'"))
    tap.check("expires_at is RFC 3339 UTC", RFC3339.match(body["expires_at"]), body["expires_at"])
    kind, session, subject, expiry = token_fields(body["token"])
    tap.eq("token kind and subject", (kind, subject), ("a", str(user["id"])))
    tap.check("token lives 12 hours by default", abs(int(expiry) - time.time() - 12 * 3600) < 60,
              expiry)
    tap.eq("expires_at is the token's expiry",
           body["expires_at"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(expiry))))
    tap.check("csrf_token is HMAC(secret, csrf.<session>)",
              body["csrf_token"] == hmac.new(lib.SECRET.encode(), f"csrf.{session}".encode(),
                                             hashlib.sha256).hexdigest(), body["csrf_token"])
    row = q(f"SELECT user_id, revoked_at IS NULL, abs(extract(epoch FROM expires_at) - {expiry})"
            f" < 1 FROM admin_sessions WHERE id = {lit(session)}")
    tap.eq("the session row exists, unrevoked, with the token's expiry", row,
           f"{user['id']}|t|t")

    cookies = set_cookies(hdrs)
    tap.eq("one Set-Cookie", len(cookies), 1)
    c = cookies[0] if cookies else ""
    attrs = [a.strip() for a in c.split(";")]
    tap.eq("the cookie carries the token", attrs[0], f"session={body['token']}")
    tap.check("cookie HttpOnly", "HttpOnly" in attrs, c)
    tap.check("cookie SameSite=Strict", "SameSite=Strict" in attrs, c)
    tap.check("cookie Path=/", "Path=/" in attrs, c)
    tap.check("cookie Max-Age is the session lifetime", "Max-Age=43200" in attrs, c)
    tap.check("no Secure over plain HTTP", "Secure" not in attrs, c)
    tap.check("login answers are not cached",
              dict((k.lower(), v) for k, v in hdrs).get("cache-control") == "no-store", hdrs)

    status, hdrs, body, _ = login("alice", "alice-pass-1",
                                  headers={"X-Forwarded-Proto": "https"})
    c = (set_cookies(hdrs) or [""])[0]
    tap.check("cookie Secure behind HTTPS (X-Forwarded-Proto)",
              status == 200 and "Secure" in [a.strip() for a in c.split(";")], c)

    # Other users and passwords made by the tool.
    tap.eq("root logs in with the printed random password",
           login("root", ROOT_PW)[0], 200)
    tap.eq("the CRLF-created password has no CR", login("crlf", "crlf-pass")[0], 200)
    tap.eq("username compared exactly (case)", login("ALICE", "alice-pass-1")[0], 401)
    tap.eq("username compared exactly (space)", login("alice ", "alice-pass-1")[0], 401)


def test_wrong_password():
    s1, h1, b1, t1 = login("alice", "wrong-pass", ip="192.0.2.2")
    s2, h2, b2, t2 = login("nobody-here", "wrong-pass", ip="192.0.2.3")
    tap.eq("wrong password: 401", s1, 401)
    tap.eq("unknown user: 401", s2, 401)
    tap.check("wrong password: error shape", lib.is_error(b1, "unauthorized"), b1)
    tap.eq("wrong password message", (b1 or {}).get("error", {}).get("message"), BAD_LOGIN)
    tap.eq("unknown user gets the very same body", b2, b1)
    tap.check("no cookie on a failed login", not set_cookies(h1) and not set_cookies(h2))
    # Same work for both: argon2 runs for the unknown user too. Loose bound.
    tw = min(login("alice", "wrong-pass", ip="192.0.2.4")[3] for _ in range(2))
    tu = min(login("nobody-here", "wrong-pass", ip="192.0.2.5")[3] for _ in range(2))
    tap.check("unknown user takes about as long as a wrong password (argon2 runs)",
              tu > tw * 0.5, f"unknown {tu:.3f}s, wrong password {tw:.3f}s")
    tap.eq("password compared exactly", login("alice", "alice-pass-1 ", ip="192.0.2.6")[0], 401)


def test_validation():
    cases = [
        ({"username": "", "password": "x"}, 422, "username"),
        ({"username": "u" * 65, "password": "x"}, 422, "username"),
        ({"username": "alice", "password": ""}, 422, "password"),
        ({"username": "alice", "password": "p" * 1025}, 422, "password"),
        ({"password": "x"}, 422, "username"),
        ({"username": "alice"}, 422, "password"),
        ({"username": 5, "password": "x"}, 422, "username"),
        ({"username": "alice", "password": ["x"]}, 422, "password"),
    ]
    for body, want, field in cases:
        status, _, obj = srv.json("POST", "/api/auth/login", body,
                                  {"X-Forwarded-For": "192.0.2.7"})
        tap.check(f"login {json.dumps(body)[:50]} -> {want} on {field}",
                  status == want and lib.is_error(obj, "validation_failed", field),
                  f"{status} {obj}")
    status, _, obj = srv.json("POST", "/api/auth/login", "{not json",
                              {"Content-Type": "application/json"})
    tap.check("body not JSON: 400", status == 400 and lib.is_error(obj), f"{status} {obj}")
    status, _, obj = srv.json("POST", "/api/auth/login", "username=alice&password=x",
                              {"Content-Type": "application/x-www-form-urlencoded"})
    tap.check("a form body: 415", status == 415 and lib.is_error(obj), f"{status} {obj}")
    status, _, obj = srv.json("POST", "/api/auth/login", [1, 2])
    tap.check("a JSON array: 422", status == 422 and lib.is_error(obj), f"{status} {obj}")
    status, _, obj = srv.json("GET", "/api/auth/login")
    tap.eq("GET /api/auth/login: 405", status, 405)
    # 1024 characters (not bytes) is fine: the limit counts characters.
    status, _, _, _ = login("alice", "密" * 1024, ip="192.0.2.7")
    tap.eq("a 1024-character multibyte password is checked (401, not 422)", status, 401)


def test_sql_metacharacters():
    before = q("SELECT count(*) FROM admin_users")
    for user, pw in (("admin' OR '1'='1", "' OR ''='"), ("alice'--", "x"),
                     ("alice", "' OR '1'='1"), ("\\", "\\"), ("$1", "$2")):
        status, _, body, _ = login(user, pw, ip="192.0.2.8")
        tap.check(f"login {user!r} / {pw!r}: 401, same message",
                  status == 401 and body == {"error": {"code": "unauthorized",
                                                       "message": BAD_LOGIN}}, f"{status} {body}")
    tap.eq("admin_users untouched", q("SELECT count(*) FROM admin_users"), before)
    tap.eq("a password full of SQL metacharacters works", login("meta.user@x", META_PW)[0], 200)
    tap.eq("and a near miss does not", login("meta.user@x", META_PW[:-1], ip="192.0.2.8")[0], 401)


# ---- sessions ------------------------------------------------------------------------


def test_me():
    body = fresh_login()
    tok, csrf = body["token"], body["csrf_token"]
    for how, kw in (("bearer", {"token": tok}), ("cookie", {"cookie": tok})):
        status, hdrs, obj = me(**kw)
        tap.eq(f"me by {how}: 200", status, 200)
        tap.eq(f"me by {how}: user", (obj or {}).get("user"), body["user"])
        tap.eq(f"me by {how}: csrf_token", (obj or {}).get("csrf_token"), csrf)
        tap.eq(f"me by {how}: expires_at", (obj or {}).get("expires_at"), body["expires_at"])
        tap.eq(f"me by {how}: not cached", hdrs.get("cache-control"), "no-store")
    status, hdrs, obj = me()
    tap.check("me without credentials: 401 unauthorized",
              status == 401 and lib.is_error(obj, "unauthorized"), f"{status} {obj}")
    tap.eq("401 says WWW-Authenticate: Bearer", hdrs.get("www-authenticate"), "Bearer")
    status, _, _ = me(headers={"Authorization": "Basic YWxpY2U6YWxpY2UtcGFzcy0x"})
    tap.eq("Basic credentials are not a session", status, 401)
    status, _, _ = me(headers={"Authorization": f"bearer   {tok}"})
    tap.eq("the Bearer scheme is case-insensitive", status, 200)


def test_tampered_and_forged():
    body = fresh_login()
    tok = body["token"]
    kind, session, subject, expiry = token_fields(tok)
    payload, mac = tok.split(".")
    bad = {
        "flipped MAC": payload + "." + ("A" if mac[0] != "A" else "B") + mac[1:],
        "flipped payload": ("A" if payload[5] != "A" else "B").join([payload[:5], payload[6:]])
                           + "." + mac,
        "other subject, old MAC": b64url(f"a.{session}.{int(subject) + 1}.{expiry}".encode())
                                  + "." + mac,
        "later expiry, old MAC": b64url(f"a.{session}.{subject}.{int(expiry) + 9999}".encode())
                                 + "." + mac,
        "signed with another key": forge(f"a.{session}.{subject}.{expiry}", "x" * 32),
        "truncated": tok[:-3],
        "padded": tok + "=",
        "garbage": "not.a.token",
        # Correctly signed (the test knows APP_SECRET), but:
        "WeChat kind for an admin session": forge(f"w.{session}.{subject}.{expiry}"),
        "a session that does not exist": forge(f"a.{'0' * 32}.{subject}.{expiry}"),
        "another user's subject": forge(f"a.{session}.{int(subject) + 1000}.{expiry}"),
        "already expired": forge(f"a.{session}.{subject}.{int(time.time()) - 5}"),
    }
    for name, t in bad.items():
        s1, _, o1 = me(token=t)
        s2, _, _ = me(cookie=t)
        tap.check(f"{name}: 401 by bearer and cookie",
                  s1 == 401 and s2 == 401 and lib.is_error(o1, "unauthorized"), f"{s1} {s2}")
    tap.eq("the genuine token still works", me(token=tok)[0], 200)
    # The control for the forged ones: a correctly signed genuine payload works.
    tap.eq("a re-signed genuine payload works (the forge helper is right)",
           me(token=forge(f"a.{session}.{subject}.{expiry}"))[0], 200)


def test_logout_bearer():
    body = fresh_login()
    tok = body["token"]
    session = token_fields(tok)[1]
    status, hdrs, data = logout(token=tok)
    tap.eq("logout with bearer: 204", status, 204)
    tap.eq("logout: empty body", data, b"")
    c = (set_cookies(hdrs) or [""])[0]
    attrs = [a.strip() for a in c.split(";")]
    tap.check("logout clears the cookie", attrs[0] == "session=" and "Max-Age=0" in attrs, c)
    tap.check("revoked_at is set",
              q(f"SELECT revoked_at IS NOT NULL FROM admin_sessions WHERE id = {lit(session)}")
              == "t")
    tap.eq("after logout the token fails as bearer", me(token=tok)[0], 401)
    tap.eq("after logout the token fails as cookie", me(cookie=tok)[0], 401)
    tap.eq("logout again: 401", logout(token=tok)[0], 401)
    tap.eq("other sessions of the user live on", me(token=fresh_login()["token"])[0], 200)


def test_csrf():
    body = fresh_login()
    tok, csrf = body["token"], body["csrf_token"]
    origin = f"http://{HOST}"
    status, _, data = logout(cookie=tok)
    obj = json.loads(data) if data else None
    tap.check("cookie logout without X-CSRF-Token: 403 csrf_failed",
              status == 403 and lib.is_error(obj, "csrf_failed"), f"{status} {data!r}")
    tap.eq("the session is still valid after the refused logout", me(cookie=tok)[0], 200)
    other = fresh_login()["csrf_token"]
    for name, h in (("a wrong X-CSRF-Token", {"X-CSRF-Token": "0" * 64}),
                    ("another session's X-CSRF-Token", {"X-CSRF-Token": other}),
                    ("a truncated X-CSRF-Token", {"X-CSRF-Token": csrf[:-1]}),
                    ("an empty X-CSRF-Token", {"X-CSRF-Token": ""}),
                    ("a foreign Origin", {"X-CSRF-Token": csrf,
                                          "Origin": "http://evil.example"}),
                    ("a foreign port in Origin", {"X-CSRF-Token": csrf,
                                                  "Origin": "http://127.0.0.1:1"}),
                    ("Origin null", {"X-CSRF-Token": csrf, "Origin": "null"})):
        status, _, data = logout(cookie=tok, headers=h)
        obj = json.loads(data) if data else None
        tap.check(f"cookie logout with {name}: 403 csrf_failed",
                  status == 403 and lib.is_error(obj, "csrf_failed"), f"{status} {data!r}")
    tap.eq("still valid after all refusals", me(cookie=tok)[0], 200)
    # A bearer caller needs no CSRF token (a browser never adds the header).
    b2 = fresh_login()
    tap.eq("bearer logout without X-CSRF-Token: 204",
           logout(token=b2["token"], headers={"Origin": "http://evil.example"})[0], 204)
    status, _, _ = logout(cookie=tok, headers={"X-CSRF-Token": csrf, "Origin": origin})
    tap.eq("cookie logout with the right X-CSRF-Token and own Origin: 204", status, 204)
    tap.eq("after cookie logout: cookie 401", me(cookie=tok)[0], 401)
    tap.eq("after cookie logout: bearer 401", me(token=tok)[0], 401)
    b3 = fresh_login()
    tap.eq("cookie logout with the right X-CSRF-Token and no Origin: 204",
           logout(cookie=b3["token"], headers={"X-CSRF-Token": b3["csrf_token"]})[0], 204)
    b4 = fresh_login()
    tap.eq("GET with a cookie needs no CSRF token", me(cookie=b4["token"])[0], 200)


def test_expired_session():
    body = fresh_login()
    tok = body["token"]
    session = token_fields(tok)[1]
    tap.eq("before expiry: 200", me(token=tok)[0], 200)
    q(f"UPDATE admin_sessions SET expires_at = now() - interval '1 minute'"
      f" WHERE id = {lit(session)}")
    tap.eq("session expired in the database: bearer 401", me(token=tok)[0], 401)
    tap.eq("session expired in the database: cookie 401", me(cookie=tok)[0], 401)
    body = fresh_login()
    session = token_fields(body["token"])[1]
    q(f"DELETE FROM admin_sessions WHERE id = {lit(session)}")
    tap.eq("session row gone: 401", me(token=body["token"])[0], 401)
    body = fresh_login("crlf", "crlf-pass")
    tap.eq("crlf signed in", me(token=body["token"])[0], 200)
    q("DELETE FROM admin_users WHERE username = 'crlf'")
    tap.eq("deleting a user ends its sessions", me(token=body["token"])[0], 401)


# ---- throttling ------------------------------------------------------------------------


def test_throttle_user():
    p = admin("create", "victim", stdin="victim-pass\n")
    p2 = admin("create", "bystander", stdin="bystander-pass\n")
    if p.returncode or p2.returncode:
        raise RuntimeError(p.stderr + p2.stderr)
    times = []
    statuses = []
    for i in range(10):
        s, _, _, took = login("victim", f"wrong-{i}", ip="198.51.100.1")
        statuses.append(s)
        times.append(took)
    tap.eq("ten wrong passwords: 401 each", statuses, [401] * 10)
    tap.check("the first attempts are not delayed", max(times[:5]) < 1.0, times)
    tap.check("attempts after five failures are delayed (250 ms per failure over four)",
              times[5] >= 0.25 and times[9] >= 1.25, times)
    s, h, body, took = login("victim", "victim-pass", ip="198.51.100.1")
    hd = dict((k.lower(), v) for k, v in h)
    tap.check("the 11th attempt, right password: 429 too_many_requests",
              s == 429 and lib.is_error(body, "too_many_requests"), f"{s} {body}")
    ra = hd.get("retry-after", "")
    tap.check("429 has Retry-After in seconds within the 15-minute window",
              ra.isdigit() and 840 <= int(ra) <= 900, ra)
    tap.check("a refused attempt is quick (no password check, no delay)", took < 1.0, took)
    s, _, _, _ = login("victim", "victim-pass", ip="198.51.100.2")
    tap.eq("the user is locked from another IP too", s, 429)
    tap.eq("another user from another IP is unaffected",
           login("bystander", "bystander-pass", ip="198.51.100.3")[0], 200)
    s, _, _, _ = login("bystander", "bystander-pass", ip="198.51.100.1")
    tap.eq("another user from the same IP (over the IP threshold): 429", s, 429)
    tap.eq("failures are stored by user and by hashed IP",
           q(f"SELECT count(*) FROM login_failures WHERE key = {lit(ip_key('198.51.100.1'))}"),
           "10")
    tap.eq("the raw address is never stored",
           q("SELECT count(*) FROM login_failures WHERE key LIKE '%198.51.100%'"), "0")

    # Retry-After: until the oldest counted failure leaves the window.
    q("UPDATE login_failures SET failed_at = now() - interval '14 minutes 30 seconds'"
      " WHERE key = 'user:victim'")
    s, h, _, _ = login("victim", "victim-pass", ip="198.51.100.4")
    ra = dict((k.lower(), v) for k, v in h).get("retry-after", "")
    tap.check("Retry-After counts down to the oldest failure leaving the window",
              s == 429 and ra.isdigit() and 25 <= int(ra) <= 31, f"{s} {ra}")
    q("UPDATE login_failures SET failed_at = now() - interval '16 minutes'"
      " WHERE key = 'user:victim'")
    for i in range(2):
        login("victim", f"again-{i}", ip="198.51.100.4")
    tap.eq("failures older than 15 minutes no longer count",
           login("victim", "victim-pass", ip="198.51.100.4")[0], 200)
    tap.eq("a successful login clears the user's failures",
           q("SELECT count(*) FROM login_failures WHERE key = 'user:victim'"), "0")
    tap.eq("but not the IP's",
           q(f"SELECT count(*) FROM login_failures WHERE key = {lit(ip_key('198.51.100.4'))}"),
           "2")


def test_throttle_ip():
    statuses = [login(f"ghost{i}", "nope", ip="198.51.100.9")[0] for i in range(10)]
    tap.eq("ten unknown users from one IP: 401 each", statuses, [401] * 10)
    s, h, body, _ = login("bystander", "bystander-pass", ip="198.51.100.9")
    tap.check("then that IP is refused even for a good login: 429",
              s == 429 and "retry-after" in dict((k.lower(), v) for k, v in h), f"{s} {body}")
    tap.eq("the same user from another IP: 200",
           login("bystander", "bystander-pass", ip="198.51.100.10")[0], 200)
    # Without X-Forwarded-For the connection's address counts (127.0.0.1 here).
    status, _, data = srv.request("POST", "/api/auth/login",
                                  {"username": "ghost-x", "password": "nope"})
    tap.eq("without X-Forwarded-For: the peer address is the key", status, 401)
    tap.eq("127.0.0.1 has its own key",
           q(f"SELECT count(*) FROM login_failures WHERE key = {lit(ip_key('127.0.0.1'))}"), "1")
    s, _, _, _ = login("bystander", "bystander-pass", ip="203.0.113.77, 198.51.100.9")
    tap.eq("a forged first X-Forwarded-For entry does not escape the IP limit", s, 429)
    # Without TRUST_PROXY the header is the client's to write: ignored, the
    # peer address (127.0.0.1) counts whatever it says.
    s4 = lib.Server("auth", env=dict(ENV, TRUST_PROXY="0"))
    try:
        st = [s4.request("POST", "/api/auth/login", {"username": f"spoof{i}", "password": "x"},
                         {"X-Forwarded-For": f"203.0.113.{i}"})[0] for i in range(9)]
        tap.eq("without TRUST_PROXY: nine failures with nine forged addresses", st, [401] * 9)
        tap.eq("all counted against the peer address",
               q(f"SELECT count(*) FROM login_failures WHERE key = {lit(ip_key('127.0.0.1'))}"),
               "10")
        st = s4.request("POST", "/api/auth/login",
                        {"username": "bystander", "password": "bystander-pass"},
                        {"X-Forwarded-For": "203.0.113.200"})[0]
        tap.eq("so a new forged address is still the same, refused client", st, 429)
    finally:
        s4.stop()


# ---- configuration and outages ------------------------------------------------------------


def test_session_hours():
    s2 = lib.Server("auth", env=dict(ENV, AUTH_SESSION_HOURS="1"))
    try:
        status, hdrs, data = s2.request("POST", "/api/auth/login",
                                        {"username": "alice", "password": "alice-pass-1"},
                                        {"X-Forwarded-For": "192.0.2.60"})
        body = json.loads(data) if status == 200 else {}
        c = (set_cookies(hdrs) or [""])[0]
        exp = int(token_fields(body.get("token", "x.x"))[3]) if body else 0
        tap.check("AUTH_SESSION_HOURS=1: token and cookie live one hour",
                  status == 200 and abs(exp - time.time() - 3600) < 60 and "Max-Age=3600" in c,
                  f"{status} {c}")
    finally:
        s2.stop()
    for bad in ("0", "abc", "100000"):
        rc, out, err = lib.invoke("auth", {"method": "GET", "path": "/api/auth/me"},
                                  env=dict(ENV, AUTH_SESSION_HOURS=bad))
        tap.check(f"AUTH_SESSION_HOURS={bad} is refused at start-up",
                  rc != 0 and "AUTH_SESSION_HOURS" in err, f"rc={rc} {err[-300:]}")


def test_db_down():
    body = fresh_login()
    env = dict(ENV, DATABASE_URL=f"postgresql://127.0.0.1:{lib.free_port()}/none",
               DB_CONNECT_TIMEOUT="2")
    s3 = lib.Server("auth", env=env)
    try:
        status, hdrs, obj = s3.json("POST", "/api/auth/login",
                                    {"username": "alice", "password": "alice-pass-1"})
        tap.check("login with the database down: 503",
                  status == 503 and lib.is_error(obj, "db_unavailable"), f"{status} {obj}")
        status, hdrs, obj = s3.json("GET", "/api/auth/me",
                                    headers={"Authorization": f"Bearer {body['token']}"})
        tap.check("me with the database down: 503, not 401",
                  status == 503 and lib.is_error(obj, "db_unavailable"), f"{status} {obj}")
    finally:
        s3.stop()


def test_invoke_event():
    """Through an API Gateway v2 event (the Lambda path): cookies array and headers."""
    body = fresh_login()
    ev = {"version": "2.0", "routeKey": "$default", "rawPath": "/api/auth/me",
          "rawQueryString": "", "cookies": [f"session={body['token']}"],
          "headers": {"host": "example.com", "x-forwarded-proto": "https"},
          "requestContext": {"http": {"method": "GET", "path": "/api/auth/me",
                                      "sourceIp": "203.0.113.5"}},
          "isBase64Encoded": False}
    rc, out, err = lib.invoke("auth", ev, env=ENV)
    got = json.loads(out.get("body") or "null") if isinstance(out, dict) else None
    tap.check("me through a v2 event with the session cookie: 200",
              rc == 0 and out.get("statusCode") == 200 and
              (got or {}).get("user", {}).get("username") == "alice", f"{rc} {out} {err[-300:]}")


def test_password_reset():
    p = admin("create", "forgetful", stdin="other-pass-1\n")
    untouched = q("SELECT password_hash FROM admin_users WHERE username = 'forgetful'")
    p = admin("create", "forgetful2", stdin="old-pass-1\n")
    tap.eq("a user to reset: exit 0", p.returncode, 0)
    session = fresh_login("forgetful2", "old-pass-1", ip="192.0.2.77")
    p = admin("password", "forgetful2", stdin="new-pass-2\n")
    tap.check("admin password: exit 0, says so", p.returncode == 0 and "forgetful2" in p.stdout,
              (p.returncode, p.stdout, p.stderr))
    st, _, _, _ = login("forgetful2", "old-pass-1", ip="192.0.2.78")
    tap.eq("the old password no longer signs in", st, 401)
    st, _, _, _ = login("forgetful2", "new-pass-2", ip="192.0.2.79")
    tap.eq("the new one does", st, 200)
    st, _, _ = me(token=session["token"])
    tap.eq("a session from before the reset is signed out", st, 401)
    p = admin("password", "nobody-here", stdin="x-pass\n")
    tap.check("an unknown user: exit 1 and says so", p.returncode == 1 and "no user" in p.stderr,
              (p.returncode, p.stderr))
    p = admin("password", "forgetful2", stdin="\n")
    tap.eq("an empty password is refused", p.returncode, 1)
    st, _, _, _ = login("forgetful2", "new-pass-2", ip="192.0.2.80")
    tap.eq("and changed nothing", st, 200)
    tap.eq("the other user's hash is untouched",
           q("SELECT password_hash FROM admin_users WHERE username = 'forgetful'"), untouched)


for t in (test_login_ok, test_wrong_password, test_validation, test_sql_metacharacters, test_me,
          test_tampered_and_forged, test_logout_bearer, test_csrf, test_expired_session,
          test_throttle_user, test_throttle_ip, test_session_hours, test_db_down,
          test_invoke_event, test_password_reset):
    tap.run(t)

log = lib.stop_clean(srv, "the auth server stops cleanly (no sanitizer report)",
                     "no sanitizer report in the server log", tail=2000,
                     markers=lib.SAN_ERRORS)
tap.check("no password in the server log",
          "alice-pass-1" not in log and (not ROOT_PW or ROOT_PW not in log))
tap.done()
