"""The comments function in HTTP mode against a real PostgreSQL: public
submission (validation, honeypot, rate limit, duplicates), moderation
(approve, spam, delete, admin reply), the public threaded list and its
paging, and what never leaves the server (emails, client hashes)."""
import hashlib
import hmac
import json
import os
import random
import re
import secrets
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import lit, tap  # noqa: E402

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
PUBLIC_KEYS = {"id", "parent_id", "author_name", "content", "created_at", "admin_reply",
               "admin_reply_at", "replies"}
RUN = f"{os.getpid()}-{int(time.time())}"


# ---- data ----
lib.migrate_or_done(name="migrate")


def article(name, status, when):
    slug = f"cm-{RUN}-{name}"
    return int(lib.psql("INSERT INTO articles (title, slug, status, published_at) VALUES"
                        f" ({lit('Comments ' + name)}, {lit(slug)}, {lit(status)}, {when})"
                        " RETURNING id"))


PUB = article("pub", "published", "now() - interval '1 day'")
OTHER = article("other", "published", "now() - interval '2 days'")
PAGED = article("paged", "published", "now() - interval '3 days'")
DRAFT = article("draft", "draft", "NULL")
FUTURE = article("future", "scheduled", "now() + interval '1 day'")

# An admin who never logs in (the CHECK only wants an argon2id prefix) and a
# session row; the bearer token minted exactly as auth.h specifies.
ADMIN_ID = int(lib.psql("INSERT INTO admin_users (username, password_hash) VALUES"
                        f" ('cm{RUN.replace('-', '')}', '$argon2id$v=19$m=65536,t=3,p=1$x$y')"
                        " RETURNING id"))


SESSION = secrets.token_hex(16)
lib.psql("INSERT INTO admin_sessions (id, user_id, expires_at) VALUES"
         f" ('{SESSION}', {ADMIN_ID}, now() + interval '1 hour')")
TOKEN = lib.mint("a", SESSION, ADMIN_ID, int(time.time()) + 3600)
AUTH = {"Authorization": "Bearer " + TOKEN}

# Every client gets its own address unless a test says otherwise, so the
# rate limit only bites where it is meant to.
_PREFIX = f"2001:db8:{random.getrandbits(16):x}:{random.getrandbits(16):x}"
_n = [0]


def new_ip():
    _n[0] += 1
    return f"{_PREFIX}::{_n[0]:x}"


# TRUST_PROXY=1: the tests play the proxy and name each client in
# X-Forwarded-For (its last entry is the one the proxy appended).
SRV = lib.Server("comments", env=lib.fn_env(COMMENT_RATE=3, COMMENT_RATE_WINDOW_S=600,
                                            TRUST_PROXY=1))


def submit(art, body, ip=None, srv=None):
    return (srv or SRV).json("POST", f"/api/articles/{art}/comments", body,
                             {"X-Forwarded-For": ip or new_ip()})


def comment(art, content, name="Reader", parent=None, email=None, ip=None):
    """Submits one comment and returns its id (asserting the 201)."""
    body = {"author_name": name, "content": content}
    if parent is not None:
        body["parent_id"] = parent
    if email is not None:
        body["author_email"] = email
    st, _, obj = submit(art, body, ip)
    if st != 201:
        raise AssertionError(f"submit: {st} {obj}")
    return obj["id"]


def admin(method, path, body=None, headers=None):
    return SRV.json(method, path, body, dict(AUTH, **(headers or {})))


def approve(cid):
    st, _, obj = admin("POST", f"/api/admin/comments/{cid}/approve")
    if st != 200:
        raise AssertionError(f"approve {cid}: {st} {obj}")
    return obj


def public(art, query=""):
    st, hdrs, data = SRV.request("GET", f"/api/articles/{art}/comments{query}")
    obj = json.loads(data) if data else None
    return st, hdrs, data, obj


def flat_ids(listing):
    out = []
    for c in listing["items"]:
        out.append(c["id"])
        out.extend(r["id"] for r in c["replies"])
    return out


def db(sql):
    return lib.psql(sql)


# ---- tests ----

