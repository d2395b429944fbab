/** Which receipts a committed batch gives: per device, usage and audit only, redeliveries included, split at the schema's limit. */
import { expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { MAX_RECEIPT_IDS, ReceiptMessageSchema } from "../../runtime/telemetry/messages.ts";
import { receiptsFor } from "../../runtime/fleet/collector/receipts.ts";
import { ingest } from "../../runtime/fleet/collector/ingest.ts";
import { deviceTopic, type DeviceChannel } from "../../runtime/telemetry/topics.ts";
import { FLEET, T0, ack, audit, checkpoint, deviceKey, health, state, usage } from "./fixtures.ts";

function accepted(messages: [DeviceChannel, { device: string }][]) {
  return messages.map(([channel, body]) => {
    const r = ingest({ topic: deviceTopic(FLEET, body.device, channel), payload: new TextEncoder().encode(JSON.stringify(body)), retain: false, receivedMs: T0 });
    if (!r.ok) throw new Error(r.reason);
    return r;
  });
}

test("one receipt per device naming its usage and audit ids in arrival order; state, health and acks get none", () => {
  const key = deviceKey();
  const a = key.deviceId;
  const [u1, u2, cp] = [usage(a, 1), usage(a, 2), audit(a, checkpoint(key, a, 10))];
  const b1 = usage("box-b", 1);
  const out = receiptsFor(accepted([["state", state(a, "online")], ["usage", u1], ["usage", b1], ["health", health(a)], ["audit", cp], ["cmd/ack", ack(a, "c-1")], ["usage", u2], ["usage", u1]]), T0);
  expect(out.map((r) => r.topic)).toEqual([deviceTopic(FLEET, a, "receipt"), deviceTopic(FLEET, "box-b", "receipt")]);
  const [ra, rb] = out.map((r) => JSON.parse(r.payload));
  expect(ra).toEqual({ v: 1, device: a, fleet: FLEET, ts: new Date(T0).toISOString(), ids: [u1.id, cp.id, u2.id, u1.id] });
  expect(rb.ids).toEqual([b1.id]);
  for (const r of [ra, rb]) expect(Value.Check(ReceiptMessageSchema, r)).toBe(true);
});

test("a large batch from one device is split into receipts within the schema's limit", () => {
  const sent = Array.from({ length: 2 * MAX_RECEIPT_IDS + 7 }, (_, i) => usage("box-big", i + 1));
  const out = receiptsFor(accepted(sent.map((m) => ["usage", m])), T0).map((r) => JSON.parse(r.payload));
  expect(out.map((r) => r.ids.length)).toEqual([MAX_RECEIPT_IDS, MAX_RECEIPT_IDS, 7]);
  expect(out.flatMap((r) => r.ids)).toEqual(sent.map((m) => m.id));
  expect(out.every((r) => Value.Check(ReceiptMessageSchema, r))).toBe(true);
  expect(receiptsFor([], T0)).toEqual([]);
});
