import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readInteger, type RootFs } from "../../board/root-fs.ts";
import { IdSearch, type IdReading } from "./id-search.ts";

const MOUNTS = "/proc/mounts";
/** Block devices that are no physical disk of this box: loop, RAM, compressed swap, RAID, optical. */
const NOT_A_DISK = /^(loop|ram|zram|md|nbd|sr|fd|mtdblock|zd)/;
/** Virtual disks: their serial, if any, is hypervisor configuration that cloned VMs share. */
const VIRTUAL_DISK = /^(vd|xvd)[a-z]/;

/** The kernel name of the device mounted on "/" (the last mount there is the one in effect). */
function rootSource(fs: RootFs): string | null {
  const line = (fs.text(MOUNTS) ?? "").split("\n").map((l) => l.split(" ")).filter((f) => f[1] === "/").at(-1);
  return line?.[0] ?? null;
}

/** The whole disk a block device lives on: a partition's parent, a device-mapper volume's first slave. */
function diskOf(fs: RootFs, name: string, depth = 0): string | null {
  if (depth > 4) return null;
  if (name.startsWith("dm-")) {
    const slave = fs.list(`/sys/block/${name}/slaves`)[0];
    return slave ? diskOf(fs, slave, depth + 1) : null;
  }
  if (fs.exists(`/sys/block/${name}`)) return name;
  const m = /^(mmcblk\d+|nvme\d+n\d+)p\d+$/.exec(name) ?? /^((?:sd|vd|xvd|hd)[a-z]+)\d+$/.exec(name);
  if (m) return m[1]!;
  // In sysfs a partition is a subdirectory of its disk.
  return fs.list("/sys/block").find((disk) => fs.exists(`/sys/block/${disk}/${name}`)) ?? null;
}

/** The boot disk from /proc/mounts ("/dev/mmcblk0p2" → mmcblk0); null for /dev/root, overlays, NFS. */
function bootDisk(fs: RootFs, search: IdSearch): string | null {
  const source = rootSource(fs);
  if (source === null) return null;
  let name: string | null = null;
  const mapper = /^\/dev\/mapper\/(.+)$/.exec(source);
  if (mapper) name = fs.list("/sys/block").find((d) => d.startsWith("dm-") && fs.text(`/sys/block/${d}/dm/name`)?.trim() === mapper[1]) ?? null;
  else if (source.startsWith("/dev/")) name = source.slice("/dev/".length);
  const disk = name === null ? null : diskOf(fs, name);
  if (disk === null) search.note(`${MOUNTS}: / is on ${source}, which names no disk in /sys/block`);
  return disk;
}

/**
 * SCSI inquiry page 0x80 (unit serial number) as the kernel exposes it: a 4-byte header (device
 * type, page code 0x80, length) then the serial in ASCII. Binary, so read as bytes.
 */
function vpdSerial(fs: RootFs, path: string): string | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(fs.root, path));
  } catch {
    return null;
  }
  if (bytes.length < 4 || bytes[1] !== 0x80) return "";
  const length = (bytes[2]! << 8) | bytes[3]!;
  return bytes.subarray(4, 4 + length).toString("latin1");
}

/** Offers the serial of one disk, by the kernel's naming of its kind; true when one was taken. */
function offerDisk(fs: RootFs, disk: string, search: IdSearch): boolean {
  const dir = `/sys/block/${disk}`;
  if (/^mmcblk\d+$/.test(disk)) {
    // The CID register: manufacturer, product, serial and date, fixed at manufacture (eMMC and SD).
    return search.offerFile(fs, `${dir}/device/cid`) || search.offerFile(fs, `${dir}/device/serial`);
  }
  if (/^nvme\d+n\d+$/.test(disk)) {
    const controller = /^(nvme\d+)/.exec(disk)![1]!;
    return search.offerFile(fs, `${dir}/device/serial`) || search.offerFile(fs, `/sys/class/nvme/${controller}/serial`);
  }
  if (/^(sd|hd)[a-z]+$/.test(disk)) {
    const vpd = `${dir}/device/vpd_pg80`;
    return search.offer(vpd, vpdSerial(fs, vpd)) || search.offerFile(fs, `${dir}/device/wwid`) || search.offerFile(fs, `${dir}/device/serial`);
  }
  if (VIRTUAL_DISK.test(disk)) {
    search.skip(dir, "a virtual disk: any serial it has comes from the hypervisor's configuration, which cloned VMs share");
    return false;
  }
  search.skip(dir, "not a disk kind with a known serial (mmcblk, nvme, sd)");
  return false;
}

/**
 * The boot disk's serial: eMMC/SD CID, NVMe serial, SATA/SCSI unit serial. When the boot disk has
 * none (a USB bridge without one, a virtual disk) or cannot be told, the first fixed disk with one.
 */
export function readDiskId(fs: RootFs): IdReading {
  const search = new IdSearch();
  const boot = bootDisk(fs, search);
  if (boot === null || !offerDisk(fs, boot, search)) {
    for (const disk of fs.list("/sys/block")) {
      if (disk === boot || NOT_A_DISK.test(disk) || disk.startsWith("dm-")) continue;
      // A removable disk (a USB stick) moves between boxes; only the boot disk may be one.
      if (readInteger(fs, `/sys/block/${disk}/removable`) === 1) {
        search.skip(`/sys/block/${disk}`, "removable");
        continue;
      }
      if (offerDisk(fs, disk, search)) break;
    }
  }
  return search.result("no disk with a readable serial");
}
