import { describe, expect, test } from "bun:test";
import { statusPins } from "../../board/gpio.ts";
import { startDeviceIo, type DeviceIoOptions } from "../../runtime/device-io/index.ts";
import type { ModelState } from "../../runtime/device-io/led-state.ts";
import { BUTTON_PIN, FakePins, FakeTime, LED_PIN, recordingLogger } from "./fakes.ts";

/** A running device-io on the fake driver, with runtime facts the test changes. */
function box(over: Partial<DeviceIoOptions> = {}) {
  const time = new FakeTime();
  const pins = new FakePins(time);
  const { logger, lines } = recordingLogger();
  const facts = { model: "loading" as ModelState, busy: 0 };
  const calls = { short: [] as number[], long: [] as number[] };
  const io = startDeviceIo({
    pins: { led: LED_PIN, button: BUTTON_PIN },
    driver: pins,
    clock: time,
    timers: time,
    logger,
    state: { model: () => facts.model, busySlots: () => facts.busy },
    onShortPress: () => void calls.short.push(time.t),
    onLongHold: () => void calls.long.push(time.t),
    ...over,
  });
  return { time, pins, lines, facts, calls, io };
}

describe("startDeviceIo", () => {
  test("the LED follows the runtime: booting → ready → busy → ready → error, within one poll (250 ms)", async () => {
    const { time, pins, facts, io } = box();
    await io.started;
    await time.to(1000);
    facts.model = "ready"; // seen at the 1250 poll
    await time.to(1300);
    facts.busy = 2; // 1500
    await time.to(1600);
    facts.busy = 0; // 1750
    await time.to(1800);
    facts.model = "failed"; // 2000
    await time.to(2300);
    expect(pins.timeline(0, 2300)).toEqual([
      [0, 1], [500, 0], [1000, 1], // booting
      [1250, 1], // ready
      [1500, 1], [1600, 0], [1700, 1], // busy
      [1750, 1], // ready
      [2000, 1], [2150, 0], // error
    ]);
    await io.stop();
  });

  test("setUpdating switches to the update pattern at once and back when cleared", async () => {
    const { time, pins, facts, io } = box();
    facts.model = "ready";
    await io.started;
    await time.to(100);
    io.setUpdating(true);
    await time.to(500);
    io.setUpdating(false);
    await time.to(600);
    expect(pins.timeline(0, 600)).toEqual([[0, 1], [100, 1], [250, 0], [400, 1], [500, 1]]);
    await io.stop();
  });

  test("holding the button: reset-warning strobe from 3 s, reset at 10 s, state pattern again once it is done", async () => {
    let finish = () => {};
    const resets: number[] = [];
    const { time, pins, facts, calls, io } = box({
      onLongHold: () => {
        resets.push(time.t);
        return new Promise<void>((r) => (finish = r));
      },
    });
    facts.model = "ready";
    await io.started;
    pins.set(0);
    await time.to(3200);
    expect(pins.timeline(2900, 3200)).toEqual([[100, 1], [150, 0], [200, 1], [250, 0]]);
    await time.to(10_000);
    expect(resets).toEqual([10_000]);
    await time.to(11_060);
    expect(pins.timeline(10_960, 11_060)).toEqual([[40, 1], [90, 0]]); // still strobing while the reset runs
    finish();
    await time.to(11_400);
    expect(pins.timeline(11_060, 11_400)).toEqual([[0, 1]]); // steady: ready
    expect(calls.short).toEqual([]);
    await io.stop();
  });

  test("a short press calls onShortPress and leaves the LED alone", async () => {
    const { time, pins, facts, calls, io } = box();
    facts.model = "ready";
    await io.started;
    await time.to(1000);
    pins.set(0);
    await time.to(1200);
    pins.set(1);
    await time.to(2000);
    expect(calls.short).toEqual([1250]);
    expect(pins.timeline(1, 2000)).toEqual([]);
    await io.stop();
  });

  test("stop leaves the LED off, releases both pins and leaves no timer behind", async () => {
    const { time, pins, io } = box();
    await io.started;
    await time.to(200);
    await io.stop();
    expect(pins.writes.at(-1)).toEqual({ t: 200, level: 0 });
    expect(pins.ledOpen).toBe(false);
    expect(pins.buttonOpen).toBe(false);
    expect(time.scheduled).toBe(0);
  });

  test("pins that arrive later (board still detected) start the LED then; stop before that opens nothing", async () => {
    let resolve = (_: { led: typeof LED_PIN; button: typeof BUTTON_PIN }) => {};
    const later = new Promise<{ led: typeof LED_PIN; button: typeof BUTTON_PIN }>((r) => (resolve = r));
    const { time, pins, io } = box({ pins: later });
    await time.to(500);
    expect(pins.ledOpen).toBe(false);
    resolve({ led: LED_PIN, button: BUTTON_PIN });
    await io.started;
    expect(pins.timeline(500, 501)).toEqual([[0, 1]]);
    await io.stop();
  });

  test("stop before the pins are known returns at once and opens nothing; pins that fail to come are one warning", async () => {
    const never = box({ pins: new Promise(() => {}) });
    await never.io.stop();
    expect(never.pins.ledOpen).toBe(false);
    expect(never.lines).toEqual([]);

    const failed = box({ pins: Promise.reject(new Error("board detection failed")) });
    await failed.io.started;
    await failed.io.stop();
    expect(failed.lines).toEqual([expect.objectContaining({ level: "warn", msg: "status LED and button not driven", reason: "board detection failed" })]);
  });

  test("x86 (no status pins): one warning with the profile's reason, nothing driven, no crash", async () => {
    const x86 = statusPins("x86", []);
    const { time, pins, lines, io } = box({ pins: { ...x86, why: x86.why } });
    await io.started;
    io.setUpdating(true);
    await time.advance(5000);
    await io.stop();
    expect(lines).toEqual([expect.objectContaining({ level: "warn", msg: "status LED and button not driven", reason: `this board has no status pins: ${x86.why}` })]);
    expect(pins.writes).toEqual([]);
  });

  test("a Pi 5 profile on this machine (no sysfs GPIO, onoff's addon not loadable): exactly one warning, carries on", async () => {
    const { time, lines, io } = box({ driver: undefined, pins: statusPins("rpi5", []) });
    await io.started;
    io.setUpdating(true);
    await time.advance(5000);
    await io.stop();
    expect(lines.filter((l) => l.level === "warn")).toEqual([expect.objectContaining({ msg: "status LED and button not driven" })]);
    expect(time.scheduled).toBe(0);
  });
});
