/**
 * Where a GGUF's header (metadata and tensor infos) ends, from a prefix of the file: the agent
 * fetches the first bytes of each candidate file by Range and grows the prefix until the header
 * is in it, so the fit logic can judge a multi-GB file from a few MB.
 */
import { GgufValueType } from "../../runtime/model/gguf/types.ts";

const SCALAR_BYTES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

class Short extends Error {}

/** Reads forward through a prefix; running past its end means "fetch more". */
class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): number {
    if (this.pos + n > this.buf.byteLength) throw new Short();
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  u64(): number {
    const v = this.view.getBigUint64(this.need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`a length of ${v} at byte ${this.pos - 8}`);
    return Number(v);
  }
  skip(n: number): void {
    this.need(n);
  }
}

function skipValue(r: Reader, type: number): void {
  if (type === GgufValueType.string) return r.skip(r.u64());
  if (type === GgufValueType.array) {
    const item = r.u32();
    const count = r.u64();
    if (item === GgufValueType.array) throw new Error("nested metadata arrays are not GGUF");
    if (item === GgufValueType.string) for (let i = 0; i < count; i++) r.skip(r.u64());
    else r.skip(count * scalarBytes(item));
    return;
  }
  r.skip(scalarBytes(type));
}

function scalarBytes(type: number): number {
  const n = SCALAR_BYTES[type];
  if (n === undefined) throw new Error(`unknown metadata value type ${type}`);
  return n;
}

/**
 * The byte offset where the tensor infos end, or null when `prefix` stops before that. Throws an
 * Error for bytes that are not a GGUF header.
 */
export function ggufHeaderEnd(prefix: Uint8Array): number | null {
  const r = new Reader(prefix);
  try {
    if (prefix.byteLength >= 4 && new TextDecoder().decode(prefix.subarray(0, 4)) !== "GGUF") throw new Error("not a GGUF file (bad magic)");
    r.skip(4);
    const version = r.u32();
    if (version !== 2 && version !== 3) throw new Error(`unsupported GGUF version ${version}`);
    const tensors = r.u64();
    const kvs = r.u64();
    for (let i = 0; i < kvs; i++) {
      r.skip(r.u64()); // key
      skipValue(r, r.u32());
    }
    for (let i = 0; i < tensors; i++) {
      r.skip(r.u64()); // name
      const dims = r.u32();
      r.skip(dims * 8 + 4 + 8); // dims, type, offset
    }
    return r.pos;
  } catch (err) {
    if (err instanceof Short) return null;
    throw err;
  }
}
