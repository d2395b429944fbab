/**
 * Serves the admin page at `/` and `/admin/` and its assets under `/admin/assets/`. Nothing of the
 * page (bundler, client sources) is imported until the page is first requested, so an idle box
 * that nobody administers never carries it; the built files then stay in memory (tens of KB).
 */
import { Hono, type Context } from "hono";
import { HearthError } from "../errors.ts";
import type { PageAsset, PageAssets } from "./assets.ts";

/**
 * Only the box's own files: no inline script or style, no framing, forms and fetches to this
 * origin only. Styles set through the CSSOM (element.style) are not inline markup and stay allowed.
 */
export const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function send(c: Context, file: PageAsset): Response {
  const headers: Record<string, string> = {
    "Content-Type": file.type,
    ETag: file.etag,
    "Cache-Control": file.immutable ? "public, max-age=31536000, immutable" : "no-cache",
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
  };
  const match = c.req.header("If-None-Match");
  if (match && match.split(",").some((tag) => tag.trim().replace(/^W\//, "") === file.etag)) return new Response(null, { status: 304, headers });
  return new Response(file.body, { status: 200, headers });
}

export function adminPageRoutes(): Hono {
  let built: Promise<PageAssets> | null = null;
  const load = (): Promise<PageAssets> => {
    if (!built) {
      built = import("./assets.ts").then((m) => m.buildPageAssets());
      // A failed build is retried by the next request rather than cached.
      built.catch(() => (built = null));
    }
    return built;
  };
  const page = async (c: Context) => send(c, (await load()).index);

  const app = new Hono();
  app.get("/", page);
  app.get("/admin/", page);
  app.get("/admin", (c) => c.redirect("/admin/", 308));
  app.get("/admin/assets/:name", async (c) => {
    const file = (await load()).files.get(c.req.param("name"));
    if (!file) throw new HearthError("not_found", `no admin page asset ${c.req.param("name")}`);
    return send(c, file);
  });
  return app;
}
