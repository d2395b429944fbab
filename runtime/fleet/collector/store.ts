/**
 * The fleet store: one interface, a SQLite file (default) or PostgreSQL (several collectors behind
 * a clustered broker). Both have the tables of schema.ts; writes are whole batches in one
 * transaction, and reports run the same SQL text on both (`?` placeholders).
 */
import { HearthError } from "../../errors.ts";
import { SCHEMA_VERSION, type Dialect } from "./schema.ts";
import type { BatchPlan } from "./plan.ts";

export interface FleetStore {
  readonly dialect: Dialect;
  /** Where it is, for messages: a path, or the URL without its password. */
  readonly location: string;
  /** Writes a batch in one transaction, durably; resolves with the number of message rows that were new. */
  write(plan: BatchPlan): Promise<{ inserted: number }>;
  /** A read query with `?` placeholders. PostgreSQL returns BIGINT and SUM() as strings: read numbers with Number(). */
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** A URL fit for logs: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
  }
}

/** A database written by a newer collector is not touched (its schema may mean other things). */
export function checkVersion(found: string, where: string): void {
  if (Number(found) > SCHEMA_VERSION) {
    throw new HearthError("invalid_request", `${where} has fleet schema version ${found}, newer than this collector's ${SCHEMA_VERSION}: upgrade hearth`, { field: "db" });
  }
}
