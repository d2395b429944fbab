/**
 * The admin page's files, built on first request and then kept in memory: the client and the
 * stylesheet (its @imports inlined) from bundle.ts, the icon and the HTML shell that names them.
 * Script and stylesheet names carry a content hash, so browsers may keep them for good.
 */
import { join } from "node:path";
import { trimResidentMemory } from "../memory/idle-trim.ts";
import { bundleClient } from "./bundle.ts";

export interface PageAsset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
  /** Hashed names never change content; the HTML shell is revalidated on every load. */
  immutable: boolean;
}

export interface PageAssets {
  index: PageAsset;
  /** By file name under /admin/assets/. */
  files: Map<string, PageAsset>;
}

export const ASSET_PREFIX = "/admin/assets/";
const HERE = import.meta.dir;

function asset(body: Uint8Array<ArrayBuffer>, type: string, immutable: boolean): PageAsset {
  const etag = `"${new Bun.CryptoHasher("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  return { body, type, etag, immutable };
}

export async function buildPageAssets(): Promise<PageAssets> {
  const { js, css } = await bundleClient();
  // The bundler leaves ~8 MB resident (mostly Bun's own code pages) that the box never needs
  // again: hand it back, as the idle trimmer does after start-up.
  setTimeout(() => void trimResidentMemory().catch(() => undefined), 0);
  const encode = (text: string) => new TextEncoder().encode(text);
  const script = asset(encode(js), "text/javascript; charset=utf-8", true);
  const style = asset(encode(css), "text/css; charset=utf-8", true);
  const icon = asset(await Bun.file(join(HERE, "static/icon.svg")).bytes(), "image/svg+xml", true);
  const hashed = (base: string, ext: string, a: PageAsset) => `${base}.${a.etag.slice(1, 13)}.${ext}`;
  const names = { js: hashed("app", "js", script), css: hashed("app", "css", style), icon: hashed("icon", "svg", icon) };
  const template = await Bun.file(join(HERE, "static/index.html")).text();
  const html = template
    .replaceAll("{{app.js}}", ASSET_PREFIX + names.js)
    .replaceAll("{{app.css}}", ASSET_PREFIX + names.css)
    .replaceAll("{{icon.svg}}", ASSET_PREFIX + names.icon);
  return {
    index: asset(new TextEncoder().encode(html), "text/html; charset=utf-8", false),
    files: new Map([
      [names.js, script],
      [names.css, style],
      [names.icon, icon],
    ]),
  };
}
