import { describe, expect, test } from "bun:test";
import { predictCpuVariant } from "../../kernels/cpu-variants.ts";
import { selectKernel, type KernelHost } from "../../kernels/select.ts";
import type { KernelCatalog } from "../../kernels/catalog.ts";
import { scanCatalog } from "../../kernels/catalog.ts";

const everything: KernelCatalog = {
  prebuilt: new Set(["linux-x64", "linux-x64-cuda", "linux-x64-vulkan", "linux-arm64", "linux-armv7l"]),
  recipes: new Set(["jetson-cuda", "rpi5-a76"]),
};
const prebuiltOnly: KernelCatalog = { prebuilt: everything.prebuilt, recipes: new Set() };

const A76 = ["neon", "fp16", "dotprod"];
const HASWELL = ["sse4_2", "avx", "f16c", "fma", "avx2", "bmi2"];
const host = (h: Partial<KernelHost>): KernelHost => ({ boardKind: "x86", arch: "x64", cpuFeatures: HASWELL, gpus: [], ...h });

describe("CPU variant prediction mirrors ggml's variant table", () => {
  test.each([
    ["x64", [], "x64"],
    ["x64", HASWELL, "haswell"],
    ["x64", [...HASWELL, "avx512f", "avx512vbmi", "avx512vnni"], "icelake"],
    ["x64", [...HASWELL, "avxvnni"], "alderlake"],
    ["arm64", ["neon"], "armv8.0_1"],
    ["arm64", A76, "armv8.2_2"],
    ["arm64", [...A76, "sve", "i8mm"], "armv8.6_1"],
  ] as const)("%s %j → %s", (arch, features, variant) => {
    expect(predictCpuVariant(arch, features)?.variant).toBe(variant);
  });
  test("the next variant's missing features are named", () => {
    expect(predictCpuVariant("arm64", A76)?.missingForNext).toEqual(["sve"]);
    expect(predictCpuVariant("riscv64", [])).toBeNull();
  });
});

describe("kernel selection per board", () => {
  test("Jetson: the CUDA recipe when built, CPU with the reason when not, CPU fallback always", () => {
    const jetson = host({ boardKind: "jetson-orin-nano", arch: "arm64", cpuFeatures: A76, gpus: [{ vendor: "nvidia", name: "Orin", unifiedMemory: true }] });
    const built = selectKernel(jetson, everything, { allowGpu: true });
    expect(built).toMatchObject({ id: "recipe:jetson-cuda", backend: "cuda", recipe: "jetson-cuda" });
    expect(built.fallback).toMatchObject({ id: "prebuilt:linux-arm64", backend: "cpu", cpuVariant: "armv8.2_2" });
    const missing = selectKernel(jetson, prebuiltOnly, { allowGpu: true });
    expect(missing).toMatchObject({ id: "prebuilt:linux-arm64", backend: "cpu", fallback: null });
    expect(missing.reasons.join(" ")).toContain("jetson-cuda recipe was not built");
    expect(selectKernel(jetson, everything, { allowGpu: false }).reasons.join(" ")).toContain("GPU offload is off");
  });

  test("Raspberry Pi 5: the A76 recipe, else the armv8.2 prebuilt; Pi 4: plain arm64 prebuilt", () => {
    const pi5 = host({ boardKind: "rpi5", arch: "arm64", cpuFeatures: A76 });
    expect(selectKernel(pi5, everything, { allowGpu: true })).toMatchObject({ id: "recipe:rpi5-a76", backend: "cpu" });
    expect(selectKernel(pi5, prebuiltOnly, { allowGpu: true })).toMatchObject({ id: "prebuilt:linux-arm64", cpuVariant: "armv8.2_2" });
    const pi4 = host({ boardKind: "rpi4", arch: "arm64", cpuFeatures: ["neon"] });
    expect(selectKernel(pi4, everything, { allowGpu: true })).toMatchObject({ id: "prebuilt:linux-arm64", cpuVariant: "armv8.0_1" });
  });

  test("x86: CUDA prebuilt with an NVIDIA card, Vulkan for AMD, CPU otherwise", () => {
    const rtx = host({ gpus: [{ vendor: "nvidia", name: "RTX 4060", unifiedMemory: false }] });
    const cuda = selectKernel(rtx, everything, { allowGpu: true });
    expect(cuda).toMatchObject({ id: "prebuilt:linux-x64-cuda", backend: "cuda" });
    expect(cuda.fallback).toMatchObject({ id: "prebuilt:linux-x64", cpuVariant: "haswell" });
    const noCuda: KernelCatalog = { prebuilt: new Set(["linux-x64", "linux-x64-vulkan"]), recipes: new Set() };
    expect(selectKernel(rtx, noCuda, { allowGpu: true }).backend).toBe("vulkan");
    const radeon = host({ gpus: [{ vendor: "amd", name: "RX 7600", unifiedMemory: false }] });
    expect(selectKernel(radeon, everything, { allowGpu: true }).backend).toBe("vulkan");
    const intel = host({ gpus: [{ vendor: "intel", name: "UHD 770", unifiedMemory: true }] });
    expect(selectKernel(intel, everything, { allowGpu: true })).toMatchObject({ id: "prebuilt:linux-x64", backend: "cpu" });
    expect(selectKernel(rtx, everything, { allowGpu: false })).toMatchObject({ backend: "cpu" });
  });

  test("this machine's catalog has the x64 CPU prebuilt and no recipe builds", () => {
    const catalog = scanCatalog();
    expect(catalog.prebuilt.has("linux-x64")).toBe(true);
    expect(catalog.recipes.size).toBe(0);
  });
});
