"""The blog's public reading API (functions/articles/public.c) in HTTP mode
against a real PostgreSQL: list filters, total and keyset paging with filter
fingerprints, one article by id and by (Chinese) slug with tags, prev/next and
related, hot, view counting, categories, the tag cloud, the quote of the day,
drafts and future articles invisible everywhere, and hostile parameters."""
import datetime
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import tap  # noqa: E402

RUN = os.getpid()
DB_NAME = f"blog_public_{RUN}"
URL = lib.fresh_database(DB_NAME)
ENV = lib.fn_env(DATABASE_URL=URL)


def q(sql):
    return lib.psql(sql, url=URL)


def lit(s):
    """A SQL literal for test setup (the code under test binds parameters)."""
    return "NULL" if s is None else lib.lit(s)


def arr(terms):
    return "ARRAY[" + ",".join(lit(t) for t in terms) + "]::text[]" if terms else "'{}'::text[]"


def category(name, slug, sort_order=0):
    return int(q(f"INSERT INTO categories (name, slug, sort_order) VALUES ({lit(name)},"
                 f" {lit(slug)}, {sort_order}) RETURNING id"))


def tag(name, slug):
    return int(q(f"INSERT INTO tags (name, slug) VALUES ({lit(name)}, {lit(slug)}) RETURNING id"))


# Every visible article: id -> dict(title, slug, hours, cat, tags)
ARTS = {}


def article(title, slug, status="published", hours=1.0, when=None, cat=None, tags=(),
            terms=(), views=0, body_md="", body_html="", summary=""):
    """hours: published that many hours ago (when: a SQL expression instead)."""
    when = when or f"now() - interval '{hours * 3600} seconds'"
    aid = int(q("INSERT INTO articles (title, slug, status, published_at, category_id, terms,"
                " view_count, body_md, body_html, summary) VALUES"
                f" ({lit(title)}, {lit(slug)}, {lit(status)}, {when},"
                f" {cat if cat else 'NULL'}, {arr(terms)}, {views}, {lit(body_md)},"
                f" {lit(body_html)}, {lit(summary)}) RETURNING id"))
    for t, src in tags:
        q(f"INSERT INTO article_tags (article_id, tag_id, source) VALUES ({aid}, {t}, {lit(src)})")
    return aid


def order_key(aid):
    """The API's order: published_at desc, id desc (read back from the DB)."""
    us = int(q(f"SELECT (extract(epoch FROM published_at) * 1000000)::bigint FROM articles"
               f" WHERE id = {aid}"))
    return (-us, -aid)


sign = lib.sign_cursor


# ---- data ----
lib.migrate_or_done(ENV)

CAT_A = category(f"Tech {RUN}", f"tech-{RUN}", 2)
CAT_B = category(f"生活 {RUN}", f"生活-{RUN}", 1)
CAT_EMPTY = category(f"Empty {RUN}", f"empty-{RUN}", 1)
CAT_DRAFTS = category(f"Drafts only {RUN}", f"drafts-only-{RUN}", 3)
T_C = tag(f"c-{RUN}", f"c-{RUN}")
T_GO = tag(f"go-{RUN}", f"go-{RUN}")
T_ZH = tag(f"数据库{RUN}", f"数据库-{RUN}")
T_HIDDEN = tag(f"hidden-{RUN}", f"hidden-{RUN}")
T_UNUSED = tag(f"unused-{RUN}", f"unused-{RUN}")

EMOJI_TITLE = f"你好，世界 👋🏽 — 博客 🚀 {RUN}"
ZH_SLUG = f"你好-世界-{RUN}"
V = {}
V["c1"] = article("C one", f"c-one-{RUN}", hours=1, cat=CAT_A,
                  tags=[(T_C, "manual"), (T_GO, "auto")], terms=["pointer", "memory", "kernel"])
V["c2"] = article("C two", f"c-two-{RUN}", hours=2, cat=CAT_A,
                  tags=[(T_C, "manual"), (T_GO, "manual")], terms=["pointer"])
V["c3"] = article("C three", f"c-three-{RUN}", hours=3, cat=CAT_A, tags=[(T_C, "manual")],
                  terms=["memory", "kernel"])
