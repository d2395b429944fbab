/**
 * The latest health sample, refreshed on an interval (never per request): the admin status and
 * /metrics read it. Sampling starts at the first read and stops after a while without any, so a
 * box nobody looks at neither loads systeminformation (~15 MB resident) nor runs `df` every few
 * seconds; a read after a pause restarts it and gets the last sample until the next one lands.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import type { HealthSampler, HealthSnapshot } from "../telemetry/health.ts";
import { every, systemTimers, type Timers } from "../telemetry/timers.ts";

export interface HealthReading {
  sampledAt: number;
  snapshot: HealthSnapshot;
}

export interface HealthCacheOptions {
  sampler: HealthSampler;
  clock: Clock;
  logger: Logger;
  timers?: Timers;
  /** Between samples; default 15 s. */
  intervalMs?: number;
  /** Sampling stops after this long without a read; default 10 min. */
  idleStopMs?: number;
}

export class HealthCache {
  private reading: HealthReading | null = null;
  private error: string | null = null;
  private stopTimer: (() => void) | null = null;
  private first: Promise<void> | null = null;
  private lastRead = 0;
  private readonly timers: Timers;

  constructor(private readonly opts: HealthCacheOptions) {
    this.timers = opts.timers ?? systemTimers;
  }

  /** The last good sample (null before the first); starts sampling if it is not running. */
  latest(): HealthReading | null {
    this.lastRead = this.opts.clock.monotonic();
    if (!this.stopTimer) this.begin();
    return this.reading;
  }

  /** As latest(), but the very first read waits for the first sample (up to `waitMs`). */
  async current(waitMs = 5_000): Promise<HealthReading | null> {
    const reading = this.latest();
    if (reading || !this.first) return reading;
    let timer: unknown = null;
    await Promise.race([this.first, new Promise((r) => (timer = this.timers.setTimeout(() => r(null), waitMs)))]);
    this.timers.clearTimeout(timer);
    return this.reading;
  }

  /** Why the last sampling failed; null once one succeeds. */
  lastError(): string | null {
    return this.error;
  }

  /** Whether the interval runs now. */
  get sampling(): boolean {
    return this.stopTimer !== null;
  }

  /** Takes a sample now (the interval calls this; tests may too). */
  async refresh(): Promise<void> {
    try {
      const snapshot = await this.opts.sampler.sample();
      this.reading = { sampledAt: this.opts.clock.now(), snapshot };
      this.error = null;
    } catch (err) {
      if (this.error === null) this.opts.logger.warn("health sample failed", { error: (err as Error).message });
      this.error = (err as Error).message;
    }
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = null;
  }

  private begin(): void {
    const refreshing = this.refresh();
    this.first ??= refreshing;
    this.stopTimer = every(this.timers, this.opts.intervalMs ?? 15_000, () => {
      if (this.opts.clock.monotonic() - this.lastRead > (this.opts.idleStopMs ?? 600_000)) return this.stop();
      return this.refresh();
    });
  }
}
