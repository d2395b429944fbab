import { Hono } from "hono";
import { EmbeddingRequestSchema } from "./schemas.ts";
import { validate } from "../../validation.ts";
import { HearthError } from "../../errors.ts";
import type { EmbeddingResult } from "../../engine/types.ts";
import { engineFor, clientAbort, readJsonObject, requestId, type InferenceDeps, type InferenceEnv } from "./shared.ts";

/** base64 of little-endian float32, which the official clients request by default. */
function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}

export function embeddingRoutes(deps: InferenceDeps) {
  return new Hono<InferenceEnv>().post("/embeddings", async (c) => {
    const body = validate(EmbeddingRequestSchema, await readJsonObject(c));
    const engine = engineFor(deps, body.model);
    const width = engine.model.embeddingLength;
    if (body.dimensions !== undefined && body.dimensions !== width) {
      throw new HearthError("invalid_request", `dimensions: this model's embeddings have ${width} dimensions, not ${body.dimensions}`, {
        field: "dimensions",
      });
    }
    const inputs = typeof body.input === "string" ? [body.input] : body.input;
    const id = requestId("embd");
    const observation = deps.observer?.requestStarted("embeddings", engine.model.id, c.get("keyId"));
    const started = deps.clock.monotonic();
    const abort = clientAbort(c);
    let result: EmbeddingResult;
    try {
      result = await engine.embed(inputs, abort.signal);
    } catch (err) {
      observation?.finished(abort.signal.aborted ? "aborted" : "failed", 0, 0);
      throw err;
    }
    deps.ledger.record({
      requestId: id,
      keyId: c.get("keyId"),
      model: engine.model.id,
      endpoint: "embeddings",
      promptTokens: result.promptTokens,
      completionTokens: 0,
      durationMs: Math.round(deps.clock.monotonic() - started),
      outcome: "completed",
      createdAt: deps.clock.now(),
    });
    observation?.finished("completed", result.promptTokens, 0);
    c.header("X-Request-Id", id);
    const base64 = body.encoding_format === "base64";
    return c.json({
      object: "list",
      data: result.vectors.map((v, index) => ({ object: "embedding", index, embedding: base64 ? toBase64(v) : v })),
      model: engine.model.id,
      usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
    });
  });
}
