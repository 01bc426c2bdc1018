"""/media/: the gateway serves objects under uploads/ publicly and read-only
(images uploaded for articles, store_public_url), nothing else; writes go
through signed /storage/ URLs only."""
import hashlib
import hmac
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lib  # noqa: E402
from lib import tap  # noqa: E402

TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  TestFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ./testfn/
      Events:
        Echo:
          Type: HttpApi
          Properties:
            Path: /api/test/echo/{name}
            Method: GET
"""
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def signed_put(key):
    exp = str(int(time.time()) + 300)
    sig = hmac.new(lib.SECRET.encode(), f"PUT\n{key}\n{exp}".encode(),
                   hashlib.sha256).hexdigest()
    return f"/storage/{key}?X-Expires={exp}&X-Signature={sig}"


gw = lib.Gateway(TEMPLATE)
try:
    for key in ("uploads/2026/11/abc.png", "private/secret.png"):
        st, _, _ = gw.request("PUT", signed_put(key), body=PNG,
                              headers={"Content-Type": "image/png"})
        tap.eq(f"signed PUT {key}", st, 200)

    st, hdrs, body = gw.request("GET", "/media/uploads/2026/11/abc.png")
    h = dict((k.lower(), v) for k, v in hdrs)
    tap.eq("public GET of an upload: 200", st, 200)
    tap.eq("public GET returns the bytes", body, PNG)
    tap.eq("content type from the extension", h.get("content-type"), "image/png")
    st, _, body = gw.request("HEAD", "/media/uploads/2026/11/abc.png")
    tap.check("HEAD works without a body", st == 200 and body == b"", st)

    st, _, body = gw.request("GET", "/media/private/secret.png")
    tap.check("keys outside uploads/ are not public (404)", st == 404 and body != PNG, st)
    st, _, _ = gw.request("GET", "/media/uploads/../private/secret.png")
    tap.check("no escape from uploads/ with ..", st in (400, 404), st)
    st, _, _ = gw.request("GET", "/media/uploads%2F..%2Fprivate%2Fsecret.png")
    tap.check("no escape with encoded slashes", st in (400, 404), st)
    st, _, _ = gw.request("PUT", "/media/uploads/2026/11/new.png", body=PNG)
    tap.eq("PUT to /media/ is refused (405)", st, 405)
    st, _, _ = gw.request("GET", "/media/uploads/2026/11/missing.png")
    tap.eq("a missing upload is 404", st, 404)
    st, _, _ = gw.request("GET", "/storage/uploads/2026/11/abc.png")
    tap.eq("/storage/ still needs a signature", st, 403)
finally:
    rc = gw.stop()
tap.eq("gateway exits 0", rc, 0)
tap.done()
