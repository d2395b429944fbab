/**
 * The fleet store in a SQLite file (better-sqlite3): WAL with synchronous=FULL, so a batch is on
 * disk when write() resolves and its messages may be acknowledged. One collector per file; the
 * reports read it while the collector writes.
 */
import Database from "better-sqlite3";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { HearthError } from "../../errors.ts";
import { DEVICES, MESSAGE_TABLES, SCHEMA_VERSION, insertIgnoreSql, schemaStatements, upsertDeviceSql, type TableDef } from "./schema.ts";
import { checkVersion, type FleetStore } from "./store.ts";
import type { BatchPlan } from "./plan.ts";

const namedValues = (t: TableDef) => `VALUES (${t.columns.map((c) => `@${c.name}`).join(", ")})`;

/** `create: false` (the reports) refuses a missing file rather than report on an empty new one. */
export function openSqliteStore(path: string, opts: { create: boolean }): FleetStore {
  const file = resolve(path);
  if (!opts.create && !existsSync(file)) throw new HearthError("not_found", `${file} does not exist: is --db the collector's database?`, { field: "db" });
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("busy_timeout = 5000");
  db.transaction(() => {
    for (const s of schemaStatements("sqlite")) db.exec(s);
    db.prepare("INSERT INTO fleet_meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING").run(String(SCHEMA_VERSION));
  })();
  checkVersion(db.prepare("SELECT value FROM fleet_meta WHERE key = 'schema_version'").pluck().get() as string, file);

  const inserts = new Map(MESSAGE_TABLES.map((t) => [t, db.prepare(insertIgnoreSql(t, namedValues(t)))]));
  const upsert = db.prepare(upsertDeviceSql(namedValues(DEVICES)));
  const writeTx = db.transaction((plan: BatchPlan) => {
    let inserted = 0;
    for (const { table, rows } of plan.inserts) {
      const stmt = inserts.get(table)!;
      for (const row of rows) inserted += stmt.run(row).changes;
    }
    for (const d of plan.devices) upsert.run(d);
    return inserted;
  });
  const reads = new Map<string, Database.Statement>();

  return {
    dialect: "sqlite",
    location: file,
    async write(plan) {
      return { inserted: writeTx(plan) };
    },
    async all<T>(sql: string, params: readonly unknown[] = []) {
      let stmt = reads.get(sql);
      if (!stmt) reads.set(sql, (stmt = db.prepare(sql)));
      return stmt.all(...params) as T[];
    },
    async close() {
      db.close();
    },
  };
}
