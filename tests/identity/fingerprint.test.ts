import { afterAll, describe, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fixtureRoot, removeFixtureRoots, treeRoot } from "../board/fixture.ts";
import { collectFingerprint, type FingerprintCollection, type IdentitySystemInfo } from "../../runtime/identity/fingerprint.ts";
import { componentDigest, formatFingerprint, matchFingerprint, parseFingerprint, type FingerprintKind } from "../../runtime/identity/fingerprint-format.ts";
import { FingerprintCollectionSchema } from "../../runtime/identity/fingerprint-schema.ts";

afterAll(removeFixtureRoots);

/** Per fixture: the source each component must come from and the raw id written in that file. */
const EXPECTED: Record<string, Record<FingerprintKind, [source: string, raw: string]>> = {
  rpi5: {
    board: ["/proc/cpuinfo Serial", "3e2a1b9c5d7f0a12"],
    disk: ["/sys/block/mmcblk0/device/cid", "035344534e363447801a2b3c4d0178c5"],
    mac: ["/sys/class/net/eth0/address", "d8:3a:dd:4f:2a:91"],
  },
  rpi4: {
    board: ["/proc/cpuinfo Serial", "10000000a7c3e2f1"],
    disk: ["/sys/block/mmcblk0/device/cid", "1b534d4542315154308c4d2e1f01578b"],
    mac: ["/sys/class/net/eth0/address", "dc:a6:32:1b:7e:40"],
  },
  "jetson-orin-nano": {
    board: ["/proc/device-tree/serial-number", "1421023045678"],
    disk: ["/sys/block/nvme0n1/device/serial", "S5GXNF0T412345B"],
    mac: ["/sys/class/net/enP8p1s0/address", "48:b0:2d:91:5e:c3"],
  },
  "jetson-orin-nx": {
    board: ["/proc/device-tree/serial-number", "1424122087654"],
    disk: ["/sys/block/nvme0n1/device/serial", "2238E5B1C0D7"],
    mac: ["/sys/class/net/enP8p1s0/address", "48:b0:2d:a4:07:19"],
  },
  "jetson-agx-orin": {
    board: ["/proc/device-tree/serial-number", "1423722051234"],
    disk: ["/sys/block/mmcblk0/device/cid", "150100424a54443452085e9c1a2b7355"],
    mac: ["/sys/class/net/eth0/address", "48:b0:2d:7a:c2:08"],
  },
  "jetson-xavier": {
    board: ["/proc/device-tree/serial-number", "1422419012345"],
    disk: ["/sys/block/mmcblk0/device/cid", "130100473146333241004a7d12c08c19"],
    mac: ["/sys/class/net/eth0/address", "00:04:4b:e5:71:2a"],
  },
  "x86-avx2": {
    board: ["/sys/class/dmi/id/product_uuid", "6d8f3b2a-91c4-4e57-b0a3-48210b5a3c7e"],
    disk: ["/sys/block/nvme0n1/device/serial", "S6ENNF0T812345K"],
    mac: ["/sys/class/net/enp86s0/address", "48:21:0b:5a:3c:7e"],
  },
  "x86-avx512": {
    board: ["/sys/class/dmi/id/product_serial", "SER7B2309001234"],
    disk: ["/sys/block/nvme0n1/device/serial", "50026B7686A1C2D3"],
    mac: ["/sys/class/net/enp2s0/address", "e8:ff:1e:d4:5a:12"],
  },
  "x86-nvidia": {
    board: ["/sys/class/dmi/id/product_uuid", "b7e0c9a2-5d41-11ec-8f3a-04d9f5c31e88"],
    disk: ["/sys/block/sda/device/wwid", "naa.5002538f4312a5b6"],
    mac: ["/sys/class/net/enp5s0/address", "04:d9:f5:c3:1e:88"],
  },
};

