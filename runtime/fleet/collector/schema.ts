/**
 * The fleet store's tables, defined once: the DDL for SQLite and for PostgreSQL, the insert
 * statements and PostgreSQL's row types are all generated from these column lists, so the two
 * stores cannot drift apart. Every message table is keyed by (device_id, message_id): the device
 * outbox's message id, so a redelivered message is stored once, also by two collectors at once.
 * Times are milliseconds since the epoch; flags are 0/1 integers (one type on both databases).
 */
export type Dialect = "sqlite" | "postgres";
export type ColumnType = "text" | "int" | "real";

export interface Column {
  name: string;
  type: ColumnType;
  notNull?: boolean;
}

export interface TableDef {
  name: string;
  columns: readonly Column[];
  primaryKey: readonly string[];
  indexes?: readonly { name: string; columns: readonly string[] }[];
}

const text = (name: string, notNull = false): Column => ({ name, type: "text", notNull });
const int = (name: string, notNull = false): Column => ({ name, type: "int", notNull });
const real = (name: string, notNull = false): Column => ({ name, type: "real", notNull });

/** Columns every message table starts with. */
const MESSAGE = [text("device_id", true), text("message_id", true), text("fleet", true), int("ts_ms", true), int("received_ms", true)];
const MESSAGE_KEY = ["device_id", "message_id"] as const;

/** One row per device: what the latest state said, when it was last heard of, its first key. */
export const DEVICES: TableDef = {
  name: "fleet_devices",
  columns: [
    text("device_id", true),
    text("fleet", true),
    int("first_seen_ms", true),
    int("last_seen_ms", true),
    /** 1 online, 0 offline, NULL never said. */
    int("online"),
    /** When the collector received the state it shows: the latest received state wins. */
    int("state_received_ms"),
    int("state_ts_ms"),
    text("version"),
    text("tier"),
    text("license_id"),
    /** JSON array of model ids. */
    text("models"),
    /** The public key of the first validly signed checkpoint: later keys are flagged. */
    text("public_key"),
  ],
  primaryKey: ["device_id"],
};

export const STATE: TableDef = {
  name: "fleet_state",
  columns: [...MESSAGE, text("state", true), int("retained", true), text("version"), text("tier"), text("license_id"), text("models")],
  primaryKey: MESSAGE_KEY,
};

export const HEALTH: TableDef = {
  name: "fleet_health",
  columns: [
    ...MESSAGE,
    int("uptime_seconds", true),
    real("cpu_load_percent", true),
    int("memory_total_mb", true),
    int("memory_used_mb", true),
    int("disk_total_mb", true),
    int("disk_used_mb", true),
    int("throttled", true),
    /** JSON array of {zone, celsius}. */
    text("temperatures", true),
    real("max_temperature_c"),
  ],
  primaryKey: MESSAGE_KEY,
  indexes: [{ name: "fleet_health_device_ts", columns: ["device_id", "ts_ms"] }],
};

export const USAGE: TableDef = {
  name: "fleet_usage",
  columns: [
    ...MESSAGE,
    /** The device's usage message sequence: gaps and duplicates show in the audit. */
    int("seq", true),
    int("from_ledger_seq", true),
    int("to_ledger_seq", true),
    int("requests", true),
    int("prompt_tokens", true),
    int("completion_tokens", true),
    /** JSON object: model id → totals. */
    text("by_model", true),
    text("tier", true),
    text("license_id"),
  ],
  primaryKey: MESSAGE_KEY,
  indexes: [
    { name: "fleet_usage_device_seq", columns: ["device_id", "seq"] },
    { name: "fleet_usage_ts", columns: ["ts_ms"] },
  ],
};

/** Signed ledger checkpoints, verified on arrival. */
export const AUDIT: TableDef = {
  name: "fleet_checkpoints",
  columns: [
    ...MESSAGE,
    /** The deviceId inside the signed payload; differs from device_id when a box sends another's. */
    text("payload_device_id", true),
    text("public_key", true),
    int("signature_valid", true),
    /** 1 when the device id derives from this key (runtime/identity deviceIdOf): a box's id is its key's. */
    int("key_is_device_key", true),
    int("ledger_seq", true),
    int("record_count", true),
    text("head_hash", true),
    int("created_ms", true),
    /** The signed checkpoint as received (JSON), to re-verify later. */
    text("checkpoint", true),
    text("license_id"),
  ],
  primaryKey: MESSAGE_KEY,
  indexes: [{ name: "fleet_checkpoints_device_seq", columns: ["device_id", "ledger_seq"] }],
};

