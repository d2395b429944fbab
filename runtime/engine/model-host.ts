import { HearthError, isHearthError } from "../errors.ts";
import type { InferenceEngine } from "./types.ts";

export type ModelHostStatus =
  | { state: "loading" }
  | { state: "ready"; model: string }
  | { state: "failed"; code: string; reason: string };

/**
 * Holds the engine the API serves. The server listens before the model has loaded (so /healthz
 * answers at once and the box can show it is booting); until then inference answers 503.
 * Handlers take the engine once per request, so a request finishes on the engine it started on.
 */
export class ModelHost {
  private engine: InferenceEngine | null = null;
  private failure: HearthError | null = null;

  async load(load: () => Promise<InferenceEngine>): Promise<InferenceEngine> {
    try {
      this.engine = await load();
      this.failure = null;
      return this.engine;
    } catch (err) {
      this.failure = isHearthError(err) ? err : new HearthError("model_load_failed", `model failed to load: ${(err as Error).message}`, { cause: err });
      throw this.failure;
    }
  }

  /** The serving engine, or a 503 that says why there is none. */
  current(): InferenceEngine {
    if (this.engine) return this.engine;
    if (this.failure) throw new HearthError("model_load_failed", `no model is being served: ${this.failure.message}`);
    throw new HearthError("model_unavailable", "the model is still loading; retry shortly", { retryAfterSeconds: 1 });
  }

  status(): ModelHostStatus {
    if (this.engine) return { state: "ready", model: this.engine.model.id };
    if (this.failure) return { state: "failed", code: this.failure.code, reason: this.failure.message };
    return { state: "loading" };
  }

  async close(): Promise<void> {
    const engine = this.engine;
    this.engine = null;
    await engine?.close();
  }
}
