"""The s3:// store (shared/src/store.c) against s3rver on loopback, driven
through tests/fixtures/storetool.

s3rver 3.7.1 (package.json) speaks the S3 protocol but does not check SigV4
signatures (its authentication middleware only looks the access key up), so
every request goes through lib.SigV4Proxy first: an independent SigV4
verifier (header and query-string forms, payload hash, expiry) that answers
403 SignatureDoesNotMatch like S3 and forwards what it accepts to s3rver.
Covered: put/get/head/delete/list, binary bodies, keys with spaces, unicode
and XML-escaped characters, pagination, missing keys, size caps, wrong and
missing credentials, session tokens, and presigned PUT/GET URLs used with
plain urllib (no Authorization header)."""
import hashlib
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import lib  # noqa: E402
from lib import tap  # noqa: E402

AK, SK = lib.S3RVER_KEY, lib.S3RVER_SECRET  # s3rver's built-in account
BUCKET = "album-test"
TOOL = os.path.join(lib.FIXTURE_DIR, "storetool")


class Store:
    def __init__(self, url, **env):
        self.env = lib.fn_env(STORAGE_URL=url, AWS_ACCESS_KEY_ID=AK,
                              AWS_SECRET_ACCESS_KEY=SK, AWS_SESSION_TOKEN=None)
        self.env.update({k: v for k, v in env.items() if v is not None})
        for k, v in env.items():
            if v is None:
                self.env.pop(k, None)

    def run(self, *args, data=None):
        p = subprocess.run([TOOL] + list(args), env=self.env, capture_output=True,
                           timeout=60, input=data)
        return p.returncode, p.stdout, p.stderr.decode(errors="replace")

    def put(self, key, body, ctype=None):
        path = os.path.join(lib.TMP, "storetool-body")
        with open(path, "wb") as f:
            f.write(body)
        return self.run("put", key, path, *([ctype] if ctype else []))

    def text(self, *args):
        rc, out, err = self.run(*args)
        return rc, out.decode().strip(), err


def main():
    if not lib.S3.available():
        tap.check("s3rver is installed (deploy/local/bootstrap runs npm ci)", False,
                  f"missing {lib.S3RVER} or node")
        tap.done()
    if not tap.check("storetool fixture built", os.path.exists(TOOL), TOOL):
        tap.done()
    root = os.path.join(lib.TMP, f"s3-{os.getpid()}")
    try:
        s3 = lib.S3(root, BUCKET, AK, SK)
    except RuntimeError as e:
        tap.check("s3rver starts", False, str(e))
        tap.done()
    tap.check("s3rver starts", True)
    proxy, endpoint = s3.proxy, s3.endpoint
    st = Store(s3.url("&max_keys=2"))
    try:
        for t in (round_trip, binary_and_keys, missing, listing, caps, credentials,
                  presigned, urls):
            tap.run(lambda t=t: t(st, proxy, endpoint))
    finally:
        s3.close()
        shutil.rmtree(root, ignore_errors=True)
    tap.done()


def head_of(st, key):
    rc, out, err = st.text("head", key)
    lines = out.split("\n")
    return rc, lines if rc == 0 and len(lines) == 4 else None, err


def round_trip(st, proxy, endpoint):
    body = b"hello, s3\n"
    md5 = '"' + hashlib.md5(body).hexdigest() + '"'
    rc, out, err = st.put("notes/hello.txt", body, "text/plain; charset=utf-8")
    tap.eq("put: exit 0", rc, 0) or print("# " + err)
    tap.eq("put: prints the ETag S3 gave (quoted MD5)", out.decode().strip(), md5)
    tap.check("requests were signed in the Authorization header and checked",
              any(s[3] == "header" and s[0] == "PUT" for s in proxy.seen))
    rc, out, err = st.run("get", "notes/hello.txt")
    tap.eq("get: the bytes back", (rc, out), (0, body))
    rc, h, err = head_of(st, "notes/hello.txt")
    tap.check("head: exit 0", rc == 0 and h is not None, err)
    if h:
        tap.eq("head: size", h[0], str(len(body)))
        tap.eq("head: ETag", h[1], md5)
        tap.eq("head: the declared Content-Type", h[2], "text/plain; charset=utf-8")
        tap.check("head: Last-Modified parsed (within a day of now)",
                  abs(int(h[3]) - time.time()) < 86400, h[3])
    body2 = b"replaced"
    st.put("notes/hello.txt", body2)
    rc, out, _ = st.run("get", "notes/hello.txt")
    tap.eq("put again replaces", out, body2)
    rc, h, _ = head_of(st, "notes/hello.txt")
    tap.eq("without a type: the extension's", h and h[2], "text/plain; charset=utf-8")
    tap.eq("delete: exit 0", st.run("delete", "notes/hello.txt")[0], 0)
    tap.eq("deleted: get exits 3 (ENOENT)", st.run("get", "notes/hello.txt")[0], 3)
    tap.eq("deleting a missing key succeeds", st.run("delete", "notes/hello.txt")[0], 0)


