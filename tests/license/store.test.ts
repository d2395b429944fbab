import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { HearthError } from "../../runtime/errors.ts";
import { openDatabase } from "../../runtime/store/db.ts";
import { MAX_LICENSE_BYTES } from "../../runtime/license/schema.ts";
import { installedLicenseId, installLicense, licenseFilePath } from "../../runtime/license/store.ts";
import { loadLicenseState, type LoadLicenseOptions } from "../../runtime/license/state.ts";
import type { VerifyContext } from "../../runtime/license/verify.ts";
import { context, DAY, licenseBytes, manualClock, NOW, OTHER_DEVICE, payload, RETIRED_KEY_ID, retiredVendor, stranger, tmp, VENDOR_KEYS, DEVICE } from "./helpers.ts";

const licenseConfig = { vendorKeys: VENDOR_KEYS, clockToleranceSeconds: 300, checkpointEvery: 1000 };

/** Loads the state as at start-up, with a real database in `dataDir`. */
function load(dataDir: string, over: Partial<LoadLicenseOptions> = {}) {
  const db = openDatabase(dataDir);
  try {
    return loadLicenseState({ dataDir, db, config: licenseConfig, device: DEVICE, clock: manualClock(), ...over });
  } finally {
    db.close();
  }
}

function refusal(dataDir: string, bytes: Uint8Array, ctx: Partial<VerifyContext> = {}): HearthError {
  try {
    installLicense(dataDir, bytes, context(ctx));
  } catch (err) {
    return err as HearthError;
  }
  throw new Error("the license was installed");
}

