// #/taxonomy: categories and tags — create, rename (name and slug), delete
// with confirmation. One implementation for both; they differ in the API
// path and in the category's sort order.

import { api } from "./api.js";
import { h, heading, replace, announce, reportError, table, flash } from "./dom.js";

const KINDS = {
  category: {
    title: "Categories", one: "category", path: "/api/categories", list: "/api/categories",
    sort: true,
    note: "Deleting a category leaves its articles without one.",
  },
  tag: {
    title: "Tags", one: "tag", path: "/api/tags", list: "/api/admin/tags", sort: false,
    note: "Counts include drafts and scheduled articles. Deleting a tag takes it off every article.",
  },
};

function section(kind, items) {
  const k = KINDS[kind];
  const tbody = h("tbody", {});
  const cols = ["Name", "Slug"].concat(k.sort ? ["Order"] : [], ["Articles", "Actions"]);

  function emptyRow() {
    return h("tr", { class: "empty" },
      h("td", { colspan: String(cols.length), class: "muted" }, `No ${k.title.toLowerCase()} yet.`));
  }

  function row(item) {
    const nameId = `${kind}-name-${item.id}`;
    const slugId = `${kind}-slug-${item.id}`;
    const sortId = `${kind}-sort-${item.id}`;
    const name = h("input", { id: nameId, type: "text", value: item.name, required: true });
    const slug = h("input", { id: slugId, type: "text", value: item.slug, spellcheck: "false" });
    const sort = k.sort ? h("input", { id: sortId, type: "number", step: "1", class: "narrow",
      value: item.sort_order ?? 0 }) : null;
    const save = h("button", { type: "button", class: "small", "data-action": "save" }, "Save");
    const del = h("button", { type: "button", class: "small danger", "data-action": "delete" },
      "Delete");
    const tr = h("tr", { class: `${kind}-row`, "data-id": item.id },
      h("td", {}, h("label", { for: nameId, class: "visually-hidden" }, `Name of ${item.name}`),
        name),
      h("td", {}, h("label", { for: slugId, class: "visually-hidden" }, `Slug of ${item.name}`),
        slug),
      k.sort ? h("td", {}, h("label", { for: sortId, class: "visually-hidden" },
        `Order of ${item.name}`), sort) : null,
      h("td", { class: "num" }, String(item.article_count ?? 0)),
      h("td", { class: "actions" }, save, del));

    save.addEventListener("click", async () => {
      const body = {};
      if (name.value.trim() !== item.name) body.name = name.value.trim();
      if (slug.value.trim() !== item.slug) body.slug = slug.value.trim();
      if (k.sort && Number(sort.value) !== (item.sort_order ?? 0)) body.sort_order = Number(sort.value);
      if (!Object.keys(body).length) {
        announce("Nothing to save.");
        return;
      }
      save.disabled = true;
      flash("");
      try {
        const out = await api("PUT", `${k.path}/${item.id}`, body);
        Object.assign(item, out);
        name.value = item.name;
        slug.value = item.slug;
        announce(`Saved the ${k.one} “${item.name}”.`);
      } catch (err) {
        reportError(err);
        const bad = err.field === "slug" ? slug : err.field === "sort_order" ? sort : name;
        if (bad && err.status !== 401) bad.focus();
      } finally {
        save.disabled = false;
      }
    });
    del.addEventListener("click", async () => {
      if (!window.confirm(`Delete the ${k.one} “${item.name}”?`)) return;
      del.disabled = true;
      try {
        await api("DELETE", `${k.path}/${item.id}`);
        tr.remove();
        if (!tbody.children.length) tbody.append(emptyRow());
        announce(`Deleted the ${k.one} “${item.name}”.`);
      } catch (err) {
        del.disabled = false;
        reportError(err);
      }
    });
    return tr;
  }

  for (const item of items) tbody.append(row(item));
  if (!items.length) tbody.append(emptyRow());

  const newName = h("input", { id: `${kind}-new-name`, type: "text", required: true,
    maxlength: kind === "tag" ? "50" : "80" });
  const newSlug = h("input", { id: `${kind}-new-slug`, type: "text", spellcheck: "false" });
  const form = h("form", { class: "inline-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: `${kind}-new-name` }, "Name"), newName),
    h("div", { class: "field" }, h("label", { for: `${kind}-new-slug` }, "Slug (optional)"),
      newSlug),
    h("button", { type: "submit", id: `${kind}-create` }, `Add ${k.one}`));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    flash("");
    const body = { name: newName.value.trim() };
    if (!body.name) {
      flash(`The ${k.one} needs a name.`);
      newName.focus();
      return;
    }
    if (newSlug.value.trim()) body.slug = newSlug.value.trim();
    try {
      const out = await api("POST", k.path, body);
      tbody.querySelector("tr.empty")?.remove();
      tbody.append(row(out));
      newName.value = "";
      newSlug.value = "";
      announce(`Added the ${k.one} “${out.name}”.`);
      newName.focus();
    } catch (err) {
      reportError(err);
      if (err.status !== 401) (err.field === "slug" ? newSlug : newName).focus();
    }
  });

  return h("section", { class: "taxonomy", "aria-labelledby": `${kind}-title` },
    h("h2", { id: `${kind}-title` }, k.title),
    h("p", { class: "hint" }, k.note),
    form,
    table(k.title, cols, tbody));
}

export async function render(root, _params, ctx) {
  replace(root, heading("Categories & tags"), h("p", { class: "muted" }, "Loading…"));
  const [categories, tags] = await Promise.all([
    api("GET", KINDS.category.list),
    api("GET", KINDS.tag.list),
  ]);
  if (!ctx.alive()) return;
  replace(root, heading("Categories & tags"),
    h("div", { class: "taxonomy-grid" },
      section("category", categories.items),
      section("tag", tags.items)));
}
