import type { SlotStats } from "./slot-pool.ts";

/** What the HTTP layer needs from a model engine; llama-engine.ts is the real one. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface SamplingParams {
  /** Already clamped to the configured maximum. */
  maxTokens: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
  /** Constrain output to this JSON schema (via a llama.cpp grammar). */
  jsonSchema?: Record<string, unknown>;
  /** Constrain output to any JSON value. */
  jsonObject?: boolean;
}

export type FinishReason = "stop" | "length" | "aborted";

export interface GenerationResult {
  text: string;
  promptTokens: number;
  completionTokens: number;
  finishReason: FinishReason;
}

export interface GenerationHooks {
  signal: AbortSignal;
  onText?: (chunk: string) => void;
  /** Called once, when the first token is generated, streamed or not (time to first token). */
  onFirstToken?: () => void;
}

/**
 * A request that has been tokenized, checked against the context and given a slot. It either
 * runs once or is released; both free the slot.
 */
export interface PreparedGeneration {
  readonly promptTokens: number;
  run(hooks: GenerationHooks): Promise<GenerationResult>;
  release(): void;
}

/**
 * A LoRA adapter configured for the served model. One that is refused is not applied and the
 * base model serves without it; `reason` says why (for /readyz and the logs).
 */
export interface AdapterStatus {
  path: string;
  scale: number;
  /** The setting that named it, e.g. "model.loras[0].path". */
  field: string;
  applied: boolean;
  /** Why it was refused (the message names `field`), with the error's stable code; null when applied. */
  reason: string | null;
  code: string | null;
  /** Of the file, when it passed the checks. */
  sizeBytes: number | null;
  sha256: string | null;
}

export interface ModelDescriptor {
  id: string;
  path: string;
  sha256?: string;
  createdAt: number;
  contextSize: number;
  trainContextSize: number;
  embeddingLength: number;
  chatWrapper: string;
  threads: number;
  /** The llama.cpp settings in force and where they came from. */
  settings: { source: "config" | "calibrated" | "default"; threads: number; batchSize: number; flashAttention: boolean; gpuLayers: number };
  kernel: { id: string; backend: string; fallbackReason: string | null };
  /** LoRA adapters configured, applied or refused, in configuration order. */
  adapters: AdapterStatus[];
  loadMs: number;
}

export interface EmbeddingResult {
  vectors: number[][];
  promptTokens: number;
}

export interface InferenceEngine {
  readonly model: ModelDescriptor;
  slots(): SlotStats;
  canAccept(): boolean;
  prepareChat(messages: ChatMessage[], params: SamplingParams, signal: AbortSignal): Promise<PreparedGeneration>;
  prepareCompletion(prompt: string, params: SamplingParams, signal: AbortSignal): Promise<PreparedGeneration>;
  embed(inputs: string[], signal: AbortSignal): Promise<EmbeddingResult>;
  close(): Promise<void>;
}
