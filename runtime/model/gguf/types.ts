/**
 * GGUF / ggml enums and block geometry, mirroring ggml/include/gguf.h and ggml.h.
 * Only the tensor types the synthesizer emits are listed; the numeric ids are the on-disk values.
 */

/** GGUF metadata value type ids (gguf.h `enum gguf_type`). */
export const GgufValueType = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;
export type GgufScalarTypeName = Exclude<keyof typeof GgufValueType, "array">;

/** ggml tensor type ids (ggml.h `enum ggml_type`). */
export const GgmlType = { f32: 0, f16: 1, q4_0: 2, q8_0: 8 } as const;
export type TensorType = keyof typeof GgmlType;

/** Elements per block and bytes per block (ggml_blck_size / ggml_type_size). */
export const BLOCK: Record<TensorType, { elements: number; bytes: number }> = {
  f32: { elements: 1, bytes: 4 },
  f16: { elements: 1, bytes: 2 },
  q8_0: { elements: 32, bytes: 2 + 32 }, // f16 scale + 32 x int8
  q4_0: { elements: 32, bytes: 2 + 16 }, // f16 scale + 16 bytes of packed nibbles
};

/**
 * `general.file_type` values (llama.h `enum llama_ftype`): what llama.cpp reports as the
 * model's "mostly X" type. Distinct from the per-tensor ggml type ids above.
 */
export const FileType: Record<TensorType, number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7 };

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Encoded byte size of `elements` values of `type`; throws if not a whole number of blocks. */
export function tensorByteSize(type: TensorType, elements: number): number {
  const b = BLOCK[type];
  if (elements % b.elements !== 0) {
    throw new Error(`${elements} elements is not a multiple of the ${type} block size ${b.elements}`);
  }
  return (elements / b.elements) * b.bytes;
}
