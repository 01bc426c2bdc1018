"""The Lambda Runtime API adapter against a Runtime API server written here
from AWS's documentation (version 2018-06-01), driving the real articles binary.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (TMP, RuntimeAPI, bin_path, fn_env, free_port, log_text,  # noqa: E402
                 migrate, reap, resp_header, tap, wait_exit)


def start(api_addr, **env):
    log = open(os.path.join(TMP, f"lambda-{time.time_ns()}.log"), "w+")
    p = subprocess.Popen([bin_path("articles")],
                         env=fn_env(AWS_LAMBDA_RUNTIME_API=api_addr, **env),
                         stdout=subprocess.DEVNULL, stderr=log)
    return p, log


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
               resp_header(r, "X-Request-Id"), "req-0001")
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
               resp_header(r, "X-Request-Id"), "req-0002")
        r = api.responses.get("req-0003", {})
        tap.check("invalid event JSON: a 400 /response, not an /error",
                  r.get("statusCode") == 400 and "req-0003" not in api.errors, r)
        tap.eq("unknown route: 404 response", api.responses.get("req-0004", {}).get("statusCode"),
               404)
        tap.check("warm: one process served all four and polls again",
                  api.wait(lambda: api.next_calls >= 5) and p.poll() is None,
                  f"next calls {api.next_calls}, exit {p.poll()}")
        tap.eq("no /error posted for answered invocations", api.errors, {})

        rc = wait_exit(p, 10, signal.SIGTERM)
        tap.eq("SIGTERM while waiting for an event: exit 0", rc, 0)
    finally:
        reap(p)
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
        reap(p)
        api.close()


def test_api_gone():
    port = free_port()  # nothing listens here
    p, log = start(f"127.0.0.1:{port}")
    rc = wait_exit(p, 30)
    tap.eq("runtime API unreachable: exit 1 after retries", rc, 1)


def main():
    r = migrate()
    tap.check("migrations apply", r.returncode == 0, r.stderr)
    for t in (test_invocations, test_init_error, test_api_gone):
        tap.run(t)
    tap.done()


main()
