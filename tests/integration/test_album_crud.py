"""The albums function's album and photo CRUD in HTTP mode against a real
PostgreSQL (a database of its own) and a file:// object store (a folder of
its own): albums (create, validation, names unique per user, list sorts,
counts, covers, paging, delete with every object), photos (list paging,
get, edit of description / tags / album, trash, restore, purge with every
object), the scheduled purge of old trash (a timer event through `invoke`),
401 on every route without a valid token, and the authorisation matrix:
user B gets a 404 for everything of user A's and changes nothing.

Photos are inserted with psql (the upload path is tested elsewhere); their
objects are written in the store's file layout (shared/src/store.c: the
bytes at DIR/<key>, metadata at DIR/.meta/<key>)."""
import json
import os
import secrets
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import b64url, tap  # noqa: E402

RUN = os.getpid()
DB_NAME = f"album_crud_{RUN}"
URL = lib.fresh_database(DB_NAME)
STORE = os.path.join(lib.TMP, f"album-crud-{RUN}", "objects")
os.makedirs(STORE, exist_ok=True)
ENV = lib.fn_env(DATABASE_URL=URL, STORAGE_URL="file://" + STORE, ALBUM_TRASH_DAYS=1,
                 GATEWAY_PUBLIC_URL="http://127.0.0.1:8080")


def q(sql):
    return lib.psql(sql, url=URL)


def lit(s):
    """A SQL literal for test setup (the code under test binds parameters)."""
    return "NULL" if s is None else lib.lit(str(s))


def new_id():
    return b64url(secrets.token_bytes(16))


lib.migrate_or_done(ENV)


# ---- users and tokens (auth.h: "w.<session>.<user id>.<exp>") ----

def user(name):
    return lib.app_user(URL, "o-" + name, nickname=name)


A_ID, A = user("alice")
B_ID, B = user("bob")

# ---- objects in the store's file layout ----


def put_object(key, data):
    lib.put_store_object(STORE, key, data)


def exists(key):
    return os.path.exists(os.path.join(STORE, key))


def meta_exists(key):
    return os.path.exists(os.path.join(STORE, ".meta", key))


def photo_keys(pid):
    return [f"photos/o/{pid}.jpg", f"photos/t/{pid}.jpg", f"photos/d/{pid}.jpg"]


def album_row(owner, name, sort_order=0, ago_s=0):
    aid = new_id()
    q(f"INSERT INTO albums (id, owner_id, name, sort_order, created_at, updated_at) VALUES"
      f" ({lit(aid)}, {owner}, {lit(name)}, {sort_order}, now() - interval '{ago_s} seconds',"
      f" now() - interval '{ago_s} seconds')")
    return aid


def photo(owner, album, status="ready", ago_s=0, trashed=None, objects=True, created=None,
          **cols):
    """A photo row (and its three objects when objects); trashed is a SQL
    interval ago ("2 days") or None. Returns its id."""
    pid = new_id()
    o, t, d = photo_keys(pid)
    if status in ("uploading", "processing", "failed"):
        t = d = None
    names = ["id", "owner_id", "album_id", "status", "object_key", "thumb_key", "display_key",
             "created_at", "trashed_at", "width", "height"]
    when = created or f"now() - interval '{ago_s} seconds'"
    vals = [lit(pid), str(owner), lit(album), lit(status), lit(o), lit(t), lit(d), when,
            f"now() - interval '{trashed}'" if trashed else "NULL", "640", "480"]
    for k, v in cols.items():
        names.append(k)
        vals.append(lit(v) if isinstance(v, str) else str(v))
    q(f"INSERT INTO photos ({', '.join(names)}) VALUES ({', '.join(vals)})")
    if objects:
        put_object(o, b"\xff\xd8\xff original " + pid.encode())
        if t:
            put_object(t, b"\xff\xd8\xff thumb " + pid.encode())
            put_object(d, b"\xff\xd8\xff display " + pid.encode())
    return pid


srv = lib.Server("albums", env=ENV)


def call(method, path, body=None, who=None):
    return srv.json(method, path, body, who)


def create_album(who, name, **extra):
    st, _, obj = call("POST", "/api/albums", dict({"name": name}, **extra), who)
    if st != 201:
        raise AssertionError(f"create album {name!r}: {st} {obj}")
    return obj


def snapshot(owner):
    """Everything of owner's, for 'nothing changed' checks."""
    return q("SELECT coalesce(json_agg(x ORDER BY x::text), '[]') FROM ("
             f" SELECT row_to_json(a)::text AS x FROM albums a WHERE owner_id = {owner}"
             f" UNION ALL SELECT row_to_json(p)::text FROM photos p WHERE owner_id = {owner}"
             " UNION ALL SELECT row_to_json(t)::text FROM photo_tags t JOIN photos p"
             f"  ON p.id = t.photo_id WHERE p.owner_id = {owner}) s")


# ---- tests ----


