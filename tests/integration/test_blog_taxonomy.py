"""Categories, tags and editor image uploads (functions/articles/taxonomy.c):
admin-only writes, CRUD with 409 conflicts naming the field, deleting a
category keeps its articles, deleting a tag takes it off articles, SQL
metacharacters stored literally; uploads of real PNG/JPEG/GIF/WebP bytes, raw
and multipart, type by magic number (415), the size cap (413), the object in
the storage folder with the gateway's metadata, and served by a running
gateway's /storage/ with the right ETag."""
import base64
import hashlib
import hmac
import json
import os
import re
import struct
import subprocess
import sys
import time
import urllib.parse
import uuid
import zlib

sys.path.insert(0, os.path.dirname(__file__))
import lib  # noqa: E402
from lib import tap  # noqa: E402

UID = uuid.uuid4().hex[:10]
UPLOAD_MAX = 64 * 1024
OBJECTS = os.path.join(lib.TMP, f"taxonomy-objects-{UID}")
PUBLIC_URL = "http://media.test:8080"
KEY_RE = re.compile(r"^uploads/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png|gif|webp)$")


def png_bytes(w=1, h=1):
    """A real RGB PNG of w x h red pixels."""
    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# A 2x2 baseline JPEG (libjpeg, quality 50).
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4"
    "UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2NjY2NjY2NjY2P/wAARCAACAAIDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAb/xAAaEAEAAQUA"
    "AAAAAAAAAAAAAAAAAQIDM3Kx/8QAFQEBAQAAAAAAAAAAAAAAAAAAAwb/xAAZEQABBQAAAAAAAAAAAAAAAAAAAQIDM3H/"
    "2gAMAwEAAhEDEQA/AJC9mr2noC3gqbiAzWO1T//Z")
# A 1x1 GIF89a and a lossless 1x1 WebP.
GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
PNG = png_bytes(3, 2)

ART = lib.Server("articles", env=lib.fn_env(STORAGE_URL="file://" + OBJECTS,
                                            GATEWAY_PUBLIC_URL=PUBLIC_URL + "/",
                                            UPLOAD_MAX_BYTES=str(UPLOAD_MAX)))
AUTH = lib.Server("auth")
HDR = {}


def setup():
    r = lib.migrate()
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    user, pw = f"taxo_{UID}", f"pw-{UID}-correct horse"
    p = subprocess.run([lib.bin_path("admin"), "create", user], input=pw + "\n", text=True,
                       env=lib.fn_env(), capture_output=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"admin create: {p.stderr}")
    st, _, body = AUTH.json("POST", "/api/auth/login", {"username": user, "password": pw})
    if st != 200 or not body or "token" not in body:
        raise RuntimeError(f"login: {st} {body}")
    HDR["Authorization"] = "Bearer " + body["token"]


def req(method, path, body=None, headers=None):
    return ART.json(method, path, body, dict(HDR, **(headers or {})))


def raw(method, path, data, ctype, auth=True):
    h = dict(HDR) if auth else {}
    if ctype is not None:
        h["Content-Type"] = ctype
    st, hdrs, body = ART.request(method, path, data, h)
    try:
        obj = json.loads(body) if body else None
    except ValueError:
        obj = None
    return st, dict((k.lower(), v) for k, v in hdrs), obj


def test_anonymous_cannot_write():
    cases = [("POST", "/api/categories", {"name": f"anon {UID}"}),
             ("PUT", "/api/categories/1", {"name": "x"}),
             ("DELETE", "/api/categories/1", None),
             ("POST", "/api/tags", {"name": f"anon {UID}"}),
             ("PUT", "/api/tags/1", {"name": "x"}),
             ("DELETE", "/api/tags/1", None)]
    for method, path, body in cases:
        st, _, obj = ART.json(method, path, body)
        tap.check(f"anonymous {method} {path} is 401", st == 401 and lib.is_error(obj),
                  (st, obj))
    st, _, obj = raw("POST", "/api/uploads", PNG, "image/png", auth=False)
    tap.check("anonymous upload is 401", st == 401 and lib.is_error(obj), (st, obj))
    st, _, obj = ART.json("POST", "/api/tags", {"name": f"anon {UID}"},
                          {"Authorization": "Bearer not-a-token"})
    tap.eq("a forged token is 401", st, 401)
    tap.eq("nothing anonymous was written",
           lib.psql("SELECT count(*) FROM categories WHERE name = $$anon " + UID + "$$"), "0")


