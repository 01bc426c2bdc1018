// Browser end-to-end: accessibility and responsiveness. axe-core (WCAG 2.0-2.2
// A/AA and best-practice rules) runs on every public page kind (home, an article with a
// threaded comment thread, the admin's reply and the comment form, a
// category and a tag archive, search results, about, the 404 page) and on
// every admin view (login, dashboard, articles, the editor with a preview,
// comment moderation with the reply editor open, categories and tags).
// Keyboard only: the skip link comes first and moves focus to #main, a
// comment is answered and posted with Tab, typing and Enter, the admin signs
// in and walks its navigation, and every stop shows a focus indicator.
// Phone (375x667, touch) and desktop (1280x800): no horizontal scrolling,
// the main content is visible and the sidebar never covers it (below it on a
// phone, beside it on a desktop), form controls are big enough to touch, and
// images in the article stay inside it. Phone screenshots of the home page and
// an article go to build/test-artifacts/.
//
// axe is injected with page.addScriptTag, which the pages' Content-Security-
// Policy would refuse: only the contexts axe runs in bypass the CSP; the
// keyboard and layout checks run under the real policy.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ADMIN_PASSWORD, ADMIN_USER, Stack, Watcher, adminLogin, closeAll, launchBrowser, makePng, openPage, screenshot, skipReason, until } from "./stack.mjs";

const skip = skipReason();
let stack;
let browser;
let axeSource;
// expected: the admin asks /api/auth/me before anyone signed in (401), and
// the keyboard test's deliberate wrong password (401 from /api/auth/login)
const watcher = new Watcher((msg) =>
  /status of 401/.test(msg.text()) && /\/api\/auth\/(me|login)$/.test(msg.location().url || ""));

// WCAG 2.0, 2.1 and 2.2 A/AA, and axe's best practices (one main landmark,
// heading order, content inside landmarks...)
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];
const PHONE = { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const DESKTOP = { viewport: { width: 1280, height: 800 } };
const TOUCH_MIN = 44; // px: form controls on a phone
const TARGET_MIN = 24; // px: WCAG 2.2 target size, anywhere

let article; // the article with the comment thread
let category;
let comment; // the approved top-level comment (with the admin's reply)

before(async () => {
  if (skip)
    return;
  axeSource = fs.readFileSync(path.join(process.env.PROJECT_ROOT, "node_modules", "axe-core", "axe.min.js"), "utf8");
  stack = await Stack.start("a11y");
  browser = await launchBrowser();

  category = (await stack.api("POST", "/api/categories", { name: "Coastal history" })).body;
  // a wide image (wider than any screen) in the article body
  await stack.api("GET", "/api/admin/stats"); // signs the API helper in
  const form = new FormData();
  form.append("file", new Blob([makePng(1600, 40, [30, 90, 160])], { type: "image/png" }), "wide-banner.png");
  const up = await stack.fetch("/api/uploads", { method: "POST", headers: { Authorization: `Bearer ${stack.token}` }, body: form });
  assert.ok(up.ok, `the upload succeeded: ${up.status}`);
  const { url: wide } = await up.json();

  await stack.publish({
    title: "Harbour walls and breakwaters",
    body_md: "Breakwaters keep the harbour calm. Some lighthouses stand at their ends.",
    category_id: category.id,
    tags: ["lighthouses", "harbours"],
  });
  article = await stack.publish({
    title: "Lighthouses of the north",
    summary: "A short history of the northern lighthouses and their keepers.",
    category_id: category.id,
    tags: ["lighthouses", "keepers"],
    body_md: [
      "## Keepers",
      "",
      "Lighthouses guided sailors along the rocky northern coast for centuries. " +
        "A long address that must wrap: https://example.com/a/very/long/path/without/any/spaces/at/all/for/phones",
      "",
      `![A wide blue banner](${wide})`,
      "",
      "### The lamps",
      "",
      "```",
      "lamp  oil     1820  a very long line of code that is wider than any phone screen so it has to scroll",
      "```",
      "",
      "| Year | Lamp | Keeper of the light | Fuel used | Range in nautical miles | Still working today |",
      "| ---- | ---- | ---- | ---- | ---- | ---- |",
      "| 1820 | oil | Thomas Stevenson | whale oil | 12 | no |",
      "| 1930 | electric | Margaret Harbourmaster | mains electricity | 24 | yes |",
    ].join("\n"),
  });
  await stack.publish({ title: "About this blog", slug: "about", body_md: "A blog about the sea and the coast." });

  const post = async (body) => {
    const r = await stack.fetch(`/api/articles/${article.id}/comments`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    assert.equal(r.status, 201, `comment posted: ${await r.clone().text()}`);
    return (await r.json()).id;
  };
  comment = await post({ author_name: "Ada Reader", content: "What a lovely history.\nThank you." });
  await stack.api("POST", `/api/admin/comments/${comment}/approve`);
  await stack.api("PUT", `/api/admin/comments/${comment}/reply`, { reply: "Thank you, Ada - glad you liked it." });
  const reply = await post({ author_name: "Grace", content: "I agree with Ada.", parent_id: comment });
  await stack.api("POST", `/api/admin/comments/${reply}/approve`);
  await post({ author_name: "Pending Pete", content: "Waiting for moderation." });
});

after(() => closeAll(browser, stack));

const newPage = (options = {}) => openPage(browser, watcher, options);

/** axe's violations (AXE_TAGS) on the page as it is now:
 * [{id, impact, help, targets}] */
async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe === "object")))
    await page.addScriptTag({ content: axeSource });
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    }));
  }, AXE_TAGS);
}

