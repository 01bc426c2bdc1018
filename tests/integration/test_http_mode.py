"""HTTP server mode (rt_http.c) of a real function binary over loopback.

Starts `articles --http 127.0.0.1:PORT` (and PORT=... mode) against the test
database and checks routing errors, HEAD, the body limit, request ids, config
errors, and a graceful SIGTERM that lets an in-flight request finish.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (Server, bin_path, fn_env, free_port, is_error, migrate,  # noqa: E402
                 raw_request, recv_all, tap)

SAN_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def split_response(data):
    """(status, {lower-name: value}, body) of one raw HTTP/1.1 response."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def wait_port(proc, port, secs=20):
    deadline = time.time() + secs
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            if proc.poll() is not None:
                return False
            time.sleep(0.05)
    return False


def no_sanitizer_reports(name, log):
    tap.check(f"{name}: no sanitizer reports", not any(m in log for m in SAN_MARKERS), log[-3000:])


def test_setup():
    r = migrate()
    tap.check("migrations apply", r.returncode == 0, r.stdout + r.stderr)


def test_routing_and_errors(srv):
    status, hdrs, obj = srv.json("GET", "/api/health")
    tap.eq("GET /api/health is 200", status, 200)

    status, hdrs, obj = srv.json("GET", "/api/no/such/route")
    tap.eq("unknown route is 404", status, 404)
    tap.check("404 body is the error JSON", is_error(obj), obj)
    tap.check("404 is JSON", hdrs.get("content-type", "").startswith("application/json"), hdrs)

    status, hdrs, obj = srv.json("POST", "/api/health", body={"x": 1})
    tap.eq("POST /api/health is 405", status, 405)
    tap.check("405 has an Allow header with GET", "GET" in hdrs.get("allow", ""), hdrs)
    tap.check("405 body is the error JSON", is_error(obj), obj)

    # Escapes in the path reach the router undecoded: %2F is not a separator.
    status, _, obj = srv.json("GET", "/api%2Fhealth")
    tap.eq("an escaped slash does not match /api/health", status, 404)


