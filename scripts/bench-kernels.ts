#!/usr/bin/env bun
/**
 * bench:kernels: generation speed with node-llama-cpp's default settings, with every calibration
 * grid point measured independently, and with the calibrated choice, side by side in one run,
 * for synthesized 20m and 100m models. Medians of repeated measurements.
 */
import { existsSync, mkdirSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaLogLevel, type LlamaModel } from "node-llama-cpp";
import { synthesizeModel } from "../runtime/model/synth.ts";
import { calibrateModel, calibrationGrid, measurePoint, type CalibrationPoint, type MeasureOptions } from "../kernels/calibrate.ts";

const SIZES = (process.env.BENCH_PARAMS ?? "20m,100m").split(",") as ("tiny" | "20m" | "100m")[];
const OPTS: MeasureOptions = { contextSize: 1024, promptTokens: 256, generateTokens: 48, repeats: 3 };
const round = (x: number) => Math.round(x * 10) / 10;
const label = (p: CalibrationPoint) => `t${p.threads} b${p.batchSize} fa${p.flashAttention ? 1 : 0}`;

async function model(params: string): Promise<string> {
  const dir = join(tmpdir(), "hearth-bench-models");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${params}-f16-seed1.gguf`);
  if (!existsSync(out)) await synthesizeModel({ out, params: params as "20m", type: "f16", seed: 1 });
  return out;
}

/** node-llama-cpp's own defaults: no threads, batch or flash attention given. */
async function measureDefaults(m: LlamaModel): Promise<number> {
  const context = await m.createContext({ contextSize: OPTS.contextSize, sequences: 1 });
  const settings = { threads: context.currentThreads, batchSize: context.batchSize, flashAttention: context.flashAttention === true, gpuLayers: 0 };
  await context.dispose();
  return (await measurePoint(m, settings, OPTS)).tgTokPerSec;
}

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const report: Record<string, unknown> = {};
for (const size of SIZES) {
  const path = await model(size);
  const m = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const grid = calibrationGrid({ cores: availableParallelism(), flashAttentionSupported: m.flashAttentionSupported });
  await m.dispose();
  process.stderr.write(`bench: ${size}: calibrating over ${grid.length} points\n`);
  const calibration = await calibrateModel(llama, path, grid, OPTS);

  // Independent measurements, interleaved so drift hits all alike.
  const m2 = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const independent = new Map<string, number>();
  let calibrated = 0;
  let defaults = 0;
  for (const point of grid) {
    independent.set(label(point), (await measurePoint(m2, point, OPTS)).tgTokPerSec);
    process.stderr.write(`bench: ${size}: ${label(point)} ${round(independent.get(label(point))!)} tok/s\n`);
  }
  calibrated = (await measurePoint(m2, calibration.best, OPTS)).tgTokPerSec;
  defaults = await measureDefaults(m2);
  await m2.dispose();

  const bestGrid = Math.max(...independent.values());
  report[size] = {
    defaultsTgTokPerSec: round(defaults),
    grid: Object.fromEntries([...independent].map(([k, v]) => [k, round(v)])),
    calibratedChoice: label(calibration.best),
    calibratedTgTokPerSec: round(calibrated),
    calibrationSeconds: round(calibration.durationMs / 1000),
    calibratedVsBestGridPoint: Math.round((calibrated / bestGrid) * 1000) / 1000,
    calibratedVsDefaults: Math.round((calibrated / defaults) * 1000) / 1000,
  };
}
console.log(JSON.stringify({ report, targets: { calibratedVsBestGridPoint: ">= 0.97" } }, null, 2));
for (const [size, r] of Object.entries(report) as [string, Record<string, unknown>][]) {
  console.log(
    `${size}: defaults ${r.defaultsTgTokPerSec} tok/s, calibrated (${r.calibratedChoice}) ${r.calibratedTgTokPerSec} tok/s = ` +
      `${r.calibratedVsBestGridPoint}x best grid point, ${r.calibratedVsDefaults}x defaults; calibration took ${r.calibrationSeconds} s`,
  );
}
await llama.dispose();
