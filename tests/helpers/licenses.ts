/**
 * SMB licenses for test servers: a vendor key generated per test process, trusted through
 * `license.vendorKeys`, and licenses bound to TEST_FINGERPRINT, valid from yesterday for a year.
 */
import { generateEd25519, signerFromPem } from "../../runtime/crypto/ed25519.ts";
import { formatFingerprint } from "../../runtime/identity/fingerprint-format.ts";
import { licenseFileText, signLicense } from "../../runtime/license/signing.ts";
import { installLicense } from "../../runtime/license/store.ts";
import { TEST_FINGERPRINT } from "./server.ts";

const DAY = 86_400_000;
const KEY_ID = "test-vendor-serve";
const vendor = signerFromPem(generateEd25519().privateKeyPem);

/** What a test server's `license.vendorKeys` flag takes to trust testLicense(). */
export const TEST_VENDOR_KEYS = [{ keyId: KEY_ID, publicKey: vendor.publicKey, retired: false }];

/** An SMB license file's bytes for the test servers' fingerprint. */
export function testLicense(entitlements: string[], licenseId = "lic-test-serve"): Uint8Array {
  const now = Date.now();
  const payload = {
    licenseId,
    customer: "Harbour Clinic",
    tier: "smb" as const,
    entitlements,
    binding: { fingerprints: [formatFingerprint(TEST_FINGERPRINT)] },
    issuedAt: new Date(now - DAY).toISOString(),
    notBefore: new Date(now - DAY).toISOString(),
    expiresAt: new Date(now + 365 * DAY).toISOString(),
    graceDays: 14,
    updateChannel: "stable",
    keyId: KEY_ID,
  };
  return new TextEncoder().encode(licenseFileText(signLicense(payload, vendor)));
}

/** Installs testLicense(entitlements) in a data dir, as `hearth license install` would. */
export function installTestLicense(dataDir: string, entitlements: string[], licenseId?: string): void {
  installLicense(dataDir, testLicense(entitlements, licenseId), { vendorKeys: TEST_VENDOR_KEYS, device: TEST_FINGERPRINT, now: Date.now() });
}
