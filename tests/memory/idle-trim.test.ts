import { describe, expect, test } from "bun:test";
import { startIdleTrimmer } from "../../runtime/memory/idle-trim.ts";
import { silentLogger } from "../../runtime/log.ts";
import { manualTimers } from "../telemetry/helpers.ts";

function harness(idleMs = 30_000) {
  let now = 0;
  const timers = manualTimers();
  const activity = { busy: 0, queued: 0, finished: 0 };
  let trims = 0;
  const stop = startIdleTrimmer({
    activity: () => ({ ...activity }),
    idleMs,
    clock: { now: () => now, monotonic: () => now },
    timers,
    logger: silentLogger,
    trim: async () => {
      trims++;
      return { codeBytes: 0 };
    },
  });
  /** Advances the clock by one poll and runs it. */
  const tick = async () => {
    now += timers.pending[0]!.ms;
    timers.fireNext();
    await Bun.sleep(0);
  };
  const idleFor = async (ms: number) => {
    const until = now + ms;
    while (now < until) await tick();
  };
  return { activity, tick, idleFor, stop, timers, trims: () => trims };
}

describe("idle memory trimmer", () => {
  test("does nothing while nothing was served (start-up trims on its own)", async () => {
    const h = harness();
    await h.idleFor(120_000);
    expect(h.trims()).toBe(0);
    h.stop();
  });

  test("trims once after requests, when idle for the period, and again after the next burst", async () => {
    const h = harness();
    h.activity.busy = 1;
    await h.tick();
    h.activity.busy = 0;
    h.activity.finished = 1;
    await h.idleFor(29_000);
    expect(h.trims()).toBe(0);
    await h.idleFor(2_000);
    expect(h.trims()).toBe(1);
    await h.idleFor(120_000);
    expect(h.trims()).toBe(1);
    h.activity.queued = 2;
    await h.tick();
    h.activity.queued = 0;
    await h.idleFor(31_000);
    expect(h.trims()).toBe(2);
    h.stop();
  });

  test("a request that started and finished between two polls still counts as activity", async () => {
    const h = harness(4_000);
    h.activity.finished = 5; // never seen busy
    await h.idleFor(3_000);
    expect(h.trims()).toBe(0);
    await h.idleFor(2_000);
    expect(h.trims()).toBe(1);
    h.stop();
  });

  test("0 turns it off; stop cancels the poll", async () => {
    const off = harness(0);
    expect(off.timers.pending).toHaveLength(0);
    const h = harness();
    expect(h.timers.pending).toHaveLength(1);
    h.stop();
    expect(h.timers.pending).toHaveLength(0);
  });
});
