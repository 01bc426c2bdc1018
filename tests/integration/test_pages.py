"""The public blog as server-rendered HTML (functions/articles/pages.c with the
templates of frontend/blog/templates) against a real PostgreSQL, fetched
without a browser: each page carries its content, <title>, meta description,
canonical URL and Open Graph tags; hostile titles, summaries, names and
comments come out escaped; the article HTML is the safe Markdown renderer's;
security headers (CSP without unsafe-inline scripts); keyset pagination;
archives; search; HTML 404/400 pages; drafts never shown; threaded approved
comments with the admin's reply; and the no-JavaScript comment form
(application/x-www-form-urlencoded -> 303 back to the article)."""
import html
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import tap  # noqa: E402

RUN = os.getpid()
DB_NAME = f"blog_pages_{RUN}"
URL = lib.fresh_database(DB_NAME)
SITE = "https://blog.example.com"
ENV = lib.fn_env(DATABASE_URL=URL, SITE_URL=SITE + "/", SITE_TITLE="Test & <Blog>",
                 SITE_DESCRIPTION="A blog about \"testing\" & <things>",
                 TRUST_PROXY=1, COMMENT_RATE=50)
WORD = f"zqx{RUN}"  # a word only the search fixtures contain

# Payloads: none of these may ever appear raw in a page.
XSS = ["<script>alert('t')</script>", "\"><img src=x onerror=alert(1)>",
       "<svg onload=alert(2)>", "</textarea><b>", "<iframe src=javascript:alert(3)>"]
RAW_MARKERS = ["<script>alert", "<img src=x", "<svg onload", "</textarea><b>", "<iframe"]


def q(sql):
    return lib.psql(sql, url=URL)


def lit(s):
    return "NULL" if s is None else lib.lit(s)


def category(name, slug):
    return int(q(f"INSERT INTO categories (name, slug) VALUES ({lit(name)}, {lit(slug)})"
                 " RETURNING id"))


def tag(name, slug):
    return int(q(f"INSERT INTO tags (name, slug) VALUES ({lit(name)}, {lit(slug)}) RETURNING id"))


def article(title, slug, status="published", hours=1.0, when=None, cat=None, tags=(),
            body_md="Hello.", body_html="<p>Hello.</p>", summary="", cover=None, views=0):
    when = when or f"now() - interval '{hours * 3600} seconds'"
    aid = int(q("INSERT INTO articles (title, slug, summary, body_md, body_html, status,"
                " published_at, category_id, cover_url, view_count) VALUES"
                f" ({lit(title)}, {lit(slug)}, {lit(summary)}, {lit(body_md)},"
                f" {lit(body_html)}, {lit(status)}, {when},"
                f" {cat if cat else 'NULL'}, {lit(cover)}, {views}) RETURNING id"))
    for t in tags:
        q(f"INSERT INTO article_tags (article_id, tag_id, source) VALUES ({aid}, {t}, 'manual')")
    return aid


def comment(art, name, content, status="approved", parent=None, reply=None, email=None,
            minutes=60):
    return int(q("INSERT INTO comments (article_id, parent_id, author_name, author_email,"
                 " content, status, admin_reply, admin_reply_at, ip_hash, content_hash,"
                 " created_at) VALUES"
                 f" ({art}, {parent if parent else 'NULL'}, {lit(name)}, {lit(email)},"
                 f" {lit(content)}, {lit(status)}, {lit(reply)},"
                 f" {'now()' if reply else 'NULL'}, 'h', md5({lit(content)}),"
                 f" now() - interval '{minutes} minutes') RETURNING id"))


def unescape_href(h):
    return html.unescape(h)


def attr(page, pattern):
    """The first capture of pattern in page (unescaped), or None."""
    m = re.search(pattern, page, re.S)
    return html.unescape(m.group(1)) if m else None


def meta(page, key, value_attr="content"):
    m = re.search(r'<meta (?:name|property)="' + re.escape(key) + r'" ' + value_attr +
                  r'="([^"]*)"', page)
    return html.unescape(m.group(1)) if m else None


