// Browser end-to-end: a reader and the moderator. Home -> article -> comment
// through the form (JavaScript path) -> held for moderation -> the admin
// approves it and replies -> both show on the article page. Also the article
// page without a browser and without JavaScript (its HTML carries the content
// and the meta tags; the CSP header allows no inline script), screenshots of
// the home page and an article, and no CSP violation or console error on any
// page this file opened.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { Stack, Watcher, adminLogin, closeAll, launchBrowser, openPage, screenshot, skipReason, until } from "./stack.mjs";

const skip = skipReason();
let stack;
let browser;
// expected: the admin asks /api/auth/me before anyone signed in (401)
const watcher = new Watcher((msg) =>
  /status of 401/.test(msg.text()) && /\/api\/auth\/me$/.test(msg.location().url || ""));
let article; // the article the reader comments on
let commentId; // the reader's approved comment (test 1)
const BODY_SENTENCE = "Lighthouses guided sailors along the rocky northern coast for centuries.";

before(async () => {
  if (skip)
    return;
  stack = await Stack.start("reader");
  browser = await launchBrowser();
  await stack.publish({
    title: "An older note on tides",
    body_md: "Tides follow the moon. This older note is here so the home page has more than one card.",
  });
  article = await stack.publish({
    title: "Lighthouses of the north",
    body_md: `## Keepers\n\n${BODY_SENTENCE} Each keeper kept a logbook.\n\nThe *lamps* burned oil, later electricity.`,
    summary: "A short history of the northern lighthouses and their keepers.",
  });
  assert.ok(article && article.slug && article.id, `the API returned the article: ${JSON.stringify(article)}`);
});

after(() => closeAll(browser, stack));

const newPage = (options = {}) => openPage(browser, watcher, options);

