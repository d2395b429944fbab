/**
 * The agent's hold on the served model: swaps the primary engine to a new file (or a new set of
 * adapters) through ModelHost.swapPrimary, health-checking the new engine before it takes a
 * request. Beside the old engine when both estimates fit the memory budget; otherwise in place,
 * new requests waiting in the swap gate. The server supplies the loader (runtime/server.ts).
 */
import type { LoraSetting } from "../../runtime/engine/adapters.ts";
import type { ModelHost } from "../../runtime/engine/model-host.ts";
import type { InferenceEngine } from "../../runtime/engine/types.ts";
import { HearthError } from "../../runtime/errors.ts";
import type { Logger } from "../../runtime/log.ts";
import type { CandidateFit, FitDecision } from "../../runtime/model/fit.ts";

/** What the server knows how to do with the primary model once it has loaded it. */
export interface PrimaryModels {
  /** The file serving now and the OTA adapters applied on it (config model.loras come on top). */
  path: string;
  loras: LoraSetting[];
  /** The serving model's memory estimate. */
  fit: CandidateFit;
  /** What served before any OTA release: config model.path, or the generated demo model. */
  factoryPath: string;
  /** The RAM budget of this box for models, MB. */
  budgetMB: number;
  /** The fit logic for one file (throws model_over_budget / gguf_invalid), at the primary's context and slots. */
  fitOf(path: string): Promise<CandidateFit>;
  /** The fit logic choosing among files of one model. */
  choose(paths: string[]): Promise<FitDecision>;
  /** Loads (does not install) an engine for `path` with config model.loras and then `loras`. */
  load(path: string, loras: readonly LoraSetting[]): Promise<InferenceEngine>;
}

export interface SwapOutcome {
  engine: InferenceEngine;
  beside: boolean;
}

export class Serving {
  constructor(
    private readonly models: ModelHost,
    private readonly primary: () => PrimaryModels | null,
    private readonly logger?: Logger,
  ) {}

  /** The primary's state, or model_unavailable while it is not loaded yet. */
  require(): PrimaryModels {
    const p = this.primary();
    if (!p) throw new HearthError("model_unavailable", "the model is still loading; an update can start once it serves", { retryAfterSeconds: 5 });
    return p;
  }

  /**
   * Serves `path` with `loras` from now on, once `check` (the health check) passed on the new
   * engine. On any failure the previous model serves (beside: never stopped; in place: reloaded)
   * and the error is thrown.
   */
  async swap(path: string, loras: LoraSetting[], check: (engine: InferenceEngine) => Promise<void>, fit?: CandidateFit): Promise<SwapOutcome> {
    const p = this.require();
    const next = fit ?? (await p.fitOf(path));
    const beside = p.fit.needMB.ram + next.needMB.ram <= p.budgetMB;
    const old = { path: p.path, loras: p.loras };
    this.logger?.info("ota swapping the primary model", { beside, needMB: next.needMB.ram, servingMB: p.fit.needMB.ram, budgetMB: p.budgetMB });
    const load = async () => {
      const engine = await p.load(path, loras);
      try {
        await check(engine);
      } catch (err) {
        await engine.close();
        throw err;
      }
      return engine;
    };
    const engine = await this.models.swapPrimary(load, { beside, restore: () => p.load(old.path, old.loras) });
    Object.assign(p, { path, loras, fit: next });
    return { engine, beside };
  }
}
