/**
 * Fuzzed bodies and queries on every admin route (from the route table): never a 5xx (but the
 * documented 501 of routes not available here: updates, and restart outside `hearth serve`), a refused
 * request leaves every admin table, the API keys, the stored settings and the license file as
 * they were, and an accepted request matched its schema.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { ADMIN_ROUTES, NO_BODY, type RouteSpec } from "../../runtime/admin/route-table.ts";
import { adminHarness, type AdminHarness } from "./harness.ts";

let h: AdminHarness;
let auth: Record<string, string>;

beforeAll(async () => {
  h = adminHarness({ options: { attemptLimit: { max: 5, windowMs: 60_000 } } });
  await h.pair("correct horse battery");
  h.keys.create("existing");
  const { token } = h.admin.auth.tokens.create("fuzzer");
  auth = { authorization: `Bearer ${token}` };
  await h.call("GET", "status", { headers: auth }); // records the token's first use before any snapshot
});
afterAll(() => h.close());

/** Everything a refused request must leave alone. The pairing code's failure count is meant to move. */
function snapshot(): string {
  const rows = (sql: string) => JSON.stringify(h.db.prepare(sql).all(), (_, v) => (v?.type === "Buffer" ? Buffer.from(v.data).toString("hex") : v));
  const license = join(h.dataDir, "license", "license.json");
  return [
    rows("SELECT * FROM admin_credentials"),
    rows("SELECT id, code_hash, created_at, expires_at FROM admin_pairing"),
    rows("SELECT * FROM admin_sessions ORDER BY hash"),
    rows("SELECT * FROM admin_tokens ORDER BY id"),
    rows("SELECT * FROM api_keys ORDER BY id"),
    rows("SELECT * FROM config_overrides ORDER BY path"),
    rows("SELECT COUNT(*) FROM usage_ledger"),
    existsSync(license) ? readFileSync(license, "hex") : "no license",
  ].join("\n");
}

const keysOf = (schema: TSchema | undefined): string[] => Object.keys((schema as { properties?: object } | undefined)?.properties ?? {});

/** Bodies: any JSON, objects built from the schema's own keys with any values, and text that is not JSON. */
const bodyArb = (spec: RouteSpec) =>
  fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.dictionary(fc.constantFrom(...keysOf(spec.body), "extra", "__proto__", "constructor"), fc.jsonValue(), { maxKeys: 4 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 40 }),
  );

const queryArb = (spec: RouteSpec) =>
  fc.dictionary(fc.constantFrom(...keysOf(spec.query), "x"), fc.oneof(fc.string({ maxLength: 8 }), fc.integer().map(String), fc.double().map(String)), { maxKeys: 3 }).map((q) => new URLSearchParams(q).toString());

function expectNoServerError(res: { status: number; json: any }): void {
  if (res.status === 501) expect(res.json.error.code).toBe("not_implemented");
  else expect(res.status).toBeLessThan(500);
}

const concrete = (path: string, id: string) => path.replace(":id", encodeURIComponent(id) || "x");

const routes = Object.entries(ADMIN_ROUTES) as [string, RouteSpec][];

test.each(routes.filter(([, s]) => s.method !== "GET"))("fuzzed bodies on %s: never a 5xx, refused ones change nothing", async (_id, spec) => {
  await fc.assert(
    fc.asyncProperty(bodyArb(spec), fc.string({ maxLength: 12 }), fc.boolean(), async (body, id, asToken) => {
      const before = snapshot();
      const res = await h.call(spec.method, `/admin/api${concrete(spec.path, id)}`, { raw: body, headers: asToken ? auth : {}, csrf: true });
      expectNoServerError(res);
      if (res.status >= 400) {
        expect(res.json.error.code).toBeString();
        expect(snapshot()).toBe(before);
      } else {
        // Accepted only when it was what the schema describes (no body counts as an empty object).
        if (!spec.body && body.trim() === "") return;
        let parsed: unknown = {};
        if (body.trim() !== "") expect(() => (parsed = JSON.parse(body))).not.toThrow();
        expect(Value.Check(spec.body ?? NO_BODY, parsed)).toBe(true);
      }
    }),
    { numRuns: 40 },
  );
});

test.each(routes.filter(([, s]) => s.method === "GET"))("fuzzed queries on %s: never a 5xx, unknown or bad parameters named", async (_id, spec) => {
  await fc.assert(
    fc.asyncProperty(queryArb(spec), async (query) => {
      const before = snapshot();
      const res = await h.call("GET", `/admin/api${concrete(spec.path, "key_x")}?${query}`, { headers: auth });
      expectNoServerError(res);
      if (res.status === 400) expect(res.json.error.field).toBeString();
      expect(snapshot()).toBe(before);
    }),
    { numRuns: 30 },
  );
});
