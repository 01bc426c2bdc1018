// The article list, from the articles function through the gateway. Every
// value is written with textContent, so nothing from the API becomes markup.
"use strict";

const list = document.getElementById("articles");
const status = document.getElementById("status");
const more = document.getElementById("more");
let cursor = null;

async function load() {
  const url = "/api/articles?limit=10" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
  try {
    const res = await fetch(url, { headers: { Accept: "application/json" } });
    const data = await res.json();
    if (!res.ok) throw new Error(data.error ? data.error.message : res.statusText);
    for (const a of data.items) {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = "/api/articles/" + encodeURIComponent(a.id);
      link.textContent = a.title;
      const time = document.createElement("time");
      time.dateTime = a.published_at;
      time.textContent = new Date(a.published_at).toLocaleDateString();
      const summary = document.createElement("p");
      summary.textContent = a.summary;
      li.append(link, time, summary);
      list.append(li);
    }
    cursor = data.next_cursor;
    more.hidden = !cursor;
    status.textContent = list.children.length ? "" : "No articles yet.";
  } catch (e) {
    status.textContent = "Could not load articles: " + e.message;
  }
}

more.addEventListener("click", load);
load();
