/**
 * LoRA adapters for the tiny test model, good and bad, synthesized once per test process into a
 * private temp dir. The bad ones each break one rule of llama.cpp's adapter loader.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gv, writeGguf, type GgufMetadata } from "../../runtime/model/gguf/index.ts";
import { loraMetadata, loraPairShapes, LORA_A, LORA_B } from "../../runtime/model/lora/format.ts";
import { synthesizeLora } from "../../runtime/model/lora/synth.ts";
import { PRESETS } from "../../runtime/model/presets.ts";
import { testModel } from "../helpers/models.ts";

export interface LoraFixtures {
  /** The tiny f16 test model (seed 1). */
  base: string;
  /** A rank-8 adapter for it (attn_q and attn_v, seed 1). */
  adapter: string;
  adapterSha256: string;
  adapterSize: number;
  /** An adapter for the 20m preset: llama architecture, other shapes. */
  for20m: string;
  /** adapter.lora.alpha stored as f64: llama.cpp would abort the process on it. */
  f64Alpha: string;
  /** adapter.alora.invocation_tokens as a string: passes the checks, llama.cpp itself refuses it. */
  badAlora: string;
}

/** A minimal adapter for the tiny model (one zero pair) with its metadata edited. */
export async function handMade(path: string, edit: (md: GgufMetadata) => GgufMetadata): Promise<string> {
  const name = "blk.0.attn_q.weight";
  const { a, b } = loraPairShapes([PRESETS.tiny.nEmbd, PRESETS.tiny.nEmbd], 4);
  const zeros = (shape: number[]) => () => [new Float32Array(shape[0]! * shape[1]!)];
  await writeGguf(path, {
    metadata: edit(loraMetadata({ architecture: "llama", name: "hand-made", alpha: 4 })),
    tensors: [
      { name: `${name}${LORA_A}`, shape: a, type: "f32", values: zeros(a) },
      { name: `${name}${LORA_B}`, shape: b, type: "f32", values: zeros(b) },
    ],
  });
  return path;
}

let fixtures: Promise<LoraFixtures> | undefined;
export function loraFixtures(): Promise<LoraFixtures> {
  fixtures ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "hearth-test-loras-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    const [base, big] = await Promise.all([testModel(), testModel({ params: "20m", type: "q4_0" })]);
    const adapter = await synthesizeLora({ out: join(dir, "adapter.gguf"), base, seed: 1 });
    // Rank 2 on attn_q only: the shapes are wrong for tiny all the same, and the file stays small.
    const for20m = await synthesizeLora({ out: join(dir, "for-20m.gguf"), base: big, rank: 2, targets: ["attn_q"] });
    return {
      base,
      adapter: adapter.path,
      adapterSha256: adapter.sha256,
      adapterSize: adapter.sizeBytes,
      for20m: for20m.path,
      f64Alpha: await handMade(join(dir, "f64-alpha.gguf"), (md) => md.map(([k, v]) => [k, k === "adapter.lora.alpha" ? gv.f64(4) : v] as const)),
      badAlora: await handMade(join(dir, "bad-alora.gguf"), (md) => [...md, ["adapter.alora.invocation_tokens", gv.string("oops")]]),
    };
  })();
  return fixtures;
}
