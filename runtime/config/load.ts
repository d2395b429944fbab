import { existsSync, readFileSync } from "node:fs";
import type { TSchema, TObject } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { HearthError } from "../errors.ts";
import { ConfigSchema, type Config } from "./schema.ts";
import { describeSchemaError } from "../validation.ts";

export const DEFAULT_CONFIG_FILE = "/etc/hearth/config.json";

type Source = "default" | "file" | "fleet" | "env" | "flag";
type Layer = { source: Source; values: Record<string, unknown>; origin: string };

export interface LoadConfigOptions {
  /** Explicit config file (`--config`); an error when it does not exist. */
  file?: string;
  /** Used when `file` is not given, only if it exists. */
  defaultFile?: string;
  env?: Record<string, string | undefined>;
  /** Dotted config paths to values, from command-line flags. */
  flags?: Record<string, unknown>;
  /**
   * Settings changed by signed fleet commands (config.set), over the file and under the
   * environment and flags: an operator's explicit local choice wins over the fleet's.
   */
  fleetOverrides?: Record<string, unknown>;
}

/** Every leaf of the schema: dotted path, env name and schema. */
export function configLeaves(schema: TObject = ConfigSchema, prefix: string[] = []): { path: string; env: string; schema: TSchema }[] {
  const out: { path: string; env: string; schema: TSchema }[] = [];
  for (const [key, sub] of Object.entries(schema.properties)) {
    const segs = [...prefix, key];
    if ((sub as TSchema).type === "object" && (sub as TObject).properties) {
      out.push(...configLeaves(sub as TObject, segs));
    } else {
      const env = "HEARTH_" + segs.map((s) => s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()).join("_");
      out.push({ path: segs.join("."), env, schema: sub as TSchema });
    }
  }
  return out;
}

/** Env values are strings; coerce them to the leaf's type so validation speaks of the real value. */
function coerceEnv(raw: string, schema: TSchema): unknown {
  if (schema.type === "integer" || schema.type === "number") return raw.trim() !== "" && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  if (schema.type === "boolean") return /^(true|1|yes|on)$/i.test(raw) ? true : /^(false|0|no|off)$/i.test(raw) ? false : raw;
  if (schema.type === "array" || schema.type === "object") {
    // Lists (e.g. trusted keys) come as JSON; a value that does not parse is reported as given.
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const segs = path.split(".");
  let node = target;
  for (const seg of segs.slice(0, -1)) {
    if (typeof node[seg] !== "object" || node[seg] === null) node[seg] = {};
    node = node[seg] as Record<string, unknown>;
  }
  node[segs[segs.length - 1]!] = value;
}

function getPath(source: unknown, path: string): unknown {
  let node = source;
  for (const seg of path.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === "object" && !Array.isArray(v) && b && typeof b === "object" && !Array.isArray(b)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

function readFileLayer(path: string): Layer {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new HearthError("config_invalid", `config file ${path}: cannot be read (${(err as Error).message})`, { field: "config" });
  }
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (err) {
    throw new HearthError("config_invalid", `config file ${path}: not valid JSON (${(err as Error).message})`, { field: "config" });
  }
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    throw new HearthError("config_invalid", `config file ${path}: must hold a JSON object`, { field: "config" });
  }
  return { source: "file", values: values as Record<string, unknown>, origin: path };
}

/**
 * Builds the config from defaults, a JSON file, HEARTH_* variables and flags (later wins) and
 * validates it. Throws one `config_invalid` error whose message has a line per problem.
 */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const layers: Layer[] = [];
  const file = opts.file ?? (opts.defaultFile && existsSync(opts.defaultFile) ? opts.defaultFile : undefined);
  if (file) layers.push(readFileLayer(file));

  const fleetValues: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(opts.fleetOverrides ?? {})) if (value !== undefined) setPath(fleetValues, path, value);
  layers.push({ source: "fleet", values: fleetValues, origin: "a fleet command (config.set)" });

  const envValues: Record<string, unknown> = {};
  for (const leaf of configLeaves()) {
    const raw = opts.env?.[leaf.env];
    if (raw !== undefined && raw !== "") setPath(envValues, leaf.path, coerceEnv(raw, leaf.schema));
  }
  layers.push({ source: "env", values: envValues, origin: "environment" });

  const flagValues: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(opts.flags ?? {})) if (value !== undefined) setPath(flagValues, path, value);
  layers.push({ source: "flag", values: flagValues, origin: "command line" });

  const merged = layers.reduce((acc, l) => deepMerge(acc, l.values), {} as Record<string, unknown>);
  const config = Value.Default(ConfigSchema, Value.Clone(merged)) as Config;
  const problems = [...Value.Errors(ConfigSchema, config)].map((e) => {
    const path = e.path.replace(/^\//, "").replaceAll("/", ".");
    const from = [...layers].reverse().find((l) => getPath(l.values, path) !== undefined);
    return describeSchemaError(e, "config") + (from ? ` (from ${from.origin})` : "");
  });
  if (problems.length > 0) {
    throw new HearthError("config_invalid", `invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`, {
      field: "config",
    });
  }
  return config;
}
