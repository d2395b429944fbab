/**
 * The command kinds and their arguments, checked before anything runs (pure): a command with bad
 * arguments is refused with the field named, not half-executed.
 */
import { Type, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { describeSchemaError, fieldName } from "../../validation.ts";
import { checkConfigValue, isAllowedConfigPath, notAllowedReason } from "./config-allow-list.ts";

export const COMMAND_KINDS = ["config.set", "config.unset", "telemetry.flush", "license.install", "ota.check", "ota.rollback"] as const;
export type CommandKind = (typeof COMMAND_KINDS)[number];

const ConfigPath = Type.String({ minLength: 1, maxLength: 128, description: "Dotted config path from the allow-list" });

const ARGS_SCHEMAS: Record<CommandKind, TSchema> = {
  "config.set": Type.Object({ path: ConfigPath, value: Type.Unknown() }, { additionalProperties: false }),
  "config.unset": Type.Object({ path: ConfigPath }, { additionalProperties: false }),
  "telemetry.flush": Type.Object({}, { additionalProperties: false }),
  "license.install": Type.Object(
    { license: Type.String({ minLength: 1, description: "The license file: its JSON text, or its bytes in base64" }) },
    { additionalProperties: false },
  ),
  "ota.check": Type.Object(
    { apply: Type.Optional(Type.Boolean({ description: "Install a release the check finds (default true)" })) },
    { additionalProperties: false },
  ),
  "ota.rollback": Type.Object(
    {
      version: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "Install this older version from the channel (a signed rollback); default: back to the previous slot" })),
      adapter: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "The LoRA adapter to roll back instead of the base model" })),
    },
    { additionalProperties: false },
  ),
};

export type CheckedArgs =
  | { kind: "config.set"; path: string; value: unknown }
  | { kind: "config.unset"; path: string }
  | { kind: "telemetry.flush" }
  | { kind: "license.install"; license: Uint8Array }
  | { kind: "ota.check"; apply: boolean }
  | { kind: "ota.rollback"; version?: string; adapter?: string };

export type ArgsCheck = { ok: true; args: CheckedArgs } | { ok: false; code: "not_allowed" | "invalid_args"; reason: string; field?: string };

export const isCommandKind = (kind: string): kind is CommandKind => (COMMAND_KINDS as readonly string[]).includes(kind);

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A license given as JSON text is used as is; anything else must be base64 of the file. */
function licenseBytes(text: string): Uint8Array | null {
  if (text.trimStart().startsWith("{")) return new TextEncoder().encode(text);
  const compact = text.replace(/\s+/g, "");
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return null;
  return new Uint8Array(Buffer.from(compact, "base64"));
}

export function checkArgs(kind: CommandKind, args: Record<string, unknown>): ArgsCheck {
  const problem = Value.Errors(ARGS_SCHEMAS[kind], args).First();
  if (problem) {
    const field = `args${fieldName(problem.path) ? `.${fieldName(problem.path)}` : ""}`;
    return { ok: false, code: "invalid_args", reason: `${kind}: ${describeSchemaError({ ...problem, path: "" }, field)}`, field };
  }
  switch (kind) {
    case "config.set": {
      const { path, value } = args as { path: string; value: unknown };
      const check = checkConfigValue(path, value);
      return check.ok ? { ok: true, args: { kind, path, value } } : check;
    }
    case "config.unset": {
      const { path } = args as { path: string };
      if (!isAllowedConfigPath(path)) return { ok: false, code: "not_allowed", reason: notAllowedReason(path), field: "args.path" };
      return { ok: true, args: { kind, path } };
    }
    case "telemetry.flush":
      return { ok: true, args: { kind } };
    case "license.install": {
      const bytes = licenseBytes((args as { license: string }).license);
      if (!bytes) return { ok: false, code: "invalid_args", reason: "license.install: args.license must be the license's JSON text or its base64", field: "args.license" };
      return { ok: true, args: { kind, license: bytes } };
    }
    case "ota.check":
      return { ok: true, args: { kind, apply: (args as { apply?: boolean }).apply ?? true } };
    case "ota.rollback": {
      const { version, adapter } = args as { version?: string; adapter?: string };
      return { ok: true, args: { kind, ...(version === undefined ? {} : { version }), ...(adapter === undefined ? {} : { adapter }) } };
    }
    default:
      return kind satisfies never;
  }
}
