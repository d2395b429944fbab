/**
 * Serving several models from one box: an app over a ModelHost filled by the real loader with real
 * LlamaEngines (tiny synthetic models of different seeds), over a real socket. The entitlement gate
 * and the memory budget are inputs, so both refusals are exercised with real estimates.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Llama } from "node-llama-cpp";
import { loadConfig } from "../../runtime/config/load.ts";
import { LlamaEngine, type LlamaEngineOptions } from "../../runtime/engine/llama-engine.ts";
import { ModelHost, type ModelReport } from "../../runtime/engine/model-host.ts";
import { planModels } from "../../runtime/engine/model-plan.ts";
import { loadExtraModels } from "../../runtime/engine/model-set.ts";
import { createApp } from "../../runtime/http/app.ts";
import { communityGate, entitlementGate, type EntitlementGate } from "../../runtime/license/entitlements.ts";
import { checkModelFits, type CandidateFit, type FitTarget } from "../../runtime/model/fit.ts";
import { systemClock } from "../../runtime/clock.ts";
import { silentLogger } from "../../runtime/log.ts";
import { openDatabase, type Db } from "../../runtime/store/db.ts";
import { ApiKeyStore } from "../../runtime/store/api-keys.ts";
import { UsageLedger } from "../../runtime/store/usage-ledger.ts";
import { sharedLlama } from "../helpers/server.ts";
import { testModel } from "../helpers/models.ts";

const SMB = entitlementGate("smb", ["multi_model"], "test license");
const BIG: FitTarget = { memoryBudgetBytes: 64e9, arch: process.arch, cpuFeatures: [], gpu: null };
const SHAPE = { contextSize: 256, sequences: 1 };

let llama: Llama;
let paths: { a: string; b: string; c: string };
/** Real estimates of each model for the test shape (the tiny models of different seeds are the same size). */
let need: { a: CandidateFit; b: CandidateFit; c: CandidateFit };
const dirs: string[] = [];

beforeAll(async () => {
  llama = await sharedLlama();
  const [a, b, c] = await Promise.all([testModel(), testModel({ seed: 2 }), testModel({ seed: 3 })]);
  paths = { a, b, c };
  const fit = (p: string) => checkModelFits(p, BIG, SHAPE, { llama });
  need = { a: await fit(a), b: await fit(b), c: await fit(c) };
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Box {
  url: string;
  key: string;
  host: ModelHost;
  ledger: UsageLedger;
  closed: string[];
  stop(): Promise<void>;
}

let box: Box | null = null;
afterEach(async () => {
  await box?.stop();
  box = null;
});

/** What server.ts does: config → plan → primary (checked, loaded) → extras through the loader. */
async function serve(opts: { gate: EntitlementGate; target?: FitTarget; extras: string[] }): Promise<Box> {
  const dir = mkdtempSync(join(tmpdir(), "hearth-multi-"));
  dirs.push(dir);
  const config = loadConfig({
    flags: { dataDir: dir, "model.path": paths.a, "model.contextSize": 256, "model.parallel": 1, "model.queueSize": 2, models: opts.extras.map((path) => ({ path })) },
  });
  const db: Db = openDatabase(dir);
  const host = new ModelHost();
  const ledger = new UsageLedger(db);
  const keys = new ApiKeyStore(db, systemClock);
  const app = createApp({ models: host, ledger, keys, clock: systemClock, logger: silentLogger, maxTokens: 64, openInference: false, bodyLimitBytes: 1 << 20 });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });

  const closed: string[] = [];
  const load = async (o: LlamaEngineOptions) => {
    const engine = await LlamaEngine.load(o);
    const close = engine.close.bind(engine);
    engine.close = async () => {
      closed.push(engine.model.id);
      await close();
    };
    return engine;
  };
  const shared = { threads: 1, gpu: false, embeddings: true, chatWrapperFallback: "chatML" as const, logger: silentLogger, clock: systemClock, llama };
  const target = opts.target ?? BIG;
  const plan = planModels(config, paths.a);
  host.plan(plan);
  const primaryFit = await checkModelFits(paths.a, target, SHAPE, { llama });
  await host.load(() => load({ ...shared, modelPath: paths.a, modelId: config.model.id, contextSize: 256, parallel: 1, queueSize: 2 }));
  await loadExtraModels(host, plan, { gate: opts.gate, target, primaryFit, engine: shared, load });

  return {
    url: `http://127.0.0.1:${server.port}`,
    key: keys.create("test").key,
    host,
    ledger,
    closed,
    stop: async () => {
      await server.stop(true);
      await host.close();
      db.close();
    },
  };
}

const get = (b: Box, path: string) => fetch(`${b.url}${path}`, { headers: { authorization: `Bearer ${b.key}` } });

