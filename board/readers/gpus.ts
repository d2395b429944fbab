import type { RootFs } from "../root-fs.ts";
import type { EvidenceLog } from "../evidence.ts";
import type { Gpu } from "../schema.ts";
import type { CommandRunner } from "../runner.ts";
import type { SystemInfo } from "../system-info.ts";
import { bytesText, MiB } from "../units.ts";

/** Jetson SoCs carry an integrated GPU on the same LPDDR as the CPU (no VRAM of its own). */
const JETSON_IGPUS: Record<string, string> = {
  "nvidia,tegra234": "NVIDIA Orin integrated GPU (Ampere)",
  "nvidia,tegra194": "NVIDIA Xavier integrated GPU (Volta)",
};

const NVIDIA_PROC = "/proc/driver/nvidia/gpus";
const NVIDIA_SMI = ["nvidia-smi", "--query-gpu=pci.bus_id,name,memory.total", "--format=csv,noheader,nounits"] as const;

interface Found extends Gpu {
  /** PCI address without its domain, e.g. "01:00.0", to match the same card across sources. */
  bus: string | null;
}

const shortBus = (address: string | undefined) => /([0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f])$/i.exec(address?.trim() ?? "")?.[1]?.toLowerCase() ?? null;

/** Discrete NVIDIA cards as the kernel driver lists them: one directory per card with an information file. */
function readNvidiaProc(fs: RootFs, evidence: EvidenceLog): Found[] {
  const cards = fs.list(NVIDIA_PROC).map((dir): Found => {
    const path = `${NVIDIA_PROC}/${dir}/information`;
    const info = fs.text(path) ?? "";
    const name = /^Model:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? "NVIDIA GPU";
    evidence.add(path, `Model: ${name}`);
    return { vendor: "nvidia", name, vramBytes: null, unifiedMemory: false, bus: shortBus(/^Bus Location:\s*(\S+)/m.exec(info)?.[1] ?? dir) };
  });
  if (cards.length === 0 && fs.exists("/dev/nvidia0")) {
    // The device node without procfs: a container given the GPU, or a driver with procfs hidden.
    evidence.add("/dev/nvidia0", "exists: the NVIDIA driver has a GPU");
    cards.push({ vendor: "nvidia", name: "NVIDIA GPU", vramBytes: null, unifiedMemory: false, bus: null });
  }
  return cards;
}

/** VRAM (and the exact name) from nvidia-smi, the driver's own view; matched to cards by PCI address. */
async function addNvidiaSmi(cards: Found[], runner: CommandRunner, evidence: EvidenceLog): Promise<void> {
  const { exitCode, stdout } = await runner(NVIDIA_SMI);
  if (exitCode !== 0) {
    evidence.note(`nvidia-smi did not answer (exit ${exitCode}); VRAM of the NVIDIA GPU is unknown`);
    return;
  }
  for (const line of stdout.split("\n").filter((l) => l.trim() !== "")) {
    const [bus, name, mib] = line.split(",").map((s) => s.trim());
    const vramBytes = Number.isFinite(Number(mib)) && mib !== "" ? Number(mib) * MiB : null;
    evidence.add(NVIDIA_SMI.join(" "), `${bus}: ${name}, ${vramBytes === null ? "memory unknown" : bytesText(vramBytes)}`);
    const card = cards.find((c) => c.bus !== null && c.bus === shortBus(bus)) ?? (cards.length === 1 && cards[0]!.bus === null ? cards[0] : undefined);
    if (card) Object.assign(card, { name: name || card.name, vramBytes, bus: shortBus(bus) });
    else cards.push({ vendor: "nvidia", name: name || "NVIDIA GPU", vramBytes, unifiedMemory: false, bus: shortBus(bus) });
  }
}

function vendorOf(text: string): Gpu["vendor"] {
  if (/nvidia/i.test(text)) return "nvidia";
  if (/\bamd\b|advanced micro|\bati\b/i.test(text)) return "amd";
  if (/intel/i.test(text)) return "intel";
  return "other";
}

/** Live machine only: systeminformation also sees AMD and Intel GPUs, and VRAM when nvidia-smi is absent. */
async function addSystemInfo(cards: Found[], systemInfo: SystemInfo, evidence: EvidenceLog): Promise<void> {
  const { controllers } = await systemInfo.graphics();
  if (controllers.length === 0) evidence.add("systeminformation.graphics()", "no graphics controllers");
  for (const c of controllers) {
    const vendor = vendorOf(`${c.vendor} ${c.model}`);
    const vramBytes = c.vram && !c.vramDynamic ? c.vram * MiB : null;
    evidence.add("systeminformation.graphics()", `${c.vendor} ${c.model}${vramBytes ? `, ${bytesText(vramBytes)} VRAM` : c.vramDynamic ? ", shared memory" : ""}`);
    const same = cards.find((g) => g.bus !== null && g.bus === shortBus(c.busAddress)) ?? cards.find((g) => g.vendor === vendor && vendor === "nvidia" && g.bus === null);
    if (same) same.vramBytes ??= vramBytes;
    else cards.push({ vendor, name: c.model || c.vendor, vramBytes, unifiedMemory: c.vramDynamic, bus: shortBus(c.busAddress) });
  }
}

export interface GpuSources {
  /** The SoC compatible from the device tree; Jetson's integrated GPU is known from it. */
  soc: string | null;
  runner?: CommandRunner;
  systemInfo?: SystemInfo;
}

export async function readGpus(fs: RootFs, evidence: EvidenceLog, sources: GpuSources): Promise<Gpu[]> {
  const igpu = sources.soc ? JETSON_IGPUS[sources.soc] : undefined;
  if (igpu) {
    evidence.add("/proc/device-tree/compatible", `${sources.soc}: SoC with ${igpu}, sharing system memory`);
    return [{ vendor: "nvidia", name: igpu, vramBytes: null, unifiedMemory: true }];
  }
  const cards = readNvidiaProc(fs, evidence);
  if (cards.length > 0 && sources.runner) await addNvidiaSmi(cards, sources.runner, evidence);
  if (sources.systemInfo) {
    try {
      await addSystemInfo(cards, sources.systemInfo, evidence);
    } catch (err) {
      evidence.note(`systeminformation.graphics() failed: ${(err as Error).message}`);
    }
  }
  return cards.map(({ bus: _bus, ...gpu }) => gpu);
}
