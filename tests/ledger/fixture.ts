/**
 * Ledgers in real SQLite files for the ledger tests, and an attacker's tools: the database opened
 * directly, append-only triggers dropped, rows changed with plain SQL.
 */
import Database from "better-sqlite3";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { openDatabase, DB_FILE, type Db } from "../../runtime/store/db.ts";
import { UsageLedger, type LedgerRow, type UsageLedgerOptions, type UsageRecord } from "../../runtime/store/usage-ledger.ts";
import { ApiKeyStore } from "../../runtime/store/api-keys.ts";
import { generateEd25519, signerFromPem } from "../../runtime/crypto/ed25519.ts";
import { deviceIdOf, type DeviceIdentity } from "../../runtime/identity/device-key.ts";
import { tempDirs } from "../helpers/temp-dirs.ts";

export const T0 = Date.parse("2026-03-01T00:00:00Z");
export const HOUR = 3_600_000;
export const clock = { now: () => T0 + 1000 * HOUR, monotonic: () => 0 };

const temp = tempDirs("hearth-ledger-");
/** A temp dir, removed by removeTempDirs (each test file calls it in afterAll). */
export const tmp = (): string => temp.make();
export const removeTempDirs = temp.removeAll;

/** A device identity that lives only in memory. */
export function testIdentity(): DeviceIdentity {
  const signer = signerFromPem(generateEd25519().privateKeyPem);
  return { ...signer, deviceId: deviceIdOf(signer.publicKey), created: true };
}

/** Record i: one of two keys and two models, tokens varying with i, one hour apart from T0. */
export function usage(i: number, keys: (string | null)[] = [null]): UsageRecord {
  return {
    requestId: `chatcmpl-${String(i).padStart(8, "0")}`,
    keyId: keys[i % keys.length] ?? null,
    model: i % 3 === 0 ? "demo-small" : "demo-tiny",
    endpoint: "chat.completions",
    promptTokens: 10 + (i % 17),
    completionTokens: 1 + (i % 5),
    durationMs: 20 + (i % 7),
    outcome: i % 11 === 0 ? "aborted" : "completed",
    createdAt: T0 + i * HOUR,
  };
}

export interface TestLedger {
  dataDir: string;
  db: Db;
  ledger: UsageLedger;
  keys: string[];
}

/** A data dir with two API keys and `n` records (1..n), written through UsageLedger in one transaction. */
export function makeLedger(n: number, options: UsageLedgerOptions = {}, dataDir = tmp()): TestLedger {
  const db = openDatabase(dataDir);
  const store = new ApiKeyStore(db, clock);
  const keys = [store.create("front desk").id, store.create("billing").id];
  const ledger = new UsageLedger(db, { clock, ...options });
  append(db, ledger, 1, n, keys);
  return { dataDir, db, ledger, keys };
}

export function append(db: Db, ledger: UsageLedger, from: number, to: number, keys: string[]): void {
  db.transaction(() => {
    for (let i = from; i <= to; i++) ledger.record(usage(i, keys));
  })();
}

type Raw = Database.Database;

/** Opens the database file as an attacker would: no runtime, append-only triggers dropped. */
export function tamper(dataDir: string, change: (db: Raw) => void): void {
  const db = new Database(join(dataDir, DB_FILE));
  db.exec("DROP TRIGGER IF EXISTS usage_ledger_no_update; DROP TRIGGER IF EXISTS usage_ledger_no_delete;");
  db.exec("DROP TRIGGER IF EXISTS ledger_checkpoints_no_update; DROP TRIGGER IF EXISTS ledger_checkpoints_no_delete;");
  change(db);
  db.close();
}

/** A row as the chain writes it: both hashes set (tests tamper with rows in this shape). */
export type Row = Omit<LedgerRow, "outcome" | "prev_hash" | "hash"> & { outcome: string; prev_hash: Buffer; hash: Buffer };

export const rowAt = (db: Raw | Db, seq: number) => db.prepare("SELECT * FROM usage_ledger WHERE seq = ?").get(seq) as Row;

/** The chain's hash written out independently of runtime/ledger, from the documented definition. */
export function specHash(prev: Buffer, r: Omit<Row, "prev_hash" | "hash">): Buffer {
  const fields = [r.seq, r.request_id, r.key_id, r.model, r.endpoint, r.prompt_tokens, r.completion_tokens, r.duration_ms, r.outcome, r.created_at];
  return createHash("sha256").update(Buffer.concat([prev, Buffer.from(JSON.stringify(fields), "utf8")])).digest();
}

const COLUMNS = ["request_id", "key_id", "model", "endpoint", "prompt_tokens", "completion_tokens", "duration_ms", "outcome", "created_at", "prev_hash", "hash"] as const;

/** Writes `values` into the row at `seq` (every column but seq). */
export function overwrite(db: Raw, seq: number, values: Omit<Row, "seq">): void {
  db.prepare(`UPDATE usage_ledger SET ${COLUMNS.map((c) => `${c} = @${c}`).join(", ")} WHERE seq = @seq`).run({ ...values, seq });
}

/** Shifts rows with seq >= from by `by` (negative to close a gap), keeping their other columns. */
export function renumber(db: Raw, from: number, by: number): void {
  db.prepare("UPDATE usage_ledger SET seq = -seq WHERE seq >= ?").run(from);
  db.prepare("UPDATE usage_ledger SET seq = -seq + ? WHERE seq < 0").run(by);
}

export function insertRow(db: Raw, row: Row): void {
  db.prepare(`INSERT INTO usage_ledger (seq, ${COLUMNS.join(", ")}) VALUES (@seq, ${COLUMNS.map((c) => `@${c}`).join(", ")})`).run(row);
}
