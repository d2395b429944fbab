/**
 * Cancellable waits on injected timers, so back-off, bandwidth and time-window pauses run on a
 * test's virtual clock and stop at once when the download is cancelled.
 */
import type { Timers } from "../../runtime/telemetry/timers.ts";

/** Resolves after `ms` on `timers`; rejects with the signal's reason if it aborts first. */
export function sleep(timers: Timers, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      timers.clearTimeout(handle);
      reject(signal!.reason);
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
