import type { RootFs } from "../root-fs.ts";
import { readInteger } from "../root-fs.ts";
import type { EvidenceLog } from "../evidence.ts";
import type { ThermalZone } from "../schema.ts";
import { celsiusText } from "../units.ts";

export const THERMAL = "/sys/class/thermal";

/** The lowest "passive" trip point: where the kernel starts cutting clocks for that zone. */
export function passiveTrip(fs: RootFs, zone: string): number | null {
  const trips = fs
    .list(`${THERMAL}/${zone}`)
    .flatMap((f) => /^trip_point_(\d+)_type$/.exec(f)?.slice(1, 2) ?? [])
    .filter((n) => fs.text(`${THERMAL}/${zone}/trip_point_${n}_type`)?.trim() === "passive")
    .map((n) => readInteger(fs, `${THERMAL}/${zone}/trip_point_${n}_temp`))
    // Intel's x86_pkg_temp lists programmable passive trips that read 0 until someone sets them.
    .filter((t): t is number => t !== null && t > 0);
  return trips.length > 0 ? Math.min(...trips) : null;
}

/** One reading of a zone; temp may be unreadable (Orin's cv*-thermal answer EAGAIN when power-gated). */
export function readZone(fs: RootFs, zone: string): ThermalZone | null {
  const type = fs.text(`${THERMAL}/${zone}/type`)?.trim();
  if (!type) return null;
  return { zone, type, milliCelsius: readInteger(fs, `${THERMAL}/${zone}/temp`), passiveTripMilliCelsius: passiveTrip(fs, zone) };
}

export function listZones(fs: RootFs): string[] {
  return fs
    .list(THERMAL)
    .filter((d) => /^thermal_zone\d+$/.test(d))
    .sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)));
}

export function readThermalZones(fs: RootFs, evidence: EvidenceLog): ThermalZone[] {
  const zones = listZones(fs).flatMap((z) => readZone(fs, z) ?? []);
  for (const z of zones) {
    const temp = z.milliCelsius === null ? "temperature unreadable" : `at ${celsiusText(z.milliCelsius)}`;
    const trip = z.passiveTripMilliCelsius === null ? "" : `, throttles at ${celsiusText(z.passiveTripMilliCelsius)}`;
    evidence.add(`${THERMAL}/${z.zone}`, `${z.type} ${temp}${trip}`);
  }
  return zones;
}
