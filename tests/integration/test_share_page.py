"""A share link's web page (functions/albums/sharepage.c): GET /s/{token}
through the local gateway with the real manifest (deploy/template.yaml
routes /s/{token} to albums; frontend/blog served as the static site).

The album page names the album and shows every ready photo (thumbnail
linking to the display size, alt text from the description or a fallback)
and nothing else; the photo page shows the image, description and date;
names and descriptions are escaped; a protected link shows a password form
that POSTs the password (403 and the form again, with nothing of the album,
on a wrong one); expired, revoked and unknown links are the HTML 404 page;
the headers (CSP without inline script, no-referrer, no-store, nosniff) and
the noindex / Open Graph meta; the page's image URLs download through the
gateway's /storage/; ?cursor= pages with a "More photos" link."""
import html
import os
import secrets
import subprocess
import sys
import urllib.parse
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import b64url, lit, tap  # noqa: E402

RUN = os.getpid()
DB_NAME = f"share_page_{RUN}"
URL = lib.fresh_database(DB_NAME)
ENV = lib.fn_env(DATABASE_URL=URL)
with open(os.path.join(lib.ROOT, "deploy/template.yaml")) as f:
    TEMPLATE = f.read()

XSS_NAME = '<script>alert("name")</script>&\''
XSS_DESC = '<img src=x onerror=alert(1)> "desc"'
XSS_PHOTO = '"><svg onload=alert(2)>'
PASSWORD = "open sesame & more=?"


def q(sql):
    return lib.psql(sql, url=URL)


def new_id():
    return b64url(secrets.token_bytes(16))


def jpeg(seed):
    """A small real JPEG (cjpeg), one colour per seed."""
    w, h = 32, 24
    px = bytes([(seed * 70) % 256, 90, 160]) * (w * h)
    return subprocess.run(["cjpeg", "-quality", "80"], input=b"P6\n%d %d\n255\n" % (w, h) + px,
                          capture_output=True, check=True).stdout


