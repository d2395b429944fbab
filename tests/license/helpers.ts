import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { generateEd25519, signerFromPem, type Signer } from "../../runtime/crypto/ed25519.ts";
import { parseFingerprint } from "../../runtime/identity/fingerprint-format.ts";
import type { LicensePayload } from "../../runtime/license/schema.ts";
import { licenseFileText, signLicense } from "../../runtime/license/signing.ts";
import type { VendorKey } from "../../runtime/license/vendor-keys.ts";
import type { VerifyContext } from "../../runtime/license/verify.ts";
import type { TrustedTimeReading } from "../../runtime/license/trusted-time.ts";
import type { Clock } from "../../runtime/clock.ts";

export const DAY = 86_400_000;
export const NOW = Date.parse("2026-06-01T12:00:00Z");

export const tmp = () => mkdtempSync(join(tmpdir(), "hearth-license-"));

const signer = (): Signer => signerFromPem(generateEd25519().privateKeyPem);
export const vendor = signer();
export const retiredVendor = signer();
export const stranger = signer();

export const KEY_ID = "test-vendor-1";
export const RETIRED_KEY_ID = "test-vendor-0";
export const VENDOR_KEYS: VendorKey[] = [
  { keyId: RETIRED_KEY_ID, publicKey: retiredVendor.publicKey, retired: true },
  { keyId: KEY_ID, publicKey: vendor.publicKey, retired: false },
];

export const DEVICE_TEXT = "hfp1:board=0123456789abcdef,disk=1111111111111111,mac=2222222222222222";
export const DEVICE = parseFingerprint(DEVICE_TEXT);
/** The same box with its network card replaced: 2 of 3 components still match. */
export const DEVICE_NEW_NIC = parseFingerprint("hfp1:board=0123456789abcdef,disk=1111111111111111,mac=9999999999999999");
/** Another box sharing only the board digest: 1 of 3. */
export const OTHER_DEVICE = parseFingerprint("hfp1:board=0123456789abcdef,disk=3333333333333333,mac=4444444444444444");

export function payload(over: Partial<LicensePayload> = {}): LicensePayload {
  return {
    licenseId: "lic-test-1",
    customer: "Harbour Clinic",
    tier: "smb",
    entitlements: ["gpu_burst", "lora_adapters"],
    binding: { fingerprints: [DEVICE_TEXT] },
    issuedAt: new Date(NOW - 60 * DAY).toISOString(),
    notBefore: new Date(NOW - 60 * DAY).toISOString(),
    expiresAt: new Date(NOW + 365 * DAY).toISOString(),
    graceDays: 14,
    updateChannel: "stable",
    keyId: KEY_ID,
    ...over,
  };
}

export const encode = (doc: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(doc, null, 2));

/** A license file's bytes, signed by `by` (the trusted vendor by default). */
export function licenseBytes(p: LicensePayload = payload(), by: Signer = vendor): Uint8Array {
  return new TextEncoder().encode(licenseFileText(signLicense(p, by)));
}

export const context = (over: Partial<VerifyContext> = {}): VerifyContext => ({ vendorKeys: VENDOR_KEYS, device: DEVICE, now: NOW, ...over });

/** A trusted-time reading with the wall clock on time. */
export const onTime = (now = NOW): TrustedTimeReading => ({ now, wall: now, rolledBack: false, recorded: false, incidents: 0, lastRollback: null });

/** A clock tests move by hand. */
export function manualClock(start = NOW): Clock & { set(ms: number): void } {
  let t = start;
  return { now: () => t, monotonic: () => t, set: (ms) => void (t = ms) };
}
