"""The photo album end to end through the local gateway with the real
manifest (deploy/template.yaml), once per storage backend (issue 5, "Tests").

Each run: WeChat login (auth, against a stand-in for jscode2session answering
in its documented format) -> create an album -> POST a photo (state
uploading, a presigned PUT URL for a server-chosen key) -> PUT a real JPEG
(cjpeg, with EXIF: Orientation 6, camera) to that URL with plain urllib ->
the pipeline runs thumbnails -> GET the photo until it is ready -> the album
list shows the cover and count 1 -> the photo list's thumbnail (320x320) and
display (long edge 1280, rotated by the EXIF orientation) URLs download ->
description and tags edited -> search finds it (Chinese text and tag) ->
the album shared, the public share URL lists it without a token (and the
link's web page shows its thumbnail) -> user B
(a second WeChat login) gets 404 for A's album, photo and share and finds
nothing of A's -> trash (the share no longer lists it) -> purge (204) ->
no row and no object of the photo remains.

file://: STORAGE_URL is the gateway's own directory; the presigned URL is
the gateway's signed /storage/ URL, and the gateway's S3 ObjectCreated event
for photos/o/ of PhotosBucket (through the async queue) runs thumbnails.
s3://: s3rver behind lib.SigV4Proxy; the PUT goes to S3 directly (no event),
so the client calls POST /api/photos/{id}/complete, which reaches thumbnails
through fn_invoke_async (the gateway's Invoke API and async queue); the
workers get the AWS credentials from the gateway's environment.

Each backend runs in a database of its own (two gateways' async queues never
share events)."""
import html
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import tap  # noqa: E402

RUN = os.getpid()
APPID, WX_SECRET = "wx0e2e0e2e0e2e0e2e", "e2e-app-secret"
BUCKET = "photos-e2e"
with open(os.path.join(lib.ROOT, "deploy/template.yaml")) as f:
    TEMPLATE = f.read()


# ---- a stand-in for WeChat's jscode2session ----

class WeChat:
    """GET /sns/jscode2session?appid&secret&js_code&grant_type answered as
    WeChat documents it: HTTP 200, {"openid", "session_key"} for a known
    js_code (.codes: code -> openid), else {"errcode": 40029, "errmsg"}."""

    def __init__(self):
        self.codes = {}
        self.calls = []
        wx = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                path, _, raw = self.path.partition("?")
                qs = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                wx.calls.append(qs)
                if path != "/sns/jscode2session":
                    ans = {"errcode": 404, "errmsg": "no such api"}
                elif qs.get("appid") != APPID or qs.get("secret") != WX_SECRET or \
                        qs.get("grant_type") != "authorization_code":
                    ans = {"errcode": 40013, "errmsg": "invalid appid"}
                elif qs.get("js_code") in wx.codes:
                    ans = {"openid": wx.codes[qs["js_code"]],
                           "session_key": "tiihtNczf5v6AKRyjwEUhQ=="}
                else:
                    ans = {"errcode": 40029, "errmsg": "invalid code"}
                data = json.dumps(ans).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), H)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---- a real JPEG with EXIF ----

W, H = 1600, 1200


def make_jpeg():
    """W x H from cjpeg (top half red, bottom half blue) with an Exif APP1:
    Make, Model and Orientation 6 (rotate 90 degrees clockwise to view)."""
    red, blue = bytes([220, 40, 40]) * W, bytes([40, 40, 220]) * W
    ppm = b"P6\n%d %d\n255\n" % (W, H) + b"".join(red if y < H // 2 else blue
                                                 for y in range(H))
    jpeg = subprocess.run(["cjpeg", "-quality", "85"], input=ppm, capture_output=True,
                          check=True).stdout
    tiff = b"II*\0" + struct.pack("<I", 8) + lib.tiff_ifd(
        [lib.ascii_tag(0x010F, "Canon"), lib.ascii_tag(0x0110, "Canon EOS R5"),
         (0x0112, 3, 1, struct.pack("<H", 6))], 8)
    body = b"Exif\0\0" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


def pixel(data, fx, fy):
    """The RGB of the pixel at (fx * width, fy * height) of a JPEG (djpeg)."""
    out = subprocess.run(["djpeg", "-pnm"], input=data, capture_output=True,
                         check=True).stdout
    f = io.BytesIO(out)
    f.readline()
    w, h = map(int, f.readline().split())
    f.readline()
    rgb = f.read()
    i = 3 * (int(fy * h) * w + int(fx * w))
    return tuple(rgb[i:i + 3])


JPEG = make_jpeg()


