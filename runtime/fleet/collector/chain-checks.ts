/**
 * Gaps and breaks in each device's ledger chain, as the fleet sees it: usage message sequence
 * gaps and duplicates, ledger ranges not reported or reported twice, checkpoints that do not
 * verify, name another device or come from a key other than the first one seen, and signed
 * checkpoints that contradict each other (the ledger going backwards, records appearing or
 * vanishing between checkpoints, two head hashes for one sequence number).
 *
 * Detection reads each device's whole history before `until` (a gap needs its neighbours);
 * problems are reported where they are found at or after `since`.
 */
import type { FleetStore } from "./store.ts";

export type ChainProblemKind =
  | "usage_seq_gap"
  | "usage_seq_duplicate"
  | "ledger_gap"
  | "ledger_overlap"
  | "ledger_range_invalid"
  | "checkpoint_forged"
  | "checkpoint_foreign"
  | "key_changed"
  | "checkpoint_backwards"
  | "count_backwards"
  | "count_mismatch"
  | "head_hash_conflict";

export interface ChainProblem {
  deviceId: string;
  kind: ChainProblemKind;
  /** The device's time of the message where the problem shows. */
  at: string;
  messageId: string;
  seq?: number;
  ledgerSeq?: number;
  detail: string;
}

const USAGE_SQL = `
SELECT device_id, message_id, seq, prev_seq, from_ledger_seq, to_ledger_seq, prev_to, ts_ms FROM (
  SELECT device_id, message_id, seq, from_ledger_seq, to_ledger_seq, ts_ms,
         LAG(seq) OVER w AS prev_seq, LAG(to_ledger_seq) OVER w AS prev_to
  FROM fleet_usage WHERE ts_ms < ?
  WINDOW w AS (PARTITION BY device_id ORDER BY seq, received_ms, message_id)
) x
WHERE ts_ms >= ? AND (
  (prev_seq IS NULL AND seq > 1)
  OR (prev_seq IS NOT NULL AND seq <> prev_seq + 1)
  OR (prev_seq IS NOT NULL AND from_ledger_seq <> prev_to)
  OR from_ledger_seq > to_ledger_seq
)
ORDER BY device_id, seq, message_id`;

/** Checkpoints that cannot be trusted on their face. */
const SUSPECT_SQL = `
SELECT c.device_id, c.message_id, c.ledger_seq, c.ts_ms, c.signature_valid, c.payload_device_id, c.key_is_device_key, c.public_key, d.public_key AS first_key
FROM fleet_checkpoints c LEFT JOIN fleet_devices d ON d.device_id = c.device_id
WHERE c.ts_ms >= ? AND c.ts_ms < ?
  AND (c.signature_valid = 0 OR c.payload_device_id <> c.device_id OR c.key_is_device_key = 0 OR d.public_key IS NULL OR c.public_key <> d.public_key)
ORDER BY c.device_id, c.ledger_seq, c.message_id`;

/** Trusted checkpoints (valid, own device, first key) with their neighbours by time and by sequence. */
const CONTINUITY_SQL = `
SELECT device_id, message_id, ledger_seq, record_count, head_hash, ts_ms, prev_seq_by_time, prev_seq, prev_count, prev_hash FROM (
  SELECT c.device_id, c.message_id, c.ledger_seq, c.record_count, c.head_hash, c.ts_ms,
         LAG(c.ledger_seq) OVER (PARTITION BY c.device_id ORDER BY c.created_ms, c.ledger_seq, c.message_id) AS prev_seq_by_time,
         LAG(c.ledger_seq) OVER s AS prev_seq, LAG(c.record_count) OVER s AS prev_count, LAG(c.head_hash) OVER s AS prev_hash
  FROM fleet_checkpoints c JOIN fleet_devices d ON d.device_id = c.device_id
  WHERE c.ts_ms < ? AND c.signature_valid = 1 AND c.payload_device_id = c.device_id AND c.public_key = d.public_key
  WINDOW s AS (PARTITION BY c.device_id ORDER BY c.ledger_seq, c.created_ms, c.message_id)
) x
WHERE ts_ms >= ?
ORDER BY device_id, ledger_seq, message_id`;

