"""`BIN invoke [FILE]` of the real articles function with every event kind.

Checks the response shapes of API Gateway v1 / v2, Tencent API Gateway and
direct invokes, that malformed events get 400 responses (never a crash),
that oversize bodies and events get 413, and that FILE is read too.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import ROOT, TMP, bin_path, fn_env, invoke, is_error, migrate, psql, tap  # noqa: E402

EVENTS = os.path.join(ROOT, "tests/integration/events")
ARTICLE_IDS = []


def load(name, article_id=None):
    with open(os.path.join(EVENTS, name)) as f:
        text = f.read()
    if article_id is not None:
        text = text.replace("ARTICLE_ID", str(article_id))
    return json.loads(text) if name.endswith(".json") else text


def body_json(resp):
    try:
        return json.loads(resp["body"])
    except (TypeError, ValueError, KeyError):
        return None


def setup():
    r = migrate()
    tap.check("migrations apply", r.returncode == 0, r.stderr)
    psql("DELETE FROM articles WHERE slug LIKE 'invoke-test-%'")
    for i in range(2):
        out = psql(
            "INSERT INTO articles (title, slug, body_md, status, published_at) "
            f"VALUES ('Invoke test {i} ✓', 'invoke-test-{i}', 'body', 'published', "
            f"now() - interval '{i + 1} minutes') RETURNING id")
        ARTICLE_IDS.append(int(out.splitlines()[0]))


def test_v1():
    aid = ARTICLE_IDS[0]
    rc, resp, err = invoke("articles", load("apigw_v1.json", aid))
    tap.eq("v1: exit 0", rc, 0)
    tap.check("v1: response is an object", isinstance(resp, dict), err)
    tap.eq("v1: statusCode 200", resp.get("statusCode"), 200)
    tap.check("v1: headers and multiValueHeaders are objects",
              isinstance(resp.get("headers"), dict)
              and isinstance(resp.get("multiValueHeaders"), dict), resp)
    tap.eq("v1: isBase64Encoded false", resp.get("isBase64Encoded"), False)
    hdrs = {k.lower(): v for k, v in resp["headers"].items()}
    tap.check("v1: JSON content type", hdrs.get("content-type", "").startswith("application/json"),
              hdrs)
    tap.check("v1: X-Request-Id set", len(hdrs.get("x-request-id", "")) > 0, hdrs)
    body = body_json(resp)
    tap.check("v1: body is the article", isinstance(body, dict) and body.get("id") == aid
              and body.get("title") == "Invoke test 0 ✓", resp.get("body"))


def test_v1_query_and_errors():
    ev = load("apigw_v1.json", 0)
    ev["path"] = "/api/articles"
    ev["queryStringParameters"] = {"limit": "1"}
    ev["multiValueQueryStringParameters"] = {"limit": ["1"]}
    rc, resp, _ = invoke("articles", ev)
    body = body_json(resp) or {}
    tap.check("v1 list: one item with limit=1",
              resp["statusCode"] == 200 and len(body.get("items", [])) == 1, resp)
    tap.check("v1 list: next_cursor for the second page", isinstance(body.get("next_cursor"), str),
              body)

    ev["queryStringParameters"] = {"limit": "0"}
    ev["multiValueQueryStringParameters"] = None
    rc, resp, _ = invoke("articles", ev)
    tap.check("v1: out-of-range query parameter is a 400 naming it",
              resp["statusCode"] == 400 and is_error(body_json(resp), field="limit"), resp)

    rc, resp, _ = invoke("articles", load("apigw_v1.json", 999999999))
    tap.check("v1: missing article is a 404 in the error shape",
              resp["statusCode"] == 404 and is_error(body_json(resp), "not_found"), resp)


def test_v2():
    rc, resp, err = invoke("articles", load("apigw_v2.json"))
    tap.eq("v2: exit 0", rc, 0)
    tap.eq("v2: statusCode 200", resp.get("statusCode"), 200)
    tap.check("v2: no multiValueHeaders", "multiValueHeaders" not in resp, resp)
    tap.check("v2: cookies is a list", isinstance(resp.get("cookies", []), list), resp)
    tap.check("v2: headers hold plain strings",
              all(isinstance(v, str) for v in resp.get("headers", {}).values()), resp)
    body = body_json(resp) or {}
    tap.check("v2: rawQueryString reached the handler (limit=1)",
              len(body.get("items", [])) == 1, body)

    ev = load("apigw_v2.json")
    ev["rawPath"] = f"/api/articles/{ARTICLE_IDS[1]}"
    ev["requestContext"]["http"]["path"] = ev["rawPath"]
    ev["rawQueryString"] = ""
    rc, resp, _ = invoke("articles", ev)
    tap.check("v2: one article by rawPath",
              resp["statusCode"] == 200 and (body_json(resp) or {}).get("id") == ARTICLE_IDS[1],
              resp)

    ev["rawQueryString"] = "limit=%zz"
    ev["rawPath"] = "/api/articles"
    rc, resp, _ = invoke("articles", ev)
    tap.check("v2: malformed rawQueryString is a 400 invalid_event",
              resp["statusCode"] == 400 and is_error(body_json(resp), "invalid_event"), resp)


def test_tencent():
    rc, resp, err = invoke("articles", load("tencent_apigw.json", ARTICLE_IDS[0]))
    tap.eq("tencent: exit 0", rc, 0)
    tap.check("tencent: integration response keys",
              isinstance(resp, dict) and {"isBase64Encoded", "statusCode", "headers", "body"}
              <= set(resp), resp)
    tap.eq("tencent: statusCode 200", resp.get("statusCode"), 200)
    tap.check("tencent: body is the article",
              (body_json(resp) or {}).get("id") == ARTICLE_IDS[0], resp)


def test_direct():
    rc, resp, err = invoke("articles", load("direct.json"))
    tap.eq("direct: exit 0", rc, 0)
    body = body_json(resp) or {}
    tap.check("direct: 200 with one item (numeric query value)",
              resp.get("statusCode") == 200 and len(body.get("items", [])) == 1, resp)
    rc, resp, _ = invoke("articles", {"method": "GET", "path": "/api/health"})
    tap.check("direct: health answers 200 ok",
              resp["statusCode"] == 200 and (body_json(resp) or {}).get("status") == "ok", resp)
    rc, resp, _ = invoke("articles", {"method": "HEAD", "path": "/api/health"})
    tap.check("direct: HEAD has status 200 and no body",
              resp["statusCode"] == 200 and resp["body"] == "", resp)
    rc, resp, _ = invoke("articles", {"method": "DELETE", "path": "/api/health"})
    tap.eq("direct: wrong method is 405", resp["statusCode"], 405)


def test_platform_events():
    for name in ("s3.json", "cos.json", "schedule.json", "scf_timer.json"):
        rc, resp, err = invoke("articles", load(name))
        # articles has no EVENT routes: a well-formed 404, not a crash.
        tap.check(f"{name}: answered without an event route (404)",
                  rc == 0 and resp is not None and resp.get("statusCode") == 404
                  and is_error(body_json(resp)), f"{rc} {resp} {err[-500:]}")


def test_malformed():
    cases = [
        ("malformed_not_json.txt", None),
        ("malformed_unknown.json", None),
        ("malformed_method_number.json", "httpMethod"),
        ("malformed_relative_path.json", "path"),
        ("malformed_base64.json", "body"),
    ]
    for name, field in cases:
        rc, resp, err = invoke("articles", load(name))
        tap.check(f"{name}: 400 invalid_event, exit 0",
                  rc == 0 and resp is not None and resp.get("statusCode") == 400
                  and is_error(body_json(resp), "invalid_event", field),
                  f"{rc} {resp} {err[-500:]}")
    rc, resp, _ = invoke("articles", "")
    tap.check("empty input: 400 invalid_event", rc == 0 and resp["statusCode"] == 400, resp)
    rc, resp, _ = invoke("articles", "[]")
    tap.check("array event: 400 invalid_event", rc == 0 and resp["statusCode"] == 400, resp)


def test_oversize():
    env = fn_env(MAX_BODY_BYTES="1K")
    ev = {"method": "POST", "path": "/api/health", "body": "x" * 2000}
    rc, resp, _ = invoke("articles", ev, env=env)
    tap.check("body over MAX_BODY_BYTES: 413 payload_too_large",
              rc == 0 and resp["statusCode"] == 413
              and is_error(body_json(resp), "payload_too_large"), resp)
    ev["body"] = "x" * 900
    rc, resp, _ = invoke("articles", ev, env=env)
    tap.check("body under MAX_BODY_BYTES reaches the router (405)", resp["statusCode"] == 405,
              resp)
    # The whole event is capped at 2 * max_body + 1 MiB before parsing.
    big = json.dumps({"method": "GET", "path": "/api/health", "pad": "y" * (1100 * 1024)})
    rc, resp, _ = invoke("articles", big, env=env)
    tap.check("event over the read cap: 413",
              rc == 0 and resp is not None and resp["statusCode"] == 413, resp)


def test_file_and_cli():
    path = os.path.join(TMP, "invoke-event.json")
    with open(path, "w") as f:
        json.dump(load("tencent_apigw.json", ARTICLE_IDS[1]), f)
    p = subprocess.run([bin_path("articles"), "invoke", path], env=fn_env(),
                       capture_output=True, text=True, timeout=30)
    resp = json.loads(p.stdout) if p.returncode == 0 else None
    tap.check("invoke FILE: reads the event from the file",
              resp is not None and resp["statusCode"] == 200
              and (body_json(resp) or {}).get("id") == ARTICLE_IDS[1], p.stdout + p.stderr)
    tap.check("invoke FILE: one line of JSON", p.stdout.endswith("\n")
              and p.stdout.count("\n") == 1, p.stdout)

    p = subprocess.run([bin_path("articles"), "invoke", path + ".missing"], env=fn_env(),
                       capture_output=True, text=True, timeout=30)
    tap.check("invoke of a missing FILE exits 1 with a message",
              p.returncode == 1 and "missing" in p.stderr and p.stdout == "", p.stderr)

    p = subprocess.run([bin_path("articles"), "invoke"], input="{}",
                       env=fn_env(MAX_BODY_BYTES="abc"), capture_output=True, text=True,
                       timeout=30)
    tap.check("bad configuration exits 1 naming the variable",
              p.returncode == 1 and "MAX_BODY_BYTES" in p.stderr and "abc" not in p.stderr,
              p.stderr)

    p = subprocess.run([bin_path("articles"), "--help"], env=fn_env(), capture_output=True,
                       text=True, timeout=30)
    tap.check("--help prints usage and exits 0",
              p.returncode == 0 and "invoke" in p.stdout and "DATABASE_URL" in p.stdout,
              p.stdout + p.stderr)
    p = subprocess.run([bin_path("articles"), "--bogus"], env=fn_env(), capture_output=True,
                       text=True, timeout=30)
    tap.check("unknown argument: usage on stderr, exit 2",
              p.returncode == 2 and "usage" in p.stderr, p.stderr)


def main():
    tap.run(setup)
    if ARTICLE_IDS:
        for t in (test_v1, test_v1_query_and_errors, test_v2, test_tencent, test_direct,
                  test_platform_events, test_malformed, test_oversize, test_file_and_cli):
            tap.run(t)
    else:
        tap.check("test articles could be created", False)
    tap.done()


main()
