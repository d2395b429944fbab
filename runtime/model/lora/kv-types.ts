/**
 * The stored GGUF value types of chosen metadata keys. node-llama-cpp's reader returns values
 * without their types, but llama.cpp reads an adapter's `adapter.lora.alpha` with gguf_get_val_f32,
 * which aborts the whole process (GGML_ASSERT) when the value is not a single f32.
 */
import { open, type FileHandle } from "node:fs/promises";
import { GgufValueType, type GgufScalarTypeName } from "../gguf/types.ts";

export type StoredType = GgufScalarTypeName | "array";

const NAME_OF = new Map<number, StoredType>(Object.entries(GgufValueType).map(([name, id]) => [id, name as StoredType]));
const SCALAR_BYTES: Partial<Record<StoredType, number>> = {
  u8: 1, i8: 1, bool: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, u64: 8, i64: 8, f64: 8,
};

/** Reads forward through a file in windows, so a large vocabulary array is skipped cheaply. */
class Cursor {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  pos = 0;
  constructor(private readonly file: FileHandle, private readonly size: number) {}

  private async need(n: number): Promise<number> {
    if (this.pos + n > this.size) throw new Error(`truncated metadata at byte ${this.pos}`);
    if (this.pos < this.bufStart || this.pos + n > this.bufStart + this.buf.length) {
      this.buf = Buffer.alloc(Math.max(n, 64 * 1024));
      await this.file.read(this.buf, 0, this.buf.length, this.pos);
      this.bufStart = this.pos;
    }
    const at = this.pos - this.bufStart;
    this.pos += n;
    return at;
  }

  // need() may swap the buffer, so it runs before this.buf is read.
  async u32(): Promise<number> {
    const at = await this.need(4);
    return this.buf.readUInt32LE(at);
  }
  async u64(): Promise<number> {
    const at = await this.need(8);
    const v = this.buf.readBigUInt64LE(at);
    if (v > BigInt(this.size)) throw new Error(`length ${v} at byte ${this.pos - 8} exceeds the file`);
    return Number(v);
  }
  async string(): Promise<string> {
    const n = await this.u64();
    const at = await this.need(n);
    return this.buf.toString("utf8", at, at + n);
  }
  skip(n: number): void {
    if (this.pos + n > this.size) throw new Error(`truncated metadata at byte ${this.pos}`);
    this.pos += n;
  }
}

async function skipValue(c: Cursor, type: StoredType): Promise<void> {
  if (type === "string") return c.skip(await c.u64());
  const bytes = SCALAR_BYTES[type];
  if (bytes !== undefined) return c.skip(bytes);
  throw new Error(`unexpected value type ${type}`);
}

/**
 * Stored types of `keys` (absent keys are left out). Expects a header already checked by
 * checkGgufHeader; throws a plain Error on anything malformed.
 */
export async function storedTypes(path: string, keys: readonly string[]): Promise<Map<string, StoredType>> {
  const wanted = new Set(keys);
  const found = new Map<string, StoredType>();
  const file = await open(path, "r");
  try {
    const c = new Cursor(file, (await file.stat()).size);
    c.skip(16); // magic, version, tensor count
    const kvs = await c.u64();
    for (let i = 0; i < kvs && found.size < wanted.size; i++) {
      const key = await c.string();
      const type = NAME_OF.get(await c.u32());
      if (!type) throw new Error(`metadata ${key} has an unknown value type`);
      if (wanted.has(key)) found.set(key, type);
      if (type !== "array") {
        await skipValue(c, type);
        continue;
      }
      const itemType = NAME_OF.get(await c.u32());
      if (!itemType || itemType === "array") throw new Error(`metadata ${key} has an unsupported array type`);
      const count = await c.u64();
      if (itemType !== "string") c.skip(count * SCALAR_BYTES[itemType]!);
      else for (let j = 0; j < count; j++) await skipValue(c, "string");
    }
    return found;
  } finally {
    await file.close();
  }
}
