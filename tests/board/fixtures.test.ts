import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { FIXTURES, fixtureRoot, removeFixtureRoots } from "./fixture.ts";

afterAll(removeFixtureRoots);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

describe("fixture trees", () => {
  test("are stored as text: no NUL byte in any file, device-tree NULs written as \\0", () => {
    const all = files(FIXTURES);
    expect(all.length).toBeGreaterThan(100);
    const withNul = all.filter((f) => readFileSync(f).includes(0));
    expect(withNul.map((f) => relative(FIXTURES, f))).toEqual([]);
    expect(readFileSync(join(FIXTURES, "rpi5/proc/device-tree/compatible"), "utf8")).toBe("raspberrypi,5-model-b\\0brcm,bcm2712\\0");
  });

  test("are materialised with the kernel's bytes: NUL-terminated device-tree strings", () => {
    const root = fixtureRoot("jetson-orin-nano");
    expect(readFileSync(join(root, "proc/device-tree/model"), "utf8")).toBe("NVIDIA Jetson Orin Nano Developer Kit\0");
    expect(readFileSync(join(root, "proc/device-tree/compatible"), "utf8").split("\0")).toEqual([
      "nvidia,p3768-0000+p3767-0005", "nvidia,p3767-0005", "nvidia,tegra234", "",
    ]);
    // Only the device tree is rewritten; other files stay as stored.
    expect(readFileSync(join(root, "proc/cpuinfo"), "utf8")).toBe(readFileSync(join(FIXTURES, "jetson-orin-nano/proc/cpuinfo"), "utf8"));
  });
});
