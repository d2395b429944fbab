/**
 * Trusted time for license decisions: a high-water mark of the wall clock kept in SQLite, so
 * setting the clock back never extends a license. Effective now = max(wall clock, mark); the mark
 * follows the wall clock forward. A wall clock behind the mark by more than the tolerance is a
 * rollback incident, recorded once in clock_rollbacks and shown by `hearth license status`.
 *
 * Each reading may write (the mark advancing), so read it at start and on status checks, not per
 * request.
 */
import type { Clock } from "../clock.ts";
import type { Db } from "../store/db.ts";

export interface ClockRollback {
  /** What the wall clock said when the incident was recorded. */
  wallAt: string;
  /** The trusted time it was behind. */
  trustedAt: string;
  behindSeconds: number;
}

export interface TrustedTimeReading {
  /** Effective now in ms: max(wall clock, high-water mark). */
  now: number;
  wall: number;
  /** The wall clock is behind trusted time by more than the tolerance right now. */
  rolledBack: boolean;
  /** This reading recorded a new incident. */
  recorded: boolean;
  /** Incidents recorded so far, and the latest. */
  incidents: number;
  lastRollback: ClockRollback | null;
}

type RollbackRow = { wall_ms: number; high_water_ms: number };

const rollbackOf = (row: RollbackRow): ClockRollback => ({
  wallAt: new Date(row.wall_ms).toISOString(),
  trustedAt: new Date(row.high_water_ms).toISOString(),
  behindSeconds: Math.round((row.high_water_ms - row.wall_ms) / 1000),
});

/** Reads the wall clock against the mark, advancing the mark or recording a rollback as needed. */
export function readTrustedTime(db: Db, clock: Clock, toleranceSeconds: number): TrustedTimeReading {
  const wall = Math.floor(clock.now());
  // IMMEDIATE: a CLI status and the server may read at once; the read-modify-write must not interleave.
  return db.transaction(() => {
    const mark = (db.prepare("SELECT high_water_ms FROM trusted_time WHERE id = 1").get() as { high_water_ms: number } | undefined)?.high_water_ms;
    if (mark === undefined || wall > mark) {
      db.prepare("INSERT INTO trusted_time (id, high_water_ms) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET high_water_ms = excluded.high_water_ms").run(wall);
    }
    const now = Math.max(wall, mark ?? wall);
    const rolledBack = now - wall > toleranceSeconds * 1000;
    let last = db.prepare("SELECT wall_ms, high_water_ms FROM clock_rollbacks ORDER BY id DESC LIMIT 1").get() as RollbackRow | undefined;
    let recorded = false;
    // Still the same incident while the mark has not moved and the wall clock has not gone back
    // again since: the clock keeps ticking forward from where it was set.
    if (rolledBack && !(last && last.high_water_ms === now && wall >= last.wall_ms)) {
      db.prepare("INSERT INTO clock_rollbacks (wall_ms, high_water_ms) VALUES (?, ?)").run(wall, now);
      last = { wall_ms: wall, high_water_ms: now };
      recorded = true;
    }
    const incidents = (db.prepare("SELECT count(*) AS n FROM clock_rollbacks").get() as { n: number }).n;
    return { now, wall, rolledBack, recorded, incidents, lastRollback: last ? rollbackOf(last) : null };
  }).immediate();
}
