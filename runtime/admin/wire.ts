/**
 * Builds the admin side of a running server: the auth state, the health cache and the admin API
 * app. runtime/server.ts calls this once per start; what the LED/button wiring needs is on the
 * returned `control`. The API's routes, schemas and handlers are imported on its first request:
 * a box nobody administers does not carry them (idle memory).
 */
import { Hono } from "hono";
import { HearthError } from "../errors.ts";
import type { LogRing } from "../log.ts";
import type { HealthSampler } from "../telemetry/health.ts";
import type { TelemetryStatus } from "../telemetry/telemetry.ts";
import type { Timers } from "../telemetry/timers.ts";
import { AdminAuth } from "./admin-auth.ts";
import type { AdminDeps } from "./deps.ts";
import { HealthCache } from "./health-cache.ts";
import type { AttemptLimit } from "./rate-limit.ts";
import type { FactoryResetResponse } from "./schemas/system.ts";
import type { UpdateService } from "./updates.ts";

/** What `hearth serve` and tests may pass to startServer for the admin side. */
export interface AdminServerOptions {
  /** Restarts the server in-process; without it POST /admin/api/restart answers 501. */
  restart?: () => void;
  updates?: UpdateService;
  /** Shows a new pairing code on the console (besides the log). */
  console?: (line: string) => void;
  /** The ring the logger records into (kept across restarts by serve); default: a new one the server's logger tees into. */
  logs?: LogRing;
  attemptLimit?: AttemptLimit;
  /** Health cache timers, interval and how long it samples without a read (tests drive them). */
  healthTimers?: Timers;
  healthIntervalMs?: number;
  healthIdleStopMs?: number;
}

/** What the button and CLI-like callers use on a running box. */
export interface AdminControl {
  /** Issues (and logs, and shows) a new pairing code; with an admin set it allows a password reset. */
  newPairingCode(): Promise<string>;
  /** Clears admin credentials, sessions, admin tokens and API keys; issues a new pairing code. */
  factoryReset(): Promise<FactoryResetResponse>;
}

/** What the server passes in: the AdminDeps this module does not build itself. */
export type AdminParts = Omit<AdminDeps, "auth" | "health" | "startedAt" | "telemetry" | "restart" | "updates"> & {
  telemetry: () => TelemetryStatus;
  sampler: HealthSampler;
  options?: AdminServerOptions;
};

export function createAdmin(parts: AdminParts): { app: Hono; auth: AdminAuth; health: HealthCache; control: AdminControl; start(): Promise<void>; stop(): void } {
  const o = parts.options ?? {};
  const auth = new AdminAuth({ db: parts.db, clock: parts.clock, logger: parts.logger, console: o.console, attemptLimit: o.attemptLimit });
  const health = new HealthCache({ sampler: parts.sampler, clock: parts.clock, logger: parts.logger, timers: o.healthTimers, intervalMs: o.healthIntervalMs, idleStopMs: o.healthIdleStopMs });
  const deps: AdminDeps = { ...parts, auth, health, startedAt: parts.clock.now(), telemetry: { status: parts.telemetry }, restart: o.restart, updates: o.updates };
  return {
    app: lazyAdminApp(deps),
    auth,
    health,
    control: { newPairingCode: () => auth.newPairingCode(), factoryReset: () => auth.factoryReset() },
    start: () => auth.startup(),
    stop: () => health.stop(),
  };
}

/**
 * A stand-in mounted at /admin/api that loads the real app on first use and hands it every
 * request. Its errors are rethrown, so the runtime's one error mapping answers them.
 */
function lazyAdminApp(deps: AdminDeps): Hono {
  let real: Promise<Hono> | null = null;
  const load = async () => {
    const { adminApp } = await import("./app.ts");
    const inner = new Hono();
    inner.onError((err) => {
      throw err;
    });
    inner.notFound((c) => {
      throw new HearthError("not_found", `no route ${c.req.method} ${c.req.path}`);
    });
    return inner.route("/admin/api", adminApp(deps));
  };
  const stand = new Hono();
  stand.all("*", async (c) => (await (real ??= load())).fetch(c.req.raw, c.env));
  return stand;
}