V["go"] = article("Go", f"go-{RUN}", hours=4, cat=CAT_A, tags=[(T_GO, "manual")])
V["zh"] = article(EMOJI_TITLE, ZH_SLUG, hours=5, cat=CAT_B, tags=[(T_ZH, "manual")],
                  body_md="**粗体** 🎉", body_html="<p><strong>粗体</strong> 🎉</p>",
                  summary="摘要 ✨")
V["kw"] = article("Keywords only", f"kw-{RUN}", hours=6, terms=["kernel"])
# Two at the very same instant: the id breaks the tie.
TIE = "date_trunc('second', now()) - interval '7 hours'"
V["tie1"] = article("Tie one", f"tie-one-{RUN}", when=TIE, cat=CAT_B)
V["tie2"] = article("Tie two", f"tie-two-{RUN}", when=TIE, cat=CAT_B, tags=[(T_ZH, "auto")])
V["sched"] = article("Scheduled, due", f"sched-due-{RUN}", status="scheduled", hours=0.5,
                     cat=CAT_A)
V["old"] = article("Old", f"old-{RUN}", hours=24 * 30)
VISIBLE = set(V.values())

# Hidden: they share category, tags and terms with visible ones, and have
# many views, so any leak shows in lists, counts, related, hot and prev/next.
H = {}
H["draft"] = article("Draft", f"draft-{RUN}", status="draft", when="NULL", cat=CAT_A,
                     tags=[(T_C, "manual"), (T_GO, "manual"), (T_HIDDEN, "manual")],
                     terms=["pointer", "memory", "kernel"], views=10**6)
H["draft_timed"] = article("Draft with a time", f"draft-timed-{RUN}", status="draft",
                           hours=1.5, cat=CAT_A, tags=[(T_C, "manual"), (T_GO, "auto")],
                           terms=["pointer", "memory", "kernel"], views=10**6)
H["future"] = article("Future", f"future-{RUN}", status="scheduled", hours=-24, cat=CAT_DRAFTS,
                      tags=[(T_C, "manual"), (T_HIDDEN, "manual")], terms=["pointer"],
                      views=10**6)
H["future_pub"] = article("Future published", f"未来-{RUN}", status="published", hours=-1,
                          cat=CAT_A, tags=[(T_C, "manual"), (T_GO, "manual")],
                          terms=["pointer", "memory"], views=10**6)
HIDDEN = set(H.values())

# Visible view counts for the hot list (ties broken by id desc).
for name, views in (("c1", 50), ("c2", 50), ("c3", 7), ("zh", 900), ("old", 3)):
    q(f"UPDATE articles SET view_count = {views} WHERE id = {V[name]}")

EXPECTED = sorted(VISIBLE, key=order_key)
ARTICLES_BEFORE = None

srv = lib.Server("articles", env=ENV)


def get(path):
    return srv.json("GET", path)


def ids_of(obj):
    return [it["id"] for it in obj["items"]]


def walk(query, limit, between=None):
    """Follows next_cursor; returns (ids, problems)."""
    ids, problems, pages = [], [], 0
    path = f"/api/articles?limit={limit}{query}"
    while True:
        status, _, obj = get(path)
        pages += 1
        if status != 200:
            problems.append(f"{path}: {status} {obj}")
            break
        ids += ids_of(obj)
        if len(obj["items"]) > limit:
            problems.append(f"page of {len(obj['items'])}")
        if between and pages == 1:
            between()
        if obj["next_cursor"] is None:
            break
        path = f"/api/articles?limit={limit}{query}&cursor={obj['next_cursor']}"
        if pages > 50:
            problems.append("too many pages")
            break
    return ids, problems


