import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Llama } from "node-llama-cpp";
import type { Config } from "./config/schema.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import { openDatabase, type Db } from "./store/db.ts";
import { ApiKeyStore } from "./store/api-keys.ts";
import { UsageLedger } from "./store/usage-ledger.ts";
import { ModelHost } from "./engine/model-host.ts";
import type { InferenceEngine } from "./engine/types.ts";
import { createApp } from "./http/app.ts";

export interface RunningServer {
  url: string;
  port: number;
  models: ModelHost;
  /** Resolves when the model is loaded; rejects with the reason it could not be. */
  ready: Promise<InferenceEngine>;
  /** The serving engine; throws while the model loads or after it failed. */
  readonly engine: InferenceEngine;
  db: Db;
  stop(): Promise<void>;
}

export interface ServerDeps {
  logger: Logger;
  clock: Clock;
  llama?: Llama;
  /** How long stop() waits for in-flight requests before closing their connections. */
  shutdownGraceMs?: number;
}

export const DEMO_MODEL_FILE = "models/demo-tiny.gguf";

/** Without a configured model the box serves a generated demo model, so a fresh clone just runs. */
async function resolveModelPath(config: Config, logger: Logger): Promise<string> {
  if (config.model.path) return resolve(config.model.path);
  const demo = resolve(config.dataDir, DEMO_MODEL_FILE);
  if (!existsSync(demo)) {
    logger.info("no model configured; generating the demo model", { path: demo });
    const { synthesizeModel } = await import("./model/synth.ts");
    await synthesizeModel({ out: demo, params: "tiny", type: "f16", seed: 1, name: "demo-tiny" });
  }
  return demo;
}

/** llama.cpp's bindings take a few hundred milliseconds to import; the socket opens first. */
async function loadEngine(config: Config, deps: ServerDeps): Promise<InferenceEngine> {
  const { LlamaEngine } = await import("./engine/llama-engine.ts");
  return LlamaEngine.load({
    modelPath: await resolveModelPath(config, deps.logger),
    modelId: config.model.id,
    contextSize: config.model.contextSize,
    parallel: config.model.parallel,
    queueSize: config.model.queueSize,
    threads: config.model.threads,
    gpu: config.model.gpu,
    embeddings: config.model.embeddings,
    chatWrapperFallback: config.model.chatWrapperFallback,
    logger: deps.logger,
    clock: deps.clock,
    llama: deps.llama,
  });
}

/** Opens the store, listens, then loads the model in the background (see ModelHost). */
export async function startServer(config: Config, deps: ServerDeps): Promise<RunningServer> {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const db = openDatabase(dataDir);
  const models = new ModelHost();
  const app = createApp({
    models,
    ledger: new UsageLedger(db),
    keys: new ApiKeyStore(db, deps.clock),
    clock: deps.clock,
    logger: deps.logger,
    maxTokens: config.model.maxTokens,
    openInference: config.auth.openInference,
    bodyLimitBytes: config.server.bodyLimitBytes,
  });
  const server = Bun.serve({
    hostname: config.server.host,
    port: config.server.port,
    fetch: app.fetch,
    // Bun's own cap is a backstop; the app's limit answers with a proper 413 body first.
    maxRequestBodySize: config.server.bodyLimitBytes * 4,
    // Long non-streamed generations are legitimately silent; 255 s is Bun's maximum.
    idleTimeout: 255,
  });
  const host = config.server.host === "0.0.0.0" ? "127.0.0.1" : config.server.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`;
  deps.logger.info("listening", { url, data_dir: dataDir });

  const ready = models.load(() => loadEngine(config, deps));
  ready.catch((err: Error) => deps.logger.error("model failed to load", { error: err.message }));

  let stopped = false;
  return {
    url,
    port: server.port!,
    models,
    ready,
    get engine() {
      return models.current();
    },
    db,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await ready.catch(() => undefined);
      // Stop accepting, let running generations finish (they meter on the way out), then close
      // what is left, idle keep-alive connections included.
      void server.stop(false);
      const deadline = deps.clock.monotonic() + (deps.shutdownGraceMs ?? 10_000);
      while (deps.clock.monotonic() < deadline) {
        const status = models.status();
        const slots = status.state === "ready" ? models.current().slots() : { busy: 0, queued: 0 };
        if (slots.busy === 0 && slots.queued === 0) break;
        await Bun.sleep(20);
      }
      await server.stop(true);
      await models.close();
      db.close();
    },
  };
}
