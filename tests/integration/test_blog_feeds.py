"""RSS 2.0, Atom 1.0 and sitemap.xml from the articles function: valid XML
(xmllint), the right structure (xml.etree), hostile titles and bodies come
out escaped, drafts and future articles are absent, category and tag feeds
hold only their own articles."""
import email.utils
import json
import os
import re
import subprocess
import sys
import urllib.parse
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import lit, tap  # noqa: E402

DB_NAME = f"blog_feeds_{os.getpid()}"
URL = lib.fresh_database(DB_NAME)
SITE = "https://blog.example.com"
ENV = lib.fn_env(DATABASE_URL=URL, SITE_URL=SITE + "/", SITE_TITLE="Test & <Blog>")

NS = {"atom": "http://www.w3.org/2005/Atom",
      "content": "http://purl.org/rss/1.0/modules/content/",
      "sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
RFC822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
                    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                    r"\d{2}:\d{2}:\d{2} \+0000$")


def q(sql):
    return lib.psql(sql, url=URL)


def insert(title, slug, hours_ago, status="published", body_html="<p>x</p>", summary="",
           category=None, when=None):
    when = when or f"now() - interval '{hours_ago} hours'"
    cat = "NULL" if category is None else str(category)
    return int(q("INSERT INTO articles (title, slug, status, published_at, body_html, summary,"
                 f" category_id) VALUES ({lit(title)}, {lit(slug)}, {lit(status)}, {when},"
                 f" {lit(body_html)}, {lit(summary)}, {cat}) RETURNING id"))


def xml_clean(s):
    """What XML can carry of s: C0 controls other than tab/LF/CR dropped."""
    return "".join(c for c in s if c in "\t\n\r" or ord(c) >= 0x20)


lib.migrate_or_done(ENV)

CAT = int(q("INSERT INTO categories (name, slug) VALUES ('Tech & <Code>', 'tech') RETURNING id"))
CAT_EMPTY = int(q("INSERT INTO categories (name, slug, sort_order) VALUES ('空分类', '空分类', 5)"
                  " RETURNING id"))
TAG = int(q("INSERT INTO tags (name, slug) VALUES ('C 语言', 'c-语言') RETURNING id"))

EVIL_TITLE = "<script>alert('x')</script> & ]]> \x01bell\x07 😀 中文标题 \"q\""
EVIL_SUMMARY = "Summary <b>bold</b> & \x02ctl ]]> 🚀"
EVIL_BODY = "<p>body ]]> <script>alert(1)</script> \x0b 中文 😀 &amp; ]]]]></p>"
EVIL = insert(EVIL_TITLE, "evil-中文", 1, body_html=EVIL_BODY, summary=EVIL_SUMMARY,
              category=CAT)
q(f"INSERT INTO article_tags (article_id, tag_id, source) VALUES ({EVIL}, {TAG}, 'manual')")
# Older public articles: 24 more, so the feed (20) is a strict subset.
PUBLIC = {EVIL: "evil-中文"}
ORDER = [EVIL]
for i in range(24):
    slug = f"post-{i:02d}"
    aid = insert(f"Post {i}", slug, 2 + i, category=CAT if i % 3 == 0 else None)
    if i % 4 == 0:
        q(f"INSERT INTO article_tags (article_id, tag_id, source) VALUES ({aid}, {TAG}, 'auto')")
    PUBLIC[aid] = slug
    ORDER.append(aid)
SCHED_DUE = insert("Scheduled due", "sched-due", 0.5, status="scheduled", category=CAT)
PUBLIC[SCHED_DUE] = "sched-due"
ORDER.insert(0, SCHED_DUE)
HIDDEN = {
    insert("Draft", "hidden-draft", 0, status="draft", when="NULL", category=CAT): "hidden-draft",
    insert("Future", "hidden-future", 0, status="scheduled", category=CAT,
           when="now() + interval '1 day'"): "hidden-future",
    insert("Future pub", "hidden-later", 0, status="published", category=CAT,
           when="now() + interval '1 hour'"): "hidden-later",
}
for aid in HIDDEN:
    q(f"INSERT INTO article_tags (article_id, tag_id, source) VALUES ({aid}, {TAG}, 'manual')")
