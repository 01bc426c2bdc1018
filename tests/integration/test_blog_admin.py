"""The admin's writing API of the articles function (admin.c) in HTTP mode
against a real PostgreSQL: authentication on every route, create / edit /
delete, draft / publish / schedule, slugs (English, Chinese, collisions,
explicit duplicates), Markdown safety, large and emoji articles, automatic
summary and keyword tags, validation naming the field, transactional saves
and SQL metacharacters stored literally.

The admin's token is minted here exactly as auth.h specifies (HMAC-SHA256
with APP_SECRET over "tok1." payload) for a session row inserted with psql,
so this file does not depend on the auth function."""
import datetime
import os
import re
import secrets
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import lit, tap  # noqa: E402

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
U = secrets.token_hex(3)  # unique per run, for names and slugs

DB_NAME = f"blog_admin_{os.getpid()}"
URL = lib.fresh_database(DB_NAME)
ENV = lib.fn_env(DATABASE_URL=URL)


def q(sql):
    """psql on the test database (setup and checks only; stdin for big SQL)."""
    return lib.psql(sql, url=URL)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s):
    """An RFC 3339 UTC string from the API, to the microsecond."""
    m = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$", s)
    dt = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    us = int((m.group(2) or "0").ljust(6, "0"))
    return dt.replace(microsecond=us, tzinfo=datetime.timezone.utc)


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


# ---- set-up: schema, an admin with a session, the server ----
lib.migrate_or_done(ENV)

ADMIN_ID, SESSION, EXPIRES, TOKEN = lib.admin_session(URL, f"writer_{U}")
AUTH = {"Authorization": "Bearer " + TOKEN}

srv = lib.Server("articles", env=ENV)


def api(method, path, body=None, auth=True, headers=None):
    h = dict(AUTH) if auth else {}
    h.update(headers or {})
    return srv.json(method, path, body, h)


def create(body):
    status, _, obj = api("POST", "/api/articles", body)
    if status != 201:
        raise AssertionError(f"create {body.get('title')!r}: {status} {obj}")
    return obj


def count_articles():
    return int(q("SELECT count(*) FROM articles"))


def public_status(aid):
    status, _, _ = srv.json("GET", f"/api/articles/{aid}")
    return status


def tag_names(article, source=None):
    return sorted(t["name"] for t in article["tags"] if source is None or t["source"] == source)


# ---- tests ----

def test_anonymous():
    aid = create({"title": f"Guarded {U}", "body_md": "text"})["id"]
    before = count_articles()
    routes = [("GET", "/api/admin/articles", None),
              ("GET", f"/api/admin/articles/{aid}", None),
              ("POST", "/api/articles", {"title": f"Anonymous {U}"}),
              ("PUT", f"/api/articles/{aid}", {"title": "Taken over"}),
              ("DELETE", f"/api/articles/{aid}", None)]
    for method, path, body in routes:
        status, hdrs, obj = api(method, path, body, auth=False)
        tap.check(f"anonymous {method} {path.replace(str(aid), '{id}')}: 401 unauthorized",
                  status == 401 and lib.is_error(obj, "unauthorized"), (status, obj))
    bad = [("a forged MAC", lib.mint("a", SESSION, ADMIN_ID, EXPIRES, key="not-the-secret")),
           ("an expired token", lib.mint("a", SESSION, ADMIN_ID, int(time.time()) - 10)),
           ("an unknown session", lib.mint("a", secrets.token_hex(16), ADMIN_ID, EXPIRES)),
           ("a WeChat user's token", lib.mint("w", SESSION, ADMIN_ID, EXPIRES))]
    for what, tok in bad:
        status, _, obj = srv.json("PUT", f"/api/articles/{aid}", {"title": "Taken over"},
                                  {"Authorization": "Bearer " + tok})
        tap.check(f"{what}: 401", status == 401 and lib.is_error(obj), (status, obj))
    tap.eq("anonymous writes changed nothing: same count", count_articles(), before)
    tap.eq("anonymous writes changed nothing: title", q(
        f"SELECT title FROM articles WHERE id = {aid}"), f"Guarded {U}")


