import type { Command } from "../command.ts";
import { JSON_OPTION } from "../command.ts";
import { intFlag } from "../run.ts";
import { HearthError } from "../../errors.ts";
import { validate } from "../../validation.ts";

/** Options both synth commands take. */
const SYNTH_OPTIONS: Command["options"] = {
  seed: { type: "string", value: "N", description: "Random seed (default 1)" },
  name: { type: "string", value: "NAME", description: "general.name in the file" },
  ...JSON_OPTION,
};

/** The flags that were given, so the schema's defaults apply to the rest. */
const given = (values: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(values).filter(([, x]) => x !== undefined));

export const modelSynthCommand: Command = {
  path: ["model", "synth"],
  summary: "Write a llama-architecture GGUF with random weights (deterministic by seed) for tests and demos",
  options: {
    out: { type: "string", value: "FILE", description: "Where to write the GGUF" },
    params: { type: "string", value: "SIZE", description: "tiny | 20m | 100m (default tiny)" },
    type: { type: "string", value: "TYPE", description: "f32 | f16 | q8_0 | q4_0" },
    ...SYNTH_OPTIONS,
  },
  async run(ctx) {
    const v = ctx.values;
    const raw = given({ out: v.out, params: v.params, type: v.type, seed: intFlag(v, "seed"), name: v.name });
    const { SynthOptionsSchema, synthesizeModel } = await import("../../model/synth.ts");
    const opts = validate(SynthOptionsSchema, raw);
    const result = await synthesizeModel(opts);
    if (v.json) ctx.io.out(JSON.stringify(result));
    else ctx.io.out(`Wrote ${result.path} (${(result.sizeBytes / 1e6).toFixed(1)} MB, ${result.parameters} parameters, sha256 ${result.sha256})`);
    return 0;
  },
};

/** A decimal flag; anything else is passed on as given, so validation reports the real value. */
function numberFlag(raw: string | boolean | undefined): number | string | undefined {
  if (typeof raw !== "string") return undefined;
  const n = Number(raw);
  return raw.trim() !== "" && Number.isFinite(n) ? n : raw;
}

export const modelSynthLoraCommand: Command = {
  path: ["model", "synth-lora"],
  summary: "Write a LoRA adapter GGUF with random weights for a base model (deterministic by seed) for tests and demos",
  options: {
    base: { type: "string", value: "FILE", description: "The base model GGUF the adapter is for" },
    out: { type: "string", value: "FILE", description: "Where to write the adapter GGUF" },
    rank: { type: "string", value: "N", description: "LoRA rank (default 8)" },
    alpha: { type: "string", value: "X", description: "adapter.lora.alpha; llama.cpp scales by alpha / rank (default: the rank)" },
    targets: { type: "string", value: "LIST", description: "Comma-separated matrices to adapt (default attn_q,attn_v)" },
    type: { type: "string", value: "TYPE", description: "f32 | f16 (default f16)" },
    ...SYNTH_OPTIONS,
  },
  async run(ctx) {
    const v = ctx.values;
    const targets = typeof v.targets === "string" ? v.targets.split(",").map((t) => t.trim()) : undefined;
    const raw = given({ base: v.base, out: v.out, rank: intFlag(v, "rank"), alpha: numberFlag(v.alpha), targets, type: v.type, seed: intFlag(v, "seed"), name: v.name });
    const { SynthLoraOptionsSchema, synthesizeLora } = await import("../../model/lora/synth.ts");
    const result = await synthesizeLora(validate(SynthLoraOptionsSchema, raw));
    if (v.json) ctx.io.out(JSON.stringify(result));
    else ctx.io.out(`Wrote ${result.path} (rank ${result.rank}, ${result.matrices} matrices, ${result.sizeBytes} bytes, sha256 ${result.sha256})`);
    return 0;
  },
};

export const modelInfoCommand: Command = {
  path: ["model", "info"],
  summary: "Describe a GGUF model file from its metadata",
  args: "FILE",
  options: { ...JSON_OPTION },
  async run(ctx) {
    const file = ctx.positionals[0];
    if (!file) throw new HearthError("invalid_request", "the model FILE is required", { field: "file" });
    // Imported on use: node-llama-cpp's reader is heavy, and every other command loads this file.
    const { describeModel } = await import("../../model/info.ts");
    const info = await describeModel(file);
    if (ctx.values.json) ctx.io.out(JSON.stringify(info));
    else ctx.io.out(Object.entries(info).map(([k, val]) => `${k.padEnd(18)} ${val}`).join("\n"));
    return 0;
  },
};
