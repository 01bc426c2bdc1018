#!/usr/bin/env python3
"""The gateway's durable async queue: the Invoke API (fn_invoke_async from a
worker), retries with backoff, dead letters, delivery after a restart,
expired claims, S3 events and their dedupe key."""
import hashlib
import hmac
import http.client
import json
import os
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from lib import (EVENTS_FILE_ENV, EVENTS_FILE_PARAM, SECRET, Gateway, bucket,  # noqa: E402
                 http_event, migrate, psql, s3_event, sam_function, sam_template, tap,
                 wait_until)

TEMPLATE = sam_template(
    [bucket("Uploads"),
     sam_function(props="      Timeout: 10\n" + EVENTS_FILE_ENV,
                  events=[http_event("Api", "/api/test/{proxy+}", "ANY"),
                          s3_event("Upload", "Uploads", [("prefix", "in/")])])],
    parameters=EVENTS_FILE_PARAM)

ENV = {"GW_ASYNC_ATTEMPTS": "3", "GW_TIME_SCALE": "20"}


def clean():
    psql("DELETE FROM async_events; DELETE FROM async_dead_letters; DELETE FROM async_dedupe")


def invoke_async(gw, payload, function="testfn"):
    return gw.json("POST", "/api/test/invoke", {"function": function, "payload": payload})


def records(gw, kind, pred=lambda d: True):
    return [e for e in gw.events() if e.get("kind") == kind and pred(e.get("data"))]


def counter_lines(gw, key):
    try:
        with open(f"{gw.events_file}.{key}") as f:
            return len(f.read().splitlines())
    except FileNotFoundError:
        return 0


def start(env=None):
    return Gateway(TEMPLATE, env=dict(ENV, **(env or {})))


def test_invoke_delivers_once():
    clean()
    gw = start()
    try:
        marker = str(uuid.uuid4())
        status, _, body = invoke_async(gw, {"method": "POST", "path": "/api/test/record",
                                            "body": json.dumps({"marker": marker})})
        tap.eq("Invoke (Event) through the gateway: testfn answers 202", status, 202)
        mine = lambda d: isinstance(d, dict) and d.get("marker") == marker  # noqa: E731
        got = wait_until(lambda: records(gw, "record", mine), timeout=10)
        tap.check("the async event reached the target function", got, gw.log()[-3000:])
        time.sleep(1.0)
        tap.eq("it was delivered exactly once", len(records(gw, "record", mine)), 1)
        tap.eq("a delivered event leaves no row behind",
               psql("SELECT count(*) FROM async_events"), "0")
        status, _, body = invoke_async(gw, {"method": "POST", "path": "/api/test/record"},
                                       function="no/such")
        tap.eq("an invalid function name is refused by the caller (502 from testfn)",
               status, 502)
        c = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
        tap.check("/metrics has the async queue's series",
                  "gw_async_queue_depth" in text and "gw_async_delivered_total" in text
                  and "gw_async_dead_letters" in text and "gw_async_retries_total" in text,
                  text[-2000:])
    finally:
        gw.stop()


def test_retry_then_success():
    clean()
    gw = start()
    try:
        key = "k" + uuid.uuid4().hex[:12]
        status, _, _ = invoke_async(gw, {"method": "POST",
                                         "path": f"/api/test/flaky?key={key}&fail=2"})
        tap.eq("flaky target accepted (202)", status, 202)
        ok = wait_until(lambda: records(gw, "flaky", lambda d: d == key), timeout=15)
        tap.check("a target failing twice succeeds on the third attempt", ok, gw.log()[-3000:])
        time.sleep(0.5)
        tap.eq("one success recorded", len(records(gw, "flaky", lambda d: d == key)), 1)
        tap.eq("the target was called three times (2 failures + 1 success)",
               counter_lines(gw, key), 3)
        tap.eq("nothing dead-lettered", psql("SELECT count(*) FROM async_dead_letters"), "0")
        tap.eq("nothing left queued", psql("SELECT count(*) FROM async_events"), "0")
    finally:
        gw.stop()


