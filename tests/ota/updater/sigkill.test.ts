/**
 * SIGKILL at 31 points of one update, on a real `hearth serve` child process and real files:
 * 20 byte offsets spread over the download (killed from outside as the part file grows past each),
 * then every named step of the install (HEARTH_OTA_PAUSE_AT stops the install there while the box
 * serves; the test kills it). After each restart, and at each named point, the box serves a model
 * whose hash verified (the factory file or a slot's verified release), never a partial file; each
 * resumed download asks for exactly the bytes it does not have. In the end 1.1.0 is committed.
 */
import { afterAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { systemClock } from "../../../runtime/clock.ts";
import { AdminTokenStore } from "../../../runtime/admin/tokens.ts";
import { openDatabase } from "../../../runtime/store/db.ts";
import { PAUSED_AT_FILE } from "../../../ota/agent/pause-hook.ts";
import { BUSY_STATES, type OtaState } from "../../../ota/agent/state.ts";
import { spawnServe } from "../../helpers/cli.ts";
import { testModel } from "../../helpers/models.ts";
import { removeTempDirs, testRepo, tmp, type TestRepo } from "./fixture.ts";

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
let repo: TestRepo | null = null;
let child: Awaited<ReturnType<typeof spawnServe>> | null = null;
afterAll(() => {
  child?.proc.kill("SIGKILL");
  repo?.stop();
  removeTempDirs();
});

async function until<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

test("SIGKILL at 31 points across download, verify, stage, switch and health check: always a verified model, resumes, commits", async () => {
  const [factory, release] = await Promise.all([testModel({ seed: 1 }), testModel({ seed: 2 })]);
  repo = await testRepo();
  const published = await repo.publish(release, { version: "1.1.0" });
  const file = published.manifest.files[0]!;
  repo.throttle = { bytesPer10ms: 8 * 1024 }; // ~0.8 MB/s: a kill lands mid-file
  const verified = new Set([sha(factory), file.sha256]);

  const dataDir = tmp();
  const db = openDatabase(dataDir);
  const token = new AdminTokenStore(db, systemClock).create("sigkill test").token;
  db.close();
  const env = {
    NODE_ENV: "test",
    HEARTH_OTA_REPO: repo.url,
    HEARTH_OTA_RELEASE_KEYS: JSON.stringify(repo.pinned),
    HEARTH_OTA_CHANNEL: "stable",
    HEARTH_OTA_CHECK_INTERVAL_MINUTES: "0",
    HEARTH_OTA_DISK_MARGIN_MB: "0",
  };
  const part = join(dataDir, "ota", "base", "staging", `${file.name}.part`);
  const partSize = () => (existsSync(part) ? statSync(part).size : 0);
  const admin = async (method: string, path: string) => {
    const res = await fetch(`${child!.url}/admin/api${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: method === "POST" ? "{}" : undefined });
    return (await res.json()) as { state: string; record: { reason: { code: string } | null } };
  };
  /** The model the box serves now: a whole file whose hash verified. */
  const checkServed = async (): Promise<string> => {
    const ready = (await (await fetch(`${child!.url}/readyz`)).json()) as { models: { path: string }[] };
    const path = ready.models[0]!.path;
    expect(path.endsWith(".part") || path.includes("/staging/")).toBe(false);
    expect(verified.has(sha(path))).toBe(true);
    return path;
  };
  let kills = 0;
  const kill = async () => {
    child!.proc.kill("SIGKILL");
    await child!.proc.exited;
    child = null;
    kills++;
  };
  /** Starts the box (optionally pausing at a point); starts the update unless the box resumes one by itself. */
  const start = async (pauseAt?: string) => {
    rmSync(join(dataDir, "ota", PAUSED_AT_FILE), { force: true });
    const resumeAt = partSize();
    const asked = repo!.requests.length;
    child = await spawnServe(["--model", factory, "--data-dir", dataDir, "--context-size", "256"], pauseAt ? { ...env, HEARTH_OTA_PAUSE_AT: pauseAt } : env);
    await checkServed();
    const { state } = await admin("GET", "/updates");
    if (!BUSY_STATES.has(state as OtaState)) expect(BUSY_STATES.has((await admin("POST", "/updates/apply")).state as OtaState)).toBe(true);
    return { resumeAt, asked };
  };
  /** The first request for the release file after `asked` asked for the bytes from `resumeAt` on. */
  const expectResumedAt = async (asked: number, resumeAt: number) => {
    const first = await until("the release file request", () => repo!.requests.slice(asked).find((r) => r.path.startsWith("/files/")));
    expect(first.range).toBe(resumeAt === 0 ? null : `bytes=${resumeAt}-${file.size - 1}`);
  };

  // 1. Before a byte is fetched.
  await start("download-start");
  await until("download-start", () => existsSync(join(dataDir, "ota", PAUSED_AT_FILE)));
  await kill();

  // 2. Twenty byte offsets across the download.
  for (let i = 1; i <= 20; i++) {
    const offset = Math.floor((file.size * i) / 21);
    const { resumeAt, asked } = await start();
    await until(`${offset} bytes`, () => partSize() >= offset);
    await kill();
    await expectResumedAt(asked, resumeAt);
    expect(partSize()).toBeGreaterThanOrEqual(offset);
  }

  // 3. Every named step; after a pending switch was rolled back, the release downloads again.
  const named = ["downloaded", "verifying", "verified", "staged", "switching", "switched", "loaded", "health-check", "healthy", "pointer-committed"];
  for (const point of named) {
    await start(point);
    await until(point, () => existsSync(join(dataDir, "ota", PAUSED_AT_FILE)) && readFileSync(join(dataDir, "ota", PAUSED_AT_FILE), "utf8") === point, 30_000);
    const served = await checkServed();
    // Until the commit the factory model serves (the new one is health-checked beside it).
    expect(sha(served)).toBe(point === "pointer-committed" ? file.sha256 : sha(factory));
    await kill();
  }
  expect(kills).toBe(31);

  // 4. After the last restart: 1.1.0, committed (the pointer had committed; the record follows it), nothing left in staging.
  child = await spawnServe(["--model", factory, "--data-dir", dataDir, "--context-size", "256"], env);
  expect(sha(await checkServed())).toBe(file.sha256);
  expect(await admin("GET", "/updates")).toMatchObject({ state: "committed", record: { reason: null } });
  expect(existsSync(part)).toBe(false);
}, 180_000);
