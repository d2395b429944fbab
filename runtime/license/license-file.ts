/** Reading a license file without trusting its size: an oversized file is judged by its size, unread. */
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { MAX_LICENSE_BYTES } from "./schema.ts";

export type LicenseFileRead = { bytes: Uint8Array } | { oversized: number };

/** Throws the file system's error (ENOENT, EACCES, EISDIR...) for the caller to word. */
export function readLicenseFile(path: string): LicenseFileRead {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    return size > MAX_LICENSE_BYTES ? { oversized: size } : { bytes: readFileSync(fd) };
  } finally {
    closeSync(fd);
  }
}
