"""The Lambda Runtime API adapter against a Runtime API server written here
from AWS's documentation (version 2018-06-01), driving the real articles binary.
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
from lib import TMP, bin_path, fn_env, free_port, migrate, tap  # noqa: E402

PREFIX = "/2018-06-01/runtime"


class RuntimeAPI:
    """Hands out queued events on /next (long poll) and records answers."""

    def __init__(self):
        self.cond = threading.Condition()
        self.queue = []
        self.next_calls = 0
        self.responses = {}    # request id -> parsed body
        self.errors = {}       # request id -> (error type header, parsed body)
        self.init_errors = []  # (error type header, parsed body)
        self.closing = False
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def read_json(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                try:
                    return json.loads(raw)
                except ValueError:
                    return raw.decode(errors="replace")

            def do_GET(self):
                if self.path != PREFIX + "/invocation/next":
                    return self.reply(404, {"errorMessage": "no such path"})
                with api.cond:
                    api.next_calls += 1
                    api.cond.notify_all()
                    while not api.queue and not api.closing:
                        api.cond.wait(0.5)
                    if api.closing:
                        return self.reply(500, {"errorMessage": "shutting down"})
                    rid, body = api.queue.pop(0)
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", rid)
                self.send_header("Lambda-Runtime-Deadline-Ms",
                                 str(int(time.time() * 1000) + 30000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 "arn:aws:lambda:us-east-1:123456789012:function:articles")
                self.send_header("Lambda-Runtime-Trace-Id",
                                 "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = self.read_json()
                etype = self.headers.get("Lambda-Runtime-Function-Error-Type")
                parts = self.path[len(PREFIX):].strip("/").split("/")
                with api.cond:
                    if parts == ["init", "error"]:
                        api.init_errors.append((etype, body))
                    elif len(parts) == 3 and parts[0] == "invocation" and parts[2] == "response":
                        api.responses[parts[1]] = body
                    elif len(parts) == 3 and parts[0] == "invocation" and parts[2] == "error":
                        api.errors[parts[1]] = (etype, body)
                    else:
                        return self.reply(404, {"errorMessage": "no such path"})
                    api.cond.notify_all()
                self.reply(202, {"status": "OK"})

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


def start(api_addr, **env):
    log = open(os.path.join(TMP, f"lambda-{time.time_ns()}.log"), "w+")
    p = subprocess.Popen([bin_path("articles")],
                         env=fn_env(AWS_LAMBDA_RUNTIME_API=api_addr, **env),
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
    api = RuntimeAPI()
    p, log = start(f"127.0.0.1:{api.port}")
    try:
        v2 = {"version": "2.0", "rawPath": "/api/health", "rawQueryString": "",
              "requestContext": {"requestId": "apigw-1",
                                 "http": {"method": "GET", "path": "/api/health",
                                          "sourceIp": "203.0.113.9"}},
              "isBase64Encoded": False}
        api.push("req-0001", v2)
        tap.check("first invocation answered",
                  api.wait(lambda: "req-0001" in api.responses), log_text(log))
        r = api.responses.get("req-0001", {})
        tap.eq("v2 response: statusCode 200", r.get("statusCode"), 200)
        tap.check("v2 response: v2 shape", "multiValueHeaders" not in r and "cookies" in r, r)
        tap.eq("v2 response: X-Request-Id is the Lambda request id",
               header(r, "X-Request-Id"), "req-0001")
        tap.check("v2 response: health body", json.loads(r.get("body", "{}")).get("status") == "ok",
                  r)

        v1 = {"httpMethod": "GET", "path": "/api/articles/999999999", "headers": {},
              "multiValueHeaders": {}, "requestContext": {"requestId": "apigw-2"}, "body": None}
        api.push("req-0002", v1)
        api.push("req-0003", "definitely not json")
        api.push("req-0004", {"method": "GET", "path": "/api/nowhere"})
        tap.check("three more invocations answered", api.wait(
            lambda: all(k in api.responses for k in ("req-0002", "req-0003", "req-0004"))),
            log_text(log))
        r = api.responses.get("req-0002", {})
        tap.check("v1 response: 404 in v1 shape",
                  r.get("statusCode") == 404 and isinstance(r.get("multiValueHeaders"), dict), r)
        tap.eq("v1 response: X-Request-Id is the Lambda request id",
               header(r, "X-Request-Id"), "req-0002")
        r = api.responses.get("req-0003", {})
        tap.check("invalid event JSON: a 400 /response, not an /error",
                  r.get("statusCode") == 400 and "req-0003" not in api.errors, r)
        tap.eq("unknown route: 404 response", api.responses.get("req-0004", {}).get("statusCode"),
               404)
        tap.check("warm: one process served all four and polls again",
                  api.wait(lambda: api.next_calls >= 5) and p.poll() is None,
                  f"next calls {api.next_calls}, exit {p.poll()}")
        tap.eq("no /error posted for answered invocations", api.errors, {})

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


def test_init_error():
    api = RuntimeAPI()
    p, log = start(f"127.0.0.1:{api.port}", MAX_BODY_BYTES="abc")
    try:
        rc = p.wait(20)
        tap.eq("bad config: exit 1", rc, 1)
        tap.eq("bad config: one POST /runtime/init/error", len(api.init_errors), 1)
        etype, body = api.init_errors[0] if api.init_errors else (None, {})
        tap.check("init error names the variable, typed in header and body",
                  isinstance(body, dict) and "MAX_BODY_BYTES" in body.get("errorMessage", "")
                  and body.get("errorType") == etype and etype,
                  f"{etype} {body}")
        tap.eq("bad config: never asked for an event", api.next_calls, 0)
        tap.check("bad config: message on stderr", "MAX_BODY_BYTES" in log_text(log))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        api.close()


def test_api_gone():
    port = free_port()  # nothing listens here
    p, log = start(f"127.0.0.1:{port}")
    try:
        rc = p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = "timeout"
    tap.eq("runtime API unreachable: exit 1 after retries", rc, 1)


def main():
    r = migrate()
    tap.check("migrations apply", r.returncode == 0, r.stderr)
    for t in (test_invocations, test_init_error, test_api_gone):
        tap.run(t)
    tap.done()


main()
