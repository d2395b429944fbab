/**
 * Messages as devices send them (built by hand from the shared schemas: the production device
 * client is tested on its own), signed checkpoints from real device keys, and a plain mqtt client
 * acting as a device.
 */
import mqtt, { type MqttClient } from "mqtt";
import { createHash, randomUUID } from "node:crypto";
import { generateEd25519, signerFromPem, type Signer } from "../../runtime/crypto/ed25519.ts";
import { canonicalBytes } from "../../runtime/crypto/canonical.ts";
import { deviceIdOf } from "../../runtime/identity/device-key.ts";
import type { CheckpointPayload, SignedCheckpoint } from "../../runtime/ledger/checkpoints.ts";
import type { AuditMessage, CommandAck, HealthMessage, StateMessage, UsageMessage } from "../../runtime/telemetry/messages.ts";
import { deviceTopic, type DeviceChannel } from "../../runtime/telemetry/topics.ts";
import { BROKER_KIND } from "../helpers/mosquitto.ts";

export const FLEET = "acme";
export const T0 = Date.parse("2027-03-01T00:00:00Z");
export const iso = (ms: number) => new Date(ms).toISOString();
export const msgId = () => randomUUID().replace(/-/g, "");

const envelope = (device: string, tsMs: number, id = msgId()) => ({ v: 1 as const, id, device, fleet: FLEET, ts: iso(tsMs) });

export function usage(device: string, seq: number, o: Partial<{ id: string; ts: number; from: number; to: number; requests: number; prompt: number; completion: number; tier: "smb" | "community"; licenseId: string | null; model: string }> = {}): UsageMessage {
  const from = o.from ?? (seq - 1) * 10;
  const to = o.to ?? seq * 10;
  const totals = { requests: o.requests ?? 10, promptTokens: o.prompt ?? 100, completionTokens: o.completion ?? 50 };
  const licenseId = o.licenseId === undefined ? "LIC-A" : o.licenseId;
  return {
    ...envelope(device, o.ts ?? T0 + seq * 1000, o.id),
    seq,
    fromLedgerSeq: from,
    toLedgerSeq: to,
    totals,
    byModel: { [o.model ?? "demo-tiny"]: totals },
    tier: o.tier ?? "smb",
    ...(licenseId === null ? {} : { licenseId }),
  };
}

export function state(device: string, s: "online" | "offline", o: Partial<{ id: string; ts: number; version: string; tier: "smb" | "community"; licenseId: string; models: string[] }> = {}): StateMessage {
  return {
    ...envelope(device, o.ts ?? T0, o.id),
    state: s,
    version: o.version ?? "0.1.0",
    tier: o.tier ?? "smb",
    ...(o.licenseId === undefined && (o.tier ?? "smb") === "community" ? {} : { licenseId: o.licenseId ?? "LIC-A" }),
    models: o.models ?? ["demo-tiny"],
  };
}

export function health(device: string, o: Partial<{ id: string; ts: number; cpu: number; throttled: boolean; temps: number[] }> = {}): HealthMessage {
  return {
    ...envelope(device, o.ts ?? T0, o.id),
    uptimeSeconds: 3600,
    cpuLoadPercent: o.cpu ?? 12.5,
    memory: { totalMB: 8192, usedMB: 2048 },
    temperaturesC: (o.temps ?? [48.5]).map((celsius, i) => ({ zone: `zone${i}`, celsius })),
    disk: { totalMB: 64000, usedMB: 12000 },
    throttled: o.throttled ?? false,
  };
}

export function ack(device: string, commandId: string, outcome: CommandAck["outcome"] = "done"): CommandAck {
  return { ...envelope(device, T0), commandId, outcome, ...(outcome === "rejected" ? { code: "bad_signature", reason: "signature does not verify" } : {}) };
}

/** A device identity that signs checkpoints the way runtime/ledger/checkpoints.ts does; its id derives from its key. */
export interface TestDeviceKey {
  deviceId: string;
  publicKey: string;
  signer: Signer;
}

export function deviceKey(): TestDeviceKey {
  const k = generateEd25519();
  return { deviceId: deviceIdOf(k.publicKey), publicKey: k.publicKey, signer: signerFromPem(k.privateKeyPem) };
}

export function checkpoint(key: TestDeviceKey, deviceId: string, ledgerSeq: number, o: Partial<{ count: number; headHash: string; createdMs: number; forge: boolean }> = {}): SignedCheckpoint {
  const payload: CheckpointPayload = {
    deviceId,
    devicePublicKey: key.publicKey,
    ledgerSeq,
    count: o.count ?? ledgerSeq,
    headHash: o.headHash ?? createHash("sha256").update(`${deviceId}:${ledgerSeq}`).digest("hex"),
    totals: { byKey: [{ keyId: null, requests: ledgerSeq, promptTokens: ledgerSeq * 10, completionTokens: ledgerSeq * 5 }], byModel: [{ model: "demo-tiny", requests: ledgerSeq, promptTokens: ledgerSeq * 10, completionTokens: ledgerSeq * 5 }] },
    createdAt: iso(o.createdMs ?? T0 + ledgerSeq * 100),
  };
  let signature = key.signer.sign(canonicalBytes(payload));
  if (o.forge) signature = deviceKey().signer.sign(canonicalBytes(payload)); // signed by someone else, naming this key
  return { payload, signature };
}

export function audit(device: string, cp: SignedCheckpoint, o: Partial<{ id: string; ts: number; licenseId: string }> = {}): AuditMessage {
  return { ...envelope(device, o.ts ?? Date.parse(cp.payload.createdAt), o.id), checkpoint: cp, licenseId: o.licenseId ?? "LIC-A" };
}

/** A plain MQTT client acting as a device (MQTT 5, or 3.1.1 on the aedes fallback). */
export async function connectDevice(url: string, device: string, opts: { will?: StateMessage; protocolVersion?: 4 | 5 } = {}): Promise<MqttClient & { send(channel: DeviceChannel, payload: object | string | Uint8Array, o?: { retain?: boolean }): Promise<void> }> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: opts.protocolVersion ?? (BROKER_KIND === "mosquitto" ? 5 : 4),
    clientId: `dev-${device}-${msgId().slice(0, 8)}`,
    reconnectPeriod: 0,
    ...(opts.will ? { will: { topic: deviceTopic(FLEET, device, "state"), payload: Buffer.from(JSON.stringify(opts.will)), qos: 1, retain: true } } : {}),
  });
  return Object.assign(client, {
    async send(channel: DeviceChannel, payload: object | string | Uint8Array, o: { retain?: boolean } = {}) {
      const body = typeof payload === "string" || payload instanceof Uint8Array ? payload : JSON.stringify(payload);
      await client.publishAsync(deviceTopic(FLEET, device, channel), body as string, { qos: 1, retain: o.retain ?? false });
    },
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== null && v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await Bun.sleep(25);
  }
}
