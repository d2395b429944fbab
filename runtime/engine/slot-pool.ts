import { HearthError } from "../errors.ts";

export interface SlotStats {
  total: number;
  busy: number;
  queued: number;
  queueCapacity: number;
}

export interface Lease<T> {
  readonly slot: T;
  /** Idempotent: a lease returns its slot once. */
  release(): void;
}

type Waiter<T> = { resolve: (lease: Lease<T>) => void; reject: (err: unknown) => void; signal?: AbortSignal; onAbort?: () => void };

/**
 * A fixed set of slots (llama.cpp context sequences) with a bounded FIFO wait queue. Beyond the
 * queue, acquire fails at once with `rate_limited` so clients back off instead of piling up.
 */
export class SlotPool<T> {
  private readonly free: T[];
  private readonly waiters: Waiter<T>[] = [];

  constructor(
    slots: readonly T[],
    private readonly queueCapacity: number,
    private readonly retryAfterSeconds = 1,
  ) {
    this.free = [...slots];
    this.total = slots.length;
  }

  readonly total: number;

  stats(): SlotStats {
    return { total: this.total, busy: this.total - this.free.length, queued: this.waiters.length, queueCapacity: this.queueCapacity };
  }

  /** True when a request arriving now would get a slot or a place in the queue. */
  canAccept(): boolean {
    return this.free.length > 0 || this.waiters.length < this.queueCapacity;
  }

  /**
   * A free slot at once (the one `score` rates highest, e.g. the one already holding most of this
   * prompt), else a place in the queue, else `rate_limited`.
   */
  acquire(signal?: AbortSignal, score?: (slot: T) => number): Promise<Lease<T>> {
    if (signal?.aborted) return Promise.reject(new HearthError("client_closed", "client closed the request"));
    if (this.free.length > 0) {
      let best = 0;
      if (score) {
        let bestScore = -Infinity;
        this.free.forEach((slot, i) => {
          const s = score(slot);
          if (s > bestScore) [best, bestScore] = [i, s];
        });
      }
      return Promise.resolve(this.lease(this.free.splice(best, 1)[0]!));
    }
    if (this.waiters.length >= this.queueCapacity) {
      const s = this.stats();
      return Promise.reject(
        new HearthError("rate_limited", `all ${s.total} slots are busy and the queue of ${s.queueCapacity} is full; retry later`, {
          retryAfterSeconds: this.retryAfterSeconds,
        }),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new HearthError("client_closed", "client closed the request while it was queued"));
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  private lease(slot: T): Lease<T> {
    let released = false;
    return {
      slot,
      release: () => {
        if (released) return;
        released = true;
        this.handOver(slot);
      },
    };
  }

  private handOver(slot: T): void {
    const next = this.waiters.shift();
    if (!next) {
      this.free.push(slot);
      return;
    }
    if (next.signal && next.onAbort) next.signal.removeEventListener("abort", next.onAbort);
    next.resolve(this.lease(slot));
  }
}
