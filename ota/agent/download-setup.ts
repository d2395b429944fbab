/** The downloader's dependencies and options from the `ota` config section and the test seams. */
import type { Clock } from "../../runtime/clock.ts";
import type { Config } from "../../runtime/config/schema.ts";
import type { Logger } from "../../runtime/log.ts";
import type { BackoffOptions } from "../../runtime/telemetry/backoff.ts";
import type { Timers } from "../../runtime/telemetry/timers.ts";
import type { DownloadDeps, DownloadOptions, FetchLike, StatFs } from "./download.ts";

export interface DownloadSeams {
  statfs?: StatFs;
  backoff?: BackoffOptions;
  maxAttempts?: number;
  stallTimeoutMs?: number;
  progressIntervalMs?: number;
  fetchTimeoutMs?: number;
}

export function downloadSetup(
  c: Config["ota"],
  d: { fetch: FetchLike; clock: Clock; timers: Timers; logger: Logger; random?: () => number; seams?: DownloadSeams; signal: AbortSignal },
): { deps: DownloadDeps; options: DownloadOptions } {
  const s = d.seams ?? {};
  // "HH:MM-HH:MM" (the config schema checks the form).
  const window = c.downloadWindow ? { start: c.downloadWindow.slice(0, 5), end: c.downloadWindow.slice(6) } : undefined;
  return {
    deps: { fetch: d.fetch, clock: d.clock, timers: d.timers, logger: d.logger, random: d.random, statfs: s.statfs },
    options: {
      maxBytesPerSecond: c.maxBytesPerSecond > 0 ? c.maxBytesPerSecond : undefined,
      window,
      marginBytes: c.diskMarginMB * 1024 * 1024,
      stallTimeoutMs: s.stallTimeoutMs ?? c.stallTimeoutSeconds * 1000,
      backoff: s.backoff,
      maxAttempts: s.maxAttempts,
      progressIntervalMs: s.progressIntervalMs ?? 1000,
      signal: d.signal,
    },
  };
}