def test_unauthorized():
    aid, pid = new_id(), new_id()
    routes = [("GET", "/api/albums"), ("POST", "/api/albums"), ("GET", f"/api/albums/{aid}"),
              ("PUT", f"/api/albums/{aid}"), ("DELETE", f"/api/albums/{aid}"),
              ("GET", f"/api/albums/{aid}/photos"), ("GET", "/api/photos/trash"),
              ("GET", f"/api/photos/{pid}"), ("PUT", f"/api/photos/{pid}"),
              ("DELETE", f"/api/photos/{pid}"), ("POST", f"/api/photos/{pid}/restore"),
              ("POST", f"/api/photos/{pid}/purge")]
    revoked = secrets.token_hex(16)
    q(f"INSERT INTO app_sessions (id, user_id, expires_at, revoked_at) VALUES ('{revoked}',"
      f" {A_ID}, now() + interval '1 hour', now())")
    bad = {
        "no token": None,
        "garbage": {"Authorization": "Bearer nope"},
        "revoked session": {"Authorization": "Bearer " + lib.mint("w", revoked, A_ID,
                                                                  int(time.time()) + 3600)},
        "unknown session": {"Authorization": "Bearer " + lib.mint("w", secrets.token_hex(16),
                                                                  A_ID, int(time.time()) + 3600)},
        "forged": {"Authorization": "Bearer " + A["Authorization"][7:-4] + "AAAA"},
    }
    for method, path in routes:
        for what, hdrs in bad.items():
            body = {"name": "x"} if method in ("POST", "PUT") else None
            st, h, obj = call(method, path, body, hdrs)
            tap.check(f"{method} {path.replace(aid, '{a}').replace(pid, '{p}')} {what}: 401",
                      st == 401 and lib.is_error(obj, "unauthorized"), (st, obj))
    tap.eq("no album was created without a token", q("SELECT count(*) FROM albums"
                                                     " WHERE name = 'x'"), "0")


def test_album_crud():
    st, _, obj = call("POST", "/api/albums", {"name": "  Holidays  ", "description": "sea",
                                              "sort_order": 3}, A)
    tap.eq("create: 201", st, 201)
    tap.check("create: the album view", isinstance(obj, dict) and obj.get("name") == "Holidays"
              and obj.get("description") == "sea" and obj.get("sort_order") == 3
              and obj.get("photo_count") == 0 and obj.get("cover") is None
              and len(obj.get("id", "")) == 22 and obj.get("created_at", "").endswith("Z"),
              obj)
    aid = obj["id"]
    tap.eq("create: the row belongs to A", q(f"SELECT owner_id FROM albums WHERE id = {lit(aid)}"),
           str(A_ID))
    st, _, obj = call("POST", "/api/albums", {"name": "Holidays"}, A)
    tap.check("duplicate name: 409 naming name", st == 409 and lib.is_error(obj, "conflict",
                                                                             "name"), (st, obj))
    st, _, obj = call("POST", "/api/albums", {"name": "Holidays"}, B)
    tap.check("B may use A's name", st == 201 and obj["name"] == "Holidays", (st, obj))
    b_album = obj["id"]

    for body, field in (({}, "name"), ({"name": ""}, "name"), ({"name": "   "}, "name"),
                        ({"name": "a\x01b"}, "name"), ({"name": "x" * 101}, "name"),
                        ({"name": 5}, "name"), ({"name": "ok", "description": "d" * 2001},
                                                "description"),
                        ({"name": "ok", "sort_order": "1"}, "sort_order"),
                        ({"name": "ok", "sort_order": 1.5}, "sort_order"),
                        ({"name": "ok", "sort_order": 2 ** 31}, "sort_order")):
        st, _, obj = call("POST", "/api/albums", body, A)
        tap.check(f"create {json.dumps(body)[:40]}: 422 naming {field}",
                  st == 422 and lib.is_error(obj, "validation_failed", field), (st, obj))
    st, _, obj = call("POST", "/api/albums", {"name": "x" * 100, "description": "é" * 2000}, A)
    tap.eq("create at the limits (100 / 2000 characters): 201", st, 201)
    st, _, obj = call("POST", "/api/albums", "[1]", A)
    tap.check("a body that is not an object: 422", st == 422, (st, obj))

    st, _, obj = call("GET", f"/api/albums/{aid}", None, A)
    tap.check("get: 200 with the album", st == 200 and obj["id"] == aid
              and obj["name"] == "Holidays", (st, obj))
    st, _, obj = call("PUT", f"/api/albums/{aid}", {"description": "beach"}, A)
    tap.check("partial update keeps the name", st == 200 and obj["name"] == "Holidays"
              and obj["description"] == "beach" and obj["sort_order"] == 3, (st, obj))
    st, _, obj = call("PUT", f"/api/albums/{aid}", {"name": "Summer", "sort_order": -2}, A)
    tap.check("rename and reorder", st == 200 and obj["name"] == "Summer"
              and obj["sort_order"] == -2 and obj["description"] == "beach", (st, obj))
    create_album(A, "Winter")
    st, _, obj = call("PUT", f"/api/albums/{aid}", {"name": "Winter"}, A)
    tap.check("rename onto another album's name: 409 naming name",
              st == 409 and lib.is_error(obj, "conflict", "name"), (st, obj))
    tap.eq("the failed rename changed nothing",
           q(f"SELECT name FROM albums WHERE id = {lit(aid)}"), "Summer")
    st, _, obj = call("PUT", f"/api/albums/{aid}", {"name": "Holidays"}, A)
    tap.check("rename to a name only B uses: 200", st == 200, (st, obj))
    st, _, obj = call("PUT", f"/api/albums/{aid}", {}, A)
    tap.check("update with nothing to change: 422", st == 422 and lib.is_error(
        obj, "validation_failed"), (st, obj))
    st, _, obj = call("PUT", f"/api/albums/{aid}", {"name": ""}, A)
    tap.check("update with an empty name: 422 naming name",
              st == 422 and lib.is_error(obj, "validation_failed", "name"), (st, obj))

    for bad in ("short", "x" * 23, "a" * 21 + ".", "%2e%2e", "a" * 21 + "%C3%A9"):
        st, _, obj = call("GET", f"/api/albums/{bad}", None, A)
        tap.check(f"malformed album id {bad!r}: 404", st == 404, (st, obj))

    # SQL metacharacters and emoji go in and come out as they are.
    name = "Robert'); DROP TABLE albums;-- \\ % _ \"q\" 😀 相册"
    desc = "$1 ' \" \\x00? %s 🎉🎉 E'\\n' -- /* */ ;"
    obj = create_album(A, name, description=desc)
    st, _, got = call("GET", f"/api/albums/{obj['id']}", None, A)
    tap.check("hostile name and description round-trip", st == 200 and got["name"] == name
              and got["description"] == desc, got)
    tap.eq("the stored name is exact", q(f"SELECT name = {lit(name)} FROM albums WHERE"
                                         f" id = {lit(obj['id'])}"), "t")
    tap.eq("the albums table is still there", q("SELECT count(*) > 0 FROM albums"), "t")
    tap.eq("B's album untouched by it all", q(f"SELECT name FROM albums WHERE id ="
                                              f" {lit(b_album)}"), "Holidays")


