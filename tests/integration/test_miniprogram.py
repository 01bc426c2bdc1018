"""The WeChat mini-program's real client and page code (frontend/miniprogram)
against the real stack: the local gateway with deploy/template.yaml and
WECHAT_DEV_LOGIN=1, a database of its own, file:// storage.

tests/integration/miniprogram_live.js (node, no npm packages) builds the
pages from their factories with a wx whose request() does real HTTP, and
goes through: dev login, album create / list / edit, the upload of two real
JPEGs (made here with cjpeg) by the album page's queue (presigned PUT to the
gateway's /storage/, then complete) until the thumbnail pipeline has made
them ready, tag and description edit, the tag cloud, search by tag and by
text, a share link whose web page (/s/{token}, HTML) shows the photos'
thumbnails and whose api_url (JSON) lists them, move, trash, restore,
purge, a refused token (401 -> sign in again -> retry), the 409 message of a
duplicate album name in the form, and album delete.

Each step the script reports ("ok N - step" / "not ok N - step" with "# "
detail lines) is relayed as a check of its own; the script must finish with
its plan line and exit 0, and the gateway must stop cleanly with no
sanitizer reports."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import tap  # noqa: E402

RUN = os.getpid()
DB_NAME = f"miniprogram_live_{RUN}"
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "miniprogram_live.js")
# The steps miniprogram_live.js runs; fewer lines means it stopped early.
STEPS = 20
with open(os.path.join(lib.ROOT, "deploy/template.yaml")) as f:
    TEMPLATE = f.read()


def jpeg(path, w, h, seed):
    """A w x h JPEG (cjpeg from a PPM with a colour gradient) at path."""
    rows = []
    for y in range(h):
        rows.append(bytes(v for x in range(w) for v in
                          ((x * 4 + seed) % 256, (y * 4 + seed * 3) % 256, (x + y + seed * 7) % 256)))
    data = b"P6\n%d %d\n255\n" % (w, h) + b"".join(rows)
    out = subprocess.run(["cjpeg", "-quality", "85"], input=data, capture_output=True,
                         check=True, timeout=30).stdout
    with open(path, "wb") as f:
        f.write(out)


def relay(out):
    """Relays the script's TAP steps into tap; the number of steps seen and
    whether its plan line came."""
    steps, plan = 0, False
    pending = None  # (name, ok, detail lines)

    def flush():
        if pending:
            name, ok, detail = pending
            tap.check(f"mini-program: {name}", ok, "\n".join(detail))

    for line in out.splitlines():
        m = re.match(r"^(not )?ok \d+ - (.*)$", line)
        if m:
            flush()
            pending = (m.group(2), m.group(1) is None, [])
            steps += 1
        elif line.startswith("#") and pending:
            pending[2].append(line[1:].strip())
        elif re.match(r"^1\.\.\d+$", line):
            plan = True
    flush()
    return steps, plan


def main():
    work = os.path.join(lib.TMP, f"miniprogram-{RUN}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    photos = [os.path.join(work, "beach.jpg"), os.path.join(work, "palace.jpg")]
    jpeg(photos[0], 96, 64, 1)
    jpeg(photos[1], 64, 80, 2)

    url = lib.fresh_database(DB_NAME)
    m = lib.migrate(lib.fn_env(DATABASE_URL=url))
    if not tap.check("migrate the mini-program database", m.returncode == 0, m.stderr):
        return
    gw = lib.Gateway(TEMPLATE, env={"DATABASE_URL": url, "WECHAT_DEV_LOGIN": "1",
                                    "LOG_LEVEL": "warn"})
    try:
        env = dict(os.environ, BASE=f"http://127.0.0.1:{gw.port}")
        try:
            r = subprocess.run(["node", SCRIPT] + photos, env=env, capture_output=True,
                               text=True, timeout=120, cwd=lib.ROOT)
            out, err, rc = r.stdout, r.stderr, r.returncode
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            err, rc = "timed out after 120 s", "timeout"
        steps, plan = relay(out)
        tap.check("mini-program: every step ran and the script exited 0",
                  steps == STEPS and plan and rc == 0,
                  f"steps {steps} of {STEPS}, plan line {plan}, exit {rc}\n{err[-1500:]}")
    finally:
        gw.stop()
        lib.drop_database(DB_NAME, force=True)
        shutil.rmtree(work, ignore_errors=True)
    lib.stop_clean(gw, "gateway exits 0")  # stopped above: its exit status and log


tap.run(main)
tap.done()