def test_draft_publish_delete():
    a = create({"title": f"Draft {U}", "body_md": "# Heading\n\nSome *draft* text.",
                "status": "draft"})
    aid = a["id"]
    tap.check("create: 201 with the full admin view",
              {"id", "title", "slug", "summary", "body_md", "body_html", "cover_url", "status",
               "published_at", "created_at", "updated_at", "category_id", "category", "tags",
               "author_id"} <= set(a), a)
    tap.eq("create: status draft", a["status"], "draft")
    tap.eq("create: a draft has no published_at", a["published_at"], None)
    tap.eq("create: author is the signed-in admin", a["author_id"], ADMIN_ID)
    tap.check("create: Markdown rendered", "<em>draft</em>" in a["body_html"]
              and "<h1>" in a["body_html"], a["body_html"])
    tap.check("create: times are RFC 3339 UTC", RFC3339.match(a["created_at"] or "") and
              RFC3339.match(a["updated_at"] or ""), a)
    tap.eq("draft: public GET is 404", public_status(aid), 404)
    status, _, lst = api("GET", "/api/admin/articles?limit=100")
    tap.check("draft: in the admin list", status == 200 and
              aid in [it["id"] for it in lst["items"]], (status, lst))
    status, _, lst = api("GET", "/api/admin/articles?status=draft&limit=100")
    tap.check("draft: in ?status=draft", aid in [it["id"] for it in lst["items"]] and
              all(it["status"] == "draft" for it in lst["items"]), lst)
    status, _, lst = api("GET", "/api/admin/articles?status=published&limit=100")
    tap.check("draft: not in ?status=published", aid not in [it["id"] for it in lst["items"]]
              and all(it["status"] == "published" for it in lst["items"]), lst)
    status, _, got = api("GET", f"/api/admin/articles/{aid}")
    tap.check("admin GET: any status, with body_md",
              status == 200 and got["body_md"] == "# Heading\n\nSome *draft* text.",
              (status, got))

    time.sleep(0.01)
    status, _, pub = api("PUT", f"/api/articles/{aid}", {"status": "published"})
    tap.eq("publish now: 200", status, 200)
    tap.eq("publish now: status", pub["status"], "published")
    tap.check("publish now: published_at is now",
              pub["published_at"] and abs((parse_time(pub["published_at"]) - now_utc())
                                          .total_seconds()) < 60, pub)
    tap.check("edit: updated_at moves forward",
              parse_time(pub["updated_at"]) > parse_time(a["updated_at"]),
              (a["updated_at"], pub["updated_at"]))
    tap.eq("edit: a field not sent is kept (title)", pub["title"], f"Draft {U}")
    tap.eq("edit: body_md kept", pub["body_md"], a["body_md"])
    tap.eq("published: public GET is 200", public_status(aid), 200)

    status, _, again = api("PUT", f"/api/articles/{aid}", {"title": f"Renamed {U}"})
    tap.check("edit of a published article keeps its date and slug",
              status == 200 and again["published_at"] == pub["published_at"] and
              again["slug"] == a["slug"] and again["title"] == f"Renamed {U}", again)

    status, _, back = api("PUT", f"/api/articles/{aid}", {"status": "draft"})
    tap.check("back to draft: published_at cleared, public 404",
              status == 200 and back["published_at"] is None and public_status(aid) == 404,
              back)

    tap.check("before delete: the article has tag links", int(q(
        f"SELECT count(*) FROM article_tags WHERE article_id = {aid}")) > 0, back["tags"])
    status = srv.request("DELETE", f"/api/articles/{aid}", headers=AUTH)[0]
    tap.eq("delete: 204", status, 204)
    tap.eq("delete: gone from the table", q(f"SELECT count(*) FROM articles WHERE id = {aid}"),
           "0")
    tap.eq("delete: its tag links are gone",
           q(f"SELECT count(*) FROM article_tags WHERE article_id = {aid}"), "0")
    status, _, obj = api("DELETE", f"/api/articles/{aid}")
    tap.check("delete again: 404 not_found", status == 404 and lib.is_error(obj, "not_found"),
              (status, obj))
    status, _, obj = api("GET", f"/api/admin/articles/{aid}")
    tap.eq("admin GET of a deleted article: 404", status, 404)
    status, _, obj = api("PUT", f"/api/articles/{aid}", {"title": "x"})
    tap.check("edit of a deleted article: 404", status == 404 and lib.is_error(obj, "not_found"),
              (status, obj))
    status, _, obj = api("DELETE", "/api/articles/abc")
    tap.eq("delete with a non-numeric id: 400", status, 400)


