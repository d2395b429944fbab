/**
 * Signed checkpoints of the usage ledger: the device key signs the head hash, the record count and
 * the cumulative totals at a sequence number. A chain rewritten with recomputed hashes is only
 * caught here, since the attacker cannot sign a checkpoint for the new head.
 */
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type { Db } from "../store/db.ts";
import type { Clock } from "../clock.ts";
import type { DeviceIdentity } from "../identity/device-key.ts";
import { canonicalBytes, canonicalJson } from "../crypto/canonical.ts";
import { verifyEd25519 } from "../crypto/ed25519.ts";
import { HashHex, toHex } from "./chain.ts";
import { LedgerTotalsSchema, totalsOfRange } from "./totals.ts";

export const CheckpointPayloadSchema = Type.Object(
  {
    deviceId: Type.String(),
    devicePublicKey: Type.String(),
    ledgerSeq: Type.Integer({ minimum: 0, description: "The last record covered" }),
    count: Type.Integer({ minimum: 0, description: "Records covered: seq 1 to ledgerSeq" }),
    headHash: HashHex,
    totals: LedgerTotalsSchema,
    createdAt: Type.String({ description: "ISO 8601" }),
  },
  { additionalProperties: false },
);
export type CheckpointPayload = Static<typeof CheckpointPayloadSchema>;

export const SignedCheckpointSchema = Type.Object(
  { payload: CheckpointPayloadSchema, signature: Type.String({ description: "Ed25519 over the payload's canonical JSON, base64" }) },
  { additionalProperties: false },
);
export type SignedCheckpoint = Static<typeof SignedCheckpointSchema>;

export type CheckpointSigner = Pick<DeviceIdentity, "deviceId" | "publicKey" | "sign">;

export function checkpointSignatureValid(cp: SignedCheckpoint, publicKey: string): boolean {
  return verifyEd25519(publicKey, canonicalBytes(cp.payload), cp.signature);
}

/** A stored checkpoint whose payload does not parse or fit the schema is returned as `malformed`. */
export type StoredCheckpoint = { id: number; ledgerSeq: number } & ({ checkpoint: SignedCheckpoint } | { malformed: string });

const SELECT = "SELECT id, ledger_seq, payload, signature FROM ledger_checkpoints";

function parseStored([id, ledgerSeq, payload, signature]: [number, number, string, string]): StoredCheckpoint {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return { id, ledgerSeq, malformed: "its payload is not JSON" };
  }
  const checkpoint = { payload: parsed, signature };
  if (!Value.Check(SignedCheckpointSchema, checkpoint)) return { id, ledgerSeq, malformed: "its payload does not fit the checkpoint schema" };
  return { id, ledgerSeq, checkpoint };
}

/** Stored checkpoints covering `fromSeq <= ledger_seq <= toSeq`, in ledger order. */
export function readCheckpoints(db: Db, fromSeq = 0, toSeq = Number.MAX_SAFE_INTEGER): StoredCheckpoint[] {
  const rows = db.prepare(`${SELECT} WHERE ledger_seq BETWEEN ? AND ? ORDER BY ledger_seq, id`).raw().all(fromSeq, toSeq) as [number, number, string, string][];
  return rows.map(parseStored);
}

/**
 * Signs and stores a checkpoint at `head`. Call inside the transaction that holds the write lock.
 * Totals continue from the latest checkpoint this device signed, so each checkpoint aggregates only
 * the records since; an unsigned or foreign latest checkpoint is not trusted and totals start over.
 */
export function writeCheckpoint(db: Db, signer: CheckpointSigner, clock: Clock, head: { seq: number; hash: Uint8Array }): SignedCheckpoint {
  const last = readLatest(db, signer.publicKey, head.seq);
  const base = last ? { seq: last.ledgerSeq, count: last.count, totals: last.totals } : { seq: 0, count: 0, totals: undefined };
  const added = db.prepare("SELECT count(*) FROM usage_ledger WHERE seq > ? AND seq <= ?").pluck().get(base.seq, head.seq) as number;
  const now = clock.now();
  const payload: CheckpointPayload = {
    deviceId: signer.deviceId,
    devicePublicKey: signer.publicKey,
    ledgerSeq: head.seq,
    count: base.count + added,
    headHash: toHex(head.hash),
    totals: totalsOfRange(db, base.seq, head.seq, base.totals),
    createdAt: new Date(now).toISOString(),
  };
  const signature = signer.sign(canonicalBytes(payload));
  db.prepare("INSERT INTO ledger_checkpoints (ledger_seq, payload, signature, created_at) VALUES (?, ?, ?, ?)").run(head.seq, canonicalJson(payload), signature, now);
  return { payload, signature };
}

/** The latest checkpoint at or before `seq` if this key signed it, else null. */
function readLatest(db: Db, publicKey: string, seq: number): CheckpointPayload | null {
  const row = db.prepare(`${SELECT} WHERE ledger_seq <= ? ORDER BY ledger_seq DESC, id DESC LIMIT 1`).raw().get(seq) as [number, number, string, string] | undefined;
  const latest = row && parseStored(row);
  if (!latest || !("checkpoint" in latest)) return null;
  const cp = latest.checkpoint;
  return cp.payload.devicePublicKey === publicKey && checkpointSignatureValid(cp, publicKey) ? cp.payload : null;
}

/** The ledger_seq of the latest checkpoint, or 0 when there is none. */
export function latestCheckpointSeq(db: Db): number {
  return db.prepare("SELECT coalesce(max(ledger_seq), 0) FROM ledger_checkpoints").pluck().get() as number;
}