/** Runs axe on page (named what) and adds its findings to found. */
async function check(found, what, page) {
  for (const v of await axe(page))
    found.push({ what, ...v });
}

/** The failure message listing findings: page, rule, impact and targets. */
function describe(found) {
  return found.map((v) => `  [${v.impact}] ${v.what}: ${v.id} (${v.help}) at ${v.targets.join(" | ")}`).join("\n");
}

function assertClean(found) {
  const bad = found.filter((v) => v.impact === "critical" || v.impact === "serious");
  const rest = found.filter((v) => !bad.includes(v));
  assert.equal(bad.length, 0, `axe found serious or critical violations:\n${describe(bad)}` +
    (rest.length ? `\nand less severe ones:\n${describe(rest)}` : ""));
  assert.equal(rest.length, 0, `axe found moderate or minor violations:\n${describe(rest)}`);
}

test("axe: every public page kind has no WCAG 2.2 A/AA or best-practice violation", { skip, timeout: 60000 }, async () => {
  const page = await newPage({ bypassCSP: true });
  const found = [];
  const visit = async (what, p, ready) => {
    const r = await page.goto(stack.url + p);
    await page.locator(ready).first().waitFor({ state: "attached" });
    await check(found, what, page);
    return r;
  };
  await visit("home", "/", "article.post-card");
  // the article once blog.js ran (Reply buttons shown), with the thread
  await visit("article", `/articles/${article.slug}`, "button.comment-reply-to:visible");
  assert.equal(await page.locator(`#comment-${comment} > ol.comments li.comment`).count(), 1, "a threaded reply");
  assert.equal(await page.locator(`#comment-${comment} .comment-reply`).count(), 1, "the admin's reply");
  assert.equal(await page.locator(".post-content img").count(), 1, "the image is in the article");
  await page.locator(`#comment-${comment} button.comment-reply-to`).first().click();
  await page.locator("#comment-replying:visible").waitFor();
  await check(found, "article (replying)", page);
  // on a phone: the wide table scrolls sideways and is reachable by keyboard
  await page.setViewportSize(PHONE.viewport);
  await page.waitForFunction(() => {
    const t = document.querySelector(".post-content table");
    return t.scrollWidth > t.clientWidth;
  });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await check(found, "article (375px wide)", page);
  await page.setViewportSize({ width: 1280, height: 720 });
  await visit("category", `/category/${category.slug}`, "article.post-card");
  await visit("tag", "/tag/lighthouses", "article.post-card");
  await visit("search", "/search?q=lighthouses", "#search-results article.post-card");
  await visit("search (nothing found)", "/search?q=zzzqqqx", "#search-results");
  await visit("about", "/about", "main#main h1");
  const r = await visit("404", "/articles/no-such-article", "main#main h1");
  assert.equal(r.status(), 404);
  // the check itself: a page with a known problem is reported
  await page.evaluate(() => {
    const i = document.createElement("img");
    i.src = "/favicon.svg";
    document.querySelector("main").append(i);
  });
  assert.ok((await axe(page)).some((v) => v.id === "image-alt"), "axe reports an image without alt text");
  await page.context().close();
  assertClean(found);
});