def card_slugs(page):
    return re.findall(r'<article class="post-card">.*?<h2><a href="/articles/([^"]+)">', page,
                      re.S)


def no_raw(name, page):
    found = [m for m in RAW_MARKERS if m in page]
    tap.check(f"{name}: no payload appears as markup", not found, found)


# ---- fixtures ----
m = lib.migrate(lib.fn_env(DATABASE_URL=URL))
if m.returncode != 0:
    tap.check("migrate", False, m.stderr)
    tap.done()

CAT = category("Engineering", "engineering")
XCAT = category(XSS[0] + " cat", "xss-cat")
TAG_C = tag("C", "c")
XTAG = tag(XSS[2] + " tag", "xss-tag")

# 12 plain articles, newest first by hours; with the 3 below, 15 public.
PLAIN = []
for i in range(12):
    PLAIN.append(article(f"Plain article {i:02d}", f"plain-{i:02d}", hours=10 + i,
                         cat=CAT if i % 2 == 0 else None, tags=(TAG_C,) if i < 3 else (),
                         summary=f"Summary of plain {i:02d}."))

XSS_BODY = ("## Heading\n\nSome **bold** text and a [link](https://example.com/).\n\n"
            "<script>alert(1)</script> and <img src=x onerror=alert(1)>\n\n"
            "[bad](javascript:alert(1))\n")
XART = article(XSS[0] + " Title", "xss-article", hours=2, cat=XCAT, tags=(XTAG, TAG_C),
               summary=XSS[1] + " summary", body_md=XSS_BODY,
               body_html="<p>stored html</p><script>evil()</script>",
               cover="https://img.example.com/c.png?a=1&b=\"x\"", views=7)
SEARCH_TITLE = article(f"All about {WORD}", "search-title", hours=3,
                       summary="The word is in the title.", body_md=f"{WORD} {WORD}.")
SEARCH_BODY = article("Only in the body", "search-body", hours=4,
                      summary="Nothing here.", body_md=f"Deep inside: {WORD}.")
DRAFT = article(f"Draft secret {WORD}", "draft-secret", status="draft", when="NULL",
                cat=CAT, tags=(TAG_C,))
FUTURE = article(f"Future secret {WORD}", "future-secret", status="scheduled",
                 when="now() + interval '2 days'", cat=CAT, tags=(TAG_C,))
PUBLIC_SLUGS = ["xss-article", "search-title", "search-body"] + \
    [f"plain-{i:02d}" for i in range(12)]

# Threads on the XSS article: a root with a reply and the admin's answer, a
# second root with a payload, and what must never show.
ROOT1 = comment(XART, "Ada", "First!\nSecond line.", reply="Thanks " + XSS[3],
                email="ada@example.com", minutes=50)
REPLY1 = comment(XART, "Grace", "A reply to Ada.", parent=ROOT1, minutes=40)
REPLY2 = comment(XART, "Linus", "A reply to Grace.", parent=REPLY1, minutes=35)
ROOT2 = comment(XART, XSS[4], XSS[1] + " in a comment", minutes=30)
PENDING = comment(XART, "Pending", "pending comment text", status="pending", minutes=20)
SPAM = comment(XART, "Spammer", "spam comment text", status="spam", minutes=10)
HIDDEN = comment(XART, "Orphan", "reply under pending text", parent=PENDING, minutes=5)

ART = lib.Server("articles", env=ENV)
CMT = lib.Server("comments", env=ENV)
_ip = [0]


def get(path, srv=None):
    st, hdrs, body = (srv or ART).request("GET", path)
    return st, dict((k.lower(), v) for k, v in hdrs), body.decode("utf-8", "replace")


def form_post(art, fields, srv=None, path=None):
    _ip[0] += 1
    body = urllib.parse.urlencode(fields)
    st, hdrs, data = (srv or CMT).request(
        "POST", path or f"/api/articles/{art}/comments", body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "X-Forwarded-For": f"2001:db8:{RUN % 65536:x}::{_ip[0]:x}"})
    return st, dict((k.lower(), v) for k, v in hdrs), data


