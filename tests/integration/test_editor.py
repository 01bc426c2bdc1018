"""The browser admin's two endpoints of the articles function (editor.c) in
HTTP mode against a real PostgreSQL: GET /api/admin/stats (the dashboard's
counts) and POST /api/admin/preview (the editor's live Markdown preview).

Authentication as for every admin route (401 without a session, CSRF on a
cookie POST), counts that follow article and comment changes made through
the real APIs, a preview that renders Markdown exactly as a save stores it
and neutralises raw HTML and javascript: links, and 4xx on bad input.

The admin's token and CSRF token are minted here as auth.h specifies, for a
session row inserted with psql, so this file does not need the auth
function."""
import datetime
import hashlib
import hmac
import json
import os
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import tap  # noqa: E402

U = secrets.token_hex(3)
DB_NAME = f"editor_{os.getpid()}"
URL = lib.fresh_database(DB_NAME)
ENV = lib.fn_env(DATABASE_URL=URL)
MB = 1024 * 1024


def q(sql):
    """psql on the test database (setup and checks only)."""
    return lib.psql(sql, url=URL)


def csrf_for(session):
    return hmac.new(lib.SECRET.encode(), f"csrf.{session}".encode(), hashlib.sha256).hexdigest()


# ---- set-up: schema, an admin with a session, the two functions ----
lib.migrate_or_done(ENV)

ADMIN_ID, SESSION, EXPIRES, TOKEN = lib.admin_session(URL, f"editor_{U}")
CSRF = csrf_for(SESSION)
BEARER = {"Authorization": "Bearer " + TOKEN}
COOKIE = {"Cookie": "session=" + TOKEN}

srv = lib.Server("articles", env=ENV)
comments = lib.Server("comments", env=ENV)


def api(method, path, body=None, headers=None, server=None):
    h = dict(BEARER)
    h.update(headers or {})
    return (server or srv).json(method, path, body, h)


def stats():
    status, _, obj = api("GET", "/api/admin/stats")
    if status != 200:
        raise AssertionError(f"stats: {status} {obj}")
    return obj


def preview(md):
    status, _, obj = api("POST", "/api/admin/preview", {"markdown": md})
    if status != 200 or not isinstance(obj, dict) or not isinstance(obj.get("html"), str):
        raise AssertionError(f"preview: {status} {obj}")
    return obj["html"]


def create(body):
    status, _, obj = api("POST", "/api/articles", body)
    if status != 201:
        raise AssertionError(f"create {body.get('title')!r}: {status} {obj}")
    return obj


def future(hours=48):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def add_comment(article_id, n):
    """A reader's comment through the public API (stored pending); its id."""
    status, _, obj = comments.json("POST", f"/api/articles/{article_id}/comments",
                                   {"author_name": "Reader", "content": f"Nice post #{n} {U}"})
    if status != 201:
        raise AssertionError(f"comment: {status} {obj}")
    return obj["id"]


# ---- authentication ----


def test_auth_required():
    for method, path, body in (("GET", "/api/admin/stats", None),
                               ("POST", "/api/admin/preview", {"markdown": "# hi"})):
        status, hdrs, obj = srv.json(method, path, body)
        tap.check(f"{method} {path} without a session: 401 unauthorized",
                  status == 401 and lib.is_error(obj, "unauthorized"), f"{status} {obj}")
        tap.check(f"{method} {path} 401 carries WWW-Authenticate: Bearer",
                  hdrs.get("www-authenticate", "").startswith("Bearer"), hdrs)
        forged = lib.mint("a", SESSION, ADMIN_ID, EXPIRES)[:-2] + "AA"
        status, _, obj = srv.json(method, path, body, {"Authorization": "Bearer " + forged})
        tap.eq(f"{method} {path} with a tampered token: 401", status, 401)
        other = secrets.token_hex(16)  # a well-signed token for a session that never existed
        status, _, obj = srv.json(method, path, body, {"Authorization": "Bearer "
                                                       + lib.mint("a", other, ADMIN_ID, EXPIRES)})
        tap.eq(f"{method} {path} with an unknown session: 401", status, 401)
    # a revoked session stops working at once
    revoked = secrets.token_hex(16)
    q(f"INSERT INTO admin_sessions (id, user_id, expires_at, revoked_at) VALUES ('{revoked}',"
      f" {ADMIN_ID}, to_timestamp({EXPIRES}), now())")
    status, _, _ = srv.json("GET", "/api/admin/stats", None, {"Authorization": "Bearer "
                            + lib.mint("a", revoked, ADMIN_ID, EXPIRES)})
    tap.eq("stats with a revoked session: 401", status, 401)


