import { afterAll, describe, expect, test } from "bun:test";
import { openDatabase } from "../../runtime/store/db.ts";
import { UsageLedger } from "../../runtime/store/usage-ledger.ts";
import { canonicalBytes, canonicalJson } from "../../runtime/crypto/canonical.ts";
import { verifyEd25519 } from "../../runtime/crypto/ed25519.ts";
import { readCheckpoints, type CheckpointPayload } from "../../runtime/ledger/checkpoints.ts";
import { verifyLedger } from "../../runtime/ledger/verify.ts";
import { append, clock, makeLedger, rowAt, tamper, testIdentity, usage, removeTempDirs } from "./fixture.ts";

afterAll(removeTempDirs);

const payloads = (db: Parameters<typeof readCheckpoints>[0]) =>
  readCheckpoints(db).map((c) => {
    if (!("checkpoint" in c)) throw new Error(`malformed checkpoint ${c.id}`);
    return c.checkpoint;
  });

/** Totals computed here from the records the fixture wrote, for seq 1..n. */
function expectedTotals(n: number, keys: string[]) {
  const byKey = new Map<string, { requests: number; promptTokens: number; completionTokens: number }>();
  const byModel = new Map<string, { requests: number; promptTokens: number; completionTokens: number }>();
  for (let i = 1; i <= n; i++) {
    const r = usage(i, keys);
    for (const [map, k] of [[byKey, r.keyId!], [byModel, r.model]] as const) {
      const t = map.get(k) ?? { requests: 0, promptTokens: 0, completionTokens: 0 };
      t.requests++;
      t.promptTokens += r.promptTokens;
      t.completionTokens += r.completionTokens;
      map.set(k, t);
    }
  }
  return {
    byKey: [...byKey].sort(([a], [b]) => (a < b ? -1 : 1)).map(([keyId, t]) => ({ keyId, ...t })),
    byModel: [...byModel].sort(([a], [b]) => (a < b ? -1 : 1)).map(([model, t]) => ({ model, ...t })),
  };
}

