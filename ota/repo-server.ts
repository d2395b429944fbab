/**
 * `hearth fleet serve-repo DIR`: a static server for an OTA repository (Hono on Bun.serve). GET
 * and HEAD only, byte ranges (single and multipart), ETag / If-None-Match / If-Range, no
 * directory listings, nothing outside DIR. Large files are Bun.file slices, sent with sendfile
 * without passing through memory. Any other static server with Range support serves the same
 * repository; this one is for a fleet without a CDN and for tests.
 */
import { randomBytes } from "node:crypto";
import { realpathSync, statSync } from "node:fs";
import { Hono } from "hono";
import { HearthError } from "../runtime/errors.ts";
import { INDEX_FILE } from "./layout.ts";
import { etagOf, ifRangeHolds, noneMatch } from "./static/conditional.ts";
import { openRepoFile, type RepoFile } from "./static/files.ts";
import { parseRange, type ByteRange } from "./static/range.ts";

/** Only index.json changes in place; everything else is content-addressed or versioned. */
const cacheControl = (relative: string) =>
  relative !== INDEX_FILE && /^(files|manifests|root)\//.test(relative) ? "public, max-age=31536000, immutable" : "no-cache";

const contentType = (relative: string) => (relative.endsWith(".json") ? "application/json" : "application/octet-stream");

/** Concatenates strings and blobs into one stream, each blob streamed in turn. */
function concatenated(parts: readonly (string | Blob)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let next = 0;
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  return new ReadableStream({
    async pull(controller) {
      for (;;) {
        if (reader) {
          const { value, done } = await reader.read();
          if (!done) return controller.enqueue(value);
          reader = null;
        }
        const part = parts[next++];
        if (part === undefined) return controller.close();
        if (typeof part === "string") return controller.enqueue(encoder.encode(part));
        reader = part.stream().getReader();
      }
    },
    cancel: () => reader?.cancel(),
  });
}

/** Several ranges: multipart/byteranges, streamed part by part (Bun sends a stream chunked, without Content-Length). */
function multipart(file: RepoFile, ranges: ByteRange[], headers: Headers): Response {
  const boundary = randomBytes(12).toString("hex");
  const parts: (string | Blob)[] = [];
  for (const r of ranges) {
    parts.push(`--${boundary}\r\nContent-Type: ${contentType(file.relative)}\r\nContent-Range: bytes ${r.start}-${r.end}/${file.size}\r\n\r\n`, file.body.slice(r.start, r.end + 1), "\r\n");
  }
  parts.push(`--${boundary}--\r\n`);
  headers.set("Content-Type", `multipart/byteranges; boundary=${boundary}`);
  return new Response(concatenated(parts), { status: 206, headers });
}

function fileResponse(req: Request, file: RepoFile): Response {
  const etag = etagOf(file);
  const lastModified = new Date(file.mtimeMs).toUTCString();
  const headers = new Headers({ ETag: etag, "Last-Modified": lastModified, "Cache-Control": cacheControl(file.relative), "Accept-Ranges": "bytes" });
  const ifNoneMatch = req.headers.get("if-none-match");
  const ifModifiedSince = req.headers.get("if-modified-since");
  const unchanged = ifNoneMatch !== null ? noneMatch(ifNoneMatch, etag) : ifModifiedSince !== null && Date.parse(ifModifiedSince) >= Math.floor(file.mtimeMs / 1000) * 1000;
  if (unchanged) return new Response(null, { status: 304, headers });

  const range = ifRangeHolds(req.headers.get("if-range") ?? undefined, etag, lastModified) ? parseRange(req.headers.get("range") ?? undefined, file.size) : { kind: "none" as const };
  // Content-Length is always explicit: Hono answers HEAD with the GET response's headers and no body.
  if (range.kind === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${file.size}`);
    headers.set("Content-Length", "0");
    return new Response(null, { status: 416, headers });
  }
  if (range.kind === "ranges" && range.ranges.length > 1) return multipart(file, range.ranges, headers);
  headers.set("Content-Type", contentType(file.relative));
  if (range.kind === "ranges") {
    const { start, end } = range.ranges[0]!;
    headers.set("Content-Range", `bytes ${start}-${end}/${file.size}`);
    headers.set("Content-Length", String(end - start + 1));
    return new Response(file.body.slice(start, end + 1), { status: 206, headers });
  }
  headers.set("Content-Length", String(file.size));
  return new Response(file.body, { status: 200, headers });
}

/** The server's Hono app over `dir` (tests may call app.request() directly). */
export function createRepoApp(dir: string): Hono {
  let root: string;
  try {
    root = realpathSync(dir);
    if (!statSync(root).isDirectory()) throw new Error("not a directory");
  } catch (err) {
    throw new HearthError("invalid_request", `${dir} is not a directory that can be served (${(err as Error).message})`, { field: "dir" });
  }
  const app = new Hono();
  app.on(["GET", "HEAD"], "*", async (c) => {
    const file = await openRepoFile(root, new URL(c.req.url).pathname);
    return file ? fileResponse(c.req.raw, file) : c.text("not found\n", 404, { "Cache-Control": "no-cache" });
  });
  app.all("*", (c) => c.text("only GET and HEAD\n", 405, { Allow: "GET, HEAD" }));
  return app;
}

export interface RepoServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function startRepoServer(opts: { dir: string; host: string; port: number }): RepoServer {
  const app = createRepoApp(opts.dir);
  // A box on a slow link may take minutes per file; the timeout is for silent connections only.
  const server = Bun.serve({ hostname: opts.host, port: opts.port, fetch: app.fetch, idleTimeout: 120 });
  const host = opts.host === "0.0.0.0" ? "127.0.0.1" : opts.host;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`,
    port: server.port!,
    stop: () => server.stop(true),
  };
}