def test_submit_pending_until_approved():
    ip = new_ip()
    body = {"author_name": "Ann", "author_email": "ann@example.com",
            "content": "  Hello   WORLD\n from Ann  "}
    st, hdrs, obj = submit(PUB, body, ip=f"10.0.0.1, {ip}")
    tap.eq("submit answers 201", st, 201)
    tap.check("submit JSON content type", hdrs.get("content-type", "").startswith(
        "application/json"), hdrs)
    tap.check("submit body is {id, status: pending}",
              isinstance(obj, dict) and set(obj) == {"id", "status"}
              and isinstance(obj["id"], int) and obj["status"] == "pending", obj)
    cid = obj["id"]
    row = db("SELECT status, content, author_email, ip_hash, content_hash FROM comments"
             f" WHERE id = {cid}").split("|")
    tap.eq("stored as pending", row[0], "pending")
    tap.eq("content stored trimmed", row[1], "Hello   WORLD\n from Ann")
    tap.eq("email stored for the admin", row[2], "ann@example.com")
    want_ip = hmac.new(lib.SECRET.encode(), ip.encode(), hashlib.sha256).hexdigest()
    tap.eq("ip_hash is HMAC(APP_SECRET, the proxy's X-Forwarded-For entry)", row[3], want_ip)
    tap.eq("content_hash is sha256 of the normalised content", row[4],
           hashlib.sha256(b"hello world from ann").hexdigest())
    tap.check("the address itself is stored nowhere", ip not in "|".join(row), row)

    st, hdrs, data, lst = public(PUB)
    tap.eq("public list 200", st, 200)
    tap.check("pending comment invisible publicly", cid not in flat_ids(lst), lst)

    st, _, q = admin("GET", "/api/admin/comments")
    mine = [c for c in (q or {}).get("items", []) if c["id"] == cid]
    tap.check("admin pending list (default status) has it", st == 200 and len(mine) == 1, q)
    if mine:
        tap.eq("admin sees the email", mine[0]["author_email"], "ann@example.com")
        tap.eq("admin sees the article", mine[0]["article"],
               {"id": PUB, "title": "Comments pub", "slug": f"cm-{RUN}-pub"})
        tap.eq("admin sees the status", mine[0]["status"], "pending")
        tap.check("admin output has no client hash",
                  "ip_hash" not in mine[0] and "content_hash" not in mine[0], mine[0])

    a = approve(cid)
    tap.eq("approve answers the comment", (a["id"], a["status"]), (cid, "approved"))
    st, hdrs, data, lst = public(PUB)
    got = [c for c in lst["items"] if c["id"] == cid]
    tap.check("approved comment is public", len(got) == 1, lst)
    if got:
        tap.eq("public comment has exactly the public keys", set(got[0]), PUBLIC_KEYS)
        tap.check("created_at is RFC 3339 UTC", RFC3339.match(got[0]["created_at"]), got[0])
        tap.eq("public content", got[0]["content"], "Hello   WORLD\n from Ann")
    tap.check("the email never appears in public output", b"ann@example.com" not in data)
    tap.check("no email/hash keys in public output",
              all(k not in data for k in (b"author_email", b"ip_hash", b"content_hash")))
    tap.check("public list JSON content type",
              dict((k.lower(), v) for k, v in hdrs)["content-type"].startswith(
                  "application/json"))


