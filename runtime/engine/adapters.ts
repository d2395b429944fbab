/**
 * LoRA adapters for the served model. A bad adapter never costs the base model: each is checked
 * against the model's header before llama.cpp sees it (model/lora/check.ts), one llama.cpp still
 * refuses is left out as well, and the model then serves without it, its status saying why.
 * Refusing to start instead would turn one bad file (say, a broken OTA download) into an outage.
 */
import { resolve } from "node:path";
import type { GgufFileInfo, LlamaContext, LlamaContextOptions, LlamaModel } from "node-llama-cpp";
import { HearthError, isHearthError, type ErrorCode } from "../errors.ts";
import { sha256File } from "../model/hash.ts";
import { checkLoraFile } from "../model/lora/check.ts";
import type { AdapterStatus } from "./types.ts";

export interface LoraSetting {
  path: string;
  scale: number;
}

function refused(status: AdapterStatus, code: ErrorCode, reason: string): AdapterStatus {
  const err = new HearthError(code, `${status.field}: ${reason}`, { field: status.field });
  return { ...status, applied: false, reason: err.message, code: err.code };
}

/**
 * Checks each adapter against the base model (nothing is loaded). `permit` throws to refuse them
 * all, e.g. the `lora_adapters` entitlement gate; the files are then not even read.
 */
export async function checkAdapters(loras: readonly LoraSetting[], base: GgufFileInfo, permit?: () => void): Promise<AdapterStatus[]> {
  let denied: HearthError | null = null;
  try {
    if (loras.length > 0) permit?.();
  } catch (err) {
    denied = isHearthError(err) ? err : new HearthError("forbidden", (err as Error).message, { cause: err });
  }
  const seen = new Map<string, string>();
  const out: AdapterStatus[] = [];
  for (const [i, { path, scale }] of loras.entries()) {
    const status: AdapterStatus = { path, scale, field: `model.loras[${i}].path`, applied: false, reason: null, code: null, sizeBytes: null, sha256: null };
    const first = seen.get(resolve(path));
    seen.set(resolve(path), first ?? status.field);
    if (denied) out.push(refused(status, denied.code, denied.message));
    // llama.cpp keeps one scale per adapter, so a second entry would silently replace the first's.
    else if (first) out.push(refused(status, "invalid_request", `${path} is already applied as ${first}`));
    else {
      try {
        const { sizeBytes } = await checkLoraFile(path, base);
        out.push({ ...status, sizeBytes, sha256: await sha256File(path) });
      } catch (err) {
        // Any failure to read the file (EACCES, EIO, ...) refuses the adapter, never the model.
        if (isHearthError(err)) out.push(refused(status, err.code, err.message));
        else out.push(refused(status, "model_load_failed", `${path}: cannot be read: ${(err as Error).message}`));
      }
    }
  }
  return out;
}

/**
 * The model's context with every adapter that passed `checkAdapters` applied. Should llama.cpp
 * still refuse one (a case the checks do not foresee), the adapters are tried one at a time to
 * find which, and the context is made with the rest: a few extra context creations, on a path
 * that should never run. A context that cannot be created even without adapters throws as usual.
 */
export async function createAdaptedContext(
  model: LlamaModel,
  options: LlamaContextOptions,
  adapters: readonly AdapterStatus[],
): Promise<{ context: LlamaContext; adapters: AdapterStatus[] }> {
  const create = (list: readonly AdapterStatus[]) =>
    model.createContext({ ...options, ...(list.length ? { lora: { adapters: list.map((a) => ({ filePath: a.path, scale: a.scale })) } } : {}) });
  const wanted = adapters.filter((a) => a.reason === null);
  const result = (context: LlamaContext, applied: readonly AdapterStatus[], failures = new Map<AdapterStatus, string>()) => ({
    context,
    adapters: adapters.map((a) => {
      const failure = failures.get(a);
      if (failure !== undefined) return refused(a, "model_load_failed", `llama.cpp refused ${a.path}: ${failure} (its log has the reason)`);
      return applied.includes(a) ? { ...a, applied: true } : a;
    }),
  });
  if (wanted.length === 0) return result(await create([]), []);
  try {
    return result(await create(wanted), wanted);
  } catch {
    // fall through: find the adapter(s) llama.cpp refuses
  }
  const accepted: AdapterStatus[] = [];
  const failures = new Map<AdapterStatus, string>();
  for (const a of wanted) {
    try {
      await (await create([...accepted, a])).dispose();
      accepted.push(a);
    } catch (err) {
      failures.set(a, (err as Error).message);
    }
  }
  return result(await create(accepted), accepted, failures);
}
