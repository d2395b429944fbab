import { afterAll, describe, expect, test } from "bun:test";
import { openDatabase } from "../../runtime/store/db.ts";
import { createLogger } from "../../runtime/log.ts";
import { systemClock } from "../../runtime/clock.ts";
import { Outbox } from "../../runtime/telemetry/outbox.ts";
import { isHearthError } from "../../runtime/errors.ts";
import { removeTempDirs, tmp } from "./helpers.ts";

afterAll(removeTempDirs);

const env = (id: string) => ({ v: 1 as const, id, device: "hd-box", fleet: "acme", ts: new Date(0).toISOString() });
const health = (id: string) => ({
  ...env(id),
  uptimeSeconds: 1,
  cpuLoadPercent: 2,
  memory: { totalMB: 100, usedMB: 50 },
  temperaturesC: [],
  disk: { totalMB: 100, usedMB: 10 },
  throttled: false,
});
const usage = (id: string, seq: number) => ({
  ...env(id),
  seq,
  fromLedgerSeq: seq - 1,
  toLedgerSeq: seq,
  totals: { requests: 1, promptTokens: 1, completionTokens: 1 },
  byModel: {},
  tier: "smb" as const,
});
const state = (id: string) => ({ ...env(id), state: "online" as const, version: "1", tier: "smb" as const });

function outbox(maxMessages = 100) {
  const dir = tmp();
  const db = openDatabase(dir);
  const logs: string[] = [];
  return { dir, db, logs, box: new Outbox(db, { maxMessages, clock: systemClock, logger: createLogger({ write: (l) => logs.push(l) }) }) };
}

const ids = (rows: { payload: string }[]) => rows.map((r) => JSON.parse(r.payload).id);

describe("the telemetry outbox", () => {
  test("validates before writing: a payload that breaks its schema is refused and nothing is stored", () => {
    const { box } = outbox();
    let err: unknown;
    try {
      box.enqueue("usage", { ...usage("u-1", 1), prompt: "secret text" });
    } catch (e) {
      err = e;
    }
    expect(isHearthError(err) && err.code).toBe("internal");
    expect(() => box.enqueue("health", { ...health("h-1"), cpuLoadPercent: -1 })).toThrow();
    expect(box.depth().total).toBe(0);
  });

  test("keeps rows in id order with their topic, survives reopening, and removes a batch in one go", () => {
    const { box, db, dir } = outbox();
    box.enqueue("usage", usage("u-1", 1));
    box.enqueue("health", health("h-1"));
    box.enqueueMany([
      { channel: "usage", payload: usage("u-2", 2) },
      { channel: "audit", payload: { ...env("a-1"), checkpoint: { payload: checkpointPayload(), signature: "sig" } } },
    ]);
    const rows = box.after(0, 10);
    expect(ids(rows)).toEqual(["u-1", "h-1", "u-2", "a-1"]);
    expect(rows[0]!.topic).toBe("hearth/v1/acme/hd-box/usage");
    db.close();

    const reopened = new Outbox(openDatabase(dir), { maxMessages: 100, clock: systemClock, logger: createLogger({ write: () => {} }) });
    expect(reopened.depth()).toMatchObject({ total: 4, byChannel: { usage: 2, health: 1, audit: 1 } });
    reopened.remove([rows[0]!.id, rows[2]!.id, 999_999]);
    expect(ids(reopened.after(0, 10))).toEqual(["h-1", "a-1"]);
    expect(reopened.depth()).toMatchObject({ total: 2, byChannel: { usage: 0, health: 1, audit: 1 } });
    expect(reopened.hasUpTo(rows[1]!.id)).toBe(true);
    expect(reopened.hasUpTo(rows[0]!.id)).toBe(false);
  });

  test("over its bound it drops the oldest health samples, and only those", () => {
    const { box } = outbox(100);
    for (let i = 0; i < 60; i++) box.enqueue("health", health(`h-${i}`));
    for (let i = 1; i <= 60; i++) box.enqueue("usage", usage(`u-${i}`, i));
    const rows = box.after(0, 1000);
    expect(rows.length).toBe(100);
    // 20 health samples had to go: the oldest ones.
    expect(ids(rows.filter((r) => r.channel === "health"))).toEqual(Array.from({ length: 40 }, (_, i) => `h-${i + 20}`));
    expect(rows.filter((r) => r.channel === "usage").length).toBe(60);
    expect(box.depth().byChannel).toMatchObject({ health: 40, usage: 60 });
  });

  test("a newer state supersedes a waiting one", () => {
    const { box } = outbox();
    box.enqueue("state", state("s-1"));
    box.enqueue("usage", usage("u-1", 1));
    box.enqueue("state", state("s-2"));
    expect(ids(box.after(0, 10))).toEqual(["u-1", "s-2"]);
    expect(box.depth().byChannel.state).toBe(1);
  });

  test("usage and audit are never dropped: over the bound with nothing droppable, they are kept and it is logged once", () => {
    const { box, logs } = outbox(100);
    for (let i = 1; i <= 150; i++) box.enqueue("usage", usage(`u-${i}`, i));
    box.enqueue("health", health("h-late"));
    expect(box.depth().total).toBe(150);
    expect(box.depth().byChannel.health).toBe(0);
    expect(logs.filter((l) => l.includes("over its bound")).length).toBe(1);
  });
});

function checkpointPayload() {
  return {
    deviceId: "hd-box",
    devicePublicKey: "AAAA",
    ledgerSeq: 1,
    count: 1,
    headHash: "00".repeat(32),
    totals: { byKey: [], byModel: [] },
    createdAt: new Date(0).toISOString(),
  };
}
