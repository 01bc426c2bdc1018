"""Photo search (GET /api/photos/search), the tag cloud (GET /api/photos/tags)
and near-duplicates (GET /api/photos/{id}/similar) of the albums function in
HTTP mode, against a database of its own. Photos are written with psql in
state ready with their hash, colour, dates, texts and tags, so the triggers
of sql/008_photo_search.sql are what keeps the index, and the C query
tokeniser must agree with them. Two users: B never sees A's photos, and no
one sees trashed or unfinished photos."""
import os
import secrets
import shutil
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import tap  # noqa: E402

DB_NAME = f"album_search_{os.getpid()}"
URL = lib.fresh_database(DB_NAME)
STORE = os.path.join(lib.TMP, f"album-search-objects-{os.getpid()}")
os.makedirs(STORE, exist_ok=True)
ENV = lib.fn_env(DATABASE_URL=URL, STORAGE_URL="file://" + STORE)


def q(sql):
    return lib.psql(sql, url=URL)


def lit(s):
    """A SQL literal (test setup only; the code under test binds)."""
    return "NULL" if s is None else lib.lit(str(s))


def new_id():
    return secrets.token_urlsafe(16)  # 22 characters of base64url


lib.migrate_or_done(ENV)


# ---- users, sessions, tokens (auth.h: "w.<session>.<user id>.<exp>") ----

A, AUTH_A = lib.app_user(URL, f"search-a-{os.getpid()}")
B, AUTH_B = lib.app_user(URL, f"search-b-{os.getpid()}")


def album(owner, name):
    aid = new_id()
    q(f"INSERT INTO albums (id, owner_id, name) VALUES ({lit(aid)}, {owner}, {lit(name)})")
    return aid


def signed64(v):
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= 1 << 63 else v


def photo(owner, album_id, description="", caption="", tags=(), taken=None, created=None,
          color=None, phash=None, status="ready", trashed=False):
    pid = new_id()
    cols = ("id, owner_id, album_id, status, object_key, thumb_key, display_key, description,"
            " caption, taken_at, color, phash, trashed_at")
    vals = [lit(pid), str(owner), lit(album_id), lit(status), lit(f"photos/o/{pid}.jpg"),
            lit(f"photos/t/{pid}.jpg"), lit(f"photos/d/{pid}.jpg"), lit(description),
            lit(caption), lit(taken), lit(color),
            "NULL" if phash is None else str(signed64(phash)),
            "now()" if trashed else "NULL"]
    if created:
        cols += ", created_at"
        vals.append(lit(created))
    q(f"INSERT INTO photos ({cols}) VALUES ({', '.join(vals)})")
    for t in tags:
        q(f"INSERT INTO photo_tags (photo_id, tag) VALUES ({lit(pid)}, {lit(t)})")
    return pid


# ---- A's photos ----
BJ = album(A, "北京旅行")
SUMMER = album(A, "Summer Holidays")
LH_ALBUM = album(A, "Lighthouse Tours")
MISC = album(A, "Misc")

GUGONG = photo(A, BJ, description="我们去了北京故宫", tags=["古建筑"],
               taken="2024-05-01T10:00:00Z", color="#ff0000")
WALL = photo(A, BJ, description="长城上的日出", tags=["sunrise"],
             taken="2024-05-02T23:59:59Z", color="#f01010")
BEACH = photo(A, SUMMER, description="A day at the beach with friends",
              tags=["beach", "Sea"], taken="2024-05-03T00:00:00Z", color="#0000ff")
SEA2 = photo(A, SUMMER, description="Waves", tags=["sea"], taken="2024-04-30T23:59:59Z",
             color="#e01e1e")
# Ranking: one rare word as a tag (A), in a description (B), in an album name (C).
LH_TAG = photo(A, MISC, tags=["lighthouse"], taken="2023-03-01T00:00:00Z", color="#c83232")
LH_DESC = photo(A, MISC, description="an old lighthouse", taken="2023-03-02T00:00:00Z")
LH_IN_ALBUM = photo(A, LH_ALBUM, description="rocks", taken="2023-03-03T00:00:00Z")
# The relevance threshold: two words far apart in a description, or side by side.
WEAK = photo(A, MISC, description="alpha " + "filler " * 60 + "omega",
             taken="2022-01-01T00:00:00Z")
