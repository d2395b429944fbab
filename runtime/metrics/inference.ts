import type { Clock } from "../clock.ts";
import type { InferenceObserver } from "../http/openai/shared.ts";
import type { Registry } from "./registry.ts";

/**
 * Seconds, for edge LLM requests: an embedding or a short reply on a fast box takes tens of
 * milliseconds, a long generation on a Raspberry Pi minutes.
 */
export const LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120] as const;

/**
 * Counters and histograms of the inference path. Each request costs one closure at start, and at
 * its end a key-name lookup (cached) and a few map updates; nothing is done per token.
 */
export function inferenceMetrics(registry: Registry, deps: { clock: Clock; keyName: (keyId: string | null) => string }): InferenceObserver {
  const { clock, keyName } = deps;
  const requests = registry.counter(
    "hearth_inference_requests_total",
    "Requests that reached a model, by endpoint, model, API key name and outcome (completed, aborted, failed); as in the usage ledger",
    ["endpoint", "model", "key", "outcome"],
  );
  const promptTokens = registry.counter("hearth_prompt_tokens_total", "Prompt tokens metered, by model and API key name", ["model", "key"]);
  const completionTokens = registry.counter("hearth_completion_tokens_total", "Completion tokens generated, by model and API key name", ["model", "key"]);
  const duration = registry.histogram(
    "hearth_request_duration_seconds",
    "Time from a model taking a request (queue wait included) to its outcome, by endpoint and model",
    ["endpoint", "model"],
    LATENCY_BUCKETS,
  );
  const firstToken = registry.histogram(
    "hearth_time_to_first_token_seconds",
    "Time from a model taking a generation (queue wait and prompt evaluation included) to its first text, streamed or not, by model",
    ["model"],
    LATENCY_BUCKETS,
  );
  return {
    requestStarted(endpoint, model, keyId) {
      const started = clock.monotonic();
      return {
        firstToken: () => firstToken.observe([model], (clock.monotonic() - started) / 1000),
        finished: (outcome, prompt, completion) => {
          const key = keyName(keyId);
          requests.inc([endpoint, model, key, outcome]);
          promptTokens.inc([model, key], prompt);
          completionTokens.inc([model, key], completion);
          duration.observe([endpoint, model], (clock.monotonic() - started) / 1000);
        },
      };
    },
  };
}
