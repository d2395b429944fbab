/**
 * Factory reset on a real server: admin credentials, sessions, admin tokens and API keys go;
 * models, the license, the usage ledger (still verifying) and the device identity stay, exactly.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEVICE_KEY_FILE } from "../../runtime/identity/device-key.ts";
import { hearth } from "../helpers/cli.ts";
import { installTestLicense, TEST_VENDOR_KEYS } from "../helpers/licenses.ts";
import { postJson, startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let cookie = "";
let csrf = "";

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/admin/api/${path}`, {
    method,
    headers: { ...(cookie ? { cookie } : {}), ...(csrf && method !== "GET" ? { "x-csrf-token": csrf } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const setCookie = res.headers.get("set-cookie");
  if (setCookie) cookie = setCookie.split(";")[0]!;
  const json = (await res.json()) as any;
  if (json?.csrfToken) csrf = json.csrfToken;
  return { status: res.status, json };
}

const latestCode = () => {
  const lines = server.logs.filter((l) => l.includes('"msg":"pairing code: '));
  return (JSON.parse(lines.at(-1)!) as { msg: string }).msg.slice("pairing code: ".length);
};
const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const rows = (sql: string) => JSON.stringify(server.db.prepare(sql).all(), (_, v) => (v?.type === "Buffer" ? Buffer.from(v.data).toString("hex") : v));

beforeAll(async () => {
  server = await startTestServer({ "license.vendorKeys": TEST_VENDOR_KEYS, "license.checkpointEvery": 2 });
  installTestLicense(server.dataDir, ["lora_adapters"]);
});
afterAll(() => server.stop());

describe("factory reset", () => {
  test("clears who may administer and use the box, keeps what it is and what it did", async () => {
    expect((await call("POST", "pairing", { code: latestCode(), password: "correct horse battery" })).status).toBe(200);
    const key = (await call("POST", "keys", { name: "front desk" })).json;
    const adminToken = (await call("POST", "tokens", { name: "ci" })).json.token;
    for (let i = 0; i < 3; i++) {
      const res = await postJson(server, "/chat/completions", { model: server.engine.model.id, messages: [{ role: "user", content: `hello ${i}` }], max_tokens: 2 }, { authorization: `Bearer ${key.key}` });
      expect(res.status).toBe(200);
    }

    const kept = {
      ledger: rows("SELECT * FROM usage_ledger ORDER BY seq"),
      checkpoints: rows("SELECT * FROM ledger_checkpoints ORDER BY id"),
      license: sha(join(server.dataDir, "license", "license.json")),
      identity: sha(join(server.dataDir, DEVICE_KEY_FILE)),
      model: sha(server.engine.model.path),
      modelHashes: rows("SELECT * FROM model_hashes"),
    };
    expect(JSON.parse(kept.ledger).filter((r: any) => r.key_id === key.id)).toHaveLength(3);
    const firstCode = latestCode();

    const refused = await call("POST", "factory-reset", { confirm: "yes" });
    expect(refused.status).toBe(400);
    expect(refused.json.error.field).toBe("confirm");
    const reset = await call("POST", "factory-reset", { confirm: "factory-reset" });
    expect(reset.status).toBe(200);
    expect(reset.json.kept).toEqual(expect.arrayContaining(["models", "license", "usage ledger", "device identity"]));

    // Cleared.
    for (const table of ["admin_credentials", "admin_sessions", "admin_tokens"]) expect(server.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get()).toEqual({ n: 0 });
    expect((await call("GET", "status")).json.error.code).toBe("pairing_required");
    expect((await call("GET", "status", undefined, { authorization: `Bearer ${adminToken}` })).status).toBe(401);
    expect((await fetch(`${server.api}/models`, { headers: { authorization: `Bearer ${key.key}` } })).status).toBe(401);
    const erased = server.db.prepare("SELECT prefix, revoked_at, erased_at, hash FROM api_keys WHERE id = ?").get(key.id) as any;
    expect(erased.prefix).toBe("");
    expect(erased.revoked_at).toBeNumber();
    expect(erased.erased_at).toBeNumber();
    expect(Buffer.from(erased.hash).equals(createHash("sha256").update(key.key).digest())).toBe(false);

    // Kept, byte for byte.
    expect(rows("SELECT * FROM usage_ledger ORDER BY seq")).toBe(kept.ledger);
    expect(rows("SELECT * FROM ledger_checkpoints ORDER BY id")).toBe(kept.checkpoints);
    expect(sha(join(server.dataDir, "license", "license.json"))).toBe(kept.license);
    expect(sha(join(server.dataDir, DEVICE_KEY_FILE))).toBe(kept.identity);
    expect(sha(server.engine.model.path)).toBe(kept.model);
    expect(rows("SELECT * FROM model_hashes")).toBe(kept.modelHashes);
    const verified = await hearth(["license", "verify-ledger", "--data-dir", server.dataDir, "--json"]);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, records: 3 });

    // A new pairing code was issued; pairing again gives an admin with no keys or tokens.
    const secondCode = latestCode();
    expect(secondCode).not.toBe(firstCode);
    cookie = csrf = "";
    expect((await call("POST", "pairing", { code: firstCode, password: "another password" })).status).toBe(401);
    expect((await call("POST", "pairing", { code: secondCode, password: "another password" })).status).toBe(200);
    expect((await call("GET", "keys")).json.keys).toEqual([]);
    expect((await call("GET", "tokens")).json.tokens).toEqual([]);
    // The ledger's per-day usage still counts the erased key's requests.
    expect((await call("GET", "usage?days=1")).json.totals.requests).toBe(3);
  });

  test("the button's functions are on the running server: a new code, and reset", async () => {
    const code = await server.admin.newPairingCode();
    expect(latestCode()).toBe(code);
    const result = await server.admin.factoryReset();
    expect(result.cleared).toContain("API keys");
    expect(latestCode()).not.toBe(code);
    expect(server.db.prepare("SELECT COUNT(*) AS n FROM admin_credentials").get()).toEqual({ n: 0 });
  });
});