class Page(HTMLParser):
    """The tags of an HTML document (name, attrs dict) and its text."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.text, self._title, self.title = [], [], False, None
        self.feed(text)
        self.close()
        self.text = "".join(self.text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._title = tag == "title"

    def handle_endtag(self, tag):
        self._title = False

    def handle_data(self, data):
        if self._title:
            self.title = (self.title or "") + data
        self.text.append(data)

    def all(self, tag, **want):
        return [a for t, a in self.tags if t == tag
                and all(a.get(k.rstrip("_").replace("_", "-")) == v for k, v in want.items())]

    def meta(self, key):
        for a in self.all("meta"):
            if a.get("name") == key or a.get("property") == key:
                return a.get("content")
        return None


lib.migrate_or_done(ENV, name="migrate")


def user(name):
    return lib.app_user(URL, f"sp-{RUN}-{name}")


def album(uid, name, desc=""):
    aid = new_id()
    q(f"INSERT INTO albums (id, owner_id, name, description) VALUES ('{aid}', {uid},"
      f" {lit(name)}, {lit(desc)})")
    return aid


def photo(uid, aid, status="ready", trashed=False, desc="", age_s=0, taken=None):
    pid = new_id()
    q("INSERT INTO photos (id, owner_id, album_id, status, object_key, thumb_key, display_key,"
      " content_type, size_bytes, width, height, description, taken_at, trashed_at, created_at)"
      f" VALUES ('{pid}', {uid}, '{aid}', '{status}', 'photos/o/{pid}.jpg',"
      f" 'photos/t/{pid}.jpg', 'photos/d/{pid}.jpg', 'image/jpeg', 1000, 640, 480, {lit(desc)},"
      f" {lit(taken) if taken else 'NULL'}, {'now()' if trashed else 'NULL'},"
      f" now() - interval '{age_s} seconds')")
    for kind in ("t", "d"):
        path = os.path.join(GW.dir, "objects", "photos", kind, pid + ".jpg")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(jpeg(len(path) + (kind == "d")))
    return pid


GW = lib.Gateway(TEMPLATE, env={"DATABASE_URL": URL, "LOG_LEVEL": "warn"},
                 static_dir=os.path.join(lib.ROOT, "frontend", "blog"))
A_ID, A = user("a")
TRIP = album(A_ID, "Trip to the sea", "Summer 2026")
READY = [photo(A_ID, TRIP, desc=("sunset" if i == 0 else ""), age_s=100 - i) for i in range(3)]
TRASHED = photo(A_ID, TRIP, trashed=True)
PROCESSING = photo(A_ID, TRIP, status="processing")
OTHER = album(A_ID, "Other album")
OTHER_PHOTO = photo(A_ID, OTHER)
EVIL = album(A_ID, XSS_NAME, XSS_DESC)
EVIL_PHOTO = photo(A_ID, EVIL, desc=XSS_PHOTO)
SINGLE = photo(A_ID, OTHER, desc="Lighthouse at dawn", taken="2026-05-01T06:30:00Z", age_s=5)


def share(body):
    st, _, obj = GW.json("POST", "/api/shares", body, A)
    if st != 201:
        raise RuntimeError(f"share {body}: {st} {obj}")
    return obj


def get(path, method="GET", body=None, headers=None):
    """(status, lower-cased headers, text) of a request through the gateway."""
    st, hdrs, data = GW.request(method, path, body, headers)
    return st, dict((k.lower(), v) for k, v in hdrs), data.decode("utf-8", "replace")


def post_password(path, password):
    return get(path, "POST", urllib.parse.urlencode({"password": password}),
               {"Content-Type": "application/x-www-form-urlencoded"})


def check_headers(what, hdrs):
    csp = hdrs.get("content-security-policy") or ""
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    tap.check(f"{what}: text/html", (hdrs.get("content-type") or "").startswith("text/html"),
              hdrs)
    tap.check(f"{what}: CSP script-src 'self' only, no inline script, no plugins, not framed",
              directives.get("script-src") == "'self'" and "unsafe-inline" not in csp
              and directives.get("object-src") == "'none'"
              and directives.get("frame-ancestors") == "'none'"
              and directives.get("default-src") == "'self'"
              and directives.get("form-action") == "'self'", csp)
    tap.eq(f"{what}: Referrer-Policy", hdrs.get("referrer-policy"), "no-referrer")
    tap.eq(f"{what}: Cache-Control", hdrs.get("cache-control"), "no-store")
    tap.eq(f"{what}: X-Content-Type-Options", hdrs.get("x-content-type-options"), "nosniff")


def check_noindex(what, page):
    tap.eq(f"{what}: robots noindex", page.meta("robots"), "noindex")
    tap.check(f"{what}: no script at all", not page.all("script"), page.all("script"))


def storage_path(u):
    """The gateway-relative path of a signed /storage/ URL, or None."""
    s = urllib.parse.urlsplit(u or "")
    if s.netloc != f"127.0.0.1:{GW.port}" or not s.path.startswith("/storage/"):
        return None
    return s.path + "?" + s.query


# ---- tests ----

def test_album_page():
    obj = share({"album_id": TRIP})
    token = obj["token"]
    tap.eq("POST /api/shares: url is the page", obj["url"], f"/s/{token}")
    tap.eq("... api_url the JSON", obj["api_url"], f"/api/public/shares/{token}")
    st, hdrs, text = get(obj["url"])
    if not tap.eq("album page: 200", st, 200):
        tap.check("body", False, text[:500])
        return
    check_headers("album page", hdrs)
    page = Page(text)
    check_noindex("album page", page)
    tap.check("title and h1: the album's name", (page.title or "").startswith("Trip to the sea")
              and "Trip to the sea" in "".join(page.text), page.title)
    tap.eq("meta description: the album's", page.meta("description"), "Summer 2026")
    tap.check("the description is on the page", "Summer 2026" in page.text, page.text[:200])
    imgs = [a for a in page.all("img")]
    thumbs = [urllib.parse.urlsplit(a.get("src", "")).path for a in imgs]
    want = [f"/storage/photos/t/{p}.jpg" for p in reversed(READY)]
    tap.eq("every ready photo's thumbnail, newest first, and nothing else", thumbs, want)
    links = [a.get("href") for t, a in page.tags if t == "a" and "/storage/" in a.get("href", "")]
    tap.eq("each thumbnail links to its display size",
           [urllib.parse.urlsplit(h).path for h in links],
           [f"/storage/photos/d/{p}.jpg" for p in reversed(READY)])
    alts = [a.get("alt") for a in imgs]
    tap.check("alt text: the description, else a fallback naming the album",
              alts[-1] == "sunset" and alts[0] == "Photo 1 from Trip to the sea"
              and all(alts), alts)
    tap.check("no trashed, processing or other album's photo",
              all(p not in text for p in (TRASHED, PROCESSING, OTHER_PHOTO)))
    tap.check("nothing of the owner or the originals", "photos/o/" not in text
              and f"sp-{RUN}" not in text)
    tap.eq("og:image: the first photo's display URL", page.meta("og:image"), links[0])
    tap.eq("og:title", page.meta("og:title"), "Trip to the sea")
    tap.check("stylesheet: the blog's /style.css",
              page.all("link", rel="stylesheet", href="/style.css") != [], page.tags[:12])
    tap.check("one main landmark and a skip link", len(page.all("main", id="main")) == 1
              and page.all("a", href="#main") != [])

    ok = True
    for u in [a.get("src") for a in imgs] + links:
        path = storage_path(u)
        st2, h2, _ = GW.request("GET", path) if path else (None, [], b"")
        ctype = dict((k.lower(), v) for k, v in h2).get("content-type")
        if st2 != 200 or ctype != "image/jpeg":
            ok = tap.check(f"image {u} loads", False, (st2, ctype))
            break
    if ok:
        tap.check("every image URL on the page loads through /storage/: 200 image/jpeg", True)
    st, _, _ = get(storage_path(links[0]).split("?")[0])
    tap.check("... and not without its signature", st in (401, 403), st)

    st, hdrs, css = get("/style.css")
    tap.check("/style.css (static) styles the share grid", st == 200 and ".share-grid" in css,
              st)

    # paging
    st, _, text = get(obj["url"] + "?limit=2")
    page = Page(text)
    nxt = page.all("a", rel="next")
    tap.check("limit=2: two photos and a More photos link with the cursor",
              st == 200 and len(page.all("img")) == 2 and len(nxt) == 1
              and nxt[0]["href"].startswith(f"/s/{token}?cursor="), (st, nxt))
    if nxt:
        st, _, text = get(nxt[0]["href"])
        tap.check("the next page: the oldest photo, no further link",
                  st == 200 and f"photos/t/{READY[0]}.jpg" in text
                  and f"photos/t/{READY[2]}.jpg" not in text
                  and not Page(text).all("a", rel="next"), (st, text[:300]))
    st, hdrs, text = get(obj["url"] + "?cursor=bogus")
    tap.check("a tampered cursor: 400 HTML page", st == 400 and "<h1>" in text
              and (hdrs.get("content-type") or "").startswith("text/html"), (st, text[:200]))

    st, _, got = GW.json("GET", obj["api_url"])
    tap.check("the JSON endpoint still answers the same link", st == 200
              and [p["id"] for p in got["photos"]] == list(reversed(READY)), (st, got))


def test_escaping():
    obj = share({"album_id": EVIL})
    st, _, text = get(obj["url"])
    tap.eq("hostile album page: 200", st, 200)
    for raw in ("<script>alert", "<img src=x", "<svg onload", '"><svg'):
        tap.check(f"{raw!r} appears only escaped", raw not in text, raw)
    page = Page(text)
    tap.check("the name shows as text, title and h1",
              XSS_NAME in page.text and page.title == XSS_NAME, page.title)
    tap.check("the description shows as text", XSS_DESC in page.text)
    tap.eq("the description in meta, as text", page.meta("description"), XSS_DESC)
    tap.eq("the photo's description as its alt text", [a.get("alt") for a in page.all("img")],
           [XSS_PHOTO])
    tap.check("only the stylesheet and the photo: no injected elements",
              not page.all("script") and not page.all("svg")
              and len(page.all("img")) == 1, page.tags)
    tap.check("escaped with entities", html.escape("<script>", quote=False) in text)


def test_password():
    obj = share({"album_id": TRIP, "password": PASSWORD})
    path = obj["url"]
    st, hdrs, text = get(path)
    tap.eq("protected album page without a password: 200 with the form", st, 200)
    check_headers("password form", hdrs)
    page = Page(text)
    check_noindex("password form", page)
    forms = page.all("form", method="post")
    inputs = page.all("input", type="password")
    tap.check("a POST form to the link itself", len(forms) == 1
              and forms[0].get("action") == path, forms)
    tap.check("a labelled password field: name=password, autocomplete=current-password",
              len(inputs) == 1 and inputs[0].get("name") == "password"
              and inputs[0].get("autocomplete") == "current-password"
              and page.all("label", for_=inputs[0].get("id")) != [], inputs)

    def leaks(t):
        return [w for w in ("Trip to the sea", "Summer 2026", "/storage/", *READY) if w in t]

    tap.eq("the form shows nothing of the album", leaks(text), [])
    tap.check("no og:image", Page(text).meta("og:image") is None)

    st, hdrs, text = post_password(path, "open sesame")
    page = Page(text)
    tap.eq("a wrong password: 403", st, 403)
    check_headers("wrong password", hdrs)
    tap.check("... the form again with an error (role=alert)",
              len(page.all("input", type="password")) == 1
              and page.all("p", role="alert") != [], text[:400])
    tap.eq("... nothing of the album", leaks(text), [])
    st, _, text = post_password(path, "")
    tap.check("an empty password: 403 with the form", st == 403
              and Page(text).all("p", role="alert") != [] and not leaks(text), st)
    st, _, text = post_password(path, "x" * 500)
    tap.check("an overlong password: 403", st == 403 and not leaks(text), st)
    st, _, text = get(path, "POST", "password=" + urllib.parse.quote(PASSWORD),
                      {"Content-Type": "text/plain"})
    tap.check("the right password not as a form: 403", st == 403 and not leaks(text), st)

    st, hdrs, text = post_password(path, PASSWORD)
    page = Page(text)
    tap.check("the right password: 200 with the album's photos",
              st == 200 and [urllib.parse.urlsplit(a["src"]).path for a in page.all("img")]
              == [f"/storage/photos/t/{p}.jpg" for p in reversed(READY)], (st, text[:300]))
    check_headers("after the password", hdrs)
    st, _, text = post_password(path + "?limit=1", PASSWORD)
    nxt = Page(text).all("a", rel="next")
    tap.check("later pages: a More photos link", st == 200 and len(nxt) == 1, st)
    if nxt:
        st, _, text = get(nxt[0]["href"])
        form = Page(text).all("form", method="post")
        tap.check("... which asks again, the form posting to that page",
                  st == 200 and not leaks(text) and form
                  and form[0]["action"] == nxt[0]["href"], (st, form))
        st, _, text = post_password(nxt[0]["href"], PASSWORD)
        tap.check("... and shows the next photo after the password", st == 200
                  and f"photos/t/{READY[1]}.jpg" in text, st)

    st, _, got = GW.json("GET", obj["api_url"], None, {"X-Share-Password": PASSWORD})
    tap.eq("the JSON endpoint takes the same password", st, 200)


def test_gone():
    def check_404(what, path):
        st, hdrs, text = get(path)
        page = Page(text)
        tap.check(f"{what}: 404 HTML page", st == 404 and page.title
                  and page.all("h1") != [] and "Trip to the sea" not in text, (st, text[:300]))
        check_headers(what, hdrs)
        tap.eq(f"{what}: noindex", page.meta("robots"), "noindex")
        return text

    obj = share({"album_id": TRIP, "expires_in_s": 3600})
    tap.eq("before it expires: 200", get(obj["url"])[0], 200)
    q(f"UPDATE shares SET expires_at = now() - interval '1 second' WHERE id = '{obj['id']}'")
    expired = check_404("expired link", obj["url"])
    st, _, _ = post_password(obj["url"], "anything")
    tap.eq("expired link, POST: 404", st, 404)

    obj = share({"album_id": TRIP})
    st, _, _ = GW.json("DELETE", f"/api/shares/{obj['id']}", None, A)
    tap.eq("revoke: 204", st, 204)
    revoked = check_404("revoked link", obj["url"])
    unknown = check_404("unknown token", "/s/" + b64url(secrets.token_bytes(32)))
    tap.check("expired, revoked and unknown: the same page", expired == revoked == unknown)
    check_404("malformed token", "/s/not-a-token")

    obj = share({"photo_id": SINGLE})
    q(f"UPDATE photos SET trashed_at = now() WHERE id = '{SINGLE}'")
    check_404("a shared photo in the trash", obj["url"])
    q(f"UPDATE photos SET trashed_at = NULL WHERE id = '{SINGLE}'")


def test_photo_page():
    obj = share({"photo_id": SINGLE})
    st, hdrs, text = get(obj["url"])
    if not tap.eq("photo page: 200", st, 200):
        return
    check_headers("photo page", hdrs)
    page = Page(text)
    check_noindex("photo page", page)
    imgs = page.all("img")
    tap.check("the display-size image with the description as alt",
              len(imgs) == 1 and urllib.parse.urlsplit(imgs[0]["src"]).path
              == f"/storage/photos/d/{SINGLE}.jpg" and imgs[0]["alt"] == "Lighthouse at dawn",
              imgs)
    tap.check("the description and the date", "Lighthouse at dawn" in page.text
              and page.all("time", datetime="2026-05-01T06:30:00Z") != []
              and "1 May 2026" in page.text, page.text)
    tap.eq("title: the description", page.title, "Lighthouse at dawn")
    tap.eq("og:image: the display URL", page.meta("og:image"), imgs[0]["src"] if imgs else None)
    tap.check("nothing of its album", "Other album" not in text and OTHER_PHOTO not in text)
    path = storage_path(imgs[0]["src"]) if imgs else None
    st, h, body = GW.request("GET", path) if path else (None, [], b"")
    tap.check("the image loads: 200 image/jpeg", st == 200 and body[:2] == b"\xff\xd8"
              and dict((k.lower(), v) for k, v in h).get("content-type") == "image/jpeg", st)


try:
    for t in (test_album_page, test_escaping, test_password, test_gone, test_photo_page):
        tap.run(t)
finally:
    lib.stop_clean(GW, "gateway exits cleanly on SIGTERM")
    lib.drop_database(DB_NAME)
tap.done()
