/**
 * How the runtime serves the admin page, over real HTTP: at / and /admin/, with a strict CSP, its
 * assets bundled (nothing from another origin), cached by content hash and revalidated by ETag,
 * the API routes beside it untouched, and nothing of the page loaded until it is requested.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { PAGE_CSP } from "../../runtime/web/routes.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const get = (path: string, headers: Record<string, string> = {}) => fetch(server.url + path, { headers, redirect: "manual" });

/** The script, stylesheet and icon the HTML names, in order. */
function assetPaths(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
}

describe("the admin page over HTTP", () => {
  test("/ and /admin/ serve the same HTML with the CSP and no inline script or style", async () => {
    const [root, admin] = await Promise.all([get("/"), get("/admin/")]);
    expect(root.status).toBe(200);
    expect(admin.status).toBe(200);
    const html = await root.text();
    expect(await admin.text()).toBe(html);
    expect(root.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(root.headers.get("content-security-policy")).toBe(PAGE_CSP);
    expect(PAGE_CSP).toContain("default-src 'self'");
    expect(root.headers.get("x-content-type-options")).toBe("nosniff");
    expect(root.headers.get("cache-control")).toBe("no-cache");
    // Every <script> has a src on this origin; no style attribute or <style> element.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc="\/admin\/assets\/)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    const paths = assetPaths(html);
    expect(paths).toHaveLength(3);
    for (const path of paths) expect(path).toMatch(/^\/admin\/assets\/(app|icon)\.[A-Za-z0-9_-]+\.(js|css|svg)$/);
  });

  test("/admin redirects to /admin/", async () => {
    const res = await get("/admin");
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toEndWith("/admin/");
  });

  test("assets are bundled, typed, cached by hash and revalidated by ETag", async () => {
    const html = await (await get("/")).text();
    const types: Record<string, string> = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", svg: "image/svg+xml" };
    for (const path of assetPaths(html)) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(types[path.split(".").pop()!]!);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      const body = await res.text();
      // Nothing is fetched from another origin: no absolute URLs to load, no imports left to resolve.
      expect(body).not.toMatch(/(?:src|href|url\()\s*=?\s*["']?https?:\/\//);
      if (path.endsWith(".js")) {
        expect(body).not.toMatch(/^\s*import\s|from\s*["'][^"']+["']/m);
        // The API's schemas are imported as types only: no TypeBox in the browser.
        expect(body).not.toContain("@sinclair/typebox");
      }
      const etag = res.headers.get("etag")!;
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
      const again = await get(path, { "if-none-match": etag });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe("");
    }
    const page = await get("/");
    expect((await get("/", { "if-none-match": page.headers.get("etag")! })).status).toBe(304);
  });

  test("an unknown asset is a 404, not the page", async () => {
    const res = await get("/admin/assets/app.0000.js");
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("not_found");
  });

  test("the API routes beside the page keep working", async () => {
    expect((await get("/healthz")).status).toBe(200);
    expect((await get("/readyz")).status).toBe(200);
    expect((await get("/v1/models", { authorization: `Bearer ${server.key}` })).status).toBe(200);
    expect((await get("/v1/models")).status).toBe(401);
    const session = await get("/admin/api/session");
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({ paired: false, authenticated: false });
    expect((await get("/metrics")).status).not.toBe(404);
  });
});

describe("an idle server carries nothing of the page", () => {
  test("the bundler and client are loaded only when the page is first requested", async () => {
    const child = Bun.spawn([process.execPath, join(import.meta.dir, "lazy-child.ts")], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect(code, err).toBe(0);
    const report = JSON.parse(out.trim().split("\n").pop()!);
    expect(report.api).toEqual([200, 200, 200, 200]);
    expect(report.before).toEqual([]);
    expect(report.pageStatus).toBe(200);
    expect(report.after.some((p: string) => p.endsWith("/runtime/web/assets.ts"))).toBe(true);
  }, 60_000);
});