def test_threads_and_admin_reply():
    art = article(f"thread{random.getrandbits(20)}", "published", "now() - interval '1 hour'")
    a = comment(art, "top A")
    b_pending_parent = comment(art, "top B (stays pending)")
    approve(a)
    st, _, obj = submit(art, {"author_name": "x", "content": "reply to pending",
                              "parent_id": b_pending_parent})
    tap.check("reply to a pending comment -> 422 parent_id",
              st == 422 and lib.is_error(obj, "validation_failed", "parent_id"), (st, obj))
    r1 = comment(art, "reply 1 to A", parent=a)
    approve(r1)
    r2 = comment(art, "reply 2 to reply 1", parent=r1)
    approve(r2)
    r3 = comment(art, "reply 3 to A, pending", parent=a)
    later = comment(art, "top C")
    approve(later)

    st, _, _, lst = public(art)
    tap.eq("top level oldest first", [c["id"] for c in lst["items"]], [a, later])
    ra = lst["items"][0]["replies"]
    tap.eq("replies of replies flattened under the thread, oldest first",
           [r["id"] for r in ra], [r1, r2])
    tap.eq("each reply keeps its own parent", [r["parent_id"] for r in ra], [a, r1])
    tap.check("replies carry the public keys", all(set(r) == PUBLIC_KEYS for r in ra), ra)
    tap.check("pending reply not shown", r3 not in flat_ids(lst), lst)
    tap.eq("total counts visible comments", (lst["total"], lst["threads"]), (4, 2))

    st, _, obj = admin("PUT", f"/api/admin/comments/{a}/reply", {"reply": "  Thanks, <b>A</b>!  "})
    tap.check("admin reply 200", st == 200 and obj["admin_reply"] == "Thanks, <b>A</b>!", obj)
    st, _, _, lst = public(art)
    top = lst["items"][0]
    tap.eq("public shows the admin reply", top["admin_reply"], "Thanks, <b>A</b>!")
    tap.check("admin_reply_at is RFC 3339", isinstance(top["admin_reply_at"], str)
              and RFC3339.match(top["admin_reply_at"]), top)
    st, _, obj = admin("PUT", f"/api/admin/comments/{a}/reply", {"reply": "x" * 5001})
    tap.check("reply over 5000 -> 422 reply",
              st == 422 and lib.is_error(obj, "validation_failed", "reply"), (st, obj))
    st, _, obj = admin("PUT", f"/api/admin/comments/{a}/reply", {})
    tap.check("reply missing -> 422 reply",
              st == 422 and lib.is_error(obj, "validation_failed", "reply"), (st, obj))
    st, _, obj = admin("PUT", f"/api/admin/comments/{a}/reply", {"reply": ""})
    tap.check("empty reply clears it", st == 200 and obj["admin_reply"] is None
              and obj["admin_reply_at"] is None, obj)
    st, _, _, lst = public(art)
    tap.eq("cleared publicly", (lst["items"][0]["admin_reply"],
                                lst["items"][0]["admin_reply_at"]), (None, None))

    # Spam in the middle of a chain hides what hangs below it.
    st, _, obj = admin("POST", f"/api/admin/comments/{r1}/spam")
    tap.check("spam answers 200 with status spam", st == 200 and obj["status"] == "spam", obj)
    st, _, _, lst = public(art)
    tap.eq("spammed reply and its replies hidden", lst["items"][0]["replies"], [])
    tap.eq("total follows", lst["total"], 2)


def test_spam_and_delete_hide():
    x = comment(PUB, "to be marked spam")
    y = comment(PUB, "to be deleted")
    approve(x)
    approve(y)
    st, _, _, lst = public(PUB)
    tap.check("both visible after approval", {x, y} <= set(flat_ids(lst)), lst)
    st, _, obj = admin("POST", f"/api/admin/comments/{x}/spam")
    tap.eq("spam 200", st, 200)
    st, hdrs, obj = admin("DELETE", f"/api/admin/comments/{y}")
    tap.check("delete 204 without body", st == 204 and obj is None, (st, obj))
    st, _, _, lst = public(PUB)
    ids = flat_ids(lst)
    tap.check("spam hidden publicly", x not in ids, ids)
    tap.check("deleted hidden publicly", y not in ids, ids)
    tap.eq("delete is soft", db(f"SELECT status FROM comments WHERE id = {y}"), "deleted")
    for status, cid in (("spam", x), ("deleted", y)):
        st, _, q = admin("GET", f"/api/admin/comments?status={status}&limit=100")
        tap.check(f"admin list status={status} has it",
                  st == 200 and cid in [c["id"] for c in q["items"]]
                  and all(c["status"] == status for c in q["items"]), q)
    st, _, obj = admin("GET", "/api/admin/comments?status=bogus")
    tap.check("unknown status -> 400 field status",
              st == 400 and lib.is_error(obj, field="status"), (st, obj))


