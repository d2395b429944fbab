import { describe, expect, test } from "bun:test";
import { HealthCache } from "../../runtime/admin/health-cache.ts";
import { silentLogger } from "../../runtime/log.ts";
import { systemHealthSampler } from "../../runtime/telemetry/health.ts";
import type { Timers } from "../../runtime/telemetry/timers.ts";
import { manualClock } from "../license/helpers.ts";

/** Timers run by hand: `fire()` runs what is due, in order. */
function manualTimers() {
  const pending: { fn: () => void; ms: number; id: number }[] = [];
  let next = 0;
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      pending.push({ fn, ms, id: ++next });
      return next;
    },
    clearTimeout: (id) => {
      const i = pending.findIndex((p) => p.id === id);
      if (i >= 0) pending.splice(i, 1);
    },
  };
  return { timers, pending, fire: () => pending.splice(0).forEach((p) => p.fn()) };
}

describe("health cache", () => {
  test("starts at the first read, samples the machine on its interval (never per read), stops when nobody reads", async () => {
    const t = manualTimers();
    const clock = manualClock(Date.UTC(2026, 0, 1));
    let samples = 0;
    const real = systemHealthSampler({ dataDir: "/tmp" });
    const cache = new HealthCache({ sampler: { sample: () => (samples++, real.sample()) }, clock, logger: silentLogger, timers: t.timers, intervalMs: 15_000, idleStopMs: 60_000 });
    expect(cache.sampling).toBe(false);
    expect(samples).toBe(0);

    const first = await cache.current();
    expect(first!.sampledAt).toBe(clock.now());
    expect(first!.snapshot.memory.totalMB).toBeGreaterThan(0);
    expect(first!.snapshot.disk.totalMB).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) cache.latest();
    expect(samples).toBe(1);
    expect(t.pending.map((p) => p.ms)).toEqual([15_000]);

    // The interval samples again.
    clock.set(clock.now() + 15_000);
    t.fire();
    while (samples < 2 || cache.latest()!.sampledAt !== clock.now()) await Bun.sleep(5);
    // Nobody reads for longer than idleStopMs: the next tick stops instead of sampling.
    clock.set(clock.now() + 61_000);
    while (t.pending.length === 0) await Bun.sleep(5);
    t.fire();
    expect(cache.sampling).toBe(false);
    expect(t.pending).toEqual([]);
    expect(samples).toBe(2);
    // A read after the pause gets the last sample at once and restarts sampling.
    expect(cache.latest()!.sampledAt).toBe(clock.now() - 61_000);
    expect(cache.sampling).toBe(true);
    cache.stop();
  });

  test("a failing sample keeps the last good one and says why", async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    let fail = false;
    const cache = new HealthCache({
      sampler: { sample: async () => { if (fail) throw new Error("sensor gone"); return { uptimeSeconds: 1, cpuLoadPercent: 1, memory: { totalMB: 1, usedMB: 1 }, temperaturesC: [], disk: { totalMB: 1, usedMB: 1 }, throttled: false }; } },
      clock,
      logger: silentLogger,
      timers: manualTimers().timers,
    });
    await cache.refresh();
    fail = true;
    await cache.refresh();
    expect(cache.latest()?.snapshot.cpuLoadPercent).toBe(1);
    expect(cache.lastError()).toBe("sensor gone");
  });
});
