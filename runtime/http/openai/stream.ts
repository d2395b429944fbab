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
    // Token callbacks are synchronous. Events queue up while a write is in flight and go out
    // together in the next one: fewer small TCP segments, and order is kept.
    let pending = "";
    let flushing: Promise<void> | null = null;
    const flush = async () => {
      while (pending) {
        const out = pending;
        pending = "";
        await stream.write(out);
      }
      flushing = null;
    };
    const emit = (data: object | string) => {
      pending += `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
      flushing ??= flush();
    };
    // The opening chunk travels with the first token rather than alone ahead of it, so the first
    // token is not held back behind an unacknowledged segment (Nagle plus delayed ACK).
    let opened = false;
    const send = (data: object | string) => {
      if (!opened && shape.opening) emit(shape.opening);
      opened = true;
      emit(data);
    };
    const drained = (): Promise<void> => flushing ?? Promise.resolve();
    try {
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
      await drained().catch(() => undefined);
      prepared.release();
    }
  });
}