def test_categories():
    st, _, c = req("POST", "/api/categories", {"name": f"  Travel Notes {UID} "})
    tap.check("create category is 201", st == 201 and isinstance(c, dict), (st, c))
    tap.eq("name is trimmed", c.get("name"), f"Travel Notes {UID}")
    tap.eq("slug defaults from the name", c.get("slug"), f"travel-notes-{UID}")
    tap.eq("sort_order defaults to 0", c.get("sort_order"), 0)
    tap.check("id and created_at returned",
              isinstance(c.get("id"), int) and str(c.get("created_at", "")).endswith("Z"), c)
    cid = c["id"]

    st, _, c2 = req("POST", "/api/categories",
                    {"name": f"Second {UID}", "slug": f"second-{UID}", "sort_order": -5})
    tap.check("create with slug and sort_order",
              st == 201 and c2["slug"] == f"second-{UID}" and c2["sort_order"] == -5, (st, c2))

    st, _, e = req("POST", "/api/categories", {"name": f"Travel Notes {UID}", "slug": f"o-{UID}"})
    tap.check("same name is 409 naming name",
              st == 409 and lib.is_error(e, "conflict", "name"), (st, e))
    st, _, e = req("POST", "/api/categories", {"name": f"Other {UID}", "slug": f"second-{UID}"})
    tap.check("same slug is 409 naming slug",
              st == 409 and lib.is_error(e, "conflict", "slug"), (st, e))
    st, _, e = req("POST", "/api/categories", {"name": f"travel notes {UID}!"})
    tap.check("a name whose default slug is taken is 409 naming slug",
              st == 409 and lib.is_error(e, "conflict", "slug"), (st, e))

    bad = [({"slug": "x"}, "name"), ({"name": ""}, "name"), ({"name": "   "}, "name"),
           ({"name": "x" * 81}, "name"), ({"name": 5}, "name"),
           ({"name": f"a\u0001b{UID}"}, "name"),
           ({"name": f"ok {UID}", "slug": "Bad Slug"}, "slug"),
           ({"name": f"ok {UID}", "slug": "a--b"}, "slug"),
           ({"name": f"ok {UID}", "slug": "-a"}, "slug"),
           ({"name": f"ok {UID}", "slug": "x" * 101}, "slug"),
           ({"name": "!!!"}, "slug"),
           ({"name": f"ok {UID}", "sort_order": "1"}, "sort_order"),
           ({"name": f"ok {UID}", "sort_order": 2 ** 31}, "sort_order"),
           ({"name": f"ok {UID}", "sort_order": 1.5}, "sort_order")]
    for body, field in bad:
        st, _, e = req("POST", "/api/categories", body)
        tap.check(f"invalid {json.dumps(body)[:50]} is 422 naming {field}",
                  st == 422 and lib.is_error(e, "validation_failed", field), (st, e))
    st, _, e = ART.json("POST", "/api/categories", "not json", HDR)
    tap.check("a non-object body is rejected", st in (400, 422) and lib.is_error(e), (st, e))

    # partial update: only what is sent changes
    st, _, u = req("PUT", f"/api/categories/{cid}", {"sort_order": 7})
    tap.check("update sort_order only", st == 200 and u["sort_order"] == 7 and
              u["name"] == f"Travel Notes {UID}" and u["slug"] == f"travel-notes-{UID}", (st, u))
    st, _, u = req("PUT", f"/api/categories/{cid}", {"name": f"Journeys {UID}"})
    tap.check("update name keeps slug and sort_order", st == 200 and
              u["name"] == f"Journeys {UID}" and u["slug"] == f"travel-notes-{UID}" and
              u["sort_order"] == 7, (st, u))
    st, _, u = req("PUT", f"/api/categories/{cid}", {"name": f"Journeys {UID}"})
    tap.eq("renaming to its own name is no conflict", st, 200)
    st, _, e = req("PUT", f"/api/categories/{cid}", {"name": f"Second {UID}"})
    tap.check("update to another's name is 409 naming name",
              st == 409 and lib.is_error(e, "conflict", "name"), (st, e))
    st, _, e = req("PUT", f"/api/categories/{cid}", {"slug": f"second-{UID}"})
    tap.check("update to another's slug is 409 naming slug",
              st == 409 and lib.is_error(e, "conflict", "slug"), (st, e))
    st, _, e = req("PUT", f"/api/categories/{cid}", {})
    tap.check("update with nothing is 422", st == 422 and lib.is_error(e), (st, e))
    st, _, e = req("PUT", f"/api/categories/{cid}", {"slug": "Not OK"})
    tap.check("update with a bad slug is 422", st == 422 and lib.is_error(e, field="slug"), e)
    st, _, e = req("PUT", "/api/categories/999999999", {"name": f"ghost {UID}"})
    tap.check("update of a missing category is 404",
              st == 404 and lib.is_error(e, "not_found"), (st, e))
    st, _, e = req("PUT", "/api/categories/abc", {"name": f"ghost {UID}"})
    tap.check("a non-numeric id is 400", st == 400 and lib.is_error(e), (st, e))
    tap.eq("stored values are the updated ones",
           lib.psql(f"SELECT name || '|' || slug || '|' || sort_order FROM categories "
                    f"WHERE id = {cid}"), f"Journeys {UID}|travel-notes-{UID}|7")

    # the public list shows it (public.c's categories_list)
    st, _, lst = ART.json("GET", "/api/categories")
    names = [x.get("name") for x in (lst or {}).get("items", [])] if st == 200 else []
    tap.check("public category list shows the new category", f"Journeys {UID}" in names,
              (st, lst))

    # deleting a category keeps its articles
    aid = lib.psql(
        "INSERT INTO articles (title, slug, status, published_at, category_id) "
        f"VALUES ('In a category', 'cat-article-{UID}', 'published', now(), {cid}) RETURNING id")
    st, hdrs, body = ART.request("DELETE", f"/api/categories/{cid}", headers=HDR)
    tap.check("delete category is 204 with no body", st == 204 and body == b"", (st, body))
    tap.eq("the article still exists, without a category",
           lib.psql(f"SELECT count(*) || '|' || coalesce(max(category_id)::text, 'null') "
                    f"FROM articles WHERE id = {aid}"), "1|null")
    tap.eq("the category is gone",
           lib.psql(f"SELECT count(*) FROM categories WHERE id = {cid}"), "0")
    st, _, e = req("DELETE", f"/api/categories/{cid}")
    tap.check("deleting it again is 404", st == 404 and lib.is_error(e, "not_found"), (st, e))
    st, _, e = req("DELETE", "/api/categories/0")
    tap.check("id 0 is 400", st == 400 and lib.is_error(e), (st, e))


