// #/articles/new and #/articles/{id}: the Markdown editor.
//
// The preview is rendered by the server (POST /api/admin/preview, the same
// renderer a save uses), debounced while typing; its HTML is the one value
// this app assigns as markup, because the server made it safe (raw HTML
// escaped, javascript: links dropped). Images upload with POST
// /api/uploads and go in at the cursor as ![name](url).
//
// Saving sends the fields the writer controls; summary, slug and cover only
// when changed, so a generated summary keeps following the body.

import { api, ApiError } from "./api.js";
import { h, heading, replace, flash, reportError, timeEl } from "./dom.js";

const PREVIEW_DELAY_MS = 300;
const FIELD_IDS = {
  title: "editor-title",
  slug: "editor-slug",
  body_md: "editor-body",
  summary: "editor-summary",
  cover_url: "editor-cover",
  category_id: "editor-category",
  tags: "editor-tags",
  published_at: "editor-publish-at",
};
const DONE = { draft: "Saved", publish: "Published", schedule: "Scheduled",
  unpublish: "Unpublished" };

/** "2030-01-02T09:30" (the input's local time) for an RFC 3339 string. */
function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The manual tag names of a comma-separated list: trimmed, no repeats. */
function parseTags(text) {
  const seen = new Set();
  const out = [];
  for (const raw of text.split(",")) {
    const name = raw.trim();
    if (name && !seen.has(name.toLowerCase())) {
      seen.add(name.toLowerCase());
      out.push(name);
    }
  }
  return out;
}

/** Alt text from a file name: no extension, no Markdown brackets. */
function altFromName(name) {
  return name.replace(/\.[^.]*$/, "").replace(/[[\]\\\r\n]/g, " ").trim() || "image";
}

function field(id, label, input, hint) {
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    input,
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null);
}