IN_CAT = {int(x) for x in q(f"SELECT id FROM articles WHERE category_id = {CAT}").split()}
IN_TAG = {int(x) for x in q(f"SELECT article_id FROM article_tags WHERE tag_id = {TAG}").split()}


def link(slug):
    return f"{SITE}/articles/{urllib.parse.quote(slug, safe='')}"


SLUG_OF_LINK = {link(s): a for a, s in list(PUBLIC.items()) + list(HIDDEN.items())}

srv = lib.Server("articles", env=ENV)


def fetch(path):
    status, hdrs, body = srv.request("GET", path)
    return status, dict((k.lower(), v) for k, v in hdrs), body


def xmllint_ok(name, body):
    p = subprocess.run(["xmllint", "--noout", "-"], input=body, capture_output=True, timeout=30)
    return tap.check(f"{name}: xmllint --noout accepts it", p.returncode == 0,
                     p.stderr.decode(errors="replace"))


def published_epoch(aid):
    return int(q(f"SELECT floor(extract(epoch FROM published_at)) FROM articles WHERE id = {aid}"))


def rss_items(path):
    status, hdrs, body = fetch(path)
    root = ET.fromstring(body)
    return status, hdrs, body, root, root.findall("./channel/item")


def test_rss():
    status, hdrs, body, root, items = rss_items("/rss.xml")
    tap.eq("rss: 200", status, 200)
    tap.eq("rss: content type", hdrs.get("content-type"), "application/rss+xml; charset=utf-8")
    xmllint_ok("rss", body)
    tap.eq("rss: root is rss 2.0", (root.tag, root.get("version")), ("rss", "2.0"))
    ch = root.find("channel")
    tap.eq("rss: channel title escaped and round-trips", ch.findtext("title"), "Test & <Blog>")
    tap.eq("rss: channel link is SITE_URL without double slash", ch.findtext("link"), SITE + "/")
    tap.eq("rss: self link", ch.find("atom:link", NS).get("href"), SITE + "/rss.xml")
    tap.eq("rss: latest 20", len(items), 20)
    ids = [SLUG_OF_LINK.get(it.findtext("link")) for it in items]
    tap.eq("rss: newest first, only public articles", ids, ORDER[:20])
    tap.check("rss: no draft or future article", not set(HIDDEN) & set(ids), ids)
    for slug in HIDDEN.values():
        tap.check(f"rss: {slug} absent from the bytes", slug.encode() not in body)
    evil = items[1]
    tap.eq("rss: evil title round-trips (controls dropped)", evil.findtext("title"),
           xml_clean(EVIL_TITLE))
    tap.eq("rss: evil summary in description", evil.findtext("description"),
           xml_clean(EVIL_SUMMARY))
    tap.eq("rss: content:encoded carries body_html exactly (]]> split)",
           evil.findtext("content:encoded", namespaces=NS), xml_clean(EVIL_BODY))
    tap.check("rss: the title's markup is escaped in the bytes",
              b"&lt;script&gt;alert(" in body and b"<script>alert('x')" not in body)
    tap.check("rss: emoji and Chinese as UTF-8", "😀 中文标题".encode() in body)
    tap.eq("rss: link percent-encodes a Chinese slug", evil.findtext("link"),
           SITE + "/articles/evil-%E4%B8%AD%E6%96%87")
    guids = [it.findtext("guid") for it in items]
    tap.eq("rss: unique guids", len(set(guids)), 20)
    tap.eq("rss: guid is not a permalink", evil.find("guid").get("isPermaLink"), "false")
    dates = [it.findtext("pubDate") for it in items]
    tap.check("rss: pubDate is RFC 822", all(RFC822.match(d) for d in dates), dates[:3])
    got = email.utils.parsedate_to_datetime(dates[1]).timestamp()
    tap.eq("rss: pubDate is the publication time", int(got), published_epoch(EVIL))


