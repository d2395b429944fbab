/**
 * Writes a GGUF so that `out` only ever holds a complete file: the data goes to a temp name beside
 * `out`, is fsynced, then renamed over it, so an interrupted write never leaves a partial file.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { writeGguf, type GgufMetadata, type GgufWriteResult, type TensorSource } from "./gguf/index.ts";
import { syncDir } from "../license/durable-write.ts";

/** Writes the GGUF at `out` (replacing any file there) and returns its absolute path with the result. */
export async function writeGgufAtomic(
  file: string,
  contents: { metadata: GgufMetadata; tensors: readonly TensorSource[] },
): Promise<GgufWriteResult & { path: string }> {
  const out = resolve(file);
  await mkdir(dirname(out), { recursive: true });
  await removeStaleTemps(out);
  // Same directory as `out` so the final rename is atomic; unique so concurrent writers don't collide.
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const written = await writeGguf(tmp, contents);
    await rename(tmp, out);
    syncDir(dirname(out));
    return { ...written, path: out };
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Deletes temp files a killed writer of the same `out` left behind (their process is gone). */
async function removeStaleTemps(out: string): Promise<void> {
  const prefix = `.${basename(out)}.`;
  for (const f of await readdir(dirname(out))) {
    const pid = f.startsWith(prefix) && f.endsWith(".tmp") ? Number(f.slice(prefix.length).split(".")[0]) : NaN;
    if (Number.isInteger(pid) && pid > 0 && !isAlive(pid)) await rm(join(dirname(out), f), { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM"; // exists, owned by someone else
  }
}

