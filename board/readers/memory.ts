import type { RootFs } from "../root-fs.ts";
import type { EvidenceLog } from "../evidence.ts";
import { bytesText } from "../units.ts";

const MEMINFO = "/proc/meminfo";

/** MemTotal from /proc/meminfo in bytes: RAM the kernel manages, after firmware and carve-outs. */
export function readMemoryBytes(fs: RootFs, evidence: EvidenceLog): number | null {
  const match = /^MemTotal:\s+(\d+)\s*kB/m.exec(fs.text(MEMINFO) ?? "");
  if (!match) return null;
  const bytes = Number(match[1]) * 1024;
  evidence.add(MEMINFO, `MemTotal ${match[1]} kB (${bytesText(bytes)})`);
  return bytes;
}