def test_atom():
    status, hdrs, body = fetch("/atom.xml")
    tap.eq("atom: 200", status, 200)
    tap.eq("atom: content type", hdrs.get("content-type"),
           "application/atom+xml; charset=utf-8")
    xmllint_ok("atom", body)
    root = ET.fromstring(body)
    A = "{http://www.w3.org/2005/Atom}"
    tap.eq("atom: root is an Atom feed", root.tag, A + "feed")
    for el in ("title", "id", "updated", "author/atom:name"):
        tap.check(f"atom: feed has {el}", root.find("atom:" + el, NS) is not None)
    tap.check("atom: feed updated is RFC 3339", RFC3339.match(root.findtext("atom:updated", "",
                                                                            NS)))
    self_links = [ln.get("href") for ln in root.findall("atom:link", NS)
                  if ln.get("rel") == "self"]
    tap.eq("atom: self link", self_links, [SITE + "/atom.xml"])
    entries = root.findall("atom:entry", NS)
    tap.eq("atom: latest 20", len(entries), 20)
    ids = [SLUG_OF_LINK.get(e.find("atom:link", NS).get("href")) for e in entries]
    tap.eq("atom: newest first, only public articles", ids, ORDER[:20])
    ok = all(e.findtext("atom:id", None, NS) and RFC3339.match(e.findtext("atom:updated", "", NS))
             and RFC3339.match(e.findtext("atom:published", "", NS)) and e.find("atom:title", NS)
             is not None for e in entries)
    tap.check("atom: every entry has id, title, RFC 3339 updated and published", ok)
    tap.eq("atom: entry ids unique", len({e.findtext("atom:id", None, NS) for e in entries}), 20)
    evil = entries[1]
    tap.eq("atom: evil title round-trips", evil.findtext("atom:title", None, NS),
           xml_clean(EVIL_TITLE))
    content = evil.find("atom:content", NS)
    tap.eq("atom: content type html", content.get("type"), "html")
    tap.eq("atom: content is body_html, escaped", content.text, xml_clean(EVIL_BODY))
    tap.eq("atom: summary", evil.findtext("atom:summary", None, NS), xml_clean(EVIL_SUMMARY))
    tap.check("atom: no live markup from the article in the bytes",
              b"<script>" not in body and b"<p>" not in body)
    pub = datetime.strptime(evil.findtext("atom:published", None, NS), "%Y-%m-%dT%H:%M:%SZ")
    tap.eq("atom: published is the publication time",
           int(pub.replace(tzinfo=timezone.utc).timestamp()), published_epoch(EVIL))


def test_filtered():
    for kind, path in (("rss", "/rss.xml"), ("atom", "/atom.xml")):
        for param, members, name in (("category=tech", IN_CAT, "category"),
                                     ("tag=" + urllib.parse.quote("c-语言"), IN_TAG, "tag")):
            status, hdrs, body = fetch(f"{path}?{param}")
            tap.eq(f"{kind} {name}: 200", status, 200)
            if not xmllint_ok(f"{kind} {name}", body):
                continue
            root = ET.fromstring(body)
            if kind == "rss":
                links = [it.findtext("link") for it in root.findall("./channel/item")]
                title = root.findtext("./channel/title")
            else:
                links = [e.find("atom:link", NS).get("href")
                         for e in root.findall("atom:entry", NS)]
                title = root.findtext("atom:title", None, NS)
            ids = [SLUG_OF_LINK.get(ln) for ln in links]
            want = [a for a in ORDER if a in members][:20]
            tap.eq(f"{kind} {name}: exactly its public articles, newest first", ids, want)
            tap.check(f"{kind} {name}: feed title names it",
                      ("Tech & <Code>" if name == "category" else "C 语言") in (title or ""),
                      title)
        for param in ("category=nope", "tag=nope", "category=", "category=tech&tag=c"):
            status, _, body = fetch(f"{path}?{param}")
            tap.check(f"{kind} ?{param}: 404 (400 for both)",
                      status == (400 if "&" in param else 404), f"{status} {body[:200]!r}")
        status, _, body = fetch(f"{path}?category=" + urllib.parse.quote("空分类"))
        tap.eq(f"{kind} empty category: 200", status, 200)
        xmllint_ok(f"{kind} empty category", body)
        tap.check(f"{kind} empty category: no items",
                  b"<item>" not in body and b"<entry>" not in body)
    status, _, body = fetch("/rss.xml?category=nope")
    tap.check("unknown category: error shape",
              lib.is_error(json.loads(body), "not_found", "category"), body)


