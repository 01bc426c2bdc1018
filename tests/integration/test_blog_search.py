"""GET /api/search: English and Chinese full-text search, ranked, against a
real PostgreSQL. Articles are written with psql (so the database's own
index maintenance is what is tested) and searched through the articles
function: the C query tokeniser and sql/004_search.sql must agree."""
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import lit, tap  # noqa: E402

DB_NAME = f"blog_search_{os.getpid()}"
URL = lib.fresh_database(DB_NAME)
ENV = lib.fn_env(DATABASE_URL=URL)


def q(sql):
    return lib.psql(sql, url=URL)


def insert(title, slug, body_md="", summary="", status="published",
           when="now() - interval '1 hour'"):
    return int(q("INSERT INTO articles (title, slug, status, published_at, body_md, summary)"
                 f" VALUES ({lit(title)}, {lit(slug)}, {lit(status)}, {when},"
                 f" {lit(body_md)}, {lit(summary)}) RETURNING id"))


lib.migrate_or_done(ENV)

# English ranking: the same rare word in a title, a summary and a body.
TITLE_HIT = insert("Zephyrine winds explained", "zeph-title", body_md="Nothing here.")
SUMMARY_HIT = insert("Weather notes", "zeph-summary", summary="About zephyrine breezes.")
BODY_HIT = insert("Sailing log", "zeph-body",
                  body_md="Day two.\n\nWe met a *zephyrine* gust at noon, then calm.")
# Chinese.
ZH_BODY = insert("一篇文章", "zh-body", body_md="我们今天用中文写作，测试全文检索。")
ZH_RUN = insert("散步", "zh-run", body_md="今天天气很好我们去公园散步然后回家")
MIXED = insert("Rust编程指南", "mixed-title", body_md="Ownership 与 borrowing。")
# Never visible.
DRAFT = insert("Quixotical draft", "quix-draft", body_md="quixotical 中文 zephyrine",
               status="draft", when="NULL")
FUTURE = insert("Quixotical future", "quix-future", body_md="quixotical 中文 zephyrine",
                status="scheduled", when="now() + interval '1 day'")
FUTURE_PUB = insert("Quixotical later", "quix-later", body_md="quixotical 中文",
                    status="published", when="now() + interval '1 hour'")
HIDDEN = {DRAFT, FUTURE, FUTURE_PUB}
# Paging: five articles sharing a word, with different weights of it.
PAGED = [insert(f"Paging {i}", f"paging-{i}", body_md="lorem " + "marmalade " * (i + 1))
         for i in range(5)]

srv = lib.Server("articles", env=ENV)


def search(query, extra=""):
    path = "/api/search?q=" + urllib.parse.quote(query, safe="") + extra
    return srv.json("GET", path)


def ids_of(obj):
    return [it["id"] for it in (obj or {}).get("items", [])]


def test_english_ranking():
    status, hdrs, obj = search("zephyrine")
    tap.eq("search: 200", status, 200)
    tap.check("search: JSON", hdrs.get("content-type", "").startswith("application/json"), hdrs)
    ids = ids_of(obj)
    tap.eq("search: title match, then summary, then body", ids,
           [TITLE_HIT, SUMMARY_HIT, BODY_HIT])
    ranks = [it["rank"] for it in obj["items"]]
    tap.check("search: ranks strictly descending", ranks == sorted(ranks, reverse=True)
              and len(set(ranks)) == 3, ranks)
    item = obj["items"][0]
    for key in ("id", "title", "slug", "summary", "published_at", "updated_at",
                "view_count", "rank", "snippet"):
        tap.check(f"search: item has {key}", key in item, item)
    tap.check("search: no internal columns leak", "body_head" not in item
              and "search" not in item and "body_md" not in item, item)
    body_item = obj["items"][2]
    tap.check("search: body snippet shows the hit as plain text",
              "zephyrine gust" in body_item["snippet"] and "<" not in body_item["snippet"]
              and "*" not in body_item["snippet"], body_item["snippet"])
    # Case and prefixes.
    _, _, obj = search("ZEPHYR")
    tap.eq("search: upper case and a prefix find the same articles", sorted(ids_of(obj)),
           sorted([TITLE_HIT, SUMMARY_HIT, BODY_HIT]))
    _, _, obj = search("zephyrine gust")
    tap.eq("search: terms are ANDed", ids_of(obj), [BODY_HIT])
    _, _, obj = search("zephyrine nonexistentword")
    tap.eq("search: a missing term gives no results", ids_of(obj), [])