def test_dead_letter():
    clean()
    gw = start()
    try:
        key = "d" + uuid.uuid4().hex[:12]
        status, _, _ = invoke_async(gw, {"method": "POST",
                                         "path": f"/api/test/flaky?key={key}&fail=10"})
        tap.eq("always-failing target accepted (202)", status, 202)
        q = ("SELECT attempts || '|' || coalesce(last_error, '') || '|' || function "
             f"FROM async_dead_letters WHERE payload LIKE '%key={key}%'")
        row = wait_until(lambda: psql(q), timeout=15)
        tap.check("after 3 attempts the event is a dead letter", row, gw.log()[-3000:])
        parts = (row or "||").split("|", 2)
        tap.eq("dead letter records 3 attempts", parts[0], "3")
        tap.check("dead letter keeps the last error (status 500 and the function's error)",
                  "500" in parts[1] and "flaky" in parts[1], parts[1])
        tap.eq("dead letter names the function", parts[2], "testfn")
        time.sleep(0.5)
        tap.eq("the target was called exactly 3 times", counter_lines(gw, key), 3)
        tap.eq("the failed event left the queue", psql(
            f"SELECT count(*) FROM async_events WHERE payload LIKE '%key={key}%'"), "0")
        tap.eq("never recorded as a success", records(gw, "flaky", lambda d: d == key), [])
    finally:
        gw.stop()


def test_survives_restart():
    clean()
    queued, expired, future = (str(uuid.uuid4()) for _ in range(3))

    def row(marker):
        return json.dumps({"method": "POST", "path": "/api/test/record",
                           "body": json.dumps({"marker": marker})}).replace("'", "''")
    # Queued while no gateway runs; one claimed by a gateway that died (its
    # claim has expired); one claimed by a live one (not expired: left alone).
    psql(f"INSERT INTO async_events (function, payload) VALUES ('testfn', '{row(queued)}')")
    psql("INSERT INTO async_events (function, payload, attempts, locked_until) VALUES "
         f"('testfn', '{row(expired)}', 1, now() - interval '1 second')")
    psql("INSERT INTO async_events (function, payload, attempts, locked_until) VALUES "
         f"('testfn', '{row(future)}', 1, now() + interval '1 hour')")
    gw = start()
    try:
        for name, marker in (("queued while the gateway was down", queued),
                             ("claimed by a dead gateway (claim expired)", expired)):
            mine = lambda d, m=marker: isinstance(d, dict) and d.get("marker") == m  # noqa: E731
            tap.check(f"event {name} is delivered after start",
                      wait_until(lambda: records(gw, "record", mine), timeout=10),
                      gw.log()[-3000:])
        time.sleep(0.5)
        tap.eq("an event under a live claim is not delivered twice",
               records(gw, "record", lambda d: isinstance(d, dict) and d.get("marker") == future),
               [])
    finally:
        gw.stop()

    # Accepted by one gateway, failed once there, and still queued (its retry
    # is 4 s away at scale 0.25) when that gateway stops: the next one
    # delivers it. The flaky counter is per gateway (next to its events file),
    # so the second gateway sees one more failure, then success: 3 attempts.
    clean()
    gw = start(env={"GW_TIME_SCALE": "0.25"})
    try:
        key = "r" + uuid.uuid4().hex[:12]
        status, _, _ = invoke_async(gw, {"method": "POST",
                                         "path": f"/api/test/flaky?key={key}&fail=1"})
        tap.eq("event accepted before the restart", status, 202)
        tap.check("its first attempt failed on the first gateway",
                  wait_until(lambda: counter_lines(gw, key) >= 1, timeout=10))
        time.sleep(0.3)
    finally:
        gw.stop()
    pending = psql("SELECT attempts FROM async_events "
                   f"WHERE payload LIKE '%key={key}%' AND locked_until IS NULL")
    tap.eq("the retry is still queued (1 attempt, unclaimed) after the gateway stopped",
           pending, "1")
    gw2 = start()
    try:
        ok = wait_until(lambda: records(gw2, "flaky", lambda d: d == key), timeout=15)
        tap.check("the new gateway delivered the event queued by the old one", ok,
                  gw2.log()[-3000:])
        tap.eq("on its own attempts 2 (failed) and 3 (succeeded)", counter_lines(gw2, key), 2)
        tap.eq("the first gateway made no further call", counter_lines(gw, key), 1)
        tap.eq("no dead letter", psql("SELECT count(*) FROM async_dead_letters"), "0")
    finally:
        gw2.stop()


