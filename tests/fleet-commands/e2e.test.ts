/**
 * End to end over a real Mosquitto: `hearth fleet keygen` and `hearth fleet command` as child
 * processes, three boxes (the test harness around the real processor) and a raw MQTT client that
 * plays the attacker: replays, forgeries, misaddressed and expired commands and garbage.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectAsync, type MqttClient } from "mqtt";
import { Value } from "@sinclair/typebox/value";
import { FleetKeyConfig } from "../../runtime/config/schema.ts";
import { signerFromPem } from "../../runtime/crypto/ed25519.ts";
import { configOverrides } from "../../runtime/fleet/commands/config-overrides.ts";
import { licenseInstallHook } from "../../runtime/fleet/commands/license-hook.ts";
import { newCommand, signCommand } from "../../runtime/fleet/commands/signing.ts";
import { systemClock } from "../../runtime/clock.ts";
import type { CommandAck } from "../../runtime/telemetry/messages.ts";
import { deviceTopic } from "../../runtime/telemetry/topics.ts";
import { hearth } from "../helpers/cli.ts";
import { startBroker, type TestBroker } from "../helpers/mosquitto.ts";
import { DEVICE as FINGERPRINT, licenseBytes, VENDOR_KEYS } from "../license/helpers.ts";
import { startDevice, type TestDevice } from "./device-harness.ts";
import { tmp } from "./helpers.ts";

const FLEET = "acme";
const A = "hd-aaaaaaaaaaaaaaaaaaaaaaaaaa";
const B = "hd-bbbbbbbbbbbbbbbbbbbbbbbbbb";
const C = "hd-cccccccccccccccccccccccccc";

let broker: TestBroker;
let keys: string;
let devices: Record<string, TestDevice>;
let flushes: Record<string, number>;
let attacker: MqttClient;
/** Every command payload seen on the fleet's command topics, as the broker delivered it. */
const seenCommands: Buffer[] = [];
const seenAcks: CommandAck[] = [];

/** The first ack for `commandId` from `device` seen from index `from` on. */
const ackFor = async (commandId: string | null, device: string, from = 0, timeoutMs = 5000): Promise<CommandAck> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ack = seenAcks.slice(from).find((a) => a.commandId === commandId && a.device === device);
    if (ack) return ack;
    if (Date.now() > deadline) throw new Error(`no ack from ${device} for ${commandId}`);
    await Bun.sleep(20);
  }
};

const send = (args: string[], extra: string[] = []) =>
  hearth(["fleet", "command", "--key", join(keys, "fleet-private.pem"), "--broker", broker.url, "--mqtt-version", String(broker.protocolVersion), "--fleet", FLEET, ...args, ...extra]);

beforeAll(async () => {
  broker = await startBroker();
  keys = join(tmp(), "keys");
  const gen = await hearth(["fleet", "keygen", "--out", keys, "--key-id", "ops-2026", "--json"]);
  expect(gen.code).toBe(0);
  const fleetKey = JSON.parse(readFileSync(join(keys, "fleet-public.json"), "utf8"));
  flushes = { [A]: 0, [B]: 0, [C]: 0 };
  const start = (deviceId: string, groups: string[]) => {
    const dataDir = tmp();
    return startDevice({
      broker,
      dataDir,
      deviceId,
      fleet: FLEET,
      groups,
      fleetKeys: [fleetKey],
      deps: (db) => ({
        flush: async () => ({ flushed: ++flushes[deviceId]! }),
        installLicense: licenseInstallHook({ dataDir, db, config: { vendorKeys: VENDOR_KEYS, clockToleranceSeconds: 300, checkpointEvery: 1000 }, device: FINGERPRINT, clock: systemClock }),
      }),
    });
  };
  devices = { [A]: await start(A, ["clinics"]), [B]: await start(B, ["clinics", "north"]), [C]: await start(C, []) };
  attacker = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion, clientId: "attacker", reconnectPeriod: 0 }, false);
  attacker.on("message", (topic, payload) => {
    if (topic.endsWith("/cmd/ack")) seenAcks.push(JSON.parse(payload.toString()));
    else seenCommands.push(Buffer.from(payload));
  });
  await attacker.subscribeAsync([`hearth/v1/${FLEET}/+/cmd`, `hearth/v1/${FLEET}/group/+/cmd`, `hearth/v1/${FLEET}/+/cmd/ack`], { qos: 1 });
}, 30_000);

