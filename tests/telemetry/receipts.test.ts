/**
 * Delivery receipts on the box's side, over a real broker: a usage message stays in the outbox
 * after its PUBACK until a receipt names it; without one it goes again after the timeout, each
 * wait twice the last (the resend timer runs on timers the test fires, the outbox on a clock the
 * test moves), and again on every reconnect. Receipts naming another box, or not receipts at all,
 * change nothing. With the real collector, the outbox empties by itself.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import type { Clock } from "../../runtime/clock.ts";
import { systemClock } from "../../runtime/clock.ts";
import { silentLogger } from "../../runtime/log.ts";
import { openDatabase, type Db } from "../../runtime/store/db.ts";
import { BrokerLink } from "../../runtime/telemetry/broker-link.ts";
import { OutboxDrain } from "../../runtime/telemetry/drain.ts";
import { Outbox } from "../../runtime/telemetry/outbox.ts";
import { ReceiptIntake } from "../../runtime/telemetry/receipt-intake.ts";
import { systemTimers } from "../../runtime/telemetry/timers.ts";
import { deviceTopic } from "../../runtime/telemetry/topics.ts";
import { startBroker, type TestBroker } from "../helpers/mosquitto.ts";
import { collector } from "../fleet/helpers.ts";
import { startProxy } from "./proxy.ts";
import { manualTimers, removeTempDirs, subscribe, testBox, tmp, usageMessage, waitFor, type Subscriber, type TestBox } from "./helpers.ts";

const FLEET = "default";
const TIMEOUT_MS = 10_000;
let broker: TestBroker;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
beforeAll(async () => {
  broker = await startBroker();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await broker.stop();
  removeTempDirs();
});

/** The box's outbox, drain and link as Telemetry wires them, with the drain's timers and the outbox's clock in the test's hands. */
async function rig(device: string) {
  let now = 1_000_000;
  const clock: Clock = { now: () => now, monotonic: () => now };
  const timers = manualTimers();
  const db: Db = openDatabase(tmp());
  const outbox = new Outbox(db, { maxMessages: 1000, clock, logger: silentLogger, receipts: { timeoutMs: TIMEOUT_MS } });
  const drain = new OutboxDrain(outbox, silentLogger, timers);
  const intake = new ReceiptIntake({ fleet: FLEET, device, receipted: (ids) => drain.receipted(ids), logger: silentLogger });
  const proxy = await startProxy(broker.url);
  const link = new BrokerLink({
    url: proxy.url,
    clientId: device,
    auth: {},
    subscriptions: () => [intake.topic],
    will: () => null,
    onUp: (session) => drain.attach(session),
    onDown: () => drain.detach(),
    onMessage: (_topic, payload) => intake.receive(payload),
    clock: systemClock,
    timers: systemTimers,
    random: () => 0,
    logger: silentLogger,
    backoff: { minMs: 20, maxMs: 100 },
  });
  const sub = await subscribe(broker.url, { protocolVersion: broker.protocolVersion, topic: deviceTopic(FLEET, device, "usage") });
  cleanups.push(async () => {
    await link.stop(null);
    drain.detach();
    await sub.end();
    await proxy.close();
    db.close();
  });
  link.start();
  await waitFor(() => link.status().connected, "the connection");
  await Bun.sleep(100); // the SUBACK of the receipt topic
  const receipt = async (body: unknown) => {
    await sub.client.publishAsync(deviceTopic(FLEET, device, "receipt"), typeof body === "string" ? body : JSON.stringify(body), { qos: 1 });
  };
  return { outbox, drain, intake, timers, proxy, sub, receipt, advance: (ms: number) => void (now += ms) };
}

const usage = (device: string, seq: number) => ({
  v: 1 as const,
  id: `u-${seq}`,
  device,
  fleet: FLEET,
  ts: new Date().toISOString(),
  seq,
  fromLedgerSeq: seq - 1,
  toLedgerSeq: seq,
  totals: { requests: 1, promptTokens: 3, completionTokens: 5 },
  byModel: {},
  tier: "smb" as const,
});
const deliveries = (sub: Subscriber, id: string) => sub.on("usage").filter((m) => m.id === id).length;

