import { describe, expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateEd25519 } from "../../runtime/crypto/ed25519.ts";
import { HearthError } from "../../runtime/errors.ts";
import { buildLicensePayload, type IssueRequest } from "../../runtime/license/issue.ts";
import { derivedKeyId, generateVendorKeyPair, loadVendorSigningKey, readVendorPublicKey } from "../../runtime/license/vendor-keyfile.ts";
import { DEVICE_TEXT, NOW, tmp } from "./helpers.ts";

const request = (over: Partial<IssueRequest> = {}): IssueRequest => ({ tier: "smb", entitlements: "gpu_burst", fingerprint: DEVICE_TEXT, expires: "2027-01-31", keyId: "k1", ...over });

function rejection(fn: () => unknown): HearthError {
  try {
    fn();
  } catch (err) {
    return err as HearthError;
  }
  throw new Error("accepted");
}

describe("vendor tools", () => {
  test("keygen writes a 0600 private key and a config-ready public key, and never overwrites", () => {
    const dir = join(tmp(), "keys");
    const files = generateVendorKeyPair(dir, "acme-2026-1");
    expect(statSync(files.privateKeyPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(files.privateKeyPath, "utf8")).toContain("BEGIN PRIVATE KEY");
    expect(readVendorPublicKey(files.publicKeyPath)).toEqual({ keyId: "acme-2026-1", publicKey: files.publicKey, retired: false });
    const before = readFileSync(files.privateKeyPath, "utf8");
    const err = rejection(() => generateVendorKeyPair(dir));
    expect(err.code).toBe("invalid_request");
    expect(err.message).toContain("already exists");
    expect(readFileSync(files.privateKeyPath, "utf8")).toBe(before);
    expect(rejection(() => generateVendorKeyPair(join(tmp(), "k"), "bad id!")).field).toBe("key-id");
  });

  test("the signing key's id comes from --key-id, else the companion file, else is derived", () => {
    const files = generateVendorKeyPair(join(tmp(), "keys"), "acme-2026-1");
    expect(loadVendorSigningKey(files.privateKeyPath).keyId).toBe("acme-2026-1");
    expect(loadVendorSigningKey(files.privateKeyPath, "other-id").keyId).toBe("other-id");
    const lone = join(tmp(), "lone.pem");
    const key = generateEd25519();
    writeFileSync(lone, key.privateKeyPem);
    expect(loadVendorSigningKey(lone).keyId).toBe(derivedKeyId(key.publicKey));
    expect(derivedKeyId(key.publicKey)).toMatch(/^vendor-[0-9a-f]{12}$/);
    // A companion for another key is an error, not a silent mislabel.
    const mixed = tmp();
    generateVendorKeyPair(mixed, "a");
    writeFileSync(join(mixed, "vendor-private.pem"), key.privateKeyPem);
    expect(rejection(() => loadVendorSigningKey(join(mixed, "vendor-private.pem"))).message).toContain("belongs to another key");
    expect(rejection(() => loadVendorSigningKey(join(mixed, "missing.pem"))).field).toBe("key");
  });

  test("issue builds a normalised payload with the documented defaults", () => {
    const p = buildLicensePayload(request({ entitlements: "gpu_burst, lora_adapters,gpu_burst" }), NOW);
    expect(p).toMatchObject({
      tier: "smb",
      entitlements: ["gpu_burst", "lora_adapters"],
      binding: { fingerprints: [DEVICE_TEXT] },
      issuedAt: new Date(NOW).toISOString(),
      notBefore: new Date(NOW).toISOString(),
      expiresAt: "2027-01-31T00:00:00.000Z",
      graceDays: 14,
      updateChannel: "stable",
      keyId: "k1",
      customer: "",
    });
    expect(p.licenseId).toMatch(/^lic-[0-9a-f]{16}$/);
    expect(buildLicensePayload(request({ fingerprint: undefined, seats: 12 }), NOW).binding).toEqual({ seats: 12 });
  });

  test("issue refuses mistakes, naming the flag", () => {
    const cases: [Partial<IssueRequest>, string][] = [
      [{ tier: "enterprise" }, "tier"],
      [{ entitlements: "gpu_burst,teleport" }, "entitlements"],
      [{ fingerprint: undefined }, "fingerprint"],
      [{ seats: 3 }, "fingerprint"],
      [{ fingerprint: "hfp1:board=nope" }, "fingerprint"],
      [{ fingerprint: undefined, seats: 0 }, "seats"],
      [{ expires: "31/01/2027" }, "expires"],
      [{ expires: "2026-01-01" }, "expires"],
      [{ notBefore: "2027-02-01" }, "expires"],
      [{ graceDays: 400 }, "grace-days"],
      [{ licenseId: "has spaces" }, "license-id"],
      [{ channel: "Not A Channel" }, "channel"],
    ];
    for (const [over, field] of cases) {
      const err = rejection(() => buildLicensePayload(request(over), NOW));
      expect(err.code).toBe("invalid_request");
      expect(err.field).toBe(field);
      expect(err.message).toContain(`--${field}`);
    }
  });
});