afterAll(async () => {
  await attacker?.endAsync();
  for (const d of Object.values(devices ?? {})) await d.stop();
  await broker?.stop();
});

describe("fleet commands over a real broker", () => {
  test("keygen writes a 0600 private key and a public key ready for telemetry.fleetKeys, and never overwrites", async () => {
    expect(statSync(join(keys, "fleet-private.pem")).mode & 0o777).toBe(0o600);
    const entry = JSON.parse(readFileSync(join(keys, "fleet-public.json"), "utf8"));
    expect(Value.Check(FleetKeyConfig, entry)).toBe(true);
    expect(entry.keyId).toBe("ops-2026");
    expect(entry.publicKey).toBe(signerFromPem(readFileSync(join(keys, "fleet-private.pem"), "utf8")).publicKey);
    const again = await hearth(["fleet", "keygen", "--out", keys]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists");
  });

  test("config.set to one device: stored durably on that box, the ack printed, exit 0", async () => {
    const r = await send(["--device", A, "config.set", "--arg", "path=log.level", "--arg", "value=debug", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.topic).toBe(`hearth/v1/${FLEET}/${A}/cmd`);
    expect(out.command).toMatchObject({ kind: "config.set", target: { device: A }, keyId: "ops-2026", args: { path: "log.level", value: "debug" } });
    expect(out.acks).toHaveLength(1);
    expect(out.acks[0]).toMatchObject({ device: A, commandId: out.command.id, outcome: "done", result: { path: "log.level", value: "debug" } });
    expect(configOverrides(devices[A]!.db)).toEqual({ "log.level": "debug" });
    expect(configOverrides(devices[B]!.db)).toEqual({});
  });

  test("a group command reaches every box of the group, and only those", async () => {
    const r = await send(["--group", "clinics", "telemetry.flush", "--expect", "2"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^sent telemetry\.flush \S+ to group clinics/);
    expect(lines.filter((l) => / done /.test(l)).sort()).toEqual([`${A}  done      {"flushed":1}`, `${B}  done      {"flushed":1}`]);
    expect(flushes).toEqual({ [A]: 1, [B]: 1, [C]: 0 });
  });

  test("a forged command (another key claiming the fleet key's id) is rejected with its reason; exit 1", async () => {
    const rogue = join(tmp(), "rogue");
    expect((await hearth(["fleet", "keygen", "--out", rogue])).code).toBe(0);
    const r = await hearth(["fleet", "command", "--key", join(rogue, "fleet-private.pem"), "--key-id", "ops-2026", "--broker", broker.url, "--mqtt-version", String(broker.protocolVersion), "--fleet", FLEET, "--group", "clinics", "telemetry.flush", "--expect", "2", "--json"]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.acks).toHaveLength(2);
    for (const ack of out.acks) {
      expect(ack).toMatchObject({ outcome: "rejected", code: "bad_signature", commandId: out.command.id });
      expect(ack.reason).toContain("signature does not match");
    }
    expect(flushes).toEqual({ [A]: 1, [B]: 1, [C]: 0 });

    const human = await hearth(["fleet", "command", "--key", join(rogue, "fleet-private.pem"), "--broker", broker.url, "--mqtt-version", String(broker.protocolVersion), "--fleet", FLEET, "--device", B, "telemetry.flush"]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`${B}  rejected  unknown_key: the command names fleet key "fleet-`);
  });

  test("a refused config.set names the path; license.install installs through the box's license store", async () => {
    const refused = await send(["--device", B, "config.set", "--args", '{"path":"telemetry.fleetKeys","value":[]}']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain("not_allowed: config path \"telemetry.fleetKeys\" cannot be set");

    const file = join(tmp(), "license.json");
    writeFileSync(file, licenseBytes());
    const r = await send(["--device", B, "license.install", "--arg", `license=@${file}`, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).acks[0]).toMatchObject({ outcome: "done", result: { tier: "smb", licenseId: "lic-test-1" } });
    writeFileSync(file, new TextDecoder().decode(licenseBytes()).replace("Harbour Clinic", "Harbour Clinic Ltd"));
    const tampered = await send(["--device", C, "license.install", "--arg", `license=@${file}`]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain(`${C}  failed    license_invalid: license refused (bad_signature)`);
  });

  test("replayed, misaddressed, expired and unsigned commands on the wire are refused and acked with reasons", async () => {
    // Replay: the exact bytes of a command the box already ran.
    const original = seenCommands.find((p) => JSON.parse(p.toString()).kind === "config.set" && JSON.parse(p.toString()).target.device === A)!;
    const replayed = JSON.parse(original.toString());
    const before = seenAcks.length;
    await attacker.publishAsync(deviceTopic(FLEET, A, "cmd"), original, { qos: 1 });
    expect(await ackFor(replayed.id, A)).toMatchObject({ outcome: "done" });
    expect(await ackFor(replayed.id, A, before)).toMatchObject({ outcome: "rejected", code: "replayed" });

    // Misaddressed: a genuine command for B, delivered to A's topic.
    const key = signerFromPem(readFileSync(join(keys, "fleet-private.pem"), "utf8"));
    const make = (over: { target?: { device: string }; ttlMs?: number; now?: number } = {}) =>
      signCommand(newCommand({ kind: "telemetry.flush", target: over.target ?? { device: A }, fleet: FLEET, args: {}, keyId: "ops-2026", ttlMs: over.ttlMs ?? 60_000 }, over.now ?? Date.now()), key);
    const forB = make({ target: { device: B } });
    await attacker.publishAsync(deviceTopic(FLEET, A, "cmd"), JSON.stringify(forB), { qos: 1 });
    const mis = await ackFor(forB.id, A);
    expect(mis).toMatchObject({ outcome: "rejected", code: "misaddressed" });
    expect(mis.reason).toContain(B);

    const old = make({ now: Date.now() - 120_000 });
    await attacker.publishAsync(deviceTopic(FLEET, A, "cmd"), JSON.stringify(old), { qos: 1 });
    expect(await ackFor(old.id, A)).toMatchObject({ outcome: "rejected", code: "expired" });

    const { signature: _, ...bare } = make();
    await attacker.publishAsync(deviceTopic(FLEET, A, "cmd"), JSON.stringify(bare), { qos: 1 });
    expect(await ackFor(bare.id, A)).toMatchObject({ outcome: "rejected", code: "unsigned" });
    expect(flushes[A]).toBe(1);
  });

  test("garbage on a command topic gets a rejected ack with commandId null, and the box keeps serving", async () => {
    const before = devices[C]!.acks.length;
    for (const junk of ["", "{", "\u0000\u00ff", JSON.stringify({ v: 1, hello: "world" }), "x".repeat(70_000)]) {
      await attacker.publishAsync(deviceTopic(FLEET, C, "cmd"), junk, { qos: 1 });
    }
    const deadline = Date.now() + 5000;
    while (devices[C]!.acks.length < before + 5 && Date.now() < deadline) await Bun.sleep(20);
    const junkAcks = devices[C]!.acks.slice(before);
    expect(junkAcks).toHaveLength(5);
    for (const ack of junkAcks) expect(ack).toMatchObject({ commandId: null, outcome: "rejected", code: "malformed" });
    const r = await send(["--device", C, "telemetry.flush"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${C}  done`);
  });

  test("no box answering a --device command exits 3", async () => {
    const r = await send(["--device", "hd-nobodyhomexxxxxxxxxxxxxx", "telemetry.flush", "--wait", "1"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("no ack within 1 s");
  });

  test("TLS with a CA, and a password listener", async () => {
    const version = ["--mqtt-version", String(broker.protocolVersion)];
    const tls = await hearth(["fleet", "command", "--key", join(keys, "fleet-private.pem"), "--broker", broker.tlsUrl, "--ca", broker.caFile, ...version, "--fleet", FLEET, "--device", A, "config.set", "--arg", "path=model.maxTokens", "--arg", "value=512"]);
    expect(tls.code).toBe(0);
    expect(configOverrides(devices[A]!.db)).toEqual({ "log.level": "debug", "model.maxTokens": 512 });
    const base = ["fleet", "command", "--key", join(keys, "fleet-private.pem"), "--broker", broker.authUrl, "--username", broker.user.username, ...version, "--fleet", FLEET, "--device", A, "telemetry.flush"];
    const authed = await hearth(base, { HEARTH_FLEET_PASSWORD: broker.user.password });
    expect(authed.code).toBe(0);
    const denied = await hearth([...base, "--password", "wrong"]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("cannot connect");
  });
});
