/**
 * Buffered, hashing file sink. Tensor data is produced chunk by chunk and encoded straight into
 * a fixed staging buffer, so writing a multi-hundred-MB model needs only a few MB of memory.
 */
import { createHash, type Hash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";

export class FileSink {
  private staging: Uint8Array;
  private used = 0;
  private readonly hash: Hash = createHash("sha256");
  /** Total bytes accepted so far (= the file offset of the next byte). */
  position = 0;

  private constructor(private readonly fh: FileHandle, stagingBytes: number) {
    this.staging = new Uint8Array(stagingBytes);
  }

  static async create(path: string, stagingBytes = 4 << 20): Promise<FileSink> {
    return new FileSink(await open(path, "w"), stagingBytes);
  }

  /** Lends `n` bytes of staging space to fill in place; call `commit(n)` once filled. */
  async reserve(n: number): Promise<{ buf: Uint8Array; offset: number }> {
    if (this.used + n > this.staging.length) await this.flush();
    if (n > this.staging.length) this.staging = new Uint8Array(n);
    return { buf: this.staging, offset: this.used };
  }

  commit(n: number): void {
    this.used += n;
    this.position += n;
  }

  async write(bytes: Uint8Array): Promise<void> {
    const { buf, offset } = await this.reserve(bytes.length);
    buf.set(bytes, offset);
    this.commit(bytes.length);
  }

  async zeros(n: number): Promise<void> {
    const { buf, offset } = await this.reserve(n);
    buf.fill(0, offset, offset + n);
    this.commit(n);
  }

  private async flush(): Promise<void> {
    let done = 0;
    const chunk = this.staging.subarray(0, this.used);
    this.hash.update(chunk);
    while (done < chunk.length) done += (await this.fh.write(chunk, done, chunk.length - done)).bytesWritten;
    this.used = 0;
  }

  /** Flushes, fsyncs (so a later rename publishes complete data) and closes; returns the sha256 hex. */
  async close(): Promise<string> {
    try {
      await this.flush();
      await this.fh.sync();
    } finally {
      await this.fh.close();
    }
    return this.hash.digest("hex");
  }

  /** Closes without syncing, for error paths. */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => {});
  }
}
