import type { RootFs } from "../root-fs.ts";
import { quote, type EvidenceLog } from "../evidence.ts";

const PATH = "/etc/nv_tegra_release";

/**
 * Jetson Linux (L4T) release from /etc/nv_tegra_release, e.g.
 * "# R36 (release), REVISION: 3.0, GCID: 36923193, BOARD: generic, EABI: aarch64, DATE: …" → "36.3.0".
 * Its presence also says the NVIDIA userspace (CUDA driver) is installed, not just the SoC.
 */
export function readTegraRelease(fs: RootFs, evidence: EvidenceLog): string | null {
  const text = fs.text(PATH);
  if (text === null) return null;
  const match = /#\s*R(\d+)\s*\(release\),\s*REVISION:\s*(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) {
    evidence.note(`${PATH} exists but its first line is not an L4T release line`);
    return null;
  }
  const release = `${match[1]}.${match[2]}.${match[3] ?? "0"}`;
  evidence.add(PATH, `L4T R${release} (${quote(text.split("\n")[0] ?? "", 80)})`);
  return release;
}
