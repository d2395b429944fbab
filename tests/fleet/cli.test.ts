/** `hearth fleet collect|devices|audit` as real child processes, on SQLite and on PostgreSQL. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { hearth, CLI } from "../helpers/cli.ts";
import { startBroker, type TestBroker } from "../helpers/mosquitto.ts";
import { startMqtt311Broker } from "../helpers/aedes.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { openSqliteStore } from "../../runtime/fleet/collector/sqlite-store.ts";
import { openPostgresStore } from "../../runtime/fleet/collector/postgres-store.ts";
import type { FleetStore } from "../../runtime/fleet/collector/store.ts";
import { ingest } from "../../runtime/fleet/collector/ingest.ts";
import { planBatch } from "../../runtime/fleet/collector/plan.ts";
import { deviceTopic, type DeviceChannel } from "../../runtime/telemetry/topics.ts";
import { FLEET, T0, connectDevice, health, state, usage, waitFor } from "./fixtures.ts";
import { countOf, tempDir, removeTempDirs, sharedSubscriptions } from "./helpers.ts";

async function fill(store: FleetStore, messages: [DeviceChannel, { device: string }][]) {
  const accepted = messages.map(([channel, body], i) => {
    const r = ingest({ topic: deviceTopic(FLEET, body.device, channel), payload: new TextEncoder().encode(JSON.stringify(body)), retain: false, receivedMs: T0 + 60_000 + i });
    if (!r.ok) throw new Error(r.reason);
    return r;
  });
  await store.write(planBatch(accepted));
}

const FIXTURE: [DeviceChannel, { device: string }][] = [
  ["state", state("box-1", "online", { version: "2.0.0", models: ["qwen"] })],
  ["health", health("box-1", { cpu: 33 })],
  ["usage", usage("box-1", 1, { prompt: 100, completion: 20 })],
  ["usage", usage("box-1", 3, { prompt: 100, completion: 20 })],
  ["usage", usage("box-2", 1, { prompt: 5, completion: 5 })],
  ["usage", usage("box-3", 1, { tier: "community", licenseId: null, prompt: 1, completion: 1 })],
];
const PERIOD = ["--since", "2027-03-01", "--until", "2027-03-02"];

let pg: TestPostgres;
let broker: TestBroker;
beforeAll(async () => {
  [pg, broker] = await Promise.all([startPostgres(), startBroker()]);
});
afterAll(async () => {
  await Promise.all([pg?.stop(), broker?.stop()]);
  removeTempDirs();
});

describe("hearth fleet devices / audit", () => {
  test("devices and audit from a SQLite store: table, JSON and CSV", async () => {
    const db = join(tempDir(), "fleet.db");
    const store = openSqliteStore(db, { create: true });
    await fill(store, FIXTURE);
    await store.close();

    const devices = await hearth(["fleet", "devices", "--db", db, "--json"]);
    expect(devices.code).toBe(0);
    const list = JSON.parse(devices.stdout);
    expect(list.map((d: { deviceId: string }) => d.deviceId)).toEqual(["box-1", "box-2", "box-3"]);
    expect(list[0]).toMatchObject({ online: true, version: "2.0.0", models: ["qwen"], tier: "smb", licenseId: "LIC-A", health: { cpuLoadPercent: 33 } });
    const table = await hearth(["fleet", "devices", "--db", db]);
    expect(table.stdout).toMatch(/box-1\s+acme\s+online\s+\S+\s+2\.0\.0\s+qwen\s+smb\s+LIC-A/);

    const audit = await hearth(["fleet", "audit", "--db", db, ...PERIOD, "--json"]);
    expect(audit.code).toBe(0);
    const report = JSON.parse(audit.stdout);
    expect(report.licenses).toEqual([expect.objectContaining({ licenseId: "LIC-A", devices: ["box-1", "box-2"], seats: 1, overSeats: true, tokens: 250 })]);
    expect(report.unlicensed).toEqual([expect.objectContaining({ deviceId: "box-3", reason: "community_tier", tokens: 2 })]);
    expect(report.chainProblems).toEqual([expect.objectContaining({ deviceId: "box-1", kind: "usage_seq_gap", seq: 3 })]);

    const seatsFile = join(tempDir(), "seats.json");
    writeFileSync(seatsFile, JSON.stringify({ "LIC-A": 2 }));
    const csv = await hearth(["fleet", "audit", "--db", db, ...PERIOD, "--csv", "--seats-file", seatsFile]);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split("\n")[1]).toBe("box-1,acme,LIC-A,smb,20,200,40,240,2,2,2,no,no,1,usage_seq_gap");
    const human = await hearth(["fleet", "audit", "--db", db, ...PERIOD, "--seats", "LIC-A=1"]);
    expect(human.stdout).toContain("Licenses over their seats: LIC-A on 2 devices, allows 1");
    expect(human.stdout).toContain("box-1 2027-03-01T00:00:03.000Z usage_seq_gap: usage messages 2 never arrived");
  });

  test("the same reports from PostgreSQL", async () => {
    const url = await pg.createDatabase();
    const store = await openPostgresStore(url, { create: true });
    await fill(store, FIXTURE);
    await store.close();
    const devices = JSON.parse((await hearth(["fleet", "devices", "--db", url, "--json"])).stdout);
    expect(devices.map((d: { deviceId: string; online: boolean | null }) => [d.deviceId, d.online])).toEqual([["box-1", true], ["box-2", null], ["box-3", null]]);
    const report = JSON.parse((await hearth(["fleet", "audit", "--db", url, ...PERIOD, "--json", "--seats", "LIC-A=2"])).stdout);
    expect(report.totals).toMatchObject({ devices: 3, licenses: 1, tokens: 252 });
    expect(report.overSeat).toEqual([]);
  });

  test("bad input is named; a missing store is not created", async () => {
    const missing = join(tempDir(), "nope.db");
    const r = await hearth(["fleet", "devices", "--db", missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("does not exist");
    expect((await hearth(["fleet", "audit", "--db", missing, "--seats", "LIC-A=zero"])).stderr).toContain("--seats");
    expect((await hearth(["fleet", "audit", "--db", missing, "--since", "yesterday"])).code).toBe(2);
    expect((await hearth(["fleet", "collect", "--db", missing, "--broker", "http://x"])).stderr).toContain("not an mqtt:// or mqtts:// URL");
    const noPg = await hearth(["fleet", "devices", "--db", `postgres://postgres@127.0.0.1:${pg.port}/no_such_db`]);
    expect(noPg.code).toBe(1);
    expect(noPg.stderr).toContain("cannot connect to PostgreSQL");
  });
});

test("collect runs until SIGTERM keeping its session; --retire stores what waited and ends it", async () => {
  const db = join(tempDir(), "fleet.db");
  const args = ["fleet", "collect", "--broker", broker.url, "--db", db, "--client-id", "cli-collector", ...(sharedSubscriptions ? ["--share", "cli"] : ["--no-share"])];
  const first = Bun.spawn([process.execPath, CLI, ...args], { stdout: "pipe", stderr: "ignore" });
  const dev = await connectDevice(broker.url, "box-cli");
  const store = openSqliteStore(db, { create: true });
  await waitFor("subscribed", async () => {
    await dev.send("usage", usage("box-cli", 1));
    return (await countOf(store, "fleet_usage")) > 0;
  });
  first.kill("SIGTERM");
  expect(await first.exited).toBe(0);
  expect(await new Response(first.stdout).text()).toContain("Stopped:");

  await dev.send("usage", usage("box-cli", 2)); // waits in the session
  const retire = Bun.spawn([process.execPath, CLI, ...args, "--retire"], { stdout: "pipe", stderr: "ignore" });
  expect(await retire.exited).toBe(0);
  expect(await new Response(retire.stdout).text()).toContain("Retired cli-collector");
  expect(Number((await store.all<{ n: number }>("SELECT MAX(seq) AS n FROM fleet_usage"))[0]!.n)).toBe(2);
  await dev.send("usage", usage("box-cli", 3)); // nobody's session keeps it now
  await dev.endAsync();
  await store.close();
}, 30_000);

test("on a broker that speaks only MQTT 3.1.1, --share is refused with the reason; --no-share collects", async () => {
  const old = await startMqtt311Broker();
  try {
    const db = join(tempDir(), "fleet.db");
    const shared = await hearth(["fleet", "collect", "--broker", old.url, "--db", db, "--share", "pair"]);
    expect(shared.code).toBe(2);
    expect(shared.stderr).toContain("the broker speaks MQTT 3.1.1 only, which has no shared subscriptions (asked: share pair): run a single collector with --no-share");

    const plain = Bun.spawn([process.execPath, CLI, "fleet", "collect", "--broker", old.url, "--db", db, "--no-share"], { stdout: "pipe", stderr: "ignore" });
    const dev = await connectDevice(old.url, "box-311", { protocolVersion: 4 });
    const store = openSqliteStore(db, { create: false });
    const m = usage("box-311", 1);
    await waitFor("stored over MQTT 3.1.1", async () => {
      await dev.send("usage", m); // until it is subscribed: the same id, stored once
      return (await countOf(store, "fleet_usage")) === 1;
    });
    plain.kill("SIGTERM");
    expect(await plain.exited).toBe(0);
    await dev.endAsync();
    await store.close();
  } finally {
    await old.stop();
  }
}, 30_000);
