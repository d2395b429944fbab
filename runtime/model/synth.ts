/**
 * Deterministic synthetic llama GGUF models for tests and demos (no model can be downloaded).
 * Same options -> byte-identical file, written atomically (atomic-write.ts), so an interrupted
 * synth never leaves a partial file at `out`.
 */
import { Type, type Static } from "@sinclair/typebox";
import { validate } from "../validation.ts";
import { writeGgufAtomic } from "./atomic-write.ts";
import { llamaMetadata } from "./llama-metadata.ts";
import { checkDims, parameterCount, PRESET_NAMES, PRESETS, type LlamaDims, type PresetName } from "./presets.ts";
import { buildVocab } from "./vocab.ts";
import { llamaTensors } from "./weights.ts";

export const TENSOR_TYPES = ["f32", "f16", "q8_0", "q4_0"] as const;
export const SYNTH_DEFAULTS = { params: "tiny", type: "f16", seed: 1 } as const;

/** Single source of truth for synth options (the CLI validates against this too). */
export const SynthOptionsSchema = Type.Object(
  {
    out: Type.String({ minLength: 1, description: "Path of the .gguf file to create (replaced if it exists)" }),
    params: Type.Optional(
      Type.Union(PRESET_NAMES.map((p) => Type.Literal(p)), { default: SYNTH_DEFAULTS.params, description: "Size preset" }),
    ),
    type: Type.Optional(
      Type.Union(TENSOR_TYPES.map((t) => Type.Literal(t)), { default: SYNTH_DEFAULTS.type, description: "Weight tensor type" }),
    ),
    seed: Type.Optional(
      Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: SYNTH_DEFAULTS.seed, description: "PRNG seed" }),
    ),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "general.name" })),
    contextLength: Type.Optional(
      Type.Integer({ minimum: 64, maximum: 1 << 20, description: "llama.context_length (default: the preset's)" }),
    ),
  },
  { additionalProperties: false },
);
export type SynthOptions = Static<typeof SynthOptionsSchema>;

export interface SynthResult {
  path: string;
  sizeBytes: number;
  parameters: number;
  sha256: string;
  params: PresetName;
  type: (typeof TENSOR_TYPES)[number];
  seed: number;
  name: string;
  dims: LlamaDims;
  durationMs: number;
}

/** Validated options with their defaults filled in. */
function withDefaults(options: unknown): Required<Omit<SynthOptions, "contextLength">> & Pick<SynthOptions, "contextLength"> {
  const opts = validate(SynthOptionsSchema, options);
  const params = opts.params ?? SYNTH_DEFAULTS.params;
  const type = opts.type ?? SYNTH_DEFAULTS.type;
  const seed = opts.seed ?? SYNTH_DEFAULTS.seed;
  const name = opts.name ?? `hearth-synth-${params}-${type}-s${seed}`;
  return { out: opts.out, params, type, seed, name, contextLength: opts.contextLength };
}

export async function synthesizeModel(options: SynthOptions): Promise<SynthResult> {
  const started = performance.now();
  const o = withDefaults(options);
  const dims: LlamaDims = { ...PRESETS[o.params], ...(o.contextLength ? { contextLength: o.contextLength } : {}) };
  checkDims(dims);
  const vocab = buildVocab(dims.vocabSize);

  const written = await writeGgufAtomic(o.out, {
    metadata: llamaMetadata({ name: o.name, type: o.type, dims, vocab }),
    tensors: llamaTensors(dims, vocab, o.type, o.seed),
  });
  return {
    path: written.path,
    sizeBytes: written.sizeBytes,
    parameters: parameterCount(dims),
    sha256: written.sha256,
    params: o.params,
    type: o.type,
    seed: o.seed,
    name: o.name,
    dims,
    durationMs: Math.round(performance.now() - started),
  };
}