test("1. a reader comments, the admin approves and replies, the article shows both", { skip, timeout: 90000 }, async () => {
  const reader = await newPage();
  await reader.goto(stack.url + "/");
  const card = reader.locator("article.post-card", { hasText: "Lighthouses of the north" });
  await card.waitFor();
  assert.equal(await reader.locator("article.post-card").count(), 2, "both published articles are listed");
  const home = await screenshot(stack, reader, "home.png");

  await card.locator("h2 a").click();
  await reader.waitForURL(`${stack.url}/articles/${article.slug}`);
  const articleUrl = reader.url();
  assert.equal((await reader.locator("article.post h1").textContent()).trim(), "Lighthouses of the north");
  assert.match(await reader.locator("article.post .post-content").textContent(), /Lighthouses guided sailors/);
  assert.equal(await reader.locator("article.post").getAttribute("data-article-id"), String(article.id));
  // blog.js counts the view
  await until(() => Number(stack.psql(`SELECT view_count FROM articles WHERE id = ${article.id}`)) >= 1,
    "the article's view was counted");
  await reader.waitForFunction(() => /^1 view$/.test(document.querySelector(".post-views")?.textContent.trim()));
  const shot = await screenshot(stack, reader, "article.png");

  // the JavaScript path: the form is sent by fetch, the page stays
  const content = `What a lovely history, e2e ${Date.now()}`;
  await reader.locator("#comment-name").fill("Ada Reader");
  await reader.locator("#comment-email").fill("ada@example.com");
  await reader.locator("#comment-content").fill(content);
  const posted = reader.waitForResponse((r) =>
    r.request().method() === "POST" && new URL(r.url()).pathname === `/api/articles/${article.id}/comments`);
  await reader.locator('#comment-form [type="submit"]').click();
  const resp = await posted;
  assert.equal(resp.status(), 201, "the comment was accepted");
  assert.ok(["fetch", "xhr"].includes(resp.request().resourceType()),
    `the comment went by fetch, not a form navigation (${resp.request().resourceType()})`);
  const status = reader.locator("#comment-status");
  await reader.waitForFunction(() =>
    /awaiting moderation/.test(document.querySelector("#comment-status")?.textContent || ""));
  assert.equal((await status.textContent()).trim(), "Thanks! Your comment is awaiting moderation.");
  assert.equal(await status.getAttribute("role"), "status");
  assert.equal(reader.url(), articleUrl, "posting did not navigate away");
  assert.equal(await reader.locator("#comments .comment-body", { hasText: content }).count(), 0,
    "the pending comment is not shown");
  await reader.reload();
  await reader.locator("#comment-form").waitFor();
  assert.equal(await reader.locator("#comments .comment-body", { hasText: content }).count(), 0,
    "the pending comment is not served either");

  // the moderator
  const admin = await newPage();
  await adminLogin(admin, stack.url);
  await admin.locator("#nav-comments").click();
  await admin.waitForURL(/#\/comments$/);
  await admin.locator("select#comments-status").selectOption("pending");
  const row = admin.locator("tr.comment-row", { hasText: content });
  await row.waitFor();
  commentId = await row.getAttribute("data-id");
  assert.match(commentId || "", /^\d+$/, "the row names its comment id");
  const approved = admin.waitForResponse((r) =>
    r.request().method() === "POST" && new URL(r.url()).pathname === `/api/admin/comments/${commentId}/approve`);
  await row.locator('button[data-action="approve"]').click();
  assert.equal((await approved).status(), 200, "the approval succeeded");
  assert.equal(await stack.psql(`SELECT status FROM comments WHERE id = ${commentId}`), "approved");

  await admin.locator("select#comments-status").selectOption("approved");
  const arow = admin.locator(`tr.comment-row[data-id="${commentId}"]`);
  await arow.waitFor();
  await arow.locator('button[data-action="reply"]').click();
  const reply = "Thank you, Ada - glad you liked it.";
  await admin.locator("textarea#reply-text").fill(reply);
  const replied = admin.waitForResponse((r) =>
    r.request().method() === "PUT" && new URL(r.url()).pathname === `/api/admin/comments/${commentId}/reply`);
  await admin.locator("button#reply-send").click();
  assert.equal((await replied).status(), 200, "the reply was saved");

  // back on the article: the comment and the admin's reply
  await reader.goto(articleUrl);
  const li = reader.locator(`#comments ol.comments li.comment#comment-${commentId}`);
  await li.waitFor();
  assert.equal((await li.locator(".comment-body").first().textContent()).trim(), content);
  assert.equal((await li.locator(".comment-author").first().textContent()).trim(), "Ada Reader");
  assert.match(await li.locator(".comment-reply").textContent(), /Thank you, Ada - glad you liked it\./);
  assert.equal(await reader.locator("#comments").getByText("ada@example.com").count(), 0,
    "the author's email is never shown");

  for (const f of [home, shot])
    assert.ok(fs.statSync(f).size > 0, `${f} written`);
  await reader.context().close();
  await admin.context().close();
});

test("1b. a reader replies to the approved comment; once approved the reply is nested under it", { skip, timeout: 60000 }, async () => {
  assert.ok(commentId, "test 1 left an approved comment");
  const page = await newPage();
  await page.goto(`${stack.url}/articles/${article.slug}`);
  const replyTo = page.locator(`#comment-${commentId} button.comment-reply-to[data-id="${commentId}"]`);
  await replyTo.click();
  assert.equal(await page.locator('#comment-form [name="parent_id"]').inputValue(), commentId, "Reply sets parent_id");
  const text = `I agree with Ada, e2e ${Date.now()}`;
  await page.locator("#comment-name").fill("Grace");
  await page.locator("#comment-content").fill(text);
  const posted = page.waitForResponse((r) =>
    r.request().method() === "POST" && new URL(r.url()).pathname === `/api/articles/${article.id}/comments`);
  await page.locator('#comment-form [type="submit"]').click();
  const resp = await posted;
  assert.equal(resp.status(), 201);
  assert.equal(resp.request().postDataJSON().parent_id, Number(commentId), "the reply names its parent");
  const { id } = await resp.json();
  await page.waitForFunction(() => /awaiting moderation/.test(document.querySelector("#comment-status")?.textContent || ""));
  assert.equal(stack.psql(`SELECT parent_id FROM comments WHERE id = ${Number(id)}`), commentId);

  await stack.api("POST", `/api/admin/comments/${id}/approve`);
  await page.goto(`${stack.url}/articles/${article.slug}`);
  const nested = page.locator(`li.comment#comment-${commentId} > ol.comments > li.comment#comment-${id}`);
  await nested.waitFor();
  assert.equal((await nested.locator(".comment-body").first().textContent()).trim(), text);
  assert.equal((await nested.locator(".comment-author").first().textContent()).trim(), "Grace");
  await page.context().close();
});

test("5. the article's HTML carries its content and meta tags; it reads without JavaScript", { skip, timeout: 60000 }, async () => {
  const r = await stack.fetch(`/articles/${article.slug}`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") || "", /^text\/html/);
  const html = await r.text();
  assert.ok(html.includes(BODY_SENTENCE), "the body text is in the HTML");
  assert.match(html, /<title>[^<]*Lighthouses of the north[^<]*<\/title>/);
  const meta = (re) => (html.match(re) || [])[1];
  assert.equal(meta(/<meta\s+name="description"\s+content="([^"]*)"/),
    "A short history of the northern lighthouses and their keepers.", "meta description is the summary");
  assert.equal(meta(/<link\s+rel="canonical"\s+href="([^"]*)"/), `${stack.url}/articles/${article.slug}`);
  assert.match(meta(/<meta\s+property="og:title"\s+content="([^"]*)"/) || "", /Lighthouses of the north/);
  assert.ok(/<main\s+id="main"/.test(html), "<main id=main>");
  const scripts = html.match(/<script\b[^>]*>/g) || [];
  assert.ok(scripts.length > 0 && scripts.every((s) => /\ssrc="/.test(s)), `no inline script: ${scripts}`);
  assert.ok(scripts.some((s) => /type="module"/.test(s) && /src="\/blog\.js"/.test(s)), "blog.js as a module");

  const csp = r.headers.get("content-security-policy");
  assert.ok(csp, "a Content-Security-Policy header");
  const directives = Object.fromEntries(csp.split(";").map((d) => d.trim().split(/\s+/)).filter((d) => d[0])
    .map(([k, ...v]) => [k.toLowerCase(), v]));
  const scriptSrc = directives["script-src"] || directives["default-src"];
  assert.ok(scriptSrc, `script-src or default-src in ${csp}`);
  assert.ok(!scriptSrc.includes("'unsafe-inline'") && !scriptSrc.includes("*"), `no 'unsafe-inline' in ${csp}`);

  const page = await newPage({ javaScriptEnabled: false });
  await page.goto(`${stack.url}/articles/${article.slug}`);
  const h1 = page.locator("article.post h1");
  await h1.waitFor({ state: "visible" });
  assert.equal((await h1.textContent()).trim(), "Lighthouses of the north");
  assert.ok(await page.locator(".post-content").getByText(/Lighthouses guided sailors/).isVisible());
  assert.ok(await page.locator("#comment-form").isVisible(), "the comment form shows without JavaScript");
  await page.goto(stack.url + "/");
  assert.equal(await page.locator("article.post-card").count(), 2, "the home page lists without JavaScript");
  await page.context().close();
});

test("6. no CSP violation or console error on the pages and the admin; inline script is refused", { skip, timeout: 60000 }, async () => {
  const page = await newPage();
  await page.goto(`${stack.url}/search?q=lighthouses`);
  await page.locator("#search-results").waitFor({ state: "attached" });
  await page.goto(`${stack.url}/about`);
  await page.locator("main#main").waitFor();
  assert.ok(watcher.pages >= 6, `the watcher saw the pages (${watcher.pages})`);
  assert.deepEqual(watcher.problems, []);

  // the detector works and the policy holds: an injected inline script is blocked
  await page.goto(`${stack.url}/articles/${article.slug}`);
  await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.__inline = 1";
    document.body.appendChild(s);
  });
  const violations = await until(() => watcher.violations.length > 0 && watcher.violations,
    "the blocked inline script is reported", 5000);
  assert.equal(await page.evaluate(() => window.__inline), undefined, "the inline script did not run");
  assert.equal(violations.length, 1, "the blocked inline script was reported");
  assert.match(violations[0].directive, /^script-src/);
  await page.context().close();
});

test("the gateway stops cleanly: no worker left, no sanitizer report", { skip, timeout: 60000 }, async () => {
  await browser.close();
  browser = null;
  await stack.checkCleanStop();
});
