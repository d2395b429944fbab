import { createReadStream, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import type { Db } from "../store/db.ts";

/** Hex sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** A model file's sha256, from the cache while its size and mtime are unchanged. */
export async function modelSha256(db: Db, file: string): Promise<string> {
  const path = resolve(file);
  const st = statSync(path);
  const mtime = Math.floor(st.mtimeMs);
  const cached = db.prepare("SELECT sha256 FROM model_hashes WHERE path = ? AND size = ? AND mtime_ms = ?").get(path, st.size, mtime) as
    | { sha256: string }
    | undefined;
  if (cached) return cached.sha256;
  const sha256 = await sha256File(path);
  db.prepare("INSERT OR REPLACE INTO model_hashes (path, size, mtime_ms, sha256) VALUES (?, ?, ?, ?)").run(path, st.size, mtime, sha256);
  return sha256;
}
