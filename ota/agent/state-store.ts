/**
 * The updater's persistence in the runtime database (migration 9): its one state record and the
 * trust it accumulated (the newest trusted root, the highest index version accepted). Every write
 * is one transaction with synchronous=FULL, so it is on disk before the step it records is taken.
 */
import { Value } from "@sinclair/typebox/value";
import type { Clock } from "../../runtime/clock.ts";
import type { Db } from "../../runtime/store/db.ts";
import { initialRecord, OtaRecordSchema, type OtaRecord } from "./state.ts";

export interface StoredTrust {
  /** The root document's bytes as fetched (a signed envelope), re-verified at every load. */
  root: Uint8Array;
  rootVersion: number;
  indexVersion: number;
}

export class OtaStateStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** The stored record, or the initial one (never updated, or a record this runtime cannot read). */
  load(): OtaRecord {
    const row = this.db.prepare("SELECT record FROM ota_state WHERE id = 1").get() as { record: string } | undefined;
    if (!row) return initialRecord(this.clock.now());
    try {
      const value: unknown = JSON.parse(row.record);
      if (Value.Check(OtaRecordSchema, value)) return value;
    } catch {
      // fall through: a record that does not parse is treated as none
    }
    return initialRecord(this.clock.now());
  }

  save(record: OtaRecord): void {
    this.db
      .prepare("INSERT INTO ota_state (id, state, record, updated_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state, record = excluded.record, updated_at = excluded.updated_at")
      .run(record.state, JSON.stringify(record), this.clock.now());
  }

  trust(): StoredTrust | null {
    const row = this.db.prepare("SELECT root, root_version, index_version FROM ota_trust WHERE id = 1").get() as
      | { root: string; root_version: number; index_version: number }
      | undefined;
    return row ? { root: new TextEncoder().encode(row.root), rootVersion: row.root_version, indexVersion: row.index_version } : null;
  }

  saveTrust(trust: StoredTrust): void {
    this.db
      .prepare(
        "INSERT INTO ota_trust (id, root, root_version, index_version, updated_at) VALUES (1, ?, ?, ?, ?) " +
          "ON CONFLICT (id) DO UPDATE SET root = excluded.root, root_version = excluded.root_version, index_version = excluded.index_version, updated_at = excluded.updated_at",
      )
      .run(new TextDecoder().decode(trust.root), trust.rootVersion, trust.indexVersion, this.clock.now());
  }
}
