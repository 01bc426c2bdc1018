"""The trigger-kept tag counts (sql/009_tag_counts.sql) the tag cloud reads:
the migration's backfill of existing data, then a few hundred random writes
(articles published, drafted, scheduled, deleted; tags put on, taken off,
moved, deleted), each followed by a comparison with a count made from
scratch; and the public cloud (/api/tags) and category counts
(/api/categories) equal to the same counts made the slow way."""
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import lib  # noqa: E402
from lib import tap  # noqa: E402

URL = lib.fresh_database(f"tag_counts_{os.getpid()}")
ENV = lib.fn_env(DATABASE_URL=URL)
RNG = random.Random(9)


def q(sql):
    return lib.psql(sql, url=URL)


# Counts from scratch: non-draft articles per tag (what tag_counts keeps),
# and public ones (what readers see).
TRUTH = ("SELECT COALESCE(string_agg(tag_id || ':' || n, ',' ORDER BY tag_id), '') FROM ("
         " SELECT x.tag_id, count(*) AS n FROM article_tags x"
         " JOIN articles a ON a.id = x.article_id WHERE a.status <> 'draft'"
         " GROUP BY x.tag_id) s")
KEPT = ("SELECT COALESCE(string_agg(tag_id || ':' || n, ',' ORDER BY tag_id), '')"
        " FROM tag_counts WHERE n > 0")


def status_sql(kind):
    return {"draft": "'draft', NULL",
            "published": "'published', now() - interval '1 hour'",
            "scheduled": "'scheduled', now() + interval '2 days'",
            "due": "'scheduled', now() - interval '1 minute'"}[kind]


N = [0]


def new_article(kind):
    N[0] += 1
    return q("INSERT INTO articles (title, slug, body_md, body_html, summary, status,"
             f" published_at) VALUES ('T{N[0]}', 'tc-{N[0]}', 'x', '<p>x</p>', 's',"
             f" {status_sql(kind)}) RETURNING id")


def new_tag():
    N[0] += 1
    return q(f"INSERT INTO tags (name, slug) VALUES ('tag{N[0]}', 'tag-{N[0]}') RETURNING id")


def ids(table):
    out = q(f"SELECT string_agg(id::text, ',') FROM {table}")
    return out.split(",") if out else []


def test_backfill():
    # Data written under 001-008, then 009 applied on top of it.
    old = os.path.join(lib.TMP, f"sql_upto_008_{os.getpid()}")
    os.makedirs(old, exist_ok=True)
    sql_dir = os.path.join(lib.ROOT, "sql")
    for name in sorted(os.listdir(sql_dir)):
        if name.endswith(".sql") and name < "009":
            shutil.copy(os.path.join(sql_dir, name), old)
    m = lib.migrate(ENV, sql_dir=old)
    tap.eq("migrations up to 008", m.returncode, 0)
    tags = [new_tag() for _ in range(5)]
    arts = [new_article(k) for k in ("published", "draft", "scheduled", "published", "due")]
    for i, a in enumerate(arts):
        for t in tags[: i + 1]:
            q(f"INSERT INTO article_tags VALUES ({a}, {t}, 'manual')")
    m = lib.migrate(ENV)
    tap.check("009 applies on top", m.returncode == 0, m.stderr)
    tap.eq("the backfill counts what is there", q(KEPT), q(TRUTH))
    tap.check("and there is something to count", q(KEPT) != "")


