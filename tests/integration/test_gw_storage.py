"""The gateway's local object store (deploy/local/gateway/storage.c) at
/storage/<key>: signed URLs made here with the documented algorithm
(urlsign.h: hex HMAC-SHA256(APP_SECRET, method "\\n" key "\\n" expires)),
PUT/GET round trips of binary content, stable ETags, wrong method / expired /
tampered URLs, the size cap, and S3 ObjectCreated events to the one matching
function, exactly once."""
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import lib  # noqa: E402
from lib import tap  # noqa: E402

MAX = 65536

ECHO = lib.http_event("Echo", "/api/test/echo/{name}", "GET")
PLAIN_TEMPLATE = lib.sam_template([lib.sam_function(events=[ECHO])])

S3_TEMPLATE = lib.sam_template(
    [lib.bucket("PhotosBucket"),
     lib.sam_function(props="      Timeout: 10\n" + lib.EVENTS_FILE_ENV, events=[
         ECHO, lib.s3_event("Upload", "PhotosBucket", [("prefix", "uploads/"),
                                                      ("suffix", ".jpg")])])],
    parameters=lib.EVENTS_FILE_PARAM + "    Default: ''\n")


def sign(method, key, expires):
    msg = f"{method}\n{key}\n{expires}".encode()
    return hmac.new(lib.SECRET.encode(), msg, hashlib.sha256).hexdigest()


def url(method, key, ttl=300, expires=None, sig=None):
    """The path and query urlsign_url would give (key encoded per segment)."""
    exp = str(expires if expires is not None else int(time.time()) + ttl)
    s = sig if sig is not None else sign(method, key, exp)
    enc = urllib.parse.quote(key, safe="/-._~")
    return f"/storage/{enc}?X-Expires={exp}&X-Signature={s}"


def hdr(headers, name):
    return dict((k.lower(), v) for k, v in headers).get(name.lower())


def err_code(body):
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    return obj["error"]["code"] if lib.is_error(obj) else None