def test_tags():
    st, _, t = req("POST", "/api/tags", {"name": f"Rust {UID}"})
    tap.check("create tag is 201", st == 201 and t.get("slug") == f"rust-{UID}" and
              "sort_order" not in t, (st, t))
    tid = t["id"]
    st, _, t2 = req("POST", "/api/tags", {"name": f"Go {UID}", "slug": f"golang-{UID}"})
    tap.check("create tag with a slug", st == 201 and t2["slug"] == f"golang-{UID}", (st, t2))
    st, _, e = req("POST", "/api/tags", {"name": f"Rust {UID}"})
    tap.check("duplicate tag name is 409 naming name",
              st == 409 and lib.is_error(e, "conflict", "name"), (st, e))
    st, _, e = req("POST", "/api/tags", {"name": f"Other {UID}", "slug": f"golang-{UID}"})
    tap.check("duplicate tag slug is 409 naming slug",
              st == 409 and lib.is_error(e, "conflict", "slug"), (st, e))
    st, _, e = req("POST", "/api/tags", {"name": "t" * 51})
    tap.check("a 51-character tag name is 422", st == 422 and lib.is_error(e, field="name"), e)
    st, _, e = req("POST", "/api/tags", {"name": f"x {UID}", "sort_order": "ignored"})
    tap.eq("tags have no sort_order (ignored)", st, 201)

    st, _, u = req("PUT", f"/api/tags/{tid}", {"slug": f"rust-lang-{UID}"})
    tap.check("update tag slug", st == 200 and u["slug"] == f"rust-lang-{UID}" and
              u["name"] == f"Rust {UID}", (st, u))
    st, _, e = req("PUT", f"/api/tags/{tid}", {"name": f"Go {UID}"})
    tap.check("update tag to a taken name is 409",
              st == 409 and lib.is_error(e, "conflict", "name"), (st, e))
    st, _, e = req("PUT", "/api/tags/999999999", {"name": f"ghost {UID}"})
    tap.eq("update of a missing tag is 404", st, 404)

    # deleting a tag takes it off its articles, the articles stay
    aid = lib.psql("INSERT INTO articles (title, slug) "
                   f"VALUES ('Tagged', 'tagged-{UID}') RETURNING id")
    lib.psql(f"INSERT INTO article_tags (article_id, tag_id, source) VALUES "
             f"({aid}, {tid}, 'manual'), ({aid}, {t2['id']}, 'auto')")
    st, _, _ = req("DELETE", f"/api/tags/{tid}")
    tap.eq("delete tag is 204", st, 204)
    tap.eq("the article lost only that tag",
           lib.psql(f"SELECT string_agg(tag_id::text, ',') FROM article_tags "
                    f"WHERE article_id = {aid}"), str(t2["id"]))
    tap.eq("the article still exists", lib.psql(f"SELECT count(*) FROM articles WHERE id = {aid}"),
           "1")
    st, _, e = req("DELETE", f"/api/tags/{tid}")
    tap.check("deleting it again is 404", st == 404 and lib.is_error(e, "not_found"), (st, e))


