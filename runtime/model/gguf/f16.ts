/**
 * IEEE binary16 encoding with round-to-nearest-even, bit-identical to ggml's
 * `ggml_compute_fp32_to_fp16` (NaN becomes the canonical quiet NaN 0x7E00 with the sign kept).
 * Done with integer ops on the float's bits so the result never depends on the JS engine.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Half-precision bits of `value` (after rounding it to f32, as ggml sees it). */
export function f32ToF16Bits(value: number): number {
  f32[0] = value;
  return bitsToF16(u32[0]!);
}

/** Same as f32ToF16Bits but takes the f32 bit pattern directly (hot loops read via a Uint32Array view). */
export function bitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | (mant !== 0 ? 0x7e00 : 0x7c00);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    // f16 subnormal (or zero): shift the implicit-1 mantissa into place and round.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and reaches inf at the top).
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/** Encodes `src` as little-endian f16 into `dst` starting at byte `offset`. */
export function encodeF16(src: Float32Array, dst: Uint8Array, offset = 0): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const at = dst.byteOffset + offset;
  if (at % 2 === 0) {
    // Aligned fast path (the writer's buffers always are); typed arrays are little-endian here.
    const out = new Uint16Array(dst.buffer, at, src.length);
    for (let i = 0; i < bits.length; i++) out[i] = bitsToF16(bits[i]!);
    return;
  }
  const view = new DataView(dst.buffer, at, src.length * 2);
  for (let i = 0; i < bits.length; i++) view.setUint16(i * 2, bitsToF16(bits[i]!), true);
}
