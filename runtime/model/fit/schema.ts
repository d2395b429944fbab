/**
 * Shapes of a fit decision: the options it was made for, and per candidate file what it needs
 * against the budget and how the preference rules scored it. `hearth model fit --json` prints a
 * FitDecision. Sizes of the estimate are MB = 10^6 bytes, rounded to 0.1.
 */
import { Type, type Static } from "@sinclair/typebox";
import { FitTargetSchema } from "./target.ts";

export const FitOptionsSchema = Type.Object(
  {
    contextSize: Type.Integer({ minimum: 1, description: "Context tokens per sequence" }),
    sequences: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: "Parallel sequences (slots); default 1" })),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, description: "Batch size; default node-llama-cpp's: min(context × sequences, 512)" })),
  },
  { additionalProperties: false },
);
export type FitOptions = Static<typeof FitOptionsSchema>;

const MB = (description: string) => Type.Number({ minimum: 0, description: `${description} (MB)` });

export const MemoryNeedSchema = Type.Object(
  {
    weights: MB("Weight tensors as stored in the file, CPU and GPU parts"),
    repack: MB("Interleaved copy llama.cpp makes of the CPU weights it repacks for this CPU"),
    kvCache: MB("KV cache for context × sequences (F16)"),
    compute: MB("Compute and output buffers (node-llama-cpp's graph estimate, without flash attention)"),
    margin: MB("Safety margin: 32 MiB fixed + 10% of the rest"),
    total: MB("Sum of the above"),
    ram: MB("Part of the total in system RAM (all of it with unified memory)"),
    vram: MB("Part of the total in GPU memory"),
  },
  { additionalProperties: false },
);

export const CandidateFitSchema = Type.Object(
  {
    file: Type.String(),
    quantization: Type.String({ description: "llama.cpp's file type name, e.g. Q4_0, Q4_K_M, F16" }),
    sizeBytes: Type.Integer({ minimum: 0 }),
    bitsPerWeight: Type.Number({ minimum: 0 }),
    contextSize: Type.Integer({ minimum: 1, description: "Context per sequence, capped at the model's training context" }),
    gpuLayers: Type.Integer({ minimum: 0 }),
    totalLayers: Type.Integer({ minimum: 0 }),
    repackLayouts: Type.Array(Type.String(), { description: "llama.cpp repack layouts used on this CPU, e.g. q4_0_4x8" }),
    needMB: MemoryNeedSchema,
    budgetMB: Type.Object({ ram: Type.Number(), vram: Type.Union([Type.Number(), Type.Null()]) }, { additionalProperties: false }),
    fits: Type.Boolean(),
    score: Type.Number({ description: "Hardware preference; higher is better (see PREFERENCE_RULES)" }),
    reason: Type.String(),
  },
  { additionalProperties: false },
);
export type CandidateFit = Static<typeof CandidateFitSchema>;

export const FitDecisionSchema = Type.Object(
  {
    chosen: Type.Union([Type.String(), Type.Null()], { description: "Path of the chosen file; null when nothing fits" }),
    quantization: Type.Union([Type.String(), Type.Null()]),
    reason: Type.String(),
    target: FitTargetSchema,
    options: Type.Object(
      { contextSize: Type.Integer(), sequences: Type.Integer(), batchSize: Type.Union([Type.Integer(), Type.Null()]) },
      { additionalProperties: false },
    ),
    candidates: Type.Array(CandidateFitSchema, { description: "Best first: fitting files by score, then the rest by need" }),
  },
  { additionalProperties: false },
);
export type FitDecision = Static<typeof FitDecisionSchema>;

/** Bytes → MB (10^6), one decimal. */
export const toMB = (bytes: number): number => Math.round(bytes / 1e5) / 10;