def test_list():
    status, _, obj = get("/api/articles?limit=100")
    tap.eq("list: 200", status, 200)
    tap.eq("list: visible articles newest first, ties by id desc", ids_of(obj), EXPECTED)
    tap.eq("list: total counts every visible article", obj["total"], len(EXPECTED))
    tap.check("list: no draft or future article", not HIDDEN & set(ids_of(obj)))
    by_id = {it["id"]: it for it in obj["items"]}
    c1 = by_id[V["c1"]]
    tap.eq("list item: category object", c1["category"],
           {"id": CAT_A, "name": f"Tech {RUN}", "slug": f"tech-{RUN}"})
    tap.eq("list item: tags by name", c1["tags"],
           sorted([{"name": f"c-{RUN}", "slug": f"c-{RUN}"},
                   {"name": f"go-{RUN}", "slug": f"go-{RUN}"}], key=lambda t: t["name"]))
    tap.check("list item: no category -> null, no tags -> []",
              by_id[V["old"]]["category"] is None and by_id[V["old"]]["tags"] == [],
              by_id[V["old"]])
    tap.check("list item: fields", set(c1) == {"id", "title", "slug", "summary", "cover_url",
                                               "published_at", "updated_at", "view_count",
                                               "category", "tags"}, c1)
    zh = by_id[V["zh"]]
    tap.check("list item: emoji and Chinese round trip",
              zh["title"] == EMOJI_TITLE and zh["slug"] == ZH_SLUG and zh["summary"] == "摘要 ✨"
              and zh["category"]["name"] == f"生活 {RUN}", zh)

    status, _, obj = get("/api/articles?limit=2")
    tap.check("list: limit=2 gives 2 items, a cursor and the full total",
              status == 200 and len(obj["items"]) == 2 and obj["next_cursor"] and
              obj["total"] == len(EXPECTED), obj)


def test_filters():
    cat_a = [i for i in EXPECTED if i in (V["c1"], V["c2"], V["c3"], V["go"], V["sched"])]
    status, _, obj = get(f"/api/articles?category=tech-{RUN}")
    tap.check("category filter: its visible articles in order, total",
              status == 200 and ids_of(obj) == cat_a and obj["total"] == len(cat_a),
              (status, obj and ids_of(obj), cat_a))
    cat_b = [i for i in EXPECTED if i in (V["zh"], V["tie1"], V["tie2"])]
    status, _, obj = get("/api/articles?category=" + urllib.parse.quote(f"生活-{RUN}"))
    tap.check("category filter: Chinese slug", status == 200 and ids_of(obj) == cat_b and
              obj["total"] == 3, (status, obj))
    tag_c = [i for i in EXPECTED if i in (V["c1"], V["c2"], V["c3"])]
    status, _, obj = get(f"/api/articles?tag=c-{RUN}")
    tap.check("tag filter: tagged visible articles, total",
              status == 200 and ids_of(obj) == tag_c and obj["total"] == 3, (status, obj))
    status, _, obj = get("/api/articles?tag=" + urllib.parse.quote(f"数据库-{RUN}"))
    tap.check("tag filter: Chinese tag slug",
              status == 200 and ids_of(obj) == [i for i in EXPECTED if i in (V["zh"], V["tie2"])],
              (status, obj))
    both = [i for i in EXPECTED if i in (V["c1"], V["c2"], V["go"])]
    status, _, obj = get(f"/api/articles?category=tech-{RUN}&tag=go-{RUN}")
    tap.check("category and tag together", status == 200 and ids_of(obj) == both and
              obj["total"] == len(both), (status, obj))
    for name, path in (("unknown category", "category=nope-" + str(RUN)),
                       ("unknown tag", "tag=nope-" + str(RUN)),
                       ("category of drafts only", f"category=drafts-only-{RUN}"),
                       ("tag only on hidden articles", f"tag=hidden-{RUN}")):
        status, _, obj = get("/api/articles?" + path)
        tap.check(f"{name}: empty list, total 0",
                  status == 200 and obj["items"] == [] and obj["total"] == 0 and
                  obj["next_cursor"] is None, (status, obj))


