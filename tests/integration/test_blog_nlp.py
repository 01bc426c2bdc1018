"""The nlp function in HTTP mode: keywords and summaries of English and Chinese
samples, validation, document frequencies from the article corpus changing the
ranking, and keywords without the database (idf 1, "docs": null)."""
import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import tap  # noqa: E402

# Its own database: the corpus statistics must hold only what this file adds.
DB_NAME = f"nlp_{os.getpid()}"
URL = lib.fresh_database(DB_NAME)
ENV = lib.fn_env(DATABASE_URL=URL)

EN_TEXT = (
    "PostgreSQL is a powerful open source database. Its indexes make queries fast: a "
    "B-tree index answers equality and range queries, and a GIN index answers full-text "
    "search queries.\n\n"
    "Choosing the right index matters. Without an index, the database reads every row of "
    "the table, which is slow for large tables. With the right index, PostgreSQL reads "
    "only a few pages.\n\n"
    "The weather was nice yesterday. We went for a walk.\n\n"
    "In conclusion, a well-chosen index is the cheapest way to make a PostgreSQL database "
    "fast.")
EN_SUMMARY = (
    "PostgreSQL is a powerful open source database. Without an index, the database reads "
    "every row of the table, which is slow for large tables. In conclusion, a well-chosen "
    "index is the cheapest way to make a PostgreSQL database fast.")

ZH_TEXT = (
    "云计算让开发者不再需要管理服务器。函数计算是云计算的一种服务形式，开发者只需要编写函数，"
    "平台负责运行函数和扩展服务器。\n"
    "函数按调用次数计费，没有请求时不产生费用。今天的天气很好。\n"
    "总之，函数计算降低了服务器运维的成本，是云计算的重要方向。")
ZH_SUMMARY = ("云计算让开发者不再需要管理服务器。"
              "总之，函数计算降低了服务器运维的成本，是云计算的重要方向。")


def terms(obj):
    return [k["term"] for k in obj["keywords"]]


lib.migrate_or_done(ENV)

srv = lib.Server("nlp", env=ENV)


def test_keywords_english():
    status, hdrs, obj = srv.json("POST", "/api/nlp/keywords", {"text": EN_TEXT, "count": 5})
    tap.eq("keywords (en): 200", status, 200)
    tap.check("keywords (en): JSON", hdrs.get("content-type", "").startswith("application/json"),
              hdrs)
    tap.eq("keywords (en): count honoured", len(obj["keywords"]), 5)
    tap.eq("keywords (en): index first", obj["keywords"][0]["term"], "index")
    tap.check("keywords (en): topic words on top",
              {"database", "postgresql"} <= set(terms(obj)[:3]), terms(obj))
    tap.check("keywords (en): off-topic words absent", "weather" not in terms(obj), terms(obj))
    scores = [k["score"] for k in obj["keywords"]]
    tap.check("keywords (en): best first", scores == sorted(scores, reverse=True), scores)
    tap.eq("keywords (en): empty corpus", obj["docs"], 0)
    # default count is 10
    status, _, obj = srv.json("POST", "/api/nlp/keywords", {"text": EN_TEXT})
    tap.eq("keywords (en): default count 10", (status, len(obj["keywords"])), (200, 10))


def test_keywords_chinese():
    status, _, obj = srv.json("POST", "/api/nlp/keywords", {"text": ZH_TEXT, "count": 5})
    tap.eq("keywords (zh): 200", status, 200)
    tap.check("keywords (zh): 函数 计算 服务 on top",
              set(terms(obj)[:3]) == {"函数", "计算", "服务"}, terms(obj))
    tap.check("keywords (zh): no particle bigrams",
              not any("的" in t or "了" in t for t in terms(obj)), terms(obj))
    # emoji and mixed scripts
    status, _, obj = srv.json("POST", "/api/nlp/keywords",
                              {"text": "Serverless 🚀 函数 函数 serverless 😀", "count": 2})
    tap.eq("keywords (mixed): terms", (status, terms(obj)), (200, ["serverless", "函数"]))
    status, _, obj = srv.json("POST", "/api/nlp/keywords", {"text": "。！？ … !!"})
    tap.eq("keywords: punctuation only -> []", (status, obj["keywords"]), (200, []))


def test_summary():
    status, _, obj = srv.json("POST", "/api/nlp/summary", {"text": EN_TEXT})
    tap.eq("summary (en): 200", status, 200)
    tap.eq("summary (en): chosen sentences in order", obj["summary"], EN_SUMMARY)
    tap.eq("summary (en): sentence count", obj["sentences"], 3)
    status, _, obj = srv.json("POST", "/api/nlp/summary", {"text": ZH_TEXT, "count": 2})
    tap.eq("summary (zh): chosen sentences, no space", (status, obj["summary"]),
           (200, ZH_SUMMARY))
    tap.eq("summary (zh): sentence count", obj["sentences"], 2)
    status, _, obj = srv.json("POST", "/api/nlp/summary",
                              {"text": "Pi is about 3.14 in most cases. Tau is twice that.",
                               "count": 20})
    tap.eq("summary: count beyond sentences gives all, 3.14 whole",
           (status, obj["summary"], obj["sentences"]),
           (200, "Pi is about 3.14 in most cases. Tau is twice that.", 2))
    for text in (" ", "。！？...", "\n\n\t"):
        status, _, obj = srv.json("POST", "/api/nlp/summary", {"text": text})
        tap.eq(f"summary of {text!r} is empty", (status, obj), (200, {"summary": "",
                                                                     "sentences": 0}))


