/**
 * A data dir damaged under the agent never keeps the box from serving: a slot pointer that does
 * not parse is set aside (the factory model serves, the error is logged), and an installed slot
 * file that lost bytes is not served (the factory model is, until an update replaces it).
 */
import { afterAll, expect, test } from "bun:test";
import { readdirSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanUp, complete, keep, otaFlags, releaseOnRepo, startBox, tmp, type TestRepo } from "./fixture.ts";

afterAll(cleanUp);

async function installed(): Promise<{ dataDir: string; factory: string; slotFile: string; repo: TestRepo }> {
  const { factory, repo } = await releaseOnRepo();
  const dataDir = tmp();
  const box = keep(await startBox(dataDir, factory, otaFlags(repo)));
  await box.ota.apply();
  expect((await box.ota.settled()).state).toBe("committed");
  const slotFile = box.engine.model.path;
  await box.stop();
  return { dataDir, factory, slotFile, repo };
}

test("a corrupt slot pointer: set aside and logged, the factory model serves", async () => {
  const { dataDir, factory, repo } = await installed();
  writeFileSync(join(dataDir, "ota", "base", "current"), "{ not json");
  const box = keep(await startBox(dataDir, factory, otaFlags(repo)));
  expect(box.engine.model.path).toBe(factory);
  expect((await complete(box)).status).toBe(200);
  expect(box.logs.some((l) => l.includes("the slot pointer is corrupt"))).toBe(true);
  expect(readdirSync(join(dataDir, "ota", "base")).some((f) => f.startsWith("current.corrupt-"))).toBe(true);
}, 60_000);

test("an installed file that lost bytes is not served: the factory model is", async () => {
  const { dataDir, factory, slotFile, repo } = await installed();
  truncateSync(slotFile, 1000);
  const box = keep(await startBox(dataDir, factory, otaFlags(repo)));
  expect(box.engine.model.path).toBe(factory);
  expect((await complete(box)).status).toBe(200);
}, 60_000);