def signed_put(gw, key, body):
    expires = str(int(time.time()) + 300)
    sig = hmac.new(SECRET.encode(), f"PUT\n{key}\n{expires}".encode(),
                   hashlib.sha256).hexdigest()
    path = ("/storage/" + "/".join(urllib.parse.quote(s, safe="") for s in key.split("/"))
            + f"?X-Expires={expires}&X-Signature={sig}")
    status, _, _ = gw.request("PUT", path, body=body)
    return status


def test_s3_events_and_dedupe():
    clean()
    gw = start()
    try:
        key = f"in/a photo {uuid.uuid4().hex[:8]}.jpg"
        body = b"first version " + uuid.uuid4().bytes
        tap.check("signed PUT stored", signed_put(gw, key, body) in (200, 201, 204))
        s3 = lambda: records(gw, "s3")  # noqa: E731
        tap.check("an S3 event reached the subscribed function",
                  wait_until(s3, timeout=10), gw.log()[-3000:])
        ev = (s3() or [{}])[0].get("data") or {}
        rec = (ev.get("Records") or [{}])[0]
        tap.eq("eventSource aws:s3", rec.get("eventSource"), "aws:s3")
        tap.eq("eventVersion 2.1", rec.get("eventVersion"), "2.1")
        tap.eq("eventName ObjectCreated:Put", rec.get("eventName"), "ObjectCreated:Put")
        obj = (rec.get("s3") or {}).get("object") or {}
        bucket = (rec.get("s3") or {}).get("bucket") or {}
        tap.eq("bucket name", bucket.get("name"), "Uploads")
        tap.eq("bucket arn", bucket.get("arn"), "arn:aws:s3:::Uploads")
        tap.eq("object key URL-encoded as S3 does ('+' for a space)", obj.get("key"),
               urllib.parse.quote_plus(key, safe="/"))
        tap.eq("object size", obj.get("size"), len(body))
        tap.eq("object eTag is the MD5, unquoted", obj.get("eTag"),
               hashlib.md5(body).hexdigest())
        # The same bytes again: same (key, etag) -> the dedupe key drops it.
        tap.check("same object PUT again", signed_put(gw, key, body) in (200, 201, 204))
        time.sleep(1.0)
        tap.eq("a second upload of the same bytes makes no second event", len(s3()), 1)
        tap.eq("its dedupe key is recorded", psql(
            "SELECT count(*) FROM async_dedupe WHERE function = 'testfn' AND dedupe_key = "
            f"'s3:{key}:{hashlib.md5(body).hexdigest()}'"), "1")
        tap.check("new content PUT", signed_put(gw, key, body + b"!") in (200, 201, 204))
        tap.check("new content (new ETag) makes a new event",
                  wait_until(lambda: len(s3()) == 2, timeout=10), gw.log()[-3000:])
        tap.check("a key outside the prefix filter",
                  signed_put(gw, "out/x.jpg", b"x") in (200, 201, 204))
        time.sleep(1.0)
        tap.eq("makes no event", len(s3()), 2)
    finally:
        gw.stop()


def main():
    r = migrate()
    if not tap.check("migrations apply", r.returncode == 0, r.stderr):
        tap.done()
    for t in (test_invoke_delivers_once, test_retry_then_success, test_dead_letter,
              test_survives_restart, test_s3_events_and_dedupe):
        tap.run(t)
    tap.done()


if __name__ == "__main__":
    main()
