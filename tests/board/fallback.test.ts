import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { detectBoard, BoardReportSchema, type BoardReport, type SystemInfo } from "../../board/index.ts";
import { createLogger } from "../../runtime/log.ts";
import { FIXTURES, fixtureRoot, removeFixtureRoots, treeRoot } from "./fixture.ts";

afterAll(removeFixtureRoots);

const GiB = 1024 ** 3;

function expectGeneric(r: BoardReport, reason: RegExp): void {
  expect(Value.Errors(BoardReportSchema, r).First()).toBeUndefined();
  expect(r.kind).toBe("generic");
  expect(r.fallbackReason).toMatch(reason);
  expect(r.fallbackReason).toContain("generic Linux profile");
  expect(r.profile.gpuPolicy).toBe("none");
  expect(r.profile.gpio).toEqual({ led: null, button: null });
}

const x86Cpuinfo = readFileSync(join(FIXTURES, "x86-avx512", "proc", "cpuinfo"), "utf8");
const piCpuinfo = readFileSync(join(FIXTURES, "rpi4", "proc", "cpuinfo"), "utf8");
const meminfo = "MemTotal:        2000000 kB\n";

describe("unknown, partial and broken trees fall back to generic with a reason", () => {
  test("an empty tree: nothing identifies the board; 1 thread, no budget promised", async () => {
    const logged: string[] = [];
    const r = await detectBoard({ root: treeRoot(), logger: createLogger({ write: (l) => logged.push(l) }) });
    expectGeneric(r, /found no device tree, no usable \/proc\/cpuinfo/);
    expect(r).toMatchObject({ name: "unknown Linux machine", memoryBytes: null, gpus: [], storage: null, thermalZones: [], evidence: [] });
    expect(r.profile).toMatchObject({ threads: 1, memoryBudgetBytes: 0, throttle: { signal: "none" } });
    expect(r.profile.reasons.memory).toContain("total memory unknown");
    // The reason is logged, not only returned.
    expect(JSON.parse(logged[0]!)).toMatchObject({ level: "warn", reason: r.fallbackReason });
  });

  test("a Pi 5 device tree without /proc/cpuinfo or /proc/meminfo cannot be sized", async () => {
    const r = await detectBoard({ root: fixtureRoot("rpi5-partial") });
    expectGeneric(r, /Raspberry Pi 5 Model B Rev 1\.0.*says rpi5, but \/proc\/cpuinfo \(cores, features\) and \/proc\/meminfo \(MemTotal\) are missing/);
    expect(r.name).toBe("Raspberry Pi 5 Model B Rev 1.0");
    expect(r.soc).toBe("brcm,bcm2712");
    expect(r.evidence.map((e) => e.source)).toEqual(["/proc/device-tree/model", "/proc/device-tree/compatible"]);
  });

  test("files that exist but hold junk are read as unknown, never thrown on", async () => {
    const r = await detectBoard({ root: fixtureRoot("garbage") });
    expectGeneric(r, /nothing that identifies the board/);
    expect(r.memoryBytes).toBeNull();
    expect(r.l4tRelease).toBeNull();
    expect(r.storage).toBeNull();
    expect(r.thermalZones).toEqual([{ zone: "thermal_zone1", type: "soc-thermal", milliCelsius: null, passiveTripMilliCelsius: null }]);
    expect(r.notes.join("\n")).toContain("/proc/device-tree/model exists but holds no readable string");
    expect(r.notes.join("\n")).toContain("/etc/nv_tegra_release exists but its first line is not an L4T release line");
  });

  test("a device tree that says Raspberry Pi over an x86 cpuinfo: the signals disagree", async () => {
    const root = treeRoot({
      "proc/device-tree/model": "Raspberry Pi 5 Model B Rev 1.0\0",
      "proc/device-tree/compatible": "raspberrypi,5-model-b\0brcm,bcm2712\0",
      "proc/cpuinfo": x86Cpuinfo,
      "proc/meminfo": meminfo,
    });
    expectGeneric(await detectBoard({ root }), /says rpi5, but \/proc\/cpuinfo describes an x64 CPU: the signals disagree/);
  });

  test("a Raspberry Pi 3 and a first-generation Jetson Nano are named but not supported", async () => {
    const pi3 = await detectBoard({
      root: treeRoot({ "proc/device-tree/model": "Raspberry Pi 3 Model B Rev 1.2\0", "proc/device-tree/compatible": "raspberrypi,3-model-b\0brcm,bcm2837\0", "proc/cpuinfo": piCpuinfo, "proc/meminfo": meminfo }),
    });
    expectGeneric(pi3, /older than the 4/);
    expect(pi3.name).toBe("Raspberry Pi 3 Model B Rev 1.2");
    const nano = await detectBoard({
      root: treeRoot({ "proc/device-tree/model": "NVIDIA Jetson Nano Developer Kit\0", "proc/device-tree/compatible": "nvidia,p3450-0000\0nvidia,jetson-nano\0nvidia,tegra210\0" }),
    });
    expectGeneric(nano, /nvidia,tegra210.*older than Xavier/);
  });

  test("an arm64 board nobody listed (Cortex-A55 + A76 big.LITTLE) gets generic with its big cores as threads", async () => {
    const block = (i: number, part: string) => `processor\t: ${i}\nFeatures\t: fp asimd fphp asimdhp asimddp\nCPU implementer\t: 0x41\nCPU part\t: ${part}\n`;
    const cpuinfo = [0, 1, 2, 3].map((i) => block(i, "0xd05")).concat([4, 5, 6, 7].map((i) => block(i, "0xd0b"))).join("\n");
    const r = await detectBoard({
      root: treeRoot({ "proc/device-tree/model": "Radxa ROCK 5B\0", "proc/device-tree/compatible": "radxa,rock-5b\0rockchip,rk3588\0", "proc/cpuinfo": cpuinfo, "proc/meminfo": meminfo }),
    });
    expectGeneric(r, /"Radxa ROCK 5B".*not a supported board/);
    expect(r.cpu).toMatchObject({ model: "Cortex-A55 + Cortex-A76", cores: 8, performanceCores: 4, efficiencyCores: 4, features: ["neon", "dotprod", "fp16"] });
    expect(r.profile.threads).toBe(4);
    expect(r.profile.memoryBudgetBytes).toBe(2000000 * 1024 - 1 * GiB);
  });

  test("a Jetson without /etc/nv_tegra_release keeps its kind but notes that CUDA may be missing", async () => {
    const root = fixtureRoot("jetson-orin-nano");
    const { rmSync } = await import("node:fs");
    rmSync(join(root, "etc", "nv_tegra_release"));
    const r = await detectBoard({ root });
    expect(r.kind).toBe("jetson-orin-nano");
    expect(r.l4tRelease).toBeNull();
    expect(r.notes.join(" ")).toContain("/etc/nv_tegra_release is missing");
  });
});

