/**
 * Downloads one release file to `dest`, resumably: mirrors in order, HTTP Range resume across
 * attempts and process restarts, back-off with jitter, an optional bandwidth cap and time-of-day
 * window, never more bytes than the manifest size, and `dest` appears (atomically, fsynced) only
 * once the sha256 matches. The bytes stream to disk; the file is never held in memory.
 */
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, isAbsolute } from "node:path";
import { Type, type Static } from "@sinclair/typebox";
import type { Clock } from "../../runtime/clock.ts";
import { HearthError } from "../../runtime/errors.ts";
import type { Logger } from "../../runtime/log.ts";
import type { BackoffOptions } from "../../runtime/telemetry/backoff.ts";
import type { Timers } from "../../runtime/telemetry/timers.ts";
import { validate } from "../../runtime/validation.ts";
import { DEFAULT_MARGIN_BYTES, ensureFreeSpace, systemStatfs, type StatFs } from "./download-disk.ts";
import { fetchWithRetries } from "./download-loop.ts";
import { discardPartial, hashFile, metaPath, openPartial, partPath } from "./download-partial.ts";
import { ProgressReporter, type DownloadProgress } from "./download-progress.ts";
import { ByteWindow } from "./download-rate.ts";
import { DownloadSession, type FetchLike } from "./download-session.ts";
import { parseWindow, type TimeWindow } from "./download-window.ts";
import { downloadFailed, isOtaAgentError, type DownloadFailureReason } from "./errors.ts";
import { syncDir } from "../../runtime/license/durable-write.ts";

