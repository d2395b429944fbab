/**
 * Telemetry settings, allow-listed settings, logs, restart and factory reset. Changed settings are
 * stored as config overrides (../overrides.ts) and apply at the next restart.
 */
import { deleteCookie } from "hono/cookie";
import { HearthError } from "../../errors.ts";
import { redactUrl } from "../../telemetry/broker-link.ts";
import type { AdminDeps } from "../deps.ts";
import { storedOverrides, storeAdminOverride } from "../overrides.ts";
import type { Principal } from "../request-auth.ts";
import type { AdminHandlers } from "../router.ts";
import { ADMIN_SETTING_PATHS, ADMIN_SETTINGS, type SettingsResponse } from "../schemas/settings.ts";
import type { TelemetrySettings } from "../schemas/system.ts";
import { SESSION_COOKIE } from "../sessions.ts";

function valueAt(source: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((node, seg) => (typeof node === "object" && node !== null ? (node as Record<string, unknown>)[seg] : undefined), source);
}

/** Fields as JSON data: a value JSON cannot carry (a BigInt, a cycle) must not fail the whole list. */
function plainFields(fields: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
  } catch {
    return { unserializable: Object.keys(fields) };
  }
}

/** Who changed a setting, for the override's record: a token id or "session". */
const who = (p: Principal | null) => (p?.via === "token" ? p.tokenId : "session");

export function systemHandlers(deps: AdminDeps): Pick<AdminHandlers, "getTelemetry" | "setTelemetry" | "logs" | "getSettings" | "setSettings" | "restart" | "factoryReset"> {
  /** Set once something was stored during this run: a removed override's effect is only known after a restart. */
  let changed = false;

  const telemetry = (): TelemetrySettings => {
    const t = deps.config.telemetry;
    const stored = storedOverrides(deps.db);
    const inForce = { broker: t.broker ? redactUrl(t.broker) : null, enabled: t.enabled, fleet: t.fleet };
    const pick = <T>(path: string, fallback: T) => (path in stored ? (stored[path] as T) : fallback);
    const broker = pick<string | undefined>("telemetry.broker", t.broker);
    const next = { broker: broker ? redactUrl(broker) : null, enabled: pick("telemetry.enabled", t.enabled), fleet: pick("telemetry.fleet", t.fleet) };
    const { started, broker: statusBroker, connected, lastError, reconnectAttempts, outbox } = deps.telemetry.status();
    return {
      inForce,
      next,
      restartRequired: changed || JSON.stringify(inForce) !== JSON.stringify(next),
      status: { started, broker: statusBroker, connected, lastError, reconnectAttempts, outbox: { ...outbox } },
    };
  };

  const settings = (): SettingsResponse => {
    const stored = storedOverrides(deps.db);
    const list = ADMIN_SETTING_PATHS.map((path) => {
      const inForce = valueAt(deps.config, path) as string | number | boolean;
      const { default: _, ...schema } = ADMIN_SETTINGS[path] as { default?: unknown };
      return { path, description: (ADMIN_SETTINGS[path] as { description?: string }).description ?? path, inForce, stored: path in stored ? (stored[path] as string | number | boolean) : null, schema };
    });
    return { settings: list, restartRequired: changed || list.some((s) => s.stored !== null && s.stored !== s.inForce) };
  };

  /** Every value is checked before any is stored, in one transaction: a bad one changes nothing. */
  const store = (values: Record<string, unknown>, principal: Principal | null) => {
    const now = deps.clock.now();
    deps.db.transaction(() => {
      for (const [path, value] of Object.entries(values)) if (value !== undefined) storeAdminOverride(deps.db, path, value, who(principal), now);
    })();
    changed = true;
    deps.logger.info("settings stored from the admin API; they apply at the next restart", { paths: Object.keys(values) });
  };

  return {
    getTelemetry: () => telemetry(),
    setTelemetry: ({ body, principal }) => {
      store(Object.fromEntries(Object.entries(body).map(([k, v]) => [`telemetry.${k}`, v])), principal);
      return telemetry();
    },
    logs: ({ query }) => ({ records: deps.logs.recent(query.limit ?? 200).map((r) => ({ ...r, fields: plainFields(r.fields) })) }),
    getSettings: () => settings(),
    setSettings: ({ body, principal }) => {
      store(body, principal);
      return settings();
    },
    restart: () => {
      const restart = deps.restart;
      if (!restart) throw new HearthError("not_implemented", "this server cannot restart itself (it was not started by `hearth serve`); restart it from outside");
      deps.logger.info("restart requested from the admin API");
      // After this response is on its way: the restart stops this server gracefully.
      setTimeout(restart, 50);
      return { restarting: true as const, message: "restarting: the API answers again in a few seconds, with the stored settings in force" };
    },
    factoryReset: async ({ c }) => {
      const result = await deps.auth.factoryReset();
      deleteCookie(c, SESSION_COOKIE, { path: "/" });
      return result;
    },
  };
}
