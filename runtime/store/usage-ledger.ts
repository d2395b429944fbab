import type { Db } from "./db.ts";

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

/** Append-only ledger of requests that reached the model (the database refuses updates and deletes). */
export class UsageLedger {
  private readonly insert;

  constructor(private readonly db: Db) {
    this.insert = db.prepare(
      `INSERT INTO usage_ledger (request_id, key_id, model, endpoint, prompt_tokens, completion_tokens,
                                 duration_ms, outcome, created_at)
       VALUES (@requestId, @keyId, @model, @endpoint, @promptTokens, @completionTokens, @durationMs, @outcome, @createdAt)`,
    );
  }

  /** Durable when it returns (synchronous=FULL): callers record before they acknowledge. */
  record(r: UsageRecord): number {
    return Number(this.insert.run(r).lastInsertRowid);
  }

  byRequestId(requestId: string): UsageRecord | null {
    const row = this.db.prepare("SELECT * FROM usage_ledger WHERE request_id = ?").get(requestId) as LedgerRow | undefined;
    return row ? fromRow(row) : null;
  }

  all(): UsageRecord[] {
    return (this.db.prepare("SELECT * FROM usage_ledger ORDER BY seq").all() as LedgerRow[]).map(fromRow);
  }
}

type LedgerRow = {
  request_id: string;
  key_id: string | null;
  model: string;
  endpoint: string;
  prompt_tokens: number;
  completion_tokens: number;
  duration_ms: number;
  outcome: UsageOutcome;
  created_at: number;
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
