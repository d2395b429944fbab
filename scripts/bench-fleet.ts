#!/usr/bin/env bun
/**
 * bench:fleet: the fleet telemetry path through a local Mosquitto, in rounds (medians reported):
 * (a) device outbox drain after an outage: one box's outbox (runtime/telemetry) filled with
 *     BENCH_DRAIN usage messages while no broker is reachable, then connected; time until every
 *     row is acknowledged and removed;
 * (b) BENCH_DEVICES devices, each its own MQTT connection, publishing BENCH_MESSAGES usage
 *     messages each at QoS 1, all at once;
 * (c) collector ingest: the backlog of (a) and (b), queued by the broker for the collector's
 *     persistent session while it was away, stored (SQLite file, WAL, synchronous=FULL, group
 *     commit), acknowledged and receipted to the devices (the receipts are part of the cost);
 *     messages stored per second;
 * (d) the broker's own delivery of the same backlog to a plain `mosquitto_sub` (QoS 1, persistent
 *     session, discarding the messages; usage topics only, not the collector's receipts): the
 *     ceiling for (c), and the ratio;
 * (e) once, live: the collector running as `hearth fleet collect` (its own process) while the
 *     devices publish: messages stored per second, end to end.
 * The broker runs without persistence: saving after every change (what the fault tests ask of
 * tests/helpers/mosquitto.ts) caps any client at about a thousand messages per second. Sizes: BENCH_DEVICES (1000), BENCH_MESSAGES (20), BENCH_DRAIN (20000), BENCH_ROUNDS (3).
 */
import mqtt, { type MqttClient } from "mqtt";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { randomUUID } from "node:crypto";
import { freePort } from "../tests/helpers/mosquitto.ts";
import { systemClock } from "../runtime/clock.ts";
import { silentLogger } from "../runtime/log.ts";
import { openDatabase } from "../runtime/store/db.ts";
import { Outbox } from "../runtime/telemetry/outbox.ts";
import { OutboxDrain } from "../runtime/telemetry/drain.ts";
import { BrokerLink } from "../runtime/telemetry/broker-link.ts";
import { systemTimers } from "../runtime/telemetry/timers.ts";
import { deviceTopic } from "../runtime/telemetry/topics.ts";
import type { UsageMessage } from "../runtime/telemetry/messages.ts";
import { startCollector } from "../runtime/fleet/collector/collector.ts";
import { openSqliteStore } from "../runtime/fleet/collector/sqlite-store.ts";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 1000);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20);
const DRAIN = Number(process.env.BENCH_DRAIN ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FLEET = "bench";
const CLI = join(import.meta.dir, "..", "runtime", "cli", "main.ts");

const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
};
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
const seconds = (ms: number) => Math.round(ms) / 1000;

function usageMessage(device: string, seq: number): UsageMessage {
  const totals = { requests: 3, promptTokens: 420, completionTokens: 180 };
  return {
    v: 1,
    id: randomUUID().replace(/-/g, ""),
    device,
    fleet: FLEET,
    ts: new Date().toISOString(),
    seq,
    fromLedgerSeq: (seq - 1) * 3,
    toLedgerSeq: seq * 3,
    totals,
    byModel: { "demo-tiny": totals },
    tier: "smb",
    licenseId: `LIC-${device.length % 7}`,
  };
}

async function startMosquitto(dir: string): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const port = await freePort();
  writeFileSync(
    join(dir, "mosquitto.conf"),
    [
      ...(process.getuid?.() === 0 ? ["user root"] : []),
      "persistence false",
      "max_queued_messages 10000000",
      "max_inflight_messages 0",
      `log_dest file ${join(dir, "mosquitto.log")}`,
      "log_type error",
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
    ].join("\n") + "\n",
  );
  const proc = Bun.spawn(["/usr/sbin/mosquitto", "-c", join(dir, "mosquitto.conf")], { stdout: "ignore", stderr: "pipe" });
  for (let i = 0; ; i++) {
    try {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 1000 });
      await c.endAsync();
      break;
    } catch (err) {
      if (i > 100) throw new Error(`mosquitto did not start: ${(err as Error).message}`);
      await Bun.sleep(50);
    }
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/** N device connections, opened a hundred at a time. */
async function connectDevices(url: string): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  for (let i = 0; i < DEVICES; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, DEVICES - i) }, (_, j) => mqtt.connectAsync(url, { protocolVersion: 5, clientId: `bench-dev-${i + j}`, reconnectPeriod: 0 })),
    );
    clients.push(...batch);
  }
  return clients;
}