export async function render(root, params, ctx) {
  const id = params[0] ? Number(params[0]) : null;
  const [article, categories, tags] = await Promise.all([
    id ? api("GET", `/api/admin/articles/${id}`).catch((err) => {
      if (err.status === 404) return null;
      throw err;
    }) : Promise.resolve(null),
    api("GET", "/api/categories").then((r) => r.items).catch(() => []),
    api("GET", "/api/admin/tags").then((r) => r.items).catch(() => []),
  ]);
  if (!ctx.alive()) return;
  if (id && !article) {
    replace(root, heading("Article not found"),
      h("p", {}, "There is no article with this id. ", h("a", { href: "#/articles" },
        "Back to the articles")));
    return;
  }
  let current = article; // the saved state; null until the first save of a new one

  // ---- the form ----
  const title = h("input", { id: "editor-title", name: "title", type: "text", required: true,
    maxlength: "200", autocomplete: "off" });
  const slug = h("input", { id: "editor-slug", name: "slug", type: "text", maxlength: "200",
    autocomplete: "off", spellcheck: "false", "aria-describedby": "editor-slug-hint" });
  const category = h("select", { id: "editor-category", name: "category_id" },
    h("option", { value: "" }, "No category"),
    categories.map((c) => h("option", { value: c.id }, c.name)));
  const tagsInput = h("input", { id: "editor-tags", name: "tags", type: "text",
    autocomplete: "off", "aria-describedby": "editor-tags-hint" });
  const summary = h("textarea", { id: "editor-summary", name: "summary", rows: "2",
    maxlength: "1000", "aria-describedby": "editor-summary-hint" });
  const cover = h("input", { id: "editor-cover", name: "cover_url", type: "text",
    inputmode: "url", autocomplete: "off", spellcheck: "false",
    "aria-describedby": "editor-cover-hint" });
  const body = h("textarea", { id: "editor-body", name: "body_md", rows: "20",
    spellcheck: "true", class: "markdown" });
  const preview = h("div", { id: "editor-preview", class: "preview post-content",
    "aria-label": "Preview", role: "region", tabindex: "0" });
  const previewNote = h("p", { class: "hint", id: "editor-preview-note" });
  const image = h("input", { id: "editor-image", name: "image", type: "file",
    accept: "image/jpeg,image/png,image/gif,image/webp", class: "file-input" });
  const publishAt = h("input", { id: "editor-publish-at", name: "publish_at",
    type: "datetime-local", "aria-describedby": "editor-publish-at-hint" });
  const state = h("p", { id: "editor-state", class: "editor-state" });
  const status = h("p", { id: "editor-status", class: "editor-status", role: "status",
    "aria-live": "polite" });
  const btnDraft = h("button", { id: "editor-save-draft", type: "button", class: "secondary" });
  const btnPublish = h("button", { id: "editor-publish", type: "button" });
  const btnSchedule = h("button", { id: "editor-schedule", type: "button", class: "secondary" },
    "Schedule");
  const btnUnpublish = h("button", { id: "editor-unpublish", type: "button", class: "secondary" },
    "Unpublish");
  const suggestions = h("div", { class: "tag-suggestions", "aria-label": "Existing tags" });

  const headingEl = heading(article ? "Edit article" : "New article");
  const form = h("form", { class: "editor", novalidate: true },
    h("div", { class: "editor-meta" },
      field("editor-title", "Title", title),
      field("editor-slug", "Slug", slug, "Part of the address: /articles/slug. Leave empty to make one from the title."),
      field("editor-category", "Category", category),
      h("div", { class: "wide" },
        field("editor-tags", "Tags", tagsInput, "Comma-separated, e.g. travel, food."),
        suggestions),
      field("editor-summary", "Summary", summary, "Leave empty to generate one from the text."),
      field("editor-cover", "Cover image URL", cover, "An https:// URL or an uploaded /media/… path.")),
    h("div", { class: "editor-panes" },
      h("div", { class: "pane" },
        h("div", { class: "pane-head" },
          h("label", { for: "editor-body" }, "Text (Markdown)"),
          h("label", { for: "editor-image", class: "button secondary small file-label" },
            "Insert image…"),
          image),
        body),
      h("div", { class: "pane" },
        h("div", { class: "pane-head" }, h("span", { class: "pane-title" }, "Preview"),
          previewNote),
        preview)),
    h("fieldset", { class: "publishing" },
      h("legend", {}, "Publishing"),
      state,
      field("editor-publish-at", "Publish at", publishAt,
        `Your local time (${Intl.DateTimeFormat().resolvedOptions().timeZone || "local"}); used by Schedule.`),
      h("div", { class: "buttons" }, btnDraft, btnPublish, btnSchedule, btnUnpublish),
      status));
  replace(root, headingEl, form);

  // ---- state to fields ----
  function fill(a) {
    title.value = a ? a.title : "";
    slug.value = a ? a.slug : "";
    category.value = a && a.category_id ? String(a.category_id) : "";
    tagsInput.value = a ? a.tags.filter((t) => t.source === "manual").map((t) => t.name)
      .join(", ") : "";
    summary.value = a ? a.summary : "";
    cover.value = a && a.cover_url ? a.cover_url : "";
    body.value = a ? a.body_md : "";
    publishAt.value = a && a.status === "scheduled" ? toLocalInput(a.published_at) : "";
  }

  function showState() {
    const s = current ? current.status : "new";
    headingEl.textContent = current ? "Edit article" : "New article";
    btnDraft.textContent = s === "new" || s === "draft" ? "Save draft" : "Save";
    btnPublish.textContent = s === "published" ? "Update" : "Publish";
    btnUnpublish.hidden = s === "new" || s === "draft";
    if (s === "new") {
      replace(state, "Not saved yet.");
    } else if (s === "draft") {
      replace(state, "Draft — only you can see it.");
    } else if (s === "scheduled") {
      replace(state, "Scheduled for ", timeEl(current.published_at), ".");
    } else {
      replace(state, "Published ", timeEl(current.published_at), " — ",
        h("a", { href: `/articles/${encodeURIComponent(current.slug)}` }, "view it"), ".");
    }
  }

  function suggest() {
    const have = new Set(parseTags(tagsInput.value).map((t) => t.toLowerCase()));
    const left = tags.filter((t) => !have.has(t.name.toLowerCase())).slice(0, 30);
    replace(suggestions, left.length ? h("span", { class: "hint" }, "Add: ") : null,
      left.map((t) => h("button", { type: "button", class: "chip", "aria-label": `Add tag ${t.name}`,
        onclick: () => {
          const list = parseTags(tagsInput.value);
          list.push(t.name);
          tagsInput.value = list.join(", ");
          suggest();
          tagsInput.focus();
        } }, t.name)));
  }

  // ---- preview ----
  let previewSeq = 0;
  let previewTimer = 0;
  async function runPreview() {
    const mine = ++previewSeq;
    previewNote.textContent = "Updating…";
    try {
      const out = await api("POST", "/api/admin/preview", { markdown: body.value });
      if (mine !== previewSeq || !ctx.alive()) return;
      // The server's renderer escaped raw HTML and dropped unsafe URLs.
      preview.innerHTML = out.html;
      previewNote.textContent = "";
    } catch (err) {
      if (mine !== previewSeq || !ctx.alive()) return;
      previewNote.textContent = err.status === 401 ? "" : `Preview failed: ${err.message}`;
    }
  }
  function schedulePreview(delay = PREVIEW_DELAY_MS) {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(runPreview, delay);
  }
  ctx.onLeave(() => clearTimeout(previewTimer));
  body.addEventListener("input", () => schedulePreview());

  // ---- image upload ----
  image.addEventListener("change", async () => {
    const file = image.files && image.files[0];
    if (!file) return;
    const data = new FormData();
    data.append("file", file, file.name);
    status.textContent = `Uploading ${file.name}…`;
    flash("");
    try {
      const out = await api("POST", "/api/uploads", data);
      if (!ctx.alive()) return;
      const start = body.selectionStart ?? body.value.length;
      const end = body.selectionEnd ?? start;
      body.setRangeText(`![${altFromName(file.name)}](${out.url})`, start, end, "end");
      body.focus();
      schedulePreview(0);
      status.textContent = `Uploaded ${file.name}.`;
    } catch (err) {
      status.textContent = reportError(err);
    } finally {
      image.value = "";
    }
  });

  // ---- saving ----
  function clearInvalid() {
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  }
  function fail(message, fieldName) {
    status.textContent = message;
    flash(message);
    const el = fieldName && document.getElementById(FIELD_IDS[fieldName]);
    if (el) {
      el.setAttribute("aria-invalid", "true");
      el.focus();
    }
  }

  /** The request body for a save of this kind, or null after a message. */
  function collect(kind) {
    const out = { title: title.value.trim(), body_md: body.value };
    if (!out.title) {
      fail("The title is required.", "title");
      return null;
    }
    const was = current || { slug: "", summary: "", cover_url: null };
    if (slug.value.trim() !== was.slug) out.slug = slug.value.trim();
    if (summary.value.trim() !== was.summary.trim()) out.summary = summary.value.trim();
    if (cover.value.trim() !== (was.cover_url || "")) out.cover_url = cover.value.trim() || null;
    out.category_id = category.value ? Number(category.value) : null;
    out.tags = parseTags(tagsInput.value);

    if (kind === "draft") {
      if (!current || current.status === "draft") out.status = "draft";
    } else if (kind === "publish") {
      out.status = "published";
    } else if (kind === "unpublish") {
      out.status = "draft";
    } else if (kind === "schedule") {
      const when = publishAt.value ? new Date(publishAt.value) : null;
      if (!when || Number.isNaN(when.getTime())) {
        fail("Choose the date and time to publish at.", "published_at");
        return null;
      }
      if (when.getTime() <= Date.now()) {
        fail("The publication time must be in the future.", "published_at");
        return null;
      }
      out.status = "scheduled";
      out.published_at = when.toISOString().replace(/\.\d{3}Z$/, "Z");
    }
    return out;
  }

  const buttons = [btnDraft, btnPublish, btnSchedule, btnUnpublish];
  async function save(kind) {
    clearInvalid();
    flash("");
    const data = collect(kind);
    if (!data) return;
    if (kind === "unpublish" &&
        !window.confirm("Unpublish this article? Readers will no longer see it.")) return;
    buttons.forEach((b) => { b.disabled = true; });
    status.textContent = "Saving…";
    try {
      const saved = current
        ? await api("PUT", `/api/articles/${current.id}`, data)
        : await api("POST", "/api/articles", data);
      if (!ctx.alive()) return;
      const isNew = !current;
      current = saved;
      fill(saved);
      showState();
      suggest();
      status.textContent = DONE[kind];
      if (isNew) history.replaceState(null, "", `#/articles/${saved.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        status.textContent = "";
        return;
      }
      fail(err.message, err.field);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  btnDraft.addEventListener("click", () => save("draft"));
  btnPublish.addEventListener("click", () => save("publish"));
  btnSchedule.addEventListener("click", () => save("schedule"));
  btnUnpublish.addEventListener("click", () => save("unpublish"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save("draft");
  });
  form.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      save("draft");
    }
  });
  form.addEventListener("input", (event) => {
    if (event.target.hasAttribute("aria-invalid")) event.target.removeAttribute("aria-invalid");
  });
  tagsInput.addEventListener("input", suggest);

  fill(article);
  showState();
  suggest();
  if (body.value) runPreview();
  else replace(preview, h("p", { class: "muted" }, "The preview appears here as you type."));
}
