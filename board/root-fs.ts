import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * Read-only access to a board's files under a root directory ("/" on the board, a fixture tree in
 * tests). Paths are given as the board sees them ("/proc/cpuinfo"). Nothing here throws: a file
 * that is missing, unreadable or busy (Orin's cv*-thermal zones answer EAGAIN) reads as null.
 */
export class RootFs {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** True when this is the running machine's own root, so live sources (commands, libraries) apply. */
  get isLive(): boolean {
    return this.root === "/";
  }

  private at(path: string): string {
    return join(this.root, path);
  }

  /** The raw bytes as text; device-tree strings keep their NULs. */
  text(path: string): string | null {
    try {
      return readFileSync(this.at(path), "utf8");
    } catch {
      return null;
    }
  }

  /** Entry names of a directory, sorted; [] when it is missing. */
  list(path: string): string[] {
    try {
      return readdirSync(this.at(path)).sort();
    } catch {
      return [];
    }
  }

  exists(path: string): boolean {
    try {
      statSync(this.at(path));
      return true;
    } catch {
      return false;
    }
  }
}

/** A whole number from a sysfs-style file ("536870912\n"), or null. */
export function readInteger(fs: RootFs, path: string): number | null {
  const text = fs.text(path)?.trim();
  if (!text || !/^-?\d+$/.test(text)) return null;
  return Number(text);
}