def test_honeypot():
    marker = f"honeypot {RUN} {random.getrandbits(32)}"
    before = db("SELECT count(*) FROM comments")
    st, hdrs, obj = submit(PUB, {"author_name": "bot", "content": marker,
                                 "website": "http://spam.example"})
    tap.eq("filled honeypot answers 201", st, 201)
    tap.check("honeypot answer looks like a real one",
              isinstance(obj, dict) and set(obj) == {"id", "status"}
              and obj["status"] == "pending" and isinstance(obj["id"], int), obj)
    tap.eq("honeypot stores nothing",
           db(f"SELECT count(*) FROM comments WHERE content = {lit(marker)}"), "0")
    tap.eq("no row at all was added", db("SELECT count(*) FROM comments"), before)
    st, _, obj = submit(PUB, {"author_name": "bot", "content": marker, "website": 1})
    tap.check("non-string honeypot also fake 201", st == 201, (st, obj))
    tap.eq("still nothing stored",
           db(f"SELECT count(*) FROM comments WHERE content = {lit(marker)}"), "0")
    st, _, obj = submit(PUB, {"author_name": "person", "content": marker, "website": ""})
    tap.eq("empty honeypot is a person", st, 201)
    tap.eq("and is stored", db(f"SELECT count(*) FROM comments WHERE content = {lit(marker)}"),
           "1")


def test_rate_limit():
    ip = new_ip()
    codes = [submit(PUB, {"author_name": "r", "content": f"rate {i} {RUN}"}, ip=ip)[0]
             for i in range(3)]
    tap.eq("COMMENT_RATE=3: three accepted", codes, [201, 201, 201])
    st, hdrs, obj = submit(PUB, {"author_name": "r", "content": f"rate 4 {RUN}"}, ip=ip)
    tap.check("the fourth -> 429 too_many_requests",
              st == 429 and lib.is_error(obj, "too_many_requests"), (st, obj))
    ra = hdrs.get("retry-after", "")
    tap.check("Retry-After within the window", ra.isdigit() and 1 <= int(ra) <= 600, hdrs)
    st, _, _ = submit(PUB, {"author_name": "r", "content": f"rate 5 {RUN}"},
                      ip=f"192.0.2.7, {ip}")
    tap.eq("a forged first X-Forwarded-For entry does not escape the limit", st, 429)
    tap.eq("rejected ones are not stored",
           db(f"SELECT count(*) FROM comments WHERE content LIKE 'rate % {RUN}'"), "3")
    st, _, _ = submit(PUB, {"author_name": "r", "content": f"rate other {RUN}"})
    tap.eq("another client is not limited", st, 201)

    # The default (5 per 600 s) when nothing is configured.
    srv = lib.Server("comments", env=lib.fn_env(COMMENT_RATE=None, COMMENT_RATE_WINDOW_S=None))
    try:
        ip = new_ip()
        codes = [submit(OTHER, {"author_name": "d", "content": f"default {i} {RUN}"},
                        ip=ip, srv=srv)[0] for i in range(6)]
        tap.eq("default COMMENT_RATE is 5", codes, [201] * 5 + [429])
        # Without TRUST_PROXY the header is the client's to write: ignored.
        st, _, _ = submit(OTHER, {"author_name": "d", "content": f"spoofed {RUN}"},
                          ip=new_ip(), srv=srv)
        tap.eq("without TRUST_PROXY a new X-Forwarded-For is still the same client", st, 429)
    finally:
        srv.stop()

    rc, _, err = lib.invoke("comments", {"method": "GET", "path": "/api/articles/1/comments"},
                            env=lib.fn_env(COMMENT_RATE="0"))
    tap.check("COMMENT_RATE=0 refuses to start", rc != 0 and "COMMENT_RATE" in err, (rc, err))
    rc, _, err = lib.invoke("comments", {"method": "GET", "path": "/api/articles/1/comments"},
                            env=lib.fn_env(COMMENT_RATE_WINDOW_S="ten"))
    tap.check("bad COMMENT_RATE_WINDOW_S refuses to start",
              rc != 0 and "COMMENT_RATE_WINDOW_S" in err, (rc, err))


