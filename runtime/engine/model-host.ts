import { HearthError, isHearthError } from "../errors.ts";
import type { ModelPlan, PlannedModel } from "./model-plan.ts";
import type { SlotStats } from "./slot-pool.ts";
import type { InferenceEngine, ModelDescriptor } from "./types.ts";
import { SwapGate } from "./swap-gate.ts";

export type ModelHostStatus =
  | { state: "loading" }
  | { state: "ready"; model: string }
  | { state: "failed"; code: string; reason: string };

/** refused: not started on purpose (license, memory left); failed: it was tried and did not load. */
export type ModelState = "loading" | "ready" | "failed" | "refused";

/** One served or configured model, for /readyz. */
export interface ModelReport {
  id: string;
  /** The setting that configures it: "model" or "models[i]". */
  field: string;
  state: ModelState;
  /** Why it is not served (failed or refused) and the error's code; null otherwise. */
  code: string | null;
  reason: string | null;
  path: string;
  /** In force once loaded (context capped at the model's training context), configured before. */
  contextSize: number;
  parallel: number;
  queueSize: number;
  slots: SlotStats | null;
  settings: ModelDescriptor["settings"] | null;
  kernel: ModelDescriptor["kernel"] | null;
}

interface Extra {
  plan: PlannedModel;
  state: ModelState;
  engine: InferenceEngine | null;
  failure: HearthError | null;
}

/** Codes of a model not started on purpose, rather than one that broke. */
const REFUSALS: ReadonlySet<string> = new Set(["entitlement_required", "model_over_budget"]);

const asFailure = (err: unknown): HearthError =>
  isHearthError(err) ? err : new HearthError("model_load_failed", `model failed to load: ${(err as Error).message}`, { cause: err });

/**
 * Holds the engines the API serves: the primary (`model`) and the extras (`models`). The server
 * listens before the primary has loaded (so /healthz answers at once and the box can show it is
 * booting); until then inference answers 503. Extras load after it, each with its own state.
 *
 * A request for a model that is not served answers: 503 model_unavailable (Retry-After) while it
 * loads; 403 entitlement_required when the license refused it (a license with the entitlement,
 * not a retry, fixes it); 503 model_load_failed, without Retry-After, when it failed to load or
 * was refused for memory (only a config change and restart fix those); 404 model_not_found,
 * listing the ids served, for an id not configured.
 *
 * Handlers take the engine once per request, so a request finishes on the engine it started on.
 */
export class ModelHost {
  private engine: InferenceEngine | null = null;
  private failure: HearthError | null = null;
  private primaryPlan: PlannedModel | null = null;
  private readonly extras = new Map<string, Extra>();
  private readonly pending = new Set<Promise<unknown>>();
  private closing = false;
  /** Ids the primary answered to before a swap, so clients naming the old id keep being served. */
  private readonly primaryAliases = new Set<string>();

  async load(load: () => Promise<InferenceEngine>): Promise<InferenceEngine> {
    try {
      this.engine = await load();
      this.failure = null;
      return this.engine;
    } catch (err) {
      this.failure = asFailure(err);
      throw this.failure;
    }
  }

  /** Records every configured model, so /readyz lists the extras as loading before their turn. */
  plan(plan: ModelPlan): void {
    this.primaryPlan = plan.primary;
    for (const p of plan.extras) if (!this.extras.has(p.id)) this.extras.set(p.id, { plan: p, state: "loading", engine: null, failure: null });
  }

  /**
   * Loads a planned extra model. Its failure is recorded, not thrown: as `refused` when `load`
   * declined to start it (entitlement_required, model_over_budget), else as `failed`.
   */
  async loadExtra(id: string, load: () => Promise<InferenceEngine>): Promise<InferenceEngine | null> {
    const extra = this.extraNamed(id);
    if (this.closing) return null;
    const loading = (async () => {
      try {
        extra.engine = await load();
        extra.state = "ready";
      } catch (err) {
        extra.failure = asFailure(err);
        extra.state = REFUSALS.has(extra.failure.code) ? "refused" : "failed";
      }
    })();
    this.pending.add(loading);
    await loading;
    this.pending.delete(loading);
    return extra.engine;
  }

  get closed(): boolean {
    return this.closing;
  }

  /** The primary engine, or a 503 that says why there is none. */
  current(): InferenceEngine {
    if (this.engine) return this.engine;
    if (this.failure) throw new HearthError("model_load_failed", `no model is being served: ${this.failure.message}`);
    throw new HearthError("model_unavailable", "the model is still loading; retry shortly", { retryAfterSeconds: 1 });
  }

  /** The engine serving `model` (see the class comment for the errors). */
  engineFor(model: string): InferenceEngine {
    if (this.closing) throw new HearthError("model_unavailable", "the box is shutting down; no model takes new requests");
    if (this.engine && (this.engine.model.id === model || this.primaryAliases.has(model))) return this.engine;
    const extra = this.extras.get(model);
    if (extra) return this.extraEngine(extra);
    this.current(); // while the primary loads or after it failed, that is the answer, as with one model
    const served = this.served().map((e) => JSON.stringify(e.model.id));
    throw new HearthError("model_not_found", `model ${JSON.stringify(model)} does not exist; this box serves ${served.join(", ")}`, { field: "model" });
  }

  /** Every ready engine, the primary first. */
  served(): InferenceEngine[] {
    const extras = [...this.extras.values()].flatMap((e) => (e.state === "ready" && e.engine ? [e.engine] : []));
    return this.engine ? [this.engine, ...extras] : extras;
  }

