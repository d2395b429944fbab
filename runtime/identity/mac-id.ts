import type { RootFs } from "../../board/root-fs.ts";
import { IdSearch, type IdReading } from "./id-search.ts";
import type { IdentitySystemInfo } from "./system-info.ts";

const NET = "/sys/class/net";
/** addr_assign_type values other than 0 (NET_ADDR_PERM): the address is not the hardware's own. */
const NOT_PERMANENT: Record<string, string> = { "1": "random address", "2": "address stolen from another device", "3": "address set by software" };
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Why interface `iface` gives no permanent MAC, or null when it does. */
function unusable(fs: RootFs, iface: string, mac: string | null): string | null {
  const dir = `${NET}/${iface}`;
  // Bridges, veth, docker0, tunnels have no `device` link: their addresses are made up.
  if (!fs.exists(`${dir}/device`)) return "virtual: no device";
  const assign = fs.text(`${dir}/addr_assign_type`)?.trim() ?? "";
  if (assign !== "0") return NOT_PERMANENT[assign] ?? "address origin unknown";
  if (mac === null || !MAC.test(mac)) return "no Ethernet address";
  if (/^(00:){5}00$/.test(mac)) return "all-zero address";
  if (parseInt(mac.slice(0, 2), 16) & 1) return "multicast address";
  return null;
}

/**
 * The first permanent MAC in interface name order: an interface with a device behind it whose
 * address the kernel marks as the hardware's own (not random, not set by software). On the live
 * root, systeminformation is asked whether it sees the same address (a note, never the value).
 */
export async function readMacId(fs: RootFs, systemInfo?: IdentitySystemInfo): Promise<IdReading> {
  const search = new IdSearch();
  const passed: string[] = [];
  let chosen: { iface: string; mac: string } | null = null;
  const ifaces = fs.list(NET).filter((i) => i !== "lo");
  for (const iface of ifaces) {
    const mac = fs.text(`${NET}/${iface}/address`)?.trim().toLowerCase() ?? null;
    const why = unusable(fs, iface, mac);
    if (why) {
      passed.push(`${iface} (${why})`);
      continue;
    }
    if (!search.offer(`${NET}/${iface}/address`, mac)) continue;
    chosen = { iface, mac: mac! };
    break;
  }
  if (passed.length > 0) search.note(`passed over ${passed.join(", ")}`);
  if (chosen && systemInfo) {
    const { iface, mac } = chosen;
    try {
      const nic = (await systemInfo.networkInterfaces()).find((n) => n.iface === iface);
      if (!nic) search.note(`systeminformation.networkInterfaces() does not list ${iface}`);
      else if (nic.mac.toLowerCase() === mac) search.note(`systeminformation.networkInterfaces() agrees on ${iface}`);
      else search.note(`systeminformation.networkInterfaces() reports another address for ${iface} (changed at runtime?)`);
    } catch (err) {
      search.note(`systeminformation.networkInterfaces() failed: ${(err as Error)?.message ?? String(err)}`);
    }
  }
  if (!chosen) search.offer(NET, null);
  return search.result(ifaces.length === 0 ? "no network interfaces besides lo" : "no interface has a permanent MAC address");
}
