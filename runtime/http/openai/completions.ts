import { Hono } from "hono";
import { CompletionRequestSchema } from "./schemas.ts";
import { validate } from "../../validation.ts";
import { engineFor, clientAbort, finishReason, readJsonObject, requestId, runMetered, samplingParams, usageOf, type InferenceDeps, type InferenceEnv } from "./shared.ts";
import { streamGeneration } from "./stream.ts";

/** OpenAI's legacy completions default to 16 tokens when max_tokens is absent. */
const DEFAULT_COMPLETION_TOKENS = 16;

export function completionRoutes(deps: InferenceDeps) {
  return new Hono<InferenceEnv>().post("/completions", async (c) => {
    const body = validate(CompletionRequestSchema, await readJsonObject(c));
    const engine = engineFor(deps, body.model);
    const model = engine.model.id;
    const observation = deps.observer?.requestStarted("completions", model, c.get("keyId"));
    const prompt = typeof body.prompt === "string" ? body.prompt : body.prompt[0]!;
    const abort = clientAbort(c);
    const params = samplingParams(deps, body, body.max_tokens ?? DEFAULT_COMPLETION_TOKENS);
    const prepared = await engine.prepareCompletion(prompt, params, abort.signal);
    const meta = { requestId: requestId("cmpl"), endpoint: "completions", model, observation };
    const created = Math.floor(deps.clock.now() / 1000);
    const chunk = (text: string, finish: string | null) => ({
      id: meta.requestId,
      object: "text_completion",
      created,
      model,
      choices: [{ index: 0, text, logprobs: null, finish_reason: finish }],
    });
    c.header("X-Request-Id", meta.requestId);

    if (body.stream) {
      return streamGeneration(c, deps, meta, prepared, abort, {
        delta: (text) => chunk(text, null),
        closing: (r) => chunk("", finishReason(r)),
        usage: body.stream_options?.include_usage
          ? (r) => ({ id: meta.requestId, object: "text_completion", created, model, choices: [], usage: usageOf(r) })
          : undefined,
      });
    }
    const result = await runMetered(deps, c, meta, prepared, { signal: abort.signal });
    return c.json({ ...chunk(result.text, finishReason(result)), usage: usageOf(result) });
  });
}
