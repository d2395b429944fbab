/**
 * The broker SIGKILLed and restarted in the middle of a burst of 10,000 usage messages from one
 * device that resends what was not acknowledged: the collector (`hearth fleet collect`, its own
 * process as in production) ends with exactly the 10,000 records, each once, seq 1 to 10,000
 * with no gap, and no break in the device's chain.
 *
 * Twice: with a plain subscription, which Mosquitto's persistent session keeps across the restart,
 * and with the shared subscription, which Mosquitto 2.0 forgets on restart (what is published
 * before the collector subscribes again reaches no one). There the device comes back after a
 * second, as one backing off would, and the collector within a quarter of one.
 *
 * The broker is frozen (SIGSTOP) a moment before the SIGKILL. Mosquitto acknowledges a message
 * and forwards it before the save that follows; killed during that save, it restarts without the
 * message, and the bytes still in flight to the collector die with the connection: about one run
 * in three lost exactly that one message, although the device had its PUBACK. Frozen first, the
 * broker's sent bytes reach the collector, and the test checks what the collector owns: every
 * message delivered, redelivered after the restart or resent by the device is stored once.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startBroker, type TestBroker } from "../helpers/mosquitto.ts";
import { CLI } from "../helpers/cli.ts";
import { openSqliteStore } from "../../runtime/fleet/collector/sqlite-store.ts";
import { chainProblems } from "../../runtime/fleet/collector/chain-checks.ts";
import { deviceTopic } from "../../runtime/telemetry/topics.ts";
import { FLEET, T0, usage, waitFor } from "./fixtures.ts";
import { countOf, rows, tempDir, removeTempDirs, mqtt5Broker } from "./helpers.ts";
import { RetryingPublisher } from "./test-publisher.ts";

const BURST = 10_000;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(removeTempDirs);

/**
 * The test broker saves its state after every change; on tmpfs that is a write to memory, not a
 * disk sync, so a burst takes seconds. A killed process loses the same either way.
 */
async function brokerOnTmpfs(): Promise<TestBroker> {
  const saved = process.env.TMPDIR;
  if (existsSync("/dev/shm")) process.env.TMPDIR = "/dev/shm";
  try {
    const broker = await startBroker();
    cleanups.push(async () => {
      await broker.stop();
      rmSync(broker.dir, { recursive: true, force: true }); // tmpfs is memory
    });
    return broker;
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

async function spawnCollector(args: string[]) {
  const proc = Bun.spawn([process.execPath, CLI, "fleet", "collect", ...args], { stdout: "pipe", stderr: "ignore" });
  cleanups.push(async () => {
    proc.kill("SIGKILL");
    await proc.exited;
  });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  expect(new TextDecoder().decode(value)).toContain("Collecting from");
  const rest = (async () => {
    let out = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) out += new TextDecoder().decode(r.value);
    return out;
  })();
  return { proc, output: () => rest };
}

async function burstThroughBrokerKill(device: string, subscription: string[], reconnectDelayMs: number) {
  const broker = await brokerOnTmpfs();
  const db = join(tempDir(), "fleet.db");
  const collector = await spawnCollector(["--broker", broker.url, "--db", db, "--client-id", `collector-${device}`, ...subscription]);
  const store = openSqliteStore(db, { create: false });
  cleanups.push(() => store.close());
  await Bun.sleep(200); // subscribed

  const publisher = new RetryingPublisher(broker.url, `${device}-publisher`, { reconnectDelayMs });
  cleanups.push(() => publisher.stop());
  const topic = deviceTopic(FLEET, device, "usage");
  const sending = publisher.publishAll(Array.from({ length: BURST }, (_, i) => ({ topic, payload: JSON.stringify(usage(device, i + 1, { ts: T0 + i })) })));

  await waitFor("a third of the burst acknowledged", () => publisher.acked >= BURST / 3, 60_000);
  const pid = Number(Bun.spawnSync(["pgrep", "-f", join(broker.dir, "mosquitto.conf")]).stdout.toString().trim());
  expect(pid).toBeGreaterThan(0);
  process.kill(pid, "SIGSTOP");
  await Bun.sleep(200);
  await broker.kill();
  const storedAtKill = await countOf(store, "fleet_usage");
  await Bun.sleep(200);
  await broker.restart();

  await sending;
  await waitFor(`${BURST} stored`, async () => (await countOf(store, "fleet_usage")) >= BURST, 30_000);
  collector.proc.kill("SIGTERM");
  expect(await collector.proc.exited).toBe(0);
  expect(await collector.output()).toContain("Stopped:");

  expect(storedAtKill).toBeLessThan(BURST);
  expect(publisher.connections).toBeGreaterThanOrEqual(2);
  const [summary] = await rows(store, "SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS seqs, MIN(seq) AS lo, MAX(seq) AS hi, SUM(requests) AS requests FROM fleet_usage WHERE device_id = ?", [device]);
  expect(summary).toEqual({ n: BURST, seqs: BURST, lo: 1, hi: BURST, requests: BURST * 10 });
  const seqs = (await rows(store, "SELECT seq FROM fleet_usage WHERE device_id = ? ORDER BY seq", [device])).map((r) => r.seq);
  expect(seqs.every((s, i) => s === i + 1)).toBe(true);
  expect(await chainProblems(store, 0, T0 + 86_400_000)).toEqual([]);
}

test.skipIf(!mqtt5Broker)(`broker killed during a burst of ${BURST}, plain subscription: exactly ${BURST} records`, async () => {
  await burstThroughBrokerKill("box-burst-plain", ["--no-share"], 100);
}, 90_000);

test.skipIf(!mqtt5Broker)(`broker killed during a burst of ${BURST}, shared subscription: exactly ${BURST} records`, async () => {
  await burstThroughBrokerKill("box-burst-shared", ["--share", "fault"], 1000);
}, 90_000);
