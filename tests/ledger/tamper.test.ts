import { afterAll, describe, expect, test } from "bun:test";
import { openDatabase } from "../../runtime/store/db.ts";
import { verifyLedger } from "../../runtime/ledger/verify.ts";
import { hearth } from "../helpers/cli.ts";
import { insertRow, makeLedger, overwrite, renumber, rowAt, specHash, tamper, testIdentity, usage, type Row, removeTempDirs } from "./fixture.ts";

afterAll(removeTempDirs);

/** A closed 50-record ledger, changed by `attack`, then verified from a fresh connection. */
function attacked(attack: Parameters<typeof tamper>[1], records = 50) {
  const { dataDir, db } = makeLedger(records);
  db.close();
  tamper(dataDir, attack);
  const reopened = openDatabase(dataDir);
  const result = verifyLedger(reopened);
  reopened.close();
  return { dataDir, result };
}

/** A forged record for `seq`, correctly chained after `prev` (the attacker knows the algorithm). */
function forged(seq: number, prev: Buffer): Row {
  const fields = { seq, request_id: "chatcmpl-forged", key_id: null, model: "demo-tiny", endpoint: "chat.completions", prompt_tokens: 1, completion_tokens: 1, duration_ms: 1, outcome: "completed", created_at: usage(seq).createdAt };
  return { ...fields, prev_hash: prev, hash: specHash(prev, fields) };
}

