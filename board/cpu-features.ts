import { CPU_FEATURES, type CpuFeature } from "./schema.ts";

/** x86 /proc/cpuinfo "flags" names → normalised names (only the ones kernels care about). */
const X86_FLAGS: Record<string, CpuFeature> = {
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
};

/** arm64 "Features" names → normalised names; fp16 needs two of them (see below). */
const ARM64_FEATURES: Record<string, CpuFeature> = {
  asimd: "neon",
  asimddp: "dotprod",
  i8mm: "i8mm",
  sve: "sve",
  sve2: "sve2",
  sme: "sme",
};

function inCanonicalOrder(found: Set<CpuFeature>): CpuFeature[] {
  return CPU_FEATURES.filter((f) => found.has(f));
}

export function normaliseX86Flags(flags: readonly string[]): CpuFeature[] {
  return inCanonicalOrder(new Set(flags.flatMap((f) => (X86_FLAGS[f] ? [X86_FLAGS[f]] : []))));
}

export function normaliseArmFeatures(features: readonly string[], arch: "arm64" | "arm"): CpuFeature[] {
  const have = new Set(features);
  if (arch === "arm") return have.has("neon") ? ["neon"] : [];
  const found = new Set(features.flatMap((f) => (ARM64_FEATURES[f] ? [ARM64_FEATURES[f]] : [])));
  // FEAT_FP16 shows as fphp (scalar) + asimdhp (vector); llama.cpp's fp16 kernels need the vector half.
  if (have.has("fphp") && have.has("asimdhp")) found.add("fp16");
  return inCanonicalOrder(found);
}
