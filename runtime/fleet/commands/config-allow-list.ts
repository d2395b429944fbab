/**
 * The settings `config.set` may change, and what it may set them to. Each value is checked against
 * the setting's own schema in config/schema.ts (via configLeaves), so the rules are the config
 * file's. Left out on purpose: anything that changes who is trusted or where data goes
 * (telemetry.fleetKeys, telemetry.broker, license.vendorKeys, server.host, credentials), paths on
 * the box (dataDir, model.path) and settings that only matter with a restart of the model.
 */
import { Type, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { configLeaves } from "../../config/load.ts";
import { describeSchemaError } from "../../validation.ts";

interface AllowedSetting {
  /** A stricter rule than the setting's schema, and why. */
  only?: { schema: TSchema; why: string };
}

export const CONFIG_SET_ALLOW_LIST: Readonly<Record<string, AllowedSetting>> = {
  // The fleet key was provisioned by the owner, who thereby delegates this opt-in; health and
  // state telemetry carry machine figures only.
  "telemetry.enabled": {},
  "telemetry.healthIntervalSeconds": {},
  "telemetry.usageIntervalSeconds": {},
  "log.level": {},
  "model.maxTokens": {},
  "auth.openInference": {
    only: { schema: Type.Literal(false), why: "a fleet command may require API keys again, never serve inference without them (set that on the box)" },
  },
};

export const ALLOWED_CONFIG_PATHS = Object.keys(CONFIG_SET_ALLOW_LIST);

const leafSchemas = new Map(configLeaves().map((l) => [l.path, l.schema]));

export const isAllowedConfigPath = (path: string): boolean => Object.hasOwn(CONFIG_SET_ALLOW_LIST, path) && leafSchemas.has(path);

export const notAllowedReason = (path: string): string =>
  `config path ${JSON.stringify(path)} cannot be set by a fleet command (allowed: ${ALLOWED_CONFIG_PATHS.join(", ")})`;

export type ConfigValueCheck = { ok: true } | { ok: false; code: "not_allowed" | "invalid_args"; reason: string; field: "args.path" | "args.value" };

/** Whether `value` may be set at `path` by a fleet command. */
export function checkConfigValue(path: string, value: unknown): ConfigValueCheck {
  if (!isAllowedConfigPath(path)) return { ok: false, code: "not_allowed", reason: notAllowedReason(path), field: "args.path" };
  const allowed = CONFIG_SET_ALLOW_LIST[path]!;
  const schema = leafSchemas.get(path)!;
  const problem = Value.Errors(schema, value).First();
  if (problem) return { ok: false, code: "invalid_args", reason: describeSchemaError(problem, `args.value for ${path}`), field: "args.value" };
  if (allowed.only && !Value.Check(allowed.only.schema, value)) {
    return { ok: false, code: "not_allowed", reason: `${path} = ${JSON.stringify(value)} is not allowed: ${allowed.only.why}`, field: "args.value" };
  }
  return { ok: true };
}
