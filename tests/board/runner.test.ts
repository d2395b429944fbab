import { describe, expect, test } from "bun:test";
import { createSpawnRunner } from "../../board/index.ts";

describe("the live command runner", () => {
  test("returns a command's exit code and output", async () => {
    const run = createSpawnRunner();
    expect(await run(["sh", "-c", "echo throttled=0x0; exit 3"])).toEqual({ exitCode: 3, stdout: "throttled=0x0\n" });
  });

  test("a program that is not installed is exit 127, not a throw", async () => {
    expect(await createSpawnRunner()(["vcgencmd-not-installed-here", "get_throttled"])).toEqual({ exitCode: 127, stdout: "" });
  });

  test("a hung command is killed at the timeout", async () => {
    const started = performance.now();
    const result = await createSpawnRunner(200)(["sleep", "10"]);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(result.exitCode).not.toBe(0);
  });
});
