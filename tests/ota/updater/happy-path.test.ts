/**
 * An update end to end on a real server: a fleet admin publishes demo 1.1.0 (keygen, root init
 * and publish as `hearth fleet` child processes, served by `hearth fleet serve-repo`); the box
 * checks, installs it through `hearth ota apply` (the CLI calling the running box), serves it,
 * survives a restart on it, and `hearth ota rollback` brings the factory model back.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, hearth } from "../../helpers/cli.ts";
import { testModel } from "../../helpers/models.ts";
import type { TestServer } from "../../helpers/server.ts";
import { complete, removeTempDirs, startBox, tmp } from "./fixture.ts";

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
let serveRepo: Bun.Subprocess<"ignore", "pipe", "pipe"> | null = null;
let box: TestServer | null = null;
afterAll(async () => {
  await box?.stop();
  serveRepo?.kill();
  removeTempDirs();
});

async function ok(args: string[]): Promise<any> {
  const r = await hearth([...args, "--json"]);
  if (r.code !== 0) throw new Error(`hearth ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function startServeRepo(repo: string): Promise<string> {
  serveRepo = Bun.spawn([process.execPath, CLI, "fleet", "serve-repo", repo, "--port", "0"], { stdout: "pipe", stderr: "pipe" });
  const reader = serveRepo.stdout.getReader();
  let out = "";
  while (!/at (http:\/\/\S+)\//.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve-repo exited: ${out}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return /at (http:\/\/\S+)\//.exec(out)![1]!;
}

let fleet: { repo: string; url: string; pinned: unknown; v1: string; v2: string };

beforeAll(async () => {
  const dir = tmp();
  const [v1, v2] = await Promise.all([testModel({ seed: 1 }), testModel({ seed: 2 })]);
  await ok(["fleet", "keygen", "--out", join(dir, "k1")]);
  const { root } = await ok(["fleet", "root", "init", "--keys", join(dir, "k1"), "--threshold", "1", "--repo", join(dir, "repo")]);
  const pinned = root.roles.root.keyIds.map((keyId: string) => ({ keyId, publicKey: root.keys[keyId].publicKey }));
  await ok(["fleet", "publish", v2, "--name", "demo", "--version", "1.1.0", "--channel", "stable", "--key", join(dir, "k1"), "--repo", join(dir, "repo")]);
  fleet = { repo: join(dir, "repo"), url: await startServeRepo(join(dir, "repo")), pinned, v1, v2 };
}, 60_000);

test("check → apply (hearth ota apply) → serves 1.1.0, committed, pointer updated; restart keeps it; rollback → factory model", async () => {
  const dataDir = tmp();
  const flags = { "ota.repo": fleet.url, "ota.releaseKeys": fleet.pinned, "ota.channel": "stable", "ota.checkIntervalMinutes": 0, "ota.diskMarginMB": 0 };
  box = await startBox(dataDir, fleet.v1, flags);
  expect(box.engine.model.path).toBe(fleet.v1);

  const checked = await box.ota.check();
  expect(checked.lastCheck).toMatchObject({ outcome: "available", release: { name: "demo", version: "1.1.0" } });
  expect(checked.state).toBe("idle");

  const applied = await hearth(["ota", "apply", "--data-dir", dataDir, "--json"]);
  expect(applied.stderr).toBe("");
  expect(applied.code).toBe(0);
  const view = JSON.parse(applied.stdout);
  expect(view).toMatchObject({ state: "committed", current: "demo 1.1.0", record: { reason: null, release: { name: "demo", version: "1.1.0", quantization: "F16", sha256: sha(fleet.v2) } } });

  const active = box.ota.lines.base.current().active!;
  expect(active).toMatchObject({ state: "committed", release: { version: "1.1.0", sha256: sha(fleet.v2) } });
  expect(box.engine.model.path).toBe(active.path);
  expect(sha(box.engine.model.path)).toBe(sha(fleet.v2));
  const answer = await complete(box);
  expect(answer.status).toBe(200);

  // The update is on disk: a restart serves it again, no download.
  await box.stop();
  box = await startBox(dataDir, fleet.v1, flags);
  expect(box.engine.model.path).toBe(active.path);
  const status = await hearth(["ota", "status", "--data-dir", dataDir, "--json"]);
  expect(JSON.parse(status.stdout)).toMatchObject({ running: true, state: "committed", current: "demo 1.1.0", installed: { base: { name: "demo", version: "1.1.0" } } });

  const rolled = await hearth(["ota", "rollback", "--data-dir", dataDir, "--json"]);
  expect(rolled.code).toBe(0);
  expect(JSON.parse(rolled.stdout)).toMatchObject({ state: "rolled-back", current: expect.stringContaining("factory model"), record: { factory: true, reason: { code: "manual" } } });
  expect(box.engine.model.path).toBe(fleet.v1);
  expect((await complete(box)).status).toBe(200);

  // A periodic check would not reinstall what was rolled back from; an explicit apply does.
  expect(box.ota.status().skip).toEqual({ name: "demo", version: "1.1.0" });
  await box.ota.apply();
  expect((await box.ota.settled()).state).toBe("committed");
  expect(sha(box.engine.model.path)).toBe(sha(fleet.v2));

  await box.stop();
  box = null;
  // With no box running, status reads the data dir; check says there is no box to ask.
  const offline = JSON.parse((await hearth(["ota", "status", "--data-dir", dataDir, "--json"])).stdout);
  expect(offline).toMatchObject({ running: false, state: "committed", lines: [{ line: "base", active: "demo 1.1.0", pending: false }] });
  const noBox = await hearth(["ota", "check", "--data-dir", dataDir]);
  expect(noBox.code).toBe(1);
  expect(noBox.stderr).toContain("no box is running");
}, 120_000);
