/**
 * Bundles the admin page's client (TypeScript, DOM) and stylesheet with Bun.build, in memory.
 * Measured: building in a child process instead saves nothing (both leave about 8 MB of RSS
 * behind) and takes three times as long, so it runs here, once, at the first page request.
 */
import { join } from "node:path";

export interface Bundle {
  js: string;
  css: string;
}

export async function bundleClient(): Promise<Bundle> {
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, "client/main.ts"), join(import.meta.dir, "static/styles.css")],
    target: "browser",
    format: "esm",
    minify: true,
    sourcemap: "none",
  });
  if (!result.success) throw new Error(`admin page bundle failed: ${result.logs.map((l) => l.message).join("; ")}`);
  const text = async (ext: string) => {
    const out = result.outputs.find((o) => o.path.endsWith(ext));
    if (!out) throw new Error(`admin page bundle has no ${ext} output`);
    return out.text();
  };
  return { js: await text(".js"), css: await text(".css") };
}
