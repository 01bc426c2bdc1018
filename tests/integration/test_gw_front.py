"""The gateway's public side (deploy/local/gateway/front.c, main.c): routing
to functions by the template's HttpApi events with v2 events, 404/405, CORS,
the body cap, request ids, cookies, /healthz, /metrics, start-up errors and
the SIGTERM drain."""
import base64
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import (BIN_DIR, DATABASE_URL, EVENTS_FILE_ENV, FIXTURE_DIR, TMP,  # noqa: E402
                 Gateway, bin_path, fn_env, free_port, http_event, is_error, migrate,
                 raw_request, sam_function, sam_template, tap, wait_until)

ORIGIN = "https://blog.example"

TEMPLATE = sam_template(
    [sam_function(props="      ReservedConcurrentExecutions: 8\n" + EVENTS_FILE_ENV, events=[
        http_event("EchoGet", "/api/test/echo/{name}", "GET"),
        http_event("EchoPost", "/api/test/echo/{name}", "POST"),
        http_event("Sleep", "/api/test/sleep", "GET"),
        http_event("Record", "/api/test/record", "POST")]),
     sam_function("ArticlesFunction", "functions/articles/", events=[
         http_event("List", "/api/articles", "GET"),
         http_event("Create", "/api/articles", "POST"),
         http_event("Get", "/api/articles/{id}", "GET")])],
    globals_text="""\
  Function:
    Timeout: 10
    MemorySize: 256
  HttpApi:
    CorsConfiguration:
      AllowOrigins: ["https://blog.example"]
      AllowMethods: [GET, POST]
      AllowHeaders: [content-type, authorization]
      MaxAge: 600
      AllowCredentials: true
""")

RID = re.compile(r"[0-9a-f]{32}")


def hdr(headers, name):
    """All values of a header (list of pairs from http.client)."""
    return [v for k, v in headers if k.lower() == name.lower()]


def rid_ok(headers):
    v = hdr(headers, "x-request-id")
    return len(v) == 1 and RID.fullmatch(v[0]) is not None


def test_routing(gw):
    status, headers, data = gw.request(
        "GET", "/api/test/echo/hello%20world?x=1&y=two%20three",
        headers={"X-Custom": "v", "Cookie": "c1=v1; c2=v2", "User-Agent": "gw-test"})
    tap.eq("GET echo routed to testfn", status, 200)
    obj = json.loads(data)
    tap.eq("function saw the method", obj.get("method"), "GET")
    tap.eq("function saw the raw path", obj.get("path"), "/api/test/echo/hello%20world")
    tap.eq("path parameter decoded", obj.get("name"), "hello world")
    tap.eq("query parameters decoded", obj.get("query"), {"x": "1", "y": "two three"})
    tap.eq("request header passed lower-cased", obj["headers"].get("x-custom"), "v")
    tap.eq("user agent passed", obj["headers"].get("user-agent"), "gw-test")
    tap.eq("cookies passed", obj.get("cookies"), {"c1": "v1", "c2": "v2"})
    tap.check("X-Request-Id on the function's response", rid_ok(headers), headers)
    tap.eq("X-Request-Id is the id the function saw", hdr(headers, "x-request-id"),
           [obj.get("request_id")])
    tap.check("deadline passed to the function", obj.get("deadline_ms", 0) > time.time() * 1000,
              obj.get("deadline_ms"))
    cookies = hdr(headers, "set-cookie")
    tap.eq("repeated Set-Cookie preserved in order", cookies, ["a=1; Path=/", "b=2; Path=/"])
    ct = hdr(headers, "content-type")
    tap.check("function's Content-Type passed through",
              len(ct) == 1 and ct[0].startswith("application/json"), headers)

    body = json.dumps({"text": "h\u00e9llo \u2713 \U0001F600"})
    status, headers, data = gw.request("POST", "/api/test/echo/p", body=body,
                                       headers={"Content-Type": "application/json"})
    obj = json.loads(data)
    tap.eq("POST echo routed", (status, obj.get("method"), obj.get("name")), (200, "POST", "p"))
    tap.eq("UTF-8 JSON body round trip", obj.get("body"), body)
    tap.eq("body length as sent", obj.get("body_len"), len(body.encode()))

    raw = b"\xff\xfe\x80bin\xc3(\x01"
    status, headers, data = gw.request("POST", "/api/test/echo/bin", body=raw,
                                       headers={"Content-Type": "application/octet-stream"})
    tap.eq("binary POST answered", status, 200)
    m = re.search(rb'"body_len":(\d+)', data)
    tap.eq("binary body reached the function whole", m and int(m.group(1)), len(raw))
    tap.check("binary body came back byte for byte (base64 both ways)",
              b'"body":"\xff\xfe\x80bin\xc3(\\u0001"' in data, data[:200])

    raw = b"not utf8 \xe9 but text/plain"
    status, _, data = gw.request("POST", "/api/test/echo/t", body=raw,
                                 headers={"Content-Type": "text/plain"})
    tap.check("invalid UTF-8 text body is base64-carried too",
              status == 200 and raw in data, data[:200])