def test_sql_metacharacters_and_unicode():
    evil = f"Robert'); DROP TABLE tags;-- \"q\" \\ % _ {UID}"
    st, _, t = req("POST", "/api/tags", {"name": evil, "slug": f"bobby-{UID}"})
    tap.check("a name full of SQL metacharacters is created", st == 201, (st, t))
    tap.eq("and returned literally", t.get("name"), evil)
    tap.eq("and stored literally",
           lib.psql(f"SELECT name FROM tags WHERE id = {t.get('id', 0)}"), evil)
    tap.eq("the tags table is intact", lib.psql("SELECT to_regclass('tags') IS NOT NULL"), "t")
    # LIKE wildcards do not match other rows in the conflict check
    st, _, c = req("POST", "/api/categories", {"name": f"%{UID}", "slug": f"pct-{UID}"})
    tap.eq("a '%' name is created", st, 201)
    st, _, c2 = req("POST", "/api/categories", {"name": f"_{UID}", "slug": f"us-{UID}"})
    tap.eq("a '_' name does not clash with it", st, 201)
    st, _, e = req("PUT", f"/api/categories/{c2.get('id', 0)}", {"slug": "x' OR '1'='1"})
    tap.check("an injected slug is a 422, not SQL", st == 422 and lib.is_error(e, field="slug"), e)
    st, _, z = req("POST", "/api/categories", {"name": f"旅行笔记{UID} 🎉"})
    tap.check("a Chinese name gets a slug keeping its characters",
              st == 201 and z.get("name") == f"旅行笔记{UID} 🎉" and
              z.get("slug", "").startswith("旅行笔记"), (st, z))
    st, _, e = req("POST", "/api/categories", {"name": f"<script>alert(1)</script>{UID}"})
    tap.check("markup in a name is returned as the same plain string",
              st == 201 and e.get("name") == f"<script>alert(1)</script>{UID}", (st, e))


def multipart(parts, boundary="----taxo" + UID, preamble=b""):
    out = preamble
    for name, filename, ctype, data in parts:
        out += f"--{boundary}\r\n".encode()
        disp = f'Content-Disposition: form-data; name="{name}"'
        if filename is not None:
            disp += f'; filename="{filename}"'
        out += disp.encode() + b"\r\n"
        if ctype is not None:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def stored(key):
    path = os.path.join(OBJECTS, key)
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def check_upload(label, st, obj, data, ctype, ext):
    ok = tap.check(f"{label}: 201", st == 201 and isinstance(obj, dict), (st, obj))
    if not ok:
        return None
    key = obj.get("key", "")
    tap.check(f"{label}: server-built key", KEY_RE.match(key) and key.endswith("." + ext), key)
    tap.eq(f"{label}: content_type", obj.get("content_type"), ctype)
    tap.eq(f"{label}: size", obj.get("size"), len(data))
    tap.eq(f"{label}: stable public URL", obj.get("url"), f"{PUBLIC_URL}/media/{key}")
    tap.check(f"{label}: the object holds the exact bytes", stored(key) == data, key)
    try:
        with open(os.path.join(OBJECTS, ".meta", key)) as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        meta = {"error": str(e)}
    tap.check(f"{label}: metadata as the gateway reads it",
              meta.get("etag") == hashlib.md5(data).hexdigest() and meta.get("size") == len(data)
              and meta.get("content_type") == ctype and
              meta.get("ino") == os.stat(os.path.join(OBJECTS, key)).st_ino, meta)
    return key


