import type { Command } from "../command.ts";
import { JSON_OPTION } from "../command.ts";
import { intFlag } from "../run.ts";
import { HearthError } from "../../errors.ts";
import { validate } from "../../validation.ts";

export const modelSynthCommand: Command = {
  path: ["model", "synth"],
  summary: "Write a llama-architecture GGUF with random weights (deterministic by seed) for tests and demos",
  options: {
    out: { type: "string", value: "FILE", description: "Where to write the GGUF" },
    params: { type: "string", value: "SIZE", description: "tiny | 20m | 100m (default tiny)" },
    type: { type: "string", value: "TYPE", description: "f32 | f16 | q8_0 | q4_0" },
    seed: { type: "string", value: "N", description: "Random seed (default 1)" },
    name: { type: "string", value: "NAME", description: "general.name in the file" },
    ...JSON_OPTION,
  },
  async run(ctx) {
    const v = ctx.values;
    const raw = Object.fromEntries(
      Object.entries({ out: v.out, params: v.params, type: v.type, seed: intFlag(v, "seed"), name: v.name }).filter(([, x]) => x !== undefined),
    );
    const { SynthOptionsSchema, synthesizeModel } = await import("../../model/synth.ts");
    const opts = validate(SynthOptionsSchema, raw);
    const result = await synthesizeModel(opts);
    if (v.json) ctx.io.out(JSON.stringify(result));
    else ctx.io.out(`Wrote ${result.path} (${(result.sizeBytes / 1e6).toFixed(1)} MB, ${result.parameters} parameters, sha256 ${result.sha256})`);
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
