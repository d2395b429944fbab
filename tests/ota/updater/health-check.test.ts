/**
 * A release that loads but fails its health check is rolled back automatically and reported with
 * the reason, while a steady stream of requests keeps being served (none fails):
 *   - a "mute" model (models.ts: it loads, and every completion ends before its first token),
 *     swapped in beside the old one;
 *   - a good model whose health check misses its time limit (the limit set to 1 ms), swapped in
 *     place because the memory budget holds only one model at a time.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { testModel } from "../../helpers/models.ts";
import type { TestServer } from "../../helpers/server.ts";
import { complete, otaFlags, removeTempDirs, startBox, testRepo, tmp, type TestRepo } from "./fixture.ts";
import { muteModel } from "./models.ts";

let box: TestServer | null = null;
let repo: TestRepo | null = null;
afterEach(async () => {
  await box?.stop();
  repo?.stop();
  box = repo = null;
});
afterAll(removeTempDirs);

/** Requests one after another until `stop` resolves; every outcome is kept. */
function steadyStream(server: TestServer, stop: Promise<void>) {
  const outcomes: { status: number }[] = [];
  let done = false;
  void stop.then(() => (done = true));
  const clients = Array.from({ length: 2 }, async () => {
    while (!done) outcomes.push({ status: (await complete(server)).status });
  });
  return { outcomes, finished: Promise.all(clients) };
}

async function applyUnderLoad(server: TestServer) {
  const stop = Promise.withResolvers<void>();
  const stream = steadyStream(server, stop.promise);
  await Bun.sleep(100);
  const started = await server.ota.apply();
  expect(started.state).toBe("downloading");
  const record = await server.ota.settled();
  await Bun.sleep(100);
  stop.resolve();
  await stream.finished;
  return { record, outcomes: stream.outcomes };
}

test("a model that loads but generates nothing: rolled back beside the old one, reported, none of the requests failed", async () => {
  const [factory, mute] = await Promise.all([testModel({ seed: 1 }), muteModel(tmp())]);
  repo = await testRepo();
  await repo.publish(mute, { version: "1.1.0" });
  box = await startBox(tmp(), factory, otaFlags(repo));

  const { record, outcomes } = await applyUnderLoad(box);
  expect(record).toMatchObject({ state: "rolled-back", reason: { code: "health_check_failed" }, skip: { name: "demo", version: "1.1.0" }, factory: false });
  expect(record.reason!.message).toContain("generated no token");
  expect(outcomes.length).toBeGreaterThan(0);
  expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
  expect(box.engine.model.path).toBe(factory);
  // The pointer went back (to the factory model: no OTA release before); the slot is marked failed.
  const slots = box.ota.lines.base.current();
  expect(slots).toMatchObject({ active: null, pending: false });
  expect(Object.values(slots.slots).find((s) => s?.release.version === "1.1.0")).toMatchObject({ state: "failed" });
  expect(box.logs.find((l) => l.includes("ota swapping the primary model"))).toContain('"beside":true');
  expect(box.logs.some((l) => l.includes('"ota model swapped"'))).toBe(false);

  // After a restart the factory model serves and the record still says why.
  const dataDir = box.dataDir;
  await box.stop();
  box = await startBox(dataDir, factory, otaFlags(repo));
  expect(box.engine.model.path).toBe(factory);
  expect(box.ota.status()).toMatchObject({ state: "rolled-back", reason: { code: "health_check_failed" } });
}, 60_000);

test("a health check over its time limit (1 ms): rolled back in place (budget for one model), requests waited, none failed", async () => {
  const [factory, next] = await Promise.all([testModel({ seed: 1 }), testModel({ seed: 3 })]);
  repo = await testRepo();
  await repo.publish(next, { version: "1.1.0" });
  box = await startBox(tmp(), factory, otaFlags(repo, { "ota.healthCheckTimeoutMs": 1 }), {});
  // Restarted with a budget one tiny model fits (~44 MB) and two do not.
  const dataDir = box.dataDir;
  await box.stop();
  box = await startBox(dataDir, factory, { ...otaFlags(repo, { "ota.healthCheckTimeoutMs": 1 }), "model.memoryBudgetMB": 60 });

  const { record, outcomes } = await applyUnderLoad(box);
  expect(record).toMatchObject({ state: "rolled-back", reason: { code: "health_check_failed" } });
  expect(record.reason!.message).toContain("within the 1 ms limit");
  expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
  expect(box.engine.model.path).toBe(factory);
  expect(box.models.status()).toMatchObject({ state: "ready" });
  expect(box.logs.find((l) => l.includes("ota swapping the primary model"))).toContain('"beside":false');
}, 60_000);
