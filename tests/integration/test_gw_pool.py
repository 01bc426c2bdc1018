"""The gateway's worker pools (deploy/local/gateway/pool.c), through the
public HTTP port: warm reuse and cold-start counting, the concurrency limit
and wait queue (429), timeouts (504, worker killed), crashes (502, fresh
worker), scale to zero, init failures and missing binaries (502), the
request id and deadline a function sees, the worker environment, the memory
limit (RLIMIT_AS for a plain worker, none for an AddressSanitizer one), and the
loopback Runtime API / Invoke API driven directly."""
import http.client
import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import (FIXTURE_DIR, PLAIN_FIXTURE_DIR, Gateway, http_event, is_error,  # noqa: E402
                 sam_function, sam_template, tap, wait_until)

TIMEOUT_S = 2
MEMORY_MB = 128
# pool.c's MEM_ALLOWANCE_MB: RLIMIT_AS = MemorySize + this.
MEM_ALLOWANCE_MB = 64

ROUTES = [http_event("Echo", "/api/test/echo/{name}", "GET"),
          http_event("Sleep", "/api/test/sleep", "GET"),
          http_event("Crash", "/api/test/crash", "GET"),
          http_event("Alloc", "/api/test/alloc", "GET")]


def template(extra_env="", reserved=2, with_missing=True):
    env = "      Environment:\n        Variables:\n" + extra_env if extra_env else ""
    functions = [sam_function(props=f"      ReservedConcurrentExecutions: {reserved}\n" + env,
                              events=ROUTES)]
    if with_missing:
        functions.append(sam_function("MissingFunction", "functions/nosuchfn/",
                                      events=[http_event("Missing", "/api/missing", "GET")]))
    return sam_template(functions, globals_text=f"""\
  Function:
    Timeout: {TIMEOUT_S}
    MemorySize: {MEMORY_MB}
""")


