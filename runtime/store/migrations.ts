import type { Db } from "./db.ts";
import { ledgerChainMigration } from "./migrations/003-ledger-chain.ts";
import { licenseStateMigration } from "./migrations/004-license-state.ts";
import { telemetryOutboxMigration } from "./migrations/005-telemetry-outbox.ts";
import { fleetCommandsMigration } from "./migrations/006-fleet-commands.ts";
import { adminMigration } from "./migrations/007-admin.ts";
import { telemetryReceiptsMigration } from "./migrations/008-telemetry-receipts.ts";
import { otaStateMigration } from "./migrations/009-ota-state.ts";

/** SQL to execute, or a function for steps SQL cannot express (e.g. hashing existing rows). */
export type Migration = string | ((db: Db) => void);

/**
 * Schema migrations, applied in order at start, each in its own transaction; `PRAGMA user_version`
 * records the last one applied. Never edit a released migration: append a new one. Large ones live
 * in migrations/, one file each.
 */
export const MIGRATIONS: readonly Migration[] = [
  // 1: API keys and the usage ledger.
  `
  CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    hash        BLOB NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
  ) STRICT;

  -- Append-only: one row per request that reached the model, finished or not.
  -- Licensing and telemetry read this ledger, so rows are never changed or removed.
  CREATE TABLE usage_ledger (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id        TEXT NOT NULL UNIQUE,
    key_id            TEXT REFERENCES api_keys(id),
    model             TEXT NOT NULL,
    endpoint          TEXT NOT NULL,
    prompt_tokens     INTEGER NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens INTEGER NOT NULL CHECK (completion_tokens >= 0),
    duration_ms       INTEGER NOT NULL CHECK (duration_ms >= 0),
    outcome           TEXT NOT NULL CHECK (outcome IN ('completed', 'aborted', 'failed')),
    created_at        INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX usage_ledger_key ON usage_ledger(key_id);

  CREATE TRIGGER usage_ledger_no_update BEFORE UPDATE ON usage_ledger
  BEGIN SELECT RAISE(ABORT, 'usage_ledger is append-only'); END;
  CREATE TRIGGER usage_ledger_no_delete BEFORE DELETE ON usage_ledger
  BEGIN SELECT RAISE(ABORT, 'usage_ledger is append-only'); END;
  `,
  // 2: calibrated llama.cpp settings per (board, kernel build, model), and cached model hashes.
  `
  CREATE TABLE calibrations (
    board        TEXT NOT NULL,
    kernel       TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    settings     TEXT NOT NULL,
    report       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (board, kernel, model_sha256)
  ) STRICT;

  -- Hashing a multi-GB model at every start would delay serving; a file's hash is reused while
  -- its size and modification time are unchanged.
  CREATE TABLE model_hashes (
    path      TEXT PRIMARY KEY,
    size      INTEGER NOT NULL,
    mtime_ms  INTEGER NOT NULL,
    sha256    TEXT NOT NULL
  ) STRICT;
  `,
  ledgerChainMigration,
  licenseStateMigration,
  telemetryOutboxMigration,
  fleetCommandsMigration,
  adminMigration,
  telemetryReceiptsMigration,
  otaStateMigration,
];
