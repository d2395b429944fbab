/**
 * Loads the extra models (config `models`) once the primary serves, one after another. Each needs
 * the multi_model entitlement and must fit the memory the models before it left; one that does not
 * is refused (reported in /readyz, never started) and the primary and the others still serve.
 */
import type { Llama } from "node-llama-cpp";
import { HearthError } from "../errors.ts";
import type { EntitlementGate } from "../license/entitlements.ts";
import type { CandidateFit, FitOptions, FitTarget } from "../model/fit.ts";
import type { LlamaEngineOptions } from "./llama-engine.ts";
import { MemoryLeft, type Shortfall } from "./memory-left.ts";
import type { ModelHost } from "./model-host.ts";
import type { ModelPlan, PlannedModel } from "./model-plan.ts";
import type { InferenceEngine } from "./types.ts";

/** What every extra shares with the primary; its own file, id, context, slots and queue come from its plan. */
export type SharedEngineOptions = Pick<LlamaEngineOptions, "threads" | "gpu" | "embeddings" | "chatWrapperFallback" | "logger" | "clock" | "kernel"> & {
  /** The binding the primary runs on; the extras never dispose it. */
  llama: Llama;
};

export type EstimateFit = (path: string, target: FitTarget, options: FitOptions) => Promise<CandidateFit>;

export interface ExtraModelsDeps {
  /** Without multi_model every extra is refused with the gate's message. */
  gate: EntitlementGate;
  /** The whole memory budget, as the primary was checked against (fitTargetOf + model.memoryBudgetMB). */
  target: FitTarget;
  /** The primary's estimate (checkModelFits' result); the extras share what it leaves. */
  primaryFit: CandidateFit;
  engine: SharedEngineOptions;
  /** Calibrated settings for an extra's file, or null for config and defaults. Default: none. */
  tunedFor?: (modelPath: string) => Promise<LlamaEngineOptions["tuned"]>;
  /** Default: fit.ts's estimate with the shared binding. */
  estimate?: EstimateFit;
  /** Default: LlamaEngine.load. */
  load?: (options: LlamaEngineOptions) => Promise<InferenceEngine>;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

function overBudget(model: PlannedModel, fit: CandidateFit, short: Shortfall, memory: MemoryLeft): HearthError {
  return new HearthError(
    "model_over_budget",
    `${model.field} (${JSON.stringify(model.id)}) does not fit the memory left: it needs ${short.needMB.toFixed(1)} MB of ${short.what} for context ` +
      `${fit.contextSize} × ${plural(model.parallel, "sequence")}, but only ${short.leftMB.toFixed(1)} MB of the ${short.budgetMB.toFixed(1)} MB ` +
      `${short.what} budget is left after ${memory.describeTaken()}`,
    { field: `${model.field}.path` },
  );
}

/**
 * Records the plan in `host`, then loads its extras in order. Never throws: each outcome is the
 * model's state in the host (ready, refused or failed with the reason) and a log line.
 */
export async function loadExtraModels(host: ModelHost, plan: ModelPlan, deps: ExtraModelsDeps): Promise<void> {
  host.plan(plan);
  if (plan.extras.length === 0) return;
  const { logger } = deps.engine;
  const memory = new MemoryLeft(deps.target);
  memory.take(plan.primary.id, deps.primaryFit);
  // Imported late, like the server does, so importing this module does not load llama.cpp.
  const estimate: EstimateFit =
    deps.estimate ??
    (async (path, target, options) => {
      const { fitModel } = await import("../model/fit.ts");
      return (await fitModel([path], target, options, { llama: deps.engine.llama })).candidates[0]!;
    });
  const load = deps.load ?? (await import("./llama-engine.ts")).LlamaEngine.load;

  for (const model of plan.extras) {
    if (host.closed) return;
    const engine = await host.loadExtra(model.id, async () => {
      deps.gate.require("multi_model", `serving more than one model (${model.field} ${JSON.stringify(model.id)} alongside ${JSON.stringify(plan.primary.id)})`);
      // Never start a model that would not fit next to the others: an OOM kill takes the whole box down.
      const fit = await estimate(model.path, memory.remaining(), { contextSize: model.contextSize, sequences: model.parallel });
      const short = memory.shortfall(fit);
      if (short) throw overBudget(model, fit, short, memory);
      const engine = await load({
        ...deps.engine,
        modelPath: model.path,
        modelId: model.id,
        contextSize: model.contextSize,
        parallel: model.parallel,
        queueSize: model.queueSize,
        tuned: (await deps.tunedFor?.(model.path)) ?? null,
        ownsLlama: false,
      });
      memory.take(model.id, fit);
      return engine;
    });
    if (!engine) {
      const report = host.models().find((m) => m.id === model.id);
      logger.warn("model not served", { model: model.id, field: model.field, state: report?.state, code: report?.code, reason: report?.reason });
    }
  }
}
