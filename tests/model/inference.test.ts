/** The synthetic models in real llama.cpp (via node-llama-cpp): load, generate, chat, tokenize, embed, JSON. */
import { afterAll, describe, expect, test } from "bun:test";
import { ChatMLChatWrapper, LlamaChatSession, LlamaCompletion, type LlamaContext } from "node-llama-cpp";
import { PRESETS } from "../../runtime/model/presets.ts";
import { buildVocab } from "../../runtime/model/vocab.ts";
import { CONTEXT, loadTestModel, testLlama, TOY_SENTENCE_RE } from "./fixture.ts";

const contexts: LlamaContext[] = [];
afterAll(async () => {
  for (const c of contexts) await c.dispose();
});
async function context(opts: Parameters<typeof loadTestModel>[0] = {}): Promise<LlamaContext> {
  const ctx = await (await loadTestModel(opts)).createContext(CONTEXT);
  contexts.push(ctx);
  return ctx;
}

describe("every tensor type loads and generates", () => {
  for (const type of ["f32", "f16", "q8_0", "q4_0"] as const) {
    test(`tiny ${type}`, async () => {
      const model = await loadTestModel({ type });
      expect(model.trainContextSize).toBe(2048);
      expect(model.embeddingVectorSize).toBe(64);
      const completion = new LlamaCompletion({ contextSequence: (await context({ type })).getSequence() });
      let tokens = 0;
      const text = await completion.generateCompletion("Once upon a time", {
        maxTokens: 24,
        temperature: 0,
        onToken: (t) => void (tokens += t.length),
      });
      expect(tokens).toBe(24);
      // The steered weights survive quantization: the output is toy-language sentences.
      const sentences = text.split("\n").map((s) => s.replace(/^"/, "")).filter((s) => s.endsWith("."));
      expect(sentences.length).toBeGreaterThan(0);
      for (const s of sentences) expect(s).toMatch(TOY_SENTENCE_RE);
    });
  }
});

describe("chat", () => {
  test("LlamaChatSession resolves ChatML from the model's own template and replies", async () => {
    const session = new LlamaChatSession({ contextSequence: (await context()).getSequence() });
    expect(session.chatWrapper).toBeInstanceOf(ChatMLChatWrapper);
    const reply = await session.prompt("Hello! Who are you?", { maxTokens: 12 });
    expect(reply.length).toBeGreaterThan(10);
    expect(reply).toMatch(/^(The|A) /);
    const full = await session.prompt("Tell me a story.", { maxTokens: 40, temperature: 0 });
    expect(full.split("\n")[0]).toMatch(TOY_SENTENCE_RE);
  });

  test("sampling with different seeds gives different replies (the toy language has choices)", async () => {
    const session = new LlamaChatSession({ contextSequence: (await context()).getSequence() });
    const replies = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5]) {
      session.resetChatHistory();
      replies.add(await session.prompt("Hi", { maxTokens: 24, temperature: 1, seed }));
    }
    expect(replies.size).toBeGreaterThan(1);
  });
});

describe("tokenizer", () => {
  const vocab = buildVocab(PRESETS.tiny.vocabSize);
  test("arbitrary UTF-8 round-trips through byte fallback", async () => {
    const model = await loadTestModel();
    for (const text of ["héllo wörld — 你好 🙂", "emoji 👩🏽‍🚀 and CJK 漢字かな한글", "tabs\tand\nnewlines\r\n", "  leading spaces", "{\"a\": [1, 2.5, null]}"]) {
      const tokens = model.tokenize(text);
      expect(model.detokenize(tokens)).toBe(text);
    }
    // CJK and emoji fall back to byte tokens (ids 5..260): "你" is the "▁" word start plus 3 UTF-8 bytes.
    const cjk = model.tokenize("你").map((t) => vocab.tokens[t]);
    expect(cjk).toEqual(["\u2581", "<0xE4>", "<0xBD>", "<0xA0>"]);
  });

  test("SPM merges build words from pieces, and the special tokens are wired up", async () => {
    const model = await loadTestModel();
    expect(model.tokenize("hello world").map((t) => vocab.tokens[t])).toEqual(["\u2581hello", "\u2581world"]);
    expect(model.tokenize("jumping").map((t) => vocab.tokens[t])).toEqual(["\u2581jump", "ing"]);
    expect(model.tokens.bos).toBe(1 as never);
    expect(model.tokens.eos).toBe(2 as never);
    expect(model.tokens.eot).toBe(4 as never);
    expect(model.tokens.shouldPrependBosToken).toBe(true);
    expect(model.tokenize("<|im_start|>user", true)[0]).toBe(3 as never);
  });
});

describe("embeddings", () => {
  test("createEmbeddingContext returns n_embd-long finite vectors that depend on the input", async () => {
    const model = await loadTestModel();
    const ctx = await model.createEmbeddingContext(CONTEXT);
    try {
      const a = await ctx.getEmbeddingFor("The quick brown fox");
      const b = await ctx.getEmbeddingFor("你好 🙂");
      expect(a.vector.length).toBe(64);
      expect(b.vector.length).toBe(64);
      expect(a.vector.every(Number.isFinite)).toBe(true);
      expect(a.vector).not.toEqual(b.vector);
    } finally {
      await ctx.dispose();
    }
  });
});

describe("JSON-schema grammar", () => {
  const schema = {
    type: "object",
    properties: {
      name: { type: "string" },
      age: { type: "integer" },
      score: { type: "number" },
      ok: { type: "boolean" },
      tags: { type: "array", items: { type: "string" } },
      kind: { enum: ["cat", "dog", 3] },
      nested: { type: "object", properties: { list: { type: "array", items: { type: "integer" } }, note: { type: ["string", "null"] } } },
    },
  } as const;

  test("constrained generation yields parseable, schema-valid JSON at temperatures 0 to 2", async () => {
    const llama = await testLlama();
    const grammar = await llama.createGrammarForJsonSchema(schema);
    const session = new LlamaChatSession({ contextSequence: (await context()).getSequence() });
    for (const [temperature, seed] of [[0, 1], [0.7, 2], [1, 3], [1, 4], [1.5, 5], [2, 6]] as const) {
      session.resetChatHistory();
      const text = await session.prompt("Describe a pet as JSON.", { grammar, maxTokens: 400, temperature, seed });
      const parsed = grammar.parse(text); // throws unless valid JSON matching the schema
      expect(Object.keys(parsed)).toEqual(["name", "age", "score", "ok", "tags", "kind", "nested"]);
      expect(JSON.parse(text)).toEqual(parsed);
    }
  }, 30_000);

  test("free-form JSON mode (the json grammar) terminates with a parseable object", async () => {
    const llama = await testLlama();
    const grammar = await llama.getGrammarFor("json");
    const session = new LlamaChatSession({ contextSequence: (await context()).getSequence() });
    for (const seed of [1, 2, 3]) {
      session.resetChatHistory();
      const text = await session.prompt("Anything, as JSON.", { grammar, maxTokens: 300, temperature: 1, seed });
      expect(typeof JSON.parse(text)).toBe("object");
    }
  }, 30_000);

  test("string values are toy-language sentences closed by the grammar", async () => {
    const llama = await testLlama();
    const grammar = await llama.createGrammarForJsonSchema({ type: "object", properties: { title: { type: "string" } } } as const);
    const session = new LlamaChatSession({ contextSequence: (await context()).getSequence() });
    const parsed = grammar.parse(await session.prompt("A title please.", { grammar, maxTokens: 100, temperature: 0 }));
    expect(parsed.title).toMatch(TOY_SENTENCE_RE);
  });
});