def random_write():
    arts, tags = ids("articles"), ids("tags")
    op = RNG.choice(["article", "article", "link", "link", "unlink", "status", "status",
                     "delete_article", "tag", "delete_tag", "move_link"])
    if op == "article" or not arts:
        a = new_article(RNG.choice(["draft", "published", "scheduled", "due"]))
        for t in RNG.sample(tags, min(len(tags), RNG.randint(0, 3))):
            q(f"INSERT INTO article_tags VALUES ({a}, {t}, 'auto')")
        return op
    if op == "tag" or not tags:
        new_tag()
        return "tag"
    a, t = RNG.choice(arts), RNG.choice(tags)
    if op == "link":
        q(f"INSERT INTO article_tags VALUES ({a}, {t}, 'manual') ON CONFLICT DO NOTHING")
    elif op == "unlink":
        q(f"DELETE FROM article_tags WHERE article_id = {a} AND tag_id = {t}")
    elif op == "status":
        kind = RNG.choice(["draft", "published", "scheduled", "due"])
        q(f"UPDATE articles SET (status, published_at) = ({status_sql(kind)}) WHERE id = {a}")
    elif op == "delete_article":
        q(f"DELETE FROM articles WHERE id = {a}")
    elif op == "delete_tag":
        q(f"DELETE FROM tags WHERE id = {t}")
    elif op == "move_link":
        q(f"UPDATE article_tags SET tag_id = {t} WHERE (article_id, tag_id) IN"
          f" (SELECT article_id, tag_id FROM article_tags WHERE article_id = {a}"
          f"  AND tag_id <> {t} AND NOT EXISTS (SELECT 1 FROM article_tags"
          f"  WHERE article_id = {a} AND tag_id = {t}) LIMIT 1)")
    return op


def test_random_writes():
    for _ in range(12):
        new_tag()
    bad, ops = [], {}
    for i in range(300):
        op = random_write()
        ops[op] = ops.get(op, 0) + 1
        kept, truth = q(KEPT), q(TRUTH)
        if kept != truth:
            bad.append((i, op, kept, truth))
    tap.check("300 random writes: the kept counts equal a fresh count after each",
              not bad, bad[:3])
    tap.check("every kind of write happened", len(ops) == 8, ops)
    tap.eq("no count below zero", q("SELECT count(*) FROM tag_counts WHERE n < 0"), "0")


def test_api_counts():
    event = {"version": "2.0", "rawPath": "/api/tags", "rawQueryString": "limit=200",
             "requestContext": {"http": {"method": "GET", "path": "/api/tags"}}}
    rc, out, err = lib.invoke("articles", event, ENV)
    got = sorted((t["slug"], t["article_count"])
                 for t in lib.json.loads(out["body"])["items"]) if rc == 0 and out else None
    want = q("SELECT string_agg(slug || ':' || n, ',' ORDER BY slug) FROM ("
             " SELECT t.slug, count(*) AS n FROM tags t JOIN article_tags x ON x.tag_id = t.id"
             " JOIN articles a ON a.id = x.article_id"
             " WHERE a.status <> 'draft' AND a.published_at <= now() GROUP BY t.id) s")
    want = sorted((s.rsplit(":", 1)[0], int(s.rsplit(":", 1)[1]))
                  for s in want.split(",")) if want else []
    tap.check("the public tag cloud counts only public articles", got == want and want,
              (got, want, err[-300:]))

    cat = q("INSERT INTO categories (name, slug) VALUES ('Cat', 'cat') RETURNING id")
    q(f"UPDATE articles SET category_id = {cat} WHERE id IN"
      " (SELECT id FROM articles ORDER BY id LIMIT 40)")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/api/categories"
    rc, out, err = lib.invoke("articles", event, ENV)
    items = lib.json.loads(out["body"])["items"] if rc == 0 and out else []
    want = q(f"SELECT count(*) FROM articles WHERE category_id = {cat} AND status <> 'draft'"
             " AND published_at <= now()")
    got = [c["article_count"] for c in items if c["slug"] == "cat"]
    tap.check("the category count is its public articles (scheduled ones excluded)",
              got == [int(want)] and q(f"SELECT count(*) FROM articles WHERE category_id = {cat}"
                                       " AND status = 'scheduled' AND published_at > now()")
              != "0", (got, want))


for t in (test_backfill, test_random_writes, test_api_counts):
    tap.run(t)
tap.done()
