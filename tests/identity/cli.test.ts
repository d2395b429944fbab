import { afterAll, describe, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hearth } from "../helpers/cli.ts";
import { fixtureRoot, removeFixtureRoots, treeRoot } from "../board/fixture.ts";
import { DEVICE_KEY_FILE } from "../../runtime/identity/device-key.ts";
import { componentDigest, matchFingerprint, parseFingerprint } from "../../runtime/identity/fingerprint-format.ts";
import { DeviceFingerprintReportSchema, type DeviceFingerprintReport } from "../../runtime/identity/fingerprint-schema.ts";

const dirs: string[] = [];
afterAll(() => {
  removeFixtureRoots();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "hearth-identity-"));
  dirs.push(dir);
  return dir;
}

/** A data dir as an image ships it: configured, never started, so no identity yet. */
function freshImageDataDir(): string {
  const dir = join(tempDir(), "data");
  mkdirSync(join(dir, "models"), { recursive: true });
  writeFileSync(join(dir, "models", "README"), "models go here\n");
  return dir;
}

function copyOf(dataDir: string): string {
  const copy = join(tempDir(), "data");
  cpSync(dataDir, copy, { recursive: true });
  return copy;
}

async function fingerprintJson(dataDir: string, root: string): Promise<DeviceFingerprintReport> {
  const { code, stdout, stderr } = await hearth(["license", "fingerprint", "--data-dir", dataDir, "--root", root, "--json"]);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  const report = JSON.parse(stdout);
  expect(Value.Check(DeviceFingerprintReportSchema, report)).toBe(true);
  return report;
}

