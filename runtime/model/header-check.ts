import { open } from "node:fs/promises";
import { HearthError } from "../errors.ts";

/** Smallest encodings of a metadata entry and a tensor info, for bounding the header's counts. */
const MIN_KV_BYTES = 8 + 1 + 4 + 1;
const MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8;

/**
 * Checks a GGUF's fixed header before node-llama-cpp parses the file: its reader spins for minutes
 * on a file that has the magic but a garbage version or counts (seen with 19 bytes of text).
 */
export async function checkGgufHeader(path: string): Promise<void> {
  const invalid = (reason: string) => new HearthError("gguf_invalid", `${path}: ${reason}`);
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    const header = Buffer.alloc(24);
    const { bytesRead } = await file.read(header, 0, 24, 0);
    if (bytesRead < 4 || header.toString("latin1", 0, 4) !== "GGUF") throw invalid("not a GGUF file (bad magic)");
    if (bytesRead < 24) throw invalid(`truncated: the header needs 24 bytes, the file has ${size}`);
    const version = header.readUInt32LE(4);
    if (version !== 2 && version !== 3) throw invalid(`unsupported GGUF version ${version} (2 and 3 are)`);
    const tensors = header.readBigUInt64LE(8);
    const kvs = header.readBigUInt64LE(16);
    if (tensors * BigInt(MIN_TENSOR_INFO_BYTES) + kvs * BigInt(MIN_KV_BYTES) > BigInt(size)) {
      throw invalid(`corrupt header: ${tensors} tensors and ${kvs} metadata entries cannot fit in ${size} bytes`);
    }
  } finally {
    await file.close();
  }
}