# ---- HTTP helpers ----

def fetch(method, url, data=None, headers=None):
    """(status, headers dict lower-cased, body) of a plain urllib request."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def new_db(name):
    url = lib.fresh_database(name)
    mig = lib.migrate(lib.fn_env(DATABASE_URL=url))
    if mig.returncode != 0:
        raise RuntimeError("migrate: " + mig.stderr)
    return url


def q(url, sql):
    return lib.psql(sql, url=url)


def files_under(root, needle):
    """Every file below root (hidden ones included) whose path contains needle."""
    hits = []
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if needle in os.path.relpath(p, root):
                hits.append(os.path.relpath(p, root))
    return sorted(hits)


# ---- the flow ----

class Backend:
    """What differs between the two runs: the name, the gateway's extra
    environment, whether the client calls complete, and where objects live."""

    def __init__(self, name, env, complete, objects_root, list_keys=None):
        self.name = name
        self.env = env
        self.complete = complete
        self.objects_root = objects_root   # callable(gw) -> directory
        self.list_keys = list_keys         # callable(prefix) -> keys, or None


def flow(be, wx):
    t = f"[{be.name}]"
    db_url = new_db(f"album_e2e_{be.name}_{RUN}")
    wx.codes[f"code-a-{be.name}"] = f"oA-{be.name}-{RUN}"
    wx.codes[f"code-b-{be.name}"] = f"oB-{be.name}-{RUN}"
    env = dict(be.env, DATABASE_URL=db_url, WECHAT_APPID=APPID, WECHAT_SECRET=WX_SECRET,
               WECHAT_API_BASE=wx.base, WECHAT_DEV_LOGIN="0", LOG_LEVEL="warn")
    gw = lib.Gateway(TEMPLATE, env=env)
    try:
        steps(be, t, gw, db_url)
    finally:
        lib.stop_clean(gw, f"{t} gateway exits 0", f"{t} no sanitizer reports")
        lib.drop_database(f"album_e2e_{be.name}_{RUN}")


def steps(be, t, gw, db_url):
    def call(method, path, body=None, auth=None):
        return gw.json(method, path, body=body, headers=auth)

    # login
    st, _, obj = call("POST", "/api/auth/wechat", {"code": "not-a-code"})
    tap.check(f"{t} login with a code WeChat refuses: 401",
              st == 401 and lib.is_error(obj), (st, obj))
    st, _, obj = call("POST", "/api/auth/wechat", {"code": f"code-a-{be.name}"})
    if not tap.check(f"{t} WeChat login: 200 with a token", st == 200 and
                     isinstance((obj or {}).get("token"), str), (st, obj, gw.log()[-2000:])):
        return
    A = bearer(obj["token"])
    a_id = obj["user"]["id"]
    tap.check(f"{t} session_key stays on the server", "tiihtNczf5" not in json.dumps(obj), obj)
    st, _, obj = call("POST", "/api/auth/wechat", {"code": f"code-b-{be.name}"})
    tap.check(f"{t} a second WeChat user: another id", st == 200
              and obj["user"]["id"] != a_id, (st, obj))
    B = bearer(obj["token"])
    st, _, _ = call("GET", "/api/albums")
    tap.eq(f"{t} albums without a token: 401", st, 401)

    # album
    st, _, album = call("POST", "/api/albums", {"name": "北京旅行 2026",
                                                 "description": "五一假期"}, A)
    if not tap.eq(f"{t} create album: 201", st, 201):
        tap.check(f"{t} album body", False, album)
        return
    aid = album["id"]

    # presigned upload
    st, hdrs, obj = call("POST", f"/api/albums/{aid}/photos",
                         {"content_type": "image/jpeg", "size": len(JPEG)}, A)
    if not tap.eq(f"{t} create photo: 201", st, 201):
        tap.check(f"{t} photo body", False, obj)
        return
    pid, up = obj["photo"]["id"], obj["upload"]
    key = f"photos/o/{pid}.jpg"
    tap.eq(f"{t} photo starts uploading", obj["photo"]["status"], "uploading")
    u = urllib.parse.urlsplit(up["url"])
    if be.complete:
        tap.check(f"{t} the upload URL: S3 presigned PUT of the server's key on the endpoint",
                  f"{u.scheme}://{u.netloc}" == be.endpoint
                  and urllib.parse.unquote(u.path) == f"/{BUCKET}/{key}"
                  and "X-Amz-Signature=" in u.query, up["url"])
    else:
        tap.check(f"{t} the upload URL: the gateway's signed /storage/ URL for the key",
                  u.netloc == f"127.0.0.1:{gw.port}" and u.path == "/storage/" + key
                  and "X-Signature=" in u.query, up["url"])
    st, _, body = fetch("PUT", up["url"], JPEG, up.get("headers"))
    tap.check(f"{t} PUT to the presigned URL", st in (200, 201, 204), (st, body[:300]))
    tap.eq(f"{t} the presigned URL does not GET",
           fetch("GET", up["url"])[0], 403)

    if be.complete:
        st, _, obj = call("POST", f"/api/photos/{pid}/complete", None, A)
        tap.check(f"{t} complete: 202 processing", st == 202
                  and obj["photo"]["status"] == "processing", (st, obj))

    def ready():
        s, _, o = call("GET", f"/api/photos/{pid}", None, A)
        return o if s == 200 and o.get("status") in ("ready", "failed") else None
    photo = lib.wait_until(ready, timeout=30, step=0.2)
    if not tap.check(f"{t} the pipeline made the photo ready",
                     photo is not None and photo["status"] == "ready",
                     (photo, q(db_url, f"SELECT status, failure_reason FROM photos"
                                       f" WHERE id = '{pid}'"), gw.log()[-3000:])):
        return
    tap.check(f"{t} the photo: size after the EXIF orientation, camera",
              (photo.get("width"), photo.get("height")) == (H, W)
              and (photo.get("exif") or {}).get("camera") == "Canon EOS R5", photo)
    if be.complete:
        st, _, obj = call("POST", f"/api/photos/{pid}/complete", None, A)
        tap.check(f"{t} complete again (ready): 200 ready", st == 200
                  and obj["photo"]["status"] == "ready", (st, obj))
    thumbs = q(db_url, f"SELECT thumb_key || ' ' || display_key FROM photos WHERE id = '{pid}'")
    tap.eq(f"{t} thumbnail and display keys under their own prefixes", thumbs,
           f"photos/t/{pid}.jpg photos/d/{pid}.jpg")
    if be.list_keys:
        tap.eq(f"{t} the bucket holds the original and both sizes",
               [k for k in be.list_keys("photos/") if pid in k],
               [f"photos/d/{pid}.jpg", key, f"photos/t/{pid}.jpg"])

    # list
    st, _, obj = call("GET", "/api/albums", None, A)
    item = next((x for x in (obj or {}).get("items", []) if x["id"] == aid), None)
    tap.check(f"{t} album list: count 1 and the photo as cover", item is not None
              and item.get("photo_count") == 1
              and (item.get("cover") or {}).get("photo_id") == pid
              and f"photos/t/{pid}.jpg" in ((item.get("cover") or {}).get("thumb_url") or ""),
              obj)
    st, _, obj = call("GET", f"/api/albums/{aid}/photos", None, A)
    items = (obj or {}).get("items", [])
    tap.check(f"{t} photo list: the photo, ready", st == 200 and [x["id"] for x in items]
              == [pid] and items[0]["status"] == "ready", (st, obj))
    if items:
        st, hd, thumb = fetch("GET", items[0]["thumb_url"] or "")
        tap.check(f"{t} thumb_url downloads a 320x320 JPEG",
                  st == 200 and lib.jpeg_size(thumb) == (320, 320), (st, thumb[:200]))
        st, hd, disp = fetch("GET", items[0]["display_url"] or "")
        size = lib.jpeg_size(disp) if st == 200 else None
        tap.check(f"{t} display_url downloads a portrait JPEG, long edge 1280",
                  size is not None and max(size) == 1280 and size[0] < size[1], (st, size))
        if size:
            # Orientation 6: the stored top (red) is on the right, the bottom (blue) left
            left, right = pixel(disp, 0.25, 0.5), pixel(disp, 0.75, 0.5)
            tap.check(f"{t} the display size is turned by the EXIF orientation",
                      left[2] > 150 and left[0] < 100 and right[0] > 150 and right[2] < 100,
                      (left, right))

    # edit, search
    st, _, obj = call("PUT", f"/api/photos/{pid}", {"description": "我们去了北京故宫",
                                                    "tags": ["古建筑", "holiday"]}, A)
    tap.check(f"{t} edit description and tags: 200", st == 200
              and obj.get("description") == "我们去了北京故宫", (st, obj))
    st, _, obj = call("GET", "/api/photos/search?q=" + urllib.parse.quote("故宫"), None, A)
    found = [x["id"] for x in (obj or {}).get("items", [])]
    tap.check(f"{t} search q=故宫 finds it", st == 200 and found == [pid], (st, obj))
    if found:
        st, _, thumb = fetch("GET", obj["items"][0]["thumb_url"] or "")
        tap.check(f"{t} the search result's thumbnail downloads",
                  st == 200 and lib.jpeg_size(thumb) == (320, 320), st)
    st, _, obj = call("GET", "/api/photos/search?tag=" + urllib.parse.quote("古建筑"), None, A)
    tap.check(f"{t} search by tag finds it", st == 200
              and [x["id"] for x in obj["items"]] == [pid], (st, obj))

    # share
    st, _, share = call("POST", "/api/shares", {"album_id": aid}, A)
    if not tap.eq(f"{t} share the album: 201", st, 201):
        tap.check(f"{t} share body", False, share)
        return
    st, _, pub = call("GET", share["api_url"])
    shown = [x["id"] for x in (pub or {}).get("photos", [])]
    tap.check(f"{t} the public share lists the photo without a token",
              st == 200 and shown == [pid], (st, pub))
    if shown:
        st, _, thumb = fetch("GET", pub["photos"][0]["thumb_url"] or "")
        tap.check(f"{t} the share's thumbnail URL downloads",
                  st == 200 and lib.jpeg_size(thumb) == (320, 320), st)
    st, hdrs, page = gw.request("GET", share["url"])
    page = page.decode("utf-8", "replace")
    imgs = re.findall(r'<img src="([^"]+)"', page)
    tap.check(f"{t} the link's web page (url) shows the album and the photo's thumbnail",
              share["url"].startswith("/s/") and st == 200 and "北京旅行 2026" in page
              and len(imgs) == 1 and f"/{key.replace('/o/', '/t/')}" in imgs[0], (st, page[:500]))
    if imgs:
        st, _, thumb = fetch("GET", html.unescape(imgs[0]))
        tap.check(f"{t} the page's thumbnail downloads",
                  st == 200 and lib.jpeg_size(thumb) == (320, 320), st)

    matrix(t, call, B, aid, pid, share, db_url)

    # trash
    st, _, _ = call("DELETE", f"/api/photos/{pid}", None, A)
    tap.eq(f"{t} trash the photo: 204", st, 204)
    st, _, pub = call("GET", share["api_url"])
    tap.check(f"{t} the share no longer lists it", st == 200 and pub.get("photos") == [],
              (st, pub))
    st, _, obj = call("GET", "/api/photos/search?q=" + urllib.parse.quote("故宫"), None, A)
    tap.check(f"{t} search no longer finds it", st == 200 and obj["items"] == [], (st, obj))
    st, _, obj = call("GET", "/api/photos/trash", None, A)
    tap.check(f"{t} it is in the trash", st == 200
              and [x["id"] for x in obj["items"]] == [pid], (st, obj))

    # purge
    root = be.objects_root(gw)
    held = files_under(root, pid)
    tap.check(f"{t} before the purge the store's directory holds the photo's files",
              all(any(k in h for h in held) for k in
                  (key, f"photos/t/{pid}.jpg", f"photos/d/{pid}.jpg"))
              and (be.complete or f".meta/{key}" in held), held)
    st, _, obj = call("POST", f"/api/photos/{pid}/purge", None, A)
    tap.eq(f"{t} purge: 204", st, 204)
    tap.eq(f"{t} the row is gone",
           q(db_url, f"SELECT count(*) FROM photos WHERE id = '{pid}'"), "0")
    st, _, obj = call("GET", f"/api/photos/{pid}", None, A)
    tap.eq(f"{t} the photo is a 404", st, 404)
    tap.eq(f"{t} no file of the photo remains (original, thumbnail, display, metadata)",
           files_under(root, pid), [])
    if be.list_keys:
        tap.eq(f"{t} the bucket lists no object of the photo",
               [k for k in be.list_keys("") if pid in k], [])
    st, _, obj = call("GET", "/api/albums", None, A)
    item = next((x for x in (obj or {}).get("items", []) if x["id"] == aid), None)
    tap.check(f"{t} the album is empty again, without a cover", item is not None
              and item.get("photo_count") == 0 and item.get("cover") is None, obj)


def matrix(t, call, B, aid, pid, share, db_url):
    """User B against A's album, photo and share: 404 everywhere, nothing found."""
    before = q(db_url, f"SELECT row_to_json(p)::text FROM photos p WHERE id = '{pid}'")
    cases = [
        ("GET", f"/api/albums/{aid}", None, "read A's album"),
        ("PUT", f"/api/albums/{aid}", {"name": "pwned"}, "rename A's album"),
        ("DELETE", f"/api/albums/{aid}", None, "delete A's album"),
        ("GET", f"/api/albums/{aid}/photos", None, "list A's album"),
        ("POST", f"/api/albums/{aid}/photos", {"content_type": "image/jpeg", "size": 10},
         "upload into A's album"),
        ("GET", f"/api/photos/{pid}", None, "read A's photo"),
        ("PUT", f"/api/photos/{pid}", {"description": "pwned"}, "edit A's photo"),
        ("POST", f"/api/photos/{pid}/complete", None, "complete A's photo"),
        ("GET", f"/api/photos/{pid}/similar", None, "similar to A's photo"),
        ("DELETE", f"/api/photos/{pid}", None, "trash A's photo"),
        ("POST", f"/api/photos/{pid}/purge", None, "purge A's photo"),
        ("POST", "/api/shares", {"album_id": aid}, "share A's album"),
        ("POST", "/api/shares", {"photo_id": pid}, "share A's photo"),
        ("DELETE", f"/api/shares/{share['id']}", None, "revoke A's share"),
    ]
    for method, path, body, what in cases:
        st, _, obj = call(method, path, body, B)
        tap.check(f"{t} B: {what}: 404", st == 404 and lib.is_error(obj, "not_found"),
                  (st, obj))
    for path, what in (("/api/photos/search?q=" + urllib.parse.quote("故宫"), "search by text"),
                       ("/api/photos/search?tag=" + urllib.parse.quote("古建筑"),
                        "search by tag"),
                       ("/api/albums", "album list"), ("/api/photos/tags", "tag cloud"),
                       ("/api/photos/trash", "trash"), ("/api/shares", "share list")):
        st, _, obj = call("GET", path, None, B)
        listed = (obj or {}).get("shares" if path == "/api/shares" else "items")
        tap.check(f"{t} B: {what}: 200 and empty", st == 200 and listed == [], (st, obj))
    tap.eq(f"{t} A's photo row unchanged by B",
           q(db_url, f"SELECT row_to_json(p)::text FROM photos p WHERE id = '{pid}'"), before)
    st, _, pub = call("GET", share["api_url"])
    tap.check(f"{t} A's share still lists the photo", st == 200
              and [x["id"] for x in pub["photos"]] == [pid], (st, pub))


