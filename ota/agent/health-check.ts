/**
 * The new model's health check: one short greedy completion that must produce at least one token
 * within the time limit. It runs on the freshly loaded engine before it takes requests (inside
 * ModelHost.swapPrimary's load), so a model that loads but cannot generate never serves anyone.
 */
import { HearthError } from "../../runtime/errors.ts";
import type { InferenceEngine } from "../../runtime/engine/types.ts";

export const HEALTH_PROMPT = "The";
export const HEALTH_MAX_TOKENS = 8;

export class HealthCheckFailed extends HearthError {
  readonly reason = "health_check_failed";
  constructor(message: string) {
    super("model_load_failed", `health check failed: ${message}`);
  }
}

export interface HealthReport {
  tokens: number;
  ms: number;
}

/** Resolves with what was generated, or rejects with HealthCheckFailed naming what went wrong. */
export async function healthCheck(engine: InferenceEngine, timeoutMs: number, now: () => number = () => performance.now()): Promise<HealthReport> {
  const started = now();
  const ctrl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctrl.abort();
  }, timeoutMs);
  try {
    const prepared = await engine.prepareCompletion(HEALTH_PROMPT, { maxTokens: HEALTH_MAX_TOKENS, temperature: 0, seed: 1 }, ctrl.signal);
    const result = await prepared.run({ signal: ctrl.signal });
    const ms = Math.round(now() - started);
    if (timedOut || result.finishReason === "aborted") throw new HealthCheckFailed(`no completion within the ${timeoutMs} ms limit (${result.completionTokens} tokens after ${ms} ms)`);
    if (result.completionTokens === 0) throw new HealthCheckFailed(`the model generated no token for a ${HEALTH_MAX_TOKENS}-token completion of ${JSON.stringify(HEALTH_PROMPT)}`);
    return { tokens: result.completionTokens, ms };
  } catch (err) {
    if (err instanceof HealthCheckFailed) throw err;
    if (timedOut) throw new HealthCheckFailed(`no completion within the ${timeoutMs} ms limit`);
    throw new HealthCheckFailed(`generation failed: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}
