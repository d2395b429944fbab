import type { Logger } from "../runtime/log.ts";
import { RootFs } from "./root-fs.ts";
import { EvidenceLog } from "./evidence.ts";
import type { BoardReport } from "./schema.ts";
import type { CommandRunner } from "./runner.ts";
import { createSpawnRunner } from "./runner.ts";
import type { SystemInfo } from "./system-info.ts";
import { liveSystemInfo } from "./system-info.ts";
import { readDeviceTree } from "./readers/device-tree.ts";
import { readTegraRelease } from "./readers/tegra-release.ts";
import { readDmiProduct } from "./readers/dmi.ts";
import { readCpu, unknownCpu } from "./readers/cpu.ts";
import { readMemoryBytes } from "./readers/memory.ts";
import { readGpus } from "./readers/gpus.ts";
import { readStorage } from "./readers/storage.ts";
import { readThermalZones } from "./readers/thermal.ts";
import { identifyBoard, socOf } from "./identify.ts";
import { buildProfile } from "./profiles.ts";

export interface DetectOptions {
  /** Where the board's files are: "/" (default) on the board, a fixture or a copied dump otherwise. */
  root?: string;
  /** Live-machine facts (GPUs, filesystem size). Defaults to systeminformation on the live root only. */
  systemInfo?: SystemInfo;
  /** Runs nvidia-smi. Defaults to really running it on the live root only. */
  runner?: CommandRunner;
  logger?: Logger;
}

/**
 * Runs one reader; a reader that throws (a bug, or content nobody foresaw) costs its facts, not
 * the detection: it is noted and the fallback stands in.
 */
async function safely<T>(what: string, evidence: EvidenceLog, fallback: T, read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    evidence.note(`reading ${what} failed: ${(err as Error)?.message ?? String(err)}`);
    return fallback;
  }
}

/**
 * Detects the board from the files under `root` and returns it with its profile and the evidence
 * for both. Never throws for missing or odd files: unknown or partial boards get the generic
 * profile and a `fallbackReason`.
 */
export async function detectBoard(opts: DetectOptions = {}): Promise<BoardReport> {
  const fs = new RootFs(opts.root ?? "/");
  // Commands and systeminformation describe the machine we run on, so they only speak for the live root.
  const runner = opts.runner ?? (fs.isLive ? createSpawnRunner() : undefined);
  const systemInfo = opts.systemInfo ?? (fs.isLive ? liveSystemInfo : undefined);
  const evidence = new EvidenceLog();

  const deviceTree = await safely("the device tree", evidence, { model: null, compatible: [] }, () => readDeviceTree(fs, evidence));
  const l4tRelease = await safely("/etc/nv_tegra_release", evidence, null, () => readTegraRelease(fs, evidence));
  const dmiProduct = await safely("DMI", evidence, null, () => readDmiProduct(fs, evidence));
  const cpu = await safely("/proc/cpuinfo", evidence, unknownCpu(), () => readCpu(fs, evidence));
  const memoryBytes = await safely("/proc/meminfo", evidence, null, () => readMemoryBytes(fs, evidence));
  const soc = socOf(deviceTree);
  const gpus = await safely("GPUs", evidence, [], () => readGpus(fs, evidence, { soc, runner, systemInfo }));
  const storage = await safely("storage", evidence, null, () => readStorage(fs, evidence, systemInfo));
  const thermalZones = await safely("thermal zones", evidence, [], () => readThermalZones(fs, evidence));

  const identity = identifyBoard({ deviceTree, dmiProduct, cpu, memoryBytes, gpus });
  if (identity.kind.startsWith("jetson") && l4tRelease === null) {
    evidence.note("/etc/nv_tegra_release is missing: Jetson Linux (and its CUDA driver) may not be installed, so GPU offload may fail to load");
  }
  if (thermalZones.length === 0) evidence.note("no thermal zones under /sys/class/thermal (usual in virtual machines and containers, and on AMD x86, whose sensors are hwmon only)");
  const profile = buildProfile({ kind: identity.kind, cpu, memoryBytes, gpus, thermalZones, compatible: deviceTree.compatible });

  const report: BoardReport = {
    kind: identity.kind,
    name: identity.name,
    soc: identity.soc,
    l4tRelease,
    cpu,
    memoryBytes,
    gpus,
    storage,
    thermalZones,
    profile,
    evidence: evidence.entries,
    notes: evidence.notes,
    ...(identity.fallbackReason === undefined ? {} : { fallbackReason: identity.fallbackReason }),
  };
  if (report.fallbackReason) opts.logger?.warn("board not recognised; generic profile", { root: fs.root, reason: report.fallbackReason });
  else opts.logger?.info("board detected", { root: fs.root, kind: report.kind, name: report.name });
  return report;
}
