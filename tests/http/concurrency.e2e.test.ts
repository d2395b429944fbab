import { afterEach, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

async function readyz(s: TestServer) {
  return (await (await fetch(`${s.url}/readyz`)).json()) as { slots: { busy: number; queued: number } };
}

async function until(cond: () => Promise<boolean>, what: string, ms = 10_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await Bun.sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function chatBody(s: TestServer, maxTokens: number, stream = true) {
  return JSON.stringify({ model: s.engine.model.id, messages: [{ role: "user", content: "Write at length." }], max_tokens: maxTokens, stream, temperature: 1, seed: 3 });
}

const post = (s: TestServer, body: string, signal?: AbortSignal) =>
  fetch(`${s.api}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${s.key}`, "content-type": "application/json" }, body, signal });

describe("concurrency", () => {
  test("four concurrent streams all complete", async () => {
    server = await startTestServer({ "model.parallel": 2, "model.queueSize": 4 });
    const s = server;
    const client = new OpenAI({ apiKey: s.key, baseURL: s.api, maxRetries: 0 });
    const run = async (i: number) => {
      const stream = await client.chat.completions.create({
        model: s.engine.model.id,
        messages: [{ role: "user", content: `Stream number ${i}` }],
        max_tokens: 24,
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = "";
      let usage;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        usage = chunk.usage ?? usage;
      }
      return { text, usage };
    };
    const results = await Promise.all([0, 1, 2, 3].map(run));
    for (const r of results) {
      expect(r.text.length).toBeGreaterThan(0);
      expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    }
    expect(s.ledger.all().filter((r) => r.outcome === "completed")).toHaveLength(4);
    expect((await readyz(s)).slots.busy).toBe(0);
  });

  test("beyond slots and queue: 429 with Retry-After; an aborted stream frees its slot and meters partial usage", async () => {
    server = await startTestServer({ "model.parallel": 1, "model.queueSize": 1, "model.contextSize": 4096, "model.maxTokens": 4000 });
    const s = server;
    // A: a long stream that holds the only slot.
    const abortA = new AbortController();
    const resA = await post(s, chatBody(s, 4000), abortA.signal);
    expect(resA.status).toBe(200);
    const idA = resA.headers.get("x-request-id")!;
    const reader = resA.body!.getReader();
    const firstChunk = await reader.read();
    expect(new TextDecoder().decode(firstChunk.value)).toContain("chat.completion.chunk");

    // B: waits in the queue.
    const resB = post(s, chatBody(s, 4));
    await until(async () => (await readyz(s)).slots.queued === 1, "B to be queued");

    // C: no slot, no room in the queue.
    const resC = await post(s, chatBody(s, 4, false));
    expect(resC.status).toBe(429);
    expect(resC.headers.get("retry-after")).toBe("1");
    const errC = await resC.json();
    expect(errC.error.code).toBe("rate_limited");
    expect(errC.error.type).toBe("rate_limit_error");
    const readyBusy = await fetch(`${s.url}/readyz`);
    expect(readyBusy.status).toBe(503);

    // Client A goes away mid-stream: its slot goes to B, which completes.
    abortA.abort();
    await reader.cancel().catch(() => undefined);
    const b = await resB;
    expect(b.status).toBe(200);
    const bText = await b.text();
    expect(bText).toContain("data: [DONE]");

    await until(async () => s.ledger.byRequestId(idA) !== null, "A to be metered");
    const rowA = s.ledger.byRequestId(idA)!;
    expect(rowA.outcome).toBe("aborted");
    expect(rowA.completionTokens).toBeGreaterThan(0);
    expect(rowA.completionTokens).toBeLessThan(4000);
    expect(rowA.promptTokens).toBeGreaterThan(0);
    await until(async () => (await readyz(s)).slots.busy === 0, "slots to drain");
    expect(s.ledger.all().filter((r) => r.outcome === "completed")).toHaveLength(1);
  });

  test("a client that disconnects while queued never reaches the model", async () => {
    server = await startTestServer({ "model.parallel": 1, "model.queueSize": 2, "model.contextSize": 4096, "model.maxTokens": 4000 });
    const s = server;
    const abortA = new AbortController();
    const resA = await post(s, chatBody(s, 4000), abortA.signal);
    const reader = resA.body!.getReader();
    await reader.read();
    const abortB = new AbortController();
    const resB = post(s, chatBody(s, 8), abortB.signal).catch((e) => e);
    await until(async () => (await readyz(s)).slots.queued === 1, "B to be queued");
    abortB.abort();
    expect(await resB).toBeInstanceOf(Error);
    await until(async () => (await readyz(s)).slots.queued === 0, "B to leave the queue");
    abortA.abort();
    await reader.cancel().catch(() => undefined);
    await until(async () => (await readyz(s)).slots.busy === 0, "A to stop");
    const rows = s.ledger.all();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.outcome).toBe("aborted");
  });
});
