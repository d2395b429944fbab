/**
 * Bytes per sliding time window on the injected monotonic clock: the bandwidth cap (wait before
 * reading more while the last second already holds the budget) and the rate shown in progress.
 */
import type { Clock } from "../../runtime/clock.ts";

export class ByteWindow {
  private readonly entries: { t: number; n: number }[] = [];
  private total = 0;
  private readonly startedAt: number;

  constructor(
    private readonly clock: Clock,
    readonly windowMs: number,
  ) {
    this.startedAt = clock.monotonic();
  }

  record(bytes: number): void {
    const t = this.clock.monotonic();
    const last = this.entries.at(-1);
    // Chunks close together share one entry stamped with the latest time: a few dozen entries per
    // window however fast the link, and an entry expires no earlier than its newest byte would.
    if (last && t - last.t < this.windowMs / 20) (last.t = t), (last.n += bytes);
    else this.entries.push({ t, n: bytes });
    this.total += bytes;
    this.sum();
  }

  /** Bytes recorded in the last `windowMs`. */
  sum(): number {
    const horizon = this.clock.monotonic() - this.windowMs;
    while (this.entries.length > 0 && this.entries[0]!.t <= horizon) this.total -= this.entries.shift()!.n;
    return this.total;
  }

  /** Bytes per second over the window (or since the start, while younger than the window). */
  rate(): number {
    const span = Math.min(this.windowMs, Math.max(1, this.clock.monotonic() - this.startedAt));
    return Math.round((this.sum() * 1000) / span);
  }

  /**
   * How long to wait before reading more so the window stays within `budget` bytes: 0 while under
   * it. A read then adds at most one chunk, so any window holds at most budget + one chunk.
   */
  delayFor(budget: number): number {
    let left = this.sum();
    if (left < budget) return 0;
    const now = this.clock.monotonic();
    for (const e of this.entries) {
      left -= e.n;
      if (left < budget) return Math.max(1, e.t + this.windowMs - now);
    }
    return 1;
  }
}
