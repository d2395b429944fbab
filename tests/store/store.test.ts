import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { openDatabase } from "../../runtime/store/db.ts";
import { MIGRATIONS } from "../../runtime/store/migrations.ts";
import { ApiKeyStore } from "../../runtime/store/api-keys.ts";
import { UsageLedger, type UsageRecord } from "../../runtime/store/usage-ledger.ts";

const clock = { now: () => 1_700_000_000_000, monotonic: () => 0 };
const dir = () => mkdtempSync(join(tmpdir(), "hearth-store-"));

function usage(requestId: string, keyId: string | null, p = 3, c = 5): UsageRecord {
  return { requestId, keyId, model: "m", endpoint: "chat.completions", promptTokens: p, completionTokens: c, durationMs: 7, outcome: "completed", createdAt: clock.now() };
}

describe("store", () => {
  test("opens in WAL mode with foreign keys on and all migrations applied", () => {
    const db = openDatabase(dir());
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(db.pragma("synchronous", { simple: true })).toBe(2);
    expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });

  test("reopening applies no migration twice", () => {
    const d = dir();
    openDatabase(d).close();
    const db = openDatabase(d);
    expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });

  test("keys are stored only as hashes, verify, list usage and revoke", () => {
    const db = openDatabase(dir());
    const keys = new ApiKeyStore(db, clock);
    const created = keys.create("  clinic app ");
    expect(created.name).toBe("clinic app");
    expect(created.key).toMatch(/^hth_[A-Za-z0-9_-]{43}$/);
    const raw = JSON.stringify(db.prepare("SELECT * FROM api_keys").all());
    expect(raw).not.toContain(created.key);
    expect(raw).not.toContain(created.key.slice(10));
    expect(keys.verify(created.key)?.id).toBe(created.id);
    expect(keys.verify(created.key + "x")).toBeNull();
    expect(keys.verify("sk-other")).toBeNull();

    const ledger = new UsageLedger(db);
    ledger.record(usage("r1", created.id, 3, 5));
    ledger.record(usage("r2", created.id, 4, 6));
    const [listed] = keys.list();
    expect(listed).toMatchObject({ id: created.id, requests: 2, promptTokens: 7, completionTokens: 11, revokedAt: null });

    expect(keys.revoke(created.id).revokedAt).toBe(clock.now());
    expect(keys.verify(created.key)).toBeNull();
    expect(keys.revoke(created.id).revokedAt).toBe(clock.now()); // idempotent
    expect(() => keys.revoke("key_missing")).toThrow("does not exist");
    expect(() => keys.create("")).toThrow("name");
    db.close();
  });

  test("the usage ledger is append-only and checks its references", () => {
    const db = openDatabase(dir());
    const ledger = new UsageLedger(db);
    ledger.record(usage("r1", null));
    expect(() => db.prepare("UPDATE usage_ledger SET prompt_tokens = 0").run()).toThrow("append-only");
    expect(() => db.prepare("DELETE FROM usage_ledger").run()).toThrow("append-only");
    expect(() => ledger.record(usage("r1", null))).toThrow(); // request ids are unique
    expect(() => ledger.record(usage("r2", "key_unknown"))).toThrow(/FOREIGN KEY/);
    expect(ledger.all().map((r) => r.requestId)).toEqual(["r1"]);
    expect(ledger.byRequestId("r1")).toEqual(usage("r1", null));
    db.close();
  });
});