# ---- tests ----

def test_headers_and_shell():
    st, h, page = get("/")
    tap.eq("home: 200", st, 200)
    tap.eq("home: text/html; charset=utf-8", h.get("content-type"), "text/html; charset=utf-8")
    csp = h.get("content-security-policy", "")
    script_src = re.search(r"script-src ([^;]*)", csp)
    tap.check("CSP: script-src 'self' without unsafe-inline",
              script_src is not None and "'self'" in script_src.group(1)
              and "unsafe-inline" not in script_src.group(1) and "unsafe-eval" not in csp, csp)
    tap.check("CSP: object-src none, frame-ancestors none",
              "object-src 'none'" in csp and "frame-ancestors 'none'" in csp, csp)
    tap.eq("X-Content-Type-Options nosniff", h.get("x-content-type-options"), "nosniff")
    tap.check("Referrer-Policy set", bool(h.get("referrer-policy")), h)
    tap.eq("Cache-Control no-cache", h.get("cache-control"), "no-cache")
    tap.check("html lang", re.search(r'<html lang="en">', page) is not None, page[:200])
    tap.eq("home: <title> is the escaped site title",
           re.search(r"<title>(.*?)</title>", page).group(1), "Test &amp; &lt;Blog&gt;")
    tap.eq("home: meta description is SITE_DESCRIPTION", meta(page, "description"),
           "A blog about \"testing\" & <things>")
    tap.eq("home: canonical is SITE_URL + /", attr(page, r'<link rel="canonical" href="([^"]*)"'),
           SITE + "/")
    tap.eq("home: og:url", meta(page, "og:url"), SITE + "/")
    tap.eq("home: og:type website", meta(page, "og:type"), "website")
    tap.eq("home: og:title", meta(page, "og:title"), "Test & <Blog>")
    tap.check("RSS and Atom alternates",
              '<link rel="alternate" type="application/rss+xml"' in page
              and 'href="/rss.xml"' in page
              and '<link rel="alternate" type="application/atom+xml"' in page
              and 'href="/atom.xml"' in page, page[:1500])
    tap.check("main landmark, skip link, header/nav/footer",
              '<main id="main"' in page and 'href="#main"' in page and "<header" in page
              and "<nav" in page and "<footer" in page and "<aside" in page)
    tap.check("search form with its label",
              re.search(r'<form role="search" action="/search" method="get"', page) is not None
              and re.search(r'<input type="search" name="q" id="search-q"', page) is not None
              and '<label for="search-q"' in page)
    tap.check("the one script is the module /blog.js",
              re.findall(r"<script[^>]*>", page) == ['<script type="module" src="/blog.js">'],
              re.findall(r"<script[^>]*>", page))
    tap.check("no inline style attributes or event handlers",
              re.search(r"<[^>]*\s(style|on[a-z]+)=", page) is None,
              re.search(r"<[^>]*\s(style|on[a-z]+)=[^>]*>", page))
    tap.check("stylesheet /style.css", '<link rel="stylesheet" href="/style.css">' in page)
    tap.check("category menu lists categories (escaped)",
              '<a href="/category/engineering">Engineering</a>' in page
              and '<a href="/category/xss-cat">&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;'
              ' cat</a>' in page, page[:3000])
    tap.check("tag cloud and hot list and quote of the day",
              'href="/tag/c"' in page and 'class="widget hot"' in page
              and "Quote of the day" in page and "<blockquote>" in page)
    no_raw("home", page)


