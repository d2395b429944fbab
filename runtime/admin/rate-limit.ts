/**
 * Password and pairing-code attempts per client: at most `max` in any `windowMs`. An attempt is
 * counted before the (slow) check runs, so parallel guesses cannot slip past the limit; a
 * successful one clears the client's count.
 */
import type { Clock } from "../clock.ts";
import { HearthError } from "../errors.ts";

export interface AttemptLimit {
  max: number;
  windowMs: number;
}

export const DEFAULT_ATTEMPT_LIMIT: AttemptLimit = { max: 10, windowMs: 60_000 };

/** Clients tracked at most; beyond, the stalest are forgotten first. */
const MAX_CLIENTS = 10_000;

export class AttemptLimiter {
  private readonly attempts = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly limit: AttemptLimit = DEFAULT_ATTEMPT_LIMIT,
  ) {}

  /** Counts an attempt by `client`, or throws rate_limited with the seconds until one is allowed. */
  take(client: string): void {
    const now = this.clock.monotonic();
    const recent = (this.attempts.get(client) ?? []).filter((t) => now - t < this.limit.windowMs);
    if (recent.length >= this.limit.max) {
      this.attempts.set(client, recent);
      const retryAfterSeconds = Math.max(1, Math.ceil((recent[0]! + this.limit.windowMs - now) / 1000));
      throw new HearthError("rate_limited", `too many attempts from this client; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
    }
    recent.push(now);
    this.attempts.delete(client); // re-inserted last: Map order is then least recently used first
    this.attempts.set(client, recent);
    if (this.attempts.size > MAX_CLIENTS) this.attempts.delete(this.attempts.keys().next().value!);
  }

  succeeded(client: string): void {
    this.attempts.delete(client);
  }
}
