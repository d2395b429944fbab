import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { isHearthError } from "../../runtime/errors.ts";
import { describeModel } from "../../runtime/model/info.ts";
import { CHATML_TEMPLATE } from "../../runtime/model/llama-metadata.ts";
import { parameterCount, PRESETS } from "../../runtime/model/presets.ts";
import { testModel } from "../helpers/models.ts";

const dir = mkdtempSync(join(tmpdir(), "hearth-info-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function codeOf(path: string): Promise<{ code?: string; message?: string }> {
  const err = await describeModel(path).then(() => null, (e: unknown) => e);
  return isHearthError(err) ? { code: err.code, message: err.message } : { message: String(err) };
}

describe("describeModel", () => {
  test("reports the intended metadata of the tiny model", async () => {
    const path = await testModel();
    const d = PRESETS.tiny;
    expect(await describeModel(path)).toEqual({
      path,
      architecture: "llama",
      name: "hearth-synth-tiny-f16-s1",
      fileType: "F16",
      sizeBytes: readFileSync(path).length,
      parameters: parameterCount(d),
      contextLength: d.contextLength,
      embeddingLength: d.nEmbd,
      layers: d.nLayer,
      heads: d.nHead,
      kvHeads: d.nHeadKv,
      vocabSize: d.vocabSize,
      hasChatTemplate: true,
      ggufVersion: 3,
    });
  });

  test("reports each quantized type", async () => {
    expect((await describeModel(await testModel({ type: "q8_0" }))).fileType).toBe("Q8_0");
    expect((await describeModel(await testModel({ type: "q4_0" }))).fileType).toBe("Q4_0");
    expect((await describeModel(await testModel({ type: "f32" }))).fileType).toBe("F32");
  });

  test("garbage, empty and truncated files are gguf_invalid; a missing file is model_not_found", async () => {
    const good = readFileSync(await testModel());
    const files: Record<string, Uint8Array> = {
      garbage: Uint8Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff),
      empty: new Uint8Array(0),
      text: new TextEncoder().encode("this is not a model\n"),
      "cut-in-metadata": good.subarray(0, 20_000),
      "cut-in-tensor-data": good.subarray(0, good.length - 1000),
      "header-only": good.subarray(0, 24),
    };
    for (const [name, bytes] of Object.entries(files)) {
      const path = join(dir, `${name}.gguf`);
      writeFileSync(path, bytes);
      const r = await codeOf(path);
      expect({ name, code: r.code }).toEqual({ name, code: "gguf_invalid" });
      expect(r.message!.startsWith(`${path}: `)).toBe(true);
    }
    expect((await codeOf(join(dir, "garbage.gguf"))).message).toContain("not a GGUF file");
    expect((await codeOf(join(dir, "cut-in-tensor-data.gguf"))).message).toContain("truncated");
    expect((await codeOf(dir)).code).toBe("gguf_invalid");
    expect((await codeOf(join(dir, "missing.gguf"))).code).toBe("model_not_found");
  });
});

describe("readGgufFileInfo on a synthetic model", () => {
  test("sees llama hparams, a byte-fallback SPM tokenizer and a ChatML template", async () => {
    const info = await readGgufFileInfo(await testModel({ type: "q4_0" }), { logWarnings: false });
    const m = info.metadata as any;
    expect(m.general).toMatchObject({ architecture: "llama", file_type: 2, quantization_version: 2 });
    expect(m.llama).toMatchObject({
      context_length: 2048,
      embedding_length: 64,
      block_count: 2,
      feed_forward_length: 192,
      vocab_size: 2048,
      attention: { head_count: 4, head_count_kv: 2 },
      rope: { dimension_count: 16, freq_base: 10000 },
    });
    expect(m.llama.attention.layer_norm_rms_epsilon).toBeCloseTo(1e-5, 9);
    const tk = m.tokenizer;
    expect(tk.ggml).toMatchObject({ model: "llama", bos_token_id: 1, eos_token_id: 2, unknown_token_id: 0, eot_token_id: 4, add_bos_token: true, add_eos_token: false });
    expect(tk.ggml.tokens.length).toBe(2048);
    expect(tk.ggml.scores.length).toBe(2048);
    expect(tk.ggml.token_type.length).toBe(2048);
    expect(tk.ggml.tokens.slice(0, 6)).toEqual(["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "<0x00>"]);
    expect(tk.chat_template).toBe(CHATML_TEMPLATE);
    // Matrices carry the file's type; norms stay f32 (ggml type 0); q4_0 is ggml type 2.
    const types = new Map(info.tensorInfo!.map((t) => [t.name, t.ggmlType as number]));
    expect(types.get("blk.0.attn_norm.weight")).toBe(0);
    expect(types.get("output_norm.weight")).toBe(0);
    expect(types.get("blk.1.ffn_down.weight")).toBe(2);
    expect(types.get("token_embd.weight")).toBe(2);
    expect(info.tensorInfo!.length).toBe(3 + 9 * 2);
  });
});

describe("header check before node-llama-cpp parses", () => {
  const headerDir = mkdtempSync(join(tmpdir(), "hearth-header-"));
  const write = (name: string, bytes: Buffer | string) => {
    const p = join(headerDir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const header = (version: number, tensors: bigint, kvs: bigint) => {
    const b = Buffer.alloc(24);
    b.write("GGUF", 0, "latin1");
    b.writeUInt32LE(version, 4);
    b.writeBigUInt64LE(tensors, 8);
    b.writeBigUInt64LE(kvs, 16);
    return b;
  };
  test.each([
    ["magic with text after it", "GGUF but not really a model, just some text", "unsupported GGUF version"],
    ["version 7", header(7, 0n, 0n), "unsupported GGUF version 7"],
    ["impossible tensor count", header(3, 1n << 40n, 0n), "corrupt header"],
    ["impossible metadata count", header(3, 0n, 1n << 50n), "corrupt header"],
    ["short header", Buffer.from("GGUF\u0003\u0000"), "truncated"],
  ])("%s is refused at once", async (_name, bytes, reason) => {
    const path = write(`${_name.replaceAll(" ", "-")}.gguf`, bytes);
    const err = await describeModel(path).catch((e) => e);
    expect(err.code).toBe("gguf_invalid");
    expect(err.message).toContain(path);
    expect(err.message).toContain(reason);
  });
});