def test_uploads():
    keys = []
    for data, ctype, ext in [(PNG, "image/png", "png"), (JPEG, "image/jpeg", "jpg"),
                             (GIF, "image/gif", "gif"), (WEBP, "image/webp", "webp")]:
        st, hdrs, obj = raw("POST", "/api/uploads", data, ctype)
        keys.append(check_upload(f"raw {ext}", st, obj, data, ctype, ext))
    tap.check("each upload gets its own key", len(set(keys)) == len(keys), keys)
    st, _, obj = raw("POST", "/api/uploads", JPEG, "image/jpg")
    tap.eq("image/jpg is taken as JPEG", (st, (obj or {}).get("content_type")), (201, "image/jpeg"))
    st, _, obj = raw("POST", "/api/uploads", PNG, "Image/PNG; charset=binary")
    tap.eq("media type case and parameters are ignored", st, 201)

    html = b"<html><script>alert(1)</script></html>"
    before = sum(len(f) for _, _, f in os.walk(OBJECTS))
    for data, ctype, why in [(html, "image/png", "HTML disguised as PNG"),
                             (PNG, "image/jpeg", "PNG declared as JPEG"),
                             (JPEG, "image/gif", "JPEG declared as GIF"),
                             (html, "text/html", "text/html"),
                             (PNG, "application/octet-stream", "octet-stream raw body"),
                             (PNG, None, "no Content-Type"),
                             (b"RIFF\x00\x00\x00\x00WAVEfmt ", "image/webp", "RIFF that is no WebP"),
                             (b"GIF88a" + b"\x00" * 10, "image/gif", "GIF88a")]:
        st, _, obj = raw("POST", "/api/uploads", data, ctype)
        tap.check(f"{why} is 415", st == 415 and lib.is_error(obj, "unsupported_media_type"),
                  (st, obj))
    after = sum(len(f) for _, _, f in os.walk(OBJECTS))
    tap.eq("refused uploads store nothing", after, before)

    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * UPLOAD_MAX
    st, _, obj = raw("POST", "/api/uploads", big, "image/png")
    tap.check("an image over UPLOAD_MAX_BYTES is 413",
              st == 413 and lib.is_error(obj, "payload_too_large"), (st, obj))
    exact = b"\x89PNG\r\n\x1a\n" + b"\x00" * (UPLOAD_MAX - 8)
    st, _, obj = raw("POST", "/api/uploads", exact, "image/png")
    tap.check("an image of exactly UPLOAD_MAX_BYTES is taken", st == 201, (st, obj))
    body, ct = multipart([("file", "big.png", "image/png", big)])
    st, _, obj = raw("POST", "/api/uploads", body, ct)
    tap.check("a multipart image over the cap is 413", st == 413, (st, obj))
    st, _, obj = raw("POST", "/api/uploads", b"", "image/png")
    tap.check("an empty body is 422", st == 422 and lib.is_error(obj, "validation_failed"),
              (st, obj))