describe("hearth license fingerprint", () => {
  test("two boxes from one image get different identities and fingerprints; each keeps its own on the next run", async () => {
    const image = freshImageDataDir();
    expect(existsSync(join(image, DEVICE_KEY_FILE))).toBe(false);
    const boxA = copyOf(image);
    const boxB = copyOf(image);
    const [a, b] = await Promise.all([fingerprintJson(boxA, fixtureRoot("rpi5")), fingerprintJson(boxB, fixtureRoot("rpi4"))]);
    expect(a.identityCreated).toBe(true);
    expect(b.identityCreated).toBe(true);
    expect(a.deviceId).not.toBe(b.deviceId);
    expect(a.devicePublicKey).not.toBe(b.devicePublicKey);
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(matchFingerprint(parseFingerprint(a.fingerprint!), parseFingerprint(b.fingerprint!)).matches).toBe(false);
    expect(a.fingerprint).toBe(
      `hfp1:board=${componentDigest("board", "3e2a1b9c5d7f0a12")},disk=${componentDigest("disk", "035344534e363447801a2b3c4d0178c5")},mac=${componentDigest("mac", "d8:3a:dd:4f:2a:91")}`,
    );
    // The image itself stays without an identity.
    expect(existsSync(join(image, "identity"))).toBe(false);

    const again = await fingerprintJson(boxA, fixtureRoot("rpi5"));
    expect(again).toEqual({ ...a, identityCreated: false });
    expect(statSync(join(boxA, DEVICE_KEY_FILE)).mode & 0o777).toBe(0o600);
  });

  test("the same hardware flashed twice from one image: same fingerprint, different device ids", async () => {
    const image = freshImageDataDir();
    const [a, b] = await Promise.all([fingerprintJson(copyOf(image), fixtureRoot("x86-avx2")), fingerprintJson(copyOf(image), fixtureRoot("x86-avx2"))]);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.deviceId).not.toBe(b.deviceId);
  });

  test("reinstalling (the data dir wiped) keeps the fingerprint, so a license stays bound; the identity is new", async () => {
    const dataDir = freshImageDataDir();
    const root = fixtureRoot("jetson-orin-nano");
    const before = await fingerprintJson(dataDir, root);
    rmSync(dataDir, { recursive: true, force: true });
    const after = await fingerprintJson(dataDir, root);
    expect(after.fingerprint).toBe(before.fingerprint);
    expect(after.components).toEqual(before.components);
    expect(after.identityCreated).toBe(true);
    expect(after.deviceId).not.toBe(before.deviceId);
  });

  test("processes starting together on one fresh data dir end up with one identity", async () => {
    const dataDir = freshImageDataDir();
    const root = fixtureRoot("rpi5");
    const reports = await Promise.all([1, 2, 3, 4].map(() => fingerprintJson(dataDir, root)));
    expect(new Set(reports.map((r) => r.deviceId)).size).toBe(1);
    expect(reports.filter((r) => r.identityCreated)).toHaveLength(1);
    expect(readdirSync(join(dataDir, "identity"))).toEqual(["device-ed25519.pem"]);
    expect(statSync(join(dataDir, DEVICE_KEY_FILE)).mode & 0o777).toBe(0o600);
  });

  test("a root where nothing is readable: exit 0, no fingerprint, a reason per component", async () => {
    const report = await fingerprintJson(freshImageDataDir(), treeRoot());
    expect(report.fingerprint).toBeNull();
    expect(report.components.map((c) => [c.kind, c.present, c.digest])).toEqual([["board", false, null], ["disk", false, null], ["mac", false, null]]);
    expect(report.components.every((c) => (c.note ?? "").length > 0)).toBe(true);

    const human = await hearth(["license", "fingerprint", "--data-dir", freshImageDataDir(), "--root", treeRoot()]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("Fingerprint  none: no stable hardware id could be read here, so no license can be bound to this box");
    expect(human.stdout).toContain("mac: no network interfaces besides lo");
  });

  test("human output: device id, key, fingerprint and each component's source, never a raw serial or MAC", async () => {
    const dataDir = freshImageDataDir();
    const root = fixtureRoot("x86-avx512");
    const { code, stdout } = await hearth(["license", "fingerprint", "--data-dir", dataDir, "--root", root]);
    expect(code).toBe(0);
    const json = await fingerprintJson(dataDir, root);
    expect(stdout).toContain(`Device id    ${json.deviceId} (created now: first use of this data dir)`);
    expect(stdout).toContain(`Public key   ${json.devicePublicKey}`);
    expect(stdout).toContain(`Fingerprint  ${json.fingerprint}`);
    expect(stdout).toMatch(new RegExp(`board\\s+${componentDigest("board", "SER7B2309001234")}\\s+/sys/class/dmi/id/product_serial`));
    expect(stdout).toMatch(new RegExp(`mac\\s+${componentDigest("mac", "e8:ff:1e:d4:5a:12")}\\s+/sys/class/net/enp2s0/address`));
    expect(stdout).toContain("enp196s0f3u1 (random address)");
    for (const out of [stdout, JSON.stringify(json)]) {
      for (const raw of ["SER7B2309001234", "50026B7686A1C2D3", "e8:ff:1e:d4:5a:12", "7e:91:3a:05:d2:6f", "14:13:33:8a:6b:fd"]) expect(out.toLowerCase()).not.toContain(raw.toLowerCase());
    }
  });

  test("--root that is not a directory is a usage error naming the flag, and creates no identity", async () => {
    const dataDir = freshImageDataDir();
    const missing = join(tempDir(), "nope");
    const { code, stderr } = await hearth(["license", "fingerprint", "--data-dir", dataDir, "--root", missing]);
    expect(code).toBe(2);
    expect(stderr).toContain(`--root ${missing} is not a directory`);
    const json = await hearth(["license", "fingerprint", "--data-dir", dataDir, "--root", missing, "--json"]);
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: "invalid_request", message: `--root ${missing} is not a directory`, field: "root" } });
    expect(existsSync(join(dataDir, "identity"))).toBe(false);
  });

  test("--data-dir that is a file is a usage error naming the flag", async () => {
    const file = join(tempDir(), "data");
    writeFileSync(file, "not a dir");
    const { code, stderr } = await hearth(["license", "fingerprint", "--data-dir", file, "--root", treeRoot(), "--json"]);
    expect(code).toBe(2);
    expect(JSON.parse(stderr)).toEqual({ error: { code: "invalid_request", message: `--data-dir ${file} is not a directory`, field: "dataDir" } });
  });

  test("without --root it reads this machine (systeminformation as second source) and succeeds", async () => {
    const dataDir = freshImageDataDir();
    const { code, stdout, stderr } = await hearth(["license", "fingerprint", "--data-dir", dataDir, "--json"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(Value.Check(DeviceFingerprintReportSchema, report)).toBe(true);
    expect(report.components.map((c: { kind: string }) => c.kind)).toEqual(["board", "disk", "mac"]);
    expect(JSON.stringify(report)).not.toContain("machine-id");
  });

  test("--help lists the options", async () => {
    const { code, stdout } = await hearth(["license", "fingerprint", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: hearth license fingerprint [options]");
    for (const flag of ["--data-dir DIR", "--root DIR", "--json"]) expect(stdout).toContain(flag);
  });
});
