import { expect, test } from "bun:test";
import { ledStateOf, type ModelState } from "../../runtime/device-io/led-state.ts";

const facts = (model: ModelState, busy = 0, updating = false) => ({ model: () => model, busySlots: () => busy, updating: () => updating });

test("LED state from runtime facts, most important first", () => {
  expect(ledStateOf(facts("loading"))).toBe("booting");
  expect(ledStateOf(facts("ready"))).toBe("ready");
  expect(ledStateOf(facts("ready", 3))).toBe("busy");
  expect(ledStateOf(facts("failed"))).toBe("error");
  // An update outranks everything: the box must not be unplugged while one is applied.
  expect(ledStateOf(facts("failed", 0, true))).toBe("updating");
  expect(ledStateOf(facts("ready", 2, true))).toBe("updating");
  // Booting until the primary model is ready, whatever else is running.
  expect(ledStateOf(facts("loading", 1))).toBe("booting");
});

test("a fact that cannot be read shows error, never ready", () => {
  const broken = { model: (): ModelState => "ready", busySlots: () => { throw new Error("engine closed"); }, updating: () => false };
  expect(ledStateOf(broken)).toBe("error");
});
