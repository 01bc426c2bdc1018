"""Thumbnail benchmark (called by tests/bench/bench.py; `make bench`).

A 4000x3000 JPEG with texture (cjpeg -quality 90 from a generated PPM), then,
side by side, five runs each of:
  thumbbench   build/bench/thumbbench: the thumbnails function's own path
               (functions/thumbnails/render.c: scaled TurboJPEG decode, EXIF,
               orientation, 320 px square + 1280 px display JPEGs, pHash,
               dominant colour)
  vipsthumbnail  input.jpg -s 1280 -o out.jpg (one size only)
Printed: median wall time (process start to exit) and peak RSS (wait4) of
each; the test image is made in a child process, so this one stays small
(a forked child's peak RSS starts from its parent's). Target: thumbbench no slower and no larger than vipsthumbnail.
Numbers are printed, never asserted.
"""
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.getcwd()
BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
W, H = 4000, 3000


def make_jpeg(path):
    """A textured photo-like image: gradients plus a noise pattern."""
    rnd = random.Random(42)
    noise = bytes(rnd.randrange(256) for _ in range(W * 3 + 4096))
    rows = []
    for y in range(H):
        off = (y * 37) % 4096
        row = bytearray(noise[off:off + W * 3])
        g = (y * 255) // H
        row[1::3] = bytes(((b >> 1) + g) & 255 for b in row[1::3]) if y % 64 == 0 else \
            row[1::3]
        rows.append(bytes(row))
    ppm = path + ".ppm"
    with open(ppm, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (W, H))
        f.writelines(rows)
    with open(path, "wb") as out:
        subprocess.run(["cjpeg", "-quality", "90", ppm], stdout=out, check=True)
    os.unlink(ppm)


def run(cmd):
    """(wall seconds, peak RSS in KB) of one run of cmd."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {err}")
    return wall, ru.ru_maxrss


def main():
    for tool in ("cjpeg", "vipsthumbnail"):
        if shutil.which(tool) is None:
            print(f"thumbnails: skipped ({tool} missing; deploy/local/bootstrap installs it)")
            return
    target = f"{BUILD}/bench/thumbbench"
    subprocess.run(["make", "--no-print-directory", f"BUILD={BUILD}", target], check=True,
                   cwd=ROOT)
    bench = os.path.join(ROOT, target)
    tmp = tempfile.mkdtemp(prefix="thumb-bench.")
    try:
        src = os.path.join(tmp, "photo.jpg")
        # in a child, so this process stays small: a forked child's peak
        # RSS (wait4) starts from its parent's
        subprocess.run([sys.executable, os.path.abspath(__file__), "--make", src], check=True)
        size = os.path.getsize(src)
        results = {}
        cmds = {
            "thumbbench (320 + 1280)": [bench, src, tmp],
            "vipsthumbnail -s 1280": ["vipsthumbnail", src, "-s", "1280", "-o",
                                      os.path.join(tmp, "vips.jpg")],
        }
        for name in cmds:
            results[name] = []
        for _ in range(5):  # interleaved, so both see the same machine state
            for name, cmd in cmds.items():
                results[name].append(run(cmd))
        print(f"thumbnails: {W}x{H} JPEG ({size // 1024} KB), median of 5")
        for name, rs in results.items():
            wall = statistics.median(r[0] for r in rs) * 1000
            rss = max(r[1] for r in rs) / 1024
            print(f"  {name:26s} wall {wall:7.1f} ms   peak RSS {rss:6.1f} MB")
        ours, theirs = results["thumbbench (320 + 1280)"], results["vipsthumbnail -s 1280"]
        ratio = statistics.median(r[0] for r in ours) / statistics.median(r[0] for r in theirs)
        mem = max(r[1] for r in ours) / max(r[1] for r in theirs)
        print(f"  thumbbench / vipsthumbnail: time x{ratio:.2f}, memory x{mem:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--make":
        make_jpeg(sys.argv[2])
    else:
        main()