def test_pagination():
    st, _, page1 = get("/")
    first = card_slugs(page1)
    tap.eq("home: first page has 10 cards", len(first), 10)
    tap.eq("home: newest first", first[:3], ["xss-article", "search-title", "search-body"])
    nxt = attr(page1, r'<a rel="next" class="next-page" href="([^"]*)">Older posts</a>')
    tap.check("home: next-page link with a cursor", nxt is not None and "cursor=" in nxt, nxt)
    st, _, page2 = get(nxt)
    second = card_slugs(page2)
    tap.eq("home: second page 200", st, 200)
    tap.eq("home: the pages cover every public article once",
           sorted(first + second), sorted(PUBLIC_SLUGS))
    tap.check("home: last page has no next link", 'rel="next"' not in page2, page2[-2000:])
    tap.eq("home: page 2 canonical keeps its cursor",
           attr(page2, r'<link rel="canonical" href="([^"]*)"'), SITE + nxt)
    # The API's cursor for the same list is the page's.
    st, _, api = ART.json("GET", "/api/articles?limit=10")
    tap.eq("home: cursor equals the API's", urllib.parse.parse_qs(
        urllib.parse.urlsplit(nxt).query)["cursor"][0], api["next_cursor"])
    for bad in ["/?cursor=garbage", "/?cursor=" + urllib.parse.quote(nxt[-10:]) + "x"]:
        st, h, page = get(bad)
        tap.check(f"bad cursor {bad[:20]}: HTML 400 page",
                  st == 400 and h.get("content-type", "").startswith("text/html")
                  and "<title>" in page and '<main id="main"' in page, (st, page[:300]))
    # A category cursor is refused on the tag archive (other filters).
    st, _, catp = get("/category/engineering")
    st, _, apic = ART.json("GET", "/api/articles?category=engineering&limit=10")
    st, _, page = get("/tag/c?cursor=" + urllib.parse.quote(apic["next_cursor"] or "x"))
    tap.eq("another list's cursor: 400", st, 400)


def test_drafts_never_shown():
    for path in ["/", "/category/engineering", "/tag/c", f"/search?q={WORD}"]:
        st, _, page = get(path)
        tap.check(f"{path}: no draft or future article",
                  "secret" not in page and "draft-secret" not in page, st)
    for slug in ["draft-secret", "future-secret", "no-such-article"]:
        st, h, page = get(f"/articles/{slug}")
        tap.check(f"/articles/{slug}: rendered HTML 404",
                  st == 404 and h.get("content-type") == "text/html; charset=utf-8"
                  and "Page not found" in page and '<main id="main"' in page
                  and 'name="robots" content="noindex"' in page, (st, page[:200]))


def test_archives():
    st, _, page = get("/category/engineering")
    slugs = card_slugs(page)
    want = [f"plain-{i:02d}" for i in range(0, 12, 2)]
    tap.eq("category: its public articles, newest first", slugs, want)
    tap.check("category: title and heading name it",
              "<title>Engineering" in page and '<h1 class="page-title">Engineering</h1>' in page)
    tap.eq("category: canonical", attr(page, r'<link rel="canonical" href="([^"]*)"'),
           SITE + "/category/engineering")
    tap.check("category: menu marks it current",
              '<a href="/category/engineering" aria-current="page">' in page)
    st, _, page = get("/category/xss-cat")
    tap.eq("xss category: 200 with its article", (st, card_slugs(page)), (200, ["xss-article"]))
    tap.check("xss category: name escaped in <title> and heading",
              "<title>&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; cat" in page, page[:600])
    no_raw("category", page)
    st, _, page = get("/tag/c")
    tap.eq("tag: its articles", sorted(card_slugs(page)),
           sorted(["xss-article", "plain-00", "plain-01", "plain-02"]))
    st, _, page = get("/tag/xss-tag")
    tap.check("xss tag: 200, name escaped", st == 200 and "&lt;svg onload=alert(2)&gt; tag" in page,
              page[:600])
    no_raw("tag", page)
    for path in ["/category/none-such", "/tag/none-such", "/category/" + "x" * 300]:
        st, h, page = get(path)
        tap.check(f"{path[:30]}: HTML 404", st == 404 and "text/html" in h.get("content-type", ""),
                  st)


