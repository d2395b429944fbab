import { expect, test } from "bun:test";
import { resolveThreads, SMALL_MODEL_BYTES } from "../../runtime/engine/threads.ts";

test("automatic threads: all cores for large models, one spare for small ones, never zero", () => {
  expect(resolveThreads(3, 10, 8)).toBe(3); // configured wins
  expect(resolveThreads(0, SMALL_MODEL_BYTES, 2)).toBe(2);
  expect(resolveThreads(0, SMALL_MODEL_BYTES - 1, 2)).toBe(1);
  expect(resolveThreads(0, 1000, 1)).toBe(1);
  expect(resolveThreads(0, 1000, 8)).toBe(7);
});
