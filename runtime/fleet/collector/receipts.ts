/**
 * Delivery receipts, the collector's half: after a group commit, every device whose usage or audit
 * messages were in it (stored now, or found stored already: a redelivery is receipted too) gets
 * receipts naming them on its /receipt topic (QoS 1, not retained). The box keeps those messages
 * in its outbox until then, so a message the broker acknowledged and then lost in a crash is sent
 * again. A receipt that gets lost only means a resend, stored once and receipted again.
 * Malformed messages are never receipted: the box keeps them for a collector that understands them.
 */
import { MAX_RECEIPT_IDS, type ReceiptMessage } from "../../telemetry/messages.ts";
import { deviceTopic } from "../../telemetry/topics.ts";
import type { Row } from "./ingest.ts";
import { AUDIT, USAGE, type MessageTable } from "./schema.ts";

export interface OutgoingReceipt {
  topic: string;
  payload: string;
}

/** Receipts for the accepted messages of one committed batch, per device in batch order, ids in arrival order. */
export function receiptsFor(accepted: readonly { table: MessageTable; row: Row }[], nowMs: number): OutgoingReceipt[] {
  const byDevice = new Map<string, { fleet: string; device: string; ids: string[] }>();
  for (const { table, row } of accepted) {
    if (table !== USAGE && table !== AUDIT) continue;
    const fleet = row.fleet as string;
    const device = row.device_id as string;
    const key = `${fleet}/${device}`;
    let entry = byDevice.get(key);
    if (!entry) byDevice.set(key, (entry = { fleet, device, ids: [] }));
    entry.ids.push(row.message_id as string);
  }
  const ts = new Date(nowMs).toISOString();
  const out: OutgoingReceipt[] = [];
  for (const { fleet, device, ids } of byDevice.values()) {
    for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) {
      const receipt: ReceiptMessage = { v: 1, device, fleet, ts, ids: ids.slice(i, i + MAX_RECEIPT_IDS) };
      out.push({ topic: deviceTopic(fleet, device, "receipt"), payload: JSON.stringify(receipt) });
    }
  }
  return out;
}
