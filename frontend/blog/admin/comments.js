// #/comments: moderation (GET /api/admin/comments?status=...): approve,
// mark as spam, delete (with confirmation) and the admin's reply, which
// shows in the row once sent. A row whose status no longer matches the
// filter leaves the list.

import { api, query } from "./api.js";
import { h, heading, replace, announce, reportError, timeEl, table, moreButton } from "./dom.js";

const FILTERS = [
  ["pending", "Pending"],
  ["approved", "Approved"],
  ["spam", "Spam"],
];

let lastFilter = "pending";

function replyBlock(c) {
  if (!c.admin_reply) return h("div", { class: "comment-reply", hidden: true });
  return h("div", { class: "comment-reply" },
    h("span", { class: "reply-label" }, "Your reply"),
    c.admin_reply_at ? [" · ", timeEl(c.admin_reply_at)] : null,
    h("p", {}, c.admin_reply));
}

export async function render(root, _params, ctx) {
  const select = h("select", { id: "comments-status" },
    FILTERS.map(([value, label]) => h("option", { value }, label)));
  select.value = lastFilter;
  const tbody = h("tbody", {});
  let cursor = null;
  let openReply = null; // the reply editor's row, when open

  function emptyRow() {
    return h("tr", { class: "empty" },
      h("td", { colspan: "5", class: "muted" }, `No ${select.value} comments.`));
  }
  function removeRow(tr) {
    if (openReply && openReply.previousElementSibling === tr) closeReply();
    tr.remove();
    if (!tbody.querySelector("tr.comment-row")) tbody.replaceChildren(emptyRow());
  }
  function closeReply() {
    if (openReply) openReply.remove();
    openReply = null;
  }

  function openReplyEditor(c, tr, button) {
    closeReply();
    const text = h("textarea", { id: "reply-text", rows: "3", maxlength: "5000" });
    text.value = c.admin_reply || "";
    const send = h("button", { id: "reply-send", type: "button" }, "Send reply");
    const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
    const editor = h("tr", { class: "reply-editor" },
      h("td", { colspan: "5" },
        h("label", { for: "reply-text" }, `Reply to ${c.author_name}`),
        text,
        h("p", { class: "hint" }, "Shown under the comment on the article page. Empty removes the reply."),
        h("div", { class: "buttons" }, send, cancel)));
    cancel.addEventListener("click", () => {
      closeReply();
      button.focus();
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Escape") cancel.click();
    });
    send.addEventListener("click", async () => {
      send.disabled = true;
      try {
        const out = await api("PUT", `/api/admin/comments/${c.id}/reply`,
          { reply: text.value });
        Object.assign(c, out);
        tr.querySelector(".comment-reply").replaceWith(replyBlock(c));
        closeReply();
        button.focus();
        announce(c.admin_reply ? "Reply saved." : "Reply removed.");
      } catch (err) {
        send.disabled = false;
        reportError(err);
      }
    });
    tr.after(editor);
    openReply = editor;
    text.focus();
  }

  function row(c) {
    const actions = h("td", { class: "actions" });
    const tr = h("tr", { class: "comment-row", "data-id": c.id },
      h("td", {},
        h("strong", { class: "comment-author" }, c.author_name),
        c.author_email ? h("div", { class: "muted small-text" }, c.author_email) : null,
        h("div", { class: "muted small-text" }, timeEl(c.created_at))),
      h("td", { class: "comment-cell" },
        c.parent_id ? h("div", { class: "muted small-text" }, "In reply to another comment") : null,
        h("p", { class: "comment-body" }, c.content),
        replyBlock(c)),
      h("td", {},
        h("a", { href: `/articles/${encodeURIComponent(c.article.slug)}#comment-${c.id}` },
          c.article.title)),
      h("td", { class: "comment-status" }, h("span", { class: `badge badge-${c.status}` },
        c.status)),
      actions);

    const act = (action, label, cls, run) => {
      const b = h("button", { type: "button", class: `small ${cls}`, "data-action": action,
        "aria-label": `${label}: comment by ${c.author_name}` }, label);
      b.addEventListener("click", () => run(b));
      actions.append(b);
    };
    const setStatus = (status, verb) => async (b) => {
      b.disabled = true;
      try {
        const out = await api("POST", `/api/admin/comments/${c.id}/${verb}`);
        Object.assign(c, out);
        announce(`Comment by ${c.author_name} ${status === "spam" ? "marked as spam" : "approved"}.`);
        if (select.value !== status) removeRow(tr);
        else b.disabled = false;
      } catch (err) {
        b.disabled = false;
        reportError(err);
      }
    };
    if (c.status !== "approved") act("approve", "Approve", "", setStatus("approved", "approve"));
    if (c.status !== "spam") act("spam", "Spam", "secondary", setStatus("spam", "spam"));
    act("reply", "Reply", "secondary", (b) => openReplyEditor(c, tr, b));
    act("delete", "Delete", "danger", async (b) => {
      if (!window.confirm(`Delete the comment by ${c.author_name}?`)) return;
      b.disabled = true;
      try {
        await api("DELETE", `/api/admin/comments/${c.id}`);
        removeRow(tr);
        announce(`Comment by ${c.author_name} deleted.`);
      } catch (err) {
        b.disabled = false;
        reportError(err);
      }
    });
    return tr;
  }

  async function load(reset) {
    if (reset) {
      cursor = null;
      closeReply();
    }
    const page = await api("GET",
      `/api/admin/comments${query({ status: select.value, limit: 20, cursor })}`);
    if (!ctx.alive()) return;
    if (reset) tbody.replaceChildren();
    tbody.querySelector("tr.empty")?.remove();
    for (const c of page.items) tbody.append(row(c));
    if (!tbody.children.length) tbody.append(emptyRow());
    cursor = page.next_cursor;
    more.hidden = !cursor;
  }
  const more = moreButton("Load more comments", () => load(false).catch(reportError));

  select.addEventListener("change", () => {
    lastFilter = select.value;
    load(true).catch(reportError);
  });

  replace(root,
    heading("Comments"),
    h("div", { class: "toolbar" }, h("label", { for: "comments-status" }, "Show"), select),
    table("Comments", ["Author", "Comment", "Article", "Status", "Actions"], tbody),
    more);
  await load(true);
}
