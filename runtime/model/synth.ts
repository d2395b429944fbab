/**
 * Deterministic synthetic llama GGUF models for tests and demos (no model can be downloaded).
 * Same options -> byte-identical file. The file is written to a temp name beside `out`, fsynced,
 * then renamed, so an interrupted synth never leaves a partial file at `out`.
 */
import { Type, type Static } from "@sinclair/typebox";
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { validate } from "../validation.ts";
import { writeGguf } from "./gguf/index.ts";
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

  const out = resolve(o.out);
  await mkdir(dirname(out), { recursive: true });
  await removeStaleTemps(out);
  // Same directory as `out` so the final rename is atomic; unique so concurrent synths don't collide.
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const written = await writeGguf(tmp, {
      metadata: llamaMetadata({ name: o.name, type: o.type, dims, vocab }),
      tensors: llamaTensors(dims, vocab, o.type, o.seed),
    });
    await rename(tmp, out);
    await syncDir(dirname(out));
    return {
      path: out,
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
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Deletes temp files a killed synth of the same `out` left behind (their process is gone). */
async function removeStaleTemps(out: string): Promise<void> {
  const prefix = `.${basename(out)}.`;
  for (const f of await readdir(dirname(out))) {
    const pid = f.startsWith(prefix) && f.endsWith(".tmp") ? Number(f.slice(prefix.length).split(".")[0]) : NaN;
    if (Number.isInteger(pid) && pid > 0 && !isAlive(pid)) await rm(join(dirname(out), f), { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM"; // exists, owned by someone else
  }
}

/** Persists the rename itself; best effort (not every filesystem allows fsync on a directory). */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // ignore: the data itself was already fsynced
  }
}