def test_paging():
    ids, problems = walk("", 2)
    tap.eq("paging limit=2: no errors", problems, [])
    tap.eq("paging limit=2: every article once, in order", ids, EXPECTED)

    cat_a = [i for i in EXPECTED if i in (V["c1"], V["c2"], V["c3"], V["go"], V["sched"])]
    new = []

    def publish():
        new.append(article("Breaking", f"breaking-{RUN}", hours=0.01, cat=CAT_A))
        new.append(article("Older news", f"older-news-{RUN}", hours=24 * 400, cat=CAT_A))

    ids, problems = walk(f"&category=tech-{RUN}", 2, between=publish)
    tap.eq("paging a category with inserts: no errors", problems, [])
    tap.eq("paging with inserts: no duplicates", len(ids), len(set(ids)))
    tap.eq("paging with inserts: every original article once, in order",
           [i for i in ids if i not in new], cat_a)
    tap.check("paging with inserts: the newer one is not on later pages, the older one reached",
              new[0] not in ids and ids[-1] == new[1], (ids, new))
    status, _, obj = get(f"/api/articles?category=tech-{RUN}&limit=1")
    tap.check("after inserts: total and first page see the new article",
              obj["total"] == len(cat_a) + 2 and ids_of(obj) == [new[0]], obj)
    q(f"DELETE FROM articles WHERE id IN ({new[0]}, {new[1]})")


def test_cursor_filters():
    _, _, plain = get("/api/articles?limit=2")
    _, _, cat = get(f"/api/articles?limit=2&category=tech-{RUN}")
    _, _, tagged = get(f"/api/articles?limit=1&tag=c-{RUN}")
    tap.check("cursors issued", plain["next_cursor"] and cat["next_cursor"] and
              tagged["next_cursor"], (plain, cat, tagged))
    cases = (
        ("plain cursor with a category", f"category=tech-{RUN}", plain["next_cursor"]),
        ("plain cursor with a tag", f"tag=c-{RUN}", plain["next_cursor"]),
        ("category cursor without filters", "", cat["next_cursor"]),
        ("category cursor with another category", "category=" + urllib.parse.quote(
            f"生活-{RUN}"), cat["next_cursor"]),
        ("category cursor with category and tag", f"category=tech-{RUN}&tag=go-{RUN}",
         cat["next_cursor"]),
        ("tag cursor with another tag", f"tag=go-{RUN}", tagged["next_cursor"]),
        ("tag cursor with q", f"tag=c-{RUN}&q=kernel", tagged["next_cursor"]),
        ("signed cursor with a forged fingerprint", f"category=tech-{RUN}",
         sign("1700000000000000,5,0123456789abcdef")),
        ("signed cursor with a bad fingerprint", "", sign("1700000000000000,5,xyz")),
    )
    for name, query, cur in cases:
        status, _, obj = get(f"/api/articles?limit=2&{query}&cursor={cur}")
        tap.check(f"{name}: 400 invalid_cursor",
                  status == 400 and lib.is_error(obj, "invalid_cursor", "cursor"), (status, obj))
    status, _, obj = get(f"/api/articles?limit=2&category=tech-{RUN}&cursor={cat['next_cursor']}")
    tap.check("category cursor with its own category: 200, next page",
              status == 200 and ids_of(obj) and not set(ids_of(obj)) & set(ids_of(cat)),
              (status, obj))


def test_get():
    status, _, obj = get(f"/api/articles/{V['zh']}")
    tap.eq("get by id: 200", status, 200)
    tap.check("get: body, category, tags with source",
              obj["body_md"] == "**粗体** 🎉" and obj["body_html"] == "<p><strong>粗体</strong> 🎉</p>"
              and obj["title"] == EMOJI_TITLE and obj["category"]["id"] == CAT_B and
              obj["tags"] == [{"name": f"数据库{RUN}", "slug": f"数据库-{RUN}", "source": "manual"}],
              obj)
    status, _, by_slug = get("/api/articles/" + urllib.parse.quote(ZH_SLUG))
    tap.check("get by percent-encoded Chinese slug: the same article",
              status == 200 and by_slug == obj, (status, by_slug))
    status, _, obj = get(f"/api/articles/c-one-{RUN}")
    tap.check("get by ASCII slug", status == 200 and obj["id"] == V["c1"], (status, obj))
    tap.eq("get: tags manual first", [(t["slug"], t["source"]) for t in obj["tags"]],
           [(f"c-{RUN}", "manual"), (f"go-{RUN}", "auto")])

    for name, aid in H.items():
        slug = q(f"SELECT slug FROM articles WHERE id = {aid}")
        status, _, obj = get(f"/api/articles/{aid}")
        tap.check(f"get {name} by id: 404", status == 404 and lib.is_error(obj, "not_found"),
                  (status, obj))
        status, _, obj = get("/api/articles/" + urllib.parse.quote(slug))
        tap.check(f"get {name} by slug: 404", status == 404 and lib.is_error(obj, "not_found"),
                  (status, obj))
    for v in ("no-such-slug", "9223372036854775807", "x" * 300, "%C3%28"):
        status, _, obj = get(f"/api/articles/{v}")
        tap.check(f"get {v[:20]!r}: 404", status == 404 and lib.is_error(obj, "not_found"),
                  (status, obj))
    for v in ("0", "99999999999999999999"):
        status, _, obj = get(f"/api/articles/{v}")
        tap.check(f"get id {v}: 400 naming id", status == 400 and lib.is_error(obj, field="id"),
                  (status, obj))


