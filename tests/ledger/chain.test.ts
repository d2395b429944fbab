import { afterAll, describe, expect, test } from "bun:test";
import Database from "better-sqlite3";
import { join } from "node:path";
import { openDatabase, DB_FILE } from "../../runtime/store/db.ts";
import { MIGRATIONS } from "../../runtime/store/migrations.ts";
import { UsageLedger } from "../../runtime/store/usage-ledger.ts";
import { verifyLedger } from "../../runtime/ledger/verify.ts";
import { exportEntries } from "../../runtime/ledger/audit.ts";
import { append, clock, makeLedger, rowAt, specHash, tmp, usage, removeTempDirs } from "./fixture.ts";

afterAll(removeTempDirs);

const ZERO: Buffer = Buffer.alloc(32);

describe("usage ledger hash chain", () => {
  test("each record carries its predecessor's hash and its own, as the chain defines them", () => {
    const { db } = makeLedger(5);
    let prev = ZERO;
    for (let seq = 1; seq <= 5; seq++) {
      const row = rowAt(db, seq);
      expect(row.prev_hash.equals(prev)).toBe(true);
      expect(row.hash.equals(specHash(prev, row))).toBe(true);
      prev = row.hash;
    }
    expect(verifyLedger(db)).toMatchObject({ ok: true, records: 5, lastSeq: 5, headHash: prev.toString("hex"), problem: null });
    db.close();
  });

  test("the chain continues across restarts and across writers on the same file", () => {
    const { dataDir, db, keys } = makeLedger(3);
    db.close();

    const reopened = openDatabase(dataDir);
    const other = new Database(join(dataDir, DB_FILE)); // a second connection, e.g. another process
    other.pragma("busy_timeout = 5000");
    const first = new UsageLedger(reopened, { clock });
    const second = new UsageLedger(other, { clock });
    const third = new UsageLedger(reopened, { clock }); // a second ledger object on one connection
    expect(first.record(usage(4, keys))).toBe(4);
    expect(second.record(usage(5, keys))).toBe(5);
    expect(third.record(usage(6, keys))).toBe(6);
    expect(first.record(usage(7, keys))).toBe(7);
    other.close();

    expect(rowAt(reopened, 4).prev_hash.equals(rowAt(reopened, 3).hash)).toBe(true);
    expect(verifyLedger(reopened)).toMatchObject({ ok: true, records: 7, lastSeq: 7 });
    reopened.close();
  });

  test("the migration chains records written before it, in seq order, and keeps the table append-only", () => {
    const dataDir = tmp();
    const old = new Database(join(dataDir, DB_FILE));
    old.exec(MIGRATIONS[0] as string);
    old.exec(MIGRATIONS[1] as string);
    old.pragma("user_version = 2");
    const insert = old.prepare(
      `INSERT INTO usage_ledger (request_id, key_id, model, endpoint, prompt_tokens, completion_tokens, duration_ms, outcome, created_at)
       VALUES (@requestId, @keyId, @model, @endpoint, @promptTokens, @completionTokens, @durationMs, @outcome, @createdAt)`,
    );
    for (let i = 1; i <= 40; i++) insert.run(usage(i));
    old.close();

    const db = openDatabase(dataDir);
    let prev = ZERO;
    for (let seq = 1; seq <= 40; seq++) {
      const row = rowAt(db, seq);
      expect(row.prev_hash.equals(prev)).toBe(true);
      expect(row.hash.equals(specHash(prev, row))).toBe(true);
      prev = row.hash;
    }
    expect(() => db.prepare("UPDATE usage_ledger SET hash = NULL").run()).toThrow("append-only");
    expect(() => db.prepare("DELETE FROM usage_ledger").run()).toThrow("append-only");
    new UsageLedger(db, { clock }).record(usage(41));
    expect(rowAt(db, 41).prev_hash.equals(prev)).toBe(true);
    expect(verifyLedger(db)).toMatchObject({ ok: true, records: 41 });
    db.close();
  });

  test("a record numbered after a deleted tail leaves the gap visible instead of reusing its numbers", () => {
    const { dataDir, db, ledger, keys } = makeLedger(10);
    const raw = new Database(join(dataDir, DB_FILE));
    raw.exec("DROP TRIGGER usage_ledger_no_delete; DELETE FROM usage_ledger WHERE seq > 8;");
    raw.close();
    expect(ledger.record(usage(11, keys))).toBe(11);
    expect(verifyLedger(db).problem).toMatchObject({ kind: "deleted", seq: 9 });
    db.close();
  });

  test("a ledger written with the chain off does not verify", () => {
    const { db } = makeLedger(3, { chain: false });
    expect(rowAt(db, 1).hash).toBeNull();
    expect(verifyLedger(db).problem).toMatchObject({ kind: "unchained", seq: 1 });
    db.close();
  });

  test("strings are hashed as SQLite stores them (a lone surrogate becomes U+FFFD)", () => {
    const { db, ledger } = makeLedger(1);
    ledger.record({ ...usage(2), model: "bad\ud800model" });
    expect(rowAt(db, 2).model).toBe("bad\ufffdmodel");
    expect(verifyLedger(db).ok).toBe(true);
    db.close();
  });

  test("a clean ledger of 100,000 records verifies, from the database and from its export", () => {
    const { db, ledger, keys } = makeLedger(0);
    append(db, ledger, 1, 100_000, keys);
    const result = verifyLedger(db);
    expect(result).toMatchObject({ ok: true, records: 100_000, lastSeq: 100_000, problem: null });
    expect(result.headHash).toBe(rowAt(db, 100_000).hash.toString("hex"));
    const exported = [...exportEntries(db, 1, 100_000)];
    expect(verifyLedger(exported)).toMatchObject({ ok: true, records: 100_000, headHash: result.headHash });
    db.close();
  }, 60_000);
});
