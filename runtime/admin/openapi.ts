/**
 * The OpenAPI 3.1 document of the admin API, generated from the route table and its TypeBox
 * schemas (JSON Schema 2020-12, which OpenAPI 3.1 uses as is). Schemas with a title become
 * components; every route is listed with its security, parameters, body and responses.
 */
import type { TSchema } from "@sinclair/typebox";
import { ADMIN_ROUTES, type RouteSpec } from "./route-table.ts";
import { AdminError } from "./schemas/common.ts";
import { CSRF_HEADER } from "./request-auth.ts";
import { SESSION_COOKIE } from "./sessions.ts";

type Json = Record<string, unknown>;

export const ADMIN_API_BASE = "/admin/api";

/** `/keys/:id` → `/admin/api/keys/{id}`. */
export const openApiPath = (path: string): string => ADMIN_API_BASE + path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

/** Plain JSON of a schema (TypeBox's symbol keys dropped), named schemas replaced by $refs. */
function toJson(schema: TSchema, components: Json, top = true): Json {
  const plain = JSON.parse(JSON.stringify(schema)) as Json;
  const title = plain.title as string | undefined;
  if (title && top) {
    components[title] ??= plain;
    return { $ref: `#/components/schemas/${title}` };
  }
  return plain;
}

const ERRORS: Record<string, string> = {
  "400": "Invalid input: the error names the field and the rule",
  "401": "No valid session or admin token",
  "403": "No admin password set yet (pairing_required) or missing CSRF token (csrf_failed)",
  "429": "Too many attempts (with Retry-After)",
};

function operation(id: string, spec: RouteSpec, components: Json): Json {
  const parameters: Json[] = [];
  for (const [where, schema] of [["path", spec.params], ["query", spec.query]] as const) {
    const props = (schema as { properties?: Record<string, TSchema>; required?: string[] } | undefined)?.properties ?? {};
    for (const [name, s] of Object.entries(props)) {
      const required = where === "path" || ((schema as { required?: string[] }).required ?? []).includes(name);
      parameters.push({ name, in: where, required, schema: toJson(s, components, false), ...(s.description ? { description: s.description } : {}) });
    }
  }
  const errorRef = toJson(AdminError, components);
  const errorCodes = spec.access === "public" ? ["400", "429"] : ["400", "401", "403"];
  const responses: Json = {
    [String(spec.status ?? 200)]: {
      description: "Success",
      content: spec.response ? { "application/json": { schema: toJson(spec.response, components) } } : { [spec.contentType ?? "application/json"]: {} },
    },
    ...Object.fromEntries(errorCodes.map((code) => [code, { description: ERRORS[code], content: { "application/json": { schema: errorRef } } }])),
  };
  return {
    operationId: id,
    summary: spec.summary,
    tags: [spec.tag],
    ...(spec.access === "public" ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.body ? { requestBody: { required: true, content: { "application/json": { schema: toJson(spec.body, components) } } } } : {}),
    responses,
  };
}

export function adminOpenApi(version: string): Json {
  const components: Json = {};
  const paths: Record<string, Json> = {};
  for (const [id, spec] of Object.entries(ADMIN_ROUTES) as [string, RouteSpec][]) {
    (paths[openApiPath(spec.path)] ??= {})[spec.method.toLowerCase()] = operation(id, spec, components);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Hearth admin API",
      version,
      description:
        `Manage a Hearth box. Sign in from a browser (a session cookie, then send the ${CSRF_HEADER} header from GET /admin/api/session ` +
        "on every POST, PUT and DELETE) or send an admin token (`hearth admin token create`) as Authorization: Bearer. " +
        'Errors are {"error":{"code","message","field"}}.',
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    servers: [{ url: "/" }],
    security: [{ adminToken: [] }, { session: [] }],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        adminToken: { type: "http", scheme: "bearer", description: "An admin token (hadm_…)" },
        session: { type: "apiKey", in: "cookie", name: SESSION_COOKIE, description: `Session cookie from /pairing or /login; state-changing requests also need the ${CSRF_HEADER} header` },
      },
    },
  };
}