def test_prev_next():
    bad = []
    for i, aid in enumerate(EXPECTED):
        status, _, obj = get(f"/api/articles/{aid}")
        want_prev = EXPECTED[i + 1] if i + 1 < len(EXPECTED) else None  # older
        want_next = EXPECTED[i - 1] if i > 0 else None                   # newer
        got_prev = obj["prev"]["id"] if obj.get("prev") else None
        got_next = obj["next"]["id"] if obj.get("next") else None
        if status != 200 or (got_prev, got_next) != (want_prev, want_next):
            bad.append((aid, got_prev, got_next, want_prev, want_next))
    tap.eq("prev (older) / next (newer) are the true neighbours for every article", bad, [])
    status, _, obj = get(f"/api/articles/{EXPECTED[1]}")
    p = obj["prev"]
    tap.check("prev has id, slug, title only",
              set(p) == {"id", "slug", "title"} and p["slug"] and p["title"], p)


def test_related():
    status, _, obj = get(f"/api/articles/{V['c1']}")
    rel = [r["id"] for r in obj["related"]]
    # c2 shares 2 tags, c3 1 tag + 2 terms, go 1 tag, kw 1 term.
    tap.eq("related: by shared tags, then shared terms, then recency",
           rel, [V["c2"], V["c3"], V["go"], V["kw"]])
    tap.check("related: never itself nor hidden articles",
              V["c1"] not in rel and not HIDDEN & set(rel), rel)
    tap.check("related items: id, slug, title, summary, cover_url, published_at",
              obj["related"] and set(obj["related"][0]) ==
              {"id", "slug", "title", "summary", "cover_url", "published_at"}, obj["related"])
    status, _, obj = get(f"/api/articles/{V['old']}")
    tap.eq("related: nothing shared -> []", obj["related"], [])
    # More than 5 candidates: only 5.
    extra = [article(f"Rel {k}", f"rel-{k}-{RUN}", hours=48 + k, tags=[(T_C, "manual")])
             for k in range(5)]
    status, _, obj = get(f"/api/articles/{V['c1']}")
    tap.eq("related: at most 5", len(obj["related"]), 5)
    q("DELETE FROM articles WHERE id IN (" + ",".join(map(str, extra)) + ")")


def test_related_bounded():
    # Each tag gives at most its 50 newest articles as candidates, so an
    # article's cost stays bounded: an old article sharing two popular tags
    # (it would rank first) is not one; through a rarer tag it still is.
    pop1, pop2 = tag("Popular 1", f"pop1-{RUN}"), tag("Popular 2", f"pop2-{RUN}")
    rare = tag("Rare", f"rare-{RUN}")
    old = article("Old popular", f"old-pop-{RUN}", hours=24 * 40,
                  tags=[(pop1, "manual"), (pop2, "manual"), (rare, "manual")])
    newer = [article(f"Pop {k}", f"pop-{k}-{RUN}", hours=48 + k,
                     tags=[(pop1 if k % 2 else pop2, "manual")]) for k in range(110)]
    reader = article("Pop reader", f"pop-reader-{RUN}", tags=[(pop1, "manual"), (pop2, "manual")])
    both = article("Rare reader", f"rare-reader-{RUN}",
                   tags=[(pop1, "manual"), (pop2, "manual"), (rare, "manual")])
    try:
        _, _, obj = get(f"/api/articles/{reader}")
        rel = [r["id"] for r in obj["related"]]
        tap.check("related: only each tag's 50 newest articles are candidates",
                  len(rel) == 5 and old not in rel, rel)
        _, _, obj = get(f"/api/articles/{both}")
        rel = [r["id"] for r in obj["related"]]
        tap.check("related: an older article sharing a rarer tag too ranks first",
                  rel[:1] == [old], rel)
    finally:
        q("DELETE FROM articles WHERE id IN (" +
          ",".join(map(str, [old, reader, both] + newer)) + ")")
        q(f"DELETE FROM tags WHERE id IN ({pop1}, {pop2}, {rare})")