def test_multipart():
    body, ct = multipart([("title", None, None, b"ignored"),
                          ("file", "../../etc/passwd.png", "image/png", PNG)],
                         preamble=b"This is the preamble.\r\n")
    st, _, obj = raw("POST", "/api/uploads", body, ct)
    key = check_upload("multipart png", st, obj, PNG, "image/png", "png")
    tap.check("the client's file name is not used", key and "passwd" not in key, key)

    # bytes that look like a boundary but are not, and a quoted boundary
    tricky = JPEG + b"\r\n--not-the-boundary\r\n" + b"\x00\r\n"
    body, _ = multipart([("file", "a.jpg", None, tricky)], boundary="b'(q)+_,-./:=?")
    st, _, obj = raw("POST", "/api/uploads", body,
                     "multipart/form-data; charset=utf-8; boundary=\"b'(q)+_,-./:=?\"")
    check_upload("multipart, quoted boundary, no part type", st, obj, tricky, "image/jpeg", "jpg")

    body, ct = multipart([("file", "x.bin", "application/octet-stream", GIF)])
    st, _, obj = raw("POST", "/api/uploads", body, ct)
    tap.eq("octet-stream part judged by its bytes", (st, (obj or {}).get("content_type")),
           (201, "image/gif"))

    body, ct = multipart([("file", "x.gif", "image/gif", PNG)])
    st, _, obj = raw("POST", "/api/uploads", body, ct)
    tap.check("a part whose type does not match its bytes is 415",
              st == 415 and lib.is_error(obj, "unsupported_media_type"), (st, obj))
    body, ct = multipart([("file", "x.html", "text/html", b"<b>hi</b>")])
    st, _, obj = raw("POST", "/api/uploads", body, ct)
    tap.eq("an HTML part is 415", st, 415)
    body, ct = multipart([("filename", "file", "image/png", PNG),
                          ("files", "x.png", "image/png", PNG)])
    st, _, obj = raw("POST", "/api/uploads", body, ct)
    tap.check("no part named exactly \"file\" is 422 naming file",
              st == 422 and lib.is_error(obj, "validation_failed", "file"), (st, obj))

    body, ct = multipart([("file", "x.png", "image/png", PNG)])
    for label, data, ctype in [
            ("unterminated part", body[:body.rfind(b"\r\n--")], ct),
            ("missing boundary parameter", body, "multipart/form-data"),
            ("boundary too long", body, "multipart/form-data; boundary=" + "b" * 71),
            ("wrong boundary", body, "multipart/form-data; boundary=other"),
            ("no header terminator", b"--zz\r\nContent-Disposition: form-data; name=\"file\"",
             "multipart/form-data; boundary=zz")]:
        st, _, obj = raw("POST", "/api/uploads", data, ctype)
        tap.check(f"malformed multipart ({label}) is 400",
                  st == 400 and lib.is_error(obj, "invalid_multipart"), (st, obj))


def sign_get(key):
    exp = str(int(time.time()) + 300)
    sig = hmac.new(lib.SECRET.encode(), f"GET\n{key}\n{exp}".encode(), hashlib.sha256).hexdigest()
    return f"/storage/{urllib.parse.quote(key)}?X-Expires={exp}&X-Signature={sig}"


PLAIN_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  TestFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: tests/fixtures/testfn/
      Handler: bootstrap
      Runtime: provided.al2023
      Events:
        Echo:
          Type: HttpApi
          Properties:
            Path: /api/test/echo/{name}
            Method: GET
"""


def test_gateway_serves_upload():
    """An upload is served by the gateway's /storage/ GET from the same
    folder, with the ETag and type the function wrote."""
    if not os.path.exists(lib.bin_path("gateway")):
        tap.check("gateway binary is built", False, lib.bin_path("gateway"))
        return
    gw = lib.Gateway(PLAIN_TEMPLATE)
    art = None
    try:
        objects = os.path.join(gw.dir, "objects")
        art = lib.Server("articles", env=lib.fn_env(STORAGE_URL="file://" + objects,
                                                    GATEWAY_PUBLIC_URL=f"http://127.0.0.1:{gw.port}"))
        h = dict(HDR, **{"Content-Type": "image/png"})
        st, _, body = art.request("POST", "/api/uploads", PNG, h)
        obj = json.loads(body) if st == 201 else {}
        tap.check("upload into the gateway's folder", st == 201, (st, body[:200]))
        key = obj.get("key", "x.png")
        tap.eq("url is on the gateway", obj.get("url"),
               f"http://127.0.0.1:{gw.port}/media/{key}")
        st, hdrs, data = gw.request("GET", sign_get(key))
        hdrs = dict((k.lower(), v) for k, v in hdrs)
        tap.check("the gateway serves the uploaded bytes", st == 200 and data == PNG,
                  (st, data[:100]))
        tap.eq("with the function's ETag", hdrs.get("etag"), f'"{hashlib.md5(PNG).hexdigest()}"')
        tap.eq("and an image type", hdrs.get("content-type"), "image/png")
    finally:
        if art:
            art.stop()
        gw.stop()


tap.run(setup)
if HDR:
    for t in (test_anonymous_cannot_write, test_categories, test_tags,
              test_sql_metacharacters_and_unicode, test_uploads, test_multipart,
              test_gateway_serves_upload):
        tap.run(t)
ART.stop()
AUTH.stop()
tap.done()
