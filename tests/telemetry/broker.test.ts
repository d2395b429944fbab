/**
 * The box's telemetry against a real Mosquitto: birth and Last Will, store-and-forward across a
 * broker outage, TLS with the generated CA, a client certificate, the password listener, MQTT
 * 3.1.1 fallback, and command payloads that must not crash anything. These boxes have no collector
 * to receipt their usage (tests/telemetry/receipts.test.ts has one): receipts are off, so a
 * PUBACK releases a message.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { startBroker, type TestBroker } from "../helpers/mosquitto.ts";
import { startMqtt311Broker } from "../helpers/aedes.ts";
import { deviceTopic, groupCommandTopic } from "../../runtime/telemetry/topics.ts";
import { removeTempDirs, subscribe, testBox, usageMessage, waitFor, type Subscriber, type TestBox } from "./helpers.ts";
import { startProxy } from "./proxy.ts";

let broker: TestBroker;
const boxes: TestBox[] = [];
const subscribers: Subscriber[] = [];
const FAST = { backoff: { minMs: 50, maxMs: 400 } };
const NO_COLLECTOR = { receipts: false };

beforeAll(async () => {
  broker = await startBroker();
});
afterEach(async () => {
  await Promise.all(boxes.splice(0).map((b) => b.telemetry.stop().finally(() => b.db.close())));
  await Promise.all(subscribers.splice(0).map((s) => s.end()));
});
afterAll(async () => {
  await broker.stop();
  removeTempDirs();
});

function box(opts: Parameters<typeof testBox>[0] = {}): TestBox {
  const b = testBox({ ...opts, config: { ...NO_COLLECTOR, ...opts.config }, deps: { ...FAST, ...opts.deps } });
  boxes.push(b);
  return b;
}

async function sub(url = broker.url, protocolVersion: 4 | 5 = broker.protocolVersion): Promise<Subscriber> {
  const s = await subscribe(url, { protocolVersion });
  subscribers.push(s);
  return s;
}

const stateOf = (s: Subscriber, device: string) => s.on("state").filter((m) => m.device === device);

describe("telemetry over MQTT", () => {
  test("birth: a retained 'online' state on connect; a cut connection leaves the Last Will 'offline', retained", async () => {
    const proxy = await startProxy(broker.url);
    const b = box({ config: { broker: proxy.url } });
    const s = await sub();
    b.telemetry.start();
    await waitFor(() => stateOf(s, b.deviceId).some((m) => m.state === "online"), "the birth message");
    const birth = stateOf(s, b.deviceId)[0];
    expect(birth).toMatchObject({ v: 1, state: "online", tier: "smb", licenseId: "lic-test-1", version: "0.0.0-test", fleet: "default" });

    proxy.refuse(true);
    proxy.cut();
    await waitFor(() => stateOf(s, b.deviceId).some((m) => m.state === "offline"), "the Last Will");
    expect(b.telemetry.status().connected).toBe(false);
    // A subscriber arriving later still learns the box is offline: the will is retained.
    const late = await subscribe(broker.url, { protocolVersion: broker.protocolVersion, topic: deviceTopic("default", b.deviceId, "state") });
    subscribers.push(late);
    await waitFor(() => late.messages.length > 0, "the retained state");
    expect(late.messages[0]!.retain).toBe(true);
    expect(JSON.parse(late.messages[0]!.text)).toMatchObject({ state: "offline", device: b.deviceId });

    // Reachable again, the box reconnects on its own and is online again.
    proxy.refuse(false);
    await waitFor(() => stateOf(s, b.deviceId).filter((m) => m.state === "online").length >= 2, "the second birth");
    await proxy.close();
  });

  test("stop() says 'offline' (retained) and disconnects cleanly", async () => {
    const b = box({ config: { broker: broker.url } });
    const s = await sub();
    b.telemetry.start();
    await waitFor(() => b.telemetry.status().connected, "the connection");
    await b.telemetry.stop();
    await waitFor(() => stateOf(s, b.deviceId).some((m) => m.state === "offline"), "the goodbye");
    expect(b.telemetry.status().connected).toBe(false);
  });

  test("store-and-forward: with the broker down messages queue; when it is back all arrive, in order, none lost", async () => {
    const own = await startBroker({ saveEveryChange: true }); // killed: the subscriber's session must survive
    try {
      const b = box({ config: { broker: own.url } });
      const s = await subscribe(own.url, { protocolVersion: own.protocolVersion });
      subscribers.push(s);
      b.telemetry.start();
      await waitFor(() => b.telemetry.status().connected, "the connection");
      await own.kill();
      await waitFor(() => !b.telemetry.status().connected, "the box to notice the broker is gone");
      for (let seq = 1; seq <= 300; seq += 50) b.telemetry.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ channel: "usage" as const, payload: usageMessage(b, seq + i) })));
      expect(b.telemetry.status().outbox.byChannel.usage).toBe(300);
      await Bun.sleep(300);
      expect(b.telemetry.status().connected).toBe(false);

      await own.restart();
      await waitFor(() => s.on("usage").filter((m) => m.device === b.deviceId).length >= 300, "all 300 usage messages", 20_000);
      const seqs = s.on("usage").filter((m) => m.device === b.deviceId).map((m) => m.seq as number);
      expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      await waitFor(() => b.telemetry.status().outbox.total === 0, "the outbox to empty");
    } finally {
      await own.stop();
    }
  }, 30_000);

  test("a long outage: the outbox stays within its bound by giving up the oldest health; every usage message arrives", async () => {
    const proxy = await startProxy(broker.url);
    proxy.refuse(true);
    let sample = 0;
    const b = box({
      config: { broker: proxy.url, outboxMaxMessages: 100 },
      deps: {
        health: {
          sample: async () => ({
            uptimeSeconds: ++sample,
            cpuLoadPercent: 1,
            memory: { totalMB: 1, usedMB: 1 },
            temperaturesC: [],
            disk: { totalMB: 1, usedMB: 1 },
            throttled: false,
          }),
        },
      },
    });
    const s = await sub();
    b.telemetry.start();
    await waitFor(() => b.telemetry.status().reconnectAttempts >= 2, "the box to find the broker unreachable");
    for (let i = 1; i <= 150; i++) {
      expect(await b.telemetry.sampleHealth()).toBe(true);
      if (i % 2 === 0) b.telemetry.enqueue("usage", usageMessage(b, i / 2));
    }
    expect(b.telemetry.status()).toMatchObject({ connected: false, outbox: { total: 100, byChannel: { usage: 75, health: 25 } } });

    proxy.refuse(false);
    await waitFor(() => s.on("usage").filter((m) => m.device === b.deviceId).length >= 75, "every usage message");
    await waitFor(() => b.telemetry.status().outbox.total === 0, "the outbox to empty");
    expect(s.on("usage").filter((m) => m.device === b.deviceId).map((m) => m.seq)).toEqual(Array.from({ length: 75 }, (_, i) => i + 1));
    // The newest 25 samples survived (151 in all: one at start, 150 in the loop); the rest were given up.
    expect(sample).toBe(151);
    expect(s.on("health").filter((m) => m.device === b.deviceId).map((m) => m.uptimeSeconds)).toEqual(Array.from({ length: 25 }, (_, i) => 127 + i));
    await proxy.close();
  });

  test("TLS: mqtts:// with the generated CA connects; without the CA the failure is reported", async () => {
    const good = box({ config: { broker: broker.tlsUrl, caFile: broker.caFile } });
    const s = await sub();
    good.telemetry.start();
    await waitFor(() => stateOf(s, good.deviceId).some((m) => m.state === "online"), "the birth over TLS");
    expect(good.telemetry.status()).toMatchObject({ connected: true, protocolVersion: broker.protocolVersion, lastError: null });

    const bad = box({ config: { broker: broker.tlsUrl } });
    bad.telemetry.start();
    await waitFor(() => bad.telemetry.status().lastError !== null, "the TLS failure");
    expect(bad.telemetry.status()).toMatchObject({ connected: false });
    expect(bad.telemetry.status().lastError).toMatch(/certificate/i);
  });

  test("client certificate: with caFile, certFile and keyFile the box connects; without the certificate it is refused", async () => {
    const { certFile, keyFile } = broker.clientCert;
    const good = box({ config: { broker: broker.mtlsUrl, caFile: broker.caFile, certFile, keyFile } });
    const s = await sub();
    good.telemetry.start();
    await waitFor(() => stateOf(s, good.deviceId).some((m) => m.state === "online"), "the birth over mutual TLS");
    good.telemetry.enqueue("usage", usageMessage(good, 1));
    await waitFor(() => s.on("usage").some((m) => m.device === good.deviceId), "usage over mutual TLS");
    expect(good.telemetry.status()).toMatchObject({ connected: true, lastError: null });

    const bad = box({ config: { broker: broker.mtlsUrl, caFile: broker.caFile } });
    bad.telemetry.start();
    await waitFor(() => bad.telemetry.status().reconnectAttempts >= 2, "two refused attempts");
    expect(bad.telemetry.status().connected).toBe(false);
    expect(bad.telemetry.status().lastError).toMatch(/certificate/i);
    expect(stateOf(s, bad.deviceId)).toEqual([]);
  });

  test("the password listener: the right password connects; a wrong one is reported, retried with back-off, never a crash", async () => {
    const good = box({ config: { broker: broker.authUrl, username: broker.user.username, password: broker.user.password } });
    good.telemetry.start();
    await waitFor(() => good.telemetry.status().connected, "the authenticated connection");

    const bad = box({ config: { broker: broker.authUrl.replace("mqtt://", "mqtt://box:wrong@"), username: broker.user.username, password: "wrong" } });
    bad.telemetry.start();
    await waitFor(() => bad.telemetry.status().reconnectAttempts >= 2, "two refused attempts");
    const status = bad.telemetry.status();
    expect(status.connected).toBe(false);
    expect(status.lastError).toMatch(/not authorized|bad user name or password/i);
    // The password never shows in status or logs.
    expect(status.broker).not.toContain("wrong");
    expect(bad.logs.join("\n")).not.toContain(":wrong@");
    expect(bad.logs.some((l) => l.includes("broker connection failed"))).toBe(true);
  });

  test("a broker that refuses MQTT 5 gets MQTT 3.1.1, with a log line", async () => {
    const old = await startMqtt311Broker();
    try {
      const url = old.url;
      const s = await subscribe(url, { protocolVersion: 4 });
      subscribers.push(s);
      const b = box({ config: { broker: url } });
      b.telemetry.start();
      b.telemetry.enqueue("usage", usageMessage(b, 1));
      await waitFor(() => s.on("usage").some((m) => m.device === b.deviceId), "usage over MQTT 3.1.1");
      expect(b.telemetry.status().protocolVersion).toBe(4);
      expect(b.logs.some((l) => l.includes("does not speak MQTT 5"))).toBe(true);
      await b.telemetry.stop();
    } finally {
      await old.stop();
    }
  });

  test("malformed payloads on the command topics never crash the box; each gets an ack", async () => {
    let calls = 0;
    const b = box({
      config: { broker: broker.url, groups: ["ward-3"] },
      deps: {
        commands: {
          handle: async (payload) => {
            calls++;
            // A processor that breaks its promise not to throw: the box still answers.
            if (new TextDecoder().decode(payload).includes("explode")) throw new Error("boom");
            return { commandId: null, outcome: "rejected", code: "malformed", reason: "not a command" };
          },
        },
      },
    });
    const s = await sub();
    b.telemetry.start();
    await waitFor(() => b.telemetry.status().connected, "the connection");
    await Bun.sleep(100); // the SUBACK
    const cmd = deviceTopic("default", b.deviceId, "cmd");
    const garbage: (string | Buffer)[] = [
      "",
      "not json",
      "{",
      "null",
      "[1,2,3]",
      JSON.stringify({ id: 5, kind: {} }),
      JSON.stringify({ id: "ok-id", explode: true }),
      Buffer.from([0xff, 0xfe, 0x00, 0x80]),
      "x".repeat(300 * 1024),
      JSON.stringify({ v: 1, id: "a".repeat(500) }),
    ];
    for (const g of garbage) await s.client.publishAsync(cmd, g, { qos: 1 });
    await s.client.publishAsync(groupCommandTopic("default", "ward-3"), "{}", { qos: 1 });
    const acks = () => s.on("cmd/ack").filter((m) => m.device === b.deviceId);
    await waitFor(() => acks().length === garbage.length + 1, "an ack for every payload");
    expect(calls).toBe(garbage.length); // the oversized one is refused before the processor sees it
    expect(acks().find((a) => a.commandId === "ok-id")).toMatchObject({ outcome: "failed", code: "internal" });
    expect(acks().filter((a) => a.outcome === "rejected").length).toBe(garbage.length);
    expect(b.telemetry.status().connected).toBe(true);
  });
});
