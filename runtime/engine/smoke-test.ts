import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { LlamaCompletion, type Llama } from "node-llama-cpp";
import { synthesizeModel } from "../model/synth.ts";

/**
 * A short real evaluation on a freshly loaded llama.cpp build, with every layer offloaded where
 * the build has a GPU: a build that loads but computes garbage or hangs never serves.
 */
export async function smokeTest(llama: Llama, timeoutMs = 20_000): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hearth-smoke-"));
  try {
    const path = join(dir, "smoke.gguf");
    await synthesizeModel({ out: path, params: "tiny", type: "f16", seed: 1 });
    const model = await llama.loadModel({ modelPath: path, gpuLayers: llama.gpu ? "max" : 0 });
    try {
      const context = await model.createContext({ contextSize: 128 });
      const signal = AbortSignal.timeout(timeoutMs);
      const text = await new LlamaCompletion({ contextSequence: context.getSequence() }).generateCompletion("The box", { maxTokens: 4, signal });
      await context.dispose();
      if (signal.aborted) throw new Error(`smoke evaluation took longer than ${timeoutMs} ms`);
      if (typeof text !== "string") throw new Error("smoke evaluation produced no text");
    } finally {
      await model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
