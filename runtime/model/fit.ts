/**
 * Chooses which file of a model (the same weights as Q4_0, Q4_K_M, Q8_0, F16, ...) fits this
 * hardware's memory budget with the configured context and runs best on it, and explains the
 * choice with numbers. The runtime calls checkModelFits before loading, so it never starts a
 * model whose estimate exceeds the budget.
 *
 *   fitModel(files, target, options)   → FitDecision (chosen file or null, every candidate scored)
 *   requireFit(decision)               → the chosen candidate, or HearthError("model_over_budget")
 *   checkModelFits(file, target, opts) → the same for one file
 *
 * How memory is estimated: fit/estimate.ts. How files are preferred: fit/preference.ts.
 */
import type { Llama } from "node-llama-cpp";
import { HearthError } from "../errors.ts";
import { validate } from "../validation.ts";
import { evaluateCandidate, type EvaluatedCandidate } from "./fit/candidate.ts";
import { FitOptionsSchema, type CandidateFit, type FitDecision, type FitOptions } from "./fit/schema.ts";
import { FitTargetSchema, type FitTarget } from "./fit/target.ts";

export { MARGIN_FIXED_BYTES, MARGIN_FRACTION } from "./fit/estimate.ts";
export { PREFERENCE_RULES } from "./fit/preference.ts";
export { CandidateFitSchema, FitDecisionSchema, FitOptionsSchema, type CandidateFit, type FitDecision, type FitOptions } from "./fit/schema.ts";
export { FitTargetSchema, type FitTarget, type FitTargetSource } from "./fit/target.ts";

export interface FitDeps {
  /** A llama.cpp binding for node-llama-cpp's estimators; without one they use a backend-less one. */
  llama?: Llama;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Best first: fitting files by score, then smaller need, then path; then the rest by need. */
function byPreference(a: EvaluatedCandidate, b: EvaluatedCandidate): number {
  if (a.fit.fits !== b.fit.fits) return a.fit.fits ? -1 : 1;
  if (a.fit.fits && a.fit.score !== b.fit.score) return b.fit.score - a.fit.score;
  if (a.estimate.total !== b.estimate.total) return a.estimate.total - b.estimate.total;
  return a.fit.file < b.fit.file ? -1 : a.fit.file > b.fit.file ? 1 : 0;
}

export async function fitModel(files: readonly string[], target: FitTarget, options: FitOptions, deps: FitDeps = {}): Promise<FitDecision> {
  if (files.length === 0) throw new HearthError("invalid_request", "at least one model FILE is required", { field: "file" });
  const opts = validate(FitOptionsSchema, options);
  const checkedTarget = validate(FitTargetSchema, target);
  const shape = { contextSize: opts.contextSize, sequences: opts.sequences ?? 1, batchSize: opts.batchSize };

  const evaluated: EvaluatedCandidate[] = [];
  for (const file of files) evaluated.push(await evaluateCandidate(file, checkedTarget, shape, deps.llama));
  evaluated.sort(byPreference);
  const candidates = evaluated.map((e) => e.fit);
  const chosen = candidates.find((c) => c.fits) ?? null;
  const fitting = candidates.filter((c) => c.fits).length;

  return {
    chosen: chosen?.file ?? null,
    quantization: chosen?.quantization ?? null,
    reason: chosen
      ? `${chosen.file} (${chosen.quantization}) ${fitting === 1 ? "is the only file that fits" : `scores highest of ${fitting} fitting files`}: ` +
        `${chosen.score} points, ` +
        `${chosen.needMB.total.toFixed(1)} MB needed for context ${chosen.contextSize} × ${plural(shape.sequences, "sequence")}`
      : overBudgetMessage(candidates, shape.sequences),
    target: checkedTarget,
    options: { contextSize: shape.contextSize, sequences: shape.sequences, batchSize: shape.batchSize ?? null },
    candidates,
  };
}

/** Which limit a non-fitting candidate exceeds, in MB. */
function shortfall(c: CandidateFit): { what: "RAM" | "VRAM"; need: number; budget: number } {
  const vramBudget = c.budgetMB.vram;
  if (c.needMB.ram > c.budgetMB.ram || vramBudget === null || c.needMB.vram <= vramBudget) {
    return { what: "RAM", need: c.needMB.ram, budget: c.budgetMB.ram };
  }
  return { what: "VRAM", need: c.needMB.vram, budget: vramBudget };
}

function breakdown(c: CandidateFit): string {
  const n = c.needMB;
  const repack = n.repack > 0 ? ` + repacked copy ${n.repack}` : "";
  return `weights ${n.weights}${repack} + KV cache ${n.kvCache} + compute ${n.compute} + margin ${n.margin}`;
}

function overBudgetMessage(candidates: CandidateFit[], sequences: number): string {
  const smallest = candidates[0]!; // non-fitting candidates are sorted by need
  const s = shortfall(smallest);
  const others = candidates.slice(1).map((c) => `${c.file} (${c.quantization}) ${shortfall(c).need.toFixed(1)} MB`);
  return (
    `no file fits the memory budget: the smallest, ${smallest.file} (${smallest.quantization}), needs ` +
    `${s.need.toFixed(1)} MB of ${s.what} (${breakdown(smallest)}) for context ${smallest.contextSize} × ` +
    `${plural(sequences, "sequence")}, but the ${s.what} budget is ${s.budget.toFixed(1)} MB` +
    (others.length > 0 ? `; the others need ${others.join(", ")}` : "")
  );
}

/** The chosen candidate; throws model_over_budget, naming the smallest need and the budget, when none fits. */
export function requireFit(decision: FitDecision): CandidateFit {
  const chosen = decision.candidates.find((c) => c.file === decision.chosen && c.fits);
  if (chosen) return chosen;
  throw new HearthError("model_over_budget", overBudgetMessage(decision.candidates, decision.options.sequences));
}

/**
 * For loading one model: its estimate on this target, or model_over_budget with the need and the
 * budget in MB. Invalid files throw gguf_invalid, missing ones model_not_found.
 */
export async function checkModelFits(file: string, target: FitTarget, options: FitOptions, deps: FitDeps = {}): Promise<CandidateFit> {
  const decision = await fitModel([file], target, options, deps);
  const c = decision.candidates[0]!;
  if (c.fits) return c;
  const s = shortfall(c);
  throw new HearthError(
    "model_over_budget",
    `${file} (${c.quantization}) needs ${s.need.toFixed(1)} MB of ${s.what} (${breakdown(c)}) for context ${c.contextSize} × ` +
      `${plural(decision.options.sequences, "sequence")}, but the ${s.what} budget is ${s.budget.toFixed(1)} MB`,
  );
}