function put(root: string, path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

/** A physical interface as sysfs shows it (the `device` link stood for by a directory). */
function nic(root: string, iface: string, mac: string, assignType: number, physical = true): void {
  put(root, `sys/class/net/${iface}/address`, `${mac}\n`);
  put(root, `sys/class/net/${iface}/addr_assign_type`, `${assignType}\n`);
  if (physical) put(root, `sys/class/net/${iface}/device/uevent`, "DRIVER=test\n");
}

function source(c: FingerprintCollection, kind: FingerprintKind) {
  return c.sources.find((s) => s.kind === kind)!;
}

function digest(c: FingerprintCollection, kind: FingerprintKind): string | undefined {
  return c.fingerprint.components.find((x) => x.kind === kind)?.digest;
}

describe("collectFingerprint on the fixture boards", () => {
  for (const [board, expected] of Object.entries(EXPECTED)) {
    test(`${board}: board, disk and mac digest the fixture's ids, each from the expected file`, async () => {
      const got = await collectFingerprint({ root: fixtureRoot(board) });
      expect(Value.Check(FingerprintCollectionSchema, got)).toBe(true);
      expect(got.fingerprint).toEqual({
        version: 1,
        components: (["board", "disk", "mac"] as const).map((kind) => ({ kind, digest: componentDigest(kind, expected[kind][1]) })),
      });
      expect(got.sources.map((s) => [s.kind, s.present, s.source])).toEqual((["board", "disk", "mac"] as const).map((kind) => [kind, true, expected[kind][0]]));
      // What the CLI prints parses back to the same fingerprint.
      expect(parseFingerprint(formatFingerprint(got.fingerprint))).toEqual(got.fingerprint);
    });
  }

  test("every fixture board has its own fingerprint, and none matches another", async () => {
    const all = await Promise.all(Object.keys(EXPECTED).map((b) => collectFingerprint({ root: fixtureRoot(b) })));
    expect(new Set(all.map((c) => formatFingerprint(c.fingerprint))).size).toBe(all.length);
    for (const a of all) for (const b of all) if (a !== b) expect(matchFingerprint(a.fingerprint, b.fingerprint).matches).toBe(false);
  });

  test("the fixture as stored in git (device-tree NULs written as \\0) gives the same fingerprint", async () => {
    const stored = await collectFingerprint({ root: join(import.meta.dir, "..", "board", "fixtures", "jetson-orin-nano") });
    const materialised = await collectFingerprint({ root: fixtureRoot("jetson-orin-nano") });
    expect(stored.fingerprint).toEqual(materialised.fingerprint);
  });

  test("passed-over candidates are explained: placeholder UUID, random MAC, interfaces without a device or an Ethernet address", async () => {
    const avx512 = await collectFingerprint({ root: fixtureRoot("x86-avx512") });
    expect(source(avx512, "board").note).toContain('/sys/class/dmi/id/product_uuid: a well-known firmware placeholder ("03000200-0400-0500-0006-000700080009")');
    expect(source(avx512, "mac").note).toContain("enp196s0f3u1 (random address)");
    const orin = await collectFingerprint({ root: fixtureRoot("jetson-agx-orin") });
    expect(source(orin, "mac").note).toContain("can0 (no Ethernet address)");
    const nano = await collectFingerprint({ root: fixtureRoot("jetson-orin-nano") });
    expect(source(nano, "mac").note).toContain("docker0 (virtual: no device)");
  });

  test("garbage ids (zeros, all F's, O.E.M. filler, an empty device-tree string) give an empty fingerprint that explains itself", async () => {
    const got = await collectFingerprint({ root: fixtureRoot("garbage") });
    expect(got.fingerprint).toEqual({ version: 1, components: [] });
    expect(got.sources.map((s) => s.present)).toEqual([false, false, false]);
    expect(source(got, "board").note).toContain("/proc/device-tree/serial-number: empty");
    expect(source(got, "board").note).toContain("/sys/class/dmi/id/product_uuid: all zeros");
    expect(source(got, "board").note).toContain('/sys/class/dmi/id/product_serial: a well-known firmware placeholder ("To Be Filled By O.E.M.")');
    expect(source(got, "disk").note).toContain("/sys/block/mmcblk0/device/cid: all F's");
    expect(source(got, "mac").note).toContain("eth0 (all-zero address), wlan0 (no Ethernet address)");
  });

  test("a root where nothing is readable gives an empty fingerprint with a reason per component", async () => {
    const got = await collectFingerprint({ root: treeRoot() });
    expect(got.fingerprint.components).toEqual([]);
    expect(got.sources).toEqual([
      { kind: "board", present: false, source: expect.stringContaining("/sys/class/dmi/id/product_uuid"), note: "no board serial or DMI id" },
      { kind: "disk", present: false, source: "nothing to look at", note: "no disk with a readable serial" },
      { kind: "mac", present: false, source: "/sys/class/net", note: "no network interfaces besides lo" },
    ]);
    // A license needs at least one matching component: an empty fingerprint binds nothing.
    expect(matchFingerprint(got.fingerprint, got.fingerprint).matches).toBe(false);
  });
});

describe("replacing parts", () => {
  test("a new network card or a new SD card keeps the match; both at once do not", async () => {
    const original = (await collectFingerprint({ root: fixtureRoot("rpi5") })).fingerprint;

    const newNic = fixtureRoot("rpi5");
    writeFileSync(join(newNic, "sys/class/net/eth0/address"), "d8:3a:dd:00:11:22\n");
    const afterNic = (await collectFingerprint({ root: newNic })).fingerprint;
    expect(afterNic).not.toEqual(original);
    expect(matchFingerprint(original, afterNic)).toEqual({ matches: true, matched: 2, required: 2 });

    const newSd = fixtureRoot("rpi5");
    writeFileSync(join(newSd, "sys/block/mmcblk0/device/cid"), "27504853443332473000f1e2d3c40171\n");
    expect(matchFingerprint(original, (await collectFingerprint({ root: newSd })).fingerprint)).toEqual({ matches: true, matched: 2, required: 2 });

    const both = fixtureRoot("rpi5");
    writeFileSync(join(both, "sys/class/net/eth0/address"), "d8:3a:dd:00:11:22\n");
    writeFileSync(join(both, "sys/block/mmcblk0/device/cid"), "27504853443332473000f1e2d3c40171\n");
    expect(matchFingerprint(original, (await collectFingerprint({ root: both })).fingerprint)).toEqual({ matches: false, matched: 1, required: 2 });
  });

  test("a new NVMe disk in the NUC keeps the match; disk and board both new do not", async () => {
    const original = (await collectFingerprint({ root: fixtureRoot("x86-avx2") })).fingerprint;
    const newDisk = fixtureRoot("x86-avx2");
    writeFileSync(join(newDisk, "sys/block/nvme0n1/device/serial"), "S6ENNF0T899999X     \n");
    expect(matchFingerprint(original, (await collectFingerprint({ root: newDisk })).fingerprint).matches).toBe(true);
    writeFileSync(join(newDisk, "sys/class/dmi/id/product_uuid"), "0b9e2c71-4d3a-4f08-9e6b-2a7c5d1f3e90\n");
    expect(matchFingerprint(original, (await collectFingerprint({ root: newDisk })).fingerprint).matches).toBe(false);
  });
});

describe("what the fingerprint does not depend on", () => {
  test("/etc/machine-id: rpi4 and rpi5 share one (one image), yet differ; changing or deleting it changes nothing", async () => {
    const pi4 = fixtureRoot("rpi4");
    const pi5 = fixtureRoot("rpi5");
    expect(Bun.file(join(pi4, "etc/machine-id")).size).toBe(33);
    expect(await Bun.file(join(pi4, "etc/machine-id")).text()).toBe(await Bun.file(join(pi5, "etc/machine-id")).text());
    const before = await collectFingerprint({ root: pi5 });
    expect(before.fingerprint).not.toEqual((await collectFingerprint({ root: pi4 })).fingerprint);

    writeFileSync(join(pi5, "etc/machine-id"), "0123456789abcdef0123456789abcdef\n");
    expect(await collectFingerprint({ root: pi5 })).toEqual(before);
    rmSync(join(pi5, "etc/machine-id"));
    expect(await collectFingerprint({ root: pi5 })).toEqual(before);
    expect(JSON.stringify(before)).not.toContain("machine-id");
  });

  test("which source gave the Pi serial: the device tree alone gives the same digest as cpuinfo", async () => {
    const root = fixtureRoot("rpi4");
    const withCpuinfo = await collectFingerprint({ root });
    writeFileSync(join(root, "proc/cpuinfo"), "processor\t: 0\nSerial\t\t: 0000000000000000\n");
    const fromDt = await collectFingerprint({ root });
    expect(source(fromDt, "board").source).toBe("/proc/device-tree/serial-number");
    expect(source(fromDt, "board").note).toBe("/proc/cpuinfo Serial: all zeros");
    expect(fromDt.fingerprint).toEqual(withCpuinfo.fingerprint);
  });
});

describe("readers on hand-built trees", () => {
  test("Jetson serial from /sys/firmware/devicetree/base when /proc/device-tree is not there", async () => {
    const root = treeRoot({ "sys/firmware/devicetree/base/serial-number": "1421023045678\0" });
    const got = await collectFingerprint({ root });
    expect(source(got, "board")).toMatchObject({ present: true, source: "/sys/firmware/devicetree/base/serial-number" });
    expect(digest(got, "board")).toBe(componentDigest("board", "1421023045678"));
  });

  test("SATA: the serial from vpd_pg80's binary page, after its 4-byte header", async () => {
    const root = treeRoot({ "proc/mounts": "/dev/sda2 / ext4 rw 0 0\n" });
    const serial = "      S6PTNM0T512345A";
    put(root, "sys/block/sda/device/vpd_pg80", Buffer.concat([Buffer.from([0x00, 0x80, 0x00, serial.length]), Buffer.from(serial, "latin1")]));
    put(root, "sys/block/sda/device/wwid", "naa.5002538f4312a5b6\n");
    const got = await collectFingerprint({ root });
    expect(source(got, "disk").source).toBe("/sys/block/sda/device/vpd_pg80");
    expect(digest(got, "disk")).toBe(componentDigest("disk", "S6PTNM0T512345A"));
  });

  test("NVMe serial from /sys/class/nvme when the namespace's device link is missing", async () => {
    const root = treeRoot({ "proc/mounts": "/dev/nvme0n1p2 / ext4 rw 0 0\n", "sys/class/nvme/nvme0/serial": "S6ENNF0T812345K     \n" });
    const got = await collectFingerprint({ root });
    expect(source(got, "disk").source).toBe("/sys/class/nvme/nvme0/serial");
    expect(digest(got, "disk")).toBe(componentDigest("disk", "S6ENNF0T812345K"));
  });

  test("root on /dev/root or LUKS: the disk is found by the first fixed disk or through device-mapper slaves", async () => {
    const devRoot = treeRoot({
      "proc/mounts": "/dev/root / ext4 rw 0 0\n",
      "sys/block/loop0/size": "0\n",
      "sys/block/mmcblk0/removable": "0\n",
      "sys/block/mmcblk0/device/cid": "035344534e363447801a2b3c4d0178c5\n",
      "sys/block/sda/removable": "1\n",
      "sys/block/sda/device/wwid": "t10.USB stick\n",
    });
    const a = await collectFingerprint({ root: devRoot });
    expect(source(a, "disk")).toMatchObject({ present: true, source: "/sys/block/mmcblk0/device/cid" });
    expect(source(a, "disk").note).toContain("/dev/root, which names no disk");

    const luks = treeRoot({
      "proc/mounts": "/dev/mapper/cryptroot / ext4 rw 0 0\n",
      "sys/block/dm-0/dm/name": "cryptroot\n",
      "sys/block/dm-0/slaves/nvme0n1p3/dev": "259:3\n",
      "sys/block/nvme0n1/device/serial": "S6ENNF0T812345K\n",
      "sys/block/nvme1n1/device/serial": "OTHERDISK0001\n",
    });
    const b = await collectFingerprint({ root: luks });
    expect(digest(b, "disk")).toBe(componentDigest("disk", "S6ENNF0T812345K"));
  });

  test("a removable disk is never picked by the scan, and a virtual disk's serial is not used", async () => {
    const root = treeRoot({
      "proc/mounts": "/dev/vda1 / ext4 rw 0 0\n",
      "sys/block/vda/serial": "overlayblk\n",
      "sys/block/sdb/removable": "1\n",
      "sys/block/sdb/device/wwid": "t10.Generic Flash Disk\n",
    });
    const got = await collectFingerprint({ root });
    expect(source(got, "disk").present).toBe(false);
    expect(source(got, "disk").note).toContain("/sys/block/vda: a virtual disk");
    expect(source(got, "disk").note).toContain("/sys/block/sdb: removable");
  });

  test("MAC: bridges, veth and random or software-set addresses are passed over in name order", async () => {
    const root = treeRoot();
    nic(root, "br0", "02:11:22:33:44:55", 3, false);
    nic(root, "docker0", "02:42:ac:11:00:01", 3, false);
    nic(root, "enx0a1b2c3d4e5f", "0a:1b:2c:3d:4e:5f", 1);
    nic(root, "eth0", "00:e0:4c:68:01:02", 3); // changed with `ip link set address`
    nic(root, "eth1", "00:00:00:00:00:00", 0);
    nic(root, "eth2", "01:00:5e:00:00:01", 0);
    nic(root, "eth3", "00:E0:4C:68:01:03", 0);
    nic(root, "wlan0", "00:e0:4c:68:01:04", 0);
    const got = await collectFingerprint({ root });
    expect(source(got, "mac").source).toBe("/sys/class/net/eth3/address");
    // Upper or lower case, the digest is the same.
    expect(digest(got, "mac")).toBe(componentDigest("mac", "00:e0:4c:68:01:03"));
    expect(source(got, "mac").note).toBe(
      "passed over br0 (virtual: no device), docker0 (virtual: no device), enx0a1b2c3d4e5f (random address), eth0 (address set by software), eth1 (all-zero address), eth2 (multicast address)",
    );
  });
});

describe("systeminformation (the live root's second source)", () => {
  const fake = (system: IdentitySystemInfo["system"], nics: { iface: string; mac: string }[] = []): IdentitySystemInfo => ({
    system,
    networkInterfaces: async () => nics,
  });

  test("gives the board id when the DMI files are unreadable, with the digest the file would give", async () => {
    const fromFile = await collectFingerprint({ root: fixtureRoot("x86-avx2") });
    const root = fixtureRoot("x86-avx2");
    rmSync(join(root, "sys/class/dmi/id/product_uuid"));
    rmSync(join(root, "sys/class/dmi/id/product_serial"));
    const got = await collectFingerprint({ root, systemInfo: fake(async () => ({ uuid: "6D8F3B2A-91C4-4E57-B0A3-48210B5A3C7E", serial: "-" })) });
    expect(source(got, "board").source).toBe("systeminformation.system().uuid");
    expect(got.fingerprint).toEqual(fromFile.fingerprint);
  });

  test("a placeholder uuid falls through to the serial; a failing library is a note, not a crash", async () => {
    const root = treeRoot();
    const serial = await collectFingerprint({ root, systemInfo: fake(async () => ({ uuid: "03000200-0400-0500-0006-000700080009", serial: "SER7B2309001234" })) });
    expect(digest(serial, "board")).toBe(componentDigest("board", "SER7B2309001234"));
    const failing = await collectFingerprint({ root, systemInfo: fake(async () => { throw new Error("dmidecode: permission denied"); }) });
    expect(source(failing, "board")).toMatchObject({ present: false, note: expect.stringContaining("systeminformation.system() failed: dmidecode: permission denied") });
  });

  test("says whether it sees the chosen interface's address, never printing it", async () => {
    const root = fixtureRoot("x86-nvidia");
    const system = async () => ({ uuid: "", serial: "" });
    const agrees = await collectFingerprint({ root, systemInfo: fake(system, [{ iface: "enp5s0", mac: "04:D9:F5:C3:1E:88" }]) });
    expect(source(agrees, "mac").note).toBe("systeminformation.networkInterfaces() agrees on enp5s0");
    const differs = await collectFingerprint({ root, systemInfo: fake(system, [{ iface: "enp5s0", mac: "02:00:00:00:00:09" }]) });
    expect(source(differs, "mac").note).toBe("systeminformation.networkInterfaces() reports another address for enp5s0 (changed at runtime?)");
    expect(differs.fingerprint).toEqual(agrees.fingerprint);
  });

  test("is not consulted for a fixture root unless passed in", async () => {
    const got = await collectFingerprint({ root: treeRoot() });
    expect(JSON.stringify(got.sources)).not.toContain("systeminformation");
  });
});
