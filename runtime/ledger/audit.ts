/**
 * Audit reports: what the box served in a period, signed by its device key, anchored in the hash
 * chain (first record's prev_hash, first and last hash) and carrying the signed checkpoints of the
 * span, so the vendor can verify them offline and, given the export, every record in between.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import type { Db } from "../store/db.ts";
import type { Clock } from "../clock.ts";
import { canonicalBytes } from "../crypto/canonical.ts";
import { HashHex, toHex, type LedgerEntry } from "./chain.ts";
import { readCheckpoints, SignedCheckpointSchema, type CheckpointSigner } from "./checkpoints.ts";
import { LedgerTotalsSchema, totalsOfRange, EMPTY_TOTALS } from "./totals.ts";

export const AUDIT_FORMAT_VERSION = 1;

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const AuditReportSchema = Type.Object(
  {
    formatVersion: Type.Literal(AUDIT_FORMAT_VERSION),
    deviceId: Type.String(),
    devicePublicKey: Type.String({ description: "Base64 of the raw Ed25519 public key that signs the report" }),
    licenseId: Nullable(Type.String()),
    period: Type.Object({ since: Type.String(), until: Type.String({ description: "Exclusive" }) }, { additionalProperties: false }),
    records: Type.Object(
      {
        count: Type.Integer({ minimum: 0 }),
        firstSeq: Nullable(Type.Integer({ minimum: 1 })),
        lastSeq: Nullable(Type.Integer({ minimum: 1 })),
        firstPrevHash: Nullable(HashHex),
        firstHash: Nullable(HashHex),
        lastHash: Nullable(HashHex),
      },
      { additionalProperties: false },
    ),
    totals: LedgerTotalsSchema,
    checkpoints: Type.Array(SignedCheckpointSchema),
    generatedAt: Type.String(),
  },
  { additionalProperties: false },
);
export type AuditReport = Static<typeof AuditReportSchema>;

export const SignedAuditReportSchema = Type.Object(
  { report: AuditReportSchema, signature: Type.String({ description: "Ed25519 over the report's canonical JSON, base64" }) },
  { additionalProperties: false },
);
export type SignedAuditReport = Static<typeof SignedAuditReportSchema>;

export interface AuditOptions {
  signer: CheckpointSigner;
  licenseId: string | null;
  /** Milliseconds since the epoch; the period is since <= created_at < until. */
  since: number;
  until: number;
  clock: Clock;
}

/**
 * The span of records in the period: from the first record written in it to the last. Records are
 * timestamped as they are written, so created_at rises with seq unless the wall clock was set back;
 * the span stays one unbroken piece of the chain either way.
 */
export function periodSpan(db: Db, since: number, until: number): { firstSeq: number; lastSeq: number } | null {
  const [firstSeq, lastSeq] = db.prepare("SELECT min(seq), max(seq) FROM usage_ledger WHERE created_at >= ? AND created_at < ?").raw().get(since, until) as [
    number | null,
    number | null,
  ];
  return firstSeq === null || lastSeq === null ? null : { firstSeq, lastSeq };
}

export function buildAuditReport(db: Db, opts: AuditOptions): SignedAuditReport {
  const report = db.transaction((): AuditReport => {
    const span = periodSpan(db, opts.since, opts.until);
    const base = {
      formatVersion: AUDIT_FORMAT_VERSION,
      deviceId: opts.signer.deviceId,
      devicePublicKey: opts.signer.publicKey,
      licenseId: opts.licenseId,
      period: { since: new Date(opts.since).toISOString(), until: new Date(opts.until).toISOString() },
      generatedAt: new Date(opts.clock.now()).toISOString(),
    } as const;
    if (!span) {
      const records = { count: 0, firstSeq: null, lastSeq: null, firstPrevHash: null, firstHash: null, lastHash: null };
      return { ...base, records, totals: EMPTY_TOTALS, checkpoints: [] };
    }
    const hashes = db.prepare("SELECT prev_hash, hash FROM usage_ledger WHERE seq = ?").raw();
    const [firstPrev, firstHash] = hashes.get(span.firstSeq) as [Buffer | null, Buffer | null];
    const [, lastHash] = hashes.get(span.lastSeq) as [Buffer | null, Buffer | null];
    const hex = (b: Buffer | null) => (b ? toHex(b) : null);
    const count = db.prepare("SELECT count(*) FROM usage_ledger WHERE seq BETWEEN ? AND ?").pluck().get(span.firstSeq, span.lastSeq) as number;
    return {
      ...base,
      records: { count, ...span, firstPrevHash: hex(firstPrev), firstHash: hex(firstHash), lastHash: hex(lastHash) },
      totals: totalsOfRange(db, span.firstSeq - 1, span.lastSeq),
      // Every stored checkpoint of the span, unchecked: a forged one is evidence for the verifier.
      checkpoints: readCheckpoints(db, span.firstSeq, span.lastSeq).flatMap((c) => ("checkpoint" in c ? [c.checkpoint] : [])),
    };
  })();
  return { report, signature: opts.signer.sign(canonicalBytes(report)) };
}

/** The records of `firstSeq..lastSeq` with their hashes, in seq order, for the JSON Lines export. */
export function* exportEntries(db: Db, firstSeq: number, lastSeq: number): Generator<LedgerEntry> {
  const page = db
    .prepare(
      `SELECT seq, request_id, key_id, model, endpoint, prompt_tokens, completion_tokens, duration_ms, outcome, created_at, prev_hash, hash
       FROM usage_ledger WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 4096`,
    )
    .raw();
  const hex = (b: Buffer | null) => (b ? toHex(b) : "");
  for (let after = firstSeq - 1; ; ) {
    const rows = page.all(after, lastSeq) as [number, string, string | null, string, string, number, number, number, LedgerEntry["outcome"], number, Buffer | null, Buffer | null][];
    if (rows.length === 0) return;
    for (const [seq, requestId, keyId, model, endpoint, promptTokens, completionTokens, durationMs, outcome, createdAt, prev, hash] of rows) {
      yield { seq, requestId, keyId, model, endpoint, promptTokens, completionTokens, durationMs, outcome, createdAt, prevHash: hex(prev), hash: hex(hash) };
    }
    after = rows[rows.length - 1]![0];
  }
}