def test_chinese():
    status, _, obj = search("中文")
    tap.eq("search zh: 200", status, 200)
    tap.check("search zh: 中文 in a body is found", ZH_BODY in ids_of(obj), obj)
    tap.check("search zh: drafts and future articles with 中文 are not",
              not HIDDEN & set(ids_of(obj)), obj)
    tap.check("search zh: snippet holds the hit", "中文" in obj["items"][0]["snippet"], obj)
    _, _, obj = search("公园")
    tap.eq("search zh: a 2-character word inside a long Han run", ids_of(obj), [ZH_RUN])
    _, _, obj = search("去公园散步")
    tap.eq("search zh: a longer phrase (its bigrams)", ids_of(obj), [ZH_RUN])
    _, _, obj = search("园公")
    tap.eq("search zh: reversed characters do not match", ids_of(obj), [])
    _, _, obj = search("全文检索")
    tap.eq("search zh: phrase after Chinese punctuation", ids_of(obj), [ZH_BODY])
    _, _, obj = search("rust编程")
    tap.eq("search mixed: ASCII glued to Han splits like the index", ids_of(obj), [MIXED])
    _, _, obj = search("RUST 指南")
    tap.eq("search mixed: separate terms", ids_of(obj), [MIXED])
    _, _, obj = search("编程，ownership！")
    tap.eq("search mixed: fullwidth punctuation separates", ids_of(obj), [MIXED])


def test_index_maintained_by_database():
    aid = insert("Plain", "maint-1", body_md="nothing special")
    _, _, obj = search("xylograph")
    tap.eq("index: word not there yet", ids_of(obj), [])
    q(f"UPDATE articles SET title = 'Xylograph prints 木刻版画' WHERE id = {aid}")
    _, _, obj = search("xylograph")
    tap.eq("index: a psql UPDATE of the title is searchable", ids_of(obj), [aid])
    _, _, obj = search("版画")
    tap.eq("index: and its Chinese", ids_of(obj), [aid])
    q(f"UPDATE articles SET view_count = view_count + 1 WHERE id = {aid}")
    _, _, obj = search("xylograph")
    tap.eq("index: still found after an unrelated update", ids_of(obj), [aid])
    q(f"UPDATE articles SET status = 'draft', published_at = NULL WHERE id = {aid}")
    _, _, obj = search("xylograph")
    tap.eq("index: back to draft, gone from search", ids_of(obj), [])
    # C and SQL agree on what a term is: the SQL function over a query text
    # gives exactly the lexemes search_tsquery ANDs.
    got = q("SELECT search_index_text('Hello, WORLD! 我们使用中文abc中x 字 😀')")
    tap.eq("index: search_index_text", got,
           "hello world 我们 们使 使用 用中 中文 abc 中 x 字")


def test_hidden_never():
    for word in ("quixotical", "zephyrine", "中文"):
        _, _, obj = search(word)
        tap.check(f"hidden: {word} shows no draft or future article",
                  not HIDDEN & set(ids_of(obj)), ids_of(obj))
    _, _, obj = search("quixotical")
    tap.eq("hidden: a word only drafts/future have finds nothing", ids_of(obj), [])


