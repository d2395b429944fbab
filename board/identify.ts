import type { BoardKind, Cpu, Gpu } from "./schema.ts";
import type { DeviceTree } from "./readers/device-tree.ts";

export interface BoardSignals {
  deviceTree: DeviceTree;
  dmiProduct: string | null;
  cpu: Cpu;
  memoryBytes: number | null;
  gpus: Gpu[];
}

export interface Identity {
  kind: BoardKind;
  name: string;
  soc: string | null;
  fallbackReason?: string;
}

const KNOWN_SOCS = /^(brcm,bcm27\d\d|brcm,bcm283\d|nvidia,tegra\d+)$/;

/** The SoC's compatible string; by device-tree convention the SoC comes last in the list. */
export function socOf(dt: DeviceTree): string | null {
  return dt.compatible.find((c) => KNOWN_SOCS.test(c)) ?? dt.compatible.at(-1) ?? null;
}

/** Jetson module part numbers (the "p3767-0005" in the compatible list) → board kind. */
function orinKind(dt: DeviceTree): BoardKind | null {
  const has = (re: RegExp) => dt.compatible.some((c) => re.test(c));
  if (has(/p3767-000[01]\b/)) return "jetson-orin-nx"; // Orin NX 16 GB / 8 GB
  if (has(/p3767-000[345]\b/)) return "jetson-orin-nano"; // Orin Nano 8 GB / 4 GB / dev-kit module
  if (has(/p3701-/)) return "jetson-agx-orin"; // AGX Orin 32 GB / 64 GB / Industrial
  const model = dt.model ?? "";
  if (/Orin Nano/i.test(model)) return "jetson-orin-nano";
  if (/Orin NX/i.test(model)) return "jetson-orin-nx";
  if (/AGX Orin/i.test(model)) return "jetson-agx-orin";
  return null;
}

type DeviceTreeVerdict = { kind: BoardKind; said: string } | { unsupported: string } | null;

/** What the device tree says the board is; null when there is no device tree at all. */
function fromDeviceTree(dt: DeviceTree): DeviceTreeVerdict {
  const soc = socOf(dt);
  const model = dt.model ?? "";
  const said = dt.model ? JSON.stringify(dt.model) : (soc ?? "");
  if (soc === "brcm,bcm2712" || /Raspberry Pi (5|500)|Compute Module 5/.test(model)) return { kind: "rpi5", said };
  if (soc === "brcm,bcm2711" || /Raspberry Pi (4|400)|Compute Module 4/.test(model)) return { kind: "rpi4", said };
  if (/^brcm,bcm283/.test(soc ?? "") || /Raspberry Pi/.test(model)) {
    return { unsupported: `the device tree names ${said}, a Raspberry Pi older than the 4: too little memory and no fast int8 paths for LLM inference` };
  }
  if (soc === "nvidia,tegra234") {
    const kind = orinKind(dt);
    return kind ? { kind, said } : { unsupported: `the device tree names ${said} on nvidia,tegra234, but no known Orin module (p3767/p3701) or model name` };
  }
  if (soc === "nvidia,tegra194") return { kind: "jetson-xavier", said };
  if (/^nvidia,tegra/.test(soc ?? "") || /Jetson/i.test(model)) {
    return { unsupported: `the device tree names ${said} (${soc ?? "unknown SoC"}), a Jetson older than Xavier: its JetPack 4 CUDA is too old for our builds` };
  }
  if (dt.model || dt.compatible.length > 0) return { unsupported: `the device tree names ${said} (${dt.compatible.join(", ")}), which is not a supported board` };
  return null;
}

const KIND_ARCHES: Record<BoardKind, Cpu["arch"][]> = {
  rpi5: ["arm64", "arm"],
  rpi4: ["arm64", "arm"],
  "jetson-orin-nano": ["arm64"],
  "jetson-orin-nx": ["arm64"],
  "jetson-agx-orin": ["arm64"],
  "jetson-xavier": ["arm64"],
  x86: ["x64"],
  "x86-nvidia": ["x64"],
  generic: ["x64", "arm64", "arm", "unknown"],
};

/**
 * Decides the board kind from the signals. Anything unknown, unsupported, incomplete or
 * contradictory becomes "generic" with the reason; a profile is only promised when its numbers
 * (cores, memory) can be computed from what the board said.
 */
export function identifyBoard(s: BoardSignals): Identity {
  const soc = socOf(s.deviceTree);
  const cpuName = s.cpu.arch === "x64" ? "PC" : `${s.cpu.arch} machine`;
  const name = s.deviceTree.model ?? s.dmiProduct ?? (s.cpu.model ? `${cpuName} with ${s.cpu.model}` : "unknown Linux machine");
  const generic = (fallbackReason: string): Identity => ({ kind: "generic", name, soc, fallbackReason });

  const verdict = fromDeviceTree(s.deviceTree);
  if (verdict && "unsupported" in verdict) return generic(`${verdict.unsupported}; using the generic Linux profile`);

  let kind: BoardKind;
  let said: string;
  if (verdict) {
    kind = verdict.kind;
    said = `the device tree (${verdict.said})`;
  } else if (s.cpu.arch === "x64") {
    const nvidia = s.gpus.some((g) => g.vendor === "nvidia" && !g.unifiedMemory);
    kind = nvidia ? "x86-nvidia" : "x86";
    said = nvidia ? "an x86-64 CPU with an NVIDIA GPU" : "an x86-64 CPU without an NVIDIA GPU";
  } else if (s.cpu.arch !== "unknown") {
    return generic(`an ${s.cpu.arch} CPU (${s.cpu.model ?? "unknown core"}) but no device tree naming a supported board; using the generic Linux profile`);
  } else {
    return generic("found no device tree, no usable /proc/cpuinfo and so nothing that identifies the board; using the generic Linux profile");
  }

  const missing = [
    ...(s.cpu.arch === "unknown" ? ["/proc/cpuinfo (cores, features)"] : []),
    ...(s.memoryBytes === null ? ["/proc/meminfo (MemTotal)"] : []),
  ];
  if (missing.length > 0) {
    return generic(`${said} says ${kind}, but ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} missing or unreadable, so that profile cannot be sized; using the generic Linux profile`);
  }
  if (!KIND_ARCHES[kind].includes(s.cpu.arch)) {
    return generic(`${said} says ${kind}, but /proc/cpuinfo describes an ${s.cpu.arch} CPU: the signals disagree; using the generic Linux profile`);
  }
  return { kind, name, soc };
}
