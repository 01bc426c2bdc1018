// The stack a browser end-to-end test file runs against, started by the file
// itself: a fresh database on the throwaway cluster tests/run started, the
// migrations, an admin account with a known password (`admin ensure`), and
// the local gateway on a free port hosting every function of
// deploy/template.yaml and serving frontend/blog, as deploy/local/run does
// for `make run`. Also Chromium (playwright-core driving /usr/bin/chromium
// headless) and small helpers the tests share: the JSON API as the admin,
// polling, the page watcher for CSP violations and console errors, a tiny
// valid PNG.
//
// tests/run exports DATABASE_URL, BIN_DIR, PROJECT_ROOT, TEST_TMP,
// TEST_PG_DIR and TEST_PG_PORT. Without them (a file run by hand) every test
// is skipped with a note on how to run it.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import zlib from "node:zlib";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const NEEDED = ["DATABASE_URL", "BIN_DIR", "PROJECT_ROOT", "TEST_TMP", "TEST_PG_DIR", "TEST_PG_PORT"];
export const ADMIN_USER = "e2e-admin";
export const ADMIN_PASSWORD = "e2e-Password-0123456789";
const APP_SECRET = "e2e-test-secret-0123456789abcdefghij";
const CHROMIUM = "/usr/bin/chromium";

/** Why the tests cannot run here (printed once), or false when they can. */
export function skipReason() {
  const missing = NEEDED.filter((k) => !process.env[k]);
  if (missing.length === 0 && fs.existsSync(CHROMIUM))
    return false;
  const why = missing.length ? `missing ${missing.join(", ")}` : `no ${CHROMIUM}`;
  if (!skipReason.told) {
    skipReason.told = true;
    process.stderr.write(
      `e2e: skipped (${why}). Run the browser tests through the test runner, which\n` +
      "starts a throwaway PostgreSQL and exports the environment:\n" +
      "    make BUILD=build/san SAN=1 all && tests/run build/san\n" +
      "or by hand against a cluster of your own:\n" +
      "    deploy/local/pg start /tmp/e2e-pg 25432\n" +
      "    DATABASE_URL=$(deploy/local/pg url /tmp/e2e-pg 25432) TEST_PG_DIR=/tmp/e2e-pg \\\n" +
      "    TEST_PG_PORT=25432 TEST_TMP=/tmp BIN_DIR=$PWD/build/san/bin PROJECT_ROOT=$PWD \\\n" +
      "    node --test tests/e2e/\n");
  }
  return why;
}

/** Polls fn() until it returns a truthy value (returned) or timeout ms pass
 * (throws with message and the last value or error). */
