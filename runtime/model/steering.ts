/**
 * Designed structure added on top of the random weights, so a synthetic model behaves usefully:
 *
 * 1. A toy language. A few tokens ("steered" tokens) get a private embedding dimension, and the
 *    output rows of their allowed successors read that dimension, making the model a small Markov
 *    chain over sentences like "The quick brown fox jumps over the lazy dog.\n". Free text is
 *    readable, varies with the sampling seed (each slot has several choices), and never ends on
 *    its own, so max_tokens / stop / abort behave like a real model's.
 * 2. Structural tiers. Every embedding carries a shared component in dimension 0 that the output
 *    rows of `"`, `}`, `]` and `,` read with decreasing weight. Under a JSON grammar whatever the
 *    chain wants is often disallowed (a newline inside a string, a word after a value), and then
 *    the best allowed token is the one that closes the current string/object/array, so
 *    grammar-constrained JSON terminates quickly even at temperature 1-2, with random weights.
 *
 * The structure must dominate the random residual stream, so its magnitude is derived from an
 * estimate of how much the random layers add (an RMS-normed input times N(0, std^2) weights).
 */
import type { LlamaDims } from "./presets.ts";
import { TOY_SENTENCE, type Vocab } from "./vocab.ts";

/** Tokens that also start a sentence: `"` (so JSON string values hold sentences). */
const SENTENCE_OPENERS = ['"'];
/** Target logits of the structural tokens; the chain successor gets CHAIN_LOGIT. */
const TIER_LOGITS: Record<string, number> = { '"': 36, "}": 28, "]": 28, ",": 20 };
const CHAIN_LOGIT = 56;
/** Dims < 32 share a q4_0/q8_0 block with dim 0; keeping chain dims out of it keeps both exact. */
const FIRST_CHAIN_DIM = 32;

export interface Steering {
  /** Values added to token_embd / output rows: token id -> [dim, value] pairs. */
  embed: Map<number, [number, number][]>;
  output: Map<number, [number, number][]>;
}

/** Norm of what the random layers add to the residual stream, for weights of std `std`. */
function layerNoiseNorm(d: LlamaDims, std: number): number {
  const attn = std * std * d.nEmbd; // per-dim std of W_o (W_v x): two std*sqrt(n) gains
  const ffn = std * Math.sqrt(d.nFf) * (std * std * d.nEmbd); // silu(g)*u ~ (std*sqrt(n))^2 / 2, x2 for slack
  const perDimVar = d.nLayer * (attn * attn + ffn * ffn) + std * std;
  return Math.sqrt(d.nEmbd * perDimVar);
}

export function buildSteering(d: LlamaDims, vocab: Vocab, std: number): Steering {
  const id = new Map(vocab.tokens.map((t, i) => [t, i] as const));
  const tok = (piece: string): number => {
    const i = id.get(piece);
    if (i === undefined) throw new Error(`steering token ${JSON.stringify(piece)} missing from the vocab`);
    return i;
  };
  const chainTokens = [...SENTENCE_OPENERS, ...TOY_SENTENCE.flat()].map(tok);
  if (FIRST_CHAIN_DIM + chainTokens.length > d.nEmbd) throw new Error(`n_embd ${d.nEmbd} is too small for the toy language`);
  const dimOf = new Map(chainTokens.map((t, i) => [t, FIRST_CHAIN_DIM + i] as const));

  // Own-token components 3x the random layers' contribution, so they dominate the normed state.
  const beta = 3 * layerNoiseNorm(d, std);
  const noise = beta / 3;
  const root = Math.sqrt(d.nEmbd);
  // Expected normed components at a steered position (dims 0 and own dim both at beta).
  const hSteered = (root * beta) / Math.sqrt(2 * beta * beta + noise * noise);

  const embed = new Map<number, [number, number][]>();
  for (let t = 0; t < vocab.tokens.length; t++) embed.set(t, [[0, beta]]);
  for (const [t, dim] of dimOf) embed.get(t)!.push([dim, beta]);

  const output = new Map<number, [number, number][]>();
  const add = (t: number, dim: number, v: number): void => {
    const list = output.get(t) ?? [];
    list.push([dim, v]);
    output.set(t, list);
  };
  for (const [piece, logit] of Object.entries(TIER_LOGITS)) add(tok(piece), 0, logit / hSteered);
  const slots = TOY_SENTENCE.map((s) => s.map(tok));
  const successors = (slot: number): number[] => slots[(slot + 1) % slots.length]!;
  for (const opener of SENTENCE_OPENERS) for (const next of slots[0]!) add(next, dimOf.get(tok(opener))!, CHAIN_LOGIT / hSteered);
  slots.forEach((slot, i) => {
    for (const t of slot) for (const next of successors(i)) add(next, dimOf.get(t)!, CHAIN_LOGIT / hSteered);
  });
  return { embed, output };
}
