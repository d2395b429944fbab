/**
 * Puts a release file into the repository under `files/<sha256>/<name>`, hashing it as a stream
 * (multi-GB files are never held in memory). A hard link when the repository is on the same file
 * system (no copy; the published file must then not be modified in place), else a copy hashed
 * while it is written. Either way the file appears under its final name only complete and synced.
 */
import { linkSync, mkdirSync, rmSync, statSync } from "node:fs";
import { open, rename, stat } from "node:fs/promises";
import { createHash, randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { hasErrno, HearthError } from "../../runtime/errors.ts";
import { sha256File } from "../../runtime/model/hash.ts";
import { FileName } from "../schema/common.ts";
import { inRepo, releaseFile } from "../layout.ts";

export interface PlacedFile {
  name: string;
  size: number;
  sha256: string;
  /** Repository-relative path. */
  path: string;
}

const CHUNK = 4 * 1024 * 1024;

/** Copies `source` to `target`, returning the SHA-256 of the bytes written. */
async function copyHashing(source: string, target: string): Promise<string> {
  const hash = createHash("sha256");
  const [input, output] = [await open(source, "r"), await open(target, "wx", 0o644)];
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await input.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      for (let off = 0; off < bytesRead; ) off += (await output.write(buf, off, bytesRead - off)).bytesWritten;
    }
    await output.sync();
    return hash.digest("hex");
  } finally {
    await Promise.all([input.close(), output.close()]);
  }
}

/** Persists renames in `dir`; best effort (not every file system allows fsync on a directory). */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, "r");
    await fh.sync().finally(() => fh.close());
  } catch {
    // the data itself is synced
  }
}

/** The name a file is published under; refused when it could not be a plain file name. */
export function publishedName(source: string): string {
  const name = basename(source);
  if (!Value.Check(FileName, name)) {
    throw new HearthError("invalid_request", `${source}: the file name ${JSON.stringify(name)} must start with a letter or digit and hold only letters, digits, ".", "_", "+" and "-"`, { field: "files" });
  }
  return name;
}

export async function placeFile(repoDir: string, source: string): Promise<PlacedFile> {
  const name = publishedName(source);
  const st = await stat(source).catch((err) => {
    throw new HearthError("invalid_request", `${source} cannot be read (${(err as Error).message})`, { field: "files" });
  });
  if (!st.isFile() || st.size === 0) throw new HearthError("invalid_request", `${source} is not a non-empty regular file`, { field: "files" });
  const filesDir = inRepo(repoDir, "files");
  mkdirSync(filesDir, { recursive: true });
  const incoming = join(filesDir, `.incoming-${randomBytes(6).toString("hex")}`);
  try {
    let sha256: string;
    try {
      linkSync(source, incoming);
      sha256 = await sha256File(incoming);
    } catch (err) {
      if (!hasErrno(err, "EXDEV") && !hasErrno(err, "EPERM") && !hasErrno(err, "EMLINK")) throw err;
      sha256 = await copyHashing(source, incoming);
    }
    const path = releaseFile(sha256, name);
    const target = inRepo(repoDir, path);
    const size = statSync(incoming).size;
    mkdirSync(dirname(target), { recursive: true });
    await rename(incoming, target); // an identical file already there is simply replaced by itself
    await syncDir(dirname(target));
    return { name, size, sha256, path };
  } finally {
    rmSync(incoming, { force: true });
  }
}
