import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";
import type { KernelChoice } from "./select.ts";
import { RECIPES } from "./recipes.ts";

export interface KernelLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface LoadedKernel {
  llama: Llama;
  /** The build actually serving: the choice, or its CPU fallback. */
  active: KernelChoice;
  /** Why the chosen build is not the one serving, when it is not. */
  fallbackReason: string | null;
}

export interface LoadKernelOptions {
  logger: KernelLogger;
  /** A short real evaluation on the loaded build; GPU builds must pass it before they serve. */
  smokeTest?: (llama: Llama) => Promise<void>;
  /** Seam for tests: how a binding is obtained. */
  open?: (choice: KernelChoice, logger: KernelLogger) => Promise<Llama>;
}

export function openKernel(choice: KernelChoice, logger: KernelLogger): Promise<Llama> {
  const recipe = choice.recipe ? RECIPES[choice.recipe] : undefined;
  return getLlama({
    gpu: choice.backend === "cpu" ? false : choice.backend,
    build: "never",
    // A recipe build is a node-llama-cpp local build named after its CMake options.
    usePrebuiltBinaries: !recipe,
    cmakeOptions: recipe?.cmakeOptions,
    progressLogs: false,
    logLevel: LlamaLogLevel.warn,
    logger: llamaLogsTo(logger),
  });
}

/** llama.cpp's warnings and errors as structured log lines. */
export function llamaLogsTo(logger: KernelLogger): (level: LlamaLogLevel, message: string) => void {
  return (level, message) => {
    const text = message.trim();
    if (text) logger[level === LlamaLogLevel.error || level === LlamaLogLevel.fatal ? "error" : "warn"]("llama.cpp", { message: text });
  };
}

/**
 * Loads the chosen llama.cpp build; if it is a GPU (or source) build that fails to load or to pass
 * the smoke evaluation, loads its CPU fallback instead and says why: never a box without inference.
 */
export async function loadKernel(choice: KernelChoice, opts: LoadKernelOptions): Promise<LoadedKernel> {
  const open = opts.open ?? openKernel;
  let llama: Llama | null = null;
  try {
    llama = await open(choice, opts.logger);
    if (choice.backend !== "cpu" && llama.gpu !== choice.backend) throw new Error(`the build loaded without ${choice.backend} (got ${llama.gpu || "cpu"})`);
    if (choice.fallback) await opts.smokeTest?.(llama);
    return { llama, active: choice, fallbackReason: null };
  } catch (err) {
    await llama?.dispose().catch(() => undefined);
    if (!choice.fallback) throw err;
    const reason = `${choice.id} failed: ${(err as Error).message.split("\n")[0]}`;
    opts.logger.warn("kernel fallback", { chosen: choice.id, fallback: choice.fallback.id, reason });
    const fallback = await loadKernel(choice.fallback, { ...opts, smokeTest: undefined });
    return { ...fallback, fallbackReason: reason };
  }
}
