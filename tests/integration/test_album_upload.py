"""Photo uploads (functions/albums/upload.c) in HTTP mode against a real
PostgreSQL and file:// storage: presigned upload (row in state uploading,
a signed PUT URL for a server-chosen key), complete (409 before the upload,
idempotent after, the thumbnails event queued through a fake Lambda Invoke
endpoint, 503 and still uploading when that endpoint refuses, oversize
objects rejected and deleted), quotas on bytes and count (422 quota_exceeded,
nothing stored), direct uploads (raw and multipart; wrong magic number 415,
empty 422, too large 413) and ownership (B cannot upload into A's album or
complete A's photo). After each refusal no row and no object is left over."""
import json
import os
import re
import secrets
import shutil
import struct
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import b64url, lit, tap  # noqa: E402

RUN = os.getpid()
DB_NAME = f"album_upload_{RUN}"
URL = lib.fresh_database(DB_NAME)
STORE = os.path.join(lib.TMP, f"album-upload-{RUN}", "objects")
os.makedirs(STORE, exist_ok=True)
DIRECT_MAX = 256 * 1024


def q(sql):
    return lib.psql(sql, url=URL)


# ---- images ----

def png(w=2, h=2):
    """A valid RGB PNG (stdlib only)."""
    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    rows = b"".join(b"\x00" + b"".join(bytes([(x * 40) % 256, (y * 60) % 256, 90])
                                       for x in range(w)) for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


PNG = png()
# The JPEG magic number and a JFIF header: enough for a type sniff.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64


# ---- a fake Lambda Invoke endpoint (the async queue's front door) ----

class FakeLambda:
    def __init__(self):
        self.calls = []
        self.fail = False
        me = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                if me.fail:
                    data = b'{"Type":"Service","Message":"queue down"}'
                    self.send_response(500)
                else:
                    me.calls.append((self.path, dict(self.headers), body))
                    data = b""
                    self.send_response(202)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self):
        out = []
        for path, hdrs, body in self.calls:
            out.append((path, hdrs.get("X-Amz-Invocation-Type"), json.loads(body)))
        return out

    def close(self):
        self.server.shutdown()
        self.server.server_close()


LAMBDA = FakeLambda()
ENV = lib.fn_env(DATABASE_URL=URL, STORAGE_URL="file://" + STORE,
                 GATEWAY_PUBLIC_URL="http://gw.test:8080",
                 AWS_ENDPOINT_URL_LAMBDA=LAMBDA.url, AWS_REGION=None, AWS_ACCESS_KEY_ID=None,
                 AWS_SECRET_ACCESS_KEY=None, ALBUM_DIRECT_MAX=DIRECT_MAX)
lib.migrate_or_done(ENV, name="migrate")


# ---- users, albums ----

def user(name, quota_bytes=None, quota_photos=None):
    """(user id, auth headers) for a new WeChat user with a live session."""
    return lib.app_user(URL, f"up-{RUN}-{name}", quota_bytes=quota_bytes,
                        quota_photos=quota_photos)


def album(uid, name):
    aid = b64url(secrets.token_bytes(16))
    q(f"INSERT INTO albums (id, owner_id, name) VALUES ('{aid}', {uid}, {lit(name)})")
    return aid


def objects():
    """Every object key in the storage dir (metadata and temp files aside)."""
    keys = set()
    for root, dirs, files in os.walk(STORE):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            if not f.startswith("."):
                keys.add(os.path.relpath(os.path.join(root, f), STORE))
    return keys


def photo_rows(uid):
    return q(f"SELECT count(*) FROM photos WHERE owner_id = {uid}")


def snapshot(uid):
    return (photo_rows(uid), sorted(objects()), len(LAMBDA.calls))


