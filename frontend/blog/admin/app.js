// The admin app: session (login, logout, 401 -> login form), the hash
// router and the navigation. Each view is a module with
// render(root, params, ctx) that fills root; ctx.alive() turns false once
// the user has moved on, so late answers are dropped.

import { api, setCsrf } from "./api.js";
import { flash, replace, h } from "./dom.js";
import * as dashboard from "./dashboard.js";
import * as articles from "./articles.js";
import * as editor from "./editor.js";
import * as comments from "./comments.js";
import * as taxonomy from "./taxonomy.js";

const view = document.getElementById("view");
const nav = document.getElementById("nav");
const loginSection = document.getElementById("login");
const loginForm = document.getElementById("login-form");
const loginError = document.getElementById("login-error");
// The page has two <main>s, the login form and the view: one shows at a time
// and the skip link leads to that one.
const skipLink = document.getElementById("skip-link");

// [pattern, view module, nav link id]
const routes = [
  [/^#\/dashboard$/, dashboard, "nav-dashboard"],
  [/^#\/articles$/, articles, "nav-articles"],
  [/^#\/articles\/new$/, editor, "nav-new"],
  [/^#\/articles\/(\d+)$/, editor, "nav-articles"],
  [/^#\/comments$/, comments, "nav-comments"],
  [/^#\/taxonomy$/, taxonomy, "nav-taxonomy"],
];

let signedIn = false;
let generation = 0;
let cleanup = null;

function showLogin(message) {
  signedIn = false;
  setCsrf(null);
  if (cleanup) cleanup();
  cleanup = null;
  generation++;
  nav.hidden = true;
  view.hidden = true;
  replace(view);
  loginSection.hidden = false;
  skipLink.setAttribute("href", "#login");
  loginError.textContent = message || "";
  document.getElementById("login-password").value = "";
  document.getElementById("login-username").focus();
}

function showApp(user) {
  signedIn = true;
  loginSection.hidden = true;
  skipLink.setAttribute("href", "#view");
  loginError.textContent = "";
  nav.hidden = false;
  view.hidden = false;
  document.getElementById("whoami").textContent =
    user ? `Signed in as ${user.display_name || user.username}` : "";
  route();
}

/** Renders the view the hash names (unknown hashes go to the dashboard). */
function route() {
  if (!signedIn) return;
  const hash = location.hash || "#/dashboard";
  const match = routes.find(([re]) => re.test(hash));
  if (!match) {
    location.replace("#/dashboard");
    return;
  }
  const [re, module, navId] = match;
  const params = hash.match(re).slice(1);

  if (cleanup) cleanup();
  cleanup = null;
  const mine = ++generation;
  flash("");
  for (const a of nav.querySelectorAll("a")) {
    if (a.id === navId) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const root = h("div", { class: "view-root" });
  replace(view, root);
  const ctx = {
    alive: () => mine === generation && signedIn,
    onLeave: (fn) => {
      cleanup = fn;
    },
  };
  Promise.resolve(module.render(root, params, ctx))
    .then(() => {
      // Move focus to the new view's heading, for keyboard and screen readers.
      const h1 = root.querySelector("h1");
      if (ctx.alive() && h1 && !root.contains(document.activeElement)) h1.focus();
    })
    .catch((err) => {
      if (err && err.status === 401) return;
      if (ctx.alive()) flash(err.message || String(err));
    });
}

loginForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = document.getElementById("login-username").value.trim();
  const password = document.getElementById("login-password").value;
  const button = loginForm.querySelector("button[type=submit]");
  loginError.textContent = "";
  if (!username || !password) {
    loginError.textContent = "Enter your username and password.";
    return;
  }
  button.disabled = true;
  try {
    const out = await api("POST", "/api/auth/login", { username, password }, { quiet401: true });
    setCsrf(out.csrf_token);
    document.getElementById("login-password").value = "";
    showApp(out.user);
  } catch (err) {
    loginError.textContent =
      err.status === 401 ? "Wrong username or password." : err.message;
    document.getElementById("login-password").focus();
  } finally {
    button.disabled = false;
  }
});

document.getElementById("logout").addEventListener("click", async () => {
  try {
    await api("POST", "/api/auth/logout", undefined, { quiet401: true });
  } catch (err) {
    if (err.status !== 401) {
      flash(err.message);
      return;
    }
  }
  showLogin("You are signed out.");
});

window.addEventListener("admin:unauthorized", () => {
  if (signedIn) showLogin("Your session has ended. Please sign in again.");
});
window.addEventListener("hashchange", route);

// Start: a session cookie may still be valid; /api/auth/me gives the CSRF
// token again after a reload.
(async () => {
  try {
    const me = await api("GET", "/api/auth/me", undefined, { quiet401: true });
    setCsrf(me.csrf_token);
    showApp(me.user);
  } catch (err) {
    showLogin(err.status === 401 ? "" : err.message);
  }
})();
