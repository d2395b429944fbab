/**
 * One delivered MQTT message → the row to store, or the reason it is refused. Pure: no I/O, so
 * malformed input of every kind is tested without a broker. Payloads are checked against the
 * shared TypeBox schemas, and the envelope must name the device and fleet of its topic, so a box
 * cannot write into another box's history.
 */
import { parseDeviceTopic } from "../../telemetry/topics.ts";
import {
  AuditMessageSchema,
  CommandAckSchema,
  HealthMessageSchema,
  OtaMessageSchema,
  StateMessageSchema,
  UsageMessageSchema,
} from "../../telemetry/messages.ts";
import { validate } from "../../validation.ts";
import { checkpointSignatureValid } from "../../ledger/checkpoints.ts";
import { deviceIdOf } from "../../identity/device-key.ts";
import { ACKS, AUDIT, HEALTH, OTA, STATE, USAGE, type MessageTable } from "./schema.ts";

export type Row = Record<string, string | number | null>;

/** What a message tells about its device, merged per batch into one upsert (see plan.ts). */
export interface DeviceFacts {
  deviceId: string;
  fleet: string;
  /** The message's time, never later than its arrival (a fast device clock does not make it "seen"). */
  seenMs: number;
  state?: { online: 0 | 1; receivedMs: number; tsMs: number; version: string; tier: string; licenseId: string | null; models: string | null };
  usage?: { tier: string; licenseId: string | null };
  /** Public key of a checkpoint whose signature verifies and that names this device. */
  publicKey?: string;
}

export type Ingested =
  | { ok: true; table: MessageTable; row: Row; facts: DeviceFacts }
  /** malformed: counted and logged; ignored: not telemetry (commands to devices, foreign topics). */
  | { ok: false; kind: "malformed" | "ignored"; reason: string; deviceId?: string };

