import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalBytes } from "../../runtime/crypto/canonical.ts";
import { verifyEd25519 } from "../../runtime/crypto/ed25519.ts";
import { loadOrCreateDeviceIdentity } from "../../runtime/identity/device-key.ts";
import { openDatabase } from "../../runtime/store/db.ts";
import { UsageLedger } from "../../runtime/store/usage-ledger.ts";
import { recordHashHex, type LedgerEntry } from "../../runtime/ledger/chain.ts";
import type { SignedAuditReport } from "../../runtime/ledger/audit.ts";
import { hearth } from "../helpers/cli.ts";
import { append, clock, HOUR, makeLedger, rowAt, T0, testIdentity, tmp, removeTempDirs } from "./fixture.ts";

afterAll(removeTempDirs);

const iso = (ms: number) => new Date(ms).toISOString();

let dataDir: string;
let devicePublicKey: string;
let reportPath: string;
let exportPath: string;
let report: SignedAuditReport;
let lines: string[];

/** Writes a changed copy of the export and verifies the report against it. */
async function verifyWithExport(change: (entries: LedgerEntry[]) => LedgerEntry[], json = false) {
  const path = join(tmp(), "changed.jsonl");
  const entries = change(lines.map((l) => JSON.parse(l) as LedgerEntry));
  writeFileSync(path, entries.map((e) => JSON.stringify(e)).join("\n") + "\n");
  return hearth(["license", "verify-audit", reportPath, "--device-pubkey", devicePublicKey, "--ledger", path, ...(json ? ["--json"] : [])]);
}

beforeAll(async () => {
  dataDir = tmp();
  const device = loadOrCreateDeviceIdentity(dataDir);
  devicePublicKey = device.publicKey;
  const { db } = makeLedger(60, { signer: device, checkpointEvery: 10 }, dataDir); // record i written at T0 + i hours
  db.close();
  const out = tmp();
  reportPath = join(out, "report.json");
  exportPath = join(out, "export.jsonl");
  // Records 10..49: since is inclusive, until exclusive.
  const res = await hearth(["license", "audit", "--since", iso(T0 + 10 * HOUR), "--until", iso(T0 + 50 * HOUR), "--out", reportPath, "--ledger-out", exportPath, "--data-dir", dataDir, "--json"]);
  if (res.code !== 0) throw new Error(res.stderr);
  report = JSON.parse(readFileSync(reportPath, "utf8"));
  lines = readFileSync(exportPath, "utf8").trim().split("\n");
});