describe("installed license", () => {
  test("no license file: Community, reason absent", () => {
    const dir = tmp();
    const state = load(dir);
    expect(state).toMatchObject({ tier: "community", reason: "absent", license: null });
    expect(installedLicenseId(dir)).toBeNull();
  });

  test("install writes the verified bytes atomically (no temp files left) and every start re-verifies them", () => {
    const dir = tmp();
    const bytes = licenseBytes();
    const verdict = installLicense(dir, bytes, context());
    expect(verdict.reason).toBe("valid");
    expect(readFileSync(licenseFilePath(dir))).toEqual(Buffer.from(bytes));
    expect(readdirSync(dirname(licenseFilePath(dir)))).toEqual(["license.json"]);
    expect(licenseFilePath(dir)).toBe(join(dir, "license", "license.json"));
    expect(installedLicenseId(dir)).toBe("lic-test-1");
    const state = load(dir);
    expect(state).toMatchObject({ tier: "smb", reason: "valid", warnings: [] });
    expect(state.license).toMatchObject({ licenseId: "lic-test-1", customer: "Harbour Clinic", entitlements: ["gpu_burst", "lora_adapters"], updateChannel: "stable" });
  });

  test("a refused license is never written and never replaces a good one", () => {
    const dir = tmp();
    const fresh = tmp();
    const good = licenseBytes();
    installLicense(dir, good, context());
    const forged = JSON.parse(new TextDecoder().decode(licenseBytes(payload({ licenseId: "lic-test-2" }))));
    forged.payload.entitlements.push("multi_model");
    const cases: [string, Uint8Array, Partial<VerifyContext>][] = [
      ["bad_signature", new TextEncoder().encode(JSON.stringify(forged)), {}],
      ["bad_signature", licenseBytes(payload(), stranger), {}],
      ["unknown_key", licenseBytes(payload({ keyId: "nobody" }), stranger), {}],
      ["retired_key", licenseBytes(payload({ keyId: RETIRED_KEY_ID }), retiredVendor), {}],
      ["wrong_fingerprint", licenseBytes(), { device: OTHER_DEVICE }],
      ["not_yet_valid", licenseBytes(payload({ notBefore: new Date(NOW + DAY).toISOString() })), {}],
      ["expired", licenseBytes(payload({ expiresAt: new Date(NOW - 30 * DAY).toISOString() })), {}],
      ["malformed", new TextEncoder().encode("{ not json"), {}],
      ["oversized", new Uint8Array(MAX_LICENSE_BYTES + 1), {}],
    ];
    for (const [reason, bytes, ctx] of cases) {
      const err = refusal(dir, bytes, ctx);
      expect(err).toBeInstanceOf(HearthError);
      expect(err.code).toBe("license_invalid");
      expect(err.message).toContain(`(${reason})`);
      expect(readFileSync(licenseFilePath(dir))).toEqual(Buffer.from(good));
      expect(refusal(fresh, bytes, ctx).code).toBe("license_invalid");
      expect(existsSync(licenseFilePath(fresh))).toBe(false);
    }
    expect(readdirSync(dirname(licenseFilePath(dir)))).toEqual(["license.json"]);
    expect(load(dir)).toMatchObject({ tier: "smb", reason: "valid" });
    expect(load(fresh)).toMatchObject({ tier: "community", reason: "absent" });
  });

  test("a corrupted installed file leaves the box Community with the reason, and is kept", () => {
    const dir = tmp();
    installLicense(dir, licenseBytes(), context());
    const path = licenseFilePath(dir);
    const corrupted = readFileSync(path, "utf8").slice(0, 200);
    writeFileSync(path, corrupted);
    const state = load(dir);
    expect(state).toMatchObject({ tier: "community", reason: "malformed", license: null });
    expect(() => state.gate.require("gpu_burst", "GPU burst")).toThrow("malformed");
    expect(readFileSync(path, "utf8")).toBe(corrupted);
    expect(installedLicenseId(dir)).toBeNull();
  });

  test("an oversized installed file is refused unread, and kept", () => {
    const dir = tmp();
    const path = licenseFilePath(dir);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, Buffer.alloc(10 * MAX_LICENSE_BYTES, 0x20));
    expect(load(dir)).toMatchObject({ tier: "community", reason: "oversized" });
    expect(readFileSync(path).length).toBe(10 * MAX_LICENSE_BYTES);
  });

  test("an unreadable license path is its own reason", () => {
    const dir = tmp();
    mkdirSync(licenseFilePath(dir), { recursive: true }); // a directory where the file should be
    expect(load(dir)).toMatchObject({ tier: "community", reason: "unreadable" });
    expect(existsSync(licenseFilePath(dir))).toBe(true);
  });

  test("re-verified at start: a key retired later, or other hardware, turns the box Community without deleting the file", () => {
    const dir = tmp();
    installLicense(dir, licenseBytes(), context());
    const retired = { ...licenseConfig, vendorKeys: VENDOR_KEYS.map((k) => ({ ...k, retired: true })) };
    expect(load(dir, { config: retired })).toMatchObject({ tier: "community", reason: "retired_key" });
    const moved = load(dir, { device: OTHER_DEVICE });
    expect(moved).toMatchObject({ tier: "community", reason: "wrong_fingerprint" });
    expect(moved.license?.licenseId).toBe("lic-test-1");
    expect(existsSync(licenseFilePath(dir))).toBe(true);
    expect(load(dir)).toMatchObject({ tier: "smb", reason: "valid" });
  });

  test("the clock set back is recorded, shown, and does not extend the license", () => {
    const dir = tmp();
    const expiresAt = NOW + 10 * DAY;
    installLicense(dir, licenseBytes(payload({ expiresAt: new Date(expiresAt).toISOString(), graceDays: 7 })), context());
    const clock = manualClock();
    expect(load(dir, { clock })).toMatchObject({ tier: "smb", reason: "expiring" });
    // Time passes beyond the grace period...
    clock.set(expiresAt + 8 * DAY);
    expect(load(dir, { clock })).toMatchObject({ tier: "community", reason: "expired" });
    // ...and someone sets the clock back to before the expiry.
    clock.set(NOW);
    const state = load(dir, { clock });
    expect(state).toMatchObject({ tier: "community", reason: "expired" });
    expect(state.clock).toMatchObject({ rolledBack: true, incidents: 1, trustedNow: new Date(expiresAt + 8 * DAY).toISOString(), wallNow: new Date(NOW).toISOString() });
    expect(state.clock.lastRollback?.behindSeconds).toBe(18 * 86_400);
    expect(state.warnings.some((w) => w.includes("behind trusted time"))).toBe(true);
    // Another start with the clock still back: the same incident, not a new one.
    clock.set(NOW + 60_000);
    expect(load(dir, { clock }).clock.incidents).toBe(1);
    expect(existsSync(licenseFilePath(dir))).toBe(true);
  });

  test("config vendor keys replace the list: a private fleet's key is trusted only where configured", () => {
    const dir = tmp();
    const keys = [{ keyId: "fleet-key", publicKey: stranger.publicKey, retired: false }];
    installLicense(dir, licenseBytes(payload({ keyId: "fleet-key" }), stranger), context({ vendorKeys: keys }));
    expect(load(dir, { config: { ...licenseConfig, vendorKeys: keys } })).toMatchObject({ tier: "smb", reason: "valid" });
    expect(load(dir)).toMatchObject({ tier: "community", reason: "unknown_key" });
    // An empty list trusts the built-in vendor key only.
    expect(load(dir, { config: { ...licenseConfig, vendorKeys: [] } })).toMatchObject({ tier: "community", reason: "unknown_key" });
  });
});