def test_schedule():
    future = now_utc() + datetime.timedelta(days=2)
    a = create({"title": f"Later {U}", "body_md": "Coming soon.", "status": "scheduled",
                "published_at": iso(future)})
    aid = a["id"]
    tap.eq("schedule: status", a["status"], "scheduled")
    tap.eq("schedule: published_at as given", a["published_at"][:19], iso(future)[:19])
    tap.eq("schedule: invisible before its time", public_status(aid), 404)
    status, _, lst = api("GET", "/api/admin/articles?status=scheduled&limit=100")
    tap.check("schedule: in the admin list", aid in [it["id"] for it in lst["items"]], lst)
    status, _, ed = api("PUT", f"/api/articles/{aid}", {"body_md": "Coming soon, edited."})
    tap.check("schedule: an edit keeps the schedule",
              status == 200 and ed["status"] == "scheduled" and
              ed["published_at"] == a["published_at"], (status, ed))
    q(f"UPDATE articles SET published_at = now() - interval '1 minute' WHERE id = {aid}")
    tap.eq("schedule: visible once its time has come", public_status(aid), 200)

    before = count_articles()
    for what, body in [("without a date", {"status": "scheduled"}),
                       ("in the past", {"status": "scheduled",
                                        "published_at": "2001-01-01T00:00:00Z"}),
                       ("with a malformed date", {"status": "scheduled",
                                                  "published_at": "tomorrow"})]:
        body = dict(body, title=f"Bad schedule {U}")
        status, _, obj = api("POST", "/api/articles", body)
        tap.check(f"schedule {what}: 422 naming published_at",
                  status == 422 and lib.is_error(obj, "validation_failed", "published_at"),
                  (status, obj))
    tap.eq("failed schedules created nothing", count_articles(), before)

    d = create({"title": f"Stays draft {U}", "body_md": "draft body"})
    status, _, obj = api("PUT", f"/api/articles/{d['id']}",
                         {"title": f"Changed {U}", "body_md": "changed", "status": "scheduled"})
    tap.check("failing edit (scheduled, no date): 422", status == 422 and
              lib.is_error(obj, "validation_failed", "published_at"), (status, obj))
    status, _, got = api("GET", f"/api/admin/articles/{d['id']}")
    tap.check("failing edit changed nothing",
              got["title"] == f"Stays draft {U}" and got["body_md"] == "draft body" and
              got["status"] == "draft" and got["updated_at"] == d["updated_at"], got)

    p = create({"title": f"Timed {U}", "status": "published",
                "published_at": "2020-02-29T12:30:00+08:00"})
    tap.eq("published with a given date (offset normalised to UTC)",
           p["published_at"][:19], "2020-02-29T04:30:00")


