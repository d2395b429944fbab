import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startTestServer();
  client = new OpenAI({ apiKey: server.key, baseURL: server.api, maxRetries: 0 });
});
afterAll(() => server.stop());

function metered(id: string) {
  const row = server.ledger.byRequestId(id);
  expect(row).not.toBeNull();
  return row!;
}

describe("OpenAI-compatible API through the official client", () => {
  test("lists the loaded model", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([server.engine.model.id]);
    const one = await client.models.retrieve(server.engine.model.id);
    expect(one.owned_by).toBe("hearth");
  });

  test("chat, non-streaming: answer, usage, and the ledger agree", async () => {
    const res = await client.chat.completions.create({
      model: server.engine.model.id,
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "Say hello." },
      ],
      max_tokens: 12,
      temperature: 0,
    });
    expect(res.object).toBe("chat.completion");
    expect(res.choices[0]!.message.role).toBe("assistant");
    expect(typeof res.choices[0]!.message.content).toBe("string");
    expect(["stop", "length"]).toContain(res.choices[0]!.finish_reason);
    const usage = res.usage!;
    expect(usage.prompt_tokens).toBeGreaterThan(5);
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(usage.completion_tokens).toBeLessThanOrEqual(12);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    const row = metered(res.id);
    expect(row).toMatchObject({
      keyId: server.keyId,
      model: server.engine.model.id,
      endpoint: "chat.completions",
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      outcome: "completed",
    });
  });

  test("max_tokens is honoured with finish_reason length", async () => {
    const res = await client.chat.completions.create({
      model: server.engine.model.id,
      messages: [{ role: "user", content: "Count." }],
      max_completion_tokens: 3,
      temperature: 0,
    });
    // Random weights rarely emit end-of-generation within 3 tokens; when they do, it is "stop".
    expect(res.usage!.completion_tokens).toBeLessThanOrEqual(3);
    if (res.choices[0]!.finish_reason === "length") expect(res.usage!.completion_tokens).toBe(3);
  });

  test("chat, streaming with include_usage: deltas, finish, usage in the last chunk, [DONE]", async () => {
    const stream = await client.chat.completions.create({
      model: server.engine.model.id,
      messages: [{ role: "user", content: "Tell me a story." }],
      max_tokens: 16,
      temperature: 0.8,
      seed: 7,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text.length).toBeGreaterThan(0);
    const finishing = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(["stop", "length"]).toContain(finishing!.choices[0]!.finish_reason!);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.completion_tokens).toBeGreaterThan(0);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const row = metered(last.id);
    expect(row.promptTokens).toBe(last.usage!.prompt_tokens);
    expect(row.completionTokens).toBe(last.usage!.completion_tokens);
    expect(row.outcome).toBe("completed");
  });

  test("the same seed gives the same sampled answer", async () => {
    const ask = () =>
      client.chat.completions.create({
        model: server.engine.model.id,
        messages: [{ role: "user", content: "Pick words." }],
        max_tokens: 10,
        temperature: 1,
        seed: 42,
      });
    const [a, b] = [await ask(), await ask()];
    expect(a.choices[0]!.message.content).toBe(b.choices[0]!.message.content);
  });

  test("stop sequences end the answer before the stop text", async () => {
    const free = await client.chat.completions.create({
      model: server.engine.model.id,
      messages: [{ role: "user", content: "Go." }],
      max_tokens: 24,
      temperature: 0,
    });
    const text = free.choices[0]!.message.content!;
    const stop = text.slice(2, 4);
    if (stop.length < 2) return expect(text.length).toBeLessThan(4); // answer too short to cut
    const cut = await client.chat.completions.create({
      model: server.engine.model.id,
      messages: [{ role: "user", content: "Go." }],
      max_tokens: 24,
      temperature: 0,
      stop: [stop],
    });
    expect(cut.choices[0]!.message.content).toBe(text.slice(0, text.indexOf(stop)));
    expect(cut.choices[0]!.finish_reason).toBe("stop");
  });

  test("completions, non-streaming and streaming", async () => {
    const res = await client.completions.create({ model: server.engine.model.id, prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
    expect(res.object).toBe("text_completion");
    expect(res.usage!.completion_tokens).toBeGreaterThan(0);
    expect(res.usage!.completion_tokens).toBeLessThanOrEqual(8);
    expect(metered(res.id)).toMatchObject({ endpoint: "completions", promptTokens: res.usage!.prompt_tokens, completionTokens: res.usage!.completion_tokens });

    const stream = await client.completions.create({
      model: server.engine.model.id,
      prompt: "Once upon a time",
      max_tokens: 8,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(res.choices[0]!.text);
    expect(usage!.completion_tokens).toBe(res.usage!.completion_tokens);
  });

  test("embeddings: one input and a batch, vectors of the model's width", async () => {
    const width = server.engine.model.embeddingLength;
    const one = await client.embeddings.create({ model: server.engine.model.id, input: "patient intake form" });
    expect(one.data).toHaveLength(1);
    expect(one.data[0]!.embedding).toHaveLength(width);
    expect(one.data[0]!.embedding.every((x) => Number.isFinite(x))).toBe(true);
    expect(one.usage.prompt_tokens).toBeGreaterThan(0);

    const batch = await client.embeddings.create({
      model: server.engine.model.id,
      input: ["patient intake form", "quarterly tax filing", "tenancy agreement"],
      encoding_format: "float",
    });
    expect(batch.data.map((d) => d.index)).toEqual([0, 1, 2]);
    for (const d of batch.data) expect(d.embedding).toHaveLength(width);
    // Same text, same vector, whichever encoding carried it.
    batch.data[0]!.embedding.forEach((x, i) => expect(x).toBeCloseTo(one.data[0]!.embedding[i]!, 4));
    expect(batch.data[1]!.embedding).not.toEqual(batch.data[0]!.embedding);
  });

  test("response_format json_schema output parses and matches the schema", async () => {
    const schema = {
      type: "object",
      properties: {
        approved: { type: "boolean" },
        priority: { enum: ["low", "medium", "high"] },
        count: { type: "integer" },
      },
      required: ["approved", "priority", "count"],
      additionalProperties: false,
    };
    const res = await client.chat.completions.create({
      model: server.engine.model.id,
      messages: [{ role: "user", content: "Triage this request as JSON." }],
      response_format: { type: "json_schema", json_schema: { name: "triage", schema, strict: true } },
      max_tokens: 200,
      temperature: 0,
    });
    const content = res.choices[0]!.message.content!;
    const parsed = JSON.parse(content);
    expect(Object.keys(parsed).sort()).toEqual(["approved", "count", "priority"]);
    expect(typeof parsed.approved).toBe("boolean");
    expect(["low", "medium", "high"]).toContain(parsed.priority);
    expect(Number.isInteger(parsed.count)).toBe(true);
  });

  test("a json_schema may name a property \"type\"", async () => {
    const schema = { type: "object", properties: { type: { enum: ["invoice", "receipt"] } }, required: ["type"] };
    const res = await client.chat.completions.create({
      model: server.engine.model.id,
      messages: [{ role: "user", content: "Classify." }],
      response_format: { type: "json_schema", json_schema: { name: "doc", schema } },
      max_tokens: 60,
      temperature: 0,
    });
    expect(["invoice", "receipt"]).toContain(JSON.parse(res.choices[0]!.message.content!).type);
  });

  test("response_format json_object gives parseable JSON", async () => {
    const res = await client.chat.completions.create({
      model: server.engine.model.id,
      messages: [{ role: "user", content: "Answer in JSON." }],
      response_format: { type: "json_object" },
      max_tokens: 120,
      temperature: 0,
    });
    if (res.choices[0]!.finish_reason === "stop") expect(() => JSON.parse(res.choices[0]!.message.content!)).not.toThrow();
    else expect(res.usage!.completion_tokens).toBe(120);
  });

  test("prompts and completions never reach the log", async () => {
    const secret = "Patient Jane Roe, DOB 1970-01-01";
    const res = await client.chat.completions.create({ model: server.engine.model.id, messages: [{ role: "user", content: secret }], max_tokens: 32 });
    const logs = server.logs.join("\n");
    expect(logs).toContain(res.id);
    expect(logs).not.toContain("Jane Roe");
    const answer = res.choices[0]!.message.content!;
    expect(answer.length).toBeGreaterThan(8);
    expect(logs).not.toContain(answer);
    expect(logs).not.toContain(server.key);
  });
});