export const DownloadRequestSchema = Type.Object(
  {
    /** Mirrors of the same file, tried in order. */
    urls: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    size: Type.Integer({ minimum: 0 }),
    sha256: Type.String({ pattern: "^[0-9a-f]{64}$" }),
    /** Absolute path of the finished file, in a staging directory. */
    dest: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
export type DownloadRequest = Static<typeof DownloadRequestSchema>;

export interface DownloadDeps {
  fetch: FetchLike;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  /** [0, 1) for back-off jitter. */
  random?: () => number;
  statfs?: StatFs;
}

export interface DownloadOptions {
  maxBytesPerSecond?: number;
  window?: TimeWindow;
  /** Attempts in a row that receive nothing before giving up (the partial is kept); default 8. */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /** No byte for this long aborts an attempt; default 60 s; 0 disables. */
  stallTimeoutMs?: number;
  /** Free space required beyond the bytes still to fetch; default 64 MiB. */
  marginBytes?: number;
  /** fsync the part file every this many bytes; default 64 MiB. */
  syncEveryBytes?: number;
  /** Times the file may change on the server (ETag) before giving up; default 3. */
  maxRestarts?: number;
  progressIntervalMs?: number;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** Bytes found in the part file at the start (0 for a fresh download). */
  resumedFrom: number;
  /** Bytes this call fetched and wrote (resumed bytes not included; a refused response's not either). */
  fetchedBytes: number;
  /** The mirror that delivered the last bytes (null when nothing had to be fetched). */
  url: string | null;
  /** `dest` already held the verified file: nothing was fetched. */
  alreadyComplete: boolean;
}

/** Refusals after which the partial is worthless; transient failures keep it for a resume. */
const DISCARD_ON: ReadonlySet<DownloadFailureReason> = new Set(["hash_mismatch", "too_many_bytes", "bad_content_range", "size_mismatch", "http_status", "validator_changed"]);

function checkRequest(req: DownloadRequest, opts: DownloadOptions): DownloadRequest {
  const r = validate(DownloadRequestSchema, req);
  r.urls.forEach((u, i) => {
    if (!/^https?:\/\//i.test(u) || !URL.canParse(u)) throw new HearthError("invalid_request", `urls[${i}]: ${JSON.stringify(u)} is not an http(s) URL`, { field: `urls[${i}]` });
  });
  if (!isAbsolute(r.dest)) throw new HearthError("invalid_request", `dest: ${JSON.stringify(r.dest)} must be an absolute path`, { field: "dest" });
  if (opts.window) parseWindow(opts.window);
  const cap = opts.maxBytesPerSecond;
  if (cap !== undefined && !(Number.isFinite(cap) && cap > 0)) throw new HearthError("invalid_request", "maxBytesPerSecond must be a positive number", { field: "maxBytesPerSecond" });
  return r;
}

/** The verified file already at `dest` (a crash after the final rename), else null. */
async function completed(r: DownloadRequest): Promise<boolean> {
  const size = await stat(r.dest).then((s) => s.size, () => null);
  if (size === null) return false;
  if (size === r.size && (await hashFile(r.dest)).digest("hex") === r.sha256) return true;
  await rm(r.dest, { force: true });
  return false;
}

export async function downloadFile(req: DownloadRequest, deps: DownloadDeps, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const r = checkRequest(req, opts);
  const dir = dirname(r.dest);
  await mkdir(dir, { recursive: true });
  const progress = new ProgressReporter(deps.clock, r.size, opts.progressIntervalMs ?? 1_000, opts.onProgress);
  const result = { path: r.dest, size: r.size, sha256: r.sha256, resumedFrom: 0, fetchedBytes: 0, url: null as string | null, alreadyComplete: false };
  if (await completed(r)) {
    await discardPartial(r.dest);
    progress.report("done", r.size);
    return { ...result, alreadyComplete: true };
  }
  const partial = await openPartial(r.dest, r);
  await ensureFreeSpace(deps.statfs ?? systemStatfs, dir, r.size - partial.offset, opts.marginBytes ?? DEFAULT_MARGIN_BYTES);
  const session = await DownloadSession.open(r.dest, r, partial);
  result.resumedFrom = session.offset;
  try {
    deps.logger.info("ota download starting", { dest: r.dest, size: r.size, resumeAt: session.offset, mirrors: r.urls.length });
    const limit = opts.maxBytesPerSecond ? { window: new ByteWindow(deps.clock, 1_000), bytesPerSecond: opts.maxBytesPerSecond } : null;
    result.url = await fetchWithRetries(session, r, {
      ...deps,
      random: deps.random ?? Math.random,
      progress,
      limit,
      window: opts.window ?? null,
      stallTimeoutMs: opts.stallTimeoutMs ?? 60_000,
      syncEveryBytes: opts.syncEveryBytes ?? 64 * 1024 * 1024,
      signal: opts.signal,
      maxAttempts: opts.maxAttempts ?? 8,
      maxRestarts: opts.maxRestarts ?? 3,
      backoff: opts.backoff,
    });
    result.fetchedBytes = session.fetched;
    progress.report("verifying", session.offset);
    const digest = await session.finish();
    if (digest !== r.sha256) throw downloadFailed("hash_mismatch", `${r.dest}: sha256 ${digest}, the manifest says ${r.sha256}`, { expected: r.sha256, actual: digest });
    await rename(partPath(r.dest), r.dest);
    syncDir(dir);
    await rm(metaPath(r.dest), { force: true });
    progress.report("done", r.size);
    deps.logger.info("ota download verified", { dest: r.dest, size: r.size, fetched: session.fetched, resumedFrom: result.resumedFrom });
    return result;
  } catch (err) {
    await session.close();
    const failure = opts.signal?.aborted && !isOtaAgentError(err) ? downloadFailed("cancelled", `${r.dest}: cancelled at ${session.offset} of ${r.size} bytes`, {}, err) : err;
    if (isOtaAgentError(failure) && DISCARD_ON.has(failure.reason as DownloadFailureReason)) await discardPartial(r.dest);
    deps.logger.warn("ota download failed", { dest: r.dest, reason: isOtaAgentError(failure) ? failure.reason : "error", at: session.offset });
    throw failure;
  }
}

export { discardPartial } from "./download-partial.ts";
export type { DownloadProgress, DownloadPhase } from "./download-progress.ts";
export type { TimeWindow } from "./download-window.ts";
export type { FetchLike } from "./download-session.ts";
export type { StatFs } from "./download-disk.ts";