def test_csrf():
    status, _, obj = srv.json("GET", "/api/admin/stats", None, COOKIE)
    tap.check("cookie GET stats needs no CSRF token: 200", status == 200, f"{status} {obj}")
    body = {"markdown": "*x*"}
    for name, extra in (("no X-CSRF-Token", {}),
                        ("a wrong X-CSRF-Token", {"X-CSRF-Token": "0" * 64}),
                        ("another session's X-CSRF-Token",
                         {"X-CSRF-Token": csrf_for(secrets.token_hex(16))}),
                        ("a foreign Origin", {"X-CSRF-Token": CSRF,
                                              "Origin": "http://evil.example"})):
        status, _, obj = srv.json("POST", "/api/admin/preview", body, dict(COOKIE, **extra))
        tap.check(f"cookie preview with {name}: 403 csrf_failed",
                  status == 403 and lib.is_error(obj, "csrf_failed"), f"{status} {obj}")
    status, _, obj = srv.json("POST", "/api/admin/preview", body,
                              dict(COOKIE, **{"X-CSRF-Token": CSRF,
                                              "Origin": f"http://127.0.0.1:{srv.port}"}))
    tap.check("cookie preview with the right X-CSRF-Token and own Origin: 200",
              status == 200 and obj == {"html": "<p><em>x</em></p>\n"}, f"{status} {obj}")
    status, _, obj = srv.json("POST", "/api/admin/preview", body, BEARER)
    tap.check("bearer preview needs no CSRF token: 200", status == 200, f"{status} {obj}")


# ---- stats ----

ZERO = {"articles": {"published": 0, "draft": 0, "scheduled": 0, "total": 0},
        "comments": {"pending": 0, "approved": 0, "spam": 0},
        "views": 0, "categories": 0, "tags": 0}


def test_stats_empty():
    status, hdrs, obj = api("GET", "/api/admin/stats")
    tap.eq("stats on an empty blog: 200", status, 200)
    tap.eq("stats on an empty blog: every count 0, exactly these keys", obj, ZERO)
    tap.eq("stats are not cached", hdrs.get("cache-control"), "no-store")
    tap.check("stats are JSON", hdrs.get("content-type", "").startswith("application/json"),
              hdrs)