def test_search():
    st, _, page = get(f"/search?q={WORD}")
    tap.eq("search: 200", st, 200)
    results = re.search(r'<div id="search-results">(.*?)</div>\s*(?:<nav|</main>|$)', page, re.S)
    slugs = card_slugs(results.group(1)) if results else []
    st, _, api = ART.json("GET", f"/api/search?q={WORD}")
    tap.eq("search: ranked as /api/search ranks", slugs, [a["slug"] for a in api["items"]])
    tap.eq("search: title match first", slugs[:1], ["search-title"])
    tap.check("search: noindex, query in the box",
              'content="noindex"' in page and f'value="{WORD}"' in page)
    st, _, page = get("/search?q=" + urllib.parse.quote(XSS[0]))
    tap.check("search: hostile query escaped in heading and input",
              st == 200 and "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in page, st)
    no_raw("search", page)
    st, _, page = get("/search")
    tap.check("search: empty form without q", st == 200 and 'id="search-results"' in page, st)
    st, h, page = get("/search?q=" + "a" * 201)
    tap.check("search: too long query is an HTML 400", st == 400 and "<title>" in page, st)
    st, _, page = get(f"/search?q={WORD}&cursor=forged")
    tap.eq("search: forged cursor 400", st, 400)


def test_article_page():
    st, h, page = get("/articles/xss-article")
    tap.eq("article: 200", st, 200)
    tap.check("article: <article class=post data-article-id>",
              f'<article class="post" data-article-id="{XART}">' in page)
    tap.check("article: title escaped in <title>, h1, og:title",
              "<title>&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; Title" in page
              and "<h1>&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; Title</h1>" in page
              and meta(page, "og:title") == XSS[0] + " Title", page[:1500])
    tap.eq("article: meta description is the summary", meta(page, "description"),
           XSS[1] + " summary")
    tap.eq("article: canonical", attr(page, r'<link rel="canonical" href="([^"]*)"'),
           SITE + "/articles/xss-article")
    tap.eq("article: og:type article", meta(page, "og:type"), "article")
    tap.eq("article: og:image is the cover", meta(page, "og:image"),
           "https://img.example.com/c.png?a=1&b=\"x\"")
    tap.check("article: cover with alt = title",
              re.search(r'<img src="https://img.example.com/c.png\?a=1&amp;b=&quot;x&quot;" '
                        r'alt="&lt;script&gt;alert\(&#39;t&#39;\)&lt;/script&gt; Title"', page)
              is not None)
    content = re.search(r'<div class="post-content">(.*?)</div>\n', page, re.S)
    content = content.group(1) if content else ""
    tap.check("article: Markdown rendered by the safe renderer",
              "<h2>Heading</h2>" in content and "<strong>bold</strong>" in content
              and '<a href="https://example.com/">link</a>' in content, content)
    tap.check("article: raw HTML in Markdown stays text",
              "&lt;script&gt;alert(1)&lt;/script&gt;" in content and "<script" not in content
              and "<img" not in content, content)
    tap.check("article: javascript: link dropped", "javascript:" not in content, content)
    tap.check("article: the stored body_html is not trusted", "evil()" not in page)
    tap.check("article: tags as rel=tag links, escaped",
              '<a rel="tag" href="/tag/c">C</a>' in page
              and '<a rel="tag" href="/tag/xss-tag">&lt;svg onload=alert(2)&gt; tag</a>' in page)
    tap.check("article: category link", 'class="post-category" href="/category/xss-cat"' in page)
    tap.check("article: views", re.search(r'class="post-views"[^>]*>7 views<', page) is not None)
    tap.check("article: date for people with a machine-readable time",
              re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">\d{1,2} '
                        r'(January|February|March|April|May|June|July|August|September|'
                        r'October|November|December) \d{4}</time>', page) is not None)
    tap.check("article: next is the newer neighbour (none), prev the older",
              '<a rel="prev" class="post-nav-prev" href="/articles/search-title">' in page
              and 'rel="next" class="post-nav-next"' not in page)
    st, _, older = get("/articles/search-title")
    tap.check("article: a middle article has both neighbours",
              'rel="next" class="post-nav-next" href="/articles/xss-article"' in older
              and 'rel="prev" class="post-nav-prev" href="/articles/search-body"' in older)
    tap.check("article: related articles", re.search(
        r'<section class="related".*?<a href="/articles/plain-0[012]">', page, re.S) is not None)
    no_raw("article", page)


