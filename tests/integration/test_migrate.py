"""build/bin/migrate against the test cluster, one fresh database per case."""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import tap  # noqa: E402

SQL_DIR = os.path.join(lib.ROOT, "sql")
_serial = [0]


def fresh_db(tag):
    """Creates an empty database; returns its DATABASE_URL."""
    _serial[0] += 1
    name = f"mig_{tag}_{os.getpid()}_{_serial[0]}"
    if "/app?" not in lib.DATABASE_URL:
        raise RuntimeError(f"unexpected DATABASE_URL {lib.DATABASE_URL!r}")
    return lib.fresh_database(name)


def q(url, sql):
    return lib.psql(sql, url=url)


def run(url, directory):
    return subprocess.run([lib.bin_path("migrate"), directory],
                          env=lib.fn_env(DATABASE_URL=url), capture_output=True,
                          text=True, timeout=60)


def make_dir(files):
    d = tempfile.mkdtemp(dir=lib.TMP, prefix="mig-")
    for name, text in files.items():
        path = os.path.join(d, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return d


def applied(url):
    rows = q(url, "SELECT version || ':' || name FROM schema_migrations ORDER BY version")
    return rows.split("\n") if rows else []


def table_exists(url, name):
    return q(url, f"SELECT to_regclass('{name}') IS NOT NULL") == "t"


def test_applies_project_sql():
    url = fresh_db("proj")
    p = run(url, SQL_DIR)
    tap.eq("project migrations: exit 0", p.returncode, 0)
    tap.check("project migrations: reports 001_init.sql", "applied 001_init.sql" in p.stdout,
              p.stdout + p.stderr)
    files = sorted(f for f in os.listdir(SQL_DIR)
                   if f[0].isdigit() and f.endswith(".sql"))
    tap.eq("project migrations: every file recorded", [a.split(":", 1)[1] for a in applied(url)],
           sorted(files, key=lambda f: int(f.split("_", 1)[0])))
    with open(os.path.join(SQL_DIR, "001_init.sql"), "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    tap.eq("project migrations: checksum is sha256 of the file",
           q(url, "SELECT checksum FROM schema_migrations WHERE version = 1"), want)
    tap.check("project migrations: articles table exists", table_exists(url, "articles"))
    # The seed loads on top, twice, without error or duplicates.
    seed = os.path.join(SQL_DIR, "seed", "demo.sql")
    for _ in range(2):
        s = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qf", seed],
                           capture_output=True, text=True, timeout=60)
        tap.eq("seed loads cleanly", s.returncode, 0)
    n = q(url, "SELECT count(*) FROM articles")
    tap.check("seed is idempotent (a few articles, no duplicates)", 3 <= int(n) <= 10, n)
    tap.eq("seed has a Chinese title with emoji",
           q(url, "SELECT count(*) FROM articles WHERE title LIKE '%你好%' AND title ~ '[\\U0001F300-\\U0001FAFF]'"),
           "1")

    # Re-running is a no-op.
    before = q(url, "SELECT string_agg(version || '@' || applied_at, ',') FROM schema_migrations")
    p = run(url, SQL_DIR)
    tap.eq("re-run: exit 0", p.returncode, 0)
    tap.check("re-run: nothing applied", "applied " not in p.stdout and "up to date" in p.stdout,
              p.stdout)
    tap.eq("re-run: schema_migrations unchanged",
           q(url, "SELECT string_agg(version || '@' || applied_at, ',') FROM schema_migrations"),
           before)
    tap.eq("re-run: no NOTICE noise on stderr", p.stderr, "")


def test_order_and_dependencies():
    url = fresh_db("order")
    d = make_dir({
        "2_a.sql": "CREATE TABLE a (id int);\n",
        "10_b.sql": "ALTER TABLE a ADD COLUMN b text;\nINSERT INTO a VALUES (1, 'x');\n",
        "001_first.sql": "CREATE TABLE first (id int);\n",
        "README.md": "not a migration\n",
        "003_notes.txt": "SELECT broken;\n",
        "x_004.sql": "SELECT broken;\n",
        "seed/005_demo.sql": "SELECT broken;\n",
    })
    os.makedirs(os.path.join(d, "006_dir.sql"))
    p = run(url, d)
    tap.eq("numeric order: exit 0", p.returncode, 0)
    tap.eq("numeric order: 1, 2, 10 (not 1, 10, 2)", applied(url),
           ["1:001_first.sql", "2:2_a.sql", "10:10_b.sql"])
    tap.check("numeric order: progress in order",
              p.stdout.find("2_a.sql") < p.stdout.find("10_b.sql"), p.stdout)
    tap.eq("numeric order: 10 ran after 2", q(url, "SELECT b FROM a"), "x")

    # A new file later is applied alone.
    with open(os.path.join(d, "11_c.sql"), "w") as f:
        f.write("CREATE TABLE c (id int);\n")
    p = run(url, d)
    tap.eq("new file: exit 0", p.returncode, 0)
    tap.check("new file: only it is applied",
              [l for l in p.stdout.splitlines() if l.startswith("applied ")] ==
              ["applied 11_c.sql"], p.stdout)