def test_slugs():
    a = create({"title": f"Hello, World! Again {U}"})
    tap.eq("slug from an English title", a["slug"], f"hello-world-again-{U}")
    b = create({"title": f"Hello, World! Again {U}"})
    tap.eq("slug collision: -2 appended", b["slug"], f"hello-world-again-{U}-2")
    c = create({"title": f"hello world again {U}"})
    tap.eq("second collision: -3", c["slug"], f"hello-world-again-{U}-3")
    zh = create({"title": f"你好 世界 {U}"})
    tap.eq("slug from a Chinese title keeps the characters", zh["slug"], f"你好-世界-{U}")
    status, _, obj = srv.json("GET", f"/api/admin/articles/{zh['id']}", None, AUTH)
    tap.eq("Chinese title round-trips", obj["title"], f"你好 世界 {U}")
    sym = create({"title": "!!! ??? ***"})
    tap.eq("title with no slug characters: article-<id>", sym["slug"], f"article-{sym['id']}")
    ex = create({"title": "Anything", "slug": f"my-own-{U}"})
    tap.eq("explicit slug used as given", ex["slug"], f"my-own-{U}")

    before = count_articles()
    status, _, obj = api("POST", "/api/articles", {"title": "Other", "slug": f"my-own-{U}"})
    tap.check("explicit duplicate slug: 409 conflict naming slug",
              status == 409 and lib.is_error(obj, "conflict", "slug"), (status, obj))
    tap.eq("the 409 created nothing", count_articles(), before)
    status, _, obj = api("PUT", f"/api/articles/{a['id']}", {"slug": f"my-own-{U}"})
    tap.check("edit to another article's slug: 409", status == 409 and
              lib.is_error(obj, "conflict", "slug"), (status, obj))
    status, _, obj = api("PUT", f"/api/articles/{ex['id']}", {"slug": f"my-own-{U}"})
    tap.check("an article keeps its own slug on edit", status == 200 and
              obj["slug"] == f"my-own-{U}", (status, obj))
    for bad in ["Upper-Case", "has space", "a--b", "-lead", "a'b", "semi;colon"]:
        status, _, obj = api("POST", "/api/articles", {"title": "Bad slug", "slug": bad})
        tap.check(f"invalid slug {bad!r}: 422 naming slug",
                  status == 422 and lib.is_error(obj, "validation_failed", "slug"),
                  (status, obj))
    status, _, obj = api("PUT", f"/api/articles/{b['id']}", {"slug": ""})
    tap.check("empty slug on edit: regenerated from the title, skipping its own",
              status == 200 and obj["slug"] == f"hello-world-again-{U}-2", (status, obj))


def test_xss():
    title = '<script>alert("t")</script><img src=x onerror=alert(1)>'
    md = ("<script>alert(1)</script>\n\n"
          "<img src=x onerror=alert(2)>\n\n"
          "[click](javascript:alert(3)) [ok](https://example.com/)\n\n"
          "![pic](javascript:alert(4))\n\n"
          "<a href=\"javascript:alert(5)\">raw</a>\n")
    a = create({"title": title, "body_md": md, "status": "published"})
    html = a["body_html"]
    tap.eq("XSS: title comes back as the same plain string", a["title"], title)
    tap.check("XSS: no <script> element", "<script" not in html.lower(), html)
    tap.check("XSS: no element with an event handler",
              not re.search(r"<[a-z][^>]*\son\w+=", html, re.I), html)
    tap.check("XSS: no <img> from raw HTML", "<img src=x" not in html.lower(), html)
    tap.check("XSS: no javascript: URL in any attribute",
              not re.search(r"(href|src)=\"\s*javascript:", html, re.I), html)
    tap.check("XSS: raw HTML shown as escaped text", "&lt;script&gt;" in html, html)
    tap.check("XSS: normal link kept", 'href="https://example.com/"' in html, html)
    status, hdrs, raw = srv.request("GET", f"/api/articles/{a['id']}")
    tap.check("XSS: the public view is JSON, not HTML",
              status == 200 and dict((k.lower(), v) for k, v in hdrs)
              .get("content-type", "").startswith("application/json"), (status, hdrs))


