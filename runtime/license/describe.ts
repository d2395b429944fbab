/** Human-readable license status for the CLI (the JSON forms are licenseStateJson and verdictJson). */
import { ENTITLEMENTS } from "./entitlements.ts";
import type { LicenseSummary, licenseStateJson } from "./state.ts";

type StateJson = ReturnType<typeof licenseStateJson>;

function licenseLines(l: LicenseSummary): string[] {
  const ignored = l.entitlements.filter((e) => !(ENTITLEMENTS as readonly string[]).includes(e));
  const binding = "seats" in l.binding ? `${l.binding.seats} seat(s), not device-bound` : `${l.binding.fingerprints} device fingerprint(s)`;
  return [
    `License:        ${l.licenseId}${l.customer ? ` for ${l.customer}` : ""} (${l.tier}, key ${l.keyId})`,
    `Listed:         ${l.entitlements.join(", ") || "none"}${ignored.length > 0 ? ` (not known to this runtime, ignored: ${ignored.join(", ")})` : ""}`,
    `Binding:        ${binding}`,
    `Valid:          ${l.notBefore} to ${l.expiresAt}, grace until ${l.graceEndsAt}`,
  ];
}

export function describeLicenseState(s: StateJson): string {
  const lines = [
    `Tier:           ${s.tier} (${s.reason})`,
    `Status:         ${s.message}`,
    `Entitlements:   ${s.entitlements.join(", ") || "none"}`,
    `Update channel: ${s.updateChannel}`,
    ...(s.license ? licenseLines(s.license) : []),
    `Trusted time:   ${s.clock.trustedNow} (system clock ${s.clock.wallNow})`,
  ];
  if (s.clock.incidents > 0 && s.clock.lastRollback) {
    const r = s.clock.lastRollback;
    lines.push(`Clock rollbacks: ${s.clock.incidents} recorded; last at ${r.wallAt}, ${r.behindSeconds} s behind ${r.trustedAt}`);
  }
  for (const w of s.warnings) lines.push(`Warning:        ${w}`);
  return lines.join("\n");
}

export function describeVerdict(v: { valid: boolean; reason: string; message: string; license: LicenseSummary | null; warnings: string[] }): string {
  const lines = [`${v.valid ? "VALID" : "INVALID"} (${v.reason}): ${v.message}`, ...(v.license ? licenseLines(v.license) : [])];
  for (const w of v.warnings) lines.push(`Warning:        ${w}`);
  return lines.join("\n");
}
