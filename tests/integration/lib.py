"""Helpers for integration tests: TAP output, the binaries, the database.

Each test file calls tap.check(name, condition, detail) for every assertion and
tap.done() at the end; tests/run counts the "ok" / "not ok" lines. The runner
exports BIN_DIR, DATABASE_URL, TEST_PG_DIR, TEST_PG_PORT, TEST_TMP and
PROJECT_ROOT.
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import traceback

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


def migrate(env=None):
    return subprocess.run([bin_path("migrate"), os.path.join(ROOT, "sql")],
                          env=env or fn_env(), capture_output=True, text=True,
                          timeout=60)


def psql(sql, *args):
    """Runs sql through psql (for setup and checks, never the code under test)."""
    cmd = ["psql", DATABASE_URL, "-v", "ON_ERROR_STOP=1", "-tAq", "-c", sql]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return out.stdout.strip()


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
    environment in env (e.g. GW_IDLE_SECONDS=1); args are added flags.
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
        genv = fn_env(GATEWAY_ADDR=f"127.0.0.1:{port}",
                      STORAGE_URL="file://" + os.path.join(self.dir, "objects"),
                      TEST_EVENTS_FILE=self.events_file, **(env or {}))
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
