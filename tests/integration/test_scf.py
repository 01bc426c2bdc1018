"""The Tencent SCF custom runtime adapter against a runtime API server written
here from Tencent's documentation, driving the real articles binary:
POST /runtime/init/ready, then GET /runtime/invocation/next (long poll) and
POST /runtime/invocation/response or /runtime/invocation/error.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import ROOT, TMP, bin_path, fn_env, free_port, migrate, tap  # noqa: E402

EVENTS = os.path.join(ROOT, "tests/integration/events")


class ScfAPI:
    def __init__(self):
        self.cond = threading.Condition()
        self.queue = []
        self.calls = []        # ("ready" | "next" | "response" | "error") in order
        self.answers = []      # (request id served, kind, parsed body) in order
        self.current = None
        self.closing = False
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, data=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path != "/runtime/invocation/next":
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
                self.reply(200, data, {"Content-Type": "application/json", "request_id": rid})

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                kinds = {"/runtime/init/ready": "ready",
                         "/runtime/invocation/response": "response",
                         "/runtime/invocation/error": "error"}
                kind = kinds.get(self.path)
                if not kind:
                    return self.reply(404)
                with api.cond:
                    api.calls.append(kind)
                    if kind != "ready":
                        api.answers.append((api.current, kind, body))
                    api.cond.notify_all()
                self.reply(200, b"{}")

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                # A long poll whose client went away (killed on purpose).
                if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def push(self, rid, event):
        with self.cond:
            self.queue.append((rid, event))
            self.cond.notify_all()

    def wait(self, pred, timeout=20):
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


def start(host, port, **env):
    log = open(os.path.join(TMP, f"scf-{time.time_ns()}.log"), "w+")
    p = subprocess.Popen([bin_path("articles")],
                         env=fn_env(SCF_RUNTIME_API=host, SCF_RUNTIME_API_PORT=str(port), **env),
                         stdout=subprocess.DEVNULL, stderr=log)
    return p, log


def log_text(log):
    log.flush()
    log.seek(0)
    return log.read()[-2000:]


def header(resp, name):
    for k, v in (resp.get("headers") or {}).items():
        if k.lower() == name.lower():
            return v
    return None


def test_invocations():
    api = ScfAPI()
    p, log = start("127.0.0.1", api.port)
    try:
        tap.check("init/ready is posted, then /next is polled",
                  api.wait(lambda: "next" in api.calls), log_text(log))
        tap.check("init/ready comes first and once",
                  api.calls[:1] == ["ready"] and api.calls.count("ready") == 1, api.calls)

        with open(os.path.join(EVENTS, "tencent_apigw.json")) as f:
            tencent = json.loads(f.read().replace("ARTICLE_ID", "999999999"))
        tencent["path"] = "/api/health"
        api.push("scf-0001", tencent)
        api.push("scf-0002", "not json at all")
        with open(os.path.join(EVENTS, "scf_timer.json")) as f:
            api.push("scf-0003", json.load(f))
        tap.check("three invocations answered",
                  api.wait(lambda: len(api.answers) >= 3), log_text(log))
        answers = {rid: (kind, body) for rid, kind, body in api.answers}

        kind, r = answers.get("scf-0001", (None, {}))
        tap.eq("tencent event: answered on /response", kind, "response")
        tap.check("tencent event: integration response shape, 200",
                  isinstance(r, dict) and r.get("statusCode") == 200
                  and {"isBase64Encoded", "headers", "body"} <= set(r), r)
        tap.eq("tencent event: X-Request-Id is the SCF request id",
               header(r, "X-Request-Id"), "scf-0001")
        tap.check("tencent event: health body",
                  json.loads(r.get("body") or "{}").get("status") == "ok", r)

        kind, r = answers.get("scf-0002", (None, {}))
        tap.check("invalid event JSON: a 400 response",
                  kind == "response" and r.get("statusCode") == 400, (kind, r))
        kind, r = answers.get("scf-0003", (None, {}))
        tap.check("timer event: answered (no event route -> 404)",
                  kind == "response" and r.get("statusCode") == 404, (kind, r))
        tap.check("warm: one process, polling again",
                  api.wait(lambda: api.calls.count("next") >= 4) and p.poll() is None,
                  api.calls)

        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "timeout"
        tap.eq("SIGTERM while waiting for an event: exit 0", rc, 0)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        api.close()


def test_api_gone():
    p, log = start("127.0.0.1", free_port())
    try:
        rc = p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = "timeout"
    tap.eq("runtime API unreachable: exit 1", rc, 1)

    p, log = start("127.0.0.1", free_port(), MAX_BODY_BYTES="abc")
    rc = p.wait(30)
    tap.check("bad config: exit 1 naming the variable",
              rc == 1 and "MAX_BODY_BYTES" in log_text(log), log_text(log))


def main():
    r = migrate()
    tap.check("migrations apply", r.returncode == 0, r.stderr)
    for t in (test_invocations, test_api_gone):
        tap.run(t)
    tap.done()


main()
