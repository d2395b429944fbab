import type { Db } from "./db.ts";
import { systemClock, type Clock } from "../clock.ts";
import { recordHash } from "../ledger/chain.ts";
import { latestCheckpointSeq, writeCheckpoint, type CheckpointSigner, type SignedCheckpoint } from "../ledger/checkpoints.ts";

export type UsageOutcome = "completed" | "aborted" | "failed";

export interface UsageRecord {
  requestId: string;
  keyId: string | null;
  model: string;
  endpoint: string;
  promptTokens: number;
  completionTokens: number;
  durationMs: number;
  outcome: UsageOutcome;
  createdAt: number;
}

export interface UsageLedgerOptions {
  /** Hash-chain each record (default). Off only to measure what the chain costs. */
  chain?: boolean;
  /** The device identity; without it no checkpoints are signed. */
  signer?: CheckpointSigner;
  /** Sign a checkpoint when a record's seq is a multiple of this (needs `signer`). */
  checkpointEvery?: number;
  clock?: Clock;
}

const ZERO = Buffer.alloc(32);

/** SQLite stores text as UTF-8, which has no lone surrogates: hash what will be read back. */
const wellFormed = (s: string) => (s.isWellFormed() ? s : s.toWellFormed());

/**
 * Append-only, hash-chained ledger of requests that reached the model (the database refuses
 * updates and deletes; the chain and signed checkpoints reveal edits made around that).
 */
export class UsageLedger {
  private readonly insert;
  private readonly appendIfHead;
  private readonly readHead;
  private readonly appendLocked;
  private readonly chain: boolean;
  private readonly signer: CheckpointSigner | undefined;
  private readonly checkpointEvery: number;
  private readonly clock: Clock;
  /** The last record as this object last appended or read it; another writer makes it stale. */
  private head: { seq: number; hash: Buffer | null } | null = null;
  /** Records this object appended since it was made (the idle memory trimmer watches it). */
  recorded = 0;

  constructor(
    private readonly db: Db,
    options: UsageLedgerOptions = {},
  ) {
    this.chain = options.chain ?? true;
    this.signer = options.signer;
    this.checkpointEvery = options.checkpointEvery ?? 1000;
    this.clock = options.clock ?? systemClock;
    if (!Number.isInteger(this.checkpointEvery) || this.checkpointEvery < 1) throw new RangeError("checkpointEvery must be a positive integer");
    const columns = "request_id, key_id, model, endpoint, prompt_tokens, completion_tokens, duration_ms, outcome, created_at";
    const values = "@requestId, @keyId, @model, @endpoint, @promptTokens, @completionTokens, @durationMs, @outcome, @createdAt";
    // The top seq is what AUTOINCREMENT would continue from: after a deleted tail the next record
    // leaves a gap, which verification reports, instead of reusing the deleted numbers.
    const top = `max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'usage_ledger'), 0), coalesce((SELECT max(seq) FROM usage_ledger), 0))`;
    const last = "(SELECT hash FROM usage_ledger ORDER BY seq DESC LIMIT 1)";
    this.insert = db.prepare(`INSERT INTO usage_ledger (${columns}) VALUES (${values})`);
    this.readHead = db.prepare(`SELECT ${top}, ${last}`).raw();
    // One statement holds the write lock from its start, so the head it checks is the one it
    // appends to; no other writer can slip in between.
    this.appendIfHead = db.prepare(
      `INSERT INTO usage_ledger (seq, ${columns}, prev_hash, hash)
       SELECT @seq, ${values}, @prevHash, @hash WHERE ${top} = @headSeq AND ${last} IS @headHash`,
    );
    this.appendLocked = db.transaction((fields: UsageRecord) => {
      const [seq, hash] = this.readHead.get() as [number, Buffer | null];
      const appended = this.append(fields, { seq, hash });
      if (!appended) throw new Error("the usage ledger's head changed under the write lock");
      return appended;
    });
  }

  /** Durable when it returns (synchronous=FULL): callers record before they acknowledge. */
  record(r: UsageRecord): number {
    this.recorded++;
    if (!this.chain) return Number(this.insert.run(r).lastInsertRowid);
    const fields = {
      ...r,
      requestId: wellFormed(r.requestId),
      keyId: r.keyId === null ? null : wellFormed(r.keyId),
      model: wellFormed(r.model),
      endpoint: wellFormed(r.endpoint),
    };
    // Optimistic: chain onto the cached head in one autocommit INSERT that applies only while that
    // is still the head (an explicit transaction costs tens of microseconds more per durable
    // commit). When another writer appended first, nothing was written: chain again under the
    // write lock, onto the head read there.
    const added = (this.head && this.append(fields, this.head)) ?? this.appendLocked.immediate(fields);
    const { signer, clock, db } = this;
    if (signer && added.seq % this.checkpointEvery === 0) db.transaction(() => writeCheckpoint(db, signer, clock, added)).immediate();
    return added.seq;
  }

  /** Appends onto `head` if it is still the head; the new head, or null when it was not. */
  private append(fields: UsageRecord, head: { seq: number; hash: Buffer | null }): { seq: number; hash: Buffer } | null {
    const seq = head.seq + 1;
    const prevHash = head.hash ?? ZERO;
    const hash = recordHash(prevHash, { ...fields, seq });
    const applied = this.appendIfHead.run({ ...fields, seq, prevHash, hash, headSeq: head.seq, headHash: head.hash }).changes === 1;
    const added = applied ? { seq, hash } : null;
    this.head = added;
    return added;
  }

  /**
   * Signs a checkpoint at the current head (e.g. at shutdown) unless one already covers it.
   * Returns null without a signer or when there is nothing new to cover.
   */
  checkpoint(): SignedCheckpoint | null {
    const signer = this.signer;
    if (!signer) return null;
    return this.db
      .transaction(() => {
        const head = this.db.prepare("SELECT seq, hash FROM usage_ledger ORDER BY seq DESC LIMIT 1").raw().get() as [number, Buffer | null] | undefined;
        if (!head || head[0] <= latestCheckpointSeq(this.db)) return null;
        return writeCheckpoint(this.db, signer, this.clock, { seq: head[0], hash: head[1] ?? ZERO });
      })
      .immediate();
  }

  byRequestId(requestId: string): UsageRecord | null {
    const row = this.db.prepare("SELECT * FROM usage_ledger WHERE request_id = ?").get(requestId) as LedgerRow | undefined;
    return row ? fromRow(row) : null;
  }

  all(): UsageRecord[] {
    return (this.db.prepare("SELECT * FROM usage_ledger ORDER BY seq").all() as LedgerRow[]).map(fromRow);
  }
}

/** A usage_ledger row as SQLite returns it (the chain's columns included). */
export type LedgerRow = {
  seq: number;
  request_id: string;
  key_id: string | null;
  model: string;
  endpoint: string;
  prompt_tokens: number;
  completion_tokens: number;
  duration_ms: number;
  outcome: UsageOutcome;
  created_at: number;
  prev_hash: Buffer | null;
  hash: Buffer | null;
};

function fromRow(r: LedgerRow): UsageRecord {
  return {
    requestId: r.request_id,
    keyId: r.key_id,
    model: r.model,
    endpoint: r.endpoint,
    promptTokens: r.prompt_tokens,
    completionTokens: r.completion_tokens,
    durationMs: r.duration_ms,
    outcome: r.outcome,
    createdAt: r.created_at,
  };
}
