import { HearthError } from "../errors.ts";
import type { SlotStats } from "./slot-pool.ts";
import type { ChatMessage, EmbeddingResult, InferenceEngine, ModelDescriptor, PreparedGeneration, SamplingParams } from "./types.ts";

/**
 * What the API serves while the primary model is swapped in place (the new model does not fit
 * beside the old): an engine whose requests wait until the new engine is up, then run on it. A
 * request is never refused for the swap itself; it may still be refused by the new engine (its
 * queue full), fail with the swap (no engine could be loaded) or end when its client goes away.
 */
export class SwapGate implements InferenceEngine {
  private waiting = 0;

  constructor(
    readonly model: ModelDescriptor,
    private readonly next: Promise<InferenceEngine>,
  ) {
    next.catch(() => undefined); // awaited by each request; unobserved only when none came
  }

  slots(): SlotStats {
    return { total: 0, busy: 0, queued: this.waiting, queueCapacity: 0 };
  }

  /** Requests wait rather than fail, so /readyz says busy, not unavailable. */
  canAccept(): boolean {
    return true;
  }

  prepareChat(messages: ChatMessage[], params: SamplingParams, signal: AbortSignal): Promise<PreparedGeneration> {
    return this.then(signal, (engine) => engine.prepareChat(messages, params, signal));
  }

  prepareCompletion(prompt: string, params: SamplingParams, signal: AbortSignal): Promise<PreparedGeneration> {
    return this.then(signal, (engine) => engine.prepareCompletion(prompt, params, signal));
  }

  embed(inputs: string[], signal: AbortSignal): Promise<EmbeddingResult> {
    return this.then(signal, (engine) => engine.embed(inputs, signal));
  }

  /** Nothing of its own to close. */
  async close(): Promise<void> {}

  private async then<T>(signal: AbortSignal, run: (engine: InferenceEngine) => Promise<T>): Promise<T> {
    this.waiting++;
    let engine: InferenceEngine;
    try {
      engine = await new Promise<InferenceEngine>((resolve, reject) => {
        const closed = () => reject(new HearthError("client_closed", "client closed the request"));
        if (signal.aborted) return closed();
        signal.addEventListener("abort", closed, { once: true });
        this.next.then(resolve, reject).finally(() => signal.removeEventListener("abort", closed));
      });
    } finally {
      this.waiting--;
    }
    return run(engine);
  }
}