def put_object(key, data):
    """The client's PUT, as the gateway would store it (store.c's layout)."""
    path = os.path.join(STORE, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


A_ID, A = user("a")
B_ID, B = user("b")
A_ALBUM = album(A_ID, "Holiday")
B_ALBUM = album(B_ID, "Other")
SRV = lib.Server("albums", env=ENV)


def create(auth, album_id, body):
    return SRV.json("POST", f"/api/albums/{album_id}/photos", body, auth)


def complete(auth, pid):
    return SRV.json("POST", f"/api/photos/{pid}/complete", None, auth)


def raw(auth, album_id, data, ctype):
    h = dict(auth)
    if ctype is not None:
        h["Content-Type"] = ctype
    return SRV.json("POST", f"/api/albums/{album_id}/photos/direct", data, h)


def multipart(parts, boundary="----album" + str(RUN)):
    out = b""
    for name, filename, ctype, data in parts:
        out += f"--{boundary}\r\n".encode()
        disp = f'Content-Disposition: form-data; name="{name}"'
        if filename:
            disp += f'; filename="{filename}"'
        out += disp.encode() + b"\r\n"
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


# ---- tests ----

def test_presigned_flow():
    before = len(LAMBDA.calls)
    st, hdrs, obj = create(A, A_ALBUM, {"content_type": "image/png", "size": len(PNG),
                                        "description": "beach", "tags": ["sea", "sun", "sea"]})
    if not tap.eq("create: 201", st, 201):
        tap.check("create body", False, obj)
        return
    photo, up = obj["photo"], obj["upload"]
    pid = photo["id"]
    key = f"photos/o/{pid}.png"
    tap.check("create: photo uploading with description and tags",
              photo["status"] == "uploading" and photo["description"] == "beach"
              and photo["tags"] == ["sea", "sun"] and photo["album_id"] == A_ALBUM, photo)
    tap.check("create: the photo id is 22 base64url characters",
              re.fullmatch(r"[A-Za-z0-9_-]{22}", pid) is not None, pid)
    u = urllib.parse.urlsplit(up["url"])
    qs = urllib.parse.parse_qs(u.query)
    tap.check("upload URL: the gateway's signed /storage/ URL for the server's key",
              u.netloc == "gw.test:8080" and u.path == "/storage/" + key
              and "X-Signature" in qs and "X-Expires" in qs, up["url"])
    exp = int(qs["X-Expires"][0])
    tap.check("upload URL valid 900 s", abs(exp - (time.time() + 900)) < 30, exp)
    tap.check("upload: PUT with the Content-Type header",
              up["method"] == "PUT" and up["headers"] == {"Content-Type": "image/png"}, up)
    tap.check("upload: expires_at is RFC 3339 about 900 s ahead",
              re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", up["expires_at"]) is not None,
              up)
    tap.check("create: Location names the photo", hdrs.get("location") == f"/api/photos/{pid}",
              hdrs)
    row = q(f"SELECT status, object_key, size_bytes, content_type FROM photos WHERE id = '{pid}'")
    tap.eq("create: the row (uploading, server key, declared size)", row,
           f"uploading|{key}|{len(PNG)}|image/png")
    tap.eq("create: no event yet", len(LAMBDA.calls), before)

    # complete before the bytes are there
    st, _, obj = complete(A, pid)
    tap.check("complete before the upload: 409 upload_missing",
              st == 409 and lib.is_error(obj, "upload_missing"), (st, obj))
    tap.eq("... still uploading",
           q(f"SELECT status FROM photos WHERE id = '{pid}'"), "uploading")

    # B cannot complete A's photo
    put_object(key, PNG)
    st, _, obj = complete(B, pid)
    tap.check("B completing A's photo: 404", st == 404 and lib.is_error(obj, "not_found"),
              (st, obj))
    tap.eq("... A's photo untouched", q(f"SELECT status FROM photos WHERE id = '{pid}'"),
           "uploading")
    tap.eq("... no event", len(LAMBDA.calls), before)

    st, _, obj = complete(A, pid)
    tap.check("complete: 202 processing", st == 202 and obj["photo"]["status"] == "processing",
              (st, obj))
    evs = LAMBDA.events()[before:]
    tap.eq("complete: one async invoke", len(evs), 1)
    if evs:
        path, itype, ev = evs[0]
        tap.eq("invoke: thumbnails' Invoke API path", path,
               "/2015-03-31/functions/thumbnails/invocations")
        tap.eq("invoke: InvocationType Event", itype, "Event")
        rec = (ev.get("Records") or [{}])[0]
        tap.check("invoke: an S3 ObjectCreated event for the key",
                  rec.get("eventSource") == "aws:s3"
                  and rec.get("eventName", "").startswith("ObjectCreated:")
                  and rec["s3"]["object"]["key"] == key
                  and rec["s3"]["object"]["size"] == len(PNG)
                  and rec["s3"]["bucket"]["name"] == "local", ev)
    tap.eq("complete: processing, size from the object",
           q(f"SELECT status, size_bytes FROM photos WHERE id = '{pid}'"),
           f"processing|{len(PNG)}")

    st, _, obj2 = complete(A, pid)
    tap.check("complete again: 200, the same photo, no second event",
              st == 200 and obj2["photo"]["status"] == "processing"
              and obj2["photo"]["id"] == pid and len(LAMBDA.calls) == before + 1, (st, obj2))
    q(f"UPDATE photos SET status = 'ready' WHERE id = '{pid}'")
    st, _, obj2 = complete(A, pid)
    tap.check("complete on a ready photo: 200 ready, no event",
              st == 200 and obj2["photo"]["status"] == "ready"
              and len(LAMBDA.calls) == before + 1, (st, obj2))


def test_complete_queue_down():
    st, _, obj = create(A, A_ALBUM, {"content_type": "image/png", "size": len(PNG)})
    pid = obj["photo"]["id"]
    put_object(f"photos/o/{pid}.png", PNG)
    LAMBDA.fail = True
    try:
        st, hdrs, obj = complete(A, pid)
    finally:
        LAMBDA.fail = False
    tap.check("complete with the queue down: 503 with Retry-After",
              st == 503 and lib.is_error(obj, "pipeline_unavailable")
              and hdrs.get("retry-after"), (st, hdrs, obj))
    tap.eq("... the photo stays uploading", q(f"SELECT status FROM photos WHERE id = '{pid}'"),
           "uploading")
    st, _, obj = complete(A, pid)
    tap.check("... a retry succeeds: 202", st == 202 and obj["photo"]["status"] == "processing",
              (st, obj))


def test_complete_oversize():
    st, _, obj = create(A, A_ALBUM, {"content_type": "image/png", "size": 100})
    pid = obj["photo"]["id"]
    key = f"photos/o/{pid}.png"
    put_object(key, PNG + b"\x00" * (70 * 1024))
    calls = len(LAMBDA.calls)
    st, _, obj = complete(A, pid)
    tap.check("an object much larger than declared: 422 upload_rejected",
              st == 422 and lib.is_error(obj, "upload_rejected"), (st, obj))
    tap.check("... the photo is failed with a reason",
              q(f"SELECT status, failure_reason IS NOT NULL FROM photos WHERE id = '{pid}'")
              == "failed|t", q(f"SELECT * FROM photos WHERE id = '{pid}'"))
    tap.check("... its object is deleted", key not in objects(), objects())
    tap.eq("... no event", len(LAMBDA.calls), calls)
    st, _, obj = complete(A, pid)
    tap.check("complete on a failed photo: 200, still failed",
              st == 200 and obj["photo"]["status"] == "failed", (st, obj))

    st, _, obj = create(A, A_ALBUM, {"content_type": "image/png", "size": 10})
    pid = obj["photo"]["id"]
    put_object(f"photos/o/{pid}.png", b"")
    st, _, obj = complete(A, pid)
    tap.check("an empty upload: 422, failed, object gone",
              st == 422 and q(f"SELECT status FROM photos WHERE id = '{pid}'") == "failed"
              and f"photos/o/{pid}.png" not in objects(), (st, obj))


def test_quota_bytes():
    uid, auth = user("qb", quota_bytes=1000)
    alb = album(uid, "Q")
    snap = snapshot(uid)
    st, _, obj = create(auth, alb, {"content_type": "image/png", "size": 1001})
    tap.check("over the byte quota: 422 quota_exceeded naming the storage limit",
              st == 422 and lib.is_error(obj, "quota_exceeded")
              and "storage quota" in obj["error"]["message"], (st, obj))
    tap.eq("... nothing stored", snapshot(uid), snap)
    st, _, obj = create(auth, alb, {"content_type": "image/png", "size": 600})
    tap.eq("within the quota: 201", st, 201)
    pid = obj["photo"]["id"]
    snap = snapshot(uid)
    st, _, obj = create(auth, alb, {"content_type": "image/jpeg", "size": 500})
    tap.check("a pending upload's declared size counts: 422",
              st == 422 and lib.is_error(obj, "quota_exceeded"), (st, obj))
    tap.eq("... nothing stored", snapshot(uid), snap)
    # direct uploads against the quota too
    st, _, obj = raw(auth, alb, PNG + b"\x00" * 500, "image/png")
    tap.check("direct upload over the quota: 422 quota_exceeded",
              st == 422 and lib.is_error(obj, "quota_exceeded"), (st, obj))
    tap.eq("... nothing stored", snapshot(uid), snap)
    # the real size at complete: declared 600, uploads 990 (within the
    # slack) with 1000 - 600 = 400 left -> over
    q(f"UPDATE app_users SET quota_bytes = 900 WHERE id = {uid}")
    key = f"photos/o/{pid}.png"
    put_object(key, PNG + b"\x00" * (990 - len(PNG)))
    st, _, obj = complete(auth, pid)
    tap.check("complete over the quota: 422 quota_exceeded, failed, object deleted",
              st == 422 and lib.is_error(obj, "quota_exceeded")
              and q(f"SELECT status, size_bytes FROM photos WHERE id = '{pid}'") == "failed|0"
              and key not in objects(), (st, obj))


def test_quota_count():
    uid, auth = user("qc", quota_photos=2)
    alb = album(uid, "Q")
    for i in range(2):
        st, _, obj = create(auth, alb, {"content_type": "image/png", "size": 10})
        tap.eq(f"photo {i + 1} of 2: 201", st, 201)
    q(f"UPDATE photos SET trashed_at = now() WHERE owner_id = {uid}")
    snap = snapshot(uid)
    st, _, obj = create(auth, alb, {"content_type": "image/png", "size": 10})
    tap.check("over the photo count (trashed photos count): 422 naming the count limit",
              st == 422 and lib.is_error(obj, "quota_exceeded")
              and "photo count" in obj["error"]["message"], (st, obj))
    st, _, obj = raw(auth, alb, PNG, "image/png")
    tap.check("direct upload over the count: 422", st == 422
              and lib.is_error(obj, "quota_exceeded"), (st, obj))
    tap.eq("... nothing stored", snapshot(uid), snap)
    # purging frees the slot
    q(f"DELETE FROM photos WHERE id = (SELECT id FROM photos WHERE owner_id = {uid} LIMIT 1)")
    st, _, obj = create(auth, alb, {"content_type": "image/png", "size": 10})
    tap.eq("after a purge: 201", st, 201)


def test_validation():
    snap = snapshot(A_ID)
    cases = [
        ({"content_type": "text/plain", "size": 10}, 422, "validation_failed", "content_type"),
        ({"content_type": "image/tiff", "size": 10}, 422, "validation_failed", "content_type"),
        ({"size": 10}, 422, "validation_failed", "content_type"),
        ({"content_type": "image/png"}, 422, "validation_failed", "size"),
        ({"content_type": "image/png", "size": 0}, 422, "validation_failed", "size"),
        ({"content_type": "image/png", "size": -5}, 422, "validation_failed", "size"),
        ({"content_type": "image/png", "size": "10"}, 422, "validation_failed", "size"),
        ({"content_type": "image/png", "size": 30 * 1024 * 1024 + 1}, 413,
         "payload_too_large", "size"),
        ({"content_type": "image/png", "size": 10, "tags": "x"}, 422, "validation_failed",
         "tags"),
        ({"content_type": "image/png", "size": 10, "tags": [""]}, 422, "validation_failed",
         "tags"),
        ({"content_type": "image/png", "size": 10, "tags": ["x" * 51]}, 422,
         "validation_failed", "tags"),
        ({"content_type": "image/png", "size": 10, "description": "d" * 2001}, 422,
         "validation_failed", "description"),
    ]
    for body, want, code, field in cases:
        st, _, obj = create(A, A_ALBUM, body)
        tap.check(f"create {json.dumps(body)[:60]}: {want} {code} naming {field}",
                  st == want and lib.is_error(obj, code, field), (st, obj))
    st, _, obj = create(A, A_ALBUM, {"content_type": "image/png", "size": 30 * 1024 * 1024})
    tap.eq("exactly ALBUM_MAX_UPLOAD: 201", st, 201)
    q(f"DELETE FROM photos WHERE id = '{obj['photo']['id']}'")
    st, _, obj = SRV.json("POST", f"/api/albums/{A_ALBUM}/photos",
                          {"content_type": "image/png", "size": 10})
    tap.check("no token: 401", st == 401 and lib.is_error(obj), (st, obj))
    st, _, obj = SRV.json("POST", f"/api/photos/{'x' * 22}/complete", None)
    tap.eq("complete without a token: 401", st, 401)
    st, _, obj = create(B, A_ALBUM, {"content_type": "image/png", "size": 10})
    tap.check("B uploading into A's album: 404", st == 404 and lib.is_error(obj, "not_found"),
              (st, obj))
    st, _, obj = create(A, "not-an-id", {"content_type": "image/png", "size": 10})
    tap.eq("a malformed album id: 404", st, 404)
    st, _, obj = create(A, b64url(secrets.token_bytes(16)), {"content_type": "image/png",
                                                              "size": 10})
    tap.eq("an unknown album: 404", st, 404)
    st, _, obj = complete(A, b64url(secrets.token_bytes(16)))
    tap.eq("complete on an unknown photo: 404", st, 404)
    tap.eq("refused creates store nothing", snapshot(A_ID), snap)


def test_direct():
    before = len(LAMBDA.calls)
    st, _, obj = raw(A, A_ALBUM, PNG, "image/png")
    if not tap.eq("direct raw PNG: 201", st, 201):
        tap.check("direct body", False, obj)
        return
    pid = obj["photo"]["id"]
    key = f"photos/o/{pid}.png"
    tap.eq("direct: processing", obj["photo"]["status"], "processing")
    path = os.path.join(STORE, key)
    tap.check("direct: the object holds the bytes",
              os.path.exists(path) and open(path, "rb").read() == PNG, path)
    tap.eq("direct: the row", q(f"SELECT status, object_key, size_bytes, content_type FROM"
                                f" photos WHERE id = '{pid}'"),
           f"processing|{key}|{len(PNG)}|image/png")
    evs = LAMBDA.events()[before:]
    tap.check("direct: one thumbnails event for the key",
              len(evs) == 1 and evs[0][2]["Records"][0]["s3"]["object"]["key"] == key, evs)

    body, ct = multipart([("description", None, None, "海边 sunset".encode()),
                          ("file", "IMG_0001.JPG", "image/jpeg", JPEG)])
    st, _, obj = raw(A, A_ALBUM, body, ct)
    tap.check("direct multipart JPEG with a description: 201",
              st == 201 and obj["photo"]["description"] == "海边 sunset"
              and obj["photo"]["content_type"] == "image/jpeg", (st, obj))
    if st == 201:
        tap.check("... key from the id and the sniffed type, not the file name",
                  f"photos/o/{obj['photo']['id']}.jpg" in objects(), objects())

    snap = snapshot(A_ID)
    bad = [
        ("text named .jpg", *multipart([("file", "evil.jpg", "image/jpeg", b"hello world")]),
         415, "unsupported_media_type"),
        ("text as a raw image/jpeg", b"just some text", "image/jpeg", 415,
         "unsupported_media_type"),
        ("JPEG bytes declared PNG", JPEG, "image/png", 415, "unsupported_media_type"),
        ("text/plain", b"hello", "text/plain", 415, "unsupported_media_type"),
        ("no Content-Type", PNG, None, 415, "unsupported_media_type"),
        ("a zero-byte file", b"", "image/png", 422, "validation_failed"),
        ("a zero-byte multipart file", *multipart([("file", "a.png", "image/png", b"")]), 422,
         "validation_failed"),
        ("over ALBUM_DIRECT_MAX", PNG + b"\x00" * DIRECT_MAX, "image/png", 413,
         "payload_too_large"),
        ("multipart over ALBUM_DIRECT_MAX",
         *multipart([("file", "a.png", "image/png", PNG + b"\x00" * DIRECT_MAX)]), 413,
         "payload_too_large"),
        ("multipart without a file part", *multipart([("x", None, None, b"1")]), 422,
         "validation_failed"),
        ("malformed multipart", b"garbage", "multipart/form-data; boundary=zz", 400,
         "invalid_multipart"),
    ]
    for name, data, ctype, want, code in bad:
        st, _, obj = raw(A, A_ALBUM, data, ctype)
        tap.check(f"direct {name}: {want} {code}", st == want and lib.is_error(obj, code),
                  (st, obj))
    st, _, obj = raw(B, A_ALBUM, PNG, "image/png")
    tap.check("B uploading directly into A's album: 404", st == 404, (st, obj))
    st, _, obj = raw({}, A_ALBUM, PNG, "image/png")
    tap.eq("direct without a token: 401", st, 401)
    LAMBDA.fail = True
    try:
        st, hdrs, obj = raw(A, A_ALBUM, PNG, "image/png")
    finally:
        LAMBDA.fail = False
    tap.check("direct with the queue down: 503 with Retry-After",
              st == 503 and lib.is_error(obj, "pipeline_unavailable")
              and hdrs.get("retry-after"), (st, obj))
    tap.eq("no orphan rows or objects after the refusals", snapshot(A_ID), snap)


def test_direct_store_failure():
    """A put that fails after the row insert rolls the row back."""
    uid, auth = user("sf")
    alb = album(uid, "S")
    blocker = os.path.join(STORE, "photos", "o")
    # make photos/o unwritable for the function: replace it by a file for a moment
    tmp = blocker + ".moved"
    os.rename(blocker, tmp)
    try:
        with open(blocker, "w") as f:
            f.write("not a directory")
        st, _, obj = raw(auth, alb, PNG, "image/png")
    finally:
        os.remove(blocker)
        os.rename(tmp, blocker)
    tap.check("direct with the store failing: 503 storage_unavailable",
              st == 503 and lib.is_error(obj, "storage_unavailable"), (st, obj))
    tap.eq("... the row is rolled back", photo_rows(uid), "0")


try:
    for t in (test_presigned_flow, test_complete_queue_down, test_complete_oversize,
              test_quota_bytes, test_quota_count, test_validation, test_direct,
              test_direct_store_failure):
        tap.run(t)
finally:
    lib.stop_clean(SRV)
    LAMBDA.close()
    shutil.rmtree(os.path.dirname(STORE), ignore_errors=True)
    lib.drop_database(DB_NAME)

# ALBUM_MAX_UPLOAD is read at cold start: a bad value stops the function there.
for bad in ("lots", "0"):
    rc, out, err = lib.invoke("albums", {"method": "GET", "path": "/api/albums"},
                              env=lib.fn_env(ALBUM_MAX_UPLOAD=bad))
    tap.check(f"ALBUM_MAX_UPLOAD={bad} stops the function at start, naming it",
              rc != 0 and "ALBUM_MAX_UPLOAD" in err and out is None, (rc, out, err[-500:]))
tap.done()
