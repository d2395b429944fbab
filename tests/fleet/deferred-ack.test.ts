/**
 * The collector acknowledges a message only after it is stored, without reading the broker's
 * messages one at a time (runtime/fleet/collector/deferred-ack.ts relies on mqtt.js internals:
 * these tests catch a change in them).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startBroker, type TestBroker } from "../helpers/mosquitto.ts";
import { openSqliteStore } from "../../runtime/fleet/collector/sqlite-store.ts";
import type { FleetStore } from "../../runtime/fleet/collector/store.ts";
import { connectDevice, usage, waitFor } from "./fixtures.ts";
import { collector, countOf, tempDir, removeTempDirs, sharedSubscriptions } from "./helpers.ts";

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
  removeTempDirs();
});

/** A store whose writes wait for `open()` or fail while `failing` is set. */
function gatedStore(inner: FleetStore) {
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  const state = { failing: false, writesStarted: 0 };
  const store: FleetStore = {
    ...inner,
    async write(plan) {
      state.writesStarted++;
      await gate;
      if (state.failing) throw new Error("database unavailable");
      return await inner.write(plan);
    },
    all: (sql, params) => inner.all(sql, params),
    close: () => inner.close(),
  };
  return { store, state, open: () => release(), shut: () => (gate = new Promise<void>((r) => (release = r))) };
}

test("messages keep arriving while a transaction is open, and go into the next one together", async () => {
  const g = gatedStore(openSqliteStore(join(tempDir(), "fleet.db"), { create: true }));
  const c = await collector(broker.url, { store: g.store });
  const dev = await connectDevice(broker.url, "box-flow");
  await dev.send("usage", usage("box-flow", 1));
  await waitFor("the first write started", () => g.state.writesStarted === 1);
  for (let seq = 2; seq <= 200; seq++) void dev.send("usage", usage("box-flow", seq));
  // All of them are delivered while the first write is still held: nothing waits for an ack.
  await waitFor("199 more delivered", () => c.stats.received === 200);
  g.open();
  await waitFor("all stored", async () => (await countOf(c.store, "fleet_usage")) === 200);
  expect(c.stats.batches).toBeLessThanOrEqual(3);
  await dev.endAsync();
  await c.close();
}, 20_000);

test("a message whose write failed is not acknowledged: the broker delivers it again", async () => {
  const dir = tempDir();
  const share = sharedSubscriptions ? "redeliver" : null;
  const clientId = "collector-redeliver";
  const g = gatedStore(openSqliteStore(join(dir, "a.db"), { create: true }));
  g.state.failing = true;
  g.open();
  const c = await collector(broker.url, { clientId, share, store: g.store });
  const dev = await connectDevice(broker.url, "box-retry");
  for (const seq of [1, 2, 3]) await dev.send("usage", usage("box-retry", seq));
  await waitFor("delivered and failing", () => c.stats.received === 3 && c.stats.writeErrors >= 2);
  await c.close({ keepSession: true });
  const failed = openSqliteStore(join(dir, "a.db"), { create: false });
  expect(await countOf(failed, "fleet_usage")).toBe(0);
  await failed.close();

  // The same session with a working store: the three come again and are stored.
  const again = await collector(broker.url, { clientId, share, store: openSqliteStore(join(dir, "b.db"), { create: true }) });
  await waitFor("redelivered and stored", async () => (await countOf(again.store, "fleet_usage")) === 3);
  await dev.endAsync();
  await again.close();
}, 20_000);
