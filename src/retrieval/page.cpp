// The search page of `mudit serve`: one self-contained HTML file, no build step, no libraries.
#include "mudit/retrieval/server.h"

namespace mudit::retrieval {

const std::string& search_page_html() {
  static const std::string page = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mudit search</title>
<style>
body { font: 15px/1.45 system-ui, "Noto Sans CJK SC", sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; }
form { display: flex; gap: .5em; flex-wrap: wrap; margin-bottom: 1em; }
#query { flex: 1 1 24em; padding: .45em; font-size: 1em; }
select, input[type=number], button { padding: .4em; font-size: 1em; }
.hit { border-top: 1px solid #ddd; padding: .7em 0; }
.hit h2 { font-size: 1em; margin: 0 0 .2em; }
.score { color: #666; font-weight: normal; margin-left: .6em; }
.lyrics { white-space: pre-line; color: #555; font-size: .9em; max-height: 4.5em; overflow: hidden; }
#status { color: #666; }
.error { color: #b00; }
audio { width: 100%; max-width: 28em; }
.generate { margin-left: .6em; }
.job { color: #555; font-size: .9em; margin-top: .3em; }
</style>
</head>
<body>
<h1>mudit: find songs by description or lyrics</h1>
<form id="search">
  <input id="query" name="q" placeholder="a slow piano ballad with a female voice / 一首节奏很快的摇滚" autofocus>
  <select id="mode" name="mode" title="what the query is compared with">
    <option value="text">description → audio</option>
    <option value="lyrics">lyrics</option>
    <option value="mix">both</option>
  </select>
  <input id="k" name="k" type="number" min="1" max="100" value="10" title="results">
  <button type="submit">Search</button>
</form>
<p id="status"></p>
<div id="results"></div>
<script>
"use strict";
let canGenerate = false;
const $ = (id) => document.getElementById(id);
function element(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
async function search(event) {
  if (event) event.preventDefault();
  const query = $("query").value.trim();
  if (!query) return;
  const body = { query, mode: $("mode").value, k: parseInt($("k").value, 10) || 10 };
  $("status").className = ""; $("status").textContent = "searching…";
  history.replaceState(null, "", "?q=" + encodeURIComponent(query) + "&mode=" + body.mode + "&k=" + body.k);
  try {
    // location.origin: never the user:password@ a page may have been opened with.
    const r = await fetch(location.origin + "/api/search", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = await r.json();
    if (!r.ok) throw new Error(data.error || r.statusText);
    show(data);
  } catch (e) {
    $("status").className = "error"; $("status").textContent = "error: " + e.message;
  }
}
function show(data) {
  const out = $("results");
  out.replaceChildren();
  $("status").textContent = data.hits.length + " songs in " + data.took_ms.toFixed(1) + " ms";
  for (const h of data.hits) {
    const d = element("div", "hit");
    const title = element("h2", "", h.id);
    title.append(element("span", "score", h.score.toFixed(3)));
    d.append(title);
    if (h.description) d.append(element("div", "description", h.description));
    if (h.amateur) d.append(element("div", "amateur", "“" + h.amateur + "”"));
    if (h.lyrics) d.append(element("div", "lyrics", h.lyrics));
    const a = element("audio");
    a.controls = true; a.preload = "none"; a.src = location.origin + h.audio_url;
    d.append(a);
    if (canGenerate && h.description) {
      const b = element("button", "generate", "generate from this description");
      b.type = "button";
      b.addEventListener("click", () => generate(h, d, b));
      d.append(b);
    }
    out.append(d);
  }
}
// Queues a song from a hit's description and polls its job until the song is there.
async function generate(h, d, button) {
  button.disabled = true;
  const line = element("div", "job", "queued…");
  d.append(line);
  try {
    const body = { description: h.description, duration: Math.min(h.seconds || 10, 30) };
    let r = await fetch(location.origin + "/api/generate", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    let job = await r.json();
    if (!r.ok) throw new Error(job.error || r.statusText);
    for (;;) {
      await new Promise((ok) => setTimeout(ok, 1000));
      r = await fetch(location.origin + job.status_url);
      const s = await r.json();
      if (!r.ok) throw new Error(s.error || r.statusText);
      line.textContent = s.status + "…";
      if (s.status === "failed") throw new Error(s.error);
      if (s.status === "done") {
        line.textContent = "generated:";
        const a = element("audio");
        a.controls = true; a.src = location.origin + s.audio_url;
        line.append(a);
        break;
      }
    }
  } catch (e) {
    line.className = "job error"; line.textContent = "generation failed: " + e.message;
  }
  button.disabled = false;
}
$("search").addEventListener("submit", search);
const params = new URLSearchParams(location.search);
if (params.get("mode")) $("mode").value = params.get("mode");
if (params.get("k")) $("k").value = params.get("k");
fetch(location.origin + "/api/health").then((r) => r.json()).then((h) => { canGenerate = !!h.generate; })
  .catch(() => {}).finally(() => { if (params.get("q")) { $("query").value = params.get("q"); search(); } });
</script>
</body>
</html>
)HTML";
  return page;
}

}  // namespace mudit::retrieval