def test_duplicates():
    ip = new_ip()
    text = f"Great post, {RUN}!"
    st, _, _ = submit(PUB, {"author_name": "d", "content": text}, ip=ip)
    tap.eq("first copy accepted", st, 201)
    st, _, obj = submit(PUB, {"author_name": "d2", "content": "  " + text.upper().replace(
        " ", " \n\t ") + " "}, ip=ip)
    tap.check("same normalised content, same client, same article -> 409 duplicate",
              st == 409 and lib.is_error(obj, "duplicate"), (st, obj))
    st, _, _ = submit(OTHER, {"author_name": "d", "content": text}, ip=ip)
    tap.eq("same text on another article is fine", st, 201)
    st, _, _ = submit(PUB, {"author_name": "e", "content": text})
    tap.eq("same text from another client is fine", st, 201)
    tap.eq("one stored per accepted submission",
           db(f"SELECT count(*) FROM comments WHERE lower(content) = lower({lit(text)})"), "3")


def test_xss_inert():
    name = "<script>alert('name')</script>\"&amp;"
    content = ("<img src=x onerror=alert(1)><a href=\"javascript:alert(2)\">x</a>"
               "</textarea>&lt;\u2028<svg/onload=alert(3)> 你好 👋")
    cid = comment(PUB, content, name=name)
    approve(cid)
    st, hdrs, data, lst = public(PUB)
    ctype = dict((k.lower(), v) for k, v in hdrs).get("content-type", "")
    tap.check("list is application/json", ctype.startswith("application/json"), ctype)
    got = [c for c in lst["items"] if c["id"] == cid]
    tap.check("XSS comment listed", len(got) == 1, lst)
    if got:
        tap.eq("author_name comes back byte-identical", got[0]["author_name"], name)
        tap.eq("content comes back byte-identical", got[0]["content"], content)
    tap.check("no HTML escaping applied server-side", b"&lt;script" not in data, data[:200])
    st, _, q = admin("GET", "/api/admin/comments?status=approved&limit=100")
    mine = [c for c in q["items"] if c["id"] == cid]
    tap.check("admin list byte-identical too",
              mine and mine[0]["content"] == content and mine[0]["author_name"] == name, mine)


def test_parent_rules():
    other_parent = comment(OTHER, "approved on the other article")
    approve(other_parent)
    st, _, obj = submit(PUB, {"author_name": "p", "content": "cross-article reply",
                              "parent_id": other_parent})
    tap.check("parent from another article -> 422 parent_id",
              st == 422 and lib.is_error(obj, "validation_failed", "parent_id"), (st, obj))
    st, _, obj = submit(PUB, {"author_name": "p", "content": "reply to nothing",
                              "parent_id": 9007199254740000})
    tap.check("unknown parent -> 422 parent_id",
              st == 422 and lib.is_error(obj, "validation_failed", "parent_id"), (st, obj))
    st, _, obj = submit(PUB, {"author_name": "p", "content": "reply", "parent_id": "1 OR 1=1"})
    tap.check("string parent_id -> 422 parent_id",
              st == 422 and lib.is_error(obj, "validation_failed", "parent_id"), (st, obj))
    st, _, obj = submit(PUB, {"author_name": "p", "content": "top via null", "parent_id": None})
    tap.eq("null parent_id is a top-level comment", st, 201)


def test_non_public_articles():
    for art, what in ((DRAFT, "draft"), (FUTURE, "future scheduled"),
                      (9007199254740000, "unknown")):
        st, _, _, obj = public(art)
        tap.check(f"GET comments of a {what} article -> 404",
                  st == 404 and lib.is_error(obj, "not_found"), (st, obj))
        st, _, obj = submit(art, {"author_name": "n", "content": f"on {what} {RUN}"})
        tap.check(f"POST comment on a {what} article -> 404",
                  st == 404 and lib.is_error(obj, "not_found"), (st, obj))
    tap.eq("nothing stored for a draft",
           db(f"SELECT count(*) FROM comments WHERE article_id IN ({DRAFT}, {FUTURE})"), "0")
    st, _, _, obj = public("abc")
    tap.check("non-numeric article id -> 400",
              st == 400 and lib.is_error(obj, field="id"), (st, obj))