def test_hot():
    status, _, obj = get("/api/articles/hot")
    views = [it["view_count"] for it in obj["items"]]
    tap.check("hot: 200, default limit 10",
              status == 200 and len(obj["items"]) == min(10, len(EXPECTED)), (status, obj))
    tap.check("hot: view_count non-increasing", views == sorted(views, reverse=True), views)
    want = sorted(VISIBLE, key=lambda i: (-int(q(
        f"SELECT view_count FROM articles WHERE id = {i}")), -i))[:10]
    tap.eq("hot: most viewed first, ties by id desc", ids_of(obj), want)
    tap.check("hot: hidden articles (with a million views) absent", not HIDDEN & set(ids_of(obj)))
    status, _, obj = get("/api/articles/hot?limit=2")
    tap.eq("hot: limit=2", ids_of(obj), want[:2])
    for v in ("0", "51", "x", "-3"):
        status, _, obj = get(f"/api/articles/hot?limit={v}")
        tap.check(f"hot limit={v}: 400 naming limit",
                  status == 400 and lib.is_error(obj, field="limit"), (status, obj))


def view_count(aid):
    return int(q(f"SELECT view_count FROM articles WHERE id = {aid}"))


def test_views():
    aid = V["go"]
    before = view_count(aid)
    ua = {"User-Agent": "reader-one/1.0"}
    statuses = [srv.request("POST", f"/api/articles/{aid}/views", headers=ua)[0]
                for _ in range(5)]
    tap.eq("views: 204 each time", statuses, [204] * 5)
    tap.eq("views: 5 POSTs from one client count once", view_count(aid), before + 1)
    srv.request("POST", f"/api/articles/{aid}/views", headers={"User-Agent": "reader-two/2.0"})
    tap.eq("views: another User-Agent counts again", view_count(aid), before + 2)
    # Without TRUST_PROXY, X-Forwarded-For is the client's to write: ignored.
    srv.request("POST", f"/api/articles/{aid}/views",
                headers={"User-Agent": "reader-one/1.0", "X-Forwarded-For": "203.0.113.9"})
    tap.eq("views: a forged X-Forwarded-For does not make a new client", view_count(aid),
           before + 2)
    proxied = lib.Server("articles", env=dict(ENV, TRUST_PROXY="1"))
    try:
        proxied.request("POST", f"/api/articles/{aid}/views",
                        headers={"User-Agent": "reader-one/1.0",
                                 "X-Forwarded-For": "10.0.0.1, 203.0.113.9"})
        proxied.request("POST", f"/api/articles/{aid}/views",
                        headers={"User-Agent": "reader-one/1.0",
                                 "X-Forwarded-For": "198.51.100.4, 203.0.113.9"})
    finally:
        proxied.stop()
    tap.eq("views: behind a trusted proxy its (last) X-Forwarded-For entry is the client",
           view_count(aid), before + 3)
    rows = q(f"SELECT client_hash, extract(epoch FROM window_start)::bigint % 3600 FROM"
             f" article_views WHERE article_id = {aid}").splitlines()
    tap.check("views: one row per client, hashes (64 hex), hour windows",
              len(rows) == 3 and all(len(r.split("|")[0]) == 64 and r.endswith("|0")
                                     for r in rows), rows)
    tap.check("views: no raw address or user agent stored",
              "203.0.113" not in q("SELECT string_agg(client_hash, ',') FROM article_views") and
              "reader" not in q("SELECT string_agg(client_hash, ',') FROM article_views"))
    status, _, obj = get(f"/api/articles/{aid}")
    tap.eq("views: the article shows the new count", obj["view_count"], before + 3)
    for name, hid in H.items():
        st, _, data = srv.request("POST", f"/api/articles/{hid}/views", headers=ua)
        tap.check(f"views of {name}: 404, not counted",
                  st == 404 and view_count(hid) == 10**6, (st, data))
    st, _, _ = srv.request("POST", "/api/articles/987654321/views")
    tap.eq("views of a missing article: 404", st, 404)
    st, _, _ = srv.request("POST", "/api/articles/abc/views")
    tap.eq("views with a bad id: 400", st, 400)

    # Another window size, pruning on every call (two windows = 14 minutes).
    other = lib.Server("articles", env=lib.fn_env(DATABASE_URL=URL, VIEW_WINDOW_MINUTES=7,
                                                  VIEW_PRUNE_ONE_IN=1))
    try:
        q(f"INSERT INTO article_views VALUES ({aid}, 'stale', now() - interval '1 day')")
        st, _, _ = other.request("POST", f"/api/articles/{V['kw']}/views",
                                 headers={"User-Agent": "seven"})
        tap.eq("views (7-minute window): 204", st, 204)
        tap.eq("views: window_start aligned to 7 minutes",
               q(f"SELECT extract(epoch FROM window_start)::bigint % 420 FROM article_views"
                 f" WHERE article_id = {V['kw']}"), "0")
        tap.eq("views: rows older than two windows pruned",
               q("SELECT count(*) FROM article_views WHERE client_hash = 'stale'"), "0")
        tap.eq("views: the current window's row kept by pruning",
               q(f"SELECT count(*) FROM article_views WHERE article_id = {V['kw']}"), "1")
    finally:
        other.stop()


