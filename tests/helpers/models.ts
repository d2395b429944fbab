/**
 * Synthetic GGUF models for tests. Each distinct option set is synthesized once per test process
 * (bun runs all test files in one process) into a private temp dir, and the path is shared.
 * The default is the tiny f16 preset, seed 1: ~0.8 MB, synthesized in well under a second.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesizeModel, type SynthOptions } from "../../runtime/model/synth.ts";

export type TestModelOptions = Pick<SynthOptions, "params" | "type" | "seed">;

let dir: string | undefined;
const cache = new Map<string, Promise<string>>();

function modelsDir(): string {
  if (!dir) {
    const created = mkdtempSync(join(tmpdir(), "hearth-test-models-"));
    dir = created;
    process.once("exit", () => rmSync(created, { recursive: true, force: true }));
  }
  return dir;
}

/** Path of a synthetic model with these options (defaults: tiny, f16, seed 1). */
export function testModel(opts: TestModelOptions = {}): Promise<string> {
  const params = opts.params ?? "tiny";
  const type = opts.type ?? "f16";
  const seed = opts.seed ?? 1;
  const key = `${params}-${type}-s${seed}`;
  let path = cache.get(key);
  if (!path) {
    path = synthesizeModel({ out: join(modelsDir(), `${key}.gguf`), params, type, seed }).then((r) => r.path);
    path.catch(() => cache.delete(key)); // let a later call retry after a failure
    cache.set(key, path);
  }
  return path;
}
