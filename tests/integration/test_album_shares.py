"""Share links (functions/albums/shares.c) in HTTP mode against a real
PostgreSQL: album and photo links, the token shown once and stored only as
its SHA-256, expiry, passwords (argon2id; missing / wrong / right), revoke,
the owner's list, ownership (B cannot share or revoke A's things: 404), and
a public endpoint that shows exactly what is shared: the album's ready
photos not in the trash, never another album's, never the owner, with
short-lived URLs, cursor-paged."""
import hashlib
import json
import os
import re
import secrets
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import b64url, lit, tap  # noqa: E402

RUN = os.getpid()
DB_NAME = f"album_shares_{RUN}"
URL = lib.fresh_database(DB_NAME)
STORE = os.path.join(lib.TMP, f"album-shares-{RUN}", "objects")
ENV = lib.fn_env(DATABASE_URL=URL, STORAGE_URL="file://" + STORE,
                 GATEWAY_PUBLIC_URL="http://gw.test:8080")
PHOTO_KEYS = {"id", "width", "height", "description", "taken_at", "thumb_url", "display_url"}


def q(sql):
    return lib.psql(sql, url=URL)


def new_id():
    return b64url(secrets.token_bytes(16))


lib.migrate_or_done(ENV, name="migrate")


def user(name):
    return lib.app_user(URL, f"sh-{RUN}-{name}")


def album(uid, name, desc=""):
    aid = new_id()
    q(f"INSERT INTO albums (id, owner_id, name, description) VALUES ('{aid}', {uid},"
      f" {lit(name)}, {lit(desc)})")
    return aid


def photo(uid, aid, status="ready", trashed=False, desc="", age_s=0):
    pid = new_id()
    q("INSERT INTO photos (id, owner_id, album_id, status, object_key, thumb_key, display_key,"
      " content_type, size_bytes, width, height, description, trashed_at, created_at) VALUES"
      f" ('{pid}', {uid}, '{aid}', '{status}', 'photos/o/{pid}.jpg', 'photos/t/{pid}.jpg',"
      f" 'photos/d/{pid}.jpg', 'image/jpeg', 1000, 640, 480, {lit(desc)},"
      f" {'now()' if trashed else 'NULL'}, now() - interval '{age_s} seconds')")
    return pid


A_ID, A = user("a")
B_ID, B = user("b")
A1 = album(A_ID, "Trip", "Summer 2026")
A2 = album(A_ID, "Work")
B1 = album(B_ID, "B's")
A1_READY = [photo(A_ID, A1, desc=f"p{i}", age_s=100 - i) for i in range(5)]
A1_TRASHED = photo(A_ID, A1, trashed=True)
A1_PROCESSING = photo(A_ID, A1, status="processing")
A1_FAILED = photo(A_ID, A1, status="failed")
A2_READY = photo(A_ID, A2)
B1_READY = photo(B_ID, B1)

SRV = lib.Server("albums", env=ENV)


def share(auth, body):
    return SRV.json("POST", "/api/shares", body, auth)


def public(token, query="", password=None):
    h = {"X-Share-Password": password} if password is not None else {}
    return SRV.json("GET", f"/api/public/shares/{token}{query}", None, h)


def share_count():
    return q("SELECT count(*) FROM shares")


# ---- tests ----

