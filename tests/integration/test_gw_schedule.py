#!/usr/bin/env python3
"""The gateway's Schedule events: rate() and cron() fire (GW_TIME_SCALE=60
runs a minute per second), in EventBridge's shape, Input replaces the event,
Enabled: false never fires, and each tick is enqueued once (dedupe key)."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import (EVENTS_FILE_ENV, EVENTS_FILE_PARAM, Gateway, migrate, psql,  # noqa: E402
                 sam_event, sam_function, sam_template, tap, wait_until)

TEMPLATE = sam_template([sam_function(props="      Timeout: 10\n" + EVENTS_FILE_ENV, events=[
    sam_event("Tick", "Schedule", "            Schedule: rate(1 minute)\n"),
    sam_event("EveryMinute", "Schedule", "            Schedule: cron(* * * * ? *)\n"),
    sam_event("WithInput", "Schedule", """\
            Schedule: rate(1 minute)
            Input: '{"method":"POST","path":"/api/test/record","body":"{\\"from\\":\\"input\\"}"}'
"""),
    sam_event("Off", "Schedule", """\
            Schedule: rate(1 minute)
            Enabled: false
            Input: '{"method":"POST","path":"/api/test/record","body":"{\\"from\\":\\"off\\"}"}'
"""),
    sam_event("Yearly", "Schedule", "            Schedule: cron(0 0 1 1 ? *)\n")])],
    parameters=EVENTS_FILE_PARAM)

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def schedule_events(gw, rule):
    arn = f"arn:aws:events:local:000000000000:rule/testfn-{rule}"
    return [e["data"] for e in gw.events()
            if e.get("kind") == "schedule" and isinstance(e.get("data"), dict)
            and e["data"].get("resources") == [arn]]


def input_records(gw, origin):
    return [e for e in gw.events() if e.get("kind") == "record"
            and isinstance(e.get("data"), dict) and e["data"].get("from") == origin]


def test_schedules():
    psql("DELETE FROM async_events; DELETE FROM async_dead_letters; DELETE FROM async_dedupe")
    gw = Gateway(TEMPLATE, env={"GW_TIME_SCALE": "60"})
    try:
        ticks = wait_until(lambda: len(schedule_events(gw, "Tick")) >= 2, timeout=6)
        tap.check("rate(1 minute) at scale 60 fires at least twice within seconds", ticks,
                  gw.log()[-3000:])
        evs = schedule_events(gw, "Tick")
        ev = evs[0] if evs else {}
        tap.eq("version", ev.get("version"), "0")
        tap.eq("detail-type", ev.get("detail-type"), "Scheduled Event")
        tap.eq("source", ev.get("source"), "aws.events")
        tap.eq("account", ev.get("account"), "000000000000")
        tap.eq("region", ev.get("region"), "local")
        tap.eq("detail", ev.get("detail"), {})
        tap.check("time is RFC 3339 UTC", RFC3339.match(str(ev.get("time"))), ev.get("time"))
        tap.check("id is a UUID", re.match(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$",
                                           str(ev.get("id"))), ev.get("id"))
        tap.eq("every firing has its own id", len({e.get("id") for e in evs}), len(evs))
        tap.eq("every firing is a different tick (no double fire)",
               len({e.get("time") for e in evs}), len(evs))
        tap.check("cron(* * * * ? *) fires too",
                  wait_until(lambda: len(schedule_events(gw, "EveryMinute")) >= 2, timeout=5),
                  gw.log()[-3000:])
        tap.check("Input replaces the event (delivered as given)",
                  wait_until(lambda: len(input_records(gw, "input")) >= 2, timeout=5),
                  gw.log()[-3000:])
        tap.eq("no Scheduled Event is sent for the schedule with Input",
               schedule_events(gw, "WithInput"), [])
        tap.eq("Enabled: false never fires", input_records(gw, "off"), [])
        tap.eq("nor does it enqueue anything", psql(
            "SELECT count(*) FROM async_dedupe WHERE dedupe_key LIKE 'sched:testfn:Off:%'"), "0")
        tap.eq("a yearly cron does not fire within seconds", schedule_events(gw, "Yearly"), [])
        keys = psql("SELECT count(*) FROM async_dedupe "
                    "WHERE dedupe_key LIKE 'sched:testfn:Tick:%'")
        tap.check("each tick went through the queue with a sched: dedupe key",
                  int(keys or 0) >= len(evs) >= 2, f"{keys} keys, {len(evs)} events")
    finally:
        gw.stop()
    time.sleep(0.3)


def test_no_scale_no_fire():
    psql("DELETE FROM async_events; DELETE FROM async_dedupe")
    # rate(1 day) at scale 1 fires at midnight UTC only: nothing within 2 s
    # (unless the test runs across midnight, which the check allows).
    gw = Gateway(TEMPLATE.replace("rate(1 minute)", "rate(1 day)")
                 .replace("cron(* * * * ? *)", "cron(0 0 1 1 ? 2199)"))
    try:
        time.sleep(2.0)
        near_midnight = time.gmtime().tm_hour == 0 and time.gmtime().tm_min == 0
        tap.check("at scale 1 a daily rate does not fire within 2 s",
                  near_midnight or schedule_events(gw, "Tick") == [], gw.log()[-2000:])
    finally:
        gw.stop()


def main():
    r = migrate()
    if not tap.check("migrations apply", r.returncode == 0, r.stderr):
        tap.done()
    tap.run(test_schedules)
    tap.run(test_no_scale_no_fire)
    tap.done()


if __name__ == "__main__":
    main()
