// blog.js - progressive enhancement for the server-rendered blog pages.
// Every page works without it; with it: comments post without a reload,
// Reply buttons answer a comment, search shows results while typing, and the
// article page counts its view. Data only ever reaches the page through
// textContent and attributes set by DOM calls: never as markup.

const MONTHS = ["January", "February", "March", "April", "May", "June", "July",
  "August", "September", "October", "November", "December"];
const PENDING_TEXT = "Thanks! Your comment is awaiting moderation.";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "className") node.className = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return node;
}

// "27 November 2026" and the RFC 3339 time (to the second) for an ISO date.
export function humanDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return { iso: "", human: "" };
  return {
    iso: d.toISOString().replace(/\.\d+Z$/, "Z"),
    human: `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`,
  };
}

function articleHref(slug) {
  return "/articles/" + encodeURIComponent(slug);
}

async function errorMessage(res) {
  try {
    const data = await res.json();
    if (data && data.error && typeof data.error.message === "string") return data.error.message;
  } catch (_) {
    // not JSON
  }
  return `The server answered ${res.status}.`;
}

// ---- comments ----

function setupComments() {
  const form = document.getElementById("comment-form");
  if (!form) return;
  const status = document.getElementById("comment-status");
  const parent = form.elements.namedItem("parent_id");
  const replying = document.getElementById("comment-replying");
  const textarea = document.getElementById("comment-content");

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("is-error", Boolean(isError));
  }

  function clearReply() {
    if (parent) parent.value = "";
    if (replying) {
      replying.hidden = true;
      replying.replaceChildren();
    }
  }

  for (const button of document.querySelectorAll("button.comment-reply-to[data-id]")) {
    button.hidden = false;
    button.addEventListener("click", () => {
      if (parent) parent.value = button.dataset.id;
      if (replying) {
        const cancel = el("button", { type: "button", className: "comment-reply-to" },
          "Cancel reply");
        cancel.addEventListener("click", () => {
          clearReply();
          textarea.focus();
        });
        replying.replaceChildren(`Replying to ${button.dataset.author || "a comment"}. `, cancel);
        replying.hidden = false;
      }
      textarea.focus();
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = form.elements;
    const body = {
      author_name: fields.namedItem("author_name").value,
      content: fields.namedItem("content").value,
      website: fields.namedItem("website").value,
    };
    const email = fields.namedItem("author_email").value.trim();
    if (email) body.author_email = email;
    if (parent && /^\d+$/.test(parent.value)) body.parent_id = Number(parent.value);

    const submit = form.querySelector("button[type=submit]");
    if (submit) submit.disabled = true;
    say("Posting…", false);
    try {
      const res = await fetch(form.getAttribute("action"), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      if (res.status === 201) {
        form.reset();
        clearReply();
        say(PENDING_TEXT, false);
      } else {
        say(await errorMessage(res), true);
      }
    } catch (e) {
      say(`Could not post the comment: ${e.message}`, true);
    } finally {
      if (submit) submit.disabled = false;
    }
  });
}

// ---- search as you type ----

// One result card, the markup of templates/card.html.
export function card(item) {
  const children = [];
  if (item.cover_url) {
    children.push(el("a", { className: "post-card-cover", href: articleHref(item.slug),
      tabindex: "-1", "aria-hidden": "true" },
    el("img", { src: item.cover_url, alt: item.title || "", loading: "lazy" })));
  }
  children.push(el("h2", {}, el("a", { href: articleHref(item.slug) }, item.title || "")));
  const date = humanDate(item.published_at);
  const meta = el("p", { className: "post-meta" },
    el("time", { datetime: date.iso }, date.human));
  if (item.category && item.category.slug) {
    meta.append(" · ", el("a", { className: "post-category",
      href: "/category/" + encodeURIComponent(item.category.slug) }, item.category.name || ""));
  }
  children.push(meta);
  if (item.snippet) children.push(el("p", { className: "post-snippet" }, item.snippet));
  else if (item.summary) children.push(el("p", { className: "post-summary" }, item.summary));
  return el("article", { className: "post-card" }, ...children);
}

function setupSearch() {
  const results = document.getElementById("search-results");
  const input = document.getElementById("search-q");
  if (!results || !input) return;
  const summary = document.getElementById("search-summary");
  const heading = document.querySelector("main h1");
  let timer = 0;
  let seq = 0;

  function pager(q, next) {
    for (const old of document.querySelectorAll("main .pager")) old.remove();
    if (!next) return;
    const href = `/search?q=${encodeURIComponent(q)}&cursor=${encodeURIComponent(next)}`;
    results.after(el("nav", { className: "pager", "aria-label": "Pages" },
      el("a", { rel: "next", className: "next-page", href }, "More results")));
  }

  async function run() {
    const q = input.value.trim();
    const mine = ++seq;
    history.replaceState(null, "", q ? `/search?q=${encodeURIComponent(q)}` : "/search");
    if (!q) {
      results.replaceChildren();
      pager(q, null);
      if (heading) heading.textContent = "Search";
      if (summary) summary.textContent = "Type a word or two in the search box to find articles.";
      return;
    }
    try {
      const res = await fetch(`/api/search?q=${encodeURIComponent(q)}&limit=10`,
        { headers: { Accept: "application/json" } });
      if (mine !== seq) return; // a newer query is under way
      if (heading) heading.textContent = `Search results for “${q}”`;
      if (!res.ok) {
        results.replaceChildren();
        pager(q, null);
        if (summary) summary.textContent = await errorMessage(res);
        return;
      }
      const data = await res.json();
      if (mine !== seq) return;
      results.replaceChildren(...data.items.map(card));
      pager(q, data.next_cursor);
      if (summary) {
        const n = data.items.length;
        summary.textContent = n === 0 ? "No articles match your search."
          : data.next_cursor ? `Showing the best ${n} matches.`
            : `${n} ${n === 1 ? "article" : "articles"} found.`;
      }
    } catch (e) {
      if (mine === seq && summary) summary.textContent = `Search failed: ${e.message}`;
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, 250);
  });
}

// ---- wide tables ----

// A table wider than the article scrolls sideways inside itself (style.css);
// while it does, it takes a Tab stop so keyboard users can scroll it too.
function setupWideTables() {
  const tables = document.querySelectorAll(".post-content table");
  if (!tables.length) return;
  const update = () => {
    for (const t of tables) {
      if (t.scrollWidth > t.clientWidth) t.setAttribute("tabindex", "0");
      else t.removeAttribute("tabindex");
    }
  };
  update();
  window.addEventListener("resize", update);
}

// ---- view counting ----

async function countView() {
  const post = document.querySelector("article.post[data-article-id]");
  if (!post) return;
  const id = post.dataset.articleId;
  if (!/^\d+$/.test(id)) return;
  try {
    const res = await fetch(`/api/articles/${id}/views`, { method: "POST" });
    if (res.status !== 204) return;
    const got = await fetch(`/api/articles/${id}`, { headers: { Accept: "application/json" } });
    if (!got.ok) return;
    const data = await got.json();
    const views = document.querySelector(".post-views");
    if (views && Number.isFinite(data.view_count)) {
      views.dataset.views = String(data.view_count);
      views.textContent = `${data.view_count} ${data.view_count === 1 ? "view" : "views"}`;
    }
  } catch (_) {
    // counting is best effort
  }
}

if (typeof document !== "undefined") {
  setupComments();
  setupSearch();
  setupWideTables();
  countView();
}
