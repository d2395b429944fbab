/**
 * One suite for both stores: store-sqlite.test.ts and store-postgres.test.ts run it, so the two
 * implementations answer the same writes with the same rows and the same reports.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { FleetStore } from "../../runtime/fleet/collector/store.ts";
import { ingest } from "../../runtime/fleet/collector/ingest.ts";
import { planBatch } from "../../runtime/fleet/collector/plan.ts";
import { devicesReport } from "../../runtime/fleet/collector/devices-report.ts";
import { buildFleetAudit, auditCsv } from "../../runtime/fleet/collector/audit-report.ts";
import { deviceTopic, type DeviceChannel } from "../../runtime/telemetry/topics.ts";
import { FLEET, T0, audit, checkpoint, deviceKey, health, iso, state, usage } from "./fixtures.ts";

type Msg = { channel: DeviceChannel; body: { device: string }; receivedMs?: number; retain?: boolean };
const u = (m: ReturnType<typeof usage>): Msg => ({ channel: "usage", body: m });
const s = (m: ReturnType<typeof state>, receivedMs?: number): Msg => ({ channel: "state", body: m, receivedMs });
const a = (m: ReturnType<typeof audit>): Msg => ({ channel: "audit", body: m });

let clock = T0 + 3600_000;
function plan(msgs: Msg[]) {
  return planBatch(
    msgs.map((m) => {
      const r = ingest({ topic: deviceTopic(FLEET, m.body.device, m.channel), payload: new TextEncoder().encode(JSON.stringify(m.body)), retain: m.retain ?? false, receivedMs: m.receivedMs ?? ++clock });
      if (!r.ok) throw new Error(r.reason);
      return r;
    }),
  );
}

const count = async (store: FleetStore, sql: string, params: unknown[] = []) => Number(((await store.all<{ n: unknown }>(sql, params))[0] ?? { n: 0 }).n);

export function storeSuite(name: string, open: () => Promise<FleetStore>, openSecond?: (first: FleetStore) => Promise<FleetStore>) {
  describe(`fleet store: ${name}`, () => {
    const opened: FleetStore[] = [];
    const fresh = async () => {
      const st = await open();
      opened.push(st);
      return st;
    };
    afterEach(async () => {
      for (const st of opened.splice(0)) await st.close();
    });

    test("a message stored twice, also within one batch, is one row", async () => {
      const store = await fresh();
      const m = usage("box-1", 1);
      expect((await store.write(plan([u(m), u(m)]))).inserted).toBe(1);
      expect((await store.write(plan([u(m), u(usage("box-1", 2))]))).inserted).toBe(1);
      expect(await count(store, "SELECT COUNT(*) AS n FROM fleet_usage")).toBe(2);
      expect(await count(store, "SELECT SUM(prompt_tokens) AS n FROM fleet_usage WHERE device_id = ?", ["box-1"])).toBe(200);
    });

    test("concurrent writers of overlapping batches store each message once", async () => {
      const store = await fresh();
      const other = openSecond ? await openSecond(store) : store;
      if (other !== store) opened.push(other);
      const msgs = Array.from({ length: 300 }, (_, i) => usage(`box-${i % 7}`, Math.floor(i / 7) + 1));
      const results = await Promise.all([
        store.write(plan(msgs.slice(0, 200).map(u))),
        other.write(plan(msgs.slice(100).map(u))),
        store.write(plan([...msgs].reverse().map(u))),
      ]);
      expect(results.reduce((n, r) => n + r.inserted, 0)).toBe(300);
      expect(await count(store, "SELECT COUNT(*) AS n FROM fleet_usage")).toBe(300);
      expect(await count(store, "SELECT COUNT(*) AS n FROM fleet_devices")).toBe(7);
    });

    test("devices: the latest received state shows, usage fills in for a box that never sent one, the first key stays", async () => {
      const store = await fresh();
      const k1 = deviceKey();
      const b1 = k1.deviceId;
      await store.write(plan([s(state(b1, "online", { version: "1.0.0", models: ["m1", "m2"], ts: T0 }), T0 + 10)]));
      await store.write(plan([s(state(b1, "offline", { version: "1.0.0", ts: T0 + 50 }), T0 + 60), { channel: "health", body: health(b1, { ts: T0 + 20, cpu: 40, temps: [50, 71.5] }) }]));
      // A state received earlier than the one shown (late redelivery) changes nothing.
      await store.write(plan([s(state(b1, "online", { version: "0.9.0", ts: T0 + 5 }), T0 + 30)]));
      await store.write(plan([u(usage("box-2", 1, { tier: "community", licenseId: null, ts: T0 + 100 })), a(audit(b1, checkpoint(k1, b1, 1000)))]));
      // Another key claiming this box's id is not taken as its key.
      await store.write(plan([a(audit(b1, checkpoint(deviceKey(), b1, 2000)))]));

      const devices = await devicesReport(store);
      expect(devices.map((d) => d.deviceId).sort()).toEqual(["box-2", b1].sort());
      const d1 = devices.find((d) => d.deviceId === b1)!;
      const d2 = devices.find((d) => d.deviceId === "box-2")!;
      expect(d1).toMatchObject({ online: false, version: "1.0.0", tier: "smb", licenseId: "LIC-A", publicKey: k1.publicKey, firstSeen: iso(T0) });
      expect(d1.models).toEqual(["demo-tiny"]); // from the offline state, which replaced m1, m2
      expect(d1.health).toMatchObject({ cpuLoadPercent: 40, maxTemperatureC: 71.5, throttled: false, memory: { totalMB: 8192, usedMB: 2048 } });
      expect(d2).toMatchObject({ online: null, version: null, tier: "community", licenseId: null, health: null, lastSeen: iso(T0 + 100) });
    });

    test("audit: tokens per license and device, seats, unlicensed boxes, the period", async () => {
      const store = await fresh();
      await store.write(
        plan([
          u(usage("box-1", 1, { licenseId: "LIC-A", prompt: 100, completion: 10, requests: 3 })),
          u(usage("box-1", 2, { licenseId: "LIC-A", prompt: 200, completion: 20, requests: 4 })),
          u(usage("box-2", 1, { licenseId: "LIC-A", prompt: 1, completion: 2, requests: 1 })),
          u(usage("box-3", 1, { licenseId: "LIC-B", prompt: 5, completion: 5, requests: 1 })),
          u(usage("box-4", 1, { tier: "community", licenseId: null, prompt: 7, completion: 0, requests: 1 })),
          u(usage("box-5", 1, { tier: "smb", licenseId: null, prompt: 3, completion: 3, requests: 1 })),
          // Outside the period: before and after.
          u(usage("box-6", 1, { licenseId: "LIC-A", ts: T0 - 86_400_000 })),
          u(usage("box-1", 3, { licenseId: "LIC-A", ts: T0 + 40 * 86_400_000 })),
        ]),
      );
      const report = await buildFleetAudit(store, { since: T0, until: T0 + 30 * 86_400_000, seats: new Map([["LIC-B", 5]]) });
      expect(report.totals).toEqual({ devices: 5, licenses: 2, requests: 11, promptTokens: 316, completionTokens: 40, tokens: 356 });
      const licA = report.licenses.find((l) => l.licenseId === "LIC-A")!;
      expect(licA).toMatchObject({ devices: ["box-1", "box-2"], seats: 1, seatsSource: "default", overSeats: true, requests: 8, tokens: 333 });
      expect(report.licenses.find((l) => l.licenseId === "LIC-B")).toMatchObject({ devices: ["box-3"], seats: 5, seatsSource: "given", overSeats: false, tokens: 10 });
      expect(report.overSeat).toEqual([{ licenseId: "LIC-A", seats: 1, devices: ["box-1", "box-2"] }]);
      expect(report.devices.find((d) => d.deviceId === "box-1")).toMatchObject({ licenseIds: ["LIC-A"], requests: 7, promptTokens: 300, completionTokens: 30, tokens: 330, usageMessages: 2, firstSeq: 1, lastSeq: 2 });
      expect(report.unlicensed.map((x) => [x.deviceId, x.reason, x.tokens])).toEqual([
        ["box-4", "community_tier", 7],
        ["box-5", "no_license_id", 6],
      ]);
      const csv = auditCsv(report).split("\n");
      expect(csv[0]).toStartWith("device_id,fleet,license_ids");
      expect(csv.find((l) => l.startsWith("box-2,"))).toBe("box-2,acme,LIC-A,smb,1,1,2,3,1,2,1,yes,no,0,");
    });

    test("audit: gaps and breaks in each device's chain", async () => {
      const store = await fresh();
      const key = deviceKey();
      const b2 = key.deviceId;
      const stranger = deviceKey();
      const other = deviceKey();
      await store.write(
        plan([
          // box-1: seq 3 missing; seq 5 sent twice under two ids; ledger gap before seq 6, overlap at 7.
          ...[1, 2, 4].map((q) => u(usage("box-1", q))),
          u(usage("box-1", 5)),
          u(usage("box-1", 5)),
          u(usage("box-1", 6, { from: 55, to: 60 })),
          u(usage("box-1", 7, { from: 58, to: 70 })),
          // box-2: clean usage; checkpoints: good, good, forged, then a second key, a count that jumps,
          // a head hash conflict, and one signed later for an earlier sequence.
          u(usage(b2, 1)),
          a(audit(b2, checkpoint(key, b2, 1000, { createdMs: T0 + 1000 }))),
          a(audit(b2, checkpoint(key, b2, 2000, { createdMs: T0 + 2000 }))),
          a(audit(b2, checkpoint(key, b2, 3000, { createdMs: T0 + 3000, forge: true }))),
          a(audit(b2, checkpoint(stranger, b2, 3000, { createdMs: T0 + 3100 }))),
          a(audit(b2, checkpoint(key, b2, 4000, { createdMs: T0 + 4000, count: 3500 }))),
          a(audit(b2, checkpoint(key, b2, 4000, { createdMs: T0 + 4001, count: 3500, headHash: "ab".repeat(32) }))),
          a(audit(b2, checkpoint(key, b2, 1500, { createdMs: T0 + 5000, count: 1500 }))),
          // box-3 sends another box's checkpoint.
          a(audit("box-3", checkpoint(other, other.deviceId, 1000))),
        ]),
      );
      const report = await buildFleetAudit(store, { since: T0, until: T0 + 86_400_000, seats: new Map() });
      const kinds = report.chainProblems.map((p) => `${p.deviceId}:${p.kind}${p.seq !== undefined ? `@${p.seq}` : ""}${p.ledgerSeq !== undefined ? `#${p.ledgerSeq}` : ""}`);
      expect(kinds.sort()).toEqual(
        [
          "box-1:usage_seq_gap@4",
          "box-1:usage_seq_duplicate@5",
          "box-1:ledger_gap@6#55",
          "box-1:ledger_overlap@7#58",
          `${b2}:checkpoint_forged#3000`,
          `${b2}:key_changed#3000`,
          `${b2}:count_mismatch#4000`,
          `${b2}:head_hash_conflict#4000`,
          `${b2}:checkpoint_backwards#1500`,
          "box-3:checkpoint_foreign#1000",
        ].sort(),
      );
      expect(report.chainProblems.find((p) => p.kind === "usage_seq_gap")!.detail).toBe("usage messages 3 never arrived");
      // A period after all of it reports nothing, though detection read the whole history.
      expect((await buildFleetAudit(store, { since: T0 + 86_400_000, until: T0 + 2 * 86_400_000, seats: new Map() })).chainProblems).toEqual([]);
    });
  });
}
