/**
 * Faults a download rides out, through the real agent: a server failing every second request
 * (HTTP 500) and dropping connections mid-file, and a file that changes on the server (new ETag)
 * during a resume. Then signed fleet commands: ota.check installs, ota.rollback with a version
 * installs an older release (refused without it), ota.rollback alone goes back a slot.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createCommandProcessor, type CommandProcessorDeps } from "../../../runtime/fleet/commands/processor.ts";
import { signCommand, newCommand } from "../../../runtime/fleet/commands/signing.ts";
import { silentLogger } from "../../../runtime/log.ts";
import { systemClock } from "../../../runtime/clock.ts";
import type { CommandProcessor } from "../../../runtime/telemetry/messages.ts";
import { generateEd25519, signerFromPem } from "../../../runtime/crypto/ed25519.ts";
import { testModel } from "../../helpers/models.ts";
import type { TestServer } from "../../helpers/server.ts";
import { FileServer } from "../agent/file-server.ts";
import { manifestDoc, writeRelease } from "./documents.ts";
import { otaFlags, removeTempDirs, startBox, testRepo, tmp, type TestRepo } from "./fixture.ts";

const hashOf = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const fleetAdmin = signerFromPem(generateEd25519().privateKeyPem);
const FLEET = { fleet: "acme", keyId: "fleet-admin-1" };

let repo: TestRepo;
let box: TestServer;
let processor: CommandProcessor;
let device: string;
const servers: FileServer[] = [];
let models: string[];

beforeAll(async () => {
  models = await Promise.all([1, 2, 3, 4].map((seed) => testModel({ seed })));
  repo = await testRepo();
  const flags = { ...otaFlags(repo), "telemetry.fleet": FLEET.fleet, "telemetry.fleetKeys": [{ keyId: FLEET.keyId, publicKey: fleetAdmin.publicKey }] };
  box = await startBox(tmp(), models[0]!, flags, {
    commandProcessor: (ctx) => {
      device = ctx.deviceId;
      const deps: CommandProcessorDeps = { db: ctx.db, deviceId: ctx.deviceId, fleet: FLEET.fleet, groups: [], fleetKeys: ctx.config.telemetry.fleetKeys, clock: systemClock, logger: silentLogger, ota: ctx.ota };
      return (processor = createCommandProcessor(deps));
    },
  });
}, 60_000);

afterAll(async () => {
  await box?.stop();
  for (const s of servers) s.stop();
  repo?.stop();
  removeTempDirs();
});

/** Offers `model` as `version` from a file server of its own (the only URL). */
async function offer(model: string, version: string): Promise<FileServer> {
  const server = await FileServer.start(new Uint8Array(readFileSync(model)));
  servers.push(server);
  writeRelease(repo, manifestDoc(version, { name: `demo-${version}.gguf`, size: server.data.byteLength, sha256: server.sha256, urls: [server.url()] }));
  return server;
}

test("HTTP 500 on every second request and connections dropped mid-file: the download resumes to the end", async () => {
  const server = await offer(models[1]!, "1.1.0");
  const piece = 96 * 1024;
  server.faults.push({ dropAfter: piece }, { status: 500 }, { cutAfter: piece }, { status: 500 }, { dropAfter: piece }, { status: 500 });
  await box.ota.apply();
  const record = await box.ota.settled();
  expect(record).toMatchObject({ state: "committed", release: { version: "1.1.0" } });
  expect(hashOf(box.engine.model.path)).toBe(server.sha256);
  expect(server.requests.map((r) => r.status)).toEqual([200, 500, 206, 500, 206, 500, 206]);
  // Each resume asked for the rest of the file from where the bytes on disk ended.
  const starts = server.requests.filter((r) => r.status === 206).map((r) => Number(/^bytes=(\d+)-/.exec(r.range!)![1]));
  expect(starts[0]).toBe(piece);
  expect(starts).toEqual([...starts].sort((a, b) => a - b));
}, 30_000);

test("a new ETag during a resume: that file starts over (200), completes, and the installed release is never touched", async () => {
  const installed = box.ota.lines.base.current().active!;
  const before = hashOf(installed.path);
  const server = await offer(models[2]!, "1.2.0");
  server.faults.push({ dropAfter: 128 * 1024 }, { etag: '"v2"' });
  await box.ota.apply();
  const record = await box.ota.settled();
  expect(record).toMatchObject({ state: "committed", release: { version: "1.2.0" } });
  expect(server.requests.map((r) => [r.status, r.ifRange])).toEqual([
    [200, null],
    [200, '"v1"'], // If-Range no longer matched: the whole new file
  ]);
  expect(hashOf(box.engine.model.path)).toBe(server.sha256);
  // 1.1.0 is the previous slot now, whole, for a rollback.
  expect(box.ota.lines.base.current().previous).toMatchObject({ path: installed.path, release: { version: "1.1.0" } });
  expect(hashOf(installed.path)).toBe(before);
}, 30_000);

async function command(kind: string, args: Record<string, unknown>) {
  const unsigned = newCommand({ kind, target: { device }, fleet: FLEET.fleet, args, keyId: FLEET.keyId, ttlMs: 300_000 }, Date.now());
  return processor.handle(new TextEncoder().encode(JSON.stringify(signCommand(unsigned, fleetAdmin))));
}

test("signed fleet commands: ota.check installs; an older release only with ota.rollback naming its version; ota.rollback alone goes back a slot", async () => {
  const server = await offer(models[3]!, "1.3.0");
  const checked = await command("ota.check", {});
  expect(checked).toMatchObject({ outcome: "done", result: { lastCheck: { outcome: "available", release: { version: "1.3.0" } } } });
  expect((await box.ota.settled()).state).toBe("committed");
  expect(hashOf(box.engine.model.path)).toBe(server.sha256);

  // The channel goes back to 1.2.0 (re-signed, a newer index): a box refuses it on its own...
  const old = servers[1]!;
  writeRelease(repo, manifestDoc("1.2.0", { name: "demo-1.2.0.gguf", size: old.data.byteLength, sha256: old.sha256, urls: [old.url()] }));
  await box.ota.apply();
  expect(await box.ota.settled()).toMatchObject({ state: "failed", reason: { code: "older_than_installed" } });
  // ...and installs it when a signed rollback names that version.
  const rolled = await command("ota.rollback", { version: "1.2.0" });
  expect(rolled).toMatchObject({ outcome: "done" });
  expect(await box.ota.settled()).toMatchObject({ state: "committed", release: { version: "1.2.0" } });
  expect(hashOf(box.engine.model.path)).toBe(old.sha256);

  // ota.rollback without a version: back to the previous slot (1.3.0), health-checked.
  const back = await command("ota.rollback", {});
  expect(back).toMatchObject({ outcome: "done", result: { state: "rolled-back", current: "demo 1.3.0" } });
  expect(hashOf(box.engine.model.path)).toBe(server.sha256);
}, 60_000);
