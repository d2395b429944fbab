import { randomBytes } from "node:crypto";
import type { Context } from "hono";
import { HearthError } from "../../errors.ts";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import type { InferenceEngine, GenerationHooks, GenerationResult, PreparedGeneration, SamplingParams } from "../../engine/types.ts";
import type { UsageLedger, UsageOutcome } from "../../store/usage-ledger.ts";
import type { ModelHost } from "../../engine/model-host.ts";

export interface InferenceDeps {
  models: ModelHost;
  ledger: UsageLedger;
  clock: Clock;
  logger: Logger;
  /** Configured upper bound on generated tokens per request. */
  maxTokens: number;
  /** Told about every request that reaches a model (metrics); without one nothing is observed. */
  observer?: InferenceObserver;
}

/**
 * What metrics see of inference. A request is observed from the moment a model takes it (before it
 * waits for a slot, so latency includes the queue) to its outcome; one that is refused before it
 * runs (queue full, prompt too long) is left unfinished and counted only by its HTTP status.
 */
export interface InferenceObserver {
  requestStarted(endpoint: string, model: string, keyId: string | null): RequestObservation;
}

export interface RequestObservation {
  /** The generation produced its first token; called at most once, never for embeddings. */
  firstToken(): void;
  /** The request ran to `outcome`, with the tokens the ledger meters for it. */
  finished(outcome: UsageOutcome, promptTokens: number, completionTokens: number): void;
}

export type InferenceEnv = { Variables: { keyId: string | null } };

export function requestId(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString("base64url")}`;
}

/** Parses the body as a JSON object; `null` members mean "not given" and are dropped. */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new HearthError("invalid_json", `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HearthError("invalid_request", "request body must be a JSON object");
  }
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
}

/** The engine serving `model` for this request (ModelHost.engineFor says which errors and why). */
export function engineFor(deps: InferenceDeps, model: string): InferenceEngine {
  return deps.models.engineFor(model);
}

export function samplingParams(
  deps: InferenceDeps,
  body: { max_tokens?: number; temperature?: number; top_p?: number; seed?: number; stop?: string | string[] },
  requestedMax: number | undefined,
): SamplingParams {
  return {
    maxTokens: Math.min(requestedMax ?? deps.maxTokens, deps.maxTokens),
    temperature: body.temperature,
    topP: body.top_p,
    seed: body.seed,
    stop: typeof body.stop === "string" ? [body.stop] : body.stop,
  };
}

/** An abort signal that fires when the client goes away or the stream is cancelled. */
export function clientAbort(c: Context): AbortController {
  const controller = new AbortController();
  const req = c.req.raw.signal;
  if (req.aborted) controller.abort();
  else req.addEventListener("abort", () => controller.abort(), { once: true });
  return controller;
}

/**
 * Runs a prepared generation and writes its ledger row before the caller answers, whatever the
 * outcome: the row is durable by the time the client can see the response end.
 */
export async function runMetered(
  deps: InferenceDeps,
  c: Context<InferenceEnv>,
  meta: GenerationMeta,
  prepared: PreparedGeneration,
  hooks: GenerationHooks,
): Promise<GenerationResult> {
  const started = deps.clock.monotonic();
  const record = (outcome: UsageOutcome, completionTokens: number) => {
    deps.ledger.record({
      requestId: meta.requestId,
      keyId: c.get("keyId"),
      model: meta.model,
      endpoint: meta.endpoint,
      promptTokens: prepared.promptTokens,
      completionTokens,
      durationMs: Math.max(0, Math.round(deps.clock.monotonic() - started)),
      outcome,
      createdAt: deps.clock.now(),
    });
    meta.observation?.finished(outcome, prepared.promptTokens, completionTokens);
  };
  let result: GenerationResult;
  try {
    const observation = meta.observation;
    result = await prepared.run(observation ? { ...hooks, onFirstToken: () => observation.firstToken() } : hooks);
  } catch (err) {
    record("failed", 0);
    throw err;
  } finally {
    prepared.release();
  }
  record(result.finishReason === "aborted" ? "aborted" : "completed", result.completionTokens);
  deps.logger.info("request", {
    id: meta.requestId,
    endpoint: meta.endpoint,
    prompt_tokens: result.promptTokens,
    completion_tokens: result.completionTokens,
    finish: result.finishReason,
    ms: Math.round(deps.clock.monotonic() - started),
  });
  return result;
}

/** What the ledger needs to know about a generation besides its tokens. */
export interface GenerationMeta {
  requestId: string;
  endpoint: string;
  model: string;
  /** The metrics' view of this request, started before it was prepared. */
  observation?: RequestObservation;
}

export function usageOf(r: { promptTokens: number; completionTokens: number }) {
  return { prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens };
}

/** OpenAI's finish_reason; an aborted generation has no client left to read one. */
export function finishReason(r: GenerationResult): "stop" | "length" {
  return r.finishReason === "length" ? "length" : "stop";
}
