/**
 * Swapping the primary model (an OTA update or a rollback) under a steady stream of requests:
 * none fails, each in-flight request finishes on the engine it started on, and a model that
 * cannot load leaves (or brings back) the old one.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { ModelHost } from "../../runtime/engine/model-host.ts";
import { LlamaEngine, type LlamaEngineOptions } from "../../runtime/engine/llama-engine.ts";
import type { InferenceEngine } from "../../runtime/engine/types.ts";
import { silentLogger } from "../../runtime/log.ts";
import { systemClock } from "../../runtime/clock.ts";
import { sharedLlama } from "../helpers/server.ts";
import { testModel } from "../helpers/models.ts";

const hosts: ModelHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.close();
});

async function load(path: string, id: string): Promise<InferenceEngine> {
  const options: LlamaEngineOptions = {
    modelPath: path,
    modelId: id,
    contextSize: 256,
    parallel: 2,
    queueSize: 16,
    threads: 1,
    gpu: false,
    embeddings: false,
    chatWrapperFallback: "chatML",
    logger: silentLogger,
    clock: systemClock,
    llama: await sharedLlama(),
  };
  return LlamaEngine.load(options);
}

/** One completion through the host as the HTTP handlers do it: look the engine up once, then run on it. */
async function complete(host: ModelHost, model: string): Promise<{ servedBy: string; tokens: number }> {
  const engine = host.engineFor(model);
  const prepared = await engine.prepareCompletion("The clinic opens at", { maxTokens: 12, temperature: 0 }, new AbortController().signal);
  const result = await prepared.run({ signal: new AbortController().signal });
  return { servedBy: engine.model.path, tokens: result.completionTokens };
}

/** Requests one after another from `streams` clients until `stop` resolves; every outcome is kept. */
function steadyStream(host: ModelHost, model: string, streams: number, stop: Promise<void>) {
  const outcomes: { ok: boolean; startedAt: number; servedBy?: string; error?: string }[] = [];
  let done = false;
  void stop.then(() => (done = true));
  const clients = Array.from({ length: streams }, async () => {
    while (!done) {
      const startedAt = performance.now();
      try {
        const r = await complete(host, model);
        outcomes.push({ ok: true, startedAt, servedBy: r.servedBy });
      } catch (err) {
        outcomes.push({ ok: false, startedAt, error: (err as Error).message });
      }
    }
  });
  return { outcomes, finished: Promise.all(clients) };
}

describe("swapping the primary model", () => {
  for (const beside of [true, false]) {
    test(`${beside ? "beside the old one" : "in place (both do not fit)"}: no request fails, later ones run on the new model`, async () => {
      const [a, b] = await Promise.all([testModel({ seed: 1 }), testModel({ seed: 2 })]);
      const host = new ModelHost();
      hosts.push(host);
      await host.load(() => load(a, "clinic-model"));
      const stop = Promise.withResolvers<void>();
      const stream = steadyStream(host, "clinic-model", 3, stop.promise);
      await Bun.sleep(300);
      const next = await host.swapPrimary(() => load(b, "clinic-model"), { beside, restore: () => load(a, "clinic-model") });
      const swappedAt = performance.now();
      await Bun.sleep(300);
      stop.resolve();
      await stream.finished;

      expect(next.model.path).toBe(b);
      expect(host.current()).toBe(next);
      const failed = stream.outcomes.filter((o) => !o.ok);
      expect(failed).toEqual([]);
      const servedBy = stream.outcomes.map((o) => o.servedBy);
      expect(servedBy).toContain(a);
      expect(servedBy).toContain(b);
      // Every request that started after the swap ran on the new model.
      const later = stream.outcomes.filter((o) => o.startedAt > swappedAt);
      expect(later.length).toBeGreaterThan(0);
      expect(later.every((o) => o.servedBy === b)).toBe(true);
    }, 60_000);
  }

  test("a model that does not load: beside, the old one never stopped; in place, it is brought back", async () => {
    const a = await testModel({ seed: 1 });
    const broken = join(mkdtempSync(join(tmpdir(), "hearth-swap-")), "broken.gguf");
    writeFileSync(broken, "GGUF, but not really");
    const host = new ModelHost();
    hosts.push(host);
    const first = await host.load(() => load(a, "clinic-model"));

    await expect(host.swapPrimary(() => load(broken, "clinic-model"), { beside: true, restore: () => load(a, "clinic-model") })).rejects.toThrow();
    expect(host.current()).toBe(first);
    expect((await complete(host, "clinic-model")).servedBy).toBe(a);

    const stop = Promise.withResolvers<void>();
    const stream = steadyStream(host, "clinic-model", 2, stop.promise);
    await Bun.sleep(200);
    await expect(host.swapPrimary(() => load(broken, "clinic-model"), { beside: false, restore: () => load(a, "clinic-model") })).rejects.toThrow();
    await Bun.sleep(200);
    stop.resolve();
    await stream.finished;
    expect(stream.outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(host.current()).not.toBe(first); // reloaded
    expect(host.current().model.path).toBe(a);
    expect(host.status()).toEqual({ state: "ready", model: "clinic-model" });
  }, 60_000);

  test("clients naming the old model id are still served after an update renames it", async () => {
    const [a, b] = await Promise.all([testModel({ seed: 1 }), testModel({ seed: 2 })]);
    const host = new ModelHost();
    hosts.push(host);
    await host.load(() => load(a, "clinic-1.0"));
    await host.swapPrimary(() => load(b, "clinic-1.1"), { beside: true, restore: () => load(a, "clinic-1.0") });
    expect((await complete(host, "clinic-1.0")).servedBy).toBe(b);
    expect((await complete(host, "clinic-1.1")).servedBy).toBe(b);
    expect(() => host.engineFor("clinic-0.9")).toThrow("does not exist");
  }, 60_000);
});