def test_categories():
    status, _, obj = get("/api/categories")
    mine = [c for c in obj["items"] if c["id"] in (CAT_A, CAT_B, CAT_EMPTY, CAT_DRAFTS)]
    tap.eq("categories: by sort_order then name, public counts",
           [(c["id"], c["article_count"]) for c in mine],
           [(CAT_EMPTY, 0), (CAT_B, 3), (CAT_A, 5), (CAT_DRAFTS, 0)])
    tap.check("categories: fields", mine and set(mine[0]) ==
              {"id", "name", "slug", "sort_order", "article_count"}, mine)
    tap.eq("categories: Chinese name round trip",
           [c["name"] for c in mine if c["id"] == CAT_B], [f"生活 {RUN}"])


def test_tags():
    status, _, obj = get("/api/tags")
    got = [(t["slug"], t["article_count"]) for t in obj["items"]]
    # The cluster collates C.UTF-8: names in code point order.
    want = [(f"c-{RUN}", 3), (f"go-{RUN}", 3), (f"数据库-{RUN}", 2)]
    tap.eq("tag cloud: public counts, count desc then name, unused and hidden-only absent",
           got, want)
    status, _, obj = get("/api/tags?limit=1")
    tap.eq("tag cloud: limit", len(obj["items"]), 1)
    for v in ("0", "201", "ten"):
        status, _, obj = get(f"/api/tags?limit={v}")
        tap.check(f"tags limit={v}: 400 naming limit",
                  status == 400 and lib.is_error(obj, field="limit"), (status, obj))


def test_quote():
    s1, _, a = get("/api/quote")
    s2, _, b = get("/api/quote")
    today = datetime.datetime.now(datetime.timezone.utc).date()
    quotes = q("SELECT text FROM quotes ORDER BY id").splitlines()
    want = quotes[(today - datetime.date(1970, 1, 1)).days % len(quotes)]
    tap.check("quote: 200 twice, the same", s1 == 200 and s2 == 200 and a == b, (a, b))
    tap.check("quote: text, author, date", set(a) == {"text", "author", "date"} and
              a["date"] == today.isoformat(), a)
    tap.eq("quote: days since epoch mod count, by id", a["text"], want)


HOSTILE = ["'", "';DROP TABLE articles;--", "' OR '1'='1", "\\", "%", "_", "$1", "\")--",
           "1; DELETE FROM tags", "a' UNION SELECT password_hash FROM admin_users--",
           "%27%3B--", "\u202e", "😀'--", "x" * 1000]


