import type { RootFs } from "../../board/root-fs.ts";
import { splitDeviceTreeStrings } from "../../board/readers/device-tree.ts";
import { IdSearch, type IdReading } from "./id-search.ts";
import type { IdentitySystemInfo } from "./system-info.ts";

/** Raspberry Pi kernels print the SoC's OTP serial here (16 hex digits). */
const CPUINFO = "/proc/cpuinfo";
/** Pi and Jetson firmware put the board serial in the device tree (a NUL-terminated string). */
const DT_SERIALS = ["/proc/device-tree/serial-number", "/sys/firmware/devicetree/base/serial-number"];
/** x86 firmware's SMBIOS ids; root-only files on real machines. */
const DMI_IDS = ["/sys/class/dmi/id/product_uuid", "/sys/class/dmi/id/product_serial"];

function cpuinfoSerial(raw: string): string | null {
  return /^Serial\s*:\s*(\S+)\s*$/m.exec(raw)?.[1] ?? null;
}

/**
 * The board's own serial: Raspberry Pi (cpuinfo or device tree), Jetson (device tree), x86 (DMI
 * product UUID, else product serial). On the live root, when no file gives one (DMI files are
 * root-only), systeminformation's system() is asked, which can also use dmidecode.
 */
export async function readBoardId(fs: RootFs, systemInfo?: IdentitySystemInfo): Promise<IdReading> {
  const search = new IdSearch();
  // Checked so a Pi with "Serial : 0000..." (some containers) falls through to the device tree.
  search.offerFile(fs, CPUINFO, { extract: cpuinfoSerial, label: "/proc/cpuinfo Serial" });
  for (const path of DT_SERIALS) search.offerFile(fs, path, { extract: (raw) => splitDeviceTreeStrings(raw)[0] ?? "" });
  for (const path of DMI_IDS) search.offerFile(fs, path);
  if (!search.done && systemInfo) {
    try {
      const system = await systemInfo.system();
      // systeminformation says "-" or "" for unknown. The uuid first, as from the files, so the
      // same box gives the same digest whichever source answers.
      const known = (value: string) => (value === "-" || value.trim() === "" ? null : value);
      search.offer("systeminformation.system().uuid", known(system.uuid));
      search.offer("systeminformation.system().serial", known(system.serial));
    } catch (err) {
      search.note(`systeminformation.system() failed: ${(err as Error)?.message ?? String(err)}`);
    }
  }
  return search.result("no board serial or DMI id");
}
