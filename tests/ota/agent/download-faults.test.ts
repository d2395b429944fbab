/**
 * Servers that misbehave: dropped connections, 500s, wrong Content-Range, more bytes than declared,
 * endless bodies, files that change (ETag) during a resume, ignored ranges, stalls.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { systemClock } from "../../../runtime/clock.ts";
import { systemTimers } from "../../../runtime/telemetry/timers.ts";
import { downloadFile, type DownloadDeps, type DownloadOptions } from "../../../ota/agent/download.ts";
import { isOtaAgentError } from "../../../ota/agent/errors.ts";
import { downloadFixture, stopServers } from "./fixture.ts";
import { randomFile, removeTempDirs, sha256, testLogger } from "./helpers.ts";

afterAll(removeTempDirs);
afterEach(stopServers);

const SIZE = 2 * 1024 * 1024 + 7;

async function setup() {
  const f = await downloadFixture(SIZE);
  return { ...f, opts: { stallTimeoutMs: 0, marginBytes: 0, backoff: { minMs: 1_000, maxMs: 30_000 } } as DownloadOptions };
}

const leftovers = (dest: string) => [dest, `${dest}.part`, `${dest}.part.meta`].filter((p) => existsSync(p));

test("connection dropped mid-file, again and again: completes by resuming, never re-fetching a byte", async () => {
  const { file, server, deps, dest, req, opts } = await setup();
  server.faults.push({ dropAfter: 300_000 }, { dropAfter: 500_000 }, { dropAfter: 1 }, { dropAfter: 700_000 });
  const result = await downloadFile(req, deps, opts);
  expect(sha256(readFileSync(dest))).toBe(file.sha256);
  expect(result.fetchedBytes).toBe(SIZE);
  expect(server.requests.map((r) => r.range)).toEqual([null, `bytes=300000-${SIZE - 1}`, `bytes=800000-${SIZE - 1}`, `bytes=800001-${SIZE - 1}`, `bytes=1500001-${SIZE - 1}`]);
  expect(server.requests.slice(1).every((r) => r.ifRange === '"v1"' && r.status === 206)).toBe(true);
});

test("connections cut with the body declared whole (fetch drops its buffer): each resume starts at the bytes on disk", async () => {
  const { file, server, deps, dest, req, opts } = await setup();
  server.faults.push({ cutAfter: 300_000 }, { cutAfter: 500_000 }, { cutAfter: 700_000 });
  const result = await downloadFile(req, deps, opts);
  expect(sha256(readFileSync(dest))).toBe(file.sha256);
  // Whatever the client lost in its buffer was fetched again; nothing it had written was.
  expect(result.fetchedBytes).toBe(SIZE);
  const starts = server.requests.map((r) => Number(/^bytes=(\d+)-/.exec(r.range ?? "bytes=0-")![1]));
  expect(starts).toEqual([...starts].sort((a, b) => a - b));
  expect(starts.length).toBe(4);
});

test("a server failing every second request with 500: completes, backing off between failures", async () => {
  const { file, server, time, deps, dest, req, opts } = await setup();
  server.faults.push({ dropAfter: 400_000 }, { status: 500 }, { dropAfter: 400_000 }, { status: 503 }, { dropAfter: 400_000 }, { status: 500 });
  await downloadFile(req, deps, opts);
  expect(sha256(readFileSync(dest))).toBe(file.sha256);
  expect(server.requests.map((r) => r.status)).toEqual([200, 500, 206, 503, 206, 500, 206]);
  // Equal jitter with random 0.5: 3/4 of the first step, the count reset by each request's progress.
  expect(time.waits).toEqual([750, 750, 750]);
});

test("500s with no progress back off exponentially, then give up keeping the partial for a later resume", async () => {
  const { server, time, deps, dest, req, opts } = await setup();
  server.faults.push({ dropAfter: 100_000 }, ...Array.from({ length: 10 }, () => ({ status: 500 })));
  const err = await downloadFile(req, deps, { ...opts, maxAttempts: 4 }).catch((e) => e);
  expect(isOtaAgentError(err, "network")).toBe(true);
  expect(err.info.attempts).toBe(4);
  expect(time.waits).toEqual([750, 1500, 3000]);
  expect(leftovers(dest)).toEqual([`${dest}.part`, `${dest}.part.meta`]);
  // The next call, once the server recovers, resumes from the kept 100 000 bytes.
  server.faults.length = 0;
  const again = await downloadFile(req, deps, opts);
  expect({ resumedFrom: again.resumedFrom, fetchedBytes: again.fetchedBytes }).toEqual({ resumedFrom: 100_000, fetchedBytes: SIZE - 100_000 });
});

test("a wrong Content-Range on a resume: that mirror is dropped for the file, the next one completes", async () => {
  const { file, server, deps, dest, req, opts } = await setup();
  server.faults.push({ dropAfter: 200_000 }, { contentRange: `bytes 0-${SIZE - 200_001}/${SIZE}` });
  const mirror = server.url("/model.gguf?mirror=2");
  const result = await downloadFile({ ...req, urls: [server.url(), mirror] }, deps, opts);
  expect(result.url).toBe(mirror);
  expect(result.fetchedBytes).toBe(SIZE);
  expect(sha256(readFileSync(dest))).toBe(file.sha256);
  // Another mirror's ETag means nothing for the first one's bytes: a plain Range, no If-Range.
  expect(server.requests.at(-1)).toMatchObject({ range: `bytes=200000-${SIZE - 1}`, ifRange: null, status: 206 });
});

test("a wrong Content-Range from the only mirror: refused as bad_content_range, partial removed", async () => {
  const { server, deps, dest, req, opts } = await setup();
  server.faults.push({ dropAfter: 200_000 }, { contentRange: `bytes 199999-${SIZE - 1}/${SIZE}` });
  const err = await downloadFile(req, deps, opts).catch((e) => e);
  expect(isOtaAgentError(err, "bad_content_range")).toBe(true);
  expect(err.message).toContain(`asked for bytes 200000-${SIZE - 1}, got 199999-${SIZE - 1}`);
  expect(leftovers(dest)).toEqual([]);
});

test("a range answer with more bytes than it declares: too_many_bytes, the extra never written", async () => {
  const { server, deps, dest, req, opts } = await setup();
  server.faults.push({ dropAfter: 200_000 }, { extra: 10 });
  const err = await downloadFile(req, deps, { ...opts, maxAttempts: 1 }).catch((e) => e);
  expect(isOtaAgentError(err, "too_many_bytes")).toBe(true);
  expect(leftovers(dest)).toEqual([]);
});

test("an endless body: aborted as soon as the count passes the manifest size", async () => {
  const { server, deps, dest, req, opts } = await setup();
  const written: number[] = [];
  server.faults.push({ extra: "endless" });
  const err = await downloadFile(req, deps, { ...opts, progressIntervalMs: 0, onProgress: (p) => written.push(p.bytes) }).catch((e) => e);
  expect(isOtaAgentError(err, "too_many_bytes")).toBe(true);
  expect(Math.max(...written)).toBeLessThanOrEqual(SIZE);
  expect(server.requests.length).toBe(1);
  // The connection was dropped: the server's stream was cancelled rather than drained.
  for (let i = 0; i < 100 && server.cancelled === 0; i++) await Bun.sleep(10);
  expect(server.cancelled).toBe(1);
  expect(leftovers(dest)).toEqual([]);
});

test("a Content-Length above the manifest size is refused before reading the body", async () => {
  const { server, deps, dest, req, opts } = await setup();
  server.faults.push({ declareExtra: 1 });
  const written: number[] = [];
  const err = await downloadFile(req, deps, { ...opts, progressIntervalMs: 0, onProgress: (p) => written.push(p.bytes) }).catch((e) => e);
  expect(isOtaAgentError(err, "too_many_bytes")).toBe(true);
  expect(err.message).toContain(`Content-Length ${SIZE + 1} exceeds the manifest size ${SIZE}`);
  expect(written).toEqual([]);
  expect(leftovers(dest)).toEqual([]);
});

test("the ETag changes during a resume: If-Range gets the whole file again and the download restarts", async () => {
  const { file, server, deps, dest, req, opts } = await setup();
  server.faults.push({ dropAfter: 600_000, etag: '"v1"' }, { etag: '"v2"' });
  const result = await downloadFile(req, deps, opts);
  expect(server.requests.slice(1)).toEqual([{ path: "/model.gguf", range: `bytes=600000-${SIZE - 1}`, ifRange: '"v1"', status: 200 }]);
  expect(result.fetchedBytes).toBe(600_000 + SIZE);
  expect(sha256(readFileSync(dest))).toBe(file.sha256);
});

test("the ETag changes and the server ignores If-Range: the changed 206 is refused and the file restarts", async () => {
  const { file, server, deps, dest, req, opts } = await setup();
  server.faults.push({ dropAfter: 600_000, etag: '"v1"' }, { etag: '"v2"', ignoreIfRange: true });
  const result = await downloadFile(req, deps, opts);
  expect(server.requests.map((r) => [r.range, r.status])).toEqual([[null, 200], [`bytes=600000-${SIZE - 1}`, 206], [null, 200]]);
  expect(result.fetchedBytes).toBe(600_000 + SIZE);
  expect(sha256(readFileSync(dest))).toBe(file.sha256);
});

test("the file keeps changing on the server: validator_changed after the allowed restarts, partial removed", async () => {
  const { server, deps, dest, req, opts } = await setup();
  for (let v = 1; v <= 6; v++) server.faults.push({ dropAfter: 100_000, etag: `"v${v}"`, ignoreIfRange: true });
  const err = await downloadFile(req, deps, { ...opts, maxRestarts: 2 }).catch((e) => e);
  expect(isOtaAgentError(err, "validator_changed")).toBe(true);
  expect(leftovers(dest)).toEqual([]);
});

test("the file is replaced by other content during a resume: restarted, then refused by its sha256", async () => {
  const { file, server, deps, dest, req, opts } = await setup();
  server.faults.push({ dropAfter: 600_000 }, { data: randomFile(SIZE).data, etag: '"v2"' });
  const err = await downloadFile(req, deps, opts).catch((e) => e);
  expect(server.requests.map((r) => [r.ifRange, r.status])).toEqual([[null, 200], ['"v1"', 200]]);
  expect(isOtaAgentError(err, "hash_mismatch")).toBe(true);
  expect(err.info.expected).toBe(file.sha256);
  expect(leftovers(dest)).toEqual([]);
});

test("a server that ignores Range altogether: each 200 restarts the file, which still completes", async () => {
  const { file, server, deps, dest, req, opts } = await setup();
  server.faults.push({ dropAfter: 500_000 }, { ignoreRange: true });
  const result = await downloadFile(req, deps, opts);
  expect(server.requests.map((r) => [r.range, r.status])).toEqual([[null, 200], [`bytes=500000-${SIZE - 1}`, 200]]);
  expect(result.fetchedBytes).toBe(500_000 + SIZE);
  expect(sha256(readFileSync(dest))).toBe(file.sha256);
});

test("a 416 (the server's file is shorter) is a size mismatch", async () => {
  const { file, server, deps, req, opts } = await setup();
  server.faults.push({ dropAfter: 300_000 }, { data: file.data.subarray(0, 1000) });
  const err = await downloadFile(req, deps, opts).catch((e) => e);
  expect(server.requests.map((r) => r.status)).toEqual([200, 416]);
  expect(isOtaAgentError(err, "size_mismatch")).toBe(true);
});

test("a stall: the attempt is aborted after the stall timeout and the download resumes (real timers)", async () => {
  const { file, server, dest, req } = await setup();
  const { logger } = testLogger();
  server.faults.push({ stallAfter: 250_000 }, { stallAfter: 0 });
  const deps: DownloadDeps = { fetch: (u, i) => fetch(u, i), clock: systemClock, timers: systemTimers, logger };
  const result = await downloadFile(req, deps, { stallTimeoutMs: 150, marginBytes: 0, backoff: { minMs: 5, maxMs: 20 } });
  expect(sha256(readFileSync(dest))).toBe(file.sha256);
  expect(result.fetchedBytes).toBe(SIZE);
  expect(server.requests.map((r) => r.range)).toEqual([null, `bytes=250000-${SIZE - 1}`, `bytes=250000-${SIZE - 1}`]);
});

test("a server that never sends: stalled, partial kept", async () => {
  const { server, dest, req } = await setup();
  const { logger } = testLogger();
  server.faults.push({ stallAfter: 1000 }, ...Array.from({ length: 5 }, () => ({ stallAfter: 0 })));
  const deps: DownloadDeps = { fetch: (u, i) => fetch(u, i), clock: systemClock, timers: systemTimers, logger };
  const err = await downloadFile(req, deps, { stallTimeoutMs: 100, marginBytes: 0, maxAttempts: 3, backoff: { minMs: 5, maxMs: 20 } }).catch((e) => e);
  expect(isOtaAgentError(err, "stalled")).toBe(true);
  expect(leftovers(dest)).toEqual([`${dest}.part`, `${dest}.part.meta`]);
});
