import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { readGgufFileInfo } from "node-llama-cpp";
import { encode, gv, writeGguf, type TensorSource } from "../../runtime/model/gguf/index.ts";

const dir = mkdtempSync(join(tmpdir(), "hearth-gguf-writer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ramp = (n: number, scale = 0.01): Float32Array => Float32Array.from({ length: n }, (_, i) => ((i % 97) - 48) * scale);
/** A tensor whose values arrive in several chunks, like the synthesizer's. */
const tensor = (name: string, shape: number[], type: TensorSource["type"], chunk = 64): TensorSource => ({
  name,
  shape,
  type,
  *values() {
    const all = ramp(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < all.length; i += chunk) yield all.subarray(i, i + chunk);
  },
});

describe("writeGguf", () => {
  test("round-trips typed metadata, arrays and tensor infos through node-llama-cpp's reader", async () => {
    const path = join(dir, "kv.gguf");
    const tensors = [
      tensor("a.weight", [64, 3], "f32"),
      tensor("b.weight", [64, 2], "f16"),
      tensor("c.weight", [96, 2], "q8_0"),
      tensor("d.weight", [32, 5], "q4_0", 32),
      tensor("e.bias", [7], "f32", 7),
    ];
    const result = await writeGguf(path, {
      metadata: [
        ["general.architecture", gv.string("test")],
        ["general.alignment", gv.u32(64)],
        ["t.u8", { type: "u8", value: 200 }],
        ["t.i8", { type: "i8", value: -5 }],
        ["t.u16", { type: "u16", value: 60000 }],
        ["t.i16", { type: "i16", value: -30000 }],
        ["t.u32", gv.u32(4_000_000_000)],
        ["t.i32", gv.i32(-2_000_000_000)],
        ["t.f32", gv.f32(0.5)],
        ["t.f64", gv.f64(Math.PI)],
        ["t.u64", gv.u64(2n ** 40n)],
        ["t.i64", { type: "i64", value: -(2n ** 40n) }],
        ["t.bool", gv.bool(true)],
        ["t.str", gv.string("héllo — 🙂")],
        ["t.strs", gv.array("string", ["a", "", "▁b", "<0x0A>"])],
        ["t.f32s", gv.array("f32", new Float32Array([1.5, -2]))],
        ["t.i32s", gv.array("i32", [1, -2, 3])],
        ["t.bools", gv.array("bool", [true, false])],
      ],
      tensors,
    });
    const bytes = readFileSync(path);
    expect(result.sizeBytes).toBe(bytes.length);
    expect(result.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(bytes.subarray(0, 4).toString("latin1")).toBe("GGUF");
    expect(bytes.readUInt32LE(4)).toBe(3);

    const info = await readGgufFileInfo(path, { logWarnings: false });
    const t = (info.metadata as any).t;
    expect(info.version).toBe(3);
    expect(t).toMatchObject({ u8: 200, i8: -5, u16: 60000, i16: -30000, u32: 4_000_000_000, i32: -2_000_000_000, f32: 0.5, bool: true });
    expect(t.f64).toBe(Math.PI);
    expect(BigInt(t.u64)).toBe(2n ** 40n);
    expect(BigInt(t.i64)).toBe(-(2n ** 40n));
    expect(t.str).toBe("héllo — 🙂");
    expect(t.strs).toEqual(["a", "", "▁b", "<0x0A>"]);
    expect(t.f32s).toEqual([1.5, -2]);
    expect(t.i32s).toEqual([1, -2, 3]);
    expect(t.bools).toEqual([true, false]);

    // Tensor infos: names, dims, ggml type ids, offsets aligned to general.alignment = 64.
    const ti = info.tensorInfo!;
    expect(ti.map((x) => [x.name, x.dimensions.map(Number), x.ggmlType])).toEqual([
      ["a.weight", [64, 3], 0],
      ["b.weight", [64, 2], 1],
      ["c.weight", [96, 2], 8],
      ["d.weight", [32, 5], 2],
      ["e.bias", [7], 0],
    ]);
    expect(result.dataOffset % 64).toBe(0);
    // a: 768 B; b: 256 B; c: 6 q8_0 blocks = 204 -> 256; d: 5 q4_0 blocks = 90 -> 128; e: 28 -> 64.
    expect(ti.map((x) => Number(x.offset))).toEqual([0, 768, 1024, 1280, 1408]);
    // The bytes at each tensor's file offset are exactly its encoding; the file ends padded.
    for (const [i, src] of tensors.entries()) {
      const expected = encode(src.type, ramp(src.shape.reduce((a, b) => a * b, 1)));
      const at = Number(ti[i]!.fileOffset);
      expect(Buffer.from(bytes.subarray(at, at + expected.length)).equals(Buffer.from(expected))).toBe(true);
    }
    expect(bytes.length).toBe(result.dataOffset + 1408 + 64);
  });

  test("uses 32-byte alignment by default", async () => {
    const path = join(dir, "default-align.gguf");
    const r = await writeGguf(path, { metadata: [["x", gv.u8(1)]], tensors: [tensor("a", [32], "f16"), tensor("b", [4], "f32", 4)] });
    const info = await readGgufFileInfo(path, { logWarnings: false });
    expect(r.dataOffset % 32).toBe(0);
    expect(info.tensorInfo!.map((x) => Number(x.offset))).toEqual([0, 64]);
    expect(r.sizeBytes).toBe(r.dataOffset + 64 + 32);
  });

  test("rejects malformed input before writing a byte", async () => {
    const path = join(dir, "bad.gguf");
    const write = (metadata: any, tensors: TensorSource[] = []) => writeGguf(path, { metadata, tensors });
    await expect(write([["k", gv.u8(1)], ["k", gv.u8(2)]])).rejects.toThrow(/duplicated/);
    await expect(write([["general.alignment", gv.u32(48)]])).rejects.toThrow(/power of two/);
    await expect(write([["general.alignment", gv.u64(32)]])).rejects.toThrow(/u32/);
    await expect(write([["k", gv.u32(-1)]])).rejects.toThrow(/not a valid u32/);
    await expect(write([["k", gv.u8(256)]])).rejects.toThrow(/not a valid u8/);
    await expect(write([], [tensor("q", [48, 2], "q8_0")])).rejects.toThrow(/block size/);
    await expect(write([], [tensor("a", [32], "f32"), tensor("a", [32], "f32")])).rejects.toThrow(/duplicated/);
    await expect(write([], [tensor("x".repeat(64), [32], "f32")])).rejects.toThrow(/too long/);
    await expect(write([], [tensor("z", [0], "f32")])).rejects.toThrow(/bad shape/);
  });

  test("fails when a tensor yields the wrong number of values", async () => {
    const short: TensorSource = { name: "s", shape: [32, 2], type: "f32", values: () => [new Float32Array(32)] };
    await expect(writeGguf(join(dir, "short.gguf"), { metadata: [], tensors: [short] })).rejects.toThrow(/produced 32 values, expected 64/);
  });
});