test("axe: every admin view has no WCAG 2.2 A/AA or best-practice violation", { skip, timeout: 60000 }, async () => {
  const page = await newPage({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const found = [];
  await page.goto(stack.url + "/admin/");
  await page.locator("#login-username").waitFor({ state: "visible" });
  await check(found, "admin login", page);
  await page.locator("#login-username").fill(ADMIN_USER);
  await page.locator("#login-password").fill("wrong-password-for-the-a11y-test");
  await page.locator('#login-form [type="submit"]').click();
  await page.waitForFunction(() => document.querySelector("#login-error")?.textContent.trim());
  await check(found, "admin login (error)", page);
  await adminLogin(page, stack.url);
  const view = async (what, hash, ready) => {
    await page.goto(`${stack.url}/admin/${hash}`);
    await page.locator(ready).first().waitFor();
    await check(found, what, page);
  };
  await view("admin dashboard", "#/dashboard", ".pending-item");
  await view("admin articles", "#/articles", "tr.article-row");
  await view("admin editor (new)", "#/articles/new", "#editor-title");
  await view("admin editor", `#/articles/${article.id}`, "#editor-preview h2");
  assert.equal(await page.locator("#editor-preview img").count(), 1, "the preview has the image");
  await view("admin comments", "#/comments", "tr.comment-row");
  await page.locator('tr.comment-row button[data-action="reply"]').first().click();
  await page.locator("textarea#reply-text").waitFor();
  await check(found, "admin comments (replying)", page);
  await view("admin taxonomy", "#/taxonomy", "tr.category-row");
  await page.context().close();
  assertClean(found);
});

/** What has focus: a short description and whether it shows a focus
 * indicator (an outline or a box-shadow while :focus-visible). */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body)
      return { desc: "body", id: "", indicator: false };
    const cs = getComputedStyle(el);
    const outline = cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0;
    const shadow = cs.boxShadow !== "none";
    const r = el.getBoundingClientRect();
    return {
      desc: `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className ? "." + String(el.className).split(" ").join(".") : ""} "${(el.textContent || el.value || "").trim().slice(0, 30)}"`,
      id: el.id,
      name: el.getAttribute("name"),
      cls: String(el.className),
      focusVisible: el.matches(":focus-visible"),
      indicator: el.matches(":focus-visible") && (outline || shadow),
      inView: r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth,
    };
  });
}

/** Presses Tab (or Shift+Tab) until pred(focused) holds; every stop on the
 * way must show a focus indicator. The stops, the last one matching. */
async function tabUntil(page, pred, what, back = false, max = 80) {
  const stops = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
    const f = await focused(page);
    stops.push(f);
    assert.ok(f.indicator, `${f.desc} shows a focus indicator when reached with the keyboard`);
    if (pred(f))
      return stops;
  }
  assert.fail(`${what}: not reached in ${max} Tab presses; the stops: ${stops.map((s) => s.desc).join(", ")}`);
}