def test_list_sorts_counts():
    uid, who = user("sorter")
    # ages fix created_at; sort_order ties are broken by newest first
    a1 = album_row(uid, "beta", sort_order=1, ago_s=500)
    a2 = album_row(uid, "Alpha", sort_order=0, ago_s=400)
    a3 = album_row(uid, "gamma", sort_order=0, ago_s=300)
    a4 = album_row(uid, "delta", sort_order=2, ago_s=200)
    q(f"UPDATE albums SET updated_at = now() - interval '1000 seconds' WHERE id = {lit(a4)}")
    q(f"UPDATE albums SET updated_at = now() WHERE id = {lit(a1)}")
    st, _, obj = call("GET", "/api/albums", None, who)
    ids = [x["id"] for x in obj["items"]] if st == 200 else []
    tap.eq("default order: sort_order, then newest", ids, [a3, a2, a1, a4])
    st, _, obj = call("GET", "/api/albums?sort=order", None, who)
    tap.eq("sort=order is the default", [x["id"] for x in obj["items"]], [a3, a2, a1, a4])
    st, _, obj = call("GET", "/api/albums?sort=created", None, who)
    tap.eq("sort=created: newest first", [x["id"] for x in obj["items"]], [a4, a3, a2, a1])
    st, _, obj = call("GET", "/api/albums?sort=updated", None, who)
    tap.eq("sort=updated: last changed first", [x["id"] for x in obj["items"]][0], a1)
    tap.eq("sort=updated: the oldest change last", [x["id"] for x in obj["items"]][-1], a4)
    st, _, obj = call("GET", "/api/albums?sort=name", None, who)
    names = [x["name"] for x in obj["items"]]
    tap.eq("sort=name: by name", sorted(names, key=str.lower), names)
    st, _, obj = call("GET", "/api/albums?sort=size", None, who)
    tap.check("unknown sort: 400 naming sort",
              st == 400 and lib.is_error(obj, "invalid_parameter", "sort"), (st, obj))
    for v in ("0", "101", "x"):
        st, _, obj = call("GET", f"/api/albums?limit={v}", None, who)
        tap.check(f"limit={v}: 400 naming limit",
                  st == 400 and lib.is_error(obj, field="limit"), (st, obj))

    # counts: every photo not in the trash, whatever its state
    photo(uid, a1, "ready", ago_s=50)
    photo(uid, a1, "processing", ago_s=40)
    photo(uid, a1, "uploading", ago_s=30)
    photo(uid, a1, "failed", ago_s=20)
    photo(uid, a1, "ready", trashed="1 hour")
    photo(uid, a2, "ready")
    st, _, obj = call("GET", "/api/albums", None, who)
    counts = {x["id"]: x["photo_count"] for x in obj["items"]}
    tap.eq("photo counts (trash excluded, every state counted)", counts,
           {a1: 4, a2: 1, a3: 0, a4: 0})
    st, _, obj = call("GET", f"/api/albums/{a1}", None, who)
    tap.eq("get has the same count", obj.get("photo_count"), 4)