def test_large_and_emoji():
    body = ("## Part 🚀\n\n" + "Лорем ипсум 你好 🌏 emoji 👋🏽 text. " * 2500)
    assert len(body.encode()) > 64 * 1024
    title = f"Big 🐘 {U} — 博客"
    a = create({"title": title, "body_md": body, "status": "published",
                "tags": ["🚀 rocket", "数据库"]})
    status, _, got = api("GET", f"/api/admin/articles/{a['id']}")
    tap.eq("large (>64 KB) body round-trips", got["body_md"], body)
    tap.eq("emoji title round-trips", got["title"], title)
    tap.check("large body rendered", len(got["body_html"]) > 64 * 1024 and
              "🌏" in got["body_html"], len(got["body_html"]))
    tap.eq("emoji and CJK manual tags", tag_names(got, "manual"), sorted(["🚀 rocket", "数据库"]))
    status, _, pub = srv.json("GET", f"/api/articles/{a['id']}")
    tap.check("large article served publicly", status == 200 and pub["body_md"] == body,
              status)
    too_big = "a" * (1024 * 1024 + 1)
    before = count_articles()
    status, _, obj = api("POST", "/api/articles", {"title": "Too big", "body_md": too_big})
    tap.check("body_md over 1 MB: 413 or 422 naming body_md",
              status in (413, 422) and lib.is_error(obj, field="body_md"), (status, obj))
    tap.eq("the oversized save created nothing", count_articles(), before)
    ok = create({"title": f"Exactly 1 MB {U}", "body_md": "b" * (1024 * 1024)})
    tap.eq("body_md of exactly 1 MB accepted", len(ok["body_md"]), 1024 * 1024)


def test_summary():
    body = ("# Title line\n\nServerless functions start **quickly**. They scale to zero when "
            "idle. Billing follows the requests. Cold starts are measured, not assumed.")
    a = create({"title": f"Summary {U}", "body_md": body})
    s = a["summary"]
    tap.check("summary generated when missing", len(s) > 10, s)
    tap.check("generated summary is plain text from the body",
              "**" not in s and "#" not in s and "<" not in s and
              any(w in s for w in ("Serverless", "scale", "Billing", "Cold")), s)
    tap.check("generated summary has at most 2 sentences",
              1 <= len(re.findall(r"[.!?](\s|$)", s)) <= 2, s)
    b = create({"title": f"Given summary {U}", "body_md": body, "summary": "Mine."})
    tap.eq("a given summary is kept", b["summary"], "Mine.")
    status, _, c = api("PUT", f"/api/articles/{b['id']}", {"summary": ""})
    tap.check("an empty summary on edit is generated again",
              status == 200 and c["summary"] not in ("", "Mine."), (status, c))
    status, _, d = api("PUT", f"/api/articles/{b['id']}", {"summary": "Edited summary."})
    tap.eq("summary edited alone", (d["summary"], d["body_md"]), ("Edited summary.", body))
    status, _, f = api("PUT", f"/api/articles/{a['id']}",
                       {"body_md": "Edge computing moves work. It runs near users."})
    tap.check("a generated summary follows an edited body",
              status == 200 and f["summary"] != s and "Edge" in f["summary"], (status, f))
    status, _, g = api("PUT", f"/api/articles/{b['id']}", {"body_md": "Totally new text."})
    tap.eq("a chosen summary stays when the body changes", g["summary"], "Edited summary.")
    e = create({"title": f"Empty {U}", "body_md": ""})
    tap.eq("empty body: empty summary", e["summary"], "")
    zh = create({"title": f"中文 {U}", "body_md": "无服务器函数启动很快。它们在空闲时缩容到零。"
                 "账单按请求计算！冷启动需要测量。"})
    parts = [x for x in re.split(r"(?<=[。！？])", zh["summary"]) if x]
    tap.check("Chinese summary: 1 or 2 sentences of the body",
              1 <= len(parts) <= 2 and all(x in zh["body_md"] for x in parts), zh["summary"])


