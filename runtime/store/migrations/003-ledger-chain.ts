import type { Db } from "../db.ts";

/**
 * 3: the usage ledger becomes a hash chain (each record carries its predecessor's hash and its
 * own), and signed checkpoints of it are kept. See store/ledger-chain.ts for the hash.
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
  CREATE TRIGGER ledger_checkpoints_no_update BEFORE UPDATE ON ledger_checkpoints
  BEGIN SELECT RAISE(ABORT, 'ledger_checkpoints is append-only'); END;
  CREATE TRIGGER ledger_checkpoints_no_delete BEFORE DELETE ON ledger_checkpoints
  BEGIN SELECT RAISE(ABORT, 'ledger_checkpoints is append-only'); END;
  `);
}
