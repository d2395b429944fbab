import type { MiddlewareHandler } from "hono";
import type { Registry } from "./registry.ts";

/** A fixed set of endpoint labels: a path a client made up must not become a series of its own. */
function endpointOf(path: string): string {
  if (path === "/v1/chat/completions") return "chat.completions";
  if (path === "/v1/completions") return "completions";
  if (path === "/v1/embeddings") return "embeddings";
  if (path === "/v1/models" || path.startsWith("/v1/models/")) return "models";
  return "other";
}

/**
 * Counts every API request by endpoint and HTTP status, those refused before reaching a model
 * (401, 400, 429, 503) included. Mounted before authentication so refusals are counted too.
 */
export function httpRequestCounter(registry: Registry): MiddlewareHandler {
  const requests = registry.counter("hearth_http_requests_total", "API requests answered, by endpoint and HTTP status", ["endpoint", "status"]);
  return async (c, next) => {
    await next();
    requests.inc([endpointOf(c.req.path), String(c.res.status)]);
  };
}