def test_bad_queries():
    for path, what in (("/api/search", "missing q"), ("/api/search?q=", "empty q")):
        status, _, obj = srv.json("GET", path)
        tap.eq(f"bad q: {what} -> 400", status, 400)
        tap.check(f"bad q: {what} names q", lib.is_error(obj, "invalid_parameter", "q"), obj)
    for query in ("!!!", "   ", "—…！？", "😀🎉", "&|!:*()"):
        status, _, obj = search(query)
        tap.eq(f"bad q: punctuation-only {query!r} -> 400", status, 400)
        tap.check(f"bad q: {query!r} names q", lib.is_error(obj, "invalid_parameter", "q"), obj)
    status, _, obj = search("a" * 201)
    tap.eq("bad q: 201 characters -> 400", status, 400)
    tap.check("bad q: too long names q", lib.is_error(obj, "invalid_parameter", "q"), obj)
    status, _, obj = search("中" * 200)
    tap.eq("bad q: 200 characters (600 bytes) is fine", status, 200)
    status, _, obj = search("zephyrine", "&limit=0")
    tap.eq("bad limit: 0 -> 400", status, 400)
    status, _, obj = search("zephyrine", "&limit=101")
    tap.eq("bad limit: 101 -> 400", status, 400)


def test_metacharacters():
    queries = ["'", "''", "\\", "a'b", "a\\b", "x & y | !z", "foo:*", "(bar)", "!zephyrine",
               "zephyrine:A", "zephyrine:*B", "'zephyrine'", "zephyrine <-> winds",
               "'; DROP TABLE articles; --", "中'文", "中文\\", "a&b|c!d:e*f(g)h\\i'j",
               "%", "_", "%_%", "\x00", "zephyrine\x01", "\u2028"]
    for query in queries:
        status, _, obj = search(query)
        # A NUL is refused by the request parser (invalid_query) before the handler.
        ok = status == 400 and lib.is_error(obj) or \
            status == 200 and isinstance(obj, dict) and isinstance(obj.get("items"), list)
        tap.check(f"metachar: {query!r} -> 400 or results", ok, f"{status} {obj}")
    _, _, obj = search("'zephyrine' & (winds)")
    tap.eq("metachar: operators are plain separators", ids_of(obj), [TITLE_HIT])
    _, _, obj = search("!zephyrine")
    tap.check("metachar: '!' is not negation", TITLE_HIT in ids_of(obj), obj)
    tap.check("metachar: the table survived",
              int(q("SELECT count(*) FROM articles")) >= 10, "")


def test_paging():
    seen, pages, path = [], 0, "&limit=2"
    cursor = None
    while True:
        status, _, obj = search("marmalade", path)
        pages += 1
        if not tap.check(f"paging: page {pages} is 200", status == 200, obj):
            return
        tap.check(f"paging: page {pages} within limit", len(obj["items"]) <= 2, obj)
        seen += ids_of(obj)
        if obj["next_cursor"] is None or pages > 10:
            break
        cursor = obj["next_cursor"]
        path = "&limit=2&cursor=" + urllib.parse.quote(cursor, safe="")
    tap.eq("paging: three pages", pages, 3)
    tap.eq("paging: every match once, no duplicates", sorted(seen), sorted(PAGED))
    tap.eq("paging: most mentions first", seen, list(reversed(PAGED)))
    status, _, obj = search("zephyrine", "&limit=2&cursor=" + urllib.parse.quote(cursor))
    tap.eq("paging: a cursor from another query -> 400", status, 400)
    tap.check("paging: invalid_cursor", lib.is_error(obj, "invalid_cursor", "cursor"), obj)
    status, _, obj = search("marmalade", "&limit=2&cursor=" + cursor[:-2] + "AA")
    tap.eq("paging: a tampered cursor -> 400", status, 400)
    status, _, obj = search("marmalade", "&cursor=garbage")
    tap.eq("paging: a malformed cursor -> 400", status, 400)


for t in (test_english_ranking, test_chinese, test_index_maintained_by_database,
          test_hidden_never, test_bad_queries, test_metacharacters, test_paging):
    tap.run(t)

rc = srv.stop()
tap.check("server exits cleanly (sanitizers quiet)", rc == 0 and "ERROR: " not in srv.log(),
          srv.log()[-3000:])
lib.psql(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
tap.done()