def test_cover():
    uid, who = user("coverer")
    aid = album_row(uid, "covers")
    other = album_row(uid, "other")
    st, _, obj = call("GET", f"/api/albums/{aid}", None, who)
    tap.eq("an empty album has no cover", obj.get("cover"), None)
    old = photo(uid, aid, "ready", ago_s=300)
    new = photo(uid, aid, "ready", ago_s=100)
    photo(uid, aid, "processing", ago_s=10)   # newer but not ready
    proc = photo(uid, aid, "processing", ago_s=5)
    elsewhere = photo(uid, other, "ready")
    st, _, obj = call("GET", f"/api/albums/{aid}", None, who)
    cover = obj.get("cover") or {}
    tap.eq("default cover: the newest ready photo", cover.get("photo_id"), new)
    tap.check("the cover has a presigned thumbnail URL",
              f"/storage/photos/t/{new}.jpg?" in (cover.get("thumb_url") or "")
              and "X-Signature=" in cover.get("thumb_url", ""), cover)
    st, _, obj = call("PUT", f"/api/albums/{aid}", {"cover_photo_id": old}, who)
    tap.check("set the cover to an older ready photo", st == 200
              and (obj.get("cover") or {}).get("photo_id") == old, (st, obj))
    st, _, obj = call("GET", "/api/albums", None, who)
    listed = {x["id"]: x for x in obj["items"]}
    tap.eq("the list shows the chosen cover", (listed[aid]["cover"] or {}).get("photo_id"), old)
    for pid, why in ((proc, "a processing photo"), (elsewhere, "a photo of another album")):
        st, _, obj = call("PUT", f"/api/albums/{aid}", {"cover_photo_id": pid}, who)
        tap.check(f"cover: {why}: 422 naming cover_photo_id",
                  st == 422 and lib.is_error(obj, "validation_failed", "cover_photo_id"),
                  (st, obj))
    st, _, obj = call("PUT", f"/api/albums/{aid}", {"cover_photo_id": new_id()}, who)
    tap.check("cover: an unknown photo: 404 naming cover_photo_id",
              st == 404 and lib.is_error(obj, "not_found", "cover_photo_id"), (st, obj))
    tap.eq("failed cover changes left the cover", q(f"SELECT cover_photo_id FROM albums"
                                                    f" WHERE id = {lit(aid)}"), old)
    st, _, _ = call("DELETE", f"/api/photos/{old}", None, who)
    st, _, obj = call("GET", f"/api/albums/{aid}", None, who)
    tap.eq("a trashed cover falls back to the newest ready photo",
           (obj.get("cover") or {}).get("photo_id"), new)
    st, _, _ = call("POST", f"/api/photos/{old}/restore", None, who)
    st, _, obj = call("GET", f"/api/albums/{aid}", None, who)
    tap.eq("restored, it is the cover again", (obj.get("cover") or {}).get("photo_id"), old)
    st, _, obj = call("PUT", f"/api/albums/{aid}", {"cover_photo_id": None}, who)
    tap.check("cover_photo_id null clears the choice", st == 200
              and (obj.get("cover") or {}).get("photo_id") == new
              and q(f"SELECT cover_photo_id IS NULL FROM albums WHERE id = {lit(aid)}") == "t",
              (st, obj))
    # moving the cover photo out clears the album's cover
    call("PUT", f"/api/albums/{aid}", {"cover_photo_id": old}, who)
    st, _, obj = call("PUT", f"/api/photos/{old}", {"album_id": other}, who)
    tap.check("move the cover photo to another album", st == 200
              and obj.get("album_id") == other, (st, obj))
    tap.eq("the old album's cover is cleared",
           q(f"SELECT cover_photo_id IS NULL FROM albums WHERE id = {lit(aid)}"), "t")


def page_all(path, who, limit):
    """Every item of a paged list, following next_cursor."""
    items, cursor, pages = [], None, 0
    while True:
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}limit={limit}"
        if cursor:
            url += "&cursor=" + urllib.parse.quote(cursor)
        st, _, obj = call("GET", url, None, who)
        if st != 200:
            raise AssertionError(f"{url}: {st} {obj}")
        items += obj["items"]
        pages += 1
        tap.check(f"{path} page {pages} has at most {limit} items", len(obj["items"]) <= limit)
        cursor = obj.get("next_cursor")
        if not cursor or pages > 50:
            return items, pages