describe("audit report", () => {
  test("is signed by the device, anchored in the chain, with the period's totals and checkpoints", () => {
    const r = report.report;
    expect(verifyEd25519(devicePublicKey, canonicalBytes(r), report.signature)).toBe(true);
    expect(r).toMatchObject({ formatVersion: 1, devicePublicKey, licenseId: null, period: { since: iso(T0 + 10 * HOUR), until: iso(T0 + 50 * HOUR) } });
    const db = openDatabase(dataDir);
    expect(r.records).toEqual({
      count: 40,
      firstSeq: 10,
      lastSeq: 49,
      firstPrevHash: rowAt(db, 9).hash.toString("hex"),
      firstHash: rowAt(db, 10).hash.toString("hex"),
      lastHash: rowAt(db, 49).hash.toString("hex"),
    });
    db.close();
    expect(r.checkpoints.map((c) => c.payload.ledgerSeq)).toEqual([10, 20, 30, 40]);
    const requests = r.totals.byKey.reduce((n, k) => n + k.requests, 0);
    expect(requests).toBe(40);
    expect(r.totals.byModel.map((m) => m.model)).toEqual(["demo-small", "demo-tiny"]);
  });

  test("the export holds the period's records with their hashes, chained", () => {
    const entries = lines.map((l) => JSON.parse(l) as LedgerEntry);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => 10 + i));
    expect(entries[0]!.prevHash).toBe(report.report.records.firstPrevHash!);
    for (const e of entries) expect(recordHashHex(e.prevHash, e)).toBe(e.hash);
  });

  test("verifies offline, with and without the export", async () => {
    const alone = await hearth(["license", "verify-audit", reportPath, "--device-pubkey", devicePublicKey]);
    expect(alone.code).toBe(0);
    expect(alone.stdout).toContain("OK: report of device");
    expect(alone.stdout).toContain("4 checkpoints valid");
    const full = await hearth(["license", "verify-audit", reportPath, "--device-pubkey", devicePublicKey, "--ledger", exportPath, "--json"]);
    expect(full.code).toBe(0);
    expect(JSON.parse(full.stdout)).toMatchObject({ ok: true, recordsVerified: 40, problems: [] });
  });

  test("fails with another device's key", async () => {
    const res = await hearth(["license", "verify-audit", reportPath, "--device-pubkey", testIdentity().publicKey]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`FAILED: the report names device key ${devicePublicKey}, not the expected`);
    expect(res.stderr).toContain("signature does not verify");
  });

  test("fails when the report was altered", async () => {
    const altered = structuredClone(report);
    altered.report.totals.byKey[0]!.promptTokens -= 100;
    const path = join(tmp(), "altered.json");
    writeFileSync(path, JSON.stringify(altered));
    const res = await hearth(["license", "verify-audit", path, "--device-pubkey", devicePublicKey, "--ledger", exportPath, "--json"]);
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout);
    expect(out.ok).toBe(false);
    expect(out.problems[0]).toMatchObject({ code: "report_signature", seq: null });
  });

  test("a report that is not a report is refused naming the field", async () => {
    const path = join(tmp(), "broken.json");
    writeFileSync(path, JSON.stringify({ ...report, report: { ...report.report, records: { ...report.report.records, count: -1 } } }));
    const res = await hearth(["license", "verify-audit", path, "--device-pubkey", devicePublicKey]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("report.records.count");
    expect(res.stderr).toContain("[audit_invalid]");
  });

  test("an edited record in the export is named", async () => {
    const res = await verifyWithExport((es) => es.map((e) => (e.seq === 25 ? { ...e, completionTokens: e.completionTokens + 1 } : e)));
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("FAILED: seq 25 was edited");
  });

  test("a deleted record in the export is named", async () => {
    const res = await verifyWithExport((es) => es.filter((e) => e.seq !== 25), true);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout).problems[0]).toMatchObject({ code: "deleted", seq: 25 });
  });

  test("a record added to the export is named", async () => {
    const res = await verifyWithExport((es) => es.flatMap((e) => (e.seq === 25 ? [e, { ...e, requestId: "chatcmpl-extra" }] : [e])), true);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout).problems[0]).toMatchObject({ code: "inserted", seq: 25 });
  });

  test("records cut off the end of the export are named", async () => {
    const res = await verifyWithExport((es) => es.slice(0, -3), true);
    expect(JSON.parse(res.stdout).problems[0]).toMatchObject({ code: "deleted", seq: 47 });
  });

  test("reordered records in the export are named", async () => {
    const res = await verifyWithExport((es) => {
      const copy = [...es];
      [copy[15], copy[16]] = [copy[16]!, copy[15]!]; // seq 25 and 26
      return copy;
    }, true);
    expect(JSON.parse(res.stdout).problems[0]).toMatchObject({ code: "reordered", seq: 25 });
  });

  test("an export re-hashed after an edit is caught by the signed checkpoints", async () => {
    const res = await verifyWithExport((es) => {
      let prev = "";
      return es.map((e) => {
        const edited = e.seq === 25 ? { ...e, promptTokens: 0 } : e;
        const prevHash = e.seq > 25 ? prev : e.prevHash;
        const hash = e.seq >= 25 ? recordHashHex(prevHash, edited) : e.hash;
        prev = hash;
        return { ...edited, prevHash, hash };
      });
    }, true);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout).problems[0]).toMatchObject({ code: "rewritten", seq: 21 });
  });

  test("a checkpoint forged on the box travels in the report and is named", async () => {
    const copy = tmp();
    const device = loadOrCreateDeviceIdentity(copy);
    const { db, keys } = makeLedger(30, { signer: device, checkpointEvery: 10 }, copy);
    append(db, new UsageLedger(db, { signer: testIdentity(), checkpointEvery: 5, clock }), 31, 35, keys); // someone else's key
    db.close();
    const out = join(tmp(), "forged.json");
    expect((await hearth(["license", "audit", "--out", out, "--data-dir", copy])).code).toBe(0);
    const res = await hearth(["license", "verify-audit", out, "--device-pubkey", device.publicKey, "--json"]);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout).problems).toEqual([{ code: "checkpoint_forged", seq: 35, message: "the checkpoint at seq 35 is not signed by the device key" }]);
  });

  test("a period without records gives an empty, signed, verifiable report", async () => {
    const out = join(tmp(), "empty.json");
    const res = await hearth(["license", "audit", "--since", "2020-01-01", "--until", "2020-02-01", "--out", out, "--data-dir", dataDir]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("no records");
    const verified = await hearth(["license", "verify-audit", out, "--device-pubkey", devicePublicKey]);
    expect(verified.code).toBe(0);
  });
});