def test_tags():
    body = ("Zeppelin travel. The zeppelin floats over the harbour. A zeppelin ride and "
            "quantum physics: quantum zeppelin research, quantum zeppelin flights.")
    a = create({"title": f"Zeppelin quantum {U}", "body_md": body,
                "tags": [f"Manual {U}", "quantum"]})
    auto = tag_names(a, "auto")
    tap.check("auto tags present (source auto)", "zeppelin" in auto, a["tags"])
    tap.check("at most 5 auto tags", 0 < len(auto) <= 5, auto)
    tap.eq("manual tags (source manual)", tag_names(a, "manual"), sorted([f"Manual {U}",
                                                                         "quantum"]))
    tap.check("a keyword equal to a manual tag is not repeated as auto",
              "quantum" not in auto and
              [t["name"] for t in a["tags"]].count("quantum") == 1, a["tags"])
    tap.check("tags carry id and slug", all(isinstance(t["id"], int) and t["slug"]
                                            for t in a["tags"]), a["tags"])
    tap.eq("terms stored for the article",
           q(f"SELECT 'zeppelin' = ANY(terms) FROM articles WHERE id = {a['id']}"), "t")
    tap.check("nlp_terms document frequency kept by the trigger",
              int(q("SELECT COALESCE((SELECT df FROM nlp_terms WHERE term = 'zeppelin'), 0)"))
              >= 1)

    status, _, b = api("PUT", f"/api/articles/{a['id']}",
                       {"title": f"Volcano lava {U}", "body_md": "Volcano lava. The volcano erupted; lava volcano lava "
                                   "volcano flows."})
    auto2 = tag_names(b, "auto")
    tap.check("edit: auto tags replaced", status == 200 and "volcano" in auto2 and
              "zeppelin" not in auto2, (status, b.get("tags")))
    tap.eq("edit: manual tags stay", tag_names(b, "manual"), sorted([f"Manual {U}", "quantum"]))
    tap.eq("old terms leave the article",
           q(f"SELECT 'zeppelin' = ANY(terms) FROM articles WHERE id = {a['id']}"), "f")

    status, _, c = api("PUT", f"/api/articles/{a['id']}", {"tags": [f"Other {U}"]})
    tap.check("edit with tags: manual set replaced, auto still there",
              tag_names(c, "manual") == [f"Other {U}"] and "volcano" in tag_names(c, "auto"),
              c.get("tags"))
    status, _, d = api("PUT", f"/api/articles/{a['id']}", {"tags": []})
    tap.eq("tags: [] removes every manual tag", tag_names(d, "manual"), [])
    tap.eq("tag rows exist with slugs",
           q(f"SELECT slug FROM tags WHERE name = {lit('Manual ' + U)}"), f"manual-{U}")


def test_category_and_cover():
    cat = int(q(f"INSERT INTO categories (name, slug) VALUES ({lit('Cat ' + U)},"
                f" {lit('cat-' + U)}) RETURNING id"))
    a = create({"title": f"Categorised {U}", "category_id": cat,
                "cover_url": "https://example.com/cover.png"})
    tap.check("category set, with its object",
              a["category_id"] == cat and a["category"]["name"] == f"Cat {U}", a)
    tap.eq("cover_url stored", a["cover_url"], "https://example.com/cover.png")
    status, _, obj = api("POST", "/api/articles", {"title": "x", "category_id": 987654321})
    tap.check("unknown category_id: 422 naming category_id",
              status == 422 and lib.is_error(obj, "validation_failed", "category_id"),
              (status, obj))
    status, _, obj = api("PUT", f"/api/articles/{a['id']}", {"category_id": 987654321})
    tap.check("edit to an unknown category_id: 422", status == 422 and
              lib.is_error(obj, "validation_failed", "category_id"), (status, obj))
    status, _, b = api("PUT", f"/api/articles/{a['id']}", {"category_id": None,
                                                           "cover_url": None})
    tap.check("null clears category and cover", status == 200 and b["category_id"] is None and
              b["category"] is None and b["cover_url"] is None, (status, b))
    status, _, c = api("PUT", f"/api/articles/{a['id']}",
                       {"cover_url": "/storage/uploads/1.png"})
    tap.eq("a /storage/ cover URL is accepted", c["cover_url"], "/storage/uploads/1.png")


