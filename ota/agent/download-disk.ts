/** Free space checks: refuse a download the disk cannot hold before fetching a byte of it. */
import { statfs as nodeStatfs } from "node:fs/promises";
import { OtaAgentError } from "./errors.ts";

/** The part of `fs.statfs` the check reads; injectable so tests can simulate a small disk. */
export type StatFs = (path: string) => Promise<{ bavail: number | bigint; bsize: number | bigint }>;

export const systemStatfs: StatFs = (path) => nodeStatfs(path);

export const DEFAULT_MARGIN_BYTES = 64 * 1024 * 1024;

/** Throws insufficient_storage (reason no_space, with both numbers) unless `dir` has `needed` + `margin` bytes free. */
export async function ensureFreeSpace(statfs: StatFs, dir: string, needed: number, margin: number): Promise<void> {
  const fs = await statfs(dir);
  const available = Number(fs.bavail) * Number(fs.bsize);
  const required = needed + margin;
  if (available < required) {
    throw new OtaAgentError(
      "insufficient_storage",
      "no_space",
      `not enough free space in ${dir}: ${required} bytes needed (${needed} to download + ${margin} margin), ${available} available`,
      { needed: required, available, dir },
    );
  }
}

/** ENOSPC while writing (the disk filled up meanwhile) as the same typed error. */
export function noSpaceWhileWriting(dir: string, cause: unknown): OtaAgentError {
  return new OtaAgentError("insufficient_storage", "no_space", `the disk holding ${dir} filled up during the download`, { dir, available: 0 }, { cause });
}
