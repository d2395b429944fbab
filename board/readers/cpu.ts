import type { RootFs } from "../root-fs.ts";
import type { EvidenceLog } from "../evidence.ts";
import type { Cpu } from "../schema.ts";
import { normaliseArmFeatures, normaliseX86Flags } from "../cpu-features.ts";
import { armCore } from "../arm-cores.ts";

const CPUINFO = "/proc/cpuinfo";
/** Intel hybrid CPUs list their P-core and E-core logical CPUs here (one perf PMU per core type). */
const INTEL_P_CORES = "/sys/devices/cpu_core/cpus";
const INTEL_E_CORES = "/sys/devices/cpu_atom/cpus";

type Fields = Record<string, string>;

export function unknownCpu(logicalCpus = 0): Cpu {
  return { arch: "unknown", model: null, logicalCpus, cores: 0, performanceCores: 0, efficiencyCores: 0, features: [] };
}

/** "key : value" blocks separated by blank lines; keys lower-cased ("Model name" = "model name"). */
export function parseCpuinfo(text: string): { processors: Fields[]; board: Fields } {
  const processors: Fields[] = [];
  const board: Fields = {};
  for (const block of text.split(/\n\s*\n/)) {
    const fields: Fields = {};
    for (const line of block.split("\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) fields[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    // Raspberry Pi kernels end with a block that describes the board (Hardware, Revision, Model).
    if ("processor" in fields) processors.push(fields);
    else Object.assign(board, fields);
  }
  return { processors, board };
}

/** A kernel CPU list such as "0-7,16" → [0..7, 16]. */
export function parseCpuList(text: string | null): number[] {
  if (!text) return [];
  return text.trim().split(",").filter(Boolean).flatMap((range) => {
    const [from, to] = range.split("-").map(Number);
    if (from === undefined || !Number.isInteger(from)) return [];
    const last = to !== undefined && Number.isInteger(to) ? to : from;
    return Array.from({ length: Math.max(0, last - from + 1) }, (_, i) => from + i);
  });
}

/** Features every processor has: threads can land on any core, so only the common set is safe. */
function commonWords(processors: Fields[], key: string): string[] {
  const lists = processors.map((p) => (p[key] ?? "").split(/\s+/).filter(Boolean));
  return (lists[0] ?? []).filter((word) => lists.every((l) => l.includes(word)));
}

function archOf(p: Fields | undefined): Cpu["arch"] {
  if (!p) return "unknown";
  if (p.flags !== undefined) return p.flags.split(/\s+/).includes("lm") ? "x64" : "unknown";
  const features = (p.features ?? "").split(/\s+/);
  if (features.includes("asimd")) return "arm64";
  if (features.includes("neon") || features.includes("vfp")) return "arm";
  return "unknown";
}

/** Physical cores among the given processors: SMT siblings share (physical id, core id). */
function physicalCores(processors: Fields[]): number {
  const withIds = processors.filter((p) => p["physical id"] !== undefined && p["core id"] !== undefined);
  if (withIds.length !== processors.length) return processors.length;
  return new Set(withIds.map((p) => `${p["physical id"]}:${p["core id"]}`)).size;
}

function describeX86(fs: RootFs, processors: Fields[], evidence: EvidenceLog): Cpu {
  const model = processors[0]?.["model name"] ?? null;
  const features = normaliseX86Flags(commonWords(processors, "flags"));
  const cores = physicalCores(processors);
  const pList = parseCpuList(fs.text(INTEL_P_CORES));
  const eList = parseCpuList(fs.text(INTEL_E_CORES));
  const byIndex = (list: number[]) => processors.filter((p) => list.includes(Number(p.processor)));
  let performanceCores = cores;
  let efficiencyCores = 0;
  if (pList.length > 0 && eList.length > 0) {
    performanceCores = physicalCores(byIndex(pList));
    efficiencyCores = physicalCores(byIndex(eList));
    evidence.add(INTEL_P_CORES, `performance (P) cores are CPUs ${fs.text(INTEL_P_CORES)?.trim()}`);
    evidence.add(INTEL_E_CORES, `efficiency (E) cores are CPUs ${fs.text(INTEL_E_CORES)?.trim()}`);
  }
  evidence.add(CPUINFO, `model name ${JSON.stringify(model)}, ${processors.length} processors on ${cores} physical cores`);
  evidence.add(CPUINFO, `flags include ${features.join(" ") || "none of the vector extensions"}`);
  return { arch: "x64", model, logicalCpus: processors.length, cores, performanceCores, efficiencyCores, features };
}

function describeArm(processors: Fields[], arch: "arm64" | "arm", evidence: EvidenceLog): Cpu {
  const cores = processors.map((p) => ({ part: p["cpu part"], core: armCore(p["cpu implementer"], p["cpu part"]) }));
  const mixed = cores.some((c) => c.core?.little) && cores.some((c) => c.core && !c.core.little);
  const efficiencyCores = mixed ? cores.filter((c) => c.core?.little).length : 0;
  const names = [...new Set(cores.map((c) => c.core?.name).filter((n): n is string => n !== undefined))];
  const model = names.length > 0 ? names.join(" + ") : (processors[0]?.["model name"] ?? null);
  const rawFeatures = commonWords(processors, "features");
  const features = normaliseArmFeatures(rawFeatures, arch);
  const parts = [...new Set(cores.map((c) => `${c.part ?? "?"}${c.core ? ` (${c.core.name})` : ""}`))].join(", ");
  evidence.add(CPUINFO, `${processors.length} processors, CPU part ${parts}`);
  evidence.add(CPUINFO, `Features ${JSON.stringify(rawFeatures.join(" "))} → ${features.join(" ") || "none"}`);
  return {
    arch,
    model,
    logicalCpus: processors.length,
    cores: processors.length,
    performanceCores: processors.length - efficiencyCores,
    efficiencyCores,
    features,
  };
}

/** The CPU from /proc/cpuinfo (and, on Intel hybrids, sysfs). Unknown when the file says nothing usable. */
export function readCpu(fs: RootFs, evidence: EvidenceLog): Cpu {
  const text = fs.text(CPUINFO);
  if (text === null) return unknownCpu();
  const { processors } = parseCpuinfo(text);
  const arch = archOf(processors[0]);
  if (processors.length === 0 || arch === "unknown") {
    evidence.note(`${CPUINFO} lists ${processors.length} processors and no recognisable x86-64 flags or Arm features`);
    return unknownCpu(processors.length);
  }
  return arch === "x64" ? describeX86(fs, processors, evidence) : describeArm(processors, arch, evidence);
}
