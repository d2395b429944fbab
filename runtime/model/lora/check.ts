/**
 * Whether llama.cpp will accept a LoRA adapter file for a base model, and if not, why. These are
 * the checks of llama_adapter_lora_init_impl (src/llama-adapter.cpp), made up front because
 * llama.cpp only logs its reason (node-llama-cpp then throws a bare "Failed to initialize LoRA
 * adapter"), and because one malformed value (a non-f32 alpha) aborts the process instead.
 * Other malformed content (e.g. aLoRA invocation tokens of the wrong type) is left to llama.cpp,
 * which refuses it cleanly; engine/adapters.ts handles that refusal.
 */
import type { GgufFileInfo } from "node-llama-cpp";
import { HearthError } from "../../errors.ts";
import { readGguf } from "../info.ts";
import { KEYS, LORA_A, LORA_B, metadataValue, tensorShapes } from "./format.ts";
import { storedTypes } from "./kv-types.ts";

const show = (v: unknown): string => (v === undefined ? "missing" : JSON.stringify(v));
const dims = (shape: readonly number[]): string => `[${shape.join(", ")}]`;
const HINT = "(made for another base model?)";

/** Why llama.cpp would refuse `adapter` for `base`, judged from both headers; null when it fits. */
export function loraMismatch(adapter: GgufFileInfo, base: GgufFileInfo): string | null {
  const generalType = metadataValue(adapter, KEYS.generalType);
  if (generalType !== "adapter") {
    const model = generalType === undefined || generalType === "model" ? " (this looks like a model file)" : "";
    return `not a LoRA adapter: general.type is ${show(generalType)}, not "adapter"${model}`;
  }
  const arch = metadataValue(adapter, KEYS.architecture);
  const baseArch = metadataValue(base, KEYS.architecture);
  if (arch !== baseArch) return `made for the ${show(arch)} architecture but the model is ${show(baseArch)}`;
  const adapterType = metadataValue(adapter, KEYS.adapterType);
  if (adapterType !== "lora") return `not a LoRA adapter: adapter.type is ${show(adapterType)}, not "lora"`;

  const pairs = new Map<string, { a?: number[]; b?: number[] }>();
  for (const [name, shape] of tensorShapes(adapter)) {
    const part = name.endsWith(LORA_A) ? "a" : name.endsWith(LORA_B) ? "b" : null;
    if (!part) {
      if (name.endsWith("_norm.weight")) continue; // llama.cpp skips these
      return `tensor ${name} is neither a ${LORA_A} nor a ${LORA_B} weight`;
    }
    const target = name.slice(0, -LORA_A.length);
    pairs.set(target, { ...pairs.get(target), [part]: shape });
  }
  const model = tensorShapes(base);
  for (const [target, { a, b }] of pairs) {
    if (!a || !b) return `${target} has ${a ? LORA_A : LORA_B} but no ${a ? LORA_B : LORA_A}`;
    const w = model.get(target);
    if (!w) return `it adapts ${target}, which the model does not have ${HINT}`;
    // token_embd is looked up, not multiplied: llama.cpp expects its pair flipped.
    const embd = target.endsWith("token_embd.weight");
    const fits = embd ? w[0] === b[1] && w[1] === a[1] : w[0] === a[0] && w[1] === b[1];
    if (!fits) return `shape mismatch: ${target}${LORA_A} is ${dims(a)} and ${LORA_B} ${dims(b)} but the model's ${target} is ${dims(w)} ${HINT}`;
    if (!embd && a[1] !== b[0]) return `${target}${LORA_A} has rank ${a[1]} but ${LORA_B} has ${b[0]}`;
  }
  return null;
}

/**
 * Checks a LoRA adapter file against the base model's header. Throws HearthError
 * ("model_not_found" when there is no file, "gguf_invalid" for anything llama.cpp would refuse).
 */
export async function checkLoraFile(path: string, base: GgufFileInfo): Promise<{ sizeBytes: number }> {
  const { info, sizeBytes } = await readGguf(path);
  const mismatch = loraMismatch(info, base);
  if (mismatch) throw new HearthError("gguf_invalid", `${path}: ${mismatch}`);
  let alphaType;
  try {
    alphaType = (await storedTypes(path, [KEYS.alpha])).get(KEYS.alpha);
  } catch (err) {
    throw new HearthError("gguf_invalid", `${path}: unreadable metadata: ${(err as Error).message}`, { cause: err });
  }
  if (alphaType !== undefined && alphaType !== "f32") {
    throw new HearthError("gguf_invalid", `${path}: ${KEYS.alpha} is stored as ${alphaType}; llama.cpp needs a single f32`);
  }
  return { sizeBytes };
}
