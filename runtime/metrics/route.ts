import { Hono } from "hono";
import { HearthError } from "../errors.ts";
import { CONTENT_TYPE } from "./exposition.ts";

/** token: `Authorization: Bearer <admin token>`; lan: anyone who can reach the port. */
export type MetricsAccess = "token" | "lan";

export interface MetricsRouteOptions {
  render: () => string;
  access: MetricsAccess;
  /** Checks an admin token (constant-time, hashed store); absent, token access refuses everyone. */
  verifyAdminToken?: (token: string) => boolean;
}

/** `GET /metrics` for Prometheus. Nothing is computed for a refused scrape. */
export function metricsRoute(opts: MetricsRouteOptions): Hono {
  return new Hono().get("/metrics", (c) => {
    if (opts.access === "token") {
      const token = c.req.header("authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
      if (!token) throw new HearthError("unauthorized", "metrics need an admin token: send Authorization: Bearer <admin token> (or set metrics.access to lan)");
      if (!opts.verifyAdminToken?.(token)) throw new HearthError("unauthorized", "invalid or revoked admin token");
    }
    return c.body(opts.render(), 200, { "Content-Type": CONTENT_TYPE, "Cache-Control": "no-store" });
  });
}
