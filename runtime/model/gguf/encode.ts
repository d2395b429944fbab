/** Encodes f32 values into a tensor type's on-disk bytes (one dispatch point for the writer). */
import { encodeF16 } from "./f16.ts";
import { encodeQ4_0, encodeQ8_0 } from "./quant.ts";
import { tensorByteSize, type TensorType } from "./types.ts";

/** Writes the encoding of `src` into `dst` at byte `offset`; returns the number of bytes written. */
export function encodeInto(type: TensorType, src: Float32Array, dst: Uint8Array, offset = 0): number {
  const size = tensorByteSize(type, src.length);
  if (offset + size > dst.length) throw new Error(`encode buffer too small: need ${offset + size}, have ${dst.length}`);
  switch (type) {
    case "f32":
      // Typed arrays are host-endian; every platform Bun supports is little-endian, as GGUF requires.
      dst.set(new Uint8Array(src.buffer, src.byteOffset, size), offset);
      break;
    case "f16":
      encodeF16(src, dst, offset);
      break;
    case "q8_0":
      encodeQ8_0(src, dst, offset);
      break;
    case "q4_0":
      encodeQ4_0(src, dst, offset);
      break;
  }
  return size;
}

/** Convenience for tests and small tensors: a fresh buffer holding the encoding. */
export function encode(type: TensorType, src: Float32Array): Uint8Array {
  const out = new Uint8Array(tensorByteSize(type, src.length));
  encodeInto(type, src, out);
  return out;
}
