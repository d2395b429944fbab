/**
 * The admin API of a real server (real model, real HTTP on port 0): status and models from the
 * loaded engine, health from the interval cache, license upload, logs, and login rate limiting
 * keyed by the client's address.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AdminTokenStore } from "../../runtime/admin/tokens.ts";
import { systemClock } from "../../runtime/clock.ts";
import { testLicense, TEST_VENDOR_KEYS } from "../helpers/licenses.ts";
import { postJson, startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let token: string;

async function admin(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/admin/api/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

beforeAll(async () => {
  server = await startTestServer({ "license.vendorKeys": TEST_VENDOR_KEYS }, undefined, { admin: { healthIntervalMs: 60_000 } });
  token = new AdminTokenStore(server.db, systemClock).create("e2e").token;
});
afterAll(() => server.stop());

describe("admin API on a running server", () => {
  test("the first start logged a pairing code line", () => {
    expect(server.logs.some((l) => /"msg":"pairing code: [2-9A-Z]{4}-[2-9A-Z]{4}"/.test(l))).toBe(true);
  });

  test("status: version, uptime, board, kernel build, the model's state and cached health", async () => {
    // Nothing sampled before anyone asked: a box nobody looks at does not pay for it.
    expect(server.health.sampling).toBe(false);
    const { status, json } = await admin("GET", "status");
    expect(server.health.sampling).toBe(true);
    const sampledAt = server.health.latest()!.sampledAt;
    expect(status).toBe(200);
    expect(json.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(json.board.kind).toBeString();
    expect(json.kernel.id).toBeString();
    expect(json.models).toEqual([expect.objectContaining({ id: server.engine.model.id, state: "ready", field: "model" })]);
    expect(json.license).toEqual({ tier: "community", reason: "absent" });
    expect(json.health.memory.totalMB).toBeGreaterThan(0);
    expect(json.health.cpuLoadPercent).toBeGreaterThanOrEqual(0);
    expect(json.health.disk.totalMB).toBeGreaterThan(0);
    expect(typeof json.health.throttled).toBe("boolean");
    // Read from the cache: a second request does not sample again.
    expect((await admin("GET", "status")).json.health.sampledAt).toBe(new Date(sampledAt).toISOString());
  });

  test("models: the active model with its settings, kernel and memory fit; installed files", async () => {
    const { json } = await admin("GET", "models");
    expect(json.active).toBe(server.engine.model.id);
    const [m] = json.models;
    expect(m).toMatchObject({ id: server.engine.model.id, active: true, state: "ready" });
    expect(m.sizeBytes).toBeGreaterThan(0);
    expect(m.fit.fits).toBe(true);
    expect(m.fit.needMB.total).toBeGreaterThan(0);
    expect(m.settings.threads).toBeGreaterThan(0);
    expect(json.installed).toContainEqual(expect.objectContaining({ path: server.engine.model.path, served: true }));
  });

  test("an API key made with the admin API serves inference, and its usage shows per day", async () => {
    const created = (await admin("POST", "keys", { name: "clinic" })).json;
    const res = await postJson(server, "/chat/completions", { model: server.engine.model.id, messages: [{ role: "user", content: "hi" }], max_tokens: 3 }, { authorization: `Bearer ${created.key}` });
    expect(res.status).toBe(200);
    const usage = (await admin("GET", `keys/${created.id}/usage?days=1`)).json;
    expect(usage.perDay).toEqual([expect.objectContaining({ requests: 1, completionTokens: res.json.usage.completion_tokens })]);
  });

  test("license upload: a refused one changes nothing; a good one is installed for the next restart", async () => {
    const doc = JSON.parse(new TextDecoder().decode(testLicense(["lora_adapters"])));
    const forged = { ...doc, payload: { ...doc.payload, entitlements: ["lora_adapters", "multi_model"] } };
    const refused = await admin("POST", "license", forged);
    expect(refused.status).toBe(422);
    expect(refused.json.error.code).toBe("license_invalid");
    expect((await admin("GET", "license")).json).toMatchObject({ tier: "community", reason: "absent", restartRequired: false });

    const installed = await admin("POST", "license", doc);
    expect(installed.status).toBe(200);
    expect(installed.json).toMatchObject({ tier: "smb", reason: "valid", inForceTier: "community", restartRequired: true, entitlements: ["lora_adapters"] });
    expect(installed.json.fingerprint).toStartWith("hfp1:");
    expect(JSON.parse(readFileSync(join(server.dataDir, "license", "license.json"), "utf8")).payload.licenseId).toBe(doc.payload.licenseId);
    expect((await admin("GET", "license")).json.license.licenseId).toBe(doc.payload.licenseId);
  });

  test("logs: recent structured records, newest last, bounded by limit", async () => {
    const { json } = await admin("GET", "logs?limit=5");
    expect(json.records.length).toBeLessThanOrEqual(5);
    expect(json.records.at(-1).msg).toBe("license installed from the admin API; applies at the next restart");
    for (const r of json.records) expect(Object.keys(r).sort()).toEqual(["fields", "level", "msg", "time"]);
  });

  test("pairing over real HTTP, then login attempts limited per client address (429 with Retry-After)", async () => {
    const line = server.logs.find((l) => l.includes('"msg":"pairing code: '))!;
    const code = (JSON.parse(line) as { msg: string }).msg.slice("pairing code: ".length);
    const post = (path: string, body: unknown) => fetch(`${server.url}/admin/api/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const paired = await post("pairing", { code, password: "correct horse battery" });
    expect(paired.status).toBe(200);
    expect(paired.headers.get("set-cookie")).toContain("HttpOnly");
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await post("login", { password: `guess number ${i}` });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);
  });
});
