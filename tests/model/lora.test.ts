/** Synthetic LoRA adapters: deterministic files in llama.cpp's adapter format, and the checks that refuse bad ones. */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGgufFileInfo, type GgufFileInfo } from "node-llama-cpp";
import { isHearthError } from "../../runtime/errors.ts";
import { gv } from "../../runtime/model/gguf/index.ts";
import { checkLoraFile } from "../../runtime/model/lora/check.ts";
import { storedTypes } from "../../runtime/model/lora/kv-types.ts";
import { synthesizeLora } from "../../runtime/model/lora/synth.ts";
import { PRESETS } from "../../runtime/model/presets.ts";
import { hearth } from "../helpers/cli.ts";
import { handMade, loraFixtures } from "./lora-fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "hearth-lora-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");
const info = (path: string): Promise<GgufFileInfo> => readGgufFileInfo(path, { sourceType: "filesystem", logWarnings: false });
async function failure(p: Promise<unknown>): Promise<{ code?: string; field?: string; message: string }> {
  const err = await p.then(() => null, (e: unknown) => e);
  if (!isHearthError(err)) throw new Error(`expected a HearthError, got ${String(err)}`);
  return { code: err.code, field: err.field, message: err.message };
}

describe("synthesizeLora", () => {
  test("is deterministic by seed: same options give the same bytes, another seed others", async () => {
    const { base } = await loraFixtures();
    const a = await synthesizeLora({ out: join(dir, "a.gguf"), base, seed: 5 });
    const b = await synthesizeLora({ out: join(dir, "b.gguf"), base, seed: 5 });
    const c = await synthesizeLora({ out: join(dir, "c.gguf"), base, seed: 6 });
    expect(readFileSync(a.path).equals(readFileSync(b.path))).toBe(true);
    expect(a.sha256).toBe(sha(a.path));
    expect(c.sha256).not.toBe(a.sha256);
    expect(readFileSync(a.path).length).toBe(a.sizeBytes);
  });

  test("writes llama.cpp's adapter format: metadata, f32 alpha, A/B pairs shaped from the base", async () => {
    const { base } = await loraFixtures();
    const d = PRESETS.tiny;
    const kvDim = (d.nEmbd / d.nHead) * d.nHeadKv;
    const r = await synthesizeLora({ out: join(dir, "shape.gguf"), base, rank: 4, targets: ["attn_v", "ffn_down"], type: "f32" });
    expect(r).toMatchObject({ architecture: "llama", rank: 4, alpha: 4, matrices: 2 * d.nLayer, targets: ["attn_v", "ffn_down"] });
    const file = await info(r.path);
    expect(file.metadata).toMatchObject({ general: { type: "adapter", architecture: "llama" }, adapter: { type: "lora", lora: { alpha: 4 } } });
    expect((await storedTypes(r.path, ["adapter.lora.alpha"])).get("adapter.lora.alpha")).toBe("f32");
    const shapes = Object.fromEntries((file.fullTensorInfo ?? []).map((t) => [t.name, t.dimensions.map(Number)]));
    expect(Object.keys(shapes)).toHaveLength(4 * d.nLayer);
    expect(shapes["blk.1.attn_v.weight.lora_a"]).toEqual([d.nEmbd, 4]);
    expect(shapes["blk.1.attn_v.weight.lora_b"]).toEqual([4, kvDim]);
    expect(shapes["blk.0.ffn_down.weight.lora_a"]).toEqual([d.nFf, 4]);
    expect(shapes["blk.0.ffn_down.weight.lora_b"]).toEqual([4, d.nEmbd]);
    await checkLoraFile(r.path, await info(base));
  });

  test("rejects invalid options naming the field, and writes nothing", async () => {
    const { base } = await loraFixtures();
    const out = join(dir, "never.gguf");
    const cases: [unknown, string, string][] = [
      [{ out, base, rank: 0 }, "rank", "invalid_request"],
      [{ out, base, alpha: 0 }, "alpha", "invalid_request"],
      [{ out, base, targets: [] }, "targets", "invalid_request"],
      [{ out, base, targets: ["attn_z"] }, "targets[0]", "invalid_request"],
      [{ out, base, type: "q4_0" }, "type", "invalid_request"],
      [{ out }, "base", "invalid_request"],
      [{ out, base: join(dir, "missing.gguf") }, "base", "model_not_found"],
    ];
    for (const [opts, field, code] of cases) expect(await failure(synthesizeLora(opts as never))).toMatchObject({ field, code });
    expect(() => readFileSync(out)).toThrow();
  });

  test("hearth model synth-lora writes the same file as the API", async () => {
    const { base, adapterSha256 } = await loraFixtures();
    const out = join(dir, "cli.gguf");
    const res = await hearth(["model", "synth-lora", "--base", base, "--out", out, "--seed", "1", "--json"]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ path: out, rank: 8, alpha: 8, sha256: adapterSha256 });
    const bad = await hearth(["model", "synth-lora", "--base", base, "--out", out, "--alpha", "lots"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('alpha: "lots" must be a number');
  });
});

describe("checkLoraFile", () => {
  test("refuses, with the reason, every file llama.cpp would refuse or crash on", async () => {
    const f = await loraFixtures();
    const base = await info(f.base);
    const text = join(dir, "notes.gguf");
    writeFileSync(text, "these are not weights");
    const arch = await handMade(join(dir, "qwen.gguf"), (md) => md.map(([k, v]) => [k, k === "general.architecture" ? gv.string("qwen2") : v] as const));
    const cases: [string, string, RegExp][] = [
      [join(dir, "missing.gguf"), "model_not_found", /no such file/],
      [text, "gguf_invalid", /not a GGUF file/],
      [f.base, "gguf_invalid", /not a LoRA adapter: general\.type is missing, not "adapter" \(this looks like a model file\)/],
      [arch, "gguf_invalid", /made for the "qwen2" architecture but the model is "llama"/],
      [f.for20m, "gguf_invalid", /shape mismatch: blk\.\d+\.attn_q\.weight\.lora_a is \[384, 2\] .* the model's blk\.\d+\.attn_q\.weight is \[64, 64\]/],
      [f.f64Alpha, "gguf_invalid", /adapter\.lora\.alpha is stored as f64; llama\.cpp needs a single f32/],
    ];
    for (const [path, code, reason] of cases) {
      const err = await failure(checkLoraFile(path, base));
      expect(err.code).toBe(code);
      expect(err.message).toStartWith(path);
      expect(err.message).toMatch(reason);
    }
  });

  test("the stored-type scanner skips large arrays to reach later keys", async () => {
    const { base } = await loraFixtures();
    const types = await storedTypes(base, ["tokenizer.ggml.scores", "tokenizer.chat_template", "no.such.key"]);
    expect(Object.fromEntries(types)).toEqual({ "tokenizer.ggml.scores": "array", "tokenizer.chat_template": "string" });
  });
});
