"""The blog end to end through the local gateway with the real manifest
(deploy/template.yaml): every function the blog needs, wired by the
template's routes. An admin logs in (auth), writes and publishes an article
(articles, with Markdown, tags and an automatic summary), a reader finds it
in the list, by slug, in search and in the RSS feed, comments (comments),
the admin approves and replies, the reader sees the thread; the nlp
function answers; and the cookie session needs its CSRF token for writes."""
import os
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import lib  # noqa: E402
from lib import tap  # noqa: E402

RUN = str(int(time.time() * 1000))
USER, PASSWORD = f"e2e{RUN}", "correct horse battery staple"

# A database of its own: rate limits and counts of other files do not reach it.
DB_NAME = f"blog_e2e_{os.getpid()}"
URL = lib.fresh_database(DB_NAME)
ENV = lib.fn_env(DATABASE_URL=URL)
m = lib.migrate(ENV)
tap.check("migrations", m.returncode == 0, m.stderr)
p = subprocess.run([lib.bin_path("admin"), "create", USER], input=PASSWORD + "\n",
                   env=ENV, capture_output=True, text=True, timeout=60)
tap.check("admin create", p.returncode == 0, p.stderr)

with open(os.path.join(lib.ROOT, "deploy/template.yaml")) as f:
    TEMPLATE = f.read()
gw = lib.Gateway(TEMPLATE, env={"LOG_LEVEL": "warn", "DATABASE_URL": URL})


def call(method, path, body=None, headers=None):
    return gw.json(method, path, body=body, headers=headers)


try:
    st, hdrs, obj = call("POST", "/api/auth/login", {"username": USER, "password": PASSWORD})
    tap.eq("login through the gateway", st, 200)
    token, csrf = obj["token"], obj["csrf_token"]
    cookie = hdrs.get("set-cookie", "").split(";")[0]
    tap.check("login sets the session cookie", cookie.startswith("session="), hdrs)
    bearer = {"Authorization": f"Bearer {token}"}

    st, _, obj = call("POST", "/api/articles", {"title": "Anonymous", "body_md": "x"})
    tap.eq("anonymous write refused", st, 401)

    st, _, cat = call("POST", "/api/categories", {"name": f"E2E {RUN}"}, bearer)
    tap.eq("category created", st, 201)
    body = ("# Serverless in C\n\nFunctions written in C start in a few milliseconds. "
            "The gateway hosts them the way Lambda does.\n\n"
            "<script>alert(1)</script> stays inert. " * 3)
    st, _, art = call("POST", "/api/articles", {
        "title": f"Serverless C {RUN}", "body_md": body, "status": "published",
        "category_id": cat["id"], "tags": ["C", "serverless"]}, bearer)
    tap.eq("article published", st, 201)
    slug = art["slug"]
    tap.check("summary generated", bool(art.get("summary")), art)
    tap.check("markdown rendered, raw HTML inert",
              "<h1>" in art["body_html"] and "<script>" not in art["body_html"], art["body_html"])

    st, _, lst = call("GET", f"/api/articles?category={urllib.parse.quote(cat['slug'])}")
    tap.check("the category list has it", st == 200 and [a["id"] for a in lst["items"]]
              == [art["id"]] and lst["total"] == 1, lst)
    st, _, one = call("GET", f"/api/articles/{urllib.parse.quote(slug)}")
    tap.check("by slug", st == 200 and one["id"] == art["id"], (st, one))
    st, _, found = call("GET", f"/api/search?q=serverless%20{RUN}")
    tap.check("search finds it", st == 200 and art["id"] in [a["id"] for a in found["items"]],
              (st, found))
    st, hdrs, _ = gw.request("GET", "/rss.xml")
    tap.check("RSS through the gateway",
              st == 200 and "rss" in dict((k.lower(), v) for k, v in hdrs)["content-type"], st)

    st, _, c = call("POST", f"/api/articles/{art['id']}/comments",
                    {"author_name": "Reader", "content": f"Nice one {RUN}"})
    tap.eq("comment submitted (pending)", st, 201)
    st, _, thread = call("GET", f"/api/articles/{art['id']}/comments")
    tap.check("pending comment not public", st == 200 and thread["items"] == [], thread)
    st, _, _ = call("POST", f"/api/admin/comments/{c['id']}/approve", None, bearer)
    tap.eq("admin approves", st, 200)
    st, _, _ = call("PUT", f"/api/admin/comments/{c['id']}/reply", {"reply": "Thanks!"}, bearer)
    tap.eq("admin replies", st, 200)
    st, _, thread = call("GET", f"/api/articles/{art['id']}/comments")
    tap.check("the thread shows the comment and the reply",
              st == 200 and thread["items"][0]["content"] == f"Nice one {RUN}"
              and thread["items"][0]["admin_reply"] == "Thanks!", thread)

    st, _, kw = call("POST", "/api/nlp/keywords", {"text": body, "count": 3})
    tap.check("nlp keywords through the gateway", st == 200 and len(kw["keywords"]) == 3, kw)

    # A browser session: the cookie alone cannot write; with the CSRF token it can.
    st, _, obj = call("PUT", f"/api/articles/{art['id']}", {"title": "Hijacked"},
                      {"Cookie": cookie})
    tap.check("cookie write without the CSRF token: 403",
              st == 403 and lib.is_error(obj, "csrf_failed"), (st, obj))
    st, _, obj = call("PUT", f"/api/articles/{art['id']}", {"title": f"Edited {RUN}"},
                      {"Cookie": cookie, "X-CSRF-Token": csrf})
    tap.check("cookie write with the CSRF token", st == 200 and obj["title"] == f"Edited {RUN}",
              (st, obj))

    st, _, _ = call("POST", "/api/auth/logout", None, bearer)
    tap.eq("logout", st, 204)
    st, _, _ = call("POST", "/api/articles", {"title": "After logout", "body_md": "x"}, bearer)
    tap.eq("the revoked token no longer writes", st, 401)
finally:
    gw.stop()
    lib.psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
lib.stop_clean(gw, "gateway exits 0", tail=2000)  # stopped above: its exit status and log
tap.done()