def test_validation():
    good = {"author_name": "V", "content": "valid"}
    cases = [
        ("missing author_name", {"content": "c"}, "author_name"),
        ("empty author_name", {"author_name": "", "content": "c"}, "author_name"),
        ("blank author_name", {"author_name": " \u3000 ", "content": "c"}, "author_name"),
        ("81-char author_name", {"author_name": "n" * 81, "content": "c"}, "author_name"),
        ("numeric author_name", {"author_name": 5, "content": "c"}, "author_name"),
        ("missing content", {"author_name": "n"}, "content"),
        ("empty content", {"author_name": "n", "content": ""}, "content"),
        ("whitespace-only content", {"author_name": "n", "content": " \n\t\u00a0\u3000 "},
         "content"),
        ("5001-char content", {"author_name": "n", "content": "c" * 5001}, "content"),
        ("email without @", dict(good, author_email="ann.example.com"), "author_email"),
        ("email with two @", dict(good, author_email="a@b@example.com"), "author_email"),
        ("email with a space", dict(good, author_email="a b@example.com"), "author_email"),
        ("email without domain dot", dict(good, author_email="ann@localhost"),
         "author_email"),
        ("email with empty local part", dict(good, author_email="@example.com"),
         "author_email"),
        ("email over 254", dict(good, author_email="a" * 250 + "@b.cd"), "author_email"),
        ("email not a string", dict(good, author_email=["a@b.c"]), "author_email"),
    ]
    for name, body, field in cases:
        st, _, obj = submit(PUB, body)
        tap.check(f"{name} -> 422 field {field}",
                  st == 422 and lib.is_error(obj, "validation_failed", field), (st, obj))
    st, _, obj = submit(PUB, {"author_name": "n" * 80, "content": " " + "é" * 5000 + "\n",
                              "author_email": ""})
    tap.check("80-char name, 5000 chars after trimming, empty email accepted", st == 201,
              (st, obj))
    if st == 201:
        tap.eq("empty email stored as none",
               db(f"SELECT author_email IS NULL FROM comments WHERE id = {obj['id']}"), "t")
    st, _, data = SRV.request("POST", f"/api/articles/{PUB}/comments", "{not json",
                              {"Content-Type": "application/json",
                               "X-Forwarded-For": new_ip()})
    tap.eq("malformed JSON -> 400", st, 400)
    st, _, data = SRV.request("POST", f"/api/articles/{PUB}/comments", "author_name=x",
                              {"Content-Type": "text/plain", "X-Forwarded-For": new_ip()})
    tap.eq("text/plain body -> 415", st, 415)
    # An HTML form without JavaScript: stored checks apply, then back to the page.
    st, _, data = SRV.request("POST", f"/api/articles/{PUB}/comments", "author_name=x",
                              {"Content-Type": "application/x-www-form-urlencoded",
                               "X-Forwarded-For": new_ip()})
    tap.eq("form body without content -> 303 back to the article", st, 303)
    st, _, obj = submit(PUB, ["not", "an", "object"])
    tap.eq("non-object JSON -> 422", st, 422)


