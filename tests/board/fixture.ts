import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * Fixture trees are plain text in git. Device-tree properties are NUL-terminated strings, which
 * would make those files binary to git (no diffs, no review), so they are stored with a literal
 * `\0` for each NUL. `fixtureRoot` copies a tree to a temp dir and turns those escapes into real
 * NUL bytes, so detection reads exactly the bytes a board's kernel gives.
 */
export const FIXTURES = join(import.meta.dir, "fixtures");

const made: string[] = [];

function unescapeNuls(dir: string): void {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) unescapeNuls(path);
    else writeFileSync(path, readFileSync(path, "utf8").replaceAll("\\0", "\0"));
  }
}

/** A byte-exact copy of fixtures/<name> in a temp dir, to pass as the detection root. */
export function fixtureRoot(name: string): string {
  const root = mkdtempSync(join(tmpdir(), `hearth-board-${name}-`));
  made.push(root);
  cpSync(join(FIXTURES, name), root, { recursive: true });
  const deviceTree = join(root, "proc", "device-tree");
  if (existsSync(deviceTree)) unescapeNuls(deviceTree);
  return root;
}

/** An empty temp dir, optionally with some files (path → content, NULs as real "\0"). */
export function treeRoot(files: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "hearth-board-tree-"));
  made.push(root);
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return root;
}

export function removeFixtureRoots(): void {
  for (const root of made.splice(0)) rmSync(root, { recursive: true, force: true });
}
