/**
 * Timers passed into telemetry (reconnect back-off, producer intervals), so tests can drive them
 * instead of waiting. The system timers are unref'd: telemetry alone never keeps a process alive.
 */
export type TimerHandle = unknown;

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Calls `fn` every `ms` until the returned function is called; `fn` may be async (never overlaps). */
export function every(timers: Timers, ms: number, fn: () => unknown): () => void {
  let handle: TimerHandle | null = null;
  let stopped = false;
  const tick = async () => {
    try {
      await fn();
    } finally {
      if (!stopped) handle = timers.setTimeout(tick, ms);
    }
  };
  handle = timers.setTimeout(tick, ms);
  return () => {
    stopped = true;
    if (handle !== null) timers.clearTimeout(handle);
  };
}