def test_album_paging():
    uid, who = user("pager")
    same = "now() - interval '1 minute'"
    ids = []
    for i in range(7):
        aid = new_id()
        # equal created_at and sort_order for several: the id breaks ties
        created = same if i < 4 else f"now() - interval '{i} seconds'"
        name = f"p{i} " + chr(0x1F600 + i)
        q(f"INSERT INTO albums (id, owner_id, name, sort_order, created_at, updated_at) VALUES"
          f" ({lit(aid)}, {uid}, {lit(name)}, {i % 2}, {created}, {same})")
        ids.append(aid)
    for sort in ("order", "name", "created", "updated"):
        st, _, full = call("GET", f"/api/albums?sort={sort}&limit=100", None, who)
        want = [x["id"] for x in full["items"]]
        got, pages = page_all(f"/api/albums?sort={sort}", who, 3)
        tap.eq(f"sort={sort}: pages of 3 give every album once, in order",
               [x["id"] for x in got], want)
        tap.eq(f"sort={sort}: three pages", pages, 3)
    tap.eq("all seven listed", sorted(want), sorted(ids))
    # names too long to ride in a cursor (100 four-byte characters)
    lid, lwho = user("longnames")
    long_ids = [album_row(lid, "\U0001F600" * 99 + c) for c in "cab"]
    got, pages = page_all("/api/albums?sort=name", lwho, 1)
    want = q("SELECT string_agg(id, ',' ORDER BY name, id) FROM albums"
             f" WHERE owner_id = {lid}").split(",")
    tap.eq("long names: pages of 1 in name order", [x["id"] for x in got], want)
    tap.eq("long names: every album", sorted(want), sorted(long_ids))
    st, _, obj = call("GET", "/api/albums?sort=name&limit=2", None, who)
    cur = obj["next_cursor"]
    st, _, obj = call("GET", "/api/albums?sort=created&cursor=" + urllib.parse.quote(cur), None,
                      who)
    tap.check("a cursor from another sort: 400 invalid_cursor",
              st == 400 and lib.is_error(obj, "invalid_cursor", "cursor"), (st, obj))
    st, _, obj = call("GET", "/api/albums?cursor=" + cur[:-2] + ("AA" if cur[-2:] != "AA"
                                                                else "BB"), None, who)
    tap.check("a tampered cursor: 400 invalid_cursor",
              st == 400 and lib.is_error(obj, "invalid_cursor"), (st, obj))


def test_photo_list_paging():
    uid, who = user("photolister")
    aid = album_row(uid, "many")
    ids = []
    for i in range(13):
        # groups of equal created_at: the id must break the tie
        ids.append(photo(uid, aid, "ready" if i % 3 else "processing", objects=False,
                         created=f"date_trunc('second', now()) - interval '{i // 3} minutes'"))
    trashed = photo(uid, aid, "ready", trashed="1 minute", objects=False)
    want = q("SELECT string_agg(id, ',' ORDER BY created_at DESC, id DESC) FROM photos"
             f" WHERE album_id = {lit(aid)} AND trashed_at IS NULL").split(",")
    got, pages = page_all(f"/api/albums/{aid}/photos", who, 4)
    tap.eq("photo pages of 4: every photo once, newest first, ties by id",
           [x["id"] for x in got], want)
    tap.eq("photo pages: four", pages, 4)
    tap.check("a trashed photo is not listed", trashed not in [x["id"] for x in got])
    item = next(x for x in got if x["status"] == "ready")
    keys = {"id", "album_id", "status", "failure_reason", "width", "height", "taken_at",
            "description", "caption", "tags", "color", "thumb_url", "display_url",
            "created_at"}
    tap.eq("a list item's fields", set(item), keys)
    tap.check("a ready photo has thumbnail and display URLs",
              f"photos/t/{item['id']}.jpg?" in (item["thumb_url"] or "")
              and f"photos/d/{item['id']}.jpg?" in (item["display_url"] or ""), item)
    proc = next(x for x in got if x["status"] == "processing")
    tap.check("a processing photo has null URLs",
              proc["thumb_url"] is None and proc["display_url"] is None, proc)
    st, _, obj = call("GET", f"/api/albums/{aid}/photos?cursor=bm9wZQ.AAAA", None, who)
    tap.check("a forged photo cursor: 400", st == 400 and lib.is_error(obj, "invalid_cursor"),
              (st, obj))
    st, _, obj = call("GET", f"/api/albums/{new_id()}/photos", None, who)
    tap.check("photos of an unknown album: 404", st == 404, (st, obj))


