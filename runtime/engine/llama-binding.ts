import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";
import { llamaLogsTo } from "../../kernels/load.ts";
import type { Logger } from "../log.ts";

/** A plain CPU (or auto GPU) binding, for tests and for an engine loaded without kernel selection. */
export function createLlama(gpu: boolean, logger: Logger): Promise<Llama> {
  return getLlama({ gpu: gpu ? "auto" : false, build: "never", logLevel: LlamaLogLevel.warn, logger: llamaLogsTo(logger) });
}
