import { describe, expect, test } from "bun:test";
import { buildVocab, FIRST_PIECE_ID, SPACE, TokenType, TOY_SENTENCE } from "../../runtime/model/vocab.ts";
import { PRESETS } from "../../runtime/model/presets.ts";

describe("buildVocab", () => {
  const v = buildVocab(PRESETS.tiny.vocabSize);

  test("starts with the specials and the 256 byte tokens, with the right types and ids", () => {
    expect(v.tokens.slice(0, 5)).toEqual(["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]);
    expect([...v.types.slice(0, 5)]).toEqual([TokenType.unknown, TokenType.control, TokenType.control, TokenType.control, TokenType.control]);
    expect({ unk: v.unkId, bos: v.bosId, eos: v.eosId, eot: v.eotId }).toEqual({ unk: 0, bos: 1, eos: 2, eot: 4 });
    expect(v.tokens[5]).toBe("<0x00>");
    expect(v.tokens[5 + 0x0a]).toBe("<0x0A>");
    expect(v.tokens[FIRST_PIECE_ID - 1]).toBe("<0xFF>");
    expect([...v.types.slice(5, FIRST_PIECE_ID)].every((t) => t === TokenType.byte)).toBe(true);
    expect([...v.types.slice(FIRST_PIECE_ID)].every((t) => t === TokenType.normal)).toBe(true);
  });

  test("has exactly the requested size for every preset, with unique tokens", () => {
    for (const dims of Object.values(PRESETS)) {
      const vocab = buildVocab(dims.vocabSize);
      expect(vocab.tokens.length).toBe(dims.vocabSize);
      expect(vocab.scores.length).toBe(dims.vocabSize);
      expect(new Set(vocab.tokens).size).toBe(dims.vocabSize);
    }
  });

  test("every multi-char piece is reachable by SPM merges (its prefix is a token) and scores fall with rank", () => {
    const ids = new Set(v.tokens);
    for (let i = FIRST_PIECE_ID; i < v.tokens.length; i++) {
      const chars = [...v.tokens[i]!];
      if (chars.length > 1) expect(ids.has(chars.slice(0, -1).join(""))).toBe(true);
      if (i > FIRST_PIECE_ID) expect(v.scores[i]!).toBeLessThan(v.scores[i - 1]!);
    }
  });

  test("contains the word-start marker, letters, JSON punctuation and the toy-language pieces", () => {
    for (const piece of [SPACE, "a", "Z", "7", "{", "}", "[", "]", '"', ":", ",", `${SPACE}the`, '{"', ...TOY_SENTENCE.flat()]) {
      expect(v.tokens).toContain(piece);
    }
  });

  test("is the same on every call (the tokenizer does not depend on the seed)", () => {
    expect(buildVocab(2048).tokens).toEqual(v.tokens);
    expect(() => buildVocab(100)).toThrow(/vocab size/);
    expect(() => buildVocab(1_000_000)).toThrow(/exceeds/);
  });
});
