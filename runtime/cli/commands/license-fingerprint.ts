import { statSync } from "node:fs";
import type { Command } from "../command.ts";
import { DATA_DIR_OPTION, JSON_OPTION } from "../command.ts";
import { commandConfig } from "../config-flags.ts";
import { table } from "../output.ts";
import { HearthError } from "../../errors.ts";
import { loadOrCreateDeviceIdentity } from "../../identity/device-key.ts";
import { collectFingerprint } from "../../identity/fingerprint.ts";
import { formatFingerprint } from "../../identity/fingerprint-format.ts";
import type { DeviceFingerprintReport } from "../../identity/fingerprint-schema.ts";

/** Refuses a path that exists but is not a directory, naming the flag (a typo would otherwise read as an empty board). */
function requireDirectory(path: string, flag: string, field: string, mayBeMissing: boolean): void {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat ? !stat.isDirectory() : !mayBeMissing) throw new HearthError("invalid_request", `--${flag} ${path} is not a directory`, { field });
}

function formatReport(r: DeviceFingerprintReport): string {
  const lines = [
    `Device id    ${r.deviceId}${r.identityCreated ? " (created now: first use of this data dir)" : ""}`,
    `Public key   ${r.devicePublicKey}`,
    r.fingerprint
      ? `Fingerprint  ${r.fingerprint}`
      : "Fingerprint  none: no stable hardware id could be read here, so no license can be bound to this box (see below)",
    "",
  ];
  if (r.fingerprint) {
    lines.push("Send the fingerprint to your reseller to obtain a license for this box. It holds digests of hardware ids, not the ids.", "");
  }
  lines.push(table(["KIND", "DIGEST", "SOURCE"], r.components.map((c) => [c.kind, c.digest ?? "-", c.present ? c.source : `not found (looked at ${c.source})`])));
  const notes = r.components.filter((c) => c.note).map((c) => `  ${c.kind}: ${c.note}`);
  if (notes.length > 0) lines.push("", "Notes", ...notes);
  return lines.join("\n");
}

/**
 * `hearth license fingerprint`: what a reseller sends to obtain a license. Raw serials and MACs are
 * never printed (they would end up in tickets and e-mails); the digests are all a license needs, and
 * the sources say which file to read, as root, when someone must compare by hand.
 */
export const licenseFingerprintCommand: Command = {
  path: ["license", "fingerprint"],
  summary: "Print this device's id, public key and hardware fingerprint (what a reseller needs to issue a license)",
  options: {
    ...DATA_DIR_OPTION,
    root: { type: "string", value: "DIR", description: "Read the hardware ids under DIR instead of / (a fixture or a copied dump)" },
    ...JSON_OPTION,
  },
  async run(ctx) {
    const root = typeof ctx.values.root === "string" ? ctx.values.root : undefined;
    if (root !== undefined) requireDirectory(root, "root", "root", false);
    const { dataDir } = commandConfig(ctx);
    requireDirectory(dataDir, "data-dir", "dataDir", true);
    // The identity is created on first use, so the reseller's first command already gives the final id.
    const identity = loadOrCreateDeviceIdentity(dataDir);
    const { fingerprint, sources } = await collectFingerprint({ root });
    const digests = new Map(fingerprint.components.map((c) => [c.kind, c.digest]));
    const report: DeviceFingerprintReport = {
      deviceId: identity.deviceId,
      devicePublicKey: identity.publicKey,
      identityCreated: identity.created,
      fingerprint: fingerprint.components.length > 0 ? formatFingerprint(fingerprint) : null,
      components: sources.map((s) => ({ ...s, digest: digests.get(s.kind) ?? null })),
    };
    ctx.io.out(ctx.values.json ? JSON.stringify(report) : formatReport(report));
    return 0;
  },
};

export const licenseFingerprintCommands: Command[] = [licenseFingerprintCommand];
