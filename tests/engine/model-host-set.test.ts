/**
 * The set of models behind one ModelHost: config (`models`, ids, inherited settings), the memory
 * the loaded models leave, each extra's own state, and shutdown while an extra loads. Engines are
 * real LlamaEngines over tiny synthetic models.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Llama } from "node-llama-cpp";
import { loadConfig } from "../../runtime/config/load.ts";
import { LlamaEngine, type LlamaEngineOptions } from "../../runtime/engine/llama-engine.ts";
import { MemoryLeft } from "../../runtime/engine/memory-left.ts";
import { ModelHost } from "../../runtime/engine/model-host.ts";
import { planModels } from "../../runtime/engine/model-plan.ts";
import { loadExtraModels, type ExtraModelsDeps } from "../../runtime/engine/model-set.ts";
import { HearthError } from "../../runtime/errors.ts";
import { entitlementGate } from "../../runtime/license/entitlements.ts";
import { checkModelFits, type CandidateFit, type FitTarget } from "../../runtime/model/fit.ts";
import { systemClock } from "../../runtime/clock.ts";
import { silentLogger } from "../../runtime/log.ts";
import { sharedLlama } from "../helpers/server.ts";
import { testModel } from "../helpers/models.ts";

const dir = mkdtempSync(join(tmpdir(), "hearth-model-set-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const errorOf = (fn: () => unknown): HearthError => {
  try {
    fn();
  } catch (err) {
    return err as HearthError;
  }
  throw new Error("expected an error");
};

describe("config: models", () => {
  test("extras default to [] and take the settings they leave out from `model`; ids default to the file name", () => {
    expect(loadConfig({}).models).toEqual([]);
    const config = loadConfig({
      env: {
        HEARTH_MODEL_PATH: "/m/main.gguf",
        HEARTH_MODEL_CONTEXT_SIZE: "512",
        HEARTH_MODEL_PARALLEL: "3",
        HEARTH_MODELS: JSON.stringify([{ path: "/m/coder-q4.gguf" }, { path: "/m/x.gguf", id: "small", contextSize: 1024, parallel: 1, queueSize: 0 }]),
      },
    });
    const plan = planModels(config, "/m/main.gguf");
    expect(plan.primary).toEqual({ id: "main", field: "model", path: "/m/main.gguf", contextSize: 512, parallel: 3, queueSize: 16 });
    expect(plan.extras).toEqual([
      { id: "coder-q4", field: "models[0]", path: "/m/coder-q4.gguf", contextSize: 512, parallel: 3, queueSize: 16 },
      { id: "small", field: "models[1]", path: "/m/x.gguf", contextSize: 1024, parallel: 1, queueSize: 0 },
    ]);
  });

  test("an entry without a path or with an unknown field is a config error naming it", () => {
    const err = errorOf(() => loadConfig({ env: { HEARTH_MODELS: JSON.stringify([{ id: "x" }, { path: "/a.gguf", ctx: 1 }]) } }));
    expect(err.code).toBe("config_invalid");
    expect(err.message).toContain("models[0].path: missing is required");
    expect(err.message).toContain("models[1].ctx: 1 is not a known field (from environment)");
  });

  test("ids must be unique across the primary and the extras: config_invalid naming models[i].id", () => {
    const sameFile = loadConfig({ flags: { "model.path": "/a/main.gguf", models: [{ path: "/b/main.gguf" }] } });
    const first = errorOf(() => planModels(sameFile, "/a/main.gguf"));
    expect(first.code).toBe("config_invalid");
    expect(first.field).toBe("models[0].id");
    expect(first.message).toContain('models[0].id: "main" is already the id of model (from the file name of models[0].path; set models[0].id)');

    const twice = loadConfig({ flags: { "model.path": "/a/main.gguf", models: [{ path: "/b/x.gguf", id: "x" }, { path: "/c/y.gguf", id: "x" }] } });
    const second = errorOf(() => planModels(twice, "/a/main.gguf"));
    expect(second.field).toBe("models[1].id");
    expect(second.message).toContain('models[1].id: "x" is already the id of models[0]; model ids must be unique');

    const renamed = loadConfig({ flags: { "model.path": "/a/main.gguf", models: [{ path: "/b/main.gguf", id: "main-b" }] } });
    expect(planModels(renamed, "/a/main.gguf").extras.map((m) => m.id)).toEqual(["main-b"]);
  });
});

describe("memory left", () => {
  const fit = (ram: number, vram: number, fits = true) => ({ needMB: { ram, vram }, fits, contextSize: 256 }) as CandidateFit;

  test("each model takes its RAM out; the next must fit the rest", () => {
    const m = new MemoryLeft({ memoryBudgetBytes: 100e6, arch: "x64", cpuFeatures: [], gpu: null });
    m.take("a", fit(60, 0));
    expect(m.remaining().memoryBudgetBytes).toBe(40e6);
    expect(m.shortfall(fit(40, 0))).toBeNull();
    expect(m.shortfall(fit(40.1, 0))).toEqual({ what: "RAM", needMB: 40.1, leftMB: 40, budgetMB: 100 });
    expect(m.describeTaken()).toBe('"a" 60.0 MB');
  });

  test("a discrete GPU's VRAM is shared the same way; unified memory comes out of the one pool", () => {
    const discrete = new MemoryLeft({ memoryBudgetBytes: 1000e6, arch: "x64", cpuFeatures: [], gpu: { vramBytes: 500e6, unifiedMemory: false, offload: "fit" } });
    discrete.take("a", fit(100, 400));
    expect(discrete.remaining().gpu?.vramBytes).toBe(100e6);
    expect(discrete.shortfall(fit(100, 150))).toEqual({ what: "VRAM", needMB: 150, leftMB: 100, budgetMB: 500 });

    // Jetson: `ram` already counts the GPU's share, and the GPU allocates from the same RAM.
    const unified = new MemoryLeft({ memoryBudgetBytes: 1000e6, arch: "arm64", cpuFeatures: [], gpu: { vramBytes: 1000e6, unifiedMemory: true, offload: "all" } });
    unified.take("a", fit(700, 650));
    expect(unified.remaining()).toMatchObject({ memoryBudgetBytes: 300e6, gpu: { vramBytes: 300e6 } });
    expect(unified.shortfall(fit(320, 300))?.what).toBe("RAM");
  });

  test("an estimate that says it does not fit is never taken for one that does", () => {
    const m = new MemoryLeft({ memoryBudgetBytes: 100e6, arch: "x64", cpuFeatures: [], gpu: null });
    expect(m.shortfall(fit(100, 0, false))?.what).toBe("RAM");
  });
});

describe("model host with extras", () => {
  let llama: Llama;
  let paths: { a: string; b: string };
  const BIG: FitTarget = { memoryBudgetBytes: 64e9, arch: process.arch, cpuFeatures: [], gpu: null };
  const SMB = entitlementGate("smb", ["multi_model"], "test license");
  beforeAll(async () => {
    llama = await sharedLlama();
    const [a, b] = await Promise.all([testModel(), testModel({ seed: 2 })]);
    paths = { a, b };
  });

  const shared = () => ({ threads: 1, gpu: false, embeddings: false, chatWrapperFallback: "chatML" as const, logger: silentLogger, clock: systemClock, llama });
  const options = (path: string): LlamaEngineOptions => ({ ...shared(), modelPath: path, contextSize: 256, parallel: 1, queueSize: 0 });
  const planOf = (extras: { path: string; id?: string }[]) =>
    planModels(loadConfig({ flags: { "model.path": paths.a, "model.contextSize": 256, "model.parallel": 1, "model.queueSize": 0, models: extras } }), paths.a);
  const depsOf = async (extra: Partial<ExtraModelsDeps> = {}): Promise<ExtraModelsDeps> => ({
    gate: SMB,
    target: BIG,
    primaryFit: await checkModelFits(paths.a, BIG, { contextSize: 256, sequences: 1 }, { llama }),
    engine: shared(),
    ...extra,
  });

  test("an extra answers 503 with Retry-After while it loads, then serves; the primary is unaffected", async () => {
    const host = new ModelHost();
    const plan = planOf([{ path: paths.b, id: "second" }]);
    host.plan(plan);
    // Before the primary has loaded, every model answers as one model did: 503 while loading.
    expect(errorOf(() => host.engineFor("second")).code).toBe("model_unavailable");
    expect(errorOf(() => host.engineFor("anything")).code).toBe("model_unavailable");
    expect(host.models().map((m) => [m.id, m.state])).toEqual([
      ["tiny-f16-s1", "loading"],
      ["second", "loading"],
    ]);

    await host.load(() => LlamaEngine.load(options(paths.a)));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const loading = loadExtraModels(host, plan, await depsOf({ load: async (o) => (await held, LlamaEngine.load(o)) }));
    await Bun.sleep(0);
    const waiting = errorOf(() => host.engineFor("second"));
    expect([waiting.code, waiting.status, waiting.details.retryAfterSeconds]).toEqual(["model_unavailable", 503, 1]);
    expect(host.engineFor("tiny-f16-s1").model.id).toBe("tiny-f16-s1");

    release();
    await loading;
    const second = host.engineFor("second");
    expect(second.model.id).toBe("second");
    expect(second.model.path).toBe(paths.b);
    expect(host.served().map((e) => e.model.id)).toEqual(["tiny-f16-s1", "second"]);
    await host.close();
  });

  test("an extra that is not a model fails alone: failed with its code, 503 model_load_failed naming it", async () => {
    const broken = join(dir, "broken.gguf");
    writeFileSync(broken, "GGUF but not really");
    const host = new ModelHost();
    await host.load(() => LlamaEngine.load(options(paths.a)));
    const plan = planOf([{ path: broken }, { path: paths.b }]);
    await loadExtraModels(host, plan, await depsOf());
    expect(host.models().map((m) => [m.id, m.state, m.code])).toEqual([
      ["tiny-f16-s1", "ready", null],
      ["broken", "failed", "gguf_invalid"],
      ["tiny-f16-s2", "ready", null],
    ]);
    const err = errorOf(() => host.engineFor("broken"));
    expect([err.code, err.status, err.field]).toEqual(["model_load_failed", 503, "model"]);
    expect(err.message).toContain(`model "broken" is not served: ${broken}: truncated`);
    await host.close();
  });

  test("close() while an extra loads waits for it, closes it, and starts no further extra", async () => {
    const host = new ModelHost();
    await host.load(() => LlamaEngine.load(options(paths.a)));
    const plan = planOf([{ path: paths.b, id: "b1" }, { path: paths.b, id: "b2" }]);
    const loaded: string[] = [];
    const closed: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const loading = loadExtraModels(
      host,
      plan,
      await depsOf({
        load: async (o) => {
          await held;
          const engine = await LlamaEngine.load(o);
          loaded.push(engine.model.id);
          const close = engine.close.bind(engine);
          engine.close = async () => (closed.push(engine.model.id), close());
          return engine;
        },
      }),
    );
    await Bun.sleep(0);
    const closing = host.close();
    release();
    await Promise.all([closing, loading]);
    expect(loaded).toEqual(["b1"]);
    expect(closed).toEqual(["b1"]);
    expect(host.models().find((m) => m.id === "b2")?.state).toBe("loading"); // never started
    expect(errorOf(() => host.engineFor("tiny-f16-s1")).code).toBe("model_unavailable");
  });
});