async function chat(b: Box, model: string) {
  const res = await fetch(`${b.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${b.key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "Say something." }], max_tokens: 8, temperature: 0 }),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

async function readyz(b: Box) {
  const res = await fetch(`${b.url}/readyz`);
  return { status: res.status, json: (await res.json()) as { status: string; model: string; models: ModelReport[] } };
}

const ID = { a: "tiny-f16-s1", b: "tiny-f16-s2", c: "tiny-f16-s3" };

describe("multi-model serving", () => {
  test("two models: /v1/models lists both, each chat runs on its model and is metered under its id, unknown ids 404 naming both", async () => {
    box = await serve({ gate: SMB, extras: [paths.b] });
    const b = box;

    const list = (await (await get(b, "/v1/models")).json()) as { data: { id: string }[] };
    expect(list.data.map((m) => m.id)).toEqual([ID.a, ID.b]);
    expect((await get(b, `/v1/models/${ID.b}`)).status).toBe(200);

    const [ra, rb] = [await chat(b, ID.a), await chat(b, ID.b)];
    for (const [r, id] of [[ra, ID.a], [rb, ID.b]] as const) {
      expect(r.status).toBe(200);
      expect(r.json.model).toBe(id);
      expect(r.json.usage.completion_tokens).toBeGreaterThan(0);
      const row = b.ledger.byRequestId(r.json.id)!;
      expect(row.model).toBe(id);
      expect(row.outcome).toBe("completed");
      expect(row.completionTokens).toBe(r.json.usage.completion_tokens);
    }
    // Greedy decoding of different weights: the answers come from two different models.
    expect(ra.json.choices[0].message.content).not.toBe(rb.json.choices[0].message.content);

    const unknown = await chat(b, "gpt-9");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("model_not_found");
    expect(unknown.json.error.param).toBe("model");
    expect(unknown.json.error.message).toContain(`this box serves "${ID.a}", "${ID.b}"`);

    const ready = await readyz(b);
    expect(ready.status).toBe(200);
    expect(ready.json.model).toBe(ID.a);
    expect(ready.json.models.map((m) => [m.id, m.field, m.state])).toEqual([
      [ID.a, "model", "ready"],
      [ID.b, "models[0]", "ready"],
    ]);
    for (const m of ready.json.models) {
      expect(m.slots).toEqual({ total: 1, busy: 0, queued: 0, queueCapacity: 2 });
      expect(m.contextSize).toBe(256);
      expect(m.settings?.threads).toBe(1);
    }
  });

  test("without multi_model the extra model is refused with entitlement_required and the primary serves", async () => {
    box = await serve({ gate: communityGate(), extras: [paths.b] });
    const b = box;

    const refused = await chat(b, ID.b);
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe("entitlement_required");
    expect(refused.json.error.type).toBe("permission_error");
    expect(refused.json.error.message).toContain('needs the "multi_model" entitlement');
    expect(refused.json.error.message).toContain("Community tier");

    expect((await chat(b, ID.a)).status).toBe(200);
    const list = (await (await get(b, "/v1/models")).json()) as { data: { id: string }[] };
    expect(list.data.map((m) => m.id)).toEqual([ID.a]);

    const ready = await readyz(b);
    expect(ready.status).toBe(200);
    const extra = ready.json.models.find((m) => m.id === ID.b)!;
    expect(extra).toMatchObject({ field: "models[0]", state: "refused", code: "entitlement_required", slots: null });
    expect(extra.reason).toContain("multi_model");
    expect(b.host.served()).toHaveLength(1); // not loaded at all, not merely hidden
  });

  test("a model over the memory the others left is refused naming the MB; the ones before it serve", async () => {
    // Room for the primary and one extra, and half of a second one.
    const budget = (need.a.needMB.ram + need.b.needMB.ram + need.c.needMB.ram / 2) * 1e6;
    box = await serve({ gate: SMB, target: { ...BIG, memoryBudgetBytes: Math.floor(budget) }, extras: [paths.b, paths.c] });
    const b = box;

    const ready = await readyz(b);
    expect(ready.json.models.map((m) => [m.id, m.state, m.code])).toEqual([
      [ID.a, "ready", null],
      [ID.b, "ready", null],
      [ID.c, "refused", "model_over_budget"],
    ]);
    const reason = ready.json.models[2]!.reason!;
    expect(reason).toContain(`models[1] ("${ID.c}") does not fit the memory left`);
    expect(reason).toContain(`needs ${need.c.needMB.ram.toFixed(1)} MB of RAM`);
    const left = (budget / 1e6 - need.a.needMB.ram - need.b.needMB.ram).toFixed(1);
    expect(reason).toContain(`only ${left} MB of the ${(budget / 1e6).toFixed(1)} MB RAM budget is left`);
    expect(reason).toContain(`after "${ID.a}" ${need.a.needMB.ram.toFixed(1)} MB, "${ID.b}" ${need.b.needMB.ram.toFixed(1)} MB`);

    const refused = await chat(b, ID.c);
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe("model_load_failed");
    expect(refused.json.error.message).toContain("MB of RAM");
    expect(refused.headers.get("retry-after")).toBeNull(); // retrying will not help
    expect((await chat(b, ID.b)).status).toBe(200);
  });

  test("close() closes every engine, the extras before the primary; the drain counts every model's requests", async () => {
    box = await serve({ gate: SMB, extras: [paths.b, paths.c] });
    const b = box;
    // A generation holding a slot of an extra: what the server's drain waits for before close().
    const engine = b.host.engineFor(ID.c);
    const signal = new AbortController().signal;
    const prepared = await engine.prepareChat([{ role: "user", content: "Go on." }], { maxTokens: 8, temperature: 0 }, signal);
    expect(b.host.activity()).toEqual({ busy: 1, queued: 0 });
    const result = await prepared.run({ signal });
    prepared.release();
    expect(result.completionTokens).toBeGreaterThan(0);
    expect(b.host.activity()).toEqual({ busy: 0, queued: 0 });

    await b.host.close();
    expect(b.closed).toEqual([ID.c, ID.b, ID.a]);
    expect(b.host.served()).toEqual([]);
    const after = await chat(b, ID.c);
    expect(after.status).toBe(503); // closed engines are never handed out
  });
});
