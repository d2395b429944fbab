import { describe, expect, test } from "bun:test";
import { ENTITLEMENTS, type Entitlement } from "../../runtime/license/entitlements.ts";
import { licenseState, licenseStateJson, updateChannelFor } from "../../runtime/license/state.ts";
import { BUILTIN_VENDOR_KEYS, trustedVendorKeys } from "../../runtime/license/vendor-keys.ts";
import { verifyLicense } from "../../runtime/license/verify.ts";
import { HearthError } from "../../runtime/errors.ts";
import { context, DAY, licenseBytes, NOW, onTime, OTHER_DEVICE, payload, VENDOR_KEYS } from "./helpers.ts";

const FEATURES: Record<Entitlement, string> = {
  gpu_burst: "GPU offload",
  lora_adapters: "LoRA adapters",
  base_model_updates: "base-model updates",
  multi_model: "a second loaded model",
};

const absent = () => licenseState({ reason: "absent", inForce: false, message: "no license is installed (Community tier)", payload: null, warnings: [] }, onTime());
const stateOf = (bytes: Uint8Array, device = context().device) => licenseState(verifyLicense(bytes, context({ device })), onTime());

function denial(fn: () => void): HearthError {
  try {
    fn();
  } catch (err) {
    return err as HearthError;
  }
  throw new Error("allowed");
}

describe("entitlement gate from the license state", () => {
  test("Community denies each of the four entitlements with an error naming it", () => {
    const { gate, tier } = absent();
    expect(tier).toBe("community");
    for (const e of ENTITLEMENTS) {
      expect(gate.has(e)).toBe(false);
      const err = denial(() => gate.require(e, FEATURES[e]));
      expect(err.code).toBe("entitlement_required");
      expect(err.status).toBe(403);
      expect(err.message).toContain(`"${e}"`);
      expect(err.message).toContain(FEATURES[e]);
      expect(err.message).toContain("no license is installed");
    }
  });

  test("a matching SMB license allows what it lists and denies the others, naming them", () => {
    const { gate, tier } = stateOf(licenseBytes(payload({ entitlements: ["gpu_burst", "multi_model"] })));
    expect(tier).toBe("smb");
    expect(() => gate.require("gpu_burst", FEATURES.gpu_burst)).not.toThrow();
    expect(() => gate.require("multi_model", FEATURES.multi_model)).not.toThrow();
    for (const e of ["lora_adapters", "base_model_updates"] as const) {
      const err = denial(() => gate.require(e, FEATURES[e]));
      expect(err.code).toBe("entitlement_required");
      expect(err.message).toContain(`"${e}"`);
      expect(err.message).toContain("lic-test-1");
    }
  });

  test("a license for other hardware, or past its grace, grants nothing and says why", () => {
    const all = payload({ entitlements: [...ENTITLEMENTS] });
    const moved = stateOf(licenseBytes(all), OTHER_DEVICE);
    for (const e of ENTITLEMENTS) expect(denial(() => moved.gate.require(e, FEATURES[e])).message).toContain("wrong_fingerprint");
    const expired = stateOf(licenseBytes({ ...all, expiresAt: new Date(NOW - 30 * DAY).toISOString() }));
    expect(expired.tier).toBe("community");
    expect(denial(() => expired.gate.require("gpu_burst", FEATURES.gpu_burst)).message).toContain("expired on");
    // In grace the features stay.
    const grace = stateOf(licenseBytes({ ...all, expiresAt: new Date(NOW - DAY).toISOString() }));
    expect(grace).toMatchObject({ tier: "smb", reason: "grace" });
    for (const e of ENTITLEMENTS) expect(grace.gate.has(e)).toBe(true);
  });

  test("update channel: community unless an SMB license has base_model_updates", () => {
    expect(updateChannelFor(absent())).toBe("community");
    expect(updateChannelFor(stateOf(licenseBytes(payload({ updateChannel: "beta" }))))).toBe("community");
    const updates = stateOf(licenseBytes(payload({ entitlements: ["base_model_updates"], updateChannel: "beta" })));
    expect(updateChannelFor(updates)).toBe("beta");
    expect(updateChannelFor(stateOf(licenseBytes(payload({ entitlements: ["base_model_updates"], updateChannel: "beta" })), OTHER_DEVICE))).toBe("community");
    expect(licenseStateJson(updates)).toMatchObject({ tier: "smb", reason: "valid", entitlements: ["base_model_updates"], updateChannel: "beta" });
  });

  test("the built-in vendor key list applies unless config names keys", () => {
    expect(trustedVendorKeys([])).toBe(BUILTIN_VENDOR_KEYS);
    expect(BUILTIN_VENDOR_KEYS).toEqual([{ keyId: "hearth-vendor-2026-1", publicKey: "C3WYQx21FuV1T5oyIJQDJrHOdkK/JVwbhp+hb0Guim0=", retired: false }]);
    expect(trustedVendorKeys(VENDOR_KEYS)).toBe(VENDOR_KEYS);
    expect(verifyLicense(licenseBytes(), context({ vendorKeys: trustedVendorKeys([]) })).reason).toBe("unknown_key");
  });
});
