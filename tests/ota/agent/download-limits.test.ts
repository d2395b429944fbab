/** The downloader's limits: bandwidth cap and time window (virtual time), free disk, cancellation. */
import { afterAll, afterEach, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { systemClock } from "../../../runtime/clock.ts";
import { systemTimers } from "../../../runtime/telemetry/timers.ts";
import { downloadFile, type DownloadDeps, type DownloadProgress, type StatFs } from "../../../ota/agent/download.ts";
import { isOtaAgentError } from "../../../ota/agent/errors.ts";
import { downloadFixture, stopServers } from "./fixture.ts";
import { removeTempDirs, sha256, testLogger, tmp, VirtualTime, type ChunkRead } from "./helpers.ts";

afterAll(removeTempDirs);
afterEach(stopServers);

const SIZE = 3 * 1024 * 1024;
const PIECE = 64 * 1024;

const setup = (time?: VirtualTime) => downloadFixture(SIZE, { time, split: PIECE });

/** The most bytes read in any window of `ms` ending at a read. */
function maxInWindow(reads: ChunkRead[], ms: number): number {
  return Math.max(...reads.map((r) => reads.filter((o) => o.at > r.at - ms && o.at <= r.at).reduce((n, o) => n + o.bytes, 0)));
}

const localTime = (ms: number) => {
  const d = new Date(ms);
  return d.getHours() * 60 + d.getMinutes();
};

test("bandwidth cap: no one-second window of the injected clock holds more than the cap plus one chunk", async () => {
  const { file, time, deps, reads, dest, req } = await setup();
  const cap = 256 * 1024;
  await downloadFile(req, deps, { maxBytesPerSecond: cap, stallTimeoutMs: 0, marginBytes: 0 });
  expect(sha256(readFileSync(dest))).toBe(file.sha256);
  expect(reads.reduce((n, r) => n + r.bytes, 0)).toBe(SIZE);
  expect(maxInWindow(reads, 1_000)).toBeLessThanOrEqual(cap + PIECE);
  // So the whole file took at least (size / (cap + chunk)) - 1 virtual seconds.
  expect(reads.at(-1)!.at - reads[0]!.at).toBeGreaterThanOrEqual((SIZE / (cap + PIECE) - 1) * 1_000);
  expect(time.waits.length).toBeGreaterThan(0);
});

test("without a cap nothing waits", async () => {
  const { time, deps, req } = await setup();
  await downloadFile(req, deps, { stallTimeoutMs: 0, marginBytes: 0 });
  expect(time.waits).toEqual([]);
});

test("time window: a download asked for at 23:00 waits until 01:00 before its first request", async () => {
  const { file, server, time, deps, reads, dest, req } = await setup(new VirtualTime(new Date(2026, 2, 10, 23, 0).getTime()));
  const progress: DownloadProgress[] = [];
  await downloadFile(req, deps, { window: { start: "01:00", end: "05:00" }, stallTimeoutMs: 0, marginBytes: 0, onProgress: (p) => progress.push(p) });
  expect(sha256(readFileSync(dest))).toBe(file.sha256);
  expect(server.requests.length).toBe(1);
  expect(localTime(reads[0]!.wall)).toBe(60);
  expect(time.waits.reduce((a, b) => a + b, 0)).toBe(2 * 3600_000);
  expect(progress[0]).toMatchObject({ phase: "waiting_window", bytes: 0, waitMs: 2 * 3600_000 });
});

test("time window: the download pauses when the window closes and resumes when it opens the next night", async () => {
  const start = new Date(2026, 2, 10, 4, 59, 56).getTime();
  const { file, server, deps, reads, dest, req } = await setup(new VirtualTime(start));
  const progress: DownloadProgress[] = [];
  // 256 KiB/s for 3 MiB: about 12 s, so 05:00 falls in the middle.
  const result = await downloadFile(req, deps, {
    window: { start: "01:00", end: "05:00" },
    maxBytesPerSecond: 256 * 1024,
    stallTimeoutMs: 0,
    marginBytes: 0,
    onProgress: (p) => progress.push(p),
  });
  expect(sha256(readFileSync(dest))).toBe(file.sha256);
  expect(result.fetchedBytes).toBe(SIZE);
  // Every byte was read inside the window, some on each night.
  expect(reads.every((r) => localTime(r.wall) >= 60 && localTime(r.wall) < 300)).toBe(true);
  const nextNight = new Date(2026, 2, 11, 1, 0).getTime();
  expect(reads.some((r) => r.wall < nextNight)).toBe(true);
  expect(reads.some((r) => r.wall >= nextNight)).toBe(true);
  expect(server.requests.map((r) => r.status)).toEqual([200, 206]);
  expect(progress.some((p) => p.phase === "waiting_window" && p.bytes > 0 && p.bytes < SIZE)).toBe(true);
});

test("not enough disk: insufficient_storage with both numbers, before any request", async () => {
  const { server, deps, dest, req } = await setup();
  const statfs: StatFs = async () => ({ bavail: 100, bsize: 4096 });
  const err = await downloadFile(req, { ...deps, statfs }, { stallTimeoutMs: 0, marginBytes: 1_000_000 }).catch((e) => e);
  expect(isOtaAgentError(err, "no_space")).toBe(true);
  expect(err.code).toBe("insufficient_storage");
  expect(err.status).toBe(507);
  expect(err.info).toMatchObject({ needed: SIZE + 1_000_000, available: 409_600 });
  expect(err.message).toContain(`${SIZE + 1_000_000} bytes needed`);
  expect(server.requests).toEqual([]);
  expect([dest, `${dest}.part`, `${dest}.part.meta`].filter((p) => existsSync(p))).toEqual([]);
});

test("the free space needed on a resume is only what remains (plus the margin)", async () => {
  const { deps, dest, req } = await setup();
  const stop = new AbortController();
  await downloadFile(req, deps, { stallTimeoutMs: 0, marginBytes: 0, progressIntervalMs: 0, signal: stop.signal, onProgress: (p) => p.bytes >= SIZE / 2 && stop.abort() }).catch(() => undefined);
  const have = statSync(`${dest}.part`).size;
  const asked: string[] = [];
  const statfs: StatFs = async (dir) => (asked.push(dir), { bavail: SIZE - have + 10, bsize: 1 });
  const result = await downloadFile(req, { ...deps, statfs }, { stallTimeoutMs: 0, marginBytes: 10 });
  expect(result.resumedFrom).toBe(have);
  expect(asked).toEqual([join(dest, "..")]);
  const tooSmall: StatFs = async () => ({ bavail: 0n, bsize: 4096n });
  const again = await downloadFile({ ...req, dest: join(tmp(), "other.gguf") }, { ...deps, statfs: tooSmall }, { stallTimeoutMs: 0 }).catch((e) => e);
  expect(again.info.available).toBe(0);
});

test("cancel mid-body: download_failed cancelled at once, the connection dropped, the partial kept", async () => {
  const { server, dest, req } = await setup();
  server.faults.push({ drip: { bytes: 16 * 1024, delayMs: 5 } });
  const stop = new AbortController();
  const deps: DownloadDeps = { fetch: (u, i) => fetch(u, i), clock: systemClock, timers: systemTimers, logger: testLogger().logger };
  const err = await downloadFile(req, deps, { marginBytes: 0, progressIntervalMs: 0, signal: stop.signal, onProgress: (p) => p.bytes > 100_000 && stop.abort() }).catch((e) => e);
  expect(isOtaAgentError(err, "cancelled")).toBe(true);
  expect(statSync(`${dest}.part`).size).toBeGreaterThan(100_000);
  expect(existsSync(`${dest}.part.meta`)).toBe(true);
  for (let i = 0; i < 100 && server.cancelled === 0; i++) await Bun.sleep(10);
  expect(server.cancelled).toBe(1);
});

test("cancel during a back-off wait or a time-window wait ends the wait (real timers, minute-long waits)", async () => {
  const { server, req } = await setup();
  const deps: DownloadDeps = { fetch: (u, i) => fetch(u, i), clock: systemClock, timers: systemTimers, logger: testLogger().logger };
  server.faults.push({ status: 503 });
  const stop = new AbortController();
  const backingOff = downloadFile(req, deps, { marginBytes: 0, backoff: { minMs: 120_000, maxMs: 120_000 }, signal: stop.signal, onProgress: (p) => p.phase === "retrying" && stop.abort() });
  expect(isOtaAgentError(await backingOff.catch((e) => e), "cancelled")).toBe(true);

  const now = new Date();
  const closedNow = { start: `${String((now.getHours() + 2) % 24).padStart(2, "0")}:00`, end: `${String((now.getHours() + 3) % 24).padStart(2, "0")}:00` };
  const stop2 = new AbortController();
  const waiting = downloadFile(req, deps, { marginBytes: 0, window: closedNow, signal: stop2.signal, onProgress: (p) => p.phase === "waiting_window" && stop2.abort() });
  expect(isOtaAgentError(await waiting.catch((e) => e), "cancelled")).toBe(true);
  expect(server.requests.length).toBe(1);
});

test("a signal already aborted: cancelled before any request, nothing fetched", async () => {
  const { server, deps, req } = await setup();
  const err = await downloadFile(req, deps, { stallTimeoutMs: 0, marginBytes: 0, signal: AbortSignal.abort() }).catch((e) => e);
  expect(isOtaAgentError(err, "cancelled")).toBe(true);
  expect(server.requests).toEqual([]);
});
