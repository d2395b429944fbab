import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hearth } from "../helpers/cli.ts";
import { DEVICE_TEXT, tmp } from "./helpers.ts";

const NEW_NIC = DEVICE_TEXT.replace(/mac=[0-9a-f]+/, "mac=9999999999999999");
const OTHER = "hfp1:board=0123456789abcdef,disk=3333333333333333,mac=4444444444444444";

/** One vendor key for the file; the runtime trusts it through config from the environment. */
let keys: string;
let env: Record<string, string>;

beforeAll(async () => {
  keys = join(tmp(), "vendor");
  const gen = await hearth(["license", "keygen", "--out", keys, "--key-id", "cli-test-1", "--json"]);
  expect(gen.code).toBe(0);
  env = { HEARTH_LICENSE_VENDOR_KEYS: `[${readFileSync(join(keys, "vendor-public.json"), "utf8")}]` };
});

async function issue(out: string, ...flags: string[]) {
  const r = await hearth(["license", "issue", "--key", join(keys, "vendor-private.pem"), "--tier", "smb", "--expires", "2099-01-01", "--out", out, ...flags]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return out;
}

describe("hearth license", () => {
  test("every license command has --help", async () => {
    for (const cmd of ["keygen", "issue", "verify", "install", "status"]) {
      const r = await hearth(["license", cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: hearth license ${cmd}`);
    }
  });

  test("keygen: 0600 private key, public key JSON with the key id, never overwrites", async () => {
    expect(statSync(join(keys, "vendor-private.pem")).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(keys, "vendor-public.json"), "utf8"))).toMatchObject({ keyId: "cli-test-1", retired: false });
    const before = readFileSync(join(keys, "vendor-private.pem"), "utf8");
    const again = await hearth(["license", "keygen", "--out", keys]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists");
    expect(readFileSync(join(keys, "vendor-private.pem"), "utf8")).toBe(before);
  });

  test("issue then verify: valid with the key trusted, unknown_key otherwise, bad_signature when altered", async () => {
    const file = await issue(join(tmp(), "lic.json"), "--fingerprint", DEVICE_TEXT, "--entitlements", "gpu_burst,lora_adapters", "--customer", "Harbour Clinic");
    const ok = await hearth(["license", "verify", file, "--json"], env);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, reason: "valid", license: { customer: "Harbour Clinic", keyId: "cli-test-1", entitlements: ["gpu_burst", "lora_adapters"] } });
    const withKey = await hearth(["license", "verify", file, "--public-key", join(keys, "vendor-public.json")]);
    expect(withKey.code).toBe(0);
    expect(withKey.stdout).toContain("VALID (valid)");

    const untrusted = await hearth(["license", "verify", file, "--json"]); // built-in keys only
    expect(untrusted.code).toBe(1);
    expect(JSON.parse(untrusted.stdout)).toMatchObject({ valid: false, reason: "unknown_key" });

    const doc = JSON.parse(readFileSync(file, "utf8"));
    doc.payload.entitlements.push("multi_model");
    const forged = join(tmp(), "forged.json");
    writeFileSync(forged, JSON.stringify(doc));
    const bad = await hearth(["license", "verify", forged, "--json"], env);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).reason).toBe("bad_signature");

    const elsewhere = await hearth(["license", "verify", file, "--fingerprint", OTHER, "--json"], env);
    expect(JSON.parse(elsewhere.stdout)).toMatchObject({ valid: false, reason: "wrong_fingerprint" });
    const later = await hearth(["license", "verify", file, "--at", "2099-01-05", "--json"], env);
    expect(JSON.parse(later.stdout)).toMatchObject({ valid: true, reason: "grace" });
  });

  test("install and status: refusals change nothing; a good license survives a refused one", async () => {
    const dataDir = tmp();
    const installed = join(dataDir, "license", "license.json");
    const file = await issue(join(tmp(), "lic.json"), "--fingerprint", DEVICE_TEXT, "--entitlements", "gpu_burst", "--license-id", "lic-cli-1");

    const before = JSON.parse((await hearth(["license", "status", "--data-dir", dataDir, "--fingerprint", DEVICE_TEXT, "--json"], env)).stdout);
    expect(before).toMatchObject({ tier: "community", reason: "absent", entitlements: [], license: null });

    const wrong = await hearth(["license", "install", file, "--data-dir", dataDir, "--fingerprint", OTHER], env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("wrong_fingerprint");
    expect(wrong.stderr).toContain("1 of its 3 fingerprint components match this device, 2 required");
    expect(existsSync(installed)).toBe(false);

    // A replaced network card: 2 of 3 components still match.
    const ok = await hearth(["license", "install", file, "--data-dir", dataDir, "--fingerprint", NEW_NIC, "--json"], env);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ installed: true, tier: "smb", reason: "valid", entitlements: ["gpu_burst"] });
    const good = readFileSync(installed);

    const doc = JSON.parse(readFileSync(file, "utf8"));
    doc.payload.expiresAt = "2199-01-01T00:00:00.000Z";
    const forged = join(tmp(), "forged.json");
    writeFileSync(forged, JSON.stringify(doc));
    const refused = await hearth(["license", "install", forged, "--data-dir", dataDir, "--fingerprint", DEVICE_TEXT, "--json"], env);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr).error).toMatchObject({ code: "license_invalid" });
    expect(refused.stderr).toContain("bad_signature");
    expect(readFileSync(installed)).toEqual(good);

    const status = await hearth(["license", "status", "--data-dir", dataDir, "--fingerprint", DEVICE_TEXT, "--json"], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ tier: "smb", reason: "valid", entitlements: ["gpu_burst"], license: { licenseId: "lic-cli-1" }, clock: { rolledBack: false, incidents: 0 } });
    const human = await hearth(["license", "status", "--data-dir", dataDir, "--fingerprint", DEVICE_TEXT], env);
    expect(human.stdout).toContain("smb (valid)");
    expect(human.stdout).toContain("lic-cli-1");

    // Without the trusted key the same file is refused at the next check, and kept.
    const distrusted = JSON.parse((await hearth(["license", "status", "--data-dir", dataDir, "--fingerprint", DEVICE_TEXT, "--json"])).stdout);
    expect(distrusted).toMatchObject({ tier: "community", reason: "unknown_key" });
    expect(readFileSync(installed)).toEqual(good);
  });

  test("a seat license installs on any hardware; status reads the fingerprint from --root when not given", async () => {
    const dataDir = tmp();
    const file = await issue(join(tmp(), "seats.json"), "--seats", "10", "--entitlements", "multi_model,base_model_updates", "--channel", "beta");
    const emptyBoard = tmp(); // no hardware ids at all: only a seat license can apply
    const ok = await hearth(["license", "install", file, "--data-dir", dataDir, "--root", emptyBoard, "--json"], env);
    expect(ok.code).toBe(0);
    const status = JSON.parse((await hearth(["license", "status", "--data-dir", dataDir, "--root", emptyBoard, "--json"], env)).stdout);
    expect(status).toMatchObject({ tier: "smb", reason: "valid", updateChannel: "beta", license: { binding: { seats: 10 } } });
    expect(status.entitlements.sort()).toEqual(["base_model_updates", "multi_model"]);
  });

  test("bad flags are named", async () => {
    const r = await hearth(["license", "issue", "--key", join(keys, "vendor-private.pem"), "--tier", "smb", "--expires", "soon", "--fingerprint", DEVICE_TEXT, "--out", join(tmp(), "x.json")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--expires");
    const missing = await hearth(["license", "install", join(tmp(), "nope.json"), "--data-dir", tmp(), "--fingerprint", DEVICE_TEXT]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("does not exist");
  });
});