STRONG = photo(A, MISC, description="alpha omega together", taken="2022-01-02T00:00:00Z")
# No taken_at: the upload time stands in for it.
UNDATED = photo(A, MISC, description="scanned print", taken=None,
                created="2021-06-15T12:00:00Z")
# Paging: seven photos with one tag.
PAGED = [photo(A, MISC, tags=["paged"], taken=f"2020-01-{d:02d}T00:00:00Z")
         for d in range(1, 8)]
# Near-duplicates: distances 0, 3, 11 and 64 from BASE.
H = 0x0123456789ABCDEF
BASE = photo(A, MISC, description="dup base", phash=H)
D0 = photo(A, MISC, description="dup same", phash=H)
D3 = photo(A, MISC, description="dup near", phash=H ^ 0b111)
D11 = photo(A, MISC, description="dup far", phash=H ^ 0x7FF)
D64 = photo(A, MISC, description="dup opposite", phash=~H)
NOHASH = photo(A, MISC, description="no hash yet")
# Never visible: trashed, or not (yet) ready; they match everything above.
HIDDEN = set()
for st, tr in (("ready", True), ("processing", False), ("uploading", False),
               ("failed", False)):
    HIDDEN.add(photo(A, BJ, description="我们去了北京故宫 lighthouse alpha omega", status=st,
                     trashed=tr, tags=["beach", "paged", "hiddentag"],
                     taken="2024-05-01T10:00:00Z", color="#ff0000", phash=H))

# ---- B's photos: the same words, tag, colour and hash ----
B_ALBUM = album(B, "北京旅行")
B_GUGONG = photo(B, B_ALBUM, description="我们去了北京故宫 lighthouse", tags=["beach"],
                 taken="2024-05-01T10:00:00Z", color="#ff0000", phash=H)
B_OTHER = photo(B, B_ALBUM, description="b only", tags=["btag"], phash=H ^ 1)
A_ALL = {GUGONG, WALL, BEACH, SEA2, LH_TAG, LH_DESC, LH_IN_ALBUM, WEAK, STRONG, UNDATED,
         BASE, D0, D3, D11, D64, NOHASH} | set(PAGED)

srv = lib.Server("albums", env=ENV)


def get(path, auth=AUTH_A):
    return srv.json("GET", path, headers=auth)


def search(auth=AUTH_A, **params):
    status, _, obj = get("/api/photos/search?" + urllib.parse.urlencode(params), auth)
    return status, obj


def ids(obj):
    return [it["id"] for it in (obj or {}).get("items", [])]


def test_text():
    status, obj = search(q="故宫")
    tap.eq("q zh: 200", status, 200)
    tap.eq("q zh: 故宫 inside a description", ids(obj), [GUGONG])
    item = obj["items"][0]
    for key in ("id", "album_id", "thumb_url", "display_url", "description", "tags",
                "taken_at", "color", "rank"):
        tap.check(f"item has {key}", key in item, item)
    tap.eq("item: album", item["album_id"], BJ)
    tap.eq("item: tags", item["tags"], ["古建筑"])
    tap.eq("item: taken_at", item["taken_at"], "2024-05-01T10:00:00Z")
    tap.eq("item: color", item["color"], "#ff0000")
    tap.check("item: thumbnail URL for its own key",
              f"photos/t/{GUGONG}.jpg" in (item["thumb_url"] or ""), item)
    tap.check("item: display URL for its own key",
              f"photos/d/{GUGONG}.jpg" in (item["display_url"] or ""), item)
    tap.check("item: no internal columns", not {"search", "search_text", "thumb_key",
                                                  "display_key", "owner_id"} & set(item), item)
    _, obj = search(q="北京故宫")
    tap.eq("q zh: a longer phrase (bigrams)", ids(obj), [GUGONG])
    _, obj = search(q="宫")
    tap.eq("q zh: one character ending a run (substring, trigram index)", ids(obj), [GUGONG])
    _, obj = search(q="古建筑")
    tap.eq("q zh: by tag", ids(obj), [GUGONG])
    _, obj = search(q="sunrise")
    tap.eq("q: by tag", ids(obj), [WALL])
    _, obj = search(q="BEACH friends")
    tap.eq("q: by description, any case, words ANDed", ids(obj), [BEACH])
    _, obj = search(q="北京旅行")
    tap.eq("q zh: by album name", sorted(ids(obj)), sorted([GUGONG, WALL]))
    _, obj = search(q="holiday")
    tap.eq("q: by album name, a prefix", sorted(ids(obj)), sorted([BEACH, SEA2]))
    _, obj = search(q="nonexistentword")
    tap.eq("q: no match gives []", ids(obj), [])


