/**
 * Memory one model file needs on a target, from node-llama-cpp's own estimators (GgufInsights):
 * weight tensors split between CPU and GPU by layer, and the context (KV cache + compute buffers)
 * for the configured context × sequences. Added here, because node-llama-cpp cannot know them:
 * the copy llama.cpp makes of weights it repacks for the target's CPU, and a margin.
 *
 * The arithmetic estimators are used on purpose rather than the *V2 ones: V2 simulates a load on
 * this machine's backend, and the target may be another board (or a GPU this machine lacks).
 */
import { GgmlType, type GgufInsights } from "node-llama-cpp";
import { GGML_TYPE_SIZES } from "../gguf/type-sizes.ts";
import { isRepackCandidate, repackLayout } from "./kernels.ts";
import type { FitTarget } from "./target.ts";

/**
 * Margin, fixed part: memory a load costs beyond llama.cpp's own buffers (vocab tables, metadata
 * parsed in JS, thread pools); loading the synthetic models measured 12-33 MB of extra RSS.
 */
export const MARGIN_FIXED_BYTES = 32 * 2 ** 20;
/** Margin, proportional part: error of the estimators and allocator slack. */
export const MARGIN_FRACTION = 0.1;

export interface ContextShape {
  contextSize: number;
  sequences: number;
  batchSize: number | undefined;
}

export interface MemoryEstimate {
  gpuLayers: number;
  totalLayers: number;
  /** Per sequence, capped at the training context like the engine does. */
  contextSize: number;
  weights: number;
  repack: number;
  repackLayouts: string[];
  kvCache: number;
  compute: number;
  margin: number;
  total: number;
  ram: number;
  vram: number;
  /** Weight bytes the CPU reads for each generated token (decode speed on CPU scales with 1/this). */
  cpuBytesPerToken: number;
  /** The same weights at Q4_0's 4.5 bits, all read by the CPU: the speed yardstick. */
  q4ReferenceBytesPerToken: number;
}

interface TensorView {
  name: string;
  elements: number;
  bytes: number;
  ggmlType: number;
  layer: number | null;
  dims: number;
}

function tensors(insights: GgufInsights): TensorView[] {
  return (insights.ggufFileInfo.fullTensorInfo ?? []).map((t) => {
    const elements = t.dimensions.reduce<number>((a, d) => a * Number(d), 1);
    const g = GGML_TYPE_SIZES.get(t.ggmlType);
    const layer = /^blk\.(\d+)\./.exec(t.name)?.[1];
    return {
      name: t.name,
      elements,
      bytes: g ? (elements / g.elements) * g.bytes : 0,
      ggmlType: t.ggmlType,
      layer: layer === undefined ? null : Number(layer),
      dims: t.dimensions.length,
    };
  });
}

/** Repeating layers llama.cpp keeps on the CPU: it offloads from i_gpu_start = n_layer + 1 - n_gpu_layers. */
const onCpu = (layer: number, fileLayers: number, gpuLayers: number): boolean => gpuLayers === 0 || layer < fileLayers + 1 - gpuLayers;

function cpuRepack(all: TensorView[], target: FitTarget, fileLayers: number, gpuLayers: number) {
  let bytes = 0;
  const layouts = new Set<string>();
  for (const t of all) {
    if (t.layer === null || !isRepackCandidate(t.name, t.dims) || !onCpu(t.layer, fileLayers, gpuLayers)) continue;
    const layout = repackLayout(t.ggmlType, target);
    if (!layout) continue;
    bytes += t.bytes;
    layouts.add(`${layout.layout} (${layout.feature})`);
  }
  return { bytes, layouts: [...layouts].sort() };
}

