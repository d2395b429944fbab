/**
 * Health snapshots: machine figures only (load, memory, the data disk, temperatures, throttling),
 * sampled on the health interval, never per request. systeminformation is imported on first use;
 * the board's throttle reader adds its zones and whether the board throttles right now.
 */
import { resolve, sep } from "node:path";
import type { ThrottleReader } from "../../board/index.ts";
import type { HealthMessage } from "./messages.ts";

export type HealthSnapshot = Omit<HealthMessage, "v" | "id" | "device" | "fleet" | "ts">;

export interface HealthSampler {
  sample(): Promise<HealthSnapshot>;
}

const MB = 1024 * 1024;
const toMB = (bytes: number) => (Number.isFinite(bytes) && bytes > 0 ? Math.round(bytes / MB) : 0);

/** The filesystem holding `path`: the longest mount point that contains it. */
export function filesystemOf<T extends { mount: string }>(filesystems: T[], path: string): T | undefined {
  const target = resolve(path);
  const inside = (mount: string) => mount === "/" || target === mount || target.startsWith(mount.endsWith(sep) ? mount : mount + sep);
  return filesystems.filter((f) => inside(f.mount)).sort((a, b) => b.mount.length - a.mount.length)[0];
}

export function systemHealthSampler(opts: { dataDir: string; throttle?: () => ThrottleReader | null }): HealthSampler {
  return {
    async sample() {
      const si = (await import("systeminformation")).default;
      const reader = opts.throttle?.() ?? null;
      const [load, mem, filesystems, cpuTemp, time, throttle] = await Promise.all([
        si.currentLoad(),
        si.mem(),
        si.fsSize().catch(() => []),
        si.cpuTemperature().catch(() => null),
        si.time(),
        reader ? reader.read().catch(() => null) : Promise.resolve(null),
      ]);
      const disk = filesystemOf(filesystems, opts.dataDir);
      const temperatures: { zone: string; celsius: number }[] = [];
      for (const t of throttle?.temperatures ?? []) if (t.milliCelsius !== null) temperatures.push({ zone: t.zone.slice(0, 64), celsius: t.milliCelsius / 1000 });
      if (temperatures.length === 0 && cpuTemp) {
        if (typeof cpuTemp.main === "number") temperatures.push({ zone: "cpu", celsius: cpuTemp.main });
        cpuTemp.cores.forEach((c, i) => typeof c === "number" && temperatures.push({ zone: `core${i}`, celsius: c }));
      }
      return {
        uptimeSeconds: Math.max(0, Math.floor(Number(time.uptime) || 0)),
        cpuLoadPercent: Number.isFinite(load.currentLoad) ? Math.max(0, Math.round(load.currentLoad * 10) / 10) : 0,
        // "active" leaves out page cache and buffers, which the kernel gives back on demand.
        memory: { totalMB: toMB(mem.total), usedMB: toMB(mem.active) },
        temperaturesC: temperatures.filter((t) => Number.isFinite(t.celsius)).slice(0, 32),
        disk: { totalMB: toMB(disk?.size ?? 0), usedMB: toMB(disk?.used ?? 0) },
        throttled: throttle?.throttled === true,
      };
    },
  };
}