def binary_and_keys(st, proxy, endpoint):
    blob = bytes(range(256)) * 1200 + b"\x00\xff"
    rc, _, err = st.put("photos/o/bin.png", blob, "image/png")
    tap.eq("binary put (300 KB, every byte value)", rc, 0) or print("# " + err)
    rc, out, _ = st.run("get", "photos/o/bin.png")
    tap.check("binary get is byte-exact", rc == 0 and out == blob, (rc, len(out)))
    keys = ["odd/a b/c d.txt", "odd/\u00fc\u00f1\u00ee/\u7167\u7247.jpg", "odd/x&y+z=w.txt",
            "odd/it's (1),[2];@$!.txt"]
    for i, k in enumerate(keys):
        body = f"body {i}".encode()
        rc, _, err = st.put(k, body)
        tap.eq(f"put {k!r}", rc, 0) or print("# " + err)
        rc, out, _ = st.run("get", k)
        tap.eq(f"get {k!r}", (rc, out), (0, body))
        tap.eq(f"head {k!r}", head_of(st, k)[0], 0)
    rc, out, err = st.text("list", "odd/")
    tap.eq("list decodes XML-escaped keys and is in byte order",
           out.split("\n") if rc == 0 else err, sorted(keys, key=lambda k: k.encode()))
    paths = [s[1] for s in proxy.seen if s[0] == "PUT"]
    tap.check("keys are percent-encoded per segment, '/' kept",
              "/album-test/odd/a%20b/c%20d.txt" in paths and
              "/album-test/odd/x%26y%2Bz%3Dw.txt" in paths, paths[-4:])
    for k in keys:
        st.run("delete", k)


def missing(st, proxy, endpoint):
    tap.eq("get of a missing key exits 3 (ENOENT)", st.run("get", "none/x.jpg")[0], 3)
    tap.eq("head of a missing key exits 3 (ENOENT)", st.run("head", "none/x.jpg")[0], 3)
    tap.eq("get of a missing key with a tiny cap is still ENOENT",
           st.run("get", "none/x.jpg", "1")[0], 3)
    rc, out, _ = st.text("list", "none/")
    tap.eq("list of an empty prefix: nothing", (rc, out), (0, ""))
    for bad in ("../x", "a//b", ".meta/x", "a/.put-1"):
        tap.eq(f"bad key {bad!r} refused", st.run("get", bad)[0], 1)


def listing(st, proxy, endpoint):
    keys = [f"list/k{i:02d}.txt" for i in range(7)]
    for k in keys:
        st.put(k, k.encode())
    st.put("listing-other.txt", b"x")
    st.put("lis/t.txt", b"x")
    before = len(proxy.seen)
    rc, out, err = st.text("list", "list/")
    tap.eq("list: every key under the prefix, sorted (pages of max_keys=2)",
           out.split("\n") if rc == 0 else err, keys)
    pages = [s for s in proxy.seen[before:] if "list-type=2" in s[1]]
    tap.eq("list: ListObjectsV2 pages of 2 followed by continuation tokens", len(pages), 4)
    tap.check("later pages carry continuation-token",
              all("continuation-token=" in s[1] for s in pages[1:]), [s[1] for s in pages])
    rc, out, _ = st.text("list", "list/", "3")
    tap.eq("list: at most max", out.split("\n"), keys[:3])
    rc, out, _ = st.text("list", "list/k0")
    tap.eq("list: a partial segment prefix", out.split("\n"), keys)
    rc, out, _ = st.text("list", "")
    tap.check("list of everything includes the other keys",
              rc == 0 and "listing-other.txt" in out.split("\n") and "lis/t.txt" in out.split("\n"),
              out)
    for k in keys + ["listing-other.txt", "lis/t.txt"]:
        st.run("delete", k)
    rc, out, _ = st.text("list", "list/")
    tap.eq("all deleted", (rc, out), (0, ""))


def caps(st, proxy, endpoint):
    st.put("cap/ten.bin", b"0123456789")
    tap.eq("get over max exits 4 (EFBIG)", st.run("get", "cap/ten.bin", "9")[0], 4)
    tap.eq("get of exactly max works", st.run("get", "cap/ten.bin", "10")[:2],
           (0, b"0123456789"))
    rc, out, _ = st.run("put", "cap/empty.txt", "/dev/null")
    tap.eq("an empty object can be put", rc, 0)
    rc, h, _ = head_of(st, "cap/empty.txt")
    tap.eq("and has size 0", h and h[0], "0")
    tap.eq("and reads back empty", st.run("get", "cap/empty.txt")[:2], (0, b""))
    st.run("delete", "cap/ten.bin")
    st.run("delete", "cap/empty.txt")


