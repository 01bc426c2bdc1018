// Browser end-to-end: a share link's web page (/s/{token}, the albums
// function) as someone who was sent the link sees it. The album, its photos
// (PNG thumbnails and display images in the gateway's file:// storage) and
// the links are made with SQL: the stack has no WeChat sign-in, and a
// protected link borrows the admin's argon2id hash, so its password is the
// admin's. Checked: the album page shows every thumbnail loaded
// (naturalWidth > 0) under the page's real CSP with no violation or console
// error; on a phone (375 px) nothing scrolls sideways and the grid has two
// columns; the photo page; the password form (wrong password: the form again
// with an alert, right one: the photos); axe-core (WCAG 2.x A/AA and best
// practices) finds no serious or critical violation on the album, photo,
// password and 404 pages. axe is injected with page.addScriptTag, so only
// the contexts it runs in bypass the CSP.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ADMIN_PASSWORD, ADMIN_USER, Stack, Watcher, closeAll, launchBrowser, makePng, openPage, skipReason, until } from "./stack.mjs";

const skip = skipReason();
let stack;
let browser;
let axeSource;
// expected: the wrong password's 403 and the dead link's 404 (documents)
const watcher = new Watcher((msg) =>
  /status of 40[34]/.test(msg.text()) && /\/s\/[^/]+$/.test(msg.location().url || ""));

const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];
const PHONE = { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const ALBUM_NAME = "Lighthouses of the north";
const COLOURS = [[200, 40, 40], [40, 120, 60], [30, 90, 160], [180, 140, 20]];

const links = {}; // album, photo, locked, dead: /s/{token}
let photoIds = [];

const newId = (n = 16) => crypto.randomBytes(n).toString("base64url");
const sql = (s) => "'" + String(s).replace(/'/g, "''") + "'";

/** A share row of the target (column album_id or photo_id); its page path. */
function makeShare(owner, column, target, extra = {}) {
  const token = newId(32);
  const hash = crypto.createHash("sha256").update(token).digest("hex");
  const id = newId();
  stack.psql(`INSERT INTO shares (id, owner_id, ${column}, token_hash) VALUES` +
    ` (${sql(id)}, ${owner}, ${sql(target)}, ${sql(hash)})`);
  if (extra.password)
    stack.psql(`UPDATE shares SET password_hash = (SELECT password_hash FROM admin_users` +
      ` WHERE username = ${sql(ADMIN_USER)}) WHERE id = ${sql(id)}`);
  if (extra.revoked)
    stack.psql(`UPDATE shares SET revoked_at = now() WHERE id = ${sql(id)}`);
  return `/s/${token}`;
}

/** Writes an object where the gateway's file:// storage keeps it. */
function putObject(key, data) {
  const file = path.join(stack.dir, "objects", key);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

before(async () => {
  if (skip)
    return;
  axeSource = fs.readFileSync(path.join(process.env.PROJECT_ROOT, "node_modules", "axe-core", "axe.min.js"), "utf8");
  stack = await Stack.start("share");
  browser = await launchBrowser();

  const owner = stack.psql(`INSERT INTO app_users (openid) VALUES ('e2e-share-owner') RETURNING id`);
  const album = newId();
  stack.psql(`INSERT INTO albums (id, owner_id, name, description) VALUES (${sql(album)}, ${owner},` +
    ` ${sql(ALBUM_NAME)}, 'Four towers along the coast, photographed in May.')`);
  photoIds = COLOURS.map((rgb, i) => {
    const id = newId();
    putObject(`photos/t/${id}.png`, makePng(64, 64, rgb));
    putObject(`photos/d/${id}.png`, makePng(400, 300, rgb));
    stack.psql("INSERT INTO photos (id, owner_id, album_id, status, object_key, thumb_key, display_key," +
      " content_type, size_bytes, width, height, description, taken_at, created_at) VALUES" +
      ` (${sql(id)}, ${owner}, ${sql(album)}, 'ready', 'photos/o/${id}.png', 'photos/t/${id}.png',` +
      ` 'photos/d/${id}.png', 'image/png', 1000, 400, 300, ${sql(i === 0 ? "The tallest tower at dusk" : "")},` +
      ` '2026-05-0${i + 1}T08:00:00Z', now() - interval '${10 - i} seconds')`);
    return id;
  });
  links.album = makeShare(owner, "album_id", album);
  links.photo = makeShare(owner, "photo_id", photoIds[0]);
  links.locked = makeShare(owner, "album_id", album, { password: true });
  links.dead = makeShare(owner, "album_id", album, { revoked: true });
});

after(() => closeAll(browser, stack));

const newPage = (options = {}) => openPage(browser, watcher, options);

/** The images of the page once every one has loaded: [{src, w}]. */
async function loadedImages(page) {
  return until(async () => {
    const imgs = await page.locator("main img").evaluateAll((els) =>
      els.map((e) => ({ src: e.currentSrc, done: e.complete, w: e.naturalWidth })));
    return imgs.length > 0 && imgs.every((i) => i.done) ? imgs : false;
  }, "the images finish loading");
}

/** Layout facts for "no sideways scrolling". */
function layout(page) {
  return page.evaluate(() => ({
    innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
  }));
}

async function axe(page) {
  await page.addScriptTag({ content: axeSource });
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
  }, AXE_TAGS);
}

test("the album page: every thumbnail loads under the page's CSP, each links to its display size", { skip, timeout: 60000 }, async () => {
  const page = await newPage();
  const resp = await page.goto(stack.url + links.album);
  assert.equal(resp.status(), 200);
  assert.equal(await page.locator("h1").innerText(), ALBUM_NAME);
  assert.equal(await page.title(), ALBUM_NAME);
  const imgs = await loadedImages(page);
  assert.equal(imgs.length, photoIds.length, "one image per photo");
  for (const img of imgs)
    assert.ok(img.w > 0, `the image loaded: ${img.src}`);
  const thumbs = imgs.map((i) => new URL(i.src).pathname).sort();
  assert.deepEqual(thumbs, photoIds.map((id) => `/storage/photos/t/${id}.png`).sort());
  const alts = await page.locator(".share-grid img").evaluateAll((els) => els.map((e) => e.alt));
  assert.ok(alts.includes("The tallest tower at dusk") && alts.every((a) => a.trim() !== ""), `alt texts: ${alts}`);

  // a thumbnail opens the display-size image
  const first = page.locator(".share-grid a").first();
  const href = await first.getAttribute("href");
  assert.match(new URL(href).pathname, /^\/storage\/photos\/d\/.+\.png$/);
  const display = await page.request.get(href);
  assert.equal(display.status(), 200);
  assert.equal(display.headers()["content-type"], "image/png");
  assert.ok(watcher.pages > 0, "the watcher saw the page");
  assert.deepEqual(watcher.problems, []);
});

test("on a phone (375 px): no sideways scrolling, two columns, the photo page fits", { skip, timeout: 60000 }, async () => {
  const page = await newPage(PHONE);
  await page.goto(stack.url + links.album);
  await loadedImages(page);
  // a mobile browser widens the layout viewport to fit wide content: compare
  // with the screen's 375 px, not innerWidth
  const W = PHONE.viewport.width;
  const l = await layout(page);
  assert.ok(l.innerWidth === W && l.scrollWidth <= W && l.bodyScrollWidth <= W,
    `no horizontal scrolling (${JSON.stringify(l)})`);
  const boxes = await page.locator(".share-grid img").evaluateAll((els) =>
    els.map((e) => { const r = e.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, width: r.width }; }));
  assert.equal(new Set(boxes.map((b) => Math.round(b.top))).size, Math.ceil(boxes.length / 2), `two per row: ${JSON.stringify(boxes)}`);
  assert.ok(boxes.every((b) => b.left >= 0 && b.right <= W && b.width >= 100), `inside the screen: ${JSON.stringify(boxes)}`);

  await page.goto(stack.url + links.photo);
  const [img] = await loadedImages(page);
  assert.ok(img.w > 0, "the photo loaded");
  assert.equal(new URL(img.src).pathname, `/storage/photos/d/${photoIds[0]}.png`);
  assert.match(await page.locator("main").innerText(), /The tallest tower at dusk[\s\S]*1 May 2026/);
  const p = await layout(page);
  const box = await page.locator("main img").boundingBox();
  assert.ok(p.innerWidth === W && p.scrollWidth <= W && box.x >= 0 && box.x + box.width <= W,
    `the photo fits the screen (${JSON.stringify({ ...p, box })})`);
  assert.deepEqual(watcher.problems, []);
});

