import { afterAll, describe, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { runCli } from "../../runtime/cli/run.ts";
import type { Io } from "../../runtime/cli/command.ts";
import { boardCommand } from "../../runtime/cli/commands/board.ts";
import { BoardReportSchema } from "../../board/index.ts";
import { join } from "node:path";
import { FIXTURES, fixtureRoot, removeFixtureRoots, treeRoot } from "./fixture.ts";

afterAll(removeFixtureRoots);

/** Runs `hearth …` in-process with only the board command registered, capturing what it prints. */
async function hearth(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), env: {} };
  const code = await runCli(argv, [boardCommand], io);
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

describe("hearth board", () => {
  test("--json --root prints the schema'd report of that tree", async () => {
    const { code, stdout, stderr } = await hearth(["board", "--json", "--root", fixtureRoot("jetson-orin-nano")]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    const report = JSON.parse(stdout);
    expect(Value.Check(BoardReportSchema, report)).toBe(true);
    expect(report).toMatchObject({ kind: "jetson-orin-nano", profile: { gpuPolicy: "offload-all", threads: 6 } });
  });

  test("human output says what was detected, the profile with its reasons, and the evidence", async () => {
    const { code, stdout } = await hearth(["board", "--root", fixtureRoot("rpi5")]);
    expect(code).toBe(0);
    expect(stdout).toContain("Raspberry Pi 5 Model B Rev 1.0 → rpi5");
    expect(stdout).toContain("arm64 Cortex-A76, 4 cores (4 performance), neon dotprod fp16");
    expect(stdout).toMatch(/threads\s+3: .*JS thread/);
    expect(stdout).toContain("vcgencmd get_throttled watching cpu-thermal");
    expect(stdout).toContain("LED pin 11 (GPIO17, pinctrl-rp1 line 17), button pin 13 (GPIO27, pinctrl-rp1 line 27)");
    expect(stdout).toContain('/proc/device-tree/model: "Raspberry Pi 5 Model B Rev 1.0"');
    expect(stdout).toContain("/sys/class/thermal/thermal_zone0: cpu-thermal at 51.5 °C");
  });

  test("a generic board shows why", async () => {
    const { code, stdout } = await hearth(["board", "--root", fixtureRoot("rpi5-partial")]);
    expect(code).toBe(0);
    expect(stdout).toContain("→ generic");
    expect(stdout).toMatch(/Why\s+the device tree \("Raspberry Pi 5 Model B Rev 1\.0"\) says rpi5, but/);
  });

  test("--root that is not a directory is a usage error, not a generic board", async () => {
    const missing = `${treeRoot()}/nope`;
    const { code, stderr } = await hearth(["board", "--root", missing]);
    expect(code).toBe(2);
    expect(stderr).toContain(`--root ${missing} is not a directory`);
    const json = await hearth(["board", "--json", "--root", missing]);
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: "invalid_request", message: `--root ${missing} is not a directory`, field: "root" } });
  });

  test("--help lists the options", async () => {
    const { code, stdout } = await hearth(["board", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: hearth board [options]");
    expect(stdout).toContain("--root DIR");
    expect(stdout).toContain("--json");
  });

  test("--root works on a fixture tree as stored in git too (device-tree NULs written as \\0)", async () => {
    const { code, stdout } = await hearth(["board", "--json", "--root", join(FIXTURES, "rpi5")]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ kind: "rpi5", name: "Raspberry Pi 5 Model B Rev 1.0", soc: "brcm,bcm2712" });
  });

  test("without --root it describes this machine", async () => {
    const { code, stdout } = await hearth(["board", "--json"]);
    expect(code).toBe(0);
    expect(["x86", "generic"]).toContain(JSON.parse(stdout).kind);
  });
});
