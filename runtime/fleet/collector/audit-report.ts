/**
 * `hearth fleet audit`: license compliance over a period, from the usage the devices reported
 * (by the devices' own message times, so a box that was offline for hours counts in the period it
 * served in): devices and tokens per license, tokens per device, devices serving without a valid
 * license, licenses on more devices than they allow, and breaks in each device's ledger chain.
 */
import type { FleetStore } from "./store.ts";
import { chainProblems, type ChainProblem } from "./chain-checks.ts";
import { DEFAULT_SEATS } from "./seats.ts";

export interface Counts {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  tokens: number;
}

export interface DeviceUsage extends Counts {
  deviceId: string;
  fleet: string;
  /** Licenses its usage was reported under in the period (usually one). */
  licenseIds: string[];
  tiers: string[];
  usageMessages: number;
  firstSeq: number;
  lastSeq: number;
}

export interface LicenseUsage extends Counts {
  licenseId: string;
  devices: string[];
  seats: number;
  /** "given": from --seats / --seats-file; "default": not listed, taken as fingerprint-bound. */
  seatsSource: "given" | "default";
  overSeats: boolean;
}

export interface UnlicensedDevice extends Counts {
  deviceId: string;
  fleet: string;
  reason: "community_tier" | "no_license_id";
}

export interface FleetAudit {
  period: { since: string; until: string };
  totals: Counts & { devices: number; licenses: number };
  licenses: LicenseUsage[];
  devices: DeviceUsage[];
  unlicensed: UnlicensedDevice[];
  overSeat: { licenseId: string; seats: number; devices: string[] }[];
  chainProblems: ChainProblem[];
}

const USAGE_SQL = `
SELECT device_id, MAX(fleet) AS fleet, license_id, tier, COUNT(*) AS messages,
       SUM(requests) AS requests, SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens,
       MIN(seq) AS first_seq, MAX(seq) AS last_seq
FROM fleet_usage WHERE ts_ms >= ? AND ts_ms < ?
GROUP BY device_id, license_id, tier
ORDER BY device_id, license_id, tier`;

const zero = (): Counts => ({ requests: 0, promptTokens: 0, completionTokens: 0, tokens: 0 });
function add(into: Counts, c: Counts): void {
  into.requests += c.requests;
  into.promptTokens += c.promptTokens;
  into.completionTokens += c.completionTokens;
  into.tokens += c.tokens;
}

export async function buildFleetAudit(store: FleetStore, opts: { since: number; until: number; seats: ReadonlyMap<string, number> }): Promise<FleetAudit> {
  const rows = await store.all<Record<string, unknown>>(USAGE_SQL, [opts.since, opts.until]);
  const devices = new Map<string, DeviceUsage>();
  const licenses = new Map<string, LicenseUsage>();
  const unlicensed = new Map<string, UnlicensedDevice>();
  const totals = zero();

  for (const r of rows) {
    const deviceId = String(r.device_id);
    const fleet = String(r.fleet);
    const licenseId = r.license_id === null ? null : String(r.license_id);
    const tier = String(r.tier);
    const prompt = Number(r.prompt_tokens);
    const completion = Number(r.completion_tokens);
    const c: Counts = { requests: Number(r.requests), promptTokens: prompt, completionTokens: completion, tokens: prompt + completion };
    add(totals, c);

    let d = devices.get(deviceId);
    if (!d) devices.set(deviceId, (d = { deviceId, fleet, licenseIds: [], tiers: [], usageMessages: 0, firstSeq: Number(r.first_seq), lastSeq: Number(r.last_seq), ...zero() }));
    add(d, c);
    d.usageMessages += Number(r.messages);
    d.firstSeq = Math.min(d.firstSeq, Number(r.first_seq));
    d.lastSeq = Math.max(d.lastSeq, Number(r.last_seq));
    if (!d.tiers.includes(tier)) d.tiers.push(tier);

    if (tier === "smb" && licenseId !== null) {
      if (!d.licenseIds.includes(licenseId)) d.licenseIds.push(licenseId);
      let l = licenses.get(licenseId);
      if (!l) {
        const given = opts.seats.get(licenseId);
        licenses.set(licenseId, (l = { licenseId, devices: [], seats: given ?? DEFAULT_SEATS, seatsSource: given === undefined ? "default" : "given", overSeats: false, ...zero() }));
      }
      add(l, c);
      if (!l.devices.includes(deviceId)) l.devices.push(deviceId);
    } else {
      let u = unlicensed.get(deviceId);
      if (!u) unlicensed.set(deviceId, (u = { deviceId, fleet, reason: tier === "smb" ? "no_license_id" : "community_tier", ...zero() }));
      add(u, c);
    }
  }
  for (const l of licenses.values()) l.overSeats = l.devices.length > l.seats;
  const licenseList = [...licenses.values()].sort((a, b) => (a.licenseId < b.licenseId ? -1 : 1));

  return {
    period: { since: new Date(opts.since).toISOString(), until: new Date(opts.until).toISOString() },
    totals: { ...totals, devices: devices.size, licenses: licenses.size },
    licenses: licenseList,
    devices: [...devices.values()],
    unlicensed: [...unlicensed.values()],
    overSeat: licenseList.filter((l) => l.overSeats).map((l) => ({ licenseId: l.licenseId, seats: l.seats, devices: l.devices })),
    chainProblems: await chainProblems(store, opts.since, opts.until),
  };
}

/** One row per device, license figures repeated on each: the flat table a spreadsheet wants. */
export function auditCsv(audit: FleetAudit): string {
  const header = [
    "device_id", "fleet", "license_ids", "tiers", "requests", "prompt_tokens", "completion_tokens", "tokens", "usage_messages",
    "license_devices", "license_seats", "over_seats", "unlicensed", "chain_problems", "problem_kinds",
  ];
  const problems = new Map<string, ChainProblem[]>();
  for (const p of audit.chainProblems) problems.set(p.deviceId, [...(problems.get(p.deviceId) ?? []), p]);
  const lic = new Map(audit.licenses.map((l) => [l.licenseId, l]));
  const lines = [header.join(",")];
  // Devices with chain problems but no usage in the period get a row too.
  const quiet = [...problems.keys()].filter((id) => !audit.devices.some((d) => d.deviceId === id));
  const rows: DeviceUsage[] = [
    ...audit.devices,
    ...quiet.map((deviceId) => ({ deviceId, fleet: "", licenseIds: [], tiers: [], usageMessages: 0, firstSeq: 0, lastSeq: 0, ...zero() })),
  ];
  for (const d of rows) {
    const ls = d.licenseIds.map((id) => lic.get(id)!);
    const ps = problems.get(d.deviceId) ?? [];
    lines.push(
      [
        d.deviceId, d.fleet, d.licenseIds.join(";"), d.tiers.join(";"), d.requests, d.promptTokens, d.completionTokens, d.tokens, d.usageMessages,
        ls.map((l) => l.devices.length).join(";"), ls.map((l) => l.seats).join(";"), ls.some((l) => l.overSeats) ? "yes" : "no",
        audit.unlicensed.some((u) => u.deviceId === d.deviceId) ? "yes" : "no", ps.length, [...new Set(ps.map((p) => p.kind))].join(";"),
      ].map(csvCell).join(","),
    );
  }
  return lines.join("\n");
}

function csvCell(v: string | number): string {
  // A license id is free text: one starting like a formula must not run in a spreadsheet.
  const s = typeof v === "string" && /^[=+@\t\r]/.test(v) ? `'${v}` : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
