/** The downloader against a real HTTP server: a full download, resume across restarts, mirrors, hash checks. */
import { afterAll, afterEach, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { downloadFile, type DownloadOptions, type DownloadProgress } from "../../../ota/agent/download.ts";
import { isOtaAgentError } from "../../../ota/agent/errors.ts";
import { FileServer } from "./file-server.ts";
import { downloadFixture, stopServers } from "./fixture.ts";
import { randomFile, removeTempDirs, sha256 } from "./helpers.ts";

afterAll(removeTempDirs);
afterEach(stopServers);

const SIZE = 3 * 1024 * 1024 + 123;

async function setup() {
  const f = await downloadFixture(SIZE);
  return { ...f, opts: { stallTimeoutMs: 0, marginBytes: 0 } as DownloadOptions };
}

const sidecars = (dest: string) => [existsSync(`${dest}.part`), existsSync(`${dest}.part.meta`)];

test("a fresh download lands at dest, verified, with no partial left and progress reported", async () => {
  const { file, server, deps, dest, req, opts } = await setup();
  const progress: DownloadProgress[] = [];
  const result = await downloadFile(req, deps, { ...opts, progressIntervalMs: 0, onProgress: (p) => progress.push(p) });
  expect(result).toEqual({ path: dest, size: SIZE, sha256: file.sha256, resumedFrom: 0, fetchedBytes: SIZE, url: server.url(), alreadyComplete: false });
  expect(sha256(readFileSync(dest))).toBe(file.sha256);
  expect(sidecars(dest)).toEqual([false, false]);
  expect(server.requests).toEqual([{ path: "/model.gguf", range: null, ifRange: null, status: 200 }]);
  const bytes = progress.filter((p) => p.phase === "downloading").map((p) => p.bytes);
  expect(bytes.length).toBeGreaterThan(0);
  expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
  expect(progress.map((p) => p.phase).slice(-2)).toEqual(["verifying", "done"]);
  expect(progress.every((p) => p.total === SIZE)).toBe(true);
});

test("progress is throttled to one report per interval of the injected clock", async () => {
  const { deps, req, opts } = await setup();
  const progress: DownloadProgress[] = [];
  await downloadFile(req, deps, { ...opts, progressIntervalMs: 60_000, onProgress: (p) => progress.push(p) });
  // The virtual clock does not move during the transfer: one "downloading" report, then the phase changes.
  expect(progress.map((p) => p.phase)).toEqual(["downloading", "verifying", "done"]);
});

test("resume after a restart: a new call continues the .part with Range + If-Range and fetches only the rest", async () => {
  const { file, server, deps, dest, req, opts } = await setup();
  const stop = new AbortController();
  const first = await downloadFile(req, deps, {
    ...opts,
    progressIntervalMs: 0,
    signal: stop.signal,
    onProgress: (p) => p.bytes >= 1024 * 1024 && stop.abort(),
  }).catch((e) => e);
  expect(isOtaAgentError(first, "cancelled")).toBe(true);
  const kept = statSync(`${dest}.part`).size;
  expect(kept).toBeGreaterThanOrEqual(1024 * 1024);
  expect(kept).toBeLessThan(SIZE);
  expect(JSON.parse(readFileSync(`${dest}.part.meta`, "utf8"))).toMatchObject({ sha256: file.sha256, size: SIZE, etag: '"v1"', url: server.url() });

  // "Another process": nothing shared but the files.
  const second = await downloadFile(req, { ...deps }, opts);
  expect(second.resumedFrom).toBe(kept);
  expect(second.fetchedBytes).toBe(SIZE - kept);
  expect(server.requests.at(-1)).toEqual({ path: "/model.gguf", range: `bytes=${kept}-${SIZE - 1}`, ifRange: '"v1"', status: 206 });
  expect(sha256(readFileSync(dest))).toBe(file.sha256);
  expect(sidecars(dest)).toEqual([false, false]);
});

test("a .part whose sidecar names another file is discarded, not resumed", async () => {
  const { file, deps, dest, req, opts } = await setup();
  await downloadFile(req, deps, opts).then(() => undefined);
  const other = randomFile(1000);
  // A partial of some other release left behind.
  writeFileSync(`${dest}.part`, other.data);
  writeFileSync(`${dest}.part.meta`, JSON.stringify({ format: 1, sha256: other.sha256, size: 1000, url: "http://x/", etag: null, lastModified: null }));
  writeFileSync(dest, "stale");
  const again = await downloadFile(req, deps, opts);
  expect(again.resumedFrom).toBe(0);
  expect(sha256(readFileSync(dest))).toBe(file.sha256);
});

test("dest already holding the verified file: nothing is fetched", async () => {
  const { server, deps, req, opts } = await setup();
  await downloadFile(req, deps, opts);
  const before = server.requests.length;
  const again = await downloadFile(req, deps, opts);
  expect(again.alreadyComplete).toBe(true);
  expect(again.fetchedBytes).toBe(0);
  expect(server.requests.length).toBe(before);
});

test("a flipped byte: hash_mismatch, no dest, no partial", async () => {
  const { file, server, deps, dest, req, opts } = await setup();
  const flipped = file.data.slice();
  flipped[SIZE >> 1]! ^= 0x01;
  server.data = flipped;
  const err = await downloadFile(req, deps, opts).catch((e) => e);
  expect(isOtaAgentError(err, "hash_mismatch")).toBe(true);
  expect(err.code).toBe("download_failed");
  expect(err.status).toBe(502);
  expect(err.info).toEqual({ expected: file.sha256, actual: expect.stringMatching(/^[0-9a-f]{64}$/) });
  expect(existsSync(dest)).toBe(false);
  expect(sidecars(dest)).toEqual([false, false]);
});

test("mirrors in order: a refused connection and a 404 fall through to the next mirror", async () => {
  const { file, server, deps, dest, req, opts } = await setup();
  const closed = await FileServer.start(new Uint8Array(1));
  const deadUrl = closed.url();
  closed.stop();
  const result = await downloadFile({ ...req, urls: [deadUrl, server.url("/missing.gguf"), server.url()] }, deps, opts);
  expect(result.url).toBe(server.url());
  expect(sha256(readFileSync(dest))).toBe(file.sha256);
  expect(server.requests.map((r) => r.path)).toEqual(["/missing.gguf", "/model.gguf"]);
});

test("every mirror refusing: download_failed with the last mirror's reason, partial removed", async () => {
  const { server, deps, dest, req, opts } = await setup();
  server.faults.push({}, { status: 410 });
  const err = await downloadFile({ ...req, urls: [server.url("/elsewhere.gguf"), server.url()] }, deps, opts).catch((e) => e);
  expect(isOtaAgentError(err, "http_status")).toBe(true);
  expect(err.message).toContain("HTTP 410");
  expect(sidecars(dest)).toEqual([false, false]);
});

test("bad input is refused naming the field, before anything is written or fetched", async () => {
  const { server, deps, dest, req, opts } = await setup();
  for (const [over, field] of [
    [{ urls: ["file:///etc/passwd"] }, "urls[0]"],
    [{ urls: [server.url(), "ftp://mirror/x"] }, "urls[1]"],
    [{ urls: [] }, "urls"],
    [{ sha256: "ABC" }, "sha256"],
    [{ size: -1 }, "size"],
    [{ dest: "relative/model.gguf" }, "dest"],
  ] as const) {
    const err = await downloadFile({ ...req, ...over } as typeof req, deps, opts).catch((e) => e);
    expect({ code: err.code, field: err.field }).toEqual({ code: "invalid_request", field });
  }
  const badWindow = await downloadFile(req, deps, { ...opts, window: { start: "25:00", end: "05:00" } }).catch((e) => e);
  expect(badWindow.field).toBe("window.start");
  expect(server.requests).toEqual([]);
  expect(existsSync(dest)).toBe(false);
});
