/**
 * The broker SIGKILLed, without warning, and restarted in the middle of a burst of 10,000 usage
 * messages from a box's real telemetry (runtime/telemetry: the SQLite outbox, the drain, the
 * broker link, delivery receipts): the collector (`hearth fleet collect`, its own process as in
 * production) ends with exactly the 10,000 records, each once, seq 1 to 10,000 with no gap, no
 * break in the device's chain, and the box's outbox empties: every message was receipted.
 *
 * Mosquitto acknowledges a message and forwards it before the save that follows; killed in
 * between, it restarts without the message, and the bytes still in flight to the collector die
 * with the connection. With the PUBACK alone the box forgot such a message (about one run in
 * three lost one); with receipts it keeps the message until the collector's receipt names it, and
 * sends it again on reconnecting.
 *
 * Twice: with a plain subscription, which Mosquitto's persistent session keeps across the restart,
 * and with the shared subscription, which Mosquitto 2.0 forgets on restart: what the box sends
 * before the collector has subscribed again reaches no one, and goes again when its receipt is
 * late. There the box comes back after a second, as one backing off would, and the collector
 * within a quarter of one.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { requireMosquitto, startBroker, type TestBroker } from "../helpers/mosquitto.ts";
import { CLI } from "../helpers/cli.ts";
import { openSqliteStore } from "../../runtime/fleet/collector/sqlite-store.ts";
import { chainProblems } from "../../runtime/fleet/collector/chain-checks.ts";
import { testBox, usageMessage, removeTempDirs as removeBoxDirs } from "../telemetry/helpers.ts";
import { waitFor } from "./fixtures.ts";
import { countOf, rows, tempDir, removeTempDirs } from "./helpers.ts";

const BURST = 10_000;
const CHUNK = 500;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => {
  removeTempDirs();
  removeBoxDirs();
});

/**
 * The broker saves its state after every change, so that what it acknowledged survives a SIGKILL
 * as far as Mosquitto allows; on tmpfs that is a write to memory, not a disk sync.
 */
async function killableBroker(): Promise<TestBroker> {
  const saved = process.env.TMPDIR;
  if (existsSync("/dev/shm")) process.env.TMPDIR = "/dev/shm";
  try {
    const broker = await startBroker({ saveEveryChange: true });
    cleanups.push(async () => {
      await broker.stop();
      rmSync(broker.dir, { recursive: true, force: true }); // tmpfs is memory
    });
    requireMosquitto(broker, "it SIGKILLs the broker process");
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

async function burstThroughBrokerKill(subscription: string[], reconnectMinMs: number) {
  const broker = await killableBroker();
  const db = join(tempDir(), "fleet.db");
  const collector = await spawnCollector(["--broker", broker.url, "--db", db, "--client-id", `collector-${subscription.join("")}`, ...subscription]);
  const store = openSqliteStore(db, { create: false });
  cleanups.push(() => store.close());
  await Bun.sleep(200); // subscribed (what is sent earlier comes again at its receipt timeout)

  const box = testBox({
    config: { broker: broker.url, outboxMaxMessages: 2 * BURST, receiptTimeoutSeconds: 5 },
    deps: { backoff: { minMs: reconnectMinMs, maxMs: 2 * reconnectMinMs } },
  });
  cleanups.push(async () => {
    await box.telemetry.stop();
    box.db.close();
  });
  const device = box.deviceId;
  box.telemetry.start();
  for (let seq = 1; seq <= BURST; seq += CHUNK) {
    box.telemetry.enqueueMany(Array.from({ length: CHUNK }, (_, i) => ({ channel: "usage" as const, payload: usageMessage(box, seq + i) })));
    await Bun.sleep(1); // the drain runs between chunks, as it would between producers' commits
  }

  await waitFor("a third of the burst stored", async () => (await countOf(store, "fleet_usage")) >= BURST / 3, 60_000);
  await broker.kill(); // SIGKILL, nothing frozen first
  const storedAtKill = await countOf(store, "fleet_usage");
  await Bun.sleep(200);
  await broker.restart();

  await waitFor(`${BURST} stored`, async () => (await countOf(store, "fleet_usage")) >= BURST, 60_000);
  await waitFor("every message receipted: the box's outbox empty", () => box.telemetry.status().outbox.total === 0, 60_000);
  collector.proc.kill("SIGTERM");
  expect(await collector.proc.exited).toBe(0);
  const stopped = JSON.parse((await collector.output()).match(/Stopped: (\{.*\})/)![1]!);

  expect(storedAtKill).toBeLessThan(BURST);
  expect(box.telemetry.status().receipts).toMatchObject({ refused: 0, awaiting: 0 });
  expect(box.telemetry.status().receipts!.removed).toBe(BURST);
  const [summary] = await rows(store, "SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS seqs, MIN(seq) AS lo, MAX(seq) AS hi, SUM(requests) AS requests FROM fleet_usage WHERE device_id = ?", [device]);
  expect(summary).toEqual({ n: BURST, seqs: BURST, lo: 1, hi: BURST, requests: BURST });
  const seqs = (await rows(store, "SELECT seq FROM fleet_usage WHERE device_id = ? ORDER BY seq", [device])).map((r) => r.seq);
  expect(seqs.every((s, i) => s === i + 1)).toBe(true);
  expect(await chainProblems(store, 0, Date.now() + 86_400_000)).toEqual([]);
  console.log(`fault ${subscription.join(" ")}: killed with ${storedAtKill} stored; collector ${JSON.stringify(stopped)}`);
}

test(`broker SIGKILLed during a burst of ${BURST}, plain subscription: exactly ${BURST} records, all receipted`, async () => {
  await burstThroughBrokerKill(["--no-share"], 50);
}, 120_000);

test(`broker SIGKILLed during a burst of ${BURST}, shared subscription: exactly ${BURST} records, all receipted`, async () => {
  await burstThroughBrokerKill(["--share", "fault"], 1000);
}, 120_000);
