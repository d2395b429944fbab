/**
 * Deterministic byte-fallback SentencePiece (SPM, `tokenizer.ggml.model = "llama"`) vocabulary.
 *
 * Layout: <unk>, <s>, </s>, <|im_start|>, <|im_end|>, the 256 byte tokens <0x00>..<0xFF>, then
 * normal pieces. Any UTF-8 text round-trips because llama.cpp falls back to byte tokens for
 * whatever the pieces cannot cover. llama.cpp's SPM tokenizer only builds a piece by merging two
 * adjacent symbols that are themselves tokens, so every piece is added after all of its prefixes
 * (prefix closure): each multi-char piece is then reachable as prefix + last char.
 * Scores decrease with rank, so earlier (shorter, commoner) pieces merge first.
 */

/** llama.h `enum llama_token_type`. */
export const TokenType = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

export const SPACE = "\u2581"; // "▁": SPM's stand-in for a space
export const SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"] as const;
export const BYTE_TOKENS_START = SPECIAL_TOKENS.length;
export const FIRST_PIECE_ID = BYTE_TOKENS_START + 256;

export interface Vocab {
  tokens: string[];
  scores: Float32Array;
  types: Int32Array;
  unkId: number;
  bosId: number;
  eosId: number;
  /** `<|im_end|>`: ends a ChatML turn. */
  eotId: number;
  imStartId: number;
}

/**
 * Slots of the toy language the synthetic weights are steered to speak (see steering.ts); every
 * token of a slot may follow any token of the previous slot. Always part of the vocabulary.
 */
export const TOY_SENTENCE: readonly (readonly string[])[] = [
  ["The", "A"],
  ["quick", "small", "big"].map((w) => SPACE + w),
  ["brown", "red", "gray"].map((w) => SPACE + w),
  ["fox", "cat", "bird"].map((w) => SPACE + w),
  ["jumps", "runs", "walks"].map((w) => SPACE + w),
  ["over", "near", "under"].map((w) => SPACE + w),
  [SPACE + "the"],
  ["lazy", "old", "sleepy"].map((w) => SPACE + w),
  ["dog", "tree", "house"].map((w) => SPACE + w),
  ["."],
  ["<0x0A>"], // newline: ends the sentence in free text; not allowed inside a JSON string
];
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = LOWER.toUpperCase();
const DIGITS = "0123456789";
const PUNCT = `.,!?;:'"()[]{}-_/\\@#$%^&*+=<>|~\``;
/** Pieces JSON output is made of; having them whole keeps constrained decoding short. */
const JSON_PIECES = ['{"', '"}', '":', '",', '":"', '","', '"]', '["', "{}", "[]", "true", "false", "null", `${SPACE}"`, `${SPACE}{`, `${SPACE}[`];
const WORDS = (
  "the of and to a in is it you that he was for on are with as I his they be at one have this from or had by " +
  "word but what some we can out other were all there when up use your how said an each she which do their time " +
  "if will way about many then them write would like so these her long make thing see him two has look more day " +
  "could go come did number sound no most people my over know water than call first who may down side been now " +
  "find any new work part take get place made live where after back little only round man year came show every " +
  "good me give our under name very through just form sentence great think say help low line differ turn cause " +
  "much mean before move right boy old too same tell does set three want air well also play small end put home " +
  "read hand port large spell add even land here must big high such follow act why ask men change went light " +
  "kind off need house picture try us again animal point mother world near build self earth father head stand own " +
  "page should country found answer school grow study still learn plant cover food sun four between state keep " +
  "eye never last let thought city tree cross farm hard start might story saw far sea draw left late run while " +
  "press close night real life few north open seem together next white children begin got walk example ease paper " +
  "group always music those both mark often letter until mile river car feet care second book carry took science " +
  "eat room friend began idea fish mountain stop once base hear horse cut sure watch color face wood main enough " +
  "plain girl usual young ready above ever red list though feel talk bird soon body dog family direct pose leave " +
  "song measure door product black short numeral class wind question happen complete ship area half rock order " +
  "fire south problem piece told knew pass since top whole king space heard best hour better true during hundred " +
  "five remember step early hold west ground interest reach fast verb sing listen six table travel less morning " +
  "hello model token data json value name user assistant system message answer reply"
).split(" ");
const SUFFIXES = ["s", "ed", "ing", "er", "ly", "tion", "ment", "ness", "able", "est", "al", "ful", "ous", "ive"];

/** Pieces in priority order; closure is enforced by `add`, deduplication by the caller's set. */
function* candidatePieces(): Generator<string> {
  yield SPACE;
  for (const c of LOWER + UPPER + DIGITS + PUNCT) yield c;
  for (const c of LOWER + UPPER + DIGITS) yield SPACE + c;
  yield* JSON_PIECES;
  for (const slot of TOY_SENTENCE) for (const piece of slot) if (!piece.startsWith("<")) yield piece;
  for (const w of WORDS) yield SPACE + w;
  for (const s of SUFFIXES) yield s;
  for (const w of WORDS) yield w;
  for (const w of WORDS) yield SPACE + w[0]!.toUpperCase() + w.slice(1);
  // Filler that grows the vocab for the larger presets: letter bigrams, then trigrams.
  for (const a of LOWER) for (const b of LOWER) yield a + b;
  for (const a of LOWER) for (const b of LOWER) yield SPACE + a + b;
  for (const a of LOWER) for (const b of LOWER) for (const c of LOWER) yield a + b + c;
  for (const a of LOWER) for (const b of LOWER) for (const c of LOWER) yield SPACE + a + b + c;
}

/** Builds a vocabulary of exactly `size` tokens (the same for every seed: the tokenizer is fixed). */
export function buildVocab(size: number): Vocab {
  if (!Number.isInteger(size) || size < FIRST_PIECE_ID + 128) {
    throw new Error(`vocab size must be an integer >= ${FIRST_PIECE_ID + 128}, got ${size}`);
  }
  const tokens: string[] = [...SPECIAL_TOKENS];
  const types: number[] = [TokenType.unknown, TokenType.control, TokenType.control, TokenType.control, TokenType.control];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(TokenType.byte);
  }
  const seen = new Set<string>(tokens);
  const add = (piece: string): void => {
    if (tokens.length >= size || seen.has(piece)) return;
    const chars = [...piece];
    for (let n = 2; n < chars.length; n++) add(chars.slice(0, n).join("")); // prefixes first
    if (tokens.length >= size) return;
    seen.add(piece);
    tokens.push(piece);
    types.push(TokenType.normal);
  };
  for (const piece of candidatePieces()) {
    if (tokens.length >= size) break;
    add(piece);
  }
  if (tokens.length < size) throw new Error(`vocab size ${size} exceeds the ${tokens.length} pieces available`);

  const scores = new Float32Array(size); // specials and bytes: 0, as sentencepiece exports them
  for (let i = FIRST_PIECE_ID; i < size; i++) scores[i] = -(i - FIRST_PIECE_ID);
  return { tokens, scores, types: Int32Array.from(types), unkId: 0, bosId: 1, eosId: 2, eotId: 4, imStartId: 3 };
}
