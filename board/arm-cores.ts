/**
 * Arm core names from /proc/cpuinfo's "CPU implementer" and "CPU part" (arm64 kernels print no
 * model name), and which cores are the LITTLE (efficiency) kind of a big.LITTLE pair.
 */
interface ArmCore {
  name: string;
  little: boolean;
}

const CORES: Record<string, ArmCore> = {
  "0x41:0xd03": { name: "Cortex-A53", little: true },
  "0x41:0xd04": { name: "Cortex-A35", little: true },
  "0x41:0xd05": { name: "Cortex-A55", little: true },
  "0x41:0xd07": { name: "Cortex-A57", little: false },
  "0x41:0xd08": { name: "Cortex-A72", little: false },
  "0x41:0xd09": { name: "Cortex-A73", little: false },
  "0x41:0xd0a": { name: "Cortex-A75", little: false },
  "0x41:0xd0b": { name: "Cortex-A76", little: false },
  "0x41:0xd0c": { name: "Neoverse-N1", little: false },
  "0x41:0xd0d": { name: "Cortex-A77", little: false },
  "0x41:0xd41": { name: "Cortex-A78", little: false },
  "0x41:0xd42": { name: "Cortex-A78AE", little: false },
  "0x41:0xd44": { name: "Cortex-X1", little: false },
  "0x41:0xd46": { name: "Cortex-A510", little: true },
  "0x41:0xd47": { name: "Cortex-A710", little: false },
  "0x41:0xd4b": { name: "Cortex-A78C", little: false },
  "0x41:0xd80": { name: "Cortex-A520", little: true },
  "0x41:0xd81": { name: "Cortex-A720", little: false },
  "0x4e:0x004": { name: "NVIDIA Carmel", little: false },
};

export function armCore(implementer: string | undefined, part: string | undefined): ArmCore | null {
  if (!implementer || !part) return null;
  return CORES[`${implementer.toLowerCase()}:${part.toLowerCase()}`] ?? null;
}
