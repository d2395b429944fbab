/**
 * Llama shapes for the synthetic model presets, and the parameter count they imply.
 * Dims are multiples of 32 so every 2-D tensor's rows split into whole q8_0/q4_0 blocks,
 * and every preset uses grouped-query attention (n_head_kv < n_head) like current llamas.
 */

export interface LlamaDims {
  vocabSize: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  contextLength: number;
  ropeFreqBase: number;
  rmsEps: number;
}

export const PRESET_NAMES = ["tiny", "20m", "100m"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export const PRESETS: Record<PresetName, LlamaDims> = {
  // ~0.36M params: loads and generates in milliseconds; the default for tests.
  tiny: { vocabSize: 2048, nEmbd: 64, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 192, contextLength: 2048, ropeFreqBase: 10000, rmsEps: 1e-5 },
  // ~20.1M params.
  "20m": { vocabSize: 8192, nEmbd: 384, nLayer: 8, nHead: 6, nHeadKv: 2, nFf: 1152, contextLength: 2048, ropeFreqBase: 10000, rmsEps: 1e-5 },
  // ~99.5M params.
  "100m": { vocabSize: 32000, nEmbd: 768, nLayer: 8, nHead: 12, nHeadKv: 4, nFf: 2048, contextLength: 4096, ropeFreqBase: 10000, rmsEps: 1e-5 },
};

export const headDim = (d: LlamaDims): number => d.nEmbd / d.nHead;

/** Tensor names and ggml shapes ([row length, rows]) of a llama model, in file order. */
export function llamaTensorShapes(d: LlamaDims): { name: string; shape: number[]; norm: boolean }[] {
  const kvDim = headDim(d) * d.nHeadKv;
  const out = [{ name: "token_embd.weight", shape: [d.nEmbd, d.vocabSize], norm: false }];
  for (let i = 0; i < d.nLayer; i++) {
    const p = `blk.${i}.`;
    out.push(
      { name: `${p}attn_norm.weight`, shape: [d.nEmbd], norm: true },
      { name: `${p}attn_q.weight`, shape: [d.nEmbd, d.nEmbd], norm: false },
      { name: `${p}attn_k.weight`, shape: [d.nEmbd, kvDim], norm: false },
      { name: `${p}attn_v.weight`, shape: [d.nEmbd, kvDim], norm: false },
      { name: `${p}attn_output.weight`, shape: [d.nEmbd, d.nEmbd], norm: false },
      { name: `${p}ffn_norm.weight`, shape: [d.nEmbd], norm: true },
      { name: `${p}ffn_gate.weight`, shape: [d.nEmbd, d.nFf], norm: false },
      { name: `${p}ffn_up.weight`, shape: [d.nEmbd, d.nFf], norm: false },
      { name: `${p}ffn_down.weight`, shape: [d.nFf, d.nEmbd], norm: false },
    );
  }
  out.push(
    { name: "output_norm.weight", shape: [d.nEmbd], norm: true },
    { name: "output.weight", shape: [d.nEmbd, d.vocabSize], norm: false },
  );
  return out;
}

/** Total parameters (sum of tensor element counts), as llama.cpp reports them. */
export function parameterCount(d: LlamaDims): number {
  return llamaTensorShapes(d).reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
}

/** Throws if the dims cannot form a valid llama model. */
export function checkDims(d: LlamaDims): void {
  if (d.nEmbd % d.nHead !== 0) throw new Error("n_embd must be divisible by n_head");
  if (d.nHead % d.nHeadKv !== 0) throw new Error("n_head must be divisible by n_head_kv");
  if (d.nEmbd % 32 !== 0 || d.nFf % 32 !== 0) throw new Error("n_embd and n_ff must be multiples of 32");
}