def test_photo_get_update():
    uid, who = user("editor")
    aid = album_row(uid, "edit")
    other = album_row(uid, "target")
    pid = photo(uid, aid, "ready", camera="Canon EOS 5D", gps_lat=31.2304, gps_lon=121.4737,
                orientation=6, caption="a cat", description="old")
    q(f"INSERT INTO photo_tags (photo_id, tag, source) VALUES ({lit(pid)}, 'cat', 'auto'),"
      f" ({lit(pid)}, 'animal', 'auto'), ({lit(pid)}, 'mine', 'user')")
    st, _, obj = call("GET", f"/api/photos/{pid}", None, who)
    tap.eq("get: 200", st, 200)
    tap.eq("get: exif", obj.get("exif"), {"camera": "Canon EOS 5D",
                                          "gps": {"lat": 31.2304, "lon": 121.4737},
                                          "orientation": 6})
    tap.check("get: the original's presigned URL",
              f"/storage/photos/o/{pid}.jpg?" in (obj.get("original_url") or ""), obj)
    tap.eq("get: tags, the user's first",
           obj.get("tags"), [{"tag": "mine", "source": "user"}, {"tag": "animal", "source": "auto"},
                             {"tag": "cat", "source": "auto"}])
    tap.check("get: no object keys leak", not any(k.endswith("_key") for k in obj), list(obj))

    tags = ["  Beach ", "beach", "BEACH", "海边", "Sunset", "cat", "😀 fun"]
    st, _, obj = call("PUT", f"/api/photos/{pid}", {"description": "new 'desc' 🎉",
                                                     "tags": tags}, who)
    tap.eq("update description and tags: 200", st, 200)
    tap.eq("description saved", obj.get("description"), "new 'desc' 🎉")
    got = {(t["tag"], t["source"]) for t in obj.get("tags", [])}
    tap.eq("user tags replaced, trimmed, deduplicated ignoring case; auto tags stay", got,
           {("Beach", "user"), ("海边", "user"), ("Sunset", "user"), ("😀 fun", "user"),
            ("cat", "auto"), ("animal", "auto")})
    st, _, obj = call("PUT", f"/api/photos/{pid}", {"tags": []}, who)
    tap.eq("an empty tag list removes the user's tags only",
           {(t["tag"], t["source"]) for t in obj.get("tags", [])},
           {("cat", "auto"), ("animal", "auto")})
    tap.eq("description kept by a tags-only edit", obj.get("description"), "new 'desc' 🎉")
    for body, what in (({"tags": [f"t{i}" for i in range(31)]}, "31 tags"),
                       ({"tags": ["x" * 51]}, "a 51-character tag"),
                       ({"tags": ["   "]}, "a blank tag"),
                       ({"tags": [1]}, "a number"),
                       ({"tags": "a,b"}, "a string"),
                       ({"tags": ["a\x07b"]}, "a control character")):
        st, _, obj = call("PUT", f"/api/photos/{pid}", body, who)
        tap.check(f"tags with {what}: 422 naming tags",
                  st == 422 and lib.is_error(obj, "validation_failed", "tags"), (st, obj))
    st, _, obj = call("PUT", f"/api/photos/{pid}",
                      {"tags": [f"t{i}" for i in range(30)] + ["T0", "t1"]}, who)
    tap.check("30 distinct tags (plus duplicates): 200", st == 200 and len(
        [t for t in obj["tags"] if t["source"] == "user"]) == 30, (st, obj))
    st, _, obj = call("PUT", f"/api/photos/{pid}", {"description": "d" * 2001}, who)
    tap.check("description over 2000: 422 naming description",
              st == 422 and lib.is_error(obj, "validation_failed", "description"), (st, obj))
    st, _, obj = call("PUT", f"/api/photos/{pid}", {}, who)
    tap.check("nothing to change: 422", st == 422, (st, obj))

    st, _, obj = call("PUT", f"/api/photos/{pid}", {"album_id": other}, who)
    tap.check("move to another own album", st == 200 and obj.get("album_id") == other, (st, obj))
    tap.eq("the row moved", q(f"SELECT album_id FROM photos WHERE id = {lit(pid)}"), other)
    for bad in (new_id(), "nope"):
        st, _, obj = call("PUT", f"/api/photos/{pid}", {"album_id": bad}, who)
        tap.check(f"move to an unknown album {bad[:6]!r}: 404 naming album_id",
                  st == 404 and lib.is_error(obj, "not_found", "album_id"), (st, obj))
    tap.eq("failed moves left it", q(f"SELECT album_id FROM photos WHERE id = {lit(pid)}"),
           other)
    st, _, obj = call("GET", f"/api/photos/{new_id()}", None, who)
    tap.check("get an unknown photo: 404", st == 404 and lib.is_error(obj, "not_found"),
              (st, obj))


def test_authz_matrix():
    a_album = create_album(A, "A private")["id"]
    a_other = create_album(A, "A other")["id"]
    a_photo = photo(A_ID, a_album, "ready")
    a_trashed = photo(A_ID, a_album, "ready", trashed="1 hour")
    q(f"INSERT INTO photo_tags (photo_id, tag) VALUES ({lit(a_photo)}, 'secret')")
    b_album = create_album(B, "B album")["id"]
    b_photo = photo(B_ID, b_album, "ready")
    before_a, before_b = snapshot(A_ID), snapshot(B_ID)
    cases = [
        ("GET", f"/api/albums/{a_album}", None, "get A's album"),
        ("PUT", f"/api/albums/{a_album}", {"name": "pwned"}, "rename A's album"),
        ("PUT", f"/api/albums/{a_album}", {"cover_photo_id": a_photo}, "set A's album cover"),
        ("DELETE", f"/api/albums/{a_album}", None, "delete A's album"),
        ("GET", f"/api/albums/{a_album}/photos", None, "list A's album photos"),
        ("GET", f"/api/photos/{a_photo}", None, "get A's photo"),
        ("PUT", f"/api/photos/{a_photo}", {"description": "pwned"}, "edit A's photo"),
        ("PUT", f"/api/photos/{a_photo}", {"tags": ["pwned"]}, "tag A's photo"),
        ("PUT", f"/api/photos/{a_photo}", {"album_id": b_album}, "move A's photo to B's album"),
        ("PUT", f"/api/photos/{a_photo}", {"album_id": a_other}, "move A's photo within A's"),
        ("DELETE", f"/api/photos/{a_photo}", None, "trash A's photo"),
        ("POST", f"/api/photos/{a_trashed}/restore", None, "restore A's photo"),
        ("POST", f"/api/photos/{a_photo}/purge", None, "purge A's photo"),
        ("POST", f"/api/photos/{a_trashed}/purge", None, "purge A's trashed photo"),
        ("PUT", f"/api/photos/{b_photo}", {"album_id": a_album}, "move own photo into A's album"),
        ("PUT", f"/api/albums/{b_album}", {"cover_photo_id": a_photo},
         "set A's photo as own cover"),
    ]
    for method, path, body, what in cases:
        st, _, obj = call(method, path, body, B)
        tap.check(f"B: {what}: 404", st == 404 and lib.is_error(obj, "not_found"), (st, obj))
    for who, uid, before in (("A", A_ID, before_a), ("B", B_ID, before_b)):
        after = snapshot(uid)
        changed = set(json.loads(after)) ^ set(json.loads(before))
        tap.check(f"{who}'s rows are unchanged", after == before,
                  "\n".join(x[:300] for x in sorted(changed)))
    tap.check("A's objects are all there", all(exists(k) for k in photo_keys(a_photo)))
    st, _, obj = call("GET", "/api/albums", None, B)
    tap.check("B's list has none of A's albums",
              st == 200 and not {a_album, a_other} & {x["id"] for x in obj["items"]}, obj)
    st, _, obj = call("GET", "/api/photos/trash", None, B)
    tap.check("B's trash has none of A's photos",
              st == 200 and a_trashed not in [x["id"] for x in obj["items"]], obj)
    st, _, obj = call("GET", f"/api/photos/{a_photo}", None, A)
    tap.check("A still reads the photo", st == 200 and obj.get("description") == "", (st, obj))


