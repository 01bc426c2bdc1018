// Browser end-to-end: the writer. Log in at /admin/ -> new article -> a title
// with tags and a Markdown body with XSS payloads -> upload an image into the
// body -> the server-rendered live preview shows it -> publish -> the public
// page shows everything inert (no script ran, none was injected, the title is
// literal text) and the image loads. A screenshot of the editor with its
// preview; no CSP violation or console error in the admin or on the page.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { Stack, Watcher, adminLogin, closeAll, launchBrowser, makePng, openPage, screenshot, skipReason } from "./stack.mjs";

const skip = skipReason();
let stack;
let browser;
const watcher = new Watcher((msg) =>
  /status of 401/.test(msg.text()) && /\/api\/auth\/me$/.test(msg.location().url || ""));

const TITLE = 'Safe <b>tags</b> & "quotes"';
const BODY = [
  "## Safety first",
  "",
  "A paragraph with the marker word zanzibarite, so the page can be checked.",
  "",
  "<script>window.__xss=1</script>",
  "",
  '<img src=x onerror="window.__xss=1">',
  "",
  "[click me](javascript:window.__xss=1)",
  "",
  "The picture below was uploaded in the editor:",
  "",
  "",
].join("\n");
let published; // {slug, id} of the article once published

before(async () => {
  if (skip)
    return;
  stack = await Stack.start("writer");
  browser = await launchBrowser();
});

after(() => closeAll(browser, stack));

const newPage = (options = {}) => openPage(browser, watcher, options);

test("2. a writer publishes Markdown with XSS payloads and an uploaded image; the page shows it inert", { skip, timeout: 120000 }, async () => {
  const admin = await newPage({ viewport: { width: 1280, height: 900 } });
  await adminLogin(admin, stack.url);
  await admin.locator("#nav-new").click();
  await admin.waitForURL(/#\/articles\/new$/);
  await admin.locator("#editor-title").fill(TITLE);
  const body = admin.locator("#editor-body");
  await body.fill(BODY);
  // the caret at the end, where the upload inserts its Markdown
  await body.press("End");
  await body.evaluate((el) => el.setSelectionRange(el.value.length, el.value.length));

  const uploaded = admin.waitForResponse((r) =>
    r.request().method() === "POST" && new URL(r.url()).pathname === "/api/uploads");
  await admin.locator("#editor-image").setInputFiles({ name: "red-square.png", mimeType: "image/png", buffer: makePng(24, 16) });
  const up = await uploaded;
  assert.ok(up.status() === 200 || up.status() === 201, `the upload succeeded (${up.status()} ${await up.text()})`);
  await admin.waitForFunction(() => /!\[[^\]]*\]\([^)\s]*\/media\/[^)\s]+\)/.test(document.querySelector("#editor-body").value));
  const md = await body.inputValue();
  assert.ok(md.startsWith(BODY.trimEnd()), "the image Markdown went at the caret, after the text");
  const imgUrl = md.match(/!\[[^\]]*\]\(([^)\s]*\/media\/[^)\s]+)\)/)[1];

  // the live preview, rendered by the server, shows the heading and the image
  await admin.locator("#editor-preview h2", { hasText: "Safety first" }).waitFor();
  await admin.waitForFunction(() => {
    const img = document.querySelector('#editor-preview img[src*="/media/"]');
    return img && img.complete && img.naturalWidth > 0;
  });
  assert.equal(await admin.evaluate(() => window.__xss), undefined, "nothing ran in the admin's preview");
  assert.equal(await admin.locator("#editor-preview script").count(), 0, "no script in the preview");
  const shot = await screenshot(stack, admin, "editor.png");
  assert.ok(fs.statSync(shot).size > 0, "editor.png written");

  await admin.locator("#editor-publish").click();
  await admin.waitForFunction(() => /Published/.test(document.querySelector("#editor-status")?.textContent || ""));
  assert.equal(await admin.locator("#editor-status").getAttribute("role"), "status");

  const list = await stack.api("GET", "/api/admin/articles?limit=100");
  const item = list.body.items.find((a) => a.title === TITLE);
  assert.ok(item, `the article was saved with its title as written: ${JSON.stringify(list.body.items.map((a) => a.title))}`);
  assert.equal(item.status, "published");
  published = item;

  // the admin's list shows it as published
  await admin.locator("#nav-articles").click();
  const row = admin.locator(`tr.article-row[data-id="${item.id}"]`);
  await row.waitFor();
  assert.match(await row.locator(".article-status").textContent(), /published/i);

  // the public page
  const reader = await newPage();
  const r = await reader.goto(`${stack.url}/articles/${item.slug}`, { waitUntil: "load" });
  assert.equal(r.status(), 200);
  const h1 = reader.locator("article.post h1");
  assert.equal(await h1.textContent(), TITLE, "the title shows literally");
  assert.equal(await h1.locator("b").count(), 0, "the title's tags are text, not markup");
  assert.ok((await reader.title()).includes(TITLE), `<title> has the literal title: ${await reader.title()}`);
  const content = reader.locator("article.post .post-content");
  assert.match(await content.textContent(), /zanzibarite/);
  assert.equal(await content.locator("script").count(), 0, "no <script> in .post-content");
  assert.equal(await content.locator("[onerror], [onload], [onclick]").count(), 0, "no event handler attributes");
  const hrefs = await content.locator("a[href]").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  assert.ok(hrefs.every((h) => !/^\s*javascript:/i.test(h)), `no javascript: link: ${hrefs}`);
  const img = content.locator('img[src*="/media/"]');
  assert.equal(await img.count(), 1, "the uploaded image is in the article");
  await reader.waitForFunction(() => {
    const i = document.querySelector('.post-content img[src*="/media/"]');
    return i && i.complete && i.naturalWidth > 0;
  });
  assert.equal(await img.evaluate((i) => i.naturalWidth), 24, "the image loaded");
  assert.equal(await reader.evaluate(() => window.__xss), undefined, "no payload ran on the page");
  const media = await fetch(new URL(imgUrl, stack.url));
  assert.equal(media.status, 200);
  assert.match(media.headers.get("content-type") || "", /^image\/png/);
  await reader.context().close();
  await admin.context().close();
});

test("6. no CSP violation or console error in the admin and on the published page", { skip, timeout: 30000 }, async () => {
  assert.ok(published, "test 2 published an article");
  assert.ok(watcher.pages >= 2, `the watcher saw the admin and the page (${watcher.pages})`);
  assert.deepEqual(watcher.problems, []);
});

test("the gateway stops cleanly: no worker left, no sanitizer report", { skip, timeout: 60000 }, async () => {
  await browser.close();
  browser = null;
  await stack.checkCleanStop();
});