def on_disk(gw, key):
    path = os.path.join(gw.dir, "objects", key)
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def basics():
    gw = lib.Gateway(PLAIN_TEMPLATE, env={"GW_STORAGE_MAX": str(MAX), "DATABASE_URL": None})
    try:
        data = bytes(range(256)) * 39 + b"\x00\r\n\xff"  # 9988 bytes, every byte value
        md5 = hashlib.md5(data).hexdigest()
        key = "photos/ab12/orig.jpg"

        def round_trip():
            st, h, body = gw.request("PUT", url("PUT", key), body=data)
            tap.eq("PUT with a PUT signature: 200", st, 200)
            tap.eq("PUT: ETag is the quoted MD5 of the content", hdr(h, "etag"), f'"{md5}"')
            tap.check("PUT: the bytes are on disk", on_disk(gw, key) == data)
            st, h, body = gw.request("GET", url("GET", key))
            tap.check("GET with a GET signature: 200 and the same bytes",
                      st == 200 and body == data, f"{st} {len(body)}")
            tap.eq("GET: Content-Type from the extension", hdr(h, "content-type"), "image/jpeg")
            tap.eq("GET: Content-Length", hdr(h, "content-length"), str(len(data)))
            tap.eq("GET: the PUT's ETag", hdr(h, "etag"), f'"{md5}"')
            st, h, body = gw.request("HEAD", url("GET", key))
            tap.check("HEAD with a GET signature: 200, no body", st == 200 and body == b"", st)
            tap.eq("HEAD: Content-Length", hdr(h, "content-length"), str(len(data)))
            st, h, body = gw.request("GET", url("GET", key), headers={"If-None-Match": f'"{md5}"'})
            tap.check("GET with If-None-Match = ETag: 304, no body", st == 304 and body == b"",
                      st)
            # Same content again: same ETag; new content: new ETag and bytes.
            st, h, _ = gw.request("PUT", url("PUT", key), body=data)
            tap.eq("PUT of the same bytes: the same ETag", hdr(h, "etag"), f'"{md5}"')
            st, h, _ = gw.request("GET", url("GET", key))
            tap.eq("GET after it: the same ETag", hdr(h, "etag"), f'"{md5}"')
            other = b"\x01" * 100
            st, h, _ = gw.request("PUT", url("PUT", key), body=other)
            tap.eq("PUT of new bytes: the new MD5", hdr(h, "etag"),
                   f'"{hashlib.md5(other).hexdigest()}"')
            st, h, body = gw.request("GET", url("GET", key))
            tap.check("GET after it: the new bytes", st == 200 and body == other, st)
            st, h, body = gw.request("PUT", url("PUT", "empty.txt"), body=b"")
            tap.eq("PUT of an empty object: 200", st, 200)
            st, h, body = gw.request("GET", url("GET", "empty.txt"))
            tap.check("GET of an empty object: 200, empty",
                      st == 200 and body == b"" and hdr(h, "etag") == f'"{hashlib.md5(b"").hexdigest()}"',
                      f"{st} {h}")

        def unicode_keys():
            for k in ("相册/my photo 1.jpg", "a+b&c=d/x.txt", "emoji/😀.png"):
                blob = os.urandom(300)
                st, _, _ = gw.request("PUT", url("PUT", k), body=blob)
                tap.eq(f"PUT {k!r}: 200", st, 200)
                st, _, body = gw.request("GET", url("GET", k))
                tap.check(f"GET {k!r}: the bytes", st == 200 and body == blob, st)
                tap.check(f"{k!r} stored under its decoded name", on_disk(gw, k) == blob)

        def refused():
            k = "photos/ab12/orig.jpg"
            before = on_disk(gw, k)
            # wrong method
            st, _, body = gw.request("GET", url("PUT", k))
            tap.check("GET with a PUT-signed URL: 403 signature_invalid",
                      st == 403 and err_code(body) == "signature_invalid", f"{st} {body!r}")
            st, _, body = gw.request("PUT", url("GET", k), body=b"evil")
            tap.check("PUT with a GET-signed URL: 403 signature_invalid",
                      st == 403 and err_code(body) == "signature_invalid", f"{st} {body!r}")
            tap.check("the refused PUT changed nothing", on_disk(gw, k) == before)
            # expired (validly signed, in the past)
            past = int(time.time()) - 5
            st, _, body = gw.request("GET", url("GET", k, expires=past))
            tap.check("expired GET URL: 403 url_expired",
                      st == 403 and err_code(body) == "url_expired", f"{st} {body!r}")
            st, _, body = gw.request("PUT", url("PUT", "late.bin", expires=past), body=b"late")
            tap.check("expired PUT URL: 403 url_expired, nothing stored",
                      st == 403 and err_code(body) == "url_expired"
                      and on_disk(gw, "late.bin") is None, f"{st} {body!r}")
            # tampered: key, expires, signature, missing parts
            exp = int(time.time()) + 300
            good = sign("GET", k, exp)
            bad = [
                ("another key", url("GET", "photos/ab12/other.jpg", expires=exp, sig=good)),
                ("a later expiry", url("GET", k, expires=exp + 1, sig=good)),
                ("one signature digit", url("GET", k, expires=exp,
                                            sig=good[:10] + ("0" if good[10] != "0" else "1")
                                            + good[11:])),
                ("a short signature", url("GET", k, expires=exp, sig=good[:-1])),
                ("a non-numeric expiry", f"/storage/{k}?X-Expires=soon&X-Signature={good}"),
                ("no signature", f"/storage/{k}?X-Expires={exp}"),
                ("no expiry", f"/storage/{k}?X-Signature={good}"),
                ("no query", f"/storage/{k}"),
                ("another secret", url("GET", k, expires=exp, sig=hmac.new(
                    b"not-the-secret-0123456789", f"GET\n{k}\n{exp}".encode(),
                    hashlib.sha256).hexdigest())),
            ]
            for what, u in bad:
                st, _, body = gw.request("GET", u)
                tap.check(f"tampered ({what}): 403 signature_invalid",
                          st == 403 and err_code(body) == "signature_invalid",
                          f"{st} {body[:100]!r}")
            st, _, body = gw.request("PUT", url("PUT", "photos/x.jpg", expires=exp,
                                                sig=sign("PUT", "photos/y.jpg", exp)), body=b"x")
            tap.check("PUT signed for another key: 403, nothing stored",
                      st == 403 and on_disk(gw, "photos/x.jpg") is None, st)
            # other methods
            st, h, body = gw.request("DELETE", url("GET", k))
            tap.check("DELETE: 405 method_not_allowed",
                      st == 405 and err_code(body) == "method_not_allowed", f"{st} {body!r}")
            tap.check("DELETE changed nothing", on_disk(gw, k) == before)
            # missing object
            st, _, body = gw.request("GET", url("GET", "photos/none.jpg"))
            tap.check("GET of a missing object: 404 not_found",
                      st == 404 and err_code(body) == "not_found", f"{st} {body!r}")

        def bad_keys():
            for k in ("a/../b.jpg", "a//b.jpg", ".meta/photos/ab12/orig.jpg", "a/.put-x",
                      "a\\b.jpg"):
                st, _, body = gw.request("GET", url("GET", k))
                tap.check(f"key {k!r}: 400 invalid_key",
                          st == 400 and err_code(body) == "invalid_key", f"{st} {body!r}")
            exp = int(time.time()) + 300
            st, _, body = gw.request("PUT", f"/storage/x/%2e%2e/y.jpg?X-Expires={exp}"
                                     f"&X-Signature={sign('PUT', 'x/../y.jpg', exp)}", body=b"x")
            tap.check("an encoded .. in a key: 400, nothing stored",
                      st == 400 and on_disk(gw, "y.jpg") is None, f"{st} {body!r}")

        def conflicts():
            st, _, _ = gw.request("PUT", url("PUT", "c/a.jpg"), body=b"a")
            tap.eq("PUT c/a.jpg: 200", st, 200)
            st, _, body = gw.request("PUT", url("PUT", "c/a.jpg/b.jpg"), body=b"b")
            tap.check("PUT below an object: 409 key_conflict",
                      st == 409 and err_code(body) == "key_conflict", f"{st} {body!r}")
            st, _, body = gw.request("PUT", url("PUT", "c"), body=b"c")
            tap.check("PUT onto a folder of objects: 409 key_conflict",
                      st == 409 and err_code(body) == "key_conflict", f"{st} {body!r}")
            st, _, body = gw.request("GET", url("GET", "c"))
            tap.check("GET of a folder: 404", st == 404 and err_code(body) == "not_found",
                      f"{st} {body!r}")
            tap.check("c/a.jpg intact", on_disk(gw, "c/a.jpg") == b"a")

        def size_cap():
            st, _, body = gw.request("PUT", url("PUT", "big/over.bin"), body=b"z" * (MAX + 1))
            tap.check("PUT over GW_STORAGE_MAX: 413 payload_too_large",
                      st == 413 and err_code(body) == "payload_too_large", f"{st} {body[:100]!r}")
            tap.check("the oversized object is not stored", on_disk(gw, "big/over.bin") is None)
            st, _, _ = gw.request("GET", url("GET", "big/over.bin"))
            tap.eq("and GET finds nothing", st, 404)
            st, h, _ = gw.request("PUT", url("PUT", "big/exact.bin"), body=b"z" * MAX)
            tap.check("PUT of exactly GW_STORAGE_MAX: 200", st == 200, st)
            tap.check("its bytes are stored", on_disk(gw, "big/exact.bin") == b"z" * MAX)

        def no_temp_files():
            leftovers = []
            for base, dirs, names in os.walk(os.path.join(gw.dir, "objects")):
                leftovers += [os.path.join(base, n) for n in names if n.startswith(".put-")]
            tap.eq("no temporary upload files left behind", leftovers, [])

        for t in (round_trip, unicode_keys, refused, bad_keys, conflicts, size_cap,
                  no_temp_files):
            tap.run(t)
    finally:
        gw.stop()


