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
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (ROOT, TMP, RuntimeAPI, bin_path, fn_env, free_port, log_text,  # noqa: E402
                 migrate, reap, resp_header, tap, wait_exit)

EVENTS = os.path.join(ROOT, "tests/integration/events")


def start(host, port, **env):
    log = open(os.path.join(TMP, f"scf-{time.time_ns()}.log"), "w+")
    p = subprocess.Popen([bin_path("articles")],
                         env=fn_env(SCF_RUNTIME_API=host, SCF_RUNTIME_API_PORT=str(port), **env),
                         stdout=subprocess.DEVNULL, stderr=log)
    return p, log


def test_invocations():
    api = RuntimeAPI("scf")
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
               resp_header(r, "X-Request-Id"), "scf-0001")
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

        rc = wait_exit(p, 10, signal.SIGTERM)
        tap.eq("SIGTERM while waiting for an event: exit 0", rc, 0)
    finally:
        reap(p)
        api.close()


def test_api_gone():
    p, log = start("127.0.0.1", free_port())
    rc = wait_exit(p, 30)
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
