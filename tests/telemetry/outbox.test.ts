import { afterAll, describe, expect, test } from "bun:test";
import { openDatabase } from "../../runtime/store/db.ts";
import { createLogger } from "../../runtime/log.ts";
import { systemClock, type Clock } from "../../runtime/clock.ts";
import { MAX_RESEND_MS, Outbox } from "../../runtime/telemetry/outbox.ts";
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

function outbox(maxMessages = 100, o: { clock?: Clock; receipts?: { timeoutMs: number } } = {}) {
  const dir = tmp();
  const db = openDatabase(dir);
  const logs: string[] = [];
  const box = new Outbox(db, { maxMessages, clock: o.clock ?? systemClock, logger: createLogger({ write: (l) => logs.push(l) }), receipts: o.receipts });
  return { dir, db, logs, box };
}

/** A clock the test moves. */
function clockAt(start: number): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, monotonic: () => now, advance: (ms) => void (now += ms) };
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
    reopened.acknowledged([rows[0]!.id, rows[2]!.id, 999_999]);
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

describe("the outbox with receipts on", () => {
  const TIMEOUT = 1_000;

  test("a PUBACK removes health and acks, but keeps usage and audit until a receipt names them", () => {
    const clock = clockAt(1_000_000);
    const { box } = outbox(100, { clock, receipts: { timeoutMs: TIMEOUT } });
    box.enqueueMany([
      { channel: "usage", payload: usage("u-1", 1) },
      { channel: "health", payload: health("h-1") },
      { channel: "audit", payload: { ...env("a-1"), checkpoint: { payload: checkpointPayload(), signature: "sig" } } },
      { channel: "usage", payload: usage("u-2", 2) },
    ]);
    const rows = box.after(0, 10);
    box.acknowledged(rows.map((r) => r.id));
    expect(ids(box.after(0, 10))).toEqual(["u-1", "a-1", "u-2"]);
    expect(box.awaitingReceipt()).toBe(3);
    expect(box.hasUpTo(rows[3]!.id)).toBe(true);

    // A receipt removes usage and audit by message id; it cannot remove anything else, nor twice.
    expect(box.receipted(["u-1", "a-1", "h-1", "nope"])).toBe(2);
    expect(box.receipted(["u-1"])).toBe(0);
    expect(ids(box.after(0, 10))).toEqual(["u-2"]);
    expect(box.depth()).toMatchObject({ total: 1, byChannel: { usage: 1, audit: 0, health: 0 } });
    expect(box.receipted(["u-2"])).toBe(1);
    expect(box.hasUpTo(rows[3]!.id)).toBe(false);
  });

  test("a message without a receipt is due again after the timeout, doubling per resend, up to six hours", () => {
    const clock = clockAt(1_000_000);
    const { box } = outbox(100, { clock, receipts: { timeoutMs: TIMEOUT } });
    const id = box.enqueue("usage", usage("u-1", 1));
    expect(box.nextResendInMs(id)).toBeNull(); // not sent yet: nothing to resend
    const waits: number[] = [];
    for (let send = 0; send < 16; send++) {
      box.acknowledged([id]);
      const wait = box.nextResendInMs(id)!;
      waits.push(wait);
      clock.advance(wait - 1);
      expect(box.takeDue(id, 10)).toEqual([]);
      clock.advance(1);
      expect(ids(box.takeDue(id, 10))).toEqual(["u-1"]);
      // Taken for a resend, it waits for a PUBACK again: not due twice.
      expect(box.takeDue(id, 10)).toEqual([]);
      expect(box.nextResendInMs(id)).toBeNull();
    }
    expect(waits.slice(0, 5)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
    expect(Math.max(...waits)).toBe(MAX_RESEND_MS);
    expect(waits.at(-1)).toBe(MAX_RESEND_MS);
  });

  test("resends are taken in id order, only up to the row given, and survive reopening", () => {
    const clock = clockAt(5_000_000);
    const { box, db, dir } = outbox(100, { clock, receipts: { timeoutMs: TIMEOUT } });
    for (let i = 1; i <= 5; i++) box.enqueue("usage", usage(`u-${i}`, i));
    const rows = box.after(0, 10);
    box.acknowledged(rows.map((r) => r.id).reverse());
    db.close();
    const reopened = new Outbox(openDatabase(dir), { maxMessages: 100, clock, logger: createLogger({ write: () => {} }), receipts: { timeoutMs: TIMEOUT } });
    expect(reopened.awaitingReceipt()).toBe(5);
    clock.advance(TIMEOUT);
    expect(ids(reopened.takeDue(rows[2]!.id, 10))).toEqual(["u-1", "u-2", "u-3"]);
    expect(ids(reopened.takeDue(rows[4]!.id, 1))).toEqual(["u-4"]);
    expect(reopened.awaitingReceipt()).toBe(1);
  });

  test("with receipts off a PUBACK removes usage too", () => {
    const { box } = outbox();
    const id = box.enqueue("usage", usage("u-1", 1));
    box.acknowledged([id]);
    expect(box.depth().total).toBe(0);
    expect(box.awaitingReceipt()).toBe(0);
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
