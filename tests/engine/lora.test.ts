/**
 * LoRA adapters in the engine, through real llama.cpp on the tiny synthetic model: an adapter
 * changes greedy output, scale 0 does not, and a bad adapter is refused with its reason while
 * the base model keeps serving.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { LlamaEngine, type LlamaEngineOptions } from "../../runtime/engine/llama-engine.ts";
import { HearthError } from "../../runtime/errors.ts";
import { loadConfig } from "../../runtime/config/load.ts";
import { createLogger } from "../../runtime/log.ts";
import { systemClock } from "../../runtime/clock.ts";
import { sharedLlama } from "../helpers/server.ts";
import { loraFixtures } from "../model/lora-fixture.ts";

const engines: LlamaEngine[] = [];
afterAll(async () => {
  for (const e of engines) await e.close();
});

async function engine(extra: Partial<LlamaEngineOptions> = {}, logs: string[] = []): Promise<LlamaEngine> {
  const e = await LlamaEngine.load({
    modelPath: (await loraFixtures()).base,
    contextSize: 256,
    parallel: 1,
    queueSize: 0,
    threads: 1, // faster than two for the tiny model on a small box
    gpu: false,
    embeddings: false,
    chatWrapperFallback: "chatML",
    logger: createLogger({ level: "warn", write: (line) => logs.push(line) }),
    clock: systemClock,
    llama: await sharedLlama(),
    ...extra,
  });
  engines.push(e);
  return e;
}

async function greedy(e: LlamaEngine): Promise<string> {
  const signal = new AbortController().signal;
  const prepared = await e.prepareCompletion("Once upon a time", { maxTokens: 24, temperature: 0 }, signal);
  return (await prepared.run({ signal })).text;
}

let baseText: Promise<string> | undefined;
const baseOutput = async () => (baseText ??= engine().then(greedy));

describe("LoRA adapters", () => {
  test("an adapter at scale 1 changes greedy output; at scale 0 it equals the base model's", async () => {
    const f = await loraFixtures();
    const base = await baseOutput();
    const adapted = await engine({ loras: [{ path: f.adapter, scale: 1 }] });
    expect(adapted.model.adapters).toEqual([
      { path: f.adapter, scale: 1, field: "model.loras[0].path", applied: true, reason: null, code: null, sizeBytes: f.adapterSize, sha256: f.adapterSha256 },
    ]);
    const text = await greedy(adapted);
    expect(text).not.toBe(base);
    expect(text.length).toBeGreaterThan(20);
    const zero = await engine({ loras: [{ path: f.adapter, scale: 0 }] });
    expect(zero.model.adapters[0]!.applied).toBe(true);
    expect(await greedy(zero)).toBe(base);
    expect((await engine()).model.adapters).toEqual([]);
  });

  test("bad adapters are refused naming model.loras[i].path and why; the base model serves unchanged", async () => {
    const f = await loraFixtures();
    const logs: string[] = [];
    const missing = `${f.adapter}.missing`;
    const e = await engine({ loras: [missing, f.base, f.for20m, f.f64Alpha].map((path) => ({ path, scale: 1 })) }, logs);
    const status = e.model.adapters;
    expect(status.map((a) => [a.field, a.applied, a.code])).toEqual([
      ["model.loras[0].path", false, "model_not_found"],
      ["model.loras[1].path", false, "gguf_invalid"],
      ["model.loras[2].path", false, "gguf_invalid"],
      ["model.loras[3].path", false, "gguf_invalid"],
    ]);
    expect(status[0]!.reason).toBe(`model.loras[0].path: ${missing}: no such file`);
    expect(status[1]!.reason).toContain("not a LoRA adapter");
    expect(status[2]!.reason).toContain("shape mismatch");
    expect(status[3]!.reason).toContain("stored as f64"); // handed to llama.cpp, this one would abort the process
    expect(logs.filter((l) => l.includes("LoRA adapter refused"))).toHaveLength(4);
    expect(await greedy(e)).toBe(await baseOutput());
  });

  test("an adapter llama.cpp itself refuses is left out; the others still apply", async () => {
    const f = await loraFixtures();
    const both = await engine({ loras: [{ path: f.adapter, scale: 1 }, { path: f.badAlora, scale: 1 }] });
    expect(both.model.adapters.map((a) => a.applied)).toEqual([true, false]);
    expect(both.model.adapters[1]).toMatchObject({ code: "model_load_failed", field: "model.loras[1].path" });
    expect(both.model.adapters[1]!.reason).toStartWith(`model.loras[1].path: llama.cpp refused ${f.badAlora}`);
    const only = await engine({ loras: [{ path: f.adapter, scale: 1 }] });
    expect(await greedy(both)).toBe(await greedy(only));
  });

  test("a denied entitlement refuses every adapter without reading them; the base model serves", async () => {
    const f = await loraFixtures();
    const deny = () => {
      throw new HearthError("entitlement_required", 'Loading LoRA adapters needs the "lora_adapters" entitlement: no license is installed', { field: "lora_adapters" });
    };
    const e = await engine({ loras: [{ path: f.adapter, scale: 1 }, { path: f.adapter, scale: 2 }], permitAdapters: deny });
    expect(e.model.adapters.map((a) => [a.applied, a.code, a.sha256])).toEqual([
      [false, "entitlement_required", null],
      [false, "entitlement_required", null],
    ]);
    expect(e.model.adapters[1]!.reason).toBe('model.loras[1].path: Loading LoRA adapters needs the "lora_adapters" entitlement: no license is installed');
    expect(await greedy(e)).toBe(await baseOutput());
  });

  test("the same file twice is applied once", async () => {
    const f = await loraFixtures();
    const e = await engine({ loras: [{ path: f.adapter, scale: 1 }, { path: f.adapter, scale: 3 }], permitAdapters: () => {} });
    expect(e.model.adapters.map((a) => a.applied)).toEqual([true, false]);
    expect(e.model.adapters[1]!.reason).toBe(`model.loras[1].path: ${f.adapter} is already applied as model.loras[0].path`);
  });
});

describe("model.loras config", () => {
  test("defaults to none; entries take a path and a scale (default 1, 0..4)", () => {
    expect(loadConfig({}).model.loras).toEqual([]);
    const env = { HEARTH_MODEL_LORAS: JSON.stringify([{ path: "/a.gguf" }, { path: "/b.gguf", scale: 0.5 }]) };
    expect(loadConfig({ env }).model.loras).toEqual([{ path: "/a.gguf", scale: 1 }, { path: "/b.gguf", scale: 0.5 }]);
    const bad = { HEARTH_MODEL_LORAS: JSON.stringify([{ path: "", scale: 9 }]) };
    expect(() => loadConfig({ env: bad })).toThrow(/model\.loras\[0\]\.path: "" must have a length at least 1[\s\S]*model\.loras\[0\]\.scale: 9 must be at most 4/);
  });
});
