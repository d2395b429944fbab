/** Several collectors behind one broker, sharing one PostgreSQL: the load splits, each message is stored once. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { requireMosquitto, startBroker, type TestBroker } from "../helpers/mosquitto.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { openPostgresStore } from "../../runtime/fleet/collector/postgres-store.ts";
import { connectDevice, usage, waitFor } from "./fixtures.ts";
import { collector, countOf, removeTempDirs } from "./helpers.ts";

let broker: TestBroker;
let pg: TestPostgres;
beforeAll(async () => {
  [broker, pg] = await Promise.all([startBroker(), startPostgres()]);
});
afterAll(async () => {
  await Promise.all([broker?.stop(), pg?.stop()]);
  removeTempDirs();
});

test("two collectors on one shared subscription split the load and store everything once, redeliveries included", async () => {
  requireMosquitto(broker, "MQTT 5 shared subscriptions");
  const url = await pg.createDatabase();
  const share = "pg-pair";
  const join = async (clientId: string) => collector(broker.url, { clientId, share, store: await openPostgresStore(url, { create: true }) });
  const [a, b] = await Promise.all([join("collector-a"), join("collector-b")]);
  const devices = await Promise.all([1, 2, 3, 4, 5].map((i) => connectDevice(broker.url, `box-${i}`)));
  const messages = devices.map((_, i) => Array.from({ length: 80 }, (_, s) => usage(`box-${i + 1}`, s + 1)));
  await Promise.all(devices.map((d, i) => Promise.all(messages[i]!.map((m) => d.send("usage", m)))));
  await waitFor("400 stored", async () => (await countOf(a.store, "fleet_usage")) === 400);
  expect(a.stats.stored).toBeGreaterThan(0);
  expect(b.stats.stored).toBeGreaterThan(0);
  expect(a.stats.stored + b.stats.stored).toBe(400);

  // Every message again, same ids: both collectors see some of them, nothing is stored twice.
  await Promise.all(devices.map((d, i) => Promise.all(messages[i]!.map((m) => d.send("usage", m)))));
  await waitFor("400 duplicates seen", () => a.stats.duplicates + b.stats.duplicates === 400);
  expect(a.stats.duplicates).toBeGreaterThan(0);
  expect(b.stats.duplicates).toBeGreaterThan(0);
  expect(await countOf(a.store, "fleet_usage")).toBe(400);
  const perDevice = await a.store.all<{ device_id: string; n: unknown; seqs: unknown }>("SELECT device_id, COUNT(*) AS n, COUNT(DISTINCT seq) AS seqs FROM fleet_usage GROUP BY device_id ORDER BY device_id");
  expect(perDevice.map((r) => [r.device_id, Number(r.n), Number(r.seqs)])).toEqual([1, 2, 3, 4, 5].map((i) => [`box-${i}`, 80, 80]));

  // A collector that stops keeps its share waiting in its session; back, it stores it.
  await b.stop();
  await Promise.all(devices.map((d, i) => d.send("usage", usage(`box-${i + 1}`, 81))));
  await Bun.sleep(300);
  const bBack = await collector(broker.url, { clientId: "collector-b", share, store: await openPostgresStore(url, { create: true }) });
  await waitFor("405 stored", async () => (await countOf(a.store, "fleet_usage")) === 405);

  // A collector that retires hands its share back: afterwards the other one gets everything.
  await bBack.retire({ idleMs: 300 });
  const before = a.stats.received;
  await Promise.all(devices.map((d, i) => d.send("usage", usage(`box-${i + 1}`, 82))));
  await waitFor("410 stored", async () => (await countOf(a.store, "fleet_usage")) === 410);
  expect(a.stats.received - before).toBe(5);

  await Promise.all(devices.map((d) => d.endAsync()));
  await Promise.all([a.close(), b.store.close(), bBack.store.close()]);
}, 60_000);