def test_comments_thread():
    st, _, page = get("/articles/xss-article")
    sec = re.search(r'<section id="comments".*?</section>', page, re.S)
    sec = sec.group(0) if sec else ""
    tap.check("comments: section with an ol.comments list",
              '<ol class="comments">' in sec and "4 comments" in sec, sec[:300])
    li1 = re.search(rf'<li class="comment" id="comment-{ROOT1}">(.*?)\n</li>\n</ol>\n</li>',
                    sec, re.S)
    body1 = li1.group(1) if li1 else ""
    tap.check("comments: the reply is nested inside its parent's li",
              f'id="comment-{REPLY1}"' in body1 and f'id="comment-{REPLY2}"' in body1
              and body1.count('<ol class="comments">') == 2, sec[:2000])
    tap.check("comments: author, time and body",
              '<span class="comment-author">Ada</span>' in sec
              and '<div class="comment-body">First!\nSecond line.</div>' in sec)
    tap.check("comments: the admin's reply, escaped",
              '<div class="comment-reply">' in body1
              and "Thanks &lt;/textarea&gt;&lt;b&gt;" in body1, body1)
    tap.check("comments: hostile name and content escaped",
              "&lt;iframe src=javascript:alert(3)&gt;" in sec
              and "&quot;&gt;&lt;img src=x onerror=alert(1)&gt; in a comment" in sec)
    tap.check("comments: pending, spam and replies of pending never shown",
              "pending comment text" not in page and "spam comment text" not in page
              and "reply under pending text" not in page)
    tap.check("comments: emails never shown", "ada@example.com" not in page)
    tap.check("comments: Reply buttons carry the comment id",
              f'<button type="button" class="comment-reply-to" data-id="{REPLY1}"' in sec)
    tap.check("comments: the form and its fields",
              f'<form id="comment-form" class="comment-form" method="post" '
              f'action="/api/articles/{XART}/comments">' in sec
              and 'id="comment-name" name="author_name"' in sec
              and 'id="comment-email" name="author_email"' in sec
              and re.search(r'<textarea id="comment-content" name="content"', sec)
              and '<input type="hidden" name="parent_id"' in sec
              and re.search(r'<input[^>]*name="website"[^>]*aria-hidden="true" tabindex="-1" '
                            r'autocomplete="off"', sec)
              and '<p id="comment-status" role="status"' in sec
              and all(f'<label for="{i}"' in sec for i in
                      ("comment-name", "comment-email", "comment-content")), sec[-2500:])
    no_raw("comments", sec)


def test_form_submit():
    st, h, _ = form_post(SEARCH_TITLE, {"author_name": "No JS", "author_email": "",
                                        "content": f"Posted without script {RUN}",
                                        "website": "", "parent_id": ""})
    tap.eq("form post: 303 See Other", st, 303)
    tap.eq("form post: back to the article's status", h.get("location"),
           "/articles/search-title?comment=pending#comment-status")
    got = q(f"SELECT status || ':' || author_name FROM comments WHERE article_id = {SEARCH_TITLE}"
            f" AND content = 'Posted without script {RUN}'")
    tap.eq("form post: stored as pending", got, "pending:No JS")
    st, h, _ = form_post(XART, {"author_name": "Replier", "content": f"Form reply {RUN}",
                                "parent_id": str(ROOT1)})
    tap.eq("form post: a reply 303s", st, 303)
    tap.eq("form post: reply stored under its parent",
           q(f"SELECT parent_id FROM comments WHERE content = 'Form reply {RUN}'"), str(ROOT1))
    st, h, _ = form_post(SEARCH_TITLE, {"author_name": "x", "content": "   "})
    tap.check("form post: invalid -> 303 with ?comment=invalid",
              st == 303 and h.get("location", "").endswith("?comment=invalid#comment-status"), h)
    st, h, _ = form_post(SEARCH_TITLE, {"author_name": "Bot", "content": f"spam {RUN}",
                                        "website": "http://spam.example"})
    tap.check("form post: honeypot looks like success, stores nothing",
              st == 303 and "comment=pending" in h.get("location", "")
              and q(f"SELECT count(*) FROM comments WHERE content = 'spam {RUN}'") == "0", h)
    st, h, data = form_post(DRAFT, {"author_name": "x", "content": "y"})
    tap.eq("form post: draft article still 404", st, 404)
    # JSON callers are unchanged.
    st, h, obj = CMT.json("POST", f"/api/articles/{SEARCH_TITLE}/comments",
                          {"author_name": "Script", "content": f"JSON comment {RUN}"},
                          {"X-Forwarded-For": "2001:db8:ffff::1"})
    tap.check("JSON post: still 201 pending JSON",
              st == 201 and obj.get("status") == "pending", (st, obj))
    st, _, page = get("/articles/search-title?comment=pending")
    tap.check("page: ?comment=pending shows the notice",
              re.search(r'<p id="comment-status" role="status" class="comment-status">'
                        r"Thanks! Your comment is awaiting moderation.</p>", page) is not None,
              re.search(r'<p id="comment-status".*?</p>', page, re.S))
    tap.check("page: the pending comment is not shown yet",
              f"Posted without script {RUN}" not in page)
    st, _, page = get("/articles/search-title?comment=%3Cb%3Ex")
    tap.check("page: an unknown ?comment= code shows nothing",
              '<p id="comment-status" role="status" class="comment-status"></p>' in page)


