/**
 * One candidate file against a target: read and validate its metadata, estimate what it needs,
 * decide whether it fits and score it. Files that are not valid GGUF fail here with gguf_invalid.
 */
import { GgufInsights, readGgufFileInfo, type Llama } from "node-llama-cpp";
import { HearthError } from "../../errors.ts";
import { describeModel } from "../info.ts";
import { estimateMemory, overBudget, type ContextShape, type MemoryEstimate } from "./estimate.ts";
import { preferenceScore } from "./preference.ts";
import { toMB, type CandidateFit } from "./schema.ts";
import type { FitTarget } from "./target.ts";

export interface EvaluatedCandidate {
  fit: CandidateFit;
  estimate: MemoryEstimate;
  /** What it is short of, when it does not fit. */
  over: ReturnType<typeof overBudget>;
}

async function insightsOf(file: string, llama: Llama | undefined): Promise<GgufInsights> {
  try {
    const info = await readGgufFileInfo(file, { sourceType: "filesystem", logWarnings: false });
    return await GgufInsights.from(info, llama);
  } catch (err) {
    throw new HearthError("gguf_invalid", `${file}: not a valid GGUF file: ${(err as Error).message}`, { cause: err });
  }
}

export async function evaluateCandidate(
  file: string,
  target: FitTarget,
  shape: ContextShape,
  llama: Llama | undefined,
): Promise<EvaluatedCandidate> {
  // describeModel validates the whole file (header, truncation) with the same GGUF reader; the
  // second, cheap metadata read feeds node-llama-cpp's estimators.
  const info = await describeModel(file);
  const insights = await insightsOf(file, llama);
  const estimate = estimateMemory(insights, target, shape);
  const over = overBudget(estimate, target);
  const quantization = info.fileType ?? "unknown";
  const bitsPerWeight = insights.totalParameters > 0 ? (insights.modelSize * 8) / insights.totalParameters : 0;
  const { score, notes } = preferenceScore({ quantization, bitsPerWeight, estimate, cpu: target });

  const need = `${toMB(estimate.ram).toFixed(1)} MB RAM${estimate.vram > 0 ? ` + ${toMB(estimate.vram).toFixed(1)} MB VRAM` : ""}`;
  const fitNote = over
    ? `does not fit: needs ${toMB(over.need).toFixed(1)} MB ${over.what} > budget ${toMB(over.budget).toFixed(1)} MB`
    : `fits: ${need} within the budget`;

  return {
    estimate,
    over,
    fit: {
      file,
      quantization,
      sizeBytes: info.sizeBytes,
      bitsPerWeight: Math.round(bitsPerWeight * 100) / 100,
      contextSize: estimate.contextSize,
      gpuLayers: estimate.gpuLayers,
      totalLayers: estimate.totalLayers,
      repackLayouts: estimate.repackLayouts,
      needMB: {
        weights: toMB(estimate.weights),
        repack: toMB(estimate.repack),
        kvCache: toMB(estimate.kvCache),
        compute: toMB(estimate.compute),
        margin: toMB(estimate.margin),
        total: toMB(estimate.total),
        ram: toMB(estimate.ram),
        vram: toMB(estimate.vram),
      },
      budgetMB: { ram: toMB(target.memoryBudgetBytes), vram: target.gpu ? toMB(target.gpu.vramBytes) : null },
      fits: over === null,
      score,
      reason: [fitNote, ...notes].join("; "),
    },
  };
}
