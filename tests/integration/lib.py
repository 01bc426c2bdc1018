"""Helpers for integration tests: TAP output, the binaries, the database.

Each test file calls tap.check(name, condition, detail) for every assertion and
tap.done() at the end; tests/run counts the "ok" / "not ok" lines. The runner
exports BIN_DIR, DATABASE_URL, TEST_PG_DIR, TEST_PG_PORT, TEST_TMP and
PROJECT_ROOT.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import secrets
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BIN_DIR = os.environ.get("BIN_DIR", "build/san/bin")
ROOT = os.environ.get("PROJECT_ROOT", os.getcwd())
DATABASE_URL = os.environ.get("DATABASE_URL", "")
TMP = os.environ.get("TEST_TMP", "/tmp")
PG_DIR = os.environ.get("TEST_PG_DIR", "")
PG_PORT = os.environ.get("TEST_PG_PORT", "")
SECRET = "integration-test-secret-0123456789"


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, name, cond, detail=""):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {name}", flush=True)
        else:
            self.failed += 1
            print(f"not ok {self.n} - {name}", flush=True)
            if detail:
                for line in str(detail).splitlines()[:20]:
                    print(f"#   {line}", flush=True)
        return cond

    def eq(self, name, got, want):
        return self.check(name, got == want, f"got {got!r}, want {want!r}")

    def run(self, fn):
        """Runs one test function; an exception is one failure."""
        try:
            fn()
        except Exception:
            self.check(f"{fn.__name__} raised", False, traceback.format_exc())

    def done(self):
        print(f"1..{self.n}", flush=True)
        sys.exit(1 if self.failed else 0)


tap = Tap()


def bin_path(name):
    return os.path.join(BIN_DIR, name)


def fn_env(**extra):
    env = dict(os.environ)
    env["DATABASE_URL"] = DATABASE_URL
    env["APP_SECRET"] = SECRET
    env.setdefault("LOG_LEVEL", "warn")
    for k in ("AWS_LAMBDA_RUNTIME_API", "SCF_RUNTIME_API", "PORT"):
        env.pop(k, None)
    env.update({k: str(v) for k, v in extra.items() if v is not None})
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
    return env


def migrate(env=None, sql_dir=None):
    """Applies the migrations of sql_dir (default the project's sql/)."""
    return subprocess.run([bin_path("migrate"), sql_dir or os.path.join(ROOT, "sql")],
                          env=env or fn_env(), capture_output=True, text=True,
                          timeout=60)


def migrate_or_done(env=None, name="migrate the test database"):
    """Applies the migrations (migrate); when they fail, one failed check, name,
    and the end of the test file (tap.done)."""
    mig = migrate(env)
    if mig.returncode != 0:
        tap.check(name, False, mig.stderr)
        tap.done()


def fresh_database(name):
    """Drops and creates database name on the test cluster; its DATABASE_URL.
    Test files that need data of their own (counts, rate limits) use one."""
    psql(f'DROP DATABASE IF EXISTS "{name}"')
    psql(f'CREATE DATABASE "{name}"')
    return DATABASE_URL.replace("/app?", f"/{name}?")


def drop_database(name, force=False):
    """Clean-up at the end of a file: DROP DATABASE IF EXISTS name (WITH (FORCE)
    when force), a failure ignored."""
    try:
        psql(f'DROP DATABASE IF EXISTS "{name}"' + (" WITH (FORCE)" if force else ""))
    except RuntimeError:
        pass


def psql(sql, url=None):
    """Runs sql through psql on url (default DATABASE_URL), for setup and checks,
    never the code under test; its output stripped, RuntimeError(stderr) on failure.
    On stdin: multi-statement scripts run, and SQL over the kernel's per-argument
    limit fits."""
    cmd = ["psql", DATABASE_URL if url is None else url, "-v", "ON_ERROR_STOP=1",
           "-tAq", "-f", "-"]
    out = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return out.stdout.strip()


def lit(s):
    """A SQL string literal (test setup and checks only; the code under test binds)."""
    return "'" + s.replace("'", "''") + "'"


def b64url(data):
    """base64url without padding, as a str."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(s):
    """The bytes of an unpadded base64url string."""
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def forge(payload, key=SECRET):
    """A token as auth.h defines it, signed with key."""
    mac = hmac.new(key.encode(), b"tok1." + payload.encode(), hashlib.sha256).digest()
    return b64url(payload.encode()) + "." + b64url(mac)


def token_fields(token):
    """kind, session, subject, expiry of a token (no MAC check)."""
    return unb64url(token.split(".")[0]).decode().split(".")


def mint(kind, session, subject, expires, key=SECRET):
    """A token as auth.h defines it: kind "a" (admin) or "w" (WeChat user),
    session id, subject (user id), expiry (Unix seconds), signed with key."""
    return forge(f"{kind}.{session}.{subject}.{expires}", key)


def sign_cursor(payload):
    """A cursor as cursor.h defines it, signed with the test APP_SECRET."""
    mac = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).digest()[:16]
    return b64url(payload.encode()) + "." + b64url(mac)


def app_user(url, openid, nickname=None, quota_bytes=None, quota_photos=None):
    """(user id, auth headers) of a new WeChat user in database url: an app_users
    row (nickname and quotas when given), a session of it live for an hour
    (app_sessions row) and a bearer token for that session."""
    cols = {"openid": lit(openid)}
    if nickname is not None:
        cols["nickname"] = lit(nickname)
    if quota_bytes:
        cols["quota_bytes"] = str(quota_bytes)
    if quota_photos:
        cols["quota_photos"] = str(quota_photos)
    uid = int(psql(f"INSERT INTO app_users ({', '.join(cols)}) VALUES"
                   f" ({', '.join(cols.values())}) RETURNING id", url=url))
    session = secrets.token_hex(16)
    psql(f"INSERT INTO app_sessions (id, user_id, expires_at) VALUES ('{session}', {uid},"
         " now() + interval '1 hour')", url=url)
    return uid, {"Authorization": "Bearer " + mint("w", session, uid, int(time.time()) + 3600)}


def admin_session(url, username):
    """A new admin (admin_users row; a placeholder hash, it never logs in) with a
    session live for an hour (admin_sessions row) in database url:
    (admin id, session id, expiry in Unix seconds, bearer token)."""
    admin_id = int(psql("INSERT INTO admin_users (username, password_hash) VALUES"
                        f" ({lit(username)},"
                        " '$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$notused') RETURNING id",
                        url=url))
    session = secrets.token_hex(16)
    expires = int(time.time()) + 3600
    psql(f"INSERT INTO admin_sessions (id, user_id, expires_at) VALUES ('{session}',"
         f" {admin_id}, to_timestamp({expires}))", url=url)
    return admin_id, session, expires, mint("a", session, admin_id, expires)


def pg_stop():
    subprocess.run([os.path.join(ROOT, "deploy/local/pg"), "stop", PG_DIR],
                   check=True, timeout=60)


def pg_start():
    subprocess.run([os.path.join(ROOT, "deploy/local/pg"), "start", PG_DIR, PG_PORT],
                   check=True, timeout=60,
                   env=dict(os.environ, PG_EXTRA_OPTS="-c fsync=off"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def invoke(name, event, env=None, timeout=30):
    """Runs `BIN invoke` with event (dict or str) on stdin.
    Returns (exit status, parsed response or None, stderr)."""
    data = event if isinstance(event, str) else json.dumps(event)
    p = subprocess.run([bin_path(name), "invoke"], input=data, env=env or fn_env(),
                       capture_output=True, text=True, timeout=timeout)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        out = None
    return p.returncode, out, p.stderr


class Server:
    """A function binary in HTTP mode on a free loopback port."""

    def __init__(self, name, env=None, args=None, cmd=None, port=None):
        self.port = port or free_port()
        self.stderr = open(os.path.join(TMP, f"{name}-{self.port}.log"), "w+")
        if cmd is None:
            cmd = [bin_path(name)] + (args or ["--http", f"127.0.0.1:{self.port}"])
        self.proc = subprocess.Popen(cmd, env=env or fn_env(), stdout=subprocess.DEVNULL,
                                     stderr=self.stderr)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"{name} did not start: {self.log()}")

    def request(self, method, path, body=None, headers=None, timeout=30):
        """Returns (status, headers as list of pairs, body bytes)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers = dict(headers or {}, **{"Content-Type": "application/json"})
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.getheaders(), data

    def json(self, method, path, body=None, headers=None):
        status, hdrs, data = self.request(method, path, body, headers)
        try:
            obj = json.loads(data) if data else None
        except ValueError:
            obj = None
        return status, dict((k.lower(), v) for k, v in hdrs), obj

    def log(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()

    def stop(self, sig=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


SAN_MARKERS = ("Sanitizer", "runtime error")
# Only the reports themselves (a log may name a sanitizer otherwise).
SAN_ERRORS = ("ERROR: AddressSanitizer", "runtime error", "LeakSanitizer")


def sanitizer_clean(log, markers=SAN_MARKERS):
    """Whether log (a process's stderr) holds none of markers: no sanitizer report."""
    return all(m not in log for m in markers)


def stop_clean(server, name="server exits cleanly on SIGTERM", san="no sanitizer reports",
               tail=3000, markers=SAN_MARKERS):
    """Stops server (SIGTERM) with two checks: name, that it exits 0, and san,
    that its log has no sanitizer report (sanitizer_clean). Returns the log."""
    rc = server.stop()
    tap.eq(name, rc, 0)
    log = server.log()
    tap.check(san, sanitizer_clean(log, markers), log[-tail:])
    return log


def is_error(obj, code=None, field=None):
    """True when obj is the DESIGN.md error shape (and code/field match)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("error"), dict):
        return False
    e = obj["error"]
    if not isinstance(e.get("code"), str) or not isinstance(e.get("message"), str):
        return False
    if code is not None and e["code"] != code:
        return False
    if field is not None and e.get("field") != field:
        return False
    return True


FIXTURE_DIR = os.path.join(os.path.dirname(BIN_DIR.rstrip("/")), "tests", "bin")
# The same fixtures built without sanitizers (`make test` builds them): a
# worker that can run under the gateway's RLIMIT_AS.
PLAIN_FIXTURE_DIR = os.path.join(ROOT, "build", "tests", "bin")


class Gateway(Server):
    """build/.../bin/gateway on a free port with template_text as its
    template.yaml (written to a fresh directory, returned as .dir). Functions
    are looked up in BIN_DIR, then the test fixtures (testfn). Extra
    environment in env (e.g. GW_IDLE_SECONDS=1; it may replace STORAGE_URL,
    file://<dir>/objects by default); args are added flags.
    bin_dir, when given, replaces that search list (e.g. PLAIN_FIXTURE_DIR)."""

    def __init__(self, template_text, env=None, args=None, static_dir=None, port=None,
                 bin_dir=None):
        port = port or free_port()
        self.dir = os.path.join(TMP, f"gw-{port}")
        os.makedirs(self.dir, exist_ok=True)
        self.template = os.path.join(self.dir, "template.yaml")
        with open(self.template, "w") as f:
            f.write(template_text)
        if static_dir is None:
            static_dir = os.path.join(self.dir, "static")
            os.makedirs(static_dir, exist_ok=True)
        self.static_dir = static_dir
        self.events_file = os.path.join(self.dir, "events.jsonl")
        # env may replace these (e.g. an s3:// STORAGE_URL)
        genv = fn_env(**dict({"GATEWAY_ADDR": f"127.0.0.1:{port}",
                              "STORAGE_URL": "file://" + os.path.join(self.dir, "objects"),
                              "TEST_EVENTS_FILE": self.events_file}, **(env or {})))
        cmd = [bin_path("gateway"), "--template", self.template,
               "--bin-dir", bin_dir or f"{BIN_DIR}:{FIXTURE_DIR}",
               "--static", static_dir] + (args or [])
        super().__init__("gateway", env=genv, cmd=cmd, port=port)

    def events(self):
        """The JSON lines testfn recorded to TEST_EVENTS_FILE so far."""
        try:
            with open(self.events_file) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []


def wait_until(cond, timeout=10.0, step=0.05):
    """Polls cond() until it is truthy or timeout passes; returns its last value."""
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v or time.time() >= deadline:
            return v
        time.sleep(step)


def wait_exit(p, timeout, sig=None):
    """Sends sig (when given) to the process p and waits up to timeout
    seconds: its exit status, or "timeout" (then it is killed)."""
    if sig is not None:
        p.send_signal(sig)
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        reap(p)
        return "timeout"


def reap(p):
    """Kills the process p if it still runs, and waits for it."""
    if p.poll() is None:
        p.kill()
        p.wait()


def log_text(log, tail=2000):
    """The last tail characters written to the open log file so far."""
    log.flush()
    log.seek(0)
    return log.read()[-tail:]


def put_store_object(store, key, data, ctype="image/jpeg"):
    """Writes an object in the file:// store's layout (shared/src/store.c): the
    bytes at store/<key>, its metadata at store/.meta/<key>."""
    path = os.path.join(store, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    meta = os.path.join(store, ".meta", key)
    os.makedirs(os.path.dirname(meta), exist_ok=True)
    with open(meta, "w") as f:
        json.dump({"size": len(data), "etag": hashlib.md5(data).hexdigest(),
                   "content_type": ctype, "ino": os.stat(path).st_ino}, f)


def jpeg_size(data):
    """(width, height) from a JPEG's SOF marker, or None."""
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            return None
        m = data[i + 1]
        seglen = struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= m <= 0xCF and m not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + seglen
    return None


def tiff_ifd(entries, start):
    """One little-endian TIFF (EXIF) IFD at offset start, its (tag, type, count,
    value bytes) entries sorted; values over 4 bytes follow it. Its next-IFD
    field is 0."""
    entries = sorted(entries)
    data_off = start + 2 + 12 * len(entries) + 4
    head, data = struct.pack("<H", len(entries)), b""
    for tag, typ, count, val in entries:
        if len(val) <= 4:
            head += struct.pack("<HHI", tag, typ, count) + val.ljust(4, b"\0")
        else:
            head += struct.pack("<HHII", tag, typ, count, data_off + len(data))
            data += val + (b"\0" if len(val) % 2 else b"")
    return head + b"\0\0\0\0" + data


def ascii_tag(tag, s):
    """A TIFF ASCII entry (type 2, NUL-terminated) for tiff_ifd."""
    v = s.encode() + b"\0"
    return (tag, 2, len(v), v)


def resp_header(resp, name):
    """A header of a response event (its "headers" object), any case; None if absent."""
    for k, v in (resp.get("headers") or {}).items():
        if k.lower() == name.lower():
            return v
    return None


class QuietHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server with daemon handler threads that does not print
    a client that went away (e.g. a long poll whose process was killed on purpose)."""
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class RuntimeAPI:
    """A runtime API server on a free loopback port, written from the
    platforms' documentation: kind "lambda" is AWS Lambda's (2018-06-01:
    GET {PREFIX}/invocation/next, POST .../invocation/ID/response|error and
    .../init/error), kind "scf" Tencent SCF's custom runtime (POST
    /runtime/init/ready, GET /runtime/invocation/next, POST
    /runtime/invocation/response|error, the request id in a request_id
    header). /next long-polls the events queued with push(rid, event).

    Recorded, under .cond: calls (every call's kind in order: "next", "ready",
    "init_error", "response", "error"), answers ((request id, kind, parsed
    body) in order), responses (request id -> body), errors (request id ->
    (Lambda-Runtime-Function-Error-Type, body)), init_errors ((type, body))."""

    LAMBDA_PREFIX = "/2018-06-01/runtime"

    def __init__(self, kind="lambda"):
        if kind not in ("lambda", "scf"):
            raise ValueError(kind)
        self.kind = kind
        self.prefix = self.LAMBDA_PREFIX if kind == "lambda" else "/runtime"
        self.cond = threading.Condition()
        self.queue = []
        self.calls = []
        self.answers = []
        self.responses = {}
        self.errors = {}
        self.init_errors = []
        self.current = None    # the request id last handed out (SCF answers carry none)
        self.closing = False
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, data=b"{}", headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path != api.prefix + "/invocation/next":
                    return self.reply(404)
                with api.cond:
                    api.calls.append("next")
                    api.cond.notify_all()
                    while not api.queue and not api.closing:
                        api.cond.wait(0.5)
                    if api.closing:
                        return self.reply(500)
                    rid, body = api.queue.pop(0)
                    api.current = rid
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.reply(200, data, api.next_headers(rid))

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                etype = self.headers.get("Lambda-Runtime-Function-Error-Type")
                with api.cond:
                    kind, rid = api.route(self.path)
                    if kind is None:
                        return self.reply(404)
                    api.record(kind, rid, etype, body)
                if api.kind == "scf":
                    self.reply(200)
                else:
                    self.reply(202, b'{"status":"OK"}')

        self.server = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def next_calls(self):
        return self.calls.count("next")

    def next_headers(self, rid):
        if self.kind == "scf":
            return [("request_id", rid)]
        return [("Lambda-Runtime-Aws-Request-Id", rid),
                ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000)),
                ("Lambda-Runtime-Invoked-Function-Arn",
                 "arn:aws:lambda:us-east-1:123456789012:function:articles"),
                ("Lambda-Runtime-Trace-Id",
                 "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1")]

    def route(self, path):
        """(kind, request id) of a POST path; (None, None) when unknown."""
        if not path.startswith(self.prefix + "/"):
            return None, None
        parts = path[len(self.prefix):].strip("/").split("/")
        if self.kind == "scf":
            if parts == ["init", "ready"]:
                return "ready", None
            if len(parts) == 2 and parts[0] == "invocation" and parts[1] in ("response", "error"):
                return parts[1], self.current
        else:
            if parts == ["init", "error"]:
                return "init_error", None
            if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                return parts[2], parts[1]
        return None, None

    def record(self, kind, rid, etype, body):
        self.calls.append(kind)
        if kind == "init_error":
            self.init_errors.append((etype, body))
        elif kind == "response":
            self.responses[rid] = body
        elif kind == "error":
            self.errors[rid] = (etype, body)
        if kind in ("response", "error"):
            self.answers.append((rid, kind, body))
        self.cond.notify_all()

    def push(self, rid, event):
        with self.cond:
            self.queue.append((rid, event))
            self.cond.notify_all()

    def wait(self, pred, timeout=20):
        """Waits until pred() (called under .cond) is true; False on timeout."""
        deadline = time.time() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def close(self):
        with self.cond:
            self.closing = True
            self.cond.notify_all()
        self.server.shutdown()
        self.server.server_close()


# ---- SAM templates for the gateway tests ----

EVENTS_FILE_PARAM = "  EventsFile:\n    Type: String\n"
# testfn's TEST_EVENTS_FILE from the EventsFile parameter (the gateway sets it).
EVENTS_FILE_ENV = ("      Environment:\n        Variables:\n"
                   "          TEST_EVENTS_FILE: !Ref EventsFile\n")


def sam_template(resources, globals_text="", parameters=""):
    """A template.yaml: the SAM header, a Globals: block with globals_text and
    a Parameters: block with parameters (each when given), then Resources:."""
    t = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"
    if globals_text:
        t += "Globals:\n" + globals_text
    if parameters:
        t += "Parameters:\n" + parameters
    return t + "Resources:\n" + "".join(resources)


def sam_function(name="TestFunction", code_uri="tests/fixtures/testfn/", props="", events=()):
    """One AWS::Serverless::Function under Resources: (bootstrap handler on
    provided.al2023); props are extra Properties lines (indented six spaces),
    events its Events entries (see http_event)."""
    t = (f"  {name}:\n    Type: AWS::Serverless::Function\n    Properties:\n"
         f"      CodeUri: {code_uri}\n      Handler: bootstrap\n      Runtime: provided.al2023\n"
         + props)
    if events:
        t += "      Events:\n" + "".join(events)
    return t


def sam_event(name, kind, properties):
    """One Events entry: properties is its Properties lines (indented twelve)."""
    return f"        {name}:\n          Type: {kind}\n          Properties:\n" + properties


def http_event(name, path, method):
    """An HttpApi event routing method path to the function."""
    return sam_event(name, "HttpApi", f"            Path: {path}\n            Method: {method}\n")


def s3_event(name, bucket_ref, rules):
    """An S3 ObjectCreated event from the bucket resource bucket_ref, filtered
    by rules: (name, value) pairs such as ("prefix", "in/")."""
    props = (f"            Bucket: !Ref {bucket_ref}\n            Events: s3:ObjectCreated:*\n"
             "            Filter:\n              S3Key:\n                Rules:\n")
    for rule, value in rules:
        props += f"                  - Name: {rule}\n                    Value: {value}\n"
    return sam_event(name, "S3", props)


def bucket(name):
    """An AWS::S3::Bucket resource."""
    return f"  {name}:\n    Type: AWS::S3::Bucket\n"


def recv_all(sock):
    """Everything sock receives until the peer closes it."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def raw_request(port, data, timeout=10):
    """Sends data as is on a fresh loopback connection; returns everything
    received until EOF."""
    s = socket.create_connection(("127.0.0.1", port), timeout)
    s.settimeout(timeout)
    s.sendall(data)
    out = recv_all(s)
    s.close()
    return out


# ---- an S3-protocol server for the s3:// store: s3rver behind a SigV4 checker ----

S3RVER = os.path.join(ROOT, "node_modules", "s3rver", "bin", "s3rver.js")
S3RVER_KEY = S3RVER_SECRET = "S3RVER"  # s3rver's built-in account
S3_REGION = "us-east-1"
_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
        "proxy-connection"}


def _s3q(s):
    return urllib.parse.quote(s, safe="-_.~")


def sigv4_key(secret, day, region, service="s3"):
    """SigV4's signing key for secret on day (YYYYMMDD) in region."""
    k = hmac.new(("AWS4" + secret).encode(), day.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


class SigV4Proxy:
    """Checks each request's SigV4 signature (header and query-string forms,
    payload hash, expiry, credential scope in region), answers 403
    SignatureDoesNotMatch like S3 when it is wrong, and forwards what it
    accepts to the S3 server on upstream_port. secrets maps access key ids to
    secret keys. .seen holds (method, raw target, headers dict, auth kind
    "header" / "query", session token) of accepted requests; .rejected counts
    the 403s it gave."""

    def __init__(self, upstream_port, secrets, region=S3_REGION):
        self.upstream = upstream_port
        self.secrets = secrets
        self.region = region
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
                hdrs = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                conn.request(self.command, self.path, body=body if n else None, headers=hdrs)
                r = conn.getresponse()
                data = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in _HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                length = r.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = handle_one

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", 0), H)
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
        if len(parts) != 5 or parts[2:] != [self.region, "s3", "aws4_request"] or \
                parts[1] != amzdate[:8]:
            return f"bad credential scope {cred}"
        secret = self.secrets.get(parts[0])
        if secret is None:
            return "unknown access key"
        if "host" not in signed.split(";"):
            return "host is not signed"
        canon_q = "&".join(sorted(f"{_s3q(k)}={_s3q(v)}" for k, v in params))
        canon_h = "".join(f"{h}:{' '.join(hdr.get(h, '').split())}\n" for h in signed.split(";"))
        creq = "\n".join([method, path, canon_q, canon_h, signed, payload])
        sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, "/".join(parts[1:]),
                         hashlib.sha256(creq.encode()).hexdigest()])
        want = hmac.new(sigv4_key(secret, parts[1], self.region), sts.encode(),
                        hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, given):
            return "signature mismatch"
        self.seen.append((method, target, hdr, kind, token))
        return None


def _connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def start_s3rver(port, data_dir, buckets):
    """node_modules' s3rver on 127.0.0.1:port keeping its objects in data_dir
    (which must exist), with buckets created; its Popen, or None when it did
    not start (its log is s3rver-<port>.log beside data_dir)."""
    log = open(os.path.join(data_dir, "..", f"s3rver-{port}.log"), "w")
    cmd = ["node", "--openssl-legacy-provider", S3RVER, "-d", data_dir, "-a", "127.0.0.1",
           "-p", str(port), "--silent"]
    for b in buckets:
        cmd += ["--configure-bucket", b]
    # s3rver makes its continuation tokens with DES, which Node 20's OpenSSL 3
    # only has in the legacy provider (without it a truncated listing is a 500)
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    log.close()
    ok = wait_until(lambda: _connects(port) or p.poll() is not None, timeout=30)
    if not ok or p.poll() is not None:
        reap(p)
        return None
    return p


class S3:
    """s3rver (3.7.1 speaks S3 but does not check signatures) with bucket,
    behind a SigV4Proxy that does, both on free loopback ports; objects kept
    under root/data. .endpoint is the proxy's URL (what STORAGE_URL's
    endpoint= should name), .proxy the SigV4Proxy, .proc s3rver's Popen;
    .url(extra) the path-style STORAGE_URL. Raises RuntimeError when s3rver
    is missing or does not start. close() stops both."""

    @staticmethod
    def available():
        import shutil
        return os.path.exists(S3RVER) and shutil.which("node") is not None

    def __init__(self, root, bucket, key=S3RVER_KEY, secret=S3RVER_SECRET):
        self.root = root
        self.bucket = bucket
        self.data_dir = os.path.join(root, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        if not self.available():
            raise RuntimeError(f"missing {S3RVER} or node (deploy/local/bootstrap runs npm ci)")
        self.s3rver_port = free_port()
        self.proc = start_s3rver(self.s3rver_port, self.data_dir, [bucket])
        if self.proc is None:
            raise RuntimeError("s3rver did not start")
        self.proxy = SigV4Proxy(self.s3rver_port, {key: secret})
        self.endpoint = f"http://127.0.0.1:{self.proxy.port}"

    def url(self, extra=""):
        return f"s3://{self.bucket}?endpoint={self.endpoint}&path_style=1" + extra

    def close(self):
        self.proxy.close()
        reap(self.proc)
