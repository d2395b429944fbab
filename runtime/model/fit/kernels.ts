/**
 * What llama.cpp's CPU backend does with each weight type on a given CPU, as far as choosing a
 * file is concerned: which types it repacks into interleaved layouts (faster matmul kernels, and
 * an extra copy of those weights in memory), and whether F16 weights convert in hardware.
 *
 * Source: ggml/src/ggml-cpu/repack.cpp, ggml_repack_get_optimal_repack_type(), in the llama.cpp
 * that node-llama-cpp 3.22.1 ships (its prebuilt libggml-cpu-*.so hold the q4_0_8x8, q4_0_4x8,
 * q4_0_4x4, q4_K_8x8/8x4, q5_K/q6_K, q8_0_4x4/4x8, iq4_nl, q2_K_8x8 layouts). A repacked tensor
 * lives in a CPU_REPACK buffer next to the mmapped file, so llama.cpp reports (and the process
 * maps) both: measured with the 20m synthetic model on an AVX2 host, Q4_0 weights of 10.8 MiB
 * load as 18.2 MiB, exactly the file plus the blk.* matrices (token_embd and output stay mapped).
 */
import { GgmlType } from "node-llama-cpp";

export interface CpuView {
  arch: string;
  cpuFeatures: readonly string[];
}

export interface RepackLayout {
  /** llama.cpp's name for the interleaved layout, e.g. "q4_0_4x8". */
  layout: string;
  /** The CPU feature the layout's kernels are built on, e.g. "i8mm". */
  feature: string;
}

const has = (cpu: CpuView, feature: string): boolean => cpu.cpuFeatures.includes(feature);
// AArch64 makes Advanced SIMD mandatory, so "neon" is implied there even when a list omits it.
const neon = (cpu: CpuView): boolean => cpu.arch === "arm64" || has(cpu, "neon");
const x86 = (cpu: CpuView): boolean => cpu.arch === "x64" || cpu.arch === "ia32";

type Rule = { when: (cpu: CpuView) => boolean; layout: string; feature: string };

/** Per ggml type, the repack choices in llama.cpp's order of preference (first match wins). */
const REPACK_RULES = new Map<number, Rule[]>([
  [
    GgmlType.Q4_0,
    [
      { when: (c) => x86(c) && has(c, "avx2"), layout: "q4_0_8x8", feature: "avx2" },
      { when: (c) => neon(c) && has(c, "i8mm"), layout: "q4_0_4x8", feature: "i8mm" },
      { when: (c) => neon(c) && has(c, "dotprod"), layout: "q4_0_4x4", feature: "dotprod" },
    ],
  ],
  [
    GgmlType.Q4_K,
    [
      { when: (c) => x86(c) && has(c, "avx2"), layout: "q4_K_8x8", feature: "avx2" },
      { when: (c) => neon(c) && has(c, "i8mm"), layout: "q4_K_8x8", feature: "i8mm" },
      { when: (c) => neon(c) && has(c, "dotprod"), layout: "q4_K_8x4", feature: "dotprod" },
    ],
  ],
  // Q5_K/Q6_K layouts exist in the 3.22.1 binaries; their conditions are taken to be Q4_K's.
  // If that over-claims, the memory estimate errs high, which is the safe side.
  ...[GgmlType.Q5_K, GgmlType.Q6_K].map((type): [number, Rule[]] => {
    const n = type === GgmlType.Q5_K ? "q5_K" : "q6_K";
    return [
      type,
      [
        { when: (c) => x86(c) && has(c, "avx2"), layout: `${n}_8x8`, feature: "avx2" },
        { when: (c) => neon(c) && has(c, "i8mm"), layout: `${n}_8x8`, feature: "i8mm" },
        { when: (c) => neon(c) && has(c, "dotprod"), layout: `${n}_8x4`, feature: "dotprod" },
      ],
    ];
  }),
  [
    GgmlType.IQ4_NL,
    [
      { when: (c) => x86(c) && has(c, "avx2"), layout: "iq4_nl_8x8", feature: "avx2" },
      { when: (c) => neon(c) && has(c, "dotprod"), layout: "iq4_nl_4x4", feature: "dotprod" },
    ],
  ],
  // ARM only: x86 has no Q8_0 repack kernels (measured: Q8_0 loads at file size on this AVX2 host).
  [
    GgmlType.Q8_0,
    [
      { when: (c) => neon(c) && has(c, "i8mm"), layout: "q8_0_4x8", feature: "i8mm" },
      { when: (c) => neon(c) && has(c, "dotprod"), layout: "q8_0_4x4", feature: "dotprod" },
    ],
  ],
  [GgmlType.Q2_K, [{ when: (c) => x86(c) && has(c, "avx512f"), layout: "q2_K_8x8", feature: "avx512f" }]],
]);

/** The interleaved layout llama.cpp repacks `ggmlType` into on this CPU, or null. */
export function repackLayout(ggmlType: number, cpu: CpuView): RepackLayout | null {
  const rule = REPACK_RULES.get(ggmlType)?.find((r) => r.when(cpu));
  return rule ? { layout: rule.layout, feature: rule.feature } : null;
}

/**
 * Only matrices inside the repeating blocks are repacked (matmul weights; the token embedding is
 * read with get_rows, and the output matrix stayed in the mapped buffer in the measurement above).
 */
export function isRepackCandidate(tensorName: string, dimensions: number): boolean {
  return tensorName.startsWith("blk.") && dimensions >= 2;
}

/**
 * F16 weights on x86 without F16C convert through a lookup table instead of one instruction
 * (ggml-impl.h, GGML_CPU_FP16_TO_FP32), which makes F16 matmuls markedly slower.
 */
export function f16ConvertsInSoftware(cpu: CpuView): boolean {
  return x86(cpu) && !has(cpu, "f16c");
}
