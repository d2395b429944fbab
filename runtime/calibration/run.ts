import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { Llama } from "node-llama-cpp";
import { calibrateModel, calibrationGrid, flashAttentionSupported, type PointResult } from "../../kernels/calibrate.ts";
import type { Clock } from "../clock.ts";
import type { Db } from "../store/db.ts";
import { CalibrationStore } from "../store/calibrations.ts";
import { modelSha256 } from "../model/hash.ts";
import { describeModel } from "../model/info.ts";
import type { Certificate } from "./certificate.ts";
import pkg from "../../package.json" with { type: "json" };

export interface CalibrationTarget {
  board: { kind: string; name: string };
  kernel: { id: string; backend: string; cpuVariant: string | null };
  llama: Llama;
  cores: number;
  /** GPU layer counts to try; absent or [0] without a GPU. */
  gpuLayers?: number[];
}

export interface CalibrationOptions {
  clock: Clock;
  contextSize?: number;
  onProgress?: (done: number, total: number, last: PointResult) => void;
}

/** Peak resident memory of this process so far (Linux), for the certificate. */
function peakRss(): number {
  try {
    const kb = readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+)\s+kB/)?.[1];
    return kb ? Number(kb) * 1024 : process.memoryUsage.rss();
  } catch {
    return process.memoryUsage.rss();
  }
}

/**
 * Measures the settings grid for a model on this board and kernel build, stores the best under
 * (board, kernel, model sha256) for `serve`, and returns the performance certificate.
 */
export async function runCalibration(db: Db, modelPath: string, target: CalibrationTarget, opts: CalibrationOptions): Promise<Certificate> {
  const [sha256, info] = await Promise.all([modelSha256(db, modelPath), describeModel(modelPath)]);
  const grid = calibrationGrid({
    cores: target.cores,
    flashAttentionSupported: await flashAttentionSupported(target.llama, modelPath),
    gpuLayers: target.gpuLayers,
  });
  const run = await calibrateModel(target.llama, modelPath, grid, {
    contextSize: Math.min(opts.contextSize ?? 1024, info.contextLength ?? 1024),
    promptTokens: 256,
    generateTokens: 64,
    minDecodeMs: 1000,
    repeats: 3,
    onProgress: opts.onProgress,
    now: () => opts.clock.monotonic(),
  });
  const { threads, batchSize, flashAttention, gpuLayers } = run.best;
  const certificate: Certificate = {
    format: "hearth-performance-certificate/1",
    date: new Date(opts.clock.now()).toISOString(),
    runtimeVersion: pkg.version,
    board: target.board,
    kernel: target.kernel,
    model: {
      file: basename(modelPath),
      sha256,
      name: info.name,
      quantization: info.fileType,
      parameters: info.parameters,
      sizeBytes: info.sizeBytes,
    },
    settings: { threads, batchSize, flashAttention, gpuLayers },
    ppTokPerSec: run.best.ppTokPerSec,
    tgTokPerSec: run.best.tgTokPerSec,
    peakMemoryBytes: peakRss(),
    durationMs: run.durationMs,
    grid: run.points,
  };
  new CalibrationStore(db).save({
    board: target.board.kind,
    kernel: target.kernel.id,
    modelSha256: sha256,
    settings: certificate.settings,
    report: certificate,
    createdAt: opts.clock.now(),
  });
  return certificate;
}
