/**
 * A batch of accepted messages → what one transaction writes: the message rows per table and one
 * merged upsert per device. Rows are sorted by key and devices by id, so two collectors writing
 * overlapping batches to one PostgreSQL take row locks in the same order and cannot deadlock.
 */
import type { DeviceFacts, Row } from "./ingest.ts";
import { MESSAGE_TABLES, type MessageTable } from "./schema.ts";

export interface BatchPlan {
  inserts: { table: MessageTable; rows: Row[] }[];
  devices: Row[];
  /** Messages in the batch (duplicates included). */
  messages: number;
}

const byKey = (a: Row, b: Row) => cmp(a.device_id as string, b.device_id as string) || cmp(a.message_id as string, b.message_id as string);
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** `accepted` in arrival order: the last state of a device in the batch is the one that applies. */
export function planBatch(accepted: readonly { table: MessageTable; row: Row; facts: DeviceFacts }[]): BatchPlan {
  const perTable = new Map<MessageTable, Row[]>();
  const devices = new Map<string, Row>();
  for (const { table, row, facts } of accepted) {
    let rows = perTable.get(table);
    if (!rows) perTable.set(table, (rows = []));
    rows.push(row);
    mergeFacts(devices, facts);
  }
  return {
    inserts: MESSAGE_TABLES.filter((t) => perTable.has(t)).map((table) => ({ table, rows: perTable.get(table)!.sort(byKey) })),
    devices: [...devices.values()].sort((a, b) => cmp(a.device_id as string, b.device_id as string)),
    messages: accepted.length,
  };
}

function mergeFacts(devices: Map<string, Row>, f: DeviceFacts): void {
  let d = devices.get(f.deviceId);
  if (!d) {
    d = {
      device_id: f.deviceId,
      fleet: f.fleet,
      first_seen_ms: f.seenMs,
      last_seen_ms: f.seenMs,
      online: null,
      state_received_ms: null,
      state_ts_ms: null,
      version: null,
      tier: null,
      license_id: null,
      models: null,
      public_key: null,
    };
    devices.set(f.deviceId, d);
  }
  d.fleet = f.fleet;
  d.first_seen_ms = Math.min(d.first_seen_ms as number, f.seenMs);
  d.last_seen_ms = Math.max(d.last_seen_ms as number, f.seenMs);
  if (f.state) {
    Object.assign(d, {
      online: f.state.online,
      state_received_ms: f.state.receivedMs,
      state_ts_ms: f.state.tsMs,
      version: f.state.version,
      tier: f.state.tier,
      license_id: f.state.licenseId,
      models: f.state.models,
    });
  } else if (f.usage && d.state_received_ms === null) {
    // Without a state in this batch, usage tells the tier and license (applied only to a device
    // that never sent a state: see upsertDeviceSql).
    d.tier = f.usage.tier;
    d.license_id = f.usage.licenseId;
  }
  if (f.publicKey && d.public_key === null) d.public_key = f.publicKey;
}
