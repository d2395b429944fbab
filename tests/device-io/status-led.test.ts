import { describe, expect, test } from "bun:test";
import { LED_STATES, type LedState } from "../../runtime/device-io/led-patterns.ts";
import { StatusLed } from "../../runtime/device-io/status-led.ts";
import { FakePins, FakeTime, LED_PIN } from "./fakes.ts";

function led() {
  const time = new FakeTime();
  const pins = new FakePins(time);
  return { time, pins, led: new StatusLed(pins.output(LED_PIN), time) };
}

/** Shows each state at its time (ms), runs on to `end`, and returns the writes as [ms, level] pairs. */
async function script(steps: [number, LedState][], end: number) {
  const { time, pins, led: l } = led();
  for (const [at, state] of steps) {
    await time.to(at);
    l.show(state);
  }
  await time.to(end);
  return pins.timeline(0, end);
}

const timelineOf = (state: LedState, ms: number) => script([[0, state]], ms);

// Written out by hand from the documented table (led-patterns.ts), two periods each.
const EXPECTED: Record<LedState, { ms: number; writes: [number, 0 | 1][] }> = {
  booting: { ms: 2000, writes: [[0, 1], [500, 0], [1000, 1], [1500, 0]] },
  ready: { ms: 3000, writes: [[0, 1]] },
  busy: { ms: 400, writes: [[0, 1], [100, 0], [200, 1], [300, 0]] },
  updating: { ms: 3000, writes: [[0, 1], [150, 0], [300, 1], [450, 0], [1500, 1], [1650, 0], [1800, 1], [1950, 0]] },
  error: {
    ms: 4200,
    writes: [[0, 1], [150, 0], [300, 1], [450, 0], [600, 1], [750, 0], [2100, 1], [2250, 0], [2400, 1], [2550, 0], [2700, 1], [2850, 0]],
  },
  "reset-warning": { ms: 200, writes: [[0, 1], [50, 0], [100, 1], [150, 0]] },
};

describe("status LED patterns", () => {
  for (const state of LED_STATES) {
    test(`${state}: exact on/off timeline over two periods`, async () => {
      const { ms, writes } = EXPECTED[state];
      expect(await timelineOf(state, ms)).toEqual(writes);
    });
  }

  test("ready is steady: no timer keeps running", async () => {
    const { time, led: l } = led();
    l.show("ready");
    expect(time.scheduled).toBe(0);
  });

  test("every pair of states looks different over the same 4.2 s", async () => {
    const seen = new Map<string, LedState>();
    for (const state of LED_STATES) {
      const key = JSON.stringify(await timelineOf(state, 4200));
      expect(seen.get(key)).toBeUndefined();
      seen.set(key, state);
    }
    expect(seen.size).toBe(LED_STATES.length);
  });
});

describe("status LED state changes", () => {
  test("booting → ready → busy → ready → error restarts each pattern at its first step", async () => {
    const steps: [number, LedState][] = [[0, "booting"], [700, "ready"], [1000, "busy"], [1250, "ready"], [2000, "error"]];
    expect(await script(steps, 2500)).toEqual([
      [0, 1], [500, 0], // booting
      [700, 1], // ready
      [1000, 1], [1100, 0], [1200, 1], // busy
      [1250, 1], // ready: the busy flicker stops mid-step
      [2000, 1], [2150, 0], [2300, 1], [2450, 0], // error from its first blink
    ]);
  });

  test("showing the current state again does not restart it", async () => {
    expect(await script([[0, "booting"], [300, "booting"]], 1000)).toEqual([[0, 1], [500, 0]]);
  });

  test("stop leaves the LED off, releases the pin and stops the timers", async () => {
    const { time, pins, led: l } = led();
    l.show("busy");
    await time.to(50);
    l.stop();
    expect(pins.writes.at(-1)).toEqual({ t: 50, level: 0 });
    expect(pins.ledOpen).toBe(false);
    expect(time.scheduled).toBe(0);
    const count = pins.writes.length;
    l.show("error");
    await time.advance(5000);
    expect(pins.writes.length).toBe(count);
  });
});
