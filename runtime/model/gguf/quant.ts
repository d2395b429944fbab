/**
 * q8_0 and q4_0 block encoders, ports of ggml's reference quantizers
 * (`quantize_row_q8_0_ref` / `quantize_row_q4_0_ref` in ggml-quants.c). Every intermediate goes
 * through Math.fround because ggml computes in f32; that keeps the output bit-identical.
 */
import { f32ToF16Bits } from "./f16.ts";

const QK = 32;
const fr = Math.fround;

/**
 * C `roundf`: halves round away from zero (Math.round would round -2.5 to -2). |x| + 0.5 is
 * exact in a double for any f32 of this magnitude, so floor() gives the same result as roundf.
 */
function roundAway(x: number): number {
  return x < 0 ? -Math.floor(0.5 - x) : Math.floor(x + 0.5);
}

/** 34-byte blocks: f16 scale d = amax/127, then 32 int8 values round(x/d). */
export function encodeQ8_0(src: Float32Array, dst: Uint8Array, offset = 0): void {
  if (src.length % QK !== 0) throw new Error(`q8_0 needs a multiple of ${QK} values, got ${src.length}`);
  let o = offset;
  for (let b = 0; b < src.length; b += QK) {
    let amax = 0;
    for (let j = 0; j < QK; j++) {
      const a = Math.abs(src[b + j]!);
      if (a > amax) amax = a;
    }
    const d = fr(amax / 127);
    const id = d !== 0 ? fr(1 / d) : 0;
    const h = f32ToF16Bits(d);
    dst[o] = h & 0xff;
    dst[o + 1] = h >>> 8;
    for (let j = 0; j < QK; j++) dst[o + 2 + j] = roundAway(fr(src[b + j]! * id)) & 0xff;
    o += 2 + QK;
  }
}

/**
 * 18-byte blocks: f16 scale d = max/-8 (max = the signed value of largest magnitude), then 16
 * bytes whose low nibbles hold values 0..15 of the block and high nibbles values 16..31,
 * each stored as min(15, trunc(x/d + 8.5)).
 */
export function encodeQ4_0(src: Float32Array, dst: Uint8Array, offset = 0): void {
  if (src.length % QK !== 0) throw new Error(`q4_0 needs a multiple of ${QK} values, got ${src.length}`);
  let o = offset;
  for (let b = 0; b < src.length; b += QK) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = src[b + j]!;
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fr(max / -8);
    const id = d !== 0 ? fr(1 / d) : 0;
    const h = f32ToF16Bits(d);
    dst[o] = h & 0xff;
    dst[o + 1] = h >>> 8;
    for (let j = 0; j < QK / 2; j++) {
      const x0 = fr(src[b + j]! * id);
      const x1 = fr(src[b + QK / 2 + j]! * id);
      const q0 = Math.min(15, Math.trunc(fr(x0 + 8.5)));
      const q1 = Math.min(15, Math.trunc(fr(x1 + 8.5)));
      dst[o + 2 + j] = q0 | (q1 << 4);
    }
    o += 2 + QK / 2;
  }
}
