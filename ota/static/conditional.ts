/**
 * Validators and conditional requests (RFC 9110 §8.8, §13): a strong ETag from the file's inode,
 * size and modification time (index.json is replaced by rename, so its inode changes with it),
 * If-None-Match with weak comparison, If-Range with strong comparison.
 */

export function etagOf(file: { ino: number; size: number; mtimeMs: number }): string {
  return `"${file.ino.toString(16)}-${file.size.toString(16)}-${Math.floor(file.mtimeMs).toString(16)}"`;
}

const tags = (header: string) => header.split(",").map((t) => t.trim()).filter((t) => t !== "");
const opaque = (tag: string) => tag.replace(/^W\//, "");

/** If-None-Match: "*" or any tag equal to ours, ignoring weakness. */
export function noneMatch(header: string, etag: string): boolean {
  return tags(header).some((t) => t === "*" || opaque(t) === opaque(etag));
}

/**
 * If-Range: the Range applies only when the validator is our current strong ETag or exactly our
 * Last-Modified date; otherwise the client's partial copy is of another version and gets it whole.
 */
export function ifRangeHolds(header: string | undefined, etag: string, lastModified: string): boolean {
  if (header === undefined) return true;
  const value = header.trim();
  if (value.startsWith('"') || value.startsWith("W/")) return value === etag;
  return value === lastModified;
}