test("no receipt: the message stays after its PUBACK and goes again after the timeout, each wait twice the last", async () => {
  const device = `hd-resend${process.pid}`;
  const r = await rig(device);
  r.outbox.enqueue("usage", usage(device, 1));
  r.drain.kick();
  await waitFor(() => r.outbox.awaitingReceipt() === 1, "the PUBACK");
  expect(deliveries(r.sub, "u-1")).toBe(1);

  const waits: number[] = [];
  for (let resend = 1; resend <= 4; resend++) {
    await waitFor(() => r.timers.pending.length === 1, `resend ${resend} to be scheduled`);
    waits.push(r.timers.pending[0]!.ms);
    r.advance(r.timers.pending[0]!.ms);
    r.timers.fireNext();
    await waitFor(() => deliveries(r.sub, "u-1") === resend + 1 && r.outbox.awaitingReceipt() === 1, `resend ${resend}`);
  }
  expect(waits).toEqual([TIMEOUT_MS, 2 * TIMEOUT_MS, 4 * TIMEOUT_MS, 8 * TIMEOUT_MS]);
  expect(r.outbox.depth().total).toBe(1);

  await r.receipt({ v: 1, device, fleet: FLEET, ts: new Date().toISOString(), ids: ["u-1"] });
  await waitFor(() => r.outbox.depth().total === 0, "the receipt to empty the outbox");
  expect(r.intake.stats).toEqual({ received: 1, removed: 1, refused: 0 });
  // The timer armed before the receipt finds nothing to send, and arms no other.
  r.advance(r.timers.pending[0]!.ms);
  r.timers.fireNext();
  await Bun.sleep(200);
  expect(deliveries(r.sub, "u-1")).toBe(5);
  expect(r.timers.pending.length).toBe(0);
}, 20_000);

test("every reconnect sends again all that waits for a receipt, in order", async () => {
  const device = `hd-reconnect${process.pid}`;
  const r = await rig(device);
  r.outbox.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ channel: "usage" as const, payload: usage(device, i + 1) })));
  r.drain.kick();
  await waitFor(() => r.outbox.awaitingReceipt() === 50, "50 PUBACKs");
  const before = r.sub.messages.length;
  r.proxy.cut();
  await waitFor(() => r.sub.messages.length >= before + 50, "all 50 again after the reconnect");
  expect(r.sub.on("usage").slice(before).map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  expect(r.outbox.depth().total).toBe(50);
}, 20_000);

test("receipts for another box, malformed ones and ids it does not hold change nothing; a valid one releases what it names", async () => {
  const device = `hd-forged${process.pid}`;
  const r = await rig(device);
  r.outbox.enqueueMany([1, 2, 3].map((seq) => ({ channel: "usage" as const, payload: usage(device, seq) })));
  r.drain.kick();
  await waitFor(() => r.outbox.awaitingReceipt() === 3, "3 PUBACKs");
  const ts = new Date().toISOString();
  await r.receipt({ v: 1, device: "hd-someone-else", fleet: FLEET, ts, ids: ["u-1"] });
  await r.receipt({ v: 1, device, fleet: FLEET, ts, ids: [] });
  await r.receipt({ v: 2, device, fleet: FLEET, ts, ids: ["u-1"] });
  await r.receipt("not json");
  await r.receipt({ v: 1, device, fleet: FLEET, ts, ids: ["u-9"] });
  await waitFor(() => r.intake.stats.refused === 4 && r.intake.stats.received === 1, "five receipts handled");
  expect(r.outbox.depth().total).toBe(3);
  await r.receipt({ v: 1, device, fleet: FLEET, ts, ids: ["u-1", "u-3"] });
  await waitFor(() => r.outbox.depth().total === 1, "two released");
  expect(JSON.parse(r.outbox.after(0, 10)[0]!.payload).id).toBe("u-2");
}, 20_000);

