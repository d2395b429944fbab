import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ADMIN_ROUTES } from "../../runtime/admin/route-table.ts";
import { openApiPath } from "../../runtime/admin/openapi.ts";
import { adminHarness, type AdminHarness } from "./harness.ts";

let h: AdminHarness;
let doc: any;

beforeAll(async () => {
  h = adminHarness();
  await h.admin.start();
  const res = await h.call("GET", "openapi.json");
  expect(res.status).toBe(200);
  doc = res.json;
});
afterAll(() => h.close());

/** Every `$ref` anywhere in a value. */
function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, out);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe("OpenAPI document", () => {
  test("is OpenAPI 3.1 in shape: info, paths, components with schemas and security schemes", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(doc.paths).every((p) => p.startsWith("/admin/api/"))).toBe(true);
    expect(Object.keys(doc.components.schemas).length).toBeGreaterThan(10);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["adminToken", "session"]);
    for (const [path, methods] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(methods)) {
        expect(["get", "post", "put", "delete"]).toContain(method);
        expect(op.operationId).toBeString();
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        for (const p of op.parameters ?? []) {
          expect(["path", "query"]).toContain(p.in);
          if (p.in === "path") expect(path).toContain(`{${p.name}}`);
        }
      }
    }
  });

  test("covers every route of the table, with the table's schemas", () => {
    const ids = Object.values(doc.paths).flatMap((m: any) => Object.values(m).map((op: any) => op.operationId)).sort();
    expect(ids).toEqual(Object.keys(ADMIN_ROUTES).sort());
    for (const [id, spec] of Object.entries(ADMIN_ROUTES)) {
      const op = doc.paths[openApiPath(spec.path)][spec.method.toLowerCase()];
      expect(op.operationId).toBe(id);
      if ("body" in spec && spec.body) expect(op.requestBody.content["application/json"].schema).toEqual({ $ref: `#/components/schemas/${spec.body.title}` });
      if (spec.response) expect(op.responses[String("status" in spec ? spec.status : 200)].content["application/json"].schema.$ref).toBe(`#/components/schemas/${spec.response.title}`);
    }
  });

  test("every $ref resolves and no TypeBox-only keyword leaks", () => {
    for (const ref of refs(doc)) expect(doc.components.schemas[ref.replace("#/components/schemas/", "")]).toBeDefined();
    expect(JSON.stringify(doc)).not.toMatch(/"\[?Kind\]?"|TypeBox/);
  });

  test("the docs page is self-contained HTML that renders the document", async () => {
    const res = await h.app.request("/admin/api/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('fetch("openapi.json")');
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
  });
});
