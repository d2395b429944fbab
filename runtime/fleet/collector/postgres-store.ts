/**
 * The fleet store in PostgreSQL through Bun's built-in SQL client, for several collectors sharing
 * one database. A batch is one transaction: each table's rows go in as one JSON array parameter
 * (json_to_recordset), so a batch costs a few round trips whatever its size. Idempotency holds
 * across collectors through the primary keys and ON CONFLICT DO NOTHING.
 */
import { SQL } from "bun";
import { HearthError } from "../../errors.ts";
import { DEVICES, MESSAGE_TABLES, SCHEMA_VERSION, insertIgnoreSql, recordsetType, schemaStatements, upsertDeviceSql, type TableDef } from "./schema.ts";
import { checkVersion, redactUrl, type FleetStore } from "./store.ts";

/** Serializes schema creation among collectors starting at once (any constant; "hfleet" in ASCII). */
const SCHEMA_LOCK = 0x686665656c74;

const fromJson = (t: TableDef) => `SELECT ${t.columns.map((c) => c.name).join(", ")} FROM json_to_recordset($1::json) AS r(${recordsetType(t)})`;

/** `?` placeholders → `$1, $2, …` (the report SQL has no `?` inside literals). */
export function dollarParams(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export async function openPostgresStore(url: string, opts: { create: boolean; maxConnections?: number }): Promise<FleetStore> {
  const location = redactUrl(url);
  const sql = new SQL(url, { max: opts.maxConnections ?? 4, connectionTimeout: 10 });
  try {
    await sql`SELECT 1`;
  } catch (err) {
    await sql.close({ timeout: 0 }).catch(() => {});
    throw new HearthError("not_found", `cannot connect to PostgreSQL at ${location}: ${(err as Error).message}`, { field: "db", cause: err });
  }
  try {
    if (opts.create) {
      await sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`;
        for (const s of schemaStatements("postgres")) await tx.unsafe(s);
        await tx`INSERT INTO fleet_meta (key, value) VALUES ('schema_version', ${String(SCHEMA_VERSION)}) ON CONFLICT (key) DO NOTHING`;
      });
    }
    const [row] = (await sql`SELECT to_regclass('fleet_meta') IS NOT NULL AS present`) as { present: boolean }[];
    if (!row?.present) throw new HearthError("not_found", `${location} has no fleet tables: is --db the collectors' database?`, { field: "db" });
    const [meta] = (await sql`SELECT value FROM fleet_meta WHERE key = 'schema_version'`) as { value: string }[];
    checkVersion(meta?.value ?? "0", location);
  } catch (err) {
    await sql.close({ timeout: 0 }).catch(() => {});
    throw err;
  }

  const inserts = new Map(MESSAGE_TABLES.map((t) => [t, insertIgnoreSql(t, fromJson(t))]));
  const upsert = upsertDeviceSql(fromJson(DEVICES));

  return {
    dialect: "postgres",
    location,
    async write(plan) {
      return await sql.begin(async (tx) => {
        let inserted = 0;
        for (const { table, rows } of plan.inserts) inserted += (await tx.unsafe(inserts.get(table)!, [rows])).count as number;
        if (plan.devices.length > 0) await tx.unsafe(upsert, [plan.devices]);
        return { inserted };
      });
    },
    async all<T>(query: string, params: readonly unknown[] = []) {
      return (await sql.unsafe(dollarParams(query), [...params])) as T[];
    },
    async close() {
      await sql.close({ timeout: 5 });
    },
  };
}