def s3_events():
    r = lib.migrate()
    tap.check("migrations applied", r.returncode == 0, r.stderr)
    lib.psql("DELETE FROM async_events; DELETE FROM async_dead_letters")
    gw = lib.Gateway(S3_TEMPLATE, env={"GW_STORAGE_MAX": str(MAX)})
    try:
        data = os.urandom(4321)
        md5 = hashlib.md5(data).hexdigest()

        def s3_records():
            return [e for e in gw.events() if e.get("kind") == "s3"]

        st, h, _ = gw.request("PUT", url("PUT", "uploads/a.jpg"), body=data)
        tap.eq("PUT uploads/a.jpg: 200", st, 200)
        got = lib.wait_until(s3_records, timeout=20)
        tap.eq("one S3 event delivered to testfn", len(got), 1)
        # The others do not match the prefix/suffix filter.
        for k in ("other/b.jpg", "uploads/c.png", "uploads.jpg"):
            st, _, _ = gw.request("PUT", url("PUT", k), body=b"not for testfn")
            tap.eq(f"PUT {k}: 200", st, 200)
        time.sleep(2.0)
        got = s3_records()
        tap.eq("still exactly one S3 event after non-matching uploads", len(got), 1)
        if not got:
            tap.check("S3 event record present", False, gw.log()[-3000:])
            return
        ev = got[0].get("data")
        recs = ev.get("Records") if isinstance(ev, dict) else None
        tap.check("event has one record", isinstance(recs, list) and len(recs) == 1, ev)
        rec = recs[0] if recs else {}
        s3 = rec.get("s3", {})
        tap.eq("eventSource", rec.get("eventSource"), "aws:s3")
        tap.eq("eventName", rec.get("eventName"), "ObjectCreated:Put")
        tap.check("eventVersion 2.x", str(rec.get("eventVersion", "")).startswith("2."), rec)
        tap.check("eventTime is ISO 8601 UTC", str(rec.get("eventTime", "")).endswith("Z"), rec)
        tap.check("awsRegion present", isinstance(rec.get("awsRegion"), str), rec)
        tap.eq("s3SchemaVersion", s3.get("s3SchemaVersion"), "1.0")
        tap.eq("bucket name: the template's bucket", s3.get("bucket", {}).get("name"),
               "PhotosBucket")
        tap.check("bucket arn", str(s3.get("bucket", {}).get("arn", "")).startswith(
            "arn:aws:s3:::"), s3.get("bucket"))
        obj = s3.get("object", {})
        tap.eq("object key", obj.get("key"), "uploads/a.jpg")
        tap.eq("object size", obj.get("size"), len(data))
        tap.eq("object eTag: the content's MD5", obj.get("eTag"), md5)
        tap.check("object sequencer", isinstance(obj.get("sequencer"), str), obj)
    finally:
        gw.stop()


tap.run(basics)
tap.run(s3_events)
tap.done()
