import { describe, expect, test } from "bun:test";
import { encode, f32ToF16Bits } from "../../runtime/model/gguf/index.ts";
import { bitsToF16 } from "../../runtime/model/gguf/f16.ts";
import { Rng } from "../../runtime/model/rng.ts";

const u16 = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8);
/** Half bits -> value, via the engine's own IEEE binary16 (an independent reference). */
const halfToFloat = (bits: number): number => new Float16Array(new Uint16Array([bits]).buffer)[0]!;

describe("f16", () => {
  test("matches IEEE round-to-nearest-even for edge cases and 200k random f32 bit patterns", () => {
    const f32 = new Float32Array(1);
    const bits = new Uint32Array(f32.buffer);
    const reference = new Float16Array(1);
    const refBits = new Uint16Array(reference.buffer);
    const edges = [0, -0, 1, -1, 65504, 65519.99, 65520, 1e9, -1e9, Infinity, -Infinity, 6.1e-5, 5.96e-8, 2.98e-8, 2.99e-8, 1e-10, 1.00048828125, 1.00146484375];
    const rng = new Rng(42);
    const values = [...edges, ...Array.from({ length: 200_000 }, () => ((bits[0] = rng.nextU32()), f32[0]!))];
    let mismatches = 0;
    for (const v of values) {
      if (Number.isNaN(v)) continue;
      reference[0] = v;
      if (f32ToF16Bits(v) !== refBits[0]) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(f32ToF16Bits(1.00048828125)).toBe(0x3c00); // tie -> even
    expect(f32ToF16Bits(1.00146484375)).toBe(0x3c02); // tie -> even (up)
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // rounds to inf
  });

  test("NaN becomes ggml's canonical quiet NaN, keeping the sign bit of the f32 pattern", () => {
    expect(f32ToF16Bits(NaN)).toBe(0x7e00);
    expect(bitsToF16(0xffc00001)).toBe(0xfe00);
    expect(bitsToF16(0x7f800001)).toBe(0x7e00); // signalling NaN too
  });

  test("encodes little-endian, two bytes per value", () => {
    const out = encode("f16", new Float32Array([1, -2, 0.5]));
    expect([...out]).toEqual([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38]);
  });
});

describe("q8_0", () => {
  test("block = f16 scale amax/127 then 32 int8 values rounded half away from zero", () => {
    const x = Float32Array.from({ length: 32 }, (_, j) => (j - 16) * 0.5); // amax 8 at j=0
    const out = encode("q8_0", x);
    expect(out.length).toBe(34);
    expect(u16(out, 0)).toBe(f32ToF16Bits(8 / 127));
    const q = new Int8Array(out.buffer, 2, 32);
    expect(q[0]).toBe(-127);
    expect(q[16]).toBe(0);
    expect(q[31]).toBe(119); // 7.5 * 127/8 = 119.06
    expect(q[1]).toBe(-119);
    expect(q[17]).toBe(8); // 0.5 * 15.875 = 7.94
  });

  test("dequantizes within half a step and encodes an all-zero block as zeros", () => {
    const x = new Float32Array(64);
    new Rng(7).fillNormal(x, 0.02);
    const out = encode("q8_0", x);
    expect(out.length).toBe(68);
    for (let b = 0; b < 2; b++) {
      const d = halfToFloat(u16(out, b * 34));
      const q = new Int8Array(out.buffer, b * 34 + 2, 32);
      for (let j = 0; j < 32; j++) expect(Math.abs(q[j]! * d - x[b * 32 + j]!)).toBeLessThanOrEqual(d * 0.51);
    }
    expect([...encode("q8_0", new Float32Array(32))].every((v) => v === 0)).toBe(true);
  });
});

describe("q4_0", () => {
  test("block = f16 scale max/-8, low nibbles hold values 0..15 and high nibbles values 16..31", () => {
    // First half -8..7 (max magnitude -8 at j=0, so d = 1), second half 7..-8.
    const x = Float32Array.from({ length: 32 }, (_, j) => (j < 16 ? j - 8 : 7 - (j - 16)));
    const out = encode("q4_0", x);
    expect(out.length).toBe(18);
    expect(u16(out, 0)).toBe(0x3c00); // d = +1.0
    for (let j = 0; j < 16; j++) expect(out[2 + j]).toBe(j | ((15 - j) << 4));
  });

  test("a positive extreme gives a negative scale; +/-8 land on nibbles 0 and 15 (clamped)", () => {
    const x = new Float32Array(32);
    x[0] = 8;
    x[1] = -8;
    const out = encode("q4_0", x);
    expect(u16(out, 0)).toBe(0xbc00); // d = -1.0
    expect(out[2]! & 0x0f).toBe(0); // 8 * -1 + 8.5 = 0.5 -> 0
    expect(out[3]! & 0x0f).toBe(15); // -8 * -1 + 8.5 = 16.5 -> 16 -> clamped to 15
    expect(out[4]! & 0x0f).toBe(8); // zero sits at 8
  });

  test("dequantizes within one step", () => {
    const x = new Float32Array(32 * 8);
    new Rng(9).fillNormal(x, 0.02);
    const out = encode("q4_0", x);
    for (let b = 0; b < 8; b++) {
      const d = halfToFloat(u16(out, b * 18));
      for (let j = 0; j < 32; j++) {
        const byte = out[b * 18 + 2 + (j % 16)]!;
        const q = j < 16 ? byte & 0x0f : byte >> 4;
        expect(Math.abs((q - 8) * d - x[b * 32 + j]!)).toBeLessThanOrEqual(Math.abs(d) * 1.01);
      }
    }
  });

  test("rejects lengths that are not whole blocks", () => {
    expect(() => encode("q4_0", new Float32Array(33))).toThrow(/block size/);
    expect(() => encode("q8_0", new Float32Array(16))).toThrow(/block size/);
  });
});

describe("rng", () => {
  test("is deterministic per (seed, stream) and gives ~N(0, std^2)", () => {
    const a = new Float32Array(100_000);
    const b = new Float32Array(100_000);
    new Rng(5, 1).fillNormal(a, 0.02);
    new Rng(5, 1).fillNormal(b, 0.02);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    new Rng(5, 2).fillNormal(b, 0.02);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(false);
    let sum = 0;
    let sq = 0;
    for (const v of a) {
      sum += v;
      sq += v * v;
    }
    expect(Math.abs(sum / a.length)).toBeLessThan(0.0005);
    expect(Math.sqrt(sq / a.length)).toBeCloseTo(0.02, 3);
  });
});
