/** Persists renames and unlinks in a directory, shared by the downloader and the slot store. */
import { closeSync, fsyncSync, openSync } from "node:fs";

/** fsync on the directory itself; best effort, as not every filesystem allows it. */
export function syncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, "r");
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // the data itself was fsynced; only the directory entry's durability is lost
  } finally {
    closeSync(fd);
  }
}