test("with the real collector the box's usage is stored and receipted, and its outbox empties; health leaves at the PUBACK", async () => {
  const c = await collector(broker.url);
  cleanups.push(() => c.close());
  let samples = 0;
  const box = testBox({
    config: { broker: broker.url },
    deps: {
      backoff: { minMs: 50, maxMs: 200 },
      health: { sample: async () => ({ uptimeSeconds: ++samples, cpuLoadPercent: 1, memory: { totalMB: 1, usedMB: 1 }, temperaturesC: [], disk: { totalMB: 1, usedMB: 1 }, throttled: false }) },
    },
  });
  cleanups.push(async () => {
    await box.telemetry.stop();
    box.db.close();
  });
  box.telemetry.start();
  await waitFor(() => box.telemetry.status().connected, "the connection");
  box.telemetry.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ channel: "usage" as const, payload: usageMessage(box, i + 1) })));
  const flushed = await box.telemetry.flush({ timeoutMs: 15_000 });
  expect(flushed).toMatchObject({ delivered: true, pending: 0 });
  expect(box.telemetry.status().receipts).toMatchObject({ removed: 200, refused: 0, awaiting: 0 });
  expect(c.stats.receipts).toBeGreaterThan(0);
  const stored = await c.store.all<{ n: number }>("SELECT COUNT(*) AS n FROM fleet_usage WHERE device_id = ?", [box.deviceId]);
  expect(Number(stored[0]!.n)).toBe(200);
  expect(samples).toBeGreaterThan(0);
  await waitFor(() => box.telemetry.status().outbox.byChannel.health === 0, "health gone at its PUBACK");
}, 30_000);

test("messages the broker acknowledged but never delivered (no collector subscribed yet) reach the collector after a reconnect; without receipts they are lost", async () => {
  const proxy = await startProxy(broker.url);
  cleanups.push(() => proxy.close());
  const boxes = [true, false].map((receipts) => {
    const b = testBox({ config: { broker: proxy.url, receipts }, deps: { backoff: { minMs: 20, maxMs: 100 } } });
    cleanups.push(async () => {
      await b.telemetry.stop();
      b.db.close();
    });
    return b;
  });
  for (const b of boxes) {
    b.telemetry.start();
    await waitFor(() => b.telemetry.status().connected, "the connection");
    b.telemetry.enqueueMany(Array.from({ length: 100 }, (_, i) => ({ channel: "usage" as const, payload: usageMessage(b, i + 1) })));
  }
  // Every PUBACK comes; nobody subscribes to usage yet, so the broker drops every message.
  const [kept, released] = boxes as [TestBox, TestBox];
  await waitFor(() => kept.telemetry.status().receipts?.awaiting === 100, "100 PUBACKs, kept for their receipts");
  await waitFor(() => released.telemetry.status().outbox.total === 0, "100 PUBACKs, released");

  const c = await collector(broker.url);
  cleanups.push(() => c.close());
  proxy.cut(); // both boxes reconnect
  await waitFor(() => kept.telemetry.status().outbox.total === 0, "the kept messages resent, stored and receipted", 15_000);
  const stored = async (b: TestBox) => Number((await c.store.all<{ n: number }>("SELECT COUNT(*) AS n FROM fleet_usage WHERE device_id = ?", [b.deviceId]))[0]!.n);
  expect(await stored(kept)).toBe(100);
  await waitFor(() => released.telemetry.status().connected, "the other box back");
  await Bun.sleep(300);
  expect(await stored(released)).toBe(0);
}, 30_000);

test("config: with telemetry.receipts off a PUBACK releases usage, and there is nothing to receipt", async () => {
  const box = testBox({ config: { broker: broker.url, receipts: false } });
  cleanups.push(async () => {
    await box.telemetry.stop();
    box.db.close();
  });
  box.telemetry.start();
  await waitFor(() => box.telemetry.status().connected, "the connection");
  box.telemetry.enqueue("usage", usageMessage(box, 1));
  expect(await box.telemetry.flush()).toMatchObject({ delivered: true, pending: 0 });
  expect(box.telemetry.status().receipts).toBeNull();
});
