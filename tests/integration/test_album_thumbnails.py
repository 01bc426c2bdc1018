"""The thumbnails function (functions/thumbnails) on S3 events, through
`thumbnails invoke`, against its own database and storage directory: a real
4000x3000 JPEG (cjpeg) carrying EXIF written here (Orientation 6,
DateTimeOriginal, Make/Model, GPS), a PNG, a COS-shaped event, idempotent
repeats, and the bad uploads: a text file named .jpg, a truncated JPEG, an
empty file, a 20000x20000 PNG header (refused from the header, fast), the
pixel cap from THUMB_MAX_PIXELS, keys outside photos/o/, unknown keys, one
bad record beside a good one, and the database down (500, so the queue
retries)."""
import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import tap  # noqa: E402

RUN = os.getpid()
DB_NAME = f"album_thumbs_{RUN}"
URL = lib.fresh_database(DB_NAME)
STORE = os.path.join(lib.TMP, f"thumbs-objects-{RUN}")
shutil.rmtree(STORE, ignore_errors=True)
os.makedirs(STORE)
ENV = lib.fn_env(DATABASE_URL=URL, STORAGE_URL="file://" + STORE)


def q(sql):
    return lib.psql(sql, url=URL)


def new_id():
    return base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()


# ---- images ----

def ppm(w, h, rows):
    return b"P6\n%d %d\n255\n" % (w, h) + b"".join(rows)


def cjpeg(ppm_bytes, quality=90):
    return subprocess.run(["cjpeg", "-quality", str(quality)], input=ppm_bytes,
                          capture_output=True, check=True).stdout


def rationals(*pairs):
    return b"".join(struct.pack("<II", n, d) for n, d in pairs)


def exif_app1(orientation=6, taken="2024:05:06 07:08:09", offset=None):
    """An APP1 Exif segment: IFD0 (Make, Model, Orientation, pointers), the
    Exif IFD (DateTimeOriginal, OffsetTimeOriginal) and the GPS IFD
    (39 deg 54' 27.0" N, 116 deg 23' 49.2" W)."""
    exif_entries = [lib.ascii_tag(0x9003, taken)]
    if offset:
        exif_entries.append(lib.ascii_tag(0x9011, offset))
    gps_entries = [lib.ascii_tag(0x0001, "N"),
                   (0x0002, 5, 3, rationals((39, 1), (54, 1), (270, 10))),
                   lib.ascii_tag(0x0003, "W"),
                   (0x0004, 5, 3, rationals((116, 1), (23, 1), (492, 10)))]
    # sizes first, with placeholder pointers, then the real layout
    ifd0_entries = [lib.ascii_tag(0x010F, "Canon"), lib.ascii_tag(0x0110, "Canon EOS R5"),
                    (0x0112, 3, 1, struct.pack("<H", orientation)),
                    (0x8769, 4, 1, struct.pack("<I", 0)), (0x8825, 4, 1, struct.pack("<I", 0))]
    ifd0 = lib.tiff_ifd(ifd0_entries, 8)
    exif_at = 8 + len(ifd0)
    exif = lib.tiff_ifd(exif_entries, exif_at)
    gps_at = exif_at + len(exif)
    ifd0_entries[3] = (0x8769, 4, 1, struct.pack("<I", exif_at))
    ifd0_entries[4] = (0x8825, 4, 1, struct.pack("<I", gps_at))
    ifd0 = lib.tiff_ifd(ifd0_entries, 8)
    tiff = b"II*\0" + struct.pack("<I", 8) + ifd0 + exif + lib.tiff_ifd(gps_entries, gps_at)
    body = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def with_exif(jpeg, app1):
    return jpeg[:2] + app1 + jpeg[2:]


def png(w, h, rgb_rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\0" + r for r in rgb_rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def huge_png_header():
    """A 20000x20000 PNG: a real IHDR, then a tiny (bogus) IDAT."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


def djpeg_pixels(data):
    """(w, h, RGB bytes) of a JPEG via djpeg."""
    out = subprocess.run(["djpeg", "-pnm"], input=data, capture_output=True, check=True).stdout
    parts = out.split(b"\n", 3)
    w, h = map(int, parts[1].split())
    return w, h, parts[3]


# ---- fixtures: rows and objects ----

MIGRATED = lib.migrate(dict(ENV))
USER = q("INSERT INTO app_users (openid) VALUES ('thumbs-user') RETURNING id")
ALBUM = new_id()
q(f"INSERT INTO albums (id, owner_id, name) VALUES ('{ALBUM}', {USER}, 'Trip')")


def put_object(key, data, ctype):
    """The object in store.c's file layout: the bytes, and .meta/<key>."""
    lib.put_store_object(STORE, key, data, ctype)


def photo(data, ext="jpg", ctype="image/jpeg"):
    """A photo row in state uploading with its original stored; its id and key."""
    pid = new_id()
    key = f"photos/o/{pid}.{ext}"
    q(f"INSERT INTO photos (id, owner_id, album_id, object_key, content_type, size_bytes) "
      f"VALUES ('{pid}', {USER}, '{ALBUM}', '{key}', '{ctype}', {len(data)})")
    put_object(key, data, ctype)
    return pid, key


def s3_event(*keys):
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "local",
        "eventTime": "2026-11-27T09:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "photos"},
               "object": {"key": k, "size": 1}}} for k in keys]}


