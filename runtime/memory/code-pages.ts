/**
 * Drops this process's resident pages of code (read-only, executable mappings of files: Bun's own
 * binary and the native libraries) so an idle box's resident set is what it needs to stay idle,
 * not everything start-up touched (module loading alone touches ~30 MB of Bun's code). The pages
 * stay in the kernel's page cache: the next request maps back the ones it runs (minor faults).
 *
 * Safe because such mappings are never written: only `r-xp` file mappings whose smaps entry shows
 * no private dirty pages are advised, so no modified page (a debugger's breakpoint, a text
 * relocation) can be lost. JIT code lives in anonymous mappings and is never touched.
 */
import { readFileSync } from "node:fs";

const MADV_DONTNEED = 4;

export interface CodeMapping {
  start: bigint;
  length: bigint;
  path: string;
}

/** The clean executable file mappings listed in an smaps text. */
export function cleanCodeMappings(smaps: string): CodeMapping[] {
  const found: CodeMapping[] = [];
  let current: (CodeMapping & { dirty: boolean }) | null = null;
  const finish = () => {
    if (current && !current.dirty) found.push({ start: current.start, length: current.length, path: current.path });
  };
  for (const line of smaps.split("\n")) {
    const header = line.match(/^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$/);
    if (header) {
      finish();
      const [, from, to, perms, path] = header;
      current = perms === "r-xp" && path!.startsWith("/") ? { start: BigInt(`0x${from}`), length: BigInt(`0x${to}`) - BigInt(`0x${from}`), path: path!, dirty: false } : null;
      continue;
    }
    const dirty = line.match(/^Private_Dirty:\s+(\d+) kB/);
    if (dirty && current && Number(dirty[1]) > 0) current.dirty = true;
  }
  finish();
  return found;
}

type Madvise = (start: bigint, length: bigint, advice: number) => number;
let madvise: Madvise | null | undefined;

/** libc's madvise through bun:ffi, or null where it cannot be had (then nothing is dropped). */
async function loadMadvise(): Promise<Madvise | null> {
  if (madvise !== undefined) return madvise;
  try {
    const { dlopen, FFIType } = await import("bun:ffi");
    const libc = dlopen("libc.so.6", { madvise: { args: [FFIType.u64, FFIType.u64, FFIType.i32], returns: FFIType.i32 } });
    madvise = (start, length, advice) => libc.symbols.madvise(start, length, advice) as number;
  } catch {
    madvise = null;
  }
  return madvise;
}

/** Advises the kernel to drop this process's clean code pages; returns the bytes advised. */
export async function dropCodePages(smapsPath = "/proc/self/smaps"): Promise<{ mappings: number; bytes: number }> {
  const advise = await loadMadvise();
  if (!advise) return { mappings: 0, bytes: 0 };
  let smaps: string;
  try {
    smaps = readFileSync(smapsPath, "utf8");
  } catch {
    return { mappings: 0, bytes: 0 };
  }
  let mappings = 0;
  let bytes = 0;
  for (const m of cleanCodeMappings(smaps)) {
    if (advise(m.start, m.length, MADV_DONTNEED) === 0) {
      mappings++;
      bytes += Number(m.length);
    }
  }
  return { mappings, bytes };
}