def test_stats_follow_changes():
    def expect(name, **changes):
        """Stats equal ZERO but for changes; tags (automatic ones come and go
        with saves) default to the table's count unless given."""
        want = json.loads(json.dumps(ZERO))
        want["tags"] = int(q("SELECT count(*) FROM tags"))
        for key, val in changes.items():
            if "_" in key:
                group, field = key.split("_", 1)
                want[group][field] = val
            else:
                want[key] = val
        tap.eq(f"stats after {name}", stats(), want)

    cat = api("POST", "/api/categories", {"name": f"Notes {U}"})
    tap.eq("create a category: 201", cat[0], 201)
    expect("a category", categories=1)

    draft = create({"title": f"Draft {U}", "body_md": "plain words only"})
    expect("a draft", articles_draft=1, articles_total=1, categories=1)

    before = int(q("SELECT count(*) FROM tags"))
    pub = create({"title": f"Live {U}", "body_md": "hello", "status": "published",
                  "tags": [f"manual-{U}"]})
    expect("a published article with a new manual tag", articles_draft=1,
           articles_published=1, articles_total=2, categories=1)
    tap.check("the new manual tag is counted", stats()["tags"] >= before + 1,
              (before, stats()["tags"]))

    sched = create({"title": f"Later {U}", "body_md": "soon", "status": "scheduled",
                    "published_at": future()})
    base = dict(categories=1)
    expect("a scheduled article", articles_draft=1, articles_published=1,
           articles_scheduled=1, articles_total=3, **base)

    # A scheduled article whose time has come is live: it counts as published.
    q(f"UPDATE articles SET published_at = now() - interval '1 minute' WHERE id = {sched['id']}")
    expect("a scheduled article's time came", articles_draft=1, articles_published=2,
           articles_total=3, **base)
    q(f"UPDATE articles SET published_at = now() + interval '1 day' WHERE id = {sched['id']}")

    status, _, _ = api("PUT", f"/api/articles/{draft['id']}", {"status": "published"})
    tap.eq("publish the draft: 200", status, 200)
    expect("publishing the draft", articles_published=2, articles_scheduled=1,
           articles_total=3, **base)
    status, _, _ = api("PUT", f"/api/articles/{draft['id']}", {"status": "draft"})
    tap.eq("unpublish it again: 200", status, 200)
    expect("unpublishing", articles_draft=1, articles_published=1, articles_scheduled=1,
           articles_total=3, **base)

    # comments: submitted pending, then moderated through the comments API
    c1, c2, c3 = (add_comment(pub["id"], n) for n in range(3))
    arts = dict(articles_draft=1, articles_published=1, articles_scheduled=1, articles_total=3)
    expect("three pending comments", comments_pending=3, **arts, **base)
    tap.eq("approve one: 200", api("POST", f"/api/admin/comments/{c1}/approve",
                                   server=comments)[0], 200)
    tap.eq("mark one spam: 200", api("POST", f"/api/admin/comments/{c2}/spam",
                                     server=comments)[0], 200)
    expect("approve and spam", comments_pending=1, comments_approved=1, comments_spam=1,
           **arts, **base)
    tap.eq("delete one: 204", api("DELETE", f"/api/admin/comments/{c3}",
                                  server=comments)[0], 204)
    expect("deleting a comment (deleted ones are not counted)", comments_approved=1,
           comments_spam=1, **arts, **base)

    # views: a reader's view of the live article
    status, _, _ = srv.json("POST", f"/api/articles/{pub['id']}/views")
    tap.eq("a reader's view: 204", status, 204)
    expect("a view", comments_approved=1, comments_spam=1, views=1, **arts, **base)
    q(f"UPDATE articles SET view_count = 41 WHERE id = {sched['id']}")
    expect("views summed over articles", comments_approved=1, comments_spam=1, views=42,
           **arts, **base)

    before = int(q("SELECT count(*) FROM tags"))
    tag = api("POST", "/api/tags", {"name": f"Extra {U}"})
    tap.eq("create a tag: 201", tag[0], 201)
    expect("a new tag", comments_approved=1, comments_spam=1, views=42, categories=1,
           tags=before + 1, **arts)
    tap.eq("delete the tag: 204", api("DELETE", f"/api/tags/{tag[2]['id']}")[0], 204)
    tap.eq("delete the category: 204", api("DELETE", f"/api/categories/{cat[2]['id']}")[0], 204)

    tap.eq("delete the published article: 204", api("DELETE", f"/api/articles/{pub['id']}")[0],
           204)
    expect("deleting an article (its comments and views go with it)", articles_draft=1,
           articles_scheduled=1, articles_total=2, views=41)


# ---- preview ----


def test_preview_renders():
    html = preview("# Title\n\nSome *emphasis* and **strong**, `code` and a "
                   "[link](https://example.com/a?b=1&c=2).\n\n- one\n- two\n\n"
                   "![a cat](/storage/uploads/2026/01/cat.png)\n")
    for want in ("<h1>Title</h1>", "<em>emphasis</em>", "<strong>strong</strong>",
                 "<code>code</code>", '<a href="https://example.com/a?b=1&amp;c=2">link</a>',
                 "<li>one</li>", '<img src="/storage/uploads/2026/01/cat.png" alt="a cat"'):
        tap.check(f"preview renders {want}", want in html, html)
    tap.eq("preview of \"\" is empty", preview(""), "")
    tap.check("preview keeps UTF-8 (Chinese, emoji)",
              "中文标题 🎉" in preview("## 中文标题 🎉"), preview("## 中文标题 🎉"))


def test_preview_safe():
    cases = (
        ("<script>alert(1)</script>", "<script"),
        ('<img src=x onerror="alert(1)">', "<img src=x"),
        ('<a href="javascript:alert(1)">x</a>', "<a href"),
        ("<iframe src=//evil.example></iframe>", "<iframe"),
    )
    for md, bad in cases:
        html = preview(md)
        tap.check(f"raw HTML {md!r} comes out escaped", bad not in html and "&lt;" in html, html)
    for md in ("[click](javascript:alert(1))", "[click](JaVaScRiPt:alert(1))",
               "[click](vbscript:msgbox(1))", "![x](javascript:alert(1))",
               "<javascript:alert(1)>", "[c](data:text/html;base64,PHNjcmlwdD4=)"):
        html = preview(md)
        low = html.lower()
        tap.check(f"{md!r}: no dangerous URL in an attribute",
                  'href="javascript' not in low and 'src="javascript' not in low
                  and 'href="vbscript' not in low and 'href="data:text' not in low, html)


