import type { LlamaEmbeddingContext, LlamaModel } from "node-llama-cpp";
import { HearthError } from "../errors.ts";
import { SlotPool } from "./slot-pool.ts";
import type { EmbeddingResult } from "./types.ts";

/**
 * Embeddings from the loaded model through its own embedding context, created on first use (most
 * boxes never embed, and the context costs memory) and used by one request at a time.
 */
export class Embedder {
  private context: Promise<LlamaEmbeddingContext> | null = null;
  private readonly pool: SlotPool<true>;

  constructor(
    private readonly model: LlamaModel,
    private readonly opts: { modelId: string; contextSize: number; threads: number; queueSize: number },
  ) {
    this.pool = new SlotPool<true>([true], opts.queueSize);
  }

  private get limit(): number {
    return Math.min(this.opts.contextSize, this.model.trainContextSize);
  }

  async embed(inputs: string[], signal: AbortSignal): Promise<EmbeddingResult> {
    const lease = await this.pool.acquire(signal);
    try {
      const context = await this.contextOnce();
      let promptTokens = 0;
      const vectors: number[][] = [];
      for (const [i, input] of inputs.entries()) {
        const tokens = this.model.tokenize(input);
        if (tokens.length > this.limit) {
          throw new HearthError("context_length_exceeded", `input[${i}] has ${tokens.length} tokens but embeddings take at most ${this.limit}`, {
            field: `input[${i}]`,
          });
        }
        if (signal.aborted) throw new HearthError("client_closed", "client closed the request");
        promptTokens += tokens.length;
        vectors.push([...(await context.getEmbeddingFor(tokens)).vector]);
      }
      return { vectors, promptTokens };
    } finally {
      lease.release();
    }
  }

  private contextOnce(): Promise<LlamaEmbeddingContext> {
    this.context ??= this.model.createEmbeddingContext({ contextSize: this.limit, threads: this.opts.threads }).catch((err: unknown) => {
      this.context = null;
      throw new HearthError("embeddings_unsupported", `model ${this.opts.modelId} cannot produce embeddings: ${(err as Error).message}`, {
        field: "model",
        cause: err,
      });
    });
    return this.context;
  }

  async close(): Promise<void> {
    const context = await this.context?.catch(() => null);
    await context?.dispose();
  }
}