/** Every device publishes MESSAGES usage messages at once (QoS 1); resolves when all are acknowledged. */
async function publishFromDevices(devices: MqttClient[], round: number): Promise<number> {
  const started = performance.now();
  await Promise.all(
    devices.map((client, i) => {
      const device = `dev-${i}`;
      const topic = deviceTopic(FLEET, device, "usage");
      return Promise.all(Array.from({ length: MESSAGES }, (_, k) => client.publishAsync(topic, JSON.stringify(usageMessage(device, round * MESSAGES + k + 1)), { qos: 1 })));
    }),
  );
  return performance.now() - started;
}

/** A persistent QoS 1 session that is away: the broker queues for it from now on. */
async function registerSession(url: string, clientId: string, filter: string): Promise<void> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 5, clientId, clean: false, properties: { sessionExpiryInterval: 3600 }, reconnectPeriod: 0 });
  await c.subscribeAsync(filter, { qos: 1 });
  c.end(true);
}

/** (a) One box's outbox, filled while offline, drained through the production drain and link. */
async function outboxDrain(url: string, dir: string, round: number): Promise<number> {
  const db = openDatabase(join(dir, `box-${round}`));
  try {
    const outbox = new Outbox(db, { maxMessages: DRAIN * 2, clock: systemClock, logger: silentLogger });
    const device = `box-drain-${round}`;
    for (let i = 0; i < DRAIN; i += 1000) {
      outbox.enqueueMany(Array.from({ length: Math.min(1000, DRAIN - i) }, (_, k) => ({ channel: "usage" as const, payload: usageMessage(device, i + k + 1) })));
    }
    const last = outbox.lastId();
    const drain = new OutboxDrain(outbox, silentLogger);
    const link = new BrokerLink({
      url,
      clientId: device,
      auth: {},
      subscriptions: () => [],
      will: () => null,
      onUp: (session) => drain.attach(session),
      onDown: () => drain.detach(),
      onMessage: () => {},
      clock: systemClock,
      timers: systemTimers,
      random: Math.random,
      logger: silentLogger,
    });
    const started = performance.now();
    link.start();
    const done = await drain.whenDrained(last, 300_000);
    const elapsed = performance.now() - started;
    await link.stop(null);
    if (!done || outbox.depth().total !== 0) throw new Error(`outbox not drained: ${outbox.depth().total} left`);
    return elapsed;
  } finally {
    db.close();
  }
}

/** (c) The collector, back after an outage, storing the backlog its session holds. */
async function collectorIngest(url: string, dbPath: string, clientId: string, share: string, expected: number): Promise<{ ms: number; batches: number }> {
  const store = openSqliteStore(dbPath, { create: true });
  const started = performance.now();
  const collector = startCollector({ broker: url, store, clientId, share, retainedState: false, clock: systemClock, logger: silentLogger });
  while (collector.stats.stored + collector.stats.duplicates < expected) {
    if (performance.now() - started > 300_000) throw new Error(`collector stored ${collector.stats.stored} of ${expected}`);
    await Bun.sleep(2);
  }
  const ms = performance.now() - started;
  const { batches, stored } = collector.stats;
  await collector.stop();
  await store.close();
  if (stored !== expected) throw new Error(`collector stored ${stored}, expected ${expected}`);
  return { ms, batches };
}

/** (d) mosquitto_sub taking the same backlog from its own persistent session. */
async function mosquittoSub(port: number, clientId: string, filter: string, expected: number): Promise<number> {
  const started = performance.now();
  const proc = Bun.spawn(["mosquitto_sub", "-h", "127.0.0.1", "-p", String(port), "-V", "5", "-c", "-x", "3600", "-i", clientId, "-q", "1", "-t", filter, "-C", String(expected)], {
    stdout: "ignore",
    stderr: "pipe",
  });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`mosquitto_sub exited ${code}: ${await new Response(proc.stderr).text()}`);
  return performance.now() - started;
}

