import type { Db } from "../db.ts";
import { recordHash, ZERO_HASH } from "../../ledger/chain.ts";
import type { UsageOutcome } from "../usage-ledger.ts";

/**
 * 3: the usage ledger becomes a hash chain (each record carries its predecessor's hash and its
 * own; ledger/chain.ts defines the hash), and signed checkpoints of it are kept. Records written
 * before this migration are chained here, in seq order, so the chain starts at the first record.
 */
export function ledgerChainMigration(db: Db): void {
  db.exec(`
  ALTER TABLE usage_ledger ADD COLUMN prev_hash BLOB;
  ALTER TABLE usage_ledger ADD COLUMN hash BLOB;

  CREATE TABLE ledger_checkpoints (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ledger_seq  INTEGER NOT NULL,  -- the last usage_ledger.seq it covers
    payload     TEXT NOT NULL,     -- canonical JSON of what is signed
    signature   TEXT NOT NULL,     -- the device key's Ed25519 signature over payload
    created_at  INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX ledger_checkpoints_seq ON ledger_checkpoints(ledger_seq);
  CREATE TRIGGER ledger_checkpoints_no_update BEFORE UPDATE ON ledger_checkpoints
  BEGIN SELECT RAISE(ABORT, 'ledger_checkpoints is append-only'); END;
  CREATE TRIGGER ledger_checkpoints_no_delete BEFORE DELETE ON ledger_checkpoints
  BEGIN SELECT RAISE(ABORT, 'ledger_checkpoints is append-only'); END;

  -- The append-only trigger would refuse the backfill; it is back before this transaction commits.
  DROP TRIGGER usage_ledger_no_update;
  `);
  const rows = db
    .prepare(
      `SELECT seq, request_id, key_id, model, endpoint, prompt_tokens, completion_tokens, duration_ms, outcome, created_at
       FROM usage_ledger ORDER BY seq`,
    )
    .raw()
    .all() as [number, string, string | null, string, string, number, number, number, UsageOutcome, number][];
  const update = db.prepare("UPDATE usage_ledger SET prev_hash = ?, hash = ? WHERE seq = ?");
  let prev: Buffer = Buffer.from(ZERO_HASH);
  for (const [seq, requestId, keyId, model, endpoint, promptTokens, completionTokens, durationMs, outcome, createdAt] of rows) {
    const hash = recordHash(prev, { seq, requestId, keyId, model, endpoint, promptTokens, completionTokens, durationMs, outcome, createdAt });
    update.run(prev, hash, seq);
    prev = hash;
  }
  db.exec(`
  CREATE TRIGGER usage_ledger_no_update BEFORE UPDATE ON usage_ledger
  BEGIN SELECT RAISE(ABORT, 'usage_ledger is append-only'); END;
  `);
}
