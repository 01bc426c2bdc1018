// #/dashboard: the counts of GET /api/admin/stats and the newest pending
// comments with a quick approve.

import { api } from "./api.js";
import { h, heading, replace, announce, reportError, timeEl } from "./dom.js";

const PENDING_SHOWN = 5;

function card(id, label, value, href) {
  return h("li", { class: "card" },
    h("a", { href },
      h("span", { id, class: "card-value" }, String(value)),
      h("span", { class: "card-label" }, label)));
}

export async function render(root, _params, ctx) {
  const cards = h("ul", { class: "cards", "aria-label": "Counts" });
  const pending = h("div", { class: "pending" }, h("p", { class: "muted" }, "Loading…"));
  replace(root,
    heading("Dashboard"),
    cards,
    h("section", { "aria-labelledby": "dash-pending-title" },
      h("h2", { id: "dash-pending-title" }, "Comments awaiting moderation"),
      pending,
      h("p", {}, h("a", { href: "#/comments" }, "All comments →"))));

  const [stats, queue] = await Promise.all([
    api("GET", "/api/admin/stats"),
    api("GET", `/api/admin/comments?status=pending&limit=${PENDING_SHOWN}`),
  ]);
  if (!ctx.alive()) return;

  replace(cards,
    card("dash-published", "published", stats.articles.published, "#/articles"),
    card("dash-drafts", "drafts", stats.articles.draft, "#/articles"),
    card("dash-scheduled", "scheduled", stats.articles.scheduled, "#/articles"),
    card("dash-pending", "pending comments", stats.comments.pending, "#/comments"),
    card("dash-views", "views", stats.views, "#/articles"),
    card("dash-categories", "categories", stats.categories, "#/taxonomy"),
    card("dash-tags", "tags", stats.tags, "#/taxonomy"));

  if (!queue.items.length) {
    replace(pending, h("p", { class: "muted" }, "No comments are waiting."));
    return;
  }
  const list = h("ul", { class: "pending-list" });
  for (const c of queue.items) {
    const approve = h("button", { type: "button", class: "quick-approve", "data-id": c.id },
      "Approve");
    const li = h("li", { class: "pending-item", "data-id": c.id },
      h("p", { class: "pending-meta" },
        h("strong", {}, c.author_name), " on ",
        h("a", { href: `/articles/${encodeURIComponent(c.article.slug)}` }, c.article.title),
        " · ", timeEl(c.created_at)),
      h("p", { class: "pending-text" }, c.content),
      approve);
    approve.addEventListener("click", async () => {
      approve.disabled = true;
      try {
        await api("POST", `/api/admin/comments/${c.id}/approve`);
        li.remove();
        const counter = document.getElementById("dash-pending");
        if (counter) counter.textContent = String(Math.max(0, Number(counter.textContent) - 1));
        announce(`Approved the comment by ${c.author_name}.`);
        if (!list.children.length) {
          replace(pending, h("p", { class: "muted" }, "No comments are waiting."));
        }
      } catch (err) {
        approve.disabled = false;
        reportError(err);
      }
    });
    list.append(li);
  }
  replace(pending, list);
}
