import { describe, expect, test } from "bun:test";
import { openDatabase } from "../../runtime/store/db.ts";
import { readTrustedTime } from "../../runtime/license/trusted-time.ts";
import { manualClock, NOW, tmp } from "./helpers.ts";

const TOLERANCE_S = 300;
const rows = (db: ReturnType<typeof openDatabase>) => db.prepare("SELECT wall_ms, high_water_ms FROM clock_rollbacks ORDER BY id").all();

describe("trusted time", () => {
  test("follows the wall clock forward and persists the high-water mark", () => {
    const dir = tmp();
    const clock = manualClock();
    let db = openDatabase(dir);
    expect(readTrustedTime(db, clock, TOLERANCE_S)).toMatchObject({ now: NOW, wall: NOW, rolledBack: false, incidents: 0 });
    clock.set(NOW + 60_000);
    expect(readTrustedTime(db, clock, TOLERANCE_S).now).toBe(NOW + 60_000);
    db.close();

    // After a restart, a clock set back still reads the mark.
    db = openDatabase(dir);
    clock.set(NOW - 30 * 86_400_000);
    const r = readTrustedTime(db, clock, TOLERANCE_S);
    expect(r.now).toBe(NOW + 60_000);
    expect(r.rolledBack).toBe(true);
    db.close();
  });

  test("a small step back within the tolerance uses the mark without recording anything", () => {
    const db = openDatabase(tmp());
    const clock = manualClock();
    readTrustedTime(db, clock, TOLERANCE_S);
    clock.set(NOW - 200_000);
    expect(readTrustedTime(db, clock, TOLERANCE_S)).toMatchObject({ now: NOW, rolledBack: false, recorded: false, incidents: 0 });
    expect(rows(db)).toHaveLength(0);
    db.close();
  });

  test("a rollback beyond the tolerance is recorded once per incident, not per reading", () => {
    const db = openDatabase(tmp());
    const clock = manualClock();
    readTrustedTime(db, clock, TOLERANCE_S);
    const back = NOW - 3_600_000;
    clock.set(back);
    const first = readTrustedTime(db, clock, TOLERANCE_S);
    expect(first).toMatchObject({ now: NOW, rolledBack: true, recorded: true, incidents: 1 });
    expect(first.lastRollback).toEqual({ wallAt: new Date(back).toISOString(), trustedAt: new Date(NOW).toISOString(), behindSeconds: 3600 });
    // The set-back clock keeps ticking: the same incident.
    for (const t of [back + 1000, back + 60_000, back + 600_000]) {
      clock.set(t);
      expect(readTrustedTime(db, clock, TOLERANCE_S)).toMatchObject({ now: NOW, recorded: false, incidents: 1 });
    }
    // Set back again: a new incident.
    clock.set(back - 86_400_000);
    expect(readTrustedTime(db, clock, TOLERANCE_S)).toMatchObject({ recorded: true, incidents: 2 });
    // The clock catches up, the mark moves on; a later rollback is a third incident.
    clock.set(NOW + 10_000);
    expect(readTrustedTime(db, clock, TOLERANCE_S)).toMatchObject({ now: NOW + 10_000, rolledBack: false, incidents: 2 });
    clock.set(NOW - 3_600_000);
    expect(readTrustedTime(db, clock, TOLERANCE_S)).toMatchObject({ now: NOW + 10_000, recorded: true, incidents: 3 });
    expect(rows(db)).toHaveLength(3);
    db.close();
  });
});