test("keyboard: the skip link, then a reply to a comment typed and sent without a mouse", { skip, timeout: 60000 }, async () => {
  const page = await newPage(DESKTOP);
  await page.goto(`${stack.url}/articles/${article.slug}`);
  await page.locator("button.comment-reply-to:visible").first().waitFor();

  await page.keyboard.press("Tab");
  let f = await focused(page);
  assert.match(f.cls, /\bskip-link\b/, `the first Tab stop is the skip link, not ${f.desc}`);
  assert.ok(f.indicator && f.inView, `the focused skip link shows on screen: ${JSON.stringify(f)}`);
  await page.keyboard.press("Enter");
  await until(() => page.evaluate(() => document.activeElement?.id === "main"), "Enter on the skip link focuses #main", 3000);
  assert.match(page.url(), /#main$/);

  // from the content on: Reply on the first comment puts the caret in the form
  const toReply = await tabUntil(page, (s) => /\bcomment-reply-to\b/.test(s.cls), "the first Reply button");
  assert.ok(!toReply.some((s) => /^(search-q|nav)/.test(s.id)), "Tab after the skip link starts in the content");
  await page.keyboard.press("Enter");
  f = await focused(page);
  assert.equal(f.id, "comment-content", "Reply moves focus to the comment box");
  assert.equal(await page.locator('#comment-form [name="parent_id"]').inputValue(), String(comment));
  assert.match(await page.locator("#comment-replying").textContent(), /Replying to Ada Reader/);

  await page.keyboard.press("Shift+Tab");
  assert.equal((await focused(page)).id, "comment-email", "Shift+Tab skips the honeypot back to the email");
  await page.keyboard.press("Shift+Tab");
  assert.equal((await focused(page)).id, "comment-name");
  await page.keyboard.type("Keyboard Kim");
  await page.keyboard.press("Tab");
  assert.equal((await focused(page)).id, "comment-email");
  await page.keyboard.type("kim@example.com");
  await page.keyboard.press("Tab");
  f = await focused(page);
  assert.equal(f.id, "comment-content", `Tab goes from the email to the comment (the honeypot is skipped), not ${f.desc}`);
  const text = `Typed with the keyboard only, e2e ${Date.now()}`;
  await page.keyboard.type(text);
  await page.keyboard.press("Tab");
  f = await focused(page);
  assert.match(f.desc, /^button.*Post comment/, `Tab reaches the submit button, not ${f.desc}`);
  assert.ok(f.indicator, "the submit button shows its focus");
  const posted = page.waitForResponse((r) =>
    r.request().method() === "POST" && new URL(r.url()).pathname === `/api/articles/${article.id}/comments`);
  await page.keyboard.press("Enter");
  const resp = await posted;
  assert.equal(resp.status(), 201);
  assert.deepEqual(resp.request().postDataJSON(), {
    author_name: "Keyboard Kim", author_email: "kim@example.com", content: text, website: "", parent_id: comment,
  });
  await page.waitForFunction(() =>
    document.querySelector("#comment-status")?.textContent.trim() === "Thanks! Your comment is awaiting moderation.");
  assert.equal(stack.psql(`SELECT parent_id || ' ' || status FROM comments WHERE content = '${text}'`), `${comment} pending`);
  await page.context().close();
});

test("keyboard: the admin signs in and walks its navigation; every stop shows its focus", { skip, timeout: 60000 }, async () => {
  const page = await newPage(DESKTOP);
  await page.goto(stack.url + "/admin/");
  await until(() => page.evaluate(() => document.activeElement?.id === "login-username"),
    "the login form focuses the username", 5000);
  await page.keyboard.type(ADMIN_USER);
  await page.keyboard.press("Tab");
  assert.equal((await focused(page)).id, "login-password", "Tab goes from the username to the password");
  await page.keyboard.type(ADMIN_PASSWORD);
  await page.keyboard.press("Enter");
  await page.locator("#nav-dashboard").waitFor({ state: "visible" });
  await until(() => page.evaluate(() => document.activeElement?.tagName === "H1"), "focus moves to the view's heading", 5000);

  // back to the navigation, then forward through every link
  await tabUntil(page, (s) => s.id === "nav-dashboard", "the Dashboard link", true, 12);
  const ids = ["nav-articles", "nav-new", "nav-comments", "nav-taxonomy", "logout"];
  for (const id of ids) {
    await page.keyboard.press("Tab");
    const f = await focused(page);
    assert.equal(f.id, id, `Tab goes through the navigation in order: expected #${id}, got ${f.desc}`);
    assert.ok(f.indicator && f.inView, `#${id} shows a focus indicator: ${JSON.stringify(f)}`);
  }
  await page.keyboard.press("Shift+Tab"); // nav-taxonomy
  await page.keyboard.press("Shift+Tab"); // nav-comments
  assert.equal((await focused(page)).id, "nav-comments");
  await page.keyboard.press("Enter");
  await page.waitForURL(/#\/comments$/);
  await until(() => page.evaluate(() => document.activeElement?.tagName === "H1" &&
    document.activeElement.textContent === "Comments"), "the Comments view's heading has focus", 5000);
  // the moderation buttons are reachable too
  await tabUntil(page, (s) => /data-action|^button/.test(s.desc) && /Approve/.test(s.desc), "an Approve button", false, 20);
  await page.context().close();
});

/** Layout facts of the page at its current viewport. */
function layout(page, contentSel) {
  return page.evaluate((sel) => {
    const rect = (el) => {
      if (!el)
        return null;
      const r = el.getBoundingClientRect();
      return { top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left, right: r.right, width: r.width, height: r.height };
    };
    const main = document.querySelector(sel);
    const h1 = main.querySelector("h1");
    h1.scrollIntoView({ block: "center" });
    const hr = h1.getBoundingClientRect();
    const hit = document.elementFromPoint(hr.left + Math.min(hr.width / 2, 40), hr.top + hr.height / 2);
    const visible = (el) => {
      const cs = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      return cs.visibility !== "hidden" && cs.display !== "none" && r.width > 0 && r.height > 0;
    };
    const controls = [...document.querySelectorAll("input, select, textarea, button, .button")]
      .filter((el) => el.type !== "hidden" && el.type !== "file" && !el.closest(".visually-hidden, [aria-hidden=true]") && visible(el))
      .map((el) => ({ desc: `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className ? "." + String(el.className).split(" ").join(".") : ""}`,
        text: el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA", height: el.getBoundingClientRect().height,
        width: el.getBoundingClientRect().width }));
    const images = [...document.querySelectorAll(".post-content img")].map((img) => {
      const box = img.closest(".post-content").getBoundingClientRect();
      const r = img.getBoundingClientRect();
      return { src: img.getAttribute("src"), loaded: img.complete && img.naturalWidth > 0, natural: img.naturalWidth,
        width: r.width, left: r.left, right: r.right, boxLeft: box.left, boxRight: box.right };
    });
    return {
      innerWidth, scrollWidth: document.documentElement.scrollWidth, bodyScrollWidth: document.body.scrollWidth,
      main: rect(main), sidebar: rect(document.querySelector(".sidebar")), h1: rect(h1),
      h1Hit: !!hit && main.contains(hit), hitDesc: hit ? hit.outerHTML.slice(0, 80) : "nothing",
      controls, images,
    };
  }, contentSel);
}

function checkLayout(what, l, size) {
  const w = size.viewport.width;
  assert.equal(l.innerWidth, w, `${what}: the layout viewport stays the device width (on a phone, content wider than the screen widens it)`);
  assert.ok(l.scrollWidth <= w && l.bodyScrollWidth <= w,
    `${what}: no horizontal scrolling (scrollWidth ${l.scrollWidth}, body ${l.bodyScrollWidth}, viewport ${w})`);
  assert.ok(l.main.width > 0 && l.main.left >= 0 && l.main.right <= w + 0.5,
    `${what}: the main content is inside the viewport: ${JSON.stringify(l.main)}`);
  assert.ok(l.h1.left >= 0 && l.h1.right <= w + 0.5, `${what}: the heading is inside the viewport`);
  assert.ok(l.h1Hit, `${what}: the heading is not covered by anything (the point hits ${l.hitDesc})`);
  if (w < 600)
    assert.ok(l.main.width >= w * 0.85, `${what}: on a phone the content uses the width (${l.main.width} of ${w})`);
  if (l.sidebar) {
    const overlap = !(l.sidebar.right <= l.main.left || l.sidebar.left >= l.main.right ||
      l.sidebar.bottom <= l.main.top || l.sidebar.top >= l.main.bottom);
    assert.ok(!overlap, `${what}: the sidebar does not overlap the content: main ${JSON.stringify(l.main)}, sidebar ${JSON.stringify(l.sidebar)}`);
    if (w < 600)
      assert.ok(l.sidebar.top >= l.main.bottom, `${what}: on a phone the sidebar comes below the content`);
    else
      assert.ok(l.sidebar.left >= l.main.right && l.sidebar.top < l.main.top + 50,
        `${what}: on a desktop the sidebar is beside the content`);
  }
  const min = size.isMobile ? TOUCH_MIN : TARGET_MIN;
  const small = l.controls.filter((c) => c.height < min - 0.5 || c.width < TARGET_MIN);
  assert.ok(l.controls.length > 0, `${what}: the page has form controls`);
  assert.deepEqual(small.map((c) => `${c.desc} ${Math.round(c.width)}x${Math.round(c.height)}`), [],
    `${what}: form controls and buttons are at least ${min}px tall`);
  for (const img of l.images) {
    assert.ok(img.loaded, `${what}: ${img.src} loaded`);
    assert.ok(img.left >= img.boxLeft - 0.5 && img.right <= img.boxRight + 0.5 && img.right <= w,
      `${what}: ${img.src} (${img.natural}px wide) stays inside .post-content: ${JSON.stringify(img)}`);
  }
}

for (const [name, size] of [["phone", PHONE], ["desktop", DESKTOP]]) {
  test(`responsive (${name} ${size.viewport.width}x${size.viewport.height}): home, article and the editor fit`, { skip, timeout: 60000 }, async () => {
    const page = await newPage(size);
    await page.goto(stack.url + "/");
    await page.locator("article.post-card").first().waitFor();
    checkLayout(`${name} home`, await layout(page, "main#main"), size);
    if (name === "phone")
      await screenshot(stack, page, "home-phone.png");

    await page.goto(`${stack.url}/articles/${article.slug}`);
    await page.waitForFunction(() => [...document.querySelectorAll(".post-content img")].every((i) => i.complete && i.naturalWidth > 0));
    await page.locator("button.comment-reply-to:visible").first().waitFor();
    const l = await layout(page, "main#main");
    assert.equal(l.images.length, 1, "the article's image is measured");
    assert.ok(l.images[0].natural > size.viewport.width, "the image is wider than the screen");
    checkLayout(`${name} article`, l, size);
    if (name === "phone") {
      const file = await screenshot(stack, page, "article-phone.png");
      assert.ok(fs.statSync(file).size > 0);
      assert.ok(fs.statSync(path.join(stack.artifacts, "home-phone.png")).size > 0);
    }

    await adminLogin(page, stack.url);
    await page.goto(`${stack.url}/admin/#/articles/${article.id}`);
    await page.locator("#editor-preview h2").waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll("#editor-preview img")].every((i) => i.complete && i.naturalWidth > 0));
    const e = await layout(page, "main#view");
    assert.equal(e.images.length, 1, "the preview's image is measured");
    checkLayout(`${name} editor`, e, size);
    const panes = await page.evaluate(() => [...document.querySelectorAll(".editor-panes .pane")].map((p) => {
      const r = p.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    }));
    assert.equal(panes.length, 2);
    if (name === "phone")
      assert.ok(panes[1].top >= panes[0].bottom, "on a phone the preview comes below the text");
    else
      assert.ok(panes[1].left >= panes[0].right && Math.abs(panes[1].top - panes[0].top) < 2, "on a desktop text and preview are side by side");
    await page.context().close();
  });
}

test("no CSP violation or console error on the pages the keyboard and layout checks opened", { skip, timeout: 10000 }, async () => {
  assert.ok(watcher.pages >= 8, `the watcher saw the pages (${watcher.pages})`);
  assert.deepEqual(watcher.problems, []);
});

test("the gateway stops cleanly: no worker left, no sanitizer report", { skip, timeout: 60000 }, async () => {
  await browser.close();
  browser = null;
  await stack.checkCleanStop();
});
