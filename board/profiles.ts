import type { BoardKind, Cpu, Gpu, GpuPolicy, Profile, ThermalZone, ThrottleSpec } from "./schema.ts";
import { defaultThreads } from "./threads.ts";
import { statusPins } from "./gpio.ts";
import { bytesText, GiB, MiB } from "./units.ts";

/** One part of the memory kept back from the model, with why it is that size. */
interface Reserve {
  what: string;
  bytes: number;
  why: string;
}

// Estimates until calibration measures them on each board; each says where its number comes from.
const RUNTIME: Reserve = {
  what: "runtime",
  bytes: 256 * MiB,
  why: "Bun with the server and llama.cpp bindings loaded measured 82 MiB RSS without a model; 256 MiB covers request buffers, SQLite's cache and heap growth",
};
const PI_OS: Reserve = {
  what: "OS",
  bytes: 512 * MiB,
  why: "headless Raspberry Pi OS idles at 150-250 MiB; the rest keeps a page cache for binaries and logs",
};
const L4T_OS: Reserve = {
  what: "OS",
  bytes: 1 * GiB,
  why: "Jetson Linux is Ubuntu plus NVIDIA's daemons (nvargus, nvpmodel, fan control) and idles around 0.6-0.9 GiB headless",
};
const SERVER_OS: Reserve = {
  what: "OS",
  bytes: 768 * MiB,
  why: "a headless Debian/Ubuntu idles at 300-500 MiB; the rest keeps a page cache",
};
const JETSON_CUDA: Reserve = {
  what: "CUDA stack",
  bytes: 768 * MiB,
  why: "the CUDA driver, runtime and cuBLAS kernels live in the same RAM (unified memory), outside llama.cpp's model + KV estimate",
};
const CUDA_HOST: Reserve = {
  what: "CUDA stack",
  bytes: 512 * MiB,
  why: "the CUDA driver and runtime keep host-side state and pinned staging buffers in system RAM",
};
/** Kept out of VRAM: CUDA context + cuBLAS workspace (~300-400 MiB) and a console framebuffer. */
const VRAM_RESERVE = 512 * MiB;

interface KindPolicy {
  reserves: Reserve[];
  gpuPolicy: GpuPolicy;
  gpuWhy: string;
  /** Zone types to watch, in preference order; "all" watches whatever the board exposes. */
  throttle: { signal: ThrottleSpec["signal"]; zones: string[] | "all"; limitMilliCelsius: number | null; why: string };
}

const PI_THROTTLE: KindPolicy["throttle"] = {
  signal: "vcgencmd",
  zones: ["cpu-thermal"],
  limitMilliCelsius: 80_000,
  why: "the Pi's firmware, not the kernel, throttles: `vcgencmd get_throttled` (or its sysfs copy) reports under-voltage, capping and the soft temperature limit, which slows the ARM cores from 80 °C",
};
const ORIN_THROTTLE: KindPolicy["throttle"] = {
  signal: "thermal-zones",
  zones: ["cpu-thermal", "gpu-thermal", "tj-thermal"],
  limitMilliCelsius: 99_000,
  why: "Jetson Linux throttles CPU and GPU at the zones' passive 'sw-throttle' trip, 99 °C on Orin (shutdown at 104.5 °C); tj-thermal is the hottest junction",
};
const JETSON_GPU = "the integrated GPU shares the board's LPDDR (unified memory), so every layer on it costs no extra memory and no copies, and it outruns the CPU cores";
const CPU_ONLY_PI = "llama.cpp has no GPU backend for the Pi's VideoCore that beats its CPU";

