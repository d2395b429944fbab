/**
 * Deterministic synthetic LoRA adapters for a base GGUF (tests, demos, OTA dry runs): same options
 * and base -> byte-identical file, written atomically. Shapes come from the base file's own
 * tensors, so any llama-architecture base works, not only synthesized ones.
 */
import { Type, type Static } from "@sinclair/typebox";
import { HearthError, isHearthError } from "../../errors.ts";
import { validate } from "../../validation.ts";
import { writeGgufAtomic } from "../atomic-write.ts";
import type { TensorSource } from "../gguf/index.ts";
import { readGguf } from "../info.ts";
import { WEIGHT_STD, normalRows } from "../weights.ts";
import { KEYS, LORA_A, LORA_B, loraMetadata, loraPairShapes, metadataValue, tensorShapes } from "./format.ts";

/** Matrices an adapter may target: per-layer ones (every `blk.N.<name>.weight`) and the output head. */
export const LORA_TARGETS = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down", "output"] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];
export const LORA_TYPES = ["f32", "f16"] as const;
export const SYNTH_LORA_DEFAULTS = { rank: 8, targets: ["attn_q", "attn_v"] as LoraTarget[], seed: 1, type: "f16" } as const;

/** Single source of truth for synth-lora options (the CLI validates against this too). */
export const SynthLoraOptionsSchema = Type.Object(
  {
    out: Type.String({ minLength: 1, description: "Path of the adapter .gguf to create (replaced if it exists)" }),
    base: Type.String({ minLength: 1, description: "The base model GGUF the adapter is for (its architecture and shapes)" }),
    rank: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, default: SYNTH_LORA_DEFAULTS.rank, description: "LoRA rank r" })),
    alpha: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 65536, description: "adapter.lora.alpha; llama.cpp scales by alpha / rank (default: rank)" }),
    ),
    targets: Type.Optional(
      Type.Array(Type.Union(LORA_TARGETS.map((t) => Type.Literal(t))), {
        minItems: 1,
        uniqueItems: true,
        default: SYNTH_LORA_DEFAULTS.targets,
        description: "Matrices to adapt, in every layer",
      }),
    ),
    seed: Type.Optional(
      Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: SYNTH_LORA_DEFAULTS.seed, description: "PRNG seed" }),
    ),
    type: Type.Optional(
      Type.Union(LORA_TYPES.map((t) => Type.Literal(t)), { default: SYNTH_LORA_DEFAULTS.type, description: "Tensor type of A and B" }),
    ),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "general.name" })),
  },
  { additionalProperties: false },
);
export type SynthLoraOptions = Static<typeof SynthLoraOptionsSchema>;

export interface SynthLoraResult {
  path: string;
  base: string;
  architecture: string;
  sizeBytes: number;
  sha256: string;
  rank: number;
  alpha: number;
  targets: LoraTarget[];
  /** Adapted matrices (one A/B pair each). */
  matrices: number;
  parameters: number;
  seed: number;
  type: (typeof LORA_TYPES)[number];
  name: string;
  durationMs: number;
}

/** Base tensors a target names, in the base file's order. */
function targetTensors(shapes: Map<string, number[]>, target: LoraTarget): [string, number[]][] {
  const re = target === "output" ? /^output\.weight$/ : new RegExp(`^blk\\.\\d+\\.${target}\\.weight$`);
  const found = [...shapes].filter(([name, shape]) => re.test(name) && shape.length === 2);
  if (found.length === 0) throw new HearthError("invalid_request", `targets: the base model has no ${target} matrix`, { field: "targets" });
  return found;
}

/**
 * A·x then has components of about the input's RMS, and the product B·A has the base weights'
 * std, so at scale 1 (alpha = rank) the adapter changes each targeted matrix by as much as its own
 * random values: enough to change greedy output, small enough to keep the steered toy language.
 */
function pairTensors(name: string, shape: number[], rank: number, type: TensorSource["type"], seed: number): TensorSource[] {
  const { a, b } = loraPairShapes(shape, rank);
  const nIn = shape[0]!;
  return [
    { name: `${name}${LORA_A}`, shape: a, type, values: () => normalRows(a, seed, `${name}${LORA_A}`, 1 / Math.sqrt(nIn)) },
    { name: `${name}${LORA_B}`, shape: b, type, values: () => normalRows(b, seed, `${name}${LORA_B}`, WEIGHT_STD * Math.sqrt(nIn / rank)) },
  ];
}

export async function synthesizeLora(options: SynthLoraOptions): Promise<SynthLoraResult> {
  const started = performance.now();
  const o = validate(SynthLoraOptionsSchema, options);
  const rank = o.rank ?? SYNTH_LORA_DEFAULTS.rank;
  const alpha = o.alpha ?? rank;
  const targets = o.targets ?? SYNTH_LORA_DEFAULTS.targets;
  const seed = o.seed ?? SYNTH_LORA_DEFAULTS.seed;
  const type = o.type ?? SYNTH_LORA_DEFAULTS.type;
  const name = o.name ?? `hearth-lora-r${rank}-s${seed}`;

  const base = await readGguf(o.base).catch((err: unknown) => {
    throw isHearthError(err) ? new HearthError(err.code, `base: ${err.message}`, { field: "base", cause: err }) : err;
  });
  const architecture = metadataValue(base.info, KEYS.architecture);
  if (typeof architecture !== "string") {
    throw new HearthError("gguf_invalid", `base: ${o.base} has no general.architecture`, { field: "base" });
  }
  const shapes = tensorShapes(base.info);
  const matrices = targets.flatMap((t) => targetTensors(shapes, t));
  const tensors = matrices.flatMap(([n, shape]) => pairTensors(n, shape, rank, type, seed));
  const written = await writeGgufAtomic(o.out, { metadata: loraMetadata({ architecture, name, alpha }), tensors });
  return {
    path: written.path,
    base: o.base,
    architecture,
    sizeBytes: written.sizeBytes,
    sha256: written.sha256,
    rank,
    alpha,
    targets,
    matrices: matrices.length,
    parameters: tensors.reduce((sum, t) => sum + t.shape.reduce((x, y) => x * y, 1), 0),
    seed,
    type,
    name,
    durationMs: Math.round(performance.now() - started),
  };
}
