/**
 * Settings changed by `config.set`, kept in SQLite (config_overrides) so they survive restarts and
 * reimaging of the config file. The config loader layers them over the file at start; a stored
 * value that a later release no longer allows or accepts is skipped, never fatal.
 */
import type { Db } from "../../store/db.ts";
import { checkConfigValue } from "./config-allow-list.ts";

export interface ConfigOverride {
  path: string;
  value: unknown;
  /** The command that set it. */
  commandId: string;
  setAt: number;
}

/** Stores (or replaces) an override; durable when it returns (the database runs synchronous=FULL). */
export function storeConfigOverride(db: Db, o: ConfigOverride): void {
  db.prepare("INSERT OR REPLACE INTO config_overrides (path, value, command_id, set_at) VALUES (?, ?, ?, ?)").run(o.path, JSON.stringify(o.value), o.commandId, o.setAt);
}

/** Removes an override (the file's value applies again at the next start); false when there was none. */
export function removeConfigOverride(db: Db, path: string): boolean {
  return db.prepare("DELETE FROM config_overrides WHERE path = ?").run(path).changes > 0;
}

/** Every stored override, including any this release would no longer apply. */
export function listConfigOverrides(db: Db): ConfigOverride[] {
  const rows = db.prepare("SELECT path, value, command_id, set_at FROM config_overrides ORDER BY path").all() as { path: string; value: string; command_id: string; set_at: number }[];
  return rows.map((r) => ({ path: r.path, value: JSON.parse(r.value) as unknown, commandId: r.command_id, setAt: r.set_at }));
}

/**
 * The overrides to apply at start, as dotted config paths to values (the shape loadConfig takes
 * for flags): only those still allow-listed and valid for their setting.
 */
export function configOverrides(db: Db): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of listConfigOverrides(db)) if (checkConfigValue(o.path, o.value).ok) out[o.path] = o.value;
  return out;
}
