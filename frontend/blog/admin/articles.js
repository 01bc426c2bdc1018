// #/articles: every article whatever its status (GET /api/admin/articles),
// filtered by status, paged with next_cursor; delete with confirmation.

import { api, query } from "./api.js";
import { h, heading, replace, announce, reportError, timeEl, table, moreButton } from "./dom.js";

const STATUSES = [
  ["", "All"],
  ["draft", "Drafts"],
  ["scheduled", "Scheduled"],
  ["published", "Published"],
];

let lastFilter = "";

/** The status cell: the word, and the time for scheduled/published ones. */
export function statusCell(a) {
  const cell = h("td", { class: "article-status" },
    h("span", { class: `badge badge-${a.status}` }, a.status));
  if (a.status !== "draft" && a.published_at) {
    cell.append(" ", a.status === "scheduled" ? "for " : "", timeEl(a.published_at));
  }
  return cell;
}

function row(a, tbody) {
  const del = h("button", { type: "button", class: "danger small", "data-action": "delete" },
    "Delete");
  const live = a.status !== "draft" && a.published_at && new Date(a.published_at) <= new Date();
  const tr = h("tr", { class: "article-row", "data-id": a.id },
    h("td", {}, h("a", { href: `#/articles/${a.id}`, class: "article-edit" }, a.title)),
    statusCell(a),
    h("td", {}, timeEl(a.updated_at)),
    h("td", { class: "num" }, String(a.view_count)),
    h("td", { class: "actions" },
      live ? h("a", { href: `/articles/${encodeURIComponent(a.slug)}`, class: "small" }, "View")
        : null,
      del));
  del.addEventListener("click", async () => {
    if (!window.confirm(`Delete the article “${a.title}”? This cannot be undone.`)) return;
    del.disabled = true;
    try {
      await api("DELETE", `/api/articles/${a.id}`);
      tr.remove();
      if (!tbody.children.length) tbody.append(emptyRow());
      announce(`Deleted “${a.title}”.`);
    } catch (err) {
      del.disabled = false;
      reportError(err);
    }
  });
  return tr;
}

function emptyRow() {
  return h("tr", { class: "empty" }, h("td", { colspan: "5", class: "muted" }, "No articles."));
}

export async function render(root, _params, ctx) {
  const select = h("select", { id: "articles-status" },
    STATUSES.map(([value, label]) => h("option", { value }, label)));
  select.value = lastFilter;
  const tbody = h("tbody", {});
  let cursor = null;

  async function load(reset) {
    if (reset) cursor = null;
    const page = await api("GET",
      `/api/admin/articles${query({ status: select.value, limit: 20, cursor })}`);
    if (!ctx.alive()) return;
    if (reset) tbody.replaceChildren();
    for (const a of page.items) tbody.append(row(a, tbody));
    if (!tbody.children.length) tbody.append(emptyRow());
    cursor = page.next_cursor;
    more.hidden = !cursor;
  }
  const more = moreButton("Load more articles", () => load(false).catch(reportError));

  select.addEventListener("change", () => {
    lastFilter = select.value;
    load(true).catch(reportError);
  });

  replace(root,
    heading("Articles"),
    h("div", { class: "toolbar" },
      h("label", { for: "articles-status" }, "Show"), select,
      h("a", { href: "#/articles/new", class: "button" }, "New article")),
    table("Articles", ["Title", "Status", "Last edited", "Views", "Actions"], tbody),
    more);
  await load(true);
}