export async function until(fn, message, timeout = 15000, interval = 100) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last)
        return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline)
      throw new Error(`timed out: ${message} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function run(cmd, args, env, input) {
  const r = spawnSync(cmd, args, { env, input, encoding: "utf8", timeout: 120000 });
  if (r.status !== 0)
    throw new Error(`${path.basename(cmd)} ${args.join(" ")} failed (${r.status ?? r.signal}): ${r.stderr || r.error}`);
  return r.stdout;
}

/** psql on the test cluster's maintenance database "app" (DATABASE_URL), as
 * tests/integration/lib.py does; the output rows, tab-free -tA. */
export function psqlOn(url, sql) {
  return run("psql", [url, "-v", "ON_ERROR_STOP=1", "-tAq", "-c", sql], process.env).trim();
}

/** The direct children of pid (from /proc): [{pid, start}] */
function childrenOf(pid) {
  const out = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d))
      continue;
    const st = procStat(Number(d));
    if (st && st.ppid === pid)
      out.push({ pid: Number(d), start: st.start });
  }
  return out;
}

/** {ppid, state, start} of a process from /proc/PID/stat, or null. */
function procStat(pid) {
  let s;
  try {
    s = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return { state: f[0], ppid: Number(f[1]), start: f[19] };
}

function alive(p) {
  const st = procStat(p.pid);
  return st !== null && st.start === p.start && st.state !== "Z" && st.state !== "X";
}

/** A running stack: .url (http://127.0.0.1:PORT), .db (its DATABASE_URL),
 * .artifacts (build/test-artifacts, created), api(), psql(), stop(). */
export class Stack {
  /** Starts everything for the test file called name (letters, digits, _). */
  static async start(name) {
    const s = new Stack();
    try {
      await s.#start(name);
    } catch (e) {
      await s.stop();
      throw e;
    }
    return s;
  }

  async #start(name) {
    const env = process.env;
    this.root = env.PROJECT_ROOT;
    this.bin = env.BIN_DIR;
    this.dbName = `e2e_${name}`;
    this.artifacts = path.join(this.root, "build", "test-artifacts");
    fs.mkdirSync(this.artifacts, { recursive: true });

    // a fresh database, as lib.fresh_database
    psqlOn(env.DATABASE_URL, `DROP DATABASE IF EXISTS "${this.dbName}"`);
    psqlOn(env.DATABASE_URL, `CREATE DATABASE "${this.dbName}"`);
    this.db = env.DATABASE_URL.replace("/app?", `/${this.dbName}?`);
    if (this.db === env.DATABASE_URL)
      throw new Error(`DATABASE_URL does not name the database "app": ${env.DATABASE_URL}`);

    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.dir = fs.mkdtempSync(path.join(env.TEST_TMP, `e2e-${name}-`));
    fs.chmodSync(this.dir, 0o755);
    const fnEnv = {
      ...env,
      DATABASE_URL: this.db,
      APP_SECRET,
      LOG_LEVEL: "warn",
      ASAN_OPTIONS: env.ASAN_OPTIONS || "detect_leaks=1",
      LSAN_OPTIONS: env.LSAN_OPTIONS || `suppressions=${path.join(this.root, "tests", "lsan.supp")}`,
    };
    for (const k of ["AWS_LAMBDA_RUNTIME_API", "SCF_RUNTIME_API", "PORT"])
      delete fnEnv[k];

    run(path.join(this.bin, "migrate"), [path.join(this.root, "sql")], fnEnv);
    run(path.join(this.bin, "admin"), ["ensure"], { ...fnEnv, ADMIN_USER, ADMIN_PASSWORD });

    this.logFile = path.join(this.dir, "gateway.log");
    const log = fs.openSync(this.logFile, "w");
    const gwEnv = {
      ...fnEnv,
      GATEWAY_ADDR: `127.0.0.1:${this.port}`,
      GATEWAY_PUBLIC_URL: this.url,
      SITE_URL: this.url,
      STORAGE_URL: "file://" + path.join(this.dir, "objects"),
    };
    this.gw = spawn(path.join(this.bin, "gateway"), [
      "--template", path.join(this.root, "deploy", "template.yaml"),
      "--bin-dir", this.bin,
      "--static", path.join(this.root, "frontend", "blog"),
    ], { env: gwEnv, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    this.exit = new Promise((resolve) => this.gw.once("exit", (code, signal) => resolve({ code, signal })));
    this.exited = null;
    this.exit.then((e) => { this.exited = e; });

    await until(async () => {
      if (this.exited)
        throw new Error(`the gateway exited (${JSON.stringify(this.exited)}): ${this.log().slice(-2000)}`);
      const r = await fetch(this.url + "/healthz").catch(() => null);
      return r && r.ok;
    }, "the gateway answers /healthz", 30000, 100);
  }

  /** The gateway's (and its workers') stderr so far. */
  log() {
    try {
      return fs.readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  /** Sanitizer reports in the log: [] when clean. */
  sanitizerReports() {
    return this.log().split("\n").filter((l) =>
      /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)/.test(l));
  }

  /** psql on this file's database. */
  psql(sql) {
    return psqlOn(this.db, sql);
  }

  /** fetch(path) on the stack (no cookies, no browser). */
  fetch(p, init) {
    return fetch(this.url + p, init);
  }

  /** The JSON API as the admin (a bearer token from /api/auth/login):
   * {status, body}; throws unless the status is 2xx when ok is true. */
  async api(method, p, body, ok = true) {
    if (!this.token) {
      const r = await this.fetch("/api/auth/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: ADMIN_USER, password: ADMIN_PASSWORD }),
      });
      const j = await r.json();
      if (!r.ok || !j.token)
        throw new Error(`admin login failed: ${r.status} ${JSON.stringify(j)}`);
      this.token = j.token;
    }
    const headers = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined)
      headers["Content-Type"] = "application/json";
    const r = await this.fetch(p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let j = null;
    try {
      j = text ? JSON.parse(text) : null;
    } catch {
      j = text;
    }
    if (ok && !r.ok)
      throw new Error(`${method} ${p}: ${r.status} ${text.slice(0, 500)}`);
    return { status: r.status, body: j };
  }

  /** Creates and publishes an article through the API; its JSON. */
  async publish(fields) {
    const r = await this.api("POST", "/api/articles", { status: "published", ...fields });
    return r.body;
  }

  /** Stops the gateway (SIGTERM, then SIGKILL after 20 s) and waits until
   * every worker it had is gone. {code, signal, leftover: [pids]}. */
  async stop() {
    if (this.stopped)
      return this.stopped;
    if (!this.gw)
      return (this.stopped = { code: null, signal: null, leftover: [] });
    const workers = this.exited ? [] : childrenOf(this.gw.pid);
    if (!this.exited)
      this.gw.kill("SIGTERM");
    const timer = setTimeout(() => this.gw.kill("SIGKILL"), 20000);
    const e = await this.exit;
    clearTimeout(timer);
    let leftover = [];
    try {
      await until(() => {
        leftover = workers.filter(alive);
        return leftover.length === 0;
      }, "the workers exit", 10000);
    } catch {
      for (const w of leftover)
        try { process.kill(w.pid, "SIGKILL"); } catch { /* gone */ }
    }
    this.stopped = { ...e, workers: workers.length, leftover: leftover.map((w) => w.pid) };
    return this.stopped;
  }

  /** Asserts the end of the stack: with at least one worker running (a
   * request to the articles function makes sure), SIGTERM stops the gateway
   * with status 0, no worker outlives it, and no sanitizer reported anything. */
  async checkCleanStop() {
    const h = await this.fetch("/api/health");
    assert.equal(h.status, 200, "the articles function answers before the stop");
    const s = await this.stop();
    assert.ok(s.workers > 0, "the gateway had workers");
    assert.deepEqual(s.leftover, [], "no worker outlives the gateway");
    assert.equal(s.code, 0, `the gateway exited with 0 (${JSON.stringify(s)})`);
    assert.deepEqual(this.sanitizerReports(), []);
  }
}

/** Chromium headless (no sandbox as root: containers have no user namespaces). */
export function launchBrowser() {
  const args = ["--disable-dev-shm-usage", "--disable-gpu"];
  if (process.getuid && process.getuid() === 0)
    args.push("--no-sandbox");
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

/** A page in a fresh context of browser, with watcher attached unless the
 * context runs without JavaScript or bypasses the CSP (axe); actions wait
 * at most 15 s. */
export async function openPage(browser, watcher, options = {}) {
  const context = await browser.newContext(options);
  if (watcher && options.javaScriptEnabled !== false && !options.bypassCSP)
    await watcher.attach(context);
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  return page;
}

/** The end of a test file: its browser, then its stack (either may be unset). */
export async function closeAll(browser, stack) {
  if (browser)
    await browser.close();
  if (stack)
    await stack.stop();
}

/** Records what goes wrong on pages: console errors, uncaught exceptions,
 * and Content-Security-Policy violations (a securitypolicyviolation listener
 * installed before any page script). .problems lists them; .pages counts the
 * documents that loaded with the listener. ignore(msg) filters expected
 * console errors (e.g. a 401 from /api/auth/me before login). */
export class Watcher {
  constructor(ignore = () => false) {
    this.problems = [];
    this.violations = [];
    this.pages = 0;
    this.ignore = ignore;
  }

  /** Watches every page of context (call before opening pages). */
  async attach(context) {
    await context.exposeBinding("__e2eReport", ({ page }, kind, detail) => {
      if (kind === "loaded") {
        this.pages++;
        return;
      }
      const v = { url: page.url(), ...detail };
      this.violations.push(v);
      this.problems.push(`CSP violation on ${v.url}: ${v.directive} blocked ${v.blocked} (${v.sample})`);
    });
    await context.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) => {
        window.__e2eReport("violation", {
          directive: e.effectiveDirective || e.violatedDirective,
          blocked: e.blockedURI,
          sample: e.sample,
        });
      });
      window.addEventListener("DOMContentLoaded", () => window.__e2eReport("loaded", {}));
    });
    context.on("page", (page) => this.watch(page));
    for (const p of context.pages())
      this.watch(p);
  }

  watch(page) {
    page.on("console", (msg) => {
      if (msg.type() !== "error" || this.ignore(msg))
        return;
      // the browser's own favicon probe: no page asked for it
      if (/status of 404/.test(msg.text()) && /\/favicon\.ico$/.test(msg.location().url || ""))
        return;
      this.problems.push(`console error on ${page.url()}: ${msg.text()} (${msg.location().url})`);
    });
    page.on("pageerror", (err) => {
      this.problems.push(`uncaught exception on ${page.url()}: ${err.message}`);
    });
  }
}

/** A valid PNG of w x h pixels of one colour [r, g, b]. */
export function makePng(w = 16, h = 12, rgb = [200, 40, 40]) {
  const crcTable = [];
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++)
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crcTable.push(c >>> 0);
  }
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf)
      c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      raw.set(rgb, y * (w * 3 + 1) + 1 + x * 3);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Signs in at /admin/ through the login form; resolves once the admin's
 * navigation shows. */
export async function adminLogin(page, base) {
  await page.goto(base + "/admin/");
  await page.locator("#login-username").fill(ADMIN_USER);
  await page.locator("#login-password").fill(ADMIN_PASSWORD);
  await page.locator('#login-form [type="submit"]').click();
  await page.locator("#nav-comments").waitFor({ state: "visible" });
}

/** A screenshot of page saved as build/test-artifacts/NAME; its path. */
export async function screenshot(stack, page, name) {
  const file = path.join(stack.artifacts, name);
  fs.rmSync(file, { force: true });
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
