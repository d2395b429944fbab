import { afterAll, describe, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { detectBoard, BoardReportSchema, type BoardReport, type CommandRunner } from "../../board/index.ts";
import { fixtureRoot, removeFixtureRoots } from "./fixture.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

afterAll(removeFixtureRoots);

async function detect(name: string, runner?: CommandRunner): Promise<BoardReport> {
  const report = await detectBoard({ root: fixtureRoot(name), runner });
  // Every report must be what the --json schema promises.
  expect(Value.Errors(BoardReportSchema, report).First()).toBeUndefined();
  return report;
}

const saysOf = (r: BoardReport, source: string) => r.evidence.filter((e) => e.source === source).map((e) => e.says).join(" | ");

describe("Raspberry Pi", () => {
  test("Pi 5: Cortex-A76 ×4, 8 GB, CPU only, 3 threads, vcgencmd, BCM 17/27", async () => {
    const r = await detect("rpi5");
    expect(r).toMatchObject({ kind: "rpi5", name: "Raspberry Pi 5 Model B Rev 1.0", soc: "brcm,bcm2712", l4tRelease: null, memoryBytes: 8245936 * KiB });
    expect(r.fallbackReason).toBeUndefined();
    expect(r.cpu).toEqual({ arch: "arm64", model: "Cortex-A76", logicalCpus: 4, cores: 4, performanceCores: 4, efficiencyCores: 0, features: ["neon", "dotprod", "fp16"] });
    expect(r.gpus).toEqual([]);
    expect(r.storage).toEqual({ mount: "/", device: "/dev/mmcblk0p2", fsType: "ext4", sizeBytes: 124207104 * 512, medium: "mmc" });
    expect(r.thermalZones).toEqual([{ zone: "thermal_zone0", type: "cpu-thermal", milliCelsius: 51450, passiveTripMilliCelsius: null }]);
    const p = r.profile;
    expect(p.osReserveBytes).toBe(768 * MiB);
    expect(p.memoryBudgetBytes).toBe(8245936 * KiB - 768 * MiB);
    expect(p).toMatchObject({ gpuPolicy: "none", vramBudgetBytes: null, threads: 3 });
    expect(p.throttle).toEqual({ signal: "vcgencmd", zones: ["cpu-thermal"], limitMilliCelsius: 80_000 });
    expect(p.gpio.led).toEqual({ headerPin: 11, name: "GPIO17", chip: "pinctrl-rp1", line: 17 });
    expect(p.gpio.button).toEqual({ headerPin: 13, name: "GPIO27", chip: "pinctrl-rp1", line: 27 });
    expect(p.reasons.threads).toContain("one is left to the runtime's JS thread");
    expect(p.reasons.memory).toContain("OS 512 MiB");
    expect(saysOf(r, "/proc/device-tree/model")).toBe('"Raspberry Pi 5 Model B Rev 1.0"');
    expect(saysOf(r, "/proc/device-tree/compatible")).toBe("raspberrypi,5-model-b, brcm,bcm2712");
    expect(saysOf(r, "/proc/cpuinfo")).toContain("0xd0b (Cortex-A76)");
    expect(saysOf(r, "/proc/cpuinfo")).toContain("asimddp");
    expect(saysOf(r, "/proc/meminfo")).toContain("MemTotal 8245936 kB");
  });

  test("Pi 4: Cortex-A72 has NEON but no dotprod or fp16; 4 GB", async () => {
    const r = await detect("rpi4");
    expect(r).toMatchObject({ kind: "rpi4", soc: "brcm,bcm2711", memoryBytes: 3882380 * KiB });
    expect(r.cpu).toMatchObject({ model: "Cortex-A72", cores: 4, features: ["neon"] });
    expect(r.profile).toMatchObject({ memoryBudgetBytes: 3882380 * KiB - 768 * MiB, gpuPolicy: "none", threads: 3 });
    expect(r.profile.gpio.led).toMatchObject({ chip: "pinctrl-bcm2711", line: 17 });
    expect(saysOf(r, "/proc/cpuinfo")).toContain("0xd08 (Cortex-A72)");
  });
});

describe("Jetson", () => {
  test("Orin Nano dev kit: 6 × A78AE, unified memory, offload-all, 6 threads, L4T 36.3.0", async () => {
    const r = await detect("jetson-orin-nano");
    expect(r).toMatchObject({ kind: "jetson-orin-nano", name: "NVIDIA Jetson Orin Nano Developer Kit", soc: "nvidia,tegra234", l4tRelease: "36.3.0" });
    expect(r.cpu).toEqual({ arch: "arm64", model: "Cortex-A78AE", logicalCpus: 6, cores: 6, performanceCores: 6, efficiencyCores: 0, features: ["neon", "dotprod", "fp16"] });
    expect(r.gpus).toEqual([{ vendor: "nvidia", name: "NVIDIA Orin integrated GPU (Ampere)", vramBytes: null, unifiedMemory: true }]);
    expect(r.storage).toMatchObject({ device: "/dev/nvme0n1p1", medium: "nvme", sizeBytes: 975699968 * 512 });
    expect(r.profile.osReserveBytes).toBe(2 * GiB);
    expect(r.profile).toMatchObject({ memoryBudgetBytes: 7763316 * KiB - 2 * GiB, gpuPolicy: "offload-all", vramBudgetBytes: null, threads: 6 });
    expect(r.profile.reasons.gpu).toContain("unified memory");
    expect(r.profile.reasons.threads).toContain("all alike");
    expect(r.profile.throttle).toEqual({ signal: "thermal-zones", zones: ["cpu-thermal", "gpu-thermal", "tj-thermal"], limitMilliCelsius: 99_000 });
    expect(r.profile.gpio).toEqual({
      led: { headerPin: 11, name: "UART1_RTS (PR.04)", chip: "tegra234-gpio", line: 112 },
      button: { headerPin: 13, name: "SPI1_SCK (PY.00)", chip: "tegra234-gpio", line: 122 },
    });
    // The power-gated vision-engine zones read as unknown, not as 0 °C; the kernel's passive trip is kept.
    expect(r.thermalZones.find((z) => z.type === "cv0-thermal")).toMatchObject({ milliCelsius: null, passiveTripMilliCelsius: 99_000 });
    expect(r.thermalZones).toHaveLength(9);
    expect(saysOf(r, "/etc/nv_tegra_release")).toContain("L4T R36.3.0");
    expect(saysOf(r, "/proc/device-tree/compatible")).toContain("nvidia,p3767-0005");
    expect(r.notes).toEqual([]);
  });

  test("Orin NX 16 GB is told apart from the Nano by its module number", async () => {
    const r = await detect("jetson-orin-nx");
    expect(r).toMatchObject({ kind: "jetson-orin-nx", memoryBytes: 15918668 * KiB });
    expect(r.profile).toMatchObject({ threads: 8, gpuPolicy: "offload-all", memoryBudgetBytes: 15918668 * KiB - 2 * GiB });
  });

  test("AGX Orin 64 GB: 12 cores, eMMC, its own pin 13 line", async () => {
    const r = await detect("jetson-agx-orin");
    expect(r).toMatchObject({ kind: "jetson-agx-orin", name: "NVIDIA Jetson AGX Orin Developer Kit", memoryBytes: 64335756 * KiB });
    expect(r.cpu).toMatchObject({ model: "Cortex-A78AE", cores: 12, performanceCores: 12 });
    expect(r.storage).toMatchObject({ device: "/dev/mmcblk0p1", medium: "mmc" });
    expect(r.profile).toMatchObject({ threads: 12, memoryBudgetBytes: 64335756 * KiB - 2 * GiB });
    expect(r.profile.gpio.button).toEqual({ headerPin: 13, name: "PWM01 (PR.00)", chip: "tegra234-gpio", line: 108 });
  });

  test("AGX Xavier: Carmel cores without dotprod, Volta iGPU, Xavier's zone names and fallback limit", async () => {
    const r = await detect("jetson-xavier");
    expect(r).toMatchObject({ kind: "jetson-xavier", name: "Jetson-AGX", soc: "nvidia,tegra194", l4tRelease: "32.7.1" });
    expect(r.cpu).toMatchObject({ model: "NVIDIA Carmel", cores: 8, features: ["neon", "fp16"] });
    expect(r.gpus[0]).toMatchObject({ name: "NVIDIA Xavier integrated GPU (Volta)", unifiedMemory: true });
    expect(r.profile).toMatchObject({ threads: 8, gpuPolicy: "offload-all", memoryBudgetBytes: 32539780 * KiB - 2 * GiB });
    expect(r.profile.throttle).toEqual({ signal: "thermal-zones", zones: ["CPU-therm", "GPU-therm"], limitMilliCelsius: 95_000 });
    expect(r.profile.gpio.button).toMatchObject({ chip: "tegra194-gpio", line: 108 });
  });
});

describe("x86", () => {
  test("hybrid Core i5-1240P: threads are the 4 P-cores; AVX2 and AVX-VNNI but no AVX-512", async () => {
    const r = await detect("x86-avx2");
    expect(r).toMatchObject({ kind: "x86", name: "Intel(R) Client Systems NUC12WSHi5", soc: null });
    expect(r.cpu).toEqual({
      arch: "x64",
      model: "12th Gen Intel(R) Core(TM) i5-1240P",
      logicalCpus: 16,
      cores: 12,
      performanceCores: 4,
      efficiencyCores: 8,
      features: ["sse4_2", "avx", "avx2", "fma", "f16c", "bmi2", "avxvnni"],
    });
    expect(r.profile).toMatchObject({ threads: 4, gpuPolicy: "none", osReserveBytes: 1 * GiB, memoryBudgetBytes: 32594884 * KiB - 1 * GiB });
    expect(r.profile.reasons.threads).toContain("8 efficiency cores are left out");
    expect(r.profile.gpio).toEqual({ led: null, button: null });
    // x86_pkg_temp's unset programmable trips read 0: they must not count as a 0 °C throttle point.
    expect(r.thermalZones.find((z) => z.type === "x86_pkg_temp")?.passiveTripMilliCelsius).toBeNull();
    expect(r.profile.throttle).toEqual({ signal: "thermal-zones", zones: ["x86_pkg_temp", "acpitz"], limitMilliCelsius: 95_000 });
    expect(saysOf(r, "/sys/devices/cpu_core/cpus")).toContain("0-7");
    expect(saysOf(r, "/sys/devices/cpu_atom/cpus")).toContain("8-15");
  });

  test("Ryzen 7 7840HS: AVX-512 family normalised, 8 cores / 16 threads → 8 threads", async () => {
    const r = await detect("x86-avx512");
    expect(r.kind).toBe("x86");
    expect(r.cpu).toMatchObject({ logicalCpus: 16, cores: 8, performanceCores: 8, efficiencyCores: 0 });
    expect(r.cpu.features).toEqual(["sse4_2", "avx", "avx2", "fma", "f16c", "bmi2", "avx512f", "avx512bw", "avx512vbmi", "avx512vnni", "avx512bf16"]);
    expect(r.profile.threads).toBe(8);
    expect(r.profile.throttle.zones).toEqual(["acpitz"]);
  });

  test("RTX 3060 box: x86-nvidia, fit-vram with VRAM from nvidia-smi", async () => {
    const calls: string[][] = [];
    const runner: CommandRunner = async (argv) => {
      calls.push([...argv]);
      return { exitCode: 0, stdout: "00000000:01:00.0, NVIDIA GeForce RTX 3060, 12288\n" };
    };
    const r = await detect("x86-nvidia", runner);
    expect(calls.map((c) => c[0])).toEqual(["nvidia-smi"]);
    expect(r).toMatchObject({ kind: "x86-nvidia", name: "Micro-Star International Co., Ltd. MS-7C56" });
    expect(r.gpus).toEqual([{ vendor: "nvidia", name: "NVIDIA GeForce RTX 3060", vramBytes: 12 * GiB, unifiedMemory: false }]);
    expect(r.storage).toMatchObject({ device: "/dev/sda2", medium: "scsi" });
    expect(r.profile).toMatchObject({
      gpuPolicy: "fit-vram",
      vramBudgetBytes: 12 * GiB - 512 * MiB,
      threads: 6,
      osReserveBytes: 1536 * MiB,
      memoryBudgetBytes: 32805012 * KiB - 1536 * MiB,
    });
    // This box exposes no thermal zones (AMD's k10temp is hwmon only): no throttle signal, and it says so.
    expect(r.profile.throttle.signal).toBe("none");
    expect(r.profile.reasons.throttle).toContain("exposes none of those thermal zones");
    expect(saysOf(r, "/proc/driver/nvidia/gpus/0000:01:00.0/information")).toBe("Model: NVIDIA GeForce RTX 3060");
    expect(r.evidence.some((e) => e.source.startsWith("nvidia-smi") && e.says.includes("12.0 GiB"))).toBe(true);
  });

  test("RTX 3060 box without nvidia-smi: still x86-nvidia, VRAM unknown and the fit is left to load time", async () => {
    const r = await detect("x86-nvidia", async () => ({ exitCode: 127, stdout: "" }));
    expect(r.kind).toBe("x86-nvidia");
    expect(r.gpus).toEqual([{ vendor: "nvidia", name: "NVIDIA GeForce RTX 3060", vramBytes: null, unifiedMemory: false }]);
    expect(r.profile.vramBudgetBytes).toBeNull();
    expect(r.profile.reasons.gpu).toContain("VRAM unknown");
    expect(r.notes.join(" ")).toContain("nvidia-smi did not answer");
  });
});