def test_errors(gw):
    status, headers, data = gw.request("GET", "/api/nope")
    obj = json.loads(data) if data else None
    tap.eq("unknown /api path is 404", status, 404)
    tap.check("404 is the error JSON not_found", is_error(obj, "not_found"), obj)
    tap.check("404 carries X-Request-Id", rid_ok(headers), headers)

    status, headers, data = gw.request("GET", "/api/test/echo/a/b")
    tap.eq("extra segment does not match {name}", status, 404)

    status, headers, data = gw.request("DELETE", "/api/articles")
    obj = json.loads(data) if data else None
    tap.eq("known path, other method is 405", status, 405)
    tap.check("405 is method_not_allowed", is_error(obj, "method_not_allowed"), obj)
    allow = ",".join(hdr(headers, "allow"))
    tap.check("Allow lists the route's methods",
              "GET" in allow and "POST" in allow and "DELETE" not in allow, allow)
    tap.check("405 carries X-Request-Id", rid_ok(headers), headers)

    status, headers, _ = gw.request("PUT", "/api/test/echo/x")
    allow = ",".join(hdr(headers, "allow"))
    tap.check("405 on a {param} route with its Allow",
              status == 405 and "GET" in allow and "POST" in allow, (status, allow))


def test_cors(gw):
    status, headers, data = gw.request("OPTIONS", "/api/test/echo/x", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    tap.eq("preflight answered by the gateway with 204", status, 204)
    tap.eq("preflight echoes the allowed origin",
           hdr(headers, "access-control-allow-origin"), [ORIGIN])
    methods = ",".join(hdr(headers, "access-control-allow-methods"))
    tap.check("preflight lists the methods", "GET" in methods and "POST" in methods, methods)
    tap.check("preflight lists the headers",
              "content-type" in ",".join(hdr(headers, "access-control-allow-headers")), headers)
    tap.eq("preflight Max-Age", hdr(headers, "access-control-max-age"), ["600"])
    tap.eq("preflight Allow-Credentials", hdr(headers, "access-control-allow-credentials"),
           ["true"])
    tap.check("preflight carries X-Request-Id", rid_ok(headers), headers)

    status, headers, _ = gw.request("OPTIONS", "/api/test/echo/x", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    tap.check("disallowed origin gets no Access-Control-Allow-Origin",
              not hdr(headers, "access-control-allow-origin"), (status, headers))

    status, headers, _ = gw.request("GET", "/api/test/echo/c", headers={"Origin": ORIGIN})
    tap.check("actual response carries CORS headers for an allowed origin",
              status == 200 and hdr(headers, "access-control-allow-origin") == [ORIGIN] and
              hdr(headers, "access-control-allow-credentials") == ["true"], headers)
    status, headers, _ = gw.request("GET", "/api/test/echo/c",
                                    headers={"Origin": "https://evil.example"})
    tap.check("no CORS headers on a response for another origin",
              status == 200 and not hdr(headers, "access-control-allow-origin"), headers)


def test_health_metrics_static(gw):
    status, headers, data = gw.request("GET", "/healthz")
    tap.eq("/healthz", (status, json.loads(data)), (200, {"status": "ok"}))
    tap.check("/healthz carries X-Request-Id", rid_ok(headers), headers)

    def count():
        _, _, text = gw.request("GET", "/metrics")
        m = re.search(rb'^gw_requests_total\{function="testfn",status="200"\} (\d+)$', text, re.M)
        return int(m.group(1)) if m else -1, text

    before, text = count()
    tap.check("/metrics has the testfn 200 counter", before > 0, text[:1500])
    tap.check("/metrics has the latency histogram",
              re.search(rb'^gw_request_duration_seconds_bucket\{function="testfn",le="\+Inf"\} \d+$',
                        text, re.M) is not None and
              b"# TYPE gw_request_duration_seconds histogram" in text, text[:1500])
    for _ in range(3):
        gw.request("GET", "/api/test/echo/m")
    after, text = count()
    tap.eq("the counter moved by the requests made", after - before, 3)
    m = re.search(rb'^gw_requests_total\{function="",status="404"\} (\d+)$', text, re.M)
    tap.check("gateway-made 404s are counted too", m is not None and int(m.group(1)) >= 1,
              text[:1500])

    with open(os.path.join(gw.static_dir, "index.html"), "w") as f:
        f.write("<h1>hi</h1>")
    status, headers, data = gw.request("GET", "/")
    tap.check("static index served for / with X-Request-Id",
              status == 200 and b"<h1>hi</h1>" in data and rid_ok(headers), (status, headers))

    log = gw.log()
    lines = [json.loads(l) for l in log.splitlines() if l.startswith("{") and '"msg":"request"' in l]
    fn_lines = [l for l in lines if l.get("function") == "testfn"]
    tap.check("access log: one JSON line per function request with the fields",
              fn_lines and all(k in fn_lines[0] for k in
                               ("method", "path", "status", "duration_ms", "cold", "request_id")),
              log[-2000:])
    tap.check("access log marks the first request cold and later ones warm",
              any(l["cold"] for l in fn_lines) and any(not l["cold"] for l in fn_lines),
              fn_lines[:3])
    static_lines = [l for l in lines if l.get("path") == "/"]
    tap.check("access log: static request with function \"\"",
              static_lines and static_lines[-1]["function"] == "", static_lines)


def test_body_cap():
    gw = Gateway(TEMPLATE, env={"GW_MAX_BODY": "1K", "GW_IDLE_SECONDS": "30", "LOG_LEVEL": "info"})
    try:
        status, headers, data = gw.request("POST", "/api/test/record", body=b"x" * 2000,
                                           headers={"Content-Type": "text/plain"})
        obj = json.loads(data) if data else None
        tap.eq("body over GW_MAX_BODY is 413", status, 413)
        tap.check("413 is payload_too_large", is_error(obj, "payload_too_large"), obj)
        tap.check("413 carries X-Request-Id", rid_ok(headers), headers)
        status, _, _ = gw.request("POST", "/api/test/record", body=b'"small"',
                                  headers={"Content-Type": "application/json"})
        tap.eq("body under the cap reaches the function", status, 204)
        ev = gw.events()
        tap.eq("the function saw only the small body", [e.get("data") for e in ev], ["small"])

        # Chunked (no Content-Length): cut at the cap too.
        req = (b"POST /api/test/record HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
               b"Content-Type: text/plain\r\nConnection: close\r\n\r\n")
        for _ in range(3):
            req += b"%x\r\n%s\r\n" % (800, b"y" * 800)
        data = raw_request(gw.port, req + b"0\r\n\r\n")
        tap.check("chunked body over the cap is 413", data.startswith(b"HTTP/1.1 413"), data[:100])
        tap.eq("the function never saw the large bodies", len(gw.events()), 1)
    finally:
        gw.stop()


def run_bad(env_extra=None, template_text=None, port=None):
    port = port or free_port()
    d = os.path.join(TMP, f"gw-bad-{port}")
    os.makedirs(d, exist_ok=True)
    tpath = os.path.join(d, "template.yaml")
    with open(tpath, "w") as f:
        f.write(template_text or TEMPLATE)
    extra = {"GATEWAY_ADDR": f"127.0.0.1:{port}",
             "STORAGE_URL": "file://" + os.path.join(d, "objects")}
    extra.update(env_extra or {})
    env = fn_env(**extra)
    p = subprocess.run([bin_path("gateway"), "--template", tpath, "--bin-dir",
                        f"{BIN_DIR}:{FIXTURE_DIR}", "--static", d],
                       env=env, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stderr, tpath


def test_startup_errors():
    rc, err, _ = run_bad({"GW_CONCURRENCY": "lots"})
    tap.eq("bad GW_CONCURRENCY exits 1", rc, 1)
    tap.check("the error names GW_CONCURRENCY", "GW_CONCURRENCY" in err, err[-500:])
    rc, err, _ = run_bad({"GW_MAX_BODY": "10Q"})
    tap.check("bad GW_MAX_BODY exits 1 naming it", rc == 1 and "GW_MAX_BODY" in err, (rc, err[-500:]))
    rc, err, _ = run_bad({"STORAGE_URL": "ftp://x"})
    tap.check("bad STORAGE_URL exits 1 naming it", rc == 1 and "STORAGE_URL" in err, (rc, err[-500:]))
    rc, err, _ = run_bad({"GW_TIME_SCALE": "-1"})
    tap.check("bad GW_TIME_SCALE exits 1 naming it", rc == 1 and "GW_TIME_SCALE" in err,
              (rc, err[-500:]))
    rc, err, tpath = run_bad(template_text="Resources:\n  A:\n    Type: [unclosed\n  B: 1\n")
    tap.eq("template with a YAML error exits 1", rc, 1)
    tap.check("the error names file:line",
              re.search(re.escape(tpath) + r":\d+", err) is not None, err[-500:])


def test_sigterm_drain():
    gw = Gateway(TEMPLATE, env={"GW_IDLE_SECONDS": "30", "LOG_LEVEL": "info"})
    results = [None] * 5
    try:
        # Warm a worker so the slow requests are in flight, not starting.
        gw.request("GET", "/api/test/echo/warm")

        def slow(i):
            try:
                c = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
                c.request("GET", "/api/test/sleep?ms=800")
                r = c.getresponse()
                results[i] = (r.status, json.loads(r.read()).get("slept_ms"))
                c.close()
            except Exception as e:  # noqa: BLE001
                results[i] = repr(e)

        threads = [threading.Thread(target=slow, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        t0 = time.time()
        gw.proc.send_signal(15)
        time.sleep(0.1)
        try:
            status, _, _ = gw.request("GET", "/api/test/echo/late", timeout=5)
            refused = status == 503
        except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
            refused = True
        except OSError as e:
            refused = False
            print(f"# late request: {e!r}")
        tap.check("a request after SIGTERM is refused (or 503)", refused)
        for t in threads:
            t.join(30)
        tap.eq("all 5 in-flight requests completed with 200", results, [(200, 800)] * 5)
        try:
            rc = gw.proc.wait(30)
        except subprocess.TimeoutExpired:
            rc = None
        tap.eq("gateway exits 0 after the drain", rc, 0)
        tap.check("the drain did not cut the requests short", time.time() - t0 >= 0.4)
        tap.check("log says stopped", '"msg":"stopped"' in gw.log(), gw.log()[-1500:])
    finally:
        gw.stop()


def main():
    if DATABASE_URL:
        # The gateway's async queue (started with DATABASE_URL) wants its tables.
        out = migrate()
        tap.check("migrations applied", out.returncode == 0, out.stderr)
    gw = Gateway(TEMPLATE, env={"GW_IDLE_SECONDS": "30", "LOG_LEVEL": "info"})
    try:
        tap.check("gateway logs listening on its URL",
                  wait_until(lambda: f"listening on http://127.0.0.1:{gw.port}" in gw.log(), 5),
                  gw.log()[-1000:])
        tap.run(lambda: test_routing(gw))
        tap.run(lambda: test_errors(gw))
        tap.run(lambda: test_cors(gw))
        tap.run(lambda: test_health_metrics_static(gw))
    finally:
        rc = gw.stop()
    tap.eq("gateway stops with 0 on SIGTERM", rc, 0)
    tap.run(test_body_cap)
    tap.run(test_startup_errors)
    tap.run(test_sigterm_drain)
    tap.done()


if __name__ == "__main__":
    main()
