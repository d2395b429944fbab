import { basename, extname } from "node:path";
import { statSync } from "node:fs";
import {
  LlamaChat,
  LlamaCompletion,
  resolveChatWrapper,
  type ChatHistoryItem,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { HearthError } from "../errors.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { SlotPool } from "./slot-pool.ts";
import { GrammarCache } from "./grammar-cache.ts";
import { createLlama } from "./llama-binding.ts";
import { resolveThreads } from "./threads.ts";
import { Embedder } from "./embedder.ts";
import { checkAdapters, createAdaptedContext, type LoraSetting } from "./adapters.ts";
import { checkGgufHeader } from "../model/header-check.ts";
import type {
  ChatMessage,
  EmbeddingResult,
  FinishReason,
  GenerationHooks,
  GenerationResult,
  InferenceEngine,
  ModelDescriptor,
  PreparedGeneration,
  SamplingParams,
} from "./types.ts";

export interface LlamaEngineOptions {
  modelPath: string;
  modelId?: string;
  contextSize: number;
  parallel: number;
  queueSize: number;
  threads: number;
  /** Calibrated settings for this board, kernel and model; config and defaults apply without. */
  tuned?: { threads: number; batchSize: number; flashAttention: boolean; gpuLayers: number } | null;
  /**
   * LoRA adapters to apply, in order (config `model.loras`). One that is missing or does not fit
   * the model is refused and the base model serves without it: see `model.adapters`.
   */
  loras?: readonly LoraSetting[];
  /** Throws (e.g. the `lora_adapters` entitlement gate) to refuse every adapter; the base model still serves. */
  permitAdapters?: () => void;
  /** The llama.cpp build serving, for status. */
  kernel?: { id: string; backend: string; fallbackReason: string | null };
  gpu: boolean;
  embeddings: boolean;
  chatWrapperFallback: "chatML" | "general" | "llama3" | "llama2Chat" | "mistral";
  logger: Logger;
  clock: Clock;
  /** The llama.cpp binding (from the kernel loader, or shared by tests); created when absent. */
  llama?: Llama;
  /** Whether close() disposes the binding; by default only one the engine created itself. */
  ownsLlama?: boolean;
}


function sharedPrefix(a: readonly Token[], b: readonly Token[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}


/** Runs llama.cpp through node-llama-cpp: one context with `parallel` sequences, one slot each. */
export class LlamaEngine implements InferenceEngine {
  private readonly embedder: Embedder | null;
  private readonly grammars: GrammarCache;

  private constructor(
    private readonly opts: LlamaEngineOptions,
    private readonly llama: Llama,
    private readonly ownsLlama: boolean,
    private readonly llamaModel: LlamaModel,
    private readonly context: LlamaContext,
    private readonly pool: SlotPool<LlamaContextSequence>,
    private readonly chatWrapper: ChatWrapper,
    readonly model: ModelDescriptor,
  ) {
    this.grammars = new GrammarCache(llama);
    this.embedder = opts.embeddings
      ? new Embedder(llamaModel, { modelId: model.id, contextSize: model.contextSize, threads: model.threads, queueSize: opts.queueSize })
      : null;
  }

  static async load(opts: LlamaEngineOptions): Promise<LlamaEngine> {
    const started = opts.clock.monotonic();
    let size: number;
    try {
      size = statSync(opts.modelPath).size;
    } catch {
      throw new HearthError("model_load_failed", `model file ${opts.modelPath} does not exist`, { field: "model.path" });
    }
    await checkGgufHeader(opts.modelPath);
    const llama = opts.llama ?? (await createLlama(opts.gpu, opts.logger));
    let model: LlamaModel;
    try {
      const gpuLayers = opts.tuned && opts.gpu ? opts.tuned.gpuLayers : opts.gpu ? "auto" : 0;
      model = await llama.loadModel({ modelPath: opts.modelPath, gpuLayers });
    } catch (err) {
      throw new HearthError("model_load_failed", `cannot load ${opts.modelPath}: ${(err as Error).message}`, { cause: err });
    }
    const checked = await checkAdapters(opts.loras ?? [], model.fileInfo, opts.permitAdapters);
    const { context, adapters } = await createAdaptedContext(
      model,
      {
        sequences: opts.parallel,
        contextSize: Math.min(opts.contextSize, model.trainContextSize), // per sequence
        // An explicit config value wins over calibration, which wins over the size heuristic.
        threads: opts.threads > 0 ? opts.threads : (opts.tuned?.threads ?? resolveThreads(0, size)),
        batchSize: opts.tuned?.batchSize,
        flashAttention: opts.tuned?.flashAttention,
      },
      checked,
    );
    for (const a of adapters) {
      if (!a.applied) opts.logger.warn("LoRA adapter refused; the model serves without it", { path: a.path, code: a.code, reason: a.reason });
    }
    const sequences = Array.from({ length: opts.parallel }, () => context.getSequence());
    const wrapper =
      resolveChatWrapper({ type: "auto", fileInfo: model.fileInfo, tokenizer: model.tokenizer, bosString: model.tokens.bosString, warningLogs: false }) ??
      resolveChatWrapper({ type: opts.chatWrapperFallback, bosString: model.tokens.bosString })!;
    const descriptor: ModelDescriptor = {
      id: opts.modelId ?? basename(opts.modelPath, extname(opts.modelPath)),
      path: opts.modelPath,
      createdAt: Math.floor(opts.clock.now() / 1000),
      contextSize: sequences[0]!.contextSize,
      trainContextSize: model.trainContextSize,
      embeddingLength: model.embeddingVectorSize,
      chatWrapper: wrapper.wrapperName,
      threads: context.currentThreads,
      settings: {
        source: opts.threads > 0 ? "config" : opts.tuned ? "calibrated" : "default",
        threads: context.currentThreads,
        batchSize: context.batchSize,
        flashAttention: context.flashAttention === true,
        gpuLayers: model.gpuLayers,
      },
      kernel: opts.kernel ?? { id: `${llama.buildType}:${llama.gpu || "cpu"}`, backend: llama.gpu || "cpu", fallbackReason: null },
      adapters,
      loadMs: Math.round(opts.clock.monotonic() - started),
    };
    opts.logger.info("model loaded", { model: descriptor.id, bytes: size, ...descriptor, path: undefined });
    const pool = new SlotPool(sequences, opts.queueSize);
    return new LlamaEngine(opts, llama, opts.ownsLlama ?? !opts.llama, model, context, pool, wrapper, descriptor);
  }

  slots() {
    return this.pool.stats();
  }

  canAccept(): boolean {
    return this.pool.canAccept();
  }

  async prepareChat(messages: ChatMessage[], params: SamplingParams, signal: AbortSignal): Promise<PreparedGeneration> {
    const history: ChatHistoryItem[] = messages.map((m) =>
      m.role === "assistant" ? { type: "model", response: [m.content] } : { type: m.role, text: m.content },
    );
    history.push({ type: "model", response: [] });
    const rendered = this.chatWrapper.generateContextState({ chatHistory: history }).contextText;
    const promptTokens = rendered.tokenize(this.llamaModel.tokenizer);
    return this.prepare(promptTokens, params, signal, async (sequence, sampling, hooks) => {
      const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: this.chatWrapper });
      try {
        const res = await chat.generateResponse(history, { ...sampling, onTextChunk: hooks.onText });
        return { text: res.response, stopReason: res.metadata.stopReason };
      } finally {
        chat.dispose();
      }
    });
  }

  async prepareCompletion(prompt: string, params: SamplingParams, signal: AbortSignal): Promise<PreparedGeneration> {
    const bos = this.llamaModel.tokens.bos;
    const tokens = this.llamaModel.tokenize(prompt);
    const promptTokens = this.llamaModel.tokens.shouldPrependBosToken && bos != null ? [bos, ...tokens] : tokens;
    return this.prepare(promptTokens, params, signal, async (sequence, sampling, hooks) => {
      const completion = new LlamaCompletion({ contextSequence: sequence });
      try {
        const res = await completion.generateCompletionWithMeta(prompt, { ...sampling, onTextChunk: hooks.onText, disableContextShift: true });
        return { text: res.response, stopReason: res.metadata.stopReason };
      } finally {
        completion.dispose();
      }
    });
  }

  /** Shared by chat and completions: context check, slot, sampling options, metering of tokens. */
  private async prepare(
    prompt: readonly Token[],
    params: SamplingParams,
    signal: AbortSignal,
    generate: (
      sequence: LlamaContextSequence,
      sampling: Record<string, unknown> & { signal: AbortSignal },
      hooks: GenerationHooks,
    ) => Promise<{ text: string; stopReason: string }>,
  ): Promise<PreparedGeneration> {
    const ctx = this.model.contextSize;
    const promptTokens = prompt.length;
    if (promptTokens >= ctx) {
      throw new HearthError(
        "context_length_exceeded",
        `the prompt has ${promptTokens} tokens but the model's context holds ${ctx}; shorten the input`,
        { field: "messages" },
      );
    }
    const grammar = await this.grammars.forParams(params);
    // Prefer the slot whose KV cache already holds the longest part of this prompt (a chat's
    // earlier turns): only the rest is evaluated.
    const lease = await this.pool.acquire(signal, (sequence) => sharedPrefix(sequence.contextTokens, prompt));
    const maxTokens = Math.min(params.maxTokens, ctx - promptTokens);
    let ran = false;
    return {
      promptTokens,
      release: () => lease.release(),
      run: async (hooks) => {
        if (ran) throw new Error("a prepared generation runs once");
        ran = true;
        const sequence = lease.slot;
        // Counted from the tokens handed out, not the context's token meter, which counts
        // evaluations with logits (off by one at the edges) rather than generated tokens.
        let generated = 0;
        const result = (text: string, finishReason: FinishReason): GenerationResult => ({
          text,
          promptTokens,
          completionTokens: generated,
          finishReason,
        });
        try {
          const sampling = {
            signal: hooks.signal,
            stopOnAbortSignal: true,
            maxTokens,
            temperature: params.temperature ?? 1,
            topP: params.topP,
            seed: params.seed,
            customStopTriggers: params.stop?.length ? params.stop : undefined,
            grammar,
            onToken: (tokens: readonly unknown[]) => {
              if (generated === 0 && tokens.length > 0) hooks.onFirstToken?.();
              generated += tokens.length;
            },
          };
          const out = await generate(sequence, sampling, hooks);
          if (hooks.signal.aborted || out.stopReason === "abort") return result(out.text, "aborted");
          return result(out.text, out.stopReason === "maxTokens" ? "length" : "stop");
        } catch (err) {
          if (hooks.signal.aborted) return result("", "aborted");
          throw err;
        } finally {
          lease.release();
        }
      },
    };
  }

  async embed(inputs: string[], signal: AbortSignal): Promise<EmbeddingResult> {
    if (!this.embedder) {
      throw new HearthError("embeddings_unsupported", `model ${this.model.id} is not configured to serve embeddings`, { field: "model" });
    }
    return this.embedder.embed(inputs, signal);
  }

  async close(): Promise<void> {
    await this.embedder?.close();
    await this.context.dispose();
    await this.llamaModel.dispose();
    if (this.ownsLlama) await this.llama.dispose();
  }
}