const iso = (ms: unknown) => new Date(Number(ms)).toISOString();
const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export async function chainProblems(store: FleetStore, since: number, until: number): Promise<ChainProblem[]> {
  const problems: ChainProblem[] = [];

  for (const r of await store.all<Record<string, unknown>>(USAGE_SQL, [until, since])) {
    const seq = n(r.seq)!;
    const prev = n(r.prev_seq);
    const from = n(r.from_ledger_seq)!;
    const to = n(r.to_ledger_seq)!;
    const prevTo = n(r.prev_to);
    const base = { deviceId: String(r.device_id), messageId: String(r.message_id), at: iso(r.ts_ms), seq };
    if (prev === null && seq > 1) problems.push({ ...base, kind: "usage_seq_gap", detail: `usage messages 1 to ${seq - 1} never arrived` });
    else if (prev !== null && seq === prev) problems.push({ ...base, kind: "usage_seq_duplicate", detail: `usage seq ${seq} arrived twice with different message ids` });
    else if (prev !== null && seq > prev + 1) problems.push({ ...base, kind: "usage_seq_gap", detail: `usage messages ${prev + 1}${seq - 1 > prev + 1 ? ` to ${seq - 1}` : ""} never arrived` });
    // Ledger ranges are compared between consecutive messages only; a sequence gap explains its own.
    if (prev !== null && seq === prev + 1 && prevTo !== null && from !== prevTo) {
      problems.push(
        from > prevTo
          ? { ...base, kind: "ledger_gap", ledgerSeq: from, detail: `ledger records ${prevTo + 1} to ${from} are in no usage message` }
          : { ...base, kind: "ledger_overlap", ledgerSeq: from, detail: `ledger records ${from + 1} to ${prevTo} are reported twice` },
      );
    }
    if (from > to) problems.push({ ...base, kind: "ledger_range_invalid", ledgerSeq: from, detail: `usage covers ledger records from ${from} to ${to}, an empty range backwards` });
  }

  for (const r of await store.all<Record<string, unknown>>(SUSPECT_SQL, [since, until])) {
    const base = { deviceId: String(r.device_id), messageId: String(r.message_id), at: iso(r.ts_ms), ledgerSeq: n(r.ledger_seq)! };
    if (n(r.signature_valid) === 0) problems.push({ ...base, kind: "checkpoint_forged", detail: `checkpoint at ledger seq ${base.ledgerSeq} has a signature that does not verify with the key it names` });
    else if (r.payload_device_id !== r.device_id) problems.push({ ...base, kind: "checkpoint_foreign", detail: `checkpoint signed for device ${String(r.payload_device_id)} arrived from ${base.deviceId}` });
    else if (n(r.key_is_device_key) === 0) {
      problems.push({ ...base, kind: "key_changed", detail: `checkpoint signed by key ${String(r.public_key)}, which is not the key device ${base.deviceId}'s id derives from` });
    } else if (r.first_key !== null && r.public_key !== r.first_key) {
      problems.push({ ...base, kind: "key_changed", detail: `checkpoint signed by key ${String(r.public_key)}, not the device's first key ${String(r.first_key)}` });
    }
  }

  for (const r of await store.all<Record<string, unknown>>(CONTINUITY_SQL, [until, since])) {
    const ledgerSeq = n(r.ledger_seq)!;
    const count = n(r.record_count)!;
    const byTime = n(r.prev_seq_by_time);
    const prevSeq = n(r.prev_seq);
    const prevCount = n(r.prev_count);
    const base = { deviceId: String(r.device_id), messageId: String(r.message_id), at: iso(r.ts_ms), ledgerSeq };
    if (byTime !== null && ledgerSeq < byTime) {
      problems.push({ ...base, kind: "checkpoint_backwards", detail: `checkpoint at ledger seq ${ledgerSeq} was signed after one at ${byTime}: the ledger went back` });
    }
    if (prevSeq !== null && ledgerSeq === prevSeq && r.head_hash !== r.prev_hash) {
      problems.push({ ...base, kind: "head_hash_conflict", detail: `two checkpoints at ledger seq ${ledgerSeq} name different head hashes` });
    } else if (prevSeq !== null && prevCount !== null && ledgerSeq > prevSeq) {
      if (count < prevCount) problems.push({ ...base, kind: "count_backwards", detail: `checkpoint at ledger seq ${ledgerSeq} counts ${count} records, fewer than ${prevCount} at ${prevSeq}` });
      else if (count - prevCount !== ledgerSeq - prevSeq) {
        problems.push({ ...base, kind: "count_mismatch", detail: `between ledger seq ${prevSeq} and ${ledgerSeq} the count went from ${prevCount} to ${count}: records are missing or added` });
      }
    } else if (prevSeq === null && count > ledgerSeq) {
      problems.push({ ...base, kind: "count_mismatch", detail: `checkpoint at ledger seq ${ledgerSeq} counts ${count} records, more than its sequence allows` });
    }
  }

  return problems.sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}
