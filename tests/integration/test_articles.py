"""The articles function in HTTP mode against a real PostgreSQL: public list
with keyset paging, one article, health, and behaviour while the database is
down and after it comes back."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import b64url, lit, tap, unb64url  # noqa: E402

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
LIST_KEYS = {"id", "title", "slug", "summary", "cover_url", "published_at", "updated_at",
             "view_count", "category", "tags"}
EMOJI_TITLE = "你好，世界 👋🏽 — 博客 🚀"
BIG = ("Лорем ипсум 你好 🌏 " * 4000)  # well over 64 KB in UTF-8

DB_NAME = f"articles_{os.getpid()}"
URL = lib.fresh_database(DB_NAME)
ENV = lib.fn_env(DATABASE_URL=URL)


def q(sql):
    return lib.psql(sql, url=URL)


def insert(title, slug, status, when, body_md="", body_html="", summary=""):
    """when: SQL expression for published_at. Returns the new id."""
    return int(q("INSERT INTO articles (title, slug, status, published_at, body_md, body_html,"
                 f" summary) VALUES ({lit(title)}, {lit(slug)}, {lit(status)}, {when},"
                 f" {lit(body_md)}, {lit(body_html)}, {lit(summary)}) RETURNING id"))


sign = lib.sign_cursor


# ---- data ----
lib.migrate_or_done(ENV)

visible = []  # (hours ago, id), to sort like the API should
for i in range(1, 8):
    visible.append((i, insert(f"Post {i}", f"post-{i}", "published",
                              f"now() - interval '{i} hours'", summary=f"summary {i}")))
# Two articles at the very same instant: the id breaks the tie.
TIE = "date_trunc('second', now()) - interval '4 hours 30 minutes'"
visible.append((4.5, insert("Tie A", "tie-a", "published", TIE)))
visible.append((4.5, insert("Tie B", "tie-b", "published", TIE)))
visible.append((0.5, insert("Scheduled, due", "sched-due", "scheduled",
                            "now() - interval '30 minutes'")))
EMOJI_ID = insert(EMOJI_TITLE, "emoji", "published", "now() - interval '9 hours'",
                  body_md="**粗体** 🎉", body_html="<p><strong>粗体</strong> 🎉</p>",
                  summary="摘要 ✨")
visible.append((9, EMOJI_ID))
BIG_ID = insert("Big one", "big-one", "published", "now() - interval '10 hours'",
                body_md=BIG, body_html="<p>" + BIG + "</p>")
visible.append((10, BIG_ID))
DRAFT_ID = insert("Draft", "draft", "draft", "NULL")
DRAFT_TIMED_ID = insert("Draft with a time", "draft-timed", "draft",
                        "now() - interval '2 hours'")
FUTURE_ID = insert("Future", "future", "scheduled", "now() + interval '1 day'")
FUTURE_PUB_ID = insert("Future published", "future-pub", "published",
                       "now() + interval '1 hour'")
HIDDEN = {DRAFT_ID, DRAFT_TIMED_ID, FUTURE_ID, FUTURE_PUB_ID}
# Newest first; same instant -> higher id first.
EXPECTED = [i for _, i in sorted(visible, key=lambda v: (v[0], -v[1]))]

srv = lib.Server("articles", env=ENV)


def get(path):
    return srv.json("GET", path)


def walk(limit, between=None):
    """Follows next_cursor to the end; returns (ids, pages, problems)."""
    ids, pages, problems = [], 0, []
    path = f"/api/articles?limit={limit}"
    while True:
        status, _, obj = get(path)
        pages += 1
        if status != 200:
            problems.append(f"{path}: {status} {obj}")
            break
        ids += [it["id"] for it in obj["items"]]
        if len(obj["items"]) > limit:
            problems.append(f"page of {len(obj['items'])} > {limit}")
        if between and pages == 1:
            between()
        if obj["next_cursor"] is None:
            break
        path = f"/api/articles?limit={limit}&cursor={obj['next_cursor']}"
        if pages > 50:
            problems.append("too many pages")
            break
    return ids, pages, problems


def test_list():
    status, hdrs, obj = get("/api/articles")
    tap.eq("list: 200", status, 200)
    tap.check("list: JSON content type", hdrs.get("content-type", "").startswith(
        "application/json"), hdrs)
    ids = [it["id"] for it in obj["items"]]
    tap.eq("list: visible articles, newest first (ties by id)", ids, EXPECTED)
    tap.check("list: drafts and future articles hidden", not HIDDEN & set(ids), ids)
    tap.eq("list: one page, next_cursor null", obj["next_cursor"], None)
    tap.check("list: item fields exactly",
              all(set(it) == LIST_KEYS for it in obj["items"]), obj["items"][0])
    tap.check("list: no body in the list",
              all("body_md" not in it and "body_html" not in it for it in obj["items"]))
    tap.check("list: times RFC 3339 UTC",
              all(RFC3339.match(it["published_at"]) and RFC3339.match(it["updated_at"])
                  for it in obj["items"]), obj["items"][0])
    first = obj["items"][0]
    tap.check("list: types (id number, view_count number, cover_url null)",
              isinstance(first["id"], int) and first["view_count"] == 0 and
              first["cover_url"] is None, first)
    emoji = [it for it in obj["items"] if it["id"] == EMOJI_ID]
    tap.check("list: emoji title round trip", emoji and emoji[0]["title"] == EMOJI_TITLE and
              emoji[0]["summary"] == "摘要 ✨", emoji)


def test_paging():
    ids, pages, problems = walk(2)
    tap.eq("paging limit=2: no errors", problems, [])
    tap.eq("paging limit=2: every article once, in order", ids, EXPECTED)
    tap.eq("paging limit=2: page count", pages, (len(EXPECTED) + 1) // 2)

    status, _, obj = get(f"/api/articles?limit={len(EXPECTED)}")
    tap.check("paging: exact fit has next_cursor null",
              status == 200 and obj["next_cursor"] is None and len(obj["items"]) == len(EXPECTED),
              obj)
    status, _, obj = get("/api/articles?limit=3")
    cur = obj["next_cursor"]
    payload = unb64url(cur.split(".")[0]).decode()
    us, last_id = payload.split(",")
    tap.eq("cursor payload: <epoch us>,<id> of the last item", int(last_id), obj["items"][-1]["id"])
    tap.check("cursor payload: microseconds", len(us) >= 16 and us.isdigit(), payload)

    # New articles published while a reader pages: no gaps, no repeats.
    new_ids = []

    def publish():
        new_ids.append(insert("Breaking", "breaking", "published", "now()"))
        new_ids.append(insert("Old news", "old-news", "published",
                              "now() - interval '100 days'"))

    ids, _, problems = walk(2, between=publish)
    tap.eq("paging with inserts: no errors", problems, [])
    tap.eq("paging with inserts: no duplicates", len(ids), len(set(ids)))
    tap.eq("paging with inserts: all of the original articles, in order",
           [i for i in ids if i not in new_ids], EXPECTED)
    tap.check("paging with inserts: newer one not on later pages, older one reached",
              new_ids[0] not in ids and ids[-1] == new_ids[1], (ids, new_ids))
    status, _, obj = get("/api/articles?limit=1")
    tap.eq("paging with inserts: first page now starts with the new one",
           [it["id"] for it in obj["items"]], [new_ids[0]])
    q(f"DELETE FROM articles WHERE id IN ({new_ids[0]}, {new_ids[1]})")


def test_bad_parameters():
    for v in ("0", "101", "abc", "-1", "1.5", "", "99999999999999999999999"):
        status, _, obj = get(f"/api/articles?limit={v}")
        tap.check(f"limit={v!r}: 400 naming limit",
                  status == 400 and lib.is_error(obj, field="limit"), (status, obj))
    for v in ("1", "100"):
        status, _, obj = get(f"/api/articles?limit={v}")
        tap.eq(f"limit={v}: 200", status, 200)

    status, _, obj = get("/api/articles?limit=2")
    good = obj["next_cursor"]
    body, mac = good.split(".")
    raw = bytearray(unb64url(body))
    raw[0] = ord("9") if raw[0] != ord("9") else ord("8")
    cursors = {
        "tampered payload": b64url(bytes(raw)) + "." + mac,
        "tampered signature": body + "." + ("A" if mac[0] != "A" else "B") + mac[1:],
        "no signature": body,
        "garbage": "abc",
        "empty": "",
        "signed, not <us>,<id>": sign("hello"),
        "signed, id 0": sign("1700000000000000,0"),
        "signed, trailing junk": sign("1700000000000000,5x"),
    }
    for name, c in cursors.items():
        status, _, obj = get(f"/api/articles?limit=2&cursor={c}")
        tap.check(f"cursor {name}: 400 invalid_cursor",
                  status == 400 and lib.is_error(obj, "invalid_cursor", "cursor"), (status, obj))
    # A well-formed signed cursor is honoured exactly (keyset semantics).
    status, _, obj = get(f"/api/articles?limit=100&cursor={sign('4102444800000000,1')}")
    tap.eq("cursor far in the future: everything after it", [it["id"] for it in obj["items"]],
           EXPECTED)
    status, _, obj = get(f"/api/articles?limit=100&cursor={sign('0,1')}")
    tap.check("cursor at 1970: empty page, next_cursor null",
              status == 200 and obj["items"] == [] and obj["next_cursor"] is None, obj)


def test_get():
    status, _, obj = get(f"/api/articles/{EXPECTED[0]}")
    tap.eq("get: 200", status, 200)
    tap.check("get: has body_html and body_md", obj and "body_html" in obj and "body_md" in obj,
              obj)
    tap.check("get: published_at RFC 3339", obj and RFC3339.match(obj["published_at"]), obj)

    status, _, obj = get(f"/api/articles/{EMOJI_ID}")
    tap.check("get: emoji and Chinese round trip",
              status == 200 and obj["title"] == EMOJI_TITLE and obj["body_md"] == "**粗体** 🎉"
              and obj["body_html"] == "<p><strong>粗体</strong> 🎉</p>", obj)

    status, _, data = srv.request("GET", f"/api/articles/{BIG_ID}")
    obj = json.loads(data) if status == 200 else None
    tap.check("get: >64 KB body intact",
              obj is not None and obj["body_md"] == BIG and obj["body_html"] == f"<p>{BIG}</p>"
              and len(BIG.encode()) > 65536, (status, len(data)))

    for name, i in (("draft", DRAFT_ID), ("draft with a time", DRAFT_TIMED_ID),
                    ("future scheduled", FUTURE_ID), ("future published", FUTURE_PUB_ID),
                    ("nonexistent", 987654321), ("largest id", 9223372036854775807)):
        status, _, obj = get(f"/api/articles/{i}")
        tap.check(f"get {name}: 404 not_found",
                  status == 404 and lib.is_error(obj, "not_found"), (status, obj))
    # All digits is an id (out of range: 400); anything else is a slug.
    for v in ("0", "99999999999999999999", "9223372036854775808"):
        status, _, obj = get(f"/api/articles/{v}")
        tap.check(f"get id {v!r}: 400", status == 400 and lib.is_error(obj, field="id"),
                  (status, obj))
    for v in ("abc", "-1", "1.5", "1e3", "%201"):
        status, _, obj = get(f"/api/articles/{v}")
        tap.check(f"get slug {v!r}: 404", status == 404 and lib.is_error(obj, "not_found"),
                  (status, obj))


def test_health():
    status, _, obj = get("/api/health")
    tap.eq("health: 200 ok, database up", (status, obj), (200, {"status": "ok", "database": "up"}))


def test_database_down_and_back():
    lib.pg_stop()
    try:
        status, hdrs, obj = get("/api/articles")
        tap.eq("db down: list 503", status, 503)
        tap.check("db down: error JSON db_unavailable", lib.is_error(obj, "db_unavailable"), obj)
        tap.eq("db down: Retry-After", hdrs.get("retry-after"), "1")
        status, hdrs, obj = get("/api/articles/1")
        tap.check("db down: get 503", status == 503 and lib.is_error(obj, "db_unavailable"),
                  (status, obj))
        status, hdrs, obj = get("/api/health")
        tap.check("db down: health 503, database down",
                  status == 503 and obj.get("database") == "down" and
                  lib.is_error(obj, "db_unavailable") and hdrs.get("retry-after") == "1",
                  (status, obj))
    finally:
        lib.pg_start()
    status, _, obj = get("/api/articles")
    tap.check("db back: the first request reconnects, 200",
              status == 200 and [it["id"] for it in obj["items"]] == EXPECTED, (status, obj))
    status, _, obj = get("/api/health")
    tap.eq("db back: health 200", status, 200)


try:
    for t in (test_list, test_paging, test_bad_parameters, test_get, test_health,
              test_database_down_and_back):
        tap.run(t)
finally:
    lib.stop_clean(srv)
tap.done()
