/**
 * Which file of the served directory a URL path names, or null (404). Every decoded segment must
 * be a plain name: no "..", ".", separators, NUL or hidden names (the publisher's lock and
 * incoming files start with a dot), and the real path, symlinks resolved, must stay inside the
 * directory.
 */
import { open, realpath } from "node:fs/promises";
import { join, sep } from "node:path";

export interface RepoFile {
  /** Path relative to the served directory, "/"-separated. */
  relative: string;
  size: number;
  mtimeMs: number;
  ino: number;
  /** The content: small files are read at once, so stat and bytes are of the same version. */
  body: Blob;
}

/** Files up to this size are read whole through the descriptor they were stat'ed on (index.json changes in place). */
const SNAPSHOT_BYTES = 1024 * 1024;

function segmentsOf(pathname: string): string[] | null {
  let segments: string[];
  try {
    segments = pathname.split("/").filter((s) => s !== "").map(decodeURIComponent);
  } catch {
    return null; // malformed percent-encoding
  }
  const plain = (s: string) => !s.startsWith(".") && !/[/\\\0]/.test(s);
  return segments.length > 0 && segments.every(plain) ? segments : null;
}

/** `root` must be a real path (no symlinks), as realpath() returns it. */
export async function openRepoFile(root: string, pathname: string): Promise<RepoFile | null> {
  const segments = segmentsOf(pathname);
  if (!segments) return null;
  let real: string;
  try {
    real = await realpath(join(root, ...segments));
  } catch {
    return null;
  }
  if (!real.startsWith(root + sep)) return null;
  const fh = await open(real, "r").catch(() => null);
  if (!fh) return null;
  try {
    const st = await fh.stat();
    if (!st.isFile()) return null;
    const body = st.size <= SNAPSHOT_BYTES ? new Blob([await fh.readFile()]) : Bun.file(real);
    return { relative: segments.join("/"), size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, body };
  } finally {
    await fh.close();
  }
}
