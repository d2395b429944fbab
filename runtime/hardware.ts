import { detectBoard, type BoardReport } from "../board/index.ts";
import { scanCatalog } from "../kernels/catalog.ts";
import { selectKernel, type KernelChoice, type KernelHost } from "../kernels/select.ts";
import type { FitTarget } from "./model/fit.ts";
import type { Logger } from "./log.ts";

/** What the board says, translated for kernel selection. */
export function kernelHostOf(board: BoardReport): KernelHost {
  return { boardKind: board.kind, arch: board.cpu.arch, cpuFeatures: board.cpu.features, gpus: board.gpus };
}

/** What the board says, translated for fitting a model into its memory. */
export function fitTargetOf(board: BoardReport, allowGpu: boolean): FitTarget {
  const { profile } = board;
  const gpu =
    !allowGpu || profile.gpuPolicy === "none"
      ? null
      : profile.gpuPolicy === "offload-all"
        ? { vramBytes: profile.memoryBudgetBytes, unifiedMemory: true, offload: "all" as const }
        : { vramBytes: profile.vramBudgetBytes ?? 0, unifiedMemory: false, offload: "fit" as const };
  return { memoryBudgetBytes: profile.memoryBudgetBytes, arch: board.cpu.arch, cpuFeatures: board.cpu.features, gpu };
}

export interface Hardware {
  board: BoardReport;
  kernel: KernelChoice;
}

/** Detects the board and selects its llama.cpp build (nothing is loaded yet). */
export async function inspectHardware(opts: {
  root?: string;
  /** Whether to consider GPU builds; a function decides from the board (the license's GPU burst). */
  allowGpu: boolean | ((board: BoardReport) => boolean);
  logger?: Logger;
}): Promise<Hardware> {
  const board = await detectBoard({ root: opts.root, logger: opts.logger });
  if (board.fallbackReason) opts.logger?.warn("unknown board: generic profile", { reason: board.fallbackReason });
  const allowGpu = typeof opts.allowGpu === "function" ? opts.allowGpu(board) : opts.allowGpu;
  const kernel = selectKernel(kernelHostOf(board), scanCatalog(), { allowGpu });
  return { board, kernel };
}