def test_hostile():
    before = q("SELECT (SELECT count(*) FROM articles) || ',' || (SELECT count(*) FROM tags)"
               " || ',' || (SELECT count(*) FROM categories)")
    fives = []
    for v in HOSTILE:
        e = urllib.parse.quote(v, safe="")
        for path in (f"/api/articles?category={e}", f"/api/articles?tag={e}",
                     f"/api/articles?q={e}", f"/api/articles?cursor={e}",
                     f"/api/articles/{e}", f"/api/articles/{e}/views",
                     f"/api/articles?limit={e}", f"/api/tags?limit={e}",
                     f"/api/articles/hot?limit={e}"):
            method = "POST" if path.endswith("/views") else "GET"
            status, _, obj = srv.json(method, path)
            if status >= 500 or status not in (200, 400, 404, 405):
                fives.append((path, status, obj))
            elif status == 200 and ("?category=" in path or "?tag=" in path) and \
                    (obj["items"] or obj["total"] != 0):
                fives.append((path, "non-empty", obj))
    tap.eq("hostile parameters: only 200 (empty) / 400 / 404, never 5xx", fives, [])
    status, _, obj = get("/api/articles?category=%FF%FE")
    tap.check("category not UTF-8: 400 naming category",
              status == 400 and lib.is_error(obj, field="category"), (status, obj))
    status, _, obj = get("/api/articles?q=%C3")
    tap.check("q not UTF-8: 400 naming q", status == 400 and lib.is_error(obj, field="q"),
              (status, obj))
    after = q("SELECT (SELECT count(*) FROM articles) || ',' || (SELECT count(*) FROM tags)"
              " || ',' || (SELECT count(*) FROM categories)")
    tap.eq("hostile parameters: data intact", after, before)
    status, _, obj = get("/api/articles?limit=100")
    tap.eq("hostile parameters: list unchanged", ids_of(obj), EXPECTED)


def test_q():
    """q filters through search.c's search_tsquery and 004's search column."""
    cases = (("English word", "keywords", [V["kw"]]),
             ("Chinese bigram", urllib.parse.quote("世界"), [V["zh"]]),
             ("word only in hidden titles", "future", []),
             ("q and category", f"tie&category={urllib.parse.quote(f'生活-{RUN}')}",
              [i for i in EXPECTED if i in (V["tie1"], V["tie2"])]),
             ("no searchable term", urllib.parse.quote("!!! ---"), []))
    for name, qv, want in cases:
        status, _, obj = get(f"/api/articles?q={qv}")
        tap.check(f"q {name}: matching visible articles, total",
                  status == 200 and ids_of(obj) == want and obj["total"] == len(want),
                  (status, obj, want))
    ids, problems = walk("&q=tie", 1)
    tap.check("q: pages with its cursor, no gaps or repeats",
              not problems and ids == [i for i in EXPECTED if i in (V["tie1"], V["tie2"])],
              (ids, problems))


def test_bad_limit():
    for v in ("0", "101", "abc", "-1", ""):
        status, _, obj = get(f"/api/articles?limit={v}")
        tap.check(f"list limit={v!r}: 400 naming limit",
                  status == 400 and lib.is_error(obj, "invalid_parameter", "limit"),
                  (status, obj))


try:
    for t in (test_list, test_filters, test_paging, test_cursor_filters, test_get,
              test_prev_next, test_related, test_related_bounded, test_hot, test_views,
              test_categories, test_tags,
              test_quote, test_q, test_hostile, test_bad_limit):
        tap.run(t)
finally:
    lib.stop_clean(srv)
    lib.drop_database(DB_NAME)

# The function's own variables are read at cold start: a bad one stops it
# there, naming the variable.
for name, bad in (("VIEW_WINDOW_MINUTES", "0"), ("VIEW_WINDOW_MINUTES", "ten"),
                  ("UPLOAD_MAX_BYTES", "lots")):
    rc, out, err = lib.invoke("articles", {"method": "GET", "path": "/api/quote"},
                              env=lib.fn_env(**{name: bad}))
    tap.check(f"{name}={bad} stops the function at start, naming it",
              rc != 0 and name in err and out is None, (rc, out, err[-500:]))
tap.done()