def test_head(srv):
    get = raw_request(srv.port, b"GET /api/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    gstatus, _, gbody = split_response(get)
    data = raw_request(srv.port, b"HEAD /api/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    status, hdrs, body = split_response(data)
    tap.eq("HEAD /api/health is 200", status, 200)
    tap.check("GET /api/health has a body", gstatus == 200 and len(gbody) > 0, get)
    tap.eq("HEAD sends no body", body, b"")
    # Keep-alive: a HEAD followed by a GET on one connection parses cleanly.
    both = raw_request(srv.port, b"HEAD /api/health HTTP/1.1\r\nHost: t\r\n\r\n"
                         b"GET /api/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    tap.eq("HEAD then GET on one connection: two responses", both.count(b"HTTP/1.1 200"), 2)


def test_body_limit(srv):
    status, hdrs, obj = srv.json("POST", "/api/health", body="x" * 2000,
                                 headers={"Content-Type": "text/plain"})
    tap.eq("body over MAX_BODY_BYTES is 413", status, 413)
    tap.check("413 code payload_too_large", is_error(obj, "payload_too_large"), obj)
    tap.check("413 carries a request id", re.fullmatch(r"[0-9a-f]{32}", hdrs.get("x-request-id", "")) is not None, hdrs)

    status, _, obj = srv.json("POST", "/api/health", body="x" * 1024,
                              headers={"Content-Type": "text/plain"})
    tap.eq("body of exactly MAX_BODY_BYTES passes to the router (405)", status, 405)

    # The limit is enforced from Content-Length before the body is sent.
    data = raw_request(srv.port,
                       b"POST /api/health HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n")
    status, hdrs, body = split_response(data)
    tap.eq("huge Content-Length answered 413 without the body", status, 413)
    tap.eq("413 closes the connection", hdrs.get("connection", "").lower(), "close")

    # A chunked body with no length is cut at the limit too.
    chunk = b"x" * 800
    req = (b"POST /api/health HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
           b"Connection: close\r\n\r\n")
    for _ in range(3):
        req += b"%x\r\n%s\r\n" % (len(chunk), chunk)
    req += b"0\r\n\r\n"
    status, _, body = split_response(raw_request(srv.port, req))
    tap.eq("chunked body over the limit is 413", status, 413)
    try:
        tap.check("chunked 413 body is the error JSON",
                  is_error(json.loads(body), "payload_too_large"), body)
    except ValueError:
        tap.check("chunked 413 body is the error JSON", False, body)


def test_request_id(srv):
    status, hdrs, _ = srv.json("GET", "/api/health", headers={"X-Request-Id": "test-id-123"})
    tap.eq("valid X-Request-Id is echoed", hdrs.get("x-request-id"), "test-id-123")
    status, hdrs, _ = srv.json("GET", "/api/health", headers={"X-Request-Id": "bad id!"})
    rid = hdrs.get("x-request-id", "")
    tap.check("invalid X-Request-Id is replaced by a generated one",
              re.fullmatch(r"[0-9a-f]{32}", rid) is not None, rid)
    status, hdrs, _ = srv.json("GET", "/api/health", headers={"X-Request-Id": "a" * 65})
    tap.check("over-long X-Request-Id is replaced", hdrs.get("x-request-id") != "a" * 65, hdrs)
    status, hdrs, _ = srv.json("GET", "/api/nope", headers={"X-Request-Id": "err-id-1"})
    tap.eq("request id echoed on errors too", hdrs.get("x-request-id"), "err-id-1")
    tap.check("request id appears in the log line",
              '"request_id":"test-id-123"' in srv.log(), srv.log()[-2000:])


def test_port_env():
    port = free_port()
    log = open(os.path.join(os.environ.get("TEST_TMP", "/tmp"), f"articles-port-{port}.log"), "w+")
    proc = subprocess.Popen([bin_path("articles")], env=fn_env(PORT=port),
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        up = wait_port(proc, port)
        tap.check("PORT env mode listens on $PORT", up)
        if up:
            data = raw_request(port, b"GET /api/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            tap.eq("PORT env mode serves requests", split_response(data)[0], 200)
            # A platform port must be reachable on the host's other addresses too.
            try:
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                u.connect(("10.255.255.255", 1))
                ip = u.getsockname()[0]
                u.close()
            except OSError:
                ip = "127.0.0.1"
            if not ip.startswith("127."):
                try:
                    socket.create_connection((ip, port), 2).close()
                    ok = True
                except OSError:
                    ok = False
                tap.check(f"PORT env mode listens on all interfaces ({ip})", ok)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
    tap.eq("PORT env mode exits 0 on SIGTERM", rc, 0)
    log.seek(0)
    no_sanitizer_reports("PORT mode", log.read())


def run_fail(env, args):
    p = subprocess.run([bin_path("articles")] + args, env=env, capture_output=True,
                       text=True, timeout=30)
    return p.returncode, p.stderr


def test_bad_config():
    port = free_port()
    rc, err = run_fail(fn_env(DB_CONNECT_TIMEOUT="s3cr3tvalue"), ["--http", f"127.0.0.1:{port}"])
    tap.eq("bad DB_CONNECT_TIMEOUT exits 1", rc, 1)
    tap.check("message names DB_CONNECT_TIMEOUT", "DB_CONNECT_TIMEOUT" in err, err)
    tap.check("message does not show the value", "s3cr3tvalue" not in err, err)

    rc, err = run_fail(fn_env(APP_SECRET="tooshort"), ["--http", f"127.0.0.1:{port}"])
    tap.eq("short APP_SECRET exits 1", rc, 1)
    tap.check("message names APP_SECRET", "APP_SECRET" in err, err)
    tap.check("message does not show the secret", "tooshort" not in err, err)

    rc, err = run_fail(fn_env(MAX_BODY_BYTES="lots"), ["--http", f"127.0.0.1:{port}"])
    tap.eq("bad MAX_BODY_BYTES exits 1", rc, 1)
    tap.check("message names MAX_BODY_BYTES", "MAX_BODY_BYTES" in err, err)

    rc, err = run_fail(fn_env(), ["--http", "127.0.0.1:notaport"])
    tap.check("a bad listen address fails", rc != 0, err)
    tap.check("a bad listen address is explained", "listen address" in err, err)


def test_graceful_sigterm():
    srv = Server("articles", env=fn_env(MAX_BODY_BYTES="1K", LOG_LEVEL="info"))
    try:
        # An idle keep-alive connection must not hold the shutdown up.
        idle = socket.create_connection(("127.0.0.1", srv.port), 10)
        idle.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n")
        first = idle.recv(65536)
        tap.check("keep-alive request answered", first.startswith(b"HTTP/1.1 200"), first)

        body = b'{"title":"' + b"y" * 80 + b'"}'
        s = socket.create_connection(("127.0.0.1", srv.port), 15)
        s.sendall(b"POST /api/health HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
        s.sendall(body[:40])
        time.sleep(0.3)
        t0 = time.time()
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.7)
        tap.check("server still running while a request is in flight", srv.proc.poll() is None)
        s.sendall(body[40:])
        data = recv_all(s)
        s.close()
        status, hdrs, rbody = split_response(data) if data else (0, {}, b"")
        tap.eq("in-flight request gets its response after SIGTERM", status, 405)
        tap.eq("the response is complete", len(rbody), int(hdrs.get("content-length", "-1")))
        try:
            rc = srv.proc.wait(15)
        except subprocess.TimeoutExpired:
            srv.proc.kill()
            rc = srv.proc.wait()
        took = time.time() - t0
        idle.close()
        tap.eq("exit status 0 after SIGTERM", rc, 0)
        tap.check("shutdown did not wait for the idle connection", took < 10, f"{took:.1f}s")
        log = srv.log()
        tap.check("shutdown is logged", "SIGTERM" in log, log[-2000:])
        no_sanitizer_reports("graceful stop", log)
    finally:
        srv.stop()


def test_stop_after_load(srv):
    # A burst of concurrent requests is served and the process stops cleanly.
    import threading
    results = []

    def worker():
        for _ in range(20):
            try:
                results.append(srv.request("GET", "/api/health")[0])
            except OSError as e:
                results.append(str(e))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tap.check("160 concurrent requests all 200", results.count(200) == 160,
              [r for r in results if r != 200][:5])
    rc = srv.stop()
    tap.eq("server exits 0 on SIGTERM", rc, 0)
    no_sanitizer_reports("main server", srv.log())


def main():
    tap.run(test_setup)
    srv = Server("articles", env=fn_env(MAX_BODY_BYTES="1K", LOG_LEVEL="info"))
    try:
        for fn in (test_routing_and_errors, test_head, test_body_limit, test_request_id,
                   test_stop_after_load):
            try:
                fn(srv)
            except Exception:
                import traceback
                tap.check(f"{fn.__name__} raised", False, traceback.format_exc())
    finally:
        srv.stop()
    tap.run(test_port_env)
    tap.run(test_bad_config)
    tap.run(test_graceful_sigterm)
    tap.done()


if __name__ == "__main__":
    main()