def test_edited_file_refused():
    url = fresh_db("edit")
    d = tempfile.mkdtemp(dir=lib.TMP, prefix="mig-")
    shutil.copytree(SQL_DIR, d, dirs_exist_ok=True)
    tap.eq("edit: first run ok", run(url, d).returncode, 0)
    with open(os.path.join(d, "001_init.sql"), "a") as f:
        f.write("\n-- an innocent-looking edit\n")
    with open(os.path.join(d, "900_new.sql"), "w") as f:
        f.write("CREATE TABLE should_not_exist (id int);\n")
    p = run(url, d)
    tap.eq("edit: exit 1", p.returncode, 1)
    tap.check("edit: clear message naming the file",
              "migration 001_init.sql was changed after it was applied (checksum" in p.stderr,
              p.stderr)
    tap.check("edit: nothing else ran", not table_exists(url, "should_not_exist"))
    tap.eq("edit: nothing recorded", [a for a in applied(url) if a.startswith("900:")], [])


def test_failing_migration_rolls_back():
    url = fresh_db("fail")
    d = make_dir({
        "001_ok.sql": "CREATE TABLE ok (id int);\n",
        "002_bad.sql": ("CREATE TABLE half (id int);\n"
                        "INSERT INTO half VALUES (1);\n"
                        "SELECT * FROM no_such_table;\n"),
        "003_later.sql": "CREATE TABLE later (id int);\n",
    })
    p = run(url, d)
    tap.eq("failing: exit 1", p.returncode, 1)
    tap.check("failing: message names the file and the server error",
              "002_bad.sql" in p.stderr and "no_such_table" in p.stderr and
              "does not exist" in p.stderr, p.stderr)
    tap.check("failing: message gives the line", "line 3" in p.stderr, p.stderr)
    tap.check("failing: its table is absent", not table_exists(url, "half"))
    tap.eq("failing: earlier file kept, failing one not recorded", applied(url), ["1:001_ok.sql"])
    tap.check("failing: later files not run", not table_exists(url, "later"))

    # Fixed, the run carries on from there.
    with open(os.path.join(d, "002_bad.sql"), "w") as f:
        f.write("CREATE TABLE half (id int);\n")
    p = run(url, d)
    tap.eq("fixed: exit 0", p.returncode, 0)
    tap.eq("fixed: all recorded", applied(url),
           ["1:001_ok.sql", "2:002_bad.sql", "3:003_later.sql"])


def test_refusals():
    url = fresh_db("refuse")
    d = make_dir({"001_a.sql": "CREATE TABLE a (id int);\n",
                  "1_b.sql": "CREATE TABLE b (id int);\n"})
    p = run(url, d)
    tap.eq("duplicate numbers: exit 1", p.returncode, 1)
    tap.check("duplicate numbers: says so",
              "duplicate migration number 1" in p.stderr and "001_a.sql" in p.stderr and
              "1_b.sql" in p.stderr, p.stderr)
    tap.check("duplicate numbers: nothing ran", not table_exists(url, "a"))

    d = make_dir({"001_a.sql": "CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);\n"})
    p = run(url, d)
    tap.eq("COMMIT inside a file: exit 1", p.returncode, 1)
    tap.check("COMMIT inside a file: says so", "ended its transaction" in p.stderr, p.stderr)

    p = run(url, os.path.join(lib.TMP, "no-such-dir"))
    tap.eq("missing directory: exit 1", p.returncode, 1)
    tap.check("missing directory: says so", "cannot open migrations directory" in p.stderr,
              p.stderr)

    p = subprocess.run([lib.bin_path("migrate"), SQL_DIR],
                       env=lib.fn_env(DATABASE_URL="postgresql://127.0.0.1:1/none"),
                       capture_output=True, text=True, timeout=60)
    tap.eq("no server: exit 1", p.returncode, 1)
    tap.check("no server: clear message", "cannot connect to the database" in p.stderr, p.stderr)

    p = subprocess.run([lib.bin_path("migrate"), "a", "b"], env=lib.fn_env(),
                       capture_output=True, text=True, timeout=60)
    tap.eq("two arguments: exit 1", p.returncode, 1)
    tap.check("two arguments: usage", "usage: migrate" in p.stderr, p.stderr)


def test_concurrent_runners():
    """The advisory lock: two runners at once apply each file exactly once."""
    url = fresh_db("lock")
    d = make_dir({
        "001_slow.sql": "SELECT pg_sleep(0.5);\nCREATE TABLE slow (id int);\n",
        "002_next.sql": "CREATE TABLE next (id int);\n",
    })
    results = [None, None]

    def worker(i):
        results[i] = run(url, d)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tap.eq("concurrent: both exit 0", [r.returncode for r in results], [0, 0])
    tap.eq("concurrent: files applied once in total",
           sum(r.stdout.count("applied 0") for r in results), 2)
    tap.eq("concurrent: recorded once", applied(url), ["1:001_slow.sql", "2:002_next.sql"])


def test_default_dir():
    """Without DIR the program reads ./sql."""
    url = fresh_db("default")
    p = subprocess.run([os.path.abspath(lib.bin_path("migrate"))], cwd=lib.ROOT,
                       env=lib.fn_env(DATABASE_URL=url), capture_output=True, text=True,
                       timeout=60)
    tap.eq("default dir: exit 0", p.returncode, 0)
    tap.check("default dir: applied sql/001_init.sql", "1:001_init.sql" in applied(url),
              p.stdout + p.stderr)


for t in (test_applies_project_sql, test_order_and_dependencies, test_edited_file_refused,
          test_failing_migration_rolls_back, test_refusals, test_concurrent_runners,
          test_default_dir):
    tap.run(t)
tap.done()
