/**
 * Group commit: items arriving while a transaction is written, or within `lingerMs` of the first,
 * go into the next transaction together, and each item's `done` runs only after the transaction
 * that holds it committed. One transaction is in flight at a time, so batches grow by themselves
 * when the store is slow and stay small (low latency) when it is fast.
 *
 * A failed write is retried with backoff, keeping its items unacknowledged: the broker holds
 * everything else meanwhile (its receive window is full), so nothing is lost while a database
 * restarts. close() finishes the write in flight and writes what is waiting; what cannot be written
 * is dropped unacknowledged, for the broker to deliver again.
 */
export interface GroupCommitOptions<T> {
  write(items: T[]): Promise<void>;
  /** How long the first item of an idle period waits for company. */
  lingerMs: number;
  maxBatch: number;
  onWriteError(err: unknown, attempt: number, items: number): void;
  /** Backoff before retry `attempt` (1-based). */
  retryDelayMs?: (attempt: number) => number;
}

export class GroupCommit<T> {
  private pending: { item: T; done: () => void }[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly opts: GroupCommitOptions<T>) {}

  add(item: T, done: () => void): void {
    if (this.closed) return;
    this.pending.push({ item, done });
    if (this.flushing) return; // picked up when the write in flight ends
    if (this.pending.length >= this.opts.maxBatch) this.flushNow();
    else if (!this.timer) this.timer = setTimeout(() => this.flushNow(), this.opts.lingerMs);
  }

  /** Items waiting for a transaction (not counting the one in flight). */
  get backlog(): number {
    return this.pending.length;
  }

  /** Takes no more items; writes what was taken (one attempt for what is still waiting), then resolves. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flushing;
    while (this.pending.length > 0) {
      if (!(await this.run(1))) break;
    }
    this.pending = [];
  }

  private flushNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.flushing || this.pending.length === 0 || this.closed) return;
    this.flushing = this.run(Infinity).then(() => {
      this.flushing = null;
      // What arrived meanwhile has waited long enough: no linger.
      if (this.pending.length > 0) this.flushNow();
    });
  }

  /** Writes the next batch, retrying up to `attempts` times (fewer once closed); true when it committed. */
  private async run(attempts: number): Promise<boolean> {
    const batch = this.pending.splice(0, this.opts.maxBatch);
    const items = batch.map((b) => b.item);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.opts.write(items);
        break;
      } catch (err) {
        this.opts.onWriteError(err, attempt, items.length);
        if (this.closed || attempt >= attempts) return false;
        await Bun.sleep(this.opts.retryDelayMs?.(attempt) ?? Math.min(5000, 50 * 2 ** Math.min(attempt, 7)));
        if (this.closed) return false;
      }
    }
    for (const b of batch) {
      try {
        b.done();
      } catch {
        // An ack that cannot be sent only means the broker delivers the message again.
      }
    }
    return true;
  }
}
