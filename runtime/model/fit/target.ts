/**
 * The hardware a model must fit: a memory budget, the CPU's architecture and features, and the
 * GPU if any. Kept independent of board detection: the board module will provide a
 * FitTargetSource; until then `thisMachineFitTarget` describes the machine we run on.
 */
import { readFileSync } from "node:fs";
import { totalmem } from "node:os";
import { Type, type Static } from "@sinclair/typebox";

export const FitTargetSchema = Type.Object(
  {
    memoryBudgetBytes: Type.Integer({ minimum: 0, description: "System RAM the model may use (weights on CPU, KV cache, buffers)" }),
    arch: Type.String({ description: "CPU architecture as Node names it: x64, arm64, ..." }),
    cpuFeatures: Type.Array(Type.String(), { description: "Normalized CPU features: avx2, avx512f, avx512vnni, neon, dotprod, i8mm, sve, f16c, fma, ..." }),
    gpu: Type.Union([
      Type.Null(),
      Type.Object(
        {
          vramBytes: Type.Integer({ minimum: 0, description: "Memory the GPU may use for the model" }),
          unifiedMemory: Type.Boolean({ description: "GPU allocations come out of system RAM (Jetson)" }),
          offload: Type.Union([Type.Literal("all"), Type.Literal("fit")], {
            description: "all: every layer on the GPU or the file does not fit; fit: as many layers as fit in VRAM",
          }),
        },
        { additionalProperties: false },
      ),
    ]),
  },
  { additionalProperties: false },
);

export type FitTarget = Static<typeof FitTargetSchema>;

/** Where the target comes from: the board module plugs in here; the default is this machine. */
export type FitTargetSource = () => FitTarget | Promise<FitTarget>;

/**
 * Memory kept back for the OS, the Hearth process itself (Bun, HTTP, SQLite) and page cache:
 * the larger of 512 MiB and a tenth of RAM.
 */
export function systemReserveBytes(totalBytes: number): number {
  return Math.max(512 * 2 ** 20, Math.round(totalBytes * 0.1));
}

/**
 * /proc/cpuinfo names → the normalized names FitTarget uses (the same as board/'s); only the
 * features inference kernels care about are kept.
 */
const FEATURE_NAMES: Record<string, string> = {
  // x86 "flags"
  sse4_2: "sse4_2",
  avx: "avx",
  avx2: "avx2",
  fma: "fma",
  f16c: "f16c",
  bmi2: "bmi2",
  avx_vnni: "avxvnni",
  avx512f: "avx512f",
  avx512bw: "avx512bw",
  avx512vbmi: "avx512vbmi",
  avx512_vnni: "avx512vnni",
  avx512_bf16: "avx512bf16",
  amx_tile: "amx_tile",
  amx_int8: "amx_int8",
  // arm64 "Features"
  asimd: "neon",
  asimddp: "dotprod",
  i8mm: "i8mm",
  sve: "sve",
  sve2: "sve2",
  sme: "sme",
};

/** Feature names from /proc/cpuinfo text: the first "flags" (x86) or "Features" (ARM) line. */
export function cpuFeaturesFromCpuinfo(cpuinfo: string): string[] {
  const line = cpuinfo.split("\n").find((l) => /^(flags|Features)\s*:/.test(l));
  if (!line) return [];
  const raw = line.slice(line.indexOf(":") + 1).trim().split(/\s+/);
  const names = raw.flatMap((f) => (FEATURE_NAMES[f] ? [FEATURE_NAMES[f]] : []));
  if (raw.includes("fphp") && raw.includes("asimdhp")) names.push("fp16"); // ARM FEAT_FP16 shows as both
  return [...new Set(names)].sort();
}

export interface MachineProbe {
  totalMemoryBytes: () => number;
  arch: string;
  cpuinfo: () => string;
}

const defaultProbe: MachineProbe = {
  totalMemoryBytes: totalmem,
  arch: process.arch,
  cpuinfo: () => {
    try {
      return readFileSync("/proc/cpuinfo", "utf8");
    } catch {
      return ""; // not Linux: no features known, which only makes the preference rules plainer
    }
  },
};

/** This machine, CPU only: total memory minus the system reserve. */
export function thisMachineFitTarget(probe: MachineProbe = defaultProbe): FitTarget {
  const total = probe.totalMemoryBytes();
  return {
    memoryBudgetBytes: Math.max(0, total - systemReserveBytes(total)),
    arch: probe.arch,
    cpuFeatures: cpuFeaturesFromCpuinfo(probe.cpuinfo()),
    gpu: null, // GPU detection belongs to the board module
  };
}
