import { describe, expect, test } from "bun:test";
import { ingest, type Ingested } from "../../runtime/fleet/collector/ingest.ts";
import { planBatch } from "../../runtime/fleet/collector/plan.ts";
import { deviceTopic, groupCommandTopic } from "../../runtime/telemetry/topics.ts";
import { FLEET, T0, audit, checkpoint, deviceKey, health, state, usage } from "./fixtures.ts";

const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const at = (device: string, channel: Parameters<typeof deviceTopic>[2], payload: unknown, receivedMs = T0 + 60_000) =>
  ingest({ topic: deviceTopic(FLEET, device, channel), payload: payload instanceof Uint8Array ? payload : enc(payload), retain: false, receivedMs });

function refused(r: Ingested): { kind: string; reason: string } {
  if (r.ok) throw new Error("expected a refusal");
  return r;
}

describe("ingest", () => {
  test("a usage message becomes a row keyed by device and message id", () => {
    const m = usage("box-1", 3, { prompt: 7, completion: 9, requests: 2 });
    const r = at("box-1", "usage", m);
    if (!r.ok) throw new Error(r.reason);
    expect(r.table.name).toBe("fleet_usage");
    expect(r.row).toMatchObject({ device_id: "box-1", message_id: m.id, seq: 3, from_ledger_seq: 20, to_ledger_seq: 30, requests: 2, prompt_tokens: 7, completion_tokens: 9, tier: "smb", license_id: "LIC-A" });
    expect(r.facts.usage).toEqual({ tier: "smb", licenseId: "LIC-A" });
  });

  test("malformed payloads are refused with a reason, never thrown", () => {
    expect(refused(at("box-1", "usage", "{not json")).reason).toContain("not UTF-8 JSON");
    expect(refused(at("box-1", "usage", new Uint8Array([0xff, 0xfe, 0x7b]))).reason).toContain("not UTF-8 JSON");
    expect(refused(at("box-1", "usage", { ...usage("box-1", 1), seq: 0 })).reason).toContain("seq");
    expect(refused(at("box-1", "usage", { ...usage("box-1", 1), prompt: "hello" })).reason).toContain("not a known field");
    expect(refused(at("box-1", "usage", null)).kind).toBe("malformed");
    expect(refused(at("box-1", "usage", [1, 2])).kind).toBe("malformed");
    expect(refused(at("box-1", "health", { ...health("box-1"), cpuLoadPercent: -1 })).reason).toContain("cpuLoadPercent");
    expect(refused(at("box-1", "state", { ...state("box-1", "online"), state: "sleeping" })).reason).toContain("state");
    expect(refused(at("box-1", "usage", { ...usage("box-1", 1), ts: "yesterday-ish, around noon" })).reason).toContain("not a time");
  });

  test("a payload must name the device and fleet of its topic", () => {
    expect(refused(at("box-2", "usage", usage("box-1", 1))).reason).toContain("topic acme/box-2");
    expect(refused(at("box-1", "usage", { ...usage("box-1", 1), fleet: "other" })).kind).toBe("malformed");
  });

  test("commands, foreign topics and cleared retained messages are ignored, not malformed", () => {
    expect(refused(at("box-1", "cmd", { anything: 1 })).kind).toBe("ignored");
    expect(refused(at("box-1", "state", new Uint8Array())).kind).toBe("ignored");
    expect(refused(ingest({ topic: groupCommandTopic(FLEET, "clinics"), payload: enc({}), retain: false, receivedMs: T0 })).kind).toBe("ignored");
    expect(refused(ingest({ topic: "hearth/v1/acme/box-1/bogus", payload: enc({}), retain: false, receivedMs: T0 })).kind).toBe("ignored");
  });

  test("checkpoints are verified with the key they name; only a valid own one pins the device key", () => {
    const key = deviceKey();
    const box = key.deviceId;
    const good = at(box, "audit", audit(box, checkpoint(key, box, 1000)));
    if (!good.ok) throw new Error(good.reason);
    expect(good.row).toMatchObject({ signature_valid: 1, key_is_device_key: 1 });
    expect(good.facts.publicKey).toBe(key.publicKey);

    const forged = at(box, "audit", audit(box, checkpoint(key, box, 2000, { forge: true })));
    if (!forged.ok) throw new Error(forged.reason);
    expect(forged.row.signature_valid).toBe(0);
    expect(forged.facts.publicKey).toBeUndefined();

    // Validly signed, but by a key this device's id does not derive from.
    const impostor = at(box, "audit", audit(box, checkpoint(deviceKey(), box, 3000)));
    if (!impostor.ok) throw new Error(impostor.reason);
    expect(impostor.row).toMatchObject({ signature_valid: 1, key_is_device_key: 0 });
    expect(impostor.facts.publicKey).toBeUndefined();

    const other = deviceKey();
    const foreign = at(box, "audit", audit(box, checkpoint(other, other.deviceId, 1000)));
    if (!foreign.ok) throw new Error(foreign.reason);
    expect(foreign.row).toMatchObject({ signature_valid: 1, payload_device_id: other.deviceId });
    expect(foreign.facts.publicKey).toBeUndefined();
  });

  test("a batch merges per device: the last state applies, seen times never pass arrival", () => {
    const received = T0 + 5000;
    const early = at("box-1", "state", state("box-1", "online", { ts: T0 }), received);
    const late = at("box-1", "state", state("box-1", "offline", { ts: T0 + 1000 }), received + 1);
    const future = at("box-1", "health", health("box-1", { ts: T0 + 10 * 3600_000 }), received + 2);
    const plan = planBatch([early, late, future].map((r) => (r.ok ? r : (() => { throw new Error(r.reason); })())));
    expect(plan.devices).toHaveLength(1);
    expect(plan.devices[0]).toMatchObject({ device_id: "box-1", online: 0, first_seen_ms: T0, last_seen_ms: received + 2, state_received_ms: received + 1 });
    expect(plan.inserts.map((i) => i.table.name)).toEqual(["fleet_state", "fleet_health"]);
  });
});
