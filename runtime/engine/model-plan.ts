/**
 * Which models the box serves, from config: `model` (the primary) and `models` (the extras), each
 * with its id and settings resolved. Pure, so a bad set stops start-up before anything loads.
 */
import { basename, extname, resolve } from "node:path";
import { HearthError } from "../errors.ts";
import type { Config } from "../config/schema.ts";

export interface PlannedModel {
  id: string;
  /** The setting that names it, for messages: "model" or "models[i]". */
  field: string;
  path: string;
  contextSize: number;
  parallel: number;
  queueSize: number;
}

export interface ModelPlan {
  primary: PlannedModel;
  /** In config order, which is also load order. */
  extras: PlannedModel[];
}

/** A model's id in the API: the configured one, else the file name without extension (as LlamaEngine names it). */
export function modelIdOf(path: string, id?: string): string {
  return id ?? basename(path, extname(path));
}

/**
 * Resolves ids and inherited settings. Throws config_invalid naming `models[i].id` when an id is
 * already taken, because two models under one id could not be told apart by clients.
 * `primaryPath` is the file `model` resolved to (the demo model when `model.path` is unset).
 */
export function planModels(config: Pick<Config, "model" | "models">, primaryPath: string): ModelPlan {
  const { model } = config;
  const primary: PlannedModel = {
    id: modelIdOf(primaryPath, model.id),
    field: "model",
    path: primaryPath,
    contextSize: model.contextSize,
    parallel: model.parallel,
    queueSize: model.queueSize,
  };
  const taken = new Map([[primary.id, "model.id"]]);
  const extras = config.models.map((m, i): PlannedModel => {
    const field = `models[${i}]`;
    const id = modelIdOf(m.path, m.id);
    const other = taken.get(id);
    if (other) {
      const how = m.id === undefined ? ` (from the file name of ${field}.path; set ${field}.id)` : "";
      throw new HearthError("config_invalid", `invalid configuration: ${field}.id: ${JSON.stringify(id)} is already the id of ${other.replace(/\.id$/, "")}${how}; model ids must be unique`, {
        field: `${field}.id`,
      });
    }
    taken.set(id, `${field}.id`);
    return {
      id,
      field,
      path: resolve(m.path),
      contextSize: m.contextSize ?? model.contextSize,
      parallel: m.parallel ?? model.parallel,
      queueSize: m.queueSize ?? model.queueSize,
    };
  });
  return { primary, extras };
}