def test_trash_restore_purge():
    uid, who = user("trasher")
    aid = album_row(uid, "t")
    pid = photo(uid, aid, "ready")
    keep = photo(uid, aid, "ready")
    st, _, _ = call("DELETE", f"/api/photos/{pid}", None, who)
    tap.eq("trash: 204", st, 204)
    tap.eq("trashed_at is set", q(f"SELECT trashed_at IS NOT NULL FROM photos"
                                  f" WHERE id = {lit(pid)}"), "t")
    first = q(f"SELECT trashed_at FROM photos WHERE id = {lit(pid)}")
    st, _, _ = call("DELETE", f"/api/photos/{pid}", None, who)
    tap.eq("trash again: still 204", st, 204)
    tap.eq("trash again keeps the first time", q(f"SELECT trashed_at FROM photos WHERE id ="
                                                 f" {lit(pid)}"), first)
    st, _, obj = call("GET", f"/api/albums/{aid}/photos", None, who)
    tap.eq("not in the album's list", [x["id"] for x in obj["items"]], [keep])
    st, _, obj = call("GET", "/api/photos/trash", None, who)
    tap.check("in the trash list with trashed_at", st == 200
              and [x["id"] for x in obj["items"]] == [pid]
              and obj["items"][0].get("trashed_at"), obj)
    tap.check("objects stay while in the trash", all(exists(k) for k in photo_keys(pid)))
    st, _, _ = call("POST", f"/api/photos/{pid}/restore", None, who)
    tap.eq("restore: 204", st, 204)
    st, _, obj = call("GET", f"/api/albums/{aid}/photos", None, who)
    tap.eq("back in the album", sorted(x["id"] for x in obj["items"]), sorted([pid, keep]))
    st, _, obj = call("POST", f"/api/photos/{pid}/restore", None, who)
    tap.check("restore a photo not in the trash: 404", st == 404, (st, obj))
    q(f"INSERT INTO photo_tags (photo_id, tag) VALUES ({lit(pid)}, 'gone')")
    st, _, _ = call("POST", f"/api/photos/{pid}/purge", None, who)
    tap.eq("purge (not trashed first): 204", st, 204)
    tap.eq("the row is gone", q(f"SELECT count(*) FROM photos WHERE id = {lit(pid)}"), "0")
    tap.eq("its tags are gone", q(f"SELECT count(*) FROM photo_tags WHERE photo_id ="
                                  f" {lit(pid)}"), "0")
    tap.check("original, thumbnail and display objects are gone",
              not any(exists(k) or meta_exists(k) for k in photo_keys(pid)),
              [k for k in photo_keys(pid) if exists(k)])
    tap.check("the other photo's objects stay", all(exists(k) for k in photo_keys(keep)))
    st, _, _ = call("POST", f"/api/photos/{pid}/purge", None, who)
    tap.eq("purge again: 404", st, 404)
    st, _, _ = call("DELETE", f"/api/photos/{pid}", None, who)
    tap.eq("trash a purged photo: 404", st, 404)
    # a photo whose objects are partly missing still purges
    half = photo(uid, aid, "ready")
    os.unlink(os.path.join(STORE, photo_keys(half)[1]))
    st, _, _ = call("POST", f"/api/photos/{half}/purge", None, who)
    tap.check("purge with a missing object: 204 and nothing left", st == 204
              and not any(exists(k) for k in photo_keys(half)), st)


def test_trash_paging():
    uid, who = user("trashpager")
    aid = album_row(uid, "tp")
    for i in range(9):
        photo(uid, aid, "ready", trashed=f"{i // 2} minutes", objects=False)
    want = q("SELECT string_agg(id, ',' ORDER BY trashed_at DESC, id DESC) FROM photos"
             f" WHERE owner_id = {uid}").split(",")
    got, pages = page_all("/api/photos/trash", who, 2)
    tap.eq("trash pages of 2: every photo once, most recently trashed first",
           [x["id"] for x in got], want)
    tap.eq("trash pages: five", pages, 5)


