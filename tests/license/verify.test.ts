import { describe, expect, test } from "bun:test";
import { canonicalBytes } from "../../runtime/crypto/canonical.ts";
import { verifyEd25519 } from "../../runtime/crypto/ed25519.ts";
import { MAX_LICENSE_BYTES } from "../../runtime/license/schema.ts";
import { signLicense } from "../../runtime/license/signing.ts";
import { licenseState } from "../../runtime/license/state.ts";
import { verifyLicense, type VerifyContext } from "../../runtime/license/verify.ts";
import { context, DAY, DEVICE_NEW_NIC, encode, KEY_ID, licenseBytes, NOW, onTime, OTHER_DEVICE, payload, RETIRED_KEY_ID, retiredVendor, stranger, vendor } from "./helpers.ts";

/** Verdict plus the tier it leaves the box on. */
function judge(bytes: Uint8Array, over: Partial<VerifyContext> = {}) {
  const verdict = verifyLicense(bytes, context(over));
  return { ...verdict, tier: licenseState(verdict, onTime(over.now ?? NOW)).tier };
}

const doc = (p = payload()) => JSON.parse(new TextDecoder().decode(licenseBytes(p)));

describe("license verification", () => {
  test("a genuine license for this device is valid: SMB", () => {
    const v = judge(licenseBytes());
    expect(v).toMatchObject({ reason: "valid", inForce: true, tier: "smb", warnings: [] });
    expect(v.payload?.licenseId).toBe("lic-test-1");
  });

  test("re-serialised with other spacing and key order, it still verifies (canonical signed bytes)", () => {
    const d = doc();
    const reordered = { signature: d.signature, payload: Object.fromEntries(Object.entries(d.payload).reverse()), formatVersion: 1 };
    expect(judge(new TextEncoder().encode(JSON.stringify(reordered))).reason).toBe("valid");
  });

  test("the signed bytes are canonical {formatVersion, payload}", () => {
    const p = payload();
    const d = signLicense(p, vendor);
    expect(verifyEd25519(vendor.publicKey, canonicalBytes({ formatVersion: 1, payload: p }), d.signature.value)).toBe(true);
    expect(verifyEd25519(vendor.publicKey, canonicalBytes(p), d.signature.value)).toBe(false);
  });

  test("forged payload: bad_signature, Community", () => {
    for (const forge of [
      (d: any) => d.payload.entitlements.push("multi_model"),
      (d: any) => (d.payload.expiresAt = "2099-01-01T00:00:00.000Z"),
      (d: any) => (d.payload.binding = { seats: 1000 }),
      (d: any) => (d.payload.customer = "Someone Else"),
    ]) {
      const d = doc();
      forge(d);
      const v = judge(encode(d));
      expect(v).toMatchObject({ reason: "bad_signature", inForce: false, tier: "community", payload: null });
      expect(v.message).toContain("signature does not match");
    }
  });

  test("forged signature: bad_signature, Community", () => {
    const d = doc();
    const sig: string = d.signature.value;
    d.signature.value = (sig[0] === "A" ? "B" : "A") + sig.slice(1);
    expect(judge(encode(d))).toMatchObject({ reason: "bad_signature", tier: "community" });
    // Signed by someone else's key while naming the vendor's key id.
    expect(judge(licenseBytes(payload(), stranger))).toMatchObject({ reason: "bad_signature", tier: "community" });
  });

  test("wrong key id: unknown_key, Community", () => {
    const v = judge(licenseBytes(payload({ keyId: "someone-else" }), stranger));
    expect(v).toMatchObject({ reason: "unknown_key", tier: "community", payload: null });
    expect(v.message).toContain('"someone-else"');
  });

  test("retired key: retired_key (not unknown_key), Community", () => {
    const v = judge(licenseBytes(payload({ keyId: RETIRED_KEY_ID }), retiredVendor));
    expect(v).toMatchObject({ reason: "retired_key", tier: "community" });
    expect(v.message).toContain("retired");
  });

  test("wrong fingerprint: says how many components matched of how many required", () => {
    const v = judge(licenseBytes(), { device: OTHER_DEVICE });
    expect(v).toMatchObject({ reason: "wrong_fingerprint", inForce: false, tier: "community" });
    expect(v.message).toContain("1 of its 3 fingerprint components match this device, 2 required");
    expect(v.payload?.licenseId).toBe("lic-test-1"); // genuine, just for other hardware
    expect(judge(licenseBytes(), { device: { version: 1, components: [] } })).toMatchObject({ reason: "wrong_fingerprint", tier: "community" });
  });

  test("one replaced component (2 of 3 still match) keeps the license", () => {
    expect(judge(licenseBytes(), { device: DEVICE_NEW_NIC })).toMatchObject({ reason: "valid", tier: "smb" });
  });

  test("a license bound to several devices matches any of them", () => {
    const p = payload({ binding: { fingerprints: ["hfp1:board=aaaaaaaaaaaaaaaa,disk=bbbbbbbbbbbbbbbb", "hfp1:board=0123456789abcdef,disk=1111111111111111"] } });
    expect(judge(licenseBytes(p)).reason).toBe("valid");
  });

  test("not yet valid: not_yet_valid, Community", () => {
    const v = judge(licenseBytes(payload({ notBefore: new Date(NOW + DAY).toISOString() })));
    expect(v).toMatchObject({ reason: "not_yet_valid", tier: "community" });
    expect(v.message).toContain("not valid before");
  });

  test("within 30 days of expiry: expiring, SMB with a warning", () => {
    const v = judge(licenseBytes(payload({ expiresAt: new Date(NOW + 10 * DAY).toISOString() })));
    expect(v).toMatchObject({ reason: "expiring", inForce: true, tier: "smb" });
    expect(v.warnings).toHaveLength(1);
    expect(v.warnings[0]).toContain("in 10 days");
  });

  test("expired within grace: grace, SMB kept with a warning", () => {
    const v = judge(licenseBytes(payload({ expiresAt: new Date(NOW - 3 * DAY).toISOString(), graceDays: 14 })));
    expect(v).toMatchObject({ reason: "grace", inForce: true, tier: "smb" });
    expect(v.warnings[0]).toContain("grace period until 2026-06-12");
  });

  test("expired past grace: expired, Community", () => {
    const v = judge(licenseBytes(payload({ expiresAt: new Date(NOW - 20 * DAY).toISOString(), graceDays: 14 })));
    expect(v).toMatchObject({ reason: "expired", inForce: false, tier: "community" });
    expect(v.message).toContain("grace period ended on 2026-05-26");
    expect(judge(licenseBytes(payload({ expiresAt: new Date(NOW - DAY).toISOString(), graceDays: 0 }))).reason).toBe("expired");
  });

  test("corrupted file: malformed, Community", () => {
    const good = licenseBytes();
    const truncated = good.slice(0, good.length / 2);
    expect(judge(truncated)).toMatchObject({ reason: "malformed", tier: "community" });
    expect(judge(truncated).message).toContain("not JSON");
    expect(judge(new Uint8Array([0xff, 0xfe, 0x00, 0x7b])).reason).toBe("malformed");
    expect(judge(encode([1, 2])).message).toContain("not a JSON object");
  });

  test("pathological input within the size limit is a verdict, not a crash", () => {
    const deep = JSON.stringify({ ...doc(), payload: { x: "DEEP" } }).replace('"DEEP"', "[".repeat(30_000) + "]".repeat(30_000));
    expect(judge(new TextEncoder().encode(deep))).toMatchObject({ reason: "malformed", tier: "community" });
    expect(judge(new TextEncoder().encode("[".repeat(32_000) + "]".repeat(32_000)))).toMatchObject({ reason: "malformed", tier: "community" });
    expect(judge(new Uint8Array(0))).toMatchObject({ reason: "malformed", tier: "community" });
    expect(judge(encode(null))).toMatchObject({ reason: "malformed", tier: "community" });
  });

  test("schema problems name the field", () => {
    const d = doc();
    d.signature.algorithm = "rsa";
    const v = judge(encode(d));
    expect(v).toMatchObject({ reason: "malformed", field: "signature.algorithm", tier: "community" });
    expect(v.message).toContain("signature.algorithm");

    const noFormat = doc();
    delete noFormat.formatVersion;
    expect(judge(encode(noFormat))).toMatchObject({ reason: "malformed", field: "formatVersion" });

    // Signed by the vendor but not well-formed: still refused, naming the field.
    const badDate = judge(licenseBytes(payload({ expiresAt: "next tuesday" })));
    expect(badDate).toMatchObject({ reason: "malformed", field: "payload.expiresAt", tier: "community" });
    const backwards = judge(licenseBytes(payload({ notBefore: new Date(NOW - DAY).toISOString(), expiresAt: new Date(NOW - 2 * DAY).toISOString() })));
    expect(backwards).toMatchObject({ reason: "malformed", field: "payload.expiresAt" });
    const badFp = judge(licenseBytes(payload({ binding: { fingerprints: ["hfp1:board=xyz"] } })));
    expect(badFp).toMatchObject({ reason: "malformed", field: "payload.binding.fingerprints[0]" });
    const emptyBinding = judge(licenseBytes(payload({ binding: { fingerprints: [] } })));
    expect(emptyBinding).toMatchObject({ reason: "malformed", field: "payload.binding.fingerprints" });
    expect(emptyBinding.message).toContain("at least 1");
    expect(judge(licenseBytes(payload({ binding: {} as never }))).message).toContain("either fingerprints");
    const extra = judge(licenseBytes({ ...payload(), maxModels: 9 } as never));
    expect(extra).toMatchObject({ reason: "malformed", field: "payload.maxModels" });
  });

  test("payload.keyId must name the signing key", () => {
    const d = signLicense(payload(), vendor);
    const relabelled = { ...d, payload: { ...d.payload, keyId: "other" } };
    relabelled.signature = signLicense(relabelled.payload, vendor).signature;
    relabelled.signature.keyId = KEY_ID;
    expect(judge(encode(relabelled))).toMatchObject({ reason: "malformed", field: "payload.keyId" });
  });

  test("oversized file: oversized before any parsing, Community", () => {
    const huge = new Uint8Array(MAX_LICENSE_BYTES + 1).fill(0x20); // whitespace: valid JSON padding
    huge.set(licenseBytes(), 0);
    const v = judge(huge);
    expect(v).toMatchObject({ reason: "oversized", tier: "community" });
    expect(v.message).toContain(`${MAX_LICENSE_BYTES + 1} bytes`);
  });

  test("unsupported format version: unsupported_format, Community", () => {
    const d = doc();
    d.formatVersion = 2;
    const v = judge(encode(d));
    expect(v).toMatchObject({ reason: "unsupported_format", tier: "community" });
    expect(v.message).toContain("version 2");
  });

  test("seat license: not device-bound, valid on any hardware", () => {
    const p = payload({ binding: { seats: 25 } });
    expect(judge(licenseBytes(p), { device: OTHER_DEVICE })).toMatchObject({ reason: "valid", tier: "smb" });
    expect(judge(licenseBytes(p), { device: { version: 1, components: [] } }).reason).toBe("valid");
  });

  test("unknown future entitlements are kept but grant nothing", () => {
    const v = verifyLicense(licenseBytes(payload({ entitlements: ["gpu_burst", "holograms"] })), context());
    expect(v.reason).toBe("valid");
    const state = licenseState(v, onTime());
    expect(state.license?.entitlements).toEqual(["gpu_burst", "holograms"]);
    expect(state.gate.has("gpu_burst")).toBe(true);
    expect(state.gate.has("lora_adapters")).toBe(false);
  });

  test("the vendor check without a device skips the binding only", () => {
    expect(verifyLicense(licenseBytes(), context({ device: null })).reason).toBe("valid");
    expect(verifyLicense(licenseBytes(payload(), stranger), context({ device: null })).reason).toBe("bad_signature");
  });
});
