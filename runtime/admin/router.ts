/**
 * Builds the admin Hono app from the route table: for every route, who may call it, then its
 * params, query and body checked against the table's schemas, then its handler. Order matters:
 * credentials and CSRF before validation, so an unauthenticated caller learns nothing about
 * inputs and nothing runs with a bad one.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Static, TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { HearthError } from "../errors.ts";
import { validate } from "../validation.ts";
import type { AdminAuth } from "./admin-auth.ts";
import { ADMIN_ROUTES, NO_BODY, type RouteId, type RouteSpec } from "./route-table.ts";
import { authorize, resolvePrincipal, type Principal } from "./request-auth.ts";

type In<S> = S extends TSchema ? Static<S> : undefined;

export interface RouteInput<R extends RouteSpec> {
  c: Context;
  params: In<R["params"]>;
  query: In<R["query"]>;
  body: In<R["body"]>;
  /** Null on public routes called without credentials. */
  principal: Principal | null;
}

/** A handler returns the response body (sent as JSON with the route's status) or a whole Response. */
export type AdminHandlers = { [K in RouteId]: (input: RouteInput<(typeof ADMIN_ROUTES)[K]>) => unknown };

function queryObject(c: Context): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(c.req.queries())) out[k] = v.length === 1 ? v[0]! : v;
  return out;
}

async function readBody(c: Context, schema: TSchema | undefined): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") {
    // No body is an empty object: fine where every field is optional, "is required" otherwise.
    if (schema !== undefined) return validate(schema, {});
    return undefined;
  }
  if (schema !== undefined && !/^application\/json\b/i.test(c.req.header("content-type") ?? "")) {
    throw new HearthError("invalid_request", "body: send JSON with Content-Type: application/json", { field: "body" });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HearthError("invalid_json", "body: is not valid JSON", { field: "body" });
  }
  // Routes without a body accept an empty object and nothing else, so a stray field is never ignored.
  validate(schema ?? NO_BODY, parsed);
  return schema === undefined ? undefined : parsed;
}

/** A query value as the type its schema asks for, when it is written as one ("7" → 7, "1.5" stays text for an integer). */
function typed(schema: TSchema | undefined, raw: string | string[]): unknown {
  if (typeof raw !== "string") return raw;
  const type = (schema as { type?: string } | undefined)?.type;
  if (type === "integer" && /^-?\d{1,15}$/.test(raw)) return Number(raw);
  if (type === "number" && /^-?\d{1,15}(\.\d{1,15})?$/.test(raw)) return Number(raw);
  if (type === "boolean" && (raw === "true" || raw === "false")) return raw === "true";
  return raw;
}

function convertQuery(schema: TSchema | undefined, c: Context): unknown {
  const raw = queryObject(c);
  const names = Object.keys(raw);
  if (schema === undefined) {
    if (names.length > 0) throw new HearthError("invalid_request", `${names[0]}: is not a known query parameter`, { field: names[0] });
    return undefined;
  }
  // Query values are text: each is read as its parameter's type only when written as one (never coerced).
  const props = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  const value = Object.fromEntries(names.map((n) => [n, typed(props[n], raw[n]!)]));
  return validate(schema, Value.Default(schema, value));
}

/** The largest admin request (a license is well under this). */
export const ADMIN_BODY_LIMIT = 128 * 1024;

export function adminRouter(handlers: AdminHandlers, auth: AdminAuth): Hono {
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    // Keys, tokens and settings must not linger in a shared cache.
    c.header("Cache-Control", "no-store");
  });
  app.use(
    bodyLimit({
      maxSize: ADMIN_BODY_LIMIT,
      onError: () => {
        throw new HearthError("payload_too_large", `request body is larger than the admin API's limit of ${ADMIN_BODY_LIMIT} bytes`, { field: "body" });
      },
    }),
  );
  for (const [id, spec] of Object.entries(ADMIN_ROUTES) as [RouteId, RouteSpec][]) {
    app.on(spec.method, spec.path, async (c) => {
      const resolved = resolvePrincipal(c, auth);
      authorize(c, auth, spec.access, resolved);
      const params = spec.params ? validate(spec.params, c.req.param()) : undefined;
      const query = convertQuery(spec.query, c);
      const body = spec.method === "GET" ? undefined : await readBody(c, spec.body);
      const handler = handlers[id] as (input: RouteInput<RouteSpec>) => unknown;
      const result = await handler({ c, params, query, body, principal: resolved.principal } as RouteInput<RouteSpec>);
      return result instanceof Response ? result : c.json(result as object, (spec.status ?? 200) as 200);
    });
  }
  return app;
}
