// Browser end-to-end: lists. The home page pages through every published
// article with "Older posts" (a[rel=next]) until the last page, which has no
// such link; /search?q= lists the matching articles, and typing in the
// search box updates #search-results in place.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Stack, Watcher, closeAll, launchBrowser, openPage, skipReason } from "./stack.mjs";

const skip = skipReason();
let stack;
let browser;
const watcher = new Watcher();
const newestFirst = []; // slugs of every published article, newest first
const TOTAL_PLAIN = 25;

before(async () => {
  if (skip)
    return;
  stack = await Stack.start("listing");
  browser = await launchBrowser();
  const made = [];
  const add = async (title, body_md) => made.push((await stack.publish({ title, body_md })).slug);
  await add("Zebra stripes explained", "Why the zebra has stripes: flies, heat and camouflage on the savanna.");
  await add("Quokka smiles on Rottnest", "The quokka is a small marsupial that seems to smile at every visitor.");
  for (let i = 1; i <= TOTAL_PLAIN; i++)
    await add(`Pagination sample ${String(i).padStart(2, "0")}`, `Sample article number ${i}, about gardening and weather.`);
  await add("Zebra crossings of the Serengeti", "Every year the zebra herds cross the rivers of the Serengeti.");
  newestFirst.push(...made.reverse());
  // a draft is never listed
  await stack.api("POST", "/api/articles", { title: "Zebra draft not public", body_md: "zebra draft", status: "draft" });
});

after(() => closeAll(browser, stack));

const newPage = (options = {}) => openPage(browser, watcher, options);

const cardSlugs = (page, scope = "") => page.locator(`${scope} article.post-card h2 a`).evaluateAll((as) =>
  as.map((a) => new URL(a.href).pathname.replace(/^\/articles\//, "")));

test("3. the home page pages with Older posts through every article; the last page has no next link", { skip, timeout: 90000 }, async () => {
  const page = await newPage();
  await page.goto(stack.url + "/");
  const first = await cardSlugs(page);
  const n = first.length;
  assert.ok(n > 0 && n < newestFirst.length, `the first page shows some articles, not all (${n} of ${newestFirst.length})`);
  assert.deepEqual(first, newestFirst.slice(0, n), "the first page has the newest articles, newest first");

  const seen = [...first];
  let pages = 1;
  for (;;) {
    const next = page.locator("a[rel=next]");
    if (await next.count() === 0)
      break;
    assert.equal(await next.count(), 1, "one next link");
    assert.match(await next.getAttribute("class"), /\bnext-page\b/);
    assert.match((await next.textContent()).trim(), /^Older posts$/);
    assert.match(await next.getAttribute("href"), /[?&]cursor=/);
    const before = page.url();
    await next.click();
    await page.waitForURL((u) => u.href !== before && /[?&]cursor=/.test(u.search));
    const slugs = await cardSlugs(page);
    assert.ok(slugs.length > 0, `page ${pages + 1} is not empty`);
    assert.ok(slugs.every((s) => !seen.includes(s)), `page ${pages + 1} shows different articles`);
    if (pages === 1)
      assert.notDeepEqual(slugs, first);
    seen.push(...slugs);
    pages++;
    assert.ok(pages <= 20, "the pages end");
  }
  assert.ok(pages >= 2, "more than one page");
  assert.deepEqual(seen, newestFirst, "every published article once, newest first, and no draft");
  assert.equal(await page.locator("a[rel=next]").count(), 0, "the last page has no next link");
  await page.context().close();
});

test("4. /search lists the matching articles and the search box searches as you type", { skip, timeout: 60000 }, async () => {
  const page = await newPage();
  await page.goto(stack.url + "/search?q=zebra");
  const results = page.locator("#search-results");
  await results.waitFor({ state: "attached" });
  const zebra = newestFirst.filter((s) => s.startsWith("zebra"));
  assert.equal(zebra.length, 2);
  assert.deepEqual((await cardSlugs(page, "#search-results")).sort(), zebra.sort(), "both zebra articles, not the draft or others");

  // typing replaces the results without loading another page
  await page.evaluate(() => { window.__samePage = true; });
  const box = page.locator("#search-q");
  await box.fill("");
  await box.pressSequentially("quokka", { delay: 40 });
  await page.waitForFunction(() => {
    const r = document.querySelector("#search-results");
    return r && /Quokka smiles on Rottnest/.test(r.textContent) && !/Zebra/.test(r.textContent);
  });
  assert.deepEqual(await cardSlugs(page, "#search-results"), newestFirst.filter((s) => s.startsWith("quokka")));
  assert.equal(await page.evaluate(() => window.__samePage), true, "the results changed in place");

  await page.goto(stack.url + "/search?q=" + encodeURIComponent("xylophonequartz"));
  await results.waitFor({ state: "attached" });
  assert.equal(await page.locator("#search-results article.post-card").count(), 0, "nothing matches a word no article has");
  await page.context().close();
});

test("6. no CSP violation or console error on the list pages", { skip, timeout: 30000 }, async () => {
  assert.ok(watcher.pages >= 4, `the watcher saw the pages (${watcher.pages})`);
  assert.deepEqual(watcher.problems, []);
});

test("the gateway stops cleanly: no worker left, no sanitizer report", { skip, timeout: 60000 }, async () => {
  await browser.close();
  browser = null;
  await stack.checkCleanStop();
});
