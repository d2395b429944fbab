/** Progress of one download for the caller's callback, at most once per interval (plus phase changes). */
import type { Clock } from "../../runtime/clock.ts";
import { ByteWindow } from "./download-rate.ts";

export type DownloadPhase = "downloading" | "retrying" | "waiting_window" | "verifying" | "done";

export interface DownloadProgress {
  phase: DownloadPhase;
  /** Bytes of the file on disk so far (resumed bytes included). */
  bytes: number;
  total: number;
  /** Bytes per second received over the last few seconds. */
  rate: number;
  /** While waiting (back-off or time window): milliseconds until the next try. */
  waitMs?: number;
}

export class ProgressReporter {
  private lastAt = -Infinity;
  private lastPhase: DownloadPhase | null = null;
  private readonly received: ByteWindow;

  constructor(
    private readonly clock: Clock,
    private readonly total: number,
    private readonly intervalMs: number,
    private readonly onProgress?: (p: DownloadProgress) => void,
  ) {
    this.received = new ByteWindow(clock, 5_000);
  }

  /** Counts `n` received bytes and reports if the interval has passed. */
  onBytes(n: number, bytes: number): void {
    this.received.record(n);
    this.report("downloading", bytes);
  }

  report(phase: DownloadPhase, bytes: number, waitMs?: number): void {
    if (!this.onProgress) return;
    const now = this.clock.monotonic();
    if (phase === this.lastPhase && now - this.lastAt < this.intervalMs) return;
    this.lastAt = now;
    this.lastPhase = phase;
    this.onProgress({ phase, bytes, total: this.total, rate: this.received.rate(), ...(waitMs === undefined ? {} : { waitMs }) });
  }
}