def test_sitemap():
    status, hdrs, body = fetch("/sitemap.xml")
    tap.eq("sitemap: 200", status, 200)
    tap.check("sitemap: XML content type",
              hdrs.get("content-type", "").startswith("application/xml"), hdrs)
    xmllint_ok("sitemap", body)
    root = ET.fromstring(body)
    tap.eq("sitemap: urlset in the 0.9 namespace", root.tag,
           "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset")
    urls = root.findall("sm:url", NS)
    locs = [u.findtext("sm:loc", None, NS) for u in urls]
    tap.check("sitemap: every url has one loc", all(locs) and len(locs) == len(set(locs)), locs)
    tap.check("sitemap: only sitemap elements inside url",
              all(c.tag.split("}")[1] in ("loc", "lastmod", "changefreq", "priority")
                  for u in urls for c in u), "")
    tap.check("sitemap: the home page", SITE + "/" in locs, locs[:3])
    tap.check("sitemap: category pages",
              f"{SITE}/categories/tech" in locs
              and f"{SITE}/categories/{urllib.parse.quote('空分类', safe='')}" in locs, locs[:5])
    art = {SLUG_OF_LINK[ln] for ln in locs if ln in SLUG_OF_LINK}
    tap.eq("sitemap: every public article (not just 20)", art, set(PUBLIC))
    tap.check("sitemap: no draft or future article", not art & set(HIDDEN))
    lastmods = [u.findtext("sm:lastmod", None, NS) for u in urls
                if u.findtext("sm:loc", None, NS) in SLUG_OF_LINK]
    tap.check("sitemap: articles have W3C datetime lastmod",
              lastmods and all(lm and RFC3339.match(lm) for lm in lastmods), lastmods[:3])
    tap.check("sitemap: every loc is absolute under SITE_URL",
              all(ln.startswith(SITE + "/") for ln in locs), locs)


def test_head_and_default_site():
    status, _, body = srv.request("HEAD", "/rss.xml")[0:3]
    tap.eq("rss: HEAD answers 200", status, 200)
    event = {"version": "2.0", "rawPath": "/sitemap.xml",
             "requestContext": {"http": {"method": "GET", "path": "/sitemap.xml"}}}
    rc, out, err = lib.invoke("articles", event, lib.fn_env(DATABASE_URL=URL,
                                                            SITE_URL="javascript:x"))
    tap.check("site: a non-http SITE_URL stops the function at start-up, naming it",
              rc != 0 and out is None and "SITE_URL" in err, (rc, out, err[-300:]))
    rc, out, err = lib.invoke("articles", event, lib.fn_env(DATABASE_URL=URL, SITE_URL=""))
    body = (out or {}).get("body", "")
    tap.check("site: an empty SITE_URL is the default",
              rc == 0 and "<loc>http://127.0.0.1:8080/</loc>" in body, (rc, body[:300]))


for t in (test_rss, test_atom, test_filtered, test_sitemap, test_head_and_default_site):
    tap.run(t)

rc = srv.stop()
tap.check("server exits cleanly (sanitizers quiet)", rc == 0 and "ERROR: " not in srv.log(),
          srv.log()[-3000:])
lib.psql(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
tap.done()