  status(): ModelHostStatus {
    if (this.engine) return { state: "ready", model: this.engine.model.id };
    if (this.failure) return { state: "failed", code: this.failure.code, reason: this.failure.message };
    return { state: "loading" };
  }

  /** Every model with its state: the primary (once its id is known), then the extras in config order. */
  models(): ModelReport[] {
    const out: ModelReport[] = [];
    if (this.engine) out.push(engineReport(this.engine, "model"));
    else if (this.primaryPlan) out.push(planReport(this.primaryPlan, this.failure ? "failed" : "loading", this.failure));
    for (const e of this.extras.values()) out.push(e.engine ? engineReport(e.engine, e.plan.field) : planReport(e.plan, e.state, e.failure));
    return out;
  }

  /**
   * Replaces the primary engine (an update, or a rollback) without failing a request.
   * - `beside` (both models fit the memory budget): the new engine loads while the old serves;
   *   then new requests go to the new one and the old closes once its requests have finished.
   * - otherwise: new requests wait (SwapGate) while the old finishes its requests and closes and
   *   the new loads; then they run on the new one.
   * When `load` fails, `restore` brings the old model back (without `beside` it was closed) and
   * the error is thrown. In-flight requests always finish on the engine they started on.
   */
  async swapPrimary(load: () => Promise<InferenceEngine>, opts: { beside: boolean; restore: () => Promise<InferenceEngine>; drainPollMs?: number }): Promise<InferenceEngine> {
    const old = this.current();
    if (this.closing) throw new HearthError("model_unavailable", "the box is shutting down");
    if (opts.beside) {
      const next = await load(); // a failure leaves the old engine serving, untouched
      this.install(next, old);
      await drained(old, opts.drainPollMs);
      await old.close();
      return next;
    }
    const swapped = Promise.withResolvers<InferenceEngine>();
    this.engine = new SwapGate(old.model, swapped.promise);
    try {
      await drained(old, opts.drainPollMs);
      await old.close();
      let next: InferenceEngine;
      try {
        next = await load();
      } catch (err) {
        const back = await opts.restore();
        this.install(back, old);
        swapped.resolve(back);
        throw err;
      }
      this.install(next, old);
      swapped.resolve(next);
      return next;
    } catch (err) {
      swapped.reject(asFailure(err));
      if (this.engine instanceof SwapGate) {
        this.engine = null;
        this.failure = asFailure(err);
      }
      throw err;
    }
  }

  private install(next: InferenceEngine, old: InferenceEngine): void {
    if (next.model.id !== old.model.id) this.primaryAliases.add(old.model.id);
    this.primaryAliases.delete(next.model.id);
    this.engine = next;
    this.failure = null;
  }

  /** Requests running or queued on every engine, for a graceful shutdown. */
  activity(): { busy: number; queued: number } {
    return this.served().reduce(
      (sum, e) => {
        const s = e.slots();
        return { busy: sum.busy + s.busy, queued: sum.queued + s.queued };
      },
      { busy: 0, queued: 0 },
    );
  }

  /**
   * Closes every engine. Waits for an extra still loading (its binding may be the primary's), then
   * closes the extras before the primary, which may own the llama.cpp binding they share.
   */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.pending]);
    const extras = [...this.extras.values()].flatMap((e) => (e.engine ? [e.engine] : [])).reverse();
    const primary = this.engine;
    this.engine = null;
    for (const e of this.extras.values()) e.engine = null;
    for (const engine of extras) await engine.close();
    await primary?.close();
  }

  private extraNamed(id: string): Extra {
    const extra = this.extras.get(id);
    if (!extra) throw new HearthError("internal", `model ${JSON.stringify(id)} was not planned`);
    return extra;
  }

  private extraEngine(extra: Extra): InferenceEngine {
    const name = JSON.stringify(extra.plan.id);
    if (extra.state === "ready" && extra.engine) return extra.engine;
    if (extra.state === "loading") throw new HearthError("model_unavailable", `model ${name} is still loading; retry shortly`, { field: "model", retryAfterSeconds: 1 });
    const reason = extra.failure?.message ?? "it is not loaded";
    if (extra.failure?.code === "entitlement_required") throw new HearthError("entitlement_required", `model ${name} is not served: ${reason}`, { field: "model" });
    throw new HearthError("model_load_failed", `model ${name} is not served: ${reason}`, { field: "model" });
  }
}

/**
 * Resolves once `engine` has had no request running or queued for two polls in a row: a handler
 * that has just taken the engine is between its lookup and its slot for at most a tick or two.
 */
async function drained(engine: InferenceEngine, pollMs = 25): Promise<void> {
  let quiet = 0;
  while (quiet < 2) {
    const { busy, queued } = engine.slots();
    quiet = busy === 0 && queued === 0 ? quiet + 1 : 0;
    await Bun.sleep(pollMs);
  }
}

function engineReport(engine: InferenceEngine, field: string): ModelReport {
  const slots = engine.slots();
  const { id, path, contextSize, settings, kernel } = engine.model;
  return { id, field, state: "ready", code: null, reason: null, path, contextSize, parallel: slots.total, queueSize: slots.queueCapacity, slots, settings, kernel };
}

function planReport(plan: PlannedModel, state: ModelState, failure: HearthError | null): ModelReport {
  const { id, field, path, contextSize, parallel, queueSize } = plan;
  return { id, field, state, code: failure?.code ?? null, reason: failure?.message ?? null, path, contextSize, parallel, queueSize, slots: null, settings: null, kernel: null };
}
