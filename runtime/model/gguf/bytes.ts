/**
 * A growable little-endian byte builder for the GGUF header section (metadata + tensor infos).
 * Tensor data never goes through here; it is streamed by the writer.
 */
const utf8 = new TextEncoder();

export class ByteBuilder {
  private buf = new Uint8Array(64 * 1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): number {
    const at = this.length;
    if (at + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < at + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.length += n;
    return at;
  }

  // reserve() may swap the buffer, so it must run before this.view / this.buf are read.
  private at(n: number): DataView {
    this.pos = this.reserve(n);
    return this.view;
  }
  private pos = 0;

  u8(v: number): void { this.at(1).setUint8(this.pos, v); }
  i8(v: number): void { this.at(1).setInt8(this.pos, v); }
  u16(v: number): void { this.at(2).setUint16(this.pos, v, true); }
  i16(v: number): void { this.at(2).setInt16(this.pos, v, true); }
  u32(v: number): void { this.at(4).setUint32(this.pos, v, true); }
  i32(v: number): void { this.at(4).setInt32(this.pos, v, true); }
  f32(v: number): void { this.at(4).setFloat32(this.pos, v, true); }
  f64(v: number): void { this.at(8).setFloat64(this.pos, v, true); }
  u64(v: bigint | number): void { this.at(8).setBigUint64(this.pos, BigInt(v), true); }
  i64(v: bigint | number): void { this.at(8).setBigInt64(this.pos, BigInt(v), true); }

  /** GGUF string: u64 byte length, then UTF-8 bytes with no terminator. */
  string(s: string): void {
    const bytes = utf8.encode(s);
    this.u64(bytes.length);
    const at = this.reserve(bytes.length);
    this.buf.set(bytes, at);
  }

  /** Zero bytes up to the next multiple of `alignment` (relative to the start of the builder). */
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    const at = this.reserve(pad);
    this.buf.fill(0, at, this.length);
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
