/**
 * The CPU builds node-llama-cpp's prebuilt binaries carry, with the features each needs. Mirrors
 * ggml's GGML_CPU_ALL_VARIANTS (ggml/src/CMakeLists.txt of the llama.cpp release node-llama-cpp
 * ships); at load ggml scores them and takes the best one the CPU supports, as predicted here.
 * Feature names are the board module's normalised ones.
 */
export interface CpuVariant {
  name: string;
  requires: readonly string[];
}

export const X64_VARIANTS: readonly CpuVariant[] = [
  { name: "x64", requires: [] },
  { name: "sse42", requires: ["sse4_2"] },
  { name: "sandybridge", requires: ["sse4_2", "avx"] },
  { name: "ivybridge", requires: ["sse4_2", "avx", "f16c"] },
  { name: "piledriver", requires: ["sse4_2", "avx", "f16c", "fma"] },
  { name: "haswell", requires: ["sse4_2", "avx", "f16c", "fma", "avx2", "bmi2"] },
  { name: "skylakex", requires: ["sse4_2", "avx", "f16c", "fma", "avx2", "bmi2", "avx512f"] },
  { name: "cannonlake", requires: ["sse4_2", "avx", "f16c", "fma", "avx2", "bmi2", "avx512f", "avx512vbmi"] },
  { name: "cascadelake", requires: ["sse4_2", "avx", "f16c", "fma", "avx2", "bmi2", "avx512f", "avx512vnni"] },
  { name: "icelake", requires: ["sse4_2", "avx", "f16c", "fma", "avx2", "bmi2", "avx512f", "avx512vbmi", "avx512vnni"] },
  { name: "cooperlake", requires: ["sse4_2", "avx", "f16c", "fma", "avx2", "bmi2", "avx512f", "avx512vnni", "avx512bf16"] },
  { name: "zen4", requires: ["sse4_2", "avx", "f16c", "fma", "avx2", "bmi2", "avx512f", "avx512vbmi", "avx512vnni", "avx512bf16"] },
  { name: "alderlake", requires: ["sse4_2", "avx", "f16c", "fma", "avx2", "bmi2", "avxvnni"] },
  {
    name: "sapphirerapids",
    requires: ["sse4_2", "avx", "f16c", "fma", "avx2", "bmi2", "avx512f", "avx512vbmi", "avx512vnni", "avx512bf16", "amx_tile", "amx_int8"],
  },
];

export const ARM64_VARIANTS: readonly CpuVariant[] = [
  { name: "armv8.0_1", requires: [] },
  { name: "armv8.2_1", requires: ["dotprod"] },
  { name: "armv8.2_2", requires: ["dotprod", "fp16"] },
  { name: "armv8.2_3", requires: ["dotprod", "fp16", "sve"] },
  { name: "armv8.6_1", requires: ["dotprod", "fp16", "sve", "i8mm"] },
  { name: "armv8.6_2", requires: ["dotprod", "fp16", "sve", "i8mm", "sve2"] },
  { name: "armv9.2_1", requires: ["dotprod", "fp16", "sve", "i8mm", "sme"] },
  { name: "armv9.2_2", requires: ["dotprod", "fp16", "sve", "i8mm", "sve2", "sme"] },
];

/** The variant ggml will pick: the one needing the most features, all of which the CPU has. */
export function predictCpuVariant(arch: string, features: readonly string[]): { variant: string; missingForNext: string[] } | null {
  const table = arch === "x64" ? X64_VARIANTS : arch === "arm64" ? ARM64_VARIANTS : null;
  if (!table) return null;
  const have = new Set(features);
  const usable = table.filter((v) => v.requires.every((f) => have.has(f)));
  const best = usable.reduce((a, b) => (b.requires.length > a.requires.length ? b : a), table[0]!);
  const next = table.filter((v) => v.requires.length > best.requires.length).sort((a, b) => a.requires.length - b.requires.length)[0];
  return { variant: best.name, missingForNext: next ? next.requires.filter((f) => !have.has(f)) : [] };
}
