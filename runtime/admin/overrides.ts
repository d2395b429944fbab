/**
 * Settings changed from the admin API are stored where fleet `config.set` stores its own
 * (config_overrides, runtime/fleet/commands/config-overrides.ts), marked `admin:` in command_id,
 * and applied at the next start the same way: over the config file, under environment and flags.
 * The admin may set more than a fleet command may (the broker, the listen address), so stored
 * values are filtered by who set them.
 */
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { TelemetryConfig } from "../config/schema.ts";
import { HearthError } from "../errors.ts";
import { checkConfigValue } from "../fleet/commands/config-allow-list.ts";
import { listConfigOverrides, removeConfigOverride, storeConfigOverride } from "../fleet/commands/config-overrides.ts";
import type { Db } from "../store/db.ts";
import { describeSchemaError } from "../validation.ts";
import { ADMIN_SETTINGS } from "./schemas/settings.ts";

export const ADMIN_ORIGIN = "admin:";

/** Every path the admin API writes, with the setting's own schema. */
export const ADMIN_OVERRIDABLE: Readonly<Record<string, TSchema>> = {
  ...ADMIN_SETTINGS,
  "telemetry.broker": TelemetryConfig.properties.broker,
  "telemetry.enabled": TelemetryConfig.properties.enabled,
  "telemetry.fleet": TelemetryConfig.properties.fleet,
};

/** Stores `value` for `path` (null removes the stored value), by `who` (e.g. a session or token). */
export function storeAdminOverride(db: Db, path: string, value: unknown, who: string, now: number): void {
  const schema = ADMIN_OVERRIDABLE[path];
  if (!schema) throw new HearthError("invalid_request", `${path}: is not a setting the admin API may change`, { field: path });
  if (value === null) {
    removeConfigOverride(db, path);
    return;
  }
  const problem = Value.Errors(schema, value).First();
  if (problem) throw new HearthError("invalid_request", describeSchemaError(problem, path), { field: path });
  storeConfigOverride(db, { path, value, commandId: `${ADMIN_ORIGIN}${who}`, setAt: now });
}

const validFor = (path: string, value: unknown, commandId: string): boolean =>
  checkConfigValue(path, value).ok || (commandId.startsWith(ADMIN_ORIGIN) && ADMIN_OVERRIDABLE[path] !== undefined && Value.Check(ADMIN_OVERRIDABLE[path]!, value));

/**
 * The stored overrides to apply at start (dotted path → value): the fleet's while still
 * allow-listed and valid, the admin's while still admin-settable and valid.
 */
export function storedOverrides(db: Db): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of listConfigOverrides(db)) if (validFor(o.path, o.value, o.commandId)) out[o.path] = o.value;
  return out;
}
