/**
 * Release files for updater tests. `muteModel` is a GGUF that loads and runs but whose
 * end-of-sequence token is the very token it generates first for the health check's prompt: the
 * same weights as testModel({ seed }), with tokenizer.ggml.eos_token_id pointed at that token, so
 * every health-check completion ends before its first token. It simulates a model that loads but
 * cannot generate (a broken export, a wrong tokenizer), not a slow one.
 */
import { join } from "node:path";
import { LlamaCompletion } from "node-llama-cpp";
import { HEALTH_PROMPT } from "../../../ota/agent/health-check.ts";
import { writeGgufAtomic } from "../../../runtime/model/atomic-write.ts";
import { gv } from "../../../runtime/model/gguf/index.ts";
import { llamaMetadata } from "../../../runtime/model/llama-metadata.ts";
import { PRESETS } from "../../../runtime/model/presets.ts";
import { buildVocab } from "../../../runtime/model/vocab.ts";
import { llamaTensors } from "../../../runtime/model/weights.ts";
import { testModel } from "../../helpers/models.ts";
import { sharedLlama } from "../../helpers/server.ts";

/** The token a greedy completion of HEALTH_PROMPT starts with on `path`. */
async function firstToken(path: string): Promise<number> {
  const llama = await sharedLlama();
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: 256, sequences: 1 });
  try {
    let first: number | undefined;
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    await completion.generateCompletion(HEALTH_PROMPT, { maxTokens: 1, temperature: 0, seed: 1, onToken: (t) => void (first ??= t[0] as number) });
    if (first === undefined) throw new Error("the model generated nothing");
    return first;
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

export async function muteModel(dir: string, seed = 2): Promise<string> {
  const token = await firstToken(await testModel({ seed }));
  const dims = PRESETS.tiny;
  const vocab = buildVocab(dims.vocabSize);
  const metadata = llamaMetadata({ name: `mute-s${seed}`, type: "f16", dims, vocab }).map(([k, v]) => (k === "tokenizer.ggml.eos_token_id" ? ([k, gv.u32(token)] as const) : ([k, v] as const)));
  const written = await writeGgufAtomic(join(dir, `mute-s${seed}.gguf`), { metadata, tensors: llamaTensors(dims, vocab, "f16", seed) });
  return written.path;
}
