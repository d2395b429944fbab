/** Time-of-day windows, including ones that wrap midnight. */
import { expect, test } from "bun:test";
import { msUntilWindowOpens } from "../../../ota/agent/download-window.ts";

const at = (h: number, m = 0, s = 0) => new Date(2026, 5, 1, h, m, s).getTime();
const H = 3600_000;

test("a same-day window: open inside, otherwise the time until its start", () => {
  const w = { start: "01:00", end: "05:00" };
  expect(msUntilWindowOpens(w, at(1))).toBe(0);
  expect(msUntilWindowOpens(w, at(4, 59, 59))).toBe(0);
  expect(msUntilWindowOpens(w, at(5))).toBe(20 * H);
  expect(msUntilWindowOpens(w, at(0, 30, 15))).toBe(30 * 60_000 - 15_000);
  expect(msUntilWindowOpens(w, at(23))).toBe(2 * H);
});

test("a window across midnight", () => {
  const w = { start: "22:00", end: "04:00" };
  expect(msUntilWindowOpens(w, at(23, 30))).toBe(0);
  expect(msUntilWindowOpens(w, at(3, 59))).toBe(0);
  expect(msUntilWindowOpens(w, at(4))).toBe(18 * H);
  expect(msUntilWindowOpens(w, at(12))).toBe(10 * H);
});

test("start == end means always open; malformed times are refused naming the field", () => {
  expect(msUntilWindowOpens({ start: "03:00", end: "03:00" }, at(12))).toBe(0);
  expect(() => msUntilWindowOpens({ start: "3:00", end: "05:00" }, at(12))).toThrow(/window.start/);
  expect(() => msUntilWindowOpens({ start: "03:00", end: "24:00" }, at(12))).toThrow(/window.end/);
});