def test_validation():
    before = count_articles()
    cases = [
        ("missing title", {"body_md": "x"}, "title"),
        ("empty title", {"title": ""}, "title"),
        ("blank title", {"title": "   "}, "title"),
        ("title over 200 characters", {"title": "x" * 201}, "title"),
        ("title not a string", {"title": 5}, "title"),
        ("body_md not a string", {"title": "t", "body_md": ["x"]}, "body_md"),
        ("unknown status", {"title": "t", "status": "public"}, "status"),
        ("malformed published_at", {"title": "t", "status": "published",
                                    "published_at": "2030-13-01T00:00:00Z"}, "published_at"),
        ("published_at without a zone", {"title": "t", "status": "published",
                                         "published_at": "2030-01-01T00:00:00"}, "published_at"),
        ("javascript: cover", {"title": "t", "cover_url": "javascript:alert(1)"}, "cover_url"),
        ("cover over 2048", {"title": "t", "cover_url": "https://e.com/" + "a" * 2040},
         "cover_url"),
        ("tags not an array", {"title": "t", "tags": "a,b"}, "tags"),
        ("tag not a string", {"title": "t", "tags": [1]}, "tags"),
        ("empty tag name", {"title": "t", "tags": [" "]}, "tags"),
        ("tag name over 50", {"title": "t", "tags": ["x" * 51]}, "tags"),
        ("category_id not an integer", {"title": "t", "category_id": "one"}, "category_id"),
        ("summary over 1000", {"title": "t", "summary": "s" * 1001}, "summary"),
    ]
    for what, body, field in cases:
        status, _, obj = api("POST", "/api/articles", body)
        tap.check(f"validation: {what}: 422 naming {field}",
                  status == 422 and lib.is_error(obj, "validation_failed", field),
                  (status, obj))
    status, _, obj = srv.json("POST", "/api/articles", None,
                              dict(AUTH, **{"Content-Type": "application/json"}))
    tap.check("validation: empty body: 400", status == 400 and lib.is_error(obj), (status, obj))
    status, _, raw = srv.request("POST", "/api/articles", "{not json",
                                 dict(AUTH, **{"Content-Type": "application/json"}))
    tap.eq("validation: broken JSON: 400", status, 400)
    tap.eq("validation failures created nothing", count_articles(), before)
    status, _, obj = api("GET", "/api/admin/articles?status=bogus")
    tap.check("admin list: unknown status filter: 400 naming status",
              status == 400 and lib.is_error(obj, field="status"), (status, obj))
    status, _, obj = api("GET", "/api/admin/articles?cursor=forged")
    tap.check("admin list: forged cursor: 400", status == 400 and
              lib.is_error(obj, "invalid_cursor"), (status, obj))
    status, _, obj = api("GET", "/api/admin/articles?limit=0")
    tap.eq("admin list: limit 0: 400", status, 400)
    status, _, obj = api("GET", "/api/admin/articles?limit=101")
    tap.eq("admin list: limit 101: 400", status, 400)


