import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Llama } from "node-llama-cpp";
import type { Config } from "./config/schema.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import { openDatabase, type Db } from "./store/db.ts";
import { ApiKeyStore } from "./store/api-keys.ts";
import { UsageLedger, type UsageLedgerOptions } from "./store/usage-ledger.ts";
import { ModelHost } from "./engine/model-host.ts";
import type { InferenceEngine } from "./engine/types.ts";
import { createApp } from "./http/app.ts";
import { CalibrationStore, type CalibratedSettings } from "./store/calibrations.ts";
import type { BoardReport } from "../board/index.ts";

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
  /** Usage ledger options (chain, checkpoint signer and interval); default: chained, unsigned. */
  ledger?: Omit<UsageLedgerOptions, "clock">;
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

/**
 * Board → kernel build → fit check → calibrated settings → engine. llama.cpp's bindings take a few
 * hundred milliseconds to import, so all of this runs after the socket is open.
 */
async function loadEngine(config: Config, deps: ServerDeps, db: Db): Promise<InferenceEngine> {
  const [{ LlamaEngine }, { inspectHardware, fitTargetOf }, { loadKernel }, { smokeTest }, { checkModelFits }] = await Promise.all([
    import("./engine/llama-engine.ts"),
    import("./hardware.ts"),
    import("../kernels/load.ts"),
    import("./engine/smoke-test.ts"),
    import("./model/fit.ts"),
  ]);
  const { board, kernel: choice } = await inspectHardware({ allowGpu: config.model.gpu, logger: deps.logger });
  let llama = deps.llama;
  let kernel = { id: choice.id, backend: choice.backend as string, fallbackReason: null as string | null };
  if (!llama) {
    const loaded = await loadKernel(choice, { logger: deps.logger, smokeTest });
    llama = loaded.llama;
    kernel = { id: loaded.active.id, backend: loaded.active.backend, fallbackReason: loaded.fallbackReason };
  }
  const modelPath = await resolveModelPath(config, deps.logger);
  const target = fitTargetOf(board, config.model.gpu);
  if (config.model.memoryBudgetMB > 0) target.memoryBudgetBytes = config.model.memoryBudgetMB * 1024 * 1024;
  // Never start a model that would not fit: an OOM kill takes the whole box down.
  await checkModelFits(modelPath, target, { contextSize: config.model.contextSize, sequences: config.model.parallel }, { llama });
  const tuned = await calibratedSettings(config, deps, db, { board, kernel: kernel.id, llama, modelPath });
  return LlamaEngine.load({
    modelPath,
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
    llama,
    ownsLlama: !deps.llama,
    tuned,
    kernel,
  });
}

/** Stored settings for (board, kernel, model); measured now when missing and calibration.auto is on. */
async function calibratedSettings(
  config: Config,
  deps: ServerDeps,
  db: Db,
  what: { board: BoardReport; kernel: string; llama: Llama; modelPath: string },
): Promise<CalibratedSettings | null> {
  const { modelSha256 } = await import("./model/hash.ts");
  const key = { board: what.board.kind, kernel: what.kernel, modelSha256: await modelSha256(db, what.modelPath) };
  const stored = new CalibrationStore(db).find(key);
  if (stored) return stored.settings;
  if (!config.calibration.auto) return null;
  deps.logger.info("calibrating: no stored settings for this board, kernel build and model", key);
  const { runCalibration } = await import("./calibration/run.ts");
  const cert = await runCalibration(
    db,
    what.modelPath,
    {
      board: { kind: what.board.kind, name: what.board.name },
      kernel: { id: what.kernel, backend: what.llama.gpu || "cpu", cpuVariant: null },
      llama: what.llama,
      cores: what.board.cpu.performanceCores || what.board.cpu.cores || 1,
    },
    { clock: deps.clock, contextSize: config.model.contextSize },
  );
  deps.logger.info("calibrated", { ...cert.settings, tg_tok_s: Math.round(cert.tgTokPerSec), pp_tok_s: Math.round(cert.ppTokPerSec), ms: cert.durationMs });
  return cert.settings;
}

/** Opens the store, listens, then loads the model in the background (see ModelHost). */
export async function startServer(config: Config, deps: ServerDeps): Promise<RunningServer> {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const db = openDatabase(dataDir);
  const models = new ModelHost();
  const app = createApp({
    models,
    ledger: new UsageLedger(db, { ...deps.ledger, clock: deps.clock }),
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

  const ready = models.load(() => loadEngine(config, deps, db));
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