def cos_event(key):
    return {"Records": [{
        "cos": {"cosSchemaVersion": "1.0",
                "cosObject": {"key": f"/1250000000/photos/{key}", "size": 1, "url": "x"},
                "cosBucket": {"region": "gz", "name": "photos", "appid": "1250000000"}},
        "event": {"eventName": "cos:ObjectCreated:Put", "eventVersion": "1.0"}}]}


def run(event, env=None):
    """(statusCode, body object, stderr) of one invocation."""
    rc, out, err = lib.invoke("thumbnails", event, env=env or ENV, timeout=60)
    if not lib.sanitizer_clean(err):
        tap.check("no sanitizer report", False, err[-2000:])
    if out is None:
        return None, None, err
    try:
        body = json.loads(out.get("body") or "null")
    except ValueError:
        body = None
    return out.get("statusCode"), body, err


def outcomes(body):
    return [r.get("outcome") for r in (body or {}).get("results", [])]


def row(pid):
    out = q("SELECT row_to_json(p) FROM (SELECT status, failure_reason, width, height, "
            "to_char(taken_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS taken_at, camera, "
            "gps_lat, gps_lon, orientation, phash, color, thumb_key, display_key, "
            f"updated_at::text AS updated_at FROM photos WHERE id = '{pid}') p")
    return json.loads(out) if out else None


def read_obj(key):
    with open(os.path.join(STORE, key), "rb") as f:
        return f.read()


# ---- the tests ----

BIG_W, BIG_H = 4000, 3000


def big_jpeg():
    """4000x3000: the stored top half red, the bottom half blue, with a
    little texture, so the orientation is visible in the output."""
    red = bytes([220, 40, 40]) * BIG_W
    blue = bytes([40, 40, 220]) * BIG_W
    rows = []
    for y in range(BIG_H):
        r = red if y < BIG_H // 2 else blue
        if y % 50 == 0:
            r = bytes([128]) * (BIG_W * 3)
        rows.append(r)
    return cjpeg(ppm(BIG_W, BIG_H, rows))


BIG = big_jpeg()


def test_jpeg_exif_orientation():
    data = with_exif(BIG, exif_app1(orientation=6))
    pid, key = photo(data)
    t0 = time.monotonic()
    status, body, err = run(s3_event(key))
    took = time.monotonic() - t0
    tap.eq("jpeg: 200", status, 200)
    tap.eq("jpeg: outcome ready", outcomes(body), ["ready"])
    tap.check("jpeg: processed in under 10 s (sanitizer build)", took < 10, f"{took:.2f} s")
    r = row(pid) or {}
    tap.eq("jpeg: status ready", r.get("status"), "ready")
    tap.eq("jpeg: width/height after orientation 6", (r.get("width"), r.get("height")),
           (BIG_H, BIG_W))
    tap.eq("jpeg: orientation stored", r.get("orientation"), 6)
    tap.eq("jpeg: taken_at from DateTimeOriginal, as UTC", r.get("taken_at"),
           "2024-05-06 07:08:09")
    tap.eq("jpeg: camera without the repeated make", r.get("camera"), "Canon EOS R5")
    tap.check("jpeg: GPS north and west", abs((r.get("gps_lat") or 0) - 39.9075) < 1e-4 and
              abs((r.get("gps_lon") or 0) + 116.397) < 1e-4, r)
    tap.check("jpeg: phash set", isinstance(r.get("phash"), int) and r.get("phash") != 0, r)
    tap.check("jpeg: color set", isinstance(r.get("color"), str) and len(r["color"]) == 7, r)
    tap.eq("jpeg: keys", (r.get("thumb_key"), r.get("display_key")),
           (f"photos/t/{pid}.jpg", f"photos/d/{pid}.jpg"))
    thumb, disp = read_obj(f"photos/t/{pid}.jpg"), read_obj(f"photos/d/{pid}.jpg")
    tap.eq("jpeg: thumbnail is 320x320", lib.jpeg_size(thumb), (320, 320))
    tap.eq("jpeg: display is 960x1280 (portrait after rotation)", lib.jpeg_size(disp), (960, 1280))
    with open(os.path.join(STORE, ".meta", f"photos/d/{pid}.jpg")) as f:
        tap.eq("jpeg: display stored as image/jpeg", json.load(f).get("content_type"),
               "image/jpeg")
    # Orientation 6 turns the stored top (red) to the right-hand side.
    w, h, px = djpeg_pixels(disp)

    def pixel(x, y):
        i = (y * w + x) * 3
        return tuple(px[i:i + 3])
    left, right = pixel(w // 4 + 3, h // 2), pixel(3 * w // 4 + 3, h // 2)
    tap.check("jpeg: rotated: right half red", right[0] > 180 and right[2] < 90, right)
    tap.check("jpeg: rotated: left half blue", left[2] > 180 and left[0] < 90, left)
    c = r.get("color") or "#000000"
    rgb = tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))
    tap.check("jpeg: dominant colour is the red or the blue",
              (rgb[0] > 180 and rgb[2] < 90) or (rgb[2] > 180 and rgb[0] < 90), c)

    # The same event again: already done, nothing rewritten.
    before = os.stat(os.path.join(STORE, f"photos/t/{pid}.jpg")).st_mtime_ns
    status, body, _ = run(s3_event(key))
    tap.eq("repeat: 200", status, 200)
    tap.eq("repeat: already_ready", outcomes(body), ["already_ready"])
    tap.eq("repeat: row untouched", (row(pid) or {}).get("updated_at"), r.get("updated_at"))
    tap.eq("repeat: outputs untouched",
           os.stat(os.path.join(STORE, f"photos/t/{pid}.jpg")).st_mtime_ns, before)


