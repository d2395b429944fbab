import { describe, expect, test } from "bun:test";
import { Button } from "../../runtime/device-io/button.ts";
import { BUTTON_PIN, FakePins, FakeTime, recordingLogger } from "./fakes.ts";

/** A button on the fake driver recording when each handler ran (virtual ms). */
function rig(opts: { initial?: 0 | 1; shortPress?: () => void | Promise<void>; longHold?: () => void | Promise<void> } = {}) {
  const time = new FakeTime();
  const pins = new FakePins(time);
  pins.level = opts.initial ?? 1;
  const { logger, lines } = recordingLogger();
  const calls = { short: [] as number[], long: [] as number[], warning: [] as [number, boolean][] };
  const button = new Button({
    driver: pins,
    pin: BUTTON_PIN,
    clock: time,
    timers: time,
    logger,
    onShortPress: () => {
      calls.short.push(time.t);
      return opts.shortPress?.();
    },
    onLongHold: () => {
      calls.long.push(time.t);
      return opts.longHold?.();
    },
    onWarning: (active) => calls.warning.push([time.t, active]),
  });
  /** Presses at `at` (with a bounce) and releases `heldMs` later (with a bounce). */
  const press = async (at: number, heldMs: number) => {
    await time.to(at);
    await pins.bounce(0, [0, 2, 5, 9]);
    await time.to(at + heldMs);
    await pins.bounce(1, [0, 3, 4, 11]);
    await time.advance(100);
  };
  return { time, pins, button, calls, lines, press };
}

describe("button", () => {
  test("a bouncy short press calls onShortPress once, when the release has settled", async () => {
    const { calls, press } = rig();
    await press(1000, 300);
    // Release bounce: first edge at 1300, last at 1311, stable 50 ms later.
    expect(calls.short).toEqual([1361]);
    expect(calls.long).toEqual([]);
    expect(calls.warning).toEqual([]);
  });

  test("a glitch shorter than the debounce window is not a press", async () => {
    const { time, pins, calls } = rig();
    await time.to(500);
    pins.set(0);
    await time.advance(20);
    pins.set(1);
    await time.advance(5000);
    expect(calls).toEqual({ short: [], long: [], warning: [] });
  });

  test("a 10 s hold fires onLongHold once, at the 10 s mark while still held, and the release does nothing", async () => {
    const { time, pins, calls } = rig();
    await time.to(2000);
    await pins.bounce(0, [0, 2, 5, 9]);
    // Contact chatter while held does not restart the timing.
    await time.to(6000);
    await pins.bounce(0, [0, 1, 4]);
    await time.to(11_999);
    expect(calls.long).toEqual([]);
    await time.to(12_000);
    expect(calls.long).toEqual([12_000]);
    expect(pins.level).toBe(0);
    await time.to(20_000);
    pins.set(1);
    await time.advance(1000);
    expect(calls.long).toEqual([12_000]);
    expect(calls.short).toEqual([]);
  });

  test("the reset warning starts at 3 s and ends when the reset action has finished", async () => {
    let finish = () => {};
    const { time, pins, calls } = rig({ longHold: () => new Promise<void>((r) => (finish = r)) });
    pins.set(0);
    await time.to(2999);
    expect(calls.warning).toEqual([]);
    await time.to(10_000);
    expect(calls.warning).toEqual([[3000, true]]);
    expect(calls.long).toEqual([10_000]);
    await time.to(15_000);
    finish();
    await time.advance(1);
    expect(calls.warning).toEqual([[3000, true], [15_000, false]]);
  });

  test("a 9.9 s hold is cancelled: no reset, no short press, the warning ends at release", async () => {
    const { calls, lines, press } = rig();
    await press(0, 9900);
    expect(calls.long).toEqual([]);
    expect(calls.short).toEqual([]);
    expect(calls.warning).toEqual([[3000, true], [9961, false]]);
    expect(lines.some((l) => l.msg.startsWith("factory reset cancelled") && l.held_ms === 9900)).toBe(true);
  });

  test("a 2.9 s hold is a short press with no warning", async () => {
    const { calls, press } = rig();
    await press(0, 2900);
    expect(calls.short).toEqual([2961]);
    expect(calls.warning).toEqual([]);
  });

  test("released just before 10 s but settling after it: no reset", async () => {
    const { time, pins, calls } = rig();
    pins.set(0);
    await time.to(9990);
    pins.set(1); // settles at 10 040, after the 10 s timer
    await time.advance(1000);
    expect(calls.long).toEqual([]);
    expect(calls.short).toEqual([]);
  });

  test("bouncing across the 10 s mark while still held fires the reset once the line settles", async () => {
    const { time, pins, calls } = rig();
    pins.set(0);
    await time.to(9990);
    await pins.bounce(0, [0, 5, 15]); // last edge 10 005, settled 10 055, still down
    await time.advance(200);
    expect(calls.long).toEqual([10_055]);
  });

  test("presses while the previous action runs are ignored; the next one after it works", async () => {
    let finish = () => {};
    const { time, calls, press } = rig({ shortPress: () => new Promise<void>((r) => (finish = r)) });
    await press(0, 200);
    await press(1000, 200);
    await press(2000, 12_000); // not even a long hold counts while busy
    expect(calls.short).toEqual([261]);
    expect(calls.long).toEqual([]);
    finish();
    await time.advance(1);
    await press(20_000, 200);
    expect(calls.short).toEqual([261, 20_261]);
  });

  test("a button already down at start is ignored until released", async () => {
    const { time, pins, calls, lines, press } = rig({ initial: 0 });
    expect(lines.some((l) => l.level === "warn" && l.msg.startsWith("button is down at start"))).toBe(true);
    await time.to(15_000);
    pins.set(1);
    await time.advance(100);
    expect(calls).toEqual({ short: [], long: [], warning: [] });
    await press(20_000, 100);
    expect(calls.short).toEqual([20_161]);
  });

  test("an action that throws is logged and the button keeps working", async () => {
    let n = 0;
    const { calls, lines, press } = rig({
      shortPress: () => {
        if (++n === 1) throw new Error("pairing store unavailable");
      },
    });
    await press(0, 100);
    await press(1000, 100);
    expect(calls.short).toEqual([161, 1161]);
    expect(lines.filter((l) => l.msg === "button action failed" && l.error === "pairing store unavailable").length).toBe(1);
  });

  test("close stops pending timers and releases the pin", async () => {
    const { time, pins, button, calls } = rig();
    pins.set(0);
    await time.to(1000);
    button.close();
    expect(pins.buttonOpen).toBe(false);
    expect(time.scheduled).toBe(0);
    await time.advance(20_000);
    expect(calls).toEqual({ short: [], long: [], warning: [] });
  });
});