/** (e) `hearth fleet collect` in its own process while the devices publish. */
async function liveIngest(url: string, dir: string, devices: MqttClient[], round: number): Promise<{ ms: number; publishMs: number }> {
  const db = join(dir, "live.db");
  const proc = Bun.spawn([process.execPath, CLI, "fleet", "collect", "--broker", url, "--db", db, "--client-id", "bench-live", "--share", "live"], { stdout: "pipe", stderr: "ignore" });
  const reader = proc.stdout.getReader();
  await reader.read();
  reader.releaseLock();
  const store = openSqliteStore(db, { create: false });
  const count = async () => Number((await store.all<{ n: number }>("SELECT COUNT(*) AS n FROM fleet_usage"))[0]!.n);
  await Bun.sleep(500); // subscribed
  const expected = DEVICES * MESSAGES;
  const started = performance.now();
  const publishMs = await publishFromDevices(devices, round);
  while ((await count()) < expected) {
    if (performance.now() - started > 300_000) throw new Error("live collector too slow");
    await Bun.sleep(20);
  }
  const ms = performance.now() - started;
  proc.kill("SIGTERM");
  await proc.exited;
  await store.close();
  return { ms, publishMs };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hearth-bench-fleet-"));
  const broker = await startMosquitto(dir);
  progress(`mosquitto at ${broker.url}; connecting ${DEVICES} devices`);
  const devices = await connectDevices(broker.url);
  const backlog = DRAIN + DEVICES * MESSAGES;
  const drain: number[] = [];
  const publish: number[] = [];
  const ingest: number[] = [];
  const sub: number[] = [];
  const ratios: number[] = [];
  const batches: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const collectorId = `bench-collector-${round}`;
      const share = `bench${round}`;
      const subFilter = `$share/benchsub${round}/hearth/v1/+/+/usage`;
      // Both sessions exist before anything is published, so both queue the whole backlog.
      await registerSession(broker.url, collectorId, `$share/${share}/hearth/v1/+/+/#`);
      await registerSession(broker.url, `bench-sub-${round}`, subFilter);

      const drainMs = await outboxDrain(broker.url, dir, round);
      drain.push(rate(DRAIN, drainMs));
      const publishMs = await publishFromDevices(devices, round);
      publish.push(rate(DEVICES * MESSAGES, publishMs));

      // Paired: the order alternates so neither always runs on a warmer machine.
      const runCollector = async () => {
        const r = await collectorIngest(broker.url, join(dir, `fleet-${round}.db`), collectorId, share, backlog);
        batches.push(Math.round(backlog / r.batches));
        return rate(backlog, r.ms);
      };
      const runSub = async () => rate(backlog, await mosquittoSub(broker.port, `bench-sub-${round}`, subFilter, backlog));
      let c: number;
      let s: number;
      if (round % 2 === 0) {
        c = await runCollector();
        s = await runSub();
      } else {
        s = await runSub();
        c = await runCollector();
      }
      ingest.push(c);
      sub.push(s);
      ratios.push(c / s);
      progress(`round ${round + 1}/${ROUNDS}: drain ${drain.at(-1)}/s, ${DEVICES} devices publish ${publish.at(-1)}/s, collector ${c}/s, mosquitto_sub ${s}/s`);
    }
    const live = await liveIngest(broker.url, dir, devices, ROUNDS);
    progress(`live: ${rate(DEVICES * MESSAGES, live.ms)}/s stored while ${DEVICES} devices published`);

    const report = {
      sizes: { devices: DEVICES, messagesPerDevice: MESSAGES, outboxDrain: DRAIN, backlog, rounds: ROUNDS },
      outboxDrain: { messagesPerSecond: median(drain), rounds: drain, target: 5000, what: "runtime/telemetry Outbox + OutboxDrain + BrokerLink, SQLite outbox, one box" },
      devicesPublish: { messagesPerSecond: median(publish), rounds: publish, what: `${DEVICES} MQTT connections, QoS 1, until every PUBACK` },
      collectorIngest: { messagesPerSecond: median(ingest), rounds: ingest, target: 20_000, meanBatch: median(batches), what: "backlog stored in SQLite (WAL, synchronous=FULL) and acknowledged" },
      mosquittoSub: { messagesPerSecond: median(sub), rounds: sub, what: "same backlog, QoS 1, persistent session, discarded" },
      collectorToMosquittoSub: Math.round(median(ratios.map((r) => r * 100))) / 100,
      live: { messagesPerSecond: rate(DEVICES * MESSAGES, live.ms), seconds: seconds(live.ms), devicesPublishSeconds: seconds(live.publishMs), what: "hearth fleet collect (own process) storing while the devices publish" },
    };
    console.log(JSON.stringify(report, null, 2));
    const row = (name: string, value: string, target = "") => `${name.padEnd(44)} ${value.padStart(12)} ${target}`;
    console.log(
      [
        "",
        row("measure", "msg/s", "target"),
        row("device outbox drain after an outage", String(report.outboxDrain.messagesPerSecond), ">= 5000"),
        row(`${DEVICES} devices publishing (QoS 1)`, String(report.devicesPublish.messagesPerSecond)),
        row("collector ingest (stored, acked)", String(report.collectorIngest.messagesPerSecond), ">= 20000"),
        row("mosquitto_sub delivery (same backlog)", String(report.mosquittoSub.messagesPerSecond)),
        row("collector / mosquitto_sub", String(report.collectorToMosquittoSub)),
        row("live: stored while devices publish", String(report.live.messagesPerSecond)),
      ].join("\n"),
    );
  } finally {
    await Promise.all(devices.map((d) => d.endAsync().catch(() => {})));
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
