/**
 * The update state of a data dir read without touching it (`hearth ota status` while no box runs,
 * or beside a running one): the record from SQLite and the slot pointers as they are on disk.
 * Nothing is recovered or rewritten here; only a running server's agent does that.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Clock } from "../../runtime/clock.ts";
import type { Db } from "../../runtime/store/db.ts";
import { otaDir } from "./lines.ts";
import { readPointer } from "./slots-pointer.ts";
import { OtaStateStore } from "./state-store.ts";
import type { OtaRecord } from "./state.ts";

export interface OfflineStatus {
  record: OtaRecord;
  /** Per line (base, then adapters): the active and previous release, and whether a switch is pending. */
  lines: { line: string; active: string | null; previous: string | null; pending: boolean; staging: string | null }[];
}

const label = (rec: { release: { name: string; version: string } } | null | undefined) => (rec ? `${rec.release.name} ${rec.release.version}` : null);

export function offlineStatus(db: Db, dataDir: string, clock: Clock): OfflineStatus {
  const record = new OtaStateStore(db, clock).load();
  const roots: [string, string][] = [["base", join(otaDir(dataDir), "base")]];
  const loraDir = join(otaDir(dataDir), "lora");
  if (existsSync(loraDir)) for (const name of readdirSync(loraDir)) roots.push([`lora ${name}`, join(loraDir, name)]);
  const lines = roots
    .filter(([, root]) => existsSync(root))
    .map(([line, root]) => {
      const p = readPointer(root);
      return {
        line,
        active: p.active === null || (line === "base" && record.factory) ? null : label(p.slots[p.active]),
        previous: p.previous === null ? null : label(p.slots[p.previous]),
        pending: p.pending,
        staging: p.staging ? `${p.staging.release.name} ${p.staging.release.version}` : null,
      };
    });
  return { record, lines };
}