export interface Delivery {
  topic: string;
  payload: Uint8Array;
  /** Set on a retained message replayed at subscription time. */
  retain: boolean;
  receivedMs: number;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function malformed(reason: string, deviceId?: string): Ingested {
  return { ok: false, kind: "malformed", reason, deviceId };
}

export function ingest(d: Delivery): Ingested {
  const topic = parseDeviceTopic(d.topic);
  if (!topic) return { ok: false, kind: "ignored", reason: `not a device telemetry topic: ${d.topic.slice(0, 200)}` };
  if (topic.channel === "cmd") return { ok: false, kind: "ignored", reason: "a command to a device" };
  if (topic.channel === "receipt") return { ok: false, kind: "ignored", reason: "a receipt to a device" };
  // How MQTT deletes a retained message, e.g. the state of a decommissioned box.
  if (d.payload.length === 0) return { ok: false, kind: "ignored", reason: "empty payload (a retained message cleared)", deviceId: topic.device };
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(d.payload));
  } catch {
    return malformed("payload is not UTF-8 JSON", topic.device);
  }
  const envelope = (schemaCheck: () => { id: string; device: string; fleet: string; ts: string }) => {
    const msg = schemaCheck();
    if (msg.device !== topic.device || msg.fleet !== topic.fleet) {
      throw new Error(`payload names device ${JSON.stringify(msg.device)} of fleet ${JSON.stringify(msg.fleet)}, topic ${topic.fleet}/${topic.device}`);
    }
    const tsMs = Date.parse(msg.ts);
    if (Number.isNaN(tsMs)) throw new Error(`ts: ${JSON.stringify(msg.ts)} is not a time`);
    const base: Row = { device_id: msg.device, message_id: msg.id, fleet: msg.fleet, ts_ms: tsMs, received_ms: d.receivedMs };
    const facts: DeviceFacts = { deviceId: msg.device, fleet: msg.fleet, seenMs: Math.min(tsMs, d.receivedMs) };
    return { base, facts, tsMs };
  };
  try {
    switch (topic.channel) {
      case "state": {
        const m = validate(StateMessageSchema, body);
        const { base, facts, tsMs } = envelope(() => m);
        const models = m.models ? JSON.stringify(m.models) : null;
        const licenseId = m.licenseId ?? null;
        facts.state = { online: m.state === "online" ? 1 : 0, receivedMs: d.receivedMs, tsMs, version: m.version, tier: m.tier, licenseId, models };
        return { ok: true, table: STATE, facts, row: { ...base, state: m.state, retained: d.retain ? 1 : 0, version: m.version, tier: m.tier, license_id: licenseId, models } };
      }
      case "health": {
        const m = validate(HealthMessageSchema, body);
        const { base, facts } = envelope(() => m);
        const maxTemp = m.temperaturesC.length === 0 ? null : Math.max(...m.temperaturesC.map((t) => t.celsius));
        return {
          ok: true,
          table: HEALTH,
          facts,
          row: {
            ...base,
            uptime_seconds: m.uptimeSeconds,
            cpu_load_percent: m.cpuLoadPercent,
            memory_total_mb: m.memory.totalMB,
            memory_used_mb: m.memory.usedMB,
            disk_total_mb: m.disk.totalMB,
            disk_used_mb: m.disk.usedMB,
            throttled: m.throttled ? 1 : 0,
            temperatures: JSON.stringify(m.temperaturesC),
            max_temperature_c: maxTemp,
          },
        };
      }
      case "usage": {
        const m = validate(UsageMessageSchema, body);
        const { base, facts } = envelope(() => m);
        const licenseId = m.licenseId ?? null;
        facts.usage = { tier: m.tier, licenseId };
        return {
          ok: true,
          table: USAGE,
          facts,
          row: {
            ...base,
            seq: m.seq,
            from_ledger_seq: m.fromLedgerSeq,
            to_ledger_seq: m.toLedgerSeq,
            requests: m.totals.requests,
            prompt_tokens: m.totals.promptTokens,
            completion_tokens: m.totals.completionTokens,
            by_model: JSON.stringify(m.byModel),
            tier: m.tier,
            license_id: licenseId,
          },
        };
      }
      case "audit": {
        const m = validate(AuditMessageSchema, body);
        const { base, facts } = envelope(() => m);
        const p = m.checkpoint.payload;
        const createdMs = Date.parse(p.createdAt);
        if (Number.isNaN(createdMs)) throw new Error(`checkpoint.payload.createdAt: ${JSON.stringify(p.createdAt)} is not a time`);
        // Verified with the key the checkpoint names. That key is the device's own when the device
        // id derives from it; the first such key seen is kept, and the audit flags any other.
        const valid = checkpointSignatureValid(m.checkpoint, p.devicePublicKey);
        const keyIsDeviceKey = deviceIdOf(p.devicePublicKey) === p.deviceId;
        if (valid && keyIsDeviceKey && p.deviceId === m.device) facts.publicKey = p.devicePublicKey;
        return {
          ok: true,
          table: AUDIT,
          facts,
          row: {
            ...base,
            payload_device_id: p.deviceId,
            public_key: p.devicePublicKey,
            signature_valid: valid ? 1 : 0,
            key_is_device_key: keyIsDeviceKey ? 1 : 0,
            ledger_seq: p.ledgerSeq,
            record_count: p.count,
            head_hash: p.headHash,
            created_ms: createdMs,
            checkpoint: JSON.stringify(m.checkpoint),
            license_id: m.licenseId ?? null,
          },
        };
      }
      case "cmd/ack": {
        const m = validate(CommandAckSchema, body);
        const { base, facts } = envelope(() => m);
        return {
          ok: true,
          table: ACKS,
          facts,
          row: { ...base, command_id: m.commandId, outcome: m.outcome, code: m.code ?? null, reason: m.reason ?? null, result: m.result === undefined ? null : JSON.stringify(m.result) },
        };
      }
      case "ota": {
        const m = validate(OtaMessageSchema, body);
        const { base, facts } = envelope(() => m);
        return { ok: true, table: OTA, facts, row: { ...base, event: m.event, detail: JSON.stringify(m.detail) } };
      }
    }
  } catch (err) {
    return malformed(`${topic.channel}: ${(err as Error).message}`, topic.device);
  }
}
