/**
 * Usage deltas and audit checkpoints from a real usage ledger, and what each tier lets out.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { generateEd25519, signerFromPem } from "../../runtime/crypto/ed25519.ts";
import { deviceIdOf } from "../../runtime/identity/device-key.ts";
import { UsageLedger } from "../../runtime/store/usage-ledger.ts";
import { ApiKeyStore } from "../../runtime/store/api-keys.ts";
import { systemClock } from "../../runtime/clock.ts";
import { telemetryPolicy } from "../../runtime/telemetry/policy.ts";
import { checkpointSignatureValid } from "../../runtime/ledger/checkpoints.ts";
import { removeTempDirs, testBox, tmp, type TestBox } from "./helpers.ts";

afterAll(removeTempDirs);

const signer = signerFromPem(generateEd25519().privateKeyPem);
const identity = { ...signer, deviceId: deviceIdOf(signer.publicKey) };

function ledgerOf(box: TestBox) {
  return new UsageLedger(box.db, { signer: identity, checkpointEvery: 5, clock: systemClock });
}

let n = 0;
function record(ledger: UsageLedger, keyId: string | null, model: string) {
  n++;
  ledger.record({ requestId: `req-${n}`, keyId, model, endpoint: "/v1/chat/completions", promptTokens: n, completionTokens: 2 * n, durationMs: 1, outcome: "completed", createdAt: Date.now() });
}

const queued = (box: TestBox, channel: string) =>
  box.telemetry.outbox
    .after(0, 100_000)
    .filter((r) => r.channel === channel)
    .map((r) => JSON.parse(r.payload));

describe("usage and audit feeds", () => {
  test("usage deltas: consecutive seqs, contiguous ledger ranges, summing exactly to the ledger; each checkpoint published once", async () => {
    const dataDir = tmp();
    let box = testBox({ dataDir, deviceId: identity.deviceId });
    const keys = new ApiKeyStore(box.db, systemClock);
    const [k1, k2] = [keys.create("a").id, keys.create("b").id];
    let ledger = ledgerOf(box);
    box.telemetry.start();
    for (let i = 0; i < 7; i++) record(ledger, i % 2 ? k1 : k2, i % 3 ? "model-a" : "model-b");
    expect((await box.telemetry.flush()).usageSeq).toBe(1);
    for (let i = 0; i < 5; i++) record(ledger, k1, "model-b");
    expect((await box.telemetry.flush()).usageSeq).toBe(2);
    expect((await box.telemetry.flush()).usageSeq).toBeNull(); // nothing new

    // A restart keeps the cursor: nothing is reported twice, the seq continues.
    await box.telemetry.stop();
    box.db.close();
    box = testBox({ dataDir, deviceId: identity.deviceId });
    ledger = ledgerOf(box);
    box.telemetry.start();
    expect((await box.telemetry.flush()).usageSeq).toBeNull();
    for (let i = 0; i < 4; i++) record(ledger, null, "model-c");
    const last = await box.telemetry.flush();
    expect(last).toMatchObject({ usageSeq: 3, delivered: false });

    const usage = queued(box, "usage");
    expect(usage.map((u) => u.seq)).toEqual([1, 2, 3]);
    expect(usage.map((u) => [u.fromLedgerSeq, u.toLedgerSeq])).toEqual([
      [0, 7],
      [7, 12],
      [12, 16],
    ]);
    const rows = box.db.prepare("SELECT model, prompt_tokens AS p, completion_tokens AS c FROM usage_ledger").all() as { model: string; p: number; c: number }[];
    const sum = (pick: (u: any) => { requests: number; promptTokens: number; completionTokens: number } | undefined) =>
      usage.reduce((acc, u) => {
        const t = pick(u);
        return t ? { requests: acc.requests + t.requests, promptTokens: acc.promptTokens + t.promptTokens, completionTokens: acc.completionTokens + t.completionTokens } : acc;
      }, { requests: 0, promptTokens: 0, completionTokens: 0 });
    const ledgerSum = (model?: string) => {
      const r = rows.filter((x) => !model || x.model === model);
      return { requests: r.length, promptTokens: r.reduce((s, x) => s + x.p, 0), completionTokens: r.reduce((s, x) => s + x.c, 0) };
    };
    expect(sum((u) => u.totals)).toEqual(ledgerSum());
    for (const model of ["model-a", "model-b", "model-c"]) expect(sum((u) => u.byModel[model])).toEqual(ledgerSum(model));
    // Counts only: no key ids, request ids or anything else per request.
    const text = JSON.stringify(usage);
    for (const secret of [k1, k2, "req-1"]) expect(text).not.toContain(secret);
    expect(usage.every((u) => u.tier === "smb" && u.licenseId === "lic-test-1" && u.device === identity.deviceId)).toBe(true);

    // Checkpoints at ledger seq 5, 10 and 15: each exactly once, as signed.
    const audits = queued(box, "audit");
    expect(audits.map((a) => a.checkpoint.payload.ledgerSeq)).toEqual([5, 10, 15]);
    expect(audits.every((a) => checkpointSignatureValid(a.checkpoint, identity.publicKey))).toBe(true);
    await box.telemetry.flush();
    expect(queued(box, "audit").length).toBe(audits.length);
    await box.telemetry.stop();
    box.db.close();
  });

  test("Community with the owner's opt-in: usage totals without a license id, no audit", async () => {
    const box = testBox({ tier: "community", licenseId: "lic-expired-9", config: { enabled: true } });
    const ledger = ledgerOf(box);
    box.telemetry.start();
    for (let i = 0; i < 6; i++) record(ledger, null, "m");
    await box.telemetry.flush();
    const [usage] = queued(box, "usage");
    expect(usage).toMatchObject({ tier: "community", seq: 1, totals: { requests: 6 } });
    expect(usage.licenseId).toBeUndefined();
    expect(queued(box, "audit")).toEqual([]);
    expect(JSON.stringify(box.telemetry.outbox.after(0, 1000))).not.toContain("lic-expired-9");
    await box.telemetry.stop();
    box.db.close();
  });

  test("Community without the opt-in produces nothing at all", async () => {
    const box = testBox({ tier: "community", licenseId: null, config: { enabled: false, broker: "mqtt://127.0.0.1:1" } });
    const ledger = ledgerOf(box);
    box.telemetry.start();
    for (let i = 0; i < 6; i++) record(ledger, null, "m");
    expect(await box.telemetry.flush()).toMatchObject({ usageSeq: null, audits: 0, pending: 0 });
    expect(await box.telemetry.sampleHealth()).toBe(false);
    expect(box.telemetry.status()).toMatchObject({ connected: false, reconnectAttempts: 0, lastError: null, outbox: { total: 0 } });
    await box.telemetry.stop();
    box.db.close();
  });

  test("the policy table", () => {
    expect(telemetryPolicy("community", false, "x")).toEqual({ connect: false, state: false, health: false, usage: false, audit: false, licenseId: null });
    expect(telemetryPolicy("community", true, "x")).toEqual({ connect: true, state: true, health: true, usage: true, audit: false, licenseId: null });
    expect(telemetryPolicy("smb", false, "lic")).toEqual({ connect: true, state: false, health: false, usage: true, audit: true, licenseId: "lic" });
    expect(telemetryPolicy("smb", true, "lic")).toEqual({ connect: true, state: true, health: true, usage: true, audit: true, licenseId: "lic" });
  });

  test("health snapshots from the live machine fit the schema", async () => {
    const { systemHealthSampler } = await import("../../runtime/telemetry/health.ts");
    const box = testBox({ deps: { health: systemHealthSampler({ dataDir: tmp() }) } });
    box.telemetry.start();
    expect(await box.telemetry.sampleHealth()).toBe(true);
    const [health] = queued(box, "health");
    expect(health.memory.totalMB).toBeGreaterThan(0);
    expect(health.disk.totalMB).toBeGreaterThan(0);
    await box.telemetry.stop();
    box.db.close();
  });
});
