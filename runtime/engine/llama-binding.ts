import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";
import type { Logger } from "../log.ts";

/** A CPU or GPU llama.cpp binding with its logs routed into ours (tests and the fallback path). */
export async function createLlama(gpu: boolean, logger: Logger): Promise<Llama> {
  return getLlama({
    gpu: gpu ? "auto" : false,
    build: "never",
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => {
      const text = message.trim();
      if (text) logger[level === LlamaLogLevel.error || level === LlamaLogLevel.fatal ? "error" : "warn"]("llama.cpp", { message: text });
    },
  });
}
