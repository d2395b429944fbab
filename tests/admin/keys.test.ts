import { afterEach, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { adminHarness, type AdminHarness } from "./harness.ts";

let h: AdminHarness;
afterEach(() => h?.close());

const DAY = 86_400_000;

function record(keyId: string | null, createdAt: number, promptTokens: number, completionTokens: number) {
  h.ledger.record({ requestId: randomUUID(), keyId, model: "demo", endpoint: "/v1/chat/completions", promptTokens, completionTokens, durationMs: 5, outcome: "completed", createdAt });
}

describe("API keys", () => {
  test("create shows the key once, list shows its prefix only, revoke stops it", async () => {
    h = adminHarness();
    await h.pair();
    const created = await h.call("POST", "keys", { body: { name: "  clinic app " } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: "clinic app" });
    expect(created.json.key).toStartWith("hth_");
    expect(h.keys.verify(created.json.key)?.id).toBe(created.json.id);

    const list = await h.call("GET", "keys");
    expect(list.json.keys).toHaveLength(1);
    expect(JSON.stringify(list.json)).not.toContain(created.json.key);
    expect(created.json.key).toStartWith(list.json.keys[0].prefix);

    const revoked = await h.call("DELETE", `keys/${created.json.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json.revokedAt).toBeString();
    expect(h.keys.verify(created.json.key)).toBeNull();
    expect((await h.call("DELETE", "keys/key_doesnotexist")).json.error).toMatchObject({ code: "not_found", field: "id" });
  });

  test("names are validated with the field named", async () => {
    h = adminHarness();
    await h.pair();
    for (const body of [{}, { name: "" }, { name: "   " }, { name: "x".repeat(65) }, { name: 3 }, { name: "ok", extra: true }]) {
      const res = await h.call("POST", "keys", { body });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("invalid_request");
      expect(["name", "extra"]).toContain(res.json.error.field);
    }
    expect((await h.call("POST", "keys", { raw: "{not json" })).json.error).toMatchObject({ code: "invalid_json", field: "body" });
    expect((await h.call("POST", "keys", { raw: '{"name":"x"}', headers: { "content-type": "text/plain" } })).status).toBe(400);
    expect((await h.call("GET", "keys")).json.keys).toEqual([]);
  });
});

describe("usage", () => {
  test("per day and per key over the period, zeros included, from the ledger", async () => {
    h = adminHarness();
    await h.pair();
    const a = (await h.call("POST", "keys", { body: { name: "a" } })).json;
    const b = (await h.call("POST", "keys", { body: { name: "b" } })).json;
    const today = Math.floor(Date.now() / DAY) * DAY;
    record(a.id, today + 1000, 10, 5);
    record(a.id, today + 2000, 1, 1);
    record(b.id, today - 2 * DAY + 5, 100, 50);
    record(null, today - DAY, 7, 3);
    record(a.id, today - 10 * DAY, 999, 999); // before a 3-day period

    const usage = (await h.call("GET", "usage?days=3")).json;
    const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    expect(usage.from).toBe(date(today - 2 * DAY));
    expect(usage.to).toBe(date(today));
    expect(usage.perDay).toEqual([
      { date: date(today - 2 * DAY), requests: 1, promptTokens: 100, completionTokens: 50 },
      { date: date(today - DAY), requests: 1, promptTokens: 7, completionTokens: 3 },
      { date: date(today), requests: 2, promptTokens: 11, completionTokens: 6 },
    ]);
    expect(usage.totals).toEqual({ requests: 4, promptTokens: 118, completionTokens: 59 });
    expect(usage.perKey.map((k: any) => [k.name, k.requests])).toEqual([["b", 1], ["a", 2], [null, 1]]);

    const perKey = (await h.call("GET", `keys/${a.id}/usage?days=11`)).json;
    expect(perKey.perDay).toHaveLength(11);
    expect(perKey.perDay[0]).toEqual({ date: date(today - 10 * DAY), requests: 1, promptTokens: 999, completionTokens: 999 });
    expect(perKey.perDay.at(-1)).toEqual({ date: date(today), requests: 2, promptTokens: 11, completionTokens: 6 });

    // The list's totals come from the same ledger.
    const listed = (await h.call("GET", "keys")).json.keys.find((k: any) => k.id === a.id);
    expect(listed).toMatchObject({ requests: 3, promptTokens: 1010, completionTokens: 1005 });
  });

  test("days is validated: a whole number from 1 to 366", async () => {
    h = adminHarness();
    await h.pair();
    for (const q of ["days=0", "days=367", "days=1.5", "days=abc", "days=", "other=1"]) {
      const res = await h.call("GET", `usage?${q}`);
      expect(res.status).toBe(400);
      expect(["days", "other"]).toContain(res.json.error.field);
    }
    expect((await h.call("GET", "usage")).json.perDay).toHaveLength(30);
  });
});