def test_pagination():
    ids = [comment(PAGED, f"page item {i}") for i in range(7)]
    for cid in ids:
        approve(cid)
    # Two at the very same instant: the id breaks the tie.
    db(f"UPDATE comments SET created_at = date_trunc('second', now()) - interval '1 hour'"
       f" WHERE id IN ({ids[2]}, {ids[3]})")
    db(f"UPDATE comments SET created_at = now() - interval '2 hours' WHERE id = {ids[5]}")
    reply = comment(PAGED, "a reply on the first page", parent=ids[0])
    approve(reply)
    want = [int(x) for x in db(
        f"SELECT id FROM comments WHERE article_id = {PAGED} AND parent_id IS NULL"
        " AND status = 'approved' ORDER BY created_at, id").split()]

    seen, pages, cursor = [], 0, None
    while True:
        q = "?limit=3" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        st, _, _, lst = public(PAGED, q)
        if st != 200:
            tap.check("page fetch", False, (st, lst))
            break
        pages += 1
        if pages == 1:
            tap.eq("total and threads on every page", (lst["total"], lst["threads"]), (8, 7))
            # A comment arriving while paging lands at the end, once.
            late = comment(PAGED, "arrived while paging")
            approve(late)
            want.append(late)
        tap.check("page size at most the limit", len(lst["items"]) <= 3, lst)
        seen.extend(c["id"] for c in lst["items"])
        cursor = lst["next_cursor"]
        if cursor is None or pages > 10:
            break
    tap.eq("pages cover every top-level comment once, in order", seen, want)
    tap.eq("no duplicates", len(seen), len(set(seen)))
    tap.eq("three pages of 3, 3, 2", pages, 3)

    for bad in ("?cursor=abc", "?cursor=" + urllib.parse.quote("MTIz.AAAA"),
                "?limit=0", "?limit=101", "?limit=3x"):
        st, _, _, obj = public(PAGED, bad)
        tap.check(f"{bad} -> 400", st == 400 and lib.is_error(obj), (st, obj))
    st, _, _, obj = public(PAGED, "?cursor=" + urllib.parse.quote("MTIz.AAAA"))
    tap.check("forged cursor -> invalid_cursor", lib.is_error(obj, "invalid_cursor", "cursor"),
              obj)

    # The admin queue pages newest first without gaps or repeats; two
    # comments at the very same (newest) instant: the higher id first.
    tie = [comment(OTHER, f"admin tie {i} {RUN}") for i in range(2)]
    for cid in tie:
        approve(cid)
    db("UPDATE comments SET created_at = date_trunc('second', now()) + interval '1 minute'"
       f" WHERE id IN ({tie[0]}, {tie[1]})")
    st, _, lst = admin("GET", "/api/admin/comments?status=approved&limit=1")
    tap.check("admin first page: newest, ties by id descending",
              st == 200 and [c["id"] for c in lst["items"]] == [tie[1]], lst)
    seen, cursor, ok_order, prev = [], None, True, None
    for _ in range(200):
        q = "?status=approved&limit=4" + (f"&cursor={urllib.parse.quote(cursor)}"
                                          if cursor else "")
        st, _, lst = admin("GET", "/api/admin/comments" + q)
        if st != 200:
            tap.check("admin page fetch", False, (st, lst))
            break
        for c in lst["items"]:
            key = (c["created_at"], c["id"])
            if prev is not None and key > prev:
                ok_order = False
            prev = key
            seen.append(c["id"])
        cursor = lst["next_cursor"]
        if cursor is None:
            break
    tap.check("admin list newest first", ok_order)
    tap.eq("admin pages have no duplicates", len(seen), len(set(seen)))
    tap.check("admin pages include every approved comment of the article",
              set(want) | {reply} <= set(seen), (want, seen))
    tap.eq("admin pages hold every approved comment",
           len(seen), int(db("SELECT count(*) FROM comments WHERE status = 'approved'")))


def test_admin_requires_auth():
    routes = [("GET", "/api/admin/comments", None),
              ("POST", f"/api/admin/comments/1/approve", None),
              ("POST", f"/api/admin/comments/1/spam", None),
              ("DELETE", f"/api/admin/comments/1", None),
              ("PUT", f"/api/admin/comments/1/reply", {"reply": "hi"})]
    bad_tokens = {
        "anonymous": {},
        "garbage token": {"Authorization": "Bearer nope"},
        "wrong key": {"Authorization": "Bearer " + TOKEN[:-2] + ("AA" if TOKEN[-2:] != "AA"
                                                                  else "BB")},
        "unknown session": {"Authorization": "Bearer " + lib.mint("a", secrets.token_hex(16),
                                                                  ADMIN_ID,
                                                                  int(time.time()) + 3600)},
    }
    marker = comment(PUB, f"untouched by anonymous {RUN}")
    for who, hdrs in bad_tokens.items():
        for method, path, body in routes:
            path = path.replace("/1/", f"/{marker}/").replace("/1", f"/{marker}")
            st, _, obj = SRV.json(method, path, body, hdrs)
            tap.check(f"{who} {method} {path.split('/')[-1]} -> 401",
                      st == 401 and lib.is_error(obj), (st, obj))
    tap.check("nothing changed by them",
              db(f"SELECT status, admin_reply IS NULL FROM comments WHERE id = {marker}")
              == "pending|t")


