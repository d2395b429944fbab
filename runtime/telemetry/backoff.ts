/**
 * Reconnect delays: exponential with "equal jitter" (half the step fixed, half random), so a
 * fleet that lost its broker at the same moment does not come back in lockstep, while each box's
 * delay still grows and stays within [step / 2, step].
 */
export interface BackoffOptions {
  /** The first step (attempt 0). */
  minMs: number;
  /** The cap on a step. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 1_000, maxMs: 60_000 };

export function backoffStepMs(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  return Math.min(opts.maxMs, opts.minMs * 2 ** Math.min(attempt, 30));
}

/** The delay before reconnect attempt `attempt` (0-based); `random` returns [0, 1). */
export function backoffDelayMs(attempt: number, random: () => number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const step = backoffStepMs(attempt, opts);
  return Math.round(step / 2 + random() * (step / 2));
}