def test_list_paging():
    ids = [create({"title": f"Page {i} {U}"})["id"] for i in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        path = "/api/admin/articles?limit=3" + (f"&cursor={cursor}" if cursor else "")
        status, _, obj = api("GET", path)
        if status != 200:
            tap.check("admin list page", False, (status, obj))
            return
        seen.extend(obj["items"])
        pages += 1
        cursor = obj["next_cursor"]
        if not cursor or pages > 200:
            break
    got = [it["id"] for it in seen]
    tap.eq("admin list: pages have no duplicates", len(got), len(set(got)))
    tap.eq("admin list: pages cover every article", sorted(got),
           sorted(int(x) for x in q("SELECT id FROM articles").split()))
    keys = [(parse_time(it["updated_at"]), it["id"]) for it in seen]
    tap.check("admin list: most recently edited first",
              keys == sorted(keys, reverse=True), keys[:10])
    tap.check("admin list: the newest articles lead", got[:5] == ids[::-1], (got[:5], ids))
    tap.check("admin list items carry status, no body",
              all("status" in it and "body_md" not in it and "page_us" not in it
                  for it in seen), seen[:1])


def test_rollback():
    # A trigger in this private database makes a tag insert fail halfway
    # through a save, after the article row and the first tag are written.
    q(f"""CREATE FUNCTION fail_tag() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF NEW.name = 'boom-{U}' THEN RAISE EXCEPTION 'boom'; END IF;
            RETURN NEW;
          END $$;
          CREATE TRIGGER fail_tag BEFORE INSERT ON tags FOR EACH ROW
            EXECUTE FUNCTION fail_tag();""")
    try:
        before = count_articles()
        terms_before = q("SELECT count(*), COALESCE(sum(df), 0) FROM nlp_terms")
        status, _, obj = api("POST", "/api/articles",
                             {"title": f"Doomed unicornword {U}",
                              "body_md": "unicornword unicornword text",
                              "tags": [f"okay-{U}", f"boom-{U}"]})
        tap.check("failing save: an error status", status >= 400 and lib.is_error(obj),
                  (status, obj))
        tap.eq("failing save: no article", count_articles(), before)
        tap.eq("failing save: no tag from before the failure",
               q(f"SELECT count(*) FROM tags WHERE name = 'okay-{U}'"), "0")
        tap.eq("failing save: term statistics unchanged",
               q("SELECT count(*), COALESCE(sum(df), 0) FROM nlp_terms"), terms_before)
        a = create({"title": f"Survivor {U}", "body_md": "original body"})
        status, _, obj = api("PUT", f"/api/articles/{a['id']}",
                             {"title": "Changed", "body_md": "changed body",
                              "tags": [f"boom-{U}"]})
        tap.check("failing edit: an error status", status >= 400, (status, obj))
        status, _, got = api("GET", f"/api/admin/articles/{a['id']}")
        tap.check("failing edit: the article is as it was",
                  got["title"] == f"Survivor {U}" and got["body_md"] == "original body" and
                  got["updated_at"] == a["updated_at"], got)
        status, _, ok = api("POST", "/api/articles", {"title": f"After failure {U}"})
        tap.eq("the function works after a failed transaction", status, 201)
    finally:
        q("DROP TRIGGER fail_tag ON tags; DROP FUNCTION fail_tag()")


def test_sql_metacharacters():
    evil = "Robert'); DROP TABLE articles;-- \\ % _ \" $1 ::text"
    body = {"title": evil, "body_md": "' OR '1'='1 -- \\\"; DELETE FROM tags; $$",
            "summary": "'; TRUNCATE articles; --", "tags": ["x' OR '1'='1", "%_\\ $2"],
            "cover_url": "https://example.com/a'b;--%27"}
    a = create(body)
    aid = a["id"]
    tap.eq("SQL metacharacters: title stored literally",
           q(f"SELECT title FROM articles WHERE id = {aid}"), evil)
    tap.eq("SQL metacharacters: body stored literally",
           q(f"SELECT body_md FROM articles WHERE id = {aid}"), body["body_md"])
    tap.eq("SQL metacharacters: summary stored literally", a["summary"], body["summary"])
    tap.eq("SQL metacharacters: cover stored literally", a["cover_url"], body["cover_url"])
    tap.eq("SQL metacharacters: tags stored literally", tag_names(a, "manual"),
           sorted(body["tags"]))
    tap.check("tables intact", int(q("SELECT count(*) FROM articles")) > 1 and
              int(q("SELECT count(*) FROM tags")) > 1)
    status, _, obj = api("GET", "/api/admin/articles?status=" +
                         "draft%27%20OR%20%271%27%3D%271")
    tap.check("SQL metacharacters in ?status: 400, not 500", status == 400, (status, obj))
    status, _, obj = api("GET", "/api/admin/articles/1%20OR%201=1")
    tap.eq("SQL metacharacters in {id}: 400", status, 400)
    status, _, obj = api("PUT", f"/api/articles/{aid}", {"title": evil + " 2",
                                                         "tags": ["a'b", "c\"d"]})
    tap.check("SQL metacharacters on edit stored literally", status == 200 and
              obj["title"] == evil + " 2" and tag_names(obj, "manual") == ["a'b", 'c"d'],
              (status, obj))


try:
    for t in (test_anonymous, test_draft_publish_delete, test_schedule, test_slugs, test_xss,
              test_large_and_emoji, test_summary, test_tags, test_category_and_cover,
              test_validation, test_rollback, test_sql_metacharacters, test_list_paging):
        tap.run(t)
finally:
    lib.stop_clean(srv)
    lib.drop_database(DB_NAME)
tap.done()
