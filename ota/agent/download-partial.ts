/**
 * The partial download beside its destination: `<dest>.part` holds the bytes so far and
 * `<dest>.part.meta` records which file they belong to (sha256, size) and the server's validator
 * (ETag / Last-Modified), so a new process resumes the same file — or starts over for another.
 *
 * The running sha256 is rebuilt on resume by re-reading the part (streamed). Persisting the hash
 * state would avoid that read, but node:crypto cannot export a digest's internal state and a
 * JS sha256 would cost far more per byte than one sequential local read per restart.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { hasErrno } from "../../runtime/errors.ts";
import { writeFileDurably } from "../../runtime/license/durable-write.ts";
import { syncDir } from "../../runtime/license/durable-write.ts";

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const PartialMetaSchema = Type.Object(
  {
    format: Type.Literal(1),
    sha256: Type.String({ pattern: "^[0-9a-f]{64}$" }),
    size: Type.Integer({ minimum: 0 }),
    /** The URL the validator came from: If-Range is only sent back to the same URL. */
    url: Type.String(),
    etag: Nullable(Type.String()),
    lastModified: Nullable(Type.String()),
  },
  { additionalProperties: false },
);
export type PartialMeta = Static<typeof PartialMetaSchema>;

export const partPath = (dest: string): string => `${dest}.part`;
export const metaPath = (dest: string): string => `${dest}.part.meta`;

export interface Partial {
  /** Bytes already in the part file. */
  offset: number;
  /** sha256 over those bytes, ready to continue. */
  hash: Hash;
  meta: PartialMeta | null;
}

async function readMeta(dest: string): Promise<PartialMeta | null> {
  try {
    const value: unknown = JSON.parse(await readFile(metaPath(dest), "utf8"));
    return Value.Check(PartialMetaSchema, value) ? value : null;
  } catch {
    return null; // absent or torn: unknown provenance, start over
  }
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if (hasErrno(err, "ENOENT")) return null;
    throw err;
  }
}

/** sha256 state over a file's bytes, streamed. */
export async function hashFile(path: string): Promise<Hash> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash;
}

/**
 * The partial to continue for this file: kept when its sidecar names the same sha256 and size and
 * the part is no longer than the file; otherwise both are deleted and the download starts at 0.
 */
export async function openPartial(dest: string, want: { sha256: string; size: number }): Promise<Partial> {
  const meta = await readMeta(dest);
  const have = await sizeOf(partPath(dest));
  if (meta && meta.sha256 === want.sha256 && meta.size === want.size && (have ?? 0) <= want.size) {
    if (!have) return { offset: 0, hash: createHash("sha256"), meta };
    return { offset: have, hash: await hashFile(partPath(dest)), meta };
  }
  await discardPartial(dest);
  return { offset: 0, hash: createHash("sha256"), meta: null };
}

/** Records the file and validator the part's bytes belong to, durably, before they are written. */
export function writeMeta(dest: string, meta: PartialMeta): void {
  writeFileDurably(metaPath(dest), JSON.stringify(meta) + "\n");
}

/** Deletes the part and its sidecar (a failed, refused or abandoned download). */
export async function discardPartial(dest: string): Promise<void> {
  await rm(partPath(dest), { force: true });
  await rm(metaPath(dest), { force: true });
  syncDir(dirname(dest));
}