def test_exif_offset():
    small = cjpeg(ppm(64, 48, [bytes([90, 160, 200]) * 64] * 48))
    pid, key = photo(with_exif(small, exif_app1(orientation=1, offset="+08:00")))
    status, body, _ = run(s3_event(key))
    r = row(pid) or {}
    tap.eq("offset: ready", (status, outcomes(body)), (200, ["ready"]))
    tap.eq("offset: taken_at honours OffsetTimeOriginal", r.get("taken_at"),
           "2024-05-05 23:08:09")
    tap.eq("offset: small image never upscaled", (r.get("width"), r.get("height")), (64, 48))
    tap.eq("offset: thumbnail no larger than the image",
           lib.jpeg_size(read_obj(f"photos/t/{pid}.jpg")), (48, 48))


def test_png_and_cos():
    rows = [bytes([(x * 255 // 600), 100, 50]) * 1 for x in range(600)]
    img = png(600, 400, [b"".join(rows)] * 400)
    pid, key = photo(img, "png", "image/png")
    status, body, _ = run(cos_event(key))
    tap.eq("png via COS event: ready", (status, outcomes(body)), (200, ["ready"]))
    r = row(pid) or {}
    tap.eq("png: dimensions", (r.get("width"), r.get("height"), r.get("orientation")),
           (600, 400, 1))
    tap.eq("png: no taken_at", r.get("taken_at"), None)
    tap.eq("png: display not upscaled", lib.jpeg_size(read_obj(f"photos/d/{pid}.jpg")), (600, 400))
    tap.eq("png: thumbnail 320", lib.jpeg_size(read_obj(f"photos/t/{pid}.jpg")), (320, 320))


def failed_case(name, data, ext, ctype, want_reason, env=None, exact=True):
    pid, key = photo(data, ext, ctype)
    t0 = time.monotonic()
    status, body, err = run(s3_event(key), env)
    took = time.monotonic() - t0
    r = row(pid) or {}
    tap.eq(f"{name}: 200 (retrying cannot help)", status, 200)
    tap.eq(f"{name}: outcome failed", outcomes(body), ["failed"])
    tap.eq(f"{name}: status failed", r.get("status"), "failed")
    reason = r.get("failure_reason") or ""
    tap.check(f"{name}: reason", reason == want_reason if exact else want_reason in reason,
              f"got {reason!r}, want {want_reason!r}")
    tap.check(f"{name}: no outputs", not os.path.exists(os.path.join(STORE, f"photos/t/{pid}.jpg"))
              and not os.path.exists(os.path.join(STORE, f"photos/d/{pid}.jpg")))
    tap.check(f"{name}: original removed (no orphan object)",
              not os.path.exists(os.path.join(STORE, key)))
    tap.eq(f"{name}: size 0 (nothing counted in the quota)",
           q(f"SELECT size_bytes FROM photos WHERE id = '{pid}'"), "0")
    return took


def test_bad_uploads():
    failed_case("text as .jpg", b"this is just some text, not a photo\n" * 20, "jpg",
                "image/jpeg", "unsupported image type")
    failed_case("truncated jpeg", BIG[:len(BIG) // 3], "jpg", "image/jpeg", "truncated",
                exact=False)
    failed_case("empty file", b"", "jpg", "image/jpeg", "the file is empty")
    took = failed_case("20000x20000 png", huge_png_header(), "png", "image/png",
                       "image is 20000x20000, over the 100 megapixel limit")
    tap.check("20000x20000 png: refused fast, from the header", took < 1.0, f"{took:.2f} s")
    failed_case("THUMB_MAX_PIXELS", BIG, "jpg", "image/jpeg",
                "image is 4000x3000, over the 1 megapixel limit",
                env=dict(ENV, THUMB_MAX_PIXELS="1000000"))

    # A presigned PUT larger than declared (the quota saw the declared size).
    pid, key = photo(BIG, "jpg", "image/jpeg")
    q(f"UPDATE photos SET size_bytes = 1000 WHERE id = '{pid}'")
    status, body, _ = run(s3_event(key))
    r = row(pid) or {}
    tap.check("larger than declared: failed, original removed",
              status == 200 and r.get("status") == "failed"
              and "more than the 1000 declared" in (r.get("failure_reason") or "")
              and not os.path.exists(os.path.join(STORE, key)), (status, r))
    # A late event for a photo already refused leaves it refused.
    put_object(key, BIG, "image/jpeg")
    status, body, _ = run(s3_event(key))
    tap.check("a failed photo stays failed on a late event",
              status == 200 and outcomes(body) == ["skipped"]
              and (row(pid) or {}).get("status") == "failed", (status, body))


def test_skipped():
    put_object("photos/t/whatever.jpg", BIG[:100], "image/jpeg")
    status, body, _ = run(s3_event("photos/t/whatever.jpg"))
    tap.eq("outside photos/o/: 200 skipped", (status, outcomes(body)), (200, ["skipped"]))
    put_object("photos/o/NoSuchPhotoAAAAAAAAAAAA.jpg", b"\xff\xd8\xff orphan", "image/jpeg")
    status, body, _ = run(s3_event("photos/o/NoSuchPhotoAAAAAAAAAAAA.jpg"))
    tap.eq("unknown original: 200 skipped", (status, outcomes(body)), (200, ["skipped"]))
    tap.check("unknown original: the orphan object is removed",
              not os.path.exists(os.path.join(STORE, "photos/o/NoSuchPhotoAAAAAAAAAAAA.jpg")))
    ev = s3_event("photos/o/x.jpg")
    ev["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    status, body, _ = run(ev)
    tap.eq("ObjectRemoved: skipped", (status, outcomes(body)), (200, ["skipped"]))


def test_records_independent():
    bad, bad_key = photo(b"GIF89a\x01", "gif", "image/gif")
    good, good_key = photo(cjpeg(ppm(400, 300, [bytes([10, 200, 10]) * 400] * 300)))
    # the second key percent-encoded, as S3 sends keys
    status, body, _ = run(s3_event(bad_key, good_key.replace(".", "%2E")))
    tap.eq("two records: 200", status, 200)
    tap.eq("two records: the bad one failed, the good one ready", outcomes(body),
           ["failed", "ready"])
    tap.eq("two records: rows", ((row(bad) or {}).get("status"), (row(good) or {}).get("status")),
           ("failed", "ready"))
    c = (row(good) or {}).get("color") or "#000000"
    rgb = [int(c[i:i + 2], 16) for i in (1, 3, 5)]
    tap.check("two records: dominant colour is the green (#0ac80a, JPEG-rounded)",
              all(abs(a - b) <= 3 for a, b in zip(rgb, (10, 200, 10))), c)


def test_db_down():
    pid, key = photo(BIG)
    env = dict(ENV, DATABASE_URL="postgresql://127.0.0.1:1/none?connect_timeout=2")
    status, body, _ = run(s3_event(key), env)
    tap.eq("database down: 500, so the queue retries", status, 500)
    tap.eq("database down: outcome error", outcomes(body), ["error"])
    tap.check("database down: error shape", lib.is_error(body, "temporary_error"), body)
    tap.eq("database down: the photo waits", (row(pid) or {}).get("status"), "uploading")
    status, body, _ = run(s3_event(key))
    tap.eq("database back: the retry succeeds", (status, outcomes(body)), (200, ["ready"]))


tap.check("migrate", MIGRATED.returncode == 0, MIGRATED.stderr)
for t in (test_jpeg_exif_orientation, test_exif_offset, test_png_and_cos, test_bad_uploads,
          test_skipped, test_records_independent, test_db_down):
    tap.run(t)
shutil.rmtree(STORE, ignore_errors=True)
lib.psql(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
tap.done()
