/** Shared llama.cpp binding and model loading for the model tests (one binding per process). */
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from "node-llama-cpp";
import { testModel, type TestModelOptions } from "../helpers/models.ts";

let llama: Promise<Llama> | undefined;
export function testLlama(): Promise<Llama> {
  llama ??= getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  return llama;
}

const models = new Map<string, Promise<LlamaModel>>();
/** Loads (once per process) the synthetic model for these options. */
export function loadTestModel(opts: TestModelOptions = {}): Promise<LlamaModel> {
  const key = JSON.stringify([opts.params ?? "tiny", opts.type ?? "f16", opts.seed ?? 1]);
  let model = models.get(key);
  if (!model) {
    model = (async () => (await testLlama()).loadModel({ modelPath: await testModel(opts) }))();
    models.set(key, model);
  }
  return model;
}

/** On this 2-core CI box one thread is several times faster than two for a tiny model. */
export const CONTEXT = { contextSize: 512, threads: 1 } as const;

/** The toy language the synthetic weights are steered to speak (see runtime/model/steering.ts). */
export const TOY_SENTENCE_RE =
  /^(The|A) (quick|small|big) (brown|red|gray) (fox|cat|bird) (jumps|runs|walks) (over|near|under) the (lazy|old|sleepy) (dog|tree|house)\.$/;