def workers(gw, name="testfn"):
    """Pids of the gateway's live (not zombie) child processes running name."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if comm == name and int(fields[1]) == gw.proc.pid and fields[0] != "Z":
            out.append(int(d))
    return set(out)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def metric(gw, name, **labels):
    status, _, body = gw.request("GET", "/metrics")
    if status != 200:
        return None
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in body.decode().splitlines():
        m = re.match(r'^([a-z_]+)(?:\{([^}]*)\})?\s+([0-9.eE+-]+)$', line)
        if m and m.group(1) == name and (m.group(2) or "") == want:
            return float(m.group(3))
    return None


def echo(gw):
    status, hdrs, body = gw.json("GET", "/api/test/echo/x")
    return status, hdrs, body or {}


def environ(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        pairs = [p.split(b"=", 1) for p in f.read().split(b"\0") if b"=" in p]
    return {k.decode(): v.decode() for k, v in pairs}


def address_limit(pid):
    """(soft, hard) RLIMIT_AS of pid from /proc/<pid>/limits: ints or "unlimited"."""
    with open(f"/proc/{pid}/limits") as f:
        line = [x for x in f if x.startswith("Max address space")][0]
    return tuple(int(v) if v.isdigit() else v for v in line.split()[3:5])


def maps_asan(pid):
    """Whether the process has the AddressSanitizer runtime mapped."""
    with open(f"/proc/{pid}/maps") as f:
        return any("libasan.so" in line for line in f)


def raw(addr, method, path, body=None, headers=None):
    host, port = addr.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    try:
        obj = json.loads(data) if data else None
    except ValueError:
        obj = None
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), obj


gw = Gateway(template(), env={"GW_QUEUE_LENGTH": "1", "LOG_LEVEL": "info"})


def test_warm_reuse():
    s1, h1, b1 = echo(gw)
    s2, h2, b2 = echo(gw)
    tap.eq("first request answers 200", s1, 200)
    tap.eq("second request answers 200", s2, 200)
    tap.check("the second request reuses the warm worker", b1.get("pid") == b2.get("pid"),
              f"{b1.get('pid')} vs {b2.get('pid')}")
    tap.eq("one cold start counted", metric(gw, "gw_cold_starts_total", function="testfn"), 1.0)
    tap.eq("one idle worker", metric(gw, "gw_workers", function="testfn", state="idle"), 1.0)
    tap.eq("no busy worker", metric(gw, "gw_workers", function="testfn", state="busy"), 0.0)
    tap.eq("the worker is the gateway's child", workers(gw), {b1.get("pid")})


def test_request_id_and_deadline():
    before = time.time() * 1000
    status, hdrs, body = echo(gw)
    tap.eq("echo answers 200", status, 200)
    rid = hdrs.get("x-request-id")
    tap.check("the function saw the response's X-Request-Id", rid and body.get("request_id") == rid,
              f"header {rid!r}, function saw {body.get('request_id')!r}")
    dl = body.get("deadline_ms", 0)
    tap.check("the function's deadline is about now + Timeout",
              before + TIMEOUT_S * 1000 - 100 <= dl <= time.time() * 1000 + TIMEOUT_S * 1000 + 100,
              f"deadline {dl}, request at {before}")


def test_worker_environment():
    status, _, body = echo(gw)
    pid = body.get("pid")
    env = environ(pid)
    api = env.get("AWS_LAMBDA_RUNTIME_API", "")
    tap.check("workers talk to a loopback Runtime API under /w/<id>",
              re.match(r"^127\.0\.0\.1:\d+/w/[0-9]+-[0-9]+$", api), api)
    tap.eq("AWS_LAMBDA_FUNCTION_NAME", env.get("AWS_LAMBDA_FUNCTION_NAME"), "testfn")
    tap.eq("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
           str(MEMORY_MB))
    tap.eq("TZ is UTC", env.get("TZ"), "UTC")
    tap.eq("AWS_REGION is local", env.get("AWS_REGION"), "local")
    tap.eq("LAMBDA_TASK_ROOT is the binary's folder", env.get("LAMBDA_TASK_ROOT"),
           os.path.dirname(os.path.realpath(f"/proc/{pid}/exe")))
    tap.eq("AWS_ENDPOINT_URL_LAMBDA is the Runtime API server",
           env.get("AWS_ENDPOINT_URL_LAMBDA"), "http://" + api.split("/")[0])
    tap.check("APP_SECRET reaches the worker", env.get("APP_SECRET"), "")


def test_asan_worker_unlimited():
    """The default fixtures are the sanitizer build under `make test`: an ASan
    worker reserves terabytes of shadow memory, so it runs without RLIMIT_AS
    and the gateway says why, once for the function."""
    status, _, body = echo(gw)
    pid = body.get("pid")
    tap.eq("echo answers 200", status, 200)
    exe = os.path.realpath(f"/proc/{pid}/exe")
    tap.eq("the worker runs the default fixture",
           exe, os.path.realpath(os.path.join(FIXTURE_DIR, "testfn")))
    lines = [x for x in gw.log().splitlines() if "function testfn: no memory limit" in x]
    if maps_asan(pid):
        tap.eq("an ASan worker has no RLIMIT_AS", address_limit(pid),
               ("unlimited", "unlimited"))
        tap.eq("one log line for the function", len(lines), 1)
        tap.check("saying it is built with AddressSanitizer and needs libasan",
                  lines and "AddressSanitizer" in lines[0] and "libasan.so" in lines[0] and
                  exe in lines[0], lines)
    else:
        # Plain fixtures as the default (tests/run build): the limit applies.
        tap.eq("a plain worker has RLIMIT_AS = MemorySize + the allowance",
               address_limit(pid), ((MEMORY_MB + MEM_ALLOWANCE_MB) << 20,) * 2)
        tap.eq("and no 'no memory limit' line", lines, [])


def test_plain_worker_limited():
    """The ASan gateway hosting the plain (non-sanitized) testfn: RLIMIT_AS is
    MemorySize + the allowance, and an allocation past it fails in the worker
    without hurting the gateway."""
    plain = os.path.join(PLAIN_FIXTURE_DIR, "testfn")
    if not tap.check("the plain testfn exists (make test builds it)",
                     os.access(plain, os.X_OK), plain):
        return
    g = Gateway(template(with_missing=False), bin_dir=PLAIN_FIXTURE_DIR,
                env={"LOG_LEVEL": "info"})
    try:
        st, _, body = echo(g)
        tap.eq("the plain worker answers", st, 200)
        pid = body.get("pid")
        tap.eq("it runs the plain fixture", os.path.realpath(f"/proc/{pid}/exe"),
               os.path.realpath(plain))
        tap.check("without the ASan runtime", not maps_asan(pid), pid)
        tap.eq("RLIMIT_AS (soft, hard) is MemorySize plus the allowance",
               address_limit(pid), ((MEMORY_MB + MEM_ALLOWANCE_MB) << 20,) * 2)
        tap.check("no 'no memory limit' line for a plain binary",
                  "no memory limit" not in g.log(), g.log()[-2000:])

        st, _, body = g.json("GET", "/api/test/alloc?mb=64")
        tap.eq("allocating 64 MB of 128 works", st, 200)
        tap.eq("all of it", (body or {}).get("allocated_mb"), 64)

        st, _, body = g.json("GET", "/api/test/alloc?mb=400")
        tap.check("allocating 400 MB fails (out of address space)", st != 200, f"{st} {body}")
        tap.check("as the function's 500 out_of_memory or the gateway's 502",
                  (st == 500 and is_error(body, "out_of_memory")) or
                  (st == 502 and is_error(body, "bad_gateway")), f"{st} {body}")
        hst, _, _ = g.request("GET", "/healthz")
        tap.eq("the gateway stays healthy", hst, 200)
        tap.eq("the gateway is still running", g.proc.poll(), None)

        st, _, body = g.json("GET", "/api/test/alloc?mb=1")
        tap.eq("the next allocation works", st, 200)
        tap.eq("(1 MB)", (body or {}).get("allocated_mb"), 1)
        _, _, b2 = echo(g)
        tap.eq("and its worker is limited too", address_limit(b2.get("pid")),
               ((MEMORY_MB + MEM_ALLOWANCE_MB) << 20,) * 2)
    finally:
        tap.eq("the gateway exits 0", g.stop(), 0)


def test_runtime_api_direct():
    status, _, body = echo(gw)
    pid = body.get("pid")
    api = environ(pid)["AWS_LAMBDA_RUNTIME_API"]
    addr, wid = api.split("/w/")
    base = "/2018-06-01/runtime"
    st, _, obj = raw(addr, "GET", f"/w/0-999999{base}/invocation/next")
    tap.eq("an unknown worker id is a 404", st, 404)
    tap.check("in Lambda's error shape", isinstance(obj, dict) and
              obj.get("errorType") == "InvalidWorkerId" and "errorMessage" in obj, obj)
    st, _, obj = raw(addr, "POST", f"/w/{wid}{base}/invocation/nosuchid/response", body="{}")
    tap.eq("a response for an invocation the worker does not hold is a 400", st, 400)
    tap.check("InvalidRequestID", isinstance(obj, dict) and
              obj.get("errorType") == "InvalidRequestID", obj)
    st, _, obj = raw(addr, "POST", f"/w/{wid}{base}/invocation/nosuchid/error", body="{}")
    tap.eq("an error for an invocation the worker does not hold is a 400", st, 400)
    st, _, obj = raw(addr, "GET", f"/w/{wid}{base}/nothing")
    tap.eq("an unknown Runtime API path is a 404", st, 404)
    s2, _, b2 = echo(gw)
    tap.check("the worker still serves after the bad calls", s2 == 200 and b2.get("pid") == pid,
              f"{s2} {b2.get('pid')} vs {pid}")

    # The Lambda Invoke API on the same server.
    st, hdrs, obj = raw(addr, "POST", "/2015-03-31/functions/nosuchfn2/invocations", body="{}")
    tap.eq("Invoke API: unknown function is a 404", st, 404)
    tap.check("Invoke API: Lambda's not-found shape",
              isinstance(obj, dict) and obj.get("Type") == "User" and
              obj.get("Message", "").startswith("Function not found: ") and
              obj["Message"].endswith(":function:nosuchfn2"), obj)
    event = {"version": "2.0", "routeKey": "$default", "rawPath": "/api/test/echo/direct",
             "rawQueryString": "", "headers": {},
             "requestContext": {"requestId": "direct-0123456789",
                                "http": {"method": "GET", "path": "/api/test/echo/direct"}},
             "isBase64Encoded": False}
    st, hdrs, obj = raw(addr, "POST", "/2015-03-31/functions/testfn/invocations",
                        body=json.dumps(event))
    tap.eq("Invoke API: RequestResponse answers 200", st, 200)
    inner = json.loads(obj.get("body", "{}")) if isinstance(obj, dict) else {}
    tap.check("Invoke API: the result is the function's response",
              obj.get("statusCode") == 200 and inner.get("name") == "direct", obj)
    tap.eq("Invoke API: the event's requestId is the invocation id",
           inner.get("request_id"), "direct-0123456789")
    tap.check("Invoke API: no function error header", "x-amz-function-error" not in hdrs, hdrs)
    st, hdrs, obj = raw(addr, "POST", "/2015-03-31/functions/testfn/invocations",
                        body=json.dumps(dict(event, rawPath="/api/test/crash",
                                             requestContext={"http": {"method": "GET",
                                                                      "path": "/api/test/crash"}})))
    tap.check("Invoke API: a crash is a function error",
              hdrs.get("x-amz-function-error") == "Unhandled" and
              isinstance(obj, dict) and "errorType" in obj, f"{st} {hdrs} {obj}")


def test_concurrency_limit():
    results = {}

    def call(key, ms):
        results[key] = gw.json("GET", f"/api/test/sleep?ms={ms}")

    slow = [threading.Thread(target=call, args=(i, 1500)) for i in range(2)]
    for t in slow:
        t.start()
    tap.check("two invocations run (the limit)",
              wait_until(lambda: metric(gw, "gw_inflight", function="testfn") == 2.0, 5),
              metric(gw, "gw_inflight", function="testfn"))
    third = threading.Thread(target=call, args=(2, 10))
    third.start()
    tap.check("the third one waits in the queue",
              wait_until(lambda: metric(gw, "gw_queued", function="testfn") == 1.0, 5),
              metric(gw, "gw_queued", function="testfn"))
    started = time.time()
    st, hdrs, body = gw.json("GET", "/api/test/sleep?ms=10")
    tap.eq("the fourth one (queue full) gets 429", st, 429)
    tap.check("at once", time.time() - started < 0.5, time.time() - started)
    tap.check("429 in the project's error shape", is_error(body, "too_many_requests"), body)
    for t in slow + [third]:
        t.join(10)
    tap.check("the two slow ones succeed",
              all(results.get(i, (0,))[0] == 200 for i in range(2)), results)
    tap.eq("the queued one succeeds", results.get(2, (0,))[0], 200)
    tap.check("throttle counted", (metric(gw, "gw_throttles_total", function="testfn") or 0) >= 1)
    tap.check("never more than 2 workers", len(workers(gw)) <= 2, workers(gw))


def test_timeout():
    seen = {}

    def watch():
        time.sleep(0.7)
        seen["pids"] = workers(gw)
        seen["busy"] = metric(gw, "gw_workers", function="testfn", state="busy")

    w = threading.Thread(target=watch)
    w.start()
    started = time.time()
    st, hdrs, body = gw.json("GET", "/api/test/sleep?ms=5000")
    took = time.time() - started
    w.join()
    tap.eq("a request past Timeout gets 504", st, 504)
    tap.check("after about Timeout seconds", TIMEOUT_S - 0.1 <= took <= TIMEOUT_S + 0.8, took)
    tap.check("504 in the project's error shape", is_error(body, "gateway_timeout"), body)
    tap.eq("one worker was busy with it", seen.get("busy"), 1.0)
    gone = wait_until(lambda: seen["pids"] - workers(gw), 3)
    tap.eq("that worker process is gone", len(gone), 1)
    killed = next(iter(gone), None)
    tap.check("and reaped (no zombie)", killed and not alive(killed), killed)
    s2, _, b2 = echo(gw)
    tap.eq("the next request works", s2, 200)
    tap.check("in another worker", b2.get("pid") not in (None, killed), b2.get("pid"))
    tap.eq("timeout counted", metric(gw, "gw_timeouts_total", function="testfn"), 1.0)


def test_crash():
    _, _, b0 = echo(gw)
    victim = b0.get("pid")
    crashes = metric(gw, "gw_crashes_total", function="testfn") or 0
    st, _, body = gw.json("GET", "/api/test/crash")
    tap.eq("a crash mid-invocation gets 502", st, 502)
    tap.check("502 in the project's error shape", is_error(body, "bad_gateway"), body)
    tap.check("the crashed worker is gone", wait_until(lambda: not alive(victim), 3), victim)
    s2, _, b2 = echo(gw)
    tap.eq("the next request succeeds", s2, 200)
    tap.check("with another worker", b2.get("pid") not in (None, victim), b2.get("pid"))
    tap.eq("crash counted", metric(gw, "gw_crashes_total", function="testfn"), crashes + 1)


def test_missing_binary():
    st, _, body = gw.json("GET", "/api/missing")
    tap.eq("a function without a binary gets 502", st, 502)
    tap.check("502 in the project's error shape", is_error(body, "bad_gateway"), body)
    tap.check("and a log line naming it",
              re.search(r"nosuchfn.*no executable", gw.log()) is not None, gw.log()[-2000:])


def test_drain_stops_workers():
    _, _, b = echo(gw)
    pids = workers(gw)
    tap.check("workers are running before SIGTERM", b.get("pid") in pids, pids)
    rc = gw.stop()
    tap.eq("the gateway exits 0 on SIGTERM", rc, 0)
    tap.check("no worker outlives the gateway", not any(alive(p) for p in pids),
              [p for p in pids if alive(p)])


def test_scale_to_zero():
    g = Gateway(template(with_missing=False), env={"GW_IDLE_SECONDS": "1"})
    try:
        s1, _, b1 = echo(g)
        tap.eq("scale-to-zero gateway answers", s1, 200)
        tap.eq("one worker after the first request", workers(g), {b1.get("pid")})
        gone = wait_until(lambda: not workers(g), 4)
        tap.check("no worker left after the idle time", gone, workers(g))
        tap.check("pid gone from /proc", not alive(b1.get("pid")), b1.get("pid"))
        tap.eq("gw_workers idle is 0", metric(g, "gw_workers", function="testfn", state="idle"), 0.0)
        s2, _, b2 = echo(g)
        tap.eq("the next request works", s2, 200)
        tap.check("on a fresh worker", b2.get("pid") not in (None, b1.get("pid")), b2.get("pid"))
        tap.eq("counted as a second cold start",
               metric(g, "gw_cold_starts_total", function="testfn"), 2.0)
    finally:
        g.stop()


def test_init_failure():
    g = Gateway(template('          MAX_BODY_BYTES: "abc"\n', with_missing=False))
    try:
        st, _, body = g.json("GET", "/api/test/echo/x")
        tap.eq("a function failing at init gets 502", st, 502)
        tap.check("502 in the project's error shape", is_error(body, "bad_gateway"), body)
        tap.check("the init error is logged",
                  wait_until(lambda: "failed to initialise" in g.log() and
                             "MAX_BODY_BYTES" in g.log(), 3), g.log()[-2000:])
        tap.check("the failed worker is reaped", wait_until(lambda: not workers(g), 3),
                  workers(g))
        st2, _, _ = g.json("GET", "/api/test/echo/x")
        tap.eq("and it fails the same way the next time", st2, 502)
    finally:
        g.stop()


def test_disabled_function():
    g = Gateway(template(reserved=0, with_missing=False))
    try:
        st, _, body = g.json("GET", "/api/test/echo/x")
        tap.eq("ReservedConcurrentExecutions 0 throttles every request", st, 429)
        tap.check("and starts no worker", not workers(g), workers(g))
    finally:
        g.stop()


try:
    for t in (test_warm_reuse, test_request_id_and_deadline, test_worker_environment,
              test_asan_worker_unlimited, test_runtime_api_direct, test_concurrency_limit, test_timeout, test_crash,
              test_missing_binary, test_drain_stops_workers):
        tap.run(t)
finally:
    gw.stop()
for t in (test_plain_worker_limited, test_scale_to_zero, test_init_failure,
          test_disabled_function):
    tap.run(t)
tap.done()