describe("this machine", () => {
  test("detection on the live root succeeds: x86 (or generic with a reason), real numbers", async () => {
    const r = await detectBoard();
    expect(Value.Errors(BoardReportSchema, r).First()).toBeUndefined();
    expect(["x86", "generic"]).toContain(r.kind);
    if (r.kind === "generic") expect(r.fallbackReason).toBeString();
    else expect(r.fallbackReason).toBeUndefined();
    expect(r.cpu.arch).toBe("x64");
    const { cpus, totalmem } = await import("node:os");
    expect(r.cpu.logicalCpus).toBe(cpus().length);
    expect(r.memoryBytes).toBe(totalmem());
    expect(r.profile.threads).toBeGreaterThanOrEqual(1);
    expect(r.profile.memoryBudgetBytes).toBe(Math.max(0, totalmem() - r.profile.osReserveBytes));
    expect(r.gpus.filter((g) => g.vendor === "nvidia")).toEqual([]);
    expect(r.evidence.some((e) => e.source === "/proc/cpuinfo")).toBe(true);
    // On the live root systeminformation is asked too.
    expect(r.evidence.some((e) => e.source === "systeminformation.graphics()")).toBe(true);
  });

  test("an injected systemInfo that fails costs only its facts", async () => {
    const broken: SystemInfo = {
      graphics: async () => Promise.reject(new Error("lspci exploded")),
      fsSize: async () => Promise.reject(new Error("df exploded")),
    };
    const r = await detectBoard({ root: fixtureRoot("x86-avx2"), systemInfo: broken, runner: async () => ({ exitCode: 127, stdout: "" }) });
    expect(r.kind).toBe("x86");
    expect(r.notes.join("\n")).toContain("systeminformation.graphics() failed: lspci exploded");
  });
});