def test_ranking():
    _, obj = search(q="lighthouse")
    tap.eq("rank: tag, then description, then album name", ids(obj),
           [LH_TAG, LH_DESC, LH_IN_ALBUM])
    ranks = [it["rank"] for it in obj["items"]]
    tap.check("rank: strictly descending", ranks == sorted(ranks, reverse=True)
              and len(set(ranks)) == 3, ranks)
    _, obj = search(q="alpha omega")
    tap.eq("threshold: the two words far apart in a long text are not returned",
           ids(obj), [STRONG])
    _, obj = search(q="alpha")
    tap.eq("threshold: yet each word alone finds both", sorted(ids(obj)),
           sorted([WEAK, STRONG]))


def test_tag():
    status, obj = search(tag="sea")
    tap.eq("tag: 200", status, 200)
    tap.eq("tag: exact, case-blind, newest first", ids(obj), [BEACH, SEA2])
    _, obj = search(tag="SEA")
    tap.eq("tag: upper case too", ids(obj), [BEACH, SEA2])
    _, obj = search(tag="se")
    tap.eq("tag: no prefix matching", ids(obj), [])
    tap.check("tag: no rank without q", "rank" not in search(tag="sea")[1]["items"][0])


def test_dates():
    _, obj = search(**{"from": "2024-05-01", "to": "2024-05-02"})
    tap.eq("dates: inclusive days (start of the first, end of the last)", ids(obj),
           [WALL, GUGONG])
    _, obj = search(**{"from": "2024-05-01T10:00:00Z", "to": "2024-05-03T00:00:00Z"})
    tap.eq("dates: RFC 3339 bounds are inclusive", ids(obj), [BEACH, WALL, GUGONG])
    _, obj = search(**{"from": "2024-05-01T12:00:00+02:00", "to": "2024-05-01T10:00:00.5Z"})
    tap.eq("dates: offsets and fractions", ids(obj), [GUGONG])
    _, obj = search(**{"from": "2021-06-15", "to": "2021-06-15"})
    tap.eq("dates: without taken_at the upload time counts", ids(obj), [UNDATED])
    _, obj = search(to="2020-01-02")
    tap.eq("dates: only an upper bound", ids(obj), [PAGED[1], PAGED[0]])
    for bad in ("2024-13-01", "2024-02-30", "yesterday", "2024-05-01T25:00:00Z",
                "2024-05-01T10:00:00", "2024-5-1"):
        status, obj = search(**{"from": bad})
        tap.check(f"dates: from={bad} is 400", status == 400
                  and lib.is_error(obj, "invalid_parameter", "from"), obj)
    status, obj = search(to="2024-05-01 10:00")
    tap.check("dates: a bad to is 400", status == 400 and lib.is_error(obj, field="to"), obj)


def test_color():
    status, obj = search(color="#ff0000")
    tap.eq("color: 200", status, 200)
    tap.eq("color: nearest first, within the distance", ids(obj), [GUGONG, WALL, SEA2])
    dists = [it["distance"] for it in obj["items"]]
    tap.check("color: distances ascending, first 0", dists[0] == 0
              and dists == sorted(dists) and dists[-1] <= 60, dists)
    _, obj = search(color="FF0000")
    tap.eq("color: without '#' and in upper case", ids(obj), [GUGONG, WALL, SEA2])
    _, obj = search(color="#0000fe")
    tap.eq("color: blue", ids(obj), [BEACH])
    for bad in ("red", "#ff00", "#gg0000", "#ff00000"):
        status, obj = search(color=bad)
        tap.check(f"color: {bad} is 400", status == 400
                  and lib.is_error(obj, "invalid_parameter", "color"), obj)


def test_combined():
    _, obj = search(q="北京", color="#ff0000")
    tap.eq("combined: q and colour", ids(obj), [GUGONG, WALL])
    _, obj = search(q="北京", **{"from": "2024-05-02"})
    tap.eq("combined: q and date", ids(obj), [WALL])
    _, obj = search(tag="sea", color="#ff0000")
    tap.eq("combined: tag and colour", ids(obj), [SEA2])
    _, obj = search(tag="sea", to="2024-05-01")
    tap.eq("combined: tag and date", ids(obj), [SEA2])
    _, obj = search(q="sea", tag="beach", color="#0000ff", **{"from": "2024-05-03"})
    tap.eq("combined: all four", ids(obj), [BEACH])