describe("signed ledger checkpoints", () => {
  test("every N records the device signs head hash, count and cumulative totals per key and model", () => {
    const device = testIdentity();
    const { db, keys } = makeLedger(25, { signer: device, checkpointEvery: 10 });
    const cps = payloads(db);
    expect(cps.map((c) => c.payload.ledgerSeq)).toEqual([10, 20]);
    const [first, second] = cps as [(typeof cps)[0], (typeof cps)[0]];
    expect(first.payload).toEqual({
      deviceId: device.deviceId,
      devicePublicKey: device.publicKey,
      ledgerSeq: 10,
      count: 10,
      headHash: rowAt(db, 10).hash.toString("hex"),
      totals: expectedTotals(10, keys),
      createdAt: new Date(clock.now()).toISOString(),
    } satisfies CheckpointPayload);
    expect(second.payload).toMatchObject({ ledgerSeq: 20, count: 20, headHash: rowAt(db, 20).hash.toString("hex"), totals: expectedTotals(20, keys) });
    for (const cp of cps) expect(verifyEd25519(device.publicKey, canonicalBytes(cp.payload), cp.signature)).toBe(true);
    // What is stored is exactly the signed canonical JSON.
    const stored = db.prepare("SELECT payload FROM ledger_checkpoints ORDER BY id").pluck().all() as string[];
    expect(stored).toEqual(cps.map((c) => canonicalJson(c.payload)));
    expect(verifyLedger(db, { devicePublicKey: device.publicKey })).toMatchObject({ ok: true, checkpoints: 2 });
    db.close();
  });

  test("checkpoint() covers the head on demand (e.g. at shutdown), once; totals carry on after a restart", () => {
    const device = testIdentity();
    const { dataDir, db, ledger, keys } = makeLedger(25, { signer: device, checkpointEvery: 10 });
    expect(ledger.checkpoint()?.payload).toMatchObject({ ledgerSeq: 25, count: 25, totals: expectedTotals(25, keys) });
    expect(ledger.checkpoint()).toBeNull();
    expect(new UsageLedger(db).checkpoint()).toBeNull(); // no signer, no checkpoint
    db.close();

    const reopened = openDatabase(dataDir);
    append(reopened, new UsageLedger(reopened, { signer: device, checkpointEvery: 10, clock }), 26, 42, keys);
    const cps = payloads(reopened);
    expect(cps.map((c) => c.payload.ledgerSeq)).toEqual([10, 20, 25, 30, 40]);
    expect(cps.at(-1)!.payload).toMatchObject({ count: 40, totals: expectedTotals(40, keys) });
    expect(verifyLedger(reopened, { devicePublicKey: device.publicKey })).toMatchObject({ ok: true, records: 42, checkpoints: 5 });
    reopened.close();
  });

  test("a checkpoint signed by another key is reported as forged", () => {
    const device = testIdentity();
    const { dataDir, db, keys } = makeLedger(20, { signer: device, checkpointEvery: 10 });
    db.close();
    // The attacker has the database but not the device key: a checkpoint with its own key.
    const attacker = openDatabase(dataDir);
    append(attacker, new UsageLedger(attacker, { signer: testIdentity(), checkpointEvery: 5, clock }), 21, 25, keys);
    attacker.close();
    const reopened = openDatabase(dataDir);
    expect(verifyLedger(reopened, { devicePublicKey: device.publicKey }).problem).toMatchObject({ kind: "checkpoint_forged", seq: 25 });
    reopened.close();
  });

  test("a checkpoint whose payload was altered no longer verifies", () => {
    const device = testIdentity();
    const { dataDir, db } = makeLedger(30, { signer: device, checkpointEvery: 10 });
    db.close();
    tamper(dataDir, (raw) => {
      const payload = JSON.parse(raw.prepare("SELECT payload FROM ledger_checkpoints WHERE ledger_seq = 20").pluck().get() as string);
      payload.totals.byKey[0].requests -= 3;
      raw.prepare("UPDATE ledger_checkpoints SET payload = ? WHERE ledger_seq = 20").run(canonicalJson(payload));
    });
    const reopened = openDatabase(dataDir);
    const result = verifyLedger(reopened, { devicePublicKey: device.publicKey });
    expect(result.problem).toMatchObject({ kind: "checkpoint_forged", seq: 20 });
    expect(result.problem!.message).toContain("not signed by the device key");
    reopened.close();
  });

  test("a validly signed checkpoint that disagrees with the records is reported", () => {
    const device = testIdentity();
    const { db } = makeLedger(12, { signer: device, checkpointEvery: 10 });
    const good = payloads(db)[0]!.payload;
    const wrong = { ...good, ledgerSeq: 12, count: 11, headHash: rowAt(db, 12).hash.toString("hex") };
    db.prepare("INSERT INTO ledger_checkpoints (ledger_seq, payload, signature, created_at) VALUES (12, ?, ?, 0)").run(canonicalJson(wrong), device.sign(canonicalBytes(wrong)));
    const result = verifyLedger(db, { devicePublicKey: device.publicKey });
    expect(result.problem).toMatchObject({ kind: "checkpoint_mismatch", seq: 12 });
    expect(result.problem!.message).toContain("counts 1 records after seq 10, the ledger has 2");
    db.close();
  });

  test("with the device key given, a ledger whose checkpoints all name another key fails", () => {
    const { db } = makeLedger(10, { signer: testIdentity(), checkpointEvery: 5 });
    expect(verifyLedger(db).ok).toBe(true); // consistent with the key the checkpoints name
    expect(verifyLedger(db, { devicePublicKey: testIdentity().publicKey }).problem).toMatchObject({ kind: "checkpoint_forged", seq: 5 });
    db.close();
  });
});
