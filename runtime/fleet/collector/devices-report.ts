/** `hearth fleet devices`: every device with what it last said about itself and its latest health. */
import type { FleetStore } from "./store.ts";

export interface DeviceReport {
  deviceId: string;
  fleet: string;
  online: boolean | null;
  firstSeen: string;
  lastSeen: string;
  version: string | null;
  tier: string | null;
  licenseId: string | null;
  models: string[];
  publicKey: string | null;
  health: {
    at: string;
    uptimeSeconds: number;
    cpuLoadPercent: number;
    memory: { totalMB: number; usedMB: number };
    disk: { totalMB: number; usedMB: number };
    maxTemperatureC: number | null;
    throttled: boolean;
  } | null;
}

const iso = (ms: unknown) => new Date(Number(ms)).toISOString();
const num = (v: unknown) => Number(v);

const DEVICES_SQL = `
SELECT d.device_id, d.fleet, d.online, d.first_seen_ms, d.last_seen_ms, d.version, d.tier, d.license_id, d.models, d.public_key,
       h.ts_ms AS health_ts_ms, h.uptime_seconds, h.cpu_load_percent, h.memory_total_mb, h.memory_used_mb,
       h.disk_total_mb, h.disk_used_mb, h.max_temperature_c, h.throttled
FROM fleet_devices d
LEFT JOIN (
  SELECT x.*, ROW_NUMBER() OVER (PARTITION BY x.device_id ORDER BY x.ts_ms DESC, x.received_ms DESC) AS rn FROM fleet_health x
) h ON h.device_id = d.device_id AND h.rn = 1
ORDER BY d.fleet, d.device_id`;

export async function devicesReport(store: FleetStore): Promise<DeviceReport[]> {
  const rows = await store.all<Record<string, unknown>>(DEVICES_SQL);
  return rows.map((r) => ({
    deviceId: String(r.device_id),
    fleet: String(r.fleet),
    online: r.online === null ? null : num(r.online) === 1,
    firstSeen: iso(r.first_seen_ms),
    lastSeen: iso(r.last_seen_ms),
    version: (r.version as string | null) ?? null,
    tier: (r.tier as string | null) ?? null,
    licenseId: (r.license_id as string | null) ?? null,
    models: r.models ? (JSON.parse(String(r.models)) as string[]) : [],
    publicKey: (r.public_key as string | null) ?? null,
    health:
      r.health_ts_ms === null || r.health_ts_ms === undefined
        ? null
        : {
            at: iso(r.health_ts_ms),
            uptimeSeconds: num(r.uptime_seconds),
            cpuLoadPercent: num(r.cpu_load_percent),
            memory: { totalMB: num(r.memory_total_mb), usedMB: num(r.memory_used_mb) },
            disk: { totalMB: num(r.disk_total_mb), usedMB: num(r.disk_used_mb) },
            maxTemperatureC: r.max_temperature_c === null ? null : num(r.max_temperature_c),
            throttled: num(r.throttled) === 1,
          },
  }));
}
