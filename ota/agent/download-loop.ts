/**
 * The attempts of one download: mirrors in order, a mirror that misbehaves dropped for this file,
 * back-off with jitter after a round of mirrors without progress, waits for the time window.
 */
import type { Logger } from "../../runtime/log.ts";
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffOptions } from "../../runtime/telemetry/backoff.ts";
import type { DownloadSession, SessionEnv } from "./download-session.ts";
import { msUntilWindowOpens } from "./download-window.ts";
import { downloadFailed, type DownloadFailureReason } from "./errors.ts";
import { sleep } from "./wait.ts";

export interface LoopEnv extends SessionEnv {
  logger: Logger;
  random: () => number;
  maxAttempts: number;
  maxRestarts: number;
  backoff: BackoffOptions | undefined;
}

/** Re-read the clock at least this often while waiting for the window (clock steps, DST). */
const WINDOW_RECHECK_MS = 15 * 60_000;

/** URL without query or credentials, for logs (signed URLs carry tokens in the query). */
const shown = (url: string): string => {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
};

async function waitForWindow(session: DownloadSession, env: LoopEnv): Promise<void> {
  if (!env.window) return;
  for (let ms; (ms = msUntilWindowOpens(env.window, env.clock.now())) > 0; ) {
    env.progress.report("waiting_window", session.offset, ms);
    env.logger.info("ota download waiting for its time window", { window: env.window, waitMs: ms });
    await sleep(env.timers, Math.min(ms, WINDOW_RECHECK_MS), env.signal);
  }
}

/** Runs attempts until the part holds `size` bytes; returns the mirror that finished it. */
export async function fetchWithRetries(session: DownloadSession, req: { urls: string[]; size: number }, env: LoopEnv): Promise<string | null> {
  const refused = new Set<string>();
  let lastRefusal: { reason: DownloadFailureReason; message: string } | null = null;
  let failures = 0;
  let rounds = 0;
  let restarts = 0;
  let index = 0;
  let url: string | null = null;
  while (session.offset < req.size) {
    env.signal?.throwIfAborted();
    await waitForWindow(session, env);
    const live = req.urls.filter((u) => !refused.has(u));
    if (live.length === 0) throw downloadFailed(lastRefusal!.reason, `every mirror refused; last: ${lastRefusal!.message}`, { mirrors: req.urls.length });
    url = live[index % live.length]!;
    const outcome = await session.attempt(url, env);
    switch (outcome.kind) {
      case "done":
        return url;
      case "window_closed":
        break;
      case "progress":
        failures = 0;
        rounds = 0;
        env.logger.info("ota download resuming", { url: shown(url), at: session.offset, why: outcome.message });
        break;
      case "validator_changed":
        if (++restarts > env.maxRestarts) throw downloadFailed("validator_changed", `the file changed on the server ${restarts} times: ${outcome.message}`, { url: shown(url) });
        env.logger.warn("ota download restarting: the file changed on the server", { url: shown(url), why: outcome.message });
        await session.restart();
        break;
      case "mirror_failed":
        refused.add(url);
        lastRefusal = outcome;
        env.logger.warn("ota mirror refused", { url: shown(url), reason: outcome.reason, why: outcome.message });
        break;
      case "retry": {
        if (++failures >= env.maxAttempts) {
          throw downloadFailed(outcome.reason, `${failures} attempts in a row without data; last: ${outcome.message}`, { attempts: failures, url: shown(url) });
        }
        if (++index % live.length !== 0) break; // next mirror at once; back off after a full round
        const opts = env.backoff ?? DEFAULT_BACKOFF;
        const delay = Math.min(opts.maxMs, Math.max(backoffDelayMs(rounds++, env.random, opts), outcome.retryAfterMs ?? 0));
        env.logger.warn("ota download retrying", { url: shown(url), reason: outcome.reason, why: outcome.message, waitMs: delay });
        env.progress.report("retrying", session.offset, delay);
        await sleep(env.timers, delay, env.signal);
        break;
      }
      default:
        outcome satisfies never;
    }
  }
  return url;
}
