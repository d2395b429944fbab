#!/usr/bin/env bun
/**
 * bench:ledger: what the hash-chained usage ledger costs and how fast it verifies.
 * (a) requests/s through the OpenAI API (real HTTP servers, tiny synthetic model, max_tokens 1,
 *     several concurrent clients) with the chain on and off, side by side in one run: interleaved
 *     rounds (the order alternates), medians and the on/off ratio. Two identical servers differ by
 *     several percent from round to round on a shared box, so the ratio is the median of many
 *     paired rounds, and what a record costs with and without the chain is measured directly too.
 * (b) verification of a 1,000,000-record ledger (written directly in one transaction, with a signed
 *     checkpoint every 1,000 records, as the box writes them) in records/s.
 * Sizes: BENCH_ROUNDS, BENCH_SECONDS, BENCH_CLIENTS, BENCH_RECORDS.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { synthesizeModel } from "../runtime/model/synth.ts";
import { loadConfig } from "../runtime/config/load.ts";
import { startServer, type RunningServer } from "../runtime/server.ts";
import { createLlama } from "../runtime/engine/llama-binding.ts";
import { silentLogger } from "../runtime/log.ts";
import { systemClock } from "../runtime/clock.ts";
import { openDatabase } from "../runtime/store/db.ts";
import { ApiKeyStore } from "../runtime/store/api-keys.ts";
import { UsageLedger } from "../runtime/store/usage-ledger.ts";
import { generateEd25519, signerFromPem } from "../runtime/crypto/ed25519.ts";
import { deviceIdOf } from "../runtime/identity/device-key.ts";
import { recordHash, ZERO_HASH } from "../runtime/ledger/chain.ts";
import { writeCheckpoint } from "../runtime/ledger/checkpoints.ts";
import { verifyLedger } from "../runtime/ledger/verify.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const CHECKPOINT_EVERY = 1000;

const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function tinyModel(): Promise<string> {
  const dir = join(tmpdir(), "hearth-bench-models");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, "tiny-f16-seed1.gguf");
  if (!existsSync(out)) await synthesizeModel({ out, params: "tiny", type: "f16", seed: 1 });
  return out;
}

type Target = { name: "on" | "off"; server: RunningServer; key: string; model: string; dataDir: string };

async function serve(name: "on" | "off", modelPath: string, llama: Awaited<ReturnType<typeof createLlama>>): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), `hearth-bench-ledger-${name}-`));
  const config = loadConfig({ flags: { dataDir, "model.path": modelPath, "server.port": 0, "model.contextSize": 512, "calibration.auto": false } });
  const server = await startServer(config, { logger: silentLogger, clock: systemClock, llama, ledger: { chain: name === "on" } });
  await server.ready;
  const key = new ApiKeyStore(server.db, systemClock).create("bench").key;
  return { name, server, key, model: server.engine.model.id, dataDir };
}

/** Completed requests per second from CLIENTS clients sending back to back for `seconds`. */
async function load(t: Target, seconds: number): Promise<number> {
  const body = JSON.stringify({ model: t.model, messages: [{ role: "user", content: "Hi" }], max_tokens: 1 });
  const headers = { "content-type": "application/json", authorization: `Bearer ${t.key}` };
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const client = async () => {
    while (performance.now() < deadline) {
      const res = await fetch(`${t.server.url}/v1/chat/completions`, { method: "POST", headers, body });
      if (res.status !== 200) throw new Error(`${t.name}: HTTP ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return done / ((performance.now() - started) / 1000);
}

async function throughput() {
  const modelPath = await tinyModel();
  const llama = await createLlama(false, silentLogger);
  const on = await serve("on", modelPath, llama);
  const off = await serve("off", modelPath, llama);
  await load(on, 1); // warm-up both
  await load(off, 1);
  const rates = { on: [] as number[], off: [] as number[] };
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first: drift on a shared box then falls on both sides alike.
    for (const t of r % 2 === 0 ? [on, off] : [off, on]) rates[t.name].push(await load(t, SECONDS));
    ratios.push(rates.on.at(-1)! / rates.off.at(-1)!);
    progress(`round ${r + 1}/${ROUNDS}: chain on ${round(rates.on.at(-1)!, 1)} req/s, off ${round(rates.off.at(-1)!, 1)} req/s`);
  }
  const chained = verifyLedger(on.server.db);
  if (!chained.ok) throw new Error(`the chained server's ledger does not verify: ${chained.problem!.message}`);
  for (const t of [on, off]) {
    await t.server.stop();
    rmSync(t.dataDir, { recursive: true, force: true });
  }
  await llama.dispose();
  return {
    clients: CLIENTS,
    seconds: SECONDS,
    rounds: ROUNDS,
    chainOnReqPerSec: round(median(rates.on), 1),
    chainOffReqPerSec: round(median(rates.off), 1),
    ratio: round(median(ratios), 3),
    ratioOfMedians: round(median(rates.on) / median(rates.off), 3),
    recordsChained: chained.records,
  };
}

/** Microseconds per UsageLedger.record() (durable: one fsync each), chain on and off, interleaved. */
function recordCost() {
  const ledgers = (["on", "off"] as const).map((name) => {
    const dataDir = mkdtempSync(join(tmpdir(), `hearth-bench-record-${name}-`));
    const db = openDatabase(dataDir);
    return { name, dataDir, db, ledger: new UsageLedger(db, { chain: name === "on" }) };
  });
  const us = { on: [] as number[], off: [] as number[] };
  let n = 0;
  for (let r = 0; r < 10; r++) {
    for (const l of r % 2 === 0 ? ledgers : [...ledgers].reverse()) {
      const started = performance.now();
      for (let i = 0; i < 300; i++) {
        l.ledger.record({ requestId: `chatcmpl-${n++}`, keyId: null, model: "demo-tiny", endpoint: "chat.completions", promptTokens: 12, completionTokens: 1, durationMs: 30, outcome: "completed", createdAt: Date.now() });
      }
      us[l.name].push(((performance.now() - started) * 1000) / 300);
    }
  }
  for (const l of ledgers) {
    l.db.close();
    rmSync(l.dataDir, { recursive: true, force: true });
  }
  return { chainOnUsPerRecord: round(median(us.on), 1), chainOffUsPerRecord: round(median(us.off), 1) };
}

async function verification() {
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-bench-ledger-verify-"));
  const db = openDatabase(dataDir);
  const signer = signerFromPem(generateEd25519().privateKeyPem);
  const device = { ...signer, deviceId: deviceIdOf(signer.publicKey) };
  const keys = [new ApiKeyStore(db, systemClock).create("a").id, new ApiKeyStore(db, systemClock).create("b").id];
  const insert = db.prepare(
    `INSERT INTO usage_ledger (seq, request_id, key_id, model, endpoint, prompt_tokens, completion_tokens, duration_ms, outcome, created_at, prev_hash, hash)
     VALUES (@seq, @requestId, @keyId, @model, @endpoint, @promptTokens, @completionTokens, @durationMs, @outcome, @createdAt, @prevHash, @hash)`,
  );
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  let started = performance.now();
  db.transaction(() => {
    let prevHash: Buffer = Buffer.from(ZERO_HASH);
    for (let seq = 1; seq <= RECORDS; seq++) {
      const r = {
        seq,
        requestId: `chatcmpl-${seq.toString(36).padStart(16, "0")}`,
        keyId: keys[seq % 2]!,
        model: "demo-tiny",
        endpoint: "chat.completions",
        promptTokens: 12 + (seq % 50),
        completionTokens: 1 + (seq % 3),
        durationMs: 30 + (seq % 9),
        outcome: "completed" as const,
        createdAt: t0 + seq * 250,
      };
      const hash = recordHash(prevHash, r);
      insert.run({ ...r, prevHash, hash });
      if (seq % CHECKPOINT_EVERY === 0) writeCheckpoint(db, device, systemClock, { seq, hash });
      prevHash = hash;
    }
  })();
  progress(`wrote ${RECORDS} records in ${round((performance.now() - started) / 1000, 1)} s`);
  const runs: number[] = [];
  let checkpoints = 0;
  for (let i = 0; i < 3; i++) {
    started = performance.now();
    const result = verifyLedger(db, { devicePublicKey: device.publicKey });
    const seconds = (performance.now() - started) / 1000;
    if (!result.ok || result.records !== RECORDS) throw new Error(`verification failed: ${JSON.stringify(result)}`);
    checkpoints = result.checkpoints;
    runs.push(RECORDS / seconds);
    progress(`verify ${i + 1}/3: ${round(seconds, 2)} s, ${Math.round(runs.at(-1)!)} records/s`);
  }
  db.close();
  rmSync(dataDir, { recursive: true, force: true });
  return { records: RECORDS, checkpoints, recordsPerSec: Math.round(median(runs)), runs: runs.map((r) => Math.round(r)) };
}

const api = await throughput();
const record = recordCost();
const verify = await verification();
const report = { api, record, verify, targets: { chainOnVsOff: ">= 0.98", verifyRecordsPerSec: ">= 500000 (1,000,000 records)" } };
console.log(JSON.stringify(report, null, 2));
console.log(
  [
    "",
    `                          req/s`,
    `API, chain on            ${api.chainOnReqPerSec}`,
    `API, chain off           ${api.chainOffReqPerSec}`,
    `ratio on/off             ${api.ratio} (median of ${api.rounds} paired rounds; of the medians ${api.ratioOfMedians}; target >= 0.98)`,
    `record(), durable        ${record.chainOnUsPerRecord} us chain on, ${record.chainOffUsPerRecord} us off`,
    `verify ${verify.records} records  ${verify.recordsPerSec} records/s with ${verify.checkpoints} signed checkpoints (target >= 500000)`,
  ].join("\n"),
);
