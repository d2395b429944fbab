import { describe, expect, test } from "bun:test";
import { backoffDelayMs, backoffStepMs } from "../../runtime/telemetry/backoff.ts";
import { BrokerLink } from "../../runtime/telemetry/broker-link.ts";
import { createLogger } from "../../runtime/log.ts";
import { systemClock } from "../../runtime/clock.ts";
import { freePort } from "../helpers/mosquitto.ts";
import { manualTimers, waitFor } from "./helpers.ts";

const OPTS = { minMs: 1_000, maxMs: 60_000 };

describe("reconnect back-off", () => {
  test("each step doubles up to the cap, and jitter keeps the delay within [step/2, step]", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffStepMs(n, OPTS))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(backoffDelayMs(3, () => 0, OPTS)).toBe(4_000);
    expect(backoffDelayMs(3, () => 0.999999, OPTS)).toBe(8_000);
    expect(backoffDelayMs(3, () => 0.5, OPTS)).toBe(6_000);
  });

  test("a box that cannot reach its broker retries on a growing, jittered schedule (driven timers)", async () => {
    const port = await freePort(); // nothing listens there
    const timers = manualTimers();
    const draws = [0.1, 0.9, 0.3, 0.7, 0.5, 0.2, 0.8, 0.4];
    let draw = 0;
    const logs: string[] = [];
    const link = new BrokerLink({
      url: `mqtt://127.0.0.1:${port}`,
      clientId: "hd-backoff",
      auth: {},
      subscriptions: () => [],
      will: () => null,
      onUp: () => {
        throw new Error("nothing should accept this connection");
      },
      onDown: () => undefined,
      onMessage: () => undefined,
      clock: systemClock,
      timers,
      random: () => draws[draw++ % draws.length]!,
      logger: createLogger({ write: (l) => logs.push(l) }),
      backoff: OPTS,
    });
    link.start();
    const delays: number[] = [];
    for (let attempt = 0; attempt < 8; attempt++) {
      await waitFor(() => timers.pending.length === 1, `retry ${attempt} to be scheduled`);
      expect(link.status()).toMatchObject({ connected: false, attempts: attempt + 1, nextRetryMs: timers.pending[0]!.ms });
      delays.push(timers.fireNext());
    }
    // Exactly the equal-jitter formula on the draws given: no hidden clock or randomness.
    expect(delays).toEqual(draws.map((r, n) => backoffDelayMs(n, () => r, OPTS)));
    delays.forEach((ms, n) => {
      const step = backoffStepMs(n, OPTS);
      expect(ms).toBeGreaterThanOrEqual(step / 2);
      expect(ms).toBeLessThanOrEqual(step);
    });
    // Not a fixed period: the schedule grows (the jitter moves each delay within its own step).
    expect(delays[7]!).toBeGreaterThan(delays[0]! * 10);
    expect(link.status().lastError).toMatch(/ECONNREFUSED/);
    expect(logs.filter((l) => l.includes("broker connection failed")).length).toBe(8);
    await link.stop(null);
    expect(timers.pending.length).toBe(0);
  });
});
