import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { MIGRATIONS } from "./migrations.ts";

export type Db = Database.Database;

export const DB_FILE = "hearth.db";

/**
 * Opens (creating if needed) the runtime database in `dataDir`. WAL with synchronous=FULL makes
 * every committed transaction durable before the call returns, so an acknowledged request is on
 * disk even if the process is SIGKILLed or the power goes right after.
 */
export function openDatabase(dataDir: string, file = DB_FILE): Db {
  const path = join(dataDir, file);
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db);
  return db;
}

export function migrate(db: Db): number {
  const current = db.pragma("user_version", { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      const step = MIGRATIONS[v]!;
      if (typeof step === "string") db.exec(step);
      else step(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return MIGRATIONS.length;
}