function estimateAt(insights: GgufInsights, target: FitTarget, shape: ContextShape, gpuLayers: number): MemoryEstimate {
  const all = tensors(insights);
  const totalLayers = insights.totalLayers;
  const fileLayers = totalLayers - 1; // totalLayers counts the output layer
  const contextSize = Math.min(shape.contextSize, insights.trainContextSize ?? shape.contextSize);

  const model = insights.estimateModelResourceRequirements({ gpuLayers });
  const context = (kvType: GgmlType) =>
    insights.estimateContextResourceRequirements({
      contextSize,
      modelGpuLayers: gpuLayers,
      sequences: shape.sequences,
      batchSize: shape.batchSize,
      flashAttention: false, // the larger of the two estimates; the engine lets llama.cpp decide
      kvCacheKeyType: kvType,
      kvCacheValueType: kvType,
    });
  const f16 = context(GgmlType.F16);
  // The estimate is linear in the KV element size and F32 is twice F16, so the difference of the
  // two estimates is exactly the F16 KV cache; the rest of the context estimate is compute buffers.
  const f32 = context(GgmlType.F32);
  const kvCpu = f32.cpuRam - f16.cpuRam;
  const kvGpu = f32.gpuVram - f16.gpuVram;
  const repack = cpuRepack(all, target, fileLayers, gpuLayers);

  const cpu = model.cpuRam + repack.bytes + f16.cpuRam;
  const gpu = model.gpuVram + f16.gpuVram;
  const marginCpu = MARGIN_FIXED_BYTES + MARGIN_FRACTION * cpu;
  const marginGpu = MARGIN_FRACTION * gpu;
  const unified = target.gpu?.unifiedMemory === true;

  // Per token the CPU reads its share of the matrices; of the token embedding only one row, unless
  // the embedding doubles as the output matrix (no output.weight) and the output runs on the CPU.
  const embedding = all.find((t) => t.name === "token_embd.weight");
  const tiedOutput = !all.some((t) => t.name === "output.weight");
  const embeddingBytes = embedding && !(tiedOutput && gpuLayers === 0) ? embedding.bytes : 0;
  const readParams = insights.totalParameters - (embedding && !tiedOutput ? embedding.elements : 0);

  return {
    gpuLayers,
    totalLayers,
    contextSize,
    weights: model.cpuRam + model.gpuVram,
    repack: repack.bytes,
    repackLayouts: repack.layouts,
    kvCache: kvCpu + kvGpu,
    compute: f16.cpuRam - kvCpu + (f16.gpuVram - kvGpu),
    margin: marginCpu + marginGpu,
    total: cpu + gpu + marginCpu + marginGpu,
    ram: cpu + marginCpu + (unified ? gpu + marginGpu : 0),
    vram: gpu > 0 ? gpu + marginGpu : 0,
    cpuBytesPerToken: Math.max(0, model.cpuRam - embeddingBytes),
    q4ReferenceBytesPerToken: (readParams * 4.5) / 8,
  };
}

/**
 * The estimate at the GPU layer count the target implies: none without a GPU, all of them for
 * offload "all", and for "fit" the most layers whose VRAM need fits (llama.cpp's own fitting
 * works the same way, by layers).
 */
export function estimateMemory(insights: GgufInsights, target: FitTarget, shape: ContextShape): MemoryEstimate {
  const gpu = target.gpu;
  if (!gpu) return estimateAt(insights, target, shape, 0);
  if (gpu.offload === "all") return estimateAt(insights, target, shape, insights.totalLayers);
  for (let layers = insights.totalLayers; layers > 0; layers--) {
    const e = estimateAt(insights, target, shape, layers);
    if (e.vram <= gpu.vramBytes) return e;
  }
  return estimateAt(insights, target, shape, 0);
}

/** Why an estimate exceeds the target, or null when it fits. */
export function overBudget(e: MemoryEstimate, target: FitTarget): { what: "RAM" | "VRAM"; need: number; budget: number } | null {
  if (e.ram > target.memoryBudgetBytes) return { what: "RAM", need: e.ram, budget: target.memoryBudgetBytes };
  if (target.gpu && e.vram > target.gpu.vramBytes) return { what: "VRAM", need: e.vram, budget: target.gpu.vramBytes };
  return null;
}