def test_preview_matches_save():
    md = ("Intro with <b>tags</b> & entities &amp; [a](https://x.example/?q=\"1\")\n\n"
          "```c\nint main(void) { return 0; }\n```\n\n> quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    art = create({"title": f"Same render {U}", "body_md": md})
    html = preview(md)
    tap.eq("the preview is the HTML a save stores", html, art["body_html"])
    api("DELETE", f"/api/articles/{art['id']}")
    tap.eq("a preview writes nothing", q("SELECT count(*) FROM articles WHERE title LIKE"
                                         f" 'Same render {U}%'"), "0")


def test_preview_bad_input():
    def post(body, headers=None):
        h = dict(BEARER)
        h.update(headers or {})
        status, _, data = srv.request("POST", "/api/admin/preview", body, h)
        try:
            obj = json.loads(data) if data else None
        except ValueError:
            obj = None
        return status, obj

    for name, body in (("no markdown field", {}),
                       ("markdown null", {"markdown": None}),
                       ("markdown a number", {"markdown": 42}),
                       ("markdown an array", {"markdown": ["# a"]}),
                       ("markdown an object", {"markdown": {"text": "a"}})):
        if isinstance(body, str):
            status, obj = post(body, {"Content-Type": "application/json"})
        else:
            status, obj = post(body)
        tap.check(f"preview with {name}: 422 naming markdown",
                  status == 422 and lib.is_error(obj, "validation_failed", "markdown"),
                  f"{status} {obj}")
    status, obj = post("{not json", {"Content-Type": "application/json"})
    tap.check("preview with a body that is not JSON: 400 invalid_json",
              status == 400 and lib.is_error(obj, "invalid_json"), f"{status} {obj}")
    status, obj = post("", {"Content-Type": "application/json"})
    tap.check("preview with an empty body: 400", status == 400 and lib.is_error(obj),
              f"{status} {obj}")
    status, obj = post('["# a"]', {"Content-Type": "application/json"})
    tap.check("preview with a JSON array body: 422", status == 422 and lib.is_error(obj),
              f"{status} {obj}")
    status, obj = post("# a", {"Content-Type": "text/plain"})
    tap.check("preview with a text/plain body: 415",
              status == 415 and lib.is_error(obj, "unsupported_media_type"), f"{status} {obj}")
    status, obj = post({"markdown": "x" * (MB + 1)})
    tap.check("preview over 1 MB (the article body cap): 422 naming markdown",
              status == 422 and lib.is_error(obj, "validation_failed", "markdown"),
              f"{status} {str(obj)[:200]}")
    html = preview("y" * MB)
    tap.check("preview of exactly 1 MB renders", html == "<p>" + "y" * MB + "</p>\n",
              html[:80])
    status, _, _ = api("GET", "/api/admin/preview")
    tap.check("GET preview is not a route: 404 or 405", status in (404, 405), status)


def test_admin_tags():
    status, _, obj = srv.json("GET", "/api/admin/tags")
    tap.eq("GET /api/admin/tags without a session: 401", status, 401)
    status, _, lonely = api("POST", "/api/tags", {"name": f"unused {U}"})
    tap.eq("a tag no article uses is created", status, 201)
    art = create({"title": f"Tagged draft {U}", "body_md": "draft", "status": "draft",
                  "tags": [f"drafty {U}"]})
    status, _, obj = api("GET", "/api/admin/tags")
    items = {t["name"]: t for t in obj.get("items", [])} if status == 200 else {}
    tap.check("the admin list has the unused tag with count 0",
              items.get(f"unused {U}", {}).get("article_count") == 0, obj)
    tap.check("and a tag used only by a draft, counted",
              items.get(f"drafty {U}", {}).get("article_count") == 1, obj)
    names = [t["name"] for t in obj.get("items", [])]
    tap.eq("sorted by name", names, sorted(names))
    status, _, pub = srv.json("GET", "/api/tags?limit=200")
    public = {t["name"] for t in pub.get("items", [])}
    tap.check("the public cloud still shows neither",
              f"unused {U}" not in public and f"drafty {U}" not in public, pub)
    api("DELETE", f"/api/articles/{art['id']}")
    api("DELETE", f"/api/tags/{lonely['id']}")


for t in (test_auth_required, test_csrf, test_stats_empty, test_stats_follow_changes,
          test_preview_renders, test_preview_safe, test_preview_matches_save,
          test_preview_bad_input, test_admin_tags):
    tap.run(t)

for s in (srv, comments):
    s.stop()
for name, s in (("articles", srv), ("comments", comments)):
    log = s.log()
    tap.check(f"{name}: no sanitizer report in the log", lib.sanitizer_clean(log), log[-2000:])
tap.done()
