import type { Db } from "../store/db.ts";

/** Where a feed stands, in telemetry_cursor; written in the transaction that enqueues what it covers. */
export class Cursors {
  private readonly read;
  private readonly write;

  constructor(db: Db) {
    this.read = db.prepare("SELECT value FROM telemetry_cursor WHERE name = ?").pluck();
    this.write = db.prepare("INSERT INTO telemetry_cursor (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value");
  }

  get(name: string): number {
    return (this.read.get(name) as number | undefined) ?? 0;
  }

  set(name: string, value: number): void {
    this.write.run(name, value);
  }
}
