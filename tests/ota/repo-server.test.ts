import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { startRepoServer, type RepoServer } from "../../ota/repo-server.ts";
import { tmp } from "./helpers.ts";

const dir = tmp("hearth-ota-serve-");
const outside = tmp("hearth-ota-outside-");
// Larger than the 1 MiB snapshot limit, so it is served as Bun.file slices.
const big = randomBytes(3 * 1024 * 1024 + 17);
const BIG = "files/abc/model.gguf";
let server: RepoServer;

beforeAll(() => {
  mkdirSync(join(dir, "files", "abc"), { recursive: true });
  writeFileSync(join(dir, ...BIG.split("/")), big);
  writeFileSync(join(dir, "index.json"), '{"v":1}\n');
  writeFileSync(join(dir, ".publish.lock"), "123");
  writeFileSync(join(outside, "secret.txt"), "secret");
  symlinkSync(join(outside, "secret.txt"), join(dir, "escape.txt"));
  server = startRepoServer({ dir, host: "127.0.0.1", port: 0 });
});
afterAll(() => server.stop());

const get = (path: string, headers: Record<string, string> = {}, method = "GET") => fetch(`${server.url}/${path}`, { method, headers });
const bytes = async (r: Response) => new Uint8Array(await r.arrayBuffer());

/** A request with the path exactly as written (fetch would normalise "..") over a raw socket. */
function rawStatus(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1", () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let text = "";
    socket.on("data", (d) => (text += d.toString("latin1")));
    socket.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
    socket.on("error", reject);
  });
}