def test_album_share():
    st, hdrs, obj = share(A, {"album_id": A1})
    if not tap.eq("share an album: 201", st, 201):
        tap.check("body", False, obj)
        return
    token = obj["token"]
    tap.check("token: 43 base64url characters (32 bytes)",
              re.fullmatch(r"[A-Za-z0-9_-]{43}", token) is not None, token)
    tap.eq("url: the web page", obj["url"], f"/s/{token}")
    tap.eq("api_url: the JSON endpoint", obj["api_url"], f"/api/public/shares/{token}")
    tap.check("no password, no expiry",
              obj["has_password"] is False and obj["expires_at"] is None, obj)
    tap.check("the answer names the album, not the owner",
              obj["album_id"] == A1 and obj["photo_id"] is None and "owner_id" not in obj, obj)
    row = q(f"SELECT token_hash FROM shares WHERE id = '{obj['id']}'")
    tap.eq("stored: the token's SHA-256 in hex", row, hashlib.sha256(token.encode()).hexdigest())
    everything = q("SELECT row_to_json(s)::text FROM shares s")
    tap.check("the token is nowhere in the table in clear", token not in everything)

    st, hdrs, obj = public(token)
    if not tap.eq("public album: 200", st, 200):
        tap.check("body", False, obj)
        return
    tap.eq("album: only name and description", obj["album"],
           {"name": "Trip", "description": "Summer 2026"})
    ids = [p["id"] for p in obj["photos"]]
    tap.eq("exactly the album's ready photos not in the trash, newest first", ids,
           list(reversed(A1_READY)))
    tap.check("each photo: only the public fields",
              all(set(p) == PHOTO_KEYS for p in obj["photos"]), obj["photos"][:1])
    text = json.dumps(obj)
    tap.check("nothing of the owner or the keys", "owner" not in text and str(A_ID) not in
              [str(v) for p in obj["photos"] for v in p.values()] and "object_key" not in text
              and "photos/o/" not in text, text[:500])
    p0 = obj["photos"][0]
    u = urllib.parse.urlsplit(p0["thumb_url"])
    qs = urllib.parse.parse_qs(u.query)
    tap.check("thumb_url: a signed GET of the thumbnail, valid 300 s",
              u.path == f"/storage/photos/t/{p0['id']}.jpg"
              and abs(int(qs["X-Expires"][0]) - (time.time() + 300)) < 30, p0["thumb_url"])
    tap.check("display_url: the display size",
              urllib.parse.urlsplit(p0["display_url"]).path
              == f"/storage/photos/d/{p0['id']}.jpg", p0["display_url"])
    tap.check("not cached", "no-store" in (hdrs.get("cache-control") or ""), hdrs)

    # paging
    seen = []
    cursor = None
    for _ in range(5):
        qs = "?limit=2" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        st, _, page = public(token, qs)
        if st != 200:
            tap.check("page", False, (st, page))
            break
        seen += [p["id"] for p in page["photos"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    tap.eq("limit=2 pages through every shared photo once, in order", seen,
           list(reversed(A1_READY)))
    st, _, page = public(token, "?cursor=bogus")
    tap.check("a tampered cursor: 400 invalid_cursor",
              st == 400 and lib.is_error(page, "invalid_cursor"), (st, page))
    st, _, page = public(token, "?limit=0")
    tap.eq("limit=0: 400", st, 400)

    # a photo trashed after sharing disappears; one restored comes back
    q(f"UPDATE photos SET trashed_at = now() WHERE id = '{A1_READY[0]}'")
    st, _, obj = public(token)
    tap.check("a photo trashed later is no longer shown",
              A1_READY[0] not in [p["id"] for p in obj["photos"]], obj)
    q(f"UPDATE photos SET trashed_at = NULL WHERE id = '{A1_READY[0]}'")


def test_photo_share():
    st, _, obj = share(A, {"photo_id": A1_READY[1]})
    tap.eq("share a photo: 201", st, 201)
    token = obj["token"]
    tap.check("photo share names the photo", obj["photo_id"] == A1_READY[1]
              and obj["album_id"] is None, obj)
    st, _, obj = public(token)
    tap.check("public photo: exactly that photo, public fields only",
              st == 200 and set(obj) == {"photo"} and obj["photo"]["id"] == A1_READY[1]
              and set(obj["photo"]) == PHOTO_KEYS, (st, obj))
    q(f"UPDATE photos SET trashed_at = now() WHERE id = '{A1_READY[1]}'")
    st, _, obj = public(token)
    tap.check("the photo in the trash: 404", st == 404 and lib.is_error(obj, "not_found"),
              (st, obj))
    q(f"UPDATE photos SET trashed_at = NULL WHERE id = '{A1_READY[1]}'")
    n = share_count()
    st, _, obj = share(A, {"photo_id": A1_TRASHED})
    tap.eq("sharing a trashed photo: 404", st, 404)
    tap.eq("... no row", share_count(), n)
    st, _, obj = share(A, {"photo_id": A1_PROCESSING})
    tap.eq("sharing a photo still processing: 201", st, 201)
    st, _, obj = public(obj["token"])
    tap.eq("... but the public endpoint shows it only when ready: 404", st, 404)


def test_expiry():
    st, _, obj = share(A, {"album_id": A1, "expires_in_s": 3600})
    tap.check("expires_in_s=3600: expires_at about an hour ahead",
              st == 201 and obj["expires_at"] is not None, (st, obj))
    token, sid = obj["token"], obj["id"]
    tap.eq("... works before it expires", public(token)[0], 200)
    q(f"UPDATE shares SET expires_at = now() - interval '1 second' WHERE id = '{sid}'")
    st, _, obj = public(token)
    st2, _, obj2 = public(b64url(secrets.token_bytes(32)))
    tap.check("expired: 404, the same answer as an unknown token",
              st == 404 and st2 == 404 and obj == obj2, (obj, obj2))
    for bad in (59, 31536001, 0, "60"):
        st, _, obj = share(A, {"album_id": A1, "expires_in_s": bad})
        tap.check(f"expires_in_s={bad!r}: 422 naming it",
                  st == 422 and lib.is_error(obj, "validation_failed", "expires_in_s"),
                  (st, obj))
    st, _, obj = share(A, {"album_id": A1, "expires_in_s": 31536000})
    tap.eq("expires_in_s=31536000: 201", st, 201)


def test_password():
    st, _, obj = share(A, {"album_id": A1, "password": "open sesame"})
    tap.check("with a password: has_password", st == 201 and obj["has_password"] is True,
              (st, obj))
    token, sid = obj["token"], obj["id"]
    tap.check("stored as argon2id, not in clear",
              q(f"SELECT password_hash FROM shares WHERE id = '{sid}'").startswith("$argon2id$")
              and "open sesame" not in q("SELECT row_to_json(s)::text FROM shares s"))
    st, _, obj = public(token)
    tap.check("no password: 401 share_password_required",
              st == 401 and lib.is_error(obj, "share_password_required"), (st, obj))
    st, _, obj = public(token, password="open sesamE")
    tap.check("wrong password: 401 share_password_invalid",
              st == 401 and lib.is_error(obj, "share_password_invalid"), (st, obj))
    st, _, obj = public(token, password="x" * 500)
    tap.eq("an overlong password: 401", st, 401)
    st, _, obj = public(token, password="open sesame")
    tap.check("right password: 200 with the photos",
              st == 200 and len(obj["photos"]) == len(A1_READY), (st, obj))
    for bad in ("abc", "x" * 129, 1234):
        st, _, obj = share(A, {"album_id": A1, "password": bad})
        tap.check(f"password {str(bad)[:10]!r}: 422 naming it",
                  st == 422 and lib.is_error(obj, "validation_failed", "password"), (st, obj))


def test_revoke_and_list():
    st, _, obj = share(A, {"album_id": A2})
    token, sid = obj["token"], obj["id"]
    st, _, got = public(token)
    tap.check("A2's share shows only A2's photo",
              st == 200 and [p["id"] for p in got["photos"]] == [A2_READY], (st, got))
    st, _, obj = SRV.json("DELETE", f"/api/shares/{sid}", None, B)
    tap.eq("B revoking A's share: 404", st, 404)
    tap.eq("... still works", public(token)[0], 200)
    st, _, obj = SRV.json("DELETE", f"/api/shares/{sid}", None, A)
    tap.eq("revoke: 204", st, 204)
    st, _, obj = public(token)
    tap.check("revoked: 404", st == 404 and lib.is_error(obj, "not_found"), (st, obj))
    st, _, obj = SRV.json("DELETE", f"/api/shares/{sid}", None, A)
    tap.eq("revoking again: 204", st, 204)
    st, _, obj = SRV.json("DELETE", f"/api/shares/{new_id()}", None, A)
    tap.eq("revoking an unknown share: 404", st, 404)
    st, _, obj = SRV.json("DELETE", "/api/shares/bad", None, A)
    tap.eq("a malformed share id: 404", st, 404)

    st, _, obj = SRV.json("GET", "/api/shares", None, A)
    if not tap.eq("list: 200", st, 200):
        return
    mine = q(f"SELECT id FROM shares WHERE owner_id = {A_ID} ORDER BY created_at DESC, id DESC")
    tap.eq("list: every share of A, newest first", [s["id"] for s in obj["shares"]],
           mine.split("\n"))
    tap.check("list: no token, hash or password hash",
              all("token" not in s and "token_hash" not in s and "password_hash" not in s
                  and "owner_id" not in s for s in obj["shares"]), obj["shares"][:1])
    revoked = [s for s in obj["shares"] if s["id"] == sid]
    tap.check("list: the revoked one has revoked_at", revoked and revoked[0]["revoked_at"],
              revoked)
    seen, cursor = [], None
    for _ in range(20):
        qs = "?limit=3" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        st, _, page = SRV.json("GET", "/api/shares" + qs, None, A)
        seen += [s["id"] for s in page["shares"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    tap.eq("list pages with limit=3", seen, mine.split("\n"))
    st, _, obj = SRV.json("GET", "/api/shares", None, B)
    tap.check("B's list holds none of A's", st == 200 and not (
        set(s["id"] for s in obj["shares"]) & set(mine.split("\n"))), obj)


def test_authorisation():
    n = share_count()
    for body, what in (({"album_id": A1}, "A's album"), ({"photo_id": A1_READY[0]},
                                                         "A's photo")):
        st, _, obj = share(B, body)
        tap.check(f"B sharing {what}: 404", st == 404 and lib.is_error(obj, "not_found"),
                  (st, obj))
    st, _, obj = share(A, {"album_id": new_id()})
    tap.eq("an unknown album: 404", st, 404)
    st, _, obj = share(A, {"album_id": "../../etc"})
    tap.eq("a malformed album id: 404", st, 404)
    st, _, obj = share(A, {"album_id": A1, "photo_id": A1_READY[0]})
    tap.check("both album_id and photo_id: 422", st == 422
              and lib.is_error(obj, "validation_failed"), (st, obj))
    st, _, obj = share(A, {})
    tap.check("neither: 422", st == 422 and lib.is_error(obj, "validation_failed"), (st, obj))
    tap.eq("no rows from refused shares", share_count(), n)
    for method, path in (("POST", "/api/shares"), ("GET", "/api/shares"),
                         ("DELETE", f"/api/shares/{new_id()}")):
        st, _, obj = SRV.json(method, path, {"album_id": A1} if method == "POST" else None)
        tap.eq(f"{method} {path.split('/')[2]} without a token: 401", st, 401)
    for tok in ("short", "x" * 44, "+" * 43):
        st, _, obj = public(urllib.parse.quote(tok, safe=""))
        tap.eq(f"public with a malformed token {tok[:6]!r}: 404", st, 404)
    # B's share of B's album never shows A's photos, and the other way round
    st, _, obj = share(B, {"album_id": B1})
    st, _, got = public(obj["token"])
    tap.check("B's album share: only B's photo", st == 200 and
              [p["id"] for p in got["photos"]] == [B1_READY], got)


try:
    for t in (test_album_share, test_photo_share, test_expiry, test_password,
              test_revoke_and_list, test_authorisation):
        tap.run(t)
finally:
    lib.stop_clean(SRV)
    lib.drop_database(DB_NAME)
tap.done()