# ---- the two backends ----

def run_file():
    be = Backend("file", {}, complete=False,
                 objects_root=lambda gw: os.path.join(gw.dir, "objects"))
    flow(be, WX)


def run_s3():
    if not lib.S3.available():
        tap.check("s3rver is installed (deploy/local/bootstrap runs npm ci)", False,
                  lib.S3RVER)
        return
    root = os.path.join(lib.TMP, f"album-e2e-s3-{RUN}")
    s3 = lib.S3(root, BUCKET)
    tool = os.path.join(lib.FIXTURE_DIR, "storetool")
    url = s3.url()
    creds = {"AWS_ACCESS_KEY_ID": lib.S3RVER_KEY, "AWS_SECRET_ACCESS_KEY": lib.S3RVER_SECRET,
             "AWS_SESSION_TOKEN": None}

    def list_keys(prefix):
        """The bucket's keys under prefix, listed through the SigV4 proxy."""
        p = subprocess.run([tool, "list", prefix], env=lib.fn_env(STORAGE_URL=url, **creds),
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("storetool list: " + p.stderr)
        return [k for k in p.stdout.split("\n") if k]

    be = Backend("s3", dict(creds, STORAGE_URL=url), complete=True,
                 objects_root=lambda gw: os.path.join(s3.data_dir, BUCKET),
                 list_keys=list_keys if os.path.exists(tool) else None)
    be.endpoint = s3.endpoint
    try:
        rejected = s3.proxy.rejected
        flow(be, WX)
        tap.check("[s3] the gateway's functions talked to S3 through the SigV4 checker",
                  any(s[3] == "header" for s in s3.proxy.seen)
                  and any(s[3] == "query" for s in s3.proxy.seen), len(s3.proxy.seen))
        # the client's GET with the PUT-signed URL, nothing else
        tap.eq("[s3] the only refused request was the GET with the PUT URL",
               s3.proxy.rejected - rejected, 1)
    finally:
        s3.close()
        shutil.rmtree(root, ignore_errors=True)


WX = None


def main():
    global WX
    WX = WeChat()
    t0 = time.monotonic()
    try:
        tap.run(run_file)
        tap.run(run_s3)
    finally:
        WX.close()
    tap.check("both runs within 90 s", time.monotonic() - t0 < 90, time.monotonic() - t0)
    tap.done()


if __name__ == "__main__":
    main()
