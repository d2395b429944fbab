/**
 * Human-readable API docs, served by the box itself (it may have no internet): one HTML page with
 * inline style and script that renders /admin/api/openapi.json. Text goes in via textContent only.
 */
const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:980px;padding:1rem;color:#1d232a}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccd}
.op{border:1px solid #dde;border-radius:6px;margin:.6rem 0;padding:.4rem .8rem}
.m{display:inline-block;min-width:4.2rem;font-weight:700;font-family:monospace}.p{font-family:monospace}
.pub{color:#0a6;font-size:.8rem;margin-left:.5rem}details pre{background:#f5f6f8;padding:.6rem;overflow:auto;font-size:.8rem}
`;

const SCRIPT = `
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; };
fetch("openapi.json").then(r => r.json()).then(doc => {
  const root = document.getElementById("doc");
  root.textContent = "";
  root.append(el("h1", doc.info.title + " " + doc.info.version), el("p", doc.info.description));
  const byTag = {};
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) (byTag[op.tags[0]] ??= []).push({ path, method, op });
  const show = (label, value) => { const d = el("details"); d.append(el("summary", label), el("pre", JSON.stringify(value, null, 2))); return d; };
  for (const [tag, ops] of Object.entries(byTag)) {
    root.append(el("h2", tag));
    for (const { path, method, op } of ops) {
      const box = el("div", "", "op");
      const head = el("div");
      head.append(el("span", method.toUpperCase(), "m"), el("span", path, "p"));
      if (op.security && op.security.length === 0) head.append(el("span", "no credentials needed", "pub"));
      box.append(head, el("div", op.summary));
      if (op.parameters) box.append(show("parameters", op.parameters));
      const body = op.requestBody?.content["application/json"]?.schema;
      if (body) box.append(show("request body", body));
      for (const [status, r] of Object.entries(op.responses)) box.append(show(status + " " + r.description, r.content?.["application/json"]?.schema ?? "(not JSON)"));
      root.append(box);
    }
  }
  root.append(el("h2", "schemas"));
  for (const [name, schema] of Object.entries(doc.components.schemas)) { const d = show(name, schema); d.id = name; root.append(d); }
}).catch(err => { document.getElementById("doc").textContent = "Could not load openapi.json: " + err; });
`;

export const DOCS_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Hearth admin API</title><style>${STYLE}</style></head><body><main id="doc">Loading…</main><script>${SCRIPT}</script></body></html>`;

export const DOCS_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'";
