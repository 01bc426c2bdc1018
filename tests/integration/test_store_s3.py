"""The s3:// store (shared/src/store.c) against s3rver on loopback, driven
through tests/fixtures/storetool.

s3rver 3.7.1 (package.json) speaks the S3 protocol but does not check SigV4
signatures (its authentication middleware only looks the access key up), so
every request goes through SigV4Proxy below first: an independent SigV4
verifier (header and query-string forms, payload hash, expiry) that answers
403 SignatureDoesNotMatch like S3 and forwards what it accepts to s3rver.
Covered: put/get/head/delete/list, binary bodies, keys with spaces, unicode
and XML-escaped characters, pagination, missing keys, size caps, wrong and
missing credentials, session tokens, and presigned PUT/GET URLs used with
plain urllib (no Authorization header)."""
import hashlib
import hmac
import http.client
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
import lib  # noqa: E402
from lib import tap  # noqa: E402

AK, SK = "S3RVER", "S3RVER"  # s3rver's built-in account
BUCKET = "album-test"
REGION = "us-east-1"
TOOL = os.path.join(lib.FIXTURE_DIR, "storetool")
S3RVER = os.path.join(lib.ROOT, "node_modules", "s3rver", "bin", "s3rver.js")
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-connection"}


def q(s):
    return urllib.parse.quote(s, safe="-_.~")


def sign_key(secret, day, region, service="s3"):
    k = hmac.new(("AWS4" + secret).encode(), day.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


class SigV4Proxy:
    """Checks each request's SigV4 signature, then forwards it to s3rver.
    .seen holds (method, raw path, headers dict, auth kind) of accepted
    requests; .rejected counts the 403s it gave."""

    def __init__(self, upstream_port, secrets):
        self.upstream = upstream_port
        self.secrets = secrets
        self.seen = []
        self.rejected = 0
        proxy = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_one(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                why = proxy.verify(self.command, self.path, self.headers, body)
                if why:
                    proxy.rejected += 1
                    msg = (f"<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch"
                           f"</Code><Message>{why}</Message></Error>").encode()
                    self.send_response(403)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(msg)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream, timeout=30)
                hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                conn.request(self.command, self.path, body=body if n else None, headers=hdrs)
                r = conn.getresponse()
                data = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                length = r.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = handle_one

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def verify(self, method, target, headers, body):
        """None when the request is well signed, else why not."""
        path, _, raw_query = target.partition("?")
        params = []
        for part in raw_query.split("&") if raw_query else []:
            k, _, v = part.partition("=")
            params.append((urllib.parse.unquote(k), urllib.parse.unquote(v)))
        qd = dict(params)
        hdr = {k.lower(): v for k, v in headers.items()}
        auth = hdr.get("authorization", "")
        if "X-Amz-Signature" in qd:
            kind = "query"
            if auth:
                return "two auth mechanisms"
            if qd.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
                return "bad algorithm"
            cred, signed, given = qd["X-Amz-Credential"], qd["X-Amz-SignedHeaders"], \
                qd["X-Amz-Signature"]
            amzdate = qd.get("X-Amz-Date", "")
            payload = "UNSIGNED-PAYLOAD"
            params = [(k, v) for k, v in params if k != "X-Amz-Signature"]
            try:
                expires = int(qd["X-Amz-Expires"])
                t0 = time.mktime(time.strptime(amzdate, "%Y%m%dT%H%M%SZ")) - time.timezone
            except (KeyError, ValueError):
                return "bad date or expiry"
            if not 1 <= expires <= 604800 or time.time() > t0 + expires:
                return "expired"
            token = qd.get("X-Amz-Security-Token")
        elif auth.startswith("AWS4-HMAC-SHA256 "):
            kind = "header"
            fields = dict(f.strip().split("=", 1) for f in auth[17:].split(","))
            cred, signed, given = fields["Credential"], fields["SignedHeaders"], \
                fields["Signature"]
            amzdate = hdr.get("x-amz-date", "")
            payload = hdr.get("x-amz-content-sha256", "")
            if payload != hashlib.sha256(body).hexdigest():
                return "x-amz-content-sha256 does not match the body"
            if "x-amz-date" not in signed.split(";") or \
                    "x-amz-content-sha256" not in signed.split(";"):
                return "x-amz-date and x-amz-content-sha256 must be signed"
            token = hdr.get("x-amz-security-token")
            if token is not None and "x-amz-security-token" not in signed.split(";"):
                return "the session token is not signed"
        else:
            return "no SigV4 authentication"
        parts = cred.split("/")
        if len(parts) != 5 or parts[2:] != [REGION, "s3", "aws4_request"] or \
                parts[1] != amzdate[:8]:
            return f"bad credential scope {cred}"
        secret = self.secrets.get(parts[0])
        if secret is None:
            return "unknown access key"
        if "host" not in signed.split(";"):
            return "host is not signed"
        canon_q = "&".join(sorted(f"{q(k)}={q(v)}" for k, v in params))
        canon_h = "".join(f"{h}:{' '.join(hdr.get(h, '').split())}\n" for h in signed.split(";"))
        creq = "\n".join([method, path, canon_q, canon_h, signed, payload])
        sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, "/".join(parts[1:]),
                         hashlib.sha256(creq.encode()).hexdigest()])
        want = hmac.new(sign_key(secret, parts[1], REGION), sts.encode(),
                        hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, given):
            return "signature mismatch"
        self.seen.append((method, target, hdr, kind, token))
        return None


def start_s3rver(port, data_dir):
    log = open(os.path.join(data_dir, "..", f"s3rver-{port}.log"), "w")
    # s3rver makes its continuation tokens with DES, which Node 20's OpenSSL 3
    # only has in the legacy provider (without it a truncated listing is a 500)
    p = subprocess.Popen(["node", "--openssl-legacy-provider", S3RVER, "-d", data_dir, "-a", "127.0.0.1", "-p", str(port),
                          "--configure-bucket", BUCKET, "--silent"],
                         stdout=log, stderr=subprocess.STDOUT, cwd=lib.ROOT)
    log.close()
    ok = lib.wait_until(lambda: _connects(port) or p.poll() is not None, timeout=30)
    if not ok or p.poll() is not None:
        lib.reap(p)
        return None
    return p


def _connects(port):
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


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
    if not os.path.exists(S3RVER) or shutil.which("node") is None:
        tap.check("s3rver is installed (deploy/local/bootstrap runs npm ci)", False,
                  f"missing {S3RVER} or node")
        tap.done()
    if not tap.check("storetool fixture built", os.path.exists(TOOL), TOOL):
        tap.done()
    root = os.path.join(lib.TMP, f"s3-{os.getpid()}")
    os.makedirs(os.path.join(root, "data"), exist_ok=True)
    port = lib.free_port()
    srv = start_s3rver(port, os.path.join(root, "data"))
    if not tap.check("s3rver starts", srv is not None):
        tap.done()
    proxy = SigV4Proxy(port, {AK: SK})
    endpoint = f"http://127.0.0.1:{proxy.port}"
    url = f"s3://{BUCKET}?endpoint={endpoint}&path_style=1&max_keys=2"
    st = Store(url)
    try:
        for t in (round_trip, binary_and_keys, missing, listing, caps, credentials,
                  presigned, urls):
            tap.run(lambda t=t: t(st, proxy, endpoint))
    finally:
        proxy.close()
        lib.reap(srv)
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
