/**
 * LoRA adapter releases through the real agent: installed like a base model (download, verify,
 * slot, switch, health check), applied on top of the base model serving and kept across a
 * restart; one made for another base is refused with the reason; a box whose license lacks
 * lora_adapters refuses them all.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { synthesizeLora } from "../../../runtime/model/lora/synth.ts";
import { installTestLicense, TEST_VENDOR_KEYS } from "../../helpers/licenses.ts";
import { testModel } from "../../helpers/models.ts";
import type { TestServer } from "../../helpers/server.ts";
import { complete, otaFlags, removeTempDirs, startBox, testRepo, tmp, type TestRepo } from "./fixture.ts";

let repo: TestRepo;
let factory: string;
const boxes: TestServer[] = [];
beforeAll(async () => {
  const [v1, v2] = await Promise.all([testModel({ seed: 1 }), testModel({ seed: 2 })]);
  factory = v1;
  repo = await testRepo();
  await repo.publish(v2, { version: "1.1.0" });
  const adapters = tmp();
  const legal = await synthesizeLora({ out: join(adapters, "legal.gguf"), base: v2, seed: 3 });
  await repo.publish(legal.path, { kind: "lora", name: "legal-adapter", version: "0.1.0", base: { name: "demo", versions: "~1.1.0" } });
  const old = await synthesizeLora({ out: join(adapters, "old.gguf"), base: v1, seed: 4 });
  await repo.publish(old.path, { kind: "lora", name: "old-adapter", version: "0.1.0", base: { name: "demo", versions: "~1.0.0" } });
}, 60_000);

afterAll(async () => {
  for (const b of boxes) await b.stop();
  repo?.stop();
  removeTempDirs();
});

const flags = () => ({ ...otaFlags(repo, { "ota.adapters": ["legal-adapter"] }), "license.vendorKeys": TEST_VENDOR_KEYS });

test("an adapter for the serving base installs on top of it, is health-checked, and is applied again after a restart", async () => {
  const dataDir = tmp();
  installTestLicense(dataDir, ["lora_adapters", "base_model_updates"]);
  let box = await startBox(dataDir, factory, flags());
  boxes.push(box);
  // Before its base is installed the adapter is refused: the factory model is not demo 1.1.x.
  await box.ota.apply({ release: "legal-adapter" });
  expect(await box.ota.settled()).toMatchObject({ state: "failed", reason: { code: "base_mismatch" } });

  await box.ota.apply();
  expect((await box.ota.settled()).state).toBe("committed");
  const check = await box.ota.check();
  expect(check.lastCheck).toMatchObject({ outcome: "available", release: { kind: "lora", name: "legal-adapter", version: "0.1.0" } });
  await box.ota.apply({ release: "legal-adapter" });
  expect(await box.ota.settled()).toMatchObject({ state: "committed", release: { kind: "lora", name: "legal-adapter" }, adapterBases: { "legal-adapter": { name: "demo", versions: "~1.1.0" } } });
  const applied = box.engine.model.adapters.filter((a) => a.applied);
  expect(applied).toHaveLength(1);
  expect(applied[0]!.path).toBe(box.ota.lines.lora("legal-adapter").current().active!.path);
  expect((await complete(box)).status).toBe(200);

  await box.stop();
  boxes.pop();
  box = await startBox(dataDir, factory, flags());
  boxes.push(box);
  expect(box.engine.model.adapters.filter((a) => a.applied).map((a) => a.path)).toEqual([applied[0]!.path]);

  // An adapter made for demo 1.0.x is refused on 1.1.0, with the reason.
  await box.ota.apply({ release: "old-adapter" });
  const refused = await box.ota.settled();
  expect(refused).toMatchObject({ state: "failed", reason: { code: "base_mismatch" } });
  expect(refused.reason!.message).toContain("applies to demo ~1.0.0; the active base model is version 1.1.0");
  expect(box.engine.model.adapters.filter((a) => a.applied)).toHaveLength(1);

  // Rolling the adapter back takes it off (it had no previous release).
  await box.ota.rollback({ adapter: "legal-adapter" });
  expect(box.engine.model.adapters.filter((a) => a.applied)).toHaveLength(0);
  expect(box.ota.status().adapterBases).toEqual({});
}, 90_000);

test("without the lora_adapters entitlement an adapter release is refused", async () => {
  const dataDir = tmp();
  installTestLicense(dataDir, ["base_model_updates"], "lic-no-lora");
  const box = await startBox(dataDir, factory, flags());
  boxes.push(box);
  await box.ota.apply();
  expect((await box.ota.settled()).state).toBe("committed");
  await box.ota.apply({ release: "legal-adapter" });
  expect(await box.ota.settled()).toMatchObject({ state: "failed", reason: { code: "entitlement_required" } });
  expect(box.engine.model.adapters).toEqual([]);
}, 60_000);