def test_paging():
    _, full = search(tag="paged", limit=100)
    want = list(reversed(PAGED))
    tap.eq("paging: the whole list, newest first", ids(full), want)
    tap.eq("paging: no next cursor at the end", full.get("next_cursor"), None)
    got, cursor, pages = [], None, 0
    while True:
        params = {"tag": "paged", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        status, obj = search(**params)
        if status != 200:
            tap.check("paging: page 200", False, obj)
            break
        got += ids(obj)
        pages += 1
        cursor = obj.get("next_cursor")
        if not cursor or pages > 5:
            break
    tap.eq("paging: pages of 3 join without gaps or repeats", got, want)
    tap.eq("paging: three pages", pages, 3)
    _, first = search(tag="paged", limit=3)
    status, obj = search(tag="sea", limit=3, cursor=first["next_cursor"])
    tap.check("paging: a cursor from another search is 400",
              status == 400 and lib.is_error(obj, "invalid_cursor", "cursor"), obj)
    status, obj = search(tag="paged", limit=3, cursor=first["next_cursor"][:-2] + "AA")
    tap.check("paging: a tampered cursor is 400",
              status == 400 and lib.is_error(obj, "invalid_cursor"), obj)
    status, obj = search(tag="paged", limit=0)
    tap.check("paging: limit 0 is 400", status == 400 and lib.is_error(obj, field="limit"), obj)


def test_tag_cloud():
    status, _, obj = get("/api/photos/tags")
    tap.eq("tags: 200", status, 200)
    items = (obj or {}).get("items", [])
    counts = {it["tag"].lower(): it["count"] for it in items}
    want = {"paged": 7, "sea": 2, "beach": 1, "sunrise": 1, "lighthouse": 1, "古建筑": 1}
    tap.eq("tags: counts over ready photos, case merged", counts, want)
    tap.eq("tags: most used first", [it["tag"].lower() for it in items[:2]], ["paged", "sea"])
    tap.check("tags: ties in tag order",
              [it["tag"] for it in items[2:]] == sorted(it["tag"] for it in items[2:]), items)
    tap.check("tags: trashed / unfinished photos' tags are not counted",
              "hiddentag" not in counts, counts)
    _, _, obj = get("/api/photos/tags?limit=2")
    tap.eq("tags: limit", [it["tag"].lower() for it in obj["items"]], ["paged", "sea"])
    _, _, obj = get("/api/photos/tags", AUTH_B)
    tap.eq("tags: B sees only B's", {it["tag"]: it["count"] for it in obj["items"]},
           {"beach": 1, "btag": 1})


def test_similar():
    status, _, obj = get(f"/api/photos/{BASE}/similar")
    tap.eq("similar: 200", status, 200)
    tap.eq("similar: distance 0 and 3, nearest first (11 and 64 too far)",
           [it["id"] for it in obj or []], [D0, D3])
    tap.eq("similar: distances", [it.get("distance") for it in obj or []], [0, 3])
    tap.check("similar: items carry URLs",
              obj and f"photos/t/{D0}.jpg" in (obj[0].get("thumb_url") or ""), obj)
    status, _, obj = get(f"/api/photos/{NOHASH}/similar")
    tap.check("similar: a photo without a hash gives []", status == 200 and obj == [], obj)
    status, _, obj = get(f"/api/photos/{BASE}/similar", AUTH_B)
    tap.check("similar: another user's photo is 404", status == 404
              and lib.is_error(obj, "not_found"), obj)
    status, _, obj = get(f"/api/photos/{B_GUGONG}/similar", AUTH_B)
    tap.eq("similar: B's duplicates are B's only", [it["id"] for it in obj or []], [B_OTHER])
    status, _, obj = get("/api/photos/not-an-id/similar")
    tap.eq("similar: a malformed id is 404", status, 404)
    status, _, obj = get(f"/api/photos/{new_id()}/similar")
    tap.eq("similar: an unknown id is 404", status, 404)


def test_isolation_and_hidden():
    for params in ({"q": "故宫"}, {"q": "lighthouse"}, {"tag": "beach"},
                   {"color": "#ff0000"}, {"from": "2024-05-01", "to": "2024-05-01"}):
        _, obj = search(**params)
        got = set(ids(obj))
        tap.check(f"A {params}: only A's ready photos", got and got <= A_ALL, got)
        _, obj = search(AUTH_B, **params)
        tap.eq(f"B {params}: B's photo only", ids(obj), [B_GUGONG])
    _, obj = search(q="hiddentag")
    tap.eq("hidden: a trashed or unfinished photo's tag finds nothing", ids(obj), [])
    status, obj = search({})
    tap.check("no token: 401", status == 401, obj)
    status, _, obj = get("/api/photos/tags", {})
    tap.eq("tags without a token: 401", status, 401)
    status, _, obj = get(f"/api/photos/{BASE}/similar", {})
    tap.eq("similar without a token: 401", status, 401)


def test_bad_queries():
    status, obj = search()
    tap.check("no filter: 400", status == 400 and lib.is_error(obj, "invalid_parameter"), obj)
    status, obj = search(q="", limit=5)
    tap.check("empty q alone: 400", status == 400 and lib.is_error(obj, "invalid_parameter"),
              obj)
    for meta in ("%", "':*", "&|!()", "\\"):
        status, obj = search(q=meta)
        tap.check(f"q={meta!r}: 400 (nothing to search for), never 500",
                  status == 400 and lib.is_error(obj, "invalid_parameter", "q"), obj)
    status, obj = search(q="故宫' OR '1'='1")
    tap.check("q with SQL quoting: 200, nothing injected", status == 200 and ids(obj) == [],
              obj)
    status, obj = search(q="lighthouse & !beach | (x:*)")
    tap.check("q with tsquery operators: 200, words ANDed", status == 200 and ids(obj) == [],
              obj)
    status, obj = search(q="lighthouse:* | alpha")
    tap.check("q with tsquery operators: no OR smuggled in", status == 200 and ids(obj) == [],
              obj)
    status, obj = search(q="故%宫")
    tap.check("q: LIKE's % is a literal character", status == 200 and ids(obj) == [], obj)
    status, obj = search(q="_宫")
    tap.check("q: LIKE's _ is a literal character", status == 200 and ids(obj) == [], obj)
    status, obj = search(q="x" * 201)
    tap.check("q: too long is 400", status == 400 and lib.is_error(obj, field="q"), obj)


def test_triggers():
    # An album rename, a tag added and a description edited reach the index.
    q(f"UPDATE albums SET name = 'Hawaii Trip' WHERE id = {lit(SUMMER)}")
    _, obj = search(q="hawaii")
    tap.eq("trigger: album rename indexes the new name", sorted(ids(obj)),
           sorted([BEACH, SEA2]))
    _, obj = search(q="summer")
    tap.eq("trigger: ... and forgets the old one", ids(obj), [])
    q(f"INSERT INTO photo_tags (photo_id, tag) VALUES ({lit(NOHASH)}, '熊猫')")
    _, obj = search(q="熊猫")
    tap.eq("trigger: a new tag is searchable", ids(obj), [NOHASH])
    q(f"DELETE FROM photo_tags WHERE photo_id = {lit(NOHASH)}")
    _, obj = search(q="熊猫")
    tap.eq("trigger: a removed tag is not", ids(obj), [])
    q(f"UPDATE photos SET caption = 'kangaroo crossing' WHERE id = {lit(NOHASH)}")
    _, obj = search(q="kangaroo")
    tap.eq("trigger: a caption is searchable", ids(obj), [NOHASH])
    q(f"UPDATE photos SET album_id = {lit(BJ)} WHERE id = {lit(NOHASH)}")
    _, obj = search(q="北京旅行")
    tap.check("trigger: a moved photo has its new album's name", NOHASH in ids(obj), obj)
    q(f"UPDATE photos SET trashed_at = now() WHERE id = {lit(NOHASH)}")
    _, obj = search(q="kangaroo")
    tap.eq("trashing a photo hides it", ids(obj), [])


try:
    for t in (test_text, test_ranking, test_tag, test_dates, test_color, test_combined,
              test_paging, test_tag_cloud, test_similar, test_isolation_and_hidden,
              test_bad_queries, test_triggers):
        tap.run(t)
finally:
    srv.stop()
    shutil.rmtree(STORE, ignore_errors=True)
    lib.psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
tap.done()
