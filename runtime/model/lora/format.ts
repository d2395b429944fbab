/**
 * The LoRA adapter GGUF that llama.cpp loads (src/llama-adapter.cpp, llama_adapter_lora_init_impl):
 * `general.type` "adapter", `general.architecture` equal to the base model's, `adapter.type` "lora",
 * `adapter.lora.alpha` (f32), and for each adapted matrix W (ggml ne = [n_in, n_out]) the pair
 * `<W>.lora_a` (ne = [n_in, r]) and `<W>.lora_b` (ne = [r, n_out]). llama.cpp then computes
 * W·x + scale · (alpha / r) · B·(A·x), where scale is the one the adapter is applied with.
 */
import type { GgufFileInfo } from "node-llama-cpp";
import { gv, type GgufMetadata } from "../gguf/index.ts";

export const LORA_A = ".lora_a";
export const LORA_B = ".lora_b";
export const KEYS = {
  generalType: "general.type",
  architecture: "general.architecture",
  adapterType: "adapter.type",
  alpha: "adapter.lora.alpha",
} as const;

export function loraMetadata(o: { architecture: string; name: string; alpha: number }): GgufMetadata {
  return [
    [KEYS.generalType, gv.string("adapter")],
    [KEYS.architecture, gv.string(o.architecture)],
    ["general.name", gv.string(o.name)],
    [KEYS.adapterType, gv.string("lora")],
    [KEYS.alpha, gv.f32(o.alpha)],
  ];
}

/** ggml shapes of the pair adapting a matrix of shape [n_in, n_out] (not token_embd, which is flipped). */
export function loraPairShapes(matrix: readonly number[], rank: number): { a: number[]; b: number[] } {
  return { a: [matrix[0]!, rank], b: [rank, matrix[1]!] };
}

/** Tensor name -> ggml shape, from a GGUF header read by node-llama-cpp. */
export function tensorShapes(info: GgufFileInfo): Map<string, number[]> {
  return new Map((info.fullTensorInfo ?? []).map((t) => [t.name, t.dimensions.map(Number)]));
}

/** A metadata value by its dotted GGUF key (node-llama-cpp nests them: general.type -> general.type). */
export function metadataValue(info: GgufFileInfo, key: string): unknown {
  let v: unknown = info.metadata;
  for (const part of key.split(".")) v = v != null && typeof v === "object" ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}
