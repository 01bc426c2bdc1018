"""House rules that a compiler does not check (STYLE.md), over every C file:
no banned string functions, SQL only with $n parameters (no format string
builds a statement), no TLS verification switched off, and every function's
header states ownership in a leading comment."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import ROOT, tap  # noqa: E402

C_DIRS = ["shared", "functions", "deploy", "tests/unit", "tests/fuzz"]
BANNED = re.compile(r"(?<![\w.>])(sprintf|vsprintf|strcpy|strcat|atoi|atol|atoll|strtok|gets)\s*\(")
# A printf-style call whose format starts like SQL: a statement built from values.
SQL_FORMAT = re.compile(r"printf\s*\([^;]*\"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.S | re.I)
TLS_OFF = re.compile(r"CURLOPT_SSL_VERIFY(PEER|HOST)\s*,\s*0")


def c_files():
    for d in C_DIRS:
        for base, _, names in os.walk(os.path.join(ROOT, d)):
            for n in names:
                if n.endswith((".c", ".h")):
                    yield os.path.join(base, n)


def strip_comments(src):
    return re.sub(r"/\*.*?\*/|//[^\n]*", "", src, flags=re.S)


files = sorted(c_files())
tap.check("found the C sources", len(files) > 20, len(files))
for path in files:
    rel = os.path.relpath(path, ROOT)
    with open(path, encoding="utf-8") as f:
        src = f.read()
    code = strip_comments(src)
    m = BANNED.search(code)
    tap.check(f"{rel}: no banned string functions", m is None, m and m.group(0))
    m = SQL_FORMAT.search(code)
    tap.check(f"{rel}: no SQL built with a format string", m is None, m and m.group(0)[:120])
    m = TLS_OFF.search(code)
    tap.check(f"{rel}: TLS verification never disabled", m is None, m and m.group(0))
    if rel.startswith("shared/include/"):
        tap.check(f"{rel}: starts with a comment stating its contract",
                  src.lstrip().startswith("/*"), src[:80])

# The checks themselves must bite: each pattern finds its own bad example.
tap.check("banned-function check finds strcpy(", BANNED.search("x; strcpy(a, b);") is not None)
tap.check("banned-function check ignores snprintf(", BANNED.search("snprintf(a, 1, b);") is None)
tap.check("SQL-format check finds a built statement",
          SQL_FORMAT.search('arena_printf(a, "SELECT * FROM t WHERE id = %s", id);') is not None)
tap.check("TLS check finds VERIFYPEER 0",
          TLS_OFF.search("curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L)") is not None)
tap.done()
