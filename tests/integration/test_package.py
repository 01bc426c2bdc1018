"""`make package` (deploy/package): build/lambda/<fn>.zip is deployable as is
on Lambda's provided.al2023. Checks the layout (bootstrap at the root,
executable; lib/ with every non-glibc library, RPATH $ORIGIN/lib), then
unzips articles.zip into an empty folder and runs it with only the Lambda
variables (plus the database's) against a Runtime API server written here:
a v2 GET /api/health event gets a 200, and every shared library the process
maps comes from the package or from glibc.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (DATABASE_URL, ROOT, SECRET, TMP, RuntimeAPI, log_text, migrate,  # noqa: E402
                 reap, tap, wait_exit)

OUT = os.path.join(ROOT, "build", "lambda")
# glibc's libraries: every Linux runtime has them, the package must not need more.
GLIBC = re.compile(r"^(linux-vdso|ld-linux[-\w]*|libc|libm|libmvec|libpthread|libdl|librt|"
                   r"libresolv|libutil|libanl|libnss_\w+)\.so(\.\d+)*$")
# provided.al2023 is Amazon Linux 2023: glibc 2.34.
AL2023_GLIBC = (2, 34)


def functions():
    d = os.path.join(ROOT, "functions")
    return sorted(f for f in os.listdir(d) if os.path.isfile(os.path.join(d, f, "main.c")))


def readelf_dynamic(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)
    paths = re.findall(r"\((?:RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[(.+?)\]", out)
    return needed, paths


def max_glibc(path):
    out = subprocess.run(["objdump", "-T", path], capture_output=True, text=True).stdout
    vers = [tuple(int(x) for x in v.split(".")) for v in re.findall(r"GLIBC_(\d+\.\d+(?:\.\d+)?)",
                                                                     out)]
    return max(vers) if vers else (0, 0)


def test_package():
    t0 = time.time()
    r = subprocess.run([os.path.join(ROOT, "deploy", "package")], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    tap.check("deploy/package: exit 0", r.returncode == 0, r.stdout[-1500:] + r.stderr[-1500:])
    tap.check("deploy/package: under two minutes", time.time() - t0 < 120,
              f"{time.time() - t0:.0f} s")
    for fn in functions():
        z = os.path.join(OUT, f"{fn}.zip")
        if not tap.check(f"{fn}.zip exists", os.path.isfile(z)):
            continue
        with zipfile.ZipFile(z) as zf:
            infos = {i.filename: i for i in zf.infolist()}
        boot = infos.get("bootstrap")
        tap.check(f"{fn}.zip: bootstrap at the root, mode 755",
                  boot is not None and (boot.external_attr >> 16) & 0o777 == 0o755,
                  sorted(infos))
        tap.check(f"{fn}.zip: only bootstrap and lib/",
                  all(n == "bootstrap" or n.startswith("lib/") for n in infos), sorted(infos))
        tap.check(f"{fn}.zip: lib/ present", any(n.startswith("lib/") for n in infos))


def unpack(fn):
    """Extracts the zip as Lambda does into an empty folder, keeping modes."""
    dest = tempfile.mkdtemp(prefix=f"task-{fn}-", dir=TMP)
    with zipfile.ZipFile(os.path.join(OUT, f"{fn}.zip")) as zf:
        for info in zf.infolist():
            zf.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(os.path.join(dest, info.filename), mode)
    return dest


def test_libraries(dest):
    boot = os.path.join(dest, "bootstrap")
    libdir = os.path.join(dest, "lib")
    bundled = set(os.listdir(libdir)) if os.path.isdir(libdir) else set()
    needed, paths = readelf_dynamic(boot)
    tap.eq("bootstrap: library path is $ORIGIN/lib", paths, ["$ORIGIN/lib"])
    missing = []
    for obj in [boot] + [os.path.join(libdir, f) for f in sorted(bundled)]:
        for n in readelf_dynamic(obj)[0]:
            if n not in bundled and not GLIBC.match(n):
                missing.append(f"{os.path.basename(obj)} needs {n}")
    tap.check("every NEEDED (bootstrap and bundled libraries) is in lib/ or glibc",
              not missing and needed, missing)
    tap.check("no glibc library bundled", not [b for b in bundled if GLIBC.match(b)], bundled)
    newest = {os.path.basename(o): max_glibc(o)
              for o in [boot] + [os.path.join(libdir, f) for f in sorted(bundled)]}
    too_new = {k: ".".join(map(str, v)) for k, v in newest.items() if v > AL2023_GLIBC}
    tap.check("no symbol newer than GLIBC_2.34 (provided.al2023's glibc)", not too_new, too_new)


def test_run(dest):
    api = RuntimeAPI()
    log = open(os.path.join(TMP, "package-run.log"), "w+")
    env = {"AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.port}", "LAMBDA_TASK_ROOT": dest,
           "DATABASE_URL": DATABASE_URL, "APP_SECRET": SECRET}
    p = subprocess.Popen(["./bootstrap"], cwd=dest, env=env, stdout=subprocess.DEVNULL,
                         stderr=log)
    try:
        api.push("pkg-0001", {
            "version": "2.0", "routeKey": "GET /api/health", "rawPath": "/api/health",
            "rawQueryString": "", "headers": {"host": "example.com"},
            "requestContext": {"requestId": "apigw-pkg", "stage": "$default",
                               "http": {"method": "GET", "path": "/api/health",
                                        "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9"}},
            "isBase64Encoded": False})
        answered = api.wait(lambda: "pkg-0001" in api.responses or "pkg-0001" in api.errors)
        tap.check("unzipped package answers an invocation", answered, log_text(log))
        resp = api.responses.get("pkg-0001") or {}
        tap.eq("GET /api/health: statusCode 200", resp.get("statusCode"), 200)
        try:
            body = json.loads(resp.get("body") or "{}")
        except ValueError:
            body = {}
        tap.eq("GET /api/health: status ok", body.get("status"), "ok")
        tap.eq("no /error posted", api.errors, {})
        maps = open(f"/proc/{p.pid}/maps").read() if p.poll() is None else ""
        libs = sorted({line.split()[-1] for line in maps.splitlines()
                       if ".so" in line.split()[-1]})
        foreign = [x for x in libs if not x.startswith(dest + "/lib/")
                   and not GLIBC.match(os.path.basename(x))]
        tap.check("every loaded non-glibc library comes from the package's lib/",
                  libs and not foreign, foreign or "process gone")
        rc = wait_exit(p, 10, signal.SIGTERM)
        tap.eq("SIGTERM: exit 0", rc, 0)
    finally:
        reap(p)
        api.close()


def main():
    r = migrate()
    tap.check("migrations apply", r.returncode == 0, r.stderr)
    tap.run(test_package)
    if os.path.isfile(os.path.join(OUT, "articles.zip")):
        dest = unpack("articles")
        tap.run(lambda: test_libraries(dest))
        tap.run(lambda: test_run(dest))
        shutil.rmtree(dest, ignore_errors=True)
    else:
        tap.check("articles.zip to run", False)
    tap.done()


main()