describe("serve-repo: static files with ranges and validators", () => {
  test("GET sends the whole file with its length, a strong ETag and Accept-Ranges", async () => {
    const r = await get(BIG);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-length")).toBe(String(big.length));
    expect(r.headers.get("accept-ranges")).toBe("bytes");
    expect(r.headers.get("etag")).toMatch(/^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
    expect(r.headers.get("cache-control")).toContain("immutable");
    expect(Buffer.from(await bytes(r)).equals(big)).toBe(true);
  });

  test("HEAD gives the headers and length without the body", async () => {
    const r = await get(BIG, {}, "HEAD");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-length")).toBe(String(big.length));
    expect((await bytes(r)).length).toBe(0);
  });

  test("a range gives 206 with exactly those bytes and Content-Range", async () => {
    const r = await get(BIG, { Range: "bytes=1048570-1048600" });
    expect(r.status).toBe(206);
    expect(r.headers.get("content-range")).toBe(`bytes 1048570-1048600/${big.length}`);
    expect(r.headers.get("content-length")).toBe("31");
    expect(Buffer.from(await bytes(r)).equals(big.subarray(1048570, 1048601))).toBe(true);
  });

  test("resuming from an offset gives the rest of the file; a suffix range gives its end", async () => {
    const from = big.length - 5000;
    const rest = await get(BIG, { Range: `bytes=${from}-` });
    expect(rest.status).toBe(206);
    expect(Buffer.from(await bytes(rest)).equals(big.subarray(from))).toBe(true);
    const tail = await get(BIG, { Range: "bytes=-100" });
    expect(tail.headers.get("content-range")).toBe(`bytes ${big.length - 100}-${big.length - 1}/${big.length}`);
    expect(Buffer.from(await bytes(tail)).equals(big.subarray(big.length - 100))).toBe(true);
    const clamped = await get(BIG, { Range: `bytes=${big.length - 10}-${big.length + 1000}` });
    expect(clamped.headers.get("content-length")).toBe("10");
  });

  test("a range past the end is 416 with the size; a malformed Range is ignored (200)", async () => {
    const r = await get(BIG, { Range: `bytes=${big.length}-` });
    expect(r.status).toBe(416);
    expect(r.headers.get("content-range")).toBe(`bytes */${big.length}`);
    await r.arrayBuffer();
    for (const header of ["bytes=5-2", "items=0-10", "bytes=abc"]) {
      const ignored = await get(BIG, { Range: header });
      expect([header, ignored.status]).toEqual([header, 200]);
      await ignored.arrayBuffer();
    }
  });

  test("If-Range: the current ETag keeps the range, another one (a changed file) gets the whole file", async () => {
    const etag = (await get(BIG, {}, "HEAD")).headers.get("etag")!;
    const same = await get(BIG, { Range: "bytes=0-9", "If-Range": etag });
    expect(same.status).toBe(206);
    expect((await bytes(same)).length).toBe(10);
    const changed = await get(BIG, { Range: "bytes=0-9", "If-Range": '"0-0-0"' });
    expect(changed.status).toBe(200);
    expect((await bytes(changed)).length).toBe(big.length);
    const weak = await get(BIG, { Range: "bytes=0-9", "If-Range": `W/${etag}` });
    expect(weak.status).toBe(200);
    await weak.arrayBuffer();
  });

  test("If-None-Match with the current ETag is 304 without a body; another ETag is 200", async () => {
    const etag = (await get("index.json", {}, "HEAD")).headers.get("etag")!;
    const r = await get("index.json", { "If-None-Match": `"other", ${etag}` });
    expect(r.status).toBe(304);
    expect(r.headers.get("etag")).toBe(etag);
    expect((await bytes(r)).length).toBe(0);
    expect((await get("index.json", { "If-None-Match": "*" })).status).toBe(304);
    const other = await get("index.json", { "If-None-Match": '"other"' });
    expect(other.status).toBe(200);
    expect(other.headers.get("cache-control")).toBe("no-cache");
    expect(other.headers.get("content-type")).toContain("application/json");
    expect(await other.text()).toBe('{"v":1}\n');
  });

  test("index.json replaced by rename gets a new ETag, so a conditional GET sees the change", async () => {
    const before = (await get("index.json", {}, "HEAD")).headers.get("etag")!;
    writeFileSync(join(dir, "index.json.tmp"), '{"v":2}\n');
    renameSync(join(dir, "index.json.tmp"), join(dir, "index.json"));
    const r = await get("index.json", { "If-None-Match": before });
    expect(r.status).toBe(200);
    expect(r.headers.get("etag")).not.toBe(before);
    expect(await r.text()).toBe('{"v":2}\n');
  });

  test("several ranges come as multipart/byteranges, each part with its Content-Range", async () => {
    const r = await get(BIG, { Range: "bytes=0-4, 2000000-2000009" });
    expect(r.status).toBe(206);
    const boundary = /boundary=(\w+)/.exec(r.headers.get("content-type")!)![1]!;
    const body = Buffer.from(await bytes(r));
    const text = body.toString("latin1");
    const parts = text.split(`--${boundary}`).slice(1, -1);
    expect(parts).toHaveLength(2);
    expect(parts[0]).toContain(`Content-Range: bytes 0-4/${big.length}`);
    expect(Buffer.from(parts[0]!.split("\r\n\r\n")[1]!.slice(0, -2), "latin1").equals(big.subarray(0, 5))).toBe(true);
    expect(Buffer.from(parts[1]!.split("\r\n\r\n")[1]!.slice(0, -2), "latin1").equals(big.subarray(2000000, 2000010))).toBe(true);
    expect(text.endsWith(`--${boundary}--\r\n`)).toBe(true);
  });

  test("no way out of the directory, no hidden files, no listings", async () => {
    for (const path of ["/../../etc/passwd", "/files/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/files/abc/..%2f..%2f..%2fetc%2fpasswd", "/files%5c..%5cindex.json", "/.publish.lock", "/escape.txt", "/files", "/files/abc", "/", "/%zz"]) {
      expect([path, await rawStatus(path)]).toEqual([path, 404]);
    }
    expect(await rawStatus("/index.json")).toBe(200);
  });

  test("methods other than GET and HEAD get 405", async () => {
    const r = await fetch(`${server.url}/index.json`, { method: "POST", body: "x" });
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("GET, HEAD");
  });
});
