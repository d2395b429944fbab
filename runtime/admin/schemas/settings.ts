/**
 * The settings the admin page may change: a small allow-list, each with its config schema
 * (runtime/config/schema.ts), so the page's rules are the config file's. Stored changes apply at
 * the next restart (POST /admin/api/restart).
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { AuthConfig, LogConfig, ModelConfig, ServerConfig } from "../../config/schema.ts";

/** Dotted config path → its schema. Left out: paths on the box, trust roots, credentials. */
export const ADMIN_SETTINGS = {
  "server.host": ServerConfig.properties.host,
  "auth.openInference": AuthConfig.properties.openInference,
  "model.parallel": ModelConfig.properties.parallel,
  "model.maxTokens": ModelConfig.properties.maxTokens,
  "model.contextSize": ModelConfig.properties.contextSize,
  "log.level": LogConfig.properties.level,
} as const satisfies Record<string, TSchema>;

export type AdminSettingPath = keyof typeof ADMIN_SETTINGS;
export const ADMIN_SETTING_PATHS = Object.keys(ADMIN_SETTINGS) as AdminSettingPath[];

const settingValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

export const SettingsResponse = Type.Object(
  {
    settings: Type.Array(
      Type.Object(
        {
          path: Type.String({ description: "Dotted config path, e.g. server.host" }),
          description: Type.String(),
          inForce: settingValue,
          stored: Type.Union([settingValue, Type.Null()], { description: "Set from the admin API or a fleet command; applies at the next restart unless a flag or environment variable overrides it" }),
          schema: Type.Object({}, { additionalProperties: true, description: "The setting's JSON Schema" }),
        },
        { additionalProperties: false },
      ),
    ),
    restartRequired: Type.Boolean({ description: "A stored value differs from the one in force" }),
  },
  { title: "SettingsResponse", additionalProperties: false },
);
export type SettingsResponse = Static<typeof SettingsResponse>;

/** Each allow-listed path with its own rule; null removes the stored value (the config file's applies again). */
const orNull = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));

export const SettingsUpdate = Type.Object(
  {
    "server.host": orNull(ADMIN_SETTINGS["server.host"]),
    "auth.openInference": orNull(ADMIN_SETTINGS["auth.openInference"]),
    "model.parallel": orNull(ADMIN_SETTINGS["model.parallel"]),
    "model.maxTokens": orNull(ADMIN_SETTINGS["model.maxTokens"]),
    "model.contextSize": orNull(ADMIN_SETTINGS["model.contextSize"]),
    "log.level": orNull(ADMIN_SETTINGS["log.level"]),
  } satisfies Record<AdminSettingPath, TSchema>,
  { title: "SettingsUpdate", additionalProperties: false, minProperties: 1 },
);
export type SettingsUpdate = Static<typeof SettingsUpdate>;
