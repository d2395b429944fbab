import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { postJson, startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let model: string;
const messages = [{ role: "user", content: "hi" }];

beforeAll(async () => {
  server = await startTestServer({ "model.contextSize": 256, "server.bodyLimitBytes": 64 * 1024 });
  model = server.engine.model.id;
});
afterAll(() => server.stop());

type Case = { name: string; path?: string; body: unknown; status: number; code: string; param?: string | null; mentions?: string };

const cases = (): Case[] => [
  { name: "messages of the wrong type", body: { model, messages: "hi" }, status: 400, code: "invalid_request", param: "messages" },
  { name: "empty messages", body: { model, messages: [] }, status: 400, code: "invalid_request", param: "messages", mentions: "at least 1" },
  { name: "unknown role", body: { model, messages: [{ role: "robot", content: "x" }] }, status: 400, code: "invalid_request", param: "messages[0].role" },
  { name: "missing content", body: { model, messages: [{ role: "user" }] }, status: 400, code: "invalid_request", param: "messages[0].content", mentions: "required" },
  { name: "unknown model", body: { model: "gpt-9", messages }, status: 404, code: "model_not_found", param: "model", mentions: "gpt-9" },
  { name: "missing model", body: { messages }, status: 400, code: "invalid_request", param: "model" },
  { name: "negative max_tokens", body: { model, messages, max_tokens: -5 }, status: 400, code: "invalid_request", param: "max_tokens", mentions: "at least 1" },
  { name: "fractional max_tokens", body: { model, messages, max_tokens: 2.5 }, status: 400, code: "invalid_request", param: "max_tokens" },
  { name: "temperature out of range", body: { model, messages, temperature: 7 }, status: 400, code: "invalid_request", param: "temperature" },
  { name: "several choices", body: { model, messages, n: 3 }, status: 400, code: "invalid_request", param: "n" },
  { name: "too many stop sequences", body: { model, messages, stop: ["a", "b", "c", "d", "e"] }, status: 400, code: "invalid_request", param: "stop" },
  { name: "unknown response_format", body: { model, messages, response_format: { type: "yaml" } }, status: 400, code: "invalid_request", param: "response_format" },
  {
    name: "json_schema the grammar cannot express",
    body: { model, messages, response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "nonsense" } } } },
    status: 400,
    code: "invalid_request",
    param: "response_format",
  },
  { name: "streaming request with a bad field", body: { model, messages, stream: true, top_p: 3 }, status: 400, code: "invalid_request", param: "top_p" },
  { name: "body is an array", body: [1, 2], status: 400, code: "invalid_request", mentions: "JSON object" },
  { name: "malformed JSON", body: '{"model": ', status: 400, code: "invalid_json", mentions: "not valid JSON" },
  {
    name: "prompt longer than the context",
    body: { model, messages: [{ role: "user", content: "lorem ipsum ".repeat(200) }] },
    status: 400,
    code: "context_length_exceeded",
    mentions: "context holds 256",
  },
  { name: "huge body", body: { model, messages: [{ role: "user", content: "x".repeat(200 * 1024) }] }, status: 413, code: "payload_too_large" },
  { name: "completions without prompt", path: "/completions", body: { model }, status: 400, code: "invalid_request", param: "prompt" },
  { name: "embeddings with empty input list", path: "/embeddings", body: { model, input: [] }, status: 400, code: "invalid_request", param: "input" },
  { name: "embeddings with wrong dimensions", path: "/embeddings", body: { model, input: "x", dimensions: 3 }, status: 400, code: "invalid_request", param: "dimensions" },
];

describe("bad input gets a 4xx naming the field, and loses nothing", () => {
  test("each case answers its status, OpenAI error shape, and nothing is metered", async () => {
    const before = server.ledger.all().length;
    for (const c of cases()) {
      const res = await postJson(server, c.path ?? "/chat/completions", c.body);
      const label = `${c.name}: ${res.text.slice(0, 300)}`;
      expect(res.status, label).toBe(c.status);
      expect(res.json?.error, label).toBeDefined();
      expect(Object.keys(res.json.error).sort(), label).toEqual(["code", "message", "param", "type"]);
      expect(res.json.error.code, label).toBe(c.code);
      expect(res.json.error.type, label).toBe("invalid_request_error");
      if (c.param !== undefined) expect(res.json.error.param, label).toBe(c.param);
      if (c.param) expect(res.json.error.message, label).toContain(c.param);
      if (c.mentions) expect(res.json.error.message, label).toContain(c.mentions);
    }
    expect(server.ledger.all().length).toBe(before);
  });

  test("missing, malformed, unknown and revoked keys get 401", async () => {
    const body = { model, messages, max_tokens: 2 };
    const missing = await postJson(server, "/chat/completions", body, { authorization: "" });
    expect(missing.status).toBe(401);
    expect(missing.json.error.type).toBe("authentication_error");
    expect(missing.json.error.message).toContain("Authorization: Bearer");
    expect(missing.headers.get("www-authenticate")).toContain("Bearer");
    expect((await postJson(server, "/chat/completions", body, { authorization: "Basic abc" })).status).toBe(401);
    expect((await postJson(server, "/chat/completions", body, { authorization: "Bearer hth_notakey" })).status).toBe(401);
    const other = server.keys.create("temp");
    expect((await postJson(server, "/chat/completions", body, { authorization: `Bearer ${other.key}` })).status).toBe(200);
    server.keys.revoke(other.id);
    const revoked = await postJson(server, "/chat/completions", body, { authorization: `Bearer ${other.key}` });
    expect(revoked.status).toBe(401);
    expect(revoked.json.error.message).toContain("revoked");
    const models = await fetch(`${server.api}/models`);
    expect(models.status).toBe(401);
  });

  test("unknown routes are 404 in the same error shape; health endpoints need no key", async () => {
    const res = await fetch(`${server.api}/nope`, { headers: { authorization: `Bearer ${server.key}` } });
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("not_found");
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).slots.total).toBe(2);
  });

  test("the server still serves after all of that", async () => {
    const res = await postJson(server, "/chat/completions", { model, messages, max_tokens: 4 });
    expect(res.status).toBe(200);
    expect(res.json.choices[0].message.role).toBe("assistant");
    expect(server.ledger.byRequestId(res.json.id)?.outcome).toBe("completed");
  });
});