test("a protected link: the form, a wrong password, then the right one", { skip, timeout: 60000 }, async () => {
  const page = await newPage(PHONE);
  await page.goto(stack.url + links.locked);
  assert.equal(await page.locator("main img").count(), 0, "no photo before the password");
  assert.ok(!(await page.content()).includes(ALBUM_NAME), "the album's name is not on the form");
  const field = page.getByLabel("Password");
  assert.equal(await field.getAttribute("autocomplete"), "current-password");
  const box = await field.boundingBox();
  assert.ok(box.height >= 44, `the field is big enough to touch (${box.height})`);

  await field.fill("not the password");
  let nav = page.waitForNavigation();
  await field.press("Enter");
  assert.equal((await nav).status(), 403);
  assert.match(await page.getByRole("alert").innerText(), /not right/);
  assert.equal(await page.locator("main img").count(), 0);

  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  nav = page.waitForNavigation();
  await page.getByRole("button", { name: "View" }).click();
  assert.equal((await nav).status(), 200);
  assert.equal(await page.locator("h1").innerText(), ALBUM_NAME);
  assert.equal((await loadedImages(page)).filter((i) => i.w > 0).length, photoIds.length);
  assert.deepEqual(watcher.problems, []);
});

test("axe: no serious or critical violation on the album, photo, password and 404 pages", { skip, timeout: 90000 }, async () => {
  const found = [];
  const page = await newPage({ bypassCSP: true });
  for (const [what, link, status] of [["album", links.album, 200], ["photo", links.photo, 200],
    ["password form", links.locked, 200], ["revoked link", links.dead, 404]]) {
    const r = await page.goto(stack.url + link);
    assert.equal(r.status(), status, what);
    for (const v of await axe(page))
      found.push({ what, ...v });
  }
  await page.goto(stack.url + links.locked);
  await page.getByLabel("Password").fill("wrong");
  await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "View" }).click()]);
  for (const v of await axe(page))
    found.push({ what: "password error", ...v });
  const bad = found.filter((v) => v.impact === "serious" || v.impact === "critical");
  const fmt = (l) => l.map((v) => `  [${v.impact}] ${v.what}: ${v.id} (${v.help}) at ${v.targets.join(" | ")}`).join("\n");
  assert.equal(bad.length, 0, `axe found serious or critical violations:\n${fmt(bad)}`);
  if (found.length)
    process.stderr.write(`axe, less severe:\n${fmt(found)}\n`);
});

test("the stack stops cleanly", { skip, timeout: 60000 }, async () => {
  await stack.checkCleanStop();
});
