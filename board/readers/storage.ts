import type { RootFs } from "../root-fs.ts";
import { readInteger } from "../root-fs.ts";
import type { EvidenceLog } from "../evidence.ts";
import type { Storage } from "../schema.ts";
import type { SystemInfo } from "../system-info.ts";
import { bytesText } from "../units.ts";

const MOUNTS = "/proc/mounts";

/** The medium from the kernel's device naming: SD/eMMC wear and speed differ a lot from NVMe. */
function mediumOf(device: string): Storage["medium"] {
  if (/^mmcblk/.test(device)) return "mmc";
  if (/^nvme/.test(device)) return "nvme";
  if (/^sd[a-z]/.test(device)) return "scsi";
  if (/^vd[a-z]/.test(device)) return "virtio";
  return "unknown";
}

/** The root filesystem: its device from /proc/mounts, its size from sysfs (512-byte sectors). */
export async function readStorage(fs: RootFs, evidence: EvidenceLog, systemInfo?: SystemInfo): Promise<Storage | null> {
  // The last mount on "/" is the one in effect (an initramfs root can be mounted over).
  const rootLine = (fs.text(MOUNTS) ?? "").split("\n").map((l) => l.split(" ")).filter((f) => f[1] === "/").at(-1);
  let storage: Storage | null = null;
  if (rootLine) {
    const [source = "", , fsType = null] = rootLine;
    const name = source.startsWith("/dev/") ? source.slice("/dev/".length) : null;
    evidence.add(MOUNTS, `/ is ${source} (${fsType ?? "?"})`);
    const sectors = name ? readInteger(fs, `/sys/class/block/${name}/size`) : null;
    if (sectors !== null) evidence.add(`/sys/class/block/${name}/size`, `${sectors} sectors (${bytesText(sectors * 512)})`);
    storage = { mount: "/", device: name ? source : null, fsType, sizeBytes: sectors === null ? null : sectors * 512, medium: name ? mediumOf(name) : "unknown" };
  }
  if (systemInfo && (storage === null || storage.sizeBytes === null)) {
    try {
      const root = (await systemInfo.fsSize()).find((f) => f.mount === "/");
      if (root) {
        evidence.add("systeminformation.fsSize()", `/ is ${root.fs} (${root.type}), ${bytesText(root.size)}`);
        storage = { mount: "/", device: storage?.device ?? root.fs, fsType: storage?.fsType ?? root.type, sizeBytes: root.size, medium: storage?.medium ?? "unknown" };
      }
    } catch (err) {
      evidence.note(`systeminformation.fsSize() failed: ${(err as Error).message}`);
    }
  }
  return storage;
}