const POLICIES: Record<BoardKind, KindPolicy> = {
  rpi5: { reserves: [PI_OS, RUNTIME], gpuPolicy: "none", gpuWhy: CPU_ONLY_PI, throttle: PI_THROTTLE },
  rpi4: { reserves: [PI_OS, RUNTIME], gpuPolicy: "none", gpuWhy: CPU_ONLY_PI, throttle: PI_THROTTLE },
  "jetson-orin-nano": { reserves: [L4T_OS, RUNTIME, JETSON_CUDA], gpuPolicy: "offload-all", gpuWhy: JETSON_GPU, throttle: ORIN_THROTTLE },
  "jetson-orin-nx": { reserves: [L4T_OS, RUNTIME, JETSON_CUDA], gpuPolicy: "offload-all", gpuWhy: JETSON_GPU, throttle: ORIN_THROTTLE },
  "jetson-agx-orin": { reserves: [L4T_OS, RUNTIME, JETSON_CUDA], gpuPolicy: "offload-all", gpuWhy: JETSON_GPU, throttle: ORIN_THROTTLE },
  "jetson-xavier": {
    reserves: [L4T_OS, RUNTIME, JETSON_CUDA],
    gpuPolicy: "offload-all",
    gpuWhy: JETSON_GPU,
    throttle: {
      signal: "thermal-zones",
      zones: ["CPU-therm", "GPU-therm", "cpu-thermal", "gpu-thermal"],
      limitMilliCelsius: 95_000,
      why: "Xavier's zones (CPU-therm/GPU-therm, renamed on newer kernels) carry their own passive trips; 95 °C is a conservative stand-in only where a zone states none",
    },
  },
  x86: {
    reserves: [SERVER_OS, RUNTIME],
    gpuPolicy: "none",
    gpuWhy: "no NVIDIA GPU found; an integrated GPU shares the CPU's memory bandwidth, which bounds token speed anyway",
    throttle: {
      signal: "thermal-zones",
      zones: ["x86_pkg_temp", "acpitz"],
      limitMilliCelsius: 95_000,
      why: "x86_pkg_temp is the CPU package sensor; x86 CPUs throttle themselves at TjMax (about 100 °C), so 95 °C warns first (AMD CPUs expose no zone: k10temp is hwmon only)",
    },
  },
  "x86-nvidia": {
    reserves: [SERVER_OS, RUNTIME, CUDA_HOST],
    gpuPolicy: "fit-vram",
    gpuWhy: "the discrete GPU has its own VRAM; as many layers as fit go there, the rest run on the CPU from system RAM",
    throttle: {
      signal: "thermal-zones",
      zones: ["x86_pkg_temp", "acpitz"],
      limitMilliCelsius: 95_000,
      why: "x86_pkg_temp is the CPU package sensor, throttling itself at TjMax (about 100 °C); the GPU throttles itself and reports through nvidia-smi",
    },
  },
  generic: {
    reserves: [SERVER_OS, RUNTIME],
    gpuPolicy: "none",
    gpuWhy: "on unknown hardware the CPU is the only compute that can be assumed",
    throttle: {
      signal: "thermal-zones",
      zones: "all",
      limitMilliCelsius: 85_000,
      why: "unknown board: every zone is watched, against its own passive trip or 85 °C, the top of the commercial range most SoCs are rated for",
    },
  },
};

export interface ProfileInput {
  kind: BoardKind;
  cpu: Cpu;
  memoryBytes: number | null;
  gpus: Gpu[];
  thermalZones: ThermalZone[];
  compatible: readonly string[];
}

function memoryPart(policy: KindPolicy, memoryBytes: number | null) {
  const osReserveBytes = policy.reserves.reduce((sum, r) => sum + r.bytes, 0);
  const parts = policy.reserves.map((r) => `${r.what} ${bytesText(r.bytes)}: ${r.why}`).join("; ");
  if (memoryBytes === null) return { osReserveBytes, memoryBudgetBytes: 0, why: `total memory unknown, so no budget is promised (reserve would be ${parts})` };
  const memoryBudgetBytes = Math.max(0, memoryBytes - osReserveBytes);
  return { osReserveBytes, memoryBudgetBytes, why: `${bytesText(memoryBytes)} total − ${bytesText(osReserveBytes)} reserve (${parts})` };
}

function gpuPart(policy: KindPolicy, gpus: Gpu[]) {
  if (policy.gpuPolicy !== "fit-vram") return { vramBudgetBytes: null, why: policy.gpuWhy };
  const vram = gpus.find((g) => g.vendor === "nvidia" && !g.unifiedMemory)?.vramBytes ?? null;
  if (vram === null) return { vramBudgetBytes: null, why: `${policy.gpuWhy}; VRAM unknown (nvidia-smi gave none), so fit measures free VRAM when loading` };
  const vramBudgetBytes = Math.max(0, vram - VRAM_RESERVE);
  return { vramBudgetBytes, why: `${policy.gpuWhy}; ${bytesText(vram)} VRAM − ${bytesText(VRAM_RESERVE)} for the CUDA context, cuBLAS workspace and console` };
}

function throttlePart(policy: KindPolicy, zones: ThermalZone[]): { spec: ThrottleSpec; why: string } {
  const present = zones.map((z) => z.type);
  const wanted = policy.throttle.zones === "all" ? present : policy.throttle.zones.filter((z) => present.includes(z));
  const { signal, limitMilliCelsius, why } = policy.throttle;
  if (signal === "thermal-zones" && wanted.length === 0) {
    return { spec: { signal: "none", zones: [], limitMilliCelsius: null }, why: `${why}; but this board exposes none of those thermal zones, so there is no throttle signal` };
  }
  return { spec: { signal, zones: wanted, limitMilliCelsius }, why };
}

/** The profile of a board kind, sized by what the board reported. */
export function buildProfile(input: ProfileInput): Profile {
  const policy = POLICIES[input.kind];
  const memory = memoryPart(policy, input.memoryBytes);
  const gpu = gpuPart(policy, input.gpus);
  const threads = defaultThreads(input.cpu);
  const throttle = throttlePart(policy, input.thermalZones);
  const pins = statusPins(input.kind, input.compatible);
  return {
    memoryBudgetBytes: memory.memoryBudgetBytes,
    osReserveBytes: memory.osReserveBytes,
    gpuPolicy: policy.gpuPolicy,
    vramBudgetBytes: gpu.vramBudgetBytes,
    threads: threads.threads,
    throttle: throttle.spec,
    gpio: { led: pins.led, button: pins.button },
    reasons: { memory: memory.why, gpu: gpu.why, threads: threads.why, throttle: throttle.why, gpio: pins.why },
  };
}