def test_about():
    st, _, page = get("/about")
    tap.check("about: built-in text without an about article",
              st == 200 and "<h1>About</h1>" in page and "slug <code>about</code>" in page,
              (st, page[:300]))
    tap.eq("about: canonical", attr(page, r'<link rel="canonical" href="([^"]*)"'),
           SITE + "/about")
    article("About me", "about", hours=100, summary="Who writes here.",
            body_md="I write *here*.")
    st, _, page = get("/about")
    tap.check("about: the published about article",
              "<h1>About me</h1>" in page and "I write <em>here</em>." in page
              and meta(page, "description") == "Who writes here.", page[:2000])


def test_gateway():
    with open(os.path.join(lib.ROOT, "deploy/template.yaml")) as f:
        template = f.read()
    gw = lib.Gateway(template, env={"LOG_LEVEL": "warn", "DATABASE_URL": URL, "SITE_URL": SITE,
                                    "TRUST_PROXY": "1"},
                     static_dir=os.path.join(lib.ROOT, "frontend/blog"))
    try:
        st, h, page = get("/", gw)
        tap.check("gateway: / is the rendered page, not a static file",
                  st == 200 and "xss-article" in page and "Latest articles" in page, st)
        st, h, page = get("/articles/xss-article", gw)
        tap.check("gateway: article page with its CSP",
                  st == 200 and "script-src 'self'" in h.get("content-security-policy", ""), h)
        st, h, js = get("/blog.js", gw)
        tap.check("gateway: /blog.js served statically",
                  st == 200 and "javascript" in h.get("content-type", "")
                  and "innerHTML" not in js, (st, h.get("content-type")))
        st, h, css = get("/style.css", gw)
        tap.check("gateway: /style.css served", st == 200 and ".visually-hidden" in css, st)
        st, h, _ = form_post(SEARCH_BODY, {"author_name": "Gw", "content": f"Through gw {RUN}"},
                             srv=gw)
        tap.check("gateway: form post 303s back to the article",
                  st == 303 and h.get("location") ==
                  "/articles/search-body?comment=pending#comment-status", (st, h))
    finally:
        gw.stop()


try:
    for fn in (test_headers_and_shell, test_pagination, test_drafts_never_shown, test_archives,
               test_search, test_article_page, test_comments_thread, test_form_submit,
               test_about, test_gateway):
        tap.run(fn)
finally:
    ART.stop()
    CMT.stop()
    tap.check("articles: clean exit (no sanitizer report)", "ERROR: " not in ART.log(),
              ART.log()[-2000:])
    tap.check("comments: clean exit (no sanitizer report)", "ERROR: " not in CMT.log(),
              CMT.log()[-2000:])
tap.done()
