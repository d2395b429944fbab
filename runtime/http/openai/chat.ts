import { Hono } from "hono";
import { ChatCompletionRequestSchema, type ChatCompletionRequest } from "./schemas.ts";
import { validate } from "../../validation.ts";
import type { ChatMessage, SamplingParams } from "../../engine/types.ts";
import { engineFor, clientAbort, finishReason, readJsonObject, requestId, runMetered, samplingParams, usageOf, type InferenceDeps, type InferenceEnv } from "./shared.ts";
import { streamGeneration } from "./stream.ts";

function toMessages(body: ChatCompletionRequest): ChatMessage[] {
  return body.messages.map((m) => ({
    role: m.role === "developer" ? "system" : m.role,
    content: typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join(""),
  }));
}

function chatSampling(deps: InferenceDeps, body: ChatCompletionRequest): SamplingParams {
  const params = samplingParams(deps, body, body.max_completion_tokens ?? body.max_tokens);
  const format = body.response_format;
  if (format?.type === "json_object") params.jsonObject = true;
  if (format?.type === "json_schema") {
    if (format.json_schema.schema) params.jsonSchema = format.json_schema.schema;
    else params.jsonObject = true;
  }
  return params;
}

export function chatRoutes(deps: InferenceDeps) {
  return new Hono<InferenceEnv>().post("/chat/completions", async (c) => {
    const body = validate(ChatCompletionRequestSchema, await readJsonObject(c));
    const engine = engineFor(deps, body.model);
    const model = engine.model.id;
    const observation = deps.observer?.requestStarted("chat.completions", model, c.get("keyId"));
    const abort = clientAbort(c);
    const prepared = await engine.prepareChat(toMessages(body), chatSampling(deps, body), abort.signal);
    const meta = { requestId: requestId("chatcmpl"), endpoint: "chat.completions", model, observation };
    const created = Math.floor(deps.clock.now() / 1000);
    const chunk = (delta: object, finish: string | null) => ({
      id: meta.requestId,
      object: "chat.completion.chunk",
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
    c.header("X-Request-Id", meta.requestId);

    if (body.stream) {
      return streamGeneration(c, deps, meta, prepared, abort, {
        opening: chunk({ role: "assistant", content: "" }, null),
        delta: (text) => chunk({ content: text }, null),
        closing: (r) => chunk({}, finishReason(r)),
        usage: body.stream_options?.include_usage
          ? (r) => ({ id: meta.requestId, object: "chat.completion.chunk", created, model, choices: [], usage: usageOf(r) })
          : undefined,
      });
    }
    const result = await runMetered(deps, c, meta, prepared, { signal: abort.signal });
    return c.json({
      id: meta.requestId,
      object: "chat.completion",
      created,
      model,
      choices: [
        { index: 0, message: { role: "assistant", content: result.text, refusal: null }, logprobs: null, finish_reason: finishReason(result) },
      ],
      usage: usageOf(result),
    });
  });
}
