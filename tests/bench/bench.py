"""Benchmarks for the articles function (see README "Benchmarks").

cold start: median wall time of `articles invoke EVENT` for a v2 GET
            /api/articles/{id} event, process start to exit, DB connect included
warm:       wrk, 32 connections, against `articles --http`: requests/s and p99
rss:        the function's peak RSS (VmHWM) after the warm run
gateway:    the same endpoint through build/bin/gateway versus direct HTTP mode,
            wrk at 64 connections: throughput ratio, p50 and p99 of each; the
            gateway's cold start (first request, worker spawn included) and its
            peak RSS under load
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.getcwd()
BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
BIN = os.path.join(ROOT, BUILD, "bin")
PG = os.path.join(ROOT, "deploy/local/pg")


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def main():
    tmp = tempfile.mkdtemp(prefix="fn-bench.")
    os.chmod(tmp, 0o755)
    pgdir = os.path.join(tmp, "pg")
    port = str(30000 + os.getpid() % 10000)
    env = dict(os.environ, PG_EXTRA_OPTS="-c fsync=off")
    sh(PG, "start", pgdir, port, env=env)
    try:
        url = sh(PG, "url", pgdir, port).strip()
        fenv = dict(os.environ, DATABASE_URL=url, APP_SECRET="bench-secret-0123456789abcdef",
                    LOG_LEVEL="error")
        sh(os.path.join(BIN, "migrate"), os.path.join(ROOT, "sql"), env=fenv)
        # 10,000 articles; every sixth one is about each topic word, so a
        # search matches about 1,700 of them.
        subprocess.run(["psql", url, "-qc",
                        "INSERT INTO articles (title, slug, body_md, body_html, summary, status,"
                        " published_at) SELECT 'Article ' || i, 'article-' || i,"
                        " 'Notes on ' || t || '. ' || repeat('text ', 200),"
                        " '<p>Notes on ' || t || '. ' || repeat('text ', 200) || '</p>',"
                        " 'summary ' || i || ' ' || t, 'published', now() - i * interval '1 minute'"
                        " FROM generate_series(1, 10000) i, LATERAL (SELECT (ARRAY['postgresql',"
                        " 'serverless', 'gateway', 'thumbnail', '云计算', '函数计算'])"
                        "[1 + i % 6] AS t) topic"], check=True)
        # 8 categories, 300 tags, three tags on every article: the pages'
        # sidebar (category menu, tag cloud) has real counting to do.
        for sql in ("INSERT INTO categories (name, slug) SELECT 'Category ' || i,"
                    " 'category-' || i FROM generate_series(1, 8) i",
                    "UPDATE articles SET category_id ="
                    " (SELECT min(id) FROM categories) + id % 8",
                    "INSERT INTO tags (name, slug) SELECT 'tag' || i, 'tag-' || i"
                    " FROM generate_series(1, 300) i",
                    "INSERT INTO article_tags (article_id, tag_id, source)"
                    " SELECT a.id, (SELECT min(id) FROM tags) + (a.id * k) % 300, 'manual'"
                    " FROM articles a, generate_series(1, 3) k ON CONFLICT DO NOTHING"):
            subprocess.run(["psql", url, "-qc", sql], check=True)
        subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE"], check=True)
        cold(fenv, tmp)
        warm(fenv)
        if os.path.exists(os.path.join(BIN, "gateway")):
            gateway(fenv, tmp)
            blog(fenv, tmp)
    finally:
        subprocess.run([PG, "stop", pgdir])
        shutil.rmtree(tmp, ignore_errors=True)
    thumbs = os.path.join(ROOT, "tests", "bench", "thumbs.py")
    if os.path.exists(thumbs):
        subprocess.run([sys.executable, thumbs, BUILD], check=False)


def cold(env, tmp):
    event = {
        "version": "2.0", "routeKey": "GET /api/articles/{id}",
        "rawPath": "/api/articles/42", "rawQueryString": "",
        "headers": {"accept": "application/json"},
        "requestContext": {"http": {"method": "GET", "path": "/api/articles/42",
                                    "sourceIp": "127.0.0.1"}, "requestId": "bench"},
        "isBase64Encoded": False,
    }
    path = os.path.join(tmp, "event.json")
    with open(path, "w") as f:
        json.dump(event, f)
    times = []
    for i in range(60):
        t0 = time.perf_counter()
        p = subprocess.run([os.path.join(BIN, "articles"), "invoke", path], env=env,
                           capture_output=True)
        times.append((time.perf_counter() - t0) * 1000)
        if p.returncode != 0 or b'"statusCode":200' not in p.stdout:
            raise SystemExit(f"invoke failed: {p.stdout!r} {p.stderr!r}")
    times = times[5:]  # page cache warm-up
    # The same measurement for /bin/true: what process creation alone costs here.
    base = []
    for i in range(30):
        t0 = time.perf_counter()
        subprocess.run(["/bin/true"])
        base.append((time.perf_counter() - t0) * 1000)
    print(f"cold start (invoke, v2 GET /api/articles/42, DB connect included): "
          f"median {statistics.median(times):.2f} ms, p90 "
          f"{statistics.quantiles(times, n=10)[-1]:.2f} ms over {len(times)} runs "
          f"(spawning /bin/true costs {statistics.median(base):.2f} ms here)")


def warm(env):
    port = 40000 + os.getpid() % 10000
    proc = subprocess.Popen([os.path.join(BIN, "articles"), "--http", f"127.0.0.1:{port}"],
                            env=env)
    try:
        for _ in range(100):
            if subprocess.run(["curl", "-fs", "-o", "/dev/null",
                               f"http://127.0.0.1:{port}/api/health"]).returncode == 0:
                break
            time.sleep(0.05)
        out = sh("wrk", "-t2", "-c32", "-d10s", "--latency",
                 f"http://127.0.0.1:{port}/api/articles/42")
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
        p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        with open(f"/proc/{proc.pid}/status") as f:
            hwm = re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1)
        print(f"warm GET /api/articles/42 (wrk -t2 -c32 -d10s): {rps} req/s, p99 {p99}"
              + (f", {non2xx.group(1)} non-2xx" if non2xx else ""))
        print(f"peak RSS of the function: {int(hwm) / 1024:.1f} MiB")
    finally:
        proc.terminate()
        proc.wait()


def wrk(url, conns, seconds=10):
    out = sh("wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency", url)
    res = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "99"):
        m = re.search(pct + r"%\s+([\d.]+)(us|ms|s)\b", out)
        res["p" + pct] = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["errors"] = int(m.group(1)) if m else 0
    return res


def wait_http(url):
    for _ in range(200):
        if subprocess.run(["curl", "-fs", "-o", "/dev/null", url]).returncode == 0:
            return
        time.sleep(0.05)
    raise SystemExit(f"{url} did not answer")


def gateway(env, tmp):
    path = "/api/articles/42"
    dport = 41000 + os.getpid() % 5000
    direct = subprocess.Popen([os.path.join(BIN, "articles"), "--http", f"127.0.0.1:{dport}"],
                              env=env)
    try:
        wait_http(f"http://127.0.0.1:{dport}/api/health")
        d = wrk(f"http://127.0.0.1:{dport}{path}", 64)
    finally:
        direct.terminate()
        direct.wait()
    gport = dport + 1
    genv = dict(env, GATEWAY_ADDR=f"127.0.0.1:{gport}",
                STORAGE_URL="file://" + os.path.join(tmp, "objects"))
    gw = subprocess.Popen([os.path.join(BIN, "gateway"), "--template",
                           os.path.join(ROOT, "deploy/template.yaml"), "--bin-dir", BIN,
                           "--static", os.path.join(ROOT, "frontend/blog")], env=genv)
    try:
        wait_http(f"http://127.0.0.1:{gport}/healthz")
        t0 = time.perf_counter()
        wait_http(f"http://127.0.0.1:{gport}{path}")
        cold_ms = (time.perf_counter() - t0) * 1000
        g = wrk(f"http://127.0.0.1:{gport}{path}", 64)
        with open(f"/proc/{gw.pid}/status") as f:
            hwm = int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1))
    finally:
        gw.terminate()
        gw.wait()
    print(f"direct  GET {path} (wrk -c64): {d['rps']:.0f} req/s, p50 {d['p50']:.2f} ms, "
          f"p99 {d['p99']:.2f} ms, {d['errors']} non-2xx")
    print(f"gateway GET {path} (wrk -c64): {g['rps']:.0f} req/s, p50 {g['p50']:.2f} ms, "
          f"p99 {g['p99']:.2f} ms, {g['errors']} non-2xx")
    print(f"gateway/direct: throughput x{g['rps'] / d['rps']:.2f}, p50 "
          f"{(g['p50'] / d['p50'] - 1) * 100:+.0f}%, p99 {g['p99'] - d['p99']:+.2f} ms")
    print(f"gateway cold start (first request, worker spawn + DB connect): {cold_ms:.1f} ms")
    print(f"gateway peak RSS under load: {hwm / 1024:.1f} MiB")


def blog(env, tmp):
    """The blog's read paths through the gateway, 10,000 articles, wrk -c32."""
    gport = 43000 + os.getpid() % 5000
    genv = dict(env, GATEWAY_ADDR=f"127.0.0.1:{gport}",
                STORAGE_URL="file://" + os.path.join(tmp, "objects"))
    gw = subprocess.Popen([os.path.join(BIN, "gateway"), "--template",
                           os.path.join(ROOT, "deploy/template.yaml"), "--bin-dir", BIN,
                           "--static", os.path.join(ROOT, "frontend/blog")], env=genv)
    base = f"http://127.0.0.1:{gport}"
    try:
        wait_http(base + "/healthz")
        for name, path in (("article list", "/api/articles?limit=20"),
                           ("article by slug", "/api/articles/article-5000"),
                           ("search", "/api/search?q=serverless"),
                           ("home page (HTML)", "/"),
                           ("article page (HTML)", "/articles/article-5000")):
            wait_http(base + path)
            r = wrk(base + path, 32)
            print(f"blog via gateway, {name} ({path}, wrk -c32): {r['rps']:.0f} req/s, "
                  f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, {r['errors']} non-2xx")
    finally:
        gw.terminate()
        gw.wait()


main()
