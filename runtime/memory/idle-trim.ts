/**
 * Returns an idle box's memory to the system: once after start-up and again whenever the box has
 * been idle for a while after serving. The model gets the memory the board budget promised it;
 * the runtime should not keep what start-up or a burst of requests happened to touch.
 */
import type { Logger } from "../log.ts";
import { every, type Timers } from "../telemetry/timers.ts";
import type { Clock } from "../clock.ts";
import { dropCodePages } from "./code-pages.ts";

/** Collects JS garbage, returns the allocator's free pages, then drops clean code pages. */
export async function trimResidentMemory(): Promise<{ codeBytes: number }> {
  Bun.gc(true);
  // Deprecated in Bun's types but still what makes mimalloc and JSC give free pages back (~7 MB).
  (Bun as { shrink?: () => void }).shrink?.();
  const { bytes } = await dropCodePages();
  return { codeBytes: bytes };
}

export interface IdleTrimmerOptions {
  /** Requests running or waiting (summed over the served models), and requests finished so far. */
  activity: () => { busy: number; queued: number; finished: number };
  /** Idle this long (after some activity) before trimming; 0 turns the trimmer off. */
  idleMs: number;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  trim?: () => Promise<{ codeBytes: number }>;
}

/** Polls activity; trims once per idle period that lasts `idleMs`. Returns a stop function. */
export function startIdleTrimmer(opts: IdleTrimmerOptions): () => void {
  if (opts.idleMs <= 0) return () => {};
  const trim = opts.trim ?? trimResidentMemory;
  let lastBusy = opts.clock.monotonic();
  let trimmed = true; // start-up trims once itself
  let finishedBefore = opts.activity().finished;
  const poll = async () => {
    const { busy, queued, finished } = opts.activity();
    const now = opts.clock.monotonic();
    if (busy > 0 || queued > 0 || finished !== finishedBefore) {
      finishedBefore = finished;
      lastBusy = now;
      trimmed = false;
      return;
    }
    if (trimmed || now - lastBusy < opts.idleMs) return;
    trimmed = true;
    try {
      const { codeBytes } = await trim();
      opts.logger.debug("idle: memory trimmed", { code_mb: Math.round(codeBytes / 1048576) });
    } catch (err) {
      opts.logger.warn("idle memory trim failed", { error: (err as Error).message });
    }
  };
  // Polling three counters each second is free; `finished` catches requests that start and end
  // between two polls.
  return every(opts.timers, Math.max(100, Math.min(1_000, opts.idleMs / 4)), poll);
}
