import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { GenerationResult, PreparedGeneration } from "../../engine/types.ts";
import { asHearthError, openAIErrorBody } from "../errors.ts";
import { HearthError } from "../../errors.ts";
import { runMetered, type GenerationMeta, type InferenceDeps, type InferenceEnv } from "./shared.ts";

export interface StreamShape {
  /** Sent before the first token (chat sends the assistant role here). */
  opening?: object;
  delta(text: string): object;
  closing(result: GenerationResult): object;
  /** Sent as the last chunk when the client asked for `stream_options.include_usage`. */
  usage?: (result: GenerationResult) => object;
}

/**
 * Server-sent events in OpenAI's framing, ending with `data: [DONE]`. A client that disconnects
 * aborts the generation; the slot is freed and the partial usage metered.
 */
export function streamGeneration(
  c: Context<InferenceEnv>,
  deps: InferenceDeps,
  meta: GenerationMeta,
  prepared: PreparedGeneration,
  abort: AbortController,
  shape: StreamShape,
): Response {
  return streamSSE(c, async (stream) => {
    stream.onAbort(() => abort.abort());
    // Token callbacks are synchronous; chain the writes so chunks keep their order.
    let writes: Promise<unknown> = Promise.resolve();
    const send = (data: object | string) => {
      writes = writes.then(() => stream.writeSSE({ data: typeof data === "string" ? data : JSON.stringify(data) }));
    };
    try {
      if (shape.opening) send(shape.opening);
      const result = await runMetered(deps, c, meta, prepared, {
        signal: abort.signal,
        onText: (text) => {
          if (text) send(shape.delta(text));
        },
      });
      if (result.finishReason === "aborted") return;
      send(shape.closing(result));
      if (shape.usage) send(shape.usage(result));
      send("[DONE]");
    } catch (err) {
      const known = asHearthError(err) ?? new HearthError("internal", "generation failed");
      if (!asHearthError(err)) deps.logger.error("stream failed", { id: meta.requestId, error: (err as Error)?.message });
      send(openAIErrorBody(known));
    } finally {
      await writes.catch(() => undefined);
      prepared.release();
    }
  });
}
