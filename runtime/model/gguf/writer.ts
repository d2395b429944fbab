/**
 * GGUF v3 writer. Layout (ggml/src/gguf.cpp): header, metadata KVs, tensor infos, zero padding
 * to the alignment, then each tensor's data padded to the alignment. Tensor offsets are relative
 * to the start of the data section, so they are computed up front from shapes and types, and the
 * data is then streamed tensor by tensor.
 */
import { ByteBuilder } from "./bytes.ts";
import { encodeInto } from "./encode.ts";
import { writeKv, type GgufMetadata } from "./metadata.ts";
import { FileSink } from "./sink.ts";
import { BLOCK, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, GgmlType, tensorByteSize, type TensorType } from "./types.ts";

export interface TensorSource {
  /** e.g. "blk.0.attn_q.weight"; ggml caps names at 63 bytes. */
  name: string;
  /** ggml order: shape[0] is the contiguous row length (ne0), then ne1, ... (max 4 dims). */
  shape: readonly number[];
  type: TensorType;
  /**
   * Yields the values in storage order, in chunks whose lengths are multiples of the type's
   * block size. Called once, while the tensor is being written; chunks may reuse one buffer.
   */
  values(): Iterable<Float32Array>;
}

export interface GgufWriteResult {
  sizeBytes: number;
  /** Hex sha256 of the whole file, hashed while streaming (no re-read). */
  sha256: string;
  /** Byte offset of the tensor data section. */
  dataOffset: number;
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;
const elementsOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function alignmentOf(metadata: GgufMetadata): number {
  const entry = metadata.find(([k]) => k === "general.alignment");
  if (!entry) return GGUF_DEFAULT_ALIGNMENT;
  const v = entry[1];
  if (v.type !== "u32" || v.value <= 0 || (v.value & (v.value - 1)) !== 0) {
    throw new Error("general.alignment must be a u32 power of two"); // same rule as gguf.cpp
  }
  return v.value;
}

function validate(metadata: GgufMetadata, tensors: readonly TensorSource[]): void {
  const keys = new Set<string>();
  for (const [k] of metadata) {
    if (!k || keys.has(k)) throw new Error(`metadata key ${JSON.stringify(k)} is empty or duplicated`);
    keys.add(k);
  }
  const names = new Set<string>();
  for (const t of tensors) {
    if (!t.name || new TextEncoder().encode(t.name).length >= 64 || names.has(t.name)) {
      throw new Error(`tensor name ${JSON.stringify(t.name)} is empty, too long or duplicated`);
    }
    names.add(t.name);
    if (t.shape.length < 1 || t.shape.length > 4 || t.shape.some((d) => !Number.isSafeInteger(d) || d <= 0)) {
      throw new Error(`tensor ${t.name}: bad shape [${t.shape.join(", ")}]`);
    }
    if (t.shape[0]! % BLOCK[t.type].elements !== 0) {
      throw new Error(`tensor ${t.name}: row length ${t.shape[0]} is not a multiple of the ${t.type} block size`);
    }
  }
}

/** Serializes everything before the tensor data, padded so the data section starts aligned. */
function buildHeader(metadata: GgufMetadata, tensors: readonly TensorSource[], alignment: number): ByteBuilder {
  const out = new ByteBuilder();
  out.u32(GGUF_MAGIC);
  out.u32(GGUF_VERSION);
  out.i64(tensors.length);
  out.i64(metadata.length);
  for (const [key, value] of metadata) writeKv(out, key, value);
  let offset = 0;
  for (const t of tensors) {
    out.string(t.name);
    out.u32(t.shape.length);
    for (const d of t.shape) out.i64(d);
    out.i32(GgmlType[t.type]);
    out.u64(offset);
    offset += align(tensorByteSize(t.type, elementsOf(t.shape)), alignment);
  }
  out.padTo(alignment);
  return out;
}

/** Writes a complete GGUF file to `path` (truncating it), streaming tensor data, then fsyncs. */
export async function writeGguf(
  path: string,
  { metadata, tensors }: { metadata: GgufMetadata; tensors: readonly TensorSource[] },
): Promise<GgufWriteResult> {
  validate(metadata, tensors);
  const alignment = alignmentOf(metadata);
  const header = buildHeader(metadata, tensors, alignment);
  const sink = await FileSink.create(path);
  try {
    await sink.write(header.bytes());
    const dataOffset = sink.position;
    for (const t of tensors) {
      const expected = elementsOf(t.shape);
      let seen = 0;
      for (const chunk of t.values()) {
        seen += chunk.length;
        if (seen > expected) break;
        const size = tensorByteSize(t.type, chunk.length);
        const { buf, offset } = await sink.reserve(size);
        encodeInto(t.type, chunk, buf, offset);
        sink.commit(size);
      }
      if (seen !== expected) throw new Error(`tensor ${t.name}: produced ${seen} values, expected ${expected}`);
      const bytes = tensorByteSize(t.type, expected);
      await sink.zeros(align(bytes, alignment) - bytes);
    }
    const sizeBytes = sink.position;
    return { sizeBytes, sha256: await sink.close(), dataOffset };
  } catch (err) {
    await sink.abort();
    throw err;
  }
}
