/**
 * Every admin route, taken from the OpenAPI document (so a new route is covered without editing
 * this file): refused without credentials, with a revoked token, and, with a cookie, without the
 * CSRF header.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { adminHarness, type AdminHarness } from "./harness.ts";

let h: AdminHarness;
let ops: { method: string; path: string; secured: boolean }[];

/** `/admin/api/keys/{id}` with a plausible id, so only credentials decide the answer. */
const concrete = (path: string) => path.replace("{id}", "key_000000000000");

beforeAll(async () => {
  h = adminHarness();
  await h.admin.start();
  const doc = (await h.call("GET", "openapi.json")).json;
  ops = Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, secured: !(Array.isArray(op.security) && op.security.length === 0) })),
  );
});
afterAll(() => h.close());

describe("admin routes and credentials", () => {
  test("the document lists the secured routes and the few public ones", () => {
    expect(ops.filter((o) => o.secured).length).toBeGreaterThanOrEqual(25);
    expect(ops.filter((o) => !o.secured).map((o) => `${o.method} ${o.path}`).sort()).toEqual([
      "GET /admin/api/docs",
      "GET /admin/api/openapi.json",
      "GET /admin/api/session",
      "POST /admin/api/login",
      "POST /admin/api/pairing",
    ]);
  });

  test("before pairing every secured route answers 403 pairing_required", async () => {
    for (const op of ops.filter((o) => o.secured)) {
      const res = await h.call(op.method, concrete(op.path), { body: op.method === "GET" ? undefined : {} });
      expect({ route: `${op.method} ${op.path}`, status: res.status, code: res.json.error?.code }).toEqual({ route: `${op.method} ${op.path}`, status: 403, code: "pairing_required" });
    }
  });

  test("after pairing, without credentials every secured route answers 401", async () => {
    await h.call("POST", "pairing", { body: { code: h.pairingCode(), password: "correct horse battery" } });
    const cookie = h.cookie;
    h.forget();
    for (const op of ops.filter((o) => o.secured)) {
      const res = await h.call(op.method, concrete(op.path), { body: op.method === "GET" ? undefined : {} });
      expect({ route: `${op.method} ${op.path}`, status: res.status, code: res.json.error?.code }).toEqual({ route: `${op.method} ${op.path}`, status: 401, code: "unauthorized" });
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
    }
    expect(cookie).not.toBeNull();
  });

  test("with a revoked admin token every secured route answers 401", async () => {
    const created = h.admin.auth.tokens.create("ci");
    const auth = { authorization: `Bearer ${created.token}` };
    expect((await h.call("GET", "status", { headers: auth })).status).toBe(200);
    h.admin.auth.tokens.revoke(created.id);
    for (const op of ops.filter((o) => o.secured)) {
      const res = await h.call(op.method, concrete(op.path), { body: op.method === "GET" ? undefined : {}, headers: auth });
      expect({ route: `${op.method} ${op.path}`, status: res.status, msg: res.json.error?.message }).toEqual({ route: `${op.method} ${op.path}`, status: 401, msg: "invalid or revoked admin token" });
    }
  });

  test("with a session cookie, every state-changing route refuses a missing or wrong X-CSRF-Token with 403", async () => {
    await h.call("POST", "login", { body: { password: "correct horse battery" } });
    const before = (await h.call("GET", "keys")).json;
    for (const op of ops.filter((o) => o.secured && o.method !== "GET")) {
      for (const header of [{}, { "x-csrf-token": "forged-token-value" }] as Record<string, string>[]) {
        const res = await h.call(op.method, concrete(op.path), { body: { name: "x" }, csrf: false, headers: header });
        expect({ route: `${op.method} ${op.path}`, status: res.status, code: res.json.error?.code }).toEqual({ route: `${op.method} ${op.path}`, status: 403, code: "csrf_failed" });
      }
    }
    expect((await h.call("GET", "keys")).json).toEqual(before);
    // The same request with the token from GET /session goes through.
    expect((await h.call("POST", "keys", { body: { name: "with csrf" } })).status).toBe(201);
  });

  test("an admin token needs no CSRF header", async () => {
    const { token } = h.admin.auth.tokens.create("automation");
    const res = await h.call("POST", "keys", { body: { name: "from automation" }, headers: { authorization: `Bearer ${token}`, cookie: "" }, csrf: false });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });
});