def credentials(st, proxy, endpoint):
    url = st.env["STORAGE_URL"]
    before = proxy.rejected
    bad = Store(url, AWS_SECRET_ACCESS_KEY="not-the-secret")
    rc, _, err = bad.put("cred/x.txt", b"x")
    tap.check("a wrong secret: put fails (403 from the verifier)",
              rc == 1 and proxy.rejected > before and "403" in err, err[-300:])
    tap.eq("and nothing was stored", st.run("get", "cred/x.txt")[0], 3)
    tap.eq("a wrong secret: get fails with 1, not ENOENT",
           bad.run("get", "cred/x.txt")[0], 1)
    none = Store(url, AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    rc, _, err = none.put("cred/x.txt", b"x")
    tap.check("no credentials: put fails and says why",
              rc == 1 and "AWS_ACCESS_KEY_ID" in err, err[-300:])
    tok = Store(url, AWS_SESSION_TOKEN="session/token+value=")
    n = len(proxy.seen)
    rc, _, err = tok.put("cred/tok.txt", b"with a token")
    tap.eq("with AWS_SESSION_TOKEN: put works", rc, 0) or print("# " + err)
    tap.check("x-amz-security-token was sent and signed",
              any(s[4] == "session/token+value=" for s in proxy.seen[n:]), proxy.seen[n:])
    rc, out, _ = tok.text("presign-get", "cred/tok.txt", "60")
    tap.check("a presigned URL carries X-Amz-Security-Token",
              "X-Amz-Security-Token=session%2Ftoken%2Bvalue%3D" in out, out)
    with urllib.request.urlopen(out, timeout=10) as r:
        tap.eq("and downloads", r.read(), b"with a token")
    st.run("delete", "cred/tok.txt")
    rc, _, err = Store(f"s3://{BUCKET}?endpoint={endpoint}&bogus=1").put("x.txt", b"x")
    tap.check("an unknown STORAGE_URL parameter is refused", rc == 1 and "bogus" in err, err)


def fetch(method, url, data=None):
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def presigned(st, proxy, endpoint):
    key = "photos/o/p q \u00fc.jpg"
    body = bytes(range(256)) * 40
    rc, put_url, err = st.text("presign-put", key, "900")
    tap.check("presign-put: a URL on the endpoint", rc == 0 and put_url.startswith(
        endpoint + "/album-test/photos/o/p%20q%20%C3%BC.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256"),
        put_url or err)
    n = len(proxy.seen)
    status, _ = fetch("PUT", put_url, body)
    tap.eq("a presigned PUT uploads with plain urllib", status, 200)
    tap.check("it was checked as a query-string signature without Authorization",
              any(s[3] == "query" and "authorization" not in s[2] for s in proxy.seen[n:]))
    rc, out, _ = st.run("get", key)
    tap.eq("the uploaded bytes are there", (rc, out), (0, body))
    rc, get_url, _ = st.text("presign-get", key, "900")
    tap.eq("a presigned GET downloads", fetch("GET", get_url), (200, body))
    status, _ = fetch("GET", put_url)
    tap.eq("a URL signed for PUT does not GET", status, 403)
    status, _ = fetch("PUT", get_url, b"evil")
    tap.eq("a URL signed for GET does not PUT", status, 403)
    tampered = get_url.replace("X-Amz-Expires=900", "X-Amz-Expires=901")
    tap.eq("a tampered URL is refused", fetch("GET", tampered)[0], 403)
    other = get_url.replace("p%20q%20", "p%20r%20")
    tap.eq("a URL for another key is refused", fetch("GET", other)[0], 403)
    rc, short, _ = st.text("presign-get", key, "1")
    time.sleep(2.2)
    tap.eq("an expired URL is refused", fetch("GET", short)[0], 403)
    tap.eq("ttl 0 is refused", st.run("presign-get", key, "0")[0], 1)
    tap.eq("ttl over 7 days is refused", st.run("presign-get", key, "604801")[0], 1)
    st.run("delete", key)


def urls(st, proxy, endpoint):
    rc, out, _ = st.text("public-url", "uploads/2026/a b.png")
    tap.eq("public URL: the plain object URL (path style)", out,
           endpoint + "/album-test/uploads/2026/a%20b.png")
    vh = Store("s3://examplebucket?region=eu-west-1")
    rc, out, _ = vh.text("public-url", "k/x.jpg")
    tap.eq("default endpoint, virtual-host style", out,
           "https://examplebucket.s3.eu-west-1.amazonaws.com/k/x.jpg")
    rc, out, _ = vh.text("presign-get", "k/x.jpg", "60")
    tap.check("its presigned URL is on the bucket's host with the region in the scope",
              out.startswith("https://examplebucket.s3.eu-west-1.amazonaws.com/k/x.jpg?") and
              "%2Feu-west-1%2Fs3%2Faws4_request" in out, out)
    rc, out, _ = Store("s3://b").text("public-url", "x")
    tap.eq("region defaults to us-east-1", out, "https://b.s3.us-east-1.amazonaws.com/x")


if __name__ == "__main__":
    main()
