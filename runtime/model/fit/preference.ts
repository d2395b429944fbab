/**
 * Which of several files of the same weights runs best on a target: a score from a short, ordered
 * list of rules. Each rule adds points and says why; the file with the most points among those
 * that fit wins (ties: the smaller need, then the path, so the choice is deterministic).
 *
 * Quality figures quoted below are llama.cpp's own, from llama-quantize's type table
 * (tools/quantize/quantize.cpp, perplexity increase over F16 on Llama-3-8B): Q2_K +3.52,
 * Q3_K_M +0.66, Q4_0 +0.47, Q4_K_M +0.18, Q5_K_M +0.06, Q6_K +0.02, Q8_0 +0.003.
 */
import { f16ConvertsInSoftware, type CpuView } from "./kernels.ts";
import type { MemoryEstimate } from "./estimate.ts";

export interface PreferenceInput {
  quantization: string;
  bitsPerWeight: number;
  estimate: Pick<MemoryEstimate, "gpuLayers" | "totalLayers" | "cpuBytesPerToken" | "q4ReferenceBytesPerToken" | "repack" | "repackLayouts">;
  cpu: CpuView;
}

export interface PreferenceRule {
  name: string;
  /** Points and a short explanation, or null when the rule does not apply to this file. */
  apply(c: PreferenceInput): { points: number; note: string } | null;
}

const allOnGpu = (c: PreferenceInput): boolean => c.estimate.totalLayers > 0 && c.estimate.gpuLayers === c.estimate.totalLayers;
/** Relative decode speed on the CPU: 100 = a Q4_0 file read entirely by the CPU. */
const cpuSpeed = (c: PreferenceInput): number =>
  Math.min(CPU_SPEED_CAP, (100 * c.estimate.q4ReferenceBytesPerToken) / Math.max(1, c.estimate.cpuBytesPerToken));
/** Below every all-GPU score, so a file that needs the CPU for some layers never outranks one that does not. */
const CPU_SPEED_CAP = 150;
const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

export const PREFERENCE_RULES: readonly PreferenceRule[] = [
  {
    // 1. Every layer in VRAM: decode runs at GPU memory bandwidth, fast at any of these sizes, so
    // spend the budget on bits (quality figures above). F32 counts as F16: no quality gain for
    // twice the memory. 200 puts any all-GPU file ahead of any file the CPU has to run.
    name: "gpu-precision",
    apply: (c) =>
      allOnGpu(c)
        ? {
            points: 200 + (100 * Math.min(c.bitsPerWeight, 16)) / 16,
            note: `all ${c.estimate.totalLayers} layers on the GPU: precision counts, ${c.bitsPerWeight.toFixed(1)} bits/weight`,
          }
        : null,
  },
  {
    // 2. CPU (or partly offloaded) decode reads every CPU-resident weight once per token and is
    // memory-bandwidth bound (llama.cpp's CPU tokens/s track memory bandwidth / model size), so
    // fewer bytes per token generate faster.
    name: "cpu-bandwidth",
    apply: (c) =>
      allOnGpu(c)
        ? null
        : {
            points: cpuSpeed(c),
            note: `CPU reads ${mb(c.estimate.cpuBytesPerToken)} MB/token (${c.bitsPerWeight.toFixed(1)} bits/weight)`,
          },
  },
  {
    // 3. Weights llama.cpp repacks for this CPU run interleaved kernels built on its int8 matmul
    // instructions: Q4_0 as q4_0_4x8 with ARM i8mm, q4_0_4x4 with dotprod, q4_0_8x8 with AVX2
    // (repack.cpp). That speeds prompt processing severalfold and decode somewhat, which makes
    // Q4_0 the fastest type there. Worth 25 points, scaled by the share of bytes repacked.
    name: "cpu-repacked-kernels",
    apply: (c) =>
      !allOnGpu(c) && c.estimate.repack > 0
        ? {
            points: 25 * Math.min(1, c.estimate.repack / Math.max(1, c.estimate.cpuBytesPerToken)),
            note: `llama.cpp repacks it as ${c.estimate.repackLayouts.join(", ")}`,
          }
        : null,
  },
  {
    // 4. F16 on x86 without F16C converts every weight through a lookup table (ggml-impl.h), on
    // top of being bandwidth-bound: count it at half speed.
    name: "f16-without-f16c",
    apply: (c) =>
      !allOnGpu(c) && c.quantization === "F16" && f16ConvertsInSoftware(c.cpu)
        ? { points: -cpuSpeed(c) / 2, note: "no F16C: F16 weights convert in software" }
        : null,
  },
  {
    // 5. Below 4 bits per weight quality falls off steeply (Q3_K_M +0.66, Q2_K +3.52 vs Q4_K_M
    // +0.18): such files lose to any 4-bit-or-better file that fits, on CPU and GPU alike.
    name: "quality-floor",
    apply: (c) => (c.bitsPerWeight < 4 ? { points: -50, note: `${c.bitsPerWeight.toFixed(1)} bits/weight is below the 4-bit quality floor` } : null),
  },
];

/** Sum of the rules' points (one decimal) and their notes, in rule order. */
export function preferenceScore(c: PreferenceInput): { score: number; notes: string[] } {
  let score = 0;
  const notes: string[] = [];
  for (const rule of PREFERENCE_RULES) {
    const r = rule.apply(c);
    if (!r) continue;
    score += r.points;
    notes.push(`${r.note} (${r.points >= 0 ? "+" : ""}${r.points.toFixed(1)})`);
  }
  return { score: Math.round(score * 10) / 10, notes };
}
