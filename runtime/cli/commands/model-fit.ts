import type { Llama } from "node-llama-cpp";
import type { Command } from "../command.ts";
import { JSON_OPTION } from "../command.ts";
import { table } from "../output.ts";
import { intFlag } from "../run.ts";
import { HearthError } from "../../errors.ts";
import type { FitDecision, FitTarget, FitTargetSource } from "../../model/fit.ts";

export const DEFAULT_FIT_CONTEXT = 2048;

/** The detected board's budget and CPU, with its GPU as the board could use it. */
async function boardFitTarget(): Promise<FitTarget> {
  const [{ detectBoard }, { fitTargetOf }] = await Promise.all([import("../../../board/index.ts"), import("../../hardware.ts")]);
  return fitTargetOf(await detectBoard(), true);
}

export interface ModelFitCommandDeps {
  /** The hardware to fit; default: the detected board's profile. */
  targetSource?: FitTargetSource;
  /** A llama.cpp binding for the estimators; default: node-llama-cpp's backend-less one. */
  llama?: () => Promise<Llama>;
}

function describeTarget(t: FitTarget): string {
  const gpu = t.gpu
    ? `GPU ${(t.gpu.vramBytes / 1e6).toFixed(0)} MB${t.gpu.unifiedMemory ? " unified" : ""}, offload ${t.gpu.offload}`
    : "no GPU";
  return `${t.arch} (${t.cpuFeatures.join(" ") || "no features known"}), ${gpu}, RAM budget ${(t.memoryBudgetBytes / 1e6).toFixed(1)} MB`;
}

const mb = (n: number): string => n.toFixed(1);

function humanReport(d: FitDecision): string {
  const rows = d.candidates.map((c) => [
    c.file,
    c.quantization,
    mb(c.sizeBytes / 1e6),
    mb(c.needMB.weights),
    mb(c.needMB.repack),
    mb(c.needMB.kvCache),
    mb(c.needMB.compute),
    mb(c.needMB.margin),
    c.needMB.vram > 0 ? `${mb(c.needMB.ram)} + ${mb(c.needMB.vram)} VRAM` : mb(c.needMB.ram),
    c.budgetMB.vram === null ? mb(c.budgetMB.ram) : `${mb(c.budgetMB.ram)} + ${mb(c.budgetMB.vram)} VRAM`,
    c.fits ? "yes" : "no",
    mb(c.score),
    c.reason,
  ]);
  const headers = ["FILE", "QUANT", "SIZE MB", "WEIGHTS", "REPACK", "KV", "COMPUTE", "MARGIN", "NEED MB", "BUDGET MB", "FITS", "SCORE", "REASON"];
  const context = `context ${d.options.contextSize} × ${d.options.sequences} sequence${d.options.sequences === 1 ? "" : "s"}`;
  const lines = [`Target: ${describeTarget(d.target)}; ${context}`, "", table(headers, rows), ""];
  lines.push(d.chosen ? `Chosen: ${d.reason}` : "Chosen: none");
  return lines.join("\n");
}

export function createModelFitCommand(deps: ModelFitCommandDeps = {}): Command {
  return {
    path: ["model", "fit"],
    summary: "Choose which file of a model (Q4_0, Q8_0, F16, ...) fits this hardware's memory budget and runs best on it",
    args: "FILE...",
    options: {
      context: { type: "string", value: "N", description: `Context tokens per sequence (default ${DEFAULT_FIT_CONTEXT})` },
      parallel: { type: "string", value: "N", description: "Parallel sequences (default 1)" },
      "budget-mb": { type: "string", value: "N", description: "Memory budget in MB (10^6 bytes); default: total memory minus a reserve" },
      ...JSON_OPTION,
    },
    async run(ctx) {
      const files = ctx.positionals;
      if (files.length === 0) throw new HearthError("invalid_request", "at least one model FILE is required", { field: "file" });
      const contextSize = intFlag(ctx.values, "context") ?? DEFAULT_FIT_CONTEXT;
      const sequences = intFlag(ctx.values, "parallel") ?? 1;
      const budgetMB = intFlag(ctx.values, "budget-mb");
      if (budgetMB !== undefined && budgetMB < 0) {
        throw new HearthError("invalid_request", `--budget-mb: ${budgetMB} must not be negative`, { field: "budget-mb" });
      }
      // Imported on use: node-llama-cpp is heavy, and every other command loads this file.
      const { fitModel, requireFit } = await import("../../model/fit.ts");
      const base = await (deps.targetSource ?? boardFitTarget)();
      const target = budgetMB === undefined ? base : { ...base, memoryBudgetBytes: budgetMB * 1e6 };
      const llama = deps.llama ? await deps.llama() : undefined;
      const decision = await fitModel(files, target, { contextSize, sequences }, llama ? { llama } : {});
      ctx.io.out(ctx.values.json ? JSON.stringify(decision) : humanReport(decision));
      requireFit(decision); // nothing fits: model_over_budget, exit 1
      return 0;
    },
  };
}

export const modelFitCommand: Command = createModelFitCommand();