export const ACKS: TableDef = {
  name: "fleet_command_acks",
  columns: [...MESSAGE, text("command_id"), text("outcome", true), text("code"), text("reason"), text("result")],
  primaryKey: MESSAGE_KEY,
  indexes: [{ name: "fleet_command_acks_command", columns: ["command_id"] }],
};

export const OTA: TableDef = {
  name: "fleet_ota_events",
  columns: [...MESSAGE, text("event", true), text("detail", true)],
  primaryKey: MESSAGE_KEY,
};

/** Message tables, in the order a batch writes them (a fixed order keeps PostgreSQL lock order fixed). */
export const MESSAGE_TABLES = [STATE, HEALTH, USAGE, AUDIT, ACKS, OTA] as const;
export type MessageTable = (typeof MESSAGE_TABLES)[number];

export const SCHEMA_VERSION = 1;

function sqlType(type: ColumnType, dialect: Dialect): string {
  if (dialect === "sqlite") return type === "text" ? "TEXT" : type === "int" ? "INTEGER" : "REAL";
  return type === "text" ? "TEXT" : type === "int" ? "BIGINT" : "DOUBLE PRECISION";
}

/** CREATE statements for every table, idempotent. */
export function schemaStatements(dialect: Dialect): string[] {
  const statements = [`CREATE TABLE IF NOT EXISTS fleet_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)${dialect === "sqlite" ? " STRICT" : ""}`];
  for (const t of [DEVICES, ...MESSAGE_TABLES]) {
    const cols = t.columns.map((c) => `${c.name} ${sqlType(c.type, dialect)}${c.notNull ? " NOT NULL" : ""}`);
    statements.push(`CREATE TABLE IF NOT EXISTS ${t.name} (${cols.join(", ")}, PRIMARY KEY (${t.primaryKey.join(", ")}))${dialect === "sqlite" ? " STRICT" : ""}`);
    for (const ix of t.indexes ?? []) statements.push(`CREATE INDEX IF NOT EXISTS ${ix.name} ON ${t.name} (${ix.columns.join(", ")})`);
  }
  return statements;
}

/** `AS r(col type, …)`: the row type PostgreSQL reads a JSON array of rows as. */
export function recordsetType(t: TableDef): string {
  return t.columns.map((c) => `${c.name} ${sqlType(c.type, "postgres")}`).join(", ");
}

/** A message row: the first-write-wins insert that makes redelivery harmless. */
export function insertIgnoreSql(t: TableDef, source: string): string {
  const cols = t.columns.map((c) => c.name).join(", ");
  return `INSERT INTO ${t.name} (${cols}) ${source} ON CONFLICT (${t.primaryKey.join(", ")}) DO NOTHING`;
}

/**
 * The device upsert. A state applies when it was received at or after the one shown (the latest
 * received wins, like a retained topic); without any state yet, usage messages fill tier and
 * license. The first seen public key is kept for good. (Every SET expression reads the row as it
 * was before this update, on both databases.)
 */
export function upsertDeviceSql(source: string): string {
  const cols = DEVICES.columns.map((c) => c.name).join(", ");
  const d = DEVICES.name;
  const newerState = `(excluded.state_received_ms IS NOT NULL AND excluded.state_received_ms >= COALESCE(${d}.state_received_ms, 0))`;
  const noStateYet = `(${d}.state_received_ms IS NULL AND excluded.tier IS NOT NULL)`;
  const fromState = (c: string) => `${c} = CASE WHEN ${newerState} THEN excluded.${c} ELSE ${d}.${c} END`;
  const fromStateOrUsage = (c: string) => `${c} = CASE WHEN ${newerState} OR ${noStateYet} THEN excluded.${c} ELSE ${d}.${c} END`;
  return (
    `INSERT INTO ${d} (${cols}) ${source} ON CONFLICT (device_id) DO UPDATE SET ` +
    [
      "fleet = excluded.fleet",
      `first_seen_ms = CASE WHEN excluded.first_seen_ms < ${d}.first_seen_ms THEN excluded.first_seen_ms ELSE ${d}.first_seen_ms END`,
      `last_seen_ms = CASE WHEN excluded.last_seen_ms > ${d}.last_seen_ms THEN excluded.last_seen_ms ELSE ${d}.last_seen_ms END`,
      fromState("online"),
      fromState("state_ts_ms"),
      fromState("version"),
      fromState("models"),
      fromStateOrUsage("tier"),
      fromStateOrUsage("license_id"),
      `state_received_ms = CASE WHEN ${newerState} THEN excluded.state_received_ms ELSE ${d}.state_received_ms END`,
      `public_key = COALESCE(${d}.public_key, excluded.public_key)`,
    ].join(", ")
  );
}
