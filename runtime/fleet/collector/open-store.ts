import { openPostgresStore } from "./postgres-store.ts";
import { openSqliteStore } from "./sqlite-store.ts";
import { isPostgresUrl, type FleetStore } from "./store.ts";

/**
 * `--db`: a postgres:// URL, else a SQLite file path. The collector creates the tables
 * (`create: true`); the reports only read an existing store.
 */
export async function openFleetStore(db: string, opts: { create: boolean }): Promise<FleetStore> {
  return isPostgresUrl(db) ? await openPostgresStore(db, opts) : openSqliteStore(db, opts);
}
