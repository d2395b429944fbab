import { statSync } from "node:fs";
import type { Command, CommandContext, OptionSpec } from "../command.ts";
import { DATA_DIR_OPTION, JSON_OPTION } from "../command.ts";
import { commandConfig } from "../config-flags.ts";
import { intFlag, requiredFlag, stringFlag } from "../run.ts";
import { HearthError, hasErrno } from "../../errors.ts";
import { systemClock } from "../../clock.ts";
import { openDatabase } from "../../store/db.ts";
import type { Fingerprint } from "../../identity/fingerprint-format.ts";
import { buildLicensePayload, DEFAULT_GRACE_DAYS, DEFAULT_UPDATE_CHANNEL, parseFingerprintFlag, parseTimeFlag } from "../../license/issue.ts";
import { licenseFileText, signLicense } from "../../license/signing.ts";
import { generateVendorKeyPair, loadVendorSigningKey, readVendorPublicKey } from "../../license/vendor-keyfile.ts";
import { trustedVendorKeys } from "../../license/vendor-keys.ts";
import { readLicenseFile } from "../../license/license-file.ts";
import { oversizedVerdict, verifyLicense, type LicenseVerdict } from "../../license/verify.ts";
import { licenseFilePath } from "../../license/store.ts";
import { installLicenseState, licenseStateJson, licenseSummary, loadLicenseState } from "../../license/state.ts";
import { describeLicenseState, describeVerdict } from "../../license/describe.ts";
import { writeFileDurably } from "../../license/durable-write.ts";

/** A license file given on the command line; an oversized one is judged unread. */
function licenseBytes(ctx: CommandContext): { bytes: Uint8Array } | { verdict: LicenseVerdict } {
  const path = ctx.positionals[0];
  if (!path) throw new HearthError("invalid_request", "the license FILE is required", { field: "file" });
  try {
    const read = readLicenseFile(path);
    return "bytes" in read ? read : { verdict: oversizedVerdict(read.oversized) };
  } catch (err) {
    const why = hasErrno(err, "ENOENT") ? "does not exist" : `cannot be read (${(err as Error).message})`;
    throw new HearthError("invalid_request", `${path} ${why}`, { field: "file" });
  }
}

const DEVICE_OPTIONS: Record<string, OptionSpec> = {
  fingerprint: { type: "string", value: "FP", description: "Use this device fingerprint (hfp1:...) instead of reading the hardware" },
  root: { type: "string", value: "DIR", description: "Read the hardware ids under DIR instead of / (a fixture or a copied dump)" },
};

/** This device's fingerprint: --fingerprint as given, else read from the hardware (under --root). */
async function deviceFingerprint(ctx: CommandContext): Promise<Fingerprint> {
  const given = stringFlag(ctx, "fingerprint");
  if (given !== undefined) return parseFingerprintFlag(given);
  const root = stringFlag(ctx, "root");
  if (root !== undefined && !statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
    throw new HearthError("invalid_request", `--root ${root} is not a directory`, { field: "root" });
  }
  // Imported on use: collecting pulls in systeminformation, which the vendor commands do not need.
  const { collectFingerprint } = await import("../../identity/fingerprint.ts");
  return (await collectFingerprint({ root })).fingerprint;
}

const keygenCommand: Command = {
  path: ["license", "keygen"],
  summary: "Generate a vendor signing key pair (on the vendor's machine; the private key never goes into an image)",
  options: {
    out: { type: "string", value: "DIR", description: "Directory for vendor-private.pem (0600) and vendor-public.json; existing keys are never overwritten" },
    "key-id": { type: "string", value: "ID", description: "Key id licenses will name (default: derived from the public key)" },
    ...JSON_OPTION,
  },
  async run(ctx) {
    const files = generateVendorKeyPair(requiredFlag(ctx, "out"), stringFlag(ctx, "key-id"));
    if (ctx.values.json) ctx.io.out(JSON.stringify(files));
    else {
      ctx.io.out(
        `Generated vendor key ${files.keyId}\n  private key: ${files.privateKeyPath} (keep it offline)\n  public key:  ${files.publicKeyPath}\n\n` +
          `A runtime trusts it with config license.vendorKeys, e.g.\n  HEARTH_LICENSE_VENDOR_KEYS='${JSON.stringify([{ keyId: files.keyId, publicKey: files.publicKey, retired: false }])}'`,
      );
    }
    return 0;
  },
};

