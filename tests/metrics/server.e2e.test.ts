import { afterAll, beforeAll, expect, test } from "bun:test";
import { postJson, readSse, startTestServer, type TestServer } from "../helpers/server.ts";
import { CONTENT_TYPE } from "../../runtime/metrics/exposition.ts";
import { duplicateSeries, find, parseScrape, value, type Scrape } from "./scrape.ts";
import { promtoolCheck } from "./promtool.ts";

let server: TestServer;
let second: { id: string; name: string; key: string };
let model: string;

beforeAll(async () => {
  server = await startTestServer({ "metrics.access": "lan" });
  // A name with every character the exposition format escapes.
  second = server.keys.create('ops "night" \\ shift');
  model = server.engine.model.id;
});
afterAll(() => server.stop());

async function scrape(): Promise<{ text: string; scrape: Scrape; res: Response }> {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, scrape: parseScrape(text), res };
}

/** A streamed request's id and its usage chunk. */
async function streamed(path: string, body: object, key: string) {
  const res = await fetch(`${server.api}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  });
  expect(res.status).toBe(200);
  const events = (await readSse(res)).filter((d) => d !== "[DONE]").map((d) => JSON.parse(d));
  return { id: events[0].id as string, usage: events.at(-1).usage };
}

test("the scrape counts exactly the requests made, their tokens by key name, latency and first tokens", async () => {
  const chat = { model, messages: [{ role: "user", content: "Say something" }], max_tokens: 6, seed: 3 };
  const completion = { model, prompt: "Once upon a time", max_tokens: 5, seed: 4 };
  const gens: { id: string; usage: { prompt_tokens: number; completion_tokens: number }; key: string; endpoint: string }[] = [];

  const a = await postJson(server, "/chat/completions", chat);
  expect(a.status).toBe(200);
  gens.push({ id: a.json.id, usage: a.json.usage, key: "test", endpoint: "chat.completions" });
  gens.push({ ...(await streamed("/chat/completions", chat, second.key)), key: second.name, endpoint: "chat.completions" });
  const c = await postJson(server, "/completions", completion);
  expect(c.status).toBe(200);
  gens.push({ id: c.json.id, usage: c.json.usage, key: "test", endpoint: "completions" });
  gens.push({ ...(await streamed("/completions", completion, second.key)), key: second.name, endpoint: "completions" });
  const e = await postJson(server, "/embeddings", { model, input: ["hello there", "general kenobi"] }, { authorization: `Bearer ${second.key}` });
  expect(e.status).toBe(200);
  // Refused before reaching a model: counted by status only.
  expect((await postJson(server, "/chat/completions", chat, { authorization: "Bearer hth_not_a_key" })).status).toBe(401);
  expect((await postJson(server, "/chat/completions", { model })).status).toBe(400);
  expect((await fetch(`${server.api}/models`, { headers: { authorization: `Bearer ${server.key}` } })).status).toBe(200);

  const { text, scrape: s, res } = await scrape();
  expect(res.headers.get("content-type")).toBe(CONTENT_TYPE);
  expect(await promtoolCheck(text)).toEqual({ code: 0, output: "" });
  expect(duplicateSeries(s)).toEqual([]);

  // Every answer by endpoint and status.
  const http = (endpoint: string, status: string) => value(s, "hearth_http_requests_total", { endpoint, status });
  expect([http("chat.completions", "200"), http("completions", "200"), http("embeddings", "200"), http("models", "200")]).toEqual([2, 2, 1, 1]);
  expect([http("chat.completions", "401"), http("chat.completions", "400")]).toEqual([1, 1]);
  expect(find(s, "hearth_http_requests_total").reduce((n, x) => n + x.value, 0)).toBe(8);

  // Requests and tokens agree with the usage ledger row for row, and with what the API reported.
  const names = new Map([[server.keyId, "test"], [second.id, second.name]]);
  const rows = server.ledger.all();
  expect(rows).toHaveLength(5);
  const inference = find(s, "hearth_inference_requests_total");
  expect(inference.reduce((n, x) => n + x.value, 0)).toBe(5);
  for (const x of inference) {
    const matching = rows.filter((r) => r.endpoint === x.labels.endpoint && names.get(r.keyId!) === x.labels.key && r.outcome === x.labels.outcome && r.model === x.labels.model);
    expect(x.value).toBe(matching.length);
  }
  for (const [keyId, key] of names) {
    const mine = rows.filter((r) => r.keyId === keyId);
    expect(value(s, "hearth_prompt_tokens_total", { model, key })).toBe(mine.reduce((n, r) => n + r.promptTokens, 0));
    expect(value(s, "hearth_completion_tokens_total", { model, key })).toBe(mine.reduce((n, r) => n + r.completionTokens, 0));
    const reported = gens.filter((g) => g.key === key);
    const embedded = key === second.name ? e.json.usage.prompt_tokens : 0;
    expect(value(s, "hearth_prompt_tokens_total", { model, key })).toBe(reported.reduce((n, g) => n + g.usage.prompt_tokens, embedded));
    expect(value(s, "hearth_completion_tokens_total", { model, key })).toBe(reported.reduce((n, g) => n + g.usage.completion_tokens, 0));
  }
  for (const g of gens) expect(server.ledger.byRequestId(g.id)?.completionTokens).toBe(g.usage.completion_tokens);

  // Latency: one observation per request that reached a model; first token: one per generation that generated one.
  const count = (name: string, labels: Record<string, string>) => value(s, `${name}_count`, labels);
  expect(count("hearth_request_duration_seconds", { endpoint: "chat.completions", model })).toBe(2);
  expect(count("hearth_request_duration_seconds", { endpoint: "completions", model })).toBe(2);
  expect(count("hearth_request_duration_seconds", { endpoint: "embeddings", model })).toBe(1);
  const generated = gens.filter((g) => g.usage.completion_tokens > 0).length;
  expect(generated).toBeGreaterThan(0);
  expect(count("hearth_time_to_first_token_seconds", { model })).toBe(generated);
  const ttftSum = value(s, "hearth_time_to_first_token_seconds_sum", { model });
  const latencySum = find(s, "hearth_request_duration_seconds_sum").reduce((n, x) => n + x.value, 0);
  expect(ttftSum).toBeGreaterThan(0);
  expect(ttftSum).toBeLessThanOrEqual(latencySum);

  // Names label the usage; neither the keys nor their ids ever appear.
  expect(text).toContain('key="test"');
  expect(text).toContain('key="ops \\"night\\" \\\\ shift"');
  for (const secret of [server.key, second.key, server.keyId, second.id]) expect(text).not.toContain(secret);

  // The served model and the box.
  expect(value(s, "hearth_model_state", { model, state: "ready" })).toBe(1);
  expect(value(s, "hearth_model_slots", { model })).toBe(2);
  expect(value(s, "hearth_model_slots_active", { model })).toBe(0);
  expect(value(s, "hearth_model_queue_depth", { model })).toBe(0);
  expect(value(s, "hearth_model_queue_capacity", { model })).toBe(16);
  expect(value(s, "hearth_model_load_duration_seconds", { model })).toBe(server.engine.model.loadMs / 1000);
  expect(value(s, "hearth_telemetry_connected")).toBe(0);
  expect(find(s, "hearth_telemetry_outbox_messages").length).toBe(6);
  expect(value(s, "hearth_process_resident_memory_bytes")).toBeGreaterThan(0);
  expect(find(s, "hearth_ota_state")).toEqual([]);
});

test("slots taken and requests waiting show at scrape time", async () => {
  const engine = server.engine;
  const params = { maxTokens: 4 };
  const signal = new AbortController().signal;
  const held = [await engine.prepareCompletion("one", params, signal), await engine.prepareCompletion("two", params, signal)];
  const waiting = engine.prepareCompletion("three", params, signal);
  try {
    const { scrape: s } = await scrape();
    expect(value(s, "hearth_model_slots_active", { model })).toBe(2);
    expect(value(s, "hearth_model_queue_depth", { model })).toBe(1);
  } finally {
    held.forEach((p) => p.release());
    (await waiting).release();
  }
  const { scrape: after } = await scrape();
  expect(value(after, "hearth_model_slots_active", { model })).toBe(0);
  expect(value(after, "hearth_model_queue_depth", { model })).toBe(0);
});

test("machine figures come from the admin's cached health sample, not from sampling per scrape", async () => {
  // Before the first sample, the families are declared with no samples.
  if (server.health.latest() === null) expect(find((await scrape()).scrape, "hearth_system_memory_total_bytes")).toEqual([]);
  await server.health.refresh();
  const sample = server.health.latest()!;
  const { scrape: s } = await scrape();
  expect(value(s, "hearth_system_memory_total_bytes")).toBe(sample.snapshot.memory.totalMB * 1024 * 1024);
  expect(value(s, "hearth_system_cpu_load_ratio")).toBe(sample.snapshot.cpuLoadPercent / 100);
  expect(find(s, "hearth_system_temperature_celsius")).toHaveLength(sample.snapshot.temperaturesC.length);
  // Scraping again does not take a new sample.
  await scrape();
  expect(server.health.latest()!.sampledAt).toBe(sample.sampledAt);
});
