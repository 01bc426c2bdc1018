// DOM helpers. Data reaches the page only as text nodes and attribute
// values (textContent / setAttribute); nothing here parses HTML.

/**
 * Creates an element: h("a", {href: "#/x", class: "y"}, "text", child...).
 * Attribute values are set with setAttribute (booleans: present or not);
 * "on<event>" keys add listeners; children are nodes or strings (text).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "value" && !(el instanceof HTMLInputElement) && "value" in el) {
      el.value = String(value); // textarea, select: a property only
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Empties el and appends the children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Shows an error in #flash (role=alert); "" clears it. */
export function flash(message) {
  const el = document.getElementById("flash");
  el.textContent = message || "";
}

/** A polite status message in #status (aria-live), cleared after a while. */
let statusTimer = 0;
export function announce(message) {
  const el = document.getElementById("status");
  el.textContent = message;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => {
    el.textContent = "";
  }, 6000);
}

/** Reports a failed action: 401 is handled by the login form, anything
 *  else goes to #flash. Returns the message shown ("" for 401). */
export function reportError(err) {
  if (err && err.status === 401) return "";
  const message = (err && err.message) || "Something went wrong.";
  flash(message);
  return message;
}

/** A <time> element for an RFC 3339 string, shown in the reader's locale. */
export function timeEl(iso, withTime = true) {
  if (!iso) return h("span", { class: "muted" }, "—");
  const d = new Date(iso);
  const text = withTime
    ? d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })
    : d.toLocaleDateString(undefined, { dateStyle: "medium" });
  return h("time", { datetime: iso, title: d.toString() }, text);
}

/** The view's heading, focusable so route changes move focus to it. */
export function heading(text) {
  return h("h1", { tabindex: "-1" }, text);
}

/** A table inside a scrolling wrapper (phones) with a caption. */
export function table(caption, columns, tbody) {
  return h("div", { class: "table-wrap" },
    h("table", {},
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
      tbody));
}

/** A "Load more" button that calls load() and hides itself when done. */
export function moreButton(label, load) {
  const btn = h("button", { type: "button", class: "secondary more", hidden: true }, label);
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      await load();
    } finally {
      btn.disabled = false;
    }
  });
  return btn;
}