def test_album_delete():
    uid, who = user("deleter")
    aid = album_row(uid, "doomed")
    keep_album = album_row(uid, "kept")
    pids = [photo(uid, aid, "ready"), photo(uid, aid, "processing"),
            photo(uid, aid, "ready", trashed="1 hour")]
    kept = photo(uid, keep_album, "ready")
    q(f"INSERT INTO photo_tags (photo_id, tag) VALUES ({lit(pids[0])}, 'x')")
    q(f"UPDATE albums SET cover_photo_id = {lit(pids[0])} WHERE id = {lit(aid)}")
    st, _, _ = call("DELETE", f"/api/albums/{aid}", None, who)
    tap.eq("delete an album: 204", st, 204)
    tap.eq("the album row is gone", q(f"SELECT count(*) FROM albums WHERE id = {lit(aid)}"),
           "0")
    tap.eq("its photos (trashed too) are gone",
           q(f"SELECT count(*) FROM photos WHERE album_id = {lit(aid)}"), "0")
    left = [k for p in pids for k in photo_keys(p) if exists(k) or meta_exists(k)]
    tap.eq("every object of its photos is gone", left, [])
    tap.check("another album's objects stay", all(exists(k) for k in photo_keys(kept)))
    tap.eq("the other album stays", q(f"SELECT count(*) FROM photos WHERE id = {lit(kept)}"),
           "1")
    st, _, obj = call("DELETE", f"/api/albums/{aid}", None, who)
    tap.check("delete again: 404", st == 404 and lib.is_error(obj, "not_found"), (st, obj))
    st, _, obj = call("GET", f"/api/photos/{pids[0]}", None, who)
    tap.eq("its photo is a 404 now", st, 404)


def test_scheduled_purge():
    uid, who = user("scheduled")
    aid = album_row(uid, "old trash")
    old = [photo(uid, aid, "ready", trashed="2 days") for _ in range(3)]
    old_b = photo(B_ID, create_album(B, "B old trash")["id"], "ready", trashed="49 hours")
    recent = photo(uid, aid, "ready", trashed="1 hour")
    live = photo(uid, aid, "ready")
    # an HTTP client cannot reach the event route
    st, _, _ = srv.request("EVENT", "/events/schedule", None, A)
    tap.check("EVENT over HTTP does not purge", st != 200
              and q(f"SELECT count(*) FROM photos WHERE id = {lit(old[0])}") == "1", st)
    rc, out, err = lib.invoke("albums", {"Type": "Timer", "TriggerName": "purge",
                                         "Time": "2026-01-01T00:00:00Z", "Message": ""},
                              env=ENV)
    body = json.loads(out["body"]) if out and out.get("body") else None
    tap.check("the timer event: 200 with the count", rc == 0 and out
              and out.get("statusCode") == 200 and body and body.get("purged") == 4,
              (rc, out, err[-2000:]))
    tap.eq("photos trashed over ALBUM_TRASH_DAYS ago are gone",
           q("SELECT count(*) FROM photos WHERE id IN (" + ",".join(lit(p) for p in old + [old_b])
             + ")"), "0")
    left = [k for p in old + [old_b] for k in photo_keys(p) if exists(k) or meta_exists(k)]
    tap.eq("and every object of theirs", left, [])
    tap.eq("recent trash and live photos stay",
           q(f"SELECT count(*) FROM photos WHERE id IN ({lit(recent)}, {lit(live)})"), "2")
    tap.check("their objects stay", all(exists(k) for p in (recent, live)
                                        for k in photo_keys(p)))
    rc, out, err = lib.invoke("albums", {"Type": "Timer", "TriggerName": "purge"}, env=ENV)
    body = json.loads(out["body"]) if out and out.get("body") else None
    tap.check("a second run purges nothing", body and body.get("purged") == 0, (out, err[-500:]))
    tap.check("invoke logs no sanitizer report", lib.sanitizer_clean(err), err[-2000:])
    # batches: more than one batch of 100 old rows
    vals = []
    for _ in range(230):
        p = new_id()
        vals.append(f"({lit(p)}, {uid}, {lit(aid)}, 'ready', {lit('photos/o/' + p + '.jpg')},"
                    " now() - interval '3 days')")
    q("INSERT INTO photos (id, owner_id, album_id, status, object_key, trashed_at) VALUES "
      + ",".join(vals))
    rc, out, err = lib.invoke("albums", {"Type": "Timer", "TriggerName": "purge"}, env=ENV)
    body = json.loads(out["body"]) if out and out.get("body") else None
    tap.check("230 old rows purged in batches", body and body.get("purged") == 230,
              (out, err[-500:]))
    tap.eq("none of them is left", q(f"SELECT count(*) FROM photos WHERE owner_id = {uid}"
                                     " AND trashed_at < now() - interval '1 day'"), "0")


try:
    for t in (test_unauthorized, test_album_crud, test_list_sorts_counts, test_cover,
              test_album_paging, test_photo_list_paging, test_photo_get_update,
              test_authz_matrix, test_trash_restore_purge, test_trash_paging, test_album_delete,
              test_scheduled_purge):
        tap.run(t)
finally:
    lib.stop_clean(srv)
    lib.drop_database(DB_NAME)
    tap.done()