const issueCommand: Command = {
  path: ["license", "issue"],
  summary: "Issue a signed license (vendor tool)",
  options: {
    key: { type: "string", value: "FILE", description: "Vendor private key (PEM, from license keygen)" },
    "key-id": { type: "string", value: "ID", description: "Key id to name (default: from vendor-public.json beside the key, else derived)" },
    fingerprint: { type: "string", value: "FP", description: "Bind to the device with this fingerprint (hfp1:...)" },
    seats: { type: "string", value: "N", description: "Instead of --fingerprint: a fleet license for N devices, not device-bound" },
    tier: { type: "string", value: "TIER", description: "smb or community" },
    entitlements: { type: "string", value: "A,B", description: "gpu_burst, lora_adapters, base_model_updates, multi_model (comma-separated)" },
    expires: { type: "string", value: "DATE", description: "Expiry: YYYY-MM-DD (start of that day, UTC) or an ISO 8601 time" },
    "not-before": { type: "string", value: "DATE", description: "Start of validity (default: now)" },
    "grace-days": { type: "string", value: "N", description: `Days the features continue after expiry (default ${DEFAULT_GRACE_DAYS})` },
    channel: { type: "string", value: "NAME", description: `Base-model update channel (default ${DEFAULT_UPDATE_CHANNEL})` },
    customer: { type: "string", value: "NAME", description: "Customer name" },
    "license-id": { type: "string", value: "ID", description: "License id (default: random)" },
    out: { type: "string", value: "FILE", description: "Where to write the license" },
    ...JSON_OPTION,
  },
  async run(ctx) {
    const out = requiredFlag(ctx, "out");
    const { signer, keyId } = loadVendorSigningKey(requiredFlag(ctx, "key"), stringFlag(ctx, "key-id"));
    const payload = buildLicensePayload(
      {
        tier: requiredFlag(ctx, "tier"),
        entitlements: stringFlag(ctx, "entitlements"),
        fingerprint: stringFlag(ctx, "fingerprint"),
        seats: intFlag(ctx.values, "seats"),
        expires: requiredFlag(ctx, "expires"),
        notBefore: stringFlag(ctx, "not-before"),
        customer: stringFlag(ctx, "customer"),
        licenseId: stringFlag(ctx, "license-id"),
        graceDays: intFlag(ctx.values, "grace-days"),
        channel: stringFlag(ctx, "channel"),
        keyId,
      },
      systemClock.now(),
    );
    writeFileDurably(out, licenseFileText(signLicense(payload, signer)));
    if (ctx.values.json) ctx.io.out(JSON.stringify({ path: out, payload }));
    else ctx.io.out(`Issued license ${payload.licenseId} (${payload.tier}: ${payload.entitlements.join(", ") || "no entitlements"}), valid until ${payload.expiresAt}, signed with ${keyId}: ${out}`);
    return 0;
  },
};

const verifyCommand: Command = {
  path: ["license", "verify"],
  summary: "Check a license's signature, key and validity (exit 1 when it would not be in force)",
  args: "FILE",
  options: {
    "public-key": { type: "string", value: "FILE", description: "Trust only this vendor public key (vendor-public.json) instead of the configured keys" },
    fingerprint: { type: "string", value: "FP", description: "Also check the binding against this device fingerprint" },
    at: { type: "string", value: "DATE", description: "Judge validity at this time instead of now" },
    config: DATA_DIR_OPTION.config!,
    ...JSON_OPTION,
  },
  async run(ctx) {
    const publicKey = stringFlag(ctx, "public-key");
    const vendorKeys = publicKey ? [readVendorPublicKey(publicKey)] : trustedVendorKeys(commandConfig(ctx).license.vendorKeys);
    const fp = stringFlag(ctx, "fingerprint");
    const at = stringFlag(ctx, "at");
    const read = licenseBytes(ctx);
    const verdict =
      "verdict" in read
        ? read.verdict
        : verifyLicense(read.bytes, {
            vendorKeys,
            device: fp === undefined ? null : parseFingerprintFlag(fp),
            now: at === undefined ? systemClock.now() : parseTimeFlag(at, "at"),
          });
    const result = {
      valid: verdict.inForce,
      reason: verdict.reason,
      message: verdict.message,
      field: verdict.field ?? null,
      license: verdict.payload ? licenseSummary(verdict.payload) : null,
      warnings: verdict.warnings,
    };
    ctx.io.out(ctx.values.json ? JSON.stringify(result) : describeVerdict(result));
    return verdict.inForce ? 0 : 1;
  },
};

const installCommand: Command = {
  path: ["license", "install"],
  summary: "Verify a license for this device and install it (a refused license changes nothing)",
  args: "FILE",
  options: { ...DEVICE_OPTIONS, ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run(ctx) {
    const config = commandConfig(ctx);
    const device = await deviceFingerprint(ctx);
    const read = licenseBytes(ctx);
    if ("verdict" in read) {
      throw new HearthError("license_invalid", `license refused (${read.verdict.reason}): ${read.verdict.message}; the installed license is unchanged`, { field: "license" });
    }
    const db = openDatabase(config.dataDir);
    try {
      const state = licenseStateJson(installLicenseState({ dataDir: config.dataDir, db, config: config.license, device, clock: systemClock }, read.bytes));
      const path = licenseFilePath(config.dataDir);
      if (ctx.values.json) ctx.io.out(JSON.stringify({ installed: true, path, ...state }));
      else ctx.io.out(`Installed ${path}; a running hearth serve applies it at its next start.\n\n${describeLicenseState(state)}`);
      return 0;
    } finally {
      db.close();
    }
  },
};

const statusCommand: Command = {
  path: ["license", "status"],
  summary: "The tier and entitlements in force on this device, and why",
  options: { ...DEVICE_OPTIONS, ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run(ctx) {
    const config = commandConfig(ctx);
    const device = await deviceFingerprint(ctx);
    const db = openDatabase(config.dataDir);
    try {
      const state = licenseStateJson(loadLicenseState({ dataDir: config.dataDir, db, config: config.license, device, clock: systemClock }));
      ctx.io.out(ctx.values.json ? JSON.stringify(state) : describeLicenseState(state));
      return 0;
    } finally {
      db.close();
    }
  },
};

/** `hearth license keygen|issue|verify|install|status` (vendor tools and the device's license). */
export const licenseCommands: Command[] = [keygenCommand, issueCommand, verifyCommand, installCommand, statusCommand];
