import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Temp dirs one test file makes, removed together in its afterAll. */
export function tempDirs(defaultPrefix: string): { make(prefix?: string): string; removeAll(): void } {
  const made: string[] = [];
  return {
    make(prefix = defaultPrefix) {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    removeAll() {
      for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}