def test_validation():
    cases = [
        ("/api/nlp/keywords", {}, 422, "text"),
        ("/api/nlp/keywords", {"text": ""}, 422, "text"),
        ("/api/nlp/keywords", {"text": 42}, 422, "text"),
        ("/api/nlp/keywords", {"text": "x" * 200001}, 422, "text"),
        ("/api/nlp/keywords", {"text": "ok", "count": 0}, 422, "count"),
        ("/api/nlp/keywords", {"text": "ok", "count": 51}, 422, "count"),
        ("/api/nlp/keywords", {"text": "ok", "count": "3"}, 422, "count"),
        ("/api/nlp/summary", {"count": 2}, 422, "text"),
        ("/api/nlp/summary", {"text": "ok", "count": 21}, 422, "count"),
        ("/api/nlp/summary", {"text": "ok", "count": 1.5}, 422, "count"),
        ("/api/nlp/summary", [1, 2], 422, None),
    ]
    for path, body, want, field in cases:
        status, _, obj = srv.json("POST", path, body)
        tap.check(f"{path} {json.dumps(body)[:40]} -> {want} {field}",
                  status == want and lib.is_error(obj, "validation_failed", field)
                  and (field is not None or "field" not in obj["error"]), (status, obj))
    for path in ("/api/nlp/keywords", "/api/nlp/summary"):
        status, _, obj = srv.json("POST", path, "{\"text\": ",
                                  {"Content-Type": "application/json"})
        tap.check(f"{path}: invalid JSON -> 400", status == 400 and lib.is_error(obj), obj)
        status, _, obj = srv.json("POST", path, "text=hello",
                                  {"Content-Type": "application/x-www-form-urlencoded"})
        tap.check(f"{path}: form body -> 415", status == 415 and lib.is_error(obj), obj)
        status, hdrs, _ = srv.json("GET", path)
        tap.check(f"{path}: GET -> 405 with Allow", status == 405 and "POST" in
                  hdrs.get("allow", ""), (status, hdrs))
    # the upper limits themselves are accepted
    status, _, obj = srv.json("POST", "/api/nlp/keywords",
                              {"text": "云" * 200000, "count": 50})
    tap.eq("200000 characters accepted", (status, obj and obj["keywords"][:1]),
           (200, [{"term": "云云", "score": 1.0}]))


def test_corpus_df():
    text = "server server server lambda lambda"
    status, _, obj = srv.json("POST", "/api/nlp/keywords", {"text": text})
    tap.eq("df: without a corpus the frequent word leads", (status, terms(obj)),
           (200, ["server", "lambda"]))
    # 20 articles all mention "server", none "lambda": server's idf drops to 1.
    values = ", ".join(f"('Server {i}', 'nlp-df-{i}', ARRAY['server', 'other{i}'])"
                       for i in range(20))
    out = subprocess.run(["psql", URL, "-v", "ON_ERROR_STOP=1", "-tAq", "-c",
                              f"INSERT INTO articles (title, slug, terms) VALUES {values}"],
                             capture_output=True, text=True, timeout=60)
    tap.eq("df: corpus inserted", out.returncode, 0)
    status, _, obj = srv.json("POST", "/api/nlp/keywords", {"text": text})
    tap.eq("df: the common word drops below the rarer one", (status, terms(obj)),
           (200, ["lambda", "server"]))
    tap.eq("df: corpus size reported", obj["docs"], 20)
    scores = {k["term"]: k["score"] for k in obj["keywords"]}
    # idf = ln((20 + 1) / (df + 1)) + 1
    tap.check("df: scores are tf * idf",
              abs(scores["server"] - 0.6) < 1e-9
              and abs(scores["lambda"] - 0.4 * (1 + math.log(21))) < 1e-9,
              scores)


def test_without_db():
    env = lib.fn_env(DATABASE_URL=f"postgresql://127.0.0.1:{lib.free_port()}/none"
                                  "?connect_timeout=2")
    down = lib.Server("nlp", env=env)
    try:
        status, _, obj = down.json("POST", "/api/nlp/keywords",
                                   {"text": "server server lambda", "count": 2})
        tap.eq("no database: keywords still answer with idf 1",
               (status, obj and terms(obj), obj and obj["docs"]),
               (200, ["server", "lambda"], None))
        status, _, obj = down.json("POST", "/api/nlp/summary", {"text": EN_TEXT})
        tap.eq("no database: summary answers", (status, obj and obj["summary"]),
               (200, EN_SUMMARY))
    finally:
        down.stop()
        log = down.log()
        tap.check("no database: no sanitizer reports", lib.sanitizer_clean(log), log[-3000:])


try:
    for t in (test_keywords_english, test_keywords_chinese, test_summary, test_validation,
              test_corpus_df, test_without_db):
        tap.run(t)
finally:
    lib.stop_clean(srv)
    lib.drop_database(DB_NAME)
tap.done()