def test_sql_metacharacters():
    name = "Robert'); DROP TABLE comments; --"
    email = "o'brien+%_x@ex-ample.com"
    content = "'; DELETE FROM comments WHERE '1'='1' -- \\ $1 %s _% /* */ \"q\" ;"
    st, _, obj = submit(PUB, {"author_name": name, "author_email": email, "content": content})
    tap.eq("metacharacter submission accepted", st, 201)
    cid = obj["id"]
    row = db("SELECT author_name || '|' || author_email || '|' || content FROM comments"
             f" WHERE id = {cid}")
    tap.eq("name, email and content stored literally", row, f"{name}|{email}|{content}")
    reply = "1'); UPDATE comments SET status='approved'; --"
    st, _, obj = admin("PUT", f"/api/admin/comments/{cid}/reply", {"reply": reply})
    tap.check("metacharacter admin reply stored literally",
              st == 200 and db(f"SELECT admin_reply FROM comments WHERE id = {cid}") == reply,
              (st, obj))
    tap.eq("the reply did not approve anything", db(f"SELECT status FROM comments WHERE id = {cid}"),
           "pending")
    approve(cid)
    st, _, _, lst = public(PUB)
    got = [c for c in lst["items"] if c["id"] == cid]
    tap.check("metacharacters come back identical",
              got and got[0]["author_name"] == name and got[0]["content"] == content, got)
    for q in ("?status=" + urllib.parse.quote("pending' OR '1'='1"),
              "?cursor=" + urllib.parse.quote("' OR 1=1 --"),
              "?limit=" + urllib.parse.quote("1; DROP TABLE comments")):
        st, _, obj = admin("GET", "/api/admin/comments" + q)
        tap.check(f"admin list {q[:12]}... -> 400", st == 400 and lib.is_error(obj), (st, obj))
        st, _, _, obj = public(PUB, q)
        if "status" not in q:
            tap.check(f"public list {q[:12]}... -> 400", st == 400 and lib.is_error(obj),
                      (st, obj))
    for path in (f"/api/articles/{urllib.parse.quote(str(PUB) + chr(39) + ' OR 1=1--')}/comments",
                 f"/api/admin/comments/{urllib.parse.quote('1 OR 1=1')}/approve"):
        st, _, obj = admin("POST" if "approve" in path else "GET", path)
        tap.check(f"metacharacters in a path id -> 400",
                  st == 400 and lib.is_error(obj, field="id"), (st, obj))
    tap.check("comments table intact", int(db("SELECT count(*) FROM comments")) > 0)


def test_missing_comment_writes():
    missing = int(db("SELECT coalesce(max(id), 0) + 1000000 FROM comments"))
    for method, suffix, body in (("POST", "/approve", None), ("POST", "/spam", None),
                                 ("DELETE", "", None), ("PUT", "/reply", {"reply": "x"})):
        st, _, obj = admin(method, f"/api/admin/comments/{missing}{suffix}", body)
        tap.check(f"{method} {suffix or '(delete)'} on a missing comment -> 404",
                  st == 404 and lib.is_error(obj, "not_found"), (st, obj))


try:
    for t in (test_submit_pending_until_approved, test_threads_and_admin_reply,
              test_spam_and_delete_hide, test_honeypot, test_rate_limit, test_duplicates,
              test_xss_inert, test_parent_rules, test_non_public_articles, test_validation,
              test_pagination, test_admin_requires_auth, test_sql_metacharacters,
              test_missing_comment_writes):
        tap.run(t)
finally:
    lib.stop_clean(SRV, "comments exits cleanly (no sanitizer reports)",
                   "no sanitizer report in the log", tail=2000, markers=lib.SAN_ERRORS)
tap.done()