describe("tampering with the database file is found at the first bad seq", () => {
  test("an edited record", () => {
    const { result } = attacked((db) => db.prepare("UPDATE usage_ledger SET completion_tokens = 0 WHERE seq = 20").run());
    expect(result.ok).toBe(false);
    expect(result.problem).toMatchObject({ kind: "edited", seq: 20 });
    expect(result.records).toBe(19);
  });

  test("an edited record whose hash the attacker recomputed", () => {
    const { result } = attacked((db) => {
      const row = { ...rowAt(db, 20), completion_tokens: 0 };
      db.prepare("UPDATE usage_ledger SET completion_tokens = 0, hash = ? WHERE seq = 20").run(specHash(row.prev_hash, row));
    });
    expect(result.problem).toMatchObject({ kind: "edited", seq: 20 });
    expect(result.problem!.message).toContain("re-hashed");
  });

  test("an edited prev_hash column alone", () => {
    const { result } = attacked((db) => db.prepare("UPDATE usage_ledger SET prev_hash = zeroblob(32) WHERE seq = 33").run());
    expect(result.problem).toMatchObject({ kind: "edited", seq: 33 });
  });

  test("a deleted record", () => {
    const { result } = attacked((db) => db.prepare("DELETE FROM usage_ledger WHERE seq = 20").run());
    expect(result.problem).toMatchObject({ kind: "deleted", seq: 20 });
    expect(result.problem!.message).toContain("next record is seq 21");
  });

  test("deleted records with the rest renumbered to close the gap", () => {
    const { result } = attacked((db) => {
      db.prepare("DELETE FROM usage_ledger WHERE seq IN (20, 21)").run();
      renumber(db, 22, -2);
    });
    expect(result.problem).toMatchObject({ kind: "deleted", seq: 20 });
  });

  test("the first record deleted", () => {
    const { result } = attacked((db) => db.prepare("DELETE FROM usage_ledger WHERE seq = 1").run());
    expect(result.problem).toMatchObject({ kind: "deleted", seq: 1 });
  });

  test("an inserted record, correctly chained, with the rest renumbered", () => {
    const { result } = attacked((db) => {
      renumber(db, 20, 1);
      insertRow(db, forged(20, rowAt(db, 19).hash));
    });
    expect(result.problem).toMatchObject({ kind: "inserted", seq: 20 });
  });

  test("an inserted record with made-up hashes", () => {
    const { result } = attacked((db) => {
      renumber(db, 20, 1);
      insertRow(db, { ...forged(20, Buffer.alloc(32, 7)), hash: Buffer.alloc(32, 9) });
    });
    expect(result.problem).toMatchObject({ kind: "inserted", seq: 20 });
  });

  test("an inserted record numbered before the first", () => {
    const { result } = attacked((db) => insertRow(db, forged(0, Buffer.alloc(32))));
    expect(result.problem).toMatchObject({ kind: "inserted", seq: 0 });
  });

  test("two records swapped (whole rows moved, numbers kept)", () => {
    const { result } = attacked((db) => {
      const a = rowAt(db, 20);
      const b = rowAt(db, 30);
      overwrite(db, 20, { ...b, request_id: "swap" });
      overwrite(db, 30, a);
      db.prepare("UPDATE usage_ledger SET request_id = ? WHERE seq = 20").run(b.request_id);
    });
    expect(result.problem).toMatchObject({ kind: "reordered", seq: 20 });
    expect(result.problem!.message).toContain("written as seq 30");
  });

  test("two adjacent records swapped (whole rows)", () => {
    const { result } = attacked((db) => {
      const a = rowAt(db, 20);
      const b = rowAt(db, 21);
      overwrite(db, 20, { ...b, request_id: "swap" });
      overwrite(db, 21, a);
      db.prepare("UPDATE usage_ledger SET request_id = ? WHERE seq = 20").run(b.request_id);
    });
    expect(result.problem).toMatchObject({ kind: "reordered", seq: 20 });
    expect(result.problem!.message).toContain("written as seq 21");
  });

  test("two adjacent records' fields swapped (hashes left in place)", () => {
    const { result } = attacked((db) => {
      const a = rowAt(db, 20);
      const b = rowAt(db, 21);
      overwrite(db, 20, { ...b, request_id: "swap", prev_hash: a.prev_hash, hash: a.hash });
      overwrite(db, 21, { ...a, prev_hash: b.prev_hash, hash: b.hash });
      db.prepare("UPDATE usage_ledger SET request_id = ? WHERE seq = 20").run(b.request_id);
    });
    expect(result.problem).toMatchObject({ kind: "reordered", seq: 20 });
    expect(result.problem!.message).toContain("written as seq 21");
  });

  test("a chain rewritten with recomputed hashes is caught by the signed checkpoints", () => {
    const { dataDir, db } = makeLedger(50, { signer: testIdentity(), checkpointEvery: 10 });
    db.close();
    tamper(dataDir, (raw) => {
      raw.prepare("UPDATE usage_ledger SET completion_tokens = 0 WHERE seq = 25").run();
      let prev = rowAt(raw, 24).hash;
      for (let seq = 25; seq <= 50; seq++) {
        const hash = specHash(prev, rowAt(raw, seq));
        raw.prepare("UPDATE usage_ledger SET prev_hash = ?, hash = ? WHERE seq = ?").run(prev, hash, seq);
        prev = hash;
      }
    });
    const reopened = openDatabase(dataDir);
    const result = verifyLedger(reopened);
    reopened.close();
    expect(result.problem).toMatchObject({ kind: "rewritten", seq: 21 });
    expect(result.problem!.message).toContain("seq 21 to 30 were rewritten");
  });

  test("records cut off the end are caught by the numbering SQLite keeps", () => {
    const { result } = attacked((db) => db.prepare("DELETE FROM usage_ledger WHERE seq > 45").run());
    expect(result.problem).toMatchObject({ kind: "deleted", seq: 46 });
    expect(result.problem!.message).toContain("seq 46 to 50 are missing");
  });

  test("records cut off the end are caught by a checkpoint that covered them, even with the numbering reset", () => {
    const { dataDir, db, ledger } = makeLedger(30, { signer: testIdentity(), checkpointEvery: 10 });
    ledger.checkpoint(); // nothing new at 30: already covered
    db.close();
    tamper(dataDir, (raw) => {
      raw.prepare("DELETE FROM usage_ledger WHERE seq > 26").run();
      raw.prepare("UPDATE sqlite_sequence SET seq = 26 WHERE name = 'usage_ledger'").run();
    });
    const reopened = openDatabase(dataDir);
    expect(verifyLedger(reopened).problem).toMatchObject({ kind: "deleted", seq: 27 });
    reopened.close();
  });

  test("`hearth license verify-ledger` names the first bad seq and exits non-zero", async () => {
    const { dataDir } = attacked((db) => db.prepare("UPDATE usage_ledger SET prompt_tokens = 1 WHERE seq IN (12, 40)").run());
    const human = await hearth(["license", "verify-ledger", "--data-dir", dataDir]);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain("FAILED at seq 12 (edited)");
    const json = await hearth(["license", "verify-ledger", "--data-dir", dataDir, "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, records: 11, problem: { kind: "edited", seq: 12 } });
  });

  test("`hearth license verify-ledger` passes a clean ledger", async () => {
    const { dataDir, db } = makeLedger(25);
    db.close();
    const res = await hearth(["license", "verify-ledger", "--data-dir", dataDir, "--json"]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: true, records: 25, lastSeq: 25, problem: null });
  });
});
