import { availableParallelism } from "node:os";

/** Below this size a token's compute is too short for an extra thread to pay for its syncing. */
export const SMALL_MODEL_BYTES = 128 * 1024 * 1024;

/**
 * 0 means automatic, until calibration (which measures) chooses: llama.cpp's workers spin while
 * they wait, and on a small model a thread per core starves the JS thread that feeds them.
 * Measured under Bun on 2 cores: tiny model, 2 threads ~200x slower than 1; 20m f16 (40 MB)
 * ~350 tok/s with 1 thread vs ~95 with 2; 100m f16 (200 MB) ~47 tok/s with 1 vs ~54 with 2.
 */
export function resolveThreads(configured: number, modelBytes: number, cores = availableParallelism()): number {
  if (configured > 0) return configured;
  return modelBytes < SMALL_MODEL_BYTES ? Math.max(1, cores - 1) : cores;
}
